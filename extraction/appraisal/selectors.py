"""Appraisal reads: the tools of a review, each study's design, tool and progress, an
appraisal's judgements, the comparison of two, agreement, and the final judgements.

The *final* appraisal of a study is its consensus marked done, as with extraction. While
the review is blinded a reviewer sees only her own appraisal and its progress
(`progress_seen_by`), never a colleague's or anything that moves with it. `Progress`
and the rules deriving it are `extraction.dual.rules`, shared with extraction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from extraction.appraisal.models import (
    DEFAULT_TOOLS,
    Appraisal,
    AppraisalSetup,
    AppraisalStatus,
    CustomTool,
    Design,
    StudyDesign,
)
from extraction.appraisal.tools import (
    RANK,
    RANKED,
    Domain,
    Tool,
    ToolError,
    answer_of,
    domain_stars,
    parse,
    shipped,
    suggested,
    worst,
)
from extraction.dual import rules
from extraction.dual.rules import Progress as Progress  # re-exported: the pages read it here
from reviewer.models import Review, Study
from reviewer.screening.agreement import Agreement, agreement

OVERALL = "overall"


def appraisal_setup_of(review: Review) -> AppraisalSetup:
    """The review's appraisal settings; the defaults (unsaved) until an owner saves them,
    so that reading a page never writes. `services.tools_set` stores them."""
    return AppraisalSetup.objects.filter(review=review).first() or AppraisalSetup(review=review)


def custom_slug(slug: str) -> str:
    return f"custom-{slug}"


def tools_of(review: Review) -> dict[str, Tool]:
    """Every tool the review can use: the shipped ones, then the owner's own."""
    found = dict(shipped())
    for custom in CustomTool.objects.filter(review=review):
        try:
            tool = parse(dict(custom.definition, slug=custom_slug(custom.slug)), custom=True)
        except ToolError:
            continue  # checked when saved; an archive from elsewhere cannot break the page
        found[tool.slug] = tool
    return found


def tool_for_design(review: Review, design: str, setup: AppraisalSetup | None = None) -> str:
    setup = setup or appraisal_setup_of(review)
    chosen = dict(DEFAULT_TOOLS)
    chosen.update({str(k): str(v) for k, v in (setup.tools or {}).items()})
    return chosen.get(design, "")


def designs_of(review: Review) -> dict[int, str]:
    """Study id -> design, the default for studies the senior has not set."""
    default = appraisal_setup_of(review).default_design
    set_ = dict(StudyDesign.objects.filter(review=review).values_list("study_id", "design"))
    return {pk: set_.get(pk, default) for pk in review.studies.values_list("pk", flat=True)}


# --- one appraisal's judgements ---


@dataclass
class DomainResult:
    domain: Domain
    suggested: str | None
    stated: str  # the assessor's own judgement or override ("" none)
    reason: str
    stars: int | None = None

    @property
    def level(self) -> str | None:
        return self.stated or self.suggested

    @property
    def overridden(self) -> bool:
        return bool(self.stated) and self.suggested is not None and self.stated != self.suggested


@dataclass
class Judged:
    """An appraisal with every judgement worked out."""

    tool: Tool
    domains: list[DomainResult]
    overall_suggested: str | None
    overall_stated: str
    overall_reason: str

    @property
    def overall(self) -> str | None:
        return self.overall_stated or self.overall_suggested

    @property
    def stars(self) -> int | None:
        if not self.tool.stars:
            return None
        return sum(d.stars or 0 for d in self.domains)

    def level_of(self, key: str) -> str | None:
        if key == OVERALL:
            return self.overall
        return next((d.level for d in self.domains if d.domain.key == key), None)


def _stated(judgements: Mapping[str, Any], key: str) -> tuple[str, str]:
    item = judgements.get(key)
    if not isinstance(item, Mapping):
        return "", ""
    return str(item.get("level", "") or ""), str(item.get("reason", "") or "")


def judge(tool: Tool, answers: Mapping[str, Any], judgements: Mapping[str, Any]) -> Judged:
    domains = []
    for domain in tool.domains:
        stated, reason = _stated(judgements, domain.key)
        stars = domain_stars(domain, answers) if domain.judge == "stars" else None
        domains.append(DomainResult(domain, suggested(domain, answers), stated, reason, stars))
    overall_stated, overall_reason = _stated(judgements, OVERALL)
    overall_suggested = worst([d.level for d in domains]) if tool.overall_judge == "worst" else None
    return Judged(tool, domains, overall_suggested, overall_stated, overall_reason)


def judged(appraisal: Appraisal, tools: Mapping[str, Tool]) -> Judged | None:
    tool = tools.get(appraisal.tool)
    if tool is None:
        return None
    return judge(tool, appraisal.answers or {}, appraisal.judgements or {})


