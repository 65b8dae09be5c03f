"""Analysis for the demo review: the analyses a newcomer should see at once.

Called by the demo command once the extraction demo has filled the final patient rows.
The runs execute here, in this process, whether or not a broker is configured, so their
results are on the page when the demo finishes.
"""

from __future__ import annotations

from typing import Any

from analysis.models import AnalysisKind, AnalysisRun, ReportingRule
from analysis.services.data import form_variables
from analysis.services.runs import analysis_run_now
from reviewer.models import Review, User

#: The reference review's Table 1: margin status against recurrence, reoperation, mortality.
EXPOSURE = "margin"
OUTCOMES = ("recurrence", "reoperation", "outcome")
#: Its comparison of tumor sites: non-operative management by site, which the paper
#: reports by the likelihood-ratio test (JMP's first), p = 0.04.
ROW, COL = "site", "management"
#: Pooled across the final studies: recurrence, reoperation and death of disease as
#: proportions (the binomial-normal GLMM), and margin status against recurrence as an odds
#: ratio (Mantel–Haenszel).
POOLED_EVENTS = (("recurrence", "Yes"), ("reoperation", "Yes"), ("outcome", "Died of disease"))
POSITIVE, NEGATIVE = "Positive", "Negative"


def analysis_demo(review: Review, user: User) -> list[AnalysisRun]:
    """Run the patient characteristics, Table 1, site × management, the pooled rates and
    the pooled odds ratio of recurrence by margin status on `review`.

    Analyses whose fields the review's form lacks are skipped; a run on data it cannot
    analyse is stored as failed with its reason, like any other.
    """
    keys = set(form_variables(review))
    wanted: list[tuple[AnalysisKind, dict[str, Any]]] = [(AnalysisKind.CHARACTERISTICS, {})]
    auto = ReportingRule.AUTO.value
    if {EXPOSURE, *OUTCOMES} <= keys:
        table_one = {"exposure": EXPOSURE, "outcomes": list(OUTCOMES), "rule": auto}
        wanted.append((AnalysisKind.RISK_FACTORS, table_one))
    if {ROW, COL} <= keys:
        sites = {"row": ROW, "col": COL, "rule": ReportingRule.LIKELIHOOD_RATIO.value}
        wanted.append((AnalysisKind.CROSSTAB, sites))
    for outcome, event in POOLED_EVENTS:
        if outcome in keys:
            rate = {"outcome": outcome, "event": event, "method": "glmm"}
            wanted.append((AnalysisKind.POOLED_PROPORTION, rate))
    if {EXPOSURE, "recurrence"} <= keys:
        ratio = {
            "exposure": EXPOSURE,
            "group_1": POSITIVE,
            "group_2": NEGATIVE,
            "outcome": "recurrence",
            "event": "Yes",
            "measure": "OR",
            "method": "mh",
        }
        wanted.append((AnalysisKind.POOLED_RATIO, ratio))
    return [
        analysis_run_now(review=review, kind=kind, spec=spec, user=user) for kind, spec in wanted
    ]
