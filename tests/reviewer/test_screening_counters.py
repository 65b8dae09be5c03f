"""The screening page's counters stay right after every write that moves them (issue 16).

The counters are cached (`reviewer.screening.counters`) and moved by one with each
decision. Every other write that can change them bumps the review's `counts_version`, so
the counts cached before it are never read again. Each test here loads the page (the
counts are cached), makes one such write, and loads the page again: what it shows must be
what a fresh count says. Before, every service had to forget the cached counts by hand,
and the manual de-duplication decisions (a pair marked duplicate, undone, a record split
off its group) forgot nothing: the page kept counting the duplicate for two minutes.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reviewer.models import Band, DuplicatePair, ImportStatus, PairStatus, Record, Review
from reviewer.screening import queries
from reviewer.services import duplicates, imports, sources
from reviewer.services import screening as services
from tests.factories import (
    make_import_file,
    make_import_job,
    make_record,
    make_source,
    page_text,
    pass_title_abstract,
    screen,
)
from tests.reviewer.dedup_cases import PAPER, PAPER_ELSEWHERE, add

pytestmark = pytest.mark.django_db

RIS = b"""TY  - JOUR
TI  - Inflammatory myofibroblastic tumor of the bladder in children
PY  - 2015
ER  -

TY  - JOUR
TI  - Crizotinib for unresectable inflammatory myofibroblastic tumor
PY  - 2020
ER  -
"""


def shown(client, review: Review, stage: str) -> tuple[int, int, int]:
    """(mine, total, overall done) as the senior's screening page at `stage` shows them."""
    page = client.get(
        reverse("screen-queue", kwargs={"slug": review.slug, "stage": stage}), follow=True
    )
    text = page_text(page)
    mine = re.search(r"Mine (\d+) of (\d+)", text)
    done = re.search(r"Overall done (\d+) of (\d+)", text)
    assert mine and done, text[:400]
    assert mine.group(2) == done.group(2)
    return int(mine.group(1)), int(mine.group(2)), int(done.group(1))


def counted(review: Review, user, stage: str) -> tuple[int, int, int]:
    """The same figures counted afresh from the database."""
    figures = queries.progress(Review.objects.get(pk=review.pk), user, stage)
    return figures["mine"], figures["total"], figures["done"]  # type: ignore[return-value]


@pytest.fixture
def watch(client, team):
    """Load the senior's page at a stage (the counts are cached), then after the write
    check it shows the fresh count; returns the figures shown after."""
    client.force_login(team.senior)

    class Watch:
        def before(self, stage: str = "ta") -> tuple[int, int, int]:
            self.stage = stage
            return shown(client, team.review, stage)

        def after(self) -> tuple[int, int, int]:
            figures = shown(client, team.review, self.stage)
            assert figures == counted(team.review, team.senior, self.stage)
            return figures

    return Watch()


def records(review: Review, n: int) -> list[Record]:
    return [make_record(review, title=f"Record {i}") for i in range(n)]


def test_an_import(team, watch):
    records(team.review, 2)
    source = make_source(team.review, name="Embase")
    job = make_import_job(
        source,
        status=ImportStatus.IMPORTING,
        record_count=2,
        claimed_at=timezone.now() - timedelta(minutes=120),
    )
    make_import_file(job, "embase.ris", RIS, detected_format="ris", record_count=2)
    assert watch.before() == (0, 2, 0)

    imports.import_job_run(job_id=job.pk)

    assert watch.after() == (0, 4, 0)


def test_a_de_duplication_run(team, watch):
    pubmed, embase = make_source(team.review, "PubMed"), make_source(team.review, "Embase")
    add(team.review, pubmed, PAPER)
    add(team.review, embase, PAPER_ELSEWHERE)
    assert watch.before() == (0, 2, 0)

    duplicates.dedup_run_now(review=team.review, user=team.owner)

    assert watch.after() == (0, 1, 0)


def pending_pair(team) -> DuplicatePair:
    first, second = records(team.review, 3)[:2]
    return DuplicatePair.objects.create(
        review=team.review,
        first=first,
        second=second,
        band=Band.POSSIBLE,
        score=0.8,
        status=PairStatus.PENDING,
    )


