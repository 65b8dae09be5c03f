"""Screening writes (reviewer.services.screening): the state table through the services,
undo and history, adjudication, full texts, approval and studies, removals, bad input."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewer.models import (
    Adjudication,
    Approval,
    Decision,
    DecisionChange,
    FullText,
    Record,
    Removal,
    Role,
    Study,
)
from reviewer.screening.queries import progress, queue, state_counts, state_of
from reviewer.screening.rules import State
from reviewer.services import screening as services
from tests.factories import (
    add_member,
    make_reason,
    make_record,
    make_user,
    pass_title_abstract,
    release,
    screen,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def record(team):
    return make_record(team.review, title="ALK-positive IMT of the bladder in children")


@pytest.fixture
def second(team):
    """A second reviewer."""
    return add_member(team.review, make_user("bob"), Role.REVIEWER).user


@pytest.fixture
def reason(team):
    return make_reason(team.review, "Adults only")


def state(record):
    return state_of(Record.objects.get(pk=record.pk)).state


# --- title/abstract ---


def test_two_includes_send_the_record_to_full_text_at_once_in_an_unblinded_review(
    team, record, second
):
    team.review.blinded = False
    team.review.save(update_fields=["blinded"])
    screen(record, team.reviewer, "include")
    assert state(record) is State.TA_ONE

    screen(record, second, "maybe")

    assert state(record) is State.FT_SOUGHT


def test_in_a_blinded_review_two_includes_wait_for_a_seniors_release(team, record, second):
    screen(record, team.reviewer, "include")
    screen(record, second, "maybe")
    assert state(record) is State.TA_PASSED
    assert not queue(team.review, team.reviewer, "ft").exists()

    released = services.release_to_full_text(review=team.review, user=team.senior, records=[record])

    assert released == 1
    assert state(record) is State.FT_SOUGHT
    assert list(queue(team.review, team.reviewer, "ft")) == [record]
    stored = Record.objects.get(pk=record.pk)
    assert stored.released_by == team.senior and stored.released_at is not None


def test_a_release_makes_the_title_abstract_decisions_final(team, record, second):
    screen(record, team.reviewer, "include")
    screen(record, second, "include")
    # before the release, a reviewer may change her mind (the record becomes a conflict)
    screen(record, team.reviewer, "exclude")
    assert state(record) is State.TA_CONFLICT
    screen(record, team.reviewer, "include")
    release(record, by=team.senior)

    with pytest.raises(ValidationError, match="decisions are final"):
        screen(record, team.reviewer, "exclude")
    with pytest.raises(ValidationError, match="decisions are final"):
        services.withdraw(record=record, user=second, stage="ta")


def test_a_release_is_all_or_nothing_and_for_seniors(team, record, second):
    other = make_record(team.review, title="Agreed too")
    for each in (record, other):
        screen(each, team.reviewer, "include")
        screen(each, second, "include")
    screen(other, second, "exclude")  # changed: a conflict now, no longer waiting

    with pytest.raises(ValidationError, match=f"Record {other.pk} no longer waits"):
        services.release_to_full_text(review=team.review, user=team.senior, records=[record, other])
    with pytest.raises(ValidationError, match="Only a senior author"):
        services.release_to_full_text(review=team.review, user=second, records=[record])

    assert not Record.objects.filter(released_at__isnull=False).exists()
    assert state(record) is State.TA_PASSED


def test_an_adjudication_that_closes_the_last_open_record_releases_the_waiting(
    team, record, second
):
    disputed = make_record(team.review, title="Disputed")
    screen(record, team.reviewer, "include")
    screen(record, second, "include")
    screen(disputed, team.reviewer, "include")
    screen(disputed, second, "exclude")
    assert services.release_when_title_abstract_is_over(review=team.review, user=team.senior) == 0

    services.adjudicate(record=disputed, user=team.senior, stage="ta", choice="exclude")
    released = services.release_when_title_abstract_is_over(review=team.review, user=team.senior)

    assert released == 1
    assert state(record) is State.FT_SOUGHT


def test_exclude_against_include_is_a_conflict_the_senior_resolves(team, record, second):
    screen(record, team.reviewer, "include")
    screen(record, second, "exclude")
    assert state(record) is State.TA_CONFLICT

    services.adjudicate(record=record, user=team.senior, stage="ta", choice="exclude")

    assert state(record) is State.TA_EXCLUDED


def test_a_reviewer_may_change_their_decision_until_a_senior_closes_it_and_all_is_kept(
    team, record, second
):
    screen(record, team.reviewer, "exclude")
    screen(record, team.reviewer, "maybe")
    screen(record, second, "include")  # agreed: passes to full text
    # still hers to change, as if the colleague had not decided (issue 21, item 6): the
    # record is derived again, here a conflict for the senior
    screen(record, team.reviewer, "exclude")
    assert state_of(record).state is State.TA_CONFLICT
    services.adjudicate(record=record, user=team.senior, stage="ta", choice="include")

    with pytest.raises(ValidationError, match="decisions are final"):
        screen(record, team.reviewer, "include")
    history = list(
        DecisionChange.objects.filter(record=record).values_list("reviewer__username", "choice")
    )
    assert history == [
        ("reviewer", "exclude"),
        ("reviewer", "maybe"),
        ("bob", "include"),
        ("reviewer", "exclude"),
    ]


def test_a_title_abstract_decision_is_final_once_she_decided_the_full_text(team, record, second):
    # unblinded: no release closed the title/abstract stage first
    team.review.blinded = False
    team.review.save(update_fields=["blinded"])
    pass_title_abstract(record, team.reviewer, second)
    screen(record, team.reviewer, "include", stage="ft")

    with pytest.raises(ValidationError, match="decided this record at full text"):
        screen(record, team.reviewer, "exclude")
    with pytest.raises(ValidationError, match="decided this record at full text"):
        services.withdraw(record=record, user=team.reviewer, stage="ta")
    assert record.decisions.filter(stage="ta", choice="include").count() == 2


def test_a_third_reviewer_is_refused_alike_whether_the_two_agree_or_not(team, second):
    third = add_member(team.review, make_user("carol3"), Role.REVIEWER).user
    agreed, disputed = make_record(team.review), make_record(team.review)
    screen(agreed, team.reviewer, "include")
    screen(agreed, second, "include")
    screen(disputed, team.reviewer, "include")
    screen(disputed, second, "exclude")

    for record in (agreed, disputed):
        with pytest.raises(ValidationError) as refused:
            screen(record, third, "include")
        assert refused.value.messages == ["Two reviewers have already decided on this record."]
    assert not Decision.objects.filter(reviewer=third).exists()


def test_a_double_click_keeps_one_decision_and_one_history_row(team, record):
    screen(record, team.reviewer, "include")
    screen(record, team.reviewer, "include")

    assert record.decisions.count() == 1
    assert DecisionChange.objects.filter(record=record).count() == 1


def test_a_third_reviewer_cannot_decide_a_record_two_have_decided(team, record, second):
    screen(record, team.reviewer, "include")
    screen(record, second, "exclude")

    with pytest.raises(ValidationError, match="Two reviewers have already decided"):
        screen(record, team.owner, "include")


def test_undo_withdraws_my_decision_and_keeps_the_history(team, record):
    screen(record, team.reviewer, "exclude")

    services.withdraw(record=record, user=team.reviewer, stage="ta")

    assert state(record) is State.TA_UNSCREENED
    assert list(DecisionChange.objects.values_list("choice", flat=True)) == ["exclude", ""]


def test_undo_after_agreement_works_as_before_the_colleague_decided(team, record, second):
    screen(record, team.reviewer, "exclude")
    screen(record, second, "exclude")

    services.withdraw(record=record, user=team.reviewer, stage="ta")

    assert state_of(record).state is State.TA_ONE
    assert list(record.decisions.values_list("reviewer__username", flat=True)) == ["bob"]


def test_undo_after_adjudication_is_refused(team, record, second):
    screen(record, team.reviewer, "exclude")
    screen(record, second, "include")
    services.adjudicate(record=record, user=team.senior, stage="ta", choice="exclude")

    with pytest.raises(ValidationError, match="decisions are final"):
        services.withdraw(record=record, user=team.reviewer, stage="ta")
    assert record.decisions.count() == 2


def test_a_duplicate_or_removed_record_is_not_screened(team, record):
    kept = make_record(team.review, title="The kept one")
    Record.objects.filter(pk=record.pk).update(duplicate_of=kept)
    with pytest.raises(ValidationError, match="is a duplicate"):
        screen(record, team.reviewer, "include")

    services.remove_before_screening(
        review=team.review, user=team.owner, records=[kept], reason="before 1990"
    )
    with pytest.raises(ValidationError, match="removed before screening"):
        screen(kept, team.reviewer, "include")


def test_a_non_member_cannot_decide(team, record):
    with pytest.raises(ValidationError, match="not a member"):
        screen(record, team.outsider, "include")


def test_an_unknown_choice_is_refused(team, record):
    with pytest.raises(ValidationError, match="not a decision"):
        screen(record, team.reviewer, "perhaps")
    with pytest.raises(ValidationError, match="not a decision at full text"):
        screen(record, team.reviewer, "maybe", stage="ft")


def test_adjudication_needs_a_conflict_and_a_senior(team, record, second):
    screen(record, team.reviewer, "include")
    with pytest.raises(ValidationError, match="no conflict"):
        services.adjudicate(record=record, user=team.senior, stage="ta", choice="include")
    screen(record, second, "exclude")
    with pytest.raises(ValidationError, match="Only a senior"):
        services.adjudicate(record=record, user=second, stage="ta", choice="include")


def test_a_senior_withdraws_an_adjudication_and_the_conflict_waits_again(
    team, record, second, reason
):
    screen(record, team.reviewer, "exclude")
    screen(record, second, "include")
    services.adjudicate(record=record, user=team.senior, stage="ta", choice="include", note="Kids")
    assert state(record) is State.FT_SOUGHT

    withdrawn = services.withdraw_adjudication(record=record, user=team.owner, stage="ta")

    assert withdrawn.note == "Kids"
    assert state(record) is State.TA_CONFLICT
    assert not Adjudication.objects.exists()
    assert record.decisions.count() == 2  # the reviewers' decisions are as they were


def test_withdrawing_an_adjudication_needs_a_senior_and_an_adjudication(team, record, second):
    screen(record, team.reviewer, "exclude")
    screen(record, second, "include")
    with pytest.raises(ValidationError, match="no adjudication to undo"):
        services.withdraw_adjudication(record=record, user=team.senior, stage="ta")
    services.adjudicate(record=record, user=team.senior, stage="ta", choice="exclude")

    with pytest.raises(ValidationError, match="Only a senior"):
        services.withdraw_adjudication(record=record, user=second, stage="ta")

    assert state(record) is State.TA_EXCLUDED


def test_a_title_abstract_adjudication_is_final_once_full_text_work_depends_on_it(
    team, second, reason
):
    def adjudicated_include():
        record = make_record(team.review)
        screen(record, team.reviewer, "exclude")
        screen(record, second, "include")
        services.adjudicate(record=record, user=team.senior, stage="ta", choice="include")
        return record

    decided = adjudicated_include()
    screen(decided, team.reviewer, "include", stage="ft")
    with_pdf = adjudicated_include()
    services.full_text_attach(record=with_pdf, user=second, upload=upload())

    with pytest.raises(ValidationError, match="decided at full text"):
        services.withdraw_adjudication(record=decided, user=team.senior, stage="ta")
    with pytest.raises(ValidationError, match="Work on this record's full text has started"):
        services.withdraw_adjudication(record=with_pdf, user=team.senior, stage="ta")

    assert Adjudication.objects.filter(stage="ta").count() == 2
    assert state(decided) is State.FT_ONE


def test_a_full_text_adjudication_is_final_once_the_inclusion_is_approved(team, record, second):
    pass_title_abstract(record, team.reviewer, second)
    screen(record, team.reviewer, "include", stage="ft")
    screen(record, second, "exclude", stage="ft", reason=make_reason(team.review, "Adults"))
    services.adjudicate(record=record, user=team.senior, stage="ft", choice="include")
    services.approve(review=team.review, records=[record], user=team.senior)

    with pytest.raises(ValidationError, match="approved"):
        services.withdraw_adjudication(record=record, user=team.senior, stage="ft")

    assert state(record) is State.APPROVED


# --- full text ---


@pytest.fixture
def sought(team, record, second):
    return pass_title_abstract(record, team.reviewer, second)


def upload(content=PDF, name="paper.pdf"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_a_pdf_is_stored_with_its_digest(team, sought):
    full_text = services.full_text_attach(record=sought, user=team.reviewer, upload=upload())

    assert full_text.pdf.read() == PDF
    assert full_text.size == len(PDF)
    assert len(full_text.sha256) == 64


def test_a_file_that_is_not_a_pdf_is_refused(team, sought):
    with pytest.raises(ValidationError, match=r"“notes\.docx” is not a PDF file"):
        services.full_text_attach(
            record=sought, user=team.reviewer, upload=upload(b"PK\x03\x04", "notes.docx")
        )
    assert not FullText.objects.exists()


def test_an_oversized_pdf_is_refused(team, sought, settings):
    settings.FULLTEXT_MAX_UPLOAD_MB = 0

    with pytest.raises(ValidationError, match="the limit is 0 MB"):
        services.full_text_attach(record=sought, user=team.reviewer, upload=upload())


def test_a_full_text_only_for_records_that_passed_title_abstract(team, record):
    with pytest.raises(ValidationError, match="passed title/abstract"):
        services.full_text_attach(record=record, user=team.reviewer, upload=upload())


def test_not_retrieved_is_never_assessed_and_needs_a_note(team, sought):
    with pytest.raises(ValidationError, match="Say what was tried"):
        services.full_text_not_retrieved(record=sought, user=team.reviewer, note=" ")

    services.full_text_not_retrieved(
        record=sought, user=team.reviewer, note="Library and authors asked, no reply"
    )

    assert state(sought) is State.FT_NOT_RETRIEVED
    with pytest.raises(ValidationError, match="not retrieved"):
        screen(sought, team.reviewer, "include", stage="ft")


def test_full_text_exclusion_needs_a_reason_of_this_review(team, sought, reason):
    with pytest.raises(ValidationError, match="Choose the reason"):
        screen(sought, team.reviewer, "exclude", stage="ft")
    other = make_reason(team.review, "Retired one", is_active=False)
    with pytest.raises(ValidationError, match="not one of this review's reasons"):
        screen(sought, team.reviewer, "exclude", stage="ft", reason=other)

    screen(sought, team.reviewer, "exclude", stage="ft", reason=reason)

    assert sought.decisions.get(stage="ft").reason == reason


def test_two_exclusions_with_different_reasons_wait_for_the_senior_to_pick_one(
    team, sought, second, reason
):
    other = make_reason(team.review, "Not IMT")
    screen(sought, team.reviewer, "exclude", stage="ft", reason=reason)
    screen(sought, second, "exclude", stage="ft", reason=other)
    assert state(sought) is State.FT_REASON

    with pytest.raises(ValidationError, match="choose the reason"):
        services.adjudicate(record=sought, user=team.senior, stage="ft", choice="include")
    services.adjudicate(record=sought, user=team.senior, stage="ft", choice="exclude", reason=other)

    outcome = state_of(sought)
    assert (outcome.state, outcome.reason_id) == (State.FT_EXCLUDED, other.pk)


# --- approval and studies ---


@pytest.fixture
def included(team, sought, second):
    screen(sought, team.reviewer, "include", stage="ft")
    screen(sought, second, "include", stage="ft")
    return sought


def test_approval_makes_the_report_a_study(team, included):
    (approval,) = services.approve(review=team.review, records=[included], user=team.senior)

    assert state(included) is State.APPROVED
    assert approval.study.reports.get() == approval
    assert approval.approved_by == team.senior


def test_approval_is_all_or_nothing(team, included, record):
    not_yet = make_record(team.review, title="Still at title/abstract")

    with pytest.raises(ValidationError, match=f"Record {not_yet.pk} is not an inclusion"):
        services.approve(review=team.review, records=[included, not_yet], user=team.senior)

    assert not Approval.objects.exists()


def test_only_a_senior_approves(team, included):
    with pytest.raises(ValidationError, match="Only a senior"):
        services.approve(review=team.review, records=[included], user=team.reviewer)


def test_reports_of_one_study_are_linked_and_the_empty_study_goes(team, second):
    records = []
    for title in ("IMT in children: 12 cases", "IMT in children: long-term follow-up"):
        record = pass_title_abstract(make_record(team.review, title=title), team.reviewer, second)
        screen(record, team.reviewer, "include", stage="ft")
        screen(record, second, "include", stage="ft")
        records.append(record)
    first, later = services.approve(review=team.review, records=records, user=team.senior)

    services.report_link(approval=later, study=first.study, user=team.senior)

    assert Study.objects.count() == 1
    assert first.study.reports.count() == 2


# --- removed before screening, queues, counts ---


def test_removal_leaves_screened_records_and_duplicates_alone(team, record, second):
    screened = make_record(team.review, title="Already screened")
    screen(screened, team.reviewer, "include")

    removed = services.remove_before_screening(
        review=team.review, user=team.owner, records=[record, screened], reason="Not English"
    )

    assert removed == 1
    assert Removal.objects.get().record == record
    assert state(record) is State.REMOVED
    services.restore(record=record, user=team.owner)
    assert state(record) is State.TA_UNSCREENED


def test_the_next_record_is_the_first_still_waiting_for_me(team, second):
    mine_done = make_record(team.review, title="Decided by me")
    both_done = make_record(team.review, title="Decided by two others")
    waiting = make_record(team.review, title="Waiting")
    screen(mine_done, team.reviewer, "include")
    screen(both_done, second, "include")
    screen(both_done, team.owner, "include")

    listed = queue(team.review, team.reviewer, "ta")

    assert list(listed.values_list("title", "waiting")) == [
        ("Decided by me", False),
        ("Decided by two others", False),
        ("Waiting", True),
    ]
    assert services.next_record(review=team.review, user=team.reviewer, stage="ta") == waiting
    assert progress(team.review, team.reviewer, "ta") == {"total": 3, "mine": 1, "done": 1}


def test_counts_per_state(team, record, second):
    make_record(team.review, title="Untouched")
    screen(record, team.reviewer, "include")

    counts = state_counts(team.review)

    assert counts[State.TA_ONE] == 1
    assert counts[State.TA_UNSCREENED] == 1


def test_a_review_with_screening_rows_can_be_deleted(team, included, reason):
    services.approve(review=team.review, records=[included], user=team.senior)

    team.review.delete()

    assert not Record.objects.exists() and not Study.objects.exists()


def test_reviewers_working_at_once_are_handed_different_records(team, second):
    first_record = make_record(team.review, title="First")
    second_record = make_record(team.review, title="Second")

    mine = services.next_record(review=team.review, user=team.reviewer, stage="ta")
    theirs = services.next_record(review=team.review, user=second, stage="ta")
    again = services.next_record(review=team.review, user=team.reviewer, stage="ta")

    assert (mine, theirs, again) == (first_record, second_record, first_record)


def test_a_decision_hands_the_record_back_to_the_others(
    team, second, django_capture_on_commit_callbacks
):
    record = make_record(team.review, title="First")
    make_record(team.review, title="Second")
    services.next_record(review=team.review, user=team.reviewer, stage="ta")

    with django_capture_on_commit_callbacks(execute=True):
        screen(record, team.reviewer, "include")

    assert services.next_record(review=team.review, user=second, stage="ta") == record


@pytest.mark.django_db(transaction=True)
def test_three_reviewers_deciding_one_record_at_the_same_moment_leave_two_decisions():
    """The row lock serialises them: two decisions land, the third is refused cleanly."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite has no row locks): set DATABASE_URL")
    from tests.factories import make_team

    team = make_team()
    third = add_member(team.review, make_user("bob"), Role.REVIEWER).user
    record = make_record(team.review, title="Raced for")
    barrier = threading.Barrier(3)
    outcomes: list[str] = []

    def decide(user):
        try:
            barrier.wait()
            screen(record, user, "include")
            outcomes.append("stored")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=decide, args=(u,)) for u in (team.reviewer, team.owner, third)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # the same refusal whether the two agreed or not (issue 21, item 8)
    assert sorted(outcomes) == [
        "Two reviewers have already decided on this record.",
        "stored",
        "stored",
    ]
    assert record.decisions.count() == 2


