"""`manage.py dedupe`: runs de-duplication over a review and prints what it found."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from reviewer.models import DedupJob, Record
from tests.factories import make_review, make_source, make_user
from tests.reviewer.dedup_cases import (
    MAYBE_LEFT,
    MAYBE_RIGHT,
    PAPER,
    PAPER_ELSEWHERE,
    UNRELATED,
    add,
)

pytestmark = pytest.mark.django_db


def dedupe(*args: str) -> str:
    out = StringIO()
    call_command("dedupe", *args, stdout=out)
    return out.getvalue()


def test_prints_certain_possible_and_distinct_counts() -> None:
    owner = make_user("carol")
    review = make_review(owner=owner, slug="imt")
    pubmed, embase = make_source(review, "PubMed"), make_source(review, "Embase")
    add(review, pubmed, PAPER)
    duplicate = add(review, embase, PAPER_ELSEWHERE)
    add(review, pubmed, MAYBE_LEFT)
    add(review, embase, MAYBE_RIGHT)
    add(review, pubmed, UNRELATED)

    output = dedupe("--review", "imt")

    assert "5 records" in output
    assert "certain:  1 duplicates linked to 1 kept records (1 newly linked)" in output
    assert "possible: 1 pairs waiting for a decision (2 records in no group yet)" in output
    assert "distinct: 1 records with no duplicate" in output
    assert "4 records remain for screening" in output
    assert Record.objects.get(pk=duplicate.pk).duplicate_of is not None
    assert DedupJob.objects.get().created_by == owner


def test_a_second_run_links_nothing_new() -> None:
    review = make_review(owner=make_user("carol"), slug="imt")
    source = make_source(review, "PubMed")
    add(review, source, PAPER)
    add(review, source, PAPER_ELSEWHERE)
    dedupe("--review", "imt")

    output = dedupe("--review", "imt")

    assert "(0 newly linked)" in output
    assert "certain:  1 duplicates" in output


def test_unknown_review_or_user_is_an_error() -> None:
    make_review(owner=make_user("carol"), slug="imt")

    with pytest.raises(CommandError, match="No review with the slug “nope”"):
        dedupe("--review", "nope")
    with pytest.raises(CommandError, match="No user called “zed”"):
        dedupe("--review", "imt", "--user", "zed")


@pytest.mark.django_db(transaction=True)  # the check runs when the import commits
def test_import_search_reports_the_duplicates_it_brought(tmp_path: Path) -> None:
    review = make_review(owner=make_user("carol"), slug="imt")
    add(review, make_source(review, "PubMed"), PAPER)
    export = tmp_path / "embase.ris"
    export.write_text(
        "TY  - JOUR\nTI  - Inflammatory myofibroblastic tumor of the bladder in children: "
        "a case series.\nAU  - Alaggio, R.\nPY  - 2010\nJO  - J Pediatr Surg\nVL  - 45\n"
        "SP  - 532\nEP  - 8\nDO  - 10.1016/J.JPEDSURG.2009.08.011\nER  - \n",
        encoding="utf-8",
    )
    err = StringIO()

    call_command(
        "import_search", str(export), review="imt", database="Embase", stdout=StringIO(), stderr=err
    )

    assert "1 linked as certain duplicates, 0 possible pairs" in err.getvalue()
