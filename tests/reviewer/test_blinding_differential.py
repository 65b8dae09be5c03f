"""Blinding by inference, attacked the way a person would: nothing a reviewer of a blinded
review can open moves with a colleague's open decision.

Two differential tests over the whole URL table (every GET of every view test module's
`ENDPOINTS`, plus the screening variants of the records below):

1. alice (a reviewer) fetches every URL; then, from the same state each time (a savepoint
   rolled back), her colleague bob takes one open step (decides an open record, agreeing
   or not with alice; withdraws; works on his extraction copy); alice fetches every URL
   again and must get the same bytes (CSRF tokens normalised).
2. From one starting state, alice decides a record bob has not decided, one bob decided
   the same way, and one bob decided the other way: her response to the decision, and
   every URL afterwards, must be the same in all three.

`test_every_url_is_fetched_or_explained` fails when a URL is added without a GET in a
permission table here or a reason in `NOT_FETCHED`.

Nothing is left out of the comparison, the full-text pages included: a record two
reviewers agree to include at title/abstract waits for a senior's release before it joins
anyone's full-text queue (`rules.reaches_full_text`), so bob agreeing with alice moves her
full-text queue no more than bob disagreeing does.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import get_resolver, reverse

from extraction.models import ExtractionStatus, PatientRow
from reviewer.models import Role
from reviewer.services import screening as services
from tests.extraction.helpers import JBI_ALL_YES, appraise, fill, make_study
from tests.factories import (
    add_member,
    make_record,
    make_team,
    make_user,
    pass_title_abstract,
    screen,
)
from tests.reviewer.test_access import FRAMEWORK_URL_NAMES, url_names, view_test_modules

pytestmark = pytest.mark.django_db

#: URLs that take no GET, with why a generic fetch has nothing to compare. The responses
#: that writes render are covered by the second test (a decision, its undo).
NOT_FETCHED = {
    "review-archive-download": "owner-only: the whole review, every decision in it",
    "review-restore": "outside a review: a form to restore an archive as a new review",
    "review-restore-confirm": "outside a review: the restorer's own checked archive, by session",
    "first-account": "outside a review, and only while the install has no user at all",
    "invitation-accept": "outside a review: an invitation link, for the person invited",
    "invitation-create": "owner-only write",
    "invitation-revoke": "owner-only write",
    "member-reset-link": "owner-only write",
    "review-delete": "owner-only",
    "review-shelve": "owner-only write",
    "review-unshelve": "owner-only write",
    "source-delete": "owner-only write",
    "source-hide": "owner-only write",
    "source-unhide": "owner-only write",
    "dedup-cancel": "a write (cancelling a job) that redirects to the job's page, fetched here",
    "analysis-cancel": "a write (cancelling a run) that redirects to the run's page, fetched here",
    "review-new": "outside a review: a blank form",
    "member-add": "owner-only write",
    "member-role": "owner-only write",
    "member-remove": "owner-only write",
    "reason-add": "owner-only write",
    "reason-update": "owner-only write",
    "reason-move": "owner-only write",
    "import-confirm": "owner-only write",
    "import-cancel": "owner-only write",
    "import-restart": "owner-only write",
    "import-reconfigure": "owner-only write",
    "dedup-run": "a write that redirects to the de-duplication page, fetched here",
    "dedup-restart": "owner-only write",
    "dedup-pair-decide": "a write that redirects to the queue, fetched here",
    "dedup-pair-undo": "a write that redirects to the queue, fetched here",
    "dedup-split": "a write that redirects to the group page, fetched here",
    "screen-decide": "alice's own decision: its response is compared by the second test",
    "screen-label": "alice's own label on a record: its answer shows her labels only while "
    "blinded (tested in test_screening_views); a colleague's labels never reach her pages",
    "screen-undo": "alice's own undo: its response is compared by the second test",
    "fulltext-upload": "a write that redirects to the screening page, fetched here",
    "fulltext-not-retrieved": "a write that redirects to the screening page, fetched here",
    "fulltext-not-retrieved-undo": "a write that redirects to the screening page, fetched here",
    "conflict-undo": "senior-only write (an adjudication withdrawn)",
    "study-rename": "senior-only write",
    "report-link": "senior-only write",
    "removal-restore": "owner-only write",
    "ranking-retrain": "a write of alice's own ranking that redirects to its page, fetched here",
    "ranking-sample": "a write of alice's own sample that redirects to its page, fetched here",
    "extraction-start": "a write that redirects to the study page, fetched here",
    "extraction-done": "a write that redirects to the study page, fetched here",
    "extraction-reopen": "senior-only write",
    "extraction-consensus-start": "senior-only write",
    "extraction-take": "senior-only write",
    "extraction-form-setup": "owner-only write",
    "extraction-form-template": "owner-only write",
    "extraction-field-add": "owner-only write",
    "extraction-field-edit": "owner-only write",
    "extraction-field-move": "owner-only write",
    "extraction-field-retire": "owner-only write",
    "extraction-field-delete": "owner-only write",
    "extraction-choice-add": "owner-only write",
    "extraction-choice-change": "owner-only write",
    "extraction-import": "a write into alice's own copies that redirects to its preview",
    "extraction-import-commit": "a write into alice's own copies",
    "extraction-import-cancel": "a write that redirects to the import page, fetched here",
    "extraction-import-restart": "a write of alice's own pending upload that redirects to its "
    "preview, which shows only her file's rows checked against the form",
    "analysis-start": "a write that redirects to the run's page, fetched here",
    "appraisal-start": "a write of alice's own appraisal that redirects to it, fetched here",
    "appraisal-design": "senior-only write",
    "appraisal-consensus-start": "senior-only write",
    "appraisal-reopen": "a write (alice's own appraisal, or a senior's) that redirects to it",
    "appraisal-take": "senior-only write",
    "analysis-rerun": "a write that redirects to the run's page, fetched here",
}

#: Pages outside a review that alice reaches (the review list shows her reviews).
OUTSIDE_A_REVIEW = ["review-list"]


# --- the review: every view module's child objects, and alice's and bob's screening ---


def build() -> SimpleNamespace:
    team = make_team()
    review = team.review
    alice = team.reviewer
    bob = add_member(review, make_user("bob"), Role.REVIEWER).user
    modules = list(view_test_modules())
    children = {module.__name__: module.children(review) for module in modules}
    # alice's and bob's screening: records in every situation an open decision can be in
    open_ta = make_record(review, title="Open: nobody decided")
    alice_in = make_record(review, title="alice included, bob has not decided")
    alice_out = make_record(review, title="alice excluded, bob has not decided")
    bob_in = make_record(review, title="bob included, alice has not decided")
    screen(alice_in, alice, "include")
    screen(alice_out, alice, "exclude")
    screen(bob_in, bob, "include")
    ft_open = pass_title_abstract(make_record(review, title="At full text: open"), alice, bob)
    ft_alice = pass_title_abstract(make_record(review, title="At full text: alice"), alice, bob)
    screen(ft_alice, alice, "include", stage="ft")
    # dual extraction: alice's and bob's copies of one study, both in progress
    study = make_study(review, label="Zhang 2019")
    # bob started first: his copy is the one a careless count would show (issue 21, item 5)
    bob_copy = fill(study, bob, study_values={"country": "Peru"}, patients=[{"label": "1"}])
    alice_copy = fill(study, alice, study_values={"country": "Chile"})
    # dual appraisal of the same study: bob's open appraisal, alice's
    bob_appraisal = appraise(study, bob, {"1": "yes", "2": "no"}, overall="")
    alice_appraisal = appraise(study, alice, {"1": "yes"}, overall="")
    return SimpleNamespace(
        review=review,
        team=team,
        alice=alice,
        bob=bob,
        modules=modules,
        children=children,
        open_ta=open_ta,
        alice_in=alice_in,
        alice_out=alice_out,
        bob_in=bob_in,
        ft_open=ft_open,
        ft_alice=ft_alice,
        study=study,
        alice_copy=alice_copy,
        bob_copy=bob_copy,
        alice_appraisal=alice_appraisal,
        bob_appraisal=bob_appraisal,
    )


def urls(s: SimpleNamespace) -> list[str]:
    """Every URL alice can ask for: each GET of the permission tables, then the screening
    pages of alice's and bob's records at both stages, in each queue order, with the
    last decision offered for undoing, and each PRISMA download."""
    found = [reverse(name) for name in OUTSIDE_A_REVIEW]
    for module in s.modules:
        for endpoint in module.ENDPOINTS:
            if endpoint.method == "get":
                found.append(endpoint.url(s.review, s.children[module.__name__]))
    slug = s.review.slug
    ta_records = [s.open_ta, s.alice_in, s.alice_out, s.bob_in, s.ft_open]
    for stage in ("ta", "ft"):
        for order in ("", "relevance", "others", "random", "import"):
            query = f"?order={order}" if order else ""
            found.append(reverse("screen-queue", args=[slug, stage]) + query)
        for record in [*ta_records, s.ft_alice]:
            found.append(reverse("screen-record", args=[slug, stage, record.pk]))
        page = reverse("screen-record", args=[slug, stage, s.open_ta.pk])
        found.append(page + "?order=others")
        for last in (s.alice_in, s.alice_out, s.ft_alice):
            found.append(page + f"?last={last.pk}")
    for record in [*ta_records, s.ft_alice]:
        found.append(reverse("record-detail", args=[slug, record.pk]))
    for fmt in ("svg", "png", "pdf", "csv", "zip"):
        found.append(reverse("prisma-download", args=[slug, fmt]))
    found.append(reverse("extraction-study", args=[slug, s.study.pk]))
    found.append(reverse("extraction-copy", args=[slug, s.alice_copy.pk]))
    found.append(reverse("extraction-copy", args=[slug, s.bob_copy.pk]))
    found.append(reverse("extraction-compare", args=[slug, s.study.pk]))
    found.append(reverse("appraisal-study", args=[slug, s.study.pk]))
    found.append(reverse("appraisal-copy", args=[slug, s.alice_appraisal.pk]))
    found.append(reverse("appraisal-copy", args=[slug, s.bob_appraisal.pk]))
    found.append(reverse("appraisal-compare", args=[slug, s.study.pk]))
    return list(dict.fromkeys(found))


# --- fetching and comparing ---

_VARYING = [
    (re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"'), b'name="csrfmiddlewaretoken"'),
    (re.compile(rb'"X-CSRFToken": *"[^"]*"'), b'"X-CSRFToken": ""'),
    (re.compile(rb'content="[A-Za-z0-9]{40,}" name="csrf-token"'), b'name="csrf-token"'),
    (re.compile(rb'name="csrf-token" content="[A-Za-z0-9]{40,}"'), b'name="csrf-token"'),
    # PDF and PNG creation times, and the ZIP's file times
    (re.compile(rb"/CreationDate \([^)]*\)"), b"/CreationDate ()"),
    (re.compile(rb"/ID \[<[0-9a-f]+> <[0-9a-f]+>\]"), b"/ID []"),
    # "3 seconds ago": the clock moves between two fetches
    (
        re.compile(rb"(now|a second ago|a minute ago|\d+\xc2\xa0(second|minute)s? ago)"),
        b"(a moment ago)",
    ),
    (re.compile(rb"<dcterms:(created|modified)[^<]*</dcterms:\1>"), b""),
]


def _unzipped(body: bytes) -> bytes:
    """A ZIP (a bundle, an XLSX) as its members' names and contents: the members' file
    times move with the clock."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return b"".join(
            name.encode() + b"\n" + archive.read(name) for name in sorted(archive.namelist())
        )


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def fetch(client: Client, url: str, *, htmx: bool = False) -> tuple[int, str, bytes]:
    """What alice gets: status, where a redirect goes, the body (tokens normalised)."""
    headers = {"HX-Request": "true"} if htmx else {}
    cache.clear()  # the screening hand-out is noted in the cache: the same start each time
    response = client.get(url, headers=headers)
    return response.status_code, response.get("Location", ""), normalised(_body(response))


