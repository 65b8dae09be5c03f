from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from reviewer.models import Review


class RestoreForm(forms.Form):
    archive = forms.FileField(
        label="Review archive (.zip)",
        help_text="A file downloaded from a review's Archive page, or written by "
        "<code>manage.py export_review</code>.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )
    slug = forms.SlugField(
        label="Address of the restored review",
        max_length=60,
        required=False,
        help_text="Letters, numbers and hyphens, as in /reviews/<em>address</em>/. Leave empty "
        "to keep the archived one.",
    )

    def clean_archive(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["archive"]
        limit = settings.ARCHIVE_MAX_UPLOAD_MB * 1024 * 1024
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                f"“{upload.name}” is {filesizeformat(upload.size)}; the limit here is "
                f"{settings.ARCHIVE_MAX_UPLOAD_MB} MB. Restore larger archives with "
                "manage.py import_review."
            )
        return upload

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data["slug"]
        if slug and Review.objects.filter(slug=slug).exists():
            raise forms.ValidationError(f"A review with the address “{slug}” exists already.")
        return slug
