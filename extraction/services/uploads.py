"""A pending extraction import: the uploaded sheet as a row, read and checked once, then
committed, cancelled or, left alone, deleted.

**Where the file is read.** A sheet whose cells take more than `INLINE_READ_BYTES` of text
(a CSV's size; an XLSX's unpacked size, read from its ZIP directory without unpacking) is
read by a worker: the `extraction.read_pending_import` task, queued once the upload has
committed, and the page polls until the preview is there. A smaller sheet is read in the
upload's request by the same function, so the person sees the preview at once, without a
round of polling: 1 MB of text is about 12,000 patient rows of the IMT form and reads and
checks in well under a second (bench/extraction_import_speed.py), while a 50,000-row
sheet takes seconds and an XLSX near the workbook limits far longer. Reading it all in the
worker would cost the small files, which are most files, a second's wait for nothing.

**The job.** The row follows the project's job conventions (`reviewer.services.jobs`): a
claim with a conditional update whose time is its token, `job_send` after commit, the sweep
re-sending a lost message or a stale claim, "Send it again" and "Cancel" on the page. Any
failure while reading ends the row as failed with the reason shown. Cancelling, committing
and the clean-up delete the row and its file; a worker still reading then finds its claim
gone and writes nothing.

**Clean-up.** `pending_imports_delete_abandoned` deletes every pending import older than
`UPLOAD_KEPT` with its file (and any file left in the folder with no row): run by Celery
beat (`CELERY_BEAT_SCHEDULE`) and on each upload, so a server without beat cleans up too.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import zipfile
from functools import partial
from pathlib import PurePath
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from extraction.models import PendingImport, PendingStatus
from extraction.services import transfer
from extraction.transfer_sheets import LIMITS
from reviewer.imports.workbook_limits import WorkbookTooLarge
from reviewer.models import Review, User
from reviewer.services.jobs import (
    Claim,
    JobKind,
    job_kind_register,
    job_restart,
    job_send,
    run_claimed,
)

logger = logging.getLogger(__name__)

#: Sheets with more text than this are read by a worker, not in the web request.
INLINE_READ_BYTES = 1024 * 1024
#: Pending imports nobody committed or cancelled are deleted after this long.
UPLOAD_KEPT = dt.timedelta(days=1)
UPLOAD_DIR = "extraction-imports"


def text_size(content: IO[bytes], size: int) -> int:
    """How much text the sheet's cells take: an XLSX's unpacked size (from its ZIP
    directory, nothing unpacked), any other file's own size. A workbook past the limits
    counts as its own size: reading refuses it before unpacking anything."""
    content.seek(0)
    if content.read(4) != b"PK\x03\x04":
        content.seek(0)
        return size
    try:
        content.seek(0)
        with zipfile.ZipFile(content) as archive:
            LIMITS.check_archive(archive, file_size=size)
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, WorkbookTooLarge):
        return size
    finally:
        content.seek(0)


def reads_in_worker(content: IO[bytes], size: int) -> bool:
    return text_size(content, size) > INLINE_READ_BYTES


def pending_import_create(
    *, review: Review, user: User, upload: Any, kind: str, target: str
) -> PendingImport:
    """Keep the upload as the person's pending import for the review (replacing an earlier
    one), and read it now or have a worker read it (see the module doc)."""
    pending_imports_delete_abandoned()
    in_worker = reads_in_worker(upload, upload.size or 0)
    with transaction.atomic():
        earlier = PendingImport.objects.select_for_update().filter(review=review, created_by=user)
        replaced = [_delete_row(row) for row in earlier]
        pending = PendingImport(
            review=review,
            created_by=user,
            token=secrets.token_urlsafe(16),
            name=PurePath(upload.name).name[:255],
            size=upload.size or 0,
            kind=kind,
            target=target,
        )
        pending.file.save(upload.name, upload, save=False)
        pending.save()
        if in_worker:
            job_send(pending)  # `extraction.read_pending_import`, once committed
    _delete_files(replaced)
    if not in_worker:
        pending_import_read(pending_id=pending.pk)
        pending.refresh_from_db()
    return pending


def pending_import_get(*, review: Review, user: User, token: str) -> PendingImport | None:
    """The person's pending import of this review named by `token`; None for anyone else's,
    another review's, or one committed, cancelled or cleaned up."""
    if not token:
        return None
    return (
        PendingImport.objects.filter(review=review, created_by=user, token=token)
        .select_related("review", "created_by")
        .first()
    )


