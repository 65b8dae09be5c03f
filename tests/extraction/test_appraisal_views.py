"""Risk-of-bias pages (extraction.appraisal.views): permissions and behaviour."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from extraction.appraisal.models import Appraisal, CustomTool, StudyDesign
from reviewer.models import Role
from tests.extraction.helpers import JBI_ALL_YES, appraise, make_study
from tests.factories import Endpoint, add_member, make_user, page_text
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db


def _tool(review) -> CustomTool:
    """A tool of this review only, so a URL naming it points at this review's results."""
    return CustomTool.objects.create(
        review=review,
        slug=f"t{review.pk}",
        created_by=review.created_by,
        definition={
            "slug": f"t{review.pk}",
            "name": "Our checklist",
            "levels": {"low": "Fine", "high": "Flawed"},
            "overall_judge": "worst",
            "domains": [
                {
                    "key": "A",
                    "name": "Sampling",
                    "judge": "answer",
                    "map": {"y": "low", "n": "high"},
                    "questions": [
                        {
                            "key": "a1",
                            "text": "Consecutive sampling?",
                            "options": [{"key": "y", "label": "Yes"}, {"key": "n", "label": "No"}],
                        }
                    ],
                }
            ],
        },
    )


def children(review):
    """Two assessors (reviewers) who appraised two studies: the first study's consensus is
    final (with the review's own tool), the second's consensus is open (JBI)."""
    tool = f"custom-{_tool(review).slug}"
    first = add_member(review, make_user(), Role.REVIEWER).user
    second = add_member(review, make_user(), Role.REVIEWER).user
    final = make_study(review, "Final 2001")
    for person in (first, second):
        appraise(final, person, {"a1": "y"}, overall="", done=True, tool=tool)
    final_consensus = appraise(final, None, {"a1": "y"}, overall="", done=True, tool=tool)
    open_ = make_study(review, "Open 2002")
    appraise(open_, first, JBI_ALL_YES, done=True)
    appraise(open_, second, {**JBI_ALL_YES, "4": "unclear"}, done=True)
    consensus = appraise(open_, None, {k: v for k, v in JBI_ALL_YES.items() if k != "4"})
    return SimpleNamespace(
        tool=tool, final=final, final_consensus=final_consensus, study=open_, consensus=consensus
    )


def study(c):
    return {"pk": c.study.pk}


def consensus(c):
    return {"pk": c.consensus.pk}


def figure(c):
    return {"tool": c.tool, "what": "traffic-light", "fmt": "svg"}


ENDPOINTS = [
    Endpoint("appraisal-overview", "get", Role.REVIEWER, 200),
    Endpoint("appraisal-setup", "get", Role.OWNER, 200),
    Endpoint(
        "appraisal-setup",
        "post",
        Role.OWNER,
        302,
        data=lambda c: {"action": "tools", "default_design": "case_series"},
    ),
    Endpoint("appraisal-results", "get", Role.REVIEWER, 200),
    Endpoint("appraisal-download", "get", Role.REVIEWER, 200, figure),
    Endpoint("appraisal-study", "get", Role.REVIEWER, 200, study),
    Endpoint("appraisal-start", "post", Role.REVIEWER, 302, study),
    Endpoint("appraisal-design", "post", Role.SENIOR, 302, study, lambda c: {"design": "cohort"}),
    Endpoint("appraisal-compare", "get", Role.SENIOR, 200, study),
    Endpoint("appraisal-consensus-start", "post", Role.SENIOR, 302, study),
    Endpoint("appraisal-copy", "get", Role.REVIEWER, 200, consensus),
    Endpoint("appraisal-copy", "post", Role.SENIOR, 302, consensus),
    Endpoint("appraisal-reopen", "post", Role.SENIOR, 302, lambda c: {"pk": c.final_consensus.pk}),
    Endpoint(
        "appraisal-take",
        "post",
        Role.SENIOR,
        302,
        consensus,
        lambda c: {"side": "b", "kind": "question", "key": "4"},
    ),
]

WRONG_METHODS = [
    Endpoint("appraisal-overview", "post", Role.OWNER, 405),
    Endpoint("appraisal-results", "post", Role.OWNER, 405),
    Endpoint("appraisal-download", "post", Role.OWNER, 405, figure),
    Endpoint("appraisal-start", "get", Role.OWNER, 405, study),
    Endpoint("appraisal-take", "get", Role.OWNER, 405, consensus),
    Endpoint("appraisal-reopen", "get", Role.OWNER, 405, consensus),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)


def _url(name, review, **kwargs):
    return reverse(name, kwargs={"slug": review.slug, **kwargs})


# --- behaviour ---


