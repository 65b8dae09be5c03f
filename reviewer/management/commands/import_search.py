"""Import search exports from the command line, all files or none."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reviewer.imports import ParseError
from reviewer.imports.base import FileFormat
from reviewer.management.people import acting_user, review_by_slug
from reviewer.models import DedupStatus, ImportStatus, SourceKind
from reviewer.services import imports as services


def _format_line(name: str, summary: dict[str, Any]) -> str:
    warnings = len(summary["warnings"])
    label = FileFormat(summary["format"]).value
    return (
        f"{name}: {summary['record_count']} records "
        f"(format {label}, {warnings} warning{'' if warnings == 1 else 's'})"
    )


def _same_file_line(same: services.SameFile) -> str:
    name = same.import_file.original_name
    if same.in_this_upload:
        return (
            f"{name} is identical to {same.earlier.original_name}; give --import-again to "
            "import both."
        )
    job = same.earlier.job
    when = job.finished_at or job.created_at
    return (
        f"{name} was already imported into “{job.source}” on {when:%Y-%m-%d %H:%M} by "
        f"{job.created_by.get_username()} (import #{job.pk}, {same.earlier.record_count} records, "
        f"as {same.earlier.original_name}); give --import-again to add the same records again."
    )


class Command(BaseCommand):
    help = (
        "Import one search's export files into a review. Prints one line per file; "
        "with --dry-run reads and checks the files without storing anything. "
        "Either every file lands or none does. A file with records cut short, or one "
        "already imported into the review, is refused unless --accept-truncated or "
        "--import-again says otherwise."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument("--review", required=True, metavar="SLUG")
        parser.add_argument(
            "--database", required=True, metavar="NAME", help="e.g. PubMed, Embase, Scopus."
        )
        parser.add_argument(
            "--format", default="auto", choices=["auto", *FileFormat.values], dest="fmt"
        )
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--kind", choices=SourceKind.values, default="")
        parser.add_argument(
            "--search-date", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD"
        )
        parser.add_argument("--query", default="", help="The search query, kept with the source.")
        parser.add_argument(
            "--user", default="", help="Username recorded as importer (default: an owner)."
        )
        parser.add_argument(
            "--accept-truncated",
            action="store_true",
            help="Import records the file cut short (a last record without its end line), "
            "as they are. Without it such a file is refused.",
        )
        parser.add_argument(
            "--import-again",
            action="store_true",
            help="Import a file whose exact content was already imported into the review "
            "(or given twice). Without it such a file is refused.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[Path] = options["files"]
        fmt = "" if options["fmt"] == "auto" else options["fmt"]
        review = review_by_slug(options["review"])
        for path in files:
            if not path.is_file():
                raise CommandError(f"{path}: no such file.")
        user = acting_user(review, options["user"])

        search_date = options["search_date"]
        if isinstance(search_date, str):  # call_command() passes options unparsed
            search_date = date.fromisoformat(search_date)

        if options["dry_run"]:
            self._dry_run(files, fmt)
            return

        try:
            source, created = services.source_for_command(
                review=review,
                name=options["database"],
                kind=options["kind"],
                search_date=search_date,
                query=options["query"],
                created_by=user,
            )
        except ValidationError as error:
            raise CommandError(error.messages[0]) from None
        handles = [path.open("rb") for path in files]
        try:
            job = services.import_job_create(
                source=source,
                files=[(path.name, handle) for path, handle in zip(files, handles, strict=True)],
                created_by=user,
                format_override=fmt,
                enqueue=False,
            )
        except ValidationError as error:  # a file that is no export at all
            if created:
                source.delete()
            raise CommandError("Nothing was imported.\n" + " ".join(error.messages)) from None
        finally:
            for handle in handles:
                handle.close()
        services.import_job_read(job_id=job.pk)
        job.refresh_from_db()
        failures = []
        for path, import_file in zip(files, job.files.all(), strict=True):
            if import_file.error:
                failures.append(import_file.error)
            else:
                self._report(str(path), import_file.summary, options["verbosity"])
        if not failures and not options["accept_truncated"]:
            failures += [
                f"{f.original_name}: record {cut['record']} (line {cut['line']}) is cut short"
                + (
                    ": the file's last record, as in a download that did not finish"
                    if cut["at_end"]
                    else ""
                )
                + ". Export the search again, or give --accept-truncated to import it as it is."
                for f, cut in services.cut_records(job)
            ]
        if not failures and not options["import_again"]:
            failures += [_same_file_line(same) for same in services.same_files(job)]
        if failures:
            services.import_job_cancel(job=job, user=user)
            if created:
                source.delete()
            raise CommandError("Nothing was imported.\n" + "\n".join(failures))
        services.import_job_confirm(
            job=job,
            accept_cut=options["accept_truncated"],
            import_again=options["import_again"],
            enqueue=False,
        )
        services.import_job_run(job_id=job.pk)
        job.refresh_from_db()
        if job.status != ImportStatus.DONE:
            raise CommandError(job.error)
        if options["verbosity"] >= 1:
            self.stderr.write(
                f"Imported {job.record_count} records into “{source}” of review “{review.slug}”."
            )
            dedup = job.dedup_jobs.first()
            if dedup is not None and dedup.status == DedupStatus.DONE:
                self.stderr.write(
                    f"Checked against the review's other records: "
                    f"{dedup.counts.get('linked_records', 0)} linked as certain duplicates, "
                    f"{dedup.counts.get('possible', 0)} possible pairs for the queue."
                )
            elif dedup is not None:
                self.stderr.write(
                    f"De-duplication of the new records is {dedup.get_status_display().lower()} "
                    f"(run #{dedup.pk}); see the review's Duplicates page."
                )

    def _dry_run(self, files: list[Path], fmt: str) -> None:
        errors = []
        for path in files:
            try:
                summary = services.read_summary(path, filename=str(path), fmt=fmt)
            except ParseError as error:
                errors.append(str(error))
                continue
            self._report(str(path), summary, self._verbosity)
        if errors:
            raise CommandError("\n".join(errors))

    def _report(self, name: str, summary: dict[str, Any], verbosity: int) -> None:
        self.stdout.write(_format_line(name, summary))
        for item in services.warning_list(summary):
            # Data-losing warnings always; the informational ones with -v 2.
            if item["loses_data"]:
                self.stdout.write(f"  check: {item['text']}")
            elif verbosity >= 2:
                self.stdout.write(f"  warning: {item['text']}")

    def execute(self, *args: Any, **options: Any) -> Any:
        self._verbosity = options.get("verbosity", 1)
        return super().execute(*args, **options)
