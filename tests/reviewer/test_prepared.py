"""Queries compiled once per process (reviewer.prepared): the same rows as the ORM's own
query for any values, each shape kept apart, and a query whose values cannot be told
from its SQL compiled every time instead."""

from __future__ import annotations

import pytest

from reviewer.models import Record
from reviewer.prepared import Prepared
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
    assert prepared._compiled == {((), ("n",)): None}
