"""The ranking keeps up with a reviewer who screens fast: after every few decisions a retrain
runs and the queue follows it, and the screening page says when its order was learnt and
from how many decisions (issue 16). Without a broker (the quick start) and with a worker.

Before this, a decision asked for a retrain only when the reviewer's count of decisions was
a multiple of five *and* no retrain had been asked for in the last 30 s: 32 quick decisions
left the page on the model learnt from the first five.
"""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from reviewer.models import RankingJob, RankingMethod, RankingStatus
from reviewer.ranking.selectors import labels, ranking_state
from reviewer.services import background
from tests.factories import add_member, make_record, make_review, make_user, page_text, screen

DECISIONS = 30

IN_WORDS = ["bladder", "lung", "orbit", "liver", "mesentery", "larynx", "kidney", "spleen"]
OUT_WORDS = ["stroke", "diabetes", "hypertension", "asthma", "obesity", "arthritis"]


def corpus(review):
    """Sixty records in import order: one likely include, then two likely excludes, again."""
    records = []
    for n in range(20):
        records.append(
            make_record(
                review,
                title=f"Inflammatory myofibroblastic tumour of the {IN_WORDS[n % 8]} "
                f"in children: series {n}",
            )
        )
        for k in range(2):
            records.append(
                make_record(
                    review,
                    title=f"Statin therapy and {OUT_WORDS[(2 * n + k) % 6]} in older "
                    f"adults: cohort {n}-{k}",
                )
            )
    return records


def choice_for(record) -> str:
    return "include" if "myofibroblastic" in record.title else "exclude"


def learnt_from(review, user) -> int:
    """How many decisions the ranking the page uses learnt from (0: none learnt yet)."""
    state = ranking_state(review, user)
    if not state.trained or state.by_question:
        return 0
    return state.decisions


@pytest.mark.django_db(transaction=True)  # committed for real: the retrain's thread sees it
def test_thirty_quick_decisions_keep_the_ranking_at_most_a_few_behind(client, settings):
    """The quick start: no broker, the retrain runs in the web process's background thread
    (never in the request's: `services.background`). The test waits for that thread after
    each decision, as a reviewer's next key press would come a moment later."""
    settings.RANKING_RETRAIN_EVERY = 5
    settings.RANKING_RETRAIN_AFTER_SECONDS = 3600  # count-based only: no clock in this test
    review = make_review(title="Pediatric IMT")
    reviewer = add_member(review, make_user("quick")).user
    corpus(review)
    client.force_login(reviewer)
    queue_url = reverse("screen-queue", kwargs={"slug": review.slug, "stage": "ta"})

    behind = []
    for done in range(1, DECISIONS + 1):
        record = client.get(queue_url, follow=True).context["record"]
        response = client.post(
            reverse("screen-decide", kwargs={"slug": review.slug, "stage": "ta", "pk": record.pk}),
            {"choice": choice_for(record)},
        )
        assert response.status_code == 302
        assert background.wait_idle(timeout=60), "the background retrain did not finish"
        if done >= 2:  # one relevant and one irrelevant: from here on it learns
            behind.append(done - learnt_from(review, reviewer))

    # never more than RANKING_RETRAIN_EVERY - 1 decisions behind, and caught up at the end
    assert max(behind) <= settings.RANKING_RETRAIN_EVERY - 1
    assert learnt_from(review, reviewer) >= DECISIONS - (settings.RANKING_RETRAIN_EVERY - 1)
    # ...with a retrain after every few decisions, not after each one
    assert RankingJob.objects.filter(reviewer=reviewer).count() <= DECISIONS // 5 + 2

    page = client.get(queue_url, follow=True)
    state = ranking_state(review, reviewer)
    assert page.context["ranking"].ranking_id == state.ranking_id  # the queue follows it
    assert state.decisions <= len(labels(review, reviewer)) == DECISIONS
    text = page_text(page)
    assert (
        f"from {state.decisions} decisions (yours and the resolved records): "
        f"{state.current.relevant} relevant, {state.current.irrelevant} irrelevant" in text
    )
    assert "Order learnt" in text  # "now", "5 seconds ago", ... with the time in a tooltip


