"""The RoB 2 algorithms (extraction.appraisal.rob2) against the published mapping.

Source: Higgins JPT, Savović J, Page MJ, Elbers RG, Sterne JAC. Revised Cochrane
risk-of-bias tool for randomized trials (RoB 2), full guidance document, 22 August 2019
(riskofbias.info), the "algorithm for suggested judgement" of each domain (individually
randomised parallel-group trials, effect of assignment to intervention), and its
"criteria for the overall judgement" table; Sterne JAC et al., BMJ 2019;366:l4898, Table 2.

Each row is an answer pattern and the judgement the guidance's flowchart reaches; every
leaf of every flowchart appears at least once, and "Y" and "PY" (and "N" and "PN") are
interchangeable wherever the flowchart groups them.
"""

from __future__ import annotations

import itertools

import pytest

from extraction.appraisal import rob2
from extraction.appraisal.tools import shipped

L, S, H = "low", "some", "high"

# Domain 1: 1.2 concealed? -> 1.1 random? -> 1.3 baseline imbalance suggests a problem?
DOMAIN_1 = [
    ({"1.1": "y", "1.2": "y", "1.3": "n"}, L),
    ({"1.1": "ni", "1.2": "py", "1.3": "ni"}, L),
    ({"1.1": "py", "1.2": "y", "1.3": "pn"}, L),
    ({"1.1": "y", "1.2": "y", "1.3": "y"}, S),
    ({"1.1": "ni", "1.2": "py", "1.3": "py"}, S),
    ({"1.1": "n", "1.2": "y", "1.3": "n"}, S),
    ({"1.1": "pn", "1.2": "y", "1.3": "y"}, S),
    ({"1.1": "y", "1.2": "ni", "1.3": "n"}, S),
    ({"1.1": "y", "1.2": "ni", "1.3": "ni"}, S),
    ({"1.1": "y", "1.2": "ni", "1.3": "y"}, H),
    ({"1.1": "n", "1.2": "ni", "1.3": "py"}, H),
    ({"1.1": "y", "1.2": "n", "1.3": "n"}, H),
    ({"1.1": "y", "1.2": "pn", "1.3": "ni"}, H),
]

# Domain 2, part 1 (2.1-2.5) and part 2 (2.6-2.7); the domain: Low if both parts are Low,
# High if either is High, Some concerns otherwise.
_BLIND = {"2.1": "n", "2.2": "pn"}
_APPROPRIATE = {"2.6": "y"}
DOMAIN_2 = [
    ({**_BLIND, **_APPROPRIATE}, L),
    ({"2.1": "y", "2.2": "n", "2.3": "n", **_APPROPRIATE}, L),
    ({"2.1": "ni", "2.2": "n", "2.3": "pn", "2.6": "py"}, L),
    ({"2.1": "n", "2.2": "y", "2.3": "ni", **_APPROPRIATE}, S),
    ({"2.1": "y", "2.2": "y", "2.3": "y", "2.4": "n", **_APPROPRIATE}, S),
    ({"2.1": "y", "2.2": "y", "2.3": "py", "2.4": "y", "2.5": "y", **_APPROPRIATE}, S),
    ({"2.1": "y", "2.2": "y", "2.3": "y", "2.4": "ni", "2.5": "py", **_APPROPRIATE}, S),
    ({"2.1": "y", "2.2": "y", "2.3": "y", "2.4": "y", "2.5": "n", **_APPROPRIATE}, H),
    ({"2.1": "y", "2.2": "y", "2.3": "y", "2.4": "py", "2.5": "ni", **_APPROPRIATE}, H),
    ({**_BLIND, "2.6": "n", "2.7": "n"}, S),
    ({**_BLIND, "2.6": "ni", "2.7": "pn"}, S),
    ({**_BLIND, "2.6": "pn", "2.7": "y"}, H),
    ({**_BLIND, "2.6": "n", "2.7": "ni"}, H),
    ({"2.1": "y", "2.2": "y", "2.3": "ni", "2.6": "n", "2.7": "n"}, S),
    ({"2.1": "y", "2.2": "y", "2.3": "y", "2.4": "y", "2.5": "n", "2.6": "n", "2.7": "n"}, H),
]

# Domain 3: 3.1 data for (nearly) all? -> 3.2 evidence of no bias? -> 3.3 could depend on
# true value? -> 3.4 likely that it did?
DOMAIN_3 = [
    ({"3.1": "y"}, L),
    ({"3.1": "py"}, L),
    ({"3.1": "n", "3.2": "y"}, L),
    ({"3.1": "ni", "3.2": "py"}, L),
    ({"3.1": "n", "3.2": "n", "3.3": "n"}, L),
    ({"3.1": "pn", "3.2": "pn", "3.3": "pn"}, L),
    ({"3.1": "n", "3.2": "n", "3.3": "y", "3.4": "n"}, S),
    ({"3.1": "n", "3.2": "n", "3.3": "ni", "3.4": "pn"}, S),
    ({"3.1": "n", "3.2": "n", "3.3": "y", "3.4": "y"}, H),
    ({"3.1": "n", "3.2": "n", "3.3": "py", "3.4": "ni"}, H),
]

