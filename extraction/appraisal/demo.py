"""The demo's risk-of-bias appraisal: its 42 case series appraised with the JBI checklist.

Synthetic answers with a realistic spread for case series of a rare tumour: inclusion
criteria, demographics and outcomes are mostly reported (Yes); consecutive and complete
inclusion are often unclear; statistics are often "not applicable" in small series.
Alice and Bob appraise every study; Carol's consensus is final for 40 (where the two
disagreed she settled it); 2 wait for her, Alice and Bob disagreeing on two questions.
Carol set every study's design to "case series".
"""

from __future__ import annotations

import random

from django.db import transaction

from extraction.appraisal.models import (
    Appraisal,
    AppraisalSetup,
    AppraisalStatus,
    Design,
    StudyDesign,
)
from reviewer.models import Review, User

TOOL = "jbi-case-series"
WAITING = 2
#: Per question: weights of yes, no, unclear, not applicable.
SPREAD = {
    "1": (0.80, 0.05, 0.15, 0.0),
    "2": (0.85, 0.03, 0.12, 0.0),
    "3": (0.85, 0.02, 0.13, 0.0),
    "4": (0.35, 0.15, 0.50, 0.0),
    "5": (0.35, 0.15, 0.50, 0.0),
    "6": (0.80, 0.10, 0.10, 0.0),
    "7": (0.85, 0.05, 0.10, 0.0),
    "8": (0.80, 0.10, 0.10, 0.0),
    "9": (0.55, 0.20, 0.25, 0.0),
    "10": (0.35, 0.15, 0.10, 0.40),
}
ANSWERS = ("yes", "no", "unclear", "na")
NOTES = {
    "yes": "Stated in the methods.",
    "no": "Not reported in the paper.",
    "unclear": "The paper does not say.",
    "na": "Descriptive series; no statistical test.",
}


def _answers(rng: random.Random) -> dict[str, dict[str, str]]:
    return {
        key: {"a": (a := rng.choices(ANSWERS, weights)[0]), "note": NOTES[a]}
        for key, weights in SPREAD.items()
    }


def _overall(answers: dict[str, dict[str, str]]) -> str:
    yes = sum(item["a"] == "yes" for item in answers.values())
    if yes >= 7:
        return "low"  # include
    return "some" if yes >= 5 else "high"  # seek further information / exclude


def _other(rng: random.Random, answer: str) -> str:
    return rng.choice([a for a in ("yes", "no", "unclear") if a != answer])


@transaction.atomic
def appraisal_demo(
    review: Review, senior: User, first: User, second: User, *, seed: int = 19
) -> dict[str, int]:
    """Appraise the demo's studies; returns counts for the demo's output."""
    rng = random.Random(seed)
    AppraisalSetup.objects.get_or_create(review=review)
    studies = list(review.studies.order_by("pk"))
    final = len(studies) - WAITING
    rows = []
    for number, study in enumerate(studies):
        truth = _answers(rng)
        overall = _overall(truth)
        theirs = {k: dict(v) for k, v in truth.items()}
        disagree = number >= final or rng.random() < 0.3
        if disagree:
            for key in rng.sample(sorted(SPREAD), 2 if number >= final else 1):
                theirs[key]["a"] = _other(rng, truth[key]["a"])
        done = AppraisalStatus.DONE
        judged = {"overall": {"level": overall, "reason": ""}}
        rows.append(
            Appraisal(
                review=review,
                study=study,
                assessor=first,
                tool=TOOL,
                answers=truth,
                judgements=judged,
                updated_by=first,
                status=done,
            )
        )
        rows.append(
            Appraisal(
                review=review,
                study=study,
                assessor=second,
                tool=TOOL,
                answers=theirs,
                judgements=judged,
                updated_by=second,
                status=done,
            )
        )
        if number < final:
            rows.append(
                Appraisal(
                    review=review,
                    study=study,
                    assessor=None,
                    tool=TOOL,
                    answers=truth,
                    judgements=judged,
                    updated_by=senior,
                    status=done,
                )
            )
    Appraisal.objects.bulk_create(rows)
    StudyDesign.objects.bulk_create(
        StudyDesign(review=review, study=study, design=Design.CASE_SERIES, set_by=senior)
        for study in studies
    )
    return {"studies": len(studies), "final": final, "waiting": WAITING}
