"""What the archive holds, written once: the tables, what is left out and why, and the ids
hidden inside JSON values.

The tables are found from the models themselves (every concrete column of every archived
model is written, so a column added later is archived without a change here); what this
module lists is the part a machine cannot know:

- `ARCHIVED`: the models whose rows belong to one review. Every model of the reviewer,
  extraction and analysis apps that has a path to `Review` must be here or in `EXCLUDED`
  with its reason; `tests/reviewer/archive/test_layout.py` fails otherwise. *Every new table
  joins the review archive* (a project rule): add it here, or to `EXCLUDED` saying why.
- `EXCLUDED_COLUMNS`: columns of an archived model that describe this server's copy rather
  than the review (with the reason).
- `JSON_IDS`: JSON columns that hold ids of other rows (the extraction values are keyed by
  field id and hold choice ids). Every JSON column of an archived model is either here or
  in `JSON_WITHOUT_IDS`; the layout test says so.
- `INTERRUPTED`: job rows still waiting or running when the archive was taken. No worker
  will ever finish them on the instance the archive is restored into, so they are restored
  as failed, with a sentence saying why.

The archive numbers each table's rows 1, 2, 3 ... in primary-key order, and writes those
numbers wherever a row refers to another one. Two archives of the same review are
therefore equal file for file whatever the database ids were (the round-trip test uses
this), and an archive restores into a database that already holds other reviews.

The archive spans the apps, yet it stays in the core rather than in the project corner
(`reviewer.project`): it names the extraction and analysis models by label and reaches
them through Django's app registry (`apps.get_model`), never by import, so the core
still loads and runs without knowing those apps' code; which apps it covers is data
(`APPS`, the labels below), checked against every installed model by the layout test. Its
commands (`export_review`, `import_review`) and restore page are the core's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models

from reviewer.models.jobs import CANCELLED_NOTE, JobStatus

#: Bumped when an archive written by this version could not be read by an older one in a
#: way its checks would notice (a table or column renamed, a meaning changed). Adding a
#: table or a column with a default does not bump it: older archives still restore.
FORMAT = "reviewer-review-archive"
FORMAT_VERSION = 1

#: The apps whose models can belong to a review.
APPS = ("reviewer", "extraction", "analysis")

#: Models whose rows belong to one review and go into its archive (by label; the order
#: here does not matter: tables are written and restored in dependency order).
ARCHIVED: tuple[str, ...] = (
    "reviewer.Review",
    "reviewer.Membership",
    "reviewer.FormerMember",
    "reviewer.ExclusionReason",
    "reviewer.Source",
    "reviewer.ImportJob",
    "reviewer.ImportFile",
    "reviewer.Record",
    "reviewer.DedupJob",
    "reviewer.DuplicatePair",
    "reviewer.DedupEvent",
    "reviewer.Decision",
    "reviewer.DecisionChange",
    "reviewer.Adjudication",
    "reviewer.FullText",
    "reviewer.Study",
    "reviewer.Approval",
    "reviewer.Removal",
    "reviewer.RecordLabel",
    "reviewer.RankingJob",
    "reviewer.RelevanceScore",
    "reviewer.StoppingSample",
    "reviewer.SampledRecord",
    "extraction.ExtractionSetup",
    "extraction.Field",
    "extraction.FieldChoice",
    "extraction.Extraction",
    "extraction.PatientRow",
    "extraction.AppraisalSetup",
    "extraction.CustomTool",
    "extraction.StudyDesign",
    "extraction.Appraisal",
    "analysis.AnalysisRun",
)

#: Models with a path to a review that are left out of its archive, each with the reason.
EXCLUDED: dict[str, str] = {
    "reviewer.Invitation": "an invitation's link is a key to this server's copy of the review: "
    "a restored review invites its team anew",
    "extraction.PendingImport": "an uploaded sheet not yet imported is one person's work in "
    "progress, not the review's data: nothing in it counts until it is committed (then its "
    "rows are the copies' patient rows, which are archived), it is deleted after a day, and "
    "its token and worker state mean nothing on another server; the person uploads it again",
}

#: Columns of archived models that are about this server's copy, not the review.
EXCLUDED_COLUMNS: dict[str, dict[str, str]] = {
    "reviewer.Review": {
        "archive_downloaded_at": "when this server last handed out an archive of the review; "
        "a restored copy has not been downloaded yet",
        "counts_version": "keys this server's cached screening counters; a restored copy "
        "starts its own",
    },
}

#: Columns of `settings.AUTH_USER_MODEL` written for each person the review mentions.
#: Passwords, permissions and personal preferences stay on the server.
PERSON_COLUMNS = ("email", "username", "first_name", "last_name")


class IdMaps:
    """Old id -> new id per model label, and the remembered columns `JSON_IDS` need.

    Writing, "old" is the database id and "new" the archive's row number; restoring, the
    other way round. A JSON translator is the same function both ways.
    """

    def __init__(self) -> None:
        self.ids: dict[str, dict[int, int]] = {}
        self.remembered: dict[tuple[str, str], dict[int, Any]] = {}

    def get(self, label: str, old: int, *, where: str) -> int:
        try:
            return self.ids[label][int(old)]
        except (KeyError, ValueError, TypeError):
            raise IdNotFound(
                f"{where}: refers to {label} {old!r}, which is not in the review"
            ) from None

    def add(self, label: str, old: int, new: int) -> None:
        self.ids.setdefault(label, {})[old] = new

    def remember(self, label: str, column: str, old: int, value: Any) -> None:
        self.remembered.setdefault((label, column), {})[old] = value

    def recall(self, label: str, column: str, old: int) -> Any:
        return self.remembered.get((label, column), {}).get(int(old))


class IdNotFound(ValueError):
    """A reference to a row that the review does not hold."""


Translate = Callable[[Any, IdMaps, str], Any]


@dataclass(frozen=True)
class JsonIds:
    """How to translate the ids inside one JSON column.

    `references`: the models whose ids appear (a translation that refers to its own table
    waits until the whole table is restored). `remember`: columns of earlier tables the
    translation needs, kept by row as the tables go by.
    """

    translate: Translate
    references: tuple[str, ...]
    remember: tuple[tuple[str, str], ...] = ()


def _filled_fields(value: Any, ids: IdMaps, where: str) -> Any:
    """`Record.filled_fields`: field name -> the id of the record the value came from."""
    if not isinstance(value, dict):
        return value
    return {name: ids.get("reviewer.Record", old, where=where) for name, old in value.items()}


CHOICE_TYPES = ("choice", "multi")


def _extraction_values(value: Any, ids: IdMaps, where: str) -> Any:
    """Extraction values: keyed by field id; a choice holds a choice id, a multiple choice
    a list of them (see `extraction.values`). Anything else is copied as it is."""
    if not isinstance(value, dict):
        return value
    translated: dict[str, Any] = {}
    for key, stored in value.items():
        field_type = ids.recall("extraction.Field", "type", key)
        new_key = str(ids.get("extraction.Field", key, where=where))
        if field_type in CHOICE_TYPES and isinstance(stored, int):
            stored = ids.get("extraction.FieldChoice", stored, where=where)
        elif field_type in CHOICE_TYPES and isinstance(stored, list):
            stored = [
                ids.get("extraction.FieldChoice", item, where=where)
                if isinstance(item, int)
                else item
                for item in stored
            ]
        translated[new_key] = stored
    return translated


_EXTRACTION_VALUES = JsonIds(
    translate=_extraction_values,
    references=("extraction.Field", "extraction.FieldChoice"),
    remember=(("extraction.Field", "type"),),
)

#: JSON columns holding ids of other rows, with their translation.
JSON_IDS: dict[tuple[str, str], JsonIds] = {
    ("reviewer.Record", "filled_fields"): JsonIds(
        translate=_filled_fields, references=("reviewer.Record",)
    ),
    ("extraction.Extraction", "values"): _EXTRACTION_VALUES,
    ("extraction.PatientRow", "values"): _EXTRACTION_VALUES,
}

#: JSON columns that hold no ids: copied as they are.
JSON_WITHOUT_IDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("reviewer.Review", "highlight_include"),
        ("reviewer.Review", "highlight_exclude"),
        ("reviewer.Review", "labels"),
        ("reviewer.ImportFile", "mapping"),
        ("reviewer.ImportFile", "summary"),
        ("reviewer.Record", "authors"),
        ("reviewer.Record", "keywords"),
        ("reviewer.Record", "raw"),
        ("reviewer.DedupJob", "counts"),
        ("reviewer.DuplicatePair", "evidence"),
        ("reviewer.DuplicatePair", "reasons"),
        ("analysis.AnalysisRun", "spec"),  # by field key, never by id
        # appraisals: keyed by the tool's question and domain keys and tool slugs, never ids
        ("extraction.AppraisalSetup", "tools"),
        ("extraction.CustomTool", "definition"),
        ("extraction.Appraisal", "answers"),
        ("extraction.Appraisal", "judgements"),
        ("analysis.AnalysisRun", "result"),
    }
)


#: Columns that archives written before the job lifecycle was one (issue 15) name
#: differently: old name -> the name now. Restoring reads them under the new name; no archive
#: written since uses an old name, so a server from before refuses the new archives (their
#: `claimed_at` is a column it does not know) instead of misreading them.
RENAMED_COLUMNS: dict[str, dict[str, str]] = {
    "analysis.AnalysisRun": {"started_at": "claimed_at"},
}

#: Values those archives store differently: (label, column) -> {old value: value now}.
RENAMED_VALUES: dict[tuple[str, str], dict[str, str]] = {
    ("reviewer.ImportJob", "status"): {"done": "succeeded"},
    ("reviewer.DedupJob", "status"): {"done": "succeeded"},
}


#: Job models whose cancelled runs archives written before every kind ended `cancelled`
#: stored as `failed` with the cancel's note (`reviewer.models.jobs.CANCELLED_NOTE`).
CANCELLED_AS_FAILED = frozenset(
    {"reviewer.DedupJob", "reviewer.RankingJob", "analysis.AnalysisRun"}
)


def status_now(label: str, values: dict[str, Any]) -> None:
    """A restored job row's status as this version stores it: a run such an archive holds
    as failed by a cancel is cancelled (no archive written since holds one so)."""
    if (
        label in CANCELLED_AS_FAILED
        and values.get("status") == JobStatus.FAILED
        and re.match(CANCELLED_NOTE, str(values.get("error", "")))
    ):
        values["status"] = JobStatus.CANCELLED


def column_now(label: str, name: str) -> str:
    """An archived column's name as this version calls it."""
    return RENAMED_COLUMNS.get(label, {}).get(name, name)


