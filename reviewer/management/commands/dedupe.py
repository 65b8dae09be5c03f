"""Find duplicates in a review from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reviewer.management.people import acting_user, review_by_slug
from reviewer.models import DedupStatus
from reviewer.selectors import duplicate_summary, pending_duplicate_pairs
from reviewer.services.duplicates import dedup_run_now


class Command(BaseCommand):
    help = (
        "Run de-duplication over all of a review's records, in this process. Certain duplicates "
        "are linked, possible ones queued for a person; decisions already made are kept. "
        "Prints the certain / possible / distinct counts."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--review", required=True, metavar="SLUG")
        parser.add_argument(
            "--user", default="", help="Username recorded as starting the run (default: an owner)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        review = review_by_slug(options["review"])
        user = acting_user(review, options["user"])
        try:
            job = dedup_run_now(review=review, user=user)
        except ValidationError as refusal:
            raise CommandError(refusal.messages[0]) from None
        if job.status != DedupStatus.DONE:
            raise CommandError(job.error or f"The run ended as “{job.get_status_display()}”.")
        summary = duplicate_summary(review)
        waiting_pairs = list(pending_duplicate_pairs(review).values_list("first_id", "second_id"))
        grouped = set(review.records.exclude(duplicate_of=None).values_list("pk", flat=True))
        grouped |= set(review.records.exclude(duplicates=None).values_list("pk", flat=True))
        undecided = {pk for pair in waiting_pairs for pk in pair} - grouped
        distinct = summary.records - len(grouped) - len(undecided)
        self.stdout.write(
            f"{summary.records} records, {job.counts['compared']} candidate pairs compared"
        )
        self.stdout.write(
            f"certain:  {summary.removed} duplicates linked to {summary.groups} kept records "
            f"({job.counts['linked_records']} newly linked)"
        )
        self.stdout.write(
            f"possible: {len(waiting_pairs)} pairs waiting for a decision "
            f"({len(undecided)} records in no group yet)"
        )
        self.stdout.write(f"distinct: {distinct} records with no duplicate, certain or possible")
        self.stdout.write(f"{summary.unique} records remain for screening")
