"""Screening in the demo review: alice and bob have screened part of the records.

Decisions are seeded-random but plausible, leaning on the title (the IMT terms lean
include; IgG4, myocarditis, bowel, fibromatosis, wound healing and adults lean exclude),
and bob mostly agrees with alice, so kappa comes out moderate to good, as in real
reviews. Everything goes through the services, so every rule holds. The result has a
record in every state: most records decided by both, conflicts waiting for carol (the
senior author), some decided by one reviewer, many unscreened for a newcomer to try, and
at full text one report not retrieved, one PDF, every kind of outcome, and two inclusions
approved as studies. The review is blinded, so records both reviewers included reach full
text when carol releases them: she has released all but the last few, which wait for her
("Release 4 records to full text" on her dashboard), and reviewers still find full texts
to assess.

Only records of the first search imported (PubMed) are screened: de-duplication always
keeps the earliest import, so none of them can turn out to be a duplicate later, even if
the de-duplication job runs after this (in a Celery worker) or a person links a possible
pair from the queue.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from reviewer.models import ExclusionReason, Record, Review, SourceKind, User
from reviewer.screening.queries import state_counts, states
from reviewer.screening.rules import State
from reviewer.services.labels import label_add
from reviewer.services.screening import (
    adjudicate,
    approve,
    decide,
    full_text_attach,
    full_text_not_retrieved,
    release_to_full_text,
    remove_before_screening,
)

LEAN_INCLUDE = ("inflammatory myofibroblastic", "plasma cell granuloma", "inflammatory pseudotumo")
LEAN_EXCLUDE = ("igg4", "myocarditis", "bowel", "fibromatosis", "wound healing", "adults")
#: (include, exclude, maybe) weights of a reviewer's decision, by how the title leans.
WEIGHTS = {"include": (75, 12, 13), "exclude": (6, 88, 6), "neutral": (25, 45, 30)}
#: How often bob makes the same call as alice; otherwise he decides on his own.
BOB_FOLLOWS = 0.7
BOTH_SHARE = 0.6  # of the PubMed records, decided by both
ONE_SHARE = 0.08  # decided by one reviewer only; the rest stay unscreened
ADJUDICATED_CONFLICTS = 2  # of the title/abstract conflicts carol has already settled
WAITING_FOR_RELEASE = 4  # agreed at title/abstract, not yet released to full text by carol


@dataclass(frozen=True)
class DemoTeam:
    senior: User
    first: User
    second: User


def lean(title: str) -> str:
    """How a title leans: "exclude" wins over "include" ("IMT ... in adults")."""
    lowered = title.lower()
    if any(term in lowered for term in LEAN_EXCLUDE):
        return "exclude"
    if any(term in lowered for term in LEAN_INCLUDE):
        return "include"
    return "neutral"


def _choice(rng: random.Random, title: str) -> str:
    return rng.choices(("include", "exclude", "maybe"), weights=WEIGHTS[lean(title)])[0]


def demo_pdf(title: str) -> bytes:
    """A minimal valid one-page PDF showing `title`, written by hand (xref offsets counted)."""
    text = title.encode("ascii", "replace").decode()[:90]
    text = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 11 Tf 56 780 Td ({text}) Tj 0 -18 Td (Demo full text.) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)


def _reasons(review: Review) -> list[ExclusionReason]:
    reasons = list(review.exclusion_reasons.filter(is_active=True))
    if len(reasons) < 3:
        raise ValueError("The demo review needs at least three exclusion reasons.")
    return reasons


@transaction.atomic
def screen_demo(review: Review, team: DemoTeam, *, seed: int = 2024) -> Counter[State]:
    """Screen the demo review as described above; returns the count of records per state."""
    rng = random.Random(seed)
    first_source = review.sources.order_by("pk").first()
    records = list(
        review.records.filter(source=first_source, duplicate_of=None).order_by("position")
    )
    both = int(len(records) * BOTH_SHARE)
    one = int(len(records) * ONE_SHARE)

    # title/abstract; alice gives a reason for some of her exclusions
    reasons = _reasons(review)
    for n, record in enumerate(records[:both]):
        alice = _choice(rng, record.title)
        bob = alice if rng.random() < BOB_FOLLOWS else _choice(rng, record.title)
        reason = reasons[n % 3] if alice == "exclude" and n % 2 == 0 else None
        decide(record=record, user=team.first, stage="ta", choice=alice, reason=reason)
        decide(record=record, user=team.second, stage="ta", choice=bob)
    for n, record in enumerate(records[both : both + one]):
        reviewer = team.first if n % 2 else team.second
        decide(record=record, user=reviewer, stage="ta", choice=_choice(rng, record.title))

    outcome = states(review, [r.pk for r in records[:both]])
    conflicts = [r for r in records[:both] if outcome[r.pk].state is State.TA_CONFLICT]
    for n, record in enumerate(conflicts[:ADJUDICATED_CONFLICTS]):
        adjudicate(
            record=record,
            user=team.senior,
            stage="ta",
            choice="include" if n == 0 else "exclude",
            note="Settled at the team meeting.",
        )

    # release to full text: carol released the agreed records but the last few
    outcome = states(review, [r.pk for r in records[:both]])
    agreed = [r for r in records[:both] if outcome[r.pk].state is State.TA_PASSED]
    if len(agreed) > WAITING_FOR_RELEASE:
        release_to_full_text(review=review, user=team.senior, records=agreed[:-WAITING_FOR_RELEASE])

    # full text: the first records sought, each given one outcome
    outcome = states(review, [r.pk for r in records[:both]])
    sought = [r for r in records[:both] if outcome[r.pk].state is State.FT_SOUGHT]
    if len(sought) < 10:
        raise ValueError(f"only {len(sought)} demo records reached full text; need 10")
    first, second, senior = team.first, team.second, team.senior
    wrong_population, case_report, design = _reasons(review)[:3]

    def ft(record: Record, user: User, choice: str, reason: ExclusionReason | None = None) -> None:
        decide(record=record, user=user, stage="ft", choice=choice, reason=reason)

    not_retrieved, with_pdf, included, awaiting, *rest = sought[:10]
    full_text_not_retrieved(
        record=not_retrieved,
        user=first,
        note="Requested by interlibrary loan on 12 March 2024 and e-mailed the "
        "corresponding author twice; no copy found.",
    )
    full_text_attach(
        record=with_pdf,
        user=first,
        upload=SimpleUploadedFile(
            f"record-{with_pdf.pk}.pdf", demo_pdf(with_pdf.title), "application/pdf"
        ),
    )
    for record in (with_pdf, included, awaiting):
        ft(record, first, "include")
        ft(record, second, "include")
    approve(review=review, records=[with_pdf, included], user=senior)
    excluded, reason_to_pick, conflict, one_decision, *_ = rest
    ft(excluded, first, "exclude", case_report)
    ft(excluded, second, "exclude", case_report)
    ft(reason_to_pick, first, "exclude", wrong_population)
    ft(reason_to_pick, second, "exclude", design)
    ft(conflict, first, "include")
    ft(conflict, second, "exclude", case_report)
    ft(one_decision, second, "include")

    # found by citation searching: straight to full text
    cited = list(
        review.records.filter(source__kind=SourceKind.OTHER, duplicate_of=None).order_by("pk")
    )
    if len(cited) >= 3:
        found, off_topic, unobtainable = cited[:3]
        for reviewer in (first, second):
            ft(found, reviewer, "include")
            ft(off_topic, reviewer, "exclude", wrong_population)
        approve(review=review, records=[found], user=senior)
        full_text_not_retrieved(
            record=unobtainable,
            user=second,
            note="A 1998 congress book; no library holds it.",
        )

    label_demo(review, team, records[:both])

    # removed before screening: old records nobody has screened yet
    old = review.records.filter(year__lt=1990, duplicate_of=None, decisions=None)
    remove_before_screening(
        review=review,
        user=senior,
        records=old,
        reason="Published before 1990 (before IMT was defined as an entity)",
    )
    return state_counts(review)


#: The demo review's shared labels (`Review.labels`), and a free label of bob's own.
DEMO_LABELS = ["case series", "check the age range", "pathology images"]
FREE_LABEL = "ask carol"


def label_demo(review: Review, team: DemoTeam, records: list[Record]) -> None:
    """Labels on a few screened records: alice's and bob's from the review's shared set,
    and one of bob's own."""
    review.labels = DEMO_LABELS
    review.save(update_fields=["labels"])
    for n, record in enumerate(records[:12]):
        name = DEMO_LABELS[n % len(DEMO_LABELS)]
        label_add(record=record, user=team.first if n % 2 else team.second, name=name)
    label_add(record=records[0], user=team.second, name=FREE_LABEL)