def value_now(label: str, column: str, value: Any) -> Any:
    """An archived value as this version stores it."""
    renamed = RENAMED_VALUES.get((label, column))
    if renamed is None or not isinstance(value, str):
        return value
    return renamed.get(value, value)


@dataclass(frozen=True)
class Interrupted:
    """A job model's unfinished statuses, and what a restored unfinished job becomes."""

    status_field: str
    unfinished: frozenset[str]
    becomes: str
    message_field: str


INTERRUPTED_MESSAGE = (
    "This job had not finished when the review's archive was taken; it was restored as "
    "failed. Start it again."
)
INTERRUPTED: dict[str, Interrupted] = {
    "reviewer.ImportJob": Interrupted(
        "status",
        frozenset({"waiting-read", "reading", "waiting-import", "importing"}),
        "failed",
        "error",
    ),
    "reviewer.DedupJob": Interrupted("status", frozenset({"queued", "running"}), "failed", "error"),
    "reviewer.RankingJob": Interrupted(
        "status", frozenset({"queued", "running"}), "failed", "error"
    ),
    "analysis.AnalysisRun": Interrupted(
        "status", frozenset({"queued", "running"}), "failed", "error"
    ),
}


# --- the models, as the archive sees them ---------------------------------------------


def model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def label_of(model_class: type[models.Model]) -> str:
    return str(model_class._meta.label)


