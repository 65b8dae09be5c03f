"""Appraisal writes: the review's tools, a study's design, an assessor's appraisal, and
the senior's consensus. Each is one transaction; bad input raises ValidationError with
a message saying what and where.

Two assessors appraise each study independently with the tool fitting its design (fixed
when the first starts). Once both are done a senior starts the consensus from every
answer and judgement they agree on, takes a side (or types another) for each
disagreement, and marks it final: the final appraisal is what the plots, tables and the
sensitivity filter read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction

from extraction.appraisal.models import (
    Appraisal,
    AppraisalSetup,
    AppraisalStatus,
    CustomTool,
    Design,
    StudyDesign,
)
from extraction.appraisal.selectors import (
    OVERALL,
    compare,
    designs_of,
    judge,
    problems,
    tool_for_design,
    tools_of,
)
from extraction.appraisal.tools import ALL_LEVELS, Tool, ToolError, parse
from extraction.dual import rules
from extraction.dual import services as dual
from reviewer.models import Membership, Review, Role, Study, User

Side = Literal["a", "b"]
NOTE_LIMIT = 4000


def _membership(review: Review, user: User) -> Membership:
    return dual.member(review, user)


def _senior(review: Review, user: User) -> None:
    dual.require_senior(review, user, "Only a senior author does this.")


#: An assessor edits her own appraisal; a senior edits the consensus.
may_edit = rules.may_edit


# --- the review's tools and the studies' designs ---


@transaction.atomic
def tools_choose(
    *, review: Review, user: User, tools: Mapping[str, str], default_design: str
) -> None:
    """The tool for each design (an empty choice keeps the default)."""
    if not _membership(review, user).has_role(Role.OWNER):
        raise ValidationError("Only an owner chooses the review's tools.")
    known = tools_of(review)
    chosen = {}
    for design, slug in tools.items():
        if design not in Design.values:
            raise ValidationError(f"“{design}” is not a study design.")
        if slug and slug not in known:
            raise ValidationError(f"{Design(design).label}: “{slug}” is not a tool of this review.")
        if slug:
            chosen[design] = slug
    if default_design not in Design.values:
        raise ValidationError(f"“{default_design}” is not a study design.")
    setup, _ = AppraisalSetup.objects.get_or_create(review=review)
    setup.tools = chosen
    setup.default_design = default_design
    setup.save(update_fields=["tools", "default_design"])


@transaction.atomic
def design_set(*, study: Study, user: User, design: str) -> None:
    """The study's design (seniors). An appraisal already started keeps its tool."""
    _senior(study.review, user)
    if design not in Design.values:
        raise ValidationError(f"“{design}” is not a study design.")
    StudyDesign.objects.update_or_create(
        study=study, defaults={"review": study.review, "design": design, "set_by": user}
    )


@transaction.atomic
def custom_tool_save(*, review: Review, user: User, definition: Mapping[str, Any]) -> CustomTool:
    """Add or replace one of the review's own tools (owners). The definition has the
    shipped tools' shape; it is checked whole before anything is stored."""
    if not _membership(review, user).has_role(Role.OWNER):
        raise ValidationError("Only an owner builds the review's tools.")
    slug = str(definition.get("slug", ""))
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,50}", slug):
        raise ValidationError(
            "The tool needs a short name of lower-case letters, digits and dashes."
        )
    try:
        parse(definition, custom=True)
    except ToolError as error:
        raise ValidationError(str(error)) from error
    in_use = Appraisal.objects.filter(review=review, tool=f"custom-{slug}").exists()
    existing = CustomTool.objects.filter(review=review, slug=slug).first()
    if existing is not None and in_use:
        raise ValidationError(f"“{slug}” is in use by appraisals; save it under a new name.")
    if existing is not None:
        existing.definition = dict(definition)
        existing.save(update_fields=["definition"])
        return existing
    return CustomTool.objects.create(
        review=review, slug=slug, definition=dict(definition), created_by=user
    )


# --- an assessor's appraisal ---


@transaction.atomic
def appraisal_start(*, study: Study, user: User) -> Appraisal:
    """The user's appraisal of the study, created on first use (two per study), with
    the tool of the first (or the one chosen for the study's design)."""

    def create(others: Sequence[Appraisal]) -> Appraisal:
        if others:
            slug = others[0].tool
        else:
            slug = tool_for_design(study.review, designs_of(study.review)[study.pk])
        if slug not in tools_of(study.review):
            raise ValidationError(
                "No appraisal tool is chosen for this study's design; an owner chooses one."
            )
        return Appraisal.objects.create(
            review=study.review, study=study, assessor=user, tool=slug, updated_by=user
        )

    return dual.copy_start(
        Appraisal,
        study=study,
        user=user,
        allowed=rules.copies_needed(True),
        verb="appraised",
        create=create,
    )


