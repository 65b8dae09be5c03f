"""When a PRISMA 2020 diagram is provisional, and the statement every export of it carries.

A review's diagram is **final** when nothing can change its numbers any more. Until then
every export (the drawing in SVG, PNG and PDF, the PRISMA2020 data CSV, the bundle's
`checks.txt`, `manage.py prisma`) states on the artefact itself that it is provisional, and
why, in the words of `Waiting.lines()`:

    Provisional — 211 records await title/abstract decisions, 12 reports await full-text
    decisions, 1 inclusion awaits the senior author's approval

followed by one line per step that waits. What counts as waiting, and the boxes it can
still change:

- **Title/abstract** (counted in "Records screened", not yet "Records excluded" or "Reports
  sought for retrieval"): a record nobody has screened; a record with one decision, waiting
  for the second reviewer; a conflict waiting for the senior author.
- **Full text** (counted in "Reports sought for retrieval", not yet "not retrieved",
  "excluded" or "included"): a report nobody has assessed (nor marked not retrieved),
  released to full text or, in a blinded review, waiting for its release; one
  with one decision; a conflict waiting for the senior author; two exclusions giving
  different reasons, the senior author to choose the reason reported.
- **Approval** (counted in "Reports assessed", not yet a report of an included study): an
  inclusion waiting for the senior author's approval.
- **De-duplication** (can move records between "Duplicate records removed" and "Records
  screened"): possible duplicate pairs waiting in the queue for a person's decision;
  records whose duplicate check after their import has not finished (queued, running or
  failed, and no later check of the whole review finished); a check of the whole review
  queued or running.
- **Identification** (can add records to "Records identified"): an import under way, or
  read and waiting for someone to confirm it.

Decided things are not waiting: a record excluded, removed before screening, marked not
retrieved, or approved stays so unless someone undoes it, and an undo makes the review
provisional again by the rules above. Two changes nothing marks as pending are left out,
since no row says they are due: linking approved reports into one study (it lowers "studies
included" whenever the senior author does it), and a search not yet uploaded. `Waiting` is
plain data; `reviewer.prisma.counts` fills it from a review.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from reviewer.screening.rules import State

PREFIX = "Provisional — "


def _n(n: int, one: str, many: str) -> str:
    """ "1 record awaits" / "2 records await": the number with the words that agree."""
    return f"{n:,} {one if n == 1 else many}"


#: The reasons of each step: (field, words for one, words for many).
TITLE_ABSTRACT = (
    ("not_screened", "not screened yet", "not screened yet"),
    ("second_screening", "waiting for a second reviewer", "waiting for a second reviewer"),
    ("screening_conflicts", "conflict for the senior author", "conflicts for the senior author"),
)
FULL_TEXT = (
    (
        "not_assessed",
        "not yet assessed or marked not retrieved",
        "not yet assessed or marked not retrieved",
    ),
    ("second_assessment", "waiting for a second reviewer", "waiting for a second reviewer"),
    ("full_text_conflicts", "conflict for the senior author", "conflicts for the senior author"),
    (
        "reasons_to_choose",
        "exclusion whose reason the senior author is to choose",
        "exclusions whose reason the senior author is to choose",
    ),
)


@dataclass(frozen=True)
class Waiting:
    """Everything that can still change a review's PRISMA numbers (all zero: final)."""

    # title/abstract
    not_screened: int = 0
    second_screening: int = 0
    screening_conflicts: int = 0
    # full text
    not_assessed: int = 0
    second_assessment: int = 0
    full_text_conflicts: int = 0
    reasons_to_choose: int = 0
    # approval
    approvals: int = 0
    # de-duplication
    duplicate_pairs: int = 0
    unchecked_records: int = 0
    duplicate_checks: int = 0
    # identification
    imports: int = 0

    @classmethod
    def from_states(cls, pending: Mapping[str, int], **outside: int) -> Waiting:
        """From the records waiting by `State` value (as `PrismaReport.pending` holds them)
        and the counts outside screening (`duplicate_pairs=…`, `imports=…`)."""
        return cls(
            not_screened=pending.get(State.TA_UNSCREENED.value, 0),
            second_screening=pending.get(State.TA_ONE.value, 0),
            screening_conflicts=pending.get(State.TA_CONFLICT.value, 0),
            # passed title/abstract, waiting for release or assessment
            not_assessed=pending.get(State.TA_PASSED.value, 0)
            + pending.get(State.FT_SOUGHT.value, 0),
            second_assessment=pending.get(State.FT_ONE.value, 0),
            full_text_conflicts=pending.get(State.FT_CONFLICT.value, 0),
            reasons_to_choose=pending.get(State.FT_REASON.value, 0),
            approvals=pending.get(State.FT_INCLUDED.value, 0),
            **outside,
        )

    @property
    def title_abstract(self) -> int:
        """Records awaiting title/abstract decisions."""
        return self.not_screened + self.second_screening + self.screening_conflicts

    @property
    def full_text(self) -> int:
        """Reports awaiting full-text decisions (approval not included)."""
        return (
            self.not_assessed
            + self.second_assessment
            + self.full_text_conflicts
            + self.reasons_to_choose
        )

    @property
    def final(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def headline(self) -> str:
        """ "Provisional — 211 records await title/abstract decisions, 12 reports await
        full-text decisions, …" ("" when final). Both screening numbers are always given,
        so a reader sees at once whether screening is over."""
        if self.final:
            return ""
        ta, ft = self.title_abstract, self.full_text
        parts = [
            f"{_n(ta, 'record awaits', 'records await')} title/abstract decisions",
            f"{_n(ft, 'report awaits', 'reports await')} full-text decisions",
        ]
        if self.approvals:
            parts.append(
                f"{_n(self.approvals, 'inclusion awaits', 'inclusions await')} the senior "
                "author's approval"
            )
        if self.duplicate_pairs:
            pairs = _n(
                self.duplicate_pairs,
                "possible duplicate pair awaits",
                "possible duplicate pairs await",
            )
            parts.append(f"{pairs} a decision")
        if self.unchecked_records or self.duplicate_checks:
            parts.append("the check for duplicates is not finished")
        if self.imports:
            parts.append(_n(self.imports, "import is not finished", "imports are not finished"))
        return PREFIX + ", ".join(parts)

    def details(self) -> list[str]:
        """One line per step that waits, saying each reason with its number."""
        lines = []
        for label, reasons in (("Title/abstract", TITLE_ABSTRACT), ("Full text", FULL_TEXT)):
            said = [
                _n(getattr(self, name), one, many)
                for name, one, many in reasons
                if getattr(self, name)
            ]
            if said:
                lines.append(f"{label}: {', '.join(said)}.")
        # approvals: the headline says it all
        dedup = []
        if self.duplicate_pairs:
            dedup.append(
                _n(self.duplicate_pairs, "possible duplicate pair", "possible duplicate pairs")
                + " in the queue, undecided"
            )
        if self.unchecked_records:
            dedup.append(
                _n(self.unchecked_records, "record", "records") + " not yet checked for duplicates"
            )
        if self.duplicate_checks:
            dedup.append(
                _n(self.duplicate_checks, "check", "checks")
                + " of the whole review queued or running"
            )
        if dedup:
            lines.append(f"Duplicates: {'; '.join(dedup)}.")
        if self.imports:
            lines.append(
                f"Imports: {_n(self.imports, 'import', 'imports')} under way or waiting to be "
                "confirmed."
            )
        return lines

    def lines(self) -> list[str]:
        """The statement, headline first ([] when final)."""
        return [self.headline(), *self.details()] if not self.final else []

    def sentence(self) -> str:
        """The statement on one line ("" when final)."""
        return " ".join(self.lines())
