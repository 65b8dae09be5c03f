"""Extraction spreadsheet import: preview and commit speed, and peak memory (by hand, not CI).

    python bench/extraction_import_speed.py                  # SQLite (a scratch file in bench/out/)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench python bench/extraction_import_speed.py
    python bench/extraction_import_speed.py --rows 1000 --formats csv

For 1,000 / 10,000 / 50,000 patient rows (100 per study, the case-series form, every
field filled, a few "not reported"), as CSV and as XLSX, each in a fresh process so that
peak memory is its own:
  build   - a review with the studies, and the sheet file (not measured)
  preview - extraction.services.transfer.import_preview: read and check every cell
  commit  - import_commit: check again, then write every study's rows in one transaction
  export  - export_file of the same rows in the same format
Target: a 50,000-row sheet previews in under 10 s on the 2-core reference machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
ROWS_PER_STUDY = 100


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewer.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()


def build(rows: int, file_format: str) -> dict[str, object]:
    """A review with the case-series form and rows/100 studies; the sheet as a file."""
    _django()
    from django.core.management import call_command

    from extraction.selectors import study_key
    from extraction.services import transfer
    from extraction.services.forms import setup_update
    from extraction.templates_catalog import template_load
    from extraction.values import form_spec
    from reviewer.models import Study, User
    from reviewer.services.reviews import review_create

    call_command("migrate", verbosity=0)
    user, _ = User.objects.get_or_create(username="bench")
    review = review_create(title=f"bench {rows} {file_format} {time.time()}", created_by=user)
    setup_update(review=review, dual=True)
    template_load(review=review)
    spec = form_spec(review)
    studies = Study.objects.bulk_create(
        Study(review=review, label=f"Study {n:05d}", created_by=user)
        for n in range(max(1, rows // ROWS_PER_STUDY))
    )
    chance = random.Random(rows)
    sheet = []
    for n in range(rows):
        study = studies[n % len(studies)]
        row: dict[str, object] = {
            "study_key": study_key(study),
            "study": study.label,
            "patient": f"Case {n // len(studies) + 1}",
        }
        for form_field in spec.patient_fields:
            kind = form_field.kind
            if kind.has_choices:
                options = [c.label for c in spec.choices[form_field.pk]]
                value: object = chance.choice(options)
            elif kind == "integer":
                value = chance.randint(0, 216)
            elif kind == "decimal":
                value = f"{chance.uniform(0, 40):.1f}"
            elif kind == "yesno":
                value = chance.choice(["yes", "no", "unknown"])
            else:
                value = "text"
            if not form_field.required and chance.random() < 0.05:
                value = "not reported"
            row[form_field.key] = value
        sheet.append(row)
    sheet.sort(key=lambda r: (str(r["study"]), str(r["patient"])))
    resource = transfer.SheetResource(spec, transfer.Kind.PATIENTS)
    dataset = resource.export([], native=True)
    for row in sheet:
        dataset.append([row.get(name, "") for name in dataset.headers])
    dataset.title = "Patients"
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"extraction-{rows}.{file_format}"
    if file_format == "xlsx":
        path.write_bytes(transfer._xlsx(dataset))
    else:
        path.write_bytes((transfer.BOM + dataset.export("csv")).encode("utf-8"))
    return {"review": review.pk, "path": str(path)}


def measure(review_pk: int, path: str) -> dict[str, object]:
    _django()
    from django.db import connection

    from extraction.services import transfer
    from reviewer.models import Review, User

    review = Review.objects.get(pk=review_pk)
    user = User.objects.get(username="bench")
    data = Path(path).read_bytes()
    name = Path(path).name
    options = {"review": review, "user": user, "kind": "patients", "target": "mine"}

    started = time.perf_counter()
    preview = transfer.import_preview(**options, name=name, data=data)
    preview_s = time.perf_counter() - started
    assert preview.ok, preview.problems[:5]

    started = time.perf_counter()
    result = transfer.import_commit(**options, name=name, data=data)
    commit_s = time.perf_counter() - started
    assert result.committed, result.problems[:5]

    file_format = "xlsx" if name.endswith(".xlsx") else "csv"
    started = time.perf_counter()
    exported = transfer.export_file(
        review=review, user=user, kind="patients", scope="mine", file_format=file_format
    )
    export_s = time.perf_counter() - started
    review.extractions.all().delete()
    return {
        "rows": preview.rows,
        "format": file_format,
        "database": connection.vendor,
        "preview_s": round(preview_s, 2),
        "commit_s": round(commit_s, 2),
        "export_s": round(export_s, 2),
        "exported_rows": exported.rows,
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _child(*args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    loaded: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx"])
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        if args.child[0] == "build":
            print(json.dumps(build(int(args.child[1]), args.child[2])))
        else:
            print(json.dumps(measure(int(args.child[1]), args.child[2])))
        return
    if not os.environ.get("DATABASE_URL"):
        OUT.mkdir(parents=True, exist_ok=True)
        scratch = OUT / "extraction-bench.sqlite3"
        scratch.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    os.environ.setdefault("MEDIA_ROOT", str(OUT / "media"))
    os.environ.setdefault("DEBUG", "0")  # as production runs: no SQL query log
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    print(
        f"{'rows':>7} {'format':<6} {'database':<10} {'preview s':>9} {'commit s':>9} "
        f"{'export s':>9} {'peak MB':>8}"
    )
    for rows in args.rows:
        for file_format in args.formats:
            built = _child("build", str(rows), file_format)
            r = _child("measure", str(built["review"]), str(built["path"]))
            print(
                f"{r['rows']:>7} {r['format']:<6} {r['database']:<10} {r['preview_s']:>9} "
                f"{r['commit_s']:>9} {r['export_s']:>9} {r['peak_mb']:>8}"
            )


if __name__ == "__main__":
    main()
