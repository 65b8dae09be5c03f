"""`manage.py prisma`: the CSV and the drawings written to a file, and the refusal to write a
diagram whose counts break the template's arithmetic."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from reviewer.prisma.types import PrismaCounts
from tests.reviewer.prisma import (
    finished_from_imports,
    full_review,
    in_progress,
    two_databases_only,
)
from tests.reviewer.prisma.test_diagram import box_texts, pdf_text_lines

pytestmark = pytest.mark.django_db


def prisma(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("prisma", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def break_the_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counts that no review can produce (one screened record too few), as a fault in the
    counting would give; the command must not write them."""
    from reviewer.management.commands import prisma as command
    from reviewer.prisma.counts import PrismaReport

    broken = PrismaCounts(database_results=10, records_screened=9, dbr_sought_reports=9,
                          dbr_assessed=9, new_reports=9, new_studies=9)  # fmt: skip
    monkeypatch.setattr(command, "prisma_report", lambda _: PrismaReport(broken, {}))


def test_writes_the_template_csv(tmp_path: Path) -> None:
    review = full_review().review
    target = tmp_path / "prisma.csv"

    out, err = prisma("--review", review.slug, "--format", "csv", "--output", str(target))

    cells = {row["data"]: row["n"] for row in csv.DictReader(io.StringIO(target.read_text()))}
    assert cells["records_screened"] == "10"
    assert cells["database_specific_results"] == "PubMed, 8; Embase, 5"
    assert err == ""
    assert out.splitlines() == [
        "15 identified; 2 duplicates; 3 removed before screening; 10 screened; 3 excluded; "
        "7 sought; 1 not retrieved; 6 assessed; 3 excluded with reasons; other methods: "
        "6 identified, 4 sought, 3 assessed, 2 excluded; 3 new studies (4 reports)",
        f"Wrote {target}",
    ]


def test_csv_to_stdout() -> None:
    review = full_review(update=True).review

    out, err = prisma("--review", review.slug, "--format", "csv", "--output", "-")

    assert out.startswith("data,node,box,description,boxtext,tooltips,url,n\n")
    assert "total_studies,node22,box16" in out
    assert err.strip().endswith("3 new studies (4 reports); 15 studies in total (19 reports)")


@pytest.mark.parametrize(
    ("fmt", "extra", "magic"),
    [
        ("svg", [], b"<svg"),
        ("png", [], b"\x89PNG"),
        ("png", ["--dpi", "600"], b"\x89PNG"),
        ("pdf", [], b"%PDF"),
    ],
)
def test_draws_the_diagram(tmp_path: Path, fmt: str, extra: list[str], magic: bytes) -> None:
    review = full_review().review
    target = tmp_path / f"flow.{fmt}"

    prisma("--review", review.slug, "--format", fmt, "--output", str(target), *extra)

    assert magic in target.read_bytes()[:200]


def test_png_resolution_follows_dpi(tmp_path: Path) -> None:
    from PIL import Image

    review = two_databases_only().review
    sizes = []
    for dpi in ("300", "600"):
        target = tmp_path / f"flow-{dpi}.png"
        prisma("--review", review.slug, "--format", "png", "--dpi", dpi, "--output", str(target))
        with Image.open(target) as image:
            sizes.append(image.size)

    assert sizes[1] == (sizes[0][0] * 2, sizes[0][1] * 2)


def test_binary_formats_need_a_file() -> None:
    review = full_review().review

    with pytest.raises(CommandError, match="PNG is binary"):
        prisma("--review", review.slug, "--format", "png", "--output", "-")


def test_refuses_counts_that_break_the_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    review = two_databases_only().review
    break_the_counts(monkeypatch)
    target = tmp_path / "prisma.csv"
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 check failed; nothing was written"):
        call_command("prisma", "--review", review.slug, "--format", "csv", "--output",
                     str(target), stdout=io.StringIO(), stderr=err)  # fmt: skip

    assert not target.exists()
    assert "screened: Records screened should be identified 10" in err.getvalue()
    assert "it is 9: 1 record missing" in err.getvalue()


