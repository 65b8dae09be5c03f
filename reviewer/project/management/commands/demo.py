"""Build (or rebuild) the demo review, so a newcomer sees a real review at once.

The command runs each app's demo module in turn (`reviewer.demo`, `extraction.demo`,
`extraction.appraisal.demo`, `analysis.demo`), so it lives in the project corner (see
`reviewer.project`), whose small AppConfig makes Django find it."""

from __future__ import annotations

import secrets
import tempfile
from argparse import ArgumentParser
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse

from analysis.demo import analysis_demo
from extraction.appraisal.demo import appraisal_demo
from extraction.demo import DemoExtractors, extraction_demo, pending_import_demo
from reviewer.demo.ranking import question_head, rank_demo
from reviewer.demo.records import citation_export, demo_exports
from reviewer.demo.screening import DemoTeam, screen_demo
from reviewer.models import (
    FullText,
    Review,
    Role,
    User,
)
from reviewer.screening.rules import State
from reviewer.services.imports import import_job_create, import_job_read
from reviewer.services.invitations import invitation_create, invitation_token
from reviewer.services.reviews import member_add, review_create

SLUG = "demo"
USERS = [
    # username, full name, role in the demo review
    ("carol", "Carol Senior", Role.OWNER),
    ("alice", "Alice Reviewer", Role.REVIEWER),
    ("bob", "Bob Reviewer", Role.REVIEWER),
]
QUESTION = (
    "In children and adolescents (0-18 years) with inflammatory myofibroblastic tumor, "
    "what are the outcomes of treatment, and which factors predict recurrence and mortality?"
)
CRITERIA = """Include
- Original articles reporting outcomes of pediatric IMT (0-18 years)
- At least 3 pediatric IMT patients

Exclude
- Non-English language papers
- Case reports (fewer than 3 patients)
- Pediatric patients not analysable separately from adults
- IMT not analysable separately from other diagnoses"""
PUBMED_QUERY = (
    '("inflammatory myofibroblastic tumor"[tiab] OR "plasma cell granuloma"[tiab]) AND '
    "(child*[tiab] OR pediatric[tiab] OR paediatric[tiab] OR adolescent*[tiab] OR "
    "outcome*[tiab] OR surgery[tiab])"
)
EMBASE_QUERY = (
    "('inflammatory myofibroblastic tumor'/exp OR 'plasma cell granuloma':ti,ab) AND "
    "(child* OR p*ediatric OR adolescent* OR outcome* OR surgery OR 'young adult')"
)


def _delete_demo_review() -> None:
    """Delete the old demo review, and its full-text files (the rows go with the review;
    the stored files would stay)."""
    old = Review.objects.filter(slug=SLUG).first()
    if old is None:
        return
    for stored in FullText.objects.filter(review=old).exclude(pdf=""):
        stored.pdf.delete(save=False)
    old.delete()


