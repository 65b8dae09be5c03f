"""`manage.py demo`: a real review a newcomer can log into at once."""

from __future__ import annotations

import re
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from analysis.models import AnalysisKind, AnalysisRun, RunStatus
from extraction.selectors import Progress, dataset, progress
from reviewer.demo.records import (
    CERTAIN_DUPLICATES,
    CITATION_RECORDS,
    EMBASE_RECORDS,
    PUBMED_RECORDS,
)
from reviewer.demo.screening import demo_pdf, lean
from reviewer.models import (
    Decision,
    DedupStatus,
    FullText,
    ImportStatus,
    PairStatus,
    Record,
    Review,
    Role,
    Study,
    User,
)
from reviewer.screening import queries
from reviewer.screening.agreement import agreement_by_stage
from reviewer.screening.queries import state_counts
from reviewer.screening.rules import State
from reviewer.selectors import pending_duplicate_pairs
from reviewer.services import imports
from tests.factories import page_text

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # each test builds the whole demo


def run_demo() -> str:
    out = StringIO()
    call_command("demo", password="demo-pass-1", stdout=out)
    return out.getvalue()


def test_demo_builds_a_review_with_three_users_two_databases_and_citation_searching(
    client,
) -> None:
    output = run_demo()

    review = Review.objects.get(slug="demo")
    roles = {m.user.username: m.role for m in review.memberships.select_related("user")}
    assert roles == {"carol": Role.OWNER, "alice": Role.REVIEWER, "bob": Role.REVIEWER}
    assert sorted(review.sources.values_list("name", flat=True)) == [
        "Embase",
        "Other: citation searching",
        "PubMed",
    ]
    by_source = {s.name: s.records.count() for s in review.sources.all()}
    assert by_source == {
        "PubMed": PUBMED_RECORDS,
        "Embase": EMBASE_RECORDS,
        "Other: citation searching": CITATION_RECORDS,
    }
    assert review.sources.get(name="Other: citation searching").kind == "other"
    assert review.exclusion_reasons.count() >= 5
    assert "alice" in output and "demo-pass-1" in output
    assert User.objects.get(username="bob").check_password("demo-pass-1")
    # The Embase export uploaded again waits, and asks before importing it twice.
    waiting = review.import_jobs.get(status=ImportStatus.READY)
    assert waiting.source.name == "Embase"
    [same] = imports.same_files(waiting)
    assert same.earlier.job.status == ImportStatus.DONE
    assert same.earlier.job.source.name == "Embase"
    # blinded: alice sees her own progress, carol the review-wide figures (issue 13)
    assert "alice and bob each see their own progress only" in output
    client.force_login(User.objects.get(username="alice"))
    by_alice = client.get("/reviews/demo/").content.decode()
    assert "decided by you at title and abstract" in by_alice
    assert "waiting for the senior author" not in by_alice
    client.force_login(User.objects.get(username="carol"))
    assert "waiting for the senior author" in client.get("/reviews/demo/").content.decode()


def test_demo_records_look_like_real_exports() -> None:
    run_demo()

    pubmed = Record.objects.filter(source__name="PubMed").order_by("position").first()
    assert pubmed is not None
    assert pubmed.title and pubmed.pmid and pubmed.doi.startswith("10.5555/")
    assert pubmed.authors and "," in pubmed.authors[0]
    assert 1986 <= (pubmed.year or 0) <= 2024
    shared_dois = set(
        Record.objects.filter(source__name="PubMed").values_list("doi", flat=True)
    ) & {
        d.lower()
        for d in Record.objects.filter(source__name="Embase").values_list("doi", flat=True)
    }
    assert len(shared_dois) > 100, "the two searches overlap, as real ones do"


def test_demo_rebuilds_instead_of_doubling() -> None:
    run_demo()
    run_demo()

    assert Review.objects.filter(slug="demo").count() == 1
    assert Record.objects.filter(review__slug="demo").count() == (
        PUBMED_RECORDS + EMBASE_RECORDS + CITATION_RECORDS
    )


