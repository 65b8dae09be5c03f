"""A small review with a stored search export, decisions and a full-text PDF: enough rows of
enough kinds to test the restore's checks quickly."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewer.demo.screening import demo_pdf
from reviewer.models import Review, User
from reviewer.services.screening import full_text_attach
from tests.factories import (
    add_member,
    make_record,
    make_review,
    make_user,
    pass_title_abstract,
    screen,
)


def small_review() -> Review:
    owner = make_user("olga", email="olga@example.org", first_name="Olga")
    review = make_review(owner=owner, title="Adult IMT")
    reviewer = add_member(review, make_user("rita", email="Rita@Example.org")).user
    sought = pass_title_abstract(make_record(review, title="IMT of the lung"), owner, reviewer)
    screen(make_record(review, title="Myocarditis"), reviewer, "exclude")
    full_text_attach(
        record=sought,
        user=owner,
        upload=SimpleUploadedFile("lung.pdf", demo_pdf("IMT of the lung"), "application/pdf"),
    )
    return review


def stored_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def nothing_changed(before: tuple[int, int, set[str]]) -> bool:
    return snapshot() == before


def snapshot() -> tuple[int, int, set[str]]:
    return Review.objects.count(), User.objects.count(), stored_files()
