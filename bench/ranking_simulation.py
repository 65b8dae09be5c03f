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

`--asreview-model` runs the same loop with ASReview LAB 3.0.8's default model instead of
ours (ELAS u4: the title counted once, SVM C 0.11; everything else is shared). It
reproduces `asreview simulate`'s screening order: on every run compared (11 sets, see
bench/ranking_results.md) the WSS@95 is the same to the decimal; where ASReview itself
could not be run in the time, its figures come from here and are marked so.

`--zero-labels` starts from no label at all, as a new review does: records are taken by
similarity to the review's question until one relevant and one irrelevant are found, then
the learnt model takes over. The Cohen sets have no question, so it is derived from the
set's topic name only (`topic_question`: "CalciumChannelBlockers" -> "Calcium channel
blockers"; the set named "Opiods" is about opioids, so its question is spelt "Opioids");
nothing else about a set is used. Printed per file and seed: RRF@10 (share of the relevant
records found after screening 10% of the set) from the question start, from a random start
(`RandomState(seed).permutation` order until both classes are found, then the same model),
and with `--asreview-dir`, ASReview LAB's from `<Topic>_zero_s<seed>.asreview`: `asreview
simulate` on the set's rows shuffled with the same permutation, no priors (its CLI screens
in file order until it can fit a model, so that is its random start), `--n-stop` 10% of N.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewer.ranking import engine
from reviewer.ranking.engine import Query, Ranker, RankInput
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


#: Spelling of topic names whose file name misspells the topic.
TOPIC_SPELLING = {"Opiods": "Opioids"}


def topic_question(topic: str) -> str:
    """The review question of a Cohen set, from its topic name alone."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z][a-z]+", TOPIC_SPELLING.get(topic, topic))
    return " ".join(words[:1] + [w if w.isupper() else w.lower() for w in words[1:]])


def zero_labels(files: list[Path], seeds: list[int], label_column: str, peer: Path | None) -> None:
    """RRF@10 from no label: ours from the question and from a random start, ASReview's
    model from the same random start, and ASReview itself where its project file exists."""
    print(
        f"{'set':<24} {'seed':>4} {'question':<26} {'ours: question':>14} {'random':>7} "
        f"{'ASReview model: random':>22} {'ASReview LAB':>12}"
    )
    summary: dict[str, list[list[float]]] = {}
    for path in files:
        records, labels = load(path, label_column)
        topic = path.stem.removeprefix("Cohen_2006_")
        query = Query(seek=topic_question(topic))
        tenth = math.ceil(0.1 * len(records) - 1e-9)
        columns = summary.setdefault(topic, [[], [], [], []])
        for seed in seeds:
            start = {"seed": seed, "zero_start": True, "screen_at_most": tenth}
            columns[0].append(rrf(simulate(records, labels, query=query, **start).labels_in_order))
            columns[1].append(rrf(simulate(records, labels, **start).labels_in_order))
            ours = engine.TITLE_REPEATS, engine.SVM_C
            engine.TITLE_REPEATS, engine.SVM_C = 1, 0.11  # ASReview LAB's ELAS u4
            try:
                columns[2].append(rrf(simulate(records, labels, **start).labels_in_order))
            finally:
                engine.TITLE_REPEATS, engine.SVM_C = ours
            line = (
                f"{topic:<24} {seed:>4} {query.seek:<26} {columns[0][-1]:>14.1%} "
                f"{columns[1][-1]:>7.1%} {columns[2][-1]:>22.1%}"
            )
            project = peer / f"{topic}_zero_s{seed}.asreview" if peer else None
            if project is not None and project.exists():
                # its file holds the first 10% only: divide by the set's relevant records
                found = sum(asreview_labels(project, len(records))[:tenth])
                columns[3].append(found / sum(labels))
                line += f" {columns[3][-1]:>12.1%}"
            print(line, flush=True)
    print("\nmean RRF@10 (ours: question / random start; ASReview model: random; ASReview LAB):")
    for topic, (asked, blind, theirs, lab) in summary.items():
        lab_mean = f"{statistics.mean(lab):.1%}" if lab else "-"
        print(
            f"  {topic:<24} {statistics.mean(asked):.1%} / {statistics.mean(blind):.1%} / "
            f"{statistics.mean(theirs):.1%} / {lab_mean}"
        )
    means = [[statistics.mean(column) for column in columns[:3]] for columns in summary.values()]
    if means:
        print(
            "  "
            + "mean".ljust(24)
            + " / ".join(f"{statistics.mean(c):.1%}" for c in zip(*means, strict=True))
        )


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
    parser.add_argument("--zero-labels", action="store_true")
    parser.add_argument("--asreview-model", action="store_true")
    args = parser.parse_args(argv)
    if args.asreview_model:  # ASReview LAB 3.0.8's ELAS u4 settings
        engine.TITLE_REPEATS, engine.SVM_C = 1, 0.11
    seeds = args.seeds or [1]
    if args.zero_labels:
        zero_labels(args.files, seeds, args.label_column, args.asreview_dir)
        return 0
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
