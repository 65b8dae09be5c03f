"""The reference review's flow (../shared/domain/imt-review.txt, Figure 1): 2,398 records
identified from PubMed and Embase, 413 duplicates, 1,985 screened, 1,835 excluded, 150 full
texts assessed, 93 excluded with reasons, 57 studies included.

The rows are bulk-created (the services would take minutes for 2,398 records), in the shape
the services write them: two decisions per record and stage, adjudications for conflicts and
for exclusions whose reasons differ, an approval and a study per inclusion. The test checks
first that the screening rules read them as intended (`states`), then the diagram's counts.

The paper gives no breakdown of the 93 full-text exclusions; it names its criteria (case
reports of fewer than 3 patients, children not separable from adults or IMT from other
diagnoses, non-English papers), so the 93 are split over the matching default reasons:
41 too few patients, 37 data not reported separately, 9 wrong publication type, 6 not in an
included language.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
from django.utils import timezone

from reviewer.models import (
    Adjudication,
    Approval,
    Decision,
    ExclusionReason,
    Record,
    Review,
    Source,
    Study,
)
from reviewer.prisma.counts import prisma_report
from reviewer.prisma.template_csv import template_csv
from reviewer.prisma.types import PrismaCounts
from reviewer.prisma.validate import validate
from reviewer.screening.queries import state_counts
from reviewer.screening.rules import State
from tests.factories import make_import_file, make_import_job, make_source
from tests.reviewer.prisma import new_team

pytestmark = pytest.mark.django_db

PUBMED, EMBASE, DUPLICATES = 1200, 1198, 413
EXCLUDED_TA, INCLUDED = 1835, 57
TA_CONFLICTS_EXCLUDED, TA_CONFLICTS_INCLUDED = 40, 12  # adjudicated by the senior
FT_CONFLICTS_INCLUDED, FT_REASONS_CHOSEN = 5, 7
REASONS = {
    "Too few patients (case report)": 41,
    "Data not reported separately for the population of interest": 37,
    "Wrong publication type (review, editorial, conference abstract)": 9,
    "Not in an included language": 6,
}


def build_reference_review() -> Review:
    team = new_team("Pediatric inflammatory myofibroblastic tumor: outcomes")
    review, first, second, senior = team.review, team.owner, team.reviewer, team.senior
    reasons = {r.label: r for r in review.exclusion_reasons.all()}
    pubmed, embase = make_source(review, "PubMed"), make_source(review, "Embase")

    def records(source: Source, n: int) -> list[Record]:
        import_file = make_import_file(make_import_job(source))
        Record.objects.bulk_create(
            Record(
                review=review,
                source=source,
                import_file=import_file,
                position=i + 1,
                title=f"{source} record {i + 1}",
            )
            for i in range(n)
        )
        return list(Record.objects.filter(import_file=import_file).order_by("pk"))

    pubmed_records = records(pubmed, PUBMED)
    embase_records = records(embase, EMBASE)
    duplicates = embase_records[:DUPLICATES]
    for record, kept in zip(duplicates, pubmed_records, strict=False):
        record.duplicate_of = kept
    Record.objects.bulk_update(duplicates, ["duplicate_of"])

    screened = pubmed_records + embase_records[DUPLICATES:]
    assert len(screened) == 1985
    decisions: list[Decision] = []
    adjudications: list[Adjudication] = []

    def decide(
        record: Record,
        stage: str,
        a: str,
        b: str,
        reasons_: tuple[ExclusionReason | None, ExclusionReason | None] = (None, None),
    ) -> None:
        for reviewer, choice, reason in ((first, a, reasons_[0]), (second, b, reasons_[1])):
            decisions.append(
                Decision(
                    review=review,
                    record=record,
                    reviewer=reviewer,
                    stage=stage,
                    choice=choice,
                    reason=reason,
                )
            )

    def adjudicate(
        record: Record, stage: str, choice: str, reason: ExclusionReason | None = None
    ) -> None:
        adjudications.append(
            Adjudication(
                review=review,
                record=record,
                stage=stage,
                choice=choice,
                reason=reason,
                decided_by=senior,
            )
        )

    excluded, sought = screened[:EXCLUDED_TA], screened[EXCLUDED_TA:]
    for i, record in enumerate(excluded):
        if i < TA_CONFLICTS_EXCLUDED:
            decide(record, "ta", "maybe", "exclude")
            adjudicate(record, "ta", "exclude")
        else:
            decide(record, "ta", "exclude", "exclude")
    for i, record in enumerate(sought):
        if i < TA_CONFLICTS_INCLUDED:
            decide(record, "ta", "include", "exclude")
            adjudicate(record, "ta", "include")
        else:
            decide(record, "ta", "include", "maybe" if i % 3 else "include")

    ft_excluded = [label for label, n in REASONS.items() for _ in range(n)]
    other = reasons["Wrong study design"]
    for i, (record, label) in enumerate(zip(sought, ft_excluded, strict=False)):
        reason = reasons[label]
        if i < FT_REASONS_CHOSEN:  # the reviewers gave different reasons: the senior chose
            decide(record, "ft", "exclude", "exclude", (reason, other))
            adjudicate(record, "ft", "exclude", reason)
        else:
            decide(record, "ft", "exclude", "exclude", (reason, reason))
    included = sought[len(ft_excluded) :]
    assert len(included) == INCLUDED
    for i, record in enumerate(included):
        if i < FT_CONFLICTS_INCLUDED:
            decide(record, "ft", "include", "exclude", (None, other))
            adjudicate(record, "ft", "include")
        else:
            decide(record, "ft", "include", "include")
    Decision.objects.bulk_create(decisions)
    Adjudication.objects.bulk_create(adjudications)
    # the blinded review's senior released the records agreed at title/abstract
    agreed = [record.pk for record in sought[TA_CONFLICTS_INCLUDED:]]
    Record.objects.filter(pk__in=agreed).update(released_at=timezone.now(), released_by=senior)
    studies = Study.objects.bulk_create(
        Study(review=review, label=f"Study {i + 1}", created_by=senior) for i in range(INCLUDED)
    )
    Approval.objects.bulk_create(
        Approval(review=review, record=record, study=study, approved_by=senior)
        for record, study in zip(included, studies, strict=True)
    )
    return review


@pytest.mark.slow
def test_the_reference_review_s_flow() -> None:
    review = build_reference_review()

    assert state_counts(review) == Counter(
        {
            State.DUPLICATE: 413,
            State.TA_EXCLUDED: 1835,
            State.FT_EXCLUDED: 93,
            State.APPROVED: 57,
        }
    )
    report = prisma_report(review)
    counts = report.counts

    assert report.pending == {}
    assert counts == PrismaCounts(
        database_results=2398,
        database_specific_results=(("PubMed", 1200), ("Embase", 1198)),
        duplicates=413,
        records_screened=1985,
        records_excluded=1835,
        dbr_sought_reports=150,
        dbr_notretrieved_reports=0,
        dbr_assessed=150,
        dbr_excluded=(  # in the review's order of reasons
            ("Wrong publication type (review, editorial, conference abstract)", 9),
            ("Too few patients (case report)", 41),
            ("Data not reported separately for the population of interest", 37),
            ("Not in an included language", 6),
        ),
        new_studies=57,
        new_reports=57,
        extra={"title": "Pediatric inflammatory myofibroblastic tumor: outcomes"},
    )
    assert counts.dbr_excluded_total == 93
    assert validate(counts) == []

    cells = {row["data"]: row["n"] for row in csv.DictReader(io.StringIO(template_csv(counts)))}
    assert cells["database_results"] == "2398"
    assert cells["database_specific_results"] == "PubMed, 1200; Embase, 1198"
    assert cells["duplicates"] == "413"
    assert cells["records_screened"] == "1985"
    assert cells["records_excluded"] == "1835"
    assert cells["dbr_assessed"] == "150"
    assert cells["dbr_excluded"] == (
        "Wrong publication type (review / editorial / conference abstract), 9; "
        "Too few patients (case report), 41; "
        "Data not reported separately for the population of interest, 37; "
        "Not in an included language, 6"
    )
    assert (cells["new_studies"], cells["new_reports"], cells["total_studies"]) == (
        "57",
        "57",
        "57",
    )
