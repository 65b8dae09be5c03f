"""Importing search exports: upload -> read (preview) -> confirm -> import, all or nothing.

The parsers in `reviewer.imports` are pure; this module stores files, runs them
through the parsers, and writes `Record` rows. Long steps run as Celery tasks
(`reviewer.tasks`) that call `import_job_read` and `import_job_run` here.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files import File
from django.db import connection, reset_queries, transaction
from django.template.defaultfilters import pluralize
from django.utils.text import get_valid_filename

from reviewer.imports import ParsedRecord, ParseError, detect_format, read_file, summarise
from reviewer.imports.base import ColumnMapping, ColumnMappingError, FileFormat
from reviewer.imports.notes import loses_data
from reviewer.imports.reader import without_nul
from reviewer.models import (
    ImportFile,
    ImportJob,
    ImportStatus,
    RankingTrigger,
    Record,
    Review,
    Source,
    SourceKind,
    User,
)
from reviewer.screening import counters
from reviewer.services.duplicates import dedup_after_import
from reviewer.services.jobs import Claim, cancelled_fields, job_restart, job_send, run_claimed
from reviewer.services.ranking import ranking_for_members

logger = logging.getLogger(__name__)

INSERT_BATCH = 2000
SAMPLE_FIELDS = ("title", "authors", "year", "journal", "doi", "pmid", "location")


# --- creating a job ---


#: What a file is called when its name is blank or nothing but dots (" ", "..").
UNNAMED_FILE = "unnamed file"


def _names(name: str) -> tuple[str, str]:
    """(the name shown, the name stored under) for an uploaded file's name.

    Browsers send whatever the file was called; a name the storage cannot derive a file
    name from (" ", "..") is kept under a stand-in, instead of failing the upload.
    """
    shown = Path(name.replace("\\", "/")).name.strip() or UNNAMED_FILE
    try:
        stored = get_valid_filename(shown)
    except SuspiciousFileOperation:
        shown, stored = UNNAMED_FILE, "unnamed-file"
    return shown[:255], stored


def _store_upload(job: ImportJob, name: str, content: IO[bytes]) -> ImportFile:
    shown, stored = _names(name)
    digest = hashlib.sha256()
    size = 0
    content.seek(0)
    for chunk in iter(lambda: content.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    content.seek(0)
    import_file = ImportFile(job=job, original_name=shown, size=size, sha256=digest.hexdigest())
    import_file.file.save(stored, File(content), save=False)
    import_file.save()
    return import_file


def _refusals(stored: list[ImportFile]) -> list[str]:
    """Why each file that cannot be an export at all (a Word document, an image, a PDF,
    an empty file) is refused; choosing a format by hand would not help with those."""
    reasons = []
    for import_file in stored:
        detection = detect_format(Path(import_file.file.path), import_file.original_name)
        if detection.refused:
            reasons.append(detection.reason)
    return reasons


def import_job_create(
    *,
    source: Source,
    files: Iterable[tuple[str, IO[bytes]]],
    created_by: User,
    format_override: str = "",
    enqueue: bool = True,
) -> ImportJob:
    """Store the uploaded files and queue reading them. Nothing is imported yet.

    An upload holding a file that is no export at all (see `_refusals`) is refused whole
    with a ValidationError saying why: nothing of it is kept, no job, no stored file.
    """
    if format_override:
        FileFormat(format_override)  # ValueError on nonsense
    stored: list[ImportFile] = []
    try:
        with transaction.atomic():
            # locked: a search hidden meanwhile takes no upload
            source = Source.objects.select_for_update().get(pk=source.pk)
            if source.hidden_at is not None:
                raise ValidationError(_hidden_refusal(source, "Nothing was uploaded."))
            job = ImportJob.objects.create(
                review=source.review, source=source, created_by=created_by
            )
            stored = [_store_upload(job, name, content) for name, content in files]
            if not stored:
                raise ValidationError("Choose at least one file to import.")
            if refusals := _refusals(stored):
                raise ValidationError(" ".join([*refusals, "Nothing was uploaded."]))
            if format_override:
                ImportFile.objects.filter(job=job).update(format_override=format_override)
            if enqueue:
                _enqueue_read(job)
    except BaseException:
        for import_file in stored:  # the rows rolled back; the stored bytes must go too
            import_file.file.storage.delete(import_file.file.name)
        raise
    return job


def _hidden_refusal(source: Source, outcome: str) -> str:
    return (
        f"The search “{source}” is hidden ({source.hidden_reason}), so it takes no new "
        f"records. {outcome} An owner can list it again under Searches → Hidden searches, "
        "or add a new search for these files."
    )


def _enqueue_read(job: ImportJob) -> None:
    job_send(job)  # the job waits to be read: its task is `reviewer.read_import`


def _enqueue_run(job: ImportJob) -> None:
    job_send(job)  # the job waits to be imported: its task is `reviewer.run_import`


# --- reading (the preview) ---


def sample_dict(record: ParsedRecord) -> dict[str, Any]:
    data = asdict(record)
    return {key: data[key] for key in SAMPLE_FIELDS}


def read_summary(
    path: Path, *, filename: str, fmt: str = "", mapping: ColumnMapping | None = None
) -> dict[str, Any]:
    """Read one file in full and describe it (JSON-ready). Raises ParseError."""
    detection = detect_format(path, filename)
    chosen = FileFormat(fmt) if fmt else detection.format
    if chosen is None:
        raise ParseError(detection.reason, filename=filename)
    parsed = read_file(path, filename=filename, fmt=chosen, mapping=mapping or None)
    summary = summarise(parsed)
    return {
        "detected_format": detection.format.value if detection.format else "",
        "detection_reason": detection.reason,
        "format": summary.format.value,
        "encoding": summary.encoding,
        "record_count": summary.record_count,
        "fields_found": summary.fields_found,
        "warnings": [
            {"text": str(warning), "loses_data": loses_data(warning)}
            for warning in summary.warnings
        ],
        "cut_records": [asdict(cut) for cut in summary.cut_records],
        "columns": list(summary.columns),
        "mapping": dict(summary.mapping),
        "sample": [sample_dict(r) for r in summary.sample],
    }


def warning_list(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """A file's warnings as `{"text", "loses_data"}`, data-losing first.

    Summaries stored before warnings were ranked hold plain strings: informational.
    """
    items = [
        item if isinstance(item, dict) else {"text": str(item), "loses_data": False}
        for item in (summary or {}).get("warnings", [])
    ]
    return sorted(items, key=lambda item: not item.get("loses_data"))


def warning_texts(summary: dict[str, Any]) -> list[str]:
    """A file's warnings as text, data-losing first."""
    return [item["text"] for item in warning_list(summary)]


