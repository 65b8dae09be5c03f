"""The three forms that ask for an analysis; choices come from the review's extraction form.

The forms only offer what fits (categorical fields for tables); the service checks the
spec again (`analysis.services.runs.spec_clean`), since the form may change meanwhile.
"""

from __future__ import annotations

from typing import Any

from django import forms

from analysis.models import AnalysisKind, ReportingRule
from analysis.services.data import Variable

RULE_HELP = (
    "The test whose p-value the table reports. Automatic: Fisher's exact test when any "
    "expected count is under 5, else Pearson chi-square. Every test is shown either way."
)
#: What the forms start with when the review's form has these fields (the case-series form):
#: the reference review's Table 1 and its comparison of sites.
DEFAULT_EXPOSURE = "margin"
DEFAULT_OUTCOMES = ("recurrence", "reoperation", "outcome")
DEFAULT_ROW, DEFAULT_COL = "site", "management"
YATES_HELP = "Also show the chi-square with Yates' continuity correction (2×2 tables only)."


def _choices(variables: list[Variable]) -> list[tuple[str, str]]:
    return [(v.key, v.choice_label) for v in variables]


class AnalysisForm(forms.Form):
    kind: AnalysisKind

    def __init__(self, *args: Any, variables: dict[str, Variable], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.kind.value)
        super().__init__(*args, **kwargs)
        self.variables = variables
        self.categorical = [v for v in variables.values() if v.categorical]

    risk_of_bias = forms.ChoiceField(
        label="Studies",
        required=False,
        choices=[
            ("", "Every study with final data"),
            ("low", "Sensitivity: only studies at low risk of bias"),
            ("some", "Sensitivity: studies at most at some concerns / moderate risk"),
            ("high", "Sensitivity: studies at most at high / serious risk"),
        ],
        help_text="Restrict the analysis by the final risk-of-bias appraisal; the result says so.",
    )

    def spec(self) -> dict[str, Any]:
        raise NotImplementedError

    def risk_of_bias_spec(self) -> dict[str, Any]:
        level = self.cleaned_data.get("risk_of_bias") or ""
        return {"risk_of_bias_at_most": level} if level else {}


class _TestOptions(forms.Form):
    rule = forms.ChoiceField(
        label="Reported test",
        choices=ReportingRule.choices,
        initial=ReportingRule.AUTO,
        help_text=RULE_HELP,
    )
    yates = forms.BooleanField(
        label="Yates' continuity correction", required=False, help_text=YATES_HELP
    )


class CharacteristicsForm(AnalysisForm):
    kind = AnalysisKind.CHARACTERISTICS

    chosen = forms.MultipleChoiceField(
        label="Fields", widget=forms.CheckboxSelectMultiple, required=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["chosen"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = _choices(list(self.variables.values()))
        field.initial = [key for key, v in self.variables.items() if not v.study_level]

    def spec(self) -> dict[str, Any]:
        return {"fields": self.cleaned_data["chosen"]}


class RiskFactorForm(AnalysisForm, _TestOptions):
    kind = AnalysisKind.RISK_FACTORS

    exposure = forms.ChoiceField(label="Exposure (the groups compared)")
    outcomes = forms.MultipleChoiceField(
        label="Outcomes",
        widget=forms.CheckboxSelectMultiple,
        help_text="One row per outcome, each with its counts, percentages and p-value.",
        error_messages={"required": "Tick at least one outcome."},
    )

    field_order = ["exposure", "outcomes", "rule", "yates"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = _choices(self.categorical)
        for name in ("exposure", "outcomes"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices
        keys = {key for key, _ in choices}
        if DEFAULT_EXPOSURE in keys:
            self.fields["exposure"].initial = DEFAULT_EXPOSURE
            self.fields["outcomes"].initial = [k for k in DEFAULT_OUTCOMES if k in keys]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("exposure") and data.get("exposure") in (data.get("outcomes") or []):
            self.add_error("outcomes", "The exposure cannot also be an outcome.")
        return data

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "exposure": data["exposure"],
            "outcomes": data["outcomes"],
            "rule": data["rule"],
            "yates": data["yates"],
        }


class CrosstabForm(AnalysisForm, _TestOptions):
    kind = AnalysisKind.CROSSTAB

    row = forms.ChoiceField(label="Rows")
    col = forms.ChoiceField(label="Columns")

    field_order = ["row", "col", "rule", "yates"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = _choices(self.categorical)
        for name in ("row", "col"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices
        keys = {key for key, _ in choices}
        if {DEFAULT_ROW, DEFAULT_COL} <= keys:
            self.fields["row"].initial, self.fields["col"].initial = DEFAULT_ROW, DEFAULT_COL
        elif len(choices) > 1:
            self.fields["col"].initial = choices[1][0]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("row") and data.get("row") == data.get("col"):
            self.add_error("col", "Choose a field other than the rows.")
        return data

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "row": data["row"],
            "col": data["col"],
            "rule": data["rule"],
            "yates": data["yates"],
        }


FORMS: dict[str, type[AnalysisForm]] = {
    AnalysisKind.CHARACTERISTICS: CharacteristicsForm,
    AnalysisKind.RISK_FACTORS: RiskFactorForm,
    AnalysisKind.CROSSTAB: CrosstabForm,
}
