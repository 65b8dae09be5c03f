"""`manage.py import_search`: one line per file, all or nothing, clear failures."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from reviewer.models import ImportJob, Record, Source
from tests.factories import make_review, make_user

pytestmark = pytest.mark.django_db

RIS = """TY  - JOUR
TI  - Inflammatory myofibroblastic tumor of the lung in children
AU  - Smith, Anna
AU  - Jensen, Mette
PY  - 2019
T2  - Journal of Pediatric Surgery
DO  - 10.1016/j.jpedsurg.2019.01.001
AB  - We describe twelve children.
ER  -

TY  - JOUR
TI  - Plasma cell granuloma of the orbit
AU  - Rossi, Giulia
PY  - 2004
ER  -
"""

MEDLINE = """PMID- 31234567
TI  - Outcomes of pediatric inflammatory myofibroblastic tumor: a multicentre
      study of 34 patients.
AB  - Thirty-four children were treated.
FAU - Kim, Ji-woo
AU  - Kim J
DP  - 2021 Mar
JT  - Pediatric Blood & Cancer
LID - 10.1002/pbc.28999 [doi]

"""


@pytest.fixture
def review():
    return make_review(owner=make_user("owner"), slug="imt")


def run(*args: str, **options: object) -> str:
    out = StringIO()
    call_command("import_search", *args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def test_prints_one_line_per_file_and_imports_both(review, tmp_path: Path) -> None:
    ris = tmp_path / "embase.ris"
    ris.write_text(RIS)
    nbib = tmp_path / "pubmed.nbib"
    nbib.write_text(MEDLINE)

    output = run(str(ris), str(nbib), review="imt", database="Embase")

    assert output.splitlines() == [
        f"{ris}: 2 records (format ris, 1 warning)",
        f"{nbib}: 1 records (format medline, 0 warnings)",
    ]
    assert Record.objects.filter(review=review).count() == 3
    source = Source.objects.get(review=review)
    assert source.name == "Embase"
    record = Record.objects.get(doi="10.1002/pbc.28999")
    assert record.title.startswith("Outcomes of pediatric inflammatory myofibroblastic tumor")
    assert "multicentre study of 34 patients" in record.title
    assert record.authors == ["Kim, Ji-woo"]
    assert record.year == 2021
    assert record.pmid == "31234567"


def test_dry_run_reads_but_stores_nothing(review, tmp_path: Path) -> None:
    ris = tmp_path / "embase.ris"
    ris.write_text(RIS)

    output = run(str(ris), review="imt", database="Embase", dry_run=True)

    assert output.startswith(f"{ris}: 2 records (format ris")
    assert not Record.objects.exists()
    assert not Source.objects.exists()
    assert not ImportJob.objects.exists()


def test_one_bad_file_imports_nothing_and_names_the_file(review, tmp_path: Path) -> None:
    good = tmp_path / "good.ris"
    good.write_text(RIS)
    bad = tmp_path / "paper.ris"
    bad.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")

    with pytest.raises(CommandError) as error:
        run(str(good), str(bad), review="imt", database="Embase")

    assert "paper.ris" in str(error.value)
    assert "PDF" in str(error.value)
    assert not Record.objects.exists()
    assert not Source.objects.exists(), "a source made for a failed import is removed again"


def test_unknown_review_and_missing_file_are_refused(review, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No review with the slug “nope”"):
        run(str(tmp_path / "x.ris"), review="nope", database="PubMed")
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "missing.ris"), review="imt", database="PubMed")


def test_format_override_is_used(review, tmp_path: Path) -> None:
    ris = tmp_path / "export.txt"
    ris.write_text(RIS)

    output = run(str(ris), review="imt", database="Scopus", format="ris", dry_run=True)

    assert "(format ris" in output


def test_second_search_of_same_database_needs_a_date(review, tmp_path: Path) -> None:
    ris = tmp_path / "embase.ris"
    ris.write_text(RIS)
    run(str(ris), review="imt", database="Embase", search_date="2024-02-29")
    run(str(ris), review="imt", database="Embase", search_date="2025-01-10", import_again=True)

    with pytest.raises(CommandError, match="several searches of “Embase”"):
        run(str(ris), review="imt", database="Embase")
    assert Source.objects.filter(review=review, name="Embase").count() == 2


def test_as_a_real_process_exit_status_and_messages(tmp_path: Path) -> None:
    """Scripted use: exit 0 with one line per file; non-zero with what and where on failure."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("REDIS_URL", None)

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    assert manage("migrate", "-v0").returncode == 0
    setup = (
        "from reviewer.models import User; from reviewer.services.reviews import review_create;"
        "review_create(title='IMT', slug='imt', created_by=User.objects.create(username='o'))"
    )
    assert manage("shell", "-c", setup).returncode == 0
    good = tmp_path / "embase.ris"
    good.write_text(RIS)
    truncated = tmp_path / "cut.ris"
    truncated.write_text("TY  - JOUR\nTI  - A title\nAU  - Smith, A\nPY  - 20")

    ok = manage("import_search", str(good), "--review", "imt", "--database", "Embase")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"{good}: 2 records (format ris")

    missing = manage("import_search", str(good), "--review", "nope", "--database", "Embase")
    assert missing.returncode != 0
    assert "No review with the slug “nope”" in missing.stderr

    pdf = tmp_path / "scan.ris"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    bad = manage("import_search", str(pdf), "--review", "imt", "--database", "Embase")
    assert bad.returncode != 0
    assert "scan.ris" in bad.stderr and "PDF" in bad.stderr


