"""Appraisal pages (`/reviews/<slug>/extraction/appraisal/...`).

Who sees what is extraction's rule too (`extraction.dual.rules.may_view`): your own
appraisal; the consensus; and, for a senior who is not one of the study's assessors, either
assessor's appraisal once the study has both (so looking cannot be followed by
appraising). The two assessors never see each other's appraisal; the comparison opens to
seniors once both are done. Review-wide figures (everyone's progress, agreement) are for
those `may_see_review_wide_figures` allows. The results show final (consensus)
judgements only.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from extraction.appraisal import results as results_
from extraction.appraisal.models import Appraisal, Design
from extraction.appraisal.selectors import (
    OVERALL,
    Progress,
    agreement_by_domain,
    appraisal_setup_of,
    compare,
    designs_of,
    judge,
    progress_seen_by,
    tool_for_design,
    tools_of,
)
from extraction.appraisal.services import (
    appraisal_reopen,
    appraisal_save,
    appraisal_start,
    consensus_start,
    consensus_take,
    copies_of,
    custom_tool_save,
    design_set,
    may_edit,
    tools_choose,
)
from extraction.appraisal.tools import ALL_LEVELS, COLOURS, Tool
from extraction.dual import rules
from extraction.dual import views as dual
from extraction.dual.selectors import study_copies
from extraction.views.entry import study_pdfs
from reviewer.access import current_user, review_for_request
from reviewer.downloads import attachment_headers
from reviewer.models import Membership, Review, Role, Study, User
from reviewer.screening.rules import may_see_review_wide_figures


def _review_wide(review: Review, membership: Membership) -> bool:
    return may_see_review_wide_figures(blinded=review.blinded, is_senior=membership.is_senior)


def may_view(appraisal: Appraisal, membership: Membership, copies: list[Appraisal]) -> bool:
    """`extraction.dual.rules.may_view`: two assessors per study."""
    return rules.may_view(appraisal, membership, copies)


@require_GET
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    review_wide = _review_wide(review, membership)
    rows = progress_seen_by(review, membership.user_id, review_wide=review_wide)
    counts = {status: 0 for status in Progress}
    for row in rows:
        counts[row.status] += 1
    return render(
        request,
        "extraction/appraisal/overview.html",
        {
            "review": review,
            "membership": membership,
            "rows": rows,
            "counts": list(counts.items()),
            "review_wide": review_wide,
            "user_id": membership.user_id,
            "agreement": agreement_by_domain(review) if review_wide else [],
            "designs": Design.choices,
        },
    )


def _study(review: Review, pk: int) -> Study:
    return get_object_or_404(Study, review=review, pk=pk)


@require_GET
def study_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    study = _study(review, pk)
    copies = study_copies(Appraisal, study, related=("assessor",))
    mine = next((c for c in copies if c.assessor_id == membership.user_id), None)
    if mine is not None:
        return redirect("appraisal-copy", slug=review.slug, pk=mine.pk)
    others, consensus = rules.split(copies)
    design = designs_of(review)[study.pk]
    tools = tools_of(review)
    slug_ = others[0].tool if others else tool_for_design(review, design)
    return render(
        request,
        "extraction/appraisal/study.html",
        {
            "review": review,
            "membership": membership,
            "study": study,
            "design": design,
            "designs": Design.choices,
            "tool": tools.get(slug_),
            "copies": [c for c in copies if may_view(c, membership, copies)],
            "consensus": consensus,
            "can_start": len(others) < rules.copies_needed(True),
            "assessors": [c.assessor for c in others],
            "pdfs": study_pdfs(review, study),
        },
    )


@require_POST
def study_start(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug)
    study = _study(review, pk)
    try:
        appraisal = appraisal_start(study=study, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("appraisal-study", slug=review.slug, pk=study.pk)
    return redirect("appraisal-copy", slug=review.slug, pk=appraisal.pk)


@require_POST
def study_design(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    study = _study(review, pk)
    try:
        design_set(study=study, user=current_user(request), design=request.POST.get("design", ""))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"{study.label}: design saved.")
    if request.POST.get("next") == "overview":
        return redirect(reverse("appraisal-overview", args=[review.slug]) + f"#study-{study.pk}")
    return redirect("appraisal-study", slug=review.slug, pk=study.pk)


def _copy(review: Review, pk: int) -> Appraisal:
    return get_object_or_404(
        Appraisal.objects.select_related("study", "assessor", "review"), review=review, pk=pk
    )


def _submitted(post: QueryDict, tool: Tool) -> tuple[dict[str, Any], dict[str, Any]]:
    answers = {
        q.key: {"a": post.get(f"q-{q.key}", ""), "note": post.get(f"n-{q.key}", "")}
        for q in tool.questions
    }
    judgements = {
        key: {"level": post.get(f"j-{key}", ""), "reason": post.get(f"r-{key}", "")}
        for key in [*(d.key for d in tool.domains), OVERALL]
    }
    return answers, judgements


def _copy_context(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    appraisal: Appraisal,
    *,
    answers: dict[str, Any] | None = None,
    judgements: dict[str, Any] | None = None,
    missing: list[str] | None = None,
) -> dict[str, Any]:
    tool = tools_of(review)[appraisal.tool]
    answers = appraisal.answers if answers is None else answers
    judgements = appraisal.judgements if judgements is None else judgements
    judged = judge(tool, answers, judgements)
    domains = []
    for result in judged.domains:
        domains.append(
            {
                "result": result,
                "questions": [
                    {
                        "q": q,
                        "answer": str((answers.get(q.key) or {}).get("a", "")),
                        "note": str((answers.get(q.key) or {}).get("note", "")),
                    }
                    for q in result.domain.questions
                ],
                "suggested_label": tool.label(result.suggested),
            }
        )
    pdfs = study_pdfs(review, appraisal.study)
    chosen = request.GET.get("report", "")
    pdf = next((p for p in pdfs if str(p[0].record_id) == chosen), pdfs[0] if pdfs else None)
    return {
        "review": review,
        "membership": membership,
        "study": appraisal.study,
        "appraisal": appraisal,
        "tool": tool,
        "judged": judged,
        "domains": domains,
        "levels": [(key, tool.levels[key]) for key in ALL_LEVELS if key in tool.levels],
        "overall_levels": [
            (key, tool.overall_levels[key]) for key in ALL_LEVELS if key in tool.overall_levels
        ],
        "overall_suggested_label": tool.label(judged.overall_suggested, overall=True),
        "editable": may_edit(appraisal, membership) and not appraisal.done,
        "missing": missing or [],
        "pdfs": pdfs,
        "pdf": pdf,
    }


@require_http_methods(["GET", "POST"])
def copy_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One appraisal beside the PDF: shown to those who may see it, saved by its editor.
    "Save and mark done" checks every answer first; with anything missing nothing is
    marked and the page says what (the answers are saved)."""
    review, membership = review_for_request(request, slug)
    appraisal = _copy(review, pk)
    copies = study_copies(Appraisal, appraisal.study)
    if not may_view(appraisal, membership, copies):
        raise Http404("No such appraisal.")
    if request.method == "GET":
        return render(
            request,
            "extraction/appraisal/copy.html",
            _copy_context(request, review, membership, appraisal),
        )
    if not may_edit(appraisal, membership):
        raise PermissionDenied("This appraisal is not yours to edit.")
    tool = tools_of(review)[appraisal.tool]
    answers, judgements = _submitted(request.POST, tool)
    done = request.POST.get("then") == "done"
    try:
        missing = appraisal_save(
            appraisal=appraisal,
            user=current_user(request),
            answers=answers,
            judgements=judgements,
            done=done,
        )
    except ValidationError as error:
        messages.error(request, f"Nothing was saved: {error.messages[0]}")
        context = _copy_context(
            request, review, membership, appraisal, answers=answers, judgements=judgements
        )
        return render(request, "extraction/appraisal/copy.html", context, status=400)
    if missing:
        messages.error(
            request,
            f"Saved, but not marked done: {len(missing)} thing{'s' if len(missing) > 1 else ''} "
            "to complete (listed above the form).",
        )
        appraisal.refresh_from_db()
        context = _copy_context(request, review, membership, appraisal, missing=missing)
        return render(request, "extraction/appraisal/copy.html", context, status=400)
    if done:
        messages.success(request, "Final." if appraisal.is_consensus else "Saved and marked done.")
    else:
        messages.success(request, "Saved.")
    return redirect("appraisal-copy", slug=review.slug, pk=appraisal.pk)


