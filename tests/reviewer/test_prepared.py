"""Queries compiled once per process (reviewer.prepared): the same rows as the ORM's own
query for any values, each shape kept apart, and a query whose values cannot be told
from its SQL compiled every time instead."""

from __future__ import annotations

import pytest
from django.db.models import F

from reviewer.access import _MEMBERSHIP
from reviewer.models import Record
from reviewer.prepared import Prepared
from reviewer.screening import queries
from tests.factories import make_record, make_review, make_team

pytestmark = pytest.mark.django_db


def titles_from(review_id, after, *, descending=False):
    records = Record.objects.filter(review_id=review_id, pk__gt=after)
    return records.order_by("-pk" if descending else "pk").values_list("pk", "title")


def test_a_prepared_query_gives_the_orms_rows_for_other_values(django_assert_num_queries):
    team, other = make_team(), make_review(title="Another")
    mine = [make_record(team.review, title=f"Mine {n}") for n in range(4)]
    make_record(other, title="Theirs")
    prepared = Prepared(
        lambda descending, review, after: titles_from(review, after, descending=descending)
    )

    for after in (0, mine[1].pk, mine[3].pk):
        for descending in (False, True):
            expected = list(titles_from(team.review.pk, after, descending=descending))
            with django_assert_num_queries(1):
                got = prepared.rows((descending,), review=team.review.pk, after=after)
            assert got == expected

    assert len(prepared._compiled) == 2  # one per shape
    assert [title for _, title in prepared.rows((False,), review=other.pk, after=0)] == ["Theirs"]


def test_a_value_the_sql_does_not_carry_as_a_parameter_is_never_kept():
    team = make_team()
    make_record(team.review, title="Record 7")
    # the value goes into the SQL inside another parameter: not preparable
    prepared = Prepared(lambda n: Record.objects.filter(title=f"Record {n}").values_list("title"))

    assert prepared.rows(n=7) == [("Record 7",)]
    assert prepared.rows(n=8) == []
    assert list(prepared._compiled.values()) == [None]


def test_model_instances_come_with_their_related_objects_and_annotations(
    django_assert_num_queries,
):
    team, other = make_team(), make_review(title="Another")
    record = make_record(team.review, title="Mine", authors=["Ng, A"], year=2020)
    theirs = make_record(other, title="Theirs")
    expected = team.review.records.select_related("source").get(pk=record.pk)

    with django_assert_num_queries(1):
        found = queries.record_of(team.review, record.pk)
        assert found is not None
        assert found.source.kind == expected.source.kind  # loaded with it
        assert found.review is team.review
    for field in Record._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert queries.record_of(team.review, theirs.pk) is None
    # a member's membership, its review and user (`access`): every page's first query
    mine = _MEMBERSHIP.objects(slug=team.review.slug, user=team.reviewer.pk)
    assert [(m.review.title, m.user.username) for m in mine] == [
        (team.review.title, team.reviewer.username)
    ]
    assert _MEMBERSHIP.objects(slug=other.slug, user=team.reviewer.pk) == []


def test_only_some_fields_and_annotations_as_the_orm_reads_them():
    team = make_team()
    make_record(team.review, title="First")
    prepared = Prepared(
        lambda review: (
            Record.objects.filter(review_id=review)
            .annotate(doubled=F("pk") * 2)
            .only("pk", "title")
        )
    )

    (found,) = prepared.objects(review=team.review.pk)

    assert found.title == "First" and found.doubled == found.pk * 2
    assert found.get_deferred_fields() >= {"abstract", "authors"}
