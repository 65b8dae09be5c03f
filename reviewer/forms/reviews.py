from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from reviewer.models import ExclusionReason, Review, Role, User


class TermListField(forms.CharField):
    """A list of terms typed one per line (or separated by semicolons)."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value: object) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        terms: list[str] = []
        for line in text.replace(";", "\n").splitlines():
            term = " ".join(line.split())
            if term and term.lower() not in {t.lower() for t in terms}:
                terms.append(term)
        return terms


class ReviewForm(forms.ModelForm):
    highlight_include = TermListField(
        label="Highlight as relevant",
        required=False,
        help_text="One term per line, e.g. inflammatory myofibroblastic; child*",
    )
    highlight_exclude = TermListField(
        label="Highlight as irrelevant",
        required=False,
        help_text="One term per line, e.g. adult; case report",
    )

    class Meta:
        model = Review
        fields = ["title", "question", "criteria", "highlight_include", "highlight_exclude"]
        widgets = {
            "question": forms.Textarea(attrs={"rows": 3}),
            "criteria": forms.Textarea(attrs={"rows": 8}),
        }


class ReviewSettingsForm(ReviewForm):
    labels = TermListField(
        label="Labels for records",
        required=False,
        help_text="The review's shared labels, one per line, offered on every record while "
        "screening (anyone may also add labels of their own), e.g. case series; ask Ana",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta(ReviewForm.Meta):
        fields = [
            *ReviewForm.Meta.fields,
            "labels",
            "blinded",
            "previous_studies",
            "previous_reports",
        ]

    def clean_labels(self) -> list[str]:
        labels: list[str] = self.cleaned_data.get("labels") or []
        for label in labels:
            if len(label) > 60:
                raise forms.ValidationError(f"A label is at most 60 characters: “{label[:20]}…”.")
        return labels

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        studies, reports = cleaned.get("previous_studies"), cleaned.get("previous_reports")
        if (studies is None) != (reports is None):
            raise forms.ValidationError(
                "For an update of a review, give both its studies and its reports (or neither)."
            )
        if studies is not None and reports is not None and studies > reports:
            raise forms.ValidationError("A study has at least one report: studies ≤ reports.")
        return cleaned


class ColleagueChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.username})" if name else str(obj.username)


class MemberAddForm(forms.Form):
    """Add a colleague: someone who shares another review with the owner (see
    `selectors.colleagues`); anyone else is invited by email."""

    user = ColleagueChoice(queryset=User.objects.none(), label="Colleague", empty_label=None)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REVIEWER, label="Their role")

    def __init__(self, *args: Any, colleagues: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = colleagues  # type: ignore[attr-defined]


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ExclusionReasonForm(forms.ModelForm):
    class Meta:
        model = ExclusionReason
        fields = ["label", "is_active"]
        labels = {"label": "Reason", "is_active": "Offered to reviewers"}
