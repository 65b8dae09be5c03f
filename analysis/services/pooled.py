"""Pooled results across studies as analysis runs: the per-study counts a run reads, its
spec, its fingerprint and its result (`analysis.stats.meta` does the statistics).

Each study's counts come from the review's own final data:

- from its final patient rows (individual data aggregated per study): the events are the
  patients whose outcome has the chosen level, the total those with the outcome reported;
- or, for a study without patient rows reporting the outcome, from two study-level whole
  numbers (events and total), when the run names them: papers that report only
  aggregates.

A pooled proportion reads one outcome; a pooled odds or risk ratio reads an exposure with
two of its levels as the groups (group 1 against group 2) and an outcome, per study, from
the patient rows. A study with nothing to count is left out, and listed with the reason.
A study-level single choice or yes/no field may split the studies into subgroups.

The fingerprint is the sha256 of the per-study counts the run pools, their labels and
subgroups, and the definitions of the fields read, so a change that moves no count does
not mark the result out of date.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from analysis.models import AnalysisKind
from analysis.services.data import YES, YES_NO_LEVELS
from analysis.stats import StatsInputError
from analysis.stats.meta import (
    Pooled,
    leave_one_out,
    pool_proportions,
    pool_two_groups,
    subgroups,
)
from extraction.appraisal.selectors import studies_at_most
from extraction.models import Extraction, Field, FieldType, PatientRow
from extraction.selectors import extraction_setup_of, final_copies
from extraction.values import FormSpec, form_spec, typed
from reviewer.models import Review

POOLED_KINDS = frozenset({AnalysisKind.POOLED_PROPORTION, AnalysisKind.POOLED_RATIO})
PROPORTION_METHODS = {
    "glmm": "Binomial-normal GLMM",
    "reml": "Random effects, REML τ²",
    "dl": "Random effects, DerSimonian–Laird τ²",
}
TRANSFORMS = {"logit": "Logit", "ft": "Freeman–Tukey double arcsine"}
RATIO_METHODS = {
    "mh": "Mantel–Haenszel fixed effect",
    "reml": "Random effects, REML τ²",
    "dl": "Random effects, DerSimonian–Laird τ²",
}
MEASURES = {"OR": "Odds ratio", "RR": "Risk ratio"}
CATEGORICAL = frozenset({FieldType.CHOICE, FieldType.YES_NO})

Report = Callable[[int, str], None]


# --- the review's word for a row ---


@dataclass(frozen=True)
class RowNouns:
    """What one patient-level row is, in the review's own word ("patient", "site")."""

    one: str = "patient"
    many: str = "patients"

    def count(self, n: int) -> str:
        return f"{n:,} {self.one if n == 1 else self.many}"


def row_nouns(review: Review) -> RowNouns:
    setup = extraction_setup_of(review)
    return RowNouns(setup.row_noun, setup.row_noun_plural)


# --- the fields a pooled run may read ---


@dataclass(frozen=True)
class Choosable:
    """A field a pooled run may read, with its levels (categorical fields)."""

    key: str
    label: str
    type: FieldType
    study_level: bool
    levels: tuple[str, ...] = ()

    def definition(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "type": str(self.type),
            "study_level": self.study_level,
            "levels": list(self.levels),
        }


def _levels(spec: FormSpec, form_field: Field) -> tuple[str, ...]:
    if form_field.kind == FieldType.YES_NO:
        return YES_NO_LEVELS
    return tuple(c.label for c in spec.choices.get(form_field.pk, []) if not c.retired)


@dataclass(frozen=True)
class PooledFields:
    """The form's fields as a pooled run may use them."""

    outcomes: dict[str, Choosable]  # patient-level single choice or yes/no
    counts: dict[str, Choosable]  # study-level whole numbers
    subgroups: dict[str, Choosable]  # study-level single choice or yes/no
    nouns: RowNouns = RowNouns()


def pooled_fields(review: Review) -> PooledFields:
    spec = form_spec(review)
    return _pooled_fields(spec, row_nouns(review))


