"""Analysis test data: a review with the case-series form and final patient rows."""

from __future__ import annotations

import random
from typing import Any

from extraction.models import ExtractionStatus
from reviewer.models import Review
from tests.extraction.helpers import case_series_form, fill, make_study

SITES = ("Abdomen/pelvis", "Thorax", "Head/neck", "Extremities")
OUTCOMES = ("No evidence of disease", "Alive with disease", "Died of disease")


def patient(**values: Any) -> dict[str, Any]:
    """A patient as typed into the form; every field the analyses read has a value."""
    base = {
        "sex": "Female",
        "age_months": "84",
        "site": "Thorax",
        "size_cm": "4.5",
        "management": "Operative",
        "margin": "Negative",
        "recurrence": "no",
        "reoperation": "no",
        "outcome": "No evidence of disease",
        "follow_up_months": "36",
    }
    base.update(values)
    return base


def random_patients(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` varied patients, the same ones for the same seed."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        positive = rng.random() < 0.3
        rows.append(
            patient(
                sex=rng.choice(("Male", "Female")),
                age_months=str(rng.randint(0, 216)),
                site=rng.choice(SITES),
                size_cm=f"{rng.uniform(0.5, 20):.1f}",
                management="Non-operative" if rng.random() < 0.1 else "Operative",
                margin="Positive" if positive else "Negative",
                recurrence="yes" if rng.random() < (0.4 if positive else 0.1) else "no",
                reoperation="yes" if rng.random() < (0.3 if positive else 0.08) else "no",
                outcome=rng.choice(OUTCOMES) if rng.random() < 0.2 else OUTCOMES[0],
                follow_up_months=str(rng.randint(1, 240)),
                other_therapy=rng.choice(("", "Steroids", "ALK inhibitor; NSAIDs")),
            )
        )
    return rows


def with_form(review: Review, *, dual: bool = True) -> Review:
    case_series_form(review, dual=dual)
    return review


def final_study(review: Review, label: str, patients: list[dict[str, Any]]) -> Any:
    """A study whose consensus copy is final, holding `patients`."""
    return fill(make_study(review, label), None, patients=patients, done=True)


def imt_review(review: Review, count: int = 60, seed: int = 7) -> Review:
    """`review` with the case-series form and `count` final patients in three studies."""
    with_form(review)
    rows = random_patients(count, seed)
    third = count // 3
    for index, label in enumerate(("Coffin 2007", "Dalton 2016", "Karnak 2001")):
        chunk = rows[index * third : (index + 1) * third if index < 2 else count]
        final_study(review, label, chunk)
    return review


def reopen(extraction: Any) -> None:
    """Mark a final copy as in progress again: its study leaves the analysed data."""
    extraction.status = ExtractionStatus.IN_PROGRESS
    extraction.save(update_fields=["status"])
