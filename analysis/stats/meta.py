"""Pooled results across studies (meta-analysis), computed as R's `metafor` computes them.

Single proportions per study (events of a total):

- `method="dl"` / `"reml"`: the two-step inverse-variance random-effects model on the logit
  (`transform="logit"`, metafor's measure "PLO") or the Freeman–Tukey double arcsine
  (`"ft"`, "PFT") of each study's proportion, τ² by DerSimonian–Laird or restricted maximum
  likelihood (metafor's Fisher scoring, its starting value, threshold and check of τ² = 0),
  optionally with the Hartung–Knapp adjustment (t on k - 1 degrees of freedom). As metafor
  does, the logit adds 0.5 to the events and the non-events of a study with none of one
  (0 or all events); the double arcsine needs no correction. The double arcsine goes back
  to a proportion by the harmonic-mean inversion (metafor's `transf.ipft.hm`).
- `method="glmm"`: the one-step binomial-normal model (events ~ Binomial(n, expit(μ + u)),
  u ~ N(0, τ²)) by maximum likelihood with adaptive Gauss–Hermite quadrature at 7 points,
  as `rma.glmm(measure="PLO")` fits it through lme4's `glmer(nAGQ = 7)`; its standard error
  from the Hessian of the deviance in (τ, μ), as lme4's `vcov` takes it. No correction is
  needed; Q is metafor's Wald-type one (the saturated model's), I² uses τ² and the
  typical within-study variance of the corrected logits, as metafor's does.

Two groups per study (events and totals in each, e.g. recurrence with positive and negative
margins): the odds ratio or the risk ratio,

- `method="mh"`: Mantel–Haenszel fixed effect (`rma.mh`; Robins–Breslow–Greenland and
  Greenland–Robins variances; no correction; Q from the corrected log ratios of the
  studies with events in some arm and non-events in some arm);
- `method="dl"` / `"reml"`: inverse-variance random effects on the log ratio (`rma`),
  0.5 added to every cell of a study with an empty cell.

Every result carries the estimate with its 95% CI, τ² and its estimator, I², Q with its p,
the 95% prediction interval, k studies and N participants, and each study's own estimate and
weight. `subgroups` pools each subgroup separately and tests the difference between them
(Q between subgroups on the subgroup estimates); `leave_one_out` pools again without each
study in turn.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from analysis.stats.errors import StatsInputError

# Heavy libraries are imported inside the functions that use them: loading Django (every
# web process, worker and manage.py command) must not pay for them (tests/test_startup.py).
if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "LeaveOneOut",
    "LeaveOneOutRow",
    "Pooled",
    "StudyRow",
    "SubgroupAnalysis",
    "leave_one_out",
    "pool_proportions",
    "pool_two_groups",
    "subgroups",
    "transf_ipft_hm",
]

ProportionMethod = Literal["dl", "reml", "glmm"]
Transform = Literal["logit", "ft"]
TwoGroupMethod = Literal["mh", "dl", "reml"]
Measure = Literal["PLO", "PFT", "OR", "RR"]

LEVEL = 0.95
#: The normal quantile for 95% intervals, `scipy.stats.norm.ppf(0.975)` (R's `qnorm(0.975)`)
#: written out, so that loading the module does not load scipy (tests/analysis/stats/test_meta.py
#: checks the figure).
Z = 1.959963984540054
#: metafor's defaults for the Fisher scoring of REML (`rma.uni`'s `control`).
REML_THRESHOLD = 1e-5
REML_MAX_ITERATIONS = 100
#: Fisher scoring's step scaled by each in turn until it converges (metafor's `stepadj`).
REML_STEP_ADJUSTMENTS = (1.0, 0.5, 0.25, 0.125)
REML_LL0_TOLERANCE = sys.float_info.epsilon**0.25
#: rma.glmm's default number of quadrature points.
N_AGQ = 7
#: A GLMM τ below this is the boundary τ = 0 reached by an optimiser's steps.
TAU_AT_ZERO = 1e-5

#: How τ² is estimated, by method.
ESTIMATORS = {"dl": "DerSimonian–Laird", "reml": "REML", "glmm": "ML", "mh": "none (fixed effect)"}
METHOD_NAMES = {
    "dl": "random effects, inverse variance",
    "reml": "random effects, inverse variance",
    "glmm": "binomial-normal GLMM",
    "mh": "Mantel–Haenszel fixed effect",
}
MEASURE_NAMES = {
    "PLO": "proportion (logit)",
    "PFT": "proportion (Freeman–Tukey double arcsine)",
    "OR": "odds ratio",
    "RR": "risk ratio",
}


@dataclass(frozen=True)
class StudyRow:
    """One study as the forest plot shows it: its data, its own estimate with 95% CI on
    the natural scale, and its weight in the pooled estimate (percent; None in a GLMM,
    which weighs no study by a number)."""

    label: str
    events: int
    total: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    weight: float | None
    events_2: int | None = None
    total_2: int | None = None


@dataclass(frozen=True)
class Pooled:
    """A pooled result. `estimate`, CI and prediction interval are on the natural scale (a
    proportion 0–1, an odds or risk ratio); `estimate_t` and `se_t` on the scale pooled
    (logit, double arcsine, log ratio), where `tau2` is too. `i2` is in percent."""

    measure: Measure
    method: str
    estimator: str
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    estimate_t: float
    se_t: float
    tau2: float
    i2: float
    q: float
    q_df: int
    q_p: float
    k: int
    n: int
    hartung_knapp: bool
    correction: str
    studies: tuple[StudyRow, ...] = field(default=())

    @property
    def measure_name(self) -> str:
        return MEASURE_NAMES[self.measure]

    @property
    def method_name(self) -> str:
        return METHOD_NAMES[self.method]

    @property
    def is_proportion(self) -> bool:
        return self.measure in ("PLO", "PFT")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> Pooled:
        """A stored `to_dict()` as the result again (a stored NaN is None: undefined)."""
        values = {k: v for k, v in stored.items() if k != "studies"}
        for name in ("tau2", "i2", "q", "q_p", "se_t"):
            if values.get(name) is None:
                values[name] = math.nan
        studies = tuple(StudyRow(**row) for row in stored.get("studies", []))
        return cls(**values, studies=studies)


@dataclass(frozen=True)
class SubgroupAnalysis:
    """Each subgroup pooled on its own, all studies pooled, and the test for subgroup
    differences: Q between subgroups (the subgroup estimates' inverse-variance spread on the
    pooled scale), on (groups - 1) degrees of freedom."""

    overall: Pooled
    groups: tuple[tuple[str, Pooled], ...]
    q_between: float
    df_between: int
    p_between: float

    def to_dict(self) -> dict[str, object]:
        return {
            "overall": self.overall.to_dict(),
            "groups": [{"label": label, "result": r.to_dict()} for label, r in self.groups],
            "q_between": self.q_between,
            "df_between": self.df_between,
            "p_between": self.p_between,
        }


@dataclass(frozen=True)
class LeaveOneOutRow:
    """The pooled result without `omitted`; all None, with the reason as `note`, when the
    remaining studies cannot be pooled (no events left, say)."""

    omitted: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    tau2: float | None
    i2: float | None
    q: float | None
    q_p: float | None
    k: int
    note: str = ""


@dataclass(frozen=True)
class LeaveOneOut:
    rows: tuple[LeaveOneOutRow, ...]

    def to_dict(self) -> dict[str, object]:
        return {"rows": [asdict(row) for row in self.rows]}


# --- the transformations ---


def _pft(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """metafor's PFT: half the sum of the two arcsines."""
    import numpy as np

    return np.asarray(
        0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
    )