def _pooled_fields(spec: FormSpec, nouns: RowNouns = RowNouns()) -> PooledFields:
    outcomes = {
        f.key: Choosable(f.key, f.label, f.kind, False, _levels(spec, f))
        for f in spec.patient_fields
        if f.kind in CATEGORICAL
    }
    counts = {
        f.key: Choosable(f.key, f.label, f.kind, True)
        for f in spec.study_fields
        if f.kind == FieldType.INTEGER
    }
    groups = {
        f.key: Choosable(f.key, f.label, f.kind, True, _levels(spec, f))
        for f in spec.study_fields
        if f.kind in CATEGORICAL
    }
    return PooledFields(outcomes, counts, groups, nouns)


# --- the spec ---


def _pick(choices: dict[str, Choosable], key: str, role: str, kind: str) -> Choosable:
    if not key:
        raise ValidationError(f"{role}: choose a field.")
    try:
        return choices[key]
    except KeyError:
        raise ValidationError(
            f"{role}: the form has no {kind} field “{key}” (deleted, retired or of another type?)."
        ) from None


def _level(variable: Choosable, level: str, role: str) -> str:
    if level not in variable.levels:
        raise ValidationError(
            f"{role}: {variable.label} has no level “{level}” (its levels: "
            f"{', '.join(variable.levels)})."
        )
    return level


def pooled_spec_clean(kind: str, spec: dict[str, Any], fields: PooledFields) -> dict[str, Any]:
    """The spec in canonical form, checked against the form; raises ValidationError."""
    subgroup = str(spec.get("subgroup") or "")
    if subgroup:
        _pick(fields.subgroups, subgroup, "Subgroups", "study-level single-choice or yes/no")
    if kind == AnalysisKind.POOLED_PROPORTION:
        outcome = str(spec.get("outcome") or "")
        events_field = str(spec.get("events_field") or "")
        total_field = str(spec.get("total_field") or "")
        if not outcome and not (events_field and total_field):
            raise ValidationError(
                "Choose the outcome counted in the patient rows, or the study-level fields "
                "holding each study's events and total (or both)."
            )
        event = ""
        if outcome:
            chosen = _pick(fields.outcomes, outcome, "Outcome", "patient-level categorical")
            event = _level(chosen, str(spec.get("event") or _default_level(chosen)), "Event")
        if bool(events_field) != bool(total_field):
            raise ValidationError("Study-level counts: choose both the events and the total.")
        if events_field:
            _pick(fields.counts, events_field, "Events", "study-level whole-number")
            _pick(fields.counts, total_field, "Total", "study-level whole-number")
            if events_field == total_field:
                raise ValidationError("Study-level counts: events and total must differ.")
        method = str(spec.get("method") or "glmm")
        if method not in PROPORTION_METHODS:
            raise ValidationError(f"“{method}” is not a method of pooling proportions.")
        transform = "logit" if method == "glmm" else str(spec.get("transform") or "logit")
        if transform not in TRANSFORMS:
            raise ValidationError(f"“{transform}” is not a transformation.")
        return {
            "outcome": outcome,
            "event": event,
            "events_field": events_field,
            "total_field": total_field,
            "method": method,
            "transform": transform,
            "hartung_knapp": bool(spec.get("hartung_knapp")) and method != "glmm",
            "subgroup": subgroup,
        }
    if kind == AnalysisKind.POOLED_RATIO:
        exposure = _pick(
            fields.outcomes, str(spec.get("exposure") or ""), "Groups", "patient-level categorical"
        )
        counted = _pick(
            fields.outcomes, str(spec.get("outcome") or ""), "Outcome", "patient-level categorical"
        )
        if exposure.key == counted.key:
            raise ValidationError("Choose an outcome other than the field that makes the groups.")
        group_1 = _level(exposure, str(spec.get("group_1") or ""), "Group 1")
        group_2 = _level(exposure, str(spec.get("group_2") or ""), "Group 2")
        if group_1 == group_2:
            raise ValidationError("Choose two different groups.")
        event = _level(counted, str(spec.get("event") or _default_level(counted)), "Event")
        measure = str(spec.get("measure") or "OR")
        if measure not in MEASURES:
            raise ValidationError(f"“{measure}” is not a measure (OR or RR).")
        method = str(spec.get("method") or "mh")
        if method not in RATIO_METHODS:
            raise ValidationError(f"“{method}” is not a method of pooling ratios.")
        return {
            "exposure": exposure.key,
            "group_1": group_1,
            "group_2": group_2,
            "outcome": counted.key,
            "event": event,
            "measure": measure,
            "method": method,
            "subgroup": subgroup,
        }
    raise ValidationError(f"“{kind}” is not a pooled analysis.")