def pending_import_data(pending: PendingImport) -> bytes | None:
    """The uploaded file's bytes; None when the file is gone."""
    try:
        with default_storage.open(pending.file.name, "rb") as handle:
            data: bytes = handle.read()
    except FileNotFoundError:
        return None
    return data


def pending_import_preview(pending: PendingImport) -> transfer.Preview | None:
    """What reading the file found, once it has been read."""
    if pending.status != PendingStatus.READY or pending.preview is None:
        return None
    return transfer.Preview.from_json(pending.preview)


# --- reading (in the request, or the worker) ---


def pending_import_read(*, pending_id: int) -> None:
    """Read and check the pending import's file and keep the preview, or the reason it could
    not be read. Run by the `extraction.read_pending_import` task for large files."""

    def read(claim: Claim) -> dict[str, Any]:
        pending = PendingImport.objects.select_related("review", "created_by").get(pk=pending_id)
        claim.progress(0, None, "Reading the file")
        data = pending_import_data(pending)
        if data is None:
            raise FileNotFoundError("the uploaded file is no longer on the server")

        def checked(done: int, total: int) -> None:
            claim.progress(done, total, "Rows checked")

        preview = transfer.import_preview(
            review=pending.review,
            user=pending.created_by,
            kind=pending.kind,
            target=pending.target,
            name=pending.name,
            data=data,
            progress=checked,
        )
        return {"status": PendingStatus.READY, "preview": preview.as_json(), "error": ""}

    run_claimed(
        PendingImport,
        pending_id,
        read,
        expected=(PermissionDenied,),
        failed=lambda error: (
            f"The file could not be read ({type(error).__name__}: {error}). Nothing was "
            "imported; upload it again, or save it as CSV UTF-8 first."
        ),
        label=f"Pending extraction import {pending_id}",
    )


# --- what the person can do ---


def pending_import_restart(*, pending: PendingImport) -> None:
    """Send a stuck reading's task again (`reviewer.services.jobs.job_restart`)."""
    job_restart(job=pending)


def _delete_row(pending: PendingImport) -> str:
    """Delete the row; returns its file's name, to delete once the row is gone."""
    name = pending.file.name or ""
    pending.delete()
    return name


def _delete_files(names: list[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


def pending_import_forget(*, pending: PendingImport) -> None:
    """Drop the pending import (committed or cancelled) and its file, whatever it is doing:
    a worker still reading it finds its claim gone and keeps nothing."""
    with transaction.atomic():
        found = PendingImport.objects.select_for_update().filter(pk=pending.pk).first()
        names = [_delete_row(found)] if found is not None else []
    # Deleted once the row is gone. (Were an enclosing transaction then to roll back, the row
    # would come back without its file, which its page then calls "no longer here".)
    _delete_files(names)


def pending_imports_delete_abandoned() -> int:
    """Delete the pending imports older than `UPLOAD_KEPT`, and files in the upload folder
    with no row that are as old (left by a crash). Returns how many rows went."""
    cutoff = timezone.now() - UPLOAD_KEPT
    deleted = 0
    for pending in PendingImport.objects.filter(created_at__lt=cutoff):
        pending_import_forget(pending=pending)
        deleted += 1
    if default_storage.exists(UPLOAD_DIR):
        kept = {
            PurePath(name).name for name in PendingImport.objects.values_list("file", flat=True)
        }
        for name in default_storage.listdir(UPLOAD_DIR)[1]:
            stored = f"{UPLOAD_DIR}/{name}"
            if name not in kept and default_storage.get_modified_time(stored) < cutoff:
                default_storage.delete(stored)
    return deleted


def register_job_kind() -> None:
    """Let `reviewer.services.jobs` send, sweep and cancel pending imports like other jobs."""

    def cancel(pending: PendingImport, user: User) -> None:
        name = _delete_row(pending)  # inside `job_cancel`'s transaction
        if name:
            transaction.on_commit(partial(default_storage.delete, name))

    job_kind_register(
        JobKind(
            model=PendingImport,
            tasks={
                PendingStatus.WAITING: "extraction.tasks.read_pending_import",
                PendingStatus.READING: "extraction.tasks.read_pending_import",
            },
            argument="pending_id",
            cancel=cancel,
        )
    )
