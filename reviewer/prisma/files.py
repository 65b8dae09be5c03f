"""The PRISMA files of a review, as every export gives them: the drawing (SVG, PNG at 300 or
600 dpi, PDF), the PRISMA2020 data CSV, and the checks in words (`checks.txt`).

One way to make them, for the PRISMA page's downloads, the export bundle and `manage.py
prisma`, so a provisional review's statement (`PrismaReport.waiting`) is on every one of
them and on none of a finished review's.

matplotlib is imported when a drawing is asked for, not when this module loads: most
requests never draw, and the CSV works whatever the state of the drawing code.
"""

from __future__ import annotations

from reviewer.prisma.counts import PrismaReport
from reviewer.prisma.template_csv import template_csv
from reviewer.prisma.validate import Problem

#: format -> (what the download is called, content type)
FORMATS: dict[str, tuple[str, str]] = {
    "svg": ("flow-diagram.svg", "image/svg+xml"),
    "png": ("flow-diagram-300dpi.png", "image/png"),
    "png600": ("flow-diagram-600dpi.png", "image/png"),
    "pdf": ("flow-diagram.pdf", "application/pdf"),
    "csv": ("prisma2020-data.csv", "text/csv; charset=utf-8"),
}

FINAL = (
    "Final: every record is decided, every conflict adjudicated and every inclusion "
    "approved; no duplicate pair, duplicate check or import waits."
)
PASSES = "The diagram's numbers pass every check of the PRISMA 2020 template."
PROVISIONAL_CHECKS = (
    "The arithmetic of the PRISMA 2020 template holds for the review as it stands, the "
    "records above counted at the step where they wait; the numbers will change as they "
    "are decided, so this is not a final diagram."
)


def prisma_file(report: PrismaReport, fmt: str) -> str | bytes:
    """The file in `fmt` (a key of `FORMATS`): SVG and CSV as text, PNG and PDF as bytes."""
    provisional = report.waiting.lines()
    if fmt == "csv":
        return template_csv(report.counts, provisional=provisional)
    from reviewer.prisma import diagram

    if fmt == "svg":
        svg: str = diagram.diagram_svg(report.counts, provisional=provisional)
        return svg
    if fmt in {"png", "png600"}:
        dpi = 600 if fmt == "png600" else 300
        png: bytes = diagram.diagram_png(report.counts, dpi=dpi, provisional=provisional)
        return png
    if fmt == "pdf":
        pdf: bytes = diagram.diagram_pdf(report.counts, provisional=provisional)
        return pdf
    raise ValueError(f"No PRISMA file in the format {fmt!r}: one of {', '.join(FORMATS)}.")


def checks_text(report: PrismaReport, problems: list[Problem]) -> str:
    """`checks.txt`: whether the diagram is final or provisional (and why), then each rule
    the numbers break. It says the numbers "pass every check" only of a finished review."""
    lines = report.waiting.lines() or [FINAL]
    lines += [f"Broken: {problem.message}" for problem in problems]
    if not problems:
        lines.append(PASSES if report.waiting.final else PROVISIONAL_CHECKS)
    return "\n".join(lines) + "\n"
