"""Extraction data as spreadsheets: export (CSV, XLSX), and import with a preview.

Two kinds of sheet, one column per active field of the review's form, headed by the
field's key (its stable name):

- patient rows: `study_key`, `study`, `patient`, then the patient-level fields;
- study values: `study_key`, `study`, then the study-level fields.

Cells are written as `values.show` writes them ("not reported", choice labels, several
choices joined by "; ") and read back with `values.parse`, so an exported file imports
back to the same data. A study is identified by its key (`S<id>`); the `study` column is
for people and is only compared with the key's study (a notice when they differ).

Export scopes: FINAL, the copy analysis reads for each study whose data are final
(`selectors.final_copies`), and MINE, the requesting person's own copies.

Import targets: MINE (any member: each study in the file goes into the person's own
copy, started as the entry page starts it) and CONSENSUS (seniors: each study's
consensus copy, created when missing). For each study in the file, the file's rows
replace the copy's patient rows (a study-values file replaces the values of its
columns); studies not in the file are untouched. `import_preview` checks every cell and
lists every problem; `import_commit` checks again, with the copies locked, and writes
every study in one transaction, or nothing at all.

django-import-export: `SheetResource` is a `Resource` built per form, one `Field` per
column, whose widget renders with `values.show` and cleans with `values.parse`. Exports
go through `Resource.export` (a tablib `Dataset`); the XLSX is written with openpyxl's
write-only mode (`_xlsx`) rather than tablib's `Dataset.export("xlsx")`. Imports use the
same fields and widgets but a hand-written loop (`_read_rows`), not `Resource.import_data`
— measured, not assumed: bench/extraction_import_export_compare.py runs a `ModelResource`
of `PatientRow` with the library's bulk options (use_bulk=True, batch_size=1000,
skip_diff=True, force_init_instance=True; the same widgets and per-cell memo) against
this path, SQLite, 2 shared cores under load (figures in the README):

- preview (check every cell): 10,000 rows 1.1-1.2 s here against 4.3-6.2 s as an
  `import_data` dry run; 50,000 rows 5.0-9.8 s against 20.7-47.6 s. A large gain: kept.
- commit: the library's bulk write alone is about as fast as this path's check-and-write
  (10,000 rows 10.8 s against 8.1 s; 50,000 rows 20.9 s against 23.6 s), but a commit
  must check every cell first, and `import_data` would then clean every cell a second
  time: the check plus `import_data` is 1.3-1.5 times this single pass. It would also
  need hooks for what a sheet is here — groups of rows that replace each copy's rows,
  under a lock, values of retired fields kept — rather than rows that map one-to-one
  onto instances. Kept.
- skip_unchanged (skip_diff=False, each row's instance looked up): re-importing the
  same 10,000 rows 51.9 s, 50,000 rows 291 s: far slower than replacing. Not used.

The loop cleans each distinct (column, cell) once with the column's widget and reuses
the result, and lists every problem by row, column, value and why.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from import_export import resources, widgets  # type: ignore[import-untyped]

from extraction.models import (
    Extraction,
    ExtractionStatus,
    FieldType,
    ImportTarget,
    Level,
    PatientRow,
    SheetKind,
)
from extraction.models import Field as FormField
from extraction.selectors import extraction_setup_of, final_copies, study_from_key, study_key
from extraction.services.entry import extraction_start
from extraction.transfer_sheets import Problem, Sheet, cell_text, column_letter, read_sheet
from extraction.values import (
    REQUIRED_MESSAGE,
    FormSpec,
    ValueProblem,
    form_spec,
    is_not_reported,
    parse,
    show,
)
from reviewer.downloads import download_name
from reviewer.exports import BOM, FORMULA_START
from reviewer.exports import text as defuse
from reviewer.models import Membership, Review, Role, Study, User

#: What a sheet holds, and whose copies an import writes into (the pending upload's row
#: stores both, so they live with the models).
Kind = SheetKind
Target = ImportTarget


class Scope(models.TextChoices):
    FINAL = "final", "Final data (what analysis reads)"
    MINE = "mine", "My copies"


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


STUDY_KEY, STUDY, PATIENT = "study_key", "study", "patient"
FIXED_COLUMNS: dict[str, tuple[str, ...]] = {
    Kind.PATIENTS: (STUDY_KEY, STUDY, PATIENT),
    Kind.STUDIES: (STUDY_KEY, STUDY),
}
#: Problems kept in full; beyond this they are only counted (the page says so).
MAX_PROBLEMS = 100_000
LABEL_MAX = 60
_CONTENT_TYPES = {
    FileFormat.CSV: "text/csv; charset=utf-8",
    FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def undefuse(value: Any) -> Any:
    """A cell as it was before export defused it: "'=x" -> "=x" (see reviewer.exports)."""
    if isinstance(value, str) and value[:1] == "'" and value[1:2] and value[1] in FORMULA_START:
        return value[1:]
    return value


# --- the columns: a django-import-export Resource built per form -------------------


class CellWidget(widgets.Widget):  # type: ignore[misc]
    """A form field's cell: written by `values.show`, read by `values.parse`."""

    def __init__(self, spec: FormSpec, form_field: FormField) -> None:
        super().__init__(coerce_to_string=False)
        self.spec = spec
        self.form_field = form_field

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        """The stored value; raises `ValueProblem` saying why the cell does not fit."""
        return parse(self.spec, self.form_field, undefuse(value), current=kwargs.get("current"))

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        """The cell's text; with `native`, numbers and dates as spreadsheet values."""
        kind = self.form_field.kind
        if kwargs.get("native") and value is not None and not is_not_reported(value):
            if kind == FieldType.INTEGER:
                return int(value)
            if kind == FieldType.DECIMAL:
                number = float(value)
                # Only where the float shows the same number; long decimals stay text.
                return number if Decimal(repr(number)) == Decimal(value) else str(value)
            if kind == FieldType.DATE:
                return dt.date.fromisoformat(value)
        text = show(self.spec, self.form_field, value)
        return text if kind.numeric or kind == FieldType.DATE else defuse(text)