def test_a_refused_take_leaves_the_consensus_as_it_was(client, team):
    c = children(team.review)
    client.force_login(team.reviewer)

    client.post(
        _url("appraisal-take", team.review, pk=c.consensus.pk),
        {"side": "b", "kind": "question", "key": "4"},
    )

    c.consensus.refresh_from_db()
    assert "4" not in c.consensus.answers


def test_a_senior_settles_a_disagreement_by_taking_a_side(client, team):
    c = children(team.review)
    client.force_login(team.senior)
    compare = _url("appraisal-compare", team.review, pk=c.study.pk)
    assert "1 disagreement" in page_text(client.get(compare))

    client.post(
        _url("appraisal-take", team.review, pk=c.consensus.pk),
        {"side": "b", "kind": "question", "key": "4"},
    )

    c.consensus.refresh_from_db()
    assert c.consensus.answers["4"]["a"] == "unclear"
    assert "included consecutively? Yes Unclear Unclear" in page_text(client.get(compare))


def test_appraisals_that_agree_are_said_to_agree_instead_of_an_empty_table(client, team):
    c = children(team.review)
    client.force_login(team.senior)

    text = page_text(client.get(_url("appraisal-compare", team.review, pk=c.final.pk)))

    assert "Final 2001: 0 disagreements" in text
    assert "The two appraisals agree on every answer and judgement." in text
    assert "Question A B" not in text


def test_the_reviewer_starts_an_appraisal_with_the_tool_of_the_studys_design(client, team):
    study_ = make_study(team.review, "Zhang 2019")
    client.force_login(team.reviewer)

    response = client.post(_url("appraisal-start", team.review, pk=study_.pk))

    mine = Appraisal.objects.get(study=study_, assessor=team.reviewer)
    assert mine.tool == "jbi-case-series"
    text = page_text(client.get(response["Location"]))
    assert "Were participants included consecutively?" in text
    assert "Zhang 2019 · your appraisal · JBI case series" in text


def test_the_senior_sets_a_design_and_the_next_appraisal_uses_its_tool(client, team):
    study_ = make_study(team.review, "Trial 2020")
    client.force_login(team.senior)
    client.post(_url("appraisal-design", team.review, pk=study_.pk), {"design": "rct"})
    assert StudyDesign.objects.get(study=study_).design == "rct"

    client.force_login(team.reviewer)
    client.post(_url("appraisal-start", team.review, pk=study_.pk))

    assert Appraisal.objects.get(study=study_, assessor=team.reviewer).tool == "rob2"


def test_saving_answers_shows_the_rob2_suggestion_and_marking_done_lists_whats_missing(
    client, team
):
    study_ = make_study(team.review, "Trial 2020")
    StudyDesign.objects.create(review=team.review, study=study_, design="rct", set_by=team.senior)
    client.force_login(team.reviewer)
    client.post(_url("appraisal-start", team.review, pk=study_.pk))
    mine = Appraisal.objects.get(study=study_, assessor=team.reviewer)
    url = _url("appraisal-copy", team.review, pk=mine.pk)

    client.post(url, {"q-1.1": "y", "q-1.2": "n", "q-1.3": "n", "n-1.2": "Open envelopes"})
    text = page_text(client.get(url))
    assert "D1 · Randomisation process" in text
    assert "Judgement: High suggested by the tool's algorithm" in text

    response = client.post(url, {"q-1.1": "y", "q-1.2": "n", "q-1.3": "n", "then": "done"})

    assert response.status_code == 400
    assert "2.1: answer the question." in page_text(response)
    mine.refresh_from_db()
    assert mine.status == "in_progress"
    assert mine.answers["1.2"] == {"a": "n", "note": ""}


def test_an_override_needs_a_reason(client, team):
    study_ = make_study(team.review, "Trial 2020")
    StudyDesign.objects.create(review=team.review, study=study_, design="rct", set_by=team.senior)
    mine = appraise(study_, team.reviewer, {}, overall="", tool="rob2")
    answers = {f"q-{k}": "n" for k in ("1.1", "1.2", "1.3", "2.1", "2.2", "2.6", "3.1")}
    answers.update({"q-1.1": "y", "q-2.6": "y", "q-3.1": "y", "q-4.1": "n", "q-4.2": "n"})
    answers.update({"q-4.3": "n", "q-5.1": "y", "q-5.2": "n", "q-5.3": "n", "j-D1": "low"})
    client.force_login(team.reviewer)

    response = client.post(
        _url("appraisal-copy", team.review, pk=mine.pk), {**answers, "then": "done"}
    )

    assert "Randomisation process: say why the judgement differs" in page_text(response)
    answers["r-D1"] = "Concealment was adequate in the trial protocol."
    client.post(_url("appraisal-copy", team.review, pk=mine.pk), {**answers, "then": "done"})
    mine.refresh_from_db()
    assert mine.status == "done"


