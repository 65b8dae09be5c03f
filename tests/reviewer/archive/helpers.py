"""Building a review with every kind of row, writing and rewriting its archive, and what a
person sees of a review (PRISMA counts, kappa, extraction data, analysis results)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from io import StringIO
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management import call_command

from analysis.models import AnalysisRun
from analysis.services.runs import fingerprint_now
from extraction.appraisal.results import methods_sentence, results, robvis_csv
from extraction.appraisal.services import custom_tool_save
from extraction.selectors import dataset
from reviewer import exports
from reviewer.archive import archive_write
from reviewer.models import (
    Decision,
    DuplicatePair,
    FullText,
    PairStatus,
    Record,
    Review,
    Role,
    Stage,
    User,
)
from reviewer.prisma.counts import prisma_counts
from reviewer.screening.queries import state_counts
from reviewer.services.duplicates import pair_decide, record_split
from reviewer.services.ranking import stopping_sample_draw
from reviewer.services.reviews import member_add, member_remove
from reviewer.services.screening import withdraw


def demo_review(output: StringIO | None = None) -> Review:
    """The demo review (every table but the stopping samples has rows), plus what the demo
    does not do: a stopping sample, a withdrawn decision, a decided pair, a split and a
    former member."""
    call_command("demo", password="demo-pass-1", stdout=output or StringIO())
    review = Review.objects.get(slug="demo")
    alice = User.objects.get(username="alice")
    carol = User.objects.get(username="carol")
    stopping_sample_draw(review=review, user=alice, size=5, seed=11)
    for decision in Decision.objects.filter(
        review=review, reviewer=alice, stage=Stage.TITLE_ABSTRACT
    ):
        try:
            withdraw(record=decision.record, user=alice, stage=Stage.TITLE_ABSTRACT)
            break
        except ValidationError:
            continue
    else:
        raise AssertionError("alice has no decision she may withdraw")
    pending = DuplicatePair.objects.filter(review=review, status=PairStatus.PENDING).first()
    assert pending is not None
    pair_decide(pair=pending, user=carol, duplicate=True)
    duplicate = Record.objects.filter(review=review, duplicate_of__isnull=False).last()
    assert duplicate is not None
    record_split(record=duplicate, user=carol, note="Different cohorts")
    User.objects.create_user("erin", email="erin@example.org", password="demo-pass-1")
    erin = member_add(review=review, username="erin", role=Role.REVIEWER, added_by=carol)
    member_remove(membership=erin, removed_by=carol)
    custom_tool_save(
        review=review,
        user=carol,
        definition={
            "slug": "imt-reporting",
            "name": "IMT reporting checklist",
            "levels": {"low": "Reported", "high": "Not reported"},
            "domains": [
                {
                    "key": "ALK",
                    "name": "ALK status",
                    "judge": "answer",
                    "map": {"y": "low", "n": "high"},
                    "questions": [
                        {
                            "key": "alk",
                            "text": "Is ALK status reported?",
                            "options": [{"key": "y", "label": "Yes"}, {"key": "n", "label": "No"}],
                        }
                    ],
                }
            ],
        },
    )
    return review


def archive_bytes(review: Review) -> bytes:
    out = io.BytesIO()
    archive_write(review=review, out=out)
    return out.getvalue()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def manifest_of(data: bytes) -> dict[str, Any]:
    return dict(json.loads(members(data)["manifest.json"]))


def rows_in(data: bytes, label: str) -> list[dict[str, Any]]:
    text = members(data)[f"tables/{label.lower()}.jsonl"].decode()
    return [json.loads(line) for line in text.splitlines()]


def rewrite(
    data: bytes,
    change: Callable[[dict[str, bytes]], None],
    *,
    fix_manifest: bool = True,
) -> bytes:
    """The archive with its members changed by `change`; with `fix_manifest`, the manifest's
    checksums and row counts are made to fit again (to reach the checks after them)."""
    files = members(data)
    change(files)
    if fix_manifest and "manifest.json" in files:
        manifest = json.loads(files["manifest.json"])
        for entry in [manifest["people"], *manifest["tables"]]:
            if entry["file"] in files:
                entry["sha256"] = hashlib.sha256(files[entry["file"]]).hexdigest()
                entry["rows"] = len(files[entry["file"]].splitlines())
        for entry in manifest["files"]:
            if entry["path"] in files:
                entry["sha256"] = hashlib.sha256(files[entry["path"]]).hexdigest()
        files["manifest.json"] = json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def observed(review: Review) -> dict[str, Any]:
    """What people see of a review, with nothing that depends on database ids: the PRISMA
    counts, every record's state, the releases to full text, kappa, the final extraction
    data, the analysis runs (and whether their data is unchanged since), the full texts."""
    data = dataset(review)
    runs = []
    for run in AnalysisRun.objects.filter(review=review).order_by("pk"):
        current = fingerprint_now(review, run.kind, run.spec)
        runs.append([run.kind, run.spec, run.status, run.fingerprint, current, run.result])
    full_texts = [
        [f.record.title, f.not_retrieved, f.original_name, f.sha256, f.pdf.read() if f.pdf else b""]
        for f in FullText.objects.filter(review=review).select_related("record").order_by("pk")
    ]
    return _plain(
        {
            "prisma": dataclasses.asdict(prisma_counts(review)),
            "states": sorted((state.value, n) for state, n in state_counts(review).items()),
            "agreement": list(exports.agreement_rows(review)),
            "extraction": [{k: v for k, v in row.items() if k != "study_key"} for row in data.rows],
            "studies": data.studies,
            "analysis": runs,
            "full_texts": [[*f[:4], hashlib.sha256(f[4]).hexdigest()] for f in full_texts],
            # records released to full text: by whom, and when
            "released": sorted(
                (record.title, record.released_by.username, record.released_at.isoformat())
                for record in review.records.filter(released_at__isnull=False).select_related(
                    "released_by"
                )
            ),
            "risk_of_bias": [robvis_csv(r) for r in results(review)] + [methods_sentence(review)],
        }
    )
