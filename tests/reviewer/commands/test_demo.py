"""`manage.py demo`: a real review a newcomer can log into at once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from reviewer.demo.records import CERTAIN_DUPLICATES, EMBASE_RECORDS, PUBMED_RECORDS
from reviewer.models import DedupStatus, PairStatus, Record, Review, Role, User
from reviewer.selectors import pending_duplicate_pairs

pytestmark = pytest.mark.django_db


def run_demo() -> str:
    out = StringIO()
    call_command("demo", password="demo-pass-1", stdout=out)
    return out.getvalue()


def test_demo_builds_a_review_with_three_users_and_two_database_searches() -> None:
    output = run_demo()

    review = Review.objects.get(slug="demo")
    roles = {m.user.username: m.role for m in review.memberships.select_related("user")}
    assert roles == {"carol": Role.OWNER, "alice": Role.REVIEWER, "bob": Role.REVIEWER}
    assert sorted(review.sources.values_list("name", flat=True)) == ["Embase", "PubMed"]
    by_source = {s.name: s.records.count() for s in review.sources.all()}
    assert by_source == {"PubMed": PUBMED_RECORDS, "Embase": EMBASE_RECORDS}
    assert review.exclusion_reasons.count() >= 5
    assert "alice" in output and "demo-pass-1" in output
    assert User.objects.get(username="bob").check_password("demo-pass-1")


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
    assert Record.objects.filter(review__slug="demo").count() == PUBMED_RECORDS + EMBASE_RECORDS


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
