"""Forms of the screening pages: a decision, a full-text upload or note, one's own keys.

They only check the shape of the input; the rules (an exclusion at full text needs a
reason, the record must be at the stage, ...) are the services' to enforce, so their
messages are the ones a person sees.
"""

from __future__ import annotations

from typing import Any

from django import forms

from reviewer.models import STAGE_CHOICES, ExclusionReason, Review, Stage
from reviewer.screening.keys import ACTIONS, keys_for, validate_keys


class DecisionForm(forms.Form):
    choice = forms.ChoiceField()
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.ModelChoiceField(
        queryset=ExclusionReason.objects.none(),
        required=False,
        label="Reason for excluding",
        empty_label="Choose a reason…",
    )

    def __init__(self, *args: Any, review: Review, stage: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.data.get("exclude_reason"):
            # a reason's own button (its digit at title/abstract): exclude, with that reason
            data = dict(self.data.items())
            data["choice"] = "exclude"
            data["reason"] = data["exclude_reason"]
            self.data = data
        choices = STAGE_CHOICES[Stage(stage)]
        choice = self.fields["choice"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [(c.value, c.label) for c in choices]
        message = "Choose " + " or ".join(c.label.lower() for c in choices) + "."
        choice.error_messages.update(invalid_choice=message, required=message)
        reason = self.fields["reason"]
        assert isinstance(reason, forms.ModelChoiceField)
        reason.queryset = review.exclusion_reasons.filter(is_active=True).order_by("position", "pk")
        reason.error_messages["invalid_choice"] = (
            "That exclusion reason is not one of this review's reasons."
        )

    def first_error(self) -> str:
        for errors in self.errors.values():
            return str(errors[0])
        return "Check the decision and try again."


class FullTextUploadForm(forms.Form):
    pdf = forms.FileField(
        label="PDF of the full text",
        error_messages={
            "required": "Choose the PDF file to upload.",
            "empty": "The file is empty.",
        },
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )


class NotRetrievedForm(forms.Form):
    note = forms.CharField(
        label="What was tried",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. “Not in our library; authors e-mailed 3 March, no answer.”",
    )


class KeysForm(forms.Form):
    """One field per screening action: the key that does it (left empty: the default)."""

    def __init__(self, *args: Any, current: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keys = keys_for(current)
        for action, (_, label) in ACTIONS.items():
            self.fields[action] = forms.CharField(
                label=label,
                initial=keys[action],
                required=False,
                strip=False,
                max_length=10,
                widget=forms.TextInput(attrs={"size": 3, "autocomplete": "off"}),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for action, (default, _) in ACTIONS.items():
            if not cleaned.get(action):
                cleaned[action] = default
        for problem in validate_keys({action: cleaned[action] for action in ACTIONS}):
            self.add_error(None, problem)
        return cleaned

    def chosen(self) -> dict[str, str]:
        """The keys that differ from the defaults (what is worth keeping on the user)."""
        return {
            action: self.cleaned_data[action]
            for action, (default, _) in ACTIONS.items()
            if self.cleaned_data[action] != default
        }
