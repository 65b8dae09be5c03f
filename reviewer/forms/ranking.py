"""The stopping test's form: how large a random sample to draw, and the test's terms."""

from __future__ import annotations

from django import forms

ALPHAS = [
    ("0.05", "5% (95% confidence)"),
    ("0.01", "1% (99% confidence)"),
    ("0.1", "10% (90% confidence)"),
]


class SampleForm(forms.Form):
    size = forms.IntegerField(
        label="Records to sample",
        min_value=1,
        help_text="From the records you have not screened.",
    )
    target = forms.DecimalField(
        label="Recall target (%)",
        min_value=50,
        max_value=99.9,
        decimal_places=1,
        initial=95,
        help_text="Share of the relevant records to find.",
    )
    alpha = forms.ChoiceField(label="Significance level", choices=ALPHAS, initial="0.05")
