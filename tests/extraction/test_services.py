"""Extraction services: form changes after data exist, entry, dual extraction, consensus."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from extraction.models import Extraction, ExtractionStatus, Field, FieldChoice, PatientRow
from extraction.selectors import Progress, compare, dataset, progress
from extraction.services import forms
from extraction.services.consensus import consensus_start, consensus_take
from extraction.services.entry import (
    PatientInput,
    extraction_done,
    extraction_reopen,
    extraction_save,
    extraction_start,
)
from extraction.templates_catalog import CASE_SERIES, template_load
from extraction.values import form_spec, show
from tests.extraction.helpers import case_series_form, field_of, fill, make_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(team):
    case_series_form(team.review)
    return make_study(team.review)


def shown(extraction, key, row=None):
    spec = form_spec(extraction.review)
    form_field = spec.by_key()[key]
    values = extraction.values if row is None else extraction.patients.get(position=row).values
    return show(spec, form_field, values.get(str(form_field.pk)))


# --- the form and its changes after data exist ---


def test_the_case_series_template_loads_every_variable_once(team):
    added, skipped = template_load(review=team.review)
    again, skipped_again = template_load(review=team.review)

    assert [f.key for f in added] == [item.key for item in CASE_SERIES]
    assert (skipped, again) == ([], [])
    assert len(skipped_again) == len(CASE_SERIES)
    site = field_of(team.review, "site")
    assert list(site.choices.values_list("label", flat=True)) == [
        "Abdomen/pelvis",
        "Thorax",
        "Head/neck",
        "Extremities",
    ]


def test_renaming_moving_and_retiring_a_field_keep_its_values(team, study):
    copy = fill(study, team.reviewer, patients=[{"age_months": "84", "sex": "Male"}])
    age = field_of(team.review, "age_months")

    forms.field_update(field=age, label="Age at diagnosis (months)", unit="months")
    forms.field_move(field=age, offset=-1)
    forms.field_retire(field=age, retired=True)
    # a save of the page (which no longer shows the field) keeps the retired value
    row = copy.patients.get()
    extraction_save(
        extraction=copy,
        user=team.reviewer,
        study_values={},
        patients=[PatientInput(row.pk, "", {field_of(team.review, "sex").pk: "Female"})],
    )
    forms.field_retire(field=age, retired=False)

    copy.refresh_from_db()
    assert shown(copy, "age_months", row=1) == "84"
    assert shown(copy, "sex", row=1) == "Female"
    assert Field.objects.get(pk=age.pk).key == "age_months"
    assert form_spec(team.review).patient_fields[0].key == "age_months"


def test_a_field_holding_values_cannot_be_deleted_only_retired(team, study):
    fill(study, team.reviewer, patients=[{"size_cm": "3.5"}])
    size = field_of(team.review, "size_cm")

    with pytest.raises(ValidationError, match=r"holds 1 value.*Retire it instead"):
        forms.field_delete(field=size)
    forms.field_delete(field=field_of(team.review, "myogenin"))  # empty: goes

    assert Field.objects.filter(pk=size.pk).exists()
    assert not Field.objects.filter(review=team.review, key="myogenin").exists()


def test_a_choice_in_use_cannot_be_deleted_silently(team, study):
    fill(study, team.reviewer, patients=[{"site": "Thorax"}, {"other_therapy": "Steroids; NSAIDs"}])
    thorax = FieldChoice.objects.get(field__key="site", label="Thorax")
    steroids = FieldChoice.objects.get(field__key="other_therapy", label="Steroids")
    extremities = FieldChoice.objects.get(field__key="site", label="Extremities")

    with pytest.raises(ValidationError, match="“Thorax” is held by 1 value"):
        forms.choice_delete(choice=thorax)
    with pytest.raises(ValidationError, match="“Steroids” is held by 1 value"):
        forms.choice_delete(choice=steroids)
    forms.choice_delete(choice=extremities)

    assert FieldChoice.objects.filter(pk__in=[thorax.pk, steroids.pk]).count() == 2
    assert not FieldChoice.objects.filter(pk=extremities.pk).exists()


def test_renaming_a_choice_renames_it_in_every_value(team, study):
    copy = fill(study, team.reviewer, patients=[{"site": "Head/neck"}])
    choice = FieldChoice.objects.get(field__key="site", label="Head/neck")

    forms.choice_rename(choice=choice, label="Head and neck")

    assert shown(copy, "site", row=1) == "Head and neck"


def test_a_narrower_range_is_refused_while_values_fall_outside_it(team, study):
    fill(study, team.reviewer, patients=[{"age_months": "200"}, {"age_months": "12"}])
    age = field_of(team.review, "age_months")

    with pytest.raises(
        ValidationError, match=r"1 stored value\(s\) fall outside the new range \(200\)"
    ):
        forms.field_update(field=age, label=age.label, min_value=Decimal(0), max_value=Decimal(180))
    forms.field_update(field=age, label=age.label, min_value=Decimal(0), max_value=Decimal(200))

    age.refresh_from_db()
    assert age.max_value == 200


def test_a_new_field_gets_a_unique_key_made_from_its_label(team):
    created = forms.field_create(
        review=team.review, level="patient", label="Tumor size (cm)", type="decimal"
    )

    assert created.key == "tumor_size_cm"
    with pytest.raises(ValidationError, match="already has a field with the key “tumor_size_cm”"):
        forms.field_create(review=team.review, level="patient", label="Tumor size cm", type="text")
    with pytest.raises(ValidationError, match="needs at least one choice"):
        forms.field_create(review=team.review, level="patient", label="Grade", type="choice")


# --- entry ---


def test_a_save_with_any_bad_cell_saves_nothing_and_names_each_cell(team, study):
    copy = extraction_start(study=study, user=team.reviewer)
    age, site = field_of(team.review, "age_months"), field_of(team.review, "site")
    patients_field = field_of(team.review, "patients")

    errors = extraction_save(
        extraction=copy,
        user=team.reviewer,
        study_values={patients_field.pk: "twelve"},
        patients=[
            PatientInput(None, "Case 1", {age.pk: "84", site.pk: "Thorax"}),
            PatientInput(None, "Case 2", {age.pk: "300", site.pk: "Lung"}),
        ],
    )

    assert {(e.row, e.field_id) for e in errors} == {
        (None, patients_field.pk),
        (1, age.pk),
        (1, site.pk),
    }
    assert "“twelve” is not a whole number." in [e.message for e in errors]
    copy.refresh_from_db()
    assert copy.values == {} and not copy.patients.exists()


def test_a_save_stores_exactly_the_submitted_rows_in_order(team, study):
    copy = fill(study, team.reviewer, patients=[{"label": "A", "age_months": "1"}, {"label": "B"}])
    first, second = copy.patients.order_by("position")
    age = field_of(team.review, "age_months")

    errors = extraction_save(
        extraction=copy,
        user=team.reviewer,
        study_values={},
        patients=[
            PatientInput(second.pk, "B", {age.pk: "24"}),
            PatientInput(None, "C", {age.pk: "NR"}),
            PatientInput(None, "", {}),  # a blank new row is ignored
        ],
    )

    assert errors == []
    rows = list(copy.patients.order_by("position"))
    assert [(r.position, r.label) for r in rows] == [(1, "B"), (2, "C")]
    assert rows[0].pk == second.pk and not PatientRow.objects.filter(pk=first.pk).exists()
    assert shown(copy, "age_months", row=1) == "24"
    assert shown(copy, "age_months", row=2) == "not reported"


def test_done_needs_every_required_cell_and_then_locks_the_copy(team, study):
    copy = fill(
        study,
        team.reviewer,
        study_values={"design": "Retrospective case series", "patients": "3", "ipd": "yes"},
        patients=[{"sex": "Male", "age_months": "NR", "site": "Thorax"}],
    )

    problems = extraction_done(extraction=copy, user=team.reviewer)

    assert {field.key for field in Field.objects.filter(pk__in=[p.field_id for p in problems])} == {
        "management"
    }
    copy.refresh_from_db()
    assert copy.status == ExtractionStatus.IN_PROGRESS
    row = copy.patients.get()
    extraction_save(
        extraction=copy,
        user=team.reviewer,
        study_values={},
        patients=[PatientInput(row.pk, "", {field_of(team.review, "management").pk: "Operative"})],
    )
    assert extraction_done(extraction=copy, user=team.reviewer) == []
    with pytest.raises(ValidationError, match=r"marked done\. Reopen it"):
        extraction_save(extraction=copy, user=team.reviewer, study_values={}, patients=[])
    extraction_reopen(extraction=copy, user=team.reviewer)
    copy.refresh_from_db()
    assert copy.status == ExtractionStatus.IN_PROGRESS


def test_dual_extraction_allows_two_extractors_and_refuses_a_third(team, study):
    extraction_start(study=study, user=team.reviewer)
    extraction_start(study=study, user=team.senior)

    with pytest.raises(ValidationError, match="already extracted by reviewer and senior"):
        extraction_start(study=study, user=team.owner)
    assert extraction_start(study=study, user=team.reviewer).extractor == team.reviewer


def test_single_extraction_allows_one_extractor(team):
    case_series_form(team.review, dual=False)
    study = make_study(team.review)
    extraction_start(study=study, user=team.reviewer)

    with pytest.raises(ValidationError, match="already extracted by reviewer"):
        extraction_start(study=study, user=team.senior)


def test_nobody_edits_another_persons_copy(team, study):
    copy = extraction_start(study=study, user=team.reviewer)

    with pytest.raises(ValidationError, match="not yours to edit"):
        extraction_save(extraction=copy, user=team.senior, study_values={}, patients=[])
    with pytest.raises(ValidationError, match="not a member"):
        extraction_start(study=study, user=team.outsider)


# --- dual extraction: comparison, consensus, progress, the dataset ---


@pytest.fixture
def two_copies(team, study):
    study_values = {"design": "Retrospective case series", "patients": "3", "ipd": "yes"}
    patient = {"sex": "Male", "age_months": "84", "site": "Thorax", "management": "Operative"}
    a = fill(
        study,
        team.reviewer,
        study_values=dict(study_values, country="Italy"),
        patients=[patient, dict(patient, label="Case 2", margin="Positive")],
        done=True,
    )
    b = fill(
        study,
        team.senior,
        study_values=dict(study_values, country="Spain"),
        patients=[
            dict(patient, age_months="96"),
            dict(patient, label="Case 2", margin="Positive"),
            dict(patient, label="Case 3"),
        ],
        done=True,
    )
    return a, b


def test_the_comparison_lists_every_disagreeing_value(team, study, two_copies):
    a, b = two_copies

    comparison = compare(a, b)

    study_diffs = [(c.field.key, c.a_text, c.b_text) for c in comparison.study_cells if not c.agree]
    assert study_diffs == [("country", "Italy", "Spain")]
    row_diffs = [
        (row.position, cell.field.key, cell.a_text, cell.b_text)
        for row in comparison.rows
        for cell in row.cells
        if not cell.agree and not row.only_in
    ]
    assert row_diffs == [(1, "age_months", "84", "96")]
    assert [row.only_in for row in comparison.rows] == ["", "", "b"]
    assert comparison.disagreements == 3


@pytest.mark.usefixtures("two_copies")
def test_progress_follows_the_copies(team, study):
    untouched = make_study(team.review, label="Zhang 2019")
    started = make_study(team.review, label="Alaggio 2010")
    fill(started, team.reviewer)

    status = {item.study.label: item.status for item in progress(team.review)}

    assert status == {
        "Coffin 2007": Progress.NEEDS_CONSENSUS,
        "Zhang 2019": Progress.NOT_STARTED,
        "Alaggio 2010": Progress.IN_PROGRESS,
    }
    assert untouched.extractions.count() == 0


def test_the_consensus_starts_from_the_agreed_values_and_a_senior_settles_the_rest(
    team, study, two_copies
):
    country, age = field_of(team.review, "country"), field_of(team.review, "age_months")

    consensus = consensus_start(study=study, user=team.senior)

    assert shown(consensus, "country") == "" and shown(consensus, "design") != ""
    assert shown(consensus, "age_months", row=1) == "" and shown(consensus, "sex", row=1) == "Male"
    assert consensus.patients.count() == 2  # the third patient is only in B's copy
    consensus_take(consensus=consensus, user=team.senior, side="b", field_id=country.pk)
    consensus_take(consensus=consensus, user=team.senior, side="a", field_id=age.pk, position=1)
    consensus_take(consensus=consensus, user=team.senior, side="b", position=3)
    consensus.refresh_from_db()
    assert shown(consensus, "country") == "Spain"
    assert shown(consensus, "age_months", row=1) == "84"
    assert consensus.patients.count() == 3
    assert dataset(team.review).rows == []  # not final yet

    assert extraction_done(extraction=consensus, user=team.senior) == []

    data = dataset(team.review)
    assert [row["age_months"] for row in data.rows] == [84, 84, 84]
    assert [row["country"] for row in data.rows] == ["Spain"] * 3
    assert {item.status for item in progress(team.review)} == {Progress.FINAL}


def test_only_a_senior_resolves_and_the_final_consensus_is_locked(team, study, two_copies):
    with pytest.raises(ValidationError, match="Only a senior author"):
        consensus_start(study=study, user=team.reviewer)
    consensus = consensus_start(study=study, user=team.senior)
    country, age = field_of(team.review, "country"), field_of(team.review, "age_months")
    consensus_take(consensus=consensus, user=team.senior, side="a", field_id=country.pk)
    assert extraction_done(extraction=consensus, user=team.senior)[0].field_id == age.pk
    consensus_take(consensus=consensus, user=team.senior, side="a", field_id=age.pk, position=1)
    assert extraction_done(extraction=consensus, user=team.senior) == []

    with pytest.raises(ValidationError, match="The consensus is final"):
        consensus_take(consensus=consensus, user=team.senior, side="b", field_id=country.pk)
    a, _ = two_copies
    with pytest.raises(ValidationError, match="A senior reopens it first"):
        extraction_reopen(extraction=a, user=team.reviewer)


def test_a_consensus_waits_for_both_copies(team, study):
    fill(study, team.reviewer, done=True)
    fill(study, team.senior, done=False)

    with pytest.raises(ValidationError, match="Both extractors must mark Coffin 2007 done"):
        consensus_start(study=study, user=team.senior)
    assert not Extraction.objects.filter(study=study, extractor=None).exists()


def test_single_extraction_data_are_final_once_done(team):
    case_series_form(team.review, dual=False)
    study = make_study(team.review)
    fill(study, team.reviewer, patients=[{"sex": "Female", "age_months": "NR"}], done=True)

    data = dataset(team.review)

    assert data.rows == [
        {
            **{f.key: None for f in data.study_fields},
            **{f.key: None for f in data.patient_fields},
            "study_key": f"S{study.pk}",
            "study": "Coffin 2007",
            "patient": "1",
            "sex": "Female",
        }
    ]
    assert [item.status for item in progress(team.review)] == [Progress.FINAL]