def problems(judged_: Judged, answers: Mapping[str, Any]) -> list[str]:
    """What stops an appraisal being marked done: unanswered questions, domains with no
    judgement, overrides without a reason, no overall judgement."""
    found = []
    for result in judged_.domains:
        for q in result.domain.questions:
            if not q.optional and not answer_of(answers, q.key):
                found.append(f"{q.key}: answer the question.")
        if result.level is None:
            found.append(f"{result.domain.name}: state a judgement.")
        if result.overridden and not result.reason.strip():
            found.append(
                f"{result.domain.name}: say why the judgement differs from the suggested one."
            )
    if judged_.overall is None:
        found.append("Overall: state the overall judgement.")
    elif (
        judged_.overall_stated
        and judged_.overall_suggested
        and judged_.overall_stated != judged_.overall_suggested
        and not judged_.overall_reason.strip()
    ):
        found.append("Overall: say why the judgement differs from the suggested one.")
    return found


# --- comparing two appraisals ---


@dataclass
class Row:
    """One question, domain judgement or the overall, of two appraisals side by side."""

    kind: str  # "question", "domain", "overall"
    key: str
    label: str
    a: str
    b: str
    a_text: str
    b_text: str
    a_note: str = ""
    b_note: str = ""
    consensus: str = ""
    consensus_text: str = ""

    @property
    def agree(self) -> bool:
        return self.a == self.b

    @property
    def anchor(self) -> str:
        return f"{self.kind}-{self.key}".replace(".", "-")


@dataclass
class Comparison:
    tool: Tool
    a: Appraisal
    b: Appraisal
    consensus: Appraisal | None
    rows: list[Row] = field(default_factory=list)

    @property
    def disagreements(self) -> int:
        return sum(not r.agree for r in self.rows)


def _answer_text(tool: Tool, key: str, answer: str) -> str:
    q = tool.question(key)
    option = q.option(answer) if q else None
    return option.label if option else ""


def compare(
    a: Appraisal, b: Appraisal, tools: Mapping[str, Tool], consensus: Appraisal | None = None
) -> Comparison:
    tool = tools[a.tool]
    ja, jb = judge(tool, a.answers, a.judgements), judge(tool, b.answers, b.judgements)
    jc = judge(tool, consensus.answers, consensus.judgements) if consensus else None
    rows = []
    for result_a, result_b in zip(ja.domains, jb.domains, strict=True):
        domain = result_a.domain
        for q in domain.questions:
            va, vb = answer_of(a.answers, q.key), answer_of(b.answers, q.key)
            vc = answer_of(consensus.answers, q.key) if consensus else ""
            rows.append(
                Row(
                    "question",
                    q.key,
                    f"{q.key} {q.text}",
                    va,
                    vb,
                    _answer_text(tool, q.key, va),
                    _answer_text(tool, q.key, vb),
                    _note(a.answers, q.key),
                    _note(b.answers, q.key),
                    vc,
                    _answer_text(tool, q.key, vc),
                )
            )
        if domain.judge != "answer":
            la, lb = result_a.level or "", result_b.level or ""
            lc = (jc.level_of(domain.key) or "") if jc else ""
            rows.append(
                Row(
                    "domain",
                    domain.key,
                    f"{domain.name}: judgement",
                    la,
                    lb,
                    tool.label(la),
                    tool.label(lb),
                    result_a.reason,
                    result_b.reason,
                    lc,
                    tool.label(lc),
                )
            )
    oa, ob = ja.overall or "", jb.overall or ""
    oc = (jc.overall or "") if jc else ""
    rows.append(
        Row(
            "overall",
            OVERALL,
            "Overall judgement",
            oa,
            ob,
            tool.label(oa, overall=True),
            tool.label(ob, overall=True),
            ja.overall_reason,
            jb.overall_reason,
            oc,
            tool.label(oc, overall=True),
        )
    )
    return Comparison(tool, a, b, consensus, rows)


def _note(answers: Mapping[str, Any], key: str) -> str:
    item = answers.get(key)
    return str(item.get("note", "")) if isinstance(item, Mapping) else ""


# --- progress ---


@dataclass
class StudyProgress:
    study: Study
    design: str
    tool: Tool | None
    status: Progress
    copies: list[Appraisal]
    consensus: Appraisal | None
    masked: bool = False

    @property
    def design_label(self) -> str:
        return str(Design(self.design).label) if self.design in Design.values else self.design


def _status(
    own: list[Appraisal], consensus: Appraisal | None, tools: Mapping[str, Tool]
) -> Progress:
    return rules.progress_of(
        dual=True,
        own=own,
        consensus=consensus,
        disagreements=lambda a, b: compare(a, b, tools).disagreements if a.tool in tools else 0,
    )


