"""The dual copy written once (`extraction.dual`): extraction copies and appraisals obey
the same rules. Each test runs on both kinds, so a rule that one kind bends fails here.

Two rules used to differ: an assessor could not reopen her appraisal once the consensus
was *started* (an extractor could until it was *final*), and a senior who keeps one
extraction copy could reopen her colleague's, which she may not even open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.urls import resolve, reverse

from extraction.appraisal.models import Appraisal
from extraction.dual import rules
from extraction.dual.models import CopyStatus, DualCopy
from extraction.dual.selectors import study_copies
from extraction.models import Extraction
from reviewer.archive import layout
from reviewer.models import Review, Study, User
from tests.extraction.helpers import JBI_ALL_YES, appraise, case_series_form, fill, make_study
from tests.factories import page_text

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[DualCopy]
    make: Callable[[Study, User | None, bool], Any]
    reopen_url: str

    def reopen(self, client: Any, review: Review, copy: DualCopy) -> Any:
        return client.post(reverse(self.reopen_url, args=[review.slug, copy.pk]), follow=True)


def _extraction(study: Study, user: User | None, done: bool) -> Extraction:
    if not study.review.extraction_fields.exists():
        case_series_form(study.review)
    return fill(study, user, study_values={"country": "Spain"}, done=done)


def _appraisal(study: Study, user: User | None, done: bool) -> Appraisal:
    appraisal: Appraisal = appraise(study, user, JBI_ALL_YES, done=done)
    return appraisal


KINDS = [
    Kind("extraction", Extraction, _extraction, "extraction-reopen"),
    Kind("appraisal", Appraisal, _appraisal, "appraisal-reopen"),
]


@pytest.fixture(params=KINDS, ids=lambda kind: kind.name)
def kind(request: pytest.FixtureRequest) -> Kind:
    kind: Kind = request.param
    return kind


def _status(copy: DualCopy) -> str:
    copy.refresh_from_db()
    return copy.status


def test_a_persons_copy_reopens_while_the_consensus_is_open(client, team, kind):
    study = make_study(team.review)
    mine = kind.make(study, team.reviewer, True)
    kind.make(study, team.senior, True)
    kind.make(study, None, False)
    client.force_login(team.reviewer)

    page = page_text(kind.reopen(client, team.review, mine))

    assert "Reopened for changes." in page
    assert _status(mine) == CopyStatus.IN_PROGRESS


def test_a_persons_copy_stays_done_while_the_consensus_is_final(client, team, kind):
    study = make_study(team.review)
    mine = kind.make(study, team.reviewer, True)
    kind.make(study, team.senior, True)
    kind.make(study, None, True)
    client.force_login(team.reviewer)

    page = page_text(kind.reopen(client, team.review, mine))

    assert "The consensus of this study is final. A senior reopens it first." in page
    assert _status(mine) == CopyStatus.DONE


def test_a_senior_who_keeps_a_copy_cannot_reopen_her_colleagues(client, team, kind):
    study = make_study(team.review)
    theirs = kind.make(study, team.reviewer, True)
    kind.make(study, team.senior, True)
    client.force_login(team.senior)

    response = kind.reopen(client, team.review, theirs)

    assert response.status_code == 404
    assert _status(theirs) == CopyStatus.DONE


def test_a_senior_who_keeps_no_copy_reopens_a_done_copy(client, team, kind):
    study = make_study(team.review)
    theirs = kind.make(study, team.reviewer, True)
    kind.make(study, team.owner, True)
    client.force_login(team.senior)

    page = page_text(kind.reopen(client, team.review, theirs))

    assert "Reopened for changes." in page
    assert _status(theirs) == CopyStatus.IN_PROGRESS


def test_one_copy_per_person_and_one_consensus_per_study(team, kind):
    study = make_study(team.review)
    kind.make(study, team.reviewer, False)
    kind.make(study, None, False)

    for person in (team.reviewer, None):
        with pytest.raises(IntegrityError), transaction.atomic():
            kind.make(study, person, False)
    assert kind.model._default_manager.filter(study=study).count() == 2


def test_a_studys_copies_are_each_persons_and_the_consensus_and_no_other_studys(team, kind):
    study, other = make_study(team.review, "Coffin 2007"), make_study(team.review, "Lee 2010")
    mine = kind.make(study, team.reviewer, True)
    theirs = kind.make(study, team.senior, True)
    consensus = kind.make(study, None, False)
    kind.make(other, team.reviewer, False)

    copies = study_copies(kind.model, study, related=(kind.model.person_field,))

    assert sorted(copy.pk for copy in copies) == sorted([mine.pk, theirs.pk, consensus.pk])
    assert rules.split(copies) == ([mine, theirs], consensus)


def test_the_constraints_and_archived_columns_keep_their_names():
    """The shared base changed neither: the database and the archives stay as they were
    (the order of the columns in the archive follows the base's fields first)."""
    assert [c.name for c in Extraction._meta.constraints] == [
        "extraction_one_per_extractor",
        "extraction_one_consensus",
    ]
    assert [c.name for c in Appraisal._meta.constraints] == [
        "appraisal_one_per_assessor",
        "appraisal_one_consensus",
    ]
    assert {c.name for c in layout.columns("extraction.Extraction")} == {
        "id", "review", "study", "extractor", "status", "values", "updated_by", "updated_at",
    }  # fmt: skip
    assert {c.name for c in layout.columns("extraction.Appraisal")} == {
        "id", "review", "study", "assessor", "tool", "status", "answers", "judgements",
        "updated_by", "updated_at",
    }  # fmt: skip


#: Each kind's comparison pages, as their URLs were before `dual.page_views` built the views.
COMPARISON_URLS = {
    "extraction-compare": ("/reviews/r/extraction/studies/7/compare/", "GET", "extraction_compare"),
    "extraction-consensus-start": (
        "/reviews/r/extraction/studies/7/compare/start/",
        "POST",
        "extraction_start",
    ),
    "extraction-take": ("/reviews/r/extraction/copies/7/take/", "POST", "extraction_take"),
    "appraisal-compare": (
        "/reviews/r/extraction/appraisal/studies/7/compare/",
        "GET",
        "appraisal_compare",
    ),
    "appraisal-consensus-start": (
        "/reviews/r/extraction/appraisal/studies/7/compare/start/",
        "POST",
        "appraisal_start",
    ),
    "appraisal-take": ("/reviews/r/extraction/appraisal/7/take/", "POST", "appraisal_take"),
}


@pytest.mark.parametrize("name", sorted(COMPARISON_URLS))
def test_each_kinds_comparison_views_keep_their_urls_and_methods(client, team, name):
    path, method, view_name = COMPARISON_URLS[name]
    assert reverse(name, kwargs={"slug": "r", "pk": 7}) == path
    match = resolve(path)
    assert (match.url_name, match.kwargs, match.func.__name__) == (
        name,
        {"slug": "r", "pk": 7},
        view_name,
    )
    client.force_login(team.senior)
    url = reverse(name, kwargs={"slug": team.review.slug, "pk": 7})

    refused = client.post(url) if method == "GET" else client.get(url)

    assert refused.status_code == 405
    assert refused["Allow"] == method
