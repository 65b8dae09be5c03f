"""The guard of the rule "every new table joins the review archive": a model of the
reviewer, extraction or analysis app with a path to a review is archived or excluded with
its reason, and everything the archive cannot know by itself is declared."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from reviewer.archive import layout
from reviewer.archive.values import supported


def test_every_model_with_a_path_to_a_review_is_archived_or_excluded_with_a_reason():
    with_a_review = set(layout.models_with_a_review())

    forgotten = with_a_review - set(layout.ARCHIVED) - set(layout.EXCLUDED)

    assert not forgotten, (
        f"{sorted(forgotten)} belong to a review but are not in its archive: add them to "
        "ARCHIVED in reviewer/archive/layout.py (or to EXCLUDED, saying why)"
    )


def test_the_guard_sees_the_models_of_all_three_apps():
    found = set(layout.models_with_a_review())

    assert {"reviewer.Decision", "extraction.PatientRow", "analysis.AnalysisRun"} <= found
    assert "reviewer.RelevanceScore" in found  # through its ranking job, not directly
    assert "reviewer.User" not in found


def test_archived_and_excluded_models_exist_belong_to_a_review_and_do_not_overlap():
    with_a_review = set(layout.models_with_a_review())

    for label in (*layout.ARCHIVED, *layout.EXCLUDED):
        assert label in with_a_review, f"{label} has no path to a review"
    assert not set(layout.ARCHIVED) & set(layout.EXCLUDED)
    assert len(set(layout.ARCHIVED)) == len(layout.ARCHIVED)
    for label, reason in layout.EXCLUDED.items():
        assert len(reason.split()) >= 4, f"say why {label} is left out of the archive"


def test_every_archived_column_can_be_written_and_read_back():
    for label in layout.ARCHIVED:
        model = layout.model(label)
        assert not model._meta.many_to_many, f"{label}: many-to-many fields are not archived"
        for column in layout.columns(label):
            assert supported(column), f"{label}.{column.name}: no way to archive a {column}"


def test_every_foreign_key_points_at_an_archived_table_or_a_person():
    for label in layout.ARCHIVED:
        for column in layout.references(label):
            target = column.related_model
            assert isinstance(target, type)
            assert layout.is_user(target) or layout.label_of(target) in layout.ARCHIVED, (
                f"{label}.{column.name} points at {layout.label_of(target)}, "
                "which the archive does not hold"
            )


def test_every_json_column_says_whether_it_holds_ids():
    declared = set(layout.JSON_IDS) | layout.JSON_WITHOUT_IDS

    undeclared = set(layout.archived_json_columns()) - declared

    assert not undeclared, (
        f"{sorted(undeclared)}: JSON columns must be listed in JSON_IDS (with the translation "
        "of the ids they hold) or JSON_WITHOUT_IDS in reviewer/archive/layout.py"
    )
    assert not set(layout.JSON_IDS) & layout.JSON_WITHOUT_IDS
    assert declared <= set(layout.archived_json_columns()), "a declared JSON column is gone"


def test_excluded_columns_exist():
    for label, excluded in layout.EXCLUDED_COLUMNS.items():
        names = {f.name for f in layout.model(label)._meta.concrete_fields}
        assert set(excluded) <= names, f"{label}: {set(excluded) - names} do not exist"


def test_tables_are_restored_after_the_tables_they_point_at():
    order = layout.table_order()

    assert sorted(order) == sorted(layout.ARCHIVED)
    assert order[0] == "reviewer.Review"
    for position, label in enumerate(order):
        for column in layout.references(label):
            target = column.related_model
            assert isinstance(target, type)
            target_label = layout.label_of(target)
            if target_label == label:
                assert column.null, f"{label}.{column.name} refers to its own table: nullable"
            elif not layout.is_user(target):
                assert order.index(target_label) < position


def test_interrupted_jobs_name_real_statuses():
    for label, how in layout.INTERRUPTED.items():
        column = layout.model(label)._meta.get_field(how.status_field)
        assert isinstance(column, models.CharField)
        statuses = {value for value, _ in column.choices or []}
        assert how.unfinished <= statuses and how.becomes in statuses
        assert apps.get_model(label)._meta.get_field(how.message_field)
