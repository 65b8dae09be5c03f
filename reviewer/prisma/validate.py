"""The arithmetic a PRISMA 2020 flow diagram implies, checked before it is drawn or exported.

`validate(counts)` returns the rules the numbers break (empty: consistent). Counts read from
a review by `reviewer.prisma.counts` can only break them if the review's rows are
inconsistent (a decision missing behind the services' back, say), so a problem is also a
consistency check on the app; hand-typed counts (as the PRISMA2020 R package and Shiny app
take them) can break any.

Rules (`Problem.rule`):

- ``database-lines`` / ``register-lines``: the per-database (per-register) lines add up to
  the box's total.
- ``screened``: records screened = identified from databases and registers − duplicates −
  marked ineligible by automation − removed for other reasons.
- ``sought``: reports sought (databases and registers) = records screened − records excluded
  − records still being screened; with nothing pending known, ``==`` when the review is
  complete and ``≤`` otherwise.
- ``assessed`` / ``other-assessed``: reports assessed = sought − not retrieved, per column.
- ``reports``: reports of new included studies = assessed − excluded with reasons −
  assessed still pending, both columns together (the template has one "included" box);
  ``≤`` when the review is not complete and nothing pending is known.
- ``studies``: new studies ≤ reports of new studies, and at least one study when there are
  reports; ``previous``: previous studies ≤ previous reports, both given or neither.
- ``totals``: total = previous + new (the counts derive the totals, so this only fails for
  a hand-made object overriding them).
- ``stage``: each stage ≤ the one before (screened ≤ identified, excluded ≤ screened,
  not retrieved ≤ sought, excluded with reasons ≤ assessed, other-method reports sought ≤
  other-method records identified), and ``negative``: no number below zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from reviewer.prisma.provisional import Waiting
from reviewer.prisma.types import PrismaCounts


@dataclass(frozen=True)
class Problem:
    """One broken rule: which (`rule`), in words (`message`), the number the rule expects
    (for an inequality, the bound) and the number found."""

    rule: str
    message: str
    expected: int
    found: int

    def __str__(self) -> str:
        return self.message


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n:,} {word}"
    return f"{n:,} {word[:-1]}ies" if word.endswith("y") else f"{n:,} {word}s"


def _gap(expected: int, found: int, unit: str) -> str:
    difference = found - expected
    if difference > 0:
        return f"{_plural(difference, unit)} too many"
    return f"{_plural(-difference, unit)} missing"


#: A term of a rule's sum: (label, number, +1 to add it or -1 to subtract it).
Term = tuple[str, int, int]


def plus(label: str, n: int) -> Term:
    return (label, n, 1)


def minus(label: str, n: int) -> Term:
    return (label, n, -1)


def _sum(terms: list[Term]) -> int:
    return sum(sign * n for _, n, sign in terms)


def _terms(terms: list[Term]) -> str:
    """ "identified 2,398 − duplicates 413 − …" """
    text = ""
    for i, (label, n, sign) in enumerate(terms):
        if i == 0:
            text = f"{label} {n:,}" if sign > 0 else f"− {label} {n:,}"
        else:
            text += f" {'−' if sign < 0 else '+'} {label} {n:,}"
    return text


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def equal(self, rule: str, what: str, found: int, terms: list[Term], unit: str) -> None:
        expected = _sum(terms)
        if found != expected:
            message = (
                f"{what} should be {_terms(terms)} = {expected:,}; it is "
                f"{found:,}: {_gap(expected, found, unit)}"
            )
            self.problems.append(Problem(rule, message, expected, found))

    def at_most(self, rule: str, what: str, found: int, terms: list[Term], unit: str) -> None:
        bound = _sum(terms)
        if found > bound:
            message = (
                f"{what} should be at most {_terms(terms)} = {bound:,}; it is "
                f"{found:,}: {_gap(bound, found, unit)}"
            )
            self.problems.append(Problem(rule, message, bound, found))

    def relation(
        self,
        rule: str,
        what: str,
        found: int,
        terms: list[Term],
        unit: str,
        *,
        exact: bool,
    ) -> None:
        if exact:
            self.equal(rule, what, found, terms, unit)
        else:
            self.at_most(rule, what, found, terms, unit)


def validate(
    counts: PrismaCounts,
    *,
    complete: bool = True,
    pending: Mapping[str, int] | None = None,
) -> list[Problem]:
    """The rules `counts` break, in the diagram's order (empty: consistent).

    `pending` (as `reviewer.prisma.counts.pending` returns it: records still waiting, by
    state value) makes every rule exact, the waiting records taken into account. Without
    it, `complete=True` says nothing waits (the rules are exact) and `complete=False` that
    an unknown number still does (the screening and inclusion rules become "at most").
    """
    check = _Checker()
    exact = complete or pending is not None
    waiting = Waiting.from_states(pending or {})
    ta_pending = waiting.title_abstract
    ft_pending = waiting.full_text + waiting.approvals  # assessed, not yet a report included
    c = counts

    for field in fields(c):
        value = getattr(c, field.name)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            check.problems.append(
                Problem(
                    "negative", f"{field.name} is {value:,}: a count cannot be negative.", 0, value
                )
            )
        if isinstance(value, tuple):
            for name, n in value:
                if n < 0:
                    message = f"{field.name}: “{name}” is {n:,}: a count cannot be negative."
                    check.problems.append(Problem("negative", message, 0, n))

    for rule, what, total, lines in (
        ("database-lines", "Records identified from databases", c.database_results,
         c.database_specific_results),
        ("register-lines", "Records identified from registers", c.register_results,
         c.register_specific_results),
    ):  # fmt: skip
        if lines:
            check.equal(rule, what, total, [plus(name, n) for name, n in lines], "record")

    identified = c.database_results + c.register_results
    check.at_most(
        "stage",
        "Duplicates and records removed before screening",
        c.duplicates + c.excluded_automatic + c.excluded_other,
        [plus("records identified from databases and registers", identified)],
        "record",
    )
    check.equal(
        "screened",
        "Records screened",
        c.records_screened,
        [
            plus("identified", identified),
            minus("duplicates", c.duplicates),
            minus("marked ineligible by automation tools", c.excluded_automatic),
            minus("removed for other reasons", c.excluded_other),
        ],
        "record",
    )
    check.at_most(
        "stage", "Records excluded", c.records_excluded, [plus("screened", c.records_screened)],
        "record",
    )  # fmt: skip
    sought_terms = [plus("screened", c.records_screened), minus("excluded", c.records_excluded)]
    if ta_pending:
        sought_terms.append(minus("still being screened", ta_pending))
    check.relation(
        "sought",
        "Reports sought for retrieval (databases and registers)",
        c.dbr_sought_reports,
        sought_terms,
        "report",
        exact=exact,
    )
    for rule, column, sought, not_retrieved, assessed, excluded in (
        ("assessed", "databases and registers", c.dbr_sought_reports,
         c.dbr_notretrieved_reports, c.dbr_assessed, c.dbr_excluded_total),
        ("other-assessed", "other methods", c.other_sought_reports,
         c.other_notretrieved_reports, c.other_assessed, c.other_excluded_total),
    ):  # fmt: skip
        check.at_most(
            "stage",
            f"Reports not retrieved ({column})",
            not_retrieved,
            [plus("sought", sought)],
            "report",
        )
        check.equal(
            rule,
            f"Reports assessed for eligibility ({column})",
            assessed,
            [plus("sought", sought), minus("not retrieved", not_retrieved)],
            "report",
        )
        check.at_most(
            "stage",
            f"Reports excluded ({column})",
            excluded,
            [plus("assessed", assessed)],
            "report",
        )
    other_identified = c.website_results + c.organisation_results + c.citations_results
    check.at_most(
        "stage",
        "Reports sought for retrieval (other methods)",
        c.other_sought_reports,
        [plus("records identified from other methods", other_identified)],
        "report",
    )
    report_terms = [
        plus("assessed", c.dbr_assessed),
        minus("excluded", c.dbr_excluded_total),
    ]
    if c.other_assessed or c.other_excluded_total:
        report_terms += [
            plus("assessed (other methods)", c.other_assessed),
            minus("excluded (other methods)", c.other_excluded_total),
        ]
    if ft_pending:
        report_terms.append(minus("still being assessed or approved", ft_pending))
    check.relation(
        "reports",
        "Reports of new included studies",
        c.new_reports,
        report_terms,
        "report",
        exact=exact,
    )
    check.at_most(
        "studies",
        "New studies included in review",
        c.new_studies,
        [plus("reports of new included studies", c.new_reports)],
        "study",
    )
    if c.new_reports > 0 and c.new_studies < 1:
        check.problems.append(
            Problem(
                "studies",
                f"New studies included in review (0) should be at least 1: there are "
                f"{_plural(c.new_reports, 'report')} of new included studies",
                1,
                c.new_studies,
            )
        )
    if (c.previous_studies is None) != (c.previous_reports is None):
        given = c.previous_reports if c.previous_studies is None else c.previous_studies
        check.problems.append(
            Problem(
                "previous",
                "Previous studies and reports of previous studies go together: only one "
                "of them is given",
                0,
                given or 0,
            )
        )
    elif c.previous_studies is not None and c.previous_reports is not None:
        check.at_most(
            "previous",
            "Studies included in previous version of review",
            c.previous_studies,
            [plus("reports of studies included in previous version", c.previous_reports)],
            "study",
        )
    check.equal(
        "totals",
        "Total studies included in review",
        c.total_studies,
        [plus("previous", c.previous_studies or 0), plus("new", c.new_studies)],
        "study",
    )
    check.equal(
        "totals",
        "Reports of total included studies",
        c.total_reports,
        [plus("previous", c.previous_reports or 0), plus("new", c.new_reports)],
        "report",
    )
    return check.problems