@pytest.mark.django_db(transaction=True)  # de-duplication runs as each import commits
def test_demo_searches_are_de_duplicated_with_pairs_left_for_a_person() -> None:
    run_demo()

    review = Review.objects.get(slug="demo")
    assert set(review.dedup_jobs.values_list("status", flat=True)) == {DedupStatus.DONE}
    duplicates = review.records.exclude(duplicate_of=None)
    assert duplicates.count() == CERTAIN_DUPLICATES
    # PubMed was imported first, so the Embase copy is always the duplicate
    assert set(duplicates.values_list("source__name", flat=True)) == {"Embase"}
    queue = list(pending_duplicate_pairs(review).select_related("second"))
    assert len(queue) == 6
    assert sum("Erratum" in pair.second.title for pair in queue) == 2
    errata = review.records.filter(title__startswith="Erratum")
    assert errata.count() == 2 and not errata.exclude(duplicate_of=None).exists()
    abstracts = review.records.filter(publication_type="Conference Abstract")
    assert abstracts.count() == 2
    assert not abstracts.exclude(duplicate_of=None).exists()
    kept_apart = review.duplicate_pairs.filter(status=PairStatus.KEPT_APART, second__in=abstracts)
    assert kept_apart.count() == 2
    assert review.decisions.exists()
    assert not Decision.objects.filter(record__in=duplicates).exists(), "duplicates not screened"


# --- screening ---


def test_demo_has_records_in_every_screening_state_conflicts_and_approved_studies() -> None:
    output = run_demo()

    review = Review.objects.get(slug="demo")
    counts = state_counts(review)
    every_state = set(State) - {State.DUPLICATE, State.REMOVED}
    assert {state for state in every_state if not counts[state]} == set()
    assert counts[State.TA_CONFLICT] >= 3, "conflicts for carol to adjudicate"
    assert counts[State.TA_UNSCREENED] > 100, "plenty left for a newcomer to try"
    decided_by_both = sum(n for state, n in counts.items() if state.stage == "ft")
    decided_by_both += counts[State.TA_CONFLICT] + counts[State.TA_EXCLUDED]
    assert decided_by_both > counts[State.TA_ONE]
    # three approved while screening (one found by citation searching), 39 more for extraction
    assert Study.objects.filter(review=review).count() == 42
    assert review.approvals.filter(record__source__kind="other").count() == 1
    assert review.removals.count() > 0, "old records removed before screening"
    assert review.adjudications.filter(decided_by__username="carol").exists()
    assert "conflicts waiting for carol" in output


def test_demo_has_records_released_to_full_text_and_a_few_waiting_for_carol(client) -> None:
    output = run_demo()

    review = Review.objects.get(slug="demo")
    counts = state_counts(review)
    assert counts[State.TA_PASSED] == 4
    assert "4 agreed records waiting for carol to release them to full text" in output
    released = review.records.filter(released_at__isnull=False)
    assert released.count() > 10
    assert set(released.values_list("released_by__username", flat=True)) == {"carol"}
    # alice still finds full texts to assess: released ones, never the ones waiting
    alice = User.objects.get(username="alice")
    client.force_login(alice)
    dashboard = client.get(reverse("review-dashboard", args=[review.slug])).content.decode()
    at_full_text = queries.queue(review, alice, "ft")
    waiting = queries.waiting(review, alice, "ft", at_full_text)
    assert waiting.exists()
    assert not at_full_text.filter(pk__in=queries.waiting_for_release(review)).exists()
    assert f"{waiting.count()} full texts to assess" in dashboard
    client.force_login(User.objects.get(username="carol"))
    carol = client.get(reverse("review-dashboard", args=[review.slug])).content.decode()
    assert "Release 4 records to full text" in carol


