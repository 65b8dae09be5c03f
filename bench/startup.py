"""Start-up time: loading Django and every URL, and `manage.py check` (by hand, not in CI).

    python bench/startup.py                        # this checkout
    python bench/startup.py --compare 4557b76      # that commit beside this checkout

Each measurement runs in a fresh process, `--runs` times (the median is printed, and the
range), with the bytecode cached as on a server, as wall time and as CPU time (on a shared
machine the CPU time is the steadier figure): the seconds from `import django` to every
URL pattern resolved (`django.setup()` then the root URLconf and its includes, as the first
request of a web process does), the whole `python manage.py check` process, and the 15
largest cumulative entries of `python -X importtime` for the same start-up (one run).
`--compare REV` extracts that commit with `git archive` into a temporary folder and
measures it with the same Python and packages.

What start-up must not import is checked by tests/test_startup.py (modules, not seconds:
the machine is shared). Figures in the README.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Bytecode is cached, as on a server (a warm-up run writes it): with PYTHONDONTWRITEBYTECODE
#: every start compiles the project's few hundred modules from source again.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

LOAD = """
import importlib, json, os, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", {settings!r})
django.setup()
t1 = time.perf_counter()
from django.conf import settings
from django.urls import URLResolver, get_resolver
importlib.import_module(settings.ROOT_URLCONF)
def walk(patterns):
    for p in patterns:
        if isinstance(p, URLResolver):
            walk(p.url_patterns)
walk(get_resolver().url_patterns)
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({{"setup": t1 - t0, "urls": t2 - t1, "total": t2 - t0, "cpu": c2 - c0}}))
"""


def settings_module(code: Path) -> str:
    """The settings manage.py names (reviewer.settings, or wherever it has moved)."""
    found = re.search(r"DJANGO_SETTINGS_MODULE\",\s*\"([\w.]+)\"", (code / "manage.py").read_text())
    return found.group(1) if found else "reviewer.settings"


def load_times(code: Path) -> dict[str, float]:
    script = LOAD.format(settings=settings_module(code))
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=code,
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    times: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return times


def check_time(code: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of a `manage.py check` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=code,
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def top_imports(code: Path, count: int = 15) -> list[tuple[float, str]]:
    """The largest cumulative import times (seconds, module) of one start-up."""
    script = LOAD.format(settings=settings_module(code))
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script],
        cwd=code,
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    entries = []
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[1].strip().isdigit():
            entries.append((int(parts[1]) / 1e6, parts[2].strip()))
    return sorted(entries, reverse=True)[:count]


@dataclass
class Result:
    times: dict[str, list[float]]  # seconds per run, by measurement (see `main`)
    top: list[tuple[float, str]]


def measure(code: Path, runs: int) -> Result:
    load_times(code)  # warm-up: writes the bytecode cache
    loads = [load_times(code) for _ in range(runs)]
    times = {key: [t[key] for t in loads] for key in ("setup", "urls", "total", "cpu")}
    checks = [check_time(code) for _ in range(runs)]
    times["check"] = [wall for wall, _ in checks]
    times["check_cpu"] = [cpu for _, cpu in checks]
    return Result(times, top_imports(code))


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", metavar="REV", help="a commit to measure beside this one")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    columns: list[tuple[str, Result]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.compare:
            before = Path(tmp) / "before"
            before.mkdir()
            archive = subprocess.run(
                ["git", "archive", args.compare], cwd=REPO_ROOT, capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
            columns.append((args.compare, measure(before, args.runs)))
        columns.append(("this checkout", measure(REPO_ROOT, args.runs)))

    width = 34
    print(f"median of {args.runs} fresh processes (min-max); python {sys.version.split()[0]}")
    print("".ljust(38) + "".join(name.ljust(width) for name, _ in columns))
    rows = [
        ("django.setup()", "setup"),
        ("root URLconf + every include", "urls"),
        ("import django .. URLs resolved", "total"),
        ("  the same, CPU time", "cpu"),
        ("python manage.py check (process)", "check"),
        ("  the same, CPU time", "check_cpu"),
    ]
    for label, key in rows:
        cells = "".join(summary(result.times[key]).ljust(width) for _, result in columns)
        print(label.ljust(38) + cells)
    for name, result in columns:
        print(f"\ntop 15 cumulative -X importtime entries, {name}:")
        for seconds, module in result.top:
            print(f"  {seconds:6.3f} s  {module}")


if __name__ == "__main__":
    main()
