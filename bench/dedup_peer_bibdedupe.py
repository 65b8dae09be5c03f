"""Run bib-dedupe on one labelled set and print its clusters as JSON (the peer's side).

    /work/bibdedupe-venv/bin/python bench/dedup_peer_bibdedupe.py DIR [--cpu 1]

Started by ``bench/dedup_accuracy.py --compare bib-dedupe`` with the Python of the
virtualenv where bib-dedupe is installed (it is never a dependency of this project, so this
file imports nothing from it). Reads ``DIR/records_pre_merged.csv`` exactly as bib-dedupe's
own benchmark does (pandas, all columns as given), runs its documented pipeline
(``prep`` -> ``block`` -> ``match`` -> ``cluster``) and prints one JSON object:
``{"engine", "version", "clusters": [[id, ...], ...], "questions": N, "seconds": S}``.
``clusters`` are bib-dedupe's "duplicate" pairs clustered its own way; ``questions`` are
its "maybe" pairs (what it would ask a person); ``seconds`` cover the pipeline only, not
reading the CSV or starting Python, as for our engine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib.metadata import version
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--cpu", type=int, default=1, help="bib-dedupe's cpu argument")
    args = parser.parse_args()
    try:
        # both live in bib-dedupe's own virtualenv, not in this project's
        import pandas as pd  # type: ignore[import-untyped,unused-ignore]
        from bib_dedupe import bib_dedupe  # type: ignore[import-not-found,unused-ignore]
    except ImportError as error:  # pragma: no cover - depends on the caller's venv
        sys.exit(f"bib-dedupe is not installed for {sys.executable}: {error}")

    records = pd.read_csv(args.dir / "records_pre_merged.csv")
    started = time.perf_counter()
    prepared = bib_dedupe.prep(records, verbosity_level=0, cpu=args.cpu)
    blocked = bib_dedupe.block(prepared, verbosity_level=0, cpu=args.cpu)
    matched = bib_dedupe.match(blocked, verbosity_level=0, cpu=args.cpu)
    clusters = bib_dedupe.cluster(matched, verbosity_level=0)
    seconds = time.perf_counter() - started
    questions = int((matched["duplicate_label"] == "maybe").sum()) if len(matched.index) else 0
    print(
        json.dumps(
            {
                "engine": "bib-dedupe",
                "version": version("bib-dedupe"),
                "clusters": [[str(member) for member in cluster] for cluster in clusters],
                "questions": questions,
                "seconds": seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
