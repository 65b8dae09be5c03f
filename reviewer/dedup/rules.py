"""Trap rules: look-alike records that must never be merged automatically.

Each record gets a set of *kinds* (what sort of item it is) and a tuple of *series numbers*
from its title; ``pair_traps`` compares two records and returns every rule that fires, with
the highest band the pair may still reach (``cap``). Each rule is stated with the reason a
person sees in the app; none is a threshold fitted to a labelled set (rules 7-14, from the
classes of issue 14, are checked leave-one-set-out; what each changes on every labelled set
is in bench/dedup_results.md).

Rules 1-6 (below) keep look-alikes apart; rules 7-14 (further down, each with its reason)
read the evidence that tells items apart and link on it:

7. differing issue numbers or non-overlapping page ranges are contradictions;
8. a generic title ("Editorial", "Editor's comments", "Reply", "Erratum", "News", "In this
   issue", ...) needs the DOI/PMID, or volume, issue and first page, to agree;
9. a title translated in one database links on authors, journal, year, volume and page;
10. a retitled or shortened title links on identical authors, journal, volume, issue, pages;
11. a dissertation links to its Dissertation Abstracts entry;
12. titles identical but for a word swapped for an unrelated one are two studies;
13. one team's meeting abstract or notice under the title of its study (a one-page item or
    supplement, same year) links to the study's article despite another issue and pages;
14. a volume, issue and page moved by one field in one record agree, they do not contradict.

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
   different years -> DISTINCT (the later full paper); same year -> POSSIBLE. A marker read
   from the journal's name alone does not count when both records name the same journal
   (one may spell it out, "Proceedings of the National Academy of Sciences", and the
   other abbreviate it, "Proc Natl Acad Sci U S A"): it says the same of both.
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
from difflib import SequenceMatcher

from rapidfuzz import fuzz

from reviewer.dedup.types import Band

ERRATUM = "erratum"
RETRACTION = "retraction notice"
REPLY = "reply or comment"
CONFERENCE = "conference abstract"
SUPPLEMENT = "journal supplement"
SINGLE_PAGE = "single page"
DISSERTATION = "dissertation"

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
_DISSERTATION_TYPE = re.compile(r"thesis|dissertation", re.IGNORECASE)
_DISSERTATION_JOURNAL = re.compile(
    r"\b(?:dissertations?|masters)\s+abstracts\b|\bdissertation\b", re.IGNORECASE
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
    # of `from_metadata`, what only the journal's name said ("Proceedings of ...", which
    # also names journals: PNAS, Proc Biol Sci, Mayo Clin Proc)
    from_journal_name: frozenset[str] = frozenset()

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
    dissertation = bool(
        (publication_type and _DISSERTATION_TYPE.search(publication_type))
        or (journal and _DISSERTATION_JOURNAL.search(journal))
    )
    if dissertation:
        # "Dissertation Abstracts International" and PsycINFO's type "Dissertation
        # Abstract" name a thesis, not a conference abstract.
        from_metadata.add(DISSERTATION)
    from_journal_name: set[str] = set()
    if publication_type:
        if _ERRATUM_TYPE.search(publication_type):
            from_metadata.add(ERRATUM)
        if _RETRACTION_TYPE.search(publication_type):
            from_metadata.add(RETRACTION)
        if _CONFERENCE_TYPE.search(publication_type) and not dissertation:
            from_metadata.add(CONFERENCE)
    if journal and _CONFERENCE_JOURNAL.search(journal) and not dissertation:
        if CONFERENCE not in from_metadata:
            from_journal_name.add(CONFERENCE)
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
    return RecordKinds(
        frozenset(from_title), frozenset(from_metadata), frozenset(from_journal_name)
    )


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
class PageRange:
    """A page range that can be compared: a letter prefix ("", "s", "e") and two numbers."""

    prefix: str
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class TrapView:
    """The per-record facts the trap rules read (filled in by ``prepare.py``)."""

    kinds: RecordKinds
    series: SeriesInfo
    year: int | None
    volume_number: str
    first_page: str
    issue: str = ""  # normalised issue ("5", "suppl2"), "" when missing
    issue_numbers: frozenset[int] | None = None  # a plain issue number or range, else None
    page_range: PageRange | None = None
    last_page: str = ""
    generic: str = ""  # the generic title's label ("editorial"), "" when the title is specific
    translated: bool = False  # the title is a translation (bracketed, or a language note)
    title_words: int = 0  # words in the compared title (rule 13 wants a specific title)


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


def pair_traps(
    left: TrapView,
    right: TrapView,
    titles_alike: bool,
    *,
    shared_id: bool = False,
    same_pmid: bool = False,
    journals_differ: bool = False,
    authors_differ: bool = False,
    swaps: list[tuple[str, str]] | None = None,
    same_study: bool = False,
    same_journal: bool = False,
) -> list[Trap]:
    """Every trap rule firing for this pair (empty when none applies).

    ``titles_alike`` says whether the titles are (nearly) the same apart from numbers; rules
    5 and 6 only apply then. ``shared_id``: the same DOI or PMID (``same_pmid``: the same
    PMID); ``journals_differ``, ``authors_differ``: both given and clearly different (rule 7
    counts them); ``swaps``: the words rule 12 found swapped between the titles;
    ``same_study``: rule 13 found the two to be reports of one study by one team;
    ``same_journal``: both name one journal (the same name, or one abbreviating the other):
    a conference marker read from that name then says the same of both, whichever way each
    record spells it ("Proceedings of the National Academy of Sciences" and "Proc Natl Acad
    Sci U S A"), so it does not set one apart as the conference abstract.
    """
    traps: list[Trap] = []
    agree = _locators_agree(left, right)
    traps.extend(
        _coordinate_traps(
            left,
            right,
            shared_id,
            same_pmid,
            journals_differ,
            authors_differ,
            agree=agree,
            titles_alike=titles_alike,
            same_study=same_study,
        )
    )
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
    kinds_left, kinds_right = left.kinds.all, right.kinds.all
    if same_journal:
        kinds_left -= left.kinds.from_journal_name
        kinds_right -= right.kinds.from_journal_name
    abstract_left = bool(kinds_left & _ABSTRACT_LIKE)
    abstract_right = bool(kinds_right & _ABSTRACT_LIKE)
    if abstract_left != abstract_right and not agree:
        side_kinds = kinds_left if abstract_left else kinds_right
        cap = Band.DISTINCT if years_differ else Band.POSSIBLE
        other = right if abstract_left else left
        only_single_page = side_kinds & _ABSTRACT_LIKE == {SINGLE_PAGE}
        if CONFERENCE in side_kinds:
            traps.append(Trap("kept apart: conference abstract or paper vs journal article", cap))
        elif (years_differ or volumes_differ) and not (only_single_page and not other.first_page):
            traps.append(Trap("kept apart: journal supplement or abstract vs an article", cap))
    if swaps and not agree and not shared_id:
        words = ", ".join(f"{first} / {second}" for first, second in swaps)
        traps.append(Trap(f"kept apart: titles differ in a word ({words})", Band.DISTINCT))
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
        theses = DISSERTATION in left.kinds.all and DISSERTATION in right.kinds.all
        same_volume = bool(left.volume_number) and left.volume_number == right.volume_number
        if years_differ and not same_volume and not theses:
            assert left.year is not None and right.year is not None
            gap = abs(left.year - right.year)
            cap = Band.POSSIBLE if gap == 1 and not volumes_differ else Band.DISTINCT
            traps.append(Trap("kept apart: same title in different years", cap))
    return traps


# --- Contradictions, generic titles and links on coordinates (rules 7-11) ---------------
#
# 7. Contradicting coordinates. Two records whose issue numbers differ ("5" vs "9"), or
#    whose page ranges do not overlap ("1223-1229" vs "2205"), are two items, whatever their
#    titles say: a recurring column, an erratum, a conference abstract and the later
#    article all share a title with a different place in the journal. One contradiction
#    (issue, pages, with volume and journal also counted) -> POSSIBLE (one wrong field in
#    one database happens); two or more -> DISTINCT, unless one record is marked as a
#    notice, abstract, supplement or single page (then a person decides whether it counts
#    as a report of the article, as some teams do). A shared PMID outranks a contradiction
#    (the contradiction is then a data error); a shared DOI does not (databases attach the
#    article's DOI to its erratum). Issues compare only when both are plain numbers or
#    ranges ("5", "5-6"); pages only when both parse as ranges with the same letter prefix
#    ("S12-S15"; an e-locator "e1234" or "a1754" against a printed page is not compared).
# 8. A generic title ("Editorial", "Editor's comments", "Letter from the editor", "Reply",
#    "Erratum", "Correction", "Retraction note", "News", "In this issue", "Introduction",
#    "Book reviews", ...) says nothing about which item it is: such a pair is linked only
#    when the DOI or PMID is shared or volume, issue and first page all agree; otherwise it
#    is kept apart (DISTINCT), as the same columnist writes one in every issue.
# 9. Translated title: when one record's title is a translation (wholly in square brackets,
#    as PubMed gives translated titles, or carrying "[Article in German]"), the two titles
#    may be in different languages; authors, journal, year, volume and first page that all
#    agree (and nothing contradicting) link the pair as CERTAIN.
# 10. Retitled or shortened title: identical author lists, the same journal, year, volume,
#    issue and pages (first page, and last page when both give one) -> CERTAIN; only one
#    item starts on that page of that issue. In a supplement or on a single page (where
#    several abstracts share a page) -> POSSIBLE.
# 11. A dissertation and its Dissertation Abstracts entry (thesis type, or a journal named
#    "Dissertation Abstracts International"/"Masters Abstracts"): near-identical titles
#    (>= 0.9) by the same author up to two years apart (the abstract appears after the
#    degree) -> CERTAIN.

_GENERIC_TITLES = (
    r"(?:guest\s+)?editorials?(?:\s+(?:comments?|commentary|notes?))?",
    r"editor\s*s?\s+(?:comments?|notes?|introduction|preface|corner|column|page|letter"
    r"|message|choice|summary|remarks)",
    r"(?:a\s+)?(?:letter|message|note|notes|words?|comments?|report)\s+from\s+the\s+"
    r"(?:editors?|editor\s+in\s+chief|guest\s+editors?|president|chair|publisher)",
    r"from\s+the\s+(?:editors?|editor\s*s\s+desk|editor\s+in\s+chief|president|chair"
    r"|publisher)",
    r"(?:letters?|correspondence)(?:\s+to\s+the\s+editors?)?",
    r"(?:in\s+)?repl(?:y|ies)|(?:the\s+)?authors?\s*s?\s+(?:reply|replies|response)",
    r"responses?|rejoinder|comments?|commentary|invited\s+commentary",
    r"errat(?:um|a)|corrigend(?:um|a)|corrections?(?:\s+and\s+clarifications)?"
    r"|notice\s+of\s+correction|errata\s+and\s+corrigenda",
    r"(?:notice\s+of\s+)?retraction(?:\s+(?:note|notice|statement))?|retracted\s+article"
    r"|expression\s+of\s+concern|withdrawal\s+notice|withdrawn",
    r"news(?:\s+(?:in\s+brief|and\s+views|and\s+notes|briefs?))?|in\s+brief|briefs?",
    r"(?:in|inside)\s+this\s+issue|this\s+issue|(?:issue\s+)?highlights?"
    r"(?:\s+of\s+this\s+issue)?",
    r"introduction|foreword|preface|prologue|epilogue|afterword|overview",
    r"(?:guest\s+)?editors?\s*s?\s+introduction|(?:introduction|preface|foreword)\s+to\s+"
    r"(?:the|this)\s+special\s+(?:issue|section)|special\s+(?:issue|section)\s+introduction",
    r"(?:selected\s+|meeting\s+|conference\s+)?abstracts?|book\s+reviews?|reviews?"
    r"|books?\s+received",
    r"acknowledg?ements?(?:\s+(?:of|to)\s+(?:our\s+)?reviewers)?|reviewers?(?:\s+list)?"
    r"|thanks?\s+to\s+(?:our\s+)?reviewers|referees?",
    r"announcements?|calendar(?:\s+of\s+events)?|call\s+for\s+papers|obituary|obituaries"
    r"|in\s+memoriam",
    r"(?:author\s+|subject\s+)?index|(?:table\s+of\s+)?contents|masthead|editorial\s+board"
    r"|front\s+matter|back\s+matter|(?:on\s+|about\s+)?the\s+cover|cover(?:\s+image)?"
    r"|issue\s+information|information\s+for\s+authors|instructions\s+(?:to|for)\s+authors",
    r"(?:the\s+)?president\s*s?\s+(?:message|column|page|report|letter)"
    r"|presidential\s+address|message\s+from\s+the\s+president",
    r"untitled|no\s+title(?:\s+available)?|not\s+available",
)
_GENERIC_TITLE = re.compile(
    r"^(?:the\s+)?(?:" + "|".join(_GENERIC_TITLES) + r")(?:\s+\d{1,4})*$", re.IGNORECASE
)
_ISSUE_NUMBERS = re.compile(r"^\s*(?:no\.?\s*)?(\d{1,4})(?:\s*[-/&,]\s*(\d{1,4}))?\s*$", re.I)
_PAGE_TOKEN = re.compile(r"^([a-z]{0,3})(\d{1,7})$")
_MAX_ISSUE_SPAN = 12


def generic_title(folded_title: str) -> str:
    """The title itself when it is generic (rule 8), else "" (folded text expected)."""
    return folded_title if folded_title and _GENERIC_TITLE.match(folded_title) else ""


def issue_numbers(issue: str) -> frozenset[int] | None:
    """The numbers of a plain issue ("5" -> {5}, "5-6" -> {5, 6}); None when not plain."""
    match = _ISSUE_NUMBERS.match(issue)
    if match is None:
        return None
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) else first
    if first <= last <= first + _MAX_ISSUE_SPAN:
        return frozenset(range(first, last + 1))
    return frozenset({first, last})


def page_range(first: str, last: str) -> PageRange | None:
    """A comparable range from normalised first/last pages, or None (rule 7).

    "s3"-"s89" -> (s, 3, 89); "488" -> (, 488, 488); a garbled range whose last page comes
    before its first ("2297-2108") or a non-numeric first page ("suppl") -> None.
    """
    start = _PAGE_TOKEN.match(first)
    if start is None:
        return None
    prefix, low = start.group(1), int(start.group(2))
    if not last:
        return PageRange(prefix, low, low)
    end = _PAGE_TOKEN.match(last)
    if end is None or end.group(1) not in ("", prefix):
        return None
    high = int(end.group(2))
    return PageRange(prefix, low, high) if high >= low else None


def locator_contradictions(left: TrapView, right: TrapView) -> list[str]:
    """The coordinates that contradict (rule 7): "issue 5 vs 9", "pages 1223-1229 vs 2205"."""
    found: list[str] = []
    if shifted_coordinates(left, right):
        return found  # rule 14: one record's fields moved by one place, not a contradiction
    if (
        left.issue_numbers is not None
        and right.issue_numbers is not None
        and not left.issue_numbers & right.issue_numbers
    ):
        found.append(f"issue {left.issue} vs {right.issue}")
    a, b = left.page_range, right.page_range
    if DISSERTATION in left.kinds.all or DISSERTATION in right.kinds.all:
        return found  # a thesis's "pages" is its length, not a place in a journal
    if (
        a is not None
        and b is not None
        and a.prefix == b.prefix
        and (a.first > b.last or b.first > a.last)
    ):
        found.append(f"pages {_show(a)} vs {_show(b)}")
    return found


def _show(pages: PageRange) -> str:
    first = f"{pages.prefix}{pages.first}"
    return first if pages.last == pages.first else f"{first}-{pages.prefix}{pages.last}"


def coordinates_confirm(left: TrapView, right: TrapView) -> bool:
    """Volume, issue and first page all agree (an issue missing on both sides is allowed)."""
    return (
        bool(left.volume_number)
        and left.volume_number == right.volume_number
        and bool(left.first_page)
        and left.first_page == right.first_page
        and left.issue == right.issue
        and not locator_contradictions(left, right)
    )


@dataclass(frozen=True, slots=True)
class Link:
    """A link made by rules 9-11: the band it reaches and why."""

    reason: str
    band: Band


_NOT_ALONE_ON_A_PAGE = frozenset({CONFERENCE, SUPPLEMENT, SINGLE_PAGE})
TRANSLATED_REASON = "title translated in one source; authors, journal, year, volume and page agree"
RETITLED_REASON = "title differs; identical authors, journal, volume, issue and pages"
DISSERTATION_REASON = "a dissertation and its Dissertation Abstracts entry"


def coordinate_link(
    left: TrapView,
    right: TrapView,
    *,
    title_score: float,
    authors_identical: bool,
    authors_agree: bool,
    journals_agree: bool,
) -> Link | None:
    """Rules 9-11: a link on authors and coordinates when the titles alone do not make one.

    ``authors_identical``: the same list (same surnames in order, compatible initials);
    ``authors_agree``: nearly all authors found in the other list, first author included.
    """
    if locator_contradictions(left, right):
        return None
    if DISSERTATION in left.kinds.all and DISSERTATION in right.kinds.all:
        years_close = left.year is None or right.year is None or abs(left.year - right.year) <= 2
        if title_score >= 0.9 and authors_agree and years_close:
            return Link(DISSERTATION_REASON, Band.CERTAIN)
        return None
    same_place = (
        left.year is not None
        and left.year == right.year
        and bool(left.volume_number)
        and left.volume_number == right.volume_number
        and bool(left.first_page)
        and left.first_page == right.first_page
        and (not left.last_page or not right.last_page or left.last_page == right.last_page)
    )
    if not same_place or not journals_agree or left.generic or right.generic:
        return None  # two generic titles on one page may be two items (rule 8)
    if (left.translated or right.translated) and authors_agree:
        return Link(TRANSLATED_REASON, Band.CERTAIN)
    if authors_identical and left.issue and left.issue == right.issue:
        shared_page = (left.kinds.all | right.kinds.all) & _NOT_ALONE_ON_A_PAGE
        return Link(RETITLED_REASON, Band.POSSIBLE if shared_page else Band.CERTAIN)
    return None


_CONTINUOUS_PAGES = 100


def _issue_typo(left: TrapView, right: TrapView, differing: list[str], *, agree: bool) -> bool:
    """Only the issue differs while year, volume and a first page past 100 agree: a journal
    numbering its pages through the volume puts one item on that page, so the issue number
    is a typing error in one database (magazines that restart the pages in every issue
    rarely reach page 100, and their recurring columns are generic titles: rule 8)."""
    return (
        agree
        and len(differing) == 1
        and differing[0].startswith("issue")
        and left.page_range is not None
        and left.page_range.first >= _CONTINUOUS_PAGES
    )


_MARKED = frozenset({ERRATUM, RETRACTION, REPLY, CONFERENCE, SUPPLEMENT, SINGLE_PAGE})


def _coordinate_traps(
    left: TrapView,
    right: TrapView,
    shared_id: bool,
    same_pmid: bool,
    journals_differ: bool,
    authors_differ: bool,
    *,
    agree: bool,
    titles_alike: bool,
    same_study: bool = False,
) -> list[Trap]:
    """Rules 7 (contradicting coordinates) and 8 (generic titles); rule 13's ``same_study``
    (never true for a generic title) lifts rule 7."""
    label = left.generic or right.generic
    if label:
        if shared_id or coordinates_confirm(left, right):
            return []
        return [
            Trap(
                f'kept apart: "{label}" is a generic title; the DOI, or volume, issue and '
                "pages, must agree",
                Band.DISTINCT,
            )
        ]
    if same_study:
        return []
    differing = locator_contradictions(left, right)
    if not differing or same_pmid or _issue_typo(left, right, differing, agree=agree):
        return []
    if left.volume_number and right.volume_number and left.volume_number != right.volume_number:
        differing.append(f"volume {left.volume_number} vs {right.volume_number}")
    if journals_differ:
        differing.append("journal")
    if authors_differ:
        differing.append("authors")
    if not titles_alike:
        differing.append("title")
    # A notice or abstract in the same journal may count as a report of the article (a
    # person decides); in another journal it is another publication.
    marked = bool((left.kinds.all ^ right.kinds.all) & _MARKED) and not journals_differ
    what = ", ".join(differing)
    if len(differing) >= 2 and not marked and not agree:
        return [Trap(f"kept apart: different {what}", Band.DISTINCT)]
    return [Trap(f"kept apart: different {what}", Band.POSSIBLE)]


# 12. Titles identical but for one or two words swapped for unrelated ones ("... in Adult
#     Patients" / "... in Pediatric Patients", "plasma therapy-sensitive" / "-resistant",
#     "women" / "men") are sister studies or registrations, not one paper -> DISTINCT
#     (a title says what a study is about; databases do not swap its words for others),
#     unless year, volume and first page agree (then it is a typo) or an identifier is
#     shared. Spelling variants ("tumour" / "tumor"), plurals and short words are not swaps;
#     the titles are compared with the acronyms they define collapsed ("... syndrome (aHUS)").

_SWAP_MIN_LENGTH = 4
_SWAP_MAX_LIKENESS = 70.0  # "tumour"/"tumor" 91, "children"/"child" 77, "adult"/"adolescent" 53
_MAX_SWAPS = 2
_SAME_WORD = frozenset({frozenset({"versus", "vs"})})


def swapped_words(left_title: str, right_title: str) -> list[tuple[str, str]]:
    """The word pairs when the titles differ only by one or two words each replaced by an
    unrelated word (rule 12); [] otherwise (folded titles expected)."""
    if left_title == right_title:
        return []
    left_words, right_words = left_title.split(), right_title.split()
    if len(left_words) != len(right_words):
        return []  # a swap replaces one word by one word: the lengths must be equal
    edits = [
        op
        for op in SequenceMatcher(a=left_words, b=right_words, autojunk=False).get_opcodes()
        if op[0] != "equal"
    ]
    if not edits or len(edits) > _MAX_SWAPS:
        return []
    swaps: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in edits:
        if tag != "replace" or i2 - i1 != 1 or j2 - j1 != 1:
            return []
        first, second = left_words[i1], right_words[j1]
        if (
            min(len(first), len(second)) < _SWAP_MIN_LENGTH
            or frozenset({first, second}) in _SAME_WORD
            or not first.isalpha()
            or not second.isalpha()
            or fuzz.ratio(first, second) > _SWAP_MAX_LIKENESS
        ):
            return []
        swaps.append((first, second))
    return swaps


# 13. One study's reports by one team. Two records sharing a specific title (>= 0.95; six
#     words or more and not generic) by the same team (three or more authors on each side,
#     the first two the same, the lists agreeing) in the same year, one of them a one-page
#     item or a meeting abstract, in the same journal and volume, are reports of one study:
#     the short item is the study's meeting abstract or a notice printed under its title in
#     another issue (a correction, the authors' note). Differing issue and pages (rule 7)
#     then locate the short item, they do not make another study -> CERTAIN: linking them
#     hides no study. (The same abstract printed in two journals' supplements, both
#     meeting abstracts, is a question: one labelled set joins such a pair, another keeps
#     it apart.) Recurring
#     columns and editorials are written by one or two people under short or generic
#     titles (rule 8), which this rule never links; errata, replies and retraction
#     notices marked in the title still go to a person (rules 1-3), a conference paper
#     against a journal article keeps rule 4, and titles with swapped words (rule 12) or
#     other part numbers (rule 5) stay apart.
# 14. Shifted coordinates. A record without a volume whose issue is the other's volume and
#     whose page is the other's issue ("issue 26, page 9" against "volume 26, issue 9,
#     page 1746": congress abstracts exported with the fields moved by one place) does
#     not contradict the other; its coordinates agree, one field along.

SPECIFIC_TITLE_WORDS = 6
_REPORT_TITLE = 0.95
SAME_STUDY_REASON = (
    "one study by the same team: a meeting abstract or notice under its title in the same "
    "journal and volume"
)
TWO_SUPPLEMENTS_REASON = (
    "a person decides: the same meeting abstract by the same team in two journals' supplements"
)
_MEETING = frozenset({CONFERENCE, SUPPLEMENT})
SHIFTED_REASON = "volume, issue and page moved by one field in one record; they agree"


def same_study_report(
    left: TrapView,
    right: TrapView,
    *,
    title_score: float,
    team: bool,
    journals_agree: bool,
) -> Link | None:
    """Rule 13: the link when the two records are reports of one study by one team, else
    None (``team``: three or more authors each, the first two the same, the lists
    agreeing). The same abstract in two journals' supplements is a question."""
    if (
        not team
        or title_score < _REPORT_TITLE
        or left.generic
        or right.generic
        or min(left.title_words, right.title_words) < SPECIFIC_TITLE_WORDS
        or left.year is None
        or left.year != right.year
    ):
        return None
    short = (left.kinds.all | right.kinds.all) & _NOT_ALONE_ON_A_PAGE
    if not short:
        return None
    if journals_agree and left.volume_number and left.volume_number == right.volume_number:
        return Link(SAME_STUDY_REASON, Band.CERTAIN)
    if left.kinds.all & _MEETING and right.kinds.all & _MEETING:
        return Link(TWO_SUPPLEMENTS_REASON, Band.POSSIBLE)
    return None


def shifted_coordinates(left: TrapView, right: TrapView) -> bool:
    """Rule 14: one record's volume sits in its issue field and its issue in its pages."""
    for moved, other in ((left, right), (right, left)):
        if (
            not moved.volume_number
            and other.volume_number.isdigit()
            and moved.issue_numbers == frozenset({int(other.volume_number)})
            and moved.page_range is not None
            and not moved.page_range.prefix
            and moved.page_range.first == moved.page_range.last
            and other.issue_numbers == frozenset({moved.page_range.first})
        ):
            return True
    return False
