"""The two forms that ask for a pooled result across studies (`analysis.services.pooled`).

An outcome and the level counted as the event are one choice ("Recurrence: Yes"), and so
are the two groups a ratio compares ("Margin status: Positive vs Negative"), so the form
needs no script to keep a level in step with its field. The service checks the spec again.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms

from analysis.forms import AnalysisForm
from analysis.models import AnalysisKind
from analysis.services.pooled import (
    MEASURES,
    PROPORTION_METHODS,
    RATIO_METHODS,
    TRANSFORMS,
    PooledFields,
)

#: What the forms start with when the review's form has these fields (the case-series form).
DEFAULT_OUTCOME = ("recurrence", "Yes")
DEFAULT_GROUPS = ("margin", "Positive", "Negative")
NO_SUBGROUPS = ("", "No subgroups")
METHOD_HELP = (
    "The GLMM is recommended for small studies and rare events: it models each study's "
    "events as binomial, so studies with 0 or all events need no correction; the two-step "
    "methods (inverse variance) add 0.5 to such studies on the logit scale."
)


def _value(*parts: str) -> str:
    return json.dumps(list(parts), ensure_ascii=False)


def _parts(value: str) -> list[str]:
    parts = json.loads(value) if value else []
    return [str(part) for part in parts]


class PooledForm(AnalysisForm):
    """Shared by both: the review's fields as a pooled run may use them, and subgroups."""

    subgroup = forms.ChoiceField(
        label="Subgroups (a study-level field)",
        required=False,
        help_text="Pool each subgroup on its own and test the difference between them.",
    )

    def __init__(self, *args: Any, pooled: PooledFields | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pooled = pooled or PooledFields({}, {}, {})
        field = self.fields["subgroup"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [NO_SUBGROUPS] + [(v.key, v.label) for v in self.pooled.subgroups.values()]

    def outcome_choices(self) -> list[tuple[str, str]]:
        return [
            (_value(v.key, level), f"{v.label}: {level}")
            for v in self.pooled.outcomes.values()
            for level in v.levels
        ]


class PooledProportionForm(PooledForm):
    kind = AnalysisKind.POOLED_PROPORTION

    outcome_event = forms.ChoiceField(label="Event", required=False)
    events_field = forms.ChoiceField(label="Events (a study-level number)", required=False)
    total_field = forms.ChoiceField(
        label="Total (a study-level number)",
        required=False,
        help_text="For studies that report only aggregates: used where a study has no "
        "patient row reporting the event.",
    )
    method = forms.ChoiceField(
        label="Method",
        choices=list(PROPORTION_METHODS.items()),
        initial="glmm",
        help_text=METHOD_HELP,
    )
    transform = forms.ChoiceField(
        label="Scale of the two-step methods",
        choices=list(TRANSFORMS.items()),
        initial="logit",
        help_text="The GLMM is on the logit scale.",
    )
    hartung_knapp = forms.BooleanField(
        label="Hartung–Knapp adjustment (two-step methods)", required=False
    )

    field_order = [
        "outcome_event",
        "events_field",
        "total_field",
        "method",
        "transform",
        "hartung_knapp",
        "subgroup",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        nouns = self.pooled.nouns
        self.fields["outcome_event"].label = f"Event (counted in the {nouns.one} rows)"
        self.fields[
            "outcome_event"
        ].help_text = (
            f"Per study: the {nouns.many} with this value, of those with the field reported."
        )
        outcomes = self.outcome_choices()
        counts = [("", "—")] + [(v.key, v.label) for v in self.pooled.counts.values()]
        for name, choices in (
            ("outcome_event", [("", "— none: study-level counts only —"), *outcomes]),
            ("events_field", counts),
            ("total_field", counts),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices
        default = _value(*DEFAULT_OUTCOME)
        if any(value == default for value, _ in outcomes):
            self.fields["outcome_event"].initial = default
        elif outcomes:
            self.fields["outcome_event"].initial = outcomes[0][0]

    @property
    def has_counts(self) -> bool:
        return bool(self.pooled.counts)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        events, total = data.get("events_field"), data.get("total_field")
        if not data.get("outcome_event") and not (events and total):
            self.add_error("outcome_event", "Choose an event, or the study-level events and total.")
        if bool(events) != bool(total):
            self.add_error("total_field", "Choose both the events and the total, or neither.")
        return data

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        outcome, event = [*_parts(data["outcome_event"]), "", ""][:2]
        return {
            "outcome": outcome,
            "event": event,
            "events_field": data["events_field"],
            "total_field": data["total_field"],
            "method": data["method"],
            "transform": data["transform"],
            "hartung_knapp": data["hartung_knapp"],
            "subgroup": data["subgroup"],
            **self.risk_of_bias_spec(),
        }


class PooledRatioForm(PooledForm):
    kind = AnalysisKind.POOLED_RATIO

    groups = forms.ChoiceField(label="Groups compared (group 1 vs group 2)")
    outcome_event = forms.ChoiceField(label="Event")
    measure = forms.ChoiceField(label="Measure", choices=list(MEASURES.items()), initial="OR")
    method = forms.ChoiceField(label="Method", choices=list(RATIO_METHODS.items()), initial="mh")

    field_order = ["groups", "outcome_event", "measure", "method", "subgroup", "risk_of_bias"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups = [
            (_value(v.key, first, second), f"{v.label}: {first} vs {second}")
            for v in self.pooled.outcomes.values()
            for first in v.levels
            for second in v.levels
            if first != second
        ]
        outcomes = self.outcome_choices()
        for name, choices in (("groups", groups), ("outcome_event", outcomes)):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices
        if any(value == _value(*DEFAULT_GROUPS) for value, _ in groups):
            self.fields["groups"].initial = _value(*DEFAULT_GROUPS)
        if any(value == _value(*DEFAULT_OUTCOME) for value, _ in outcomes):
            self.fields["outcome_event"].initial = _value(*DEFAULT_OUTCOME)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        groups, outcome = data.get("groups"), data.get("outcome_event")
        if groups and outcome and _parts(groups)[0] == _parts(outcome)[0]:
            self.add_error("outcome_event", "Choose an event of another field than the groups.")
        return data

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        exposure, group_1, group_2 = _parts(data["groups"])
        outcome, event = _parts(data["outcome_event"])
        return {
            "exposure": exposure,
            "group_1": group_1,
            "group_2": group_2,
            "outcome": outcome,
            "event": event,
            "measure": data["measure"],
            "method": data["method"],
            "subgroup": data["subgroup"],
            **self.risk_of_bias_spec(),
        }


POOLED_FORMS: dict[str, type[PooledForm]] = {
    AnalysisKind.POOLED_PROPORTION: PooledProportionForm,
    AnalysisKind.POOLED_RATIO: PooledRatioForm,
}
