"""`manage.py metaprop FILE.csv --events --total`: the JSON with exactly its keys and
metafor's numbers, the readable report, and bad input named by line and column."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.analysis.stats.test_meta_metafor import REFERENCE

KEYS = ["estimate", "ci_low", "ci_high", "tau2", "i2", "q", "q_p", "pi_low", "pi_high", "k"]
CASE_SERIES = next(d for d in REFERENCE["proportions"] if d["name"] == "case_series")


def metaprop(*args: str) -> str:
    out = io.StringIO()
    call_command("metaprop", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def studies_csv(tmp_path: Path) -> Path:
    lines = ["study,recurrences,patients"]
    lines += [
        f"Author {i + 1} 20{10 + i},{x},{n}"
        for i, (x, n) in enumerate(zip(CASE_SERIES["xi"], CASE_SERIES["ni"], strict=True))
    ]
    path = tmp_path / "studies.csv"
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("method", "transform", "key", "tolerance"),
    [
        ("glmm", "logit", "GLMM", 1e-3),
        ("reml", "logit", "PLO_REML_z", 1e-4),
        ("dl", "logit", "PLO_DL_z", 1e-6),
        ("reml", "ft", "PFT_REML_z", 1e-4),
        ("dl", "ft", "PFT_DL_z", 1e-6),
    ],
)
def test_json_has_exactly_the_keys_and_metafors_numbers(
    studies_csv: Path, method: str, transform: str, key: str, tolerance: float
) -> None:
    args = ["--events", "recurrences", "--total", "patients", "--study", "study"]
    args += ["--method", method, "--json"]
    if method != "glmm":
        args += ["--transform", transform]
    printed = json.loads(metaprop(str(studies_csv), *args))

    assert list(printed) == KEYS
    expected = CASE_SERIES["results"][key]
    for name in KEYS:
        assert printed[name] == pytest.approx(expected[name], rel=tolerance, abs=tolerance), name
    assert 0 < printed["ci_low"] < printed["estimate"] < printed["ci_high"] < 1


def test_the_report_reads_as_a_sentence(studies_csv: Path) -> None:
    out = metaprop(str(studies_csv), "--events", "recurrences", "--total", "patients")

    assert "Pooled proportion (binomial-normal GLMM, logit scale): 19.4% (95% CI" in out
    assert "10 studies, 93 participants" in out
    assert "95% prediction interval" in out
    assert "Heterogeneity: τ² = 0.0000 (ML), I² = 0.0%, Q = 1.37 on 9 df" in out


def test_an_unknown_column_is_named_with_the_columns_there_are(studies_csv: Path) -> None:
    with pytest.raises(CommandError, match="no column “events”; its columns are: study"):
        metaprop(str(studies_csv), "--events", "events", "--total", "patients")


def test_a_count_that_is_no_count_is_named_by_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("x,n\n1,10\ntwo,12\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 3, column “x”: “two” is not a count"):
        metaprop(str(path), "--events", "x", "--total", "n")


def test_more_events_than_patients_is_refused_with_the_study(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("s,x,n\nSmith,1,10\nJones,12,10\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Jones: 12 events of 10 is not a proportion"):
        metaprop(str(path), "--events", "x", "--total", "n", "--study", "s", "--method", "dl")