# Domain 4: 4.1 inappropriate method? 4.2 differed between groups? then 4.3 assessors
# aware? 4.4 could knowledge influence? 4.5 likely that it did? With 4.2 "no information"
# the path that would end Low ends Some concerns.
DOMAIN_4 = [
    ({"4.1": "y", "4.2": "n"}, H),
    ({"4.1": "py", "4.2": "ni"}, H),
    ({"4.1": "n", "4.2": "y"}, H),
    ({"4.1": "ni", "4.2": "py"}, H),
    ({"4.1": "n", "4.2": "n", "4.3": "n"}, L),
    ({"4.1": "ni", "4.2": "pn", "4.3": "pn"}, L),
    ({"4.1": "n", "4.2": "n", "4.3": "y", "4.4": "n"}, L),
    ({"4.1": "n", "4.2": "n", "4.3": "ni", "4.4": "pn"}, L),
    ({"4.1": "n", "4.2": "n", "4.3": "y", "4.4": "y", "4.5": "n"}, S),
    ({"4.1": "n", "4.2": "n", "4.3": "y", "4.4": "ni", "4.5": "y"}, H),
    ({"4.1": "n", "4.2": "n", "4.3": "y", "4.4": "y", "4.5": "ni"}, H),
    ({"4.1": "n", "4.2": "ni", "4.3": "n"}, S),
    ({"4.1": "n", "4.2": "ni", "4.3": "y", "4.4": "n"}, S),
    ({"4.1": "n", "4.2": "ni", "4.3": "y", "4.4": "y", "4.5": "pn"}, S),
    ({"4.1": "n", "4.2": "ni", "4.3": "py", "4.4": "py", "4.5": "py"}, H),
]

# Domain 5: 5.2 / 5.3 selected from several measurements / analyses? -> 5.1 pre-specified?
DOMAIN_5 = [
    ({"5.1": "y", "5.2": "n", "5.3": "n"}, L),
    ({"5.1": "py", "5.2": "pn", "5.3": "n"}, L),
    ({"5.1": "n", "5.2": "n", "5.3": "n"}, S),
    ({"5.1": "ni", "5.2": "pn", "5.3": "pn"}, S),
    ({"5.1": "y", "5.2": "ni", "5.3": "n"}, S),
    ({"5.1": "y", "5.2": "n", "5.3": "ni"}, S),
    ({"5.1": "y", "5.2": "ni", "5.3": "ni"}, S),
    ({"5.1": "y", "5.2": "y", "5.3": "n"}, H),
    ({"5.1": "y", "5.2": "n", "5.3": "py"}, H),
    ({"5.1": "n", "5.2": "ni", "5.3": "y"}, H),
]

TABLE = [
    *[("rob2-d1", answers, judgement) for answers, judgement in DOMAIN_1],
    *[("rob2-d2", answers, judgement) for answers, judgement in DOMAIN_2],
    *[("rob2-d3", answers, judgement) for answers, judgement in DOMAIN_3],
    *[("rob2-d4", answers, judgement) for answers, judgement in DOMAIN_4],
    *[("rob2-d5", answers, judgement) for answers, judgement in DOMAIN_5],
]


@pytest.mark.parametrize(("algorithm", "answers", "judgement"), TABLE)
def test_the_algorithm_gives_the_guidances_judgement(algorithm, answers, judgement):
    assert rob2.suggest(algorithm, answers) == judgement


@pytest.mark.parametrize("domain", ["rob2-d1", "rob2-d2", "rob2-d3", "rob2-d4", "rob2-d5"])
def test_every_judgement_is_reached_in_every_domain(domain):
    assert {j for a, answers, j in TABLE if a == domain} == {L, S, H}


def test_a_question_the_path_needs_left_open_gives_no_suggestion():
    assert rob2.suggest("rob2-d1", {"1.2": "y", "1.3": "n"}) is None
    assert rob2.suggest("rob2-d3", {"3.1": "n"}) is None
    # a question off the path may stay open
    assert rob2.suggest("rob2-d1", {"1.2": "n"}) == H
    assert rob2.suggest("rob2-d3", {"3.1": "y"}) == L


def test_probably_answers_count_as_their_definite_ones_everywhere():
    swap = {"y": "py", "py": "y", "n": "pn", "pn": "n"}
    for algorithm, answers, judgement in TABLE:
        for keys in itertools.combinations(sorted(answers), 1):
            changed = {k: (swap.get(v, v) if k in keys else v) for k, v in answers.items()}
            assert rob2.suggest(algorithm, changed) == judgement, (algorithm, changed)


@pytest.mark.parametrize(
    ("domains", "overall"),
    [
        ([L, L, L, L, L], L),
        ([L, S, L, L, L], S),
        ([S, S, S, S, S], S),
        ([L, L, H, L, L], H),
        ([S, H, S, L, L], H),
    ],
)
def test_the_overall_judgement_follows_the_guidances_criteria(domains, overall):
    assert rob2.overall(domains) == overall


def test_the_shipped_tool_uses_these_algorithms_for_its_five_domains():
    tool = shipped()["rob2"]
    assert [d.judge for d in tool.domains] == [f"rob2-d{n}" for n in range(1, 6)]
    needed = {q.key for d in tool.domains for q in d.questions}
    assert needed >= {k for _, answers, _ in TABLE for k in answers}
