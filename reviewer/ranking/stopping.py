"""A stopping estimate reviewers can defend: Callaghan & Mueller-Hansen (2020).

Callaghan MW, Mueller-Hansen F. Statistical stopping criteria for automated screening in
systematic reviews. Systematic Reviews 9, 273 (2020). doi:10.1186/s13643-020-01521-4

After screening in ranked order, the reviewers draw records at random, without
replacement, from the records still unscreened at that moment, and screen them. The null
hypothesis is "recall is below the target". If it held, the pool the sample is drawn from
would contain at least K_tar relevant records, where

    K_tar = floor(r_seen / target - r_before) + 1

(r_before = relevant found before the sample began, r_seen = r_before + k, k = relevant in
the sample): recall r_seen / (r_before + K) < target exactly when K > r_seen / target -
r_before. The p-value is the chance of finding k or fewer relevant records in a sample of
n from that pool, the hypergeometric tail P(X <= k) for X ~ Hypergeom(N_remaining, K_tar,
n); taking the smallest K compatible with H0 makes it the largest such chance, so the test
is conservative. Rejecting H0 at level alpha is the paper's stopping criterion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_TARGET = 0.95
DEFAULT_ALPHA = 0.05


@dataclass(frozen=True)
class StoppingEstimate:
    p_value: float  # P(a sample this poor in relevant records | recall < target)
    stop: bool  # p_value < alpha: the hypothesis "recall < target" is rejected
    target: float
    alpha: float
    n_total: int
    n_seen_before: int
    relevant_before: int
    n_remaining: int  # unscreened when the random sample began: the pool it is drawn from
    n_sampled: int
    relevant_in_sample: int
    k_target: int  # the fewest relevant records in the pool that would make recall < target
    statement: str  # the result in plain words, never a bare "you can stop now"
    method: str  # how it was computed and what it assumes


METHOD = (
    "Statistical stopping criterion of Callaghan & Mueller-Hansen (2020). After ranked "
    "screening, records are drawn at random, without replacement, from those not yet "
    "screened, and screened. We test the hypothesis that recall is below the target: if it "
    "were, the records left when the sample began would hold at least {k_target} relevant "
    "ones, and the p-value is the hypergeometric probability of finding {k} or fewer "
    "relevant in a random sample of {n} from those {pool}. It assumes the sample is truly "
    "random (not the top of the ranking, and independent of it), that every sampled record "
    "is screened with the same care, and that the decisions are correct; it says nothing "
    "about relevant records missing from the search itself."
)


def _percent(value: float) -> str:
    return f"{value * 100:g}%"


def recall_test(
    *,
    n_total: int,
    n_seen_before: int,
    relevant_before: int,
    n_sampled: int,
    relevant_in_sample: int,
    target: float = DEFAULT_TARGET,
    alpha: float = DEFAULT_ALPHA,
) -> StoppingEstimate:
    """p-value of "recall < target" from a random sample of the unscreened records.

    `n_total` records in the screening set; `n_seen_before` of them, `relevant_before`
    relevant, were screened before the random sample began; then `n_sampled` records were
    drawn at random from the other `n_total - n_seen_before` and `relevant_in_sample` of
    them were relevant.
    """
    from scipy.stats import hypergeom

    n_remaining = n_total - n_seen_before
    if not 0 < target < 1:
        raise ValueError(f"The recall target must be between 0 and 1, not {target}.")
    if not 0 < alpha < 1:
        raise ValueError(f"The significance level must be between 0 and 1, not {alpha}.")
    if min(n_total, n_seen_before, relevant_before, n_sampled, relevant_in_sample) < 0:
        raise ValueError("Counts of records cannot be negative.")
    if n_remaining < 0 or relevant_before > n_seen_before:
        raise ValueError(
            f"{n_seen_before} records screened ({relevant_before} relevant) do not fit in "
            f"a set of {n_total}."
        )
    if n_sampled > n_remaining or relevant_in_sample > n_sampled:
        raise ValueError(
            f"A sample of {n_sampled} records with {relevant_in_sample} relevant does not fit "
            f"in the {n_remaining} records left unscreened."
        )

    relevant_seen = relevant_before + relevant_in_sample
    # Smallest K with relevant_seen / (relevant_before + K) < target; the small tolerance
    # keeps e.g. 19 / 0.95 = 20.000000000000004 from counting as above 20.
    k_target = math.floor(relevant_seen / target - relevant_before + 1e-9) + 1
    target_text = _percent(target)
    method = METHOD.format(k_target=k_target, k=relevant_in_sample, n=n_sampled, pool=n_remaining)

    if n_sampled == 0:
        p_value = 1.0
        statement = (
            "No random sample of the unscreened records has been screened yet, so there is "
            f"no evidence yet about whether recall has reached {target_text}."
        )
    elif k_target > n_remaining:
        p_value = 0.0
        statement = (
            f"Even if every one of the {n_remaining} records left when the random sample "
            f"began were relevant, recall would be at least {target_text}: recall below "
            f"{target_text} is impossible (p = 0)."
        )
    else:
        p_value = float(hypergeom.cdf(relevant_in_sample, n_remaining, k_target, n_sampled))
        found = (
            "no relevant one"
            if relevant_in_sample == 0
            else f"{relevant_in_sample} or fewer relevant"
        )
        comparison = "<" if p_value < alpha else ">="
        statement = (
            f"If recall were below {target_text}, a random sample of {n_sampled} of the "
            f"{n_remaining} unscreened records with {found} would happen with probability "
            f"{p_value:.2g} ({comparison} {alpha:g})."
        )
        if relevant_seen == 0:
            statement += " No relevant record has been found at all so far."

    return StoppingEstimate(
        p_value=p_value,
        stop=p_value < alpha,
        target=target,
        alpha=alpha,
        n_total=n_total,
        n_seen_before=n_seen_before,
        relevant_before=relevant_before,
        n_remaining=n_remaining,
        n_sampled=n_sampled,
        relevant_in_sample=relevant_in_sample,
        k_target=k_target,
        statement=statement,
        method=method,
    )


def sample_size_to_stop(
    *,
    n_total: int,
    n_seen_before: int,
    relevant_before: int,
    target: float = DEFAULT_TARGET,
    alpha: float = DEFAULT_ALPHA,
) -> int:
    """The smallest random sample that rejects "recall < target" if it holds no relevant record.

    A sample this size is the least worth screening: with one relevant record or more in
    it the test may still fail to reject, and a larger sample is then needed. Returns
    every record left when even screening them all would not do (never more).
    """
    n_remaining = n_total - n_seen_before

    def rejects(n: int) -> bool:
        return (
            recall_test(
                n_total=n_total,
                n_seen_before=n_seen_before,
                relevant_before=relevant_before,
                n_sampled=n,
                relevant_in_sample=0,
                target=target,
                alpha=alpha,
            ).p_value
            < alpha
        )

    if n_remaining <= 0:
        return 0
    if not rejects(n_remaining):
        return n_remaining
    low, high = 1, n_remaining  # the p-value falls as the sample grows: bisect
    while low < high:
        middle = (low + high) // 2
        if rejects(middle):
            high = middle
        else:
            low = middle + 1
    return low
