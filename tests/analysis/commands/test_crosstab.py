"""`manage.py crosstab FILE.csv --row --col`: the readable report, the JSON, "not
reported" cells left out, and an unknown column named with the ones there are."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.analysis.stats import SITE_COUNTS, SITES, patients, r_table


def crosstab(*args: str) -> str:
    out = io.StringIO()
    call_command("crosstab", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def sites_csv(tmp_path: Path) -> Path:
    """The reference review's patients as extraction exports them, plus three patients
    whose management is not reported, written as Excel writes CSV UTF-8 (with a BOM)."""
    sites, managed = patients(SITE_COUNTS, SITES, ("yes", "no"))
    lines = ["study_key,study,patient,site,non_operative"]
    lines += [
        f"s{i % 7},Study {i % 7},{i},{site},{nonop}"
        for i, (site, nonop) in enumerate(zip(sites, managed, strict=True))
    ]
    lines += [
        "s1,Study 1,900,thorax,not reported",
        "s1,Study 1,901,thorax,NR",
        "s2,Study 2,902,,no",
    ]
    path = tmp_path / "patients.csv"
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_json_output(sites_csv: Path) -> None:
    data = json.loads(crosstab(str(sites_csv), "--row", "site", "--col", "non_operative", "--json"))
    assert list(data) == [
        "counts",
        "expected",
        "row_levels",
        "col_levels",
        "excluded",
        "pearson",
        "likelihood_ratio",
        "fisher",
        "yates",
        "min_expected",
        "warnings",
        "reported_test",
        "reported_p",
        "reported_p_formatted",
    ]
    assert data["row_levels"] == ["abdomen/pelvis", "extremities", "head/neck", "thorax"]
    assert data["col_levels"] == ["no", "yes"]
    assert data["counts"] == [[224, 9], [11, 2], [29, 5], [121, 4]]
    assert data["excluded"] == 3
    assert data["likelihood_ratio"]["p"] == pytest.approx(0.04318043222232988, rel=1e-9)
    assert data["fisher"] == {"p": pytest.approx(0.014992293774174137, rel=1e-9), "method": "exact"}
    assert data["yates"] is None
    assert data["reported_test"] == "fisher"
    assert data["reported_p_formatted"] == "0.015"


def test_readable_output(sites_csv: Path) -> None:
    out = crosstab(str(sites_csv), "--row", "site", "--col", "non_operative")
    assert "site × non_operative: 405 patients; 3 left out, a value not reported" in out
    assert "extremities      11 (84.6%)  2 (15.4%)     13" in out
    assert "Expected counts" in out
    assert "Likelihood-ratio chi-square  G = 8.141, df = 3, p = 0.043" in out
    assert "Pearson chi-square           chi2 = 11.311, df = 3, p = 0.010" in out
    assert "Fisher's exact test (exact)  p = 0.015" in out
    assert "Reported (rule auto): Fisher's exact test, p = 0.015" in out
    assert "- 3 patients with site or non_operative not reported were left out." in out


def test_rule_and_yates(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text("a,b\n" + "x,y\n" * 12 + "x,z\n" * 5 + "w,y\n" * 7 + "w,z\n" * 14)
    data = json.loads(crosstab(str(path), "--row", "a", "--col", "b", "--yates", "--json"))
    reference = r_table("moderate_2x2")["yates"]  # the same table, R's correct = TRUE
    assert data["yates"]["chi2"] == pytest.approx(reference["chi2"], rel=1e-9)
    assert data["yates"]["p"] == pytest.approx(reference["p"], rel=1e-9)
    assert data["reported_test"] == "pearson_yates"
    data = json.loads(crosstab(str(path), "--row", "a", "--col", "b", "--rule", "fisher", "--json"))
    assert data["reported_test"] == "fisher"
    assert data["yates"] is None


def test_an_unknown_column_is_named_with_the_columns_there_are(sites_csv: Path) -> None:
    with pytest.raises(CommandError) as raised:
        crosstab(str(sites_csv), "--row", "site", "--col", "operated")
    assert str(raised.value) == (
        f"{sites_csv} has no column “operated”; its columns are: "
        "study_key, study, patient, site, non_operative."
    )


def test_a_single_level_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("a,b\nx,y\nx,z\n")
    with pytest.raises(CommandError, match="a has a single level"):
        crosstab(str(path), "--row", "a", "--col", "b")


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No file at"):
        crosstab(str(tmp_path / "nothing.csv"), "--row", "a", "--col", "b")