@pytest.mark.django_db
def test_a_slow_screener_gets_a_retrain_on_the_next_decision_once_the_ranking_is_old(
    settings, django_capture_on_commit_callbacks
):
    settings.RANKING_RETRAIN_EVERY = 5
    settings.RANKING_RETRAIN_AFTER_SECONDS = 3600
    review = make_review(title="Pediatric IMT")
    reviewer = add_member(review, make_user("slow")).user
    records = corpus(review)
    for record in records[:3]:  # include, exclude: learnt from 2; the third waits
        with django_capture_on_commit_callbacks(execute=True):
            screen(record, reviewer, choice_for(record))
    assert learnt_from(review, reviewer) == 2

    # the labels it learnt from are now older than the limit (as after a pause)
    settings.RANKING_RETRAIN_AFTER_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        screen(records[3], reviewer, choice_for(records[3]))

    assert learnt_from(review, reviewer) == 4


@pytest.mark.django_db
def test_decisions_while_a_retrain_waits_join_it(settings):
    """No worker takes the job (its message is on its way): later decisions add no jobs,
    the waiting one will read every label when it starts."""
    settings.RANKING_RETRAIN_EVERY = 1
    settings.RANKING_RETRAIN_AFTER_SECONDS = 3600
    review = make_review(title="Pediatric IMT")
    reviewer = add_member(review, make_user("waits")).user
    records = corpus(review)
    for record in records[:12]:  # no on-commit callbacks run: nothing is sent
        screen(record, reviewer, choice_for(record))

    job = RankingJob.objects.get(reviewer=reviewer)
    assert job.status == RankingStatus.QUEUED


@pytest.mark.celery_worker
def test_thirty_quick_decisions_with_a_worker_leave_the_ranking_caught_up(
    celery_worker, client, settings
):
    """PostgreSQL, Redis and a real worker; the only wait is for the worker to finish."""
    settings.RANKING_RETRAIN_EVERY = 5
    settings.RANKING_RETRAIN_AFTER_SECONDS = 3600
    review = make_review(title="Pediatric IMT")
    reviewer = add_member(review, make_user("worker")).user
    corpus(review)
    client.force_login(reviewer)
    queue_url = reverse("screen-queue", kwargs={"slug": review.slug, "stage": "ta"})
    for _ in range(DECISIONS):
        record = client.get(queue_url, follow=True).context["record"]
        client.post(
            reverse("screen-decide", kwargs={"slug": review.slug, "stage": "ta", "pk": record.pk}),
            {"choice": choice_for(record)},
        )

    deadline = time.monotonic() + 120  # generous: the machine may be busy
    jobs = RankingJob.objects.filter(reviewer=reviewer)
    while jobs.filter(status__in=[RankingStatus.QUEUED, RankingStatus.RUNNING]).exists():
        assert time.monotonic() < deadline, "the worker did not finish the retrains"
        time.sleep(0.2)

    assert not jobs.filter(status=RankingStatus.FAILED).exists()
    newest = jobs.order_by("-pk").first()
    assert newest.method == RankingMethod.LEARNT
    assert learnt_from(review, reviewer) >= DECISIONS - (settings.RANKING_RETRAIN_EVERY - 1)
    assert jobs.count() <= DECISIONS // 5 + 3
    page = client.get(queue_url, follow=True)
    assert f"from {newest.relevant + newest.irrelevant} decisions" in page_text(page)


@pytest.mark.django_db
def test_screening_by_keyboard_the_note_on_the_order_follows_each_retrain(
    client, settings, django_capture_on_commit_callbacks
):
    """One request per decision (htmx) swaps only the panel and what the decision moved: the
    note saying when the order was learnt is one of them, so it does not stay as it was when
    the page was loaded."""
    settings.RANKING_RETRAIN_EVERY = 5
    settings.RANKING_RETRAIN_AFTER_SECONDS = 3600
    review = make_review(title="Pediatric IMT")
    reviewer = add_member(review, make_user("keys")).user
    corpus(review)
    client.force_login(reviewer)
    queue_url = reverse("screen-queue", kwargs={"slug": review.slug, "stage": "ta"})
    record = client.get(queue_url, follow=True).context["record"]

    notes = []
    for _ in range(DECISIONS // 2):
        learnt = ranking_state(review, reviewer)  # the model the answer is drawn with
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse(
                    "screen-decide", kwargs={"slug": review.slug, "stage": "ta", "pk": record.pk}
                ),
                {"choice": choice_for(record)},
                headers={"HX-Request": "true", "HX-Target": "screen-panel"},
            )
        body = response.content.decode()
        record = response.context["record"]
        if learnt.trained and not learnt.by_question:
            assert 'id="queue-order-note" class="small muted" hx-swap-oob="true"' in body
            notes.append(learnt.decisions)
            assert f"from {learnt.decisions} decisions (yours and the resolved records)" in body

    assert len(set(notes)) >= 2 and max(notes) >= DECISIONS // 2 - settings.RANKING_RETRAIN_EVERY
