"""De-duplication inside a review: runs, groups, the queue's decisions, splits and the log
(reviewer.services.duplicates, reviewer.selectors.duplicate_summary)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from reviewer.models import (
    Band,
    DedupAction,
    DedupEvent,
    DedupStatus,
    DuplicatePair,
    ImportStatus,
    PairStatus,
    Record,
)
from reviewer.selectors import duplicate_summary, pending_duplicate_pairs
from reviewer.services import duplicates as services
from reviewer.services import imports as import_services
from tests.factories import make_import_file, make_import_job, make_source
from tests.reviewer.dedup_cases import (
    ERRATUM,
    MAYBE_LEFT,
    MAYBE_RIGHT,
    PAPER,
    PAPER_ELSEWHERE,
    UNRELATED,
    add,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pubmed(team):
    return make_source(team.review, "PubMed")


@pytest.fixture
def embase(team):
    return make_source(team.review, "Embase")


def run(team):
    job = services.dedup_run_now(review=team.review, user=team.owner)
    assert job.status == DedupStatus.DONE, job.error
    return job


def reload(*records):
    return [Record.objects.get(pk=r.pk) for r in records]


def pair_of(a, b):
    first, second = sorted((a.pk, b.pk))
    return DuplicatePair.objects.get(first_id=first, second_id=second)


# --- a run ---


def test_a_certain_duplicate_points_at_the_earlier_import_and_keeps_its_own_search(
    team, pubmed, embase
):
    kept = add(team.review, pubmed, PAPER)
    duplicate = add(team.review, embase, PAPER_ELSEWHERE)
    add(team.review, embase, UNRELATED)

    job = run(team)

    kept, duplicate = reload(kept, duplicate)
    assert duplicate.duplicate_of == kept
    assert kept.duplicate_of is None
    assert duplicate.source == embase  # the duplicate keeps where it came from
    assert job.counts["linked_records"] == 1
    pair = pair_of(kept, duplicate)
    assert (pair.band, pair.status) == (Band.CERTAIN, PairStatus.LINKED)
    assert "same DOI" in pair.reasons
    assert any(e["field"] == "doi" and e["outcome"] == "same" for e in pair.evidence)


def test_the_kept_record_takes_the_fields_it_lacks_and_keeps_its_own(team, pubmed, embase):
    kept = add(team.review, pubmed, PAPER)  # no abstract
    duplicate = add(team.review, embase, PAPER_ELSEWHERE)  # abstract, abbreviated journal

    run(team)

    (kept,) = reload(kept)
    assert kept.abstract == PAPER_ELSEWHERE["abstract"]
    assert kept.journal == PAPER["journal"]  # its own value is never replaced
    assert kept.filled_fields == {"abstract": duplicate.pk}


def test_nothing_is_deleted_by_a_run(team, pubmed, embase):
    add(team.review, pubmed, PAPER)
    add(team.review, embase, PAPER_ELSEWHERE)

    run(team)

    assert team.review.records.count() == 2


def test_a_possible_pair_waits_in_the_queue_and_links_nothing(team, pubmed, embase):
    left = add(team.review, pubmed, MAYBE_LEFT)
    right = add(team.review, embase, MAYBE_RIGHT)

    job = run(team)

    pair = pair_of(left, right)
    assert pair.band == Band.POSSIBLE
    assert list(pending_duplicate_pairs(team.review)) == [pair]
    assert reload(right)[0].duplicate_of is None
    assert job.counts["possible"] == 1


def test_an_erratum_is_never_linked_to_the_article_it_corrects(team, pubmed, embase):
    article = add(team.review, pubmed, PAPER)
    erratum = add(team.review, embase, ERRATUM)

    run(team)

    assert reload(erratum)[0].duplicate_of is None
    pair = pair_of(article, erratum)
    assert pair.status == PairStatus.PENDING  # a person decides; never linked by the engine
    assert any("erratum" in reason for reason in pair.reasons)


def test_a_conference_abstract_a_year_before_the_paper_is_kept_apart(team, pubmed, embase):
    article = add(team.review, pubmed, PAPER)
    abstract = add(
        team.review,
        embase,
        PAPER,
        doi="",
        year=2009,
        volume="44 Suppl 1",
        pages="S12",
        publication_type="Conference Abstract",
    )

    run(team)

    assert reload(abstract)[0].duplicate_of is None
    assert not pending_duplicate_pairs(team.review).exists()
    pair = pair_of(article, abstract)
    assert pair.status == PairStatus.KEPT_APART
    assert any("conference abstract" in reason for reason in pair.reasons)


def test_a_group_of_three_has_one_kept_record(team, pubmed, embase):
    scopus = make_source(team.review, "Scopus")
    first = add(team.review, pubmed, PAPER)
    second = add(team.review, embase, PAPER_ELSEWHERE)
    third = add(team.review, scopus, PAPER, doi="", pages="532-538")

    run(team)

    first, second, third = reload(first, second, third)
    assert second.duplicate_of == first
    assert third.duplicate_of == first
    assert set(first.duplicates.values_list("pk", flat=True)) == {second.pk, third.pk}


def test_running_again_changes_nothing(team, pubmed, embase):
    add(team.review, pubmed, PAPER)
    add(team.review, embase, PAPER_ELSEWHERE)
    add(team.review, pubmed, MAYBE_LEFT)
    add(team.review, embase, MAYBE_RIGHT)
    run(team)
    before = sorted(team.review.records.values_list("pk", "duplicate_of_id"))

    job = run(team)

    assert sorted(team.review.records.values_list("pk", "duplicate_of_id")) == before
    assert job.counts["linked_records"] == 0
    assert DuplicatePair.objects.filter(review=team.review).count() == 2
    assert pending_duplicate_pairs(team.review).count() == 1


def test_a_run_only_touches_its_own_review(team, pubmed):
    from tests.factories import make_review

    other = make_review(title="Adult IMT")
    other_source = make_source(other, "PubMed")
    add(other, other_source, PAPER)
    add(other, other_source, PAPER_ELSEWHERE)
    add(team.review, pubmed, PAPER)

    run(team)

    assert not Record.objects.filter(review=other).exclude(duplicate_of=None).exists()
    assert not DuplicatePair.objects.filter(review=other).exists()


def test_every_automatic_link_is_logged_as_the_engines(team, pubmed, embase):
    kept = add(team.review, pubmed, PAPER)
    duplicate = add(team.review, embase, PAPER_ELSEWHERE)

    job = run(team)

    event = DedupEvent.objects.get(review=team.review)
    assert (event.action, event.record_id, event.other_id) == (
        DedupAction.LINKED,
        duplicate.pk,
        kept.pk,
    )
    assert event.user is None
    assert event.job == job


# --- after an import ---


def import_records(team, source, *papers):
    """Import `papers` as one finished import job, the way the import task does."""
    job = make_import_job(source, status=ImportStatus.IMPORTING)
    import_file = make_import_file(job)
    for fields in papers:
        add(team.review, source, fields, import_file=import_file)
    job.record_count = len(papers)
    job.save()
    return job


def test_an_import_checks_its_new_records_against_the_others(
    team, pubmed, embase, django_capture_on_commit_callbacks
):
    old = add(team.review, pubmed, PAPER)
    import_job = import_records(team, embase, PAPER_ELSEWHERE, UNRELATED)

    with django_capture_on_commit_callbacks(execute=True):
        dedup = services.dedup_after_import(import_job=import_job)

    dedup.refresh_from_db()
    assert dedup.status == DedupStatus.DONE
    assert dedup.import_job == import_job
    new = team.review.records.get(import_file__job=import_job, doi=PAPER_ELSEWHERE["doi"])
    assert new.duplicate_of == old


def test_an_import_run_leaves_pairs_among_older_records_alone(team, pubmed, embase):
    add(team.review, pubmed, MAYBE_LEFT)
    add(team.review, pubmed, MAYBE_RIGHT)  # alike, but both old: not this run's business
    import_job = import_records(team, embase, UNRELATED)
    dedup = services.dedup_job_create(
        review=team.review, user=team.owner, import_job=import_job, enqueue=False
    )

    services.dedup_job_run(job_id=dedup.pk)

    assert not DuplicatePair.objects.filter(review=team.review).exists()


def test_a_new_import_never_hides_a_record_already_in_the_review(team, pubmed, embase):
    """The record screened first stays the kept one: the newcomer is the duplicate."""
    old = add(team.review, embase, PAPER_ELSEWHERE)
    import_job = import_records(team, pubmed, PAPER)  # the fuller record, imported later
    dedup = services.dedup_job_create(
        review=team.review, user=team.owner, import_job=import_job, enqueue=False
    )

    services.dedup_job_run(job_id=dedup.pk)

    old, new = reload(old, team.review.records.get(import_file__job=import_job))
    assert old.duplicate_of is None
    assert new.duplicate_of == old


def test_the_import_task_queues_de_duplication_of_what_it_imported(
    team, pubmed, django_capture_on_commit_callbacks, tmp_path
):
    add(team.review, pubmed, PAPER)
    path = tmp_path / "embase.ris"
    path.write_text(
        "TY  - JOUR\nTI  - Inflammatory myofibroblastic tumor of the bladder in children: "
        "a case series.\nAU  - Alaggio, R.\nPY  - 2010\nJO  - J Pediatr Surg\nVL  - 45\n"
        "SP  - 532\nEP  - 8\nDO  - 10.1016/J.JPEDSURG.2009.08.011\nER  - \n",
        encoding="utf-8",
    )
    embase = make_source(team.review, "Embase")
    with path.open("rb") as handle:
        job = import_services.import_job_create(
            source=embase, files=[("embase.ris", handle)], created_by=team.owner, enqueue=False
        )
    import_services.import_job_read(job_id=job.pk)
    import_services.import_job_confirm(job=job, enqueue=False)

    with django_capture_on_commit_callbacks(execute=True):
        import_services.import_job_run(job_id=job.pk)

    new = team.review.records.get(source=embase)
    assert new.duplicate_of is not None
    assert job.dedup_jobs.get().status == DedupStatus.DONE


# --- decisions from the queue ---


@pytest.fixture
def maybe(team, pubmed, embase):
    left = add(team.review, pubmed, MAYBE_LEFT)
    right = add(team.review, embase, MAYBE_RIGHT)
    run(team)
    pair = pair_of(left, right)
    assert pair.status == PairStatus.PENDING
    return pair


def test_deciding_duplicate_links_the_later_import(team, maybe):
    services.pair_decide(pair=maybe, user=team.reviewer, duplicate=True)

    maybe.refresh_from_db()
    assert maybe.status == PairStatus.DUPLICATE
    assert maybe.decided_by == team.reviewer
    assert Record.objects.get(pk=maybe.second_id).duplicate_of_id == maybe.first_id
    assert not pending_duplicate_pairs(team.review).exists()
    event = DedupEvent.objects.get(action=DedupAction.MERGED)
    assert (event.user, event.record_id, event.other_id) == (
        team.reviewer,
        maybe.second_id,
        maybe.first_id,
    )


def test_deciding_not_duplicate_keeps_both_and_leaves_the_queue(team, maybe):
    services.pair_decide(pair=maybe, user=team.reviewer, duplicate=False)

    maybe.refresh_from_db()
    assert maybe.status == PairStatus.DISTINCT
    assert not team.review.records.exclude(duplicate_of=None).exists()
    assert not pending_duplicate_pairs(team.review).exists()
    assert DedupEvent.objects.filter(action=DedupAction.DISTINCT, user=team.reviewer).exists()


def test_a_decision_outlasts_a_new_run(team, maybe):
    services.pair_decide(pair=maybe, user=team.reviewer, duplicate=False)

    run(team)

    maybe.refresh_from_db()
    assert maybe.status == PairStatus.DISTINCT
    assert not pending_duplicate_pairs(team.review).exists()


def test_a_pair_cannot_be_decided_twice(team, maybe):
    services.pair_decide(pair=maybe, user=team.reviewer, duplicate=True)

    with pytest.raises(ValidationError, match="already decided"):
        services.pair_decide(pair=maybe, user=team.senior, duplicate=False)


def test_undoing_duplicate_takes_the_record_out_and_puts_the_pair_back(team, maybe):
    services.pair_decide(pair=maybe, user=team.reviewer, duplicate=True)

    services.pair_reopen(pair=maybe, user=team.senior)

    maybe.refresh_from_db()
    assert maybe.status == PairStatus.PENDING
    assert maybe.decided_by is None
    assert Record.objects.get(pk=maybe.second_id).duplicate_of is None
    assert list(pending_duplicate_pairs(team.review)) == [maybe]
    actions = list(DedupEvent.objects.order_by("pk").values_list("action", "user__username"))
    assert actions == [("merged", "reviewer"), ("reopened", "senior")]


def test_undoing_not_duplicate_puts_the_pair_back(team, maybe):
    services.pair_decide(pair=maybe, user=team.reviewer, duplicate=False)

    services.pair_reopen(pair=maybe, user=team.reviewer)

    assert list(pending_duplicate_pairs(team.review)) == [maybe]


def test_a_linked_pair_is_undone_by_a_split_not_by_undo(team, pubmed, embase):
    add(team.review, pubmed, PAPER)
    add(team.review, embase, PAPER_ELSEWHERE)
    run(team)
    pair = DuplicatePair.objects.get(review=team.review)

    with pytest.raises(ValidationError, match="Only a decided pair"):
        services.pair_reopen(pair=pair, user=team.reviewer)


# --- splitting ---


def test_splitting_a_duplicate_off_restores_it_and_the_kept_records_fields(team, pubmed, embase):
    kept = add(team.review, pubmed, PAPER)
    duplicate = add(team.review, embase, PAPER_ELSEWHERE)
    run(team)

    services.record_split(record=duplicate, user=team.senior, note="not the same cohort")

    kept, duplicate = reload(kept, duplicate)
    assert duplicate.duplicate_of is None
    assert kept.abstract == ""  # the abstract it took from the duplicate is given back
    assert kept.filled_fields == {}
    assert pair_of(kept, duplicate).status == PairStatus.DISTINCT
    event = DedupEvent.objects.get(action=DedupAction.SPLIT)
    assert (event.user, event.note) == (team.senior, "not the same cohort")


def test_a_split_record_is_not_linked_again_by_a_new_run(team, pubmed, embase):
    kept = add(team.review, pubmed, PAPER)
    duplicate = add(team.review, embase, PAPER_ELSEWHERE)
    run(team)
    services.record_split(record=duplicate, user=team.senior)

    run(team)

    assert reload(duplicate)[0].duplicate_of is None
    assert pair_of(kept, duplicate).status == PairStatus.DISTINCT


def test_splitting_the_kept_record_hands_the_group_to_the_next_oldest(team, pubmed, embase):
    scopus = make_source(team.review, "Scopus")
    first = add(team.review, pubmed, PAPER)
    second = add(team.review, embase, PAPER_ELSEWHERE)
    third = add(team.review, scopus, PAPER)
    run(team)

    services.record_split(record=first, user=team.owner)

    first, second, third = reload(first, second, third)
    assert first.duplicate_of is None
    assert second.duplicate_of is None
    assert third.duplicate_of == second
    assert pair_of(first, second).status == PairStatus.DISTINCT
    assert pair_of(first, third).status == PairStatus.DISTINCT


def test_a_record_in_no_group_cannot_be_split(team, pubmed):
    record = add(team.review, pubmed, UNRELATED)

    with pytest.raises(ValidationError, match="not in a group"):
        services.record_split(record=record, user=team.owner)


def test_deciding_duplicate_against_a_split_is_refused(team, pubmed, embase):
    """A person's "not duplicate" keeps groups apart even through a third record."""
    scopus = make_source(team.review, "Scopus")
    first = add(team.review, pubmed, MAYBE_LEFT)
    second = add(team.review, embase, MAYBE_RIGHT)
    third = add(team.review, scopus, MAYBE_RIGHT)  # certainly the same as `second`
    run(team)
    assert reload(third)[0].duplicate_of_id == second.pk
    services.record_split(record=third, user=team.owner)  # a person: third is not second
    run(team)  # now `first` is alike to both, separately
    services.pair_decide(pair=pair_of(first, second), user=team.owner, duplicate=True)
    later = pair_of(first, third)
    assert later.status == PairStatus.PENDING

    with pytest.raises(ValidationError, match="marked as not duplicates"):
        services.pair_decide(pair=later, user=team.owner, duplicate=True)


