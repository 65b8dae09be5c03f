"""What a file holds, for the preview the user confirms before anything is imported."""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewer.imports.base import MAPPABLE_FIELDS, ColumnMapping, FileFormat, ParsedRecord
from reviewer.imports.notes import MAX_LISTED, CutRecord, count_phrase, ranked, refs_phrase
from reviewer.imports.reader import ParsedFile

#: Missing fields worth a warning: screening and de-duplication lean on these.
_WARN_IF_MISSING = ("title", "abstract", "authors", "year")


@dataclass
class Summary:
    """One full pass over a file: counts, warnings and the first few records.

    `warnings` come data-losing first (see `reviewer.imports.notes.Notice`);
    `cut_records` lists the records the file visibly cut short.
    """

    format: FileFormat
    encoding: str
    record_count: int
    fields_found: dict[str, int]
    warnings: list[str]
    sample: list[ParsedRecord]
    cut_records: list[CutRecord] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    mapping: ColumnMapping = field(default_factory=dict)


def summarise(parsed: ParsedFile, *, sample_size: int = 5) -> Summary:
    """Read every record once; count fields, gather warnings, keep a sample.

    Raises ParseError like `ParsedFile.records()` (a broken record, or no records).
    """
    fields_found = dict.fromkeys(MAPPABLE_FIELDS, 0)
    missing: dict[str, list[str]] = {name: [] for name in _WARN_IF_MISSING}
    missing_count = dict.fromkeys(_WARN_IF_MISSING, 0)
    sample: list[ParsedRecord] = []
    count = 0
    for record in parsed.records():
        count += 1
        if len(sample) < sample_size:
            sample.append(record)
        for name in MAPPABLE_FIELDS:
            value = getattr(record, name)
            if value is not None and value != "" and value != []:
                fields_found[name] += 1
            elif name in missing:
                missing_count[name] += 1
                if len(missing[name]) < MAX_LISTED:
                    missing[name].append(record.location)

    warnings = list(parsed.warnings)
    for name in _WARN_IF_MISSING:
        n = missing_count[name]
        if not n:
            continue
        message = f"{count_phrase(n, 'record has', 'records have')} no {name}"
        if name == "title":
            message += (
                f" ({refs_phrase(missing[name], n)}); they are kept, and screeners will see "
                "them without one"
            )
        warnings.append(message + ".")
    return Summary(
        format=parsed.format,
        encoding=parsed.encoding,
        record_count=count,
        fields_found=fields_found,
        warnings=ranked(warnings),
        sample=sample,
        cut_records=list(parsed.cut_records),
        columns=list(parsed.columns),
        mapping=dict(parsed.mapping),
    )
