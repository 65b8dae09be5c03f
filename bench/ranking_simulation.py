"""Simulate relevance-ranked screening of labelled CSV sets with the app's ranking engine.

    .venv/bin/python bench/ranking_simulation.py ../shared/data/screening/Cohen_2006_ADHD.csv \
        [more.csv ...] [--label-column label_included] [--seed 1 --seed 2] \
        [--retrain-every 1] [--order-out FILE] [--asreview-dir DIR] [--speed-records 20000]

The CSV layout is that of ../shared/data/screening/ (record_id, pubmedID, title,
authors, abstract, year, label_included, label_abstract_screening). Screening starts
from one relevant and one irrelevant record picked exactly as `asreview simulate
--n-prior-included 1 --n-prior-excluded 1 --prior-seed S` picks them: row
`RandomState(S).choice(relevant_rows)` and row `RandomState(S).choice(irrelevant_rows)`.
The model retrains after every `--retrain-every` decisions and the most relevant
unscreened record is screened next.

Printed per file and seed: N, relevant, WSS@95 (priors counted as screened, the
definition the issue's ASReview figures use), WSS@95 as asreview-insights computes it
(priors left out), RRF@10, the share screened to find all relevant, seconds and the
mean retrain time. `--order-out` writes the 0/1 label of each screened record in order
(with several files or seeds, `FILE` gets `.<set>.s<seed>` inserted before its suffix).

`--asreview-dir DIR` reads `<Topic>_s<seed>.asreview` project files written by
`asreview simulate ... -o` (ASReview LAB is a peer to compare with, not a dependency: it
runs from its own venv) and prints both tools side by side with the same metrics.
`--speed-records N` times one retrain on N synthetic-length records (the 2 s target).
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewer.ranking.engine import Ranker, RankInput
from reviewer.ranking.simulation import (
    rrf,
    share_to_find_all,
    simulate,
    wss,
    wss_insights,
)


def load(path: Path, label_column: str) -> tuple[list[RankInput], list[int]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or label_column not in rows[0]:
        raise SystemExit(f"{path}: no column {label_column!r}")
    records = [
        RankInput(id=index, title=row.get("title") or "", abstract=row.get("abstract") or "")
        for index, row in enumerate(rows)
    ]
    labels = []
    for line, row in enumerate(rows, start=2):
        value = (row[label_column] or "").strip()
        if value not in {"0", "1", "0.0", "1.0"}:
            raise SystemExit(f"{path}, line {line}: {label_column} is {value!r}, not 0 or 1")
        labels.append(int(float(value)))
    return records, labels


def asreview_labels(project: Path, n_records: int) -> list[int]:
    """The screening order of an ASReview project file as 0/1 labels, padded with zeros."""
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(project) as archive:
            archive.extract("results.db", folder)
        connection = sqlite3.connect(Path(folder) / "results.db")
        try:
            labels = [
                int(row[0])
                for row in connection.execute("SELECT label FROM results ORDER BY rowid")
            ]
        finally:
            connection.close()
    return labels + [0] * (n_records - len(labels))


def order_out_path(base: Path, topic: str, seed: int, many: bool) -> Path:
    return base.with_name(f"{base.stem}.{topic}.s{seed}{base.suffix}") if many else base


def time_retrain(n_records: int) -> float:
    """Seconds for one retrain on `n_records` abstracts of realistic length (half labelled)."""
    import random

    rng = random.Random(0)
    words = [f"w{index}" for index in range(30_000)]
    records = [
        RankInput(
            id=index,
            title=" ".join(rng.choices(words, k=12)),
            abstract=" ".join(rng.choices(words, k=220)),
        )
        for index in range(n_records)
    ]
    started = time.perf_counter()
    ranker = Ranker(records)
    vectorised = time.perf_counter() - started
    labels = {index: index % 20 == 0 for index in range(0, n_records, 2)}
    started = time.perf_counter()
    ranker.train(labels, seed=0)
    seconds = time.perf_counter() - started
    print(f"{n_records} records: vectorising {vectorised:.1f} s (once), retrain {seconds:.2f} s")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--label-column", default="label_included")
    parser.add_argument("--seed", type=int, action="append", dest="seeds")
    parser.add_argument("--retrain-every", type=int, default=1)
    parser.add_argument("--order-out", type=Path)
    parser.add_argument("--asreview-dir", type=Path)
    parser.add_argument("--speed-records", type=int)
    args = parser.parse_args(argv)
    seeds = args.seeds or [1]
    many = len(args.files) * len(seeds) > 1

    header = (
        f"{'set':<24} {'seed':>4} {'N':>5} {'rel':>4} {'WSS@95':>7} {'WSS-ins':>7} "
        f"{'RRF@10':>6} {'all@':>6} {'sec':>6} {'retrain':>8}"
    )
    if args.files:
        print(header + ("   ASReview: WSS@95 WSS-ins RRF@10 all@" if args.asreview_dir else ""))
    summary: dict[str, tuple[list[float], list[float]]] = {}
    for path in args.files:
        records, labels = load(path, args.label_column)
        topic = path.stem.removeprefix("Cohen_2006_")
        for seed in seeds:
            result = simulate(records, labels, seed=seed, retrain_every=args.retrain_every)
            sequence = result.labels_in_order
            retrain = statistics.mean(result.retrain_seconds) if result.retrain_seconds else 0.0
            line = (
                f"{topic:<24} {seed:>4} {len(records):>5} {sum(labels):>4} "
                f"{wss(sequence):>7.1%} {wss_insights(sequence):>7.1%} {rrf(sequence):>6.1%} "
                f"{share_to_find_all(sequence):>6.1%} {result.seconds:>6.1f} "
                f"{retrain * 1000:>6.1f}ms"
            )
            ours, theirs = summary.setdefault(topic, ([], []))
            ours.append(wss(sequence))
            if args.asreview_dir:
                project = args.asreview_dir / f"{topic}_s{seed}.asreview"
                if project.exists():
                    peer = asreview_labels(project, len(records))
                    theirs.append(wss(peer))
                    line += (
                        f"   {wss(peer):>13.1%} {wss_insights(peer):>7.1%} {rrf(peer):>6.1%} "
                        f"{share_to_find_all(peer):>5.1%}"
                    )
                else:
                    line += f"   (no {project.name})"
            print(line, flush=True)
            if args.order_out:
                target = order_out_path(args.order_out, topic, seed, many)
                target.write_text("".join(f"{label}\n" for label in sequence))
    if len(summary) > 1 or len(seeds) > 1:
        print("\nmean WSS@95 per set (ours / ASReview):")
        for topic, (ours, theirs) in summary.items():
            peer = f"{statistics.mean(theirs):.1%}" if theirs else "-"
            print(f"  {topic:<24} {statistics.mean(ours):.1%} / {peer}")
        all_ours = [statistics.mean(ours) for ours, _ in summary.values()]
        all_theirs = [statistics.mean(theirs) for _, theirs in summary.values() if theirs]
        peer = f"{statistics.mean(all_theirs):.1%}" if len(all_theirs) == len(all_ours) else "-"
        print(f"  {'mean':<24} {statistics.mean(all_ours):.1%} / {peer}")
    if args.speed_records:
        time_retrain(args.speed_records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
