"""What one retrain of a reviewer's ranking costs, phase by phase, at 20,000 records on
PostgreSQL: the old plumbing and the new side by side in one run (run by hand, not in CI).
Both store exactly the ranking's scores and ranks (checked after every run).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench python bench/ranking_retrain_cost.py
    python bench/ranking_retrain_cost.py --records 20000 --repeat 5

Builds the review of `bench/ranking_app_speed.py` (the labelled Cohen et al. sets tiled to
`--records`, half screened by two earlier reviewers) and trains one reviewer's ranking, so
this process has the features cached, as a worker that ranked the review before (the usual
retrain: every few decisions of a reviewer). Then, alternating old and new `--repeat` times:

- read: the records (old: every record's title, abstract and keywords, hashed in Python to
  find the cached features; new: ids and a text digest computed by the database);
- labels: the decisions the reviewer learns from (the same code in both);
- train: the model (the same code in both);
- store: 20,000 scores written and the previous ranking's 20,000 deleted in one
  transaction (old: bulk_create INSERTs into the table as it was, with its foreign keys
  checked at commit and an index on the job, put back around the old store; new: COPY into
  the table without them).

For each: wall time, this process's CPU, and the PostgreSQL backend's CPU (its
/proc/<pid>/stat: the server runs on this machine). Autovacuum's later work on the deleted
rows is not counted (the same in both).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import ranking_app_speed  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) the PostgreSQL backend `pid` has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / TICKS


def _measure(backend: int, action: Callable[[], object]) -> tuple[float, float, float]:
    """(wall, process CPU, PostgreSQL backend CPU) seconds of `action`."""
    wall, cpu, pg = time.perf_counter(), time.process_time(), _backend_cpu(backend)
    action()
    return (
        time.perf_counter() - wall,
        time.process_time() - cpu,
        _backend_cpu(backend) - pg,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")

    built = ranking_app_speed.setup(args.records, 1)
    from django.db import connection, transaction

    from reviewer.models import RankingJob, RankingTrigger, Record, RelevanceScore, Review, User
    from reviewer.ranking.engine import RankInput
    from reviewer.ranking.selectors import labels, review_query
    from reviewer.screening.queries import eligible
    from reviewer.screening.rules import TA
    from reviewer.services import ranking as service

    if connection.vendor != "postgresql":
        raise SystemExit("set DATABASE_URL to a PostgreSQL database")
    # unblinded: the reviewer learns from the ~10,000 records the earlier two agreed on
    Review.objects.filter(slug=built["slug"]).update(blinded=False)
    review = Review.objects.get(slug=built["slug"])
    user = User.objects.get(username=built["users"][0])  # type: ignore[index]
    table, jobs, records = (
        connection.ops.quote_name(model._meta.db_table)
        for model in (RelevanceScore, RankingJob, Record)
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    # --- the old plumbing, as it was (services/ranking.py before this bench) ---
    def old_read() -> None:
        rows = (
            eligible(review, TA).order_by("pk").values_list("pk", "title", "abstract", "keywords")
        )
        records = [
            RankInput(id=pk, title=t, abstract=a, keywords=tuple(str(k) for k in kw or ()))
            for pk, t, a, kw in rows.iterator(chunk_size=5000)
        ]
        digest = hashlib.sha256()
        for record in records:
            digest.update(f"{record.id}\x1f{record.text()}\x1e".encode())
        digest.hexdigest()

    def old_store(job_id: int, ordered: list[tuple[int, float]]) -> None:
        with transaction.atomic():
            RelevanceScore.objects.bulk_create(
                [
                    RelevanceScore(job_id=job_id, record_id=pk, score=score, rank=rank)
                    for rank, (pk, score) in enumerate(ordered, start=1)
                ],
                batch_size=5000,
            )
            RelevanceScore.objects.filter(
                job__review_id=review.pk, job__reviewer_id=user.pk, job_id__lt=job_id
            ).delete()

    @contextmanager
    def old_table() -> Iterator[None]:
        """The scores' table as it was: foreign keys checked at commit, an index on the
        job (put back around the old store, not timed)."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT bench_job_fk FOREIGN KEY (job_id) "
                f"REFERENCES {jobs} (id) DEFERRABLE INITIALLY DEFERRED NOT VALID;"
                f"ALTER TABLE {table} ADD CONSTRAINT bench_record_fk FOREIGN KEY (record_id) "
                f"REFERENCES {records} (id) DEFERRABLE INITIALLY DEFERRED NOT VALID;"
                f"CREATE INDEX bench_job_idx ON {table} (job_id)"
            )
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ALTER TABLE {table} DROP CONSTRAINT bench_job_fk;"
                    f"ALTER TABLE {table} DROP CONSTRAINT bench_record_fk;"
                    "DROP INDEX bench_job_idx"
                )

    # --- the new ---
    def new_read() -> None:
        _, cached = service._ranker(review)
        assert cached, "the features should be cached in this process"

    def new_store(job_id: int, ordered: list[tuple[int, float]]) -> None:
        with transaction.atomic():
            service.scores_store(job_id, ordered)
            older = RankingJob.objects.filter(
                review_id=review.pk, reviewer_id=user.pk, pk__lt=job_id
            ).values("pk")
            RelevanceScore.objects.filter(job_id__in=older).delete()

    ranker, _ = service._ranker(review)  # cached by setup's retrain
    known = labels(review, user)
    ranking = ranker.train(known, seed=0, query=review_query(review))
    if not ranking.trained:
        raise SystemExit(f"the ranking did not learn: {ranking.reason}")
    ordered = [(pk, ranking.scores[pk]) for pk in ranking.order(ranker.ids)]

    phases: dict[str, dict[str, list[tuple[float, float, float]]]] = {}

    def record(phase: str, variant: str, figures: tuple[float, float, float]) -> None:
        phases.setdefault(phase, {}).setdefault(variant, []).append(figures)

    for _ in range(args.repeat):
        for variant, read, store, schema in (
            ("old", old_read, old_store, old_table),
            ("new", new_read, new_store, nullcontext),
        ):
            record("read records", variant, _measure(backend, read))
            record("labels", variant, _measure(backend, lambda: labels(review, user)))
            record(
                "train",
                variant,
                _measure(backend, lambda: ranker.train(known, seed=0, query=review_query(review))),
            )
            job = RankingJob.objects.create(
                review=review, reviewer=user, trigger=RankingTrigger.REQUESTED
            )
            with schema():
                record("store", variant, _measure(backend, partial(store, job.pk, ordered)))
            RankingJob.objects.filter(pk=job.pk).update(status="cancelled")
            stored = job.scores.order_by("rank").values_list("record_id", "score", "rank")
            if list(stored) != [(pk, score, n) for n, (pk, score) in enumerate(ordered, 1)]:
                raise SystemExit(f"{variant}: the stored scores differ from the ranking's")

    print(f"\n{args.records:,} records, {len(known):,} labels, median of {args.repeat} runs")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores")
    header = f"{'phase':<14}{'':>5}{'wall ms':>10}{'proc CPU':>10}{'PG CPU':>10}{'CPU sum':>10}"
    print(header)
    totals = {"old": 0.0, "new": 0.0}
    for phase, variants in phases.items():
        for variant in ("old", "new"):
            runs = variants[variant]
            wall, cpu, pg = (statistics.median(r[i] for r in runs) * 1000 for i in range(3))
            totals[variant] += cpu + pg
            print(f"{phase:<14}{variant:>5}{wall:>10.1f}{cpu:>10.1f}{pg:>10.1f}{cpu + pg:>10.1f}")
    print(
        f"{'total CPU':<14}  old {totals['old']:.0f} ms, new {totals['new']:.0f} ms: "
        f"{totals['old'] / totals['new']:.2f}x less"
    )


if __name__ == "__main__":
    main()