class Command(BaseCommand):
    help = (
        "Build the demo review (slug 'demo') with three users and two imported database "
        "searches. Rebuilds it if it exists. Prints the users' passwords."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--password",
            default="",
            help="Use this password for every demo user instead of random ones.",
        )

    def _upload_again(self, review: Review, path: Path, owner: User) -> str:
        """The Embase export uploaded a second time, read and waiting: its page shows the
        earlier import and offers "Import it again" instead of a plain import."""
        with path.open("rb") as handle:
            again = import_job_create(
                source=review.sources.get(name="Embase"),
                files=[(f"{path.stem} (1){path.suffix}", handle)],
                created_by=owner,
                enqueue=False,
            )
        import_job_read(job_id=again.pk)
        return (
            "Searches: the Embase export was uploaded a second time and waits on the Embase "
            "search; its preview names the earlier import and asks before adding the same "
            "records twice."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", verbosity=0)
        passwords = {}
        with transaction.atomic():
            _delete_demo_review()
            users = {}
            for username, full_name, _ in USERS:
                first, last = full_name.split(" ", 1)
                user, _ = User.objects.get_or_create(username=username)
                user.first_name, user.last_name = first, last
                # people are matched by email when a review archive is restored
                user.email = user.email or f"{username}@example.org"
                passwords[username] = options["password"] or secrets.token_urlsafe(9)
                user.set_password(passwords[username])
                user.is_staff = user.is_superuser = username == "carol"
                user.save()
                users[username] = user
            owner = users["carol"]
            review = review_create(
                title="Outcomes of pediatric inflammatory myofibroblastic tumor (demo)",
                slug=SLUG,
                created_by=owner,
                question=QUESTION,
                criteria=CRITERIA,
                highlight_include=[
                    "inflammatory myofibroblastic",
                    "plasma cell granuloma",
                    "inflammatory pseudotumo*",
                    "child*",
                    "pediatric",
                    "adolescent*",
                ],
                highlight_exclude=["adults", "case report", "myocarditis", "IgG4"],
            )
            for username, _, role in USERS[1:]:
                member_add(review=review, username=username, role=role, added_by=owner)

        pubmed, embase = demo_exports()
        with tempfile.TemporaryDirectory() as folder:
            searches = [
                ("pubmed-2024-02-29.nbib", pubmed, "PubMed", PUBMED_QUERY, "database"),
                ("embase-2024-02-29.ris", embase, "Embase", EMBASE_QUERY, "database"),
                (
                    "reference-lists.enw",
                    citation_export(),
                    "Other: citation searching",
                    "Reference lists of the included studies",
                    "other",
                ),
            ]
            for filename, text, database, query, kind in searches:
                path = Path(folder) / filename
                path.write_text(text, encoding="utf-8")
                out = StringIO()
                call_command(
                    "import_search",
                    str(path),
                    review=SLUG,
                    database=database,
                    kind=kind,
                    search_date=date(2024, 2, 29),
                    query=query,
                    user="carol",
                    stdout=out,
                    stderr=StringIO(),
                )
                self.stdout.write(out.getvalue().strip().replace(f"{folder}/", ""))
            self.stdout.write(self._upload_again(review, Path(folder) / searches[1][0], owner))

        counts = screen_demo(
            review, DemoTeam(senior=users["carol"], first=users["alice"], second=users["bob"])
        )
        conflicts = sum(n for state, n in counts.items() if state.needs_senior)
        self.stdout.write(
            f"Screening: alice and bob screened part of the records; "
            f"{counts[State.TA_UNSCREENED]} still unscreened at title/abstract, "
            f"{conflicts} conflicts waiting for carol, "
            f"{counts[State.TA_PASSED]} agreed records waiting for carol to release them to "
            f"full text, {counts[State.APPROVED]} inclusions approved. Some of alice's "
            "title/abstract exclusions give a reason (keys 1-9 on the screening page), and "
            f"a few records carry labels ({', '.join(review.labels)}; bob's own: “ask carol”)."
        )
        if review.blinded:
            self.stdout.write(
                "Blinding: the review is blinded, so alice and bob each see their own progress "
                "only; carol sees the review-wide figures (conflicts, agreement, PRISMA). "
                "Unblind it in the settings to show them to everyone."
            )

        rankings = rank_demo(review)
        trained = ", ".join(
            f"{job.reviewer.username} ({job.relevant} relevant, {job.irrelevant} irrelevant)"
            for job in rankings
            if job.trained
        )
        self.stdout.write(
            f"Ranking: title/abstract queues ordered by relevance for {trained}; "
            "each learns from its own decisions and the resolved records."
        )
        hits, passed, total = question_head(review)
        self.stdout.write(
            f"Before a reviewer's first decision the queue follows the review's question: "
            f"{hits} of its first 20 records passed title/abstract screening "
            f"({passed} of all {total} did)."
        )
        extracted = extraction_demo(
            review,
            DemoExtractors(senior=users["carol"], first=users["alice"], second=users["bob"]),
        )
        self.stdout.write(
            f"Extraction: case-series form; {extracted['studies']} studies, "
            f"{extracted['final']} with final data for {extracted['patients']} patients, "
            "2 waiting for carol's consensus."
        )
        preview = pending_import_demo(review, users["alice"])
        self.stdout.write(
            "Extraction import: alice's spreadsheet of the study she is extracting waits on "
            f"its preview, one mistyped age pointed at: {preview}"
        )
        appraised = appraisal_demo(review, users["carol"], users["alice"], users["bob"])
        self.stdout.write(
            f"Risk of bias: {appraised['studies']} case series appraised with the JBI "
            f"checklist by alice and bob; {appraised['final']} final, "
            f"{appraised['waiting']} waiting for carol's consensus."
        )
        runs = analysis_demo(review, users["carol"])
        self.stdout.write(
            f"Analysis: {len(runs)} runs on the final data (patient characteristics, "
            "margin against recurrence, reoperation and outcome, site against management; "
            "pooled recurrence, reoperation and death rates across the final studies, and "
            "margin status against recurrence as a pooled odds ratio)."
        )

        invitation = invitation_create(
            review=review, email="dana@example.org", role=Role.REVIEWER, created_by=owner
        )
        link = reverse("invitation-accept", kwargs={"token": invitation_token(invitation)})
        self.stdout.write(
            "Team: one invitation waits on the Members page (dana@example.org, reviewer). "
            f"Its link, which makes dana's account and joins the review: {link}"
        )

        self.stdout.write(
            f"Archive: python manage.py export_review {SLUG} --output {SLUG}.zip writes the "
            f"whole review to one file; import_review {SLUG}.zip --slug {SLUG}-copy restores it."
        )
        self.stdout.write(self.style.SUCCESS(f"\nDemo review ready: /reviews/{SLUG}/"))
        self.stdout.write("Log in as (username / password, role):")
        for username, _, role in USERS:
            label = "owner and senior author" if role == Role.OWNER else role.label.lower()
            self.stdout.write(f"  {username:<6} {passwords[username]:<16} {label}")