class TextWidget(widgets.Widget):  # type: ignore[misc]
    """A plain text column (study key, study, patient label)."""

    def __init__(self) -> None:
        super().__init__(coerce_to_string=False)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return cell_text(undefuse(value))

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return defuse("" if value is None else str(value))


class Column(resources.Field):  # type: ignore[misc]
    """A column read from a row dict by its name. (`Field.get_value` would follow a "__"
    in a field key as a relation.)"""

    def get_value(self, instance: Mapping[str, Any]) -> Any:
        return instance.get(self.attribute)


class SheetResource(resources.Resource):  # type: ignore[misc]
    """The columns of one kind of sheet for one review's form, in the form's order."""

    def __init__(self, spec: FormSpec, kind: str) -> None:
        super().__init__()
        self.spec = spec
        self.kind = Kind(kind)
        self.form_fields = spec.patient_fields if self.kind == Kind.PATIENTS else spec.study_fields
        columns: OrderedDict[str, Column] = OrderedDict()
        for name in FIXED_COLUMNS[self.kind]:
            columns[name] = Column(attribute=name, column_name=name, widget=TextWidget())
        for form_field in self.form_fields:
            if form_field.key in columns:
                raise ValueError(f"The field key “{form_field.key}” is a fixed column name.")
            columns[form_field.key] = Column(
                attribute=form_field.key,
                column_name=form_field.key,
                widget=CellWidget(spec, form_field),
            )
        self.fields = columns
        self._columns = list(columns.values())

    def get_export_order(self) -> tuple[str, ...]:
        return tuple(self.fields)

    def export_resource(self, instance: Any, selected_fields: Any = None, **kwargs: Any) -> Any:
        # The library looks every column up by name for every row; ours are fixed.
        return [column.export(instance, **kwargs) for column in self._columns]


