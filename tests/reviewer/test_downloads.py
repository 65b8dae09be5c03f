"""Every download is named `<review>-<what>-<date>.<ext>` (reviewer.downloads), so a file
opens by double-click and sorts by review and day: the exports, the PRISMA files, the
extraction sheets and their problems, the analysis tables and charts."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from analysis.services.runs import analysis_run_now
from extraction.selectors import study_key
from reviewer.downloads import attachment_headers, download_name
from reviewer.services import screening as services
from tests.conftest import REPO_ROOT
from tests.extraction.helpers import JBI_ALL_YES, appraise, case_series_form, fill
from tests.factories import make_record, make_source, pass_title_abstract, screen

pytestmark = pytest.mark.django_db


def test_the_name_is_review_what_date_extension(team) -> None:
    day = date(2026, 12, 3)

    assert download_name(team.review, "exports", "zip", day=day) == (
        "pediatric-imt-exports-2026-12-03.zip"
    )
    assert download_name(team.review, "Flow diagram 300dpi", "png", day=day) == (
        "pediatric-imt-flow-diagram-300dpi-2026-12-03.png"
    )
    headers = attachment_headers(team.review, "included-studies", "ris", day=day)
    assert headers == {
        "Content-Disposition": (
            'attachment; filename="pediatric-imt-included-studies-2026-12-03.ris"'
        )
    }


@pytest.fixture
def everything(team):
    """An approved study with final extraction data and a finished analysis."""
    source = make_source(team.review, "PubMed")
    record = make_record(team.review, source, title="ALK-positive IMT in 34 children")
    pass_title_abstract(record, team.reviewer, team.owner)
    screen(record, team.reviewer, "include", stage="ft")
    screen(record, team.owner, "include", stage="ft")
    (approval,) = services.approve(review=team.review, records=[record], user=team.senior)
    form = case_series_form(team.review, dual=False)
    patients = [
        {"sex": sex, "site": "Thorax", "management": management}
        for sex in ("Male", "Female")
        for management in ("Operative", "Non-operative")
    ]
    fill(approval.study, team.reviewer, patients=patients, done=True)
    appraise(approval.study, None, JBI_ALL_YES, done=True)
    run = analysis_run_now(
        review=team.review, kind="crosstab", spec={"row": "sex", "col": "management"},
        user=team.senior,
    )  # fmt: skip
    assert run.result, run.error
    return approval.study, form, run


def test_every_download_is_named_review_what_date_extension(client, team, everything) -> None:
    study, form, run = everything
    slug = team.review.slug
    client.force_login(team.senior)
    urls = [
        reverse(name, args=[slug])
        for name in (
            "export-decisions",
            "export-agreement",
            "export-records",
            "export-included-csv",
            "export-included-ris",
            "export-bundle",
        )
    ]
    urls += [reverse("prisma-download", args=[slug, fmt]) for fmt in ("svg", "png", "png600", "pdf", "csv")]  # fmt: skip  # noqa: E501
    extraction = reverse("extraction-export", args=[slug])
    urls += [
        f"{extraction}?kind={kind}&scope=final&format={fmt}"
        for kind in ("patients", "studies")
        for fmt in ("csv", "xlsx")
    ]
    urls += [
        reverse("analysis-export-csv", args=[slug, run.pk]),
        reverse("analysis-export-xlsx", args=[slug, run.pk]),
        reverse("analysis-chart-png", args=[slug, run.pk, 0]),
    ]
    urls += [
        reverse("appraisal-download", args=[slug, "jbi-case-series", what, fmt])
        for what, fmt in [
            *(
                (kind, fmt)
                for kind in ("traffic-light", "summary")
                for fmt in ("svg", "png", "pdf")
            ),
            ("robvis", "csv"),
            ("table", "csv"),
        ]
    ]
    columns = ["study_key", "study", "patient", *(f.key for f in form.patient_fields)]
    bad = ",".join(columns) + f"\n{study_key(study)},{study.label},1,Male,x\n"
    upload = client.post(
        reverse("extraction-import", args=[slug]),
        {"file": SimpleUploadedFile("my patients.csv", bad.encode()), "kind": "patients",
         "target": "mine"},
    )  # fmt: skip
    token = re.search(r"token=([\w-]+)", upload["Location"])
    assert token is not None
    urls.append(reverse("extraction-import-problems", args=[slug]) + f"?token={token[1]}")

    day = re.escape(timezone.localdate().isoformat())
    name = re.compile(rf'attachment; filename="{slug}-[a-z0-9]+(-[a-z0-9]+)*-{day}\.[a-z]+"')
    names = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        names[url] = response["Content-Disposition"]
        assert name.fullmatch(names[url]), names[url]
    assert len(set(names.values())) == len(urls), "no two downloads share a name"
    today = timezone.localdate().isoformat()
    assert names[reverse("export-bundle", args=[slug])] == (
        f'attachment; filename="{slug}-exports-{today}.zip"'
    )


#: The one place a download name is made; the screening page's PDF is the reviewer's own
#: upload, shown inline under its own name, not a download this app names.
ALLOWED = {Path("reviewer/downloads.py"), Path("reviewer/views/screening.py")}


def test_one_helper_names_every_download() -> None:
    offenders = []
    for package in ("reviewer", "extraction", "analysis"):
        for path in (REPO_ROOT / package).rglob("*.py"):
            relative = path.relative_to(REPO_ROOT)
            if relative in ALLOWED:
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"Content-Disposition|FileResponse\(|attachment; filename", text):
                offenders.append(str(relative))
    assert offenders == []
