from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from reviewer import selectors
from reviewer.access import current_user, review_for_request
from reviewer.forms.sources import ReconfigureForm, SourceForm, UploadForm
from reviewer.models import COMMON_SOURCE_NAMES, ImportJob, ImportStatus, Review, Role
from reviewer.services import imports as import_services


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_GET
def source_list(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    context = {
        "review": review,
        "membership": membership,
        "sources": selectors.sources_with_counts(review),
        "hidden_sources": selectors.sources_with_counts(review, hidden=True).select_related(
            "hidden_by"
        ),
    }
    return render(request, "reviewer/source_list.html", context)


@require_http_methods(["GET", "POST"])
def source_new(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug, role=Role.OWNER)
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        source = form.save(commit=False)
        source.review = review
        source.created_by = request.user
        source.save()
        messages.success(request, f"Search “{source}” added. Now upload its export files.")
        return redirect(source)
    context = {
        "review": review,
        "membership": membership,
        "form": form,
        "source_names": COMMON_SOURCE_NAMES,
    }
    return render(request, "reviewer/source_form.html", context)


@require_http_methods(["GET", "POST"])
def source_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, membership = review_for_request(request, slug, role=Role.OWNER)
    source = get_object_or_404(review.sources, pk=pk)
    form = SourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Search details saved.")
        return redirect(source)
    context = {
        "review": review,
        "membership": membership,
        "form": form,
        "source": source,
        "source_names": COMMON_SOURCE_NAMES,
    }
    return render(request, "reviewer/source_form.html", context)


@require_http_methods(["GET", "POST"])
def source_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The search, its imports, and (for owners) the upload form. POST uploads files."""
    role = Role.OWNER if request.method == "POST" else Role.REVIEWER
    review, membership = review_for_request(request, slug, role=role)
    source = get_object_or_404(review.sources, pk=pk)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_services.import_job_create(
                source=source,
                files=[(f.name, f) for f in form.cleaned_data["files"]],
                created_by=current_user(request),
                format_override=form.cleaned_data["format"],
            )
        except ValidationError as error:  # a file that is no export: nothing was kept
            form.add_error("files", error)
        else:
            return redirect(job)
    context = {
        "review": review,
        "membership": membership,
        "source": source,
        "form": form,
        "jobs": source.import_jobs.select_related("created_by").prefetch_related("files"),
        "record_count": source.records.count(),
    }
    return render(request, "reviewer/source_detail.html", context)


def _job_of(review: Review, pk: int) -> ImportJob:
    jobs = ImportJob.objects.select_related("source", "created_by").filter(review=review)
    return get_object_or_404(jobs, pk=pk)


def _job_for(request: HttpRequest, slug: str, pk: int, role: Role) -> ImportJob:
    """An import job of the review, for a member with `role`."""
    review, _ = review_for_request(request, slug, role=role)
    return _job_of(review, pk)


def _job_context(request: HttpRequest, slug: str, pk: int) -> dict[str, object]:
    review, membership = review_for_request(request, slug)
    job = _job_of(review, pk)
    files = list(job.files.all())
    for f in files:
        warnings = import_services.warning_list(f.summary)
        f.losing_warnings = [w for w in warnings if w["loses_data"]]  # type: ignore[attr-defined]
        f.other_warnings = [w for w in warnings if not w["loses_data"]]  # type: ignore[attr-defined]
        # Each file carries its own form for choosing a format and mapping columns.
        f.reconfigure_form = ReconfigureForm(  # type: ignore[attr-defined]
            initial={
                "format": f.format_override,
                **{f"map_{k}": v for k, v in (f.mapping or {}).items()},
            },
            columns=(f.summary or {}).get("columns", []),
            prefix=f"file{f.pk}",
        )
    preview = job.status == ImportStatus.READY
    cut = import_services.cut_records(job) if preview else []
    return {
        "review": review,
        "membership": membership,
        "job": job,
        "files": files,
        "same_files": preview and import_services.same_files(job),
        "cut_records": cut,
        "cut_at_end": any(c["at_end"] for _, c in cut),
        "dedup": job.dedup_jobs.first() if job.status == ImportStatus.DONE else None,
    }


@require_GET
def import_detail(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The job page; an htmx poll gets only the status part, which it swaps in."""
    context = _job_context(request, slug, pk)
    template = (
        "reviewer/partials/import_status.html" if request.htmx else "reviewer/import_detail.html"
    )
    return render(request, template, context)


@require_POST
def import_confirm(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    job = _job_for(request, slug, pk, Role.OWNER)
    try:
        import_services.import_job_confirm(
            job=job,
            accept_cut=request.POST.get("accept_cut") == "1",
            import_again=request.POST.get("import_again") == "1",
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect(job)


@require_POST
def import_restart(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    job = _job_for(request, slug, pk, Role.OWNER)
    try:
        import_services.import_job_restart(job=job)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect(job)


@require_POST
def import_cancel(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    job = _job_for(request, slug, pk, Role.OWNER)
    try:
        import_services.import_job_cancel(job=job, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(job)
    messages.success(request, "Import cancelled; nothing was imported.")
    return redirect(job.source)


@require_POST
def import_reconfigure(request: HttpRequest, slug: str, pk: int, file_pk: int) -> HttpResponse:
    job = _job_for(request, slug, pk, Role.OWNER)
    import_file = get_object_or_404(job.files, pk=file_pk)
    form = ReconfigureForm(
        request.POST,
        columns=(import_file.summary or {}).get("columns", []),
        prefix=f"file{import_file.pk}",
    )
    if form.is_valid():
        try:
            import_services.import_file_reconfigure(
                import_file=import_file,
                format_override=form.cleaned_data["format"],
                mapping=form.mapping(),
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
    else:
        problems = "; ".join(
            f"{form.fields[name].label or name}: {' '.join(str(e) for e in errors)}"
            for name, errors in form.errors.items()
        )
        messages.error(request, f"Nothing was changed: {problems}")
    return redirect(job)
