"""Reading search exports: RIS, PubMed MEDLINE, Web of Science, BibTeX, EndNote XML,
CSV/TSV and Excel, into one normalised record shape.

    detection = detect_format(path, "pubmed.nbib")     # what is it, and why we think so
    parsed = read_file(path, filename="pubmed.nbib")   # ParseError if unreadable
    summary = summarise(parsed)                        # counts, warnings, a sample
    for record in parsed.records(): ...                # streams; a fresh pass per call

Pure Python: no models, no database. The import service stores the records.
"""

from reviewer.imports.base import (
    END_PAGE_KEY,
    MAPPABLE_FIELDS,
    ColumnMapping,
    ColumnMappingError,
    FileFormat,
    ParsedRecord,
    ParseError,
)
from reviewer.imports.detect import Detection, detect_format
from reviewer.imports.mapping import guess_mapping
from reviewer.imports.reader import ParsedFile, read_file
from reviewer.imports.summary import Summary, summarise

__all__ = [
    "END_PAGE_KEY",
    "MAPPABLE_FIELDS",
    "ColumnMapping",
    "ColumnMappingError",
    "Detection",
    "FileFormat",
    "ParseError",
    "ParsedFile",
    "ParsedRecord",
    "Summary",
    "detect_format",
    "guess_mapping",
    "read_file",
    "summarise",
]
