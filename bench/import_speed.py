"""Import speed and memory on 100,000-record files (run by hand, not in CI).

    python bench/import_speed.py                      # SQLite (a scratch file in bench/out/)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench python bench/import_speed.py

Builds a 100,000-record RIS file and a 100,000-record MEDLINE file by repeating real
exports from ../shared/data/exports with varied titles, then measures, each in a fresh
process so peak memory is its own:
  parse   - reading every record (what the preview does)
  import  - parse + insert into the database in one transaction (what confirm does)
Target: 100,000 records parsed and stored in under 60 s, under 1 GB peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SHARED = Path(os.environ.get("SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))
SEEDS = {
    "ris": SHARED / "exports" / "asreview_demo_data" / "_baseline.ris",
    "medline": SHARED / "exports" / "nbib_py" / "pubmed-balloongui-set.nbib",
}
TITLE = {"ris": re.compile(r"^(TI|T1)  - ", re.M), "medline": re.compile(r"^TI  - ", re.M)}
START = {"ris": re.compile(r"^TY  - ", re.M), "medline": re.compile(r"^PMID- ", re.M)}


def build(fmt: str, count: int) -> Path:
    """Repeat the seed export until `count` records, marking each copy's titles."""
    path = OUT / f"{count}.{fmt}.txt"
    if path.exists():
        return path
    text = SEEDS[fmt].read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    starts = [m.start() for m in START[fmt].finditer(text)]
    records = [
        text[a:b].rstrip("\n") for a, b in zip(starts, [*starts[1:], len(text)], strict=True)
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            record = records[n % len(records)]
            copy = n // len(records)
            record = TITLE[fmt].sub(lambda m, c=copy: f"{m.group(0)}[copy {c}] ", record, count=1)
            out.write(record + "\n\n")
    return path


def measure(phase: str, fmt: str, path: Path) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewer.settings")
    django.setup()
    from django.db import connection

    from reviewer.imports import read_file

    started = time.perf_counter()
    if phase == "parse":
        count = sum(1 for _ in read_file(path, filename=path.name).records())
    else:
        from django.core.management import call_command

        from reviewer.models import ImportStatus, User
        from reviewer.services import imports
        from reviewer.services.reviews import review_create

        call_command("migrate", verbosity=0)
        user, _ = User.objects.get_or_create(username="bench")
        review = review_create(title=f"bench {time.time()}", created_by=user)
        source, _ = imports.source_for_command(review=review, name="bench", created_by=user)
        with path.open("rb") as handle:
            job = imports.import_job_create(
                source=source, files=[(path.name, handle)], created_by=user, enqueue=False
            )
        imports.import_job_read(job_id=job.pk)
        job.refresh_from_db()
        imports.import_job_confirm(job=job, enqueue=False)
        started = time.perf_counter()  # the import itself: parse + insert, one transaction
        imports.import_job_run(job_id=job.pk)
        job.refresh_from_db()
        assert job.status == ImportStatus.DONE, job.error
        count = review.records.count()
        review.delete()
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "phase": phase,
        "format": fmt,
        "database": connection.vendor,
        "records": count,
        "seconds": round(seconds, 1),
        "records_per_s": round(count / seconds),
        "peak_mb": round(peak_mb),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--child", nargs=3, metavar=("PHASE", "FORMAT", "PATH"))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child:
        phase, fmt, path = args.child
        print(json.dumps(measure(phase, fmt, Path(path))))
        return
    if not os.environ.get("DATABASE_URL"):
        OUT.mkdir(parents=True, exist_ok=True)
        scratch = OUT / "bench.sqlite3"
        scratch.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    os.environ.setdefault("MEDIA_ROOT", str(OUT / "media"))
    # Measure as production runs: DEBUG off (no SQL query log).
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    print(
        f"{'phase':<7} {'format':<8} {'database':<11} {'records':>8} {'seconds':>8} "
        f"{'records/s':>10} {'peak MB':>8}"
    )
    for fmt in ("ris", "medline"):
        path = build(fmt, args.records)
        for phase in ("parse", "import"):
            result = subprocess.run(
                [sys.executable, __file__, "--child", phase, fmt, str(path)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            r = json.loads(result.stdout.strip().splitlines()[-1])
            print(
                f"{r['phase']:<7} {r['format']:<8} {r['database']:<11} {r['records']:>8} "
                f"{r['seconds']:>8} {r['records_per_s']:>10} {r['peak_mb']:>8}"
            )


if __name__ == "__main__":
    main()
