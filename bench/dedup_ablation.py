"""What each de-duplication rule does on each labelled set: the engine with one rule off.

    python bench/dedup_ablation.py [DIR ...]

For every labelled set (default: all of ../shared/data/dedup/), and the hand-made hard cases
of tests/reviewer/dedup/hand_made_set.py, prints the certain band's
recall, false merges and questions for a person with the full engine and with each rule of
issue 14 switched off in turn, so bench/dedup_results.md can say what every rule changes on
every set. A rule is switched off by replacing its function for the run (bench only; the
app never does this).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reviewer.dedup import Band, deduplicate, engine, prepare, rules  # noqa: E402
from reviewer.dedup import compare as compare_module  # noqa: E402
from reviewer.dedup.benchmark import (  # noqa: E402
    labelled_set_dirs,
    load_labelled_set,
    pairwise_scores,
)
from tests.reviewer.dedup.hand_made_set import hand_made_set  # noqa: E402


@contextmanager
def _replaced(module: Any, name: str, value: Callable[..., Any]) -> Iterator[None]:
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


def _none(*args: Any, **kwargs: Any) -> None:
    return None


def _surname_only(left: Any, right: Any) -> tuple[bool, bool]:
    if compare_module._surnames_match(left.surname, right.surname):
        return True, compare_module._initials_compatible(left.initials, right.initials)
    return False, False


VARIANTS: list[tuple[str, Any, str, Callable[..., Any]]] = [
    ("rule 7 off (issue/page contradictions)", rules, "locator_contradictions", lambda *a: []),
    ("rule 7 issue-typo exception off", rules, "_issue_typo", lambda *a, **k: False),
    ("rule 8 off (generic titles)", prepare, "generic_title", lambda title: ""),
    (
        "rules 9-11 off (links on coordinates)",
        compare_module,
        "coordinate_link",
        lambda *a, **k: None,
    ),
    ("recurring-title guard off", engine, "_ambiguous_records", lambda *a: set()),
    ("rule 12 off (swapped words)", compare_module, "swapped_words", lambda *a: []),
    ("rule 13 off (one team's notice/abstract)", compare_module, "same_study_report", _none),
    ("rule 14 off (shifted coordinates)", rules, "shifted_coordinates", lambda *a: False),
    ("split-surname join off", compare_module, "_same_person", _surname_only),
]


def _row(name: str, label: str, records: list[Any], gold: list[Any]) -> None:
    result = deduplicate(records)
    scores = pairwise_scores(gold, result.clusters)
    questions = sum(1 for pair in result.pairs if pair.band is Band.POSSIBLE)
    print(
        f"{name:<20} {label:<42} {scores.recall:>7.4f} {len(scores.false_merges):>6} {questions:>9}"
    )


def main() -> None:
    shared = Path(os.environ.get("SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))
    folders = [Path(arg) for arg in sys.argv[1:]] or labelled_set_dirs(shared)
    if not folders:
        print(f"(no labelled sets found in {shared / 'dedup'}: hand-made cases only)")
    print(f"{'set':<20} {'engine':<42} {'recall':>7} {'false':>6} {'questions':>9}")
    sets = [load_labelled_set(folder) for folder in folders] + [hand_made_set()]
    for labelled in sets:
        _row(labelled.name, "full engine", labelled.records, labelled.gold_clusters)
        for label, module, attribute, value in VARIANTS:
            with _replaced(module, attribute, value):
                _row(labelled.name, label, labelled.records, labelled.gold_clusters)


if __name__ == "__main__":
    main()
