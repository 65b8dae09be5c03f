"""De-duplication accuracy on labelled sets (run by hand; the tests hold the floors).

    python bench/dedup_accuracy.py [DIR ...] [--cross-validate] [--compare bib-dedupe]
        [--peer-python PATH] [--include-possible] [--clusters-out FILE] [--show-errors]

Each DIR holds records_pre_merged.csv and merged_record_ids.csv; with no DIR, every labelled
set in ../shared/data/dedup/ (or $SHARED_DATA_DIR/dedup) is used. The engine runs exactly as
the app runs it (no manual decisions). Pairwise metrics: gold pairs are all unordered pairs
inside each gold cluster, predicted pairs all pairs inside each predicted cluster (clusters
of CERTAIN pairs; with --include-possible, connected components of certain + possible
pairs). False merges are predicted pairs not in gold; "questions" are the possible pairs a
person is asked about (one per pair of groups), also as a share of the records. recall*
leaves out the gold pairs listed in dedup_contested_gold.csv (errata, replies, notices and
abstracts in another issue joined to the article they concern, which the rules keep out of
the certain band on purpose).

--cross-validate: leave one set out. The engine's rules are fixed in code with their
reasons; one threshold is fitted from data, ``CERTAIN_TITLE`` (band rule 3 of
reviewer/dedup/compare.py). For each held-out set it is chosen on the OTHER sets only
(among the grid values with no false merge there, the one finding the most gold pairs
there; ties go to the highest, most cautious value) and the held-out set is scored with
it. The shipped value is what the same procedure picks on all the sets. The row shows the
value chosen; where it equals the shipped value the row equals the plain run.

--compare bib-dedupe: runs bib-dedupe (never a dependency of this project; install it in its
own virtualenv: ``python3 -m venv ../bibdedupe-venv && ../bibdedupe-venv/bin/pip install
bib-dedupe``) on the same sets, one subprocess per set with that virtualenv's Python
(--peer-python, $BIBDEDUPE_PYTHON, or ../bibdedupe-venv/bin/python), single process
(cpu=1) as our engine, and prints its row under ours. Seconds cover the engine's own work
only (not reading the CSV or starting Python), for both.

--clusters-out writes our certain clusters in the layout of merged_record_ids.csv (one row
per cluster, ids joined by ";"; with several DIRs, one file per set: FILE's stem + "_" + set
name).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reviewer.dedup import Band, DedupResult, deduplicate  # noqa: E402
from reviewer.dedup.benchmark import (  # noqa: E402
    LabelledSet,
    clusters_with_possible,
    labelled_set_dirs,
    load_contested_pairs,
    load_labelled_set,
    pairwise_scores,
    recall_without,
)
from reviewer.dedup.compare import CERTAIN_TITLE  # noqa: E402

HERE = Path(__file__).resolve().parent
CONTESTED = HERE / "dedup_contested_gold.csv"
PEER_SCRIPT = HERE / "dedup_peer_bibdedupe.py"
SHARED = Path(os.environ.get("SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))
DEFAULT_PEER_PYTHON = ROOT.parent / "bibdedupe-venv" / "bin" / "python"
GRID = (0.90, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98)


@dataclass(frozen=True, slots=True)
class Row:
    """One engine's result on one set."""

    engine: str
    name: str
    records: int
    clusters: list[tuple[str, ...]]
    questions: int
    seconds: float
    note: str = ""


def _our_row(labelled: LabelledSet, *, certain_title: float, include_possible: bool) -> Row:
    started = time.perf_counter()
    result: DedupResult = deduplicate(labelled.records, certain_title=certain_title)
    seconds = time.perf_counter() - started
    clusters = clusters_with_possible(result) if include_possible else result.clusters
    questions = sum(1 for pair in result.pairs if pair.band is Band.POSSIBLE)
    return Row(
        engine="ours",
        name=labelled.name,
        records=len(labelled.records),
        clusters=[tuple(str(member) for member in cluster) for cluster in clusters],
        questions=questions,
        seconds=seconds,
    )