CUT_RIS = RIS + "TY  - JOUR\nTI  - Inflammatory myofibroblastic tumour of the liv"


def test_a_file_whose_last_record_is_cut_is_refused_by_record_and_line(
    review, tmp_path: Path
) -> None:
    cut = tmp_path / "embase.ris"
    cut.write_text(CUT_RIS)

    with pytest.raises(CommandError) as error:
        run(str(cut), review="imt", database="Embase")

    assert (
        "embase.ris: record 3 (line 16) is cut short: the file's last record, as in a download "
        "that did not finish. Export the search again, or give --accept-truncated"
    ) in str(error.value)
    assert not Record.objects.exists()
    assert not Source.objects.exists()


def test_accept_truncated_imports_the_cut_record_as_it_is(review, tmp_path: Path) -> None:
    cut = tmp_path / "embase.ris"
    cut.write_text(CUT_RIS)

    output = run(str(cut), review="imt", database="Embase", accept_truncated=True)

    assert "  check: Record 3 (line 16) is cut short" in output
    assert Record.objects.filter(review=review).count() == 3
    assert Record.objects.filter(title="Inflammatory myofibroblastic tumour of the liv").exists()


def test_the_same_file_again_is_refused_unless_import_again(review, tmp_path: Path) -> None:
    ris = tmp_path / "embase.ris"
    ris.write_text(RIS)
    run(str(ris), review="imt", database="Embase")
    first = ImportJob.objects.get()

    with pytest.raises(CommandError) as error:
        run(str(ris), review="imt", database="Embase")

    assert "embase.ris was already imported into “Embase” on " in str(error.value)
    assert f"by owner (import #{first.pk}, 2 records, as embase.ris)" in str(error.value)
    assert Record.objects.count() == 2

    run(str(ris), review="imt", database="Embase", import_again=True)

    assert Record.objects.count() == 4


def test_two_identical_files_in_one_run_are_refused_unless_import_again(
    review, tmp_path: Path
) -> None:
    one, two = tmp_path / "part1.ris", tmp_path / "part1-copy.ris"
    one.write_text(RIS)
    two.write_text(RIS)

    with pytest.raises(CommandError, match=r"part1-copy\.ris is identical to part1\.ris"):
        run(str(one), str(two), review="imt", database="Embase")

    assert not Record.objects.exists()


def test_says_nothing_of_the_tasks_it_ran_in_process(
    review, tmp_path: Path, caplog, django_capture_on_commit_callbacks
) -> None:
    """With no broker the de-duplication after an import runs as an eager task: the
    command's output is its one line per file, without Celery's "Task … succeeded" lines."""
    ris = tmp_path / "embase.ris"
    ris.write_text(RIS)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        output = run(str(ris), review="imt", database="Embase")

    assert output.splitlines() == [f"{ris}: 2 records (format ris, 1 warning)"]
    assert Record.objects.count() == 2
    assert callbacks, "the de-duplication task was enqueued and ran"
    logged = [record.getMessage() for record in caplog.records]
    assert not [line for line in logged if "succeeded in" in line or "hostname" in line], logged


def test_a_trial_from_cochrane_and_from_psycinfo_is_linked_as_one(
    review, shared_data, django_capture_on_commit_callbacks
) -> None:
    """The same trial exported by Cochrane CENTRAL (with its PMID) and by Ovid PsycINFO
    (whose cited references carry other works' PMIDs): one paper, linked on import."""
    folder = shared_data / "exports/asreview_citation_file_formatting/RIS"
    for name, database in (("cochrane_endnote", "CENTRAL"), ("psychInfo_ovid", "PsycINFO")):
        with django_capture_on_commit_callbacks(execute=True):  # the check after the import
            run(str(folder / f"_baseline_{name}.ris"), review="imt", database=database)

    copies = Record.objects.filter(review=review, doi="10.5093/pi2022a2")

    assert copies.count() == 2
    kept = copies.get(duplicate_of=None)
    assert kept.source.name == "CENTRAL" and kept.pmid == "37362617"
    assert copies.get(duplicate_of=kept).source.name == "PsycINFO"


def test_an_endnote_refer_export_is_read_and_imported(review, shared_data) -> None:
    path = shared_data / "exports/colrev/2_loader_data/enl_data.enl"

    output = run(str(path), review="imt", database="AIS eLibrary")

    assert (
        output.splitlines()[0] == f"{path}: 3 records (format refer, 2 warnings)"
    )  # no abstract, no authors: the contents page
    titles = sorted(Record.objects.filter(review=review).values_list("title", flat=True))
    assert titles[0].startswith("How Trust Leads to Commitment on Microsourcing Platforms")
    assert len(titles) == 3
