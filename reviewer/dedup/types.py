"""The public data shapes of the de-duplication engine: records in, pairs and clusters out.

Everything here is plain data (frozen dataclasses and a string enum) so the app can store
results as JSON without knowing the engine's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

RecordId = int | str


@dataclass(frozen=True, slots=True)
class DedupInput:
    """One bibliographic record as imported (no normalisation expected from the caller)."""

    id: RecordId
    title: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    abstract: str = ""
    publication_type: str = ""


class Band(StrEnum):
    """How sure the engine is that two records describe the same publication."""

    CERTAIN = "certain"
    POSSIBLE = "possible"
    DISTINCT = "distinct"


@dataclass(frozen=True, slots=True)
class FieldEvidence:
    """How one field compared: ``outcome`` is same, similar, different or missing."""

    field: str
    outcome: str
    score: float

    def as_dict(self) -> dict[str, object]:
        return {"field": self.field, "outcome": self.outcome, "score": round(self.score, 3)}


@dataclass(frozen=True, slots=True)
class PairResult:
    """One scored candidate pair; ``left`` comes earlier than ``right`` in the input."""

    left: RecordId
    right: RecordId
    band: Band
    score: float
    evidence: tuple[FieldEvidence, ...]
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "left": self.left,
            "right": self.right,
            "band": str(self.band),
            "score": round(self.score, 3),
            "evidence": [item.as_dict() for item in self.evidence],
            "reasons": list(self.reasons),
        }


@dataclass(slots=True)
class DedupResult:
    """The outcome of one run.

    ``pairs`` holds every pair in the certain or possible band, plus the pairs a trap rule
    forced to DISTINCT (so the app can explain why they were kept apart). ``clusters`` are
    formed from CERTAIN pairs only; each has at least two members, listed in input order.
    """

    records: int
    compared: int
    pairs: list[PairResult] = field(default_factory=list)
    clusters: list[tuple[RecordId, ...]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        certain = sum(1 for pair in self.pairs if pair.band is Band.CERTAIN)
        possible = sum(1 for pair in self.pairs if pair.band is Band.POSSIBLE)
        clustered = sum(len(cluster) for cluster in self.clusters)
        return {
            "certain": certain,
            "possible": possible,
            "clustered_records": clustered,
            "duplicates": clustered - len(self.clusters),
        }
