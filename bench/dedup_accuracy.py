"""De-duplication accuracy on labelled sets (run by hand; the tests hold the floors).

    python bench/dedup_accuracy.py ../shared/data/dedup/cytology_screening \
        ../shared/data/dedup/haematology ../shared/data/dedup/special_cases \
        [--include-possible] [--clusters-out FILE] [--show-errors]

Each DIR holds records_pre_merged.csv and merged_record_ids.csv. The engine runs exactly as
the app runs it (no manual decisions). Pairwise metrics: gold pairs are all unordered pairs
inside each gold cluster, predicted pairs all pairs inside each predicted cluster (clusters
of CERTAIN pairs; with --include-possible, connected components of certain + possible
pairs). False merges are predicted pairs not in gold. recall* leaves out the gold pairs
listed in dedup_contested_gold.csv: an erratum or a reply joined to the article it concerns,
which the engine keeps out of the certain band on purpose (they are possible pairs).
--clusters-out writes the certain clusters in the layout of merged_record_ids.csv (with
several DIRs, one file per set: FILE's stem + "_" + set name).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reviewer.dedup import Band, deduplicate  # noqa: E402
from reviewer.dedup.benchmark import (  # noqa: E402
    clusters_with_possible,
    load_contested_pairs,
    load_labelled_set,
    pairwise_scores,
    recall_without,
)

CONTESTED = Path(__file__).resolve().parent / "dedup_contested_gold.csv"


def _clusters_path(base: Path, name: str, several: bool) -> Path:
    return base.with_name(f"{base.stem}_{name}{base.suffix}") if several else base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--clusters-out", type=Path)
    parser.add_argument("--include-possible", action="store_true")
    parser.add_argument("--show-errors", action="store_true", help="list false merges/misses")
    args = parser.parse_args()
    print(
        "possible = questions for a person (one per pair of groups); recall* = recall "
        "without the gold pairs in bench/dedup_contested_gold.csv (errata and replies joined "
        "to their article, which the trap rules keep apart on purpose)\n"
    )
    print(
        f"{'set':<20} {'records':>7} {'gold':>6} {'pred':>6} {'precision':>9} {'recall':>7} "
        f"{'F1':>6} {'false':>6} {'possible':>8} {'% rec':>6} {'seconds':>7} "
        f"{'recall*':>7}"
    )
    for folder in args.dirs:
        labelled = load_labelled_set(folder)
        started = time.perf_counter()
        result = deduplicate(labelled.records)
        seconds = time.perf_counter() - started
        clusters = clusters_with_possible(result) if args.include_possible else result.clusters
        scores = pairwise_scores(labelled.gold_clusters, clusters)
        possible = sum(1 for pair in result.pairs if pair.band is Band.POSSIBLE)
        share = 100.0 * possible / len(labelled.records) if labelled.records else 0.0
        print(
            f"{labelled.name:<20} {len(labelled.records):>7} {scores.gold_pairs:>6} "
            f"{scores.predicted_pairs:>6} {scores.precision:>9.4f} {scores.recall:>7.4f} "
            f"{scores.f1:>6.4f} {len(scores.false_merges):>6} {possible:>8} {share:>5.1f}% "
            f"{seconds:>7.2f} "
            f"{recall_without(scores, load_contested_pairs(CONTESTED, labelled.name)):>7.4f}"
        )
        if args.show_errors:
            for left, right in scores.false_merges:
                print(f"    false merge: {left} {right}")
            for left, right in scores.missed:
                print(f"    missed:      {left} {right}")
        if args.clusters_out:
            path = _clusters_path(args.clusters_out, labelled.name, len(args.dirs) > 1)
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
                writer.writerow(["merged_ids"])
                for cluster in result.clusters:
                    writer.writerow([";".join(str(member) for member in cluster)])


if __name__ == "__main__":
    main()