def test_force_writes_anyway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    review = two_databases_only().review
    break_the_counts(monkeypatch)
    target = tmp_path / "prisma.csv"

    out, err = prisma(
        "--review", review.slug, "--format", "csv", "--output", str(target), "--force"
    )

    assert "records_screened,node" in target.read_text()
    assert "screened: Records screened" in err
    assert f"Wrote {target}" in out


def test_a_review_still_being_screened_is_written_as_provisional(tmp_path: Path) -> None:
    scenario = full_review()
    # a title/abstract decision withdrawn: the record waits for a second reviewer again
    scenario.records["p3"].decisions.filter(stage="ta").order_by("pk")[0].delete()
    target = tmp_path / "prisma.csv"

    out, err = prisma("--review", scenario.review.slug, "--format", "csv", "--output", str(target))

    assert target.exists()
    assert err.splitlines()[:2] == [
        "Provisional — 1 record awaits title/abstract decisions, 0 reports await full-text "
        "decisions",
        "Title/abstract: 1 waiting for a second reviewer.",
    ]
    assert f"Wrote {target}" in out
    note = list(csv.reader(io.StringIO(target.read_text())))[-1]
    assert note[0] == "provisional" and note[3].startswith("Provisional — 1 record awaits")


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_a_provisional_drawing_says_so_on_the_figure(tmp_path: Path, fmt: str) -> None:
    review = in_progress().review
    target = tmp_path / f"flow.{fmt}"

    out, err = prisma("--review", review.slug, "--format", fmt, "--output", str(target))

    headline = err.splitlines()[0]
    assert headline.startswith("Provisional — 4 records await title/abstract decisions")
    if fmt == "svg":
        assert box_texts(target.read_text())["provisional"].startswith(headline)
    else:
        assert headline in " ".join(pdf_text_lines(target.read_bytes()))
    assert f"Wrote {target}" in out


def test_final_refuses_an_unfinished_review_and_writes_nothing(tmp_path: Path) -> None:
    review = in_progress().review
    target = tmp_path / "flow.svg"
    err = io.StringIO()

    with pytest.raises(CommandError, match="not finished; nothing was written"):
        call_command("prisma", "--review", review.slug, "--format", "svg", "--output",
                     str(target), "--final", stdout=io.StringIO(), stderr=err)  # fmt: skip

    assert not target.exists()
    assert err.getvalue().startswith("Provisional — 4 records await")


def test_a_finished_review_is_written_exact_and_unmarked(tmp_path: Path) -> None:
    review = finished_from_imports(tmp_path).review
    svg, pdf, data = tmp_path / "flow.svg", tmp_path / "flow.pdf", tmp_path / "flow.csv"

    outs = [
        prisma("--review", review.slug, "--format", fmt, "--output", str(path), "--final")
        for fmt, path in (("svg", svg), ("pdf", pdf), ("csv", data))
    ]

    assert [err for _, err in outs] == ["", "", ""]
    assert outs[0][0].splitlines()[0] == (
        "7 identified; 1 duplicate; 6 screened; 2 excluded; 4 sought; 1 not retrieved; "
        "3 assessed; 1 excluded with reasons; 2 new studies (2 reports)"
    )
    assert "rovisional" not in svg.read_text() and "rovisional" not in data.read_text()
    assert not [line for line in pdf_text_lines(pdf.read_bytes()) if "rovisional" in line]
    assert box_texts(svg.read_text())["assessed"] == "Reports assessed for eligibility (n = 3)"


def test_unknown_review() -> None:
    with pytest.raises(CommandError, match="No review with the slug"):
        prisma("--review", "nope", "--format", "csv", "--output", "-")


def test_the_real_drawing_as_svg_to_stdout(tmp_path: Path) -> None:
    review = two_databases_only().review

    out, err = prisma("--review", review.slug, "--format", "svg", "--output", "-")

    assert out.lstrip().startswith(("<?xml", "<svg"))
    assert "</svg>" in out
    assert "7 identified; 2 duplicates; 5 screened" in err
    target = tmp_path / "flow.pdf"
    prisma("--review", review.slug, "--format", "pdf", "--output", str(target))
    assert target.read_bytes().startswith(b"%PDF")
