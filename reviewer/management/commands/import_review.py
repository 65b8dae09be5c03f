"""Restore a review from its archive (export_review), whole or not at all."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from reviewer.archive import ArchiveError, archive_restore
from reviewer.models import User


class Command(BaseCommand):
    help = (
        "Restore a review from an archive written by export_review, in one transaction. "
        "People are matched by email; whoever has no account here gets an inactive one. "
        "A damaged archive (checksum, missing file, bad JSON) or one from a newer version "
        "is refused and nothing is stored."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("archive", metavar="FILE.zip")
        parser.add_argument(
            "--slug", default="", help="The restored review's address (default: the archived one)."
        )
        parser.add_argument(
            "--owner",
            default="",
            metavar="USERNAME",
            help="Also make this user an owner of the restored review.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["archive"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        owner = None
        if options["owner"]:
            owner = User.objects.filter(username=options["owner"]).first()
            if owner is None:
                raise CommandError(f"No user called “{options['owner']}”.")
        try:
            restored = archive_restore(source=str(path), slug=options["slug"], owner=owner)
        except ArchiveError as error:
            raise CommandError(f"{path}: {error} Nothing was restored.") from None
        rows = sum(restored.rows.values())
        self.stdout.write(
            f"Restored “{restored.review.title}” as /reviews/{restored.review.slug}/: "
            f"{rows:,} rows; {len(restored.people_matched)} people matched by email, "
            f"{len(restored.people_created)} new inactive accounts"
            + (
                f" ({', '.join(u.username for u in restored.people_created)})"
                if restored.people_created
                else ""
            )
            + "."
        )
        created = {u.pk for u in restored.people_created}
        for person in restored.people:  # who is who: an archive can name anyone's address
            account = person.account
            assert account is not None
            kind = "new inactive account" if account.pk in created else "existing account"
            self.stdout.write(f"  {person.email or person.name} → {kind} {account.username}")