@dataclass(frozen=True)
class ColumnGuide:
    """What a field's column takes, for people building a sheet by hand."""

    key: str
    label: str
    type: str
    required: bool
    accepts: str


def column_guide(spec: FormSpec, kind: str) -> list[ColumnGuide]:
    fields = spec.patient_fields if kind == Kind.PATIENTS else spec.study_fields
    guide = []
    for form_field in fields:
        kind_of = form_field.kind
        unit = f" {form_field.unit}" if form_field.unit else ""
        if kind_of.has_choices:
            labels = [c.label for c in spec.choices.get(form_field.pk, []) if not c.retired]
            accepts = "; ".join(labels)
            if kind_of == FieldType.MULTI:
                accepts = f"{accepts} (several separated by “;”)"
        elif kind_of.numeric:
            low, high = form_field.min_value, form_field.max_value
            bounds = [
                f"from {low.normalize():f}" if low is not None else "",
                f"to {high.normalize():f}" if high is not None else "",
            ]
            accepts = (" ".join(b for b in bounds if b) or "any number") + unit
        elif kind_of == FieldType.YES_NO:
            accepts = "yes, no, unknown"
        elif kind_of == FieldType.DATE:
            accepts = "YYYY-MM-DD"
        else:
            accepts = "any text"
        guide.append(
            ColumnGuide(
                form_field.key, form_field.label, kind_of.label, form_field.required, accepts
            )
        )
    return guide


# --- export ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes
    content_type: str
    rows: int


def _copies(review: Review, user: User, scope: str) -> list[Extraction]:
    if scope == Scope.FINAL:
        return final_copies(review)
    return list(
        Extraction.objects.filter(review=review, extractor=user)
        .select_related("study")
        .order_by("study__label", "study_id")
    )


def export_rows(
    *, review: Review, user: User, kind: str, scope: str, spec: FormSpec
) -> list[dict[str, Any]]:
    """One dict per sheet row: the fixed columns' text and each field's stored value."""
    copies = _copies(review, user, scope)
    if kind == Kind.STUDIES:
        return [
            {
                STUDY_KEY: study_key(copy.study_id),
                STUDY: copy.study.label,
                **{f.key: copy.values.get(str(f.pk)) for f in spec.study_fields},
            }
            for copy in copies
        ]
    by_pk = {copy.pk: copy for copy in copies}
    fields = [(f.key, str(f.pk)) for f in spec.patient_fields]
    rows = []
    patients = (
        PatientRow.objects.filter(extraction_id__in=by_pk)
        .order_by("extraction__study__label", "extraction__study_id", "position")
        .values_list("extraction_id", "label", "values")
    )
    for extraction_id, label, values in patients.iterator(chunk_size=2000):
        copy = by_pk[extraction_id]
        row = {STUDY_KEY: study_key(copy.study_id), STUDY: copy.study.label, PATIENT: label}
        row.update({key: values.get(pk) for key, pk in fields})
        rows.append(row)
    return rows


def export_file(
    *, review: Review, user: User, kind: str, scope: str, file_format: str
) -> ExportFile:
    """The sheet as a file named `<review>-<kind>-<scope>-<day>.<csv|xlsx>`."""
    spec = form_spec(review)
    resource = SheetResource(spec, kind)
    rows = export_rows(review=review, user=user, kind=kind, scope=scope, spec=spec)
    xlsx = file_format == FileFormat.XLSX
    dataset = resource.export(rows, native=xlsx)
    dataset.title = Kind(kind).label
    content = _xlsx(dataset) if xlsx else (BOM + dataset.export("csv")).encode("utf-8")
    return ExportFile(
        filename=download_name(review, f"{kind}-{scope}", file_format),
        content=content,
        content_type=_CONTENT_TYPES[FileFormat(file_format)],
        rows=len(rows),
    )


