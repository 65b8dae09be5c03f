"""The PRISMA 2020 flow diagram page and its downloads.

The counts are review-wide figures: they move with a colleague's decision on a record still
open, so a reviewer of a blinded review sees a note instead, and may not download them
(`rules.may_see_review_wide_figures`). A diagram whose numbers break the template's
arithmetic is not downloaded silently: the page says which rule and by how much, and a
download needs an explicit "export anyway". The diagram of an unfinished review is
provisional: the page, the figure and every download say so (`reviewer.prisma.files`).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from reviewer.access import review_for_request
from reviewer.downloads import attachment_headers
from reviewer.models import Membership, Review
from reviewer.prisma.counts import PrismaReport, prisma_report
from reviewer.prisma.files import FORMATS, prisma_file
from reviewer.prisma.validate import validate
from reviewer.screening.rules import may_see_review_wide_figures


def figure_svg(report: PrismaReport) -> str:
    """The drawing as the SVG download gives it (the provisional banner included)."""
    svg = prisma_file(report, "svg")
    assert isinstance(svg, str)
    return svg


def _review_wide(review: Review, membership: Membership) -> bool:
    return may_see_review_wide_figures(blinded=review.blinded, is_senior=membership.is_senior)


@require_GET
def prisma_page(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    if not _review_wide(review, membership):
        return render(
            request, "reviewer/prisma_blinded.html", {"review": review, "membership": membership}
        )
    report = prisma_report(review)
    counts = report.counts
    context = {
        "review": review,
        "membership": membership,
        "counts": counts,
        "problems": validate(counts, pending=report.pending),
        "waiting": report.waiting,
        "has_records": review.records.exists(),
        # our own drawing: every text in it is escaped by the renderer
        "svg": mark_safe(figure_svg(report)),
        "formats": FORMATS,
    }
    return render(request, "reviewer/prisma.html", context)


@require_GET
def prisma_figure(request: HttpRequest, slug: str) -> HttpResponse:
    """Just the drawing, for the dashboard to load after the page (it updates as screening
    goes on)."""
    review, membership = review_for_request(request, slug)
    if not _review_wide(review, membership):
        return render(request, "reviewer/partials/prisma_blinded.html")
    context = {"review": review, "svg": mark_safe(figure_svg(prisma_report(review)))}
    return render(request, "reviewer/partials/prisma_figure.html", context)


@require_GET
def prisma_download(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    if fmt not in FORMATS:
        raise Http404("No such format.")
    if not _review_wide(review, membership):
        raise PermissionDenied(
            "The PRISMA diagram counts everyone's decisions: while this review is blinded, "
            "only senior authors download it."
        )
    report = prisma_report(review)
    problems = validate(report.counts, pending=report.pending)
    if problems and request.GET.get("anyway") != "1":
        context = {
            "review": review,
            "membership": membership,
            "problems": problems,
            "fmt": fmt,
        }
        return render(request, "reviewer/prisma_refused.html", context, status=409)
    name, content_type = FORMATS[fmt]
    what, ext = name.rsplit(".", 1)
    if not report.waiting.final:  # the name says it too, so a folder of drafts is clear
        what += "-provisional"
    return HttpResponse(
        prisma_file(report, fmt),
        content_type=content_type,
        headers=attachment_headers(review, what, ext),
    )


urlpatterns: list[URLPattern] = [
    path("prisma/", prisma_page, name="prisma"),
    path("prisma/figure/", prisma_figure, name="prisma-figure"),
    path("prisma/download/<str:fmt>/", prisma_download, name="prisma-download"),
]