def _transf_pft(p: float, n: float) -> float:
    """A proportion `p` of `n` on the double arcsine scale (metafor's `transf.pft`)."""
    x = p * n
    return 0.5 * (math.asin(math.sqrt(x / (n + 1))) + math.asin(math.sqrt((x + 1) / (n + 1))))


def transf_ipft_hm(value: float, totals: Sequence[float]) -> float:
    """A double arcsine back to a proportion at the harmonic mean of the totals
    (metafor's `transf.ipft.hm`)."""
    import numpy as np

    n = 1 / float(np.mean(1 / np.asarray(totals, dtype=float)))
    if value > _transf_pft(1.0, n):
        return 1.0
    if value < _transf_pft(0.0, n):
        return 0.0
    s = math.sin(2 * value)
    c = math.cos(2 * value)
    inside = 1 - (s + (s - 1 / s) / n) ** 2
    if inside < 0:
        return math.nan
    return 0.5 * (1 - math.copysign(1.0, c) * math.sqrt(inside)) if c != 0 else 0.5


def _expit(x: float) -> float:
    return float(1 / (1 + math.exp(-x))) if x >= 0 else float(math.exp(x) / (1 + math.exp(x)))


# --- the inverse-variance model (rma.uni, intercept only) ---


@dataclass(frozen=True)
class _Fit:
    beta: float
    se: float
    tau2: float
    q: float
    q_p: float
    i2: float
    crit: float
    weights: np.ndarray


