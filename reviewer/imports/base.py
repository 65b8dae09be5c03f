"""The one record shape every parser produces, and the errors parsers raise.

Parsers are plain Python (no Django models, no database): bytes on disk in,
`ParsedRecord`s out. The import service turns them into `Record` rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models


class FileFormat(models.TextChoices):
    """Formats we read. Values are what `--format` accepts on the command line."""

    RIS = "ris", "RIS"
    MEDLINE = "medline", "PubMed MEDLINE (.nbib)"
    WOS = "wos", "Web of Science tagged"
    BIBTEX = "bibtex", "BibTeX"
    ENDNOTE_XML = "endnote-xml", "EndNote XML"
    REFER = "refer", "EndNote / Refer tagged"
    CSV = "csv", "CSV / TSV"
    XLSX = "xlsx", "Excel (.xlsx)"


#: Normalised fields a column mapping may point at (tabular formats).
MAPPABLE_FIELDS: tuple[str, ...] = (
    "title",
    "abstract",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "keywords",
    "language",
    "publication_type",
    "url",
)

#: Optional extra mapping key: the column holding the last page, joined to the `pages`
#: column (which then holds the first page) as "123-130". Without it, a start-page column
#: mapped to `pages` finds its end-page partner by name ("Start Page" / "End Page").
END_PAGE_KEY = "end_page"

#: field name -> column header, for CSV/TSV/XLSX.
ColumnMapping = dict[str, str]


@dataclass(slots=True)
class ParsedRecord:
    """One bibliographic record in the normalised shape, plus the raw original.

    `raw` keeps the record as the source file had it (tag -> value or list of
    values; column -> cell), JSON-serialisable, so nothing the database exported
    is lost. `location` says where the record sits in its file, for messages
    ("record 12, line 340").
    """

    title: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    keywords: list[str] = field(default_factory=list)
    language: str = ""
    publication_type: str = ""
    url: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    location: str = ""


class ParseError(Exception):
    """A file we cannot read. The message says what is wrong and where.

    `filename`, `line` (1-based) and `record` (1-based) are filled in when known,
    and `str(error)` renders them: "pubmed.nbib, line 1234 (record 57): ...".
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str = "",
        line: int | None = None,
        record: int | None = None,
    ) -> None:
        self.message = message
        self.filename = filename
        self.line = line
        self.record = record
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            where.append(f"record {self.record}")
        prefix = self.filename
        if where:
            prefix = f"{prefix}, {', '.join(where)}" if prefix else ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ColumnMappingError(ParseError):
    """A table we could read but not map: no column for the title, or a mapped column missing.

    Carries what a mapping form needs: the file's `columns` and the `mapping` guessed (or
    given) so far, so the user can pick the title column and read the file again.
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str = "",
        columns: list[str] | None = None,
        mapping: dict[str, str] | None = None,
    ) -> None:
        self.columns = list(columns or [])
        self.mapping = dict(mapping or {})
        super().__init__(message, filename=filename)