def _default_level(variable: Choosable) -> str:
    return YES if variable.type == FieldType.YES_NO else (variable.levels or ("",))[0]


def pooled_spec_keys(kind: str, spec: dict[str, Any]) -> list[str]:
    """The field keys a pooled spec reads."""
    keys = [spec.get("exposure", ""), spec.get("outcome", "")]
    keys += [spec.get("events_field", ""), spec.get("total_field", ""), spec.get("subgroup", "")]
    return [key for key in keys if key]


# --- the per-study counts ---


@dataclass
class StudyCount:
    label: str
    source: str  # "patients" or "study"
    events: int
    total: int
    events_2: int = 0
    total_2: int = 0
    subgroup: str | None = None


@dataclass
class PooledData:
    """What a pooled run pools: a count per study, the studies left out and why, and the
    definitions of the fields read."""

    counts: list[StudyCount]
    left_out: list[dict[str, str]]
    definitions: list[dict[str, Any]]
    studies: int
    patients: int = 0
    labels: dict[str, str] = field(default_factory=dict)

    def fingerprint(self) -> str:
        document = {
            "fields": self.definitions,
            "counts": [vars(count) for count in self.counts],
            "left_out": self.left_out,
        }
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def _as_level(form_field: Field, value: Any) -> str | None:
    """A typed value as a level label; "unknown" and missing as None."""
    if form_field.kind == FieldType.YES_NO:
        return {"yes": YES, "no": "No"}.get(value) if isinstance(value, str) else None
    return value if isinstance(value, str) else None


@dataclass
class PooledSource:
    """What every pooled run of a review reads, read once: the form, the final copy of each
    study and their patient rows (raw), and the studies each risk-of-bias level keeps
    (read when first asked). The runs list re-counts every finished run's data to say
    whether it changed since; with one source that is a fixed number of queries however
    many runs are listed."""

    review: Review
    form: FormSpec
    finals: list[Extraction]
    rows: dict[int, list[dict[str, Any]]]
    kept: dict[str, set[int]] = field(default_factory=dict)

    def studies_at_most(self, level: str) -> set[int]:
        if level not in self.kept:
            self.kept[level] = studies_at_most(self.review, level)
        return self.kept[level]


def pooled_source(review: Review) -> PooledSource:
    finals = final_copies(review)
    rows: dict[int, list[dict[str, Any]]] = {}
    for extraction_id, values in (
        PatientRow.objects.filter(extraction__in=finals)
        .order_by("extraction_id", "position")
        .values_list("extraction_id", "values")
    ):
        rows.setdefault(extraction_id, []).append(values)
    return PooledSource(review, form_spec(review), finals, rows)


def pooled_fingerprint(kind: str, spec: dict[str, Any], source: PooledSource) -> str:
    """The fingerprint a run of `spec` would get now ("" when the spec no longer fits the
    form: a field deleted or retired since)."""
    try:
        return pooled_data(source.review, kind, spec, source=source).fingerprint()
    except KeyError:
        return ""


