"""The form builder (owners): fields at the study and patient level, their choices, the
ready-made template, and the dual-extraction setting.

Every change goes through `extraction.services.forms`, which refuses what would lose or
silently change stored values; its messages are shown as written.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_POST

from extraction.forms import ChoiceForm, FieldCreateForm, FieldEditForm
from extraction.models import Field, FieldChoice, Level
from extraction.selectors import extraction_setup_of
from extraction.services import forms as services
from extraction.templates_catalog import CATALOG, template_load
from extraction.values import form_spec
from reviewer.access import review_for_request
from reviewer.models import Membership, Review, Role


def _back(review: Review, anchor: str = "") -> HttpResponse:
    response = redirect("extraction-form", slug=review.slug)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def _refused(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _render(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    create_form: FieldCreateForm,
    status: int = 200,
) -> HttpResponse:
    spec = form_spec(review)
    levels = [
        (level, [f for f in spec.fields if f.level == level])
        for level in (Level.STUDY, Level.PATIENT)
    ]
    return render(
        request,
        "extraction/form.html",
        {
            "review": review,
            "membership": membership,
            "levels": levels,
            "choices": spec.choices,
            "held": {f.pk: services.values_held(f) for f in spec.fields},
            "uses": {
                choice.pk: services.choice_uses(choice)
                for options in spec.choices.values()
                for choice in options
            },
            "setup": extraction_setup_of(review),
            "create_form": create_form,
            "catalog": CATALOG,
        },
        status=status,
    )


@require_GET
def form_page(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug, role=Role.OWNER)
    return _render(request, review, membership, FieldCreateForm())


@require_POST
def form_setup(request: HttpRequest, slug: str) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    dual = request.POST.get("dual") == "on"
    try:
        setup = services.setup_update(
            review=review,
            dual=dual,
            row_noun=request.POST.get("row_noun"),
            row_noun_plural=request.POST.get("row_noun_plural"),
        )
    except ValidationError as problem:
        messages.error(request, " ".join(problem.messages))
        return _back(review)
    text = "Dual extraction is on." if dual else "Single extraction is on."
    messages.success(request, f"{text} Each patient-level row is one {setup.row_noun}.")
    return _back(review)


@require_POST
def form_template(request: HttpRequest, slug: str) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    name = request.POST.get("template", "")
    if name not in CATALOG:
        messages.error(request, "No such template.")
        return _back(review)
    added, skipped = template_load(review=review, name=name)
    text = f"{len(added)} field(s) added from “{CATALOG[name][0]}”."
    if skipped:
        text += f" Already in the form, so left as they are: {', '.join(skipped)}."
    messages.success(request, text)
    return _back(review)


@require_POST
def field_add(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug, role=Role.OWNER)
    form = FieldCreateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            created = services.field_create(
                review=review,
                level=data["level"],
                label=data["label"],
                type=data["type"],
                key=data["key"],
                unit=data["unit"],
                required=data["required"],
                min_value=data["min_value"],
                max_value=data["max_value"],
                help_text=data["help_text"],
                choices=form.choice_list(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"“{created.label}” added.")
            return _back(review, f"field-{created.pk}")
    messages.error(request, "The field was not added: see the form below.")
    return _render(request, review, membership, form, status=400)


def _field(review: Review, pk: int) -> Field:
    return get_object_or_404(Field, review=review, pk=pk)


@require_POST
def field_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    target = _field(review, pk)
    form = FieldEditForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, f"{target.label}: {message}")
        return _back(review, f"field-{pk}")
    try:
        services.field_update(field=target, **form.cleaned_data)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, f"“{target.label}” saved.")
    return _back(review, f"field-{pk}")


@require_POST
def field_move(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    target = _field(review, pk)
    services.field_move(field=target, offset=-1 if request.POST.get("direction") == "up" else 1)
    return _back(review, f"field-{pk}")


@require_POST
def field_retire(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    target = _field(review, pk)
    retired = request.POST.get("retired") == "1"
    services.field_retire(field=target, retired=retired)
    if retired:
        messages.success(
            request, f"“{target.label}” retired: it left the form, its values are kept."
        )
    else:
        messages.success(request, f"“{target.label}” is back on the form, with its values.")
    return _back(review, f"field-{pk}")


@require_POST
def field_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    target = _field(review, pk)
    try:
        services.field_delete(field=target)
    except ValidationError as error:
        _refused(request, error)
        return _back(review, f"field-{pk}")
    messages.success(request, f"“{target.label}” deleted.")
    return _back(review)


@require_POST
def choice_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    target = _field(review, pk)
    form = ChoiceForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Give the choice a label.")
        services.choice_add(field=target, label=form.cleaned_data["label"])
    except ValidationError as error:
        _refused(request, error)
    return _back(review, f"field-{pk}")


def _choice(review: Review, pk: int) -> FieldChoice:
    return get_object_or_404(FieldChoice, field__review=review, pk=pk)


@require_POST
def choice_change(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Rename, retire, restore or delete a choice (`action` says which)."""
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    choice = _choice(review, pk)
    action = request.POST.get("action", "")
    try:
        if action == "rename":
            services.choice_rename(choice=choice, label=request.POST.get("label", ""))
        elif action in ("retire", "restore"):
            services.choice_retire(choice=choice, retired=action == "retire")
        elif action == "delete":
            services.choice_delete(choice=choice)
            messages.success(request, f"Choice “{choice.label}” deleted.")
        else:
            raise ValidationError("Say what to do with the choice.")
    except ValidationError as error:
        _refused(request, error)
    return _back(review, f"field-{choice.field_id}")


urlpatterns: list[URLPattern] = [
    path("form/", form_page, name="extraction-form"),
    path("form/setup/", form_setup, name="extraction-form-setup"),
    path("form/template/", form_template, name="extraction-form-template"),
    path("form/fields/", field_add, name="extraction-field-add"),
    path("form/fields/<int:pk>/", field_edit, name="extraction-field-edit"),
    path("form/fields/<int:pk>/move/", field_move, name="extraction-field-move"),
    path("form/fields/<int:pk>/retire/", field_retire, name="extraction-field-retire"),
    path("form/fields/<int:pk>/delete/", field_delete, name="extraction-field-delete"),
    path("form/fields/<int:pk>/choices/", choice_add, name="extraction-choice-add"),
    path("form/choices/<int:pk>/", choice_change, name="extraction-choice-change"),
]