def normalised(body: bytes) -> bytes:
    if body.startswith(b"PK\x03\x04"):
        body = _unzipped(body)
    for pattern, replacement in _VARYING:
        body = pattern.sub(replacement, body)
    return body


def snapshot(
    client: Client, all_urls: list[tuple[str, bool]]
) -> dict[tuple[str, bool], tuple[int, str, bytes]]:
    return {(url, htmx): fetch(client, url, htmx=htmx) for url, htmx in all_urls}


def with_htmx_where_it_differs(client: Client, all_urls: list[str]) -> list[tuple[str, bool]]:
    """Each URL as a page, and as an htmx request where that answers otherwise (a partial)."""
    found = []
    for url in all_urls:
        found.append((url, False))
        if fetch(client, url, htmx=True) != fetch(client, url):
            found.append((url, True))
    return found


def differences(before: dict, after: dict) -> list[str]:
    moved = []
    for key, (status, location, body) in before.items():
        status2, location2, body2 = after[key]
        if (status, location, body) != (status2, location2, body2):
            url, htmx = key
            moved.append(f"{url}{' (htmx)' if htmx else ''}: {_first_change(body, body2)}")
    return moved


def _first_change(a: bytes, b: bytes) -> str:
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    return f"…{a[max(0, at - 60) : at + 60]!r} → …{b[max(0, at - 60) : at + 60]!r}"


