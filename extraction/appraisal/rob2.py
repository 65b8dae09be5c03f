"""The RoB 2 algorithms: signalling-question answers -> a domain's suggested judgement.

Written from the algorithms of the RoB 2 full guidance document (Higgins JPT, Savović J,
Page MJ, Elbers RG, Sterne JAC, 22 August 2019; individually randomised parallel-group
trials, effect of assignment to intervention), one function per domain. Answers are
"y", "py", "pn", "n", "ni" or "na" (or missing). A function returns "low", "some" or
"high", or None when a question the path needs is unanswered (the form then asks for it;
the assessor may still state a judgement and a reason). Pure functions, no Django.

The guidance's criteria, in short:

D1  1.2 N/PN -> High. 1.2 NI -> High if 1.3 Y/PY, else Some concerns. 1.2 Y/PY -> Low if
    1.1 is Y/PY/NI and 1.3 N/PN/NI; Some concerns otherwise.
D2  Part 1: 2.1 and 2.2 both N/PN -> Low; else 2.3 N/PN -> Low, NI -> Some concerns,
    Y/PY -> 2.4 N/PN -> Some concerns, else 2.5 Y/PY -> Some concerns, N/PN/NI -> High.
    Part 2: 2.6 Y/PY -> Low; else 2.7 N/PN -> Some concerns, Y/PY/NI -> High.
    Domain: Low if both parts Low; High if either is High; Some concerns otherwise.
D3  3.1 Y/PY -> Low; else 3.2 Y/PY -> Low; else 3.3 N/PN -> Low; else 3.4 N/PN -> Some
    concerns, Y/PY/NI -> High.
D4  4.1 Y/PY -> High; 4.2 Y/PY -> High. With 4.2 N/PN: 4.3 N/PN -> Low; 4.4 N/PN -> Low;
    4.5 N/PN -> Some concerns; else High. With 4.2 NI the same path, but where it would end
    Low it ends Some concerns.
D5  5.2 or 5.3 Y/PY -> High; either NI (neither Y/PY) -> Some concerns; both N/PN -> 5.1
    Y/PY -> Low, N/PN/NI -> Some concerns.
Overall: Low if every domain is Low; High if any is High; Some concerns otherwise (the
guidance lets reviewers judge High for several Some-concerns domains: an override).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

LOW, SOME, HIGH = "low", "some", "high"
YES = frozenset({"y", "py"})
NO = frozenset({"n", "pn"})
NI = "ni"

Answers = Mapping[str, str]


class _Missing(Exception):
    """A question on the algorithm's path is unanswered."""


def _a(answers: Answers, key: str) -> str:
    value = answers.get(key) or ""
    if value not in YES | NO | {NI, "na"}:
        raise _Missing(key)
    return value


def domain1(answers: Answers) -> str:
    concealed = _a(answers, "1.2")
    if concealed in NO:
        return HIGH
    if concealed not in YES:  # no information about concealment
        return HIGH if _a(answers, "1.3") in YES else SOME
    if _a(answers, "1.1") in NO:
        return SOME
    return SOME if _a(answers, "1.3") in YES else LOW


def _domain2_part1(answers: Answers) -> str:
    if _a(answers, "2.1") in NO and _a(answers, "2.2") in NO:
        return LOW
    context = _a(answers, "2.3")
    if context in NO:
        return LOW
    if context not in YES:
        return SOME
    if _a(answers, "2.4") in NO:
        return SOME
    return SOME if _a(answers, "2.5") in YES else HIGH


def _domain2_part2(answers: Answers) -> str:
    if _a(answers, "2.6") in YES:
        return LOW
    return SOME if _a(answers, "2.7") in NO else HIGH


def domain2(answers: Answers) -> str:
    parts = {_domain2_part1(answers), _domain2_part2(answers)}
    if HIGH in parts:
        return HIGH
    return LOW if parts == {LOW} else SOME


def domain3(answers: Answers) -> str:
    if _a(answers, "3.1") in YES:
        return LOW
    if _a(answers, "3.2") in YES:
        return LOW
    if _a(answers, "3.3") in NO:
        return LOW
    return SOME if _a(answers, "3.4") in NO else HIGH


def domain4(answers: Answers) -> str:
    if _a(answers, "4.1") in YES:
        return HIGH
    differ = _a(answers, "4.2")
    if differ in YES:
        return HIGH
    at_best = SOME if differ not in NO else LOW  # 4.2 NI: no path ends Low
    if _a(answers, "4.3") in NO:
        return at_best
    if _a(answers, "4.4") in NO:
        return at_best
    return SOME if _a(answers, "4.5") in NO else HIGH


def domain5(answers: Answers) -> str:
    selected = {_a(answers, "5.2"), _a(answers, "5.3")}
    if selected & YES:
        return HIGH
    if not selected <= NO:
        return SOME
    return LOW if _a(answers, "5.1") in YES else SOME


def overall(judgements: list[str]) -> str:
    if HIGH in judgements:
        return HIGH
    return LOW if all(j == LOW for j in judgements) else SOME


ALGORITHMS: dict[str, Callable[[Answers], str]] = {
    "rob2-d1": domain1,
    "rob2-d2": domain2,
    "rob2-d3": domain3,
    "rob2-d4": domain4,
    "rob2-d5": domain5,
}


def suggest(algorithm: str, answers: Answers) -> str | None:
    """The domain's suggested judgement, or None while a question on its path is open."""
    try:
        return ALGORITHMS[algorithm](answers)
    except _Missing:
        return None
