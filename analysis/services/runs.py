"""Analysis runs: ask for one, run it (the `analysis.run` task), re-run it.

- `analysis_submit` checks the spec against the form and computes the fingerprint of the
  data the run would read. When a finished run has the same kind, spec and fingerprint,
  that run is the answer (nothing changed, so its result stands); when the same run is
  already waiting or running, that one is; otherwise a new run is queued with
  `transaction.on_commit`, so the worker never looks for a row not yet committed.
- `analysis_run_execute` is what the worker does: claim the run with a conditional update
  (queued -> running, or a stale running run taken over), read the final extraction data,
  call the statistics, store the result. Every later write is conditional on the claim,
  so a worker whose run was taken over writes nothing.
- A failed run keeps its reason; `analysis_rerun` asks for the same analysis again (on the
  data as they are now), which is also how an out-of-date result is refreshed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from analysis.models import AnalysisKind, AnalysisRun, ReportingRule, RunStatus
from analysis.services.compute import compute, json_safe
from analysis.services.data import (
    AnalysisData,
    Variable,
    analysis_data,
    fingerprint_of,
    form_variables,
    frame_of,
)
from analysis.services.pooled import (
    POOLED_KINDS,
    PooledData,
    pooled_compute,
    pooled_data,
    pooled_fields,
    pooled_spec_clean,
    row_nouns,
)
from analysis.stats.errors import StatsInputError
from extraction.appraisal.selectors import studies_at_most
from extraction.appraisal.tools import RANK, RANKED
from extraction.selectors import final_copies
from extraction.values import form_spec
from reviewer.models import Review, User
from reviewer.services.jobs import (
    Claim,
    JobKind,
    cancel_job,
    job_cancel,
    job_kind_register,
    job_send,
    run_claimed,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submitted:
    """The run that answers a request, and whether it is an earlier one reused."""

    run: AnalysisRun
    stored: bool = False  # a finished run on unchanged data: its result is the answer
    already_queued: bool = False  # the same run is waiting or running


# --- the spec ---


def spec_clean(kind: str, spec: dict[str, Any], variables: dict[str, Variable]) -> dict[str, Any]:
    """The spec in canonical form, checked against the form; raises ValidationError."""
    if kind == AnalysisKind.CHARACTERISTICS:
        patient_level = [key for key, v in variables.items() if not v.study_level]
        keys = list(spec.get("fields") or patient_level)
        for key in keys:
            _variable(variables, key, "Field")
        if not keys:
            raise ValidationError("The extraction form has no patient-level field to describe.")
        order = list(variables)
        return {"fields": sorted(set(keys), key=order.index)}
    rule = str(spec.get("rule") or ReportingRule.AUTO)
    if rule not in ReportingRule.values:
        raise ValidationError(f"“{rule}” is not a reporting rule.")
    yates = bool(spec.get("yates", False))
    if kind == AnalysisKind.RISK_FACTORS:
        exposure = _categorical(variables, str(spec.get("exposure", "")), "Exposure")
        outcomes = [str(key) for key in spec.get("outcomes") or []]
        if not outcomes:
            raise ValidationError("Choose at least one outcome.")
        for key in outcomes:
            _categorical(variables, key, "Outcome")
        if exposure.key in outcomes:
            raise ValidationError(f"{exposure.label} cannot be both the exposure and an outcome.")
        order = list(variables)
        outcomes = sorted(set(outcomes), key=order.index)
        return {"exposure": exposure.key, "outcomes": outcomes, "rule": rule, "yates": yates}
    if kind == AnalysisKind.CROSSTAB:
        row = _categorical(variables, str(spec.get("row", "")), "Rows")
        col = _categorical(variables, str(spec.get("col", "")), "Columns")
        if row.key == col.key:
            raise ValidationError("Choose two different fields for the rows and the columns.")
        return {"row": row.key, "col": col.key, "rule": rule, "yates": yates}
    raise ValidationError(f"“{kind}” is not a kind of analysis.")


def _variable(variables: dict[str, Variable], key: str, role: str) -> Variable:
    if not key:
        raise ValidationError(f"{role}: choose a field.")
    try:
        return variables[key]
    except KeyError:
        raise ValidationError(
            f"{role}: the form has no patient-level field “{key}” (deleted or retired?)."
        ) from None


def _categorical(variables: dict[str, Variable], key: str, role: str) -> Variable:
    variable = _variable(variables, key, role)
    if not variable.categorical:
        raise ValidationError(
            f"{role}: {variable.label} is a {variable.type.label.lower()} field; "
            "only single-choice and yes/no fields can be cross-tabulated."
        )
    return variable


def spec_keys(kind: str, spec: dict[str, Any]) -> list[str]:
    """The patient-level field keys a spec reads, in the order the analysis uses them (a
    pooled run reads its own per-study counts: `analysis.services.pooled`)."""
    if kind in POOLED_KINDS:
        return []
    if kind == AnalysisKind.CHARACTERISTICS:
        return list(spec.get("fields", []))
    if kind == AnalysisKind.RISK_FACTORS:
        return [spec["exposure"], *spec["outcomes"]]
    return [spec["row"], spec["col"]]


# --- the sensitivity filter: studies at most at a chosen risk of bias ---

#: The spec's optional key: an analysis of the studies whose final overall risk-of-bias
#: judgement is at most this level (`extraction.appraisal.selectors.studies_at_most`).
RISK_OF_BIAS = "risk_of_bias_at_most"


def with_risk_of_bias(clean: dict[str, Any], asked: dict[str, Any]) -> dict[str, Any]:
    """`clean` (a spec from `spec_clean`) with the sensitivity filter `asked` carries."""
    level = str(asked.get(RISK_OF_BIAS) or "")
    if not level:
        return clean
    if level not in RANK:
        raise ValidationError(f"“{level}” is not a risk-of-bias level.")
    return {**clean, RISK_OF_BIAS: level}


def restricted(review: Review, spec: dict[str, Any], data: AnalysisData) -> AnalysisData:
    """`data` for the studies the spec's risk-of-bias filter keeps (all without one)."""
    level = spec.get(RISK_OF_BIAS)
    return data.restricted(studies_at_most(review, str(level))) if level else data


