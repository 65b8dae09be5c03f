"""Small helpers the de-duplication tests share: find a pair in a result, band of two records."""

from __future__ import annotations

from reviewer.dedup import Band, DedupInput, DedupResult, PairResult, deduplicate
from reviewer.dedup.types import RecordId


def find_pair(result: DedupResult, left: RecordId, right: RecordId) -> PairResult | None:
    """The reported pair of these two records (either order), or None."""
    for pair in result.pairs:
        if {pair.left, pair.right} == {left, right}:
            return pair
    return None


def band_of(first: DedupInput, second: DedupInput) -> Band:
    """The band the engine gives two records on their own (DISTINCT when not reported)."""
    pair = find_pair(deduplicate([first, second]), first.id, second.id)
    return Band.DISTINCT if pair is None else pair.band