def test_one_question_per_two_groups(team, pubmed, embase):
    """A possible match between a group and a record is asked once, not once per member."""
    scopus = make_source(team.review, "Scopus")
    add(team.review, pubmed, MAYBE_LEFT)
    add(team.review, embase, MAYBE_RIGHT)
    add(team.review, scopus, MAYBE_RIGHT)

    run(team)

    assert pending_duplicate_pairs(team.review).count() == 1


# --- counts for PRISMA ---


def test_duplicates_removed_by_search_and_the_overlap_between_searches(team, pubmed, embase):
    add(team.review, pubmed, PAPER)
    add(team.review, pubmed, UNRELATED)
    add(team.review, embase, PAPER_ELSEWHERE)
    add(team.review, embase, MAYBE_LEFT)
    run(team)

    summary = duplicate_summary(team.review)

    assert (summary.records, summary.removed, summary.unique, summary.groups) == (4, 1, 3, 1)
    rows = {row.source.name: row for row in summary.by_source}
    assert (rows["PubMed"].identified, rows["PubMed"].removed, rows["PubMed"].only_here) == (
        2,
        0,
        1,
    )
    assert (rows["Embase"].identified, rows["Embase"].removed, rows["Embase"].only_here) == (
        2,
        1,
        1,
    )
    overlap = {source.name: cells for source, cells in summary.overlap}
    names = [row.source.name for row in summary.by_source]
    both = overlap["PubMed"][names.index("Embase")]
    assert both == 1
    assert overlap["PubMed"][names.index("PubMed")] == 2  # papers PubMed found
    assert overlap["Embase"][names.index("Embase")] == 2


