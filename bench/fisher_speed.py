"""Fisher's exact test speed on r×c tables of review size and beyond (run by hand, not in CI).

    python bench/fisher_speed.py [--repeat 3] [--with-r]

Times `analysis.stats.fisher_exact` with its default work budget on fixed tables: the
reference review's 4×2 site table (N = 405), a 3×4 table of N = 150, and larger ones with
counts drawn (seeded) around independence, up to a 6×6 table that exhausts the budget and
falls back to Monte Carlo. Prints the best of `--repeat` runs in seconds, the method and
the p. With `--with-r` (needs Rscript) also R's `fisher.test(workspace = 2e8)` p and
seconds (R's time includes starting R, about 0.2 s).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis.stats.fisher import fisher_exact  # noqa: E402


def random_table(rows: int, cols: int, total: int, seed: int) -> list[list[int]]:
    """Counts around independence with uneven margins, every row and column non-empty."""
    rng = np.random.default_rng(seed)
    while True:
        p = np.outer(rng.dirichlet([4.0] * rows), rng.dirichlet([4.0] * cols))
        table = rng.multinomial(total, p.ravel()).reshape(rows, cols)
        if table.sum(axis=0).all() and table.sum(axis=1).all():
            return [[int(x) for x in row] for row in table]


TABLES: dict[str, list[list[int]]] = {
    "2x2, N=400": [[150, 50], [120, 80]],
    "4x2, N=405 (reference sites)": [[2, 11], [5, 29], [4, 121], [9, 224]],
    "2x6, N=500": random_table(2, 6, 500, 1),
    "3x3, N=300": random_table(3, 3, 300, 2),
    "3x4, N=150": [[10, 12, 5, 8], [9, 15, 7, 12], [20, 8, 14, 30]],
    "3x4, N=340": [[40, 35, 20, 15], [30, 45, 25, 20], [22, 18, 40, 30]],
    "3x5, N=300": random_table(3, 5, 300, 3),
    "4x4, N=120": random_table(4, 4, 120, 4),
    "4x4, N=200": [[15, 18, 10, 13], [14, 10, 3, 20], [10, 11, 17, 12], [11, 14, 7, 15]],
    "5x5, N=100": random_table(5, 5, 100, 5),
    "6x6, N=80": random_table(6, 6, 80, 6),
}


def r_fisher(table: list[list[int]]) -> str:
    cells = ",".join(str(x) for row in table for x in row)
    script = (
        f"t <- Sys.time(); p <- tryCatch(fisher.test(matrix(c({cells}), {len(table)}, "
        "byrow = TRUE), workspace = 2e8)$p.value, error = function(e) NA); "
        "cat(sprintf('%.6g in %.2f s', p, as.numeric(Sys.time() - t, units = 'secs')))"
    )
    started = time.perf_counter()
    result = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    return f"{result.stdout.strip()} ({elapsed:.2f} s with start-up)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--with-r", action="store_true")
    options = parser.parse_args()
    if options.with_r and not shutil.which("Rscript"):
        parser.error("--with-r needs Rscript on the PATH")
    print(f"{'table':<30} {'seconds':>8}  {'method':<11} p")
    for name, table in TABLES.items():
        best = float("inf")
        for _ in range(options.repeat):
            started = time.perf_counter()
            result = fisher_exact(table)
            best = min(best, time.perf_counter() - started)
        line = f"{name:<30} {best:>8.3f}  {result.method:<11} {result.p:.6g}"
        if result.se is not None:
            line += f" (SE {result.se:.2g})"
        if options.with_r:
            line += f"   R: {r_fisher(table)}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
