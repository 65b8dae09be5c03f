"""Write a review's PRISMA 2020 flow diagram (SVG, PNG, PDF) or its PRISMA2020 data CSV.

A review that is not finished gives a provisional diagram: the file says so itself (a
banner on the drawing, a note row in the CSV, see `reviewer.prisma.provisional`), and the
command prints the same statement on stderr, then writes the file and exits 0 — a draft
figure is a normal thing to want while screening goes on, and it cannot pass for final.
`--final` is for scripts that must only ever produce the finished figure: it writes nothing
and exits 1 while anything waits. Counts that break the template's arithmetic write nothing
(exit 1) unless `--force` is given.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from reviewer.management.people import review_by_slug
from reviewer.prisma.counts import prisma_report
from reviewer.prisma.files import prisma_file
from reviewer.prisma.types import PrismaCounts
from reviewer.prisma.validate import validate

FORMATS = ("svg", "png", "pdf", "csv")
TEXT_FORMATS = ("svg", "csv")


def summary(counts: PrismaCounts) -> str:
    c = counts
    parts = [
        f"{c.database_results + c.register_results:,} identified",
        f"{c.duplicates:,} duplicate{'s' * (c.duplicates != 1)}",
    ]
    removed = c.excluded_automatic + c.excluded_other
    if removed:
        parts.append(f"{removed:,} removed before screening")
    parts += [
        f"{c.records_screened:,} screened",
        f"{c.records_excluded:,} excluded",
        f"{c.dbr_sought_reports:,} sought",
        f"{c.dbr_notretrieved_reports:,} not retrieved",
        f"{c.dbr_assessed:,} assessed",
        f"{c.dbr_excluded_total:,} excluded with reasons",
    ]
    if c.other_methods:
        other = c.website_results + c.organisation_results + c.citations_results
        parts.append(
            f"other methods: {other:,} identified, {c.other_sought_reports:,} sought, "
            f"{c.other_assessed:,} assessed, {c.other_excluded_total:,} excluded"
        )
    parts.append(f"{c.new_studies:,} new studies ({c.new_reports:,} reports)")
    if c.previous:
        parts.append(f"{c.total_studies:,} studies in total ({c.total_reports:,} reports)")
    return "; ".join(parts)


class Command(BaseCommand):
    help = (
        "Write a review's PRISMA 2020 flow diagram (svg, png, pdf) or the PRISMA2020 template "
        "CSV. A review that is not finished gives a provisional diagram: the file says so "
        "itself, the reasons are printed on stderr, and the command exits 0 (--final refuses "
        "instead). Counts that break the arithmetic of the template are not written unless "
        "--force is given."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--review", required=True, metavar="SLUG")
        parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
        parser.add_argument(
            "--output", required=True, metavar="FILE", help='"-" writes svg or csv to stdout.'
        )
        parser.add_argument("--dpi", type=int, choices=(300, 600), default=300, help="PNG only.")
        parser.add_argument(
            "--force", action="store_true", help="Write the file even if the checks fail."
        )
        parser.add_argument(
            "--final",
            action="store_true",
            help="Write nothing and exit 1 unless the review is finished (nothing waits).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fmt: str = options["fmt"]
        output: str = options["output"]
        if output == "-" and fmt not in TEXT_FORMATS:
            raise CommandError(f"{fmt.upper()} is binary: give a file with --output.")
        review = review_by_slug(options["review"])
        report = prisma_report(review)
        counts = report.counts
        # Records still waiting make the diagram provisional, not wrong: the rules count them.
        problems = validate(counts, pending=report.pending)
        for line in report.waiting.lines():
            self.stderr.write(line)
        if problems:
            for problem in problems:
                self.stderr.write(f"{problem.rule}: {problem.message}")
            if not options["force"]:
                raise CommandError(
                    f"{len(problems)} check{'s' * (len(problems) != 1)} failed; nothing was "
                    "written (--force writes it anyway)."
                )
        if options["final"] and not report.waiting.final:
            raise CommandError("The review is not finished; nothing was written (--final).")
        content = prisma_file(report, "png600" if fmt == "png" and options["dpi"] == 600 else fmt)
        to_stdout = output == "-"
        if to_stdout:
            text = content if isinstance(content, str) else content.decode()
            self.stdout.write(text, ending="")
        elif isinstance(content, str):
            Path(output).write_text(content, encoding="utf-8", newline="")
        else:
            Path(output).write_bytes(content)
        # the summary goes to stderr when the file itself goes to stdout
        (self.stderr if to_stdout else self.stdout).write(summary(counts))
        if not to_stdout:
            self.stdout.write(f"Wrote {output}")