def test_a_failed_run_changes_nothing_and_says_why(team, pubmed, embase, monkeypatch):
    add(team.review, pubmed, PAPER)
    add(team.review, embase, PAPER_ELSEWHERE)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_merge", broken)

    job = services.dedup_run_now(review=team.review, user=team.owner)

    assert job.status == DedupStatus.FAILED
    assert "disk full" in job.error
    assert not DuplicatePair.objects.exists()
    assert not team.review.records.exclude(duplicate_of=None).exists()


def test_a_job_is_run_once_even_if_its_task_is_delivered_twice(team, pubmed, embase):
    add(team.review, pubmed, PAPER)
    add(team.review, embase, PAPER_ELSEWHERE)
    job = services.dedup_job_create(review=team.review, user=team.owner, enqueue=False)

    services.dedup_job_run(job_id=job.pk)
    services.dedup_job_run(job_id=job.pk)

    assert DedupEvent.objects.count() == 1


# --- screened records are never hidden ---


def test_a_screened_record_stays_the_kept_one_even_if_imported_later(team, pubmed, embase):
    from tests.factories import screen

    earlier = add(team.review, embase, PAPER_ELSEWHERE)
    screened = add(team.review, pubmed, PAPER)
    screen(screened, team.reviewer, "include")

    run(team)

    earlier, screened = reload(earlier, screened)
    assert screened.duplicate_of is None
    assert earlier.duplicate_of == screened