def cut_records(job: ImportJob) -> list[tuple[ImportFile, dict[str, Any]]]:
    """(file, {"record", "line", "at_end"}) for every record the job's files cut short."""
    return [
        (import_file, cut)
        for import_file in job.files.all()
        for cut in (import_file.summary or {}).get("cut_records", [])
    ]


@dataclass(frozen=True)
class SameFile:
    """A file of an upload whose exact bytes were imported before (or are being imported),
    or that appears twice in the upload. `earlier` is the other copy's file row."""

    import_file: ImportFile
    earlier: ImportFile
    in_this_upload: bool


#: Imports that hold, or are about to hold, their files' records.
_IMPORTED_OR_IMPORTING = (ImportStatus.DONE, ImportStatus.WAITING_TO_IMPORT, ImportStatus.IMPORTING)


def same_files(job: ImportJob) -> list[SameFile]:
    """Files of `job` already imported into the review (by content hash), or uploaded twice
    in this job. Looked up afresh each time: another upload may have been imported since
    this one was read."""
    files = list(job.files.all())
    if not files:
        return []
    earlier = (
        ImportFile.objects.filter(
            job__review_id=job.review_id,
            job__status__in=_IMPORTED_OR_IMPORTING,
            sha256__in={f.sha256 for f in files},
        )
        .exclude(job_id=job.pk)
        .select_related("job__source", "job__created_by")
        .order_by("pk")
    )
    by_hash: dict[str, list[ImportFile]] = {}
    for other in earlier:
        by_hash.setdefault(other.sha256, []).append(other)
    found = []
    for n, import_file in enumerate(files):
        for other in by_hash.get(import_file.sha256, []):
            found.append(SameFile(import_file, other, in_this_upload=False))
        twin = next((f for f in files[:n] if f.sha256 == import_file.sha256), None)
        if twin is not None:
            found.append(SameFile(import_file, twin, in_this_upload=True))
    return found