def progress(review: Review) -> list[StudyProgress]:
    """Every study with its design, tool and appraisal progress, in label order."""
    tools = tools_of(review)
    setup = appraisal_setup_of(review)
    designs = designs_of(review)
    copies: dict[int, list[Appraisal]] = {}
    for appraisal in (
        Appraisal.objects.filter(review=review).select_related("assessor").order_by("pk")
    ):
        copies.setdefault(appraisal.study_id, []).append(appraisal)
    rows = []
    for study in Study.objects.filter(review=review).order_by("label", "pk"):
        own, consensus = rules.split(copies.get(study.pk, []))
        design = designs.get(study.pk, setup.default_design)
        if own or consensus:
            slug = own[0].tool if own else consensus.tool  # type: ignore[union-attr]
        else:
            slug = tool_for_design(review, design, setup)
        rows.append(
            StudyProgress(
                study, design, tools.get(slug), _status(own, consensus, tools), own, consensus
            )
        )
    return rows


def progress_seen_by(review: Review, user_id: int, *, review_wide: bool) -> list[StudyProgress]:
    """`progress(review)` as a member may see it: without review-wide figures (a reviewer
    of a blinded review) a study shows only her own appraisal, and "final" once the
    consensus is; never a colleague's appraisal or its state."""
    rows = progress(review)
    if review_wide:
        return rows
    seen = []
    for row in rows:
        own = [c for c in row.copies if c.assessor_id == user_id]
        status = rules.progress_masked(row.status, own)
        seen.append(
            StudyProgress(row.study, row.design, row.tool, status, own, row.consensus, masked=True)
        )
    return seen


# --- final judgements, agreement ---


@dataclass
class FinalRow:
    study: Study
    appraisal: Appraisal
    judged: Judged


def final_copies(review: Review, tool: str | None = None) -> list[FinalRow]:
    """The final (consensus, done) appraisal of each study, by study label."""
    tools = tools_of(review)
    found = []
    query = Appraisal.objects.filter(
        review=review, assessor__isnull=True, status=AppraisalStatus.DONE
    ).select_related("study")
    if tool:
        query = query.filter(tool=tool)
    for appraisal in query.order_by("study__label", "study_id"):
        result = judged(appraisal, tools)
        if result is not None:
            found.append(FinalRow(appraisal.study, appraisal, result))
    return found


def studies_at_most(review: Review, level: str) -> set[int]:
    """The studies whose final overall judgement is at most `level` (low, some, high,
    critical). Studies without a final appraisal, or judged "no information" / not
    applicable, are not among them: their risk is not known to be that low."""
    limit = RANK[level]
    return {
        row.study.pk
        for row in final_copies(review)
        if row.judged.overall in RANK and RANK[row.judged.overall] <= limit
    }


@dataclass
class DomainAgreement:
    tool: Tool
    key: str
    label: str
    result: Agreement


def agreement_by_domain(review: Review) -> list[DomainAgreement]:
    """Cohen's kappa per domain and for the overall judgement, per tool, over the studies
    both assessors marked done (the consensus does not count)."""
    tools = tools_of(review)
    pairs: dict[int, list[Appraisal]] = {}
    for appraisal in Appraisal.objects.filter(
        review=review, assessor__isnull=False, status=AppraisalStatus.DONE
    ).order_by("pk"):
        pairs.setdefault(appraisal.study_id, []).append(appraisal)
    by_tool: dict[str, list[tuple[Judged, Judged]]] = {}
    for done in pairs.values():
        if len(done) < 2 or done[0].tool != done[1].tool or done[0].tool not in tools:
            continue
        tool = tools[done[0].tool]
        by_tool.setdefault(tool.slug, []).append(
            (
                judge(tool, done[0].answers, done[0].judgements),
                judge(tool, done[1].answers, done[1].judgements),
            )
        )
    results = []
    for slug, judged_pairs in by_tool.items():
        tool = tools[slug]
        categories = list(dict.fromkeys([*RANKED, "ni", "na", "—"]))
        for domain in tool.domains:
            values = _pairs(
                (a.level_of(domain.key), b.level_of(domain.key)) for a, b in judged_pairs
            )
            results.append(
                DomainAgreement(tool, domain.key, domain.name, agreement(values, categories))
            )
        values = _pairs((a.overall, b.overall) for a, b in judged_pairs)
        results.append(DomainAgreement(tool, OVERALL, "Overall", agreement(values, categories)))
    return results


def _pairs(items: Iterable[tuple[str | None, str | None]]) -> list[tuple[str, str]]:
    return [(a or "—", b or "—") for a, b in items]
