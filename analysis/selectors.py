"""Analysis reads that the analysis pages and the project corner (dashboard, bundle) share:
the review's runs, one run, the newest finished result of each analysis asked for.

What analysis reads from extraction (the final copies, as typed columns) lives beside the
pandas code that consumes it, in `services.data` and `services.pooled`.
"""

from __future__ import annotations

import json

from django.db.models import QuerySet

from analysis.models import AnalysisRun, RunStatus
from reviewer.models import Review


def runs_of(review: Review) -> QuerySet[AnalysisRun]:
    """The review's runs, newest first, with who started each (the run list and the
    dashboard show the name); a view looks one up in it by pk so that a run of another
    review is a 404."""
    return AnalysisRun.objects.filter(review=review).select_related("started_by")


def newest_runs(review: Review) -> list[AnalysisRun]:
    """The newest finished run of each analysis asked for (kind and spec), oldest first."""
    newest: dict[str, AnalysisRun] = {}
    runs = AnalysisRun.objects.filter(review=review, status=RunStatus.SUCCEEDED)
    for run in runs.select_related("review").order_by("pk"):
        newest[json.dumps([run.kind, run.spec], sort_keys=True)] = run
    return sorted(newest.values(), key=lambda run: run.pk)