def source_for_command(
    *,
    review: Review,
    name: str,
    kind: str = "",
    search_date: date | None = None,
    query: str = "",
    created_by: User,
) -> tuple[Source, bool]:
    """Find the source a scripted import names, or create it. Returns (source, created).

    A review may hold several searches of one database (an update search, say): then
    the search date tells them apart, and without one the choice is refused.
    """
    candidates = review.sources.filter(name__iexact=name.strip())
    if search_date is not None:
        candidates = candidates.filter(search_date=search_date)
    found = list(candidates[:2])
    if len(found) > 1:
        raise ValidationError(
            f"This review has several searches of “{name}”; give --search-date to pick one."
        )
    if found:
        return found[0], False
    if not kind:
        lowered = name.strip().lower()
        kind = SourceKind.DATABASE
        if lowered.startswith("other"):
            kind = SourceKind.OTHER
            if "website" in lowered:
                kind = SourceKind.WEBSITE
            elif "organi" in lowered:
                kind = SourceKind.ORGANISATION
    source = Source.objects.create(
        review=review,
        name=name.strip(),
        kind=SourceKind(kind),
        search_date=search_date,
        query=query,
        created_by=created_by,
    )
    return source, True


def import_job_read(*, job_id: int) -> None:
    """Read every file of a job and store what was found. Run by the `read_import` task.

    The job ends "ready" when every file was read, "failed" (with the reason) when any
    was not: it can then be changed (another format, a column mapping) or cancelled.
    Whatever goes wrong, the job does not stay "reading" (`services.jobs.run_claimed`).
    """

    def read(claim: Claim) -> dict[str, Any]:
        files = list(ImportJob.objects.get(pk=job_id).files.all())
        for n, import_file in enumerate(files, start=1):
            claim.progress(n - 1, len(files), f"Reading {import_file}")
            _read_one(import_file, job_id)
        unread = [f for f in files if f.error]
        if unread:  # refused, not finished: another format or a mapping may still do
            return {
                "status": ImportStatus.FAILED,
                "error": _unread_message(unread, len(files)),
                "record_count": 0,
            }
        return {
            "status": ImportStatus.READY,
            "error": "",
            "record_count": sum(f.record_count for f in files),
        }

    run_claimed(
        ImportJob,
        job_id,
        read,
        waiting=ImportStatus.WAITING_TO_READ,
        working=ImportStatus.READING,
        failed=lambda error: (
            f"Reading the files failed ({type(error).__name__}: {error}). Nothing was "
            "imported; cancel this upload, or try again."
        ),
        failure_fields={"record_count": 0},
        failure_finishes=False,
        label=f"Reading import job {job_id}",
    )


def _unread_message(unread: list[ImportFile], total: int) -> str:
    if total == 1:
        return "The file could not be read, so nothing can be imported."
    return (
        f"{len(unread)} of the {total} files could not be read, so nothing can be imported: "
        + ", ".join(f"“{f.original_name}”" for f in unread)
        + "."
    )