def risk_of_bias_statement(spec: dict[str, Any], kept: AnalysisData | PooledData, of: int) -> str:
    level = spec.get(RISK_OF_BIAS)
    if not level:
        return ""
    names = {"low": "low", "some": "some concerns (moderate, unclear)", "high": "high (serious)"}
    shown = names.get(str(level), str(level))
    worse = ", ".join(RANKED[RANKED.index(str(level)) + 1 :]) or "none"
    return (
        f"Sensitivity analysis: restricted to the {kept.studies} of {of} studies with final "
        f"data whose overall risk-of-bias judgement is at most {shown} ({kept.patients} "
        f"patients); studies judged worse ({worse}), or without a final appraisal, are left out."
    )


def current_fingerprint(
    kind: str, spec: dict[str, Any], data: AnalysisData, review: Review | None = None
) -> str:
    """The fingerprint a run of `spec` would get on `data`; "" when the spec no longer fits
    the form (a field deleted or retired since). With a risk-of-bias filter in the spec,
    `review` says whose appraisals choose the studies."""
    if review is not None:
        data = restricted(review, spec, data)
    try:
        used = data.used(spec_keys(kind, spec))
    except KeyError:
        return ""
    return fingerprint_of(data, used)


def fingerprint_now(
    review: Review, kind: str, spec: dict[str, Any], data: AnalysisData | None = None
) -> str:
    """The fingerprint a run of `spec` would get on the review's data now ("" when the
    spec no longer fits the form); `data`, when given, holds the patient rows read."""
    if kind in POOLED_KINDS:
        try:
            return pooled_data(review, kind, spec).fingerprint()
        except KeyError:
            return ""
    if data is None:
        data = analysis_data(review, spec_keys(kind, spec))
    return current_fingerprint(kind, spec, data, review)


