"""The appraisal's results: per tool, the final judgements as figures, a table, a CSV in
robvis's format (so R users can redraw with `robvis::rob_traffic_light`), and a sentence
for the methods section. Files for the export ZIP come from `bundle_files`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.db.models import Count

from extraction import selectors as extraction_selectors
from extraction.appraisal.models import Appraisal, AppraisalStatus
from extraction.appraisal.plots import FORMATS, Plotted, summary, traffic_light
from extraction.appraisal.selectors import (
    OVERALL,
    FinalRow,
    compare,
    final_copies,
    tools_of,
)
from extraction.appraisal.tools import CRITICAL, HIGH, LOW, NA, NI, SOME, Tool
from extraction.models import PatientRow
from reviewer.models import Review

FIGURE_TYPES = FORMATS

#: robvis's judgement words for its generic template (JBI, NOS and custom tools).
ROBVIS_GENERIC = {
    LOW: "Low",
    SOME: "Some concerns",
    HIGH: "High",
    CRITICAL: "Critical",
    NI: "No information",
    NA: "Not applicable",
}
#: robvis's templates named by tool, and its judgement words for them.
ROBVIS_TEMPLATE = {"rob2": "ROB2", "robins-i": "ROBINS-I"}


@dataclass
class ToolResult:
    tool: Tool
    rows: list[FinalRow]
    weights: dict[int, float]

    @property
    def weighted(self) -> bool:
        return bool(self.weights) and all(self.weights.get(r.study.pk) for r in self.rows)


def patients_per_study(review: Review) -> dict[int, float]:
    """Each study's number of patients in its final extraction (the summary's weights)."""
    finals_ = extraction_selectors.final_copies(review)
    counts = (
        PatientRow.objects.filter(extraction__in=finals_)
        .values("extraction__study_id")
        .annotate(n=Count("pk"))
    )
    return {row["extraction__study_id"]: float(row["n"]) for row in counts}


def results(review: Review) -> list[ToolResult]:
    """The final judgements grouped by tool, tools in the review's order."""
    rows = final_copies(review)
    weights = patients_per_study(review)
    grouped: dict[str, list[FinalRow]] = {}
    for row in rows:
        grouped.setdefault(row.judged.tool.slug, []).append(row)
    tools = tools_of(review)
    return [ToolResult(tools[slug], grouped[slug], weights) for slug in tools if slug in grouped]


def plotted(result: ToolResult) -> Plotted:
    tool = result.tool
    return Plotted(
        title=f"{tool.short}: risk of bias of {len(result.rows)} "
        f"stud{'y' if len(result.rows) == 1 else 'ies'}",
        domains=[(d.key, d.name) for d in tool.domains],
        level_names=dict(tool.levels),
        overall_names=dict(tool.overall_levels),
        studies=[
            (
                row.study.label,
                result.weights.get(row.study.pk, 1.0),
                {
                    **{d.domain.key: d.level for d in row.judged.domains},
                    OVERALL: row.judged.overall,
                },
            )
            for row in result.rows
        ],
        weighted=result.weighted,
    )


def figure(result: ToolResult, kind: str, fmt: str) -> bytes:
    data = plotted(result)
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(fmt)
    if kind == "traffic-light":
        return traffic_light(data, fmt)  # type: ignore[arg-type]
    if kind == "summary":
        return summary(data, fmt)  # type: ignore[arg-type]
    raise ValueError(kind)


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def robvis_csv(result: ToolResult) -> str:
    """Study, D1 ... Dn, Overall, Weight: the data frame robvis reads."""
    tool = result.tool
    generic = tool.slug not in ROBVIS_TEMPLATE
    header = ["Study", *[d.key for d in tool.domains], "Overall", "Weight"]

    def word(level: str | None, overall: bool = False) -> str:
        if not level:
            return ""
        return ROBVIS_GENERIC.get(level, level) if generic else tool.label(level, overall=overall)

    rows = [header]
    for row in result.rows:
        rows.append(
            [
                row.study.label,
                *[word(d.level) for d in row.judged.domains],
                word(row.judged.overall, overall=True),
                f"{result.weights.get(row.study.pk, 1.0):g}",
            ]
        )
    return _csv(rows)