def _read_one(import_file: ImportFile, job_id: int) -> None:
    """Read one file and store its summary, or the reason it cannot be read."""
    import_file.error = ""
    try:
        summary = read_summary(
            Path(import_file.file.path),
            filename=import_file.original_name,
            fmt=import_file.format_override,
            mapping=import_file.mapping,
        )
    except Exception as error:
        if not isinstance(error, ParseError):  # a parser bug: say so, keep the trace
            logger.exception("Reading %s (import job %s) failed", import_file, job_id)
            error = ParseError(
                f"unexpected error while reading ({type(error).__name__}: {error})",
                filename=import_file.original_name,
            )
        import_file.error = str(error)
        # A table without a title column keeps its columns, so they can be mapped.
        import_file.summary = (
            {"columns": error.columns, "mapping": error.mapping}
            if isinstance(error, ColumnMappingError)
            else {}
        )
        import_file.record_count = 0
        import_file.detected_format = ""
        detection = detect_format(Path(import_file.file.path), import_file.original_name)
        if detection.format:
            import_file.detected_format = detection.format.value
    else:
        import_file.summary = summary
        import_file.detected_format = summary["detected_format"]
        import_file.mapping = summary["mapping"]
        import_file.record_count = summary["record_count"]
    # No text column takes a NUL character (PostgreSQL refuses them), and a file's
    # content reaches the summary and the error message.
    import_file.error = without_nul(import_file.error)
    import_file.summary = without_nul(import_file.summary)
    import_file.mapping = without_nul(import_file.mapping)
    with transaction.atomic():
        import_file.save(
            update_fields=["error", "summary", "detected_format", "mapping", "record_count"]
        )


@transaction.atomic
def import_file_reconfigure(
    *, import_file: ImportFile, format_override: str, mapping: ColumnMapping | None
) -> ImportJob:
    """Change a file's format or column mapping and read the job's files again."""
    job = ImportJob.objects.select_for_update().get(pk=import_file.job_id)
    if job.status not in {ImportStatus.READY, ImportStatus.FAILED}:
        raise ValidationError("This import can no longer be changed.")
    import_file.format_override = FileFormat(format_override).value if format_override else ""
    if mapping is not None:
        import_file.mapping = mapping
    elif format_override and format_override != import_file.format:
        import_file.mapping = {}
    import_file.save(update_fields=["format_override", "mapping"])
    job.status = ImportStatus.WAITING_TO_READ
    job.error = ""
    job.save(update_fields=["status", "error"])
    _enqueue_read(job)
    return job


# --- importing ---


@transaction.atomic
def import_job_confirm(
    *,
    job: ImportJob,
    accept_cut: bool = False,
    import_again: bool = False,
    enqueue: bool = True,
) -> ImportJob:
    """Queue the import of a job that was read without errors.

    Refused (ValidationError) while the files hold records cut short and `accept_cut` is
    not set, or while a file was imported before (or is in the upload twice) and
    `import_again` is not set: those land only when the person chose so.
    With `enqueue=False` the caller runs `import_job_run` itself (the command line does).
    """
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if not job.can_confirm:
        raise ValidationError("Only an import whose files were all read without error can start.")
    source = Source.objects.select_for_update().get(pk=job.source_id)
    if source.hidden_at is not None:  # hidden after this upload was read
        raise ValidationError(_hidden_refusal(source, "Nothing was imported."))
    cut = cut_records(job)
    if cut and not accept_cut:
        raise ValidationError(
            f"Nothing was imported: {len(cut)} record{pluralize(len(cut))} "
            f"{pluralize(len(cut), 'is,are')} cut short ("
            + "; ".join(
                f"{f.original_name}: record {c['record']}, line {c['line']}" for f, c in cut
            )
            + "). Tick that you accept them as they are, or export the search again."
        )
    if same_files(job) and not import_again:
        raise ValidationError(
            "Nothing was imported: this upload holds a file that was imported before or is in "
            "it twice. Choose “Import it again” if you mean to add the same records again."
        )
    job.status = ImportStatus.WAITING_TO_IMPORT
    job.save(update_fields=["status"])
    if enqueue:
        _enqueue_run(job)
    return job


def _record_row(job: ImportJob, import_file: ImportFile, position: int, p: ParsedRecord) -> Record:
    return Record(
        review_id=job.review_id,
        source_id=job.source_id,
        import_file=import_file,
        position=position,
        title=p.title,
        abstract=p.abstract,
        authors=p.authors,
        year=p.year,
        journal=p.journal,
        volume=p.volume,
        issue=p.issue,
        pages=p.pages,
        doi=p.doi,
        pmid=p.pmid,
        keywords=p.keywords,
        language=p.language,
        publication_type=p.publication_type,
        url=p.url,
        raw=p.raw,
    )


