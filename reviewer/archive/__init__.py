"""The review archive: one ZIP file that holds a whole review and restores it exactly on any
instance (SQLite or PostgreSQL) — the backup, the move, and the record of the work.

    python manage.py export_review SLUG --output review.zip
    python manage.py import_review review.zip [--slug NEW] [--owner USERNAME]

Owners also download it from the review's *Archive* page, and anyone logged in can restore
one from *Restore a review* on the list of reviews (they become an owner of the copy).

Layout (archive format 1)
-------------------------

    manifest.json                      what the archive holds (below)
    people.jsonl                       everyone the review mentions, one JSON object a line
    tables/<app>.<model>.jsonl         one file per table, one JSON object per row
    files/<app>.<model>/<row>/<column>/<name>
                                       stored files: search exports as uploaded, PDFs

`manifest.json`::

    {"format": "reviewer-review-archive", "format_version": 1,
     "app_version": "0.4.0",                   # reviewer/version.py of the writer
     "created_at": "2026-12-03T10:15:22+00:00", "database": "postgresql",
     "review": {"slug": "demo", "title": "..."},
     "people": {"file": "people.jsonl", "rows": 3, "sha256": "..."},
     "tables": [{"model": "reviewer.Review", "file": "tables/reviewer.review.jsonl",
                 "rows": 1, "sha256": "...", "columns": ["id", "slug", ...]}, ...],
     "files": [{"path": "files/reviewer.fulltext/1/pdf/coffin2007.pdf", "size": 1234,
                "sha256": "..."}, ...]}

Rows. Each table line is an object with one key per column of the model (the column's
name, as in `reviewer/models/`, `extraction/models.py`, `analysis/models.py`). Values:

- `id` is the row's number in its table (1, 2, 3 ... in the order the rows were created),
  not a database id; a foreign key holds the number of the row it points at in that
  table's file, and a reference to a person holds their line number in `people.jsonl`.
  Ids inside JSON values are numbered the same way (the extraction values are keyed by
  the field's number and hold choice numbers; `Record.filled_fields` holds record
  numbers). Two archives of the same review are therefore equal whatever the ids were.
- dates and times are ISO 8601 text (with the UTC offset), decimals are text, JSON
  columns are JSON, a stored file is its path in the archive ("" when there is none).

People are written with email, username, first and last name only: no password hash,
no permissions. Restoring matches them by email (case ignored); whoever has no account
with that email gets a new *inactive* account without a usable password.

What is in it: the review and its settings, criteria and exclusion reasons; members
and roles; searches with their uploads (the original export files) and import jobs;
records, duplicate pairs, links and the de-duplication log; every screening decision
and its history; adjudications; full texts (PDFs) and "not retrieved" notes; studies,
approvals, records removed before screening; rankings and stopping samples; the
extraction setup, form, every extractor's copy and the consensus; analysis runs with
their results. `layout.py` lists the tables (and the few things left out, with why);
a test fails when a model with a path to a review is in neither list.

Restoring checks the archive first (a ZIP, sane sizes, allowed file names, the manifest's
format version, every checksum and row count) and then writes it in one transaction:
everything or nothing. Jobs that had not finished when the archive was taken are restored
as failed, saying so. An archive of a newer format is refused with the version to
upgrade to; an older one restores (tables and columns added since take their defaults).
"""

from reviewer.archive.restore import (
    ArchiveError,
    Checked,
    Person,
    Restored,
    archive_check,
    archive_restore,
)
from reviewer.archive.write import ArchiveWriteError, archive_write

__all__ = [
    "ArchiveError",
    "ArchiveWriteError",
    "Checked",
    "Person",
    "Restored",
    "archive_check",
    "archive_restore",
    "archive_write",
]
