"""Relevance ranking in the app at 20,000 records: the retrain job, and the screening page
with ranking on (run by hand, not in CI).

    python bench/ranking_app_speed.py                    # 20,000 records, 10 reviewers, 30 s
    python bench/ranking_app_speed.py --seconds 60 --reviewers 5
    python bench/ranking_app_speed.py --eager            # no broker: retrains in the web process

Builds a review on PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench)
from the labelled Cohen et al. sets in ../shared/data/screening (tiled to `--records`, each
copy's titles marked so no two records are the same text; SHARED_DATA_DIR overrides), half
of it already screened by two earlier reviewers with the sets' labels, so every ranking
learns from ~10,000 resolved records.

1. The retrain job, end to end (`ranking_job_run`: load the records and labels, vectorise,
   train, store 20,000 scores), in a fresh process (features not cached) and again in the
   same process (features cached, as a worker that ranked this review before).
2. The screening page with ranking on: every simulated reviewer has a trained ranking, so
   the queue is ordered by relevance and every record page shows its score; reviewers screen
   through gunicorn as in `bench/screening_latency.py`, and every 5th decision of each
   queues a retrain. With REDIS_URL set (default redis://127.0.0.1:6379/15) a Celery worker
   runs the retrains, as in production; with `--eager` there is no broker and the retrains
   run in the gunicorn workers after each response (the quick start's set-up).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import screening_latency as latency  # noqa: E402

DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def _texts(count: int) -> list[tuple[str, str, int]]:
    """(title, abstract, label) for `count` records, the shared sets tiled."""
    folder = Path(os.environ.get("SHARED_DATA_DIR", ROOT.parent / "shared" / "data")) / "screening"
    rows: list[tuple[str, str, int]] = []
    for path in sorted(folder.glob("Cohen_2006_*.csv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                rows.append((row["title"], row["abstract"] or "", int(row["label_included"])))
    if not rows:
        raise SystemExit(f"no labelled sets in {folder}: set SHARED_DATA_DIR")
    return [
        (title if n < len(rows) else f"{title} (copy {n // len(rows)})", abstract, label)
        for n in range(count)
        for title, abstract, label in [rows[n % len(rows)]]
    ]


def setup(records: int, reviewers: int) -> dict[str, object]:
    latency._django()
    from django.core.management import call_command

    from reviewer.models import Decision, ImportFile, ImportJob, RankingTrigger, Record, Role, User
    from reviewer.services import imports
    from reviewer.services.ranking import ranking_run_now
    from reviewer.services.reviews import review_create

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    owner, _ = User.objects.get_or_create(username="bench")
    review = review_create(title=f"Ranking bench {time.time():.0f}", created_by=owner)
    source, _ = imports.source_for_command(review=review, name="PubMed", created_by=owner)
    job = ImportJob.objects.create(
        review=review, source=source, created_by=owner, status="succeeded"
    )
    import_file = ImportFile.objects.create(job=job, original_name="bench.nbib", sha256="0")
    texts = _texts(records)
    Record.objects.bulk_create(
        (
            Record(
                review=review,
                source=source,
                import_file=import_file,
                position=n,
                title=title,
                abstract=abstract,
            )
            for n, (title, abstract, _) in enumerate(texts, start=1)
        ),
        batch_size=2000,
    )
    users = []
    for n in range(1, reviewers + 3):
        user, _ = User.objects.get_or_create(username=f"bench-reviewer-{n}")
        user.set_password(latency.PASSWORD)
        user.save()
        review.memberships.create(user=user, role=Role.REVIEWER, added_by=owner)
        users.append(user)
    earlier, screening = users[:2], users[2:]
    ids = list(review.records.order_by("pk").values_list("pk", flat=True))
    done = random.Random(7).sample(range(len(ids)), len(ids) // 2)
    Decision.objects.bulk_create(
        (
            Decision(
                review=review,
                record_id=ids[n],
                reviewer=user,
                stage="ta",
                choice="include" if texts[n][2] else "exclude",
            )
            for n in done
            for user in earlier
        ),
        batch_size=2000,
    )
    for user in screening:
        ranking_run_now(review=review, user=user, trigger=RankingTrigger.REQUESTED)
    from django.db import connection

    with connection.cursor() as cursor:  # as autovacuum would have by now, after bulk loads
        cursor.execute("ANALYZE")
    return {"slug": review.slug, "users": [u.username for u in screening]}


def retrain(slug: str) -> dict[str, object]:
    """Two retrains of one reviewer's ranking in this (fresh) process: cold, then warm."""
    latency._django()
    from reviewer.models import RankingTrigger, Review, User
    from reviewer.services.ranking import ranking_job_request, ranking_job_run

    review = Review.objects.get(slug=slug)
    user = User.objects.get(username="bench-reviewer-3")
    runs = []
    for _ in range(2):
        job = ranking_job_request(
            review=review, user=user, trigger=RankingTrigger.REQUESTED, enqueue=False
        )
        started = time.perf_counter()
        ranking_job_run(job_id=job.pk)
        wall = time.perf_counter() - started
        job.refresh_from_db()
        if job.status != "succeeded":
            raise SystemExit(f"retrain failed: {job.error}")
        runs.append(
            {
                "wall": wall,
                "load": job.load_seconds,
                "vectorise": job.vectorise_seconds,
                "train": job.train_seconds,
                "store": job.store_seconds,
                "records": job.records,
                "relevant": job.relevant,
                "irrelevant": job.irrelevant,
            }
        )
    return {"runs": runs}


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "reviewer",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            f"--logfile={log}",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    time.sleep(4)
    return worker


