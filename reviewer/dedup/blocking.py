"""Blocking: which pairs are worth scoring, in close to linear time.

Each record emits a handful of exact keys; only records sharing a key become candidate
pairs. The keys (prefix shown before the colon):

* ``d:`` normalised DOI
* ``p:`` PMID
* ``t:`` the whole normalised title without spaces
* ``h:`` the first 30 characters of that title (truncated titles, appended citations,
  differences near the end)
* ``e:`` the last 30 characters (additions or typos near the start)
* ``a:`` first author's surname + year + first 4 characters of the title key (missing or
  garbled titles, word-order changes after the first word)
* ``w:`` the first two authors' surnames + year, when a record has three or more authors
  (the same team's paper under another title)
* ``v:`` volume number + first page (+ first letter of the journal name when present)
  (titles in different languages, missing titles)

Titles and title pieces shorter than 12 characters are not used as keys (too generic).

Blocks are bounded: a block with more than ``MAX_BLOCK`` records is not compared all
against all; its records are sorted by title and each is compared only with the next
``WINDOW`` records (sorted neighbourhood), so a huge block costs ``WINDOW`` pairs per
record instead of a quadratic number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from reviewer.dedup.prepare import Prepared

MAX_BLOCK = 60
WINDOW = 12
_PIECE = 30
_MIN_KEY = 12


def record_keys(record: Prepared) -> list[str]:
    """The blocking keys of one record (see the module docstring)."""
    keys: list[str] = []
    if record.doi:
        keys.append("d:" + record.doi)
    if record.pmid:
        keys.append("p:" + record.pmid)
    title = record.title_key
    if len(title) >= _MIN_KEY:
        keys.append("t:" + title)
        if len(title) > _PIECE:
            keys.append("h:" + title[:_PIECE])
            keys.append("e:" + title[-_PIECE:])
    if record.authors and record.year is not None:
        keys.append(f"a:{record.authors[0].surname}:{record.year}:{title[:4]}")
    if len(record.authors) >= 3 and record.year is not None:
        first, second = record.authors[0].surname, record.authors[1].surname
        keys.append(f"w:{first}:{second}:{record.year}")
    if record.volume_number and record.pages.first:
        initial = record.journal[0][:1] if record.journal else ""
        keys.append(f"v:{record.volume_number}:{record.pages.first}:{initial}")
    return keys


def candidate_pairs(
    records: list[Prepared],
    accept: Callable[[int, int], bool] | None = None,
) -> set[tuple[int, int]]:
    """Unordered candidate pairs ``(i, j)`` with ``i < j`` (record indexes).

    ``accept`` filters pairs before they are stored (incremental runs, cannot-link pairs).
    """
    blocks: dict[str, list[int]] = defaultdict(list)
    for record in records:
        for key in record_keys(record):
            blocks[key].append(record.index)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2:
            continue
        for pair in _block_pairs(members, records):
            if accept is None or accept(*pair):
                pairs.add(pair)
    return pairs


def _block_pairs(members: list[int], records: list[Prepared]) -> Iterable[tuple[int, int]]:
    if len(members) <= MAX_BLOCK:
        for position, first in enumerate(members):
            for second in members[position + 1 :]:
                yield (first, second) if first < second else (second, first)
        return
    ordered = sorted(members, key=lambda index: (records[index].title_key, index))
    for position, first in enumerate(ordered):
        for second in ordered[position + 1 : position + 1 + WINDOW]:
            yield (first, second) if first < second else (second, first)