def test_two_screened_records_are_left_to_a_person(team, pubmed, embase):
    from tests.factories import screen

    first = add(team.review, pubmed, PAPER)
    second = add(team.review, embase, PAPER_ELSEWHERE)
    screen(first, team.reviewer, "include")
    screen(second, team.senior, "exclude")

    run(team)

    assert not team.review.records.exclude(duplicate_of=None).exists()
    pair = pair_of(first, second)
    assert pair.band == Band.CERTAIN and pair.status == PairStatus.PENDING
    assert list(pending_duplicate_pairs(team.review)) == [pair]


def test_splitting_the_kept_record_hands_the_group_to_a_screened_one(team, pubmed, embase):
    from tests.factories import screen

    scopus = make_source(team.review, "Scopus")
    first = add(team.review, pubmed, PAPER)
    second = add(team.review, embase, PAPER_ELSEWHERE)
    third = add(team.review, scopus, PAPER)
    run(team)
    Record.objects.filter(pk=third.pk).update(duplicate_of=None)  # as if screened before
    screen(third, team.reviewer, "include")
    Record.objects.filter(pk=third.pk).update(duplicate_of=first)

    services.record_split(record=first, user=team.owner)

    second, third = reload(second, third)
    assert third.duplicate_of is None
    assert second.duplicate_of == third
