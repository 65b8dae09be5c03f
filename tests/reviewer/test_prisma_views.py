"""The PRISMA 2020 page, its downloads, and the diagram on the dashboard
(reviewer.views.prisma)."""

from __future__ import annotations

import csv
import io
import zipfile
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import Image
from pytest_django.asserts import assertContains

from reviewer.models import Review, Role
from reviewer.prisma.counts import PrismaReport, prisma_report
from reviewer.prisma.layout import layout
from reviewer.prisma.types import PrismaCounts
from tests.factories import Endpoint, make_record, make_source, page_text, screen
from tests.permissions import PermissionCases
from tests.reviewer.prisma import finished_from_imports
from tests.reviewer.prisma.test_diagram import box_texts, pdf_text_lines

pytestmark = pytest.mark.django_db


def children(review):
    return SimpleNamespace()


ENDPOINTS = [
    Endpoint("prisma", "get", Role.REVIEWER, 200),
    Endpoint("prisma-figure", "get", Role.REVIEWER, 200),
    # the counts move with colleagues' open decisions: in a blinded review (the team's),
    # reviewers see a note on the page and the figure, and may not download them
    Endpoint("prisma-download", "get", Role.SENIOR, 200, kwargs=lambda c: {"fmt": "csv"}),
]

WRONG_METHODS = [
    Endpoint("prisma", "post", Role.REVIEWER, 405),
    Endpoint("prisma-download", "post", Role.REVIEWER, 405, kwargs=lambda c: {"fmt": "svg"}),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)
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
    client.force_login(team.senior)

    response = client.get(url("prisma", screened))

    html = response.content.decode()
    assert "<svg" in html
    assert "Records identified from*:" in html
    assert "Records screened (n = 2)" in html
    assert "Records excluded** (n = 1)" in html
    text = page_text(response)
    assert (
        "Provisional — 1 record awaits title/abstract decisions, 0 reports await full-text "
        "decisions. Title/abstract: 1 not screened yet."
    ) in text
    assert "every download (SVG, PNG, PDF, the data CSV, the ZIP’s checks) says it is" in text
    # the figure on the page is the download: its banner says it too
    assert 'id="prisma-provisional"' in html


def test_downloads_in_every_format(client, team, screened):
    client.force_login(team.senior)

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
    client.force_login(team.senior)

    assert client.get(url("prisma-download", screened, fmt="gif")).status_code == 404


def test_a_diagram_breaking_the_template_is_not_downloaded_silently(
    client, team, screened, monkeypatch
):
    from reviewer.views import prisma as views

    broken = PrismaCounts(database_results=10, records_screened=9)
    monkeypatch.setattr(views, "prisma_report", lambda _: PrismaReport(broken, {}))
    client.force_login(team.senior)

    refused = client.get(url("prisma-download", screened, fmt="svg"))
    page = client.get(url("prisma", screened))
    anyway = client.get(url("prisma-download", screened, fmt="svg") + "?anyway=1")

    assert refused.status_code == 409
    assertContains(refused, "Records screened should be identified 10", status_code=409)
    assertContains(refused, "Download it anyway", status_code=409)
    assertContains(page, "The numbers break")
    assert anyway.status_code == 200 and b"<svg" in anyway.content


def test_the_dashboard_loads_the_diagram(client, team, screened):
    client.force_login(team.senior)

    dashboard = client.get(url("review-dashboard", screened))
    figure = client.get(url("prisma-figure", screened), HTTP_HX_REQUEST="true")

    assertContains(dashboard, f'hx-get="{url("prisma-figure", screened)}"')
    assertContains(figure, "Records screened (n = 2)")
    assert "<html" not in figure.content.decode()


PROVISIONAL = (
    "Provisional — 1 record awaits title/abstract decisions, 0 reports await full-text decisions"
)


def test_every_download_of_an_unfinished_review_says_it_is_provisional(client, team, screened):
    client.force_login(team.senior)

    svg = client.get(url("prisma-download", screened, fmt="svg")).content.decode()
    pdf = client.get(url("prisma-download", screened, fmt="pdf")).content
    data = client.get(url("prisma-download", screened, fmt="csv")).content.decode()
    png = client.get(url("prisma-download", screened, fmt="png")).content
    figure = client.get(url("prisma-figure", screened), HTTP_HX_REQUEST="true")

    assert box_texts(svg)["provisional"] == f"{PROVISIONAL} Title/abstract: 1 not screened yet."
    assert PROVISIONAL in " ".join(pdf_text_lines(pdf))
    note = list(csv.reader(io.StringIO(data)))[-1]
    assert note[0] == "provisional" and note[3].startswith(PROVISIONAL)
    final = layout(prisma_report(screened).counts)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size[1] > final.height * 300 / 72, "taller by the banner"
    assertContains(figure, "Provisional — 1 record awaits")