def test_demo_decisions_are_alice_and_bobs_and_agree_plausibly() -> None:
    run_demo()

    review = Review.objects.get(slug="demo")
    assert set(review.decisions.values_list("reviewer__username", flat=True)) == {"alice", "bob"}
    # PubMed's records, and at full text those found by citation searching
    assert not review.decisions.exclude(
        record__source__name__in=["PubMed", "Other: citation searching"]
    ).exists()
    rows = review.decisions.values_list("record_id", "reviewer_id", "stage", "choice")
    kappa = agreement_by_stage(rows)["ta"].overall.detailed.kappa
    assert kappa is not None and 0.4 < kappa < 0.95
    excluded_titles = review.records.filter(
        decisions__stage="ta", decisions__choice="exclude"
    ).values_list("title", flat=True)
    leaning_out = sum(lean(title) == "exclude" for title in excluded_titles)
    assert leaning_out > len(excluded_titles) / 2, "exclusions follow the titles"


def test_demo_full_texts_one_not_retrieved_with_a_note_and_one_valid_pdf() -> None:
    run_demo()

    review = Review.objects.get(slug="demo")
    not_retrieved = FullText.objects.filter(review=review, not_retrieved=True)
    assert {f.record.source.name for f in not_retrieved} == {"PubMed", "Other: citation searching"}
    assert all(f.note for f in not_retrieved)
    assert any("interlibrary loan" in f.note for f in not_retrieved)
    (stored,) = FullText.objects.filter(review=review).exclude(pdf="")
    content = stored.pdf.read()
    assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")


def test_demo_pdf_cross_reference_table_points_at_its_objects() -> None:
    pdf = demo_pdf("Plasma cell granuloma (lung) in a child")

    xref = int(pdf.rsplit(b"startxref\n", 1)[1].split()[0])
    assert pdf[xref:].startswith(b"xref\n0 6\n")
    offsets = [int(line[:10]) for line in pdf[xref:].split(b"\n")[3:8]]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(b"%d 0 obj" % number)
    assert b"(Plasma cell granuloma \\(lung\\) in a child)" in pdf


def test_lean_follows_the_title() -> None:
    assert lean("Inflammatory myofibroblastic tumor of the lung in children") == "include"
    assert lean("Inflammatory myofibroblastic tumor of the lung in adults") == "exclude"
    assert lean("IgG4-related disease of the orbit") == "exclude"
    assert lean("Erratum") == "neutral"


def test_demo_extraction_reproduces_the_reference_reviews_patients() -> None:
    output = run_demo()

    review = Review.objects.get(slug="demo")
    data = dataset(review)
    assert (len(data.rows), data.studies) == (405, 38)
    sites = Counter(row["site"] for row in data.rows)
    assert sites == {"Abdomen/pelvis": 233, "Thorax": 125, "Head/neck": 34, "Extremities": 13}
    non_operative = Counter(
        row["site"] for row in data.rows if row["management"] == "Non-operative"
    )
    assert non_operative == {"Abdomen/pelvis": 9, "Thorax": 4, "Head/neck": 5, "Extremities": 2}
    table_1 = Counter((row["margin"], row["recurrence"]) for row in data.rows if row["margin"])
    assert (table_1["Negative", "yes"], table_1["Negative", "no"]) == (14, 192)
    assert (table_1["Positive", "yes"], table_1["Positive", "no"]) == (54, 52)
    status = Counter(item.status for item in progress(review))
    assert status == {
        Progress.FINAL: 38,
        Progress.NEEDS_CONSENSUS: 2,
        Progress.IN_PROGRESS: 1,
        Progress.NOT_STARTED: 1,
    }
    assert "2 waiting for carol's consensus" in output


def test_demo_leaves_a_spreadsheet_waiting_on_its_preview(client) -> None:
    output = run_demo()

    found = re.search(r"waits on its preview, one mistyped age pointed at: (\S+)", output)
    assert found is not None
    client.force_login(User.objects.get(username="alice"))
    text = page_text(client.get(found.group(1)))
    assert "1 problem: nothing can be imported until every row is valid." in text
    assert "age_months seven “seven” is not a whole number." in text


