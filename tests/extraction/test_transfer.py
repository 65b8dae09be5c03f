"""Spreadsheet export and import of extraction data (extraction.services.transfer)."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from extraction.models import Extraction, ExtractionStatus, PatientRow
from extraction.selectors import dataset, study_key
from extraction.services import transfer
from extraction.services.forms import choice_retire, field_create, field_retire
from extraction.values import REQUIRED_MESSAGE, form_spec
from tests.extraction.helpers import case_series_form, field_of, fill, make_study
from tests.factories import add_member, make_review, make_user

pytestmark = pytest.mark.django_db

PATIENT_BASE = {
    "sex": "Male",
    "age_months": "84",
    "site": "Thorax",
    "management": "Operative",
}
STUDY_BASE = {"design": "Retrospective case series", "patients": "2", "ipd": "yes"}


@pytest.fixture
def form(team):
    """The case-series form, plus a date field so that every field type is on it."""
    case_series_form(team.review)
    field_create(review=team.review, level="patient", label="Diagnosed on", type="date")
    return form_spec(team.review)


@pytest.fixture
def study(team, form):
    return make_study(team.review, "Coffin 2007")


def patient(**values):
    return {**PATIENT_BASE, **values}


def full_patient(label="Case 1"):
    """A patient with a value of every type, "not reported" and an empty cell included."""
    return patient(
        label=label,
        size_cm="12.50",
        margin="not reported",
        alk="Positive",
        other_therapy="Steroids; ALK inhibitor",
        chemo_radio="no",
        follow_up_months="36.25",
        outcome="Alive with disease",
        diagnosed_on="2019-02-28",
    )


def csv_bytes(rows, bom=True):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows, *, extra_sheets=(), merge=()):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Patients"
    for row in rows:
        sheet.append(row)
    for ref in merge:
        sheet.merge_cells(ref)
    for title in extra_sheets:
        workbook.create_sheet(title)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def header(form, kind="patients"):
    fixed = list(transfer.FIXED_COLUMNS[kind])
    fields = form.patient_fields if kind == "patients" else form.study_fields
    return fixed + [f.key for f in fields]


def sheet_rows(form, rows, kind="patients"):
    """A header and rows given as dicts (missing columns empty)."""
    columns = header(form, kind)
    return [columns] + [[row.get(c, "") for c in columns] for row in rows]


def preview(team, content, *, name="patients.csv", kind="patients", target="mine", user=None):
    return transfer.import_preview(
        review=team.review,
        user=user or team.reviewer,
        kind=kind,
        target=target,
        name=name,
        data=content,
    )


def commit(team, content, *, name="patients.csv", kind="patients", target="mine", user=None):
    return transfer.import_commit(
        review=team.review,
        user=user or team.reviewer,
        kind=kind,
        target=target,
        name=name,
        data=content,
    )


def problems(result):
    return [(p.row, p.column, p.value, p.message) for p in result.problems]


def snapshot(copy):
    copy.refresh_from_db()
    rows = list(copy.patients.order_by("position").values_list("position", "label", "values"))
    return copy.values, rows


def export(team, user=None, **options):
    options = {"kind": "patients", "scope": "mine", "file_format": "csv", **options}
    return transfer.export_file(review=team.review, user=user or team.reviewer, **options)


def csv_dicts(content):
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


# --- export ------------------------------------------------------------------------


def test_patient_export_has_the_fixed_columns_then_one_per_patient_field(team, form, study):
    fill(study, team.reviewer, patients=[full_patient()])

    exported = export(team)

    assert exported.content.startswith(codecs.BOM_UTF8)
    first_line = exported.content.decode("utf-8-sig").splitlines()[0]
    assert first_line.split(",") == header(form)
    assert "study_key,study,patient,sex,age_months" in first_line


def test_patient_export_shows_values_as_a_person_reads_them(team, form, study):
    fill(study, team.reviewer, patients=[full_patient()])

    (row,) = csv_dicts(export(team).content)

    assert row["study_key"] == study_key(study)
    assert row["study"] == "Coffin 2007"
    assert row["patient"] == "Case 1"
    assert row["size_cm"] == "12.5"
    assert row["margin"] == "not reported"
    assert row["other_therapy"] == "ALK inhibitor; Steroids"
    assert row["diagnosed_on"] == "2019-02-28"
    assert row["desmin"] == ""


def test_study_export_has_one_row_per_study_with_study_level_fields(team, form, study):
    fill(study, team.reviewer, study_values={**STUDY_BASE, "country": "Italy"})

    exported = export(team, kind="studies")

    (row,) = csv_dicts(exported.content)
    assert list(row) == header(form, "studies")
    assert row["country"] == "Italy"
    assert row["design"] == "Retrospective case series"


def test_final_scope_exports_only_final_copies_as_analysis_reads_them(team, form, study):
    pending = make_study(team.review, "Lee 2012")
    fill(study, None, patients=[full_patient()], done=True)
    fill(pending, None, patients=[patient(label="Not final")])

    rows = csv_dicts(export(team, scope="final").content)

    assert [r["patient"] for r in rows] == ["Case 1"]
    assert [r["study_key"] for r in rows] == [d["study_key"] for d in dataset(team.review).rows]


def test_my_copies_scope_exports_only_my_own_copies(team, form, study):
    fill(study, team.reviewer, patients=[patient(label="mine")])
    fill(study, team.senior, patients=[patient(label="someone else's")])

    rows = csv_dicts(export(team).content)

    assert [r["patient"] for r in rows] == ["mine"]


def test_export_file_is_named_after_review_kind_scope_and_day(team, form):
    exported = export(team, kind="studies", scope="final", file_format="xlsx")

    assert exported.filename.startswith("pediatric-imt-studies-final-20")
    assert exported.filename.endswith(".xlsx")


def test_xlsx_export_is_one_sheet_with_a_bold_frozen_header_and_real_numbers(team, form, study):
    fill(study, team.reviewer, patients=[full_patient()])

    workbook = openpyxl.load_workbook(io.BytesIO(export(team, file_format="xlsx").content))

    assert len(workbook.worksheets) == 1
    sheet = workbook.active
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].value == "study_key"
    assert sheet["A1"].font.b
    columns = [c.value for c in sheet[1]]
    values = dict(zip(columns, [c.value for c in sheet[2]], strict=True))
    assert values["age_months"] == 84
    assert values["size_cm"] == 12.5
    assert values["margin"] == "not reported"


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_defused(team, form, study):
    fill(study, team.reviewer, study_values={**STUDY_BASE, "country": '=HYPERLINK("x")'})

    (row,) = csv_dicts(export(team, kind="studies").content)

    assert row["country"] == '\'=HYPERLINK("x")'


# --- round trip ----------------------------------------------------------------------


def _wipe(copy):
    PatientRow.objects.filter(extraction=copy).delete()
    Extraction.objects.filter(pk=copy.pk).update(values={})


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", ["patients", "studies"])
def test_round_trip_of_my_copies_gives_back_identical_data(team, form, study, kind, file_format):
    other = make_study(team.review, "Lee 2012")
    copies = [
        fill(
            study,
            team.reviewer,
            study_values={**STUDY_BASE, "country": "=Italy", "males": "not reported"},
            patients=[full_patient("Case 1"), patient(label="", size_cm="0.5", alk="NR")],
        ),
        fill(other, team.reviewer, study_values=STUDY_BASE, patients=[full_patient("P1")]),
    ]
    before = [snapshot(copy) for copy in copies]
    exported = export(team, kind=kind, file_format=file_format)
    for copy in copies:
        _wipe(copy) if kind == "patients" else Extraction.objects.filter(pk=copy.pk).update(
            values={}
        )

    result = commit(team, exported.content, name=exported.filename, kind=kind)

    assert problems(result) == []
    assert result.committed
    after = [snapshot(copy) for copy in copies]
    if kind == "patients":
        assert [rows for _, rows in after] == [rows for _, rows in before]
    else:
        assert [values for values, _ in after] == [values for values, _ in before]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_round_trip_of_the_final_data_into_the_consensus(team, form, study, file_format):
    consensus = fill(
        study,
        None,
        study_values=STUDY_BASE,
        patients=[full_patient("Case 1"), full_patient("Case 2")],
        done=True,
    )
    before = snapshot(consensus)
    exported = export(team, user=team.senior, scope="final", file_format=file_format)
    Extraction.objects.filter(pk=consensus.pk).update(status=ExtractionStatus.IN_PROGRESS)
    _wipe(consensus)
    Extraction.objects.filter(pk=consensus.pk).update(values=before[0])

    result = commit(
        team, exported.content, name=exported.filename, target="consensus", user=team.senior
    )

    assert problems(result) == []
    assert snapshot(consensus) == before


def test_round_trip_keeps_a_retired_choice_the_cell_already_holds(team, form, study):
    copy = fill(study, team.reviewer, patients=[patient(label="Case 1", outcome="Died of disease")])
    choice_retire(
        choice=field_of(team.review, "outcome").choices.get(label="Died of disease"), retired=True
    )
    before = snapshot(copy)

    result = commit(team, export(team).content)

    assert problems(result) == []
    assert snapshot(copy) == before


def test_a_retired_choice_cannot_be_picked_anew(team, form, study):
    choice_retire(
        choice=field_of(team.review, "outcome").choices.get(label="Died of disease"), retired=True
    )
    content = csv_bytes(
        sheet_rows(form, [{**patient(outcome="Died of disease"), "study_key": study_key(study)}])
    )

    result = preview(team, content)

    assert [(p.row, p.column) for p in result.problems] == [(2, "outcome")]


# --- what an import writes -----------------------------------------------------------


def rows_for(study, *patients):
    return [{"study_key": study_key(study), "patient": p.pop("label", ""), **p} for p in patients]


def test_import_into_my_copies_starts_my_copy_and_replaces_its_rows(team, form, study):
    content = csv_bytes(sheet_rows(form, rows_for(study, patient(label="A"), patient(label="B"))))

    result = commit(team, content)

    assert result.committed
    copy = Extraction.objects.get(study=study, extractor=team.reviewer)
    assert list(copy.patients.values_list("label", flat=True)) == ["A", "B"]
    assert copy.values == {}


def test_file_rows_replace_every_patient_row_of_the_study(team, form, study):
    copy = fill(study, team.reviewer, patients=[patient(label=f"old {n}") for n in range(3)])
    content = csv_bytes(sheet_rows(form, rows_for(study, patient(label="new"))))

    preview_result = preview(team, content)
    commit(team, content)

    (change,) = preview_result.changes
    assert (change.rows_before, change.rows, change.exists) == (3, 1, True)
    assert list(copy.patients.values_list("label", flat=True)) == ["new"]


def test_studies_not_in_the_file_are_untouched(team, form, study):
    other = make_study(team.review, "Lee 2012")
    kept = fill(other, team.reviewer, patients=[patient(label="keep me")])
    before = snapshot(kept)

    commit(team, csv_bytes(sheet_rows(form, rows_for(study, patient(label="A")))))

    assert snapshot(kept) == before


def test_study_values_import_replaces_only_the_columns_in_the_file(team, form, study):
    copy = fill(study, team.reviewer, study_values={**STUDY_BASE, "country": "Italy", "males": "3"})
    content = csv_bytes(
        [
            ["study_key", "design", "patients", "ipd", "males"],
            [study_key(study), "Registry study", "5", "no", ""],
        ]
    )

    result = commit(team, content, kind="studies")

    assert result.committed
    copy.refresh_from_db()
    spec = form_spec(team.review)
    shown = {f.key: copy.values.get(str(f.pk)) for f in spec.study_fields}
    assert shown["country"] == "Italy"
    assert shown["patients"] == 5
    assert shown["males"] is None
    assert shown["ipd"] == "no"


def test_import_into_the_consensus_creates_the_consensus_copy(team, form, study):
    content = csv_bytes(sheet_rows(form, rows_for(study, patient(label="A"))))

    result = commit(team, content, target="consensus", user=team.senior)

    assert result.committed
    consensus = Extraction.objects.get(study=study, extractor__isnull=True)
    assert consensus.updated_by == team.senior
    assert list(consensus.patients.values_list("label", flat=True)) == ["A"]


def test_values_of_retired_fields_stay_with_the_row_at_the_same_position(team, form, study):
    copy = fill(study, team.reviewer, patients=[patient(label="A", desmin="Positive")])
    desmin = field_of(team.review, "desmin")
    field_retire(field=desmin, retired=True)
    content = csv_bytes(sheet_rows(form_spec(team.review), rows_for(study, patient(label="A2"))))

    result = commit(team, content)

    assert problems(result) == []
    (row,) = copy.patients.all()
    assert row.label == "A2"
    assert (
        row.values[str(desmin.pk)]
        == field_of(team.review, "desmin").choices.get(label="Positive").pk
    )


# --- refusals, each with its reason -------------------------------------------------------


def test_a_reviewer_cannot_import_into_the_consensus(team, form, study):
    content = csv_bytes(sheet_rows(form, rows_for(study, patient(label="A"))))

    with pytest.raises(PermissionDenied):
        preview(team, content, target="consensus")
    with pytest.raises(PermissionDenied):
        commit(team, content, target="consensus")
    assert not Extraction.objects.exists()


def test_an_outsider_cannot_import(team, form, study):
    content = csv_bytes(sheet_rows(form, rows_for(study, patient(label="A"))))

    with pytest.raises(PermissionDenied):
        preview(team, content, user=team.outsider)


def test_a_copy_marked_done_is_refused_with_the_reason(team, form, study):
    fill(study, team.reviewer, patients=[patient()], done=True)
    content = csv_bytes(sheet_rows(form, rows_for(study, patient(label="A"))))

    result = commit(team, content)

    assert not result.committed
    assert problems(result) == [
        (
            2,
            "study_key",
            study_key(study),
            "Your copy of “Coffin 2007” is marked done: reopen it to import into it.",
        )
    ]


def test_a_final_consensus_is_refused(team, form, study):
    fill(study, None, patients=[patient()], done=True)
    content = csv_bytes(sheet_rows(form, rows_for(study, patient(label="A"))))

    result = preview(team, content, target="consensus", user=team.senior)

    assert [p.message for p in result.problems] == [
        "The consensus of “Coffin 2007” is final: reopen it to import into it."
    ]


def test_a_study_that_has_its_extractors_is_refused(team, form, study):
    fill(study, team.senior)
    fill(study, team.owner)
    content = csv_bytes(sheet_rows(form, rows_for(study, patient(label="A"))))

    result = preview(team, content)

    (message,) = [p.message for p in result.problems]
    assert message == "“Coffin 2007” already has its extractors (senior and owner)."


CELL_CASES = [
    ("age_months", "seven", "“seven” is not a whole number."),
    ("age_months", "300", "300 is above the allowed maximum, 216 months."),
    ("size_cm", "-1", "-1 is below the allowed minimum, 0 cm."),
    ("size_cm", "12 cm", "“12 cm” is not a number."),
    ("site", "Liver", "is not one of the choices"),
    ("other_therapy", "Steroids; Surgery", "“Surgery” is not one of the choices"),
    ("chemo_radio", "maybe", "“maybe” is not yes, no or unknown."),
    ("diagnosed_on", "28/02/2019", "is not a date written as YYYY-MM-DD."),
    ("sex", "", REQUIRED_MESSAGE),
]


@pytest.mark.parametrize(("column", "value", "why"), CELL_CASES)
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_bad_cell_is_named_by_row_column_value_and_why(
    team, form, study, column, value, why, file_format
):
    rows = sheet_rows(
        form, rows_for(study, patient(label="ok"), patient(label="bad", **{column: value}))
    )
    content = csv_bytes(rows) if file_format == "csv" else xlsx_bytes(rows)

    result = commit(team, content, name=f"p.{file_format}")

    ((row, col, shown, message),) = problems(result)
    assert (row, col, shown) == (3, column, value)
    assert why in message
    assert not result.committed
    assert not Extraction.objects.exists()


def test_every_problem_is_listed_not_only_the_first(team, form, study):
    bad = [patient(label=f"P{n}", age_months="old") for n in range(40)]
    content = csv_bytes(sheet_rows(form, rows_for(study, *bad)))

    result = preview(team, content)

    assert result.problem_total == 40
    assert [p.row for p in result.problems] == list(range(2, 42))
    assert result.problems_by_column == {"age_months": 40}


def test_a_study_key_not_in_the_review_is_refused(team, form, study):
    elsewhere = make_study(make_review(owner=make_user(), title="Adult IMT"), "Other")
    rows = sheet_rows(
        form,
        [
            {"study_key": study_key(elsewhere), **patient()},
            {"study_key": "Coffin 2007", **patient()},
            {"study_key": "", "patient": "no key", **patient()},
        ],
    )

    result = preview(team, csv_bytes(rows))

    assert problems(result) == [
        (
            2,
            "study_key",
            study_key(elsewhere),
            f"“{study_key(elsewhere)}” is not a study of this review.",
        ),
        (
            3,
            "study_key",
            "Coffin 2007",
            "“Coffin 2007” is not a study of this review. A study "
            "key is S followed by a number, as exported.",
        ),
        (4, "study_key", "", "No study key: every row needs its study's key."),
    ]


def test_a_duplicated_column_is_refused(team, form, study):
    rows = sheet_rows(form, rows_for(study, patient()))
    rows[0].append("sex")
    rows[1].append("Female")

    result = preview(team, csv_bytes(rows))

    (problem,) = result.problems
    assert problem.row == 1
    assert problem.column == "sex"
    assert "appears twice (columns D and" in problem.message


def test_a_column_that_is_not_a_field_asks_whether_it_was_renamed(team, form, study):
    rows = sheet_rows(form, rows_for(study, patient()))
    rows[0].append("tumour_grade")
    rows[1].append("2")

    (problem,) = preview(team, csv_bytes(rows)).problems

    assert problem.column == "tumour_grade"
    assert "not a field of this form: renamed or removed since the export?" in problem.message


def test_a_column_of_a_retired_field_says_it_is_retired(team, form, study):
    rows = sheet_rows(form, rows_for(study, patient()))
    field_retire(field=field_of(team.review, "vimentin"), retired=True)

    (problem,) = preview(team, csv_bytes(rows)).problems

    assert problem.column == "vimentin"
    assert "is a retired field" in problem.message


def test_a_study_level_column_in_a_patient_sheet_says_where_it_belongs(team, form, study):
    rows = sheet_rows(form, rows_for(study, patient()))
    rows[0].append("design")
    rows[1].append("Other")

    (problem,) = preview(team, csv_bytes(rows)).problems

    assert "is a study-level field: import study values" in problem.message


def test_a_missing_required_column_is_refused(team, form, study):
    rows = sheet_rows(form, rows_for(study, patient()))
    at = rows[0].index("sex")
    rows = [row[:at] + row[at + 1 :] for row in rows]

    (problem,) = preview(team, csv_bytes(rows)).problems

    assert (problem.row, problem.column) == (1, "sex")
    assert problem.message == "No column for the required field “sex” (Sex)."


def test_a_field_added_since_the_export_is_a_changed_form(team, form, study):
    fill(study, team.reviewer, patients=[patient()])
    exported = export(team)
    field_create(review=team.review, level="patient", label="Lymph nodes", type="integer")

    (problem,) = preview(team, exported.content).problems

    assert problem.column == "lymph_nodes"
    assert "added to the form since the export?" in problem.message


def test_a_study_key_column_is_required(team, form, study):
    rows = [["patient", "sex"], ["A", "Male"]]

    result = preview(team, csv_bytes(rows))

    assert "No “study_key” column" in result.problems[0].message


def test_values_under_a_column_without_a_name_are_refused(team, form, study):
    rows = sheet_rows(form, rows_for(study, patient(), patient()))
    rows[0].append("")
    rows[1].append("")
    rows[2].append("stray note")

    (problem,) = preview(team, csv_bytes(rows)).problems

    assert (problem.row, problem.value) == (3, "stray note")
    assert problem.column.startswith("column ")


def test_one_row_per_study_in_a_study_values_file(team, form, study):
    rows = sheet_rows(form, [{"study_key": study_key(study), **STUDY_BASE}] * 2, kind="studies")

    (problem,) = preview(team, csv_bytes(rows), kind="studies").problems

    assert problem.row == 3
    assert "is also on row 2: one row per study." in problem.message


def test_a_study_label_that_differs_from_the_key_gives_a_notice(team, form, study):
    rows = sheet_rows(form, [{"study_key": study_key(study), "study": "Lee 2012", **patient()}])

    result = preview(team, csv_bytes(rows))

    assert result.ok
    assert "“Lee 2012” under" in result.notices[0]


def test_a_patient_label_longer_than_the_table_holds_is_refused(team, form, study):
    rows = sheet_rows(form, rows_for(study, patient(label="x" * 61)))

    (problem,) = preview(team, csv_bytes(rows)).problems

    assert problem.column == "patient"


# --- the file itself ------------------------------------------------------------------------


def test_xlsx_with_more_than_one_sheet_names_the_extra_sheets(team, form, study):
    rows = sheet_rows(form, rows_for(study, patient()))

    result = preview(team, xlsx_bytes(rows, extra_sheets=["Notes", "Sheet3"]), name="p.xlsx")

    (problem,) = result.problems
    assert "“Notes”, “Sheet3”" in problem.message


def test_xlsx_merged_cells_are_named_by_range(team, form, study):
    rows = sheet_rows(form, rows_for(study, patient(label="A"), patient(label="B")))
    rows[2][0] = None

    result = preview(team, xlsx_bytes(rows, merge=["A2:A3"]), name="p.xlsx")

    merged = [p for p in result.problems if p.value == "A2:A3"]
    assert [(p.row, p.column) for p in merged] == [(2, "study_key")]
    assert "Merged cells" in merged[0].message


def test_an_xlsx_sheet_declaring_xml_entities_is_refused_not_expanded(team, form, study):
    good = xlsx_bytes(sheet_rows(form, rows_for(study, patient(label="A"))))
    bomb = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(bomb, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                declaration = b'<!DOCTYPE worksheet [<!ENTITY lol "lol">]>'
                data = declaration + data
            target.writestr(item, data)

    result = preview(team, bomb.getvalue(), name="p.xlsx")

    assert [p.message for p in result.problems] == [
        "The sheet “Patients” cannot be read as XLSX (the sheet declares the XML entity “lol”, "
        "which is not allowed)."
    ]


def test_xlsx_rows_are_numbered_as_the_sheet_shows_them(team, form, study):
    rows = sheet_rows(form, rows_for(study, patient(), patient(age_months="x")))
    rows.insert(2, [None] * len(rows[0]))

    (problem,) = preview(team, xlsx_bytes(rows), name="p.xlsx").problems

    assert problem.row == 4


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them(team, form, study):
    rows = sheet_rows(form, rows_for(study, patient(label="two\nlines"), patient(age_months="x")))

    (problem,) = preview(team, csv_bytes(rows)).problems

    assert problem.row == 3


def test_semicolon_separated_csv_from_a_european_excel_is_read(team, form, study):
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(sheet_rows(form, rows_for(study, patient())))

    result = preview(team, out.getvalue().encode())

    assert result.ok
    assert result.rows == 1


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("data.pdf", b"%PDF-1.7 binary", "is not a CSV or XLSX file"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel workbook"),
        ("fake.xlsx", b"study_key,patient\n", "is not one"),
        ("doc.docx", b"PK\x03\x04 not really a zip", "not an Excel workbook"),
        ("empty.csv", b"", "is empty"),
    ],
)
def test_a_file_that_is_not_csv_or_xlsx_is_refused(team, form, name, content, why):
    result = preview(team, content, name=name)

    assert not result.ok
    assert why in result.problems[0].message


def test_a_csv_that_is_not_utf8_is_read_with_a_notice(team, form, study):
    rows = sheet_rows(form, rows_for(study, patient(label="Zoë, Genève"), patient(label="Jürgen")))
    out = io.StringIO()
    csv.writer(out).writerows(rows)

    result = commit(team, out.getvalue().encode("cp1252"))

    assert result.committed
    assert "not UTF-8" in result.notices[0]
    labels = Extraction.objects.get().patients.values_list("label", flat=True)
    assert list(labels) == ["Zoë, Genève", "Jürgen"]


@pytest.mark.parametrize(
    ("encode", "delimiter"),
    [
        (lambda text: text.encode("utf-16-le"), ","),  # UTF-16 with no byte-order mark
        (lambda text: text.encode("utf-8"), "\t"),  # tab-separated text saved as .csv
        (lambda text: text.encode("utf-8"), "|"),
    ],
    ids=["utf-16-without-bom", "tab", "pipe"],
)
def test_a_csv_the_search_import_reads_is_read_here_too(team, form, study, encode, delimiter):
    """The encodings and delimiters of reviewer.imports.tables, shared with search imports."""
    out = io.StringIO()
    rows = sheet_rows(form, rows_for(study, patient(label="Zoë"), patient(label="B")))
    csv.writer(out, delimiter=delimiter).writerows(rows)

    result = preview(team, encode(out.getvalue()))

    assert result.ok, result.problems
    assert result.rows == 2


def test_a_header_only_file_says_it_has_no_rows(team, form):
    result = preview(team, csv_bytes([header(form)]))

    assert [p.message for p in result.problems] == ["The file has no rows under its header."]


# --- all or nothing ---------------------------------------------------------------------------


def test_one_bad_row_saves_nothing_for_any_study(team, form, study):
    other = make_study(team.review, "Lee 2012")
    copy = fill(study, team.reviewer, patients=[patient(label="old")])
    before = snapshot(copy)
    rows = rows_for(study, patient(label="new")) + rows_for(other, patient(age_months="x"))

    result = commit(team, csv_bytes(sheet_rows(form, rows)))

    assert not result.committed
    assert snapshot(copy) == before
    assert not Extraction.objects.filter(study=other).exists()


def test_a_commit_that_fails_midway_leaves_every_copy_as_it_was(team, form, study, monkeypatch):
    other = make_study(team.review, "Lee 2012")
    copy = fill(
        study, team.reviewer, study_values={"country": "Italy"}, patients=[patient(label="old")]
    )
    before = snapshot(copy)
    real = PatientRow.objects.bulk_create

    def fail_after_writing(rows, **kwargs):
        real(rows, **kwargs)
        raise IntegrityError("disk full")

    monkeypatch.setattr(PatientRow.objects, "bulk_create", fail_after_writing)
    rows = rows_for(study, patient(label="new")) + rows_for(other, patient(label="B"))

    result = commit(team, csv_bytes(sheet_rows(form, rows)))

    assert not result.committed
    assert "Nothing was imported" in result.problems[0].message
    assert snapshot(copy) == before
    assert not Extraction.objects.filter(study=other).exists()


def test_commit_checks_again_and_refuses_what_changed_since_the_preview(team, form, study):
    content = csv_bytes(sheet_rows(form, rows_for(study, patient(label="A"))))
    assert preview(team, content).ok
    fill(study, team.senior)
    fill(study, team.owner)

    result = commit(team, content)

    assert not result.committed
    assert "already has its extractors" in result.problems[0].message
    assert not Extraction.objects.filter(extractor=team.reviewer).exists()


def test_a_second_reviewer_in_single_extraction_is_refused(team, study):
    case_series_form(team.review, dual=False)
    fill(study, team.senior)
    content = csv_bytes(sheet_rows(form_spec(team.review), rows_for(study, patient(label="A"))))

    result = preview(team, content)

    assert "already has its extractors (senior)" in result.problems[0].message


def test_a_new_member_can_import_into_their_own_copy(team, form, study):
    newcomer = add_member(team.review).user
    content = csv_bytes(sheet_rows(form, rows_for(study, patient(label="A"))))

    result = commit(team, content, user=newcomer)

    assert result.committed
    assert Extraction.objects.get(extractor=newcomer).patients.count() == 1


@pytest.mark.parametrize("key", ["study_key", "study", "patient"])
def test_a_field_cannot_take_a_fixed_column_name_as_its_key(team, form, key):
    with pytest.raises(ValidationError, match="fixed column of the spreadsheet exports"):
        field_create(review=team.review, level="patient", label=key.title(), type="text", key=key)