def _xlsx(dataset: Any) -> bytes:
    """One sheet, header bold and frozen, in openpyxl's write-only mode rather than tablib's
    `Dataset.export("xlsx")`, which holds the whole sheet: 50,000 rows peaked at 677 MB
    through tablib against 347 MB here, in about the same time under load
    (bench/extraction_import_export_compare.py; an earlier unloaded run: tablib twice as
    slow)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=dataset.title)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in dataset.headers:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in dataset:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- import ------------------------------------------------------------------------


@dataclass
class StudyChange:
    """What importing would do to one study's copy."""

    study: Study
    key: str
    first_row: int
    rows: int = 0
    columns: int = 0
    exists: bool = False
    rows_before: int = 0


@dataclass
class Preview:
    """What an import would do, and every reason it cannot yet."""

    name: str
    kind: Kind
    target: Target
    file_format: str = ""
    encoding: str = ""
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    changes: list[StudyChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_total: int = 0
    problems_by_column: Counter[str] = field(default_factory=Counter)
    notices: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return self.problem_total == 0

    @property
    def field_columns(self) -> list[str]:
        """The file's columns that are fields of the form."""
        return [name for name in self.columns if name not in FIXED_COLUMNS[self.kind]]

    @property
    def copies_created(self) -> int:
        return sum(not change.exists for change in self.changes)

    @property
    def rows_replaced(self) -> int:
        return sum(change.rows_before for change in self.changes)

    def add(self, row: int | None, column: str, value: str, message: str) -> None:
        self.problem_total += 1
        self.problems_by_column[column or "(the file)"] += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(row, column, value, message))

    def as_json(self) -> dict[str, Any]:
        """The preview as JSON, to keep on the pending upload's row. A NUL character (which
        a file may hold, and PostgreSQL's JSON cannot) is kept as U+FFFD."""
        data: dict[str, Any] = _no_nul(
            {
                "name": self.name,
                "kind": self.kind.value,
                "target": self.target.value,
                "file_format": self.file_format,
                "encoding": self.encoding,
                "rows": self.rows,
                "columns": self.columns,
                "changes": [_change_json(change) for change in self.changes],
                "problems": [[p.row, p.column, p.value, p.message] for p in self.problems],
                "problem_total": self.problem_total,
                "problems_by_column": dict(self.problems_by_column),
                "notices": self.notices,
            }
        )
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Preview:
        """The preview `as_json` kept (its studies as they were named then)."""
        changes = [
            StudyChange(Study(pk=pk, label=label), key, first, rows, columns, exists, before)
            for pk, label, key, first, rows, columns, exists, before in data["changes"]
        ]
        return cls(
            name=data["name"],
            kind=Kind(data["kind"]),
            target=Target(data["target"]),
            file_format=data["file_format"],
            encoding=data["encoding"],
            rows=data["rows"],
            columns=list(data["columns"]),
            changes=changes,
            problems=[Problem(*problem) for problem in data["problems"]],
            problem_total=data["problem_total"],
            problems_by_column=Counter(data["problems_by_column"]),
            notices=list(data["notices"]),
        )


def _change_json(change: StudyChange) -> list[Any]:
    c = change
    return [
        c.study.pk,
        c.study.label,
        c.key,
        c.first_row,
        c.rows,
        c.columns,
        c.exists,
        c.rows_before,
    ]


def _no_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_no_nul(item) for item in value]
    if isinstance(value, dict):
        return {_no_nul(key): _no_nul(item) for key, item in value.items()}
    return value