def test_a_pair_marked_duplicate_by_hand(team, watch):
    pair = pending_pair(team)
    assert watch.before() == (0, 3, 0)

    duplicates.pair_decide(pair=pair, user=team.owner, duplicate=True)

    assert watch.after() == (0, 2, 0)


def test_a_duplicate_pair_undone(team, watch):
    pair = duplicates.pair_decide(pair=pending_pair(team), user=team.owner, duplicate=True)
    assert watch.before() == (0, 2, 0)

    duplicates.pair_reopen(pair=pair, user=team.owner)

    assert watch.after() == (0, 3, 0)


def test_a_record_split_off_its_group(team, watch):
    pair = duplicates.pair_decide(pair=pending_pair(team), user=team.owner, duplicate=True)
    assert watch.before() == (0, 2, 0)

    duplicates.record_split(record=pair.second, user=team.owner)

    assert watch.after() == (0, 3, 0)


def test_a_removal_and_a_restore(team, watch):
    made = records(team.review, 3)
    assert watch.before() == (0, 3, 0)

    services.remove_before_screening(
        review=team.review, user=team.owner, records=[made[0]], reason="Published before 1990"
    )
    assert watch.after() == (0, 2, 0)

    services.restore(record=made[0], user=team.owner)
    assert watch.after() == (0, 3, 0)


def test_an_adjudication(team, watch):
    made = records(team.review, 3)
    screen(made[0], team.reviewer, "include")
    screen(made[0], team.owner, "exclude")
    assert watch.before("ft") == (0, 0, 0)

    services.adjudicate(record=made[0], user=team.senior, stage="ta", choice="include")

    assert watch.after() == (0, 1, 0)


def test_an_adjudication_withdrawn(team, watch):
    made = records(team.review, 3)
    screen(made[0], team.reviewer, "include")
    screen(made[0], team.owner, "exclude")
    services.adjudicate(record=made[0], user=team.senior, stage="ta", choice="include")
    assert watch.before("ft") == (0, 1, 0)

    services.withdraw_adjudication(record=made[0], user=team.senior, stage="ta")

    assert watch.after() == (0, 0, 0)


def test_a_release_to_full_text(team, watch):
    made = records(team.review, 3)
    screen(made[0], team.reviewer, "include")
    screen(made[0], team.owner, "include")
    assert watch.before("ft") == (0, 0, 0)

    services.release_to_full_text(review=team.review, user=team.owner, records=[made[0]])

    assert watch.after() == (0, 1, 0)


def test_a_full_text_not_retrieved(team, watch):
    made = records(team.review, 3)
    pass_title_abstract(made[0], team.reviewer, team.owner)
    pass_title_abstract(made[1], team.reviewer, team.owner)
    assert watch.before("ft") == (0, 2, 0)

    services.full_text_not_retrieved(record=made[0], user=team.reviewer, note="Library: none")

    assert watch.after() == (0, 1, 0)


def test_unblinding_the_review(client, team, watch):
    made = records(team.review, 3)
    screen(made[0], team.reviewer, "include")
    screen(made[0], team.owner, "include")  # agreed: waits for release while blinded
    assert watch.before("ft") == (0, 0, 0)
    client.force_login(team.owner)
    client.post(
        reverse("review-settings", args=[team.review.slug]),
        {"title": team.review.title, "blinded": ""},
    )
    client.force_login(team.senior)

    assert watch.after() == (0, 1, 0)


def test_a_search_deleted_with_its_records(team, watch):
    records(team.review, 2)
    embase = make_source(team.review, "Embase")
    make_record(team.review, embase, title="Only in Embase")
    assert watch.before() == (0, 3, 0)

    sources.source_delete(source=embase)

    assert watch.after() == (0, 2, 0)


def test_a_review_saved_from_an_old_copy_does_not_set_the_version_back(team, watch):
    old_copy = Review.objects.get(pk=team.review.pk)
    pair = pending_pair(team)
    assert watch.before() == (0, 3, 0)
    duplicates.pair_decide(pair=pair, user=team.owner, duplicate=True)

    old_copy.title = "Pediatric IMT (renamed)"
    old_copy.save()  # read before the pair was decided

    assert watch.after() == (0, 2, 0)
