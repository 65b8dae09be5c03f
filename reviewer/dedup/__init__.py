"""Pure de-duplication engine: records in, clusters with scores and reasons out.

No Django here (nothing from ``reviewer`` outside this package is imported), so the engine
is tested and benchmarked on its own::

    result = deduplicate([DedupInput(id=1, title=..., authors=(...), doi=...), ...])
    result.pairs      # certain/possible pairs with evidence and reasons
    result.clusters   # conflict-free clusters of CERTAIN pairs

Modules: ``normalise`` (field normalisation), ``prepare`` (per-record precomputation),
``blocking`` (candidate pairs, documented keys), ``compare`` (field evidence and bands),
``rules`` (trap rules), ``clusters`` (chaining-safe clustering), ``engine`` (the entry
point), ``benchmark`` (labelled-set loader and pairwise metrics for tests and bench).
"""

from reviewer.dedup.engine import deduplicate
from reviewer.dedup.types import Band, DedupInput, DedupResult, FieldEvidence, PairResult

__all__ = [
    "Band",
    "DedupInput",
    "DedupResult",
    "FieldEvidence",
    "PairResult",
    "deduplicate",
]