def test_a_blinded_reviewer_sees_only_her_own_appraisal(client, team):
    c = children(team.review)
    client.force_login(team.reviewer)

    text = page_text(client.get(_url("appraisal-overview", team.review)))

    assert "Open 2002 Case series JBI case series Not started by you not you yet" in text
    assert "Agreement between assessors" not in text
    copy = Appraisal.objects.filter(study=c.study, assessor__isnull=False).first()
    assert client.get(_url("appraisal-copy", team.review, pk=copy.pk)).status_code == 404


def test_the_senior_sees_progress_and_kappa_per_domain(client, team):
    children(team.review)
    client.force_login(team.senior)

    text = page_text(client.get(_url("appraisal-overview", team.review)))

    assert "Open 2002 Case series JBI case series Needs consensus" in text
    assert "Agreement between assessors" in text
    assert "JBI case series Q4: Consecutive inclusion 1 0%" in text


def test_results_show_the_final_judgements_a_table_and_the_methods_sentence(client, team):
    children(team.review)
    client.force_login(team.reviewer)

    text = page_text(client.get(_url("appraisal-results", team.review)))

    assert "Our checklist (1 study)" in text
    assert "Final 2001 Fine Fine" in text
    assert "Two reviewers appraised each study independently" in text


def test_the_robvis_csv_has_a_row_per_study(client, team):
    c = children(team.review)
    client.force_login(team.senior)

    response = client.get(
        _url("appraisal-download", team.review, tool=c.tool, what="robvis", fmt="csv")
    )

    assert response.content.decode().splitlines() == [
        "Study,A,Overall,Weight",
        "Final 2001,Low,Low,1",
    ]
    assert "risk-of-bias" in response["Content-Disposition"]


def test_an_owner_builds_a_tool_and_bad_json_says_where(client, team):
    client.force_login(team.owner)
    url = _url("appraisal-setup", team.review)

    response = client.post(url, {"action": "custom", "definition": "{"}, follow=True)
    assert "not valid JSON: line 1" in page_text(response)

    definition = (
        '{"slug": "mine", "name": "Mine", "levels": {"low": "OK", "high": "Not OK"},'
        ' "domains": [{"key": "D1", "name": "One", "questions": [{"key": "q",'
        ' "text": "Fine?", "options": [{"key": "y", "label": "Yes"}]}]}]}'
    )
    response = client.post(url, {"action": "custom", "definition": definition}, follow=True)
    assert "Your tool is saved" in page_text(response)
    assert "Mine this review's own : 1 domain, 1 question." in page_text(response)


def test_the_overview_takes_as_many_queries_for_ten_studies_as_for_two(client, team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(_url("appraisal-overview", team.review))
        return len(captured)

    children(team.review)
    client.force_login(team.senior)
    queries()  # the first visit creates the review's appraisal settings
    few = queries()
    for n in range(8):
        study_ = make_study(team.review, f"More {n}")
        appraise(study_, team.reviewer, JBI_ALL_YES, done=True)
        appraise(study_, team.owner, JBI_ALL_YES, done=True)

    assert queries() == few


def test_robins_i_asks_for_each_domains_judgement_and_the_overall_is_the_worst(client, team):
    study_ = make_study(team.review, "Registry 2015")
    mine = appraise(study_, team.reviewer, {"1.1": "y"}, overall="", tool="robins-i")
    client.force_login(team.reviewer)
    url = _url("appraisal-copy", team.review, pk=mine.pk)

    judgements = {f"j-D{n}": "low" for n in range(1, 8)} | {"j-D1": "high", "r-D1": "No adjustment"}
    client.post(url, judgements)

    text = page_text(client.get(url))
    assert "D7 · Selection of the reported result" in text
    assert "Overall Suggested: Serious" in text


def test_newcastle_ottawa_shows_the_stars_each_domain_earned(client, team):
    study_ = make_study(team.review, "Cohort 2010")
    stars = {k: "star" for k in ("s1", "s2", "s3", "c1", "o1", "o2")}
    mine = appraise(
        study_,
        team.reviewer,
        stars | {"s4": "no", "c2": "no", "o3": "nd"},
        overall="",
        tool="nos-cohort",
    )
    client.force_login(team.reviewer)

    text = page_text(client.get(_url("appraisal-copy", team.review, pk=mine.pk)))

    assert "Judgement: Good (3 stars)" in text  # selection
    assert "Judgement: Good (1 star)" in text  # comparability
    assert "Overall Suggested: Good" in text
