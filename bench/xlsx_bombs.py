"""XLSX decompression bombs against both spreadsheet readers: time and peak memory (by hand).

    python bench/xlsx_bombs.py                          # this checkout
    python bench/xlsx_bombs.py --code /tmp/before       # another checkout, for comparison

Builds small workbooks that unpack to a lot (tests/xlsx_bombs.py), then reads each in a
fresh process, as the search import's preview does (`read_summary`) and as the extraction
spreadsheet import's preview does (`read_sheet`), and prints the outcome, the wall time and
the peak resident memory of that process. Each process is capped (--memory-mb, --seconds)
so that an unguarded reader cannot take the machine down: "killed" means it hit a cap.

Results on the reference machine (2 cores, Python 3.11), before the limits of
`reviewer.imports.workbook_limits` and after:

| bomb (file size)              | reader     | before                         | after                    |
|-------------------------------|------------|--------------------------------|--------------------------|
| 1,000,000 rows (70 KB)        | search     | 51 s, 128 MB, "1,000,000 recs" | 0.15 s, 55 MB, refused   |
| 1,000,000 rows (70 KB)        | extraction | 7.5 s, 1,020 MB, rows read     | 0.15 s, 65 MB, refused   |
| declares A1:ZZ3000000 (6 KB)  | search     | 0.3 s, ok (2 rows)             | 0.1 s, refused           |
| one 300 MB cell (300 KB)      | search     | 3.5 s, 1,290 MB                | 0.1 s, 55 MB, refused    |
| one 300 MB cell (300 KB)      | extraction | 3.9 s, 1,580 MB                | 0.1 s, 60 MB, refused    |
| a cell in column XFD (6 KB)   | both       | reads a 16,384-wide row        | 0.1 s, refused           |

(see the commit that added this file for the exact run; numbers vary with machine load).
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
