"""Write a review's archive: every table of `layout.ARCHIVED`, the people, the stored files
and the manifest, into one ZIP (layout in `reviewer.archive`)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import IO, Any

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from reviewer.archive import layout
from reviewer.archive.values import dump
from reviewer.models import Review, User
from reviewer.version import VERSION

CHUNK = 1024 * 1024


class ArchiveWriteError(Exception):
    """The review cannot be archived whole; the message says which row or file and why."""


class _Hashing:
    """Counts and hashes what is written through it."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.size += len(data)
        self.target.write(data)


@contextmanager
def _consistent_read() -> Iterator[None]:
    """One snapshot for every table: rows written while the archive is taken are either all
    in it or none. PostgreSQL needs REPEATABLE READ for that; SQLite's read transaction is
    a snapshot already."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def rows_of(label: str, review: Review) -> models.QuerySet[Any]:
    """The rows of one archived model that belong to `review`."""
    path = layout.review_path(layout.model(label))
    manager = layout.model(label)._base_manager
    if path == "":
        return manager.filter(pk=review.pk)
    assert path is not None, f"{label} has no path to a review"
    return manager.filter(**{path: review})


def archive_write(*, review: Review, out: IO[bytes]) -> dict[str, Any]:
    """Write `review`'s archive to the binary file `out`; return its manifest."""
    with _consistent_read():
        ids = layout.IdMaps()
        order = layout.table_order()
        for label in order:
            pks = rows_of(label, review).order_by("pk").values_list("pk", flat=True)
            for number, pk in enumerate(pks.iterator(chunk_size=5000), start=1):
                ids.add(label, pk, number)
        people = _people(review, order)
        for number, person in enumerate(people, start=1):
            ids.add(layout.user_label(), person.pk, number)

        manifest: dict[str, Any] = {
            "format": layout.FORMAT,
            "format_version": layout.FORMAT_VERSION,
            "app_version": VERSION,
            "created_at": timezone.now().isoformat(),
            "database": connection.vendor,
            "review": {"slug": review.slug, "title": review.title},
            "people": {},
            "tables": [],
            "files": [],
        }
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            manifest["people"] = _write_lines(
                archive,
                "people.jsonl",
                ({c: getattr(p, c) for c in layout.PERSON_COLUMNS} for p in people),
            )
            for label in order:
                stored: list[tuple[str, str, str]] = []
                rows = _rows(label, rows_of(label, review), ids, stored)
                entry = _write_lines(archive, layout.table_file(label), rows)
                for name, path, where in stored:
                    manifest["files"].append(_write_file(archive, name, path, where))
                manifest["tables"].append(
                    {
                        "model": label,
                        "columns": [c.name for c in layout.columns(label)],
                        **entry,
                    }
                )
            archive.writestr(
                "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
            )
    return manifest


def _people(review: Review, order: tuple[str, ...]) -> list[User]:
    """Everyone a row of the review mentions, in an order that does not depend on ids."""
    user_ids: set[int] = set()
    for label in order:
        for column in layout.references(label):
            target = column.related_model
            assert isinstance(target, type)
            if layout.is_user(target):
                found = (
                    rows_of(label, review)
                    .exclude(**{f"{column.attname}__isnull": True})
                    .values_list(column.attname, flat=True)
                    .distinct()
                )
                user_ids.update(found)
    return sorted(
        User.objects.filter(pk__in=user_ids),
        key=lambda u: (u.email.casefold(), u.username, u.pk),
    )


def _write_lines(
    archive: zipfile.ZipFile, name: str, rows: Iterator[dict[str, Any]]
) -> dict[str, Any]:
    count = 0
    with archive.open(name, "w", force_zip64=True) as member:
        hashing = _Hashing(member)
        for row in rows:
            line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
            hashing.write(line.encode())
            count += 1
    return {"file": name, "rows": count, "sha256": hashing.sha256.hexdigest()}


def _rows(
    label: str,
    queryset: models.QuerySet[Any],
    ids: layout.IdMaps,
    files: list[tuple[str, str, str]],
) -> Iterator[dict[str, Any]]:
    """The archive's rows of one table; the stored files they name are added to `files`
    (stored name, path in the archive, row) to be written after the table."""
    columns = layout.columns(label)
    remembered = layout.remembered_columns().get(label, set())
    for obj in queryset.order_by("pk").iterator(chunk_size=2000):
        number = ids.get(label, obj.pk, where=label)
        where = f"{label} {obj.pk}"
        row: dict[str, Any] = {}
        for column in columns:
            value = getattr(obj, column.attname)
            if isinstance(column, models.FileField):
                value = (value.name if value else "", getattr(obj, "original_name", ""))
            try:
                row[column.name] = _value(label, number, column, value, ids, files)
            except layout.IdNotFound as error:
                raise ArchiveWriteError(f"{where}, “{column.name}”: {error}") from None
        for column_name in remembered:
            ids.remember(label, column_name, obj.pk, getattr(obj, column_name))
        yield row


def _value(
    label: str,
    number: int,
    column: models.Field[Any, Any],
    value: Any,
    ids: layout.IdMaps,
    files: list[tuple[str, str, str]],
) -> Any:
    if column.primary_key:
        return number
    if isinstance(column, models.ForeignKey):
        if value is None:
            return None
        target = column.related_model
        assert isinstance(target, type)
        return ids.get(layout.label_of(target), value, where=label)
    if isinstance(column, models.FileField):
        name, obj_name = value
        if not name:
            return ""
        path = f"files/{label.lower()}/{number}/{column.name}/{_file_name(obj_name, name)}"
        files.append((name, path, f"{label} row {number}"))
        return path
    how = layout.json_translation(label, column.name)
    if how is not None and value is not None:
        return how.translate(value, ids, label)
    return dump(column, value)


def _file_name(original: str, stored: str) -> str:
    """A stored file's name in the archive: the name it was uploaded with where the row
    keeps one, else the stored name's extension (stored names hold database ids, which
    differ between servers)."""
    try:
        return get_valid_filename(PurePosixPath(original).name)
    except SuspiciousFileOperation:  # empty, "." or ".."
        return "file" + PurePosixPath(stored).suffix


def _write_file(archive: zipfile.ZipFile, name: str, path: str, where: str) -> dict[str, Any]:
    try:
        stored = default_storage.open(name, "rb")
    except OSError as error:
        raise ArchiveWriteError(
            f"The file “{name}” of {where} is missing from the server's storage "
            f"(MEDIA_ROOT): {error.strerror or error}"
        ) from None
    with stored, archive.open(path, "w", force_zip64=True) as member:
        hashing = _Hashing(member)
        while chunk := stored.read(CHUNK):
            hashing.write(chunk)
    return {"path": path, "size": hashing.size, "sha256": hashing.sha256.hexdigest()}


def archive_download_mark(*, review: Review) -> None:
    """Note that an owner has just downloaded the review's archive (`archive_downloaded_at`:
    deleting a review asks for a recent one)."""
    now = timezone.now()
    Review.objects.filter(pk=review.pk).update(archive_downloaded_at=now)
    review.archive_downloaded_at = now


def archive_summary(*, review: Review) -> dict[str, int]:
    """What the archive page says the archive will hold."""
    from reviewer.models import FullText, ImportFile

    return {
        "records": review.records.count(),
        "decisions": review.decisions.count(),
        "people": review.memberships.count(),
        "files": ImportFile.objects.filter(job__review=review).count()
        + FullText.objects.filter(review=review).exclude(pdf="").count(),
    }