def user_label() -> str:
    return str(settings.AUTH_USER_MODEL)


def is_user(target: type[models.Model]) -> bool:
    return label_of(target) == user_label()


def columns(label: str) -> list[models.Field[Any, Any]]:
    """The archived columns of a model: every concrete field but the excluded ones."""
    skipped = EXCLUDED_COLUMNS.get(label, {})
    return [f for f in model(label)._meta.concrete_fields if f.name not in skipped]


def references(label: str) -> list[models.ForeignKey[Any, Any]]:
    """The foreign keys (and one-to-ones) of a model's archived columns."""
    return [f for f in columns(label) if isinstance(f, models.ForeignKey)]


def file_columns(label: str) -> list[models.FileField]:
    return [f for f in columns(label) if isinstance(f, models.FileField)]


def review_path(model_class: type[models.Model]) -> str | None:
    """The ORM lookup from a model to its review ("review", "job__review", "" for Review
    itself), following foreign keys; None when it has no path to a review."""
    review = model("reviewer.Review")
    if model_class is review:
        return ""
    direct = [
        f
        for f in model_class._meta.concrete_fields
        if isinstance(f, models.ForeignKey) and f.related_model is review
    ]
    if direct:
        return str(direct[0].name)
    seen = {model_class}
    frontier: list[tuple[type[models.Model], str]] = [(model_class, "")]
    while frontier:
        following: list[tuple[type[models.Model], str]] = []
        for current, path in frontier:
            for f in current._meta.concrete_fields:
                if not isinstance(f, models.ForeignKey):
                    continue
                target = f.related_model
                assert isinstance(target, type)
                step = f"{path}__{f.name}" if path else f.name
                if target is review:
                    return step
                if target not in seen and not is_user(target):
                    seen.add(target)
                    following.append((target, step))
        frontier = following
    return None


