"""Analysis runs end to end through the queue, on 10,000 synthetic patients (by hand).

    python bench/analysis_speed.py                       # eager: no broker, in-process
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/15 python bench/analysis_speed.py   # a real worker

Builds a scratch review with the case-series form and N final patients (500 studies of 20),
then times what a user waits for: from asking for the analysis (the service the page calls,
the task queued on commit) to the stored result, for the full patient-characteristics table
and a risk-factor table of margin status against six outcomes. With REDIS_URL set, a Celery
worker process is started on that broker (as tests/conftest.py does) and the runs go through
it; otherwise the tasks run eagerly in this process, as in the quick start.

Without DATABASE_URL the bench uses a throw-away SQLite file, never the project's database.
Target: both runs under 5 s in total.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUTCOMES = ["recurrence", "reoperation", "metastasis", "outcome", "chemo_radio", "alk"]
TARGET_SECONDS = 5.0


def _setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        scratch = Path(tempfile.gettempdir()) / "analysis_bench.sqlite3"
        scratch.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewer.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(patients: int, seed: int) -> tuple[Any, Any]:
    """A review with the case-series form and `patients` final rows, written in bulk."""
    from extraction.models import Extraction, ExtractionStatus, PatientRow
    from extraction.services.forms import setup_update
    from extraction.templates_catalog import template_load
    from extraction.values import form_spec, parse
    from reviewer.models import Study, User
    from reviewer.services.reviews import review_create

    user, _ = User.objects.get_or_create(username="bench")
    review = review_create(title=f"analysis bench {time.time():.0f}", created_by=user)
    setup_update(review=review, dual=True)
    template_load(review=review)
    spec = form_spec(review)
    keys = spec.by_key()
    rng = random.Random(seed)

    def stored(values: dict[str, str]) -> dict[str, Any]:
        return {str(keys[k].pk): parse(spec, keys[k], v) for k, v in values.items() if v}

    def patient() -> dict[str, str]:
        positive = rng.random() < 0.3
        return {
            "sex": rng.choice(["Male", "Female"]),
            "age_months": str(rng.randint(0, 216)),
            "site": rng.choice(["Abdomen/pelvis", "Thorax", "Head/neck", "Extremities"]),
            "size_cm": f"{rng.uniform(0.5, 20):.1f}",
            "management": "Non-operative" if rng.random() < 0.1 else "Operative",
            "margin": rng.choice(["Positive", "Negative", "not reported"])
            if rng.random() < 0.9
            else "",
            "alk": rng.choice(["Positive", "Negative"]),
            "fish_alk": rng.choice(["Positive", "Negative", ""]),
            "desmin": rng.choice(["Positive", "Negative", ""]),
            "sma": rng.choice(["Positive", "Negative"]),
            "chemo_radio": rng.choice(["yes", "no", "unknown"]),
            "other_therapy": rng.choice(["", "Steroids", "ALK inhibitor; NSAIDs"]),
            "recurrence": "yes" if rng.random() < (0.35 if positive else 0.1) else "no",
            "reoperation": "yes" if rng.random() < (0.3 if positive else 0.08) else "no",
            "metastasis": "yes" if rng.random() < 0.05 else "no",
            "follow_up_months": str(rng.randint(1, 240)),
            "outcome": rng.choices(
                ["No evidence of disease", "Alive with disease", "Died of disease"], [8, 2, 1]
            )[0],
        }

    per_study = 20
    studies = Study.objects.bulk_create(
        Study(review=review, label=f"Study {n:04d}", created_by=user)
        for n in range(patients // per_study)
    )
    copies = Extraction.objects.bulk_create(
        Extraction(
            review=review,
            study=study,
            extractor=None,
            updated_by=user,
            status=ExtractionStatus.DONE,
            values=stored({"design": "Retrospective case series", "patients": "20", "ipd": "yes"}),
        )
        for study in studies
    )
    PatientRow.objects.bulk_create(
        (
            PatientRow(extraction=copy, position=n, label=f"Case {n}", values=stored(patient()))
            for copy in copies
            for n in range(1, per_study + 1)
        ),
        batch_size=2000,
    )
    return review, user


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    from reviewer.celery import app

    app.control.purge()
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
            "--hostname=analysis-bench@%h",
        ],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return worker
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited: {log.read_text() if log.exists() else ''}")
    raise SystemExit("the worker did not answer a ping within 30 s")


def timed_runs(review: Any, user: Any) -> list[dict[str, Any]]:
    from django.db import transaction

    from analysis.models import AnalysisKind, RunStatus
    from analysis.services.runs import analysis_submit

    asks = [
        ("characteristics (all patient fields)", AnalysisKind.CHARACTERISTICS, {}),
        (
            f"risk factors: margin vs {len(OUTCOMES)} outcomes",
            AnalysisKind.RISK_FACTORS,
            {"exposure": "margin", "outcomes": OUTCOMES, "rule": "auto", "yates": False},
        ),
    ]
    figures = []
    for name, kind, spec in asks:
        started = time.perf_counter()
        with transaction.atomic():  # the request's transaction: the task goes on commit
            run = analysis_submit(review=review, kind=kind, spec=spec, user=user).run
        while True:
            run.refresh_from_db()
            if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
                break
            time.sleep(0.05)
        total = time.perf_counter() - started
        if run.status == RunStatus.FAILED:
            raise SystemExit(f"{name} failed: {run.error}")
        figures.append(
            {
                "analysis": name,
                "end_to_end_s": total,
                "in_task_s": run.duration_seconds or 0.0,
                "tables": len(run.result["tables"]),
            }
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    _setup()
    from django.conf import settings
    from django.db import connection

    started = time.perf_counter()
    review, user = build(args.patients, args.seed)
    print(
        f"built {args.patients:,} final patients in {time.perf_counter() - started:.1f} s "
        f"({connection.vendor})"
    )
    worker = None
    mode = "eager (in-process)"
    if settings.CELERY_BROKER_URL:
        log = Path(tempfile.gettempdir()) / "analysis_bench_worker.log"
        worker = _worker({**os.environ}, log)
        mode = f"Celery worker on {settings.CELERY_BROKER_URL}"
    try:
        figures = timed_runs(review, user)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=20)
    print(f"mode: {mode}")
    for row in figures:
        print(
            f"  {row['analysis']:<42} {row['end_to_end_s']:6.2f} s end to end "
            f"({row['in_task_s']:.2f} s in the task, {row['tables']} tables)"
        )
    total = sum(row["end_to_end_s"] for row in figures)
    verdict = "within" if total < TARGET_SECONDS else "OVER"
    print(f"  {'total':<42} {total:6.2f} s ({verdict} the {TARGET_SECONDS:.0f} s target)")


if __name__ == "__main__":
    main()
