"""The screening queue (reviewer.screening.queue) and its record-by-record waiting test
(queries.waiting_probe): the same records as the whole-review form, in every state."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from reviewer.models import Role
from reviewer.screening import queries
from reviewer.screening.queue import ScreeningQueue
from reviewer.services import screening as services
from tests.factories import add_member, make_record, make_team, make_user, screen

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    team = make_team()
    me = team.reviewer
    other = add_member(team.review, make_user("bea"), Role.REVIEWER).user
    third = add_member(team.review, make_user("cal"), Role.REVIEWER).user
    records = [make_record(team.review, title=f"Record {n}") for n in range(8)]
    screen(records[1], me, "include")  # mine
    screen(records[2], other, "exclude")  # one colleague: still waiting for me
    screen(records[3], other, "include")  # two colleagues: not waiting
    screen(records[3], third, "include")
    screen(records[4], other, "include")  # a conflict, adjudicated
    screen(records[4], third, "exclude")
    services.adjudicate(record=records[4], user=team.senior, stage="ta", choice="include")
    screen(records[5], me, "maybe")  # mine and a colleague's
    screen(records[5], other, "exclude")
    return team, me, records


def test_the_probe_and_the_whole_review_form_agree(world):
    team, me, records = world
    queue = queries.queue(team.review, me, "ta")
    whole = list(queries.waiting(team.review, me, "ta", queue).values_list("pk", flat=True))
    probed = queries.waiting_from(queue, me, "ta", start=0, count=100)

    assert probed == whole == [records[n].pk for n in (0, 2, 6, 7)]


def queue_for(team, user):
    request = RequestFactory().get("/")
    membership = team.review.memberships.select_related("user").get(user=user)
    return ScreeningQueue.for_request(request, team.review, membership, "ta")


def test_after_a_decision_the_queue_goes_on_from_where_it_was(world):
    team, me, records = world
    queue_for(team, me).first_waiting()  # the queue opened: records 0, 2, 6, 7
    screen(records[0], me, "include")

    assert queue_for(team, me).first_waiting(resume=True) == [records[n].pk for n in (2, 6, 7)]


def test_a_withdrawn_decision_behind_the_cursor_brings_its_record_back(world):
    team, me, records = world
    queue_for(team, me).first_waiting()
    screen(records[0], me, "include")
    screen(records[2], me, "include")
    queue_for(team, me).first_waiting(resume=True)  # the cursor is now at record 6
    services.withdraw(record=records[1], user=me, stage="ta")

    assert queue_for(team, me).first_waiting(resume=True)[0] == records[1].pk


def whole_queue_reads(captured):
    """The queries that read the whole queue (the set form groups the review's decisions)."""
    return [q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"]]


def test_a_colleagues_withdrawal_brings_the_record_back_without_reading_the_whole_queue(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    team, me, records = world
    other = team.review.memberships.get(user__username="bea").user
    queue_for(team, me).first_waiting()  # the queue opened: records 0, 2, 6, 7
    screen(records[0], me, "include")
    screen(records[2], me, "include")
    queue_for(team, me).first_waiting(resume=True)  # the cursor is now at record 6
    services.withdraw(record=records[3], user=other, stage="ta")  # one decision left on 3

    with CaptureQueriesContext(connection) as captured:
        found = queue_for(team, me).first_waiting(resume=True)

    assert found == [records[n].pk for n in (3, 6, 7)]
    assert not whole_queue_reads(captured)


def test_a_record_back_in_screening_behind_the_cursor_is_found_again(world):
    """De-duplication splitting a pair (or anything else that moves the counters) puts a
    record back behind the cursor: the cursor lapses."""
    from reviewer.screening import counters

    team, me, records = world
    records[0].duplicate_of = records[7]
    records[0].save(update_fields=["duplicate_of"])
    counters.changed(team.review)
    queue_for(team, me).first_waiting()  # records 2, 6, 7
    screen(records[2], me, "include")
    queue_for(team, me).first_waiting(resume=True)  # the cursor at record 6
    records[0].duplicate_of = None
    records[0].save(update_fields=["duplicate_of"])
    counters.changed(team.review)

    assert queue_for(team, me).first_waiting(resume=True)[0] == records[0].pk