@contextmanager
def rolled_back() -> Iterator[None]:
    """A change made inside is undone on leaving: every branch starts from the same state
    (the cache too: the screening counters and cursors live there, and a rollback does
    not reach them)."""
    cache.clear()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# --- the colleague's open steps ---


def bob_steps(s: SimpleNamespace) -> dict[str, Callable[[], Any]]:
    def add_patient() -> None:
        PatientRow.objects.create(extraction=s.bob_copy, position=2, label="2", values={})

    def copy_done() -> None:
        s.bob_copy.status = ExtractionStatus.DONE
        s.bob_copy.save(update_fields=["status"])

    def appraisal_answers() -> None:
        s.bob_appraisal.answers = {k: {"a": "no", "note": "Not stated"} for k in JBI_ALL_YES}
        s.bob_appraisal.save(update_fields=["answers"])

    def appraisal_done() -> None:
        s.bob_appraisal.answers = {k: {"a": "yes", "note": ""} for k in JBI_ALL_YES}
        s.bob_appraisal.judgements = {"overall": {"level": "low", "reason": ""}}
        s.bob_appraisal.status = "done"
        s.bob_appraisal.save()

    return {
        "bob answers every question of his appraisal": appraisal_answers,
        "bob marks his appraisal done": appraisal_done,
        "bob decides a record nobody decided": lambda: screen(s.open_ta, s.bob, "include"),
        "bob agrees with alice's include": lambda: screen(s.alice_in, s.bob, "include"),
        "bob disagrees with alice's include": lambda: screen(s.alice_in, s.bob, "exclude"),
        "bob agrees with alice's exclude": lambda: screen(s.alice_out, s.bob, "exclude"),
        "bob withdraws his decision": lambda: services.withdraw(
            record=s.bob_in, user=s.bob, stage="ta"
        ),
        "bob agrees at full text": lambda: screen(s.ft_alice, s.bob, "include", stage="ft"),
        "bob disagrees at full text": lambda: screen(
            s.ft_alice,
            s.bob,
            "exclude",
            stage="ft",
            reason=s.review.exclusion_reasons.first(),
        ),
        "bob decides an open full text": lambda: screen(s.ft_open, s.bob, "include", stage="ft"),
        "bob adds a patient row to his copy": add_patient,
        "bob marks his copy done": copy_done,
    }