@require_POST
def copy_reopen(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    appraisal = _copy(review, pk)
    copies = study_copies(Appraisal, appraisal.study)
    if not may_view(appraisal, membership, copies):
        raise Http404("No such appraisal.")
    if not rules.may_reopen(appraisal, membership, copies):
        raise PermissionDenied("This appraisal is not yours to reopen.")
    try:
        appraisal_reopen(appraisal=appraisal, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "Reopened for changes.")
    return redirect("appraisal-copy", slug=review.slug, pk=appraisal.pk)


# --- the senior's comparison and consensus (`extraction.dual.views`) ---


def _take(consensus: Appraisal, user: User, side: dual.Side, post: QueryDict) -> None:
    consensus_take(
        consensus=consensus,
        user=user,
        side=side,
        kind=post.get("kind", ""),
        key=post.get("key", ""),
    )


PAGES = dual.ConsensusPages(
    model=Appraisal,
    prefix="appraisal",
    template="extraction/appraisal/compare.html",
    started="Consensus started from every answer the two agree on.",
    no_side="Say which appraisal to take the answer from.",
    copies_of=copies_of,
    consensus_start=consensus_start,
    comparison=lambda review, a, b, consensus: compare(a, b, tools_of(review), consensus),
    take=_take,
)


VIEWS = dual.page_views(PAGES)


# --- the owner's choice of tools ---


@require_http_methods(["GET", "POST"])
def setup_page(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug, role=Role.OWNER)
    setup = appraisal_setup_of(review)
    tools = tools_of(review)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "custom":
                definition = json.loads(request.POST.get("definition", "") or "null")
                if not isinstance(definition, dict):
                    raise ValidationError("Paste the tool as a JSON object.")
                custom_tool_save(review=review, user=current_user(request), definition=definition)
                messages.success(request, "Your tool is saved: choose it for a design below.")
            else:
                tools_choose(
                    review=review,
                    user=current_user(request),
                    tools={d: request.POST.get(f"tool-{d}", "") for d in Design.values},
                    default_design=request.POST.get("default_design", setup.default_design),
                )
                messages.success(request, "Appraisal tools saved.")
        except json.JSONDecodeError as error:
            messages.error(
                request, f"The tool is not valid JSON: line {error.lineno}, {error.msg}."
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
        return redirect("appraisal-setup", slug=review.slug)
    return render(
        request,
        "extraction/appraisal/setup.html",
        {
            "review": review,
            "membership": membership,
            "setup": setup,
            "tools": list(tools.values()),
            "rows": [
                (value, label, tool_for_design(review, value, setup))
                for value, label in Design.choices
            ],
            "designs": Design.choices,
        },
    )


# --- results ---


@require_GET
def results_page(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    tool_results = results_.results(review)
    return render(
        request,
        "extraction/appraisal/results.html",
        {
            "review": review,
            "membership": membership,
            "results": [
                {
                    "result": r,
                    "slug": r.tool.slug,
                    "table": _table(r),
                }
                for r in tool_results
            ],
            "methods": results_.methods_sentence(review, tool_results),
            "colours": COLOURS,
        },
    )


def _table(result: results_.ToolResult) -> list[dict[str, Any]]:
    return [
        {
            "study": row.study,
            "cells": [(d.level, result.tool.label(d.level)) for d in row.judged.domains],
            "stars": row.judged.stars,
            "overall": (row.judged.overall, result.tool.label(row.judged.overall, overall=True)),
        }
        for row in result.rows
    ]


FILE_TYPES = {**results_.FIGURE_TYPES, "csv": "text/csv"}


@require_GET
def download(request: HttpRequest, slug: str, tool: str, what: str, fmt: str) -> HttpResponse:
    review, _ = review_for_request(request, slug)
    found = next((r for r in results_.results(review) if r.tool.slug == tool), None)
    if found is None:
        raise Http404("No final appraisal with that tool.")
    if what in ("traffic-light", "summary") and fmt in results_.FIGURE_TYPES:
        content: str | bytes = results_.figure(found, what, fmt)
    elif what == "robvis" and fmt == "csv":
        content = results_.robvis_csv(found)
    elif what == "table" and fmt == "csv":
        content = results_.table_csv(found)
    else:
        raise Http404("No such file.")
    return HttpResponse(
        content,
        content_type=FILE_TYPES[fmt],
        headers=attachment_headers(review, f"risk-of-bias-{tool}-{what}", fmt),
    )


urlpatterns: list[URLPattern] = [
    path("appraisal/", overview, name="appraisal-overview"),
    path("appraisal/setup/", setup_page, name="appraisal-setup"),
    path("appraisal/results/", results_page, name="appraisal-results"),
    path(
        "appraisal/results/<slug:tool>/<slug:what>.<str:fmt>",
        download,
        name="appraisal-download",
    ),
    path("appraisal/studies/<int:pk>/", study_page, name="appraisal-study"),
    path("appraisal/studies/<int:pk>/start/", study_start, name="appraisal-start"),
    path("appraisal/studies/<int:pk>/design/", study_design, name="appraisal-design"),
    path("appraisal/studies/<int:pk>/compare/", VIEWS.compare, name="appraisal-compare"),
    path(
        "appraisal/studies/<int:pk>/compare/start/",
        VIEWS.start,
        name="appraisal-consensus-start",
    ),
    path("appraisal/<int:pk>/", copy_page, name="appraisal-copy"),
    path("appraisal/<int:pk>/reopen/", copy_reopen, name="appraisal-reopen"),
    path("appraisal/<int:pk>/take/", VIEWS.take, name="appraisal-take"),
]
