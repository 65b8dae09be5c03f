"""The statistics of the analysis app: plain data in, plain data out.

No models, no requests, no Celery: every function takes lists, tables of counts or a pandas
DataFrame of patients (one row each, one column per extraction field) and returns frozen
dataclasses with a `to_dict()` for JSON. Bad input raises `StatsInputError`, whose message
is a sentence for the user.

- `crosstab`: counts, expected counts, Pearson, likelihood-ratio (G) and Fisher's exact
  tests (exact r×c, Monte Carlo past a budget), Yates on request, and the p to report.
- `fisher`: the exact r×c Fisher test itself.
- `summary`: patient characteristics, categorical, multiple choice and numeric.
- `risk`: outcomes by exposure group with a p per outcome, as a paper's "Table 1".
- `chart`: a bar chart of a cross-tabulation (SVG, PNG).
- `meta`: pooled results across studies (proportions by GLMM or inverse variance, odds and
  risk ratios by Mantel–Haenszel or random effects, subgroups, leave-one-out), as R's
  metafor computes them; `forest` draws them (SVG, PNG, PDF); `meta_export` lays them out
  as rows.
- `export`: all of these as rows, CSV and XLSX.
- `pvalues`: p-values and percentages as journals print them.
- `values`: what is missing, and the order of levels.
"""

from __future__ import annotations

from analysis.stats.chart import crosstab_chart
from analysis.stats.crosstab import (
    RULES,
    TEST_NAMES,
    ChiSquareTest,
    CrossTab,
    LikelihoodRatioTest,
    ReportedTest,
    Rule,
    YatesTest,
    crosstab,
    crosstab_from_counts,
)
from analysis.stats.errors import StatsInputError
from analysis.stats.export import (
    crosstab_rows,
    risk_factor_rows,
    summary_rows,
    to_csv_bytes,
    to_xlsx_bytes,
)
from analysis.stats.fisher import FisherTest, fisher_exact
from analysis.stats.pvalues import format_p, format_percent, p_statement
from analysis.stats.risk import (
    GroupCount,
    RiskFactorLevel,
    RiskFactorOutcome,
    RiskFactorTable,
    risk_factor_table,
)
from analysis.stats.summary import (
    CategoricalSummary,
    FieldSpec,
    FieldSummary,
    LevelCount,
    NumericSummary,
    summarise,
)
from analysis.stats.values import clean

__all__ = [
    "RULES",
    "TEST_NAMES",
    "CategoricalSummary",
    "ChiSquareTest",
    "CrossTab",
    "FieldSpec",
    "FieldSummary",
    "FisherTest",
    "GroupCount",
    "LevelCount",
    "LikelihoodRatioTest",
    "NumericSummary",
    "ReportedTest",
    "RiskFactorLevel",
    "RiskFactorOutcome",
    "RiskFactorTable",
    "Rule",
    "StatsInputError",
    "YatesTest",
    "clean",
    "crosstab",
    "crosstab_chart",
    "crosstab_from_counts",
    "crosstab_rows",
    "fisher_exact",
    "format_p",
    "format_percent",
    "p_statement",
    "risk_factor_rows",
    "risk_factor_table",
    "summarise",
    "summary_rows",
    "to_csv_bytes",
    "to_xlsx_bytes",
]
