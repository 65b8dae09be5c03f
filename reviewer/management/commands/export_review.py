"""Write a review's archive: one ZIP that restores the whole review on any instance."""

from __future__ import annotations

import os
import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from reviewer.archive import ArchiveWriteError, archive_write
from reviewer.management.people import review_by_slug


class Command(BaseCommand):
    help = (
        "Write the whole review SLUG (settings, people and roles, searches with their files, "
        "records, duplicates, every decision with its history, full texts, studies, "
        "extraction, analyses) to one ZIP archive; restore it with import_review. The layout "
        "is described in reviewer/archive/__init__.py."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", metavar="SLUG")
        parser.add_argument("--output", required=True, metavar="FILE.zip")

    def handle(self, *args: Any, **options: Any) -> None:
        review = review_by_slug(options["slug"])
        target = Path(options["output"])
        if not target.parent.is_dir():
            raise CommandError(f"The folder {target.parent} does not exist.")
        # written beside the target and renamed at the end: a failed export leaves no
        # half-written archive that looks like a backup
        handle, partial = tempfile.mkstemp(dir=target.parent, suffix=".partial")
        try:
            with os.fdopen(handle, "wb") as out:
                manifest = archive_write(review=review, out=out)
            os.replace(partial, target)
        except ArchiveWriteError as error:
            raise CommandError(str(error)) from None
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        rows = sum(t["rows"] for t in manifest["tables"])
        self.stdout.write(
            f"{target}: review “{review.slug}”, {rows:,} rows in {len(manifest['tables'])} "
            f"tables, {manifest['people']['rows']} people, {len(manifest['files'])} files "
            f"({target.stat().st_size:,} bytes; archive format {manifest['format_version']}, "
            f"app {manifest['app_version']})"
        )