@dataclass
class _Plan:
    """The checked data, ready to write: per study, in the file's order."""

    order: list[int] = field(default_factory=list)
    first_row: dict[int, int] = field(default_factory=dict)
    patients: dict[int, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    study_values: dict[int, dict[str, Any]] = field(default_factory=dict)
    copies: dict[int, Extraction] = field(default_factory=dict)


def _membership(review: Review, user: User, target: str) -> Membership:
    membership = review.memberships.filter(user=user).first()
    if membership is None:
        raise PermissionDenied("Only members of the review import into it.")
    if target == Target.CONSENSUS and not membership.has_role(Role.SENIOR):
        raise PermissionDenied("Only a senior author imports into the consensus copies.")
    return membership


#: `(rows checked, rows in the file)`, told as the check goes (a worker's progress bar).
RowsChecked = Callable[[int, int], None]

#: The check says how far it is every this many rows.
ROWS_PER_REPORT = 250


def import_preview(
    *,
    review: Review,
    user: User,
    kind: str,
    target: str,
    name: str,
    data: bytes,
    progress: RowsChecked | None = None,
) -> Preview:
    """Read and check the file; nothing is written. `progress` hears how many rows are
    checked as the check goes."""
    _membership(review, user, target)
    preview, _ = _check(
        review=review,
        user=user,
        kind=kind,
        target=target,
        name=name,
        data=data,
        progress=progress,
    )
    return preview


def import_commit(
    *, review: Review, user: User, kind: str, target: str, name: str, data: bytes
) -> Preview:
    """Check the file again and, when every cell fits, write every study's copy in one
    transaction. Returns the preview; `committed` says whether anything was written."""
    _membership(review, user, target)
    preview = Preview(name=name, kind=Kind(kind), target=Target(target))
    try:
        with transaction.atomic():
            preview, plan = _check(
                review=review, user=user, kind=kind, target=target, name=name, data=data, lock=True
            )
            if not preview.ok:
                return preview
            _write(review=review, user=user, kind=kind, target=target, plan=plan)
    except ValidationError as error:
        preview.add(None, "", "", f"Nothing was imported: {' '.join(error.messages)}")
        return preview
    except IntegrityError:
        preview.add(
            None, "", "", "Nothing was imported: these copies changed while importing. Try again."
        )
        return preview
    preview.committed = True
    return preview


def _check(
    *,
    review: Review,
    user: User,
    kind: str,
    target: str,
    name: str,
    data: bytes,
    lock: bool = False,
    progress: RowsChecked | None = None,
) -> tuple[Preview, _Plan]:
    sheet = read_sheet(name, data)
    preview = Preview(
        name=name,
        kind=Kind(kind),
        target=Target(target),
        file_format=sheet.file_format,
        encoding=sheet.encoding,
        rows=len(sheet.rows),
        notices=list(sheet.notices),
    )
    for problem in sheet.problems:
        preview.add(problem.row, problem.column, problem.value, problem.message)
    plan = _Plan()
    if not sheet.header:
        return preview, plan
    spec = form_spec(review)
    resource = SheetResource(spec, kind)
    columns = _columns(resource, spec, sheet, preview)
    preview.columns = [column.column_name for column in columns.values()]
    copies = Extraction.objects.filter(
        review=review, extractor=user if target == Target.MINE else None
    ).select_related("study")
    if lock:
        copies = copies.select_for_update(of=("self",))
    plan.copies = {copy.study_id: copy for copy in copies}
    if STUDY_KEY in preview.columns:
        _read_rows(review, resource, sheet, columns, plan, preview, progress)
        if not sheet.rows and not preview.problem_total:
            preview.add(None, "", "", "The file has no rows under its header.")
    _check_targets(review, user, kind, target, plan, preview)
    return preview, plan


def _columns(
    resource: SheetResource, spec: FormSpec, sheet: Sheet, preview: Preview
) -> dict[int, Column]:
    """The file's columns that the resource knows, by index; a problem for every other."""
    by_key = {form_field.key.lower(): form_field for form_field in spec.fields}
    known = {name.lower(): column for name, column in resource.fields.items()}
    found: dict[int, Column] = {}
    seen: dict[str, int] = {}
    blank: list[int] = []
    for index, raw in enumerate(sheet.header):
        name = raw.strip()
        key = name.lower()
        if not name:
            blank.append(index)
            continue
        if key in seen:
            preview.add(
                1,
                name,
                "",
                f"The column “{name}” appears twice (columns {column_letter(seen[key])} and "
                f"{column_letter(index)}): keep one.",
            )
            continue
        seen[key] = index
        if key in known:
            found[index] = known[key]
            continue
        preview.add(1, name, "", _unknown_column(name, by_key.get(key), resource.kind))
    _unnamed_columns(sheet, blank, preview)
    present = {column.column_name for column in found.values()}
    if STUDY_KEY not in present:
        preview.add(
            1,
            STUDY_KEY,
            "",
            "No “study_key” column: every row needs the key of its study (e.g. S12), as exported.",
        )
    patients = resource.kind == Kind.PATIENTS
    if patients and PATIENT not in present:
        preview.add(
            1,
            PATIENT,
            "",
            "No “patient” column (the patient as the paper names them; cells may be empty). "
            "The rows replace each study's patient rows, so their labels would be lost.",
        )
    for form_field in resource.form_fields:
        if form_field.key in present:
            continue
        if form_field.required:
            message = f"No column for the required field “{form_field.key}” ({form_field.label})."
        elif patients:
            message = (
                f"No column for the field “{form_field.key}” ({form_field.label}): was it added "
                "to the form since the export? The rows replace each study's patient rows, so "
                "its values would be lost. Add the column (empty cells are fine) or export again."
            )
        else:
            continue  # study values: a column left out leaves its values as they are
        preview.add(1, form_field.key, "", message)
    return found


def _unknown_column(name: str, form_field: FormField | None, kind: Kind) -> str:
    if form_field is None:
        return (
            f"“{name}” is not a field of this form: renamed or removed since the export? "
            "Name the column after a field's key, or delete it."
        )
    if form_field.retired:
        return (
            f"“{name}” ({form_field.label}) is a retired field: its values are kept but no "
            "longer imported. Delete the column, or restore the field on the form first."
        )
    level = "study-level" if form_field.level == Level.STUDY else "patient-level"
    other = Kind.STUDIES if form_field.level == Level.STUDY else Kind.PATIENTS
    return f"“{name}” is a {level} field: import {other.label.lower()} from a sheet of their own."


def _unnamed_columns(sheet: Sheet, blank: list[int], preview: Preview) -> None:
    """Values under a column with no name, or past the last named column."""
    width = len(sheet.header)
    reported: set[int] = set()
    for number, cells in sheet.rows:
        indices: Iterable[int] = blank
        if len(cells) > width:
            indices = [*blank, *range(width, len(cells))]
        for index in indices:
            if index in reported or index >= len(cells):
                continue
            text = cell_text(cells[index])
            if text:
                reported.add(index)
                preview.add(
                    number,
                    f"column {column_letter(index)}",
                    text,
                    "This column has no name but holds values (this is the first): name it "
                    "after a field's key, or delete it.",
                )


def _read_rows(
    review: Review,
    resource: SheetResource,
    sheet: Sheet,
    columns: dict[int, Column],
    plan: _Plan,
    preview: Preview,
    progress: RowsChecked | None = None,
) -> None:
    """Check every row and collect the stored values per study (telling `progress` how many
    are checked every `ROWS_PER_REPORT` rows).

    Hand-written rather than `Resource.import_data` with its bulk options: a 4-5 times
    faster preview, measured (see the module doc and bench/extraction_import_export_compare.py).
    """
    studies = dict(Study.objects.filter(review=review).values_list("pk", "label"))
    index_of = {column.column_name: index for index, column in columns.items()}
    key_at = index_of[STUDY_KEY]
    label_at = index_of.get(STUDY)
    patient_at = index_of.get(PATIENT)
    cells_to_read = [
        (index, column.widget.form_field, str(column.widget.form_field.pk), column.widget)
        for index, column in columns.items()
        if isinstance(column.widget, CellWidget)
    ]
    patients = resource.kind == Kind.PATIENTS
    existing_rows: dict[int, dict[int, dict[str, Any]]] = {}
    cleaned: dict[tuple[int, type, Any], Any] = {}
    mismatched: list[tuple[int, str, str, str]] = []

    def cell(cells: list[Any], index: int | None) -> Any:
        return cells[index] if index is not None and index < len(cells) else None

    total = len(sheet.rows)
    for done, (number, cells) in enumerate(sheet.rows):
        if progress is not None and done % ROWS_PER_REPORT == 0:
            progress(done, total)
        key_text = cell_text(undefuse(cell(cells, key_at)))
        study_pk = study_from_key(key_text) if key_text else None
        if not key_text:
            preview.add(number, STUDY_KEY, "", "No study key: every row needs its study's key.")
        elif study_pk is None or study_pk not in studies:
            hint = "" if study_pk else " A study key is S followed by a number, as exported."
            preview.add(
                number, STUDY_KEY, key_text, f"“{key_text}” is not a study of this review.{hint}"
            )
            study_pk = None
        elif label_at is not None:
            given = cell_text(undefuse(cell(cells, label_at)))
            if given and given != studies[study_pk] and len(mismatched) < 3:
                mismatched.append((number, key_text, given, studies[study_pk]))
        position = len(plan.patients.get(study_pk, ())) + 1 if study_pk else 0
        values: dict[str, Any] = {}
        for index, form_field, pk, widget in cells_to_read:
            raw = cell(cells, index)
            memo = (index, type(raw), raw)
            try:
                value = cleaned[memo]
            except KeyError:
                try:
                    value = widget.clean(raw)
                except ValueProblem as problem:
                    value = problem
                cleaned[memo] = value
            if isinstance(value, ValueProblem) and form_field.kind.has_choices and study_pk:
                # A retired choice the copy already holds in this cell may stay.
                current = _current(plan, existing_rows, study_pk, position, pk, patients)
                if current is not None:
                    try:
                        value = widget.clean(raw, current=current)
                    except ValueProblem as problem:
                        value = problem
            if isinstance(value, ValueProblem):
                preview.add(number, form_field.key, cell_text(raw), str(value))
            elif value is None and form_field.required:
                preview.add(number, form_field.key, "", REQUIRED_MESSAGE)
            elif value is not None or not patients:
                values[pk] = value
        if study_pk is None:
            continue
        if study_pk not in plan.first_row:
            plan.order.append(study_pk)
            plan.first_row[study_pk] = number
        if patients:
            label = cell_text(undefuse(cell(cells, patient_at)))
            if len(label) > LABEL_MAX:
                preview.add(
                    number,
                    PATIENT,
                    label,
                    f"Longer than {LABEL_MAX} characters: shorten the label.",
                )
            plan.patients.setdefault(study_pk, []).append((label, values))
        elif study_pk in plan.study_values:
            preview.add(
                number,
                STUDY_KEY,
                key_text,
                f"{key_text} is also on row {plan.first_row[study_pk]}: one row per study.",
            )
        else:
            plan.study_values[study_pk] = values
    if mismatched:
        examples = "; ".join(
            f"row {number}: “{given}” under {key}, which is “{label}”"
            for number, key, given, label in mismatched
        )
        preview.notices.append(
            f"Some rows name another study than their key ({examples}). The key decides: "
            "check the file if that is not what you meant."
        )


def _current(
    plan: _Plan,
    existing_rows: dict[int, dict[int, dict[str, Any]]],
    study_pk: int,
    position: int,
    pk: str,
    patients: bool,
) -> Any:
    """The value the target copy holds now in this cell (study value, or the patient
    row at the same position)."""
    copy = plan.copies.get(study_pk)
    if copy is None:
        return None
    if not patients:
        return copy.values.get(pk)
    if study_pk not in existing_rows:
        existing_rows[study_pk] = dict(copy.patients.values_list("position", "values"))
    return existing_rows[study_pk].get(position, {}).get(pk)


def _check_targets(
    review: Review, user: User, kind: str, target: str, plan: _Plan, preview: Preview
) -> None:
    """Per study: may the import write into its copy? And what would it change."""
    others: dict[int, list[str]] = {}
    if target == Target.MINE:
        for other in (
            Extraction.objects.filter(study_id__in=plan.order, extractor__isnull=False)
            .exclude(extractor=user)
            .select_related("extractor")
        ):
            if other.extractor is not None:
                others.setdefault(other.study_id, []).append(other.extractor.display_name())
    allowed = 2 if extraction_setup_of(review).dual else 1
    counts = dict(
        PatientRow.objects.filter(extraction__in=[c.pk for c in plan.copies.values()])
        .values("extraction__study_id")
        .annotate(n=models.Count("pk"))
        .values_list("extraction__study_id", "n")
    )
    studies = Study.objects.in_bulk(plan.order)
    for study_pk in plan.order:
        study = studies[study_pk]
        copy = plan.copies.get(study_pk)
        change = StudyChange(
            study=study,
            key=study_key(study_pk),
            first_row=plan.first_row[study_pk],
            exists=copy is not None,
            rows_before=counts.get(study_pk, 0),
        )
        if kind == Kind.PATIENTS:
            change.rows = len(plan.patients[study_pk])
        else:
            change.columns = len(plan.study_values[study_pk])
        preview.changes.append(change)
        refusal = ""
        if copy is not None and copy.status == ExtractionStatus.DONE:
            refusal = (
                f"Your copy of “{study.label}” is marked done: reopen it to import into it."
                if target == Target.MINE
                else f"The consensus of “{study.label}” is final: reopen it to import into it."
            )
        elif copy is None and target == Target.MINE and len(others.get(study_pk, [])) >= allowed:
            names = " and ".join(others[study_pk])
            refusal = f"“{study.label}” already has its extractors ({names})."
        if refusal:
            preview.add(change.first_row, STUDY_KEY, change.key, refusal)


def _write(*, review: Review, user: User, kind: str, target: str, plan: _Plan) -> None:
    spec = form_spec(review)
    studies = Study.objects.select_related("review").in_bulk(plan.order)
    copies: dict[int, Extraction] = {}
    for study_pk in plan.order:
        if study_pk in plan.copies:
            copies[study_pk] = plan.copies[study_pk]
        elif target == Target.MINE:
            copies[study_pk] = extraction_start(study=studies[study_pk], user=user)
        else:
            copies[study_pk] = Extraction.objects.create(
                review=review, study=studies[study_pk], extractor=None, updated_by=user
            )
    if kind == Kind.PATIENTS:
        _replace_rows(spec, plan, copies)
    else:
        for study_pk, values in plan.study_values.items():
            copy = copies[study_pk]
            for pk, value in values.items():
                if value is None:
                    copy.values.pop(pk, None)
                else:
                    copy.values[pk] = value
    for copy in copies.values():
        copy.updated_by = user
        copy.save(update_fields=["values", "updated_by", "updated_at"])


def _replace_rows(spec: FormSpec, plan: _Plan, copies: dict[int, Extraction]) -> None:
    """Each copy's patient rows become the file's rows. Values of retired fields, which
    the file cannot carry, stay with the row at the same position."""
    retired = {str(f.pk) for f in spec.fields if f.level == Level.PATIENT and f.retired}
    ids = [copy.pk for copy in copies.values()]
    kept: dict[tuple[int, int], dict[str, Any]] = {}
    if retired:
        for extraction_id, position, values in PatientRow.objects.filter(
            extraction_id__in=ids
        ).values_list("extraction_id", "position", "values"):
            held = {k: v for k, v in values.items() if k in retired}
            if held:
                kept[extraction_id, position] = held
    PatientRow.objects.filter(extraction_id__in=ids).delete()
    rows = []
    for study_pk in plan.order:
        copy = copies[study_pk]
        for position, (label, values) in enumerate(plan.patients[study_pk], start=1):
            merged = {**kept.get((copy.pk, position), {}), **values}
            rows.append(PatientRow(extraction=copy, position=position, label=label, values=merged))
    PatientRow.objects.bulk_create(rows, batch_size=1000)
