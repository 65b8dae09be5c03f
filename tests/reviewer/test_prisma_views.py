"""The PRISMA 2020 page, its downloads, and the diagram on the dashboard
(reviewer.views.prisma)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from reviewer.models import Role
from reviewer.prisma.counts import PrismaReport
from reviewer.prisma.types import PrismaCounts
from tests.factories import Endpoint, make_record, make_source, page_text, screen
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db


def children(review):
    return SimpleNamespace()


ENDPOINTS = [
    Endpoint("prisma", "get", Role.REVIEWER, 200),
    Endpoint("prisma-figure", "get", Role.REVIEWER, 200),
    Endpoint("prisma-download", "get", Role.REVIEWER, 200, kwargs=lambda c: {"fmt": "csv"}),
]

WRONG_METHODS = [
    Endpoint("prisma", "post", Role.REVIEWER, 405),
    Endpoint("prisma-download", "post", Role.REVIEWER, 405, kwargs=lambda c: {"fmt": "svg"}),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)
    # The diagram holds only totals, so every member may see it: no role is too low.
    test_member_with_too_low_a_role_gets_403 = None
    # The format is not a child object of the review.
    test_child_of_another_review_gets_404_even_for_an_owner = None


@pytest.fixture
def screened(team):
    """Two PubMed records, one excluded by both reviewers, one still waiting."""
    source = make_source(team.review, "PubMed")
    excluded = make_record(team.review, source, title="IgG4-related disease in adults")
    make_record(team.review, source, title="ALK-positive IMT in children")
    screen(excluded, team.reviewer, "exclude")
    screen(excluded, team.owner, "exclude")
    return team.review


def url(name, review, **kwargs):
    return reverse(name, kwargs={"slug": review.slug, **kwargs})


def test_the_page_draws_the_review_as_it_stands(client, team, screened):
    client.force_login(team.reviewer)

    response = client.get(url("prisma", screened))

    html = response.content.decode()
    assert "<svg" in html
    assert "Records identified from*:" in html
    assert "Records screened (n = 2)" in html
    assert "Records excluded** (n = 1)" in html
    text = page_text(response)
    assert "The diagram is not final yet: 1 record still to screen at title/abstract" in text


def test_downloads_in_every_format(client, team, screened):
    client.force_login(team.reviewer)

    svg = client.get(url("prisma-download", screened, fmt="svg"))
    png = client.get(url("prisma-download", screened, fmt="png"))
    pdf = client.get(url("prisma-download", screened, fmt="pdf"))
    data = client.get(url("prisma-download", screened, fmt="csv"))

    assert svg["Content-Type"] == "image/svg+xml"
    assert b"Records screened (n = 2)" in svg.content
    assert png.content.startswith(b"\x89PNG")
    assert pdf.content.startswith(b"%PDF")
    assert "records_screened" in data.content.decode()
    assert 'filename="pediatric-imt-flow-diagram-' in svg["Content-Disposition"]


def test_an_unknown_format_is_404(client, team, screened):
    client.force_login(team.reviewer)

    assert client.get(url("prisma-download", screened, fmt="gif")).status_code == 404


def test_a_diagram_breaking_the_template_is_not_downloaded_silently(
    client, team, screened, monkeypatch
):
    from reviewer.views import prisma as views

    broken = PrismaCounts(database_results=10, records_screened=9)
    monkeypatch.setattr(views, "prisma_report", lambda _: PrismaReport(broken, {}))
    client.force_login(team.reviewer)

    refused = client.get(url("prisma-download", screened, fmt="svg"))
    page = client.get(url("prisma", screened))
    anyway = client.get(url("prisma-download", screened, fmt="svg") + "?anyway=1")

    assert refused.status_code == 409
    assertContains(refused, "Records screened should be identified 10", status_code=409)
    assertContains(refused, "Download it anyway", status_code=409)
    assertContains(page, "The numbers break")
    assert anyway.status_code == 200 and b"<svg" in anyway.content


def test_the_dashboard_loads_the_diagram(client, team, screened):
    client.force_login(team.reviewer)

    dashboard = client.get(url("review-dashboard", screened))
    figure = client.get(url("prisma-figure", screened), HTTP_HX_REQUEST="true")

    assertContains(dashboard, f'hx-get="{url("prisma-figure", screened)}"')
    assertContains(figure, "Records screened (n = 2)")
    assert "<html" not in figure.content.decode()
