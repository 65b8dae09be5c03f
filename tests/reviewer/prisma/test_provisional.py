"""A PRISMA diagram of an unfinished review is provisional, and every file of it says so:
what counts as waiting (`reviewer.prisma.provisional`), read from a review
(`reviewer.prisma.counts`), and the files (`reviewer.prisma.files`): the drawing's banner,
the CSV's note row (which the PRISMA2020 package does not read), `checks.txt`. A finished
review's files carry none of it, and their numbers are exact."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image, ImageColor

from reviewer.models import (
    Band,
    DedupJob,
    DedupStatus,
    DuplicatePair,
    ImportStatus,
    PairStatus,
)
from reviewer.prisma.counts import prisma_report
from reviewer.prisma.diagram import WARNING_FILL
from reviewer.prisma.files import FINAL, PASSES, checks_text, prisma_file
from reviewer.prisma.layout import layout
from reviewer.prisma.provisional import Waiting
from reviewer.prisma.template_csv import (
    BOX_PATTERNS,
    PATTERNS,
    PROVISIONAL_DATA,
    TEMPLATE_ROWS,
)
from reviewer.prisma.validate import validate
from reviewer.services.duplicates import dedup_run_now, pair_decide
from tests.factories import make_import_file, make_import_job, make_record, make_source
from tests.reviewer.prisma import TOPICS, add, finished_from_imports, in_progress, new_team
from tests.reviewer.prisma.test_diagram import box_texts, pdf_text_lines, svg_root

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
WARNING_RGB = ImageColor.getrgb(WARNING_FILL)


# ------------------------------------------------------------------- the statement


def test_nothing_waiting_is_final_and_says_nothing() -> None:
    assert Waiting().final
    assert Waiting().lines() == []
    assert Waiting().headline() == ""


def test_the_headline_gives_both_screening_numbers_then_every_other_reason() -> None:
    waiting = Waiting(not_screened=1, duplicate_pairs=2, unchecked_records=3, imports=1)

    assert waiting.lines() == [
        "Provisional — 1 record awaits title/abstract decisions, 0 reports await full-text "
        "decisions, 2 possible duplicate pairs await a decision, the check for duplicates is "
        "not finished, 1 import is not finished",
        "Title/abstract: 1 not screened yet.",
        "Duplicates: 2 possible duplicate pairs in the queue, undecided; 3 records not yet "
        "checked for duplicates.",
        "Imports: 1 import under way or waiting to be confirmed.",
    ]


def test_every_reason_is_said_with_its_number() -> None:
    waiting = Waiting(
        second_screening=2,
        screening_conflicts=1,
        not_assessed=1,
        second_assessment=3,
        full_text_conflicts=2,
        reasons_to_choose=2,
        approvals=2,
        duplicate_checks=1,
    )

    assert waiting.lines() == [
        "Provisional — 3 records await title/abstract decisions, 8 reports await full-text "
        "decisions, 2 inclusions await the senior author's approval, the check for "
        "duplicates is not finished",
        "Title/abstract: 2 waiting for a second reviewer, 1 conflict for the senior author.",
        "Full text: 1 not yet assessed or marked not retrieved, 3 waiting for a second "
        "reviewer, 2 conflicts for the senior author, 2 exclusions whose reason the senior "
        "author is to choose.",
        "Duplicates: 1 check of the whole review queued or running.",
    ]


# ------------------------------------------------------------- read from a review


def test_a_possible_duplicate_pair_in_the_queue_waits_until_someone_decides_it() -> None:
    team = new_team()
    source = make_source(team.review, "PubMed")
    first, second = add(team, source), add(team, source)
    pair = DuplicatePair.objects.create(
        review=team.review, first=first, second=second, band=Band.POSSIBLE, score=0.8,
        status=PairStatus.PENDING,
    )  # fmt: skip

    before = prisma_report(team.review).waiting
    pair_decide(pair=pair, user=team.owner, duplicate=False)
    after = prisma_report(team.review).waiting

    assert before.duplicate_pairs == 1
    assert "1 possible duplicate pair awaits a decision" in before.headline()
    assert after.duplicate_pairs == 0
    assert after == Waiting(not_screened=2)


def _imported(team: Any, records: int, **fields: Any) -> Any:
    """An import that stored `records` records, finished a minute ago."""
    source = make_source(team.review, "Embase")
    job = make_import_job(
        source, record_count=records, finished_at=timezone.now() - timezone.timedelta(minutes=1),
        **fields,
    )  # fmt: skip
    import_file = make_import_file(job)
    for position in range(1, records + 1):
        title, doi = TOPICS[position], f"10.5555/unchecked.{position}"
        make_record(team.review, source, title, import_file, position=position, doi=doi)
    return job


def test_records_whose_duplicate_check_has_not_finished_wait_until_a_check_covers_them() -> None:
    team = new_team()
    job = _imported(team, 3)
    DedupJob.objects.create(
        review=team.review, import_job=job, created_by=team.owner, status=DedupStatus.FAILED
    )

    failed = prisma_report(team.review).waiting
    dedup_run_now(review=team.review, user=team.owner)  # a check of the whole review, later
    covered = prisma_report(team.review).waiting

    assert failed.unchecked_records == 3
    assert failed.lines()[-1] == "Duplicates: 3 records not yet checked for duplicates."
    assert "the check for duplicates is not finished" in failed.headline()
    assert covered.unchecked_records == 0
    assert covered == Waiting(not_screened=3)


def test_a_check_of_the_whole_review_still_running_waits() -> None:
    team = new_team()
    DedupJob.objects.create(review=team.review, created_by=team.owner, status=DedupStatus.RUNNING)

    assert prisma_report(team.review).waiting == Waiting(duplicate_checks=1)


@pytest.mark.parametrize(
    ("status", "records", "waits"),
    [
        (ImportStatus.READING, 0, True),
        (ImportStatus.IMPORTING, 40, True),
        (ImportStatus.READY, 40, True),  # read, waiting for someone to confirm it
        (ImportStatus.READY, 0, False),  # nothing in it could be imported
        (ImportStatus.CANCELLED, 40, False),
        (ImportStatus.FAILED, 40, False),
    ],
)
def test_imports_under_way_or_waiting_to_be_confirmed_wait(
    status: ImportStatus, records: int, waits: bool
) -> None:
    team = new_team()
    make_import_job(make_source(team.review, "Scopus"), status=status, record_count=records)

    assert prisma_report(team.review).waiting == Waiting(imports=int(waits))


@pytest.fixture
def finished(tmp_path: Path) -> Any:
    return finished_from_imports(tmp_path)


def test_a_review_taken_all_the_way_is_final_and_its_numbers_are_exact(finished: Any) -> None:
    report = prisma_report(finished.review)

    assert report.waiting == Waiting()
    assert report.complete
    assert report.counts == finished.expected
    assert validate(report.counts) == []  # exact: nothing pending to account for


# ------------------------------------------------------------------------ the files


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.slow
def test_every_file_of_a_finished_review_is_unmarked_and_exact(finished: Any) -> None:
    report = prisma_report(finished.review)
    svg = prisma_file(report, "svg")
    pdf = prisma_file(report, "pdf")
    data = prisma_file(report, "csv")
    png = prisma_file(report, "png")
    assert isinstance(svg, str) and isinstance(pdf, bytes)
    assert isinstance(data, str) and isinstance(png, bytes)

    boxes = box_texts(svg)
    assert "provisional" not in boxes
    assert "rovisional" not in svg
    assert boxes["identified"] == (
        "Records identified from*: Databases (n = 7) PubMed (n = 4) Embase (n = 3) "
        "Registers (n = 0)"
    )
    assert boxes["removed"].startswith("Records removed before screening: Duplicate records "
                                       "removed (n = 1)")  # fmt: skip
    assert boxes["screened"] == "Records screened (n = 6)"
    assert boxes["records_excluded"] == "Records excluded** (n = 2)"
    assert boxes["sought"] == "Reports sought for retrieval (n = 4)"
    assert boxes["not_retrieved"] == "Reports not retrieved (n = 1)"
    assert boxes["assessed"] == "Reports assessed for eligibility (n = 3)"
    reason = finished.expected.dbr_excluded[0][0]
    assert boxes["reports_excluded"] == f"Reports excluded: (n = 1) {reason} (n = 1)"
    assert (
        boxes["included"]
        == "Studies included in review (n = 2) Reports of included studies (n = 2)"
    )
    title = svg_root(svg).find(f"{SVG}title")
    assert title is not None and title.text == f"PRISMA 2020 flow diagram: {finished.review.title}"

    lines = pdf_text_lines(pdf)
    assert not [line for line in lines if "rovisional" in line]
    assert "Records screened (n = 6)" in lines and "Reports not retrieved (n = 1)" in lines

    rows = csv_rows(data)
    assert len(rows) == 1 + len(TEMPLATE_ROWS)
    assert PROVISIONAL_DATA not in [row[0] for row in rows]
    n = {row[0]: row[7] for row in rows}
    assert (n["database_results"], n["duplicates"], n["records_screened"]) == ("7", "1", "6")
    assert (n["records_excluded"], n["dbr_sought_reports"], n["dbr_notretrieved_reports"]) == (
        "2",
        "4",
        "1",
    )
    assert (n["dbr_assessed"], n["dbr_excluded"]) == ("3", f"{reason}, 1")
    assert (n["new_studies"], n["new_reports"]) == ("2", "2")

    plan = layout(report.counts)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (round(plan.width * 300 / 72), round(plan.height * 300 / 72))
        colours = image.convert("RGB").getcolors(1 << 20) or []
        assert WARNING_RGB not in [colour for _, colour in colours], "no banner"

    assert checks_text(report, validate(report.counts, pending=report.pending)) == (
        f"{FINAL}\n{PASSES}\n"
    )


@pytest.fixture
def unfinished() -> Any:
    return in_progress()


@pytest.mark.slow
def test_every_file_of_an_unfinished_review_says_it_is_provisional(unfinished: Any) -> None:
    report = prisma_report(unfinished.review)
    statement = report.waiting.lines()
    headline = (
        "Provisional — 4 records await title/abstract decisions, 5 reports await full-text "
        "decisions, 1 inclusion awaits the senior author's approval"
    )
    assert statement[0] == headline
    svg = prisma_file(report, "svg")
    pdf = prisma_file(report, "pdf")
    data = prisma_file(report, "csv")
    png = prisma_file(report, "png600")
    assert isinstance(svg, str) and isinstance(pdf, bytes)
    assert isinstance(data, str) and isinstance(png, bytes)

    # the drawing: a banner across the top, above the column headers, saying all of it
    plan = layout(report.counts, provisional=statement)
    banner = plan.box("provisional")
    assert banner.y < plan.box("header_databases").y
    assert banner.width > plan.box("header_databases").width
    assert box_texts(svg)["provisional"] == " ".join(statement)
    title = svg_root(svg).find(f"{SVG}title")
    assert title is not None and title.text is not None
    assert title.text.startswith("PRISMA 2020 flow diagram (provisional):")
    pdf_text = " ".join(pdf_text_lines(pdf))
    assert headline in pdf_text and statement[-1] in pdf_text
    final_plan = layout(report.counts)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (round(plan.width * 600 / 72), round(plan.height * 600 / 72))
        # the banner is painted: its amber fill covers its box, above the column headers
        top = image.convert("RGB").crop((0, 0, image.width, round(banner.bottom * 600 / 72)))
        amber = sum(n for n, colour in top.getcolors(1 << 20) or [] if colour == WARNING_RGB)
        assert amber > 0.5 * banner.width * banner.height * (600 / 72) ** 2
    assert plan.height > final_plan.height

    # the CSV: the template's rows as they are, then the note
    rows = csv_rows(data)
    final_rows = csv_rows(prisma_file(replace(report, waiting=Waiting()), "csv"))  # type: ignore[arg-type]
    assert rows[:-1] == final_rows
    assert rows[-1] == ["provisional", "NA", "NA", " ".join(statement), "NA", "NA", "NA", ""]

    checks = checks_text(report, validate(report.counts, pending=report.pending))
    assert checks.splitlines()[: len(statement)] == statement
    assert "pass every check" not in checks
    assert "not a final diagram" in checks


def test_the_csv_note_is_a_row_the_prisma2020_package_does_not_read(unfinished: Any) -> None:
    """PRISMA2020's `PRISMA_data` (the Shiny app reads uploads with `read.csv` and calls
    it) finds each number with `grep(<name>, data[, 1])` and each title box with
    `grep(<name>, data[, 3])`, and keeps tooltips only from rows whose tooltip is not NA. The
    note row is matched by none of them, so every grep finds exactly the rows it finds in
    the final file."""
    report = prisma_report(unfinished.review)
    data = prisma_file(report, "csv")
    assert isinstance(data, str)
    rows = csv_rows(data)
    header, body = rows[0], rows[1:]
    assert len(header) == 8 and all(len(row) == 8 for row in body)  # read.csv's columns
    note = body[-1]
    assert note[0] == PROVISIONAL_DATA

    final = csv_rows(prisma_file(replace(report, waiting=Waiting()), "csv"))[1:]  # type: ignore[arg-type]
    for column, patterns in ((0, PATTERNS), (2, BOX_PATTERNS)):
        for pattern in patterns:
            found = [i for i, row in enumerate(body) if re.search(pattern, row[column])]
            assert found == [i for i, row in enumerate(final) if re.search(pattern, row[column])]
            assert len(body) - 1 not in found, pattern
    assert note[5] == "NA"  # read as NA: no tooltip taken from it
    assert note[2] == "NA"  # no box of the drawing, so no link either