def test_demo_analysis_reproduces_the_papers_site_comparison_and_table_1() -> None:
    output = run_demo()

    runs = {run.kind: run for run in AnalysisRun.objects.filter(review__slug="demo")}
    assert {run.status for run in runs.values()} == {RunStatus.SUCCEEDED}
    assert "Analysis: 7 runs on the final data" in output
    assert "Ranking: title/abstract queues ordered by relevance for alice (" in output
    head = re.search(
        r"the queue follows the review's question: (\d+) of its first 20 records passed "
        r"title/abstract screening \((\d+) of all (\d+) did\)",
        output,
    )
    assert head is not None
    hits, passed, total = (int(group) for group in head.groups())
    assert hits / 20 > passed / total  # better than taking records at random
    sites = runs[AnalysisKind.CROSSTAB].result["tables"][0]
    assert sites["counts"] == [[224, 9], [121, 4], [29, 5], [11, 2]]
    # the paper: "p=0.04" by the likelihood-ratio test
    assert (sites["reported_test"], sites["reported_p_formatted"]) == ("likelihood_ratio", "0.043")
    recurrence = next(
        table
        for table in runs[AnalysisKind.RISK_FACTORS].result["tables"]
        if table.get("col", {}).get("key") == "recurrence"
    )
    assert recurrence["row_levels"] == ["Negative", "Positive"]
    assert recurrence["counts"] == [[14, 192], [54, 52]]  # Table 1: 14 (6.8%) vs 54 (51.0%)
    assert recurrence["reported_p_formatted"] == "<0.0001"


def test_demo_pools_the_rates_and_the_margin_odds_ratio_across_the_final_studies() -> None:
    output = run_demo()

    assert "pooled recurrence, reoperation and death rates across the final studies" in output
    pooled = {
        run.result["tables"][0]["title"]: run.result["tables"][0]
        for run in AnalysisRun.objects.filter(
            review__slug="demo",
            kind__in=[AnalysisKind.POOLED_PROPORTION, AnalysisKind.POOLED_RATIO],
            status=RunStatus.SUCCEEDED,
        )
    }
    assert sorted(pooled) == [
        "Outcome: Died of disease",
        "Recurrence: Yes",
        "Recurrence: Yes by Margin at primary resection (Positive vs Negative)",
        "Reoperation: Yes",
    ]
    recurrence = pooled["Recurrence: Yes"]["result"]
    # 38 final studies, all 405 patients with recurrence reported, each recurrence counted
    assert (recurrence["k"], recurrence["n"], recurrence["method"]) == (38, 405, "glmm")
    rows = dataset(Review.objects.get(slug="demo")).rows
    recurred = sum(row["recurrence"] == "yes" for row in rows)
    assert sum(s["events"] for s in recurrence["studies"]) == recurred
    assert recurrence["ci_low"] < recurrence["estimate"] < recurrence["ci_high"]
    assert recurrence["pi_low"] <= recurrence["ci_low"]
    died = pooled["Outcome: Died of disease"]["result"]
    assert 0.03 < died["estimate"] < 0.12
    margins = pooled["Recurrence: Yes by Margin at primary resection (Positive vs Negative)"]
    # Table 1's patients (54 of 106 recurred with positive margins, 14 of 206 with
    # negative ones), within the studies that have patients in both groups
    studies = margins["result"]["studies"]
    pooled_studies = {s["label"] for s in studies}
    within = [row for row in rows if row["study"] in pooled_studies]
    for group, events in (("Positive", "events"), ("Negative", "events_2")):
        recurred = sum(r["margin"] == group and r["recurrence"] == "yes" for r in within)
        assert sum(s[events] for s in studies) == recurred
    assert sum(s["events"] for s in studies) <= 54 and sum(s["events_2"] for s in studies) <= 14
    assert margins["result"]["method"] == "mh" and margins["result"]["estimate"] > 5
    assert all("no patient in the group" in item["reason"] for item in margins["left_out"])