def table_csv(result: ToolResult) -> str:
    """The table of the tool: each study's answers, domain judgements (with reasons where
    a judgement was stated or overridden), stars where the tool counts them, overall."""
    tool = result.tool
    header = ["Study"]
    for domain in tool.domains:
        header += [f"{q.key} {q.text}" for q in domain.questions]
        if domain.judge != "answer":
            header.append(f"{domain.key} {domain.name}")
    if tool.stars:
        header.append("Stars")
    header += ["Overall", "Reasons"]
    rows = [header]
    for row in result.rows:
        line = [row.study.label]
        reasons = []
        for d in row.judged.domains:
            for q in d.domain.questions:
                item = row.appraisal.answers.get(q.key) or {}
                option = q.option(str(item.get("a", "")))
                line.append(option.label if option else "")
            if d.domain.judge != "answer":
                line.append(tool.label(d.level))
            if d.reason:
                reasons.append(f"{d.domain.key}: {d.reason}")
        if tool.stars:
            line.append(str(row.judged.stars))
        line.append(tool.label(row.judged.overall, overall=True))
        if row.judged.overall_reason:
            reasons.append(f"Overall: {row.judged.overall_reason}")
        line.append("; ".join(reasons))
        rows.append(line)
    return _csv(rows)


def needed_consensus(review: Review) -> int:
    """Studies whose two appraisals disagreed somewhere (the senior settled them)."""
    tools = tools_of(review)
    by_study: dict[int, list[Appraisal]] = {}
    for appraisal in Appraisal.objects.filter(
        review=review, assessor__isnull=False, status=AppraisalStatus.DONE
    ).order_by("pk"):
        by_study.setdefault(appraisal.study_id, []).append(appraisal)
    return sum(
        1
        for pair in by_study.values()
        if len(pair) >= 2
        and pair[0].tool in tools
        and compare(pair[0], pair[1], tools).disagreements
    )


def methods_sentence(review: Review, tool_results: list[ToolResult] | None = None) -> str:
    """A sentence for the methods section: the tools, two independent assessors, how
    disagreements were resolved."""
    tool_results = results(review) if tool_results is None else tool_results
    if not tool_results:
        return ""
    studies = sum(len(r.rows) for r in tool_results)
    if len(tool_results) == 1:
        tools_text = f"the {tool_results[0].tool.name}"
    else:
        named = [f"the {r.tool.name} for {_studies(len(r.rows))}" for r in tool_results]
        tools_text = ", ".join(named[:-1]) + " and " + named[-1]
    settled = needed_consensus(review)
    resolved = (
        f"disagreements ({_studies(settled)}) were resolved by a senior author in a consensus "
        "appraisal."
        if settled
        else "they agreed on every study, and a senior author confirmed each consensus appraisal."
    )
    return (
        f"Risk of bias (methodological quality) of the {_studies(studies, 'included ')} was "
        f"assessed with {tools_text}. Two reviewers appraised each study independently, "
        "blinded to each other's answers, recording a justification for each answer; "
        f"{resolved}"
    )


def _studies(n: int, adjective: str = "") -> str:
    return f"{n} {adjective}stud{'y' if n == 1 else 'ies'}"


def bundle_files(review: Review) -> dict[str, str | bytes]:
    """The appraisal's files for the export ZIP, under `risk-of-bias/`."""
    files: dict[str, str | bytes] = {}
    tool_results = results(review)
    for result in tool_results:
        base = f"risk-of-bias/{result.tool.slug}"
        for kind in ("traffic-light", "summary"):
            for fmt in ("svg", "png", "pdf"):
                files[f"{base}-{kind}.{fmt}"] = figure(result, kind, fmt)
        files[f"{base}-robvis.csv"] = robvis_csv(result)
        files[f"{base}-table.csv"] = table_csv(result)
    if tool_results:
        files["risk-of-bias/methods.txt"] = methods_sentence(review, tool_results) + "\n"
    return files
