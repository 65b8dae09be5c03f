"""Pooled-result speed at review sizes (run by hand, not in CI).

    python bench/meta_speed.py [--repeat 3]

Times `analysis.stats.meta` on seeded case-series data (3–40 patients per study) for
k = 10, 38 (the demo's final studies), 60 and 200 studies: the binomial-normal GLMM, REML
on the logit, and the GLMM's leave-one-out table (k fits), and the forest plot as SVG.
Prints the best of `--repeat` runs in seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis.stats.forest import forest_plot  # noqa: E402
from analysis.stats.meta import Pooled, leave_one_out, pool_proportions  # noqa: E402


def data(k: int, seed: int = 20) -> tuple[list[int], list[int]]:
    rng = random.Random(seed)
    totals = [rng.randint(3, 40) for _ in range(k)]
    events = [sum(rng.random() < 0.18 for _ in range(n)) for n in totals]
    return events, totals


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    print(f"{'k':>4}  {'GLMM':>8}  {'REML':>8}  {'GLMM leave-one-out':>19}  {'forest SVG':>10}")
    for k in (10, 38, 60, 200):
        print(row(k, repeat))


def row(k: int, repeat: int) -> str:
    events, totals = data(k)

    def glmm(indices: list[int]) -> Pooled:
        return pool_proportions([events[i] for i in indices], [totals[i] for i in indices])

    result = glmm(list(range(k)))
    timings = [
        best(repeat, lambda: glmm(list(range(k)))),
        best(repeat, lambda: pool_proportions(events, totals, method="reml")),
        best(1, lambda: leave_one_out(glmm, [f"S{i}" for i in range(k)])),
        best(repeat, lambda: forest_plot(result, "svg")),
    ]
    return (
        f"{k:>4}  {timings[0]:>7.3f}s  {timings[1]:>7.4f}s  {timings[2]:>18.2f}s  "
        f"{timings[3]:>9.2f}s"
    )


if __name__ == "__main__":
    main()
