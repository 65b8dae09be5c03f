"""django-import-export's own import (`Resource.import_data` with its bulk options) against
today's extraction import path, on the same patient-row sheets (by hand, not CI).

    python bench/extraction_import_export_compare.py                 # 10,000 and 50,000 rows
    python bench/extraction_import_export_compare.py --rows 1000

For each size, a review with the case-series form and its copies already started (so both
paths only check cells and write rows), and the sheet as CSV (built as in
bench/extraction_import_speed.py). Each measurement runs in a fresh process:

  today-preview   transfer.import_preview: read, check every cell, list every problem
  today-commit    transfer.import_commit: check again with the copies locked, replace rows
  ie-dry          a `ModelResource` of PatientRow, `import_data(dry_run=True)`, with
                  use_bulk=True, batch_size=1000, skip_diff=True, force_init_instance=True
  ie-commit       the same, `dry_run=False` (rows deleted first, as a replace does)
  ie-unchanged    skip_unchanged=True (skip_diff=False, instances looked up by
                  extraction+position) re-importing the same rows: the case skip_unchanged
                  is for
  today-export-xlsx  transfer.export_file as XLSX (Resource.export, then openpyxl's
                  write-only mode)
  ie-export-xlsx  Resource.export, then tablib's own `Dataset.export("xlsx")`

Both paths clean each cell with the same widget (`transfer.CellWidget`, which calls
`values.parse`) and the same per-(column, cell) memo, so the difference is the library's
row machinery: a row dict, an instance, a RowResult and full_clean per row.
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.extraction_import_speed import OUT, _django  # noqa: E402
from bench.extraction_import_speed import build as build_sheet  # noqa: E402


def build(rows: int) -> dict[str, object]:
    built = build_sheet(rows, "csv")
    from extraction.models import Extraction
    from reviewer.models import Review, User

    review = Review.objects.get(pk=built["review"])
    user = User.objects.get(username="bench")
    Extraction.objects.bulk_create(
        Extraction(review=review, study=study, extractor=user, updated_by=user)
        for study in review.studies.all()
    )
    return built


def resource_class(spec: Any, copies: dict[int, int], **options: Any) -> Any:
    from import_export import fields, resources, widgets

    from extraction.models import PatientRow
    from extraction.selectors import study_from_key
    from extraction.services import transfer

    cell_widgets = [(f.key, str(f.pk), transfer.CellWidget(spec, f)) for f in spec.patient_fields]
    memo: dict[tuple[str, str], Any] = {}

    class CopyWidget(widgets.Widget):  # type: ignore[misc]
        def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
            pk = study_from_key(str(value))
            if pk not in copies:
                raise ValueError(f"“{value}” is not a study of this review.")
            return copies[pk]

    class ValuesField(fields.Field):  # type: ignore[misc]
        def clean(self, row: Any, **kwargs: Any) -> Any:
            values = {}
            for key, pk, widget in cell_widgets:
                raw = row.get(key)
                try:
                    value = memo[key, raw]
                except KeyError:
                    value = memo[key, raw] = widget.clean(raw)
                if value is not None:
                    values[pk] = value
            return values

    class PatientRowResource(resources.ModelResource):  # type: ignore[misc]
        extraction = fields.Field(
            attribute="extraction_id", column_name="study_key", widget=CopyWidget()
        )
        position = fields.Field(attribute="position", column_name="position")
        label = fields.Field(attribute="label", column_name="patient")
        values = ValuesField(attribute="values", column_name="study_key")

        class Meta:
            model = PatientRow
            fields = ("extraction", "position", "label", "values")
            import_id_fields = options.pop("import_id_fields", ())
            for name, value in options.items():
                locals()[name] = value

    return PatientRowResource


def measure(review_pk: int, path: str, mode: str) -> dict[str, object]:
    _django()
    import tablib
    from django.db import connection

    from extraction.models import Extraction, PatientRow
    from extraction.services import transfer
    from extraction.values import form_spec
    from reviewer.models import Review, User

    review = Review.objects.get(pk=review_pk)
    user = User.objects.get(username="bench")
    data = Path(path).read_bytes()
    options = {"review": review, "user": user, "kind": "patients", "target": "mine"}
    copies = dict(
        Extraction.objects.filter(review=review, extractor=user).values_list("study_id", "pk")
    )
    totals: dict[str, int] = {}
    if mode.endswith("export-xlsx"):
        transfer.import_commit(**options, name="s.csv", data=data)  # rows to export
    started = time.perf_counter()
    if mode == "today-export-xlsx":
        exported = transfer.export_file(
            review=review, user=user, kind="patients", scope="mine", file_format="xlsx"
        )
        assert exported.rows
    elif mode == "ie-export-xlsx":
        spec = form_spec(review)
        rows = transfer.export_rows(
            review=review, user=user, kind="patients", scope="mine", spec=spec
        )
        dataset = transfer.SheetResource(spec, "patients").export(rows, native=True)
        dataset.title = "Patient rows"
        assert dataset.export("xlsx")
    elif mode == "today-preview":
        assert transfer.import_preview(**options, name="s.csv", data=data).ok
    elif mode == "today-commit":
        assert transfer.import_commit(**options, name="s.csv", data=data).committed
    else:
        spec = form_spec(review)
        if mode == "ie-unchanged":
            transfer.import_commit(**options, name="s.csv", data=data)  # the rows exist
            cls = resource_class(
                spec,
                copies,
                use_bulk=True,
                batch_size=1000,
                skip_unchanged=True,
                import_id_fields=("extraction", "position"),
            )
            started = time.perf_counter()
        else:
            cls = resource_class(
                spec,
                copies,
                use_bulk=True,
                batch_size=1000,
                skip_diff=True,
                force_init_instance=True,
            )
        dataset = tablib.Dataset().load(data.decode("utf-8-sig"), format="csv")
        counts: dict[str, int] = {}
        positions = []
        for key in dataset["study_key"]:
            counts[key] = counts.get(key, 0) + 1
            positions.append(counts[key])
        dataset.append_col(positions, header="position")
        dry = mode == "ie-dry"
        from django.db import transaction

        with transaction.atomic():
            if mode == "ie-commit":
                PatientRow.objects.filter(extraction_id__in=copies.values()).delete()
            result = cls().import_data(dataset, dry_run=dry, use_transactions=True)
        if result.has_errors() or result.has_validation_errors():
            errors = [(n, [str(e.error) for e in errs]) for n, errs in result.row_errors()[:2]]
            base = [str(e.error) + e.traceback[-600:] for e in result.base_errors[:1]]
            raise SystemExit(f"{[r.error_dict for r in result.invalid_rows[:2]]} {errors} {base}")
        totals = dict(result.totals)
    elapsed = time.perf_counter() - started
    written = PatientRow.objects.filter(extraction__review=review).count()
    review.extractions.all().delete()
    return {
        "mode": mode,
        "database": connection.vendor,
        "seconds": round(elapsed, 2),
        "rows_after": written,
        "totals": totals if mode.startswith("ie") and "export" not in mode else {},
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _child(*args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=ROOT
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    loaded: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


MODES = ["today-preview", "ie-dry", "today-commit", "ie-commit", "ie-unchanged"]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--modes", nargs="+", default=MODES)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        if args.child[0] == "build":
            print(json.dumps(build(int(args.child[1]))))
        else:
            print(json.dumps(measure(int(args.child[1]), args.child[2], args.child[3])))
        return
    if not os.environ.get("DATABASE_URL"):
        OUT.mkdir(parents=True, exist_ok=True)
        scratch = OUT / "extraction-compare.sqlite3"
        scratch.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    os.environ.setdefault("MEDIA_ROOT", str(OUT / "media"))
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    print(f"{'rows':>7} {'path':<14} {'database':<10} {'seconds':>8} {'peak MB':>8}")
    for rows in args.rows:
        for mode in args.modes:
            built = _child("build", str(rows))
            r = _child("measure", str(built["review"]), str(built["path"]), mode)
            print(
                f"{rows:>7} {mode:<14} {r['database']:<10} {r['seconds']:>8} {r['peak_mb']:>8}"
                f"  rows written {r['rows_after']} {r['totals'] or ''}"
            )


if __name__ == "__main__":
    main()
