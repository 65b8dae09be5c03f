"""Analysis pages: the runs and the forms to ask for one, a run's progress and result, and
its downloads (a chart per cross-tabulation, every table as CSV or XLSX).

Who may do what: every member of the review may look at the runs and start one. Starting a
run changes no data (it reads the final extraction data and stores a result beside it), so
it needs no more than the reviewer role, the least a member has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from analysis import exports
from analysis.forms import FORMS as TABLE_FORMS
from analysis.forms import AnalysisForm
from analysis.models import AnalysisKind, AnalysisRun, ReportingRule, RunStatus
from analysis.pooled_forms import POOLED_FORMS
from analysis.selectors import runs_of
from analysis.services import runs as services
from analysis.services.data import AnalysisData, Variable, analysis_data, form_variables
from analysis.services.pooled import (
    POOLED_KINDS,
    PooledFields,
    PooledSource,
    pooled_fields,
    pooled_fingerprint,
    pooled_source,
    pooled_spec_text,
    row_nouns,
)
from analysis.stats.forest import ForestFormat
from extraction.values import form_spec
from reviewer.access import current_user, review_for_request
from reviewer.downloads import attachment
from reviewer.models import Membership, Review

RUNS_PER_PAGE = 20
FORMS: dict[str, type[AnalysisForm]] = {**TABLE_FORMS, **POOLED_FORMS}


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


#: The reporting rules as a run's one-line summary names them.
RULE_SHORT = {
    ReportingRule.AUTO: "p by expected counts (Fisher if any under 5, else Pearson)",
    ReportingRule.PEARSON: "p from Pearson chi-square",
    ReportingRule.LIKELIHOOD_RATIO: "p from the likelihood-ratio test",
    ReportingRule.FISHER: "p from Fisher's exact test",
}


@dataclass
class RunRow:
    run: AnalysisRun
    data_changed: bool
    spec_text: str


def spec_text(run: AnalysisRun, labels: dict[str, str]) -> str:
    """What a run asked for, in a line: field labels as the form has them now."""

    def label(key: str) -> str:
        return labels.get(key, key)

    spec = run.spec
    if run.kind in POOLED_KINDS:
        return pooled_spec_text(run.kind, spec, labels)
    if run.kind == AnalysisKind.CHARACTERISTICS:
        count = len(spec.get("fields", []))
        return f"{count} patient-level field{'' if count == 1 else 's'}"
    if run.kind == AnalysisKind.RISK_FACTORS:
        text = f"{label(spec['exposure'])} against " + ", ".join(
            label(key) for key in spec["outcomes"]
        )
    else:
        text = f"{label(spec['row'])} × {label(spec['col'])}"
    text += f"; {RULE_SHORT.get(spec.get('rule', ''), spec.get('rule', ''))}"
    if spec.get("yates"):
        text += "; with Yates' correction"
    return text


def _risk_of_bias_text(run: AnalysisRun) -> str:
    level = run.spec.get(services.RISK_OF_BIAS)
    return f"; studies at most {RISK_OF_BIAS_SHORT.get(level, level)} risk of bias" if level else ""


RISK_OF_BIAS_SHORT = {"low": "low", "some": "some-concerns", "high": "high", "critical": "critical"}


def _run_rows(review: Review, runs: list[AnalysisRun], data: AnalysisData) -> list[RunRow]:
    """Each run with its one-line summary and, once finished, whether its data changed."""
    now: dict[str, str] = {}
    labels = {f.key: f.label for f in form_spec(review).fields}
    source: PooledSource | None = None  # read once for all the pooled runs listed
    rows = []
    for run in runs:
        changed = False
        if run.status == RunStatus.SUCCEEDED:
            key = f"{run.kind}:{sorted(run.spec.items())!r}"
            if key not in now and run.kind in POOLED_KINDS:
                source = source or pooled_source(review)
                now[key] = pooled_fingerprint(run.kind, run.spec, source)
            elif key not in now:
                now[key] = services.fingerprint_now(review, run.kind, run.spec, data)
            changed = now[key] != run.fingerprint
        rows.append(RunRow(run, changed, spec_text(run, labels) + _risk_of_bias_text(run)))
    return rows


def _overview(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    bound: AnalysisForm | None = None,
    status: int = 200,
) -> HttpResponse:
    runs = runs_of(review)
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    keys = {
        key
        for run in shown
        if run.status == RunStatus.SUCCEEDED
        for key in services.spec_keys(run.kind, run.spec)
    }
    data = analysis_data(review, keys)  # only the columns the listed runs read
    variables = data.variables
    pooled = pooled_fields(review)
    forms = {
        kind: bound if bound is not None and bound.kind == kind else _form(form, variables, pooled)
        for kind, form in FORMS.items()
    }
    context = {
        "review": review,
        "membership": membership,
        "page": page,
        "rows": _run_rows(review, shown, data),
        "forms": forms,
        "patients": data.patients,
        "studies": data.studies,
        "variables": variables,
        "excluded": [v for v in variables.values() if not v.categorical and not v.study_level],
        "patient_level": sum(not v.study_level for v in variables.values()),
        "nouns": row_nouns(review),
        # a refused request is said at the top, where the page opens, with a link to its form
        "refused": bound if bound is not None and bound.errors else None,
        "refused_anchor": f"ask-{bound.kind.value.replace('_', '-')}" if bound is not None else "",
    }
    return render(request, "analysis/overview.html", context, status=status)


def _form(
    form_class: type[AnalysisForm],
    variables: dict[str, Variable],
    pooled: PooledFields,
    data: Any = None,
) -> AnalysisForm:
    if form_class.kind in POOLED_KINDS:
        return form_class(data, variables=variables, pooled=pooled)
    return form_class(data, variables=variables)


@require_GET
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    return _overview(request, review, membership)


def _say_stored(request: HttpRequest, submitted: services.Submitted) -> None:
    run = submitted.run
    if submitted.stored and run.finished_at is not None:
        when = date_format(timezone.localtime(run.finished_at), "DATETIME_FORMAT")
        messages.info(request, f"Data unchanged since {when}; showing the stored result.")
    elif submitted.already_queued:
        messages.info(request, "The same analysis is already under way; here it is.")


@require_POST
def start(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    form_class = FORMS.get(request.POST.get("kind", ""))
    if form_class is None:
        messages.error(request, "Choose one of the analyses below.")
        return redirect("analysis-overview", slug=review.slug)
    form = _form(form_class, form_variables(review), pooled_fields(review), request.POST)
    if not form.is_valid():
        return _overview(request, review, membership, bound=form, status=400)
    try:
        submitted = services.analysis_submit(
            review=review,
            kind=form.kind,
            spec={**form.spec(), **form.risk_of_bias_spec()},
            user=current_user(request),
        )
    except ValidationError as problem:
        for message in problem.messages:
            form.add_error(None, message)
        return _overview(request, review, membership, bound=form, status=400)
    _say_stored(request, submitted)
    return redirect("analysis-run", slug=review.slug, pk=submitted.run.pk)


def _run_context(review: Review, membership: Membership, run: AnalysisRun) -> dict[str, Any]:
    changed = False
    if run.status == RunStatus.SUCCEEDED:  # while it runs, a poll need not read the data
        changed = services.fingerprint_now(review, run.kind, run.spec) != run.fingerprint
    labels = {f.key: f.label for f in form_spec(review).fields}
    return {
        "review": review,
        "membership": membership,
        "run": run,
        "data_changed": changed,
        "tables": (run.result or {}).get("tables", []) if run.status == RunStatus.SUCCEEDED else [],
        "spec_text": spec_text(run, labels) + _risk_of_bias_text(run),
        "nouns": row_nouns(review),
    }


@require_GET
def run_page(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """A run: its progress while it goes (an htmx poll gets only the run's body), then its
    result; without JavaScript the page refreshes itself while the run goes on."""
    review, membership = review_for_request(request, slug)
    run = get_object_or_404(runs_of(review), pk=pk)
    context = _run_context(review, membership, run)
    if request.htmx:
        return render(request, "analysis/partials/run_body.html", context)
    return render(request, "analysis/run.html", context)


@require_POST
def rerun(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug)
    run = get_object_or_404(runs_of(review), pk=pk)
    try:
        submitted = services.analysis_rerun(run=run, user=current_user(request))
    except ValidationError as problem:
        messages.error(request, f"This analysis cannot run again: {' '.join(problem.messages)}")
        return redirect("analysis-run", slug=review.slug, pk=run.pk)
    _say_stored(request, submitted)
    return redirect("analysis-run", slug=review.slug, pk=submitted.run.pk)


@require_POST
def cancel(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Stop a run that has not finished (any member: runs change no data)."""
    review, _ = review_for_request(request, slug)
    run = get_object_or_404(runs_of(review), pk=pk)
    try:
        services.analysis_run_cancel(run=run, user=current_user(request))
    except ValidationError as problem:
        messages.error(request, " ".join(problem.messages))
    else:
        messages.success(request, "Analysis run cancelled.")
    return redirect("analysis-run", slug=review.slug, pk=run.pk)


def _finished_run(request: HttpRequest, slug: str, pk: int) -> AnalysisRun:
    review, _ = review_for_request(request, slug)
    run = get_object_or_404(runs_of(review).select_related("review"), pk=pk)
    if run.status != RunStatus.SUCCEEDED or not run.result:
        raise Http404("This run has no result yet.")
    return run


@require_GET
def chart(
    request: HttpRequest, slug: str, pk: int, table: int, fmt: Literal["svg", "png"]
) -> HttpResponse:
    """The bar chart of one cross-tabulation of a run, as SVG (shown) or PNG (downloaded)."""
    run = _finished_run(request, slug, pk)
    body = exports.chart_bytes(run, table, fmt)
    if body is None:
        raise Http404("This table has no chart.")
    saved = fmt == "png"
    headers = attachment(exports.file_name(run, f"chart-{table + 1}", fmt)) if saved else {}
    return HttpResponse(body, content_type=exports.CONTENT_TYPES[fmt], headers=headers)


@require_GET
def forest(request: HttpRequest, slug: str, pk: int, table: int, fmt: ForestFormat) -> HttpResponse:
    """The forest plot of one pooled table of a run: SVG (shown), PNG or PDF (downloaded)."""
    run = _finished_run(request, slug, pk)
    body = exports.forest_bytes(run, table, fmt)
    if body is None:
        raise Http404("This table has no forest plot.")
    saved = fmt != "svg"
    headers = attachment(exports.file_name(run, f"forest-{table + 1}", fmt)) if saved else {}
    return HttpResponse(body, content_type=exports.CONTENT_TYPES[fmt], headers=headers)


@require_GET
def export(request: HttpRequest, slug: str, pk: int, fmt: str) -> HttpResponse:
    """Every table of a run: CSV (the tables one after the other) or XLSX (a sheet each)."""
    run = _finished_run(request, slug, pk)
    return HttpResponse(
        exports.tables_bytes(run, fmt),
        content_type=exports.CONTENT_TYPES[fmt],
        headers=attachment(exports.file_name(run, "tables", fmt)),
    )


urlpatterns: list[URLPattern] = [
    path("", overview, name="analysis-overview"),
    path("runs/new/", start, name="analysis-start"),
    path("runs/<int:pk>/", run_page, name="analysis-run"),
    path("runs/<int:pk>/rerun/", rerun, name="analysis-rerun"),
    path("runs/<int:pk>/cancel/", cancel, name="analysis-cancel"),
    path(
        "runs/<int:pk>/tables/<int:table>/chart.svg",
        chart,
        {"fmt": "svg"},
        name="analysis-chart-svg",
    ),
    path(
        "runs/<int:pk>/tables/<int:table>/chart.png",
        chart,
        {"fmt": "png"},
        name="analysis-chart-png",
    ),
    *(
        path(
            f"runs/<int:pk>/tables/<int:table>/forest.{fmt}",
            forest,
            {"fmt": fmt},
            name=f"analysis-forest-{fmt}",
        )
        for fmt in ("svg", "png", "pdf")
    ),
    path("runs/<int:pk>/tables.csv", export, {"fmt": "csv"}, name="analysis-export-csv"),
    path("runs/<int:pk>/tables.xlsx", export, {"fmt": "xlsx"}, name="analysis-export-xlsx"),
]
