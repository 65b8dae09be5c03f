"""Extraction test data: studies, the case-series form, and filled-in copies."""

from __future__ import annotations

from typing import Any

from extraction.models import Extraction, ExtractionStatus, Field, PatientRow
from extraction.services.forms import setup_update
from extraction.templates_catalog import template_load
from extraction.values import FormSpec, form_spec, parse_by_key
from reviewer.models import Review, Study, User


def make_study(review: Review, label: str = "Coffin 2007", created_by: User | None = None) -> Study:
    """A study as approval leaves it (its reports do not matter to extraction)."""
    owner = created_by or review.memberships.order_by("pk").first().user  # type: ignore[union-attr]
    return Study.objects.create(review=review, label=label, created_by=owner)


def case_series_form(review: Review, *, dual: bool = True) -> FormSpec:
    """The ready case-series form loaded into the review."""
    setup_update(review=review, dual=dual)
    template_load(review=review)
    return form_spec(review)


def field_of(review: Review, key: str) -> Field:
    return Field.objects.get(review=review, key=key)


def fill(
    study: Study,
    user: User | None,
    *,
    study_values: dict[str, Any] | None = None,
    patients: list[dict[str, Any]] = (),  # type: ignore[assignment]
    done: bool = False,
) -> Extraction:
    """A copy of `study` (`user` None: the consensus) holding the given values, typed as a
    person types them (`{"sex": "Male", "age_months": "84"}`), stored straight away."""
    spec = form_spec(study.review)
    owner = user or study.review.memberships.order_by("pk").first().user  # type: ignore[union-attr]
    extraction = Extraction.objects.create(
        review=study.review,
        study=study,
        extractor=user,
        values=parse_by_key(spec, study_values or {}),
        updated_by=owner,
        status=ExtractionStatus.DONE if done else ExtractionStatus.IN_PROGRESS,
    )
    for position, patient in enumerate(patients, start=1):
        patient = dict(patient)
        label = str(patient.pop("label", ""))
        PatientRow.objects.create(
            extraction=extraction,
            position=position,
            label=label,
            values=parse_by_key(spec, patient),
        )
    return extraction


JBI_ALL_YES = {str(n): "yes" for n in range(1, 11)}


def appraise(
    study: Study,
    user: User | None,
    answers: dict[str, str] | None = None,
    *,
    overall: str = "low",
    done: bool = False,
    tool: str = "jbi-case-series",
) -> Any:
    """An appraisal of `study` (`user` None: the consensus) with answers by question key
    (`{"1": "yes"}`), stored straight away."""
    from extraction.appraisal.models import Appraisal, AppraisalStatus

    owner = user or study.review.memberships.order_by("pk").first().user  # type: ignore[union-attr]
    return Appraisal.objects.create(
        review=study.review,
        study=study,
        assessor=user,
        tool=tool,
        answers={k: {"a": v, "note": ""} for k, v in (answers or {}).items()},
        judgements={"overall": {"level": overall, "reason": ""}} if overall else {},
        updated_by=owner,
        status=AppraisalStatus.DONE if done else AppraisalStatus.IN_PROGRESS,
    )
