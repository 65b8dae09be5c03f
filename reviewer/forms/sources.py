from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from reviewer.imports.base import MAPPABLE_FIELDS, FileFormat
from reviewer.models import Source


class SourceForm(forms.ModelForm):
    class Meta:
        model = Source
        fields = ["name", "kind", "search_date", "query", "notes"]
        widgets = {
            "name": forms.TextInput(attrs={"list": "source-names", "autocomplete": "off"}),
            "search_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "query": forms.Textarea(attrs={"rows": 5, "class": "mono"}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args: object, **kwargs: object) -> None:
        # Empty files are refused in UploadForm.clean_files, with the file's name.
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self, data: object, initial: object = None) -> list[UploadedFile]:
        single = super().clean
        if not data:
            return [single(None, initial)]  # raises "This field is required."
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


FIELD_LABELS = {"doi": "DOI", "pmid": "PMID", "url": "URL", "publication_type": "Publication type"}

FORMAT_CHOICES = [("", "Detect from the file’s content"), *FileFormat.choices]


class UploadForm(forms.Form):
    # A form field called "files" shadows Form.files only on the class: Django's form
    # metaclass moves declared fields into base_fields.
    files = MultipleFileField(  # type: ignore[assignment]
        label="Export files",
        help_text="One or more files exported from this search (RIS, MEDLINE/.nbib, Web of "
        "Science, BibTeX, EndNote XML or .enw, CSV/TSV, XLSX).",
    )
    format = forms.ChoiceField(choices=FORMAT_CHOICES, required=False, label="Format")

    def clean_files(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data["files"]
        limit = settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024
        for f in files:
            if f.size is not None and f.size > limit:
                raise forms.ValidationError(
                    f"“{f.name}” is {filesizeformat(f.size)}; the upload limit is "
                    f"{settings.IMPORT_MAX_UPLOAD_MB} MB. Split the export into smaller files, "
                    "or import it with `python manage.py import_search` on the server "
                    "(the limit is the IMPORT_MAX_UPLOAD_MB setting)."
                )
            if f.size == 0:
                raise forms.ValidationError(f"“{f.name}” is empty (0 bytes).")
        return files


class ReconfigureForm(forms.Form):
    """Format override and, for spreadsheets, which column holds which field."""

    format = forms.ChoiceField(choices=FORMAT_CHOICES, required=False)

    def __init__(self, *args: object, columns: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.columns = columns
        choices = [("", "— none —"), *((c, c) for c in columns)]
        for name in MAPPABLE_FIELDS:
            self.fields[f"map_{name}"] = forms.ChoiceField(
                choices=choices, required=False, label=FIELD_LABELS.get(name, name.capitalize())
            )

    def mapping(self) -> dict[str, str] | None:
        if not self.columns:
            return None
        return {
            name: self.cleaned_data[f"map_{name}"]
            for name in MAPPABLE_FIELDS
            if self.cleaned_data.get(f"map_{name}")
        }