# --- the tests ---


def test_every_url_is_fetched_or_explained():
    in_a_review = set(url_names(get_resolver().url_patterns)) - FRAMEWORK_URL_NAMES
    fetched = {
        endpoint.name
        for module in view_test_modules()
        for endpoint in module.ENDPOINTS
        if endpoint.method == "get"
    } | set(OUTSIDE_A_REVIEW)

    unexplained = in_a_review - fetched - set(NOT_FETCHED)
    stale = set(NOT_FETCHED) & fetched

    assert not unexplained, f"fetch these in the blinding test or say why not: {unexplained}"
    assert not stale, f"these are fetched: drop them from NOT_FETCHED: {stale}"


def test_nothing_alice_opens_moves_with_a_colleagues_open_decision(client):
    s = build()
    client.force_login(s.alice)
    all_urls = with_htmx_where_it_differs(client, urls(s))
    before = snapshot(client, all_urls)
    varying = differences(before, snapshot(client, all_urls))
    assert not varying, "the pages vary by themselves:\n" + "\n".join(varying)

    moved: dict[str, list[str]] = {}
    for step, act in bob_steps(s).items():
        with rolled_back():
            act()
            after = snapshot(client, all_urls)
        moved[step] = differences(before, after)

    leaks = {step: found for step, found in moved.items() if found}
    assert not leaks, "\n".join(
        f"{step}:\n  " + "\n  ".join(found) for step, found in leaks.items()
    )