def _peer_row(folder: Path, labelled: LabelledSet, python: Path) -> Row:
    completed = subprocess.run(
        [str(python), str(PEER_SCRIPT), str(folder), "--cpu", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        sys.exit(
            f"bib-dedupe failed on {folder} (exit {completed.returncode}):\n"
            f"{completed.stderr.strip()[-2000:]}"
        )
    data = json.loads(completed.stdout.strip().splitlines()[-1])
    return Row(
        engine=f"bib-dedupe {data['version']}",
        name=labelled.name,
        records=len(labelled.records),
        clusters=[tuple(cluster) for cluster in data["clusters"]],
        questions=int(data["questions"]),
        seconds=float(data["seconds"]),
    )


def _fit_certain_title(training: list[LabelledSet]) -> float:
    """The grid value with no false merge on the training sets and the best recall there
    (ties: the highest value, which links least)."""
    best: tuple[int, float] | None = None  # (true positives, value)
    for value in GRID:
        found = 0
        clean = True
        for labelled in training:
            result = deduplicate(labelled.records, certain_title=value)
            scores = pairwise_scores(labelled.gold_clusters, result.clusters)
            if scores.false_merges:
                clean = False
                break
            found += scores.true_positives
        if not clean:
            continue
        key = (found, value)
        if best is None or key > best:
            best = key
    return best[1] if best is not None else max(GRID)


HEADER = (
    f"{'set':<20} {'engine':<18} {'records':>7} {'gold':>5} {'pred':>5} {'precision':>9} "
    f"{'recall':>7} {'recall*':>7} {'false':>6} {'questions':>9} {'% rec':>6} {'seconds':>8}"
)


def _print_row(row: Row, labelled: LabelledSet, show_errors: bool) -> None:
    scores = pairwise_scores(labelled.gold_clusters, row.clusters)
    share = 100.0 * row.questions / row.records if row.records else 0.0
    contested = load_contested_pairs(CONTESTED, labelled.name)
    print(
        f"{row.name:<20} {row.engine:<18} {row.records:>7} {scores.gold_pairs:>5} "
        f"{scores.predicted_pairs:>5} {scores.precision:>9.4f} {scores.recall:>7.4f} "
        f"{recall_without(scores, contested):>7.4f} {len(scores.false_merges):>6} "
        f"{row.questions:>9} {share:>5.1f}% {row.seconds:>8.2f}"
        + (f"  {row.note}" if row.note else "")
    )
    if show_errors:
        for left, right in scores.false_merges:
            print(f"    false merge: {left} {right}")
        for left, right in scores.missed:
            print(f"    missed:      {left} {right}")


def _clusters_path(base: Path, name: str, several: bool) -> Path:
    return base.with_name(f"{base.stem}_{name}{base.suffix}") if several else base


def _default_dirs() -> list[Path]:
    folders = labelled_set_dirs(SHARED)
    if not folders:
        sys.exit(
            f"No labelled sets given and none found in {SHARED / 'dedup'}: pass DIR arguments, "
            "or put the shared data beside this checkout (../shared/data/dedup/) or set "
            "SHARED_DATA_DIR."
        )
    return folders


def _peer_python(option: Path | None) -> Path:
    python = option or Path(os.environ.get("BIBDEDUPE_PYTHON", DEFAULT_PEER_PYTHON))
    if not python.is_file():
        sys.exit(
            f"--compare bib-dedupe: no Python found at {python}. Install bib-dedupe in its own "
            "virtualenv (python3 -m venv ../bibdedupe-venv && ../bibdedupe-venv/bin/pip "
            "install bib-dedupe) or pass --peer-python / set BIBDEDUPE_PYTHON."
        )
    check = subprocess.run(
        [str(python), "-c", "import bib_dedupe"], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        sys.exit(
            f"--compare bib-dedupe: {python} cannot import bib_dedupe; install it there with "
            f"{python} -m pip install bib-dedupe."
        )
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path)
    parser.add_argument("--clusters-out", type=Path)
    parser.add_argument("--include-possible", action="store_true")
    parser.add_argument("--show-errors", action="store_true", help="list false merges/misses")
    parser.add_argument(
        "--cross-validate", action="store_true", help="leave one set out (fit on the others)"
    )
    parser.add_argument("--compare", choices=["bib-dedupe"], help="run a peer on the same sets")
    parser.add_argument("--peer-python", type=Path, help="Python of bib-dedupe's virtualenv")
    args = parser.parse_args()
    folders: list[Path] = args.dirs or _default_dirs()
    for folder in folders:
        if not (folder / "records_pre_merged.csv").is_file():
            sys.exit(f"{folder}: no records_pre_merged.csv (is this a labelled set?)")
    peer = _peer_python(args.peer_python) if args.compare else None
    sets = [load_labelled_set(folder) for folder in folders]

    mode = "leave-one-set-out" if args.cross_validate else "plain run"
    band = "certain + possible" if args.include_possible else "certain band"
    print(
        f"{mode}, {band}; recall* = recall without the gold pairs in "
        "bench/dedup_contested_gold.csv; questions = possible pairs for a person\n"
    )
    if args.cross_validate and len(sets) < 2:
        sys.exit("--cross-validate needs at least two labelled sets")
    print(HEADER)
    for index, (folder, labelled) in enumerate(zip(folders, sets, strict=True)):
        certain_title = CERTAIN_TITLE
        note = ""
        if args.cross_validate:
            training = [other for position, other in enumerate(sets) if position != index]
            certain_title = _fit_certain_title(training)
            note = f"CERTAIN_TITLE fitted on the others: {certain_title:.2f}" + (
                " (= shipped)" if certain_title == CERTAIN_TITLE else ""
            )
        ours = _our_row(
            labelled, certain_title=certain_title, include_possible=args.include_possible
        )
        _print_row(
            Row(
                ours.engine,
                ours.name,
                ours.records,
                ours.clusters,
                ours.questions,
                ours.seconds,
                note,
            ),
            labelled,
            args.show_errors,
        )
        if peer is not None:
            _print_row(_peer_row(folder, labelled, peer), labelled, args.show_errors)
        if args.clusters_out:
            path = _clusters_path(args.clusters_out, labelled.name, len(folders) > 1)
            result = deduplicate(labelled.records, certain_title=certain_title)
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
                writer.writerow(["merged_ids"])
                for cluster in result.clusters:
                    writer.writerow([";".join(str(member) for member in cluster)])


if __name__ == "__main__":
    main()