def _clean(
    tool: Tool, answers: Mapping[str, Any], judgements: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    clean_answers: dict[str, Any] = {}
    for key, item in answers.items():
        question = tool.question(key)
        if question is None:
            raise ValidationError(f"Question {key} is not in {tool.short}.")
        answer = str(item.get("a", "") or "")
        note = str(item.get("note", "") or "").strip()
        if answer and question.option(answer) is None:
            raise ValidationError(f"Question {key}: “{answer}” is not one of its answers.")
        if len(note) > NOTE_LIMIT:
            raise ValidationError(
                f"Question {key}: the note is longer than {NOTE_LIMIT} characters."
            )
        if answer or note:
            clean_answers[key] = {"a": answer, "note": note}
    clean_judgements: dict[str, Any] = {}
    for key, item in judgements.items():
        if key != OVERALL and tool.domain(key) is None:
            raise ValidationError(f"Domain {key} is not in {tool.short}.")
        level = str(item.get("level", "") or "")
        reason = str(item.get("reason", "") or "").strip()
        allowed = tool.overall_levels if key == OVERALL else tool.levels
        if level and (level not in allowed or level not in ALL_LEVELS):
            where = "Overall" if key == OVERALL else key
            raise ValidationError(f"{where}: “{level}” is not a judgement of {tool.short}.")
        if level or reason:
            clean_judgements[key] = {"level": level, "reason": reason}
    return clean_answers, clean_judgements


def _editable(appraisal: Appraisal, user: User) -> Appraisal:
    appraisal = (
        Appraisal.objects.select_for_update().select_related("review", "study").get(pk=appraisal.pk)
    )
    if not may_edit(appraisal, _membership(appraisal.review, user)):
        raise ValidationError("This appraisal is not yours to edit.")
    if appraisal.done:
        raise ValidationError("This appraisal is marked done. Reopen it to change it.")
    return appraisal


@transaction.atomic
def appraisal_save(
    *,
    appraisal: Appraisal,
    user: User,
    answers: Mapping[str, Any],
    judgements: Mapping[str, Any],
    done: bool = False,
) -> list[str]:
    """Store the answers and judgements (all or nothing); with `done`, also mark it done
    unless something is missing (returned, with nothing marked)."""
    appraisal = _editable(appraisal, user)
    tool = tools_of(appraisal.review)[appraisal.tool]
    appraisal.answers, appraisal.judgements = _clean(tool, answers, judgements)
    appraisal.updated_by = user
    missing: list[str] = []
    if done:
        missing = problems(judge(tool, appraisal.answers, appraisal.judgements), appraisal.answers)
        if not missing:
            appraisal.status = AppraisalStatus.DONE
    appraisal.save()
    return missing


@transaction.atomic
def appraisal_reopen(*, appraisal: Appraisal, user: User) -> None:
    """Back to "in progress" (`extraction.dual.rules.may_reopen`, `reopen_refusal`): an
    assessor's appraisal cannot reopen once the consensus is final; a senior reopens
    the consensus first."""
    dual.copy_reopen(Appraisal, copy=appraisal, user=user, dual=True, noun="appraisal")


# --- the consensus ---


def copies_of(study: Study) -> tuple[Appraisal, Appraisal]:
    """The study's two appraisals marked done (A, B): `extraction.dual.services.done_pair`."""
    return dual.done_pair(Appraisal, study, people="assessors")


@transaction.atomic
def consensus_start(*, study: Study, user: User) -> Appraisal:
    """The consensus of the study, from every answer and judgement both agree on."""
    return dual.consensus_begin(
        Appraisal,
        study=study,
        user=user,
        people="assessors",
        senior_only="Only a senior author does this.",
        create=lambda a, b: _agreed(study, user, a, b),
    )


def _agreed(study: Study, user: User, a: Appraisal, b: Appraisal) -> Appraisal:
    answers: dict[str, Any] = {}
    judgements: dict[str, Any] = {}
    for row in compare(a, b, tools_of(study.review)).rows:
        if not row.agree or not row.a:
            continue
        if row.kind == "question":
            answers[row.key] = {"a": row.a, "note": _joined(row.a_note, row.b_note)}
        else:
            stated = (a.judgements.get(row.key) or {}).get("level") or (
                b.judgements.get(row.key) or {}
            ).get("level")
            if stated:
                judgements[row.key] = {"level": row.a, "reason": _joined(row.a_note, row.b_note)}
    return Appraisal.objects.create(
        review=study.review,
        study=study,
        assessor=None,
        tool=a.tool,
        answers=answers,
        judgements=judgements,
        updated_by=user,
    )


def _joined(first: str, second: str) -> str:
    return first if first == second or not second else (f"{first}\n{second}" if first else second)


@transaction.atomic
def consensus_take(*, consensus: Appraisal, user: User, side: Side, kind: str, key: str) -> None:
    """Take one side's answer (with its note), domain judgement or overall judgement."""
    consensus = _editable(consensus, user)
    if not consensus.is_consensus:
        raise ValidationError("Sides are taken into the consensus only.")
    a, b = copies_of(consensus.study)
    source = a if side == "a" else b
    if kind == "question":
        answers = dict(consensus.answers)
        if key in source.answers:
            answers[key] = dict(source.answers[key])
        else:
            answers.pop(key, None)
        consensus.answers = answers
    elif kind in ("domain", "overall"):
        tool = tools_of(consensus.review)[consensus.tool]
        judged = judge(tool, source.answers, source.judgements)
        level = judged.level_of(key)
        judgements = dict(consensus.judgements)
        reason = str((source.judgements.get(key) or {}).get("reason", ""))
        if level:
            judgements[key] = {"level": level, "reason": reason}
        else:
            judgements.pop(key, None)
        consensus.judgements = judgements
    else:
        raise ValidationError("Say what to take: an answer, a domain judgement or the overall.")
    consensus.updated_by = user
    consensus.save(update_fields=["answers", "judgements", "updated_by", "updated_at"])
