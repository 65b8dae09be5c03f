"""Forms of the senior author's pages: adjudication, and removal before screening."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from reviewer.models import Choice, ExclusionReason, Review, Source, Stage


class AdjudicationForm(forms.Form):
    """The senior's final decision on a record waiting for one.

    At full text the reasons offered first are those the reviewers gave; when they gave one
    reason between them, it is chosen already. Whether a reason is needed, and whether
    "include" is allowed, is the service's to say (`services.screening.adjudicate`).
    """

    choice = forms.ChoiceField(choices=[(Choice.INCLUDE, "Include"), (Choice.EXCLUDE, "Exclude")])
    reason = forms.ChoiceField(label="Reason to report", required=False)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why, for the record (kept in the history).",
    )

    def __init__(
        self,
        *args: Any,
        review: Review,
        stage: str,
        given_reason_ids: Iterable[int] = (),
        reason_required: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.stage = stage
        self.reasons = {r.pk: r for r in review.exclusion_reasons.filter(is_active=True)}
        given = [pk for pk in dict.fromkeys(given_reason_ids) if pk in self.reasons]
        others = [pk for pk in self.reasons if pk not in given]
        choices: list[Any] = [("", "— choose the reason —")]
        if given:
            choices.append(
                ("Given by the reviewers", [(pk, self.reasons[pk].label) for pk in given])
            )
            choices.append(("Other reasons", [(pk, self.reasons[pk].label) for pk in others]))
        else:
            choices.extend((pk, self.reasons[pk].label) for pk in others)
        field = self.fields["reason"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
        field.widget.attrs.update({"data-key": "r", "aria-keyshortcuts": "r"})
        if reason_required:  # both reviewers excluded: only the reason is left to choose
            field.widget.attrs["required"] = True
        if len(given) == 1:
            field.initial = given[0]

    def clean_reason(self) -> ExclusionReason | None:
        value = self.cleaned_data.get("reason") or ""
        if self.stage != Stage.FULL_TEXT or not value:
            return None
        return self.reasons.get(int(value))


class RemovalForm(forms.Form):
    """Which records to remove before screening: every condition set must hold."""

    before_year = forms.IntegerField(
        label="Published before",
        required=False,
        min_value=1000,
        max_value=2999,
        help_text="A year, e.g. 1990. Records with no year are not removed by this rule.",
    )
    not_english = forms.BooleanField(
        label="Not in English",
        required=False,
        help_text="Records whose language is given and is not English (eng, en, English). "
        "Records with no language are not removed by this rule.",
    )
    source = forms.ModelChoiceField(
        label="From the search",
        queryset=Source.objects.none(),
        required=False,
        empty_label="any search",
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=200,
        help_text="As the PRISMA diagram will say it; left empty, it is written from the rules.",
    )

    def __init__(self, *args: Any, review: Review, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["source"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = review.sources.order_by("name", "pk")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("before_year") or data.get("not_english") or data.get("source")):
            raise forms.ValidationError("Set at least one rule: a year, the language, or a search.")
        if not (data.get("reason") or "").strip():
            data["reason"] = self.default_reason(data)
        return data

    @staticmethod
    def default_reason(data: dict[str, Any]) -> str:
        parts = []
        if data.get("before_year"):
            parts.append(f"published before {data['before_year']}")
        if data.get("not_english"):
            parts.append("not in English")
        if data.get("source"):
            parts.append(f"from {data['source'].name}")
        text = ", ".join(parts)
        return text[:1].upper() + text[1:]
