"""The PRISMA 2020 flow diagram page and its downloads.

The counts are review-wide figures: they move with a colleague's decision on a record still
open, so a reviewer of a blinded review sees a note instead, and may not download them
(`rules.may_see_review_wide_figures`). A diagram whose numbers break the template's
arithmetic is not downloaded silently: the page says which rule and by how much, and a
download needs an explicit "export anyway".
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from reviewer.access import review_for_request
from reviewer.models import Membership, Review
from reviewer.prisma.counts import pending_summary, prisma_counts, prisma_report
from reviewer.prisma.template_csv import template_csv
from reviewer.prisma.types import PrismaCounts
from reviewer.prisma.validate import validate
from reviewer.screening.rules import may_see_review_wide_figures

#: format -> (file name ending, content type)
FORMATS = {
    "svg": ("flow-diagram.svg", "image/svg+xml"),
    "png": ("flow-diagram-300dpi.png", "image/png"),
    "png600": ("flow-diagram-600dpi.png", "image/png"),
    "pdf": ("flow-diagram.pdf", "application/pdf"),
    "csv": ("prisma2020-data.csv", "text/csv; charset=utf-8"),
}


def diagram_svg(counts: PrismaCounts) -> str:
    # matplotlib is imported on first use, not when the URLs load: most requests never draw
    from reviewer.prisma.diagram import diagram_svg as draw

    return draw(counts)


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
        "pending": pending_summary(report.pending),
        # our own drawing: every text in it is escaped by the renderer
        "svg": mark_safe(diagram_svg(counts)),
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
    counts = prisma_counts(review)
    context = {"review": review, "svg": mark_safe(diagram_svg(counts))}
    return render(request, "reviewer/partials/prisma_figure.html", context)


def _content(counts: PrismaCounts, fmt: str) -> bytes | str:
    if fmt == "svg":
        return diagram_svg(counts)
    from reviewer.prisma.diagram import diagram_pdf, diagram_png

    if fmt == "png":
        return diagram_png(counts, dpi=300)
    if fmt == "png600":
        return diagram_png(counts, dpi=600)
    if fmt == "pdf":
        return diagram_pdf(counts)
    return template_csv(counts)


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
    filename = f"{review.slug}-{name.rsplit('.', 1)[0]}-{timezone.localdate().isoformat()}"
    filename += "." + name.rsplit(".", 1)[1]
    return HttpResponse(
        _content(report.counts, fmt),
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


urlpatterns: list[URLPattern] = [
    path("prisma/", prisma_page, name="prisma"),
    path("prisma/figure/", prisma_figure, name="prisma-figure"),
    path("prisma/download/<str:fmt>/", prisma_download, name="prisma-download"),
]