def pooled_data(
    review: Review, kind: str, spec: dict[str, Any], *, source: PooledSource | None = None
) -> PooledData:
    """The per-study counts `spec` pools, from the final copy of each study (`source`:
    what was read for several runs at once)."""
    if source is None:
        source = pooled_source(review)
    form = source.form
    by_key = {f.key: f for f in form.fields if not f.retired}
    fields = _pooled_fields(form)
    finals = source.finals
    level = spec.get("risk_of_bias_at_most")
    if level:  # a sensitivity analysis: the studies the appraisal keeps
        kept = source.studies_at_most(str(level))
        finals = [e for e in finals if e.study_id in kept]
    read = [by_key[key] for key in pooled_spec_keys(kind, spec)]
    definitions = [
        (
            fields.outcomes.get(f.key) or fields.counts.get(f.key) or fields.subgroups[f.key]
        ).definition()
        for f in read
    ]
    patient_keys = [k for k in (spec.get("exposure"), spec.get("outcome")) if k]
    rows: dict[int, list[dict[str, str | None]]] = {
        extraction.pk: [
            {
                key: _as_level(
                    by_key[key], typed(form, by_key[key], values.get(str(by_key[key].pk)))
                )
                for key in patient_keys
            }
            for values in source.rows.get(extraction.pk, [])
        ]
        for extraction in finals
    }
    data = PooledData([], [], definitions, len(finals))
    subgroup = spec.get("subgroup") or ""
    for extraction in finals:
        label = extraction.study.label
        patients = rows.get(extraction.pk, [])
        data.patients += len(patients)
        group = None
        if subgroup:
            group_field = by_key[subgroup]
            group = _as_level(
                group_field, typed(form, group_field, extraction.values.get(str(group_field.pk)))
            )
            if group is None:
                data.left_out.append({"study": label, "reason": "subgroup not reported"})
                continue
        if kind == AnalysisKind.POOLED_RATIO:
            count = _ratio_count(label, patients, spec)
        else:
            count = _proportion_count(label, patients, spec, form, by_key, extraction.values)
        if isinstance(count, str):
            data.left_out.append({"study": label, "reason": count})
            continue
        count.subgroup = group
        data.counts.append(count)
    return data


def _proportion_count(
    label: str,
    patients: list[dict[str, str | None]],
    spec: dict[str, Any],
    form: FormSpec,
    by_key: dict[str, Field],
    values: dict[str, Any],
) -> StudyCount | str:
    outcome, event = spec["outcome"], spec["event"]
    if outcome:
        reported = [row[outcome] for row in patients if row[outcome] is not None]
        if reported:
            return StudyCount(label, "patients", sum(v == event for v in reported), len(reported))
    if spec["events_field"]:
        events_field, total_field = by_key[spec["events_field"]], by_key[spec["total_field"]]
        events = typed(form, events_field, values.get(str(events_field.pk)))
        total = typed(form, total_field, values.get(str(total_field.pk)))
        if isinstance(events, int) and isinstance(total, int):
            if total <= 0 or not 0 <= events <= total:
                return f"study-level counts {events} of {total} are not a proportion"
            return StudyCount(label, "study", events, total)
        if outcome:
            return "outcome not reported for any patient, and no study-level counts"
        return "study-level counts not reported"
    return "outcome not reported for any patient"


def _ratio_count(
    label: str, patients: list[dict[str, str | None]], spec: dict[str, Any]
) -> StudyCount | str:
    exposure, outcome, event = spec["exposure"], spec["outcome"], spec["event"]
    both = [row for row in patients if row[exposure] is not None and row[outcome] is not None]
    first = [row[outcome] == event for row in both if row[exposure] == spec["group_1"]]
    second = [row[outcome] == event for row in both if row[exposure] == spec["group_2"]]
    if not first or not second:
        missing = spec["group_1"] if not first else spec["group_2"]
        return f"no patient in the group “{missing}” with the outcome reported"
    return StudyCount(label, "patients", sum(first), len(first), sum(second), len(second))


# --- the result ---


