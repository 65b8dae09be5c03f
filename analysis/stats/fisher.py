"""Fisher's exact test for r×c tables: exact by network enumeration, Monte Carlo past a budget.

The test conditions on both margins. Under independence a table `n` with row sums `r`,
column sums `c` and total `N` has the multivariate hypergeometric probability

    P(n) = prod(r_i!) prod(c_j!) / (N! prod(n_ij!))

and the two-sided p-value is the total probability of every table with these margins that
is no more probable than the observed one. As in R's `fisher.test`, "no more probable"
allows for floating-point noise, so tables tied with the observed one count:
`P(n) <= P(observed) * (1 + 1e-7)` for 2×2 tables, and, as R's FEXACT does for larger ones,
`log P(n) <= log P(observed) + 3.45254e-7`.

Exact algorithm (after Mehta & Patel's network algorithm, which R's FEXACT implements):
the table is filled one column at a time, the shorter side of the table being the "rows".
A node of the network is "the first j columns filled, these row sums left"; the row sums
left are kept sorted, since rows with equal remainders are interchangeable, so many partial
tables meet at one node. Each node carries the distinct log-probabilities of the paths
that reach it ("past"), each with the number of paths. For every node two bounds on the
log-probability of its completions come from relaxations (each remaining column filled on
its own, or each remaining row on its own, subject only to the caps; by majorisation the
evenest cells give the most probable and the most concentrated the least probable
completion). Then, for each past value:

- if even the most probable completion is no more probable than the observed table, every
  completion counts, and their total probability is known in closed form
  (`N'! / (prod r'_i! prod c'_j!)`): it is added without enumerating them;
- if even the least probable completion is more probable than the observed table, none
  counts: the path is dropped;
- otherwise the node is expanded by every way of filling the next column.

With two columns left the last is forced: each node's completions are sorted once and every
path reaching the node is answered by a binary search over their cumulative probabilities.
Paths are kept as numpy arrays and a node's paths are handled at once (prefix sums and
binary searches over its sorted pasts), so the Python-level work is per node, not per
table. Probabilities are summed in log space, so tiny p-values neither underflow nor lose
digits; the result matches R's `fisher.test` to 1e-9 relative or better (mostly 1e-12) on
the reference tables (`tests/analysis/r_reference.json`), and a brute-force enumeration of
every table to 1e-12 on small ones.

Work budget: enumerating a filling or a completion, moving a path on, and visiting a node
cost work units (about 10 million a second). When `budget` units do not suffice (large
tables with many levels: 5×5 and up), the exact search stops and
`fisher_exact` falls back to a seeded Monte Carlo estimate: `samples` random tables with the
observed margins (Patefield's algorithm, `scipy.stats.random_table`), and, as R's
`simulate.p.value`, `p = (1 + hits) / (1 + samples)` with the binomial standard error
`sqrt(p (1 - p) / samples)`. The result then says `method="monte-carlo"` with the samples
and the seed, so the figure can be reproduced.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from analysis.stats.errors import StatsInputError

# numpy and scipy are imported inside the functions that use them: loading Django (every
# web process, worker and manage.py command) must not pay for them (tests/test_startup.py).
if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Ints = NDArray[np.int64]
    Floats = NDArray[np.float64]

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_SAMPLES",
    "DEFAULT_SEED",
    "FEXACT_TOLERANCE",
    "RELATIVE_TOLERANCE",
    "FisherTest",
    "fisher_exact",
]

#: 2×2 tables: a table whose probability is at most the observed one times (1 + this)
#: counts as "as or more extreme" (R's `fisher.test` for 2×2 tables).
RELATIVE_TOLERANCE = 1e-7
#: Larger tables: the allowance on the log-probability R's FEXACT uses (its TOL), so a table
#: up to exp(3.45254e-7) times as probable as the observed one counts.
FEXACT_TOLERANCE = 3.45254e-7
#: Work units of exact enumeration before the Monte Carlo fallback (about 5 s at most).
DEFAULT_BUDGET = 40_000_000
DEFAULT_SAMPLES = 100_000
DEFAULT_SEED = 20240229

# Past log-probabilities equal to this many decimals are one value (sums of the same
# log-factorials in another order differ by rounding noise only).
_MERGE_DIGITS = 9
# Children whose bounds are computed together, and paths merged together (bounds memory);
# what a node costs in budget steps besides its fillings (numpy call overhead), and a path
# moved to the next column (it is kept and merged, so it costs more than a filling).
_CHUNK = 1 << 18
_NODE_COST = 500
_PUSH_COST = 2
_COMPLETIONS_PER_STEP = 4
_SAMPLE_BATCH = 10_000


@dataclass(frozen=True)
class FisherTest:
    """Fisher's exact test: the two-sided p, and how it was obtained.

    `method` is "exact", or "monte-carlo" with `se` (standard error of `p`), `samples` and
    `seed` set; those three are None for an exact p.
    """

    p: float
    method: Literal["exact", "monte-carlo"]
    se: float | None = None
    samples: int | None = None
    seed: int | None = None

    def to_dict(self) -> dict[str, object]:
        """`{"p", "method"}`, plus `"se"`, `"samples"` and `"seed"` for a Monte Carlo p."""
        data: dict[str, object] = {"p": self.p, "method": self.method}
        if self.method == "monte-carlo":
            data.update(se=self.se, samples=self.samples, seed=self.seed)
        return data


class _BudgetExceeded(Exception):
    pass


def fisher_exact(
    table: Sequence[Sequence[int]],
    *,
    budget: int = DEFAULT_BUDGET,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> FisherTest:
    """Two-sided Fisher's exact test of independence for an r×c table of counts.

    Exact unless the search needs more than `budget` steps; then a Monte Carlo estimate from
    `samples` random tables drawn with `seed` (see the module docstring).
    """
    import numpy as np

    counts = _validated(table)
    rows = [sum(row) for row in counts]
    cols = [sum(col) for col in zip(*counts, strict=True)]
    lf = np.array([math.lgamma(k + 1) for k in range(sum(rows) + 1)])
    tolerance = math.log1p(RELATIVE_TOLERANCE) if len(rows) == len(cols) == 2 else FEXACT_TOLERANCE
    threshold = -float(lf[np.array(counts)].sum()) + tolerance
    try:
        p = _exact(rows, cols, threshold, lf, _Work(budget))
    except _BudgetExceeded:
        return _monte_carlo(rows, cols, threshold, samples, seed)
    return FisherTest(p=p, method="exact")


def _validated(table: Sequence[Sequence[int]]) -> list[list[int]]:
    counts = [[int(cell) for cell in row] for row in table]
    if any(
        cell != original
        for row, given in zip(counts, table, strict=True)
        for cell, original in zip(row, given, strict=True)
    ):
        raise StatsInputError("A table of counts holds whole numbers only.")
    if len(counts) < 2 or len({len(row) for row in counts}) != 1 or len(counts[0]) < 2:
        raise StatsInputError("Fisher's exact test needs a table of at least 2 rows × 2 columns.")
    if any(cell < 0 for row in counts for cell in row):
        raise StatsInputError("A table of counts cannot hold negative numbers.")
    if any(sum(row) == 0 for row in counts) or any(
        sum(col) == 0 for col in zip(*counts, strict=True)
    ):
        raise StatsInputError("Every row and column of the table needs at least one count.")
    return counts


class _Work:
    """Steps taken against the budget."""

    def __init__(self, budget: int) -> None:
        self.left = budget

    def spend(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise _BudgetExceeded


class _LogSum:
    """A sum of exp(x) kept as log(scale) and a scaled total: no term over- or underflows."""

    def __init__(self) -> None:
        self.scale = -math.inf
        self.total = 0.0

    def add(self, values: Floats) -> None:
        import numpy as np

        if values.size == 0:
            return
        top = float(values.max())
        if top > self.scale:
            self.total *= math.exp(self.scale - top)
            self.scale = top
        self.total += float(np.exp(values - self.scale).sum())

    def log(self) -> float:
        return self.scale + math.log(self.total) if self.total > 0 else -math.inf


class _Codec:
    """Row sums left (sorted, largest first) <-> one int64, digits in base N + 1."""

    def __init__(self, total: int, width: int) -> None:
        import numpy as np

        self.radix = total + 1
        self.powers = self.radix ** np.arange(width - 1, -1, -1, dtype=np.int64)

    def encode(self, keys: Ints) -> Ints:
        return keys @ self.powers

    def decode(self, codes: Ints) -> Ints:
        return (codes[:, None] // self.powers) % self.radix


def _exact(rows: list[int], cols: list[int], threshold: float, lf: Floats, work: _Work) -> float:
    """The exact two-sided p: the probability of the tables with margins `rows` and `cols`
    whose log-weight (-sum log n!) is at most `threshold` (see the module docstring)."""
    import numpy as np

    if len(rows) > len(cols):
        rows, cols = cols, rows
    cols = sorted(cols, reverse=True)
    total = sum(rows)
    if (total + 1) ** len(rows) >= 2**62:
        raise _BudgetExceeded  # the node keys would not fit an int64
    codec = _Codec(total, len(rows))
    log_k = float(lf[rows].sum() + lf[cols].sum() - lf[total])
    root = np.array([sorted(rows, reverse=True)], dtype=np.int64)
    _low, high, _log_total = _node_bounds(root, cols, lf)
    if high[0] <= threshold:
        return 1.0
    found = _LogSum()
    code, past, weight = codec.encode(root), np.zeros(1), np.ones(1)
    for j in range(len(cols) - 2):
        code, past, weight = _stage(
            code, past, weight, cols[j], cols[j + 1 :], codec, lf, threshold, found, work
        )
        if code.size == 0:
            break
    else:
        _last_stage(code, past, weight, cols[-2], codec, lf, threshold, found, work)
    return min(1.0, max(0.0, math.exp(log_k + found.log())))


def _last_stage(
    code: Ints,
    past: Floats,
    weight: Floats,
    column: int,
    codec: _Codec,
    lf: Floats,
    threshold: float,
    found: _LogSum,
    work: _Work,
) -> None:
    """Two columns left, the last one forced: a node's completions are its fillings of the
    next column. Their log-weights are sorted once per node, and every path reaching the
    node sums the completions that count with one binary search."""
    import numpy as np

    starts = np.concatenate([[0], np.flatnonzero(np.diff(code)) + 1, [code.size]])
    for u, key in enumerate(codec.decode(code[starts[:-1]])):
        completion = np.sort(_completions(key, column, lf))
        work.spend(_NODE_COST + completion.size // _COMPLETIONS_PER_STEP)
        top = completion[-1]
        cumulative = np.cumsum(np.exp(completion - top))
        paths = slice(starts[u], starts[u + 1])
        counted = np.searchsorted(completion, threshold - past[paths], side="right")
        some = counted > 0
        found.add(
            np.log(weight[paths][some] * cumulative[counted[some] - 1]) + past[paths][some] + top
        )


def _stage(
    code: Ints,
    past: Floats,
    weight: Floats,
    column: int,
    after: list[int],
    codec: _Codec,
    lf: Floats,
    threshold: float,
    found: _LogSum,
    work: _Work,
) -> tuple[Ints, Floats, Floats]:
    """Fill `column` on every open path. The paths (`code` of their node, `past`, `weight`)
    come sorted by node and past, and the paths still open after the column are returned
    the same way."""
    import numpy as np

    starts = np.concatenate([[0], np.flatnonzero(np.diff(code)) + 1, [code.size]])
    keys = codec.decode(code[starts[:-1]])
    still_open = _OpenPaths()
    first = 0
    while first < len(keys):
        # the children of a chunk of nodes, their bounds computed together
        children: list[tuple[Ints, Floats, Floats]] = []
        filled = 0
        while first + len(children) < len(keys) and filled < _CHUNK:
            children.append(_children(keys[first + len(children)], column, codec, lf, work))
            filled += len(children[-1][0])
        unique, where = np.unique(np.concatenate([c[0] for c in children]), return_inverse=True)
        low, high, log_total = (b[where] for b in _node_bounds(codec.decode(unique), after, lf))
        offset = 0
        for u, node_children in enumerate(children, start=first):
            step = node_children[1]
            block = slice(offset, offset + len(step))
            offset += len(step)
            node_paths = slice(starts[u], starts[u + 1])
            moved = _advance(
                past[node_paths],
                weight[node_paths],
                node_children,
                (low[block], high[block], log_total[block]),
                threshold,
                found,
            )
            if moved is not None:
                work.spend(_PUSH_COST * moved[0].size)
                still_open.add(moved)
        first += len(children)
    return still_open.result()


def _advance(
    past: Floats,
    weight: Floats,
    children: tuple[Ints, Floats, Floats],
    bounds: tuple[Floats, Floats, Floats],
    threshold: float,
    found: _LogSum,
) -> tuple[Ints, Floats, Floats] | None:
    """One node: its paths (sorted by past) against its children. For each child, the paths
    all of whose completions count are a prefix of the sorted pasts, summed in closed form;
    those none of whose completions count are a suffix, dropped; the paths between move on
    to the child (returned), or None if none does."""
    import numpy as np

    child, step, multiplicity = children
    low, high, log_total = bounds
    logs = np.log(weight) + past
    scale = float(logs.max())
    prefix = np.concatenate([[0.0], np.cumsum(np.exp(logs - scale))])
    settled = np.searchsorted(past, threshold - step - high, side="right")
    kept = np.searchsorted(past, threshold - step - low, side="right")
    some = prefix[settled] > 0
    found.add(
        scale + step[some] + np.log(multiplicity[some] * prefix[settled[some]]) + log_total[some]
    )
    counts = kept - settled
    moving = int(counts.sum())
    if not moving:
        return None
    which = np.repeat(np.arange(len(step)), counts)
    path = np.repeat(settled, counts) + (
        np.arange(moving) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    return child[which], past[path] + step[which], weight[path] * multiplicity[which]


class _OpenPaths:
    """Paths moved on to the next column, merged as they come (each time the unmerged ones
    outnumber the merged), so memory follows the distinct paths rather than the moves."""

    def __init__(self) -> None:
        import numpy as np

        self.merged: tuple[Ints, Floats, Floats] = (
            np.zeros(0, dtype=np.int64),
            np.zeros(0),
            np.zeros(0),
        )
        self.pending: list[tuple[Ints, Floats, Floats]] = []
        self.count = 0

    def add(self, paths: tuple[Ints, Floats, Floats]) -> None:
        self.pending.append(paths)
        self.count += paths[0].size
        if self.count > max(_CHUNK, self.merged[0].size):
            self.merged, self.pending, self.count = _merged(self.merged, *self.pending), [], 0

    def result(self) -> tuple[Ints, Floats, Floats]:
        return _merged(self.merged, *self.pending) if self.pending else self.merged


def _children(
    key: Ints, column: int, codec: _Codec, lf: Floats, work: _Work
) -> tuple[Ints, Floats, Floats]:
    """The nodes reached by filling `column` from a node with row sums `key` left: their
    codes, the log-weight of the column, and how many fillings give both (rows with equal
    sums left reach the same child by more than one filling)."""
    import numpy as np

    fillings = _fillings(key, column)
    work.spend(_NODE_COST + len(fillings))
    code = codec.encode(-np.sort(fillings - key, axis=1))
    step = -lf[fillings].sum(axis=1)
    if not (key[1:] == key[:-1]).any():
        return code, step, np.ones(len(step))
    rounded = np.round(step, _MERGE_DIGITS)
    order = np.lexsort((rounded, code))
    code, step, rounded = code[order], step[order], rounded[order]
    first = np.ones(code.size, dtype=bool)
    first[1:] = (code[1:] != code[:-1]) | (rounded[1:] != rounded[:-1])
    starts = np.flatnonzero(first)
    multiplicity = np.diff(np.append(starts, code.size))
    return code[first], step[first], multiplicity.astype(np.float64)


def _merged(*parts: tuple[Ints, Floats, Floats]) -> tuple[Ints, Floats, Floats]:
    """The paths of all `parts` grouped by node and sorted by past within it, one per
    (node, past to 9 decimals) with their counts added."""
    import numpy as np

    code, past, weight = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    if code.size == 0:
        return code, past, weight
    # one int64 sort key (node rank, then past in units of 1e-9) when it fits, which sorts
    # several times faster than sorting by the two keys
    nodes, rank = np.unique(code, return_inverse=True)
    quantum = np.rint(past * 10**_MERGE_DIGITS).astype(np.int64)
    lowest = int(quantum.min())
    span = int(quantum.max()) - lowest + 1
    if span * len(nodes) < 2**62:
        key = rank.reshape(-1) * span + (quantum - lowest)
        order = np.argsort(key)
        key = key[order]
        first = np.ones(key.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
    else:
        order = np.lexsort((quantum, code))
        code_sorted, quantum_sorted = code[order], quantum[order]
        first = np.ones(code.size, dtype=bool)
        first[1:] = (code_sorted[1:] != code_sorted[:-1]) | (
            quantum_sorted[1:] != quantum_sorted[:-1]
        )
    starts = np.flatnonzero(first)
    return code[order][starts], past[order][starts], np.add.reduceat(weight[order], starts)


def _completions(key: Ints, column: int, lf: Floats) -> Floats:
    """The log-weight of every completion of a node with two columns left: `column` counts
    put into rows with `key` counts left, the rest forced into the last column. Built row by
    row as sums, without the fillings themselves."""
    import numpy as np

    used: Ints = np.zeros(1, dtype=np.int64)
    value: Floats = np.zeros(1)
    room_after = np.concatenate([np.cumsum(key[::-1])[::-1][1:], [0]])
    for i in range(len(key) - 1):
        options, row_value = _row_values(int(key[i]), column, lf)
        grown = used[:, None] + options[None, :]
        which, choice = np.nonzero((grown <= column) & (column - grown <= room_after[i]))
        used = grown[which, choice]
        value = value[which] + row_value[choice]
    _options, last_value = _row_values(int(key[-1]), column, lf)
    return value + last_value[column - used]


def _row_values(row: int, column: int, lf: Floats) -> tuple[Ints, Floats]:
    """The counts a row with `row` left can put in the next column, and the log-weight of
    each with the rest going to the last column."""
    import numpy as np

    options = np.arange(min(row, column) + 1, dtype=np.int64)
    return options, -lf[options] - lf[row - options]


def _fillings(key: Ints, column: int) -> Ints:
    """Every way to put `column` counts into rows with `key` counts left, one way per row."""
    import numpy as np

    ways: Ints = np.zeros((1, 0), dtype=np.int64)
    used: Ints = np.zeros(1, dtype=np.int64)
    room_after = np.concatenate([np.cumsum(key[::-1])[::-1][1:], [0]])
    for i in range(len(key) - 1):
        options = np.arange(min(int(key[i]), column) + 1, dtype=np.int64)
        grown = used[:, None] + options[None, :]
        which, choice = np.nonzero((grown <= column) & (column - grown <= room_after[i]))
        ways = np.column_stack([ways[which], options[choice]])
        used = grown[which, choice]
    return np.column_stack([ways, column - used])


def _node_bounds(keys: Ints, columns: list[int], lf: Floats) -> tuple[Floats, Floats, Floats]:
    """For nodes with row sums `keys` left and `columns` to fill: lower and upper bounds on
    the log-weight (-sum log n!) of any completion, and the log of their total weight."""
    import numpy as np

    log_total = lf[keys.sum(axis=1)] - lf[keys].sum(axis=1) - lf[columns].sum()
    if len(columns) == 1:
        return log_total, log_total, log_total
    count = len(keys)
    column_caps = np.broadcast_to(np.array(columns, dtype=np.int64), (count, len(columns)))
    high_by_column = -sum(_even(np.full(count, c), keys, lf) for c in columns)
    high_by_row = -sum(_even(keys[:, i], column_caps, lf) for i in range(keys.shape[1]))
    low_by_column = -sum(_concentrated(np.full(count, c), keys, lf) for c in columns)
    low_by_row = -sum(_concentrated(keys[:, i], column_caps, lf) for i in range(keys.shape[1]))
    return (
        np.maximum(low_by_column, low_by_row),
        np.minimum(high_by_column, high_by_row),
        log_total,
    )


def _even(amount: Ints, caps: Ints, lf: Floats) -> Floats:
    """Per row: the least sum of log n! over cells summing to `amount`, each at most its cap,
    i.e. cells as even as the caps allow (water-filling)."""
    import numpy as np

    caps = np.sort(caps, axis=1)
    width = caps.shape[1]
    result = np.zeros(len(amount))
    left = amount.copy()
    done = np.zeros(len(amount), dtype=bool)
    top = len(lf) - 1
    for index in range(width):
        k = width - index
        cap = caps[:, index]
        full = ~done & (cap * k <= left)
        result += np.where(full, lf[cap], 0.0)
        left = np.where(full, left - cap, left)
        spread = ~done & ~full
        share, extra = np.divmod(left, k)
        result += np.where(
            spread, extra * lf[np.minimum(share + 1, top)] + (k - extra) * lf[share], 0.0
        )
        done |= spread
    return result


def _concentrated(amount: Ints, caps: Ints, lf: Floats) -> Floats:
    """Per row: the greatest sum of log n! over cells summing to `amount`, each at most its
    cap, i.e. the largest caps filled first."""
    import numpy as np

    caps = -np.sort(-caps, axis=1)
    result = np.zeros(len(amount))
    left = amount.copy()
    for index in range(caps.shape[1]):
        n = np.minimum(caps[:, index], left)
        result += lf[n]
        left = left - n
    return result


def _monte_carlo(
    rows: list[int], cols: list[int], threshold: float, samples: int, seed: int
) -> FisherTest:
    """Estimate the p from `samples` random tables with the observed margins."""
    import numpy as np
    from scipy import special, stats

    if samples < 1:
        raise StatsInputError("The Monte Carlo estimate needs at least one sample.")
    rng = np.random.default_rng(seed)
    sampler = stats.random_table(rows, cols)
    hits = 0
    for start in range(0, samples, _SAMPLE_BATCH):
        tables = sampler.rvs(size=min(_SAMPLE_BATCH, samples - start), random_state=rng)
        log_weights = -special.gammaln(np.asarray(tables, dtype=float) + 1.0).sum(axis=(1, 2))
        hits += int(np.count_nonzero(log_weights <= threshold))
    p = (1 + hits) / (1 + samples)
    return FisherTest(
        p=p, method="monte-carlo", se=math.sqrt(p * (1 - p) / samples), samples=samples, seed=seed
    )
