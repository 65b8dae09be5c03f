"""Forms of the extraction pages: the form builder's field and choice forms."""

from __future__ import annotations

from django import forms

from extraction.models import FieldType, Level


class FieldCreateForm(forms.Form):
    level = forms.ChoiceField(choices=Level.choices, initial=Level.PATIENT)
    label = forms.CharField(max_length=120)
    type = forms.ChoiceField(choices=FieldType.choices, initial=FieldType.TEXT)
    key = forms.SlugField(
        max_length=60,
        required=False,
        help_text="Column name in exports, made from the label when left empty. It cannot change.",
    )
    unit = forms.CharField(
        max_length=30,
        required=False,
        help_text="Number fields only: the unit their values are in, e.g. cm.",
    )
    required = forms.BooleanField(required=False)
    min_value = forms.DecimalField(label="Minimum", required=False, max_digits=20, decimal_places=6)
    max_value = forms.DecimalField(label="Maximum", required=False, max_digits=20, decimal_places=6)
    help_text = forms.CharField(max_length=300, required=False, label="Help text")
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Choice fields: one choice per line.",
    )

    def choice_list(self) -> list[str]:
        return [line for line in self.cleaned_data["choices"].splitlines() if line.strip()]


class FieldEditForm(forms.Form):
    label = forms.CharField(max_length=120)
    unit = forms.CharField(max_length=30, required=False)
    required = forms.BooleanField(required=False)
    min_value = forms.DecimalField(label="Minimum", required=False, max_digits=20, decimal_places=6)
    max_value = forms.DecimalField(label="Maximum", required=False, max_digits=20, decimal_places=6)
    help_text = forms.CharField(max_length=300, required=False, label="Help text")


class ChoiceForm(forms.Form):
    label = forms.CharField(max_length=120)