def _decide_as_alice(
    client: Client, s: SimpleNamespace, record: Any, stage: str, all_urls: list[tuple[str, bool]]
) -> dict[str, Any]:
    slug = s.review.slug
    data: dict[str, Any] = {"choice": "include"}
    decided = client.post(
        reverse("screen-decide", args=[slug, stage, record.pk]),
        data,
        headers={"HX-Request": "true"},
    )
    pages = snapshot(client, all_urls)
    undone = client.post(
        reverse("screen-undo", args=[slug, stage, record.pk]), headers={"HX-Request": "true"}
    )
    again = client.post(reverse("screen-decide", args=[slug, stage, record.pk]), data)
    return {
        "decision": (decided.status_code, normalised(_body(decided))),
        "pages": pages,
        "undo": (undone.status_code, normalised(_body(undone))),
        "decision without htmx": (again.status_code, again.get("Location", "")),
    }


@pytest.mark.parametrize("stage", ["ta", "ft"])
def test_alices_pages_move_the_same_way_whatever_bob_decided(client, stage):
    s = build()
    client.force_login(s.alice)
    all_urls = with_htmx_where_it_differs(client, urls(s))
    record = s.open_ta if stage == "ta" else s.ft_open
    reason = s.review.exclusion_reasons.first()
    colleague = {
        "bob has not decided": lambda: None,
        "bob decided the same": lambda: screen(record, s.bob, "include", stage=stage),
        "bob decided otherwise": lambda: screen(
            record, s.bob, "exclude", stage=stage, reason=reason if stage == "ft" else None
        ),
    }
    outcomes = {}
    for branch, act in colleague.items():
        with rolled_back():
            act()
            outcomes[branch] = _decide_as_alice(client, s, record, stage, all_urls)

    baseline = outcomes.pop("bob has not decided")
    problems = []
    for branch, outcome in outcomes.items():
        for part in ("decision", "undo", "decision without htmx"):
            if outcome[part] != baseline[part]:
                problems.append(
                    f"{branch}: {part}: "
                    f"{_first_change(_as_bytes(baseline[part]), _as_bytes(outcome[part]))}"
                )
        problems += [f"{branch}: {d}" for d in differences(baseline["pages"], outcome["pages"])]
    assert not problems, "\n".join(problems)


def _as_bytes(value: tuple[int, Any]) -> bytes:
    status, body = value
    return f"{status} ".encode() + (body if isinstance(body, bytes) else str(body).encode())


def test_the_same_comparison_sees_a_seniors_figures_move(client):
    """The differential is not blind itself: the senior keeps the review-wide figures, so
    the very step that leaves alice's pages alone moves the senior's dashboard, PRISMA
    page, extraction and risk-of-bias overviews, ranking chart, the records waiting for
    release to full text, and where a record ended up on the records list and its page."""
    s = build()
    client.force_login(s.team.senior)
    slug = s.review.slug
    watched = [
        (reverse(name, args=[slug]), False)
        for name in (
            "review-dashboard",
            "prisma",
            "extraction-overview",
            "appraisal-overview",
            "release-list",
            "record-list",
        )
    ]
    watched.append((reverse("record-detail", args=[slug, s.alice_in.pk]), False))
    before = snapshot(client, watched)

    with rolled_back():
        screen(s.alice_in, s.bob, "include")  # agreed: one more report sought
        s.bob_copy.status = ExtractionStatus.DONE
        s.bob_copy.save(update_fields=["status"])
        s.bob_appraisal.status = "done"
        s.bob_appraisal.save(update_fields=["status"])
        after = snapshot(client, watched)

    moved = {key[0] for key in before if before[key] != after[key]}
    assert moved == {url for url, _ in watched}
    assert (
        b"Overall done"
        in fetch(client, reverse("screen-record", args=[slug, "ta", s.open_ta.pk]))[2]
    )