def pooled_compute(
    kind: str,
    spec: dict[str, Any],
    data: PooledData,
    labels: dict[str, str],
    report: Report,
    *,
    nouns: RowNouns = RowNouns(),
) -> dict[str, Any]:
    """The stored result of a pooled run: the pooled table (with its studies), the
    subgroups when asked, leave-one-out when there are 3 studies or more."""
    counts = data.counts
    if not counts:
        raise StatsInputError(
            "No study has anything to pool: "
            + "; ".join(f"{s['study']}: {s['reason']}" for s in data.left_out[:5])
            if data.left_out
            else "No study has final data yet."
        )
    names = [c.label for c in counts]
    pool = _pool_function(kind, spec, counts)
    report(30, f"Pooling {len(counts)} studies")
    result = pool(list(range(len(counts))))
    title = _title(kind, spec, labels)
    pooled = {
        "kind": "pooled",
        "title": title,
        "unit": nouns.many,
        "result": result.to_dict(),
        "proportion": result.is_proportion,
        "measure_name": result.measure_name,
        "method_name": result.method_name,
        "left_out": data.left_out,
        "from_patients": sum(c.source == "patients" for c in counts),
        "from_study_fields": sum(c.source == "study" for c in counts),
        "groups": [spec["group_1"], spec["group_2"]] if kind == AnalysisKind.POOLED_RATIO else [],
        "spec_text": pooled_spec_text(kind, spec, labels),
    }
    tables: list[dict[str, Any]] = [pooled]
    if spec.get("subgroup"):
        report(55, "Pooling the subgroups")
        groups = [c.subgroup or "" for c in counts]
        try:
            split = subgroups(pool, groups)
        except StatsInputError as problem:
            pooled["subgroup_note"] = str(problem)
        else:
            tables.append(
                {
                    "kind": "subgroups",
                    "proportion": result.is_proportion,
                    "title": f"{title}, by {labels.get(spec['subgroup'], spec['subgroup'])}",
                    **split.to_dict(),
                }
            )
    if len(counts) >= 3:
        report(75, "Leaving one study out at a time")
        tables.append(
            {
                "kind": "leave_one_out",
                "title": f"{title}: leaving one study out",
                "proportion": result.is_proportion,
                **leave_one_out(pool, names).to_dict(),
            }
        )
    return {"patients": data.patients, "studies": data.studies, "tables": tables}


def _pool_function(
    kind: str, spec: dict[str, Any], counts: list[StudyCount]
) -> Callable[[list[int]], Pooled]:
    if kind == AnalysisKind.POOLED_RATIO:

        def ratio(indices: list[int]) -> Pooled:
            chosen = [counts[i] for i in indices]
            return pool_two_groups(
                [c.events for c in chosen],
                [c.total for c in chosen],
                [c.events_2 for c in chosen],
                [c.total_2 for c in chosen],
                labels=[c.label for c in chosen],
                measure=spec["measure"],
                method=spec["method"],
            )

        return ratio

    def proportion(indices: list[int]) -> Pooled:
        chosen = [counts[i] for i in indices]
        return pool_proportions(
            [c.events for c in chosen],
            [c.total for c in chosen],
            labels=[c.label for c in chosen],
            method=spec["method"],
            transform=spec["transform"],
            hartung_knapp=spec["hartung_knapp"],
        )

    return proportion


def _title(kind: str, spec: dict[str, Any], labels: dict[str, str]) -> str:
    def label(key: str) -> str:
        return labels.get(key, key)

    if kind == AnalysisKind.POOLED_RATIO:
        return (
            f"{label(spec['outcome'])}: {spec['event']} by {label(spec['exposure'])} "
            f"({spec['group_1']} vs {spec['group_2']})"
        )
    if spec["outcome"]:
        return f"{label(spec['outcome'])}: {spec['event']}"
    return f"{label(spec['events_field'])} of {label(spec['total_field'])}"


def pooled_spec_text(kind: str, spec: dict[str, Any], labels: dict[str, str]) -> str:
    """What a pooled run asked for, in a line."""
    title = _title(kind, spec, labels)
    if kind == AnalysisKind.POOLED_RATIO:
        text = f"{title}; {MEASURES[spec['measure']].lower()}, {RATIO_METHODS[spec['method']]}"
    else:
        text = f"{title}; {PROPORTION_METHODS[spec['method']]}"
        if spec["method"] != "glmm":
            text += f", {TRANSFORMS[spec['transform']].lower()} scale"
        if spec["hartung_knapp"]:
            text += ", Hartung–Knapp"
        if spec["outcome"] and spec["events_field"]:
            text += "; study-level counts where no patient rows"
    if spec.get("subgroup"):
        text += f"; subgroups by {labels.get(spec['subgroup'], spec['subgroup'])}"
    return text
