"""Appraisal tools as data: the shipped tools (JSON files in `tools/`, each citing its
source) and a review's own tools (the same shape, stored in `CustomTool.definition`).

A tool is a list of *domains* (the columns of the traffic-light plot), each with its
signalling questions and a way to judge it:

- `answer`: one question whose answer is the judgement (JBI: Yes -> low, No -> high ...);
- `rob2-d1` ... `rob2-d5`: the RoB 2 algorithm (`extraction.appraisal.rob2`);
- `stars`: the stars its questions earned against `thresholds` (Newcastle–Ottawa);
- `manual`: the assessor states it (ROBINS-I, most custom tools).

Judgements are stored as shared *levels* — low, some, high, critical, plus ni (no
information) and na (not applicable) — and each tool names them its own way ("Some
concerns", "Moderate", "Unclear", "Fair"). The level's rank orders them for the
sensitivity filter ("overall judgement at most some"); ni and na have no rank. The
overall judgement is the worst domain (`worst`) or the assessor's (`manual`, JBI's
include / exclude / seek further information); an algorithm's judgement may be replaced
by the assessor's with a stated reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from extraction.appraisal import rob2

TOOLS_DIR = Path(__file__).resolve().parent / "tools"

LOW, SOME, HIGH, CRITICAL, NI, NA = "low", "some", "high", "critical", "ni", "na"
#: The ranked levels, best first (the sensitivity filter's "at most").
RANKED = (LOW, SOME, HIGH, CRITICAL)
RANK = {level: number for number, level in enumerate(RANKED, start=1)}
ALL_LEVELS = (*RANKED, NI, NA)
#: robvis's colours (its "cochrane" scheme).
COLOURS = {
    LOW: "#02C100",
    SOME: "#E2DF07",
    HIGH: "#BF0000",
    CRITICAL: "#820000",
    NI: "#4EA1F7",
    NA: "#CCCCCC",
}
JUDGES = ("answer", "manual", "stars", *rob2.ALGORITHMS)


class ToolError(ValueError):
    """A tool definition that cannot be used, with what is wrong and where."""


@dataclass(frozen=True)
class Option:
    key: str
    label: str
    stars: int = 0


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    options: tuple[Option, ...]
    optional: bool = False

    def option(self, key: str) -> Option | None:
        return next((o for o in self.options if o.key == key), None)


@dataclass(frozen=True)
class Domain:
    key: str
    name: str
    judge: str
    questions: tuple[Question, ...]
    map: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, int] = field(default_factory=dict)

    @property
    def automatic(self) -> bool:
        return self.judge != "manual"


@dataclass(frozen=True)
class Tool:
    slug: str
    name: str
    short: str
    source: str
    wording: str
    designs: tuple[str, ...]
    levels: Mapping[str, str]
    overall_levels: Mapping[str, str]
    overall_judge: str
    overall_question: str
    domains: tuple[Domain, ...]
    custom: bool = False

    @property
    def questions(self) -> list[Question]:
        return [q for d in self.domains for q in d.questions]

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    def domain(self, key: str) -> Domain | None:
        return next((d for d in self.domains if d.key == key), None)

    def label(self, level: str | None, *, overall: bool = False) -> str:
        if not level:
            return ""
        names = self.overall_levels if overall else self.levels
        return names.get(level, level)

    @property
    def stars(self) -> bool:
        return any(d.judge == "stars" for d in self.domains)


def parse(data: Mapping[str, Any], *, custom: bool = False) -> Tool:
    """A tool from its definition; raises ToolError naming what is wrong."""
    try:
        slug = str(data["slug"])
        scales = {
            name: tuple(
                Option(str(o["key"]), str(o["label"]), int(o.get("stars", 0))) for o in options
            )
            for name, options in dict(data.get("scales", {})).items()
        }
        levels = {str(k): str(v) for k, v in dict(data["levels"]).items()}
        domains = []
        for d in data["domains"]:
            questions = []
            for q in d["questions"]:
                options = scales.get(str(q.get("scale", ""))) or tuple(
                    Option(str(o["key"]), str(o["label"]), int(o.get("stars", 0)))
                    for o in q.get("options", [])
                )
                if not options:
                    raise ToolError(f"{slug}: question {q.get('key')} has no answers to choose.")
                questions.append(
                    Question(str(q["key"]), str(q["text"]), options, bool(q.get("optional")))
                )
            judge = str(d.get("judge", "manual"))
            if judge not in JUDGES:
                raise ToolError(f"{slug}: domain {d.get('key')} is judged by unknown “{judge}”.")
            domains.append(
                Domain(
                    str(d["key"]),
                    str(d["name"]),
                    judge,
                    tuple(questions),
                    {str(k): str(v) for k, v in dict(d.get("map", {})).items()},
                    {str(k): int(v) for k, v in dict(d.get("thresholds", {})).items()},
                )
            )
        tool = Tool(
            slug=slug,
            name=str(data["name"]),
            short=str(data.get("short") or data["name"]),
            source=str(data.get("source", "")),
            wording=str(data.get("wording", "")),
            designs=tuple(str(x) for x in data.get("designs", [])),
            levels=levels,
            overall_levels={
                str(k): str(v) for k, v in dict(data.get("overall_levels") or levels).items()
            },
            overall_judge=str(data.get("overall_judge", "worst")),
            overall_question=str(data.get("overall_question", "Overall judgement")),
            domains=tuple(domains),
            custom=custom,
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ToolError):
            raise
        raise ToolError(f"The tool definition is incomplete or malformed: {error}") from error
    unknown = [lv for lv in (*tool.levels, *tool.overall_levels) if lv not in ALL_LEVELS]
    if unknown:
        raise ToolError(f"{slug}: unknown levels {unknown}; use {', '.join(ALL_LEVELS)}.")
    if not tool.domains:
        raise ToolError(f"{slug}: a tool needs at least one domain.")
    keys = [q.key for q in tool.questions]
    if len(keys) != len(set(keys)):
        raise ToolError(f"{slug}: two questions share a key.")
    return tool


@cache
def shipped() -> dict[str, Tool]:
    """The tools that come with the product, by slug, in a fixed order."""
    tools = [
        parse(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(TOOLS_DIR.glob("*.json"))
    ]
    order = ["jbi-case-series", "rob2", "robins-i", "nos-cohort", "nos-case-control"]
    tools.sort(key=lambda t: order.index(t.slug) if t.slug in order else len(order))
    return {t.slug: t for t in tools}


# --- judging ---------------------------------------------------------------------------


def answer_of(answers: Mapping[str, Any], key: str) -> str:
    item = answers.get(key)
    return str(item.get("a", "")) if isinstance(item, Mapping) else ""


def suggested(domain: Domain, answers: Mapping[str, Any]) -> str | None:
    """The domain's judgement from its answers (None: manual, or a needed answer missing)."""
    plain = {q.key: answer_of(answers, q.key) for q in domain.questions}
    if domain.judge == "answer":
        return domain.map.get(plain[domain.questions[0].key]) or None
    if domain.judge in rob2.ALGORITHMS:
        return rob2.suggest(domain.judge, plain)
    if domain.judge == "stars":
        if any(not plain[q.key] for q in domain.questions if not q.optional):
            return None
        stars = domain_stars(domain, answers)
        for level in (LOW, SOME):
            if level in domain.thresholds and stars >= domain.thresholds[level]:
                return level
        return HIGH
    return None


def domain_stars(domain: Domain, answers: Mapping[str, Any]) -> int:
    total = 0
    for q in domain.questions:
        option = q.option(answer_of(answers, q.key))
        total += option.stars if option else 0
    return total


def worst(levels: list[str | None]) -> str | None:
    """The most severe level; ni when information is lacking and nothing is high or
    worse; None while any is missing."""
    if any(not level for level in levels):
        return None
    ranked = [level for level in levels if level in RANK]
    top = max(ranked, key=RANK.__getitem__) if ranked else None
    if NI in levels and (top is None or RANK[top] < RANK[HIGH]):
        return NI
    return top or NA
