"""The screening pages (reviewer.views.screening): the queue, one record at a time, deciding
and undoing with and without htmx, blinding, full texts, one's own keys, query counts."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reviewer.models import Decision, DecisionChange, FullText, Record, RecordLabel, Role
from reviewer.screening import counters
from reviewer.screening.queries import state_of
from reviewer.screening.rules import State
from reviewer.services import labels as label_services
from reviewer.services import reviews as review_services
from reviewer.services import screening as services
from tests.factories import (
    Endpoint,
    add_member,
    make_reason,
    make_record,
    make_source,
    make_user,
    page_text,
    pass_title_abstract,
    screen,
)
from tests.permissions import PermissionCases, cases

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def pdf_upload(name: str = "coffin-2007.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def screeners(review):
    """Two reviewers of `review` who are not the team's (so the team's own rows stay free)."""
    return (
        add_member(review, make_user(), Role.REVIEWER).user,
        add_member(review, make_user(), Role.REVIEWER).user,
    )


def children(review):
    """A record at title/abstract, one sought at full text, one with its PDF attached."""
    first, second = screeners(review)
    record = make_record(review, title="ALK-positive IMT of the bladder in children")
    sought = pass_title_abstract(make_record(review, title="IMT of the lung"), first, second)
    with_pdf = pass_title_abstract(make_record(review, title="IMT of the orbit"), first, second)
    services.full_text_attach(record=with_pdf, user=first, upload=pdf_upload())
    return SimpleNamespace(record=record, sought=sought, with_pdf=with_pdf)


ENDPOINTS = [
    Endpoint("screen-queue", "get", Role.REVIEWER, 302, kwargs=lambda c: {"stage": "ta"}),
    Endpoint(
        "screen-record",
        "get",
        Role.REVIEWER,
        200,
        kwargs=lambda c: {"stage": "ta", "pk": c.record.pk},
    ),
    Endpoint(
        "screen-decide",
        "post",
        Role.REVIEWER,
        302,
        kwargs=lambda c: {"stage": "ta", "pk": c.record.pk},
        data=lambda c: {"choice": "include"},
    ),
    Endpoint(
        "screen-undo",
        "post",
        Role.REVIEWER,
        302,
        kwargs=lambda c: {"stage": "ta", "pk": c.record.pk},
    ),
    Endpoint(
        "screen-label",
        "post",
        Role.REVIEWER,
        302,
        kwargs=lambda c: {"stage": "ta", "pk": c.record.pk},
        data=lambda c: {"name": "case series"},
    ),
    Endpoint("fulltext-pdf", "get", Role.REVIEWER, 200, kwargs=lambda c: {"pk": c.with_pdf.pk}),
    Endpoint(
        "fulltext-upload",
        "post",
        Role.REVIEWER,
        302,
        kwargs=lambda c: {"pk": c.sought.pk},
        data=lambda c: {"pdf": pdf_upload()},
    ),
    Endpoint(
        "fulltext-not-retrieved",
        "post",
        Role.REVIEWER,
        302,
        kwargs=lambda c: {"pk": c.sought.pk},
        data=lambda c: {"note": "Not in the library; authors e-mailed."},
    ),
    Endpoint(
        "fulltext-not-retrieved-undo",
        "post",
        Role.REVIEWER,
        302,
        kwargs=lambda c: {"pk": c.sought.pk},
    ),
    Endpoint("screening-keys", "get", Role.REVIEWER, 200),
    Endpoint("screening-keys", "post", Role.REVIEWER, 302, data=lambda c: {"include": "i"}),
]

WRONG_METHODS = [
    Endpoint("screen-queue", "post", Role.REVIEWER, 405, kwargs=lambda c: {"stage": "ta"}),
    Endpoint(
        "screen-record", "post", Role.REVIEWER, 405, kwargs=lambda c: {"stage": "ta", "pk": 1}
    ),
    Endpoint("screen-decide", "get", Role.REVIEWER, 405, kwargs=lambda c: {"stage": "ta", "pk": 1}),
    Endpoint("screen-undo", "get", Role.REVIEWER, 405, kwargs=lambda c: {"stage": "ta", "pk": 1}),
    Endpoint("screen-label", "get", Role.REVIEWER, 405, kwargs=lambda c: {"stage": "ta", "pk": 1}),
    Endpoint("fulltext-pdf", "post", Role.REVIEWER, 405, kwargs=lambda c: {"pk": c.with_pdf.pk}),
    Endpoint("fulltext-upload", "get", Role.REVIEWER, 405, kwargs=lambda c: {"pk": c.sought.pk}),
    Endpoint(
        "fulltext-not-retrieved", "get", Role.REVIEWER, 405, kwargs=lambda c: {"pk": c.sought.pk}
    ),
    Endpoint("screening-keys", "delete", Role.REVIEWER, 405),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)
    # Every member screens: no screening URL needs more than the reviewer role.
    test_member_with_too_low_a_role_gets_403 = None

    # The stage in the queue's URL is no child object: only the URLs naming a record.
    @cases(
        "endpoint",
        lambda cls: [e for e in cls.ENDPOINTS if e.points_at_a_child and e.name != "screen-queue"],
    )
    def test_child_of_another_review_gets_404_even_for_an_owner(self, client, team, endpoint):
        super().test_child_of_another_review_gets_404_even_for_an_owner(client, team, endpoint)


# --- helpers ---


def url(name, review, **kwargs):
    return reverse(name, kwargs={"slug": review.slug, **kwargs})


def record_url(review, record, stage="ta"):
    return url("screen-record", review, stage=stage, pk=record.pk)


def decide_url(review, record, stage="ta"):
    return url("screen-decide", review, stage=stage, pk=record.pk)


def undo_url(review, record, stage="ta"):
    return url("screen-undo", review, stage=stage, pk=record.pk)


@pytest.fixture
def records(team):
    return [
        make_record(team.review, title=f"Record number {n}", abstract=f"Abstract {n}.")
        for n in range(1, 4)
    ]


@pytest.fixture
def second(team):
    """A second reviewer beside team.reviewer."""
    return add_member(
        team.review, make_user("bea", first_name="Beatrix", last_name="Quennell"), Role.REVIEWER
    ).user


@pytest.fixture(autouse=True)
def names(team):
    """Names that appear nowhere else on a page, so a test can tell whose decision shows."""
    for user, (first, last) in {
        team.owner: ("Olwen", "Marchbanks"),
        team.senior: ("Sennet", "Vardakis"),
        team.reviewer: ("Ruaridh", "Pellow"),
    }.items():
        user.first_name, user.last_name = first, last
        user.save()


HX = {"HTTP_HX_REQUEST": "true"}


# --- the queue ---


def test_queue_opens_the_first_record_waiting_for_me(client, team, records):
    screen(records[0], team.reviewer, "include")
    client.force_login(team.reviewer)

    response = client.get(url("screen-queue", team.review, stage="ta"))

    assertRedirects(response, record_url(team.review, records[1]))


def test_an_unknown_stage_is_404(client, team, records):
    client.force_login(team.reviewer)

    assert client.get(url("screen-queue", team.review, stage="xx")).status_code == 404
    assert client.get(record_url(team.review, records[0], stage="zz")).status_code == 404


def test_nothing_waiting_says_so_with_my_progress(client, team, records):
    for record in records:
        screen(record, team.reviewer, "exclude")
    client.force_login(team.reviewer)

    response = client.get(url("screen-queue", team.review, stage="ta"))

    assert response.status_code == 200
    text = page_text(response)
    assert "Nothing waiting for you" in text
    assert "Mine 3 of 3" in text
    # blinding (issue 13): "overall done" would rise with a colleague's decisions
    assert "Overall done" not in text
    assert "Review-wide progress is shown to senior authors" in text
    assertContains(response, url("screen-queue", team.review, stage="ft"))


def test_a_senior_sees_the_overall_progress_too(client, team, records):
    for record in records:
        screen(record, team.senior, "exclude")
    screen(records[0], team.reviewer, "exclude")
    client.force_login(team.senior)

    text = page_text(client.get(url("screen-queue", team.review, stage="ta")))

    assert "Mine 3 of 3" in text
    assert "Overall done 1 of 3" in text


# --- the page ---


def test_page_shows_the_record_criteria_links_and_my_keys(client, team):
    team.review.criteria = "Include: patients under 18 with IMT."
    team.review.save()
    record = make_record(
        team.review,
        title="IMT in children",
        abstract="We report 12 children.",
        authors=["Coffin, Cheryl M", "Hornick, Jason L"],
        journal="Am J Surg Pathol",
        year=2007,
        volume="31",
        pages="509-20",
        doi="10.1097/01.pas.0000213393.57322.c7",
        pmid="17414097",
    )
    client.force_login(team.reviewer)

    response = client.get(record_url(team.review, record))

    text = page_text(response)
    assert "IMT in children" in text
    assert "Coffin, Cheryl M; Hornick, Jason L" in text
    assert "Am J Surg Pathol · 2007 · vol. 31 · pp. 509-20" in text
    assert "Include: patients under 18 with IMT." in text
    assertContains(response, 'href="https://doi.org/10.1097/01.pas.0000213393.57322.c7"')
    assertContains(response, 'href="https://pubmed.ncbi.nlm.nih.gov/17414097/"')
    for key in ("i", "x", "m"):
        assertContains(response, f'data-key="{key}"')
    assertContains(response, "<kbd>i</kbd>")
    assertContains(response, 'data-key="n"')  # the note field


def test_full_text_page_offers_no_maybe(client, team, second):
    record = pass_title_abstract(make_record(team.review), team.owner, team.senior)
    client.force_login(team.reviewer)

    response = client.get(record_url(team.review, record, "ft"))

    assertContains(response, 'value="include"')
    assertContains(response, 'value="exclude"')
    assertNotContains(response, 'value="maybe"')


def test_abstract_and_title_are_highlighted(client, team):
    team.review.highlight_include = ["child*"]
    team.review.highlight_exclude = ["adult"]
    team.review.save()
    record = make_record(
        team.review, title="IMT in Children", abstract="One adult and 3 children <b>treated</b>."
    )
    client.force_login(team.reviewer)

    html = client.get(record_url(team.review, record)).content.decode()

    assert 'IMT in <mark class="hl-include">Children</mark>' in html
    assert '<mark class="hl-exclude">adult</mark>' in html
    assert "&lt;b&gt;treated&lt;/b&gt;" in html


def test_filters_are_kept_in_the_navigation(client, team):
    pubmed, embase = make_source(team.review, "PubMed"), make_source(team.review, "Embase")
    first = make_record(team.review, pubmed, title="Lung IMT")
    make_record(team.review, embase, title="Lung IMT in Embase")
    third = make_record(team.review, pubmed, title="Lung IMT again")
    client.force_login(team.reviewer)

    response = client.get(
        url("screen-queue", team.review, stage="ta"), {"source": pubmed.pk, "q": "lung"}
    )
    assertRedirects(
        response,
        f"{record_url(team.review, first)}?source={pubmed.pk}&q=lung",
        target_status_code=200,
    )
    page = client.get(response.url)

    assertContains(page, f'href="{record_url(team.review, third)}?source={pubmed.pk}&amp;q=lung"')
    assertContains(page, f'action="{decide_url(team.review, first)}?source={pubmed.pk}&amp;q=lung"')
    decided = client.post(
        f"{decide_url(team.review, first)}?source={pubmed.pk}&q=lung", {"choice": "exclude"}
    )
    assert (
        decided.url == f"{record_url(team.review, third)}?source={pubmed.pk}&q=lung&last={first.pk}"
    )


def test_filter_by_my_decision_goes_over_my_includes(client, team, records):
    screen(records[0], team.reviewer, "include")
    screen(records[1], team.reviewer, "exclude")
    screen(records[2], team.reviewer, "include")
    client.force_login(team.reviewer)

    response = client.get(url("screen-queue", team.review, stage="ta"), {"mine": "include"})
    assert response.url == f"{record_url(team.review, records[0])}?mine=include"
    changed = client.post(
        f"{decide_url(team.review, records[0])}?mine=include", {"choice": "maybe"}
    )

    assert changed.url.startswith(f"{record_url(team.review, records[2])}?mine=include")


# --- deciding ---


def test_deciding_without_javascript_stores_it_and_redirects_to_the_next(client, team, records):
    client.force_login(team.reviewer)

    response = client.post(decide_url(team.review, records[0]), {"choice": "include", "note": "ok"})

    assertRedirects(
        response,
        f"{record_url(team.review, records[1])}?last={records[0].pk}",
        target_status_code=200,
    )
    decision = Decision.objects.get()
    assert (decision.record, decision.reviewer, decision.choice, decision.note) == (
        records[0],
        team.reviewer,
        "include",
        "ok",
    )
    page = client.get(response.url)
    assert f"You chose Include for record {records[0].pk}" in page_text(page)
    assertContains(page, undo_url(team.review, records[0]))


def test_deciding_with_htmx_swaps_in_the_next_record_and_pushes_its_address(client, team, records):
    client.force_login(team.reviewer)

    response = client.post(decide_url(team.review, records[0]), {"choice": "exclude"}, **HX)

    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"{record_url(team.review, records[1])}?last={records[0].pk}"
    html = response.content.decode()
    # one request: the next record's panel, and out of band only the counters that moved
    assert html.count('id="screen-panel"') == 1
    assert re.search(r'id="screen-progress"[^>]*hx-swap-oob="true"', html)
    assert re.search(r'id="screen-undo"[^>]*hx-swap-oob="true"', html)
    assert 'id="screen"' not in html and "Filter the queue" not in html
    assert "<html" not in html
    assert "Record number 2" in page_text(response)
    assert "You chose Exclude for record" in page_text(response)
    assert "Mine 1 of 3" in page_text(response)
    assert Decision.objects.get().choice == "exclude"


def test_the_links_of_a_decisions_answer_are_the_screening_addresses(client, team, records):
    """The panel builds its links from the queue's path (reversed once per request):
    each must be the address `reverse` gives, filters kept."""
    label_services.label_add(record=records[2], user=team.reviewer, name="case series")
    client.force_login(team.reviewer)
    kept = "?q=Abstract"

    decided = client.post(decide_url(team.review, records[0]) + kept, {"choice": "include"}, **HX)
    response = client.post(decide_url(team.review, records[1]) + kept, {"choice": "exclude"}, **HX)

    html = response.content.decode()
    nxt = records[2]
    assert decided.status_code == response.status_code == 200
    assert f'action="{decide_url(team.review, nxt)}{kept}"' in html
    assert f'hx-post="{decide_url(team.review, nxt)}{kept}"' in html
    # the previous record, and in the undo bar the record just decided and its undo
    assert f'href="{record_url(team.review, records[1])}{kept}"' in html
    assert f'hx-post="{undo_url(team.review, records[1])}{kept}"' in html
    assert f'hx-post="{label_url(team.review, nxt)}{kept}"' in html
    queue = url("screen-queue", team.review, stage="ta")
    assert f'href="{queue}?label=case%20series"' in html
    # my decision on a record I go back to: its withdraw form
    back = client.get(record_url(team.review, records[0]) + kept, **HX)
    assert f'hx-post="{undo_url(team.review, records[0])}{kept}"' in back.content.decode()
    assert f'href="{record_url(team.review, records[1])}{kept}"' in back.content.decode()


def test_the_counters_move_with_each_decision_without_recounting(client, team, second, records):
    client.force_login(team.reviewer)
    client.get(record_url(team.review, records[0]))  # counted once, then kept

    first = client.post(decide_url(team.review, records[0]), {"choice": "exclude"}, **HX)
    screen(records[2], second, "include")  # a colleague: my counters do not move
    then = client.post(decide_url(team.review, records[1]), {"choice": "include"}, **HX)
    client.post(undo_url(team.review, records[0]), **HX)
    page = client.get(record_url(team.review, records[0]))

    assert "Mine 1 of 3" in page_text(first)
    assert "Mine 2 of 3" in page_text(then)
    assert "Mine 1 of 3" in page_text(page)


def test_the_last_decision_leads_to_nothing_waiting(client, team, records):
    screen(records[0], team.reviewer, "include")
    screen(records[1], team.reviewer, "include")
    client.force_login(team.reviewer)

    plain = client.post(decide_url(team.review, records[2]), {"choice": "maybe"})
    Decision.objects.filter(record=records[2]).delete()
    swapped = client.post(decide_url(team.review, records[2]), {"choice": "maybe"}, **HX)

    assert plain.url == f"{url('screen-queue', team.review, stage='ta')}?last={records[2].pk}"
    assert swapped["HX-Push-Url"] == plain.url
    assert "Nothing waiting for you" in page_text(swapped)


def test_a_double_click_keeps_one_decision(client, team, records):
    client.force_login(team.reviewer)

    for _ in range(2):
        client.post(decide_url(team.review, records[0]), {"choice": "include"}, **HX)

    assert Decision.objects.count() == 1
    assert DecisionChange.objects.count() == 1


def test_undo_withdraws_my_decision_and_shows_the_record_again(client, team, records):
    screen(records[0], team.reviewer, "include")
    client.force_login(team.reviewer)

    response = client.post(undo_url(team.review, records[0]), follow=True)

    assert response.redirect_chain[0][0] == record_url(team.review, records[0])
    assert "Your decision on record" in page_text(response)
    assert "Waiting for your decision" in page_text(response)
    assert not Decision.objects.exists()


def test_undo_with_htmx_swaps_in_the_record(client, team, records):
    screen(records[0], team.reviewer, "include")
    client.force_login(team.reviewer)

    response = client.post(undo_url(team.review, records[0]), **HX)

    assert response["HX-Push-Url"] == record_url(team.review, records[0])
    assert "Record number 1" in page_text(response)
    assert not Decision.objects.exists()


def test_undo_brings_the_note_back_with_the_record(client, team, records):
    # issue 17, item 6: the note typed with the decision was lost on undo
    reason = make_reason(team.review, "Adults only")
    client.force_login(team.reviewer)
    client.post(
        decide_url(team.review, records[0]),
        {"choice": "exclude", "note": "adults only, check the full text", "reason": reason.pk},
    )

    swapped = client.post(undo_url(team.review, records[0]), **HX)
    client.post(decide_url(team.review, records[0]), {"choice": "include", "note": "second try"})
    plain = client.post(undo_url(team.review, records[0]), follow=True)

    note = re.compile(r'<textarea id="decision-note"[^>]*>([^<]*)</textarea>')
    assert note.search(swapped.content.decode()).group(1) == "adults only, check the full text"
    assert note.search(plain.content.decode()).group(1) == "second try"
    assert not Decision.objects.exists()
    # and it does not linger: the record shown afterwards starts empty again
    again = client.get(record_url(team.review, records[0]))
    assert note.search(again.content.decode()).group(1) == ""


def test_undo_after_agreement_works_as_if_the_colleague_had_not_decided(
    client, team, second, records
):
    # issue 21, item 6: "Undo" offered only when the colleague disagreed told their decision
    screen(records[0], team.reviewer, "include")
    screen(records[0], second, "include")
    client.force_login(team.reviewer)

    response = client.post(undo_url(team.review, records[0]), follow=True)

    assert f"Your decision on record {records[0].pk} is withdrawn." in page_text(response)
    assert list(Decision.objects.values_list("reviewer__username", flat=True)) == ["bea"]


def test_undo_of_an_adjudicated_record_says_why_and_keeps_it(client, team, second, records):
    screen(records[0], team.reviewer, "include")
    screen(records[0], second, "exclude")
    services.adjudicate(record=records[0], user=team.senior, stage="ta", choice="include")
    client.force_login(team.reviewer)

    response = client.post(undo_url(team.review, records[0]), follow=True)

    assert "decisions are final" in page_text(response)
    assert Decision.objects.count() == 2


def test_full_text_exclusion_without_a_reason_is_refused(client, team, second):
    record = pass_title_abstract(make_record(team.review), team.owner, team.senior)
    client.force_login(team.reviewer)

    response = client.post(
        decide_url(team.review, record, "ft"), {"choice": "exclude", "note": "adults only"}
    )

    assert response.status_code == 200
    assert "Choose the reason for excluding this full text." in page_text(response)
    assertContains(response, ">adults only</textarea>")  # what was typed is kept
    assert not Decision.objects.filter(stage="ft").exists()


def test_full_text_exclusion_with_a_reason_is_stored(client, team):
    reason = make_reason(team.review, "Adults only")
    record = pass_title_abstract(make_record(team.review), team.owner, team.senior)
    client.force_login(team.reviewer)

    client.post(decide_url(team.review, record, "ft"), {"choice": "exclude", "reason": reason.pk})

    assert Decision.objects.get(stage="ft").reason == reason


def test_title_abstract_exclusion_with_a_reason_by_its_own_button(client, team, records):
    reasons = list(team.review.exclusion_reasons.filter(is_active=True).order_by("position"))
    client.force_login(team.reviewer)
    page = client.get(record_url(team.review, records[0]))

    response = client.post(
        decide_url(team.review, records[0]), {"exclude_reason": reasons[1].pk}, **HX
    )

    # beside the record, each reason with its digit: one key, no waiting for a second
    listed = f"Exclude with a reason (optional) 1 {reasons[0].label} 2 {reasons[1].label}"
    assert listed in page_text(page)
    assert "x excludes without a reason." in page_text(page)
    html = page.content.decode()
    assert re.search(rf'form="decision-form" name="exclude_reason" value="{reasons[1].pk}"', html)
    assert re.search(rf'value="{reasons[1].pk}"[^>]*data-key="2"', html)
    assert re.search(rf'value="{reasons[8].pk}"[^>]*data-key="9"', html)
    assert not re.search(rf'value="{reasons[9].pk}"[^>]*data-key', html)  # the tenth: none
    assert 'data-key="x 2"' not in html  # no sequences after "x": it acts at once
    decision = Decision.objects.get()
    assert (decision.choice, decision.reason) == ("exclude", reasons[1])
    assert f"You chose Exclude ({reasons[1].label}) for record" in page_text(response)


def test_title_abstract_reason_without_javascript_and_back_after_undo(client, team, records):
    reason = team.review.exclusion_reasons.filter(is_active=True).order_by("position")[2]
    client.force_login(team.reviewer)

    plain = client.post(
        decide_url(team.review, records[0]), {"exclude_reason": reason.pk, "note": "adults"}
    )
    assert plain.status_code == 302  # the plain form, then the next record
    assert Decision.objects.get().reason == reason
    swapped = client.post(undo_url(team.review, records[0]), **HX)
    client.post(decide_url(team.review, records[0]), {"exclude_reason": reason.pk})
    again = client.post(undo_url(team.review, records[0]), follow=True)

    for response in (swapped, again):
        text = page_text(response)
        assert f"Before the undo: Exclude ({reason.label}); 3 gives it again." in text
        assert re.search(
            rf'value="{reason.pk}" class="choice--reason choice--reason-withdrawn"',
            response.content.decode(),
        )
    assert not Decision.objects.exists()
    later = client.get(record_url(team.review, records[0]))  # once only
    assert "Before the undo" not in page_text(later)


def test_the_reasons_are_read_once_and_an_owners_edit_shows_at_once(client, team, records):
    reasons = list(team.review.exclusion_reasons.filter(is_active=True).order_by("position"))
    labels = [reason.label for reason in reasons]  # as they were: the edits change them
    client.force_login(team.reviewer)
    client.get(record_url(team.review, records[0]))  # read, and kept in the cache

    with CaptureQueriesContext(connection) as context:
        again = client.get(record_url(team.review, records[1]))
    review_services.exclusion_reason_update(reason=reasons[0], label="Adults only", is_active=True)
    edited = client.get(record_url(team.review, records[1]))
    review_services.exclusion_reason_move(reason=reasons[0], up=False)
    moved = client.get(record_url(team.review, records[1]))
    review_services.exclusion_reason_update(
        reason=reasons[1], label=reasons[1].label, is_active=False
    )
    review_services.exclusion_reason_add(review=team.review, label="Animal study")
    added = client.get(record_url(team.review, records[1]))

    assert not [q for q in context.captured_queries if "exclusionreason" in q["sql"]]
    assert f"1 {labels[0]} 2 {labels[1]}" in page_text(again)
    assert f"1 Adults only 2 {labels[1]}" in page_text(edited)
    assert f"1 {labels[1]} 2 Adults only" in page_text(moved)
    assert f"1 Adults only 2 {labels[2]}" in page_text(added)
    assert labels[1] not in page_text(added)
    assert f"9 {labels[9]} Animal study" in page_text(added)  # the tenth: no key


def test_my_own_digit_key_keeps_its_action_and_its_reason_goes_without(client, team, records):
    # chosen before the digits were the reasons' keys: one key must not do two things
    reasons = list(team.review.exclusion_reasons.filter(is_active=True).order_by("position"))
    team.reviewer.screening_keys = {"include": "1"}
    team.reviewer.save()
    client.force_login(team.reviewer)

    html = client.get(record_url(team.review, records[0])).content.decode()
    keys_page = page_text(client.get(url("screening-keys", team.review)))

    assert re.search(r'value="include"[^>]*data-key="1"', html)
    assert not re.search(rf'value="{reasons[0].pk}"[^>]*data-key', html)
    assert re.search(rf'value="{reasons[1].pk}"[^>]*data-key="2"', html)
    assert "Your key 1 (Include) is also the key of an exclusion reason" in keys_page


def test_title_abstract_reason_is_optional_and_only_with_an_exclusion(client, team, records):
    reason = make_reason(team.review, "Adults only")
    client.force_login(team.reviewer)

    client.post(decide_url(team.review, records[0]), {"choice": "exclude"})
    client.post(decide_url(team.review, records[1]), {"choice": "include", "reason": reason.pk})

    assert list(Decision.objects.order_by("pk").values_list("choice", "reason")) == [
        ("exclude", None),
        ("include", None),
    ]


def test_a_reason_of_another_review_is_refused(client, team):
    from tests.factories import make_review

    other = make_reason(make_review(title="Adult IMT"), "Elsewhere")
    record = pass_title_abstract(make_record(team.review), team.owner, team.senior)
    client.force_login(team.reviewer)

    response = client.post(
        decide_url(team.review, record, "ft"), {"choice": "exclude", "reason": other.pk}, **HX
    )

    assert "not one of this review's reasons" in page_text(response)
    assert not Decision.objects.filter(stage="ft").exists()


def test_deciding_a_duplicate_is_refused_with_a_message(client, team, records):
    Record.objects.filter(pk=records[1].pk).update(duplicate_of=records[0])
    client.force_login(team.reviewer)

    response = client.post(decide_url(team.review, records[1]), {"choice": "include"})

    assert "This record is a duplicate: it is not screened." in page_text(response)
    assert not Decision.objects.exists()


def test_maybe_is_refused_at_full_text(client, team):
    record = pass_title_abstract(make_record(team.review), team.owner, team.senior)
    client.force_login(team.reviewer)

    response = client.post(decide_url(team.review, record, "ft"), {"choice": "maybe"}, **HX)

    assert "Choose include or exclude." in page_text(response)
    assert not Decision.objects.filter(stage="ft").exists()


def test_a_record_of_another_review_cannot_be_decided(client, team):
    from tests.factories import make_review

    elsewhere = make_record(make_review(title="Adult IMT"))
    client.force_login(team.owner)

    response = client.post(decide_url(team.review, elsewhere), {"choice": "include"})

    assert response.status_code == 404
    assert not Decision.objects.exists()


# --- blinding ---


def other_decision_visible(response, user, note):
    html = response.content.decode()
    return user.display_name() in html or note in html or "other-decision--" in html


def test_blinded_reviewer_does_not_see_the_first_decision(client, team, records):
    screen(records[0], team.senior, "exclude", note="Adults only, I think")
    client.force_login(team.reviewer)

    response = client.get(record_url(team.review, records[0]))

    assert not other_decision_visible(response, team.senior, "Adults only, I think")
    assertNotContains(response, "Waiting for a second reviewer")  # the state would tell
    assert "Waiting for your decision" in page_text(response)


def test_blinded_reviewer_does_not_see_the_other_side_of_a_conflict(client, team, records):
    screen(records[0], team.owner, "exclude", note="Adults only, I think")
    screen(records[0], team.reviewer, "include")
    assert state_of(records[0]).state is State.TA_CONFLICT
    client.force_login(team.reviewer)

    response = client.get(record_url(team.review, records[0]))

    assert not other_decision_visible(response, team.owner, "Adults only, I think")
    assertNotContains(response, "Conflict")
    assert "Decided by you" in page_text(response)


def test_after_agreement_a_blinded_reviewer_still_sees_her_own_decision_only(
    client, team, second, records
):
    # agreement looks like an open record to her (issue 13): her pages move the same way
    screen(records[0], second, "exclude", note="Adults only, I think")
    screen(records[0], team.reviewer, "exclude")
    client.force_login(team.reviewer)

    response = client.get(record_url(team.review, records[0]))

    assert not other_decision_visible(response, second, "Adults only, I think")
    text = page_text(response)
    assert "Excluded at title/abstract" not in text
    assert "Decided by you" in text
    assert "Withdraw my decision" in text


def test_after_agreement_a_senior_and_an_unblinded_reviewer_see_the_decisions(
    client, team, second, records
):
    screen(records[0], second, "exclude", note="Adults only, I think")
    screen(records[0], team.reviewer, "exclude")
    client.force_login(team.senior)

    by_senior = client.get(record_url(team.review, records[0]))

    assert other_decision_visible(by_senior, second, "Adults only, I think")
    assert "Excluded at title/abstract" in page_text(by_senior)
    team.review.blinded = False
    team.review.save(update_fields=["blinded"])
    client.force_login(team.reviewer)
    assert other_decision_visible(
        client.get(record_url(team.review, records[0])), second, "Adults only, I think"
    )


def test_a_third_reviewer_sees_the_same_whether_two_agreed_or_not(client, team, second):
    # issue 21, item 8: "two have decided" only on a conflict told the disagreement
    third = add_member(team.review, make_user("carol3"), Role.REVIEWER).user
    agreed = make_record(team.review, title="Agreed")
    disputed = make_record(team.review, title="Disputed")
    screen(agreed, team.reviewer, "include")
    screen(agreed, second, "include")
    screen(disputed, team.reviewer, "include")
    screen(disputed, second, "exclude")
    client.force_login(third)

    texts = [page_text(client.get(record_url(team.review, r))) for r in (agreed, disputed)]

    for text in texts:
        assert "Two reviewers have already decided on this record" in text
        assert "Decided by two reviewers" in text
        assert "Include" not in text.split("Decisions of others")[1]
        assert "Hidden: this review is blinded" in text
        assert "resolved" not in text and "over." not in text


def test_after_adjudication_the_decisions_are_shown(client, team, records):
    screen(records[0], team.owner, "exclude", note="Adults only, I think")
    screen(records[0], team.reviewer, "include")
    services.adjudicate(record=records[0], user=team.senior, stage="ta", choice="include")
    client.force_login(team.reviewer)

    response = client.get(record_url(team.review, records[0]))

    assert other_decision_visible(response, team.owner, "Adults only, I think")
    assert "Adjudicated by" in page_text(response)


def test_an_unblinded_review_shows_the_other_decision_at_once(client, team, records):
    team.review.blinded = False
    team.review.save()
    screen(records[0], team.senior, "exclude", note="Adults only, I think")
    client.force_login(team.reviewer)

    response = client.get(record_url(team.review, records[0]))

    assert other_decision_visible(response, team.senior, "Adults only, I think")


def test_a_senior_sees_both_decisions_of_a_conflict(client, team, second, records):
    screen(records[0], second, "exclude", note="Adults only, I think")
    screen(records[0], team.reviewer, "include", note="Two children among them")
    client.force_login(team.senior)

    response = client.get(record_url(team.review, records[0]))

    assert other_decision_visible(response, second, "Adults only, I think")
    assert other_decision_visible(response, team.reviewer, "Two children among them")
    assert "Conflict (title/abstract)" in page_text(response)


def test_the_undo_bar_does_not_reveal_a_conflict(client, team, records):
    screen(records[0], team.owner, "exclude", note="Adults only, I think")
    client.force_login(team.reviewer)

    response = client.post(decide_url(team.review, records[0]), {"choice": "include"}, follow=True)

    assert not other_decision_visible(response, team.owner, "Adults only, I think")
    assertNotContains(response, "Conflict")
    assertContains(response, undo_url(team.review, records[0]))  # still undoable


# --- full texts ---


@pytest.fixture
def sought(team):
    return pass_title_abstract(
        make_record(team.review, title="IMT of the lung"), team.owner, team.senior
    )


def test_upload_attaches_the_pdf_and_shows_it_inline(client, team, sought):
    client.force_login(team.reviewer)

    response = client.post(
        url("fulltext-upload", team.review, pk=sought.pk), {"pdf": pdf_upload()}, follow=True
    )

    assert "“coffin-2007.pdf” is attached" in page_text(response)
    pdf_url = url("fulltext-pdf", team.review, pk=sought.pk)
    assertContains(response, f'<iframe class="screen-pdf" src="{pdf_url}"')
    served = client.get(pdf_url)
    assert served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"].startswith("inline")
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["X-Frame-Options"] == "SAMEORIGIN"
    assert b"".join(served.streaming_content) == PDF


def test_a_file_that_is_not_a_pdf_is_refused(client, team, sought):
    client.force_login(team.reviewer)

    response = client.post(
        url("fulltext-upload", team.review, pk=sought.pk),
        {"pdf": pdf_upload("notes.pdf", b"<html>not a pdf</html>")},
        follow=True,
    )

    assert "“notes.pdf” is not a PDF file." in page_text(response)
    assert not FullText.objects.exists()


def test_an_oversized_pdf_is_refused(client, team, sought, settings):
    settings.FULLTEXT_MAX_UPLOAD_MB = 0
    client.force_login(team.reviewer)

    response = client.post(
        url("fulltext-upload", team.review, pk=sought.pk), {"pdf": pdf_upload()}, follow=True
    )

    assert "the limit is 0 MB" in page_text(response)
    assert not FullText.objects.exists()


def test_no_pdf_is_404(client, team, sought):
    client.force_login(team.reviewer)

    assert client.get(url("fulltext-pdf", team.review, pk=sought.pk)).status_code == 404


def test_not_retrieved_needs_a_note(client, team, sought):
    client.force_login(team.reviewer)

    response = client.post(
        url("fulltext-not-retrieved", team.review, pk=sought.pk), {"note": "  "}, follow=True
    )

    assert "Say what was tried to get the full text." in page_text(response)
    assert state_of(sought).state is State.FT_SOUGHT


def test_not_retrieved_and_taken_back(client, team, sought):
    client.force_login(team.reviewer)

    marked = client.post(
        url("fulltext-not-retrieved", team.review, pk=sought.pk),
        {"note": "Library has no access; authors did not answer."},
        follow=True,
    )
    assert state_of(sought).state is State.FT_NOT_RETRIEVED
    assert "Library has no access; authors did not answer." in page_text(marked)
    assertContains(marked, url("fulltext-not-retrieved-undo", team.review, pk=sought.pk))

    client.post(url("fulltext-not-retrieved-undo", team.review, pk=sought.pk))

    assert state_of(sought).state is State.FT_SOUGHT


def test_not_retrieved_stays_offered_after_a_colleague_decided(client, team, second, sought):
    # issue 21, item 7: the button vanished once anyone had decided the full text
    client.force_login(team.reviewer)
    before = client.get(record_url(team.review, sought, stage="ft"))
    screen(sought, second, "include", stage="ft")

    after = client.get(record_url(team.review, sought, stage="ft"))
    marked = client.post(
        url("fulltext-not-retrieved", team.review, pk=sought.pk),
        {"note": "Interlibrary loan failed."},
        follow=True,
    )

    for response in (before, after):
        assertContains(response, "Mark “not retrieved”")
    assert state_of(sought).state is State.FT_NOT_RETRIEVED
    assert "Any decisions already made on it are kept" in page_text(marked)
    assert sought.decisions.filter(stage="ft").count() == 1  # kept, not counted
    client.post(url("fulltext-not-retrieved-undo", team.review, pk=sought.pk))
    assert state_of(sought).state is State.FT_ONE  # it counts again


def test_not_retrieved_is_refused_once_a_senior_closed_the_full_text(client, team, second, sought):
    screen(sought, second, "include", stage="ft")
    screen(sought, team.reviewer, "include", stage="ft")
    services.approve(review=team.review, records=[sought], user=team.senior)
    client.force_login(team.reviewer)

    page = client.get(record_url(team.review, sought, stage="ft"))
    response = client.post(
        url("fulltext-not-retrieved", team.review, pk=sought.pk), {"note": "x"}, follow=True
    )

    assertNotContains(page, "Mark “not retrieved”")
    assert "A senior has decided this full text" in page_text(response)
    assert state_of(sought).state is State.APPROVED


# --- keys ---


def test_my_keys_show_on_the_screening_page(client, team, records):
    client.force_login(team.reviewer)

    response = client.post(
        url("screening-keys", team.review),
        {
            "include": "a",
            "exclude": "s",
            "maybe": "d",
            "undo": "u",
            "next": "j",
            "previous": "k",
            "note": "n",
        },
    )
    page = client.get(record_url(team.review, records[0]))

    assertRedirects(response, url("screening-keys", team.review))
    team.reviewer.refresh_from_db()
    assert team.reviewer.screening_keys == {"include": "a", "exclude": "s", "maybe": "d"}
    html = page.content.decode()
    assert re.search(r'value="include"[^>]*data-key="a"', html)
    assert "<kbd>a</kbd>" in html
    assert 'data-key="i"' not in html
    assert "<kbd>s</kbd> excludes without a reason." in html


def test_my_keys_are_mine_only(client, team, records):
    team.senior.screening_keys = {"include": "1"}
    team.senior.save()
    client.force_login(team.reviewer)

    assertContains(client.get(record_url(team.review, records[0])), 'data-key="i"')


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"include": "x"}, "“x” is used twice: Include and Exclude."),
        ({"include": "g"}, "Include: “g” is taken by the app's own shortcuts."),
        ({"include": "ii"}, "Include: use one visible character, not “ii”."),
        (
            {"maybe": "3"},
            "Maybe (title/abstract): “3” is taken: the digits 1–9 exclude with a reason "
            "at title/abstract.",
        ),
    ],
)
def test_bad_keys_are_refused_with_the_reason(client, team, keys, message):
    client.force_login(team.reviewer)
    data = {
        "include": "i",
        "exclude": "x",
        "maybe": "m",
        "undo": "u",
        "next": "j",
        "previous": "k",
        "note": "n",
    }

    response = client.post(url("screening-keys", team.review), {**data, **keys})

    assert response.status_code == 200
    assert message in page_text(response)
    team.reviewer.refresh_from_db()
    assert team.reviewer.screening_keys == {}


def test_keys_page_lists_the_actions_with_their_keys(client, team):
    team.reviewer.screening_keys = {"undo": "z"}
    team.reviewer.save()
    client.force_login(team.reviewer)

    text = page_text(client.get(url("screening-keys", team.review)))

    assert "Undo my decision z" in text
    assert "Include i" in text


# --- query counts ---


def count_queries(client, path):
    cache.clear()  # cold: the counters are counted, not read from the cache
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code in (200, 302)
    return len(context.captured_queries)


@pytest.mark.parametrize("stage", ["ta", "ft"])
@pytest.mark.slow
def test_queries_do_not_grow_with_the_number_of_records(client, team, second, stage):
    reason = make_reason(team.review, "Adults only")

    def add(n):
        for i in range(n):
            record = make_record(team.review, title=f"Record {i}", abstract="child " * 50)
            if stage == "ft":
                pass_title_abstract(record, team.owner, team.senior)
                if i % 2:
                    screen(record, second, "exclude", stage="ft", reason=reason)
            elif i % 2:
                screen(record, second, "include")
        return record

    client.force_login(team.reviewer)
    last = add(5)
    few = (
        count_queries(client, url("screen-queue", team.review, stage=stage)),
        count_queries(client, f"{record_url(team.review, last, stage)}?last={last.pk}"),
    )
    last = add(45)
    many = (
        count_queries(client, url("screen-queue", team.review, stage=stage)),
        count_queries(client, f"{record_url(team.review, last, stage)}?last={last.pk}"),
    )

    assert few == many


@pytest.mark.slow
def test_a_decision_with_htmx_costs_the_same_queries_whatever_the_records(client, team, second):
    def add(n):
        made = [make_record(team.review, title=f"Record {i}") for i in range(n)]
        for record in made[: n // 2]:
            screen(record, second, "include")
            screen(record, team.owner, "exclude")
        counters.changed(team.review)  # as an import does
        cache.clear()
        return made

    def decide(record):
        with CaptureQueriesContext(connection) as context:
            response = client.post(decide_url(team.review, record), {"choice": "include"}, **HX)
        assert "You chose Include" in page_text(response)
        return len(context.captured_queries), response["HX-Push-Url"]

    client.force_login(team.reviewer)
    few = add(6)
    client.get(url("screen-queue", team.review, stage="ta"), follow=True)  # opened once
    small = decide(few[3])
    Decision.objects.filter(reviewer=team.reviewer).delete()
    many = add(120)
    client.get(url("screen-queue", team.review, stage="ta"), follow=True)
    large = decide(many[70])

    assert small[0] == large[0]
    # user, membership, ranking and sample, the record read under its lock, its rows, the
    # two writes, the next waiting, its record and rows, neighbours, its labels (the reasons
    # come from the cache, the labels to choose from stay on the page), the counters
    # counted cold (three), the retrain check: 18 on PostgreSQL with Redis (22 before the
    # record's read and lock became one query, the session came from Redis, the reasons
    # from the cache and the label choices left the panel; 37 before the round trips were
    # cut, issue 16). Without Redis the session is read from the database; SQLite reads
    # the neighbours in two queries. Lower it when a change takes one away, never raise it
    expected = 18 + (settings.SESSION_ENGINE != "reviewer.sessions")
    assert large[0] <= expected + (connection.vendor != "postgresql")
    assert large[1].startswith(record_url(team.review, few[3]))  # the first waiting again


# --- labels ---


def label_url(review, record, stage="ta"):
    return url("screen-label", review, stage=stage, pk=record.pk)


def test_a_label_added_shows_on_the_record_and_comes_off_again(client, team, records):
    team.review.labels = ["case series", "ask Ana"]
    team.review.save()
    client.force_login(team.reviewer)

    added = client.post(label_url(team.review, records[0]), {"name": "Case Series"}, **HX)
    client.post(label_url(team.review, records[0]), {"name": "  my   own  "})
    page = client.get(record_url(team.review, records[0]))
    removed = client.post(label_url(team.review, records[0]), {"remove": "case series"}, **HX)

    assert "Labels case series ×" in page_text(added)  # the shared label's own spelling
    assert "Labels case series × my own ×" in page_text(page)
    assert "+ case series + ask Ana" in page_text(page)
    assert "Labels my own ×" in page_text(removed)
    assert list(RecordLabel.objects.values_list("name", flat=True)) == ["my own"]


def test_the_labels_offered_are_on_the_page_once_and_follow_a_label_added(client, team, records):
    team.review.labels = ["case series"]
    team.review.save()
    label_services.label_add(record=records[2], user=team.reviewer, name="ask carol")
    client.force_login(team.reviewer)

    page = client.get(record_url(team.review, records[0])).content.decode()
    decided = client.post(decide_url(team.review, records[0]), {"choice": "exclude"}, **HX)
    added = client.post(label_url(team.review, records[1]), {"name": "pathology"}, **HX)

    offered = r'<datalist id="label-options"[^>]*>(.*?)</datalist>'
    assert page.count('id="label-options"') == 1
    assert re.findall(r'value="([^"]*)"', re.search(offered, page, re.S).group(1)) == [
        "case series",
        "ask carol",
    ]
    # the answer to a decision swaps the panel only: the page's list stays as it is
    assert 'id="label-options"' not in decided.content.decode()
    # a label added: the list comes out of band with it
    html = added.content.decode()
    assert re.search(r'<datalist id="label-options" hx-swap-oob="true">', html)
    assert re.findall(r'value="([^"]*)"', re.search(offered, html, re.S).group(1)) == [
        "case series",
        "ask carol",
        "pathology",
    ]


def test_an_empty_label_is_refused_with_a_message(client, team, records):
    client.force_login(team.reviewer)

    response = client.post(label_url(team.review, records[0]), {"name": "  "}, follow=True)

    assert "Type a label, or choose one of the review's labels." in page_text(response)
    assert not RecordLabel.objects.exists()


def test_while_blinded_a_reviewer_sees_and_filters_by_her_own_labels_only(
    client, team, second, records
):
    label_services.label_add(record=records[0], user=second, name="relevant?")
    label_services.label_add(record=records[1], user=team.reviewer, name="mine")
    client.force_login(team.reviewer)

    page = client.get(record_url(team.review, records[0]))
    theirs = client.get(url("screen-queue", team.review, stage="ta") + "?label=relevant%3F")
    mine = client.get(url("screen-queue", team.review, stage="ta") + "?label=mine")
    client.force_login(team.senior)
    senior = client.get(record_url(team.review, records[0]))

    assert "relevant?" not in page_text(page)
    assert "Nothing waiting for you matches these filters" in page_text(theirs)
    assert mine.url.startswith(record_url(team.review, records[1]))
    assert "relevant? Beatrix Quennell" in page_text(senior)


@pytest.mark.parametrize("blinded", [True, False], ids=["blinded", "unblinded"])
def test_a_panel_s_labels_by_sql_compiled_once_are_those_the_member_may_see(
    team, second, records, blinded
):
    review = team.review
    review.blinded = blinded
    review.save(update_fields=["blinded"])
    label_services.label_add(record=records[0], user=second, name="relevant?")
    label_services.label_add(record=records[0], user=team.reviewer, name="mine")
    label_services.label_add(record=records[0], user=team.reviewer, name="ask carol")
    label_services.label_add(record=records[1], user=team.reviewer, name="elsewhere")

    for user in (team.reviewer, second, team.senior):
        membership = review.memberships.get(user=user)
        for record in records:
            expected = list(label_services.visible_labels(review, membership).filter(record=record))
            got = label_services.record_labels(review, membership, record.pk)
            assert [(label.pk, label.name) for label in got] == [
                (label.pk, label.name) for label in expected
            ]
            assert all(label.added_by.username for label in got)
    mine = label_services.record_labels(review, review.memberships.get(user=second), records[0].pk)
    assert [label.name for label in mine] == (
        ["relevant?"] if blinded else ["ask carol", "mine", "relevant?"]
    )
    assert None not in label_services._RECORD_LABELS._compiled.values()  # not a fallback


def test_the_queue_filtered_by_a_label_goes_through_its_records_only(client, team, records):
    for record in (records[0], records[2]):
        label_services.label_add(record=record, user=team.reviewer, name="case series")
    client.force_login(team.reviewer)
    queue = url("screen-queue", team.review, stage="ta") + "?label=case+series"

    first = client.get(queue)
    after = client.post(
        decide_url(team.review, records[0]) + "?label=case+series", {"choice": "include"}
    )

    assert first.url.startswith(record_url(team.review, records[0]))
    assert after.url.startswith(record_url(team.review, records[2]))
