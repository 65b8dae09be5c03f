"""XLSX decompression bombs against both spreadsheet readers: time and peak memory (by hand).

    python bench/xlsx_bombs.py                          # this checkout
    python bench/xlsx_bombs.py --code /tmp/before       # another checkout, for comparison

Builds small workbooks that unpack to a lot (tests/xlsx_bombs.py), then reads each in a
fresh process, as the search import's preview does (`read_summary`) and as the extraction
spreadsheet import's preview does (`read_sheet`), and prints the outcome, the wall time and
the peak resident memory of that process. Each process is capped (--memory-mb, --seconds)
so that an unguarded reader cannot take the machine down: "killed" means it hit a cap.

Measured on the reference machine (2 cores shared with other work, so wall times before
are inflated; Python 3.11, memory capped at 3 GB and CPU at 120 s), peak memory of the
reading process (about 76 MB is Django itself). Before = commit 7d07d93, after = this one:

    bomb (file size)             reader      before                       after
    1,000,000 rows (243 KB)      search      376 s, 168 MB, 1,000,000 rec 0.3 s, 79 MB, refused
    1,000,000 rows (243 KB)      extraction  53 s, 428 MB, all rows       0.03 s, 76 MB, refused
    3,000,000 rows (721 KB)      search      killed at the 120 s CPU cap  0.3 s, 79 MB, refused
    3,000,000 rows (721 KB)      extraction  230 s, 1,133 MB, all rows    0.06 s, 77 MB, refused
    250,000 distinct rows (3 MB) search      172 s, 104 MB, 250,000 rec   1.3 s, 86 MB, refused
    250,000 distinct rows (3 MB) extraction  24 s, 167 MB, all rows       0.4 s, 86 MB, refused
    declares A1:ZZ3000000 (5 KB) search      0.5 s, read (1 record)       0.2 s, refused
    one 300 MB cell (303 KB)     search      63 s, 683 MB                 0.2 s, 79 MB, refused
    one 300 MB cell (303 KB)     extraction  17 s, 678 MB                 0.05 s, 76 MB, refused
    a cell in column XFD (5 KB)  both        read a 16,384-cell row       0.05-0.25 s, refused
    one row numbered 1,048,576   both        (not measured before)        0.03-0.5 s, refused
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import xlsx_bombs  # noqa: E402

CHILD = r"""
import json, os, sys, time
from pathlib import Path
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewer.settings")
import django
django.setup()
path, reader = sys.argv[1], sys.argv[2]
started = time.perf_counter()
if reader == "search":
    from reviewer.imports import ParseError
    from reviewer.services.imports import read_summary
    try:
        summary = read_summary(Path(path), filename="bomb.xlsx")
        outcome = f"read {summary['record_count']:,} records"
    except ParseError as error:
        outcome = "refused: " + str(error)[:90]
else:
    from extraction.transfer_sheets import read_sheet
    sheet = read_sheet("bomb.xlsx", Path(path).read_bytes())
    outcome = (
        "refused: " + sheet.problems[0].message[:90]
        if sheet.problems
        else f"read {len(sheet.rows):,} rows"
    )
print(json.dumps({"seconds": time.perf_counter() - started, "outcome": outcome}))
"""

BOMBS = {
    "1,000,000 rows": lambda: xlsx_bombs.rows_bomb(1_000_000),
    "3,000,000 rows": lambda: xlsx_bombs.rows_bomb(3_000_000),
    "250,000 distinct rows": lambda: xlsx_bombs.numbered_rows(250_000),
    "declares A1:ZZ3000000": lambda: xlsx_bombs.declared_bomb("A1:ZZ3000000"),
    "one 300 MB cell": lambda: xlsx_bombs.text_bomb(300),
    "a cell in column XFD": lambda: xlsx_bombs.wide_row_bomb("XFD"),
    "one row numbered 1,048,576": lambda: xlsx_bombs.far_row_bomb(1_048_576),
}


def run(code: Path, path: Path, reader: str, *, memory_mb: int, seconds: int) -> dict[str, str]:
    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024,) * 2)
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))

    env = {**os.environ, "PYTHONPATH": str(code)}
    env.pop("DATABASE_URL", None)  # nothing here touches a database
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), reader],
        cwd=code,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        preexec_fn=limits,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    peak = f"{usage.ru_maxrss / 1024:,.0f} MB"
    if status != 0 or not output:
        return {"outcome": "killed (hit a cap) or crashed", "seconds": "-", "peak": peak}
    result = json.loads(output)
    return {"outcome": result["outcome"], "seconds": f"{result['seconds']:.2f} s", "peak": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose readers to run")
    parser.add_argument("--memory-mb", type=int, default=3000)
    parser.add_argument("--seconds", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for name, build in BOMBS.items():
            path = Path(folder) / "bomb.xlsx"
            path.write_bytes(build())
            size = f"{path.stat().st_size / 1024:,.0f} KB"
            for reader in ("search", "extraction"):
                result = run(
                    args.code, path, reader, memory_mb=args.memory_mb, seconds=args.seconds
                )
                print(
                    f"{name} ({size}) | {reader} | {result['seconds']} | {result['peak']} | "
                    f"{result['outcome']}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