def _insert_batch(batch: list[Record]) -> None:
    """Write a batch of records the fastest way each database offers.

    `bulk_create` is slow here: on SQLite Django caps a statement at 999 parameters
    (47 records of 21 columns), and on PostgreSQL a 2,000-row INSERT with JSON
    columns is several times slower than COPY. Values are prepared by the model
    fields themselves, exactly as `bulk_create` prepares them.
    """
    if not batch:
        return
    fields = [f for f in Record._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    table = quote(Record._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    rows = [
        tuple(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields)
        for obj in batch
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)


def _insert_records(job: ImportJob, claim: Claim | None = None) -> int:
    total = job.record_count or None
    done = 0
    for import_file in job.files.all():
        parsed = read_file(
            Path(import_file.file.path),
            filename=import_file.original_name,
            fmt=FileFormat(import_file.format),
            mapping=import_file.mapping or None,
        )
        batch: list[Record] = []
        count = 0
        for count, record in enumerate(parsed.records(), start=1):
            batch.append(_record_row(job, import_file, count, record))
            if len(batch) >= INSERT_BATCH:
                _insert_batch(batch)
                reset_queries()  # with DEBUG on, the query log would keep every batch's SQL
                done += len(batch)
                batch = []
                if claim is not None:
                    claim.progress(done, total, "Importing")
        _insert_batch(batch)
        done += len(batch)
        import_file.record_count = count
        import_file.save(update_fields=["record_count"])
    return done


def import_job_run(*, job_id: int) -> None:
    """Import every file of a confirmed job in one transaction. Run by the `run_import` task."""

    def run(claim: Claim) -> None:
        job = ImportJob.objects.get(pk=job_id)
        with transaction.atomic():  # rolled back whole when anything fails, a lost claim too
            count = _insert_records(job, claim)
            claim.finish(status=ImportStatus.DONE, record_count=count)
            job.record_count = count
            # the screening counters count the new records (`screening.counters`)
            counters.changed(job.review)
            # Check the new records against the review's others once they are committed.
            dedup_after_import(import_job=job)
            # the new records get scores; before any decision, the question ranks them
            ranking_for_members(review=job.review, trigger=RankingTrigger.RECORDS)

    run_claimed(
        ImportJob,
        job_id,
        run,
        waiting=ImportStatus.WAITING_TO_IMPORT,
        working=ImportStatus.IMPORTING,
        expected=(ParseError,),
        failed=lambda error: (
            f"Unexpected error ({type(error).__name__}: {error}). Nothing was imported."
        ),
        failure_fields={"record_count": 0},
        label=f"Import job {job_id}",
    )


def import_job_restart(*, job: ImportJob) -> None:
    """Send a waiting job's task again, or a stale job's (the new run takes the job over
    from the stopped one): `services.jobs.job_restart`."""
    job_restart(job=job)


@transaction.atomic
def import_job_cancel(*, job: ImportJob, user: User) -> None:
    """Drop a job that was not imported, whatever it is doing, and its stored files; it ends
    `cancelled`, saying who cancelled it and when (`services.jobs.cancelled_fields`).

    A worker still reading or importing it loses its claim (`claimed_at` cleared) and keeps
    nothing: its import rolls back at its next write. Its files are then left for it (its
    transaction may hold their rows) and go with the job's row, not before."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status in {ImportStatus.DONE, ImportStatus.CANCELLED}:
        raise ValidationError(
            "Only an import that has not finished can be cancelled: this one has."
        )
    worked_on = job.status in job.WORKING and not job.is_stale
    if not worked_on:
        for import_file in job.files.all():
            transaction.on_commit(partial(import_file.file.storage.delete, import_file.file.name))
        job.files.all().delete()
    ImportJob.objects.filter(pk=job.pk).update(**cancelled_fields(user))
