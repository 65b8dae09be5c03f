"""Trap rules: look-alike records that must never be merged automatically.

Each record gets a set of *kinds* (what sort of item it is) and a tuple of *series numbers*
from its title; ``pair_traps`` compares two records and returns every rule that fires, with
the highest band the pair may still reach (``cap``). The rules, tuned on the labelled sets:

Rules 1-3 cap the pair at POSSIBLE: such a pair is never linked automatically, and a person
decides (some teams count an erratum as a report of its article, as the haematology gold
does; others keep it apart; either way no study is lost silently).

1. Erratum / corrigendum / correction notice vs any other item. Detected from the title
   ("Erratum: ...", "Correction to ...", "Corrigendum", "Publisher Correction", "...
   [erratum]", "(vol 360, pg 542, 2009)") or the publication type ("Erratum", "Published
   Erratum", "Correction").
2. Retraction notice vs any other item ("Retraction: ...", "Notice of retraction",
   "Retraction note", publication type "Retraction of Publication"). A title marked
   "RETRACTED: ..." is the retracted article itself and is *not* a notice.
3. Reply / comment / response / letter about an article vs the article ("Reply to ...", "In
   reply", "Authors' reply", "- Reply", "Response to ...", "Comment on ...", "Re: ...",
   "Letter to the editor ..."). Only the title marks these: publication types such as
   "Letter" or "Comment" are assigned inconsistently across databases.
4. Conference abstract / paper vs a journal article (publication type or BibTeX type such as
   "Conference Abstract", "Conference Paper", "inproceedings", "Meeting Abstract", or a
   journal/proceedings name with Conference/Congress/Meeting/Symposium/Proceedings): in
   different years -> DISTINCT (the later full paper); same year -> POSSIBLE.
   A journal supplement (pages "S123", volume/issue with "Suppl") vs a non-supplement record
   counts as a conference abstract only when year or volume differ (supplements also carry
   full papers, and databases write supplement pages inconsistently: "S417-S429" / "Suppl-29").
5. Parts of a series: titles equal apart from their numbers. Explicit part markers that
   differ ("Part I" vs "Part II", "Part 1" vs "Part 2", "(2)", a leading "II." or a
   trailing roman numeral) -> DISTINCT; other differing numbers ("type 1" vs "type 2",
   "HPV 16" vs "HPV 18") -> POSSIBLE.
6. Same title in different years (annual editorials, "Introduction to the minitrack ..."
   2021 vs 2022, "Gateways to clinical trials" 2006 vs 2007) when volume does not confirm
   the match: one year apart with no volume on one side -> POSSIBLE (epub and print years
   often differ by one); different volumes, or two or more years apart -> DISTINCT.

Rule 5 does not fire when year, volume and first page all agree (a typo in one title).
Rules 1-4 are about a kind present on one side only. When that kind was read from metadata
(publication type, journal name, supplement markers) rather than the title, and both records
agree on year, volume and first page, the locator wins: it is the same item labelled
differently by two databases, so the rule does not fire.

Rules on identifiers (different DOIs / PMIDs) live in ``compare.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewer.dedup.types import Band

ERRATUM = "erratum"
RETRACTION = "retraction notice"
REPLY = "reply or comment"
CONFERENCE = "conference abstract"
SUPPLEMENT = "journal supplement"
SINGLE_PAGE = "single page"

_ERRATUM_TITLE = re.compile(
    r"^\s*(?:(?:an?\s+)?errat(?:um|a)\b|corrigend(?:um|a)\b|addendum\b"
    r"|(?:author|publisher)(?:'s)?\s+correction\b|notice\s+of\s+correction\b"
    r"|publisher'?s?\s+note\b|correction(?:s)?\s*(?:to\b|of\s+(?:the\s+)?article\b|[:\[(]|$))"
    r"|\b(?:errat(?:um|a)|corrigend(?:um|a))\s*[\])]?\s*$",
    re.IGNORECASE,
)
_ERRATUM_CITATION = re.compile(
    r"\s*\(\s*vol\.?\s*\d+[^()]*?\bpg\.?\s*\w+[^()]*\)\s*$"
    r"|\s*\([^()]*\((?:19|20)\d\d\)\s*\d+\s*(?:\(\s*\d+\s*\)\s*)?\([^()]*\)\s*\)\s*$",
    re.IGNORECASE,
)
_RETRACTION_TITLE = re.compile(
    r"^\s*(?:notice\s+of\s+retraction\b|retraction\b|retraction\s+note\b"
    r"|withdrawal\s+notice\b|expression\s+of\s+concern\b)",
    re.IGNORECASE,
)
_REPLY_TITLE = re.compile(
    r"^\s*(?:in\s+reply\b|a\s+reply\b|reply\b|the\s+authors?'?\s+repl(?:y|ies)\b"
    r"|authors?'?\s+(?:reply|response)\b|response\s+to\b|in\s+response\b|response\s*:"
    r"|comments?\s+on\b|commentary\s+on\b|comment\s*:|commentary\s*:|re\s*:"
    r"|letter\s+to\s+the\s+editor\b|letter\s*:|rebuttal\b|rejoinder\b)"
    r"|(?:\b|[-:.])\s*(?:(?:the\s+)?authors?'?\s+)?(?:reply|replies|response)\s*[.)\]]?\s*$",
    re.IGNORECASE,
)
_ERRATUM_TYPE = re.compile(r"errat|corrigend|correction", re.IGNORECASE)
_RETRACTION_TYPE = re.compile(r"retraction\s+of\s+publication|retraction\s+notice", re.I)
_CONFERENCE_TYPE = re.compile(
    r"conference|congress|meeting|proceeding|symposium|inproceedings|abstract", re.IGNORECASE
)
_CONFERENCE_JOURNAL = re.compile(
    r"\b(?:conference|congress|meeting|symposium|proceedings|abstracts|workshop)\b", re.I
)
_SUPPLEMENT = re.compile(r"suppl|supplement", re.IGNORECASE)
_SUPPLEMENT_PAGE = re.compile(r"^\s*s\d", re.IGNORECASE)
_SUPPLEMENT_ISSUE = re.compile(r"^\s*s\s*\d+\s*$", re.IGNORECASE)
_PAGE_RANGE = re.compile(r"^\s*([a-z]*\d+)\s*(?:[-–—]+\s*([a-z]*\d+))?\s*$", re.IGNORECASE)

_ROMAN = {
    "i": 1,
    "ii": 2,
    "iii": 3,
    "iv": 4,
    "v": 5,
    "vi": 6,
    "vii": 7,
    "viii": 8,
    "ix": 9,
    "x": 10,
    "xi": 11,
    "xii": 12,
}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_SERIES_WORDS = frozenset({"part", "paper", "chapter", "section", "book"})
_QUALIFIER_WORDS = frozenset(
    {"type", "phase", "stage", "grade", "class", "volume", "vol", "no", "study", "trial"}
)
_AMBIGUOUS_ROMAN = frozenset({"i", "v", "x"})
_LEADING_ROMAN = re.compile(r"^\s*(i{1,3}|iv|v|vi{1,3}|ix|x)\s*[.:]\s", re.IGNORECASE)
_TRAILING_PAREN_NUMBER = re.compile(r"\(\s*(\d{1,2}|[ivx]{1,4})\s*\)\s*[.]?\s*$", re.I)


@dataclass(frozen=True, slots=True)
class RecordKinds:
    """What sort of item a record is, split by where the evidence came from."""

    from_title: frozenset[str]
    from_metadata: frozenset[str]

    @property
    def all(self) -> frozenset[str]:
        return self.from_title | self.from_metadata


def strip_erratum_citation(clean_title: str) -> tuple[str, bool]:
    """Split off an erratum's citation of the corrected article.

    Web of Science writes errata as "Title (vol 360, pg 542, 2009)", Embase as "Title (New
    England Journal of Medicine (2009) 360 (542-544))". Returns the title without it and
    whether one was found.
    """
    if not clean_title.endswith(")"):
        return clean_title, False
    stripped = _ERRATUM_CITATION.sub("", clean_title)
    return stripped, stripped != clean_title


_LEADING_MARKER = re.compile(
    r"^\s*(?:(?:an?\s+)?errat(?:um|a)|corrigend(?:um|a)|(?:author|publisher)(?:'s)?\s+correction"
    r"|corrections?|notice\s+of\s+retraction|retraction(?:\s+note)?|retracted|comments?"
    r"|commentary|(?:in\s+)?reply|(?:in\s+)?response|re)\s*(?::|\bto\b|\bon\b|-)\s*",
    re.IGNORECASE,
)
_TRAILING_MARKER = re.compile(
    r"\s*(?:[-:.]\s*|\s)(?:the\s+)?(?:authors?'?\s+)?(?:reply|replies)\s*$", re.IGNORECASE
)
_UNCLOSED_PAREN = re.compile(r"\s*\([^()]*(?:\([^()]*\)[^()]*)*\([^()]*$|\s*\([^()]*$")


def strip_kind_markers(clean_title: str) -> str:
    """The title of the item discussed: "Erratum: X", "Reply to X", "X - Reply" -> "X".

    Used for comparison only (the kind is recorded separately), so an erratum or reply is
    compared with the article it concerns and then kept apart by a trap rule with a reason.
    A truncated trailing parenthesis ("X (Proceedings of the Nat") is dropped too.
    """
    text = _LEADING_MARKER.sub("", clean_title, count=1)
    text = _TRAILING_MARKER.sub("", text)
    if "(" in text:
        match = _UNCLOSED_PAREN.search(text)
        if match and match.start() >= 10:
            text = text[: match.start()]
    return text if len(text) >= 10 else clean_title


def _single_page(pages: str) -> bool:
    match = _PAGE_RANGE.match(pages)
    if match is None:
        return False
    last = match.group(2)
    return last is None or last.lower() == match.group(1).lower()


def record_kinds(
    clean_title: str,
    publication_type: str,
    journal: str,
    volume: str,
    issue: str,
    pages: str,
    erratum_citation: bool = False,
) -> RecordKinds:
    """Classify one record (see the module docstring for the patterns)."""
    from_title: set[str] = set()
    from_metadata: set[str] = set()
    if erratum_citation or _ERRATUM_TITLE.search(clean_title):
        from_title.add(ERRATUM)
    if _RETRACTION_TITLE.search(clean_title):
        from_title.add(RETRACTION)
    if _REPLY_TITLE.search(clean_title):
        from_title.add(REPLY)
    if publication_type:
        if _ERRATUM_TYPE.search(publication_type):
            from_metadata.add(ERRATUM)
        if _RETRACTION_TYPE.search(publication_type):
            from_metadata.add(RETRACTION)
        if _CONFERENCE_TYPE.search(publication_type):
            from_metadata.add(CONFERENCE)
    if journal and _CONFERENCE_JOURNAL.search(journal):
        from_metadata.add(CONFERENCE)
    if (
        _SUPPLEMENT.search(volume)
        or _SUPPLEMENT.search(issue)
        or _SUPPLEMENT_ISSUE.match(issue)
        or _SUPPLEMENT_PAGE.match(pages)
    ):
        from_metadata.add(SUPPLEMENT)
    if pages and _single_page(pages):
        from_metadata.add(SINGLE_PAGE)
    return RecordKinds(frozenset(from_title), frozenset(from_metadata))


def _number_value(token: str, previous: str) -> int | None:
    if token.isdigit():
        return int(token) if len(token) <= 6 else None
    if token in _ROMAN and (token not in _AMBIGUOUS_ROMAN or previous in _SERIES_WORDS):
        return _ROMAN[token]
    if token in _ROMAN and previous in _QUALIFIER_WORDS:
        return _ROMAN[token]
    if token in _NUMBER_WORDS and previous in _SERIES_WORDS:
        return _NUMBER_WORDS[token]
    return None


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """Numbers in a title, the explicit part numbers among them, and the title without them."""

    numbers: tuple[int, ...]
    parts: tuple[int, ...]
    stem: str


def series_info(clean_title: str, normalised_title: str) -> SeriesInfo:
    """Extract the numbers that distinguish parts of a series (rule 5)."""
    words = normalised_title.split()
    numbers: list[int] = []
    parts: list[int] = []
    stem: list[str] = []
    previous = ""
    for word in words:
        value = _number_value(word, previous)
        if value is None:
            stem.append(word)
        else:
            numbers.append(value)
            if previous in _SERIES_WORDS:
                parts.append(value)
        previous = word
    leading = _LEADING_ROMAN.match(clean_title)
    if leading:
        parts.append(_ROMAN[leading.group(1).lower()])
    trailing = _TRAILING_PAREN_NUMBER.search(clean_title)
    if trailing:
        token = trailing.group(1).lower()
        parts.append(int(token) if token.isdigit() else _ROMAN.get(token, 0))
    if words and words[-1] in _ROMAN and words[-1] not in _AMBIGUOUS_ROMAN:
        parts.append(_ROMAN[words[-1]])
    return SeriesInfo(tuple(numbers), tuple(sorted(set(parts))), " ".join(stem))


@dataclass(frozen=True, slots=True)
class Trap:
    """A rule that fired for a pair: the explanation and the highest band allowed."""

    reason: str
    cap: Band


@dataclass(frozen=True, slots=True)
class TrapView:
    """The per-record facts the trap rules read (filled in by ``prepare.py``)."""

    kinds: RecordKinds
    series: SeriesInfo
    year: int | None
    volume_number: str
    first_page: str


def _locators_agree(left: TrapView, right: TrapView) -> bool:
    return (
        left.year is not None
        and left.year == right.year
        and bool(left.volume_number)
        and left.volume_number == right.volume_number
        and bool(left.first_page)
        and left.first_page == right.first_page
    )


_ABSTRACT_LIKE = frozenset({CONFERENCE, SUPPLEMENT, SINGLE_PAGE})
_LOCATOR_OVERRIDES = frozenset({ERRATUM})

_KIND_REASONS = {
    ERRATUM: "kept apart: erratum or correction notice vs the article it corrects",
    RETRACTION: "kept apart: retraction notice vs the article it retracts",
    REPLY: "kept apart: reply, comment or letter vs the article it discusses",
}


def pair_traps(left: TrapView, right: TrapView, titles_alike: bool) -> list[Trap]:
    """Every trap rule firing for this pair (empty when none applies).

    ``titles_alike`` says whether the titles are (nearly) the same apart from numbers; rules
    5 and 6 only apply then.
    """
    traps: list[Trap] = []
    agree = _locators_agree(left, right)
    for kind, reason in _KIND_REASONS.items():
        in_left, in_right = kind in left.kinds.all, kind in right.kinds.all
        if in_left == in_right:
            continue
        side = left if in_left else right
        overridden = agree and (kind in _LOCATOR_OVERRIDES or kind not in side.kinds.from_title)
        if not overridden:
            traps.append(Trap(reason, Band.POSSIBLE))
    years_differ = left.year is not None and right.year is not None and left.year != right.year
    volumes_differ = (
        bool(left.volume_number)
        and bool(right.volume_number)
        and left.volume_number != right.volume_number
    )
    abstract_left = bool(left.kinds.all & _ABSTRACT_LIKE)
    abstract_right = bool(right.kinds.all & _ABSTRACT_LIKE)
    if abstract_left != abstract_right and not agree:
        side = left if abstract_left else right
        cap = Band.DISTINCT if years_differ else Band.POSSIBLE
        other = right if abstract_left else left
        only_single_page = side.kinds.all & _ABSTRACT_LIKE == {SINGLE_PAGE}
        if CONFERENCE in side.kinds.all:
            traps.append(Trap("kept apart: conference abstract or paper vs journal article", cap))
        elif (years_differ or volumes_differ) and not (only_single_page and not other.first_page):
            traps.append(Trap("kept apart: journal supplement or abstract vs an article", cap))
    if titles_alike and not agree:
        left_series, right_series = left.series, right.series
        if left_series.parts != right_series.parts and (left_series.parts or right_series.parts):
            both = bool(left_series.parts) and bool(right_series.parts)
            cap = Band.DISTINCT if both else Band.POSSIBLE
            traps.append(Trap("kept apart: different parts of a series", cap))
        elif (
            left_series.numbers
            and right_series.numbers
            and left_series.numbers != right_series.numbers
        ):
            traps.append(Trap("kept apart: titles differ in a number", Band.POSSIBLE))
        if years_differ and not (left.volume_number and left.volume_number == right.volume_number):
            assert left.year is not None and right.year is not None
            gap = abs(left.year - right.year)
            cap = Band.POSSIBLE if gap == 1 and not volumes_differ else Band.DISTINCT
            traps.append(Trap("kept apart: same title in different years", cap))
    return traps
