"""The whole de-duplication job as the app runs it, on N records in a database (by hand).

    python bench/dedup_app_speed.py --records 10000 50000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench python bench/dedup_app_speed.py

bench/dedup_speed.py times the engine alone; this times what a review waits for: the
`run_dedup` job reading the review's records from the database, running the engine, and
saving every pair and every link (the kept record's filled fields and the log included) in
one transaction. The records are the synthetic ones of dedup_speed.py (about 20% injected
duplicates), stored as one import into a scratch review first. Each size runs in a fresh
process so its peak memory is its own. "cpu s" is the job process's own CPU time (the
database server's work not included): on a machine shared with other work the wall-clock
seconds also count the waiting for a core, the CPU seconds do not.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def measure(count: int, seed: int) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewer.settings")
    django.setup()
    from dedup_speed import build_records  # bench/ is on sys.path: this script runs from it
    from django.core.management import call_command
    from django.db import connection

    from reviewer.models import DedupStatus, ImportFile, ImportJob, Record, User
    from reviewer.services import duplicates, imports
    from reviewer.services.reviews import review_create

    call_command("migrate", verbosity=0)
    user, _ = User.objects.get_or_create(username="bench")
    review = review_create(title=f"bench {time.time()}", created_by=user)
    source, _ = imports.source_for_command(review=review, name="bench", created_by=user)
    job = ImportJob.objects.create(
        review=review, source=source, created_by=user, status="succeeded"
    )
    import_file = ImportFile.objects.create(job=job, original_name="bench.ris", sha256="0")
    records, _ = build_records(count, seed)
    Record.objects.bulk_create(
        (
            Record(
                review=review,
                source=source,
                import_file=import_file,
                position=n,
                title=r.title,
                authors=list(r.authors),
                year=r.year,
                journal=r.journal,
                volume=r.volume,
                issue=r.issue,
                pages=r.pages,
                doi=r.doi,
                pmid=r.pmid,
                abstract=r.abstract,
                publication_type=r.publication_type,
            )
            for n, r in enumerate(records, start=1)
        ),
        batch_size=2000,
    )
    dedup = duplicates.dedup_job_create(review=review, user=user, enqueue=False)
    started, cpu_started = time.perf_counter(), time.process_time()
    duplicates.dedup_job_run(job_id=dedup.pk)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    dedup.refresh_from_db()
    assert dedup.status == DedupStatus.DONE, dedup.error
    linked = review.records.exclude(duplicate_of=None).count()
    review.delete()
    return {
        "database": connection.vendor,
        "records": count,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "linked": linked,
        "possible": dedup.counts["possible"],
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.seed)))
        return
    from dedup_speed import check_shared_data

    check_shared_data()
    if not os.environ.get("DATABASE_URL"):
        OUT.mkdir(parents=True, exist_ok=True)
        scratch = OUT / "dedup-bench.sqlite3"
        scratch.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    os.environ.setdefault("DEBUG", "0")  # as production runs: no SQL query log
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    print(
        f"{'database':<11} {'records':>8} {'seconds':>8} {'cpu s':>8} {'linked':>8} "
        f"{'possible':>8} {'peak MB':>8}"
    )
    for count in args.records:
        result = subprocess.run(
            [sys.executable, __file__, "--child", str(count), "--seed", str(args.seed)],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        if result.returncode != 0:
            sys.exit(f"{count} records: the job failed:\n{result.stderr.strip()[-3000:]}")
        r = json.loads(result.stdout.strip().splitlines()[-1])
        print(
            f"{r['database']:<11} {r['records']:>8} {r['seconds']:>8} {r['cpu_seconds']:>8} "
            f"{r['linked']:>8} {r['possible']:>8} {r['peak_mb']:>8}"
        )


if __name__ == "__main__":
    main()