def _jobs_done(slug: str) -> dict[str, object]:
    latency._django()
    from reviewer.models import RankingJob

    jobs = RankingJob.objects.filter(review__slug=slug, trigger="decisions")
    finished = [j for j in jobs if j.status == "succeeded"]
    return {
        "statuses": sorted(jobs.values_list("status", flat=True)),
        "queued": jobs.count(),
        "succeeded": len(finished),
        "median_seconds": statistics.median([j.total_seconds for j in finished])
        if finished
        else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--reviewers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--eager", action="store_true", help="no broker: retrains in gunicorn")
    parser.add_argument("--keep", action="store_true", help="keep the review afterwards")
    parser.add_argument("--child-setup", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-retrain", help=argparse.SUPPRESS)
    parser.add_argument("--child-jobs", help=argparse.SUPPRESS)
    parser.add_argument("--child-teardown", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_setup:
        print(json.dumps(setup(int(args.child_setup[0]), int(args.child_setup[1]))))
        return
    if args.child_retrain:
        print(json.dumps(retrain(args.child_retrain)))
        return
    if args.child_jobs:
        print(json.dumps(_jobs_done(args.child_jobs)))
        return
    if args.child_teardown:
        latency.teardown(args.child_teardown)
        return

    database = os.environ.setdefault("DATABASE_URL", latency.DEFAULT_DATABASE)
    if not database.startswith("postgres"):
        raise SystemExit("DATABASE_URL must be a PostgreSQL database for this bench")
    latency._ensure_database(database)
    scratch = tempfile.TemporaryDirectory(prefix="ranking-bench-")
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-" + "x" * 50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MEDIA_ROOT": str(Path(scratch.name) / "media"),
        "STATIC_ROOT": str(Path(scratch.name) / "static"),
        "DJANGO_SETTINGS_MODULE": "reviewer.settings",
        "REDIS_URL": "" if args.eager else os.environ.get("REDIS_URL", DEFAULT_REDIS),
    }
    os.environ.update(env)

    started = time.perf_counter()
    info = _child(["--child-setup", str(args.records), str(args.reviewers)], env)
    print(
        f"set-up: {args.records:,} records, {args.reviewers} rankings trained "
        f"in {time.perf_counter() - started:.0f} s"
    )
    worker = None
    try:
        runs = _child(["--child-retrain", str(info["slug"])], env)["runs"]
        for name, run in zip(("cold (vectorise)", "warm (features cached)"), runs, strict=True):
            print(
                f"retrain job, {name}: {run['wall']:.2f} s end to end "
                f"(load {run['load']:.2f} + vectorise {run['vectorise']:.2f} + train "
                f"{run['train']:.2f} + store {run['store']:.2f}); {run['records']:,} records, "
                f"labels {run['relevant']:,} relevant / {run['irrelevant']:,} irrelevant"
            )
        if not args.eager:
            worker = _worker(env, Path(scratch.name) / "worker.log")
        timings, seconds = latency.run_http(info, args, env)
        args.direct = False
        print(
            "screening with ranking on, retrains "
            + (
                "in the gunicorn workers after each response (--eager, no broker)"
                if args.eager
                else "on one Celery worker (--pool=solo)"
            )
        )
        latency.report(timings, seconds, args)
        if worker is not None:
            time.sleep(2)
        jobs = _child(["--child-jobs", str(info["slug"])], env)
        print(
            f"retrains queued by the decisions: {jobs['queued']}, finished during the run: "
            f"{jobs['succeeded']}, median {jobs['median_seconds'] or 0:.2f} s each "
            f"({', '.join(jobs['statuses'])})"
        )
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        if not args.keep:
            _child(["--child-teardown", str(info["slug"])], env)
        scratch.cleanup()


def _child(arguments: list[str], env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, __file__, *arguments], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(result.stderr)
    out = result.stdout.strip()
    return json.loads(out.splitlines()[-1]) if out else {}


if __name__ == "__main__":
    main()