def test_a_review_without_records_is_not_called_final(client, team):
    # walk: a new review's PRISMA page said "Final: every record is decided, ..." over a
    # diagram of zeros
    client.force_login(team.owner)

    text = page_text(client.get(url("prisma", team.review)))

    assert "Final:" not in text
    assert "No records yet: every box says 0." in text
    assert "add a search and upload its export" in text


def test_a_finished_review_says_final_and_its_downloads_carry_no_provisional_line(client, tmp_path):
    finished = finished_from_imports(tmp_path)
    client.force_login(finished.team.senior)
    review = finished.review

    page = client.get(url("prisma", review))
    svg = client.get(url("prisma-download", review, fmt="svg")).content.decode()
    pdf = client.get(url("prisma-download", review, fmt="pdf")).content
    data = client.get(url("prisma-download", review, fmt="csv")).content.decode()

    assert "Final: every record is decided" in page_text(page)
    assert "rovisional" not in page.content.decode()
    assert "rovisional" not in svg and "rovisional" not in data
    assert not [line for line in pdf_text_lines(pdf) if "rovisional" in line]
    assert box_texts(svg)["screened"] == "Records screened (n = 6)"
    assert box_texts(svg)["included"] == (
        "Studies included in review (n = 2) Reports of included studies (n = 2)"
    )
    n = {row["data"]: row["n"] for row in csv.DictReader(io.StringIO(data))}
    assert (n["records_screened"], n["dbr_assessed"], n["new_reports"]) == ("6", "3", "2")


@pytest.mark.django_db(transaction=True)  # the demo's imports are checked for duplicates on commit
def test_the_demo_review_s_downloads_say_provisional(client):
    call_command("demo", password="demo-pass-1", stdout=io.StringIO())
    review = Review.objects.get(slug="demo")
    client.force_login(review.created_by)  # carol, owner and senior author
    waiting = prisma_report(review).waiting

    pdf = client.get(url("prisma-download", review, fmt="pdf")).content
    bundle = client.get(reverse("export-bundle", args=[review.slug]))
    archive = zipfile.ZipFile(io.BytesIO(bundle.content))

    assert not waiting.final
    headline = waiting.headline()
    assert headline.startswith("Provisional — ")
    assert "6 possible duplicate pairs await a decision" in headline
    assert headline in " ".join(pdf_text_lines(pdf))
    svg = archive.read("prisma/flow-diagram.svg").decode()
    assert box_texts(svg)["provisional"].startswith(headline)
    note = list(csv.reader(io.StringIO(archive.read("prisma/prisma2020-data.csv").decode())))[-1]
    assert note[0] == "provisional" and note[3].startswith(headline)
    checks = archive.read("prisma/checks.txt").decode()
    assert checks.startswith(headline + "\n")
    assert "pass every check" not in checks
    assert headline in " ".join(pdf_text_lines(archive.read("prisma/flow-diagram.pdf")))


# --- blinding (issue 13): the counts move with a colleague's open decision ---


def test_a_reviewer_of_a_blinded_review_sees_a_note_instead_of_the_counts(client, team):
    make_record(team.review)
    client.force_login(team.reviewer)

    page = client.get(reverse("prisma", args=[team.review.slug]))
    figure = client.get(reverse("prisma-figure", args=[team.review.slug]))
    download = client.get(reverse("prisma-download", args=[team.review.slug, "csv"]))

    for response in (page, figure):
        assert response.status_code == 200
        assert "<svg" not in response.content.decode()
        assert "shown to senior authors only" in page_text(response)
    assert download.status_code == 403
    assert "only senior authors download it" in page_text(download)


def test_once_unblinded_a_reviewer_sees_and_downloads_the_diagram(client, team):
    make_record(team.review)
    team.review.blinded = False
    team.review.save(update_fields=["blinded"])
    client.force_login(team.reviewer)

    page = client.get(reverse("prisma", args=[team.review.slug]))
    download = client.get(
        reverse("prisma-download", args=[team.review.slug, "svg"]), {"anyway": "1"}
    )

    assert "<svg" in page.content.decode()
    assert download.status_code == 200
    assert b"<svg" in download.content