def _spec_for(review: Review, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """`spec_clean` for any kind, against the review's form as it is now."""
    if kind in POOLED_KINDS:
        return with_risk_of_bias(pooled_spec_clean(kind, spec, pooled_fields(review)), spec)
    return with_risk_of_bias(spec_clean(kind, spec, form_variables(review)), spec)


# --- asking for a run ---


def analysis_submit(
    *, review: Review, kind: str, spec: dict[str, Any], user: User, enqueue: bool = True
) -> Submitted:
    """The run answering `kind` + `spec` on the data as they are now (see the module doc)."""
    spec = _spec_for(review, kind, spec)
    fingerprint = fingerprint_now(review, kind, spec)
    same = [
        run
        for run in AnalysisRun.objects.filter(review=review)
        .filter(kind=kind)
        .filter(
            Q(status=RunStatus.SUCCEEDED, fingerprint=fingerprint)
            | Q(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
        )
        if run.spec == spec
    ]
    stored = next((r for r in same if r.status == RunStatus.SUCCEEDED), None)
    if stored is not None:
        return Submitted(stored, stored=True)
    going = next((r for r in same if r.is_running), None)
    if going is None:
        try:
            with transaction.atomic():
                run = AnalysisRun.objects.create(
                    review=review, kind=kind, spec=spec, started_by=user, fingerprint=fingerprint
                )
        except IntegrityError:  # the same run was asked for a moment ago: that one answers
            going = AnalysisRun.objects.get(
                review=review, kind=kind, spec=spec, status__in=AnalysisRun.unfinished_statuses()
            )
        else:
            if enqueue:
                _enqueue(run)
            return Submitted(run)
    # One unfinished run per analysis (`one_unfinished_analysis_per_spec`). One whose message
    # was lost, or whose worker stopped, is sent again: the new delivery takes it over.
    if enqueue and going.is_stuck:
        job_send(going)
    return Submitted(going, already_queued=True)


def analysis_rerun(*, run: AnalysisRun, user: User, enqueue: bool = True) -> Submitted:
    """Ask again for what `run` asked (after a failure, or because the data changed)."""
    return analysis_submit(
        review=run.review, kind=run.kind, spec=run.spec, user=user, enqueue=enqueue
    )


def analysis_run_cancel(*, run: AnalysisRun, user: User) -> None:
    """Stop a run that has not finished: it ends `cancelled` (who and when in its `error`),
    and a worker still computing it stops at its next progress and keeps nothing
    (`reviewer.services.jobs.job_cancel`)."""
    job_cancel(job=run, user=user)


def analysis_run_now(*, review: Review, kind: str, spec: dict[str, Any], user: User) -> AnalysisRun:
    """Ask for a run and run it in this process, broker or not (the demo, the bench)."""
    submitted = analysis_submit(review=review, kind=kind, spec=spec, user=user, enqueue=False)
    if not submitted.stored:
        analysis_run_execute(run_id=submitted.run.pk)
        submitted.run.refresh_from_db()
    return submitted.run


def _enqueue(run: AnalysisRun) -> None:
    job_send(run)  # `analysis.run`, once committed; a broker that is down leaves it waiting


# --- running (the worker) ---


def analysis_run_execute(*, run_id: int) -> None:
    """Run one analysis and store its result or its failure. Run by the `analysis.run` task."""

    def execute(claim: Claim) -> dict[str, Any]:
        run = AnalysisRun.objects.select_related("review").get(pk=run_id)

        def report(percent: int, phase: str) -> None:
            claim.progress(max(0, min(99, percent)), 100, phase)

        report(5, "Reading the final extraction data")
        try:
            spec = _spec_for(run.review, run.kind, run.spec)
        except ValidationError as problem:
            raise StatsInputError(" ".join(problem.messages)) from None
        if run.kind in POOLED_KINDS:
            pooled = pooled_data(run.review, run.kind, spec)
            fingerprint = pooled.fingerprint()
            labels = {f.key: f.label for f in form_spec(run.review).fields}
            report(15, "Counting per study")
            nouns = row_nouns(run.review)
            result = json_safe(pooled_compute(run.kind, spec, pooled, labels, report, nouns=nouns))
            if RISK_OF_BIAS in spec:
                of = len(final_copies(run.review))
                result["risk_of_bias"] = risk_of_bias_statement(spec, pooled, of)
        else:
            keys = spec_keys(run.kind, spec)
            every = analysis_data(run.review, keys)
            data = restricted(run.review, spec, every)
            used = data.used(keys)
            fingerprint = fingerprint_of(data, used)
            frame = frame_of(data, used)
            report(15, "Computing")
            result = compute(
                run.kind,
                spec,
                frame,
                used,
                patients=data.patients,
                studies=data.studies,
                report=report,
            )
            if RISK_OF_BIAS in spec:
                result["risk_of_bias"] = risk_of_bias_statement(spec, data, every.studies)
        report(98, "Saving the result")
        return {"result": result, "fingerprint": fingerprint}

    run_claimed(
        AnalysisRun,
        run_id,
        execute,
        claim_fields={"phase": "Starting"},
        expected=(StatsInputError,),
        failed=lambda error: f"Unexpected error ({type(error).__name__}: {error}).",
        label=f"Analysis run {run_id}",
    )


def register_job_kind() -> None:
    """Let `reviewer.services.jobs` send, sweep and cancel analysis runs like other jobs."""

    job_kind_register(
        JobKind(
            model=AnalysisRun,
            tasks={RunStatus.QUEUED: "analysis.tasks.run", RunStatus.RUNNING: "analysis.tasks.run"},
            argument="run_id",
            cancel=cancel_job,
        )
    )