def models_with_a_review() -> list[str]:
    """Every model of `APPS` that has a path to a review."""
    found = []
    for app in APPS:
        for model_class in apps.get_app_config(app).get_models():
            if review_path(model_class) is not None:
                found.append(label_of(model_class))
    return found


@cache
def table_order() -> tuple[str, ...]:
    """`ARCHIVED` in dependency order: every table after the tables its foreign keys point
    at (a model's references to itself are restored in a second step)."""
    pending = {label: _dependencies(label) for label in ARCHIVED}
    ordered: list[str] = []
    while pending:
        ready = [label for label in ARCHIVED if label in pending and not pending[label]]
        if not ready:
            raise RuntimeError(f"The archived tables refer to each other in a cycle: {pending}")
        for label in ready:
            ordered.append(label)
            del pending[label]
        for needs in pending.values():
            needs.difference_update(ready)
    return tuple(ordered)


def _dependencies(label: str) -> set[str]:
    needs = set()
    for f in references(label):
        target = f.related_model
        assert isinstance(target, type)
        target_label = label_of(target)
        if target_label != label and not is_user(target):
            needs.add(target_label)
    for (json_label, _), how in JSON_IDS.items():
        if json_label == label:
            needs.update(r for r in how.references if r != label)
            needs.update(r for r, _ in how.remember if r != label)
    return needs


def table_file(label: str) -> str:
    return f"tables/{label.lower()}.jsonl"


def remembered_columns() -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for how in JSON_IDS.values():
        for label, column in how.remember:
            wanted.setdefault(label, set()).add(column)
    return wanted


def describe(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


def json_translation(label: str, column: str) -> JsonIds | None:
    return JSON_IDS.get((label, column))


def archived_json_columns() -> Mapping[tuple[str, str], models.JSONField]:
    return {
        (label, f.name): f
        for label in ARCHIVED
        for f in columns(label)
        if isinstance(f, models.JSONField)
    }
