"""Reviews built through the services, for the PRISMA counts, checks and CSV tests.

`full_review()` walks every box of the diagram: two PubMed searches and Embase (with
certain duplicates linked by the de-duplication engine), a register, removals by hand and
by automation, title/abstract agreement, conflicts adjudicated both ways, full texts not
retrieved, exclusions with reasons (two reviewers giving different reasons, the senior
picking one), approvals grouped into studies, and records from websites, an organisation
and citation searching (one a duplicate, one removed). `Scenario.expected` is the diagram
it must give, worked out by hand in the comments.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from reviewer.models import (
    DedupJob,
    DedupStatus,
    ExclusionReason,
    Record,
    Review,
    Role,
    SourceKind,
    Study,
)
from reviewer.prisma.types import PrismaCounts
from reviewer.screening.queries import state_of
from reviewer.screening.rules import State
from reviewer.services.duplicates import dedup_job_run, dedup_run_now
from reviewer.services.screening import (
    adjudicate,
    approve,
    full_text_not_retrieved,
    remove_before_screening,
    report_link,
)
from tests.factories import (
    Team,
    add_member,
    make_reason,
    make_review,
    make_source,
    make_user,
    release,
    screen,
)

TOPICS = (
    "Crizotinib response in ALK-positive inflammatory myofibroblastic tumour",
    "Pulmonary plasma cell granuloma resected by thoracoscopy in adolescents",
    "Bladder pseudotumour after partial cystectomy: long-term follow-up",
    "Orbital inflammatory lesions mimicking lymphoma in young patients",
    "Hepatic myofibroblastic neoplasm treated by transplantation",
    "Gastric wall mass causing anaemia and fever in a toddler",
    "Mesenteric tumours of childhood: a twenty-year institutional series",
    "Laryngeal spindle cell proliferation and airway obstruction",
    "ROS1 and NTRK fusions in soft tissue sarcoma mimics",
    "Corticosteroid therapy for unresectable pseudotumour of the pancreas",
    "Recurrence after incomplete resection of abdominal soft tissue masses",
    "Radiological features of splenic inflammatory pseudotumor",
    "Renal pelvis lesions presenting with haematuria in school-age children",
    "Metastatic disease and mortality in spindle cell neoplasms: a registry study",
    "Trial of ceritinib in paediatric solid tumours with ALK alterations",
    "Uterine myofibroblastic tumours in adolescent girls",
    "Cardiac intracavitary masses: surgical outcomes",
    "Brain and meningeal involvement by plasma cell granuloma",
    "Non-steroidal anti-inflammatory drugs as first-line therapy",
    "Histopathology of IgG4-related disease versus pseudotumour",
    "Surveillance imaging after R0 resection in the abdomen",
    "Conference abstract: case series from a national children's hospital",
    "Grey literature review of myofibroblastic lesion management guidelines",
    "Mandibular swelling in a seven-year-old boy",
)

_used = iter(range(1_000_000))


def new_team(title: str = "Pediatric IMT", **fields: Any) -> Team:
    """Like `make_team`, with fresh usernames, so a test can build several reviews."""
    owner = make_user()
    review = make_review(owner=owner, title=title, **fields)
    senior = add_member(review, role=Role.SENIOR).user
    reviewer = add_member(review, role=Role.REVIEWER).user
    return Team(review=review, owner=owner, senior=senior, reviewer=reviewer, outsider=make_user())


def add(team: Team, source: Any, *, doi: str = "", title: str = "", **fields: Any) -> Record:
    """A record of `source` with a distinct title and DOI (or the ones given, to duplicate)."""
    from tests.factories import make_record

    n = next(_used)
    fields.setdefault("year", 1990 + n % 30)
    return make_record(
        team.review,
        source,
        title=title or f"{TOPICS[n % len(TOPICS)]} (cohort {n})",
        doi=doi or f"10.5555/prisma.{n}",
        **fields,
    )


def duplicate(team: Team, source: Any, of: Record) -> Record:
    """The same paper as `of`, exported by another search: the engine links it for certain."""
    return add(team, source, doi=of.doi, title=of.title, year=of.year)


def ta(record: Record, team: Team, first: str, second: str, *, released: bool = True) -> None:
    """Both reviewers' title/abstract decisions; a record they agreed to include is then
    released to full text by the senior (the review is blinded), unless not `released`."""
    screen(record, team.owner, first)
    screen(record, team.reviewer, second)
    if released and state_of(record).state is State.TA_PASSED:
        release(record, by=team.senior)


def ft(
    record: Record,
    team: Team,
    first: str,
    second: str,
    reasons: tuple[ExclusionReason | None, ExclusionReason | None] = (None, None),
) -> None:
    screen(record, team.owner, first, stage="ft", reason=reasons[0])
    screen(record, team.reviewer, second, stage="ft", reason=reasons[1])


def not_retrieved(record: Record, team: Team) -> None:
    full_text_not_retrieved(
        record=record, user=team.reviewer, note="Library and authors asked; no reply."
    )


def approve_one(record: Record, team: Team) -> Study:
    return approve(review=team.review, records=[record], user=team.senior)[0].study


@dataclass
class Scenario:
    team: Team
    expected: PrismaCounts
    records: dict[str, Record] = field(default_factory=dict)

    @property
    def review(self) -> Review:
        return self.team.review


def full_review(*, update: bool = False) -> Scenario:
    """Every box used, screening complete; `update`: an update of a review that included 12
    studies in 15 reports."""
    team = new_team()
    review = team.review
    if update:  # as the review's settings page saves them
        review.previous_studies, review.previous_reports = 12, 15
        review.save(update_fields=["previous_studies", "previous_reports"])
    reasons = list(review.exclusion_reasons.order_by("position"))
    population, design, publication = reasons[0], reasons[4], reasons[5]
    mixed = make_reason(review, "Patients' data “mixed” with adults & 成人")

    pubmed_1 = make_source(review, "PubMed")
    pubmed_2 = make_source(review, "pubmed ")  # a second PubMed search: one line, added up
    embase = make_source(review, "Embase")
    trials = make_source(review, "ClinicalTrials.gov", kind=SourceKind.REGISTER)
    websites = make_source(review, "Google Scholar", kind=SourceKind.WEBSITE)
    organisations = make_source(review, "WHO", kind=SourceKind.ORGANISATION)
    citations = make_source(review, "Citation searching", kind=SourceKind.OTHER)

    r: dict[str, Record] = {}
    for name in ("p1", "p2", "p3", "p4", "p5", "p6"):
        r[name] = add(team, pubmed_1)
    for name in ("p7", "p8"):
        r[name] = add(team, pubmed_2)
    r["e1"] = duplicate(team, embase, r["p1"])
    r["e2"] = duplicate(team, embase, r["p2"])
    for name in ("e3", "e4", "e5"):
        r[name] = add(team, embase)
    r["r1"], r["r2"] = add(team, trials), add(team, trials)
    r["w1"] = add(team, websites)
    r["w2"] = duplicate(team, websites, r["p3"])  # found again on a website
    r["o1"] = add(team, organisations)
    r["c1"], r["c2"], r["c3"] = add(team, citations), add(team, citations), add(team, citations)

    job = dedup_run_now(review=review, user=team.owner)
    assert job.counts["linked_records"] == 3, job.counts
    for name in ("p1", "p2", "p3", "e1", "e2", "w2"):
        r[name].refresh_from_db()
    assert (r["e1"].duplicate_of, r["e2"].duplicate_of, r["w2"].duplicate_of) == (
        r["p1"],
        r["p2"],
        r["p3"],
    )

    remove = remove_before_screening
    remove(review=review, user=team.owner, records=[r["p8"], r["r2"]], reason="RobotReviewer",
           by_automation=True)  # fmt: skip
    remove(review=review, user=team.owner, records=[r["p7"]], reason="Published before 1980")
    remove(review=review, user=team.owner, records=[r["c2"]], reason="Not a research article")

    # title/abstract: 10 records screened (15 identified − 2 duplicates − 3 removed)
    ta(r["p1"], team, "include", "include")
    ta(r["p2"], team, "include", "maybe")
    ta(r["p3"], team, "exclude", "exclude")  # excluded
    ta(r["p4"], team, "include", "exclude")
    adjudicate(record=r["p4"], user=team.senior, stage="ta", choice="include")
    ta(r["p5"], team, "maybe", "exclude")
    adjudicate(record=r["p5"], user=team.senior, stage="ta", choice="exclude")  # excluded
    ta(r["p6"], team, "maybe", "maybe")
    ta(r["e3"], team, "include", "include")
    ta(r["e4"], team, "exclude", "exclude")  # excluded
    ta(r["e5"], team, "include", "include")
    ta(r["r1"], team, "include", "include")

    # full text, databases and registers: 7 sought, 1 not retrieved, 6 assessed
    ft(r["p1"], team, "include", "include")
    not_retrieved(r["p2"], team)
    ft(r["p4"], team, "exclude", "exclude", (publication, publication))
    ft(r["p6"], team, "exclude", "exclude", (population, design))
    adjudicate(record=r["p6"], user=team.senior, stage="ft", choice="exclude", reason=design)
    ft(r["e3"], team, "include", "exclude", (None, population))
    adjudicate(record=r["e3"], user=team.senior, stage="ft", choice="include")
    ft(r["e5"], team, "exclude", "exclude", (population, population))
    ft(r["r1"], team, "include", "include")

    # other methods: 4 sought (w2 is a duplicate, c2 removed), 1 not retrieved, 3 assessed
    ft(r["w1"], team, "include", "include")
    ft(r["o1"], team, "exclude", "exclude", (mixed, mixed))
    ft(r["c1"], team, "exclude", "exclude", (population, population))
    not_retrieved(r["c3"], team)

    # approval: 4 reports of 3 studies (e3 is a second report of p1's study)
    study_a = approve_one(r["p1"], team)
    approve_one(r["e3"], team)
    report_link(approval=r["e3"].approval, study=study_a, user=team.senior)
    approve_one(r["r1"], team)
    approve_one(r["w1"], team)

    expected = PrismaCounts(
        database_results=13,
        database_specific_results=(("PubMed", 8), ("Embase", 5)),
        register_results=2,
        register_specific_results=(("ClinicalTrials.gov", 2),),
        duplicates=2,
        excluded_automatic=2,
        excluded_other=1,
        records_screened=10,
        records_excluded=3,
        dbr_sought_reports=7,
        dbr_notretrieved_reports=1,
        dbr_assessed=6,
        dbr_excluded=((population.label, 1), (design.label, 1), (publication.label, 1)),
        website_results=2,
        organisation_results=1,
        citations_results=3,
        other_sought_reports=4,
        other_notretrieved_reports=1,
        other_assessed=3,
        other_excluded=((population.label, 1), (mixed.label, 1)),
        new_studies=3,
        new_reports=4,
        previous_studies=12 if update else None,
        previous_reports=15 if update else None,
        other_methods=True,
        previous=update,
        extra={"title": review.title},
    )
    return Scenario(team, expected, r)


def two_databases_only() -> Scenario:
    """The plain case: PubMed and Embase, duplicates set as the engine sets them (pointing
    at the kept record), no removals, no other methods."""
    team = new_team()
    review = team.review
    reason = review.exclusion_reasons.order_by("position")[1]
    pubmed, embase = make_source(review, "PubMed"), make_source(review, "Embase")
    kept = [add(team, pubmed) for _ in range(4)]
    embase_records = [add(team, embase) for _ in range(3)]
    for record in embase_records[:2]:
        record.duplicate_of = kept[0] if record is embase_records[0] else kept[1]
        record.save(update_fields=["duplicate_of"])
    screening = [*kept, embase_records[2]]  # 5 screened
    for record in screening[:3]:
        ta(record, team, "include", "include")
    for record in screening[3:]:
        ta(record, team, "exclude", "exclude")
    ft(screening[0], team, "include", "include")
    ft(screening[1], team, "exclude", "exclude", (reason, reason))
    ft(screening[2], team, "include", "include")
    approve(review=review, records=[screening[0], screening[2]], user=team.senior)
    expected = PrismaCounts(
        database_results=7,
        database_specific_results=(("PubMed", 4), ("Embase", 3)),
        duplicates=2,
        records_screened=5,
        records_excluded=2,
        dbr_sought_reports=3,
        dbr_assessed=3,
        dbr_excluded=((reason.label, 1),),
        new_studies=2,
        new_reports=2,
        extra={"title": review.title},
    )
    return Scenario(team, expected)


def in_progress() -> Scenario:
    """Records at every waiting step: 2 unscreened, 1 with one decision, 1 title/abstract
    conflict; 1 full text not yet assessed (plus a citation found, sought at once), 1 with
    one decision, 1 full-text conflict, 1 with two reasons to choose from, 1 included but not
    approved; and 1 approved."""
    team = new_team()
    review = team.review
    a, b = review.exclusion_reasons.order_by("position")[:2]
    pubmed = make_source(review, "PubMed")
    citations = make_source(review, "Citation searching", kind=SourceKind.OTHER)
    records = [add(team, pubmed) for _ in range(10)]
    cited = add(team, citations)
    unscreened = records[:2]
    assert unscreened
    screen(records[2], team.owner, "include")  # one decision
    ta(records[3], team, "include", "exclude")  # conflict
    ta(records[4], team, "include", "include", released=False)
    for record in records[5:]:
        ta(record, team, "include", "include")
    # records[4] sought, not assessed: waiting for the senior's release to full text
    screen(records[5], team.owner, "include", stage="ft")
    ft(records[6], team, "include", "exclude", (None, a))
    ft(records[7], team, "exclude", "exclude", (a, b))
    ft(records[8], team, "include", "include")
    ft(records[9], team, "include", "include")
    approve(review=review, records=[records[9]], user=team.senior)
    expected = PrismaCounts(
        database_results=10,
        database_specific_results=(("PubMed", 10),),
        records_screened=10,
        dbr_sought_reports=6,
        dbr_assessed=6,
        citations_results=1,
        other_sought_reports=1,
        other_assessed=1,
        other_methods=True,
        new_studies=1,
        new_reports=1,
        extra={"title": review.title},
    )
    assert cited.source == citations
    return Scenario(team, expected)


IN_PROGRESS_PENDING = {
    "ta-unscreened": 2,
    "ta-one": 1,
    "ta-conflict": 1,
    "ta-passed": 1,
    "ft-sought": 1,
    "ft-one": 1,
    "ft-conflict": 1,
    "ft-reason": 1,
    "ft-included": 1,
}


def _ris(records: list[tuple[str, str, str]]) -> str:
    """A RIS export of (title, first author, DOI) records."""
    lines = []
    for title, author, doi in records:
        lines += ["TY  - JOUR", f"TI  - {title}", f"AU  - {author}", "PY  - 2019"]
        lines += [f"DO  - {doi}", "JO  - Pediatric Surgery International", "ER  - ", ""]
    return "\n".join(lines)


#: Two searches as a team exports them: PubMed (4 records) and Embase (3), one paper in both.
PUBMED_RIS = _ris(
    [
        ("Myofibroblastic tumour of the lung in 12 children", "Coffin, C", "10.5555/f.1"),
        ("Bladder pseudotumour after cystectomy in adolescents", "Hornick, J", "10.5555/f.2"),
        ("IgG4-related disease of the orbit in adults", "Tanaka, K", "10.5555/f.3"),
        ("Crizotinib for unresectable mesenteric tumours", "Rossi, M", "10.5555/f.4"),
    ]
)  # fmt: skip
EMBASE_RIS = _ris(
    [
        ("Myofibroblastic tumour of the lung in 12 children", "Coffin, C", "10.5555/f.1"),
        ("Myocarditis after checkpoint inhibitors in adults", "Silva, A", "10.5555/f.5"),
        ("Hepatic plasma cell granuloma treated by transplantation", "Kowalski, P", "10.5555/f.6"),
    ]
)  # fmt: skip


def finished_from_imports(tmp_path: Any) -> Scenario:
    """A review taken all the way, the way a team takes it: two searches imported through
    `import_search`, each checked for duplicates as it lands (the check the import queues
    is run here, as a worker would once the import commits), every record decided by two
    reviewers, the conflicts adjudicated, one full text not retrieved, the inclusions
    approved. Nothing waits: the diagram is final.

    PubMed 4 + Embase 3 = 7 identified, 1 duplicate (the lung paper, found by both), 6
    screened; title/abstract: orbit and myocarditis excluded (the myocarditis one by the
    senior after a conflict), 4 sought; full text: mesenteric not retrieved, 3 assessed,
    bladder excluded (the senior picks the reason after a conflict), lung and hepatic
    included and approved: 2 studies in 2 reports.
    """
    from django.core.management import call_command

    team = new_team()
    review = team.review
    reason = review.exclusion_reasons.order_by("position")[0]
    for name, text in (("PubMed", PUBMED_RIS), ("Embase", EMBASE_RIS)):
        path = tmp_path / f"{name.lower()}.ris"
        path.write_text(text, encoding="utf-8")
        quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
        call_command(
            "import_search", str(path), review=review.slug, database=name,
            user=team.owner.username, **quiet,
        )  # fmt: skip
        for job in DedupJob.objects.filter(review=review, status=DedupStatus.QUEUED):
            dedup_job_run(job_id=job.pk)
    by_doi = {
        (record.doi, record.source.name): record
        for record in review.records.select_related("source")
    }
    lung, bladder, orbit, mesenteric = (by_doi[f"10.5555/f.{i}", "PubMed"] for i in (1, 2, 3, 4))
    myocarditis, hepatic = by_doi["10.5555/f.5", "Embase"], by_doi["10.5555/f.6", "Embase"]
    assert by_doi["10.5555/f.1", "Embase"].duplicate_of == lung, "linked when imported"

    for record in (lung, bladder, mesenteric, hepatic):
        ta(record, team, "include", "include")
    ta(orbit, team, "exclude", "exclude")
    ta(myocarditis, team, "include", "exclude")
    adjudicate(record=myocarditis, user=team.senior, stage="ta", choice="exclude")
    not_retrieved(mesenteric, team)
    ft(lung, team, "include", "include")
    ft(hepatic, team, "include", "include")
    ft(bladder, team, "include", "exclude", (None, reason))
    adjudicate(record=bladder, user=team.senior, stage="ft", choice="exclude", reason=reason)
    approve(review=review, records=[lung, hepatic], user=team.senior)

    expected = PrismaCounts(
        database_results=7,
        database_specific_results=(("PubMed", 4), ("Embase", 3)),
        duplicates=1,
        records_screened=6,
        records_excluded=2,
        dbr_sought_reports=4,
        dbr_notretrieved_reports=1,
        dbr_assessed=3,
        dbr_excluded=((reason.label, 1),),
        new_studies=2,
        new_reports=2,
        extra={"title": review.title},
    )
    records = {"lung": lung, "bladder": bladder, "mesenteric": mesenteric, "hepatic": hepatic}
    return Scenario(team, expected, records)