def test_a_record_from_citation_searching_is_sought_at_once(team, second):
    from tests.factories import make_source

    citations = make_source(team.review, "Other: citation searching", kind="other")
    record = make_record(team.review, citations, title="Found in a reference list")

    assert state(record) is State.FT_SOUGHT
    assert record not in queue(team.review, team.reviewer, "ta")
    assert record in queue(team.review, team.reviewer, "ft")
    with pytest.raises(ValidationError, match="Title/abstract screening of this record is over"):
        screen(record, team.reviewer, "include")
    screen(record, team.reviewer, "include", stage="ft")
    screen(record, second, "include", stage="ft")
    assert state(record) is State.FT_INCLUDED


def test_no_title_abstract_change_once_a_senior_approved_the_report(team, record, second):
    # the full text was assessed by others; her title/abstract decision cannot undo a study
    pass_title_abstract(record, team.reviewer, second)
    screen(record, second, "include", stage="ft")
    screen(record, team.senior, "include", stage="ft")
    services.approve(review=team.review, records=[record], user=team.senior)

    with pytest.raises(ValidationError, match="decisions are final"):
        services.withdraw(record=record, user=team.reviewer, stage="ta")
    with pytest.raises(ValidationError, match="decisions are final"):
        screen(record, team.reviewer, "exclude")
    assert state_of(record).state is State.APPROVED