def _heterogeneity(y: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """Q, its p on k - 1 df, and metafor's "typical" within-study variance (k - 1)/tr(P)."""
    import numpy as np
    from scipy import stats

    k = len(y)
    w = 1 / v
    mu = float(np.sum(w * y) / np.sum(w))
    q = max(0.0, float(np.sum(w * (y - mu) ** 2)))
    if k < 2:
        return 0.0, 1.0, 0.0
    tr_p = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    return q, float(stats.chi2.sf(q, k - 1)), (k - 1) / tr_p


def _tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    import numpy as np

    k = len(y)
    if k < 2:
        return 0.0
    w = 1 / v
    q, _, _ = _heterogeneity(y, v)
    tr_p = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    return max(0.0, (q - (k - 1)) / tr_p)


def _reml_ll(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    import numpy as np

    w = 1 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    rss = float(np.sum(w * (y - mu) ** 2))
    k = len(y)
    return float(
        -0.5 * (k - 1) * math.log(2 * math.pi)
        - 0.5 * np.sum(np.log(v + tau2))
        - 0.5 * math.log(float(np.sum(w)))
        - 0.5 * rss
    )


def _tau2_reml(y: np.ndarray, v: np.ndarray) -> float:
    """REML τ² by metafor's Fisher scoring: the Hedges start max(0, var(y) - mean(v)),
    steps halved to stay at or above 0, until a step is under 1e-5; then τ² = 0 when the
    likelihood there is higher (a local maximum).

    On sparse data full steps can overshoot back and forth without end (metafor stops with
    "Fisher scoring algorithm did not converge" and suggests its `stepadj` control): each
    step is then scaled by 1/2, 1/4, 1/8 in turn, as `control=list(stepadj=...)` does, which
    reaches the same maximum of the likelihood in more, shorter steps."""

    k = len(y)
    if k < 2:
        return 0.0
    for step in REML_STEP_ADJUSTMENTS:
        tau2 = _reml_scoring(y, v, step)
        if tau2 is not None:
            break
    else:
        raise StatsInputError(
            "The REML estimate of the between-study variance did not converge; "
            "try DerSimonian–Laird."
        )
    if tau2 > REML_THRESHOLD and _reml_ll(y, v, 0.0) - _reml_ll(y, v, tau2) > REML_LL0_TOLERANCE:
        tau2 = 0.0
    return tau2


def _reml_scoring(y: np.ndarray, v: np.ndarray, step: float) -> float | None:
    """Fisher scoring for REML τ² with each step scaled by `step`; None when it has not
    converged in `REML_MAX_ITERATIONS` steps."""
    import numpy as np

    tau2 = max(0.0, float(np.var(y, ddof=1) - np.mean(v)))
    for _ in range(REML_MAX_ITERATIONS + 1):
        w = 1 / (v + tau2)
        sw = float(np.sum(w))
        py = w * (y - float(np.sum(w * y)) / sw)
        tr_p = sw - float(np.sum(w**2)) / sw
        tr_pp = float(np.sum(w**2) - 2 * np.sum(w**3) / sw + (np.sum(w**2) / sw) ** 2)
        adj = step * (float(np.sum(py**2)) - tr_p) / tr_pp
        if math.isnan(adj):
            adj = 0.0
        while tau2 + adj < 0:
            adj /= 2
        old, tau2 = tau2, tau2 + adj
        if abs(old - tau2) <= REML_THRESHOLD:
            return tau2
    return None


def _fit(y: np.ndarray, v: np.ndarray, tau2: float, *, hartung_knapp: bool) -> _Fit:
    import numpy as np
    from scipy import stats

    k = len(y)
    w = 1 / (v + tau2)
    beta = float(np.sum(w * y) / np.sum(w))
    var = 1 / float(np.sum(w))
    crit = Z
    if hartung_knapp and k > 1:
        rss = float(np.sum(w * (y - beta) ** 2))
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - 1)
        var *= s2w
        crit = float(stats.t.ppf(0.975, k - 1))
    q, q_p, vt = _heterogeneity(y, v)
    i2 = 100 * tau2 / (vt + tau2) if k > 1 and vt + tau2 > 0 else 0.0
    return _Fit(beta, math.sqrt(var), tau2, q, q_p, i2, crit, w / np.sum(w) * 100)


def _tau2(method: str, y: np.ndarray, v: np.ndarray) -> float:
    if method == "dl":
        return _tau2_dl(y, v)
    if method == "reml":
        return _tau2_reml(y, v)
    raise StatsInputError(f"“{method}” is not a method of pooling here (dl or reml).")


# --- single proportions ---


def _check_proportions(
    events: Sequence[int], totals: Sequence[int], labels: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    import numpy as np

    if len(events) != len(totals):
        raise StatsInputError("Each study needs both its events and its total.")
    if not events:
        raise StatsInputError("There is no study to pool.")
    names = list(labels) if labels is not None else [f"Study {i + 1}" for i in range(len(events))]
    for name, x, n in zip(names, events, totals, strict=True):
        if n <= 0:
            raise StatsInputError(f"{name}: the total must be at least 1 (it is {n}).")
        if not 0 <= x <= n:
            raise StatsInputError(f"{name}: {x} events of {n} is not a proportion.")
    return np.asarray(events, dtype=float), np.asarray(totals, dtype=float), names


def _logit_escalc(x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """metafor's PLO with add = 1/2, to = "only0": 0.5 to events and non-events of a study
    with none of either."""
    import numpy as np

    m = n - x
    zero = (x == 0) | (m == 0)
    xa, ma = x + 0.5 * zero, m + 0.5 * zero
    return np.log(xa / ma), 1 / xa + 1 / ma


def _clopper_pearson(x: int, n: int) -> tuple[float, float]:
    from scipy import stats

    low = 0.0 if x == 0 else float(stats.beta.ppf(0.025, x, n - x + 1))
    high = 1.0 if x == n else float(stats.beta.ppf(0.975, x + 1, n - x))
    return low, high


def _proportion_rows(
    names: list[str], x: np.ndarray, n: np.ndarray, weights: np.ndarray | None
) -> tuple[StudyRow, ...]:
    rows = []
    for i, name in enumerate(names):
        low, high = _clopper_pearson(int(x[i]), int(n[i]))
        rows.append(
            StudyRow(
                label=name,
                events=int(x[i]),
                total=int(n[i]),
                estimate=float(x[i] / n[i]),
                ci_low=low,
                ci_high=high,
                weight=None if weights is None else float(weights[i]),
            )
        )
    return tuple(rows)


def pool_proportions(
    events: Sequence[int],
    totals: Sequence[int],
    *,
    labels: Sequence[str] | None = None,
    method: ProportionMethod = "glmm",
    transform: Transform = "logit",
    hartung_knapp: bool = False,
) -> Pooled:
    """Pool the proportions events/totals of k studies (see the module docstring).

    Each study's own CI is the exact (Clopper–Pearson) one, as forest plots of
    proportions show it; the GLMM always works on the logit scale."""
    import numpy as np

    x, n, names = _check_proportions(events, totals, labels)
    if method == "glmm":
        return _pool_glmm(x, n, names)
    if transform == "logit":
        y, v = _logit_escalc(x, n)
        measure: Measure = "PLO"
        corrected = int(np.sum((x == 0) | (x == n)))
        correction = (
            f"0.5 added to the events and non-events of {corrected} "
            f"stud{'y' if corrected == 1 else 'ies'} with 0 or all events"
            if corrected
            else "none needed"
        )
    elif transform == "ft":
        y, v = _pft(x, n), 1 / (4 * n + 2)
        measure = "PFT"
        correction = "none (the double arcsine needs none)"
    else:
        raise StatsInputError(f"“{transform}” is not a transformation (logit or ft).")
    fit = _fit(y, v, _tau2(method, y, v), hartung_knapp=hartung_knapp)
    half = fit.crit * fit.se
    half_pi = fit.crit * math.sqrt(fit.se**2 + fit.tau2)

    def back(value: float) -> float:
        return _expit(value) if measure == "PLO" else transf_ipft_hm(value, n.tolist())

    pi_low, pi_high = sorted((back(fit.beta - half_pi), back(fit.beta + half_pi)))
    return Pooled(
        measure=measure,
        method=method,
        estimator=ESTIMATORS[method],
        estimate=back(fit.beta),
        ci_low=back(fit.beta - half),
        ci_high=back(fit.beta + half),
        pi_low=pi_low,
        pi_high=pi_high,
        estimate_t=fit.beta,
        se_t=fit.se,
        tau2=fit.tau2,
        i2=fit.i2,
        q=fit.q,
        q_df=len(y) - 1,
        q_p=fit.q_p,
        k=len(y),
        n=int(n.sum()),
        hartung_knapp=hartung_knapp,
        correction=correction,
        studies=_proportion_rows(names, x, n, fit.weights),
    )


# --- the binomial-normal GLMM ---


@functools.cache
def _gauss_hermite() -> tuple[np.ndarray, np.ndarray]:
    """The quadrature nodes, and the log of the weights of ∫ g(z) dz ≈ Σ w_j e^{z_j²/2} g(z_j)
    (probabilists' Hermite); computed on first use, as numpy is only imported then."""
    import numpy as np

    nodes, weights = np.polynomial.hermite_e.hermegauss(N_AGQ)
    return nodes, np.log(weights) + nodes**2 / 2


def _log_binomial(x: np.ndarray, n: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """log P(x | n, expit(eta)) without the binomial coefficient (a constant)."""
    import numpy as np

    return np.asarray(x * eta - n * np.logaddexp(0.0, eta))


def _glmm_deviance(
    params: np.ndarray, x: np.ndarray, n: np.ndarray, modes: np.ndarray | None = None
) -> float:
    """-2 log-likelihood (up to a constant) at (τ, μ), each study's integral over its
    random effect by adaptive Gauss–Hermite quadrature around its conditional mode, as
    lme4 integrates it. τ enters as τ·u, so -τ gives the same value (as in lme4).
    `modes`, when given, starts the search for the modes and receives them (the next call
    of an optimiser is close by)."""
    import numpy as np

    tau, mu = float(params[0]), float(params[1])
    u = np.zeros_like(x) if modes is None else modes.copy()
    for _ in range(100):  # Newton for the mode of log p(x | u) + log φ(u), concave in u
        p = 1 / (1 + np.exp(-(mu + tau * u)))
        grad = tau * (x - n * p) - u
        curv = tau**2 * n * p * (1 - p) + 1
        step = grad / curv
        u = u + step
        if float(np.max(np.abs(step))) < 1e-12:
            break
    if modes is not None:
        modes[:] = u
    p = 1 / (1 + np.exp(-(mu + tau * u)))
    scale = 1 / np.sqrt(tau**2 * n * p * (1 - p) + 1)
    gh_nodes, gh_log = _gauss_hermite()
    nodes = u[:, None] + scale[:, None] * gh_nodes[None, :]
    log_f = (
        _log_binomial(x[:, None], n[:, None], mu + tau * nodes)
        - nodes**2 / 2
        - 0.5 * math.log(2 * math.pi)
    )
    log_integral = np.log(scale) + np.logaddexp.reduce(log_f + gh_log[None, :], axis=1)
    return float(-2 * np.sum(log_integral))


def _hessian(fun: Callable[[np.ndarray], float], at: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central finite differences, as lme4's `deriv12` takes them (step 1e-4)."""
    import numpy as np

    size = len(at)
    hess = np.zeros((size, size))
    f0 = fun(at)
    for i in range(size):
        ei = np.zeros(size)
        ei[i] = step
        hess[i, i] = (fun(at + ei) - 2 * f0 + fun(at - ei)) / step**2
        for j in range(i):
            ej = np.zeros(size)
            ej[j] = step
            hess[i, j] = hess[j, i] = (
                fun(at + ei + ej) - fun(at + ei - ej) - fun(at - ei + ej) + fun(at - ei - ej)
            ) / (4 * step**2)
    return hess


def _wald_q(x: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """rma.glmm's Wald-type Q: the Wald test of the study effects of the saturated
    logistic model, that is the inverse-variance Q of the studies' uncorrected logits with
    the binomial information x(n - x)/n as weights; a study with 0 or all events has no
    information there (the saturated fit drifts to an infinite logit) and adds nothing,
    though the test keeps k - 1 degrees of freedom."""
    import numpy as np
    from scipy import stats

    k = len(x)
    inner = (x > 0) & (x < n)
    if inner.sum() < 2:
        return 0.0, 1.0
    xi, ni = x[inner], n[inner]
    y = np.log(xi / (ni - xi))
    w = xi * (ni - xi) / ni
    mu = float(np.sum(w * y) / np.sum(w))
    q = max(0.0, float(np.sum(w * (y - mu) ** 2)))
    return q, float(stats.chi2.sf(q, k - 1))


def _pool_glmm(x: np.ndarray, n: np.ndarray, names: list[str]) -> Pooled:
    import numpy as np
    from scipy import optimize

    k = len(x)
    if k < 2:
        raise StatsInputError("The GLMM needs at least 2 studies.")
    if x.sum() == 0 or x.sum() == n.sum():
        which = "no event" if x.sum() == 0 else "only events"
        raise StatsInputError(
            f"Every study has {which}: the GLMM has no finite estimate. "
            "Report the studies' counts instead, or pool with the logit (REML or DL)."
        )
    if np.all(n == 1):
        raise StatsInputError(
            "Every study has a single participant: the GLMM cannot tell variation between "
            "studies from chance (τ² is not identified). Pool with the logit (REML or DL)."
        )
    y, v = _logit_escalc(x, n)

    modes = np.zeros_like(x)

    def deviance(params: np.ndarray) -> float:
        return _glmm_deviance(params, x, n, modes)

    start_tau = math.sqrt(max(0.01, _tau2_dl(y, v)))
    start = np.array([start_tau, float(np.sum(y / v) / np.sum(1 / v))])
    best = optimize.minimize(
        deviance,
        start,
        method="L-BFGS-B",
        bounds=[(0.0, None), (None, None)],
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 1000},
    )
    tau, mu = abs(float(best.x[0])), float(best.x[1])
    best_deviance = deviance(np.array([tau, mu]))
    if tau < TAU_AT_ZERO:  # on the boundary: say τ² = 0, not 1e-16 of optimiser noise
        at_zero = optimize.minimize_scalar(lambda m: deviance(np.array([0.0, m])))
        if float(at_zero.fun) <= best_deviance + 1e-9:
            tau, mu = 0.0, float(at_zero.x)
    params = np.array([tau, mu])
    hess = _hessian(deviance, params)
    try:
        cov = 2 * np.linalg.inv(hess)
        var_mu = float(cov[1, 1])
        if not var_mu > 0 or not np.all(np.linalg.eigvalsh(hess) > 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:  # lme4 falls back to the fixed-τ variance, as here
        var_mu = 2 / float(hess[1, 1])
    se = math.sqrt(var_mu)
    tau2 = tau**2
    _, _, vt = _heterogeneity(y, v)
    i2 = 100 * tau2 / (vt + tau2) if vt + tau2 > 0 else 0.0
    q, q_p = _wald_q(x, n)
    half, half_pi = Z * se, Z * math.sqrt(se**2 + tau2)
    return Pooled(
        measure="PLO",
        method="glmm",
        estimator=ESTIMATORS["glmm"],
        estimate=_expit(mu),
        ci_low=_expit(mu - half),
        ci_high=_expit(mu + half),
        pi_low=_expit(mu - half_pi),
        pi_high=_expit(mu + half_pi),
        estimate_t=mu,
        se_t=se,
        tau2=tau2,
        i2=i2,
        q=q,
        q_df=k - 1,
        q_p=q_p,
        k=k,
        n=int(n.sum()),
        hartung_knapp=False,
        correction="none (the GLMM needs none; I² from the corrected logits)",
        studies=_proportion_rows(names, x, n, None),
    )


# --- two groups per study ---


def _check_two_groups(
    events_1: Sequence[int],
    totals_1: Sequence[int],
    events_2: Sequence[int],
    totals_2: Sequence[int],
    labels: Sequence[str] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    import numpy as np

    if not len(events_1) == len(totals_1) == len(events_2) == len(totals_2):
        raise StatsInputError("Each study needs the events and totals of both groups.")
    if not events_1:
        raise StatsInputError("There is no study to pool.")
    names = list(labels) if labels is not None else [f"Study {i + 1}" for i in range(len(events_1))]
    for name, e1, t1, e2, t2 in zip(names, events_1, totals_1, events_2, totals_2, strict=True):
        if t1 <= 0 or t2 <= 0:
            raise StatsInputError(f"{name}: each group needs at least one participant.")
        if not (0 <= e1 <= t1 and 0 <= e2 <= t2):
            raise StatsInputError(f"{name}: events must lie between 0 and the group's total.")
    a, n1 = np.asarray(events_1, dtype=float), np.asarray(totals_1, dtype=float)
    c, n2 = np.asarray(events_2, dtype=float), np.asarray(totals_2, dtype=float)
    return a, n1 - a, c, n2 - c, names


def _ratio_escalc(
    measure: Literal["OR", "RR"], a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """metafor's log OR / log RR with add = 1/2, to = "only0" (every cell of a study with an
    empty cell), and which studies had the correction."""
    import numpy as np

    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    add = 0.5 * zero
    a, b, c, d = a + add, b + add, c + add, d + add
    if measure == "OR":
        return np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d, zero
    n1, n2 = a + b, c + d
    return np.log((a / n1) / (c / n2)), 1 / a - 1 / n1 + 1 / c - 1 / n2, zero


def pool_two_groups(
    events_1: Sequence[int],
    totals_1: Sequence[int],
    events_2: Sequence[int],
    totals_2: Sequence[int],
    *,
    labels: Sequence[str] | None = None,
    measure: Literal["OR", "RR"] = "OR",
    method: TwoGroupMethod = "mh",
    hartung_knapp: bool = False,
) -> Pooled:
    """Pool the odds or risk ratio of group 1 against group 2 over k studies."""
    a, b, c, d, names = _check_two_groups(events_1, totals_1, events_2, totals_2, labels)
    if measure not in ("OR", "RR"):
        raise StatsInputError(f"“{measure}” is not a two-group measure (OR or RR).")
    y, v, zero = _ratio_escalc(measure, a, b, c, d)
    n_all = a + b + c + d
    if method == "mh":
        return _pool_mh(measure, a, b, c, d, y, v, names)
    k = len(y)
    fit = _fit(y, v, _tau2(method, y, v), hartung_knapp=hartung_knapp)
    half = fit.crit * fit.se
    half_pi = fit.crit * math.sqrt(fit.se**2 + fit.tau2)
    corrected = int(zero.sum())
    return Pooled(
        measure=measure,
        method=method,
        estimator=ESTIMATORS[method],
        estimate=math.exp(fit.beta),
        ci_low=math.exp(fit.beta - half),
        ci_high=math.exp(fit.beta + half),
        pi_low=math.exp(fit.beta - half_pi),
        pi_high=math.exp(fit.beta + half_pi),
        estimate_t=fit.beta,
        se_t=fit.se,
        tau2=fit.tau2,
        i2=fit.i2,
        q=fit.q,
        q_df=k - 1,
        q_p=fit.q_p,
        k=k,
        n=int(n_all.sum()),
        hartung_knapp=hartung_knapp,
        correction=(
            f"0.5 added to every cell of {corrected} stud{'y' if corrected == 1 else 'ies'} "
            "with an empty cell"
            if corrected
            else "none needed"
        ),
        studies=_two_group_rows(names, a, b, c, d, y, v, fit.weights),
    )


def _two_group_rows(
    names: list[str],
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    y: np.ndarray,
    v: np.ndarray,
    weights: np.ndarray,
    estimable: np.ndarray | None = None,
) -> tuple[StudyRow, ...]:
    rows = []
    for i, name in enumerate(names):
        shown = estimable is None or bool(estimable[i])
        se = math.sqrt(float(v[i]))
        rows.append(
            StudyRow(
                label=name,
                events=int(a[i]),
                total=int(a[i] + b[i]),
                events_2=int(c[i]),
                total_2=int(c[i] + d[i]),
                estimate=math.exp(float(y[i])) if shown else None,
                ci_low=math.exp(float(y[i]) - Z * se) if shown else None,
                ci_high=math.exp(float(y[i]) + Z * se) if shown else None,
                weight=float(weights[i]),
            )
        )
    return tuple(rows)


def _pool_mh(
    measure: Literal["OR", "RR"],
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    y: np.ndarray,
    v: np.ndarray,
    names: list[str],
) -> Pooled:
    import numpy as np
    from scipy import stats

    n = a + b + c + d
    n1, n2 = a + b, c + d
    if measure == "OR":
        r_i, s_i = a * d / n, b * c / n
        r, s = float(r_i.sum()), float(s_i.sum())
        if r == 0 or s == 0:
            raise StatsInputError(
                "The Mantel–Haenszel odds ratio is 0 or infinite here: no study has the "
                "pairs of cells it needs."
            )
        p_i, q_i = (a + d) / n, (b + c) / n
        se = math.sqrt(
            0.5
            * (
                float(np.sum(p_i * r_i)) / r**2
                + float(np.sum(p_i * s_i + q_i * r_i)) / (r * s)
                + float(np.sum(q_i * s_i)) / s**2
            )
        )
        raw_weights = s_i
    else:
        r_i, s_i = a * n2 / n, c * n1 / n
        r, s = float(r_i.sum()), float(s_i.sum())
        if r == 0 or s == 0:
            raise StatsInputError(
                "The Mantel–Haenszel risk ratio is 0 or infinite here: one group has no "
                "event in any study."
            )
        se = math.sqrt(float(np.sum(n1 * n2 * (a + c) / n**2 - a * c / n)) / (r * s))
        raw_weights = s_i
    beta = math.log(r / s)
    # Q: studies with events in neither group, or in every participant, have no log ratio
    keep = ~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
    yk, vk = y[keep], v[keep]
    k_yi = int(keep.sum())
    if k_yi > 1:
        q = max(0.0, float(np.sum((yk - beta) ** 2 / vk)))
        q_p = float(stats.chi2.sf(q, k_yi - 1))
        i2 = max(0.0, 100 * (q - (k_yi - 1)) / q) if q > 0 else 0.0
    else:
        q, q_p, i2 = 0.0, 1.0, 0.0
    weights = raw_weights / raw_weights.sum() * 100
    low, high = math.exp(beta - Z * se), math.exp(beta + Z * se)
    dropped = len(a) - k_yi
    note = "none (Mantel–Haenszel needs none)"
    if dropped:
        note += (
            f"; {dropped} stud{'y' if dropped == 1 else 'ies'} with no events in either "
            "group (or only events) left out of Q"
        )
    return Pooled(
        measure=measure,
        method="mh",
        estimator=ESTIMATORS["mh"],
        estimate=math.exp(beta),
        ci_low=low,
        ci_high=high,
        pi_low=low,
        pi_high=high,
        estimate_t=beta,
        se_t=se,
        tau2=0.0,
        i2=i2,
        q=q,
        q_df=max(0, k_yi - 1),
        q_p=q_p,
        k=len(a),
        n=int(n.sum()),
        hartung_knapp=False,
        correction=note,
        studies=_two_group_rows(names, a, b, c, d, y, v, weights, estimable=keep),
    )


# --- subgroups and leave-one-out ---


def subgroups(pool: Callable[[list[int]], Pooled], groups: Sequence[str]) -> SubgroupAnalysis:
    """`pool(indices)` pools the studies at `indices`; `groups[i]` is study i's subgroup.

    Each subgroup is pooled on its own (its own τ²), then the subgroup estimates are
    compared by their inverse-variance Q on the pooled scale (as `meta` and `rma` with
    `method="FE"` on the subgroup estimates do)."""
    import numpy as np

    order: list[str] = []
    for group in groups:
        if group not in order:
            order.append(group)
    if len(order) < 2:
        raise StatsInputError("A subgroup analysis needs studies in at least two subgroups.")
    results: list[tuple[str, Pooled]] = []
    for label in order:
        try:
            results.append((label, pool([i for i, g in enumerate(groups) if g == label])))
        except StatsInputError as problem:
            raise StatsInputError(f"subgroup “{label}”: {problem}") from None
    y = np.array([r.estimate_t for _, r in results])
    v = np.array([r.se_t**2 for _, r in results])
    q, p, _ = _heterogeneity(y, v)
    return SubgroupAnalysis(
        overall=pool(list(range(len(groups)))),
        groups=tuple(results),
        q_between=q,
        df_between=len(order) - 1,
        p_between=p,
    )


def leave_one_out(pool: Callable[[list[int]], Pooled], labels: Sequence[str]) -> LeaveOneOut:
    """The pooled result again without each study in turn (metafor's `leave1out`); a
    study whose omission leaves nothing to pool gets its row with the reason."""
    k = len(labels)
    if k < 3:
        raise StatsInputError("Leaving one study out needs at least 3 studies.")
    rows = []
    for i, label in enumerate(labels):
        try:
            r = pool([j for j in range(k) if j != i])
        except StatsInputError as problem:
            empty = dict.fromkeys(("estimate", "ci_low", "ci_high", "tau2", "i2", "q", "q_p"))
            rows.append(LeaveOneOutRow(omitted=label, k=k - 1, note=str(problem), **empty))
            continue
        rows.append(
            LeaveOneOutRow(
                omitted=label,
                estimate=r.estimate,
                ci_low=r.ci_low,
                ci_high=r.ci_high,
                tau2=r.tau2,
                i2=r.i2,
                q=r.q,
                q_p=r.q_p,
                k=r.k,
            )
        )
    return LeaveOneOut(tuple(rows))