def test_demo_prints_its_summary_and_nothing_of_the_tasks_it_ran(
    caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks
) -> None:
    """The background jobs run in process (no broker); what a newcomer reads is the
    summary, not Celery's "Task … succeeded in …" lines."""
    errors = StringIO()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        out = StringIO()
        call_command("demo", password="demo-pass-1", stdout=out, stderr=errors)

    assert callbacks, "the demo enqueued its background jobs, run eagerly"
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("pubmed-2024-02-29.nbib: ")
    assert "Demo review ready: /reviews/demo/" in lines
    assert not [line for line in lines if "succeeded in" in line]
    assert errors.getvalue() == ""
    logged = [record.getMessage() for record in caplog.records if record.levelno < 40]
    assert not [m for m in logged if "succeeded in" in m or "hostname" in m], logged


def test_demo_has_an_invitation_waiting_whose_printed_link_works(client) -> None:
    import re

    from django.urls import reverse

    output = run_demo()

    review = Review.objects.get(slug="demo")
    [invitation] = review.invitations.all()
    assert (invitation.email, invitation.role, invitation.is_pending) == (
        "dana@example.org",
        Role.REVIEWER,
        True,
    )
    link = re.search(r"Its link, which makes dana's account and joins the review: (\S+)", output)
    assert link
    client.force_login(User.objects.get(username="carol"))
    response = client.get(reverse("member-list", args=["demo"]))
    assert response.status_code == 200
    members = response.content.decode()
    # the link printed is the one listed: it is signed without a moving timestamp
    assert "dana@example.org" in members and link.group(1) in members
    client.logout()
    page = client.get(link.group(1))
    assert "invites <strong>dana@example.org</strong>" in page.content.decode()


def test_demo_appraises_its_case_series_with_jbi_two_waiting_for_carol(client) -> None:
    from extraction.appraisal.selectors import Progress as Appraised
    from extraction.appraisal.selectors import agreement_by_domain, final_copies
    from extraction.appraisal.selectors import progress as appraisal_progress

    output = run_demo()

    review = Review.objects.get(slug="demo")
    rows = appraisal_progress(review)
    assert len(rows) == 42
    assert {row.tool.slug for row in rows if row.tool} == {"jbi-case-series"}
    assert {row.design for row in rows} == {"case_series"}
    assert Counter(row.status for row in rows) == {
        Appraised.FINAL: 40,
        Appraised.NEEDS_CONSENSUS: 2,
    }
    assert "Risk of bias: 42 case series appraised with the JBI checklist" in output
    # a realistic spread: reporting mostly "yes", consecutive inclusion often unclear
    final = final_copies(review)
    q1 = Counter(row.judged.level_of("Q1") for row in final)
    q4 = Counter(row.judged.level_of("Q4") for row in final)
    assert q1["low"] > 25 and q4["some"] > 10
    assert len({row.judged.overall for row in final}) == 3  # include, seek info, exclude
    kappas = {a.key: a.result.kappa for a in agreement_by_domain(review)}
    assert kappas["overall"] is not None and 0.3 < min(k for k in kappas.values() if k) < 1
    client.force_login(User.objects.get(username="carol"))
    text = client.get("/reviews/demo/extraction/appraisal/results/").content.decode()
    assert "JBI critical appraisal checklist for case series" in text
    assert "(40 studies)" in text


def test_demo_has_title_abstract_reasons_and_labels() -> None:
    out = run_demo()

    review = Review.objects.get(slug="demo")
    with_reason = review.decisions.filter(stage="ta", choice="exclude").exclude(reason=None)
    assert with_reason.count() >= 5
    assert set(with_reason.values_list("reviewer__username", flat=True)) == {"alice"}
    assert review.labels == ["case series", "check the age range", "pathology images"]
    labels = set(review.record_labels.values_list("name", "added_by__username"))
    assert ("case series", "bob") in labels and ("ask carol", "bob") in labels
    assert any(user == "alice" for _, user in labels)
    assert "carry labels (case series, check the age range, pathology images" in out
