"""Scoring one candidate pair: field evidence, an overall score and a band.

Field comparisons (``FieldEvidence.outcome``):

* doi, pmid: same / different / missing.
* title: rapidfuzz ``ratio`` and ``token_sort_ratio`` on the normalised titles (best of the
  two); a title that is the start of the other (truncated, or with a citation appended) of
  at least 30 characters counts as 0.95. same = identical after normalisation, similar >= 0.9.
* authors: surnames of the shorter list looked up in the longer (databases truncate lists),
  initials must be compatible ("j" vs "ja"); score = share of the shorter list found.
* year: same; similar when one apart (epub vs print); otherwise different.
* journal: same words; similar when each word abbreviates the other's (``J Clin Oncol``) or
  one name extends the other; otherwise a fuzzy ratio.
* volume, issue: same normalised text; similar when the leading numbers agree.
* pages: same first (and last) page; similar when only the first page agrees.
* abstract: fuzzy ratio on the first 600 characters.

Bands, in order (first match wins), before the trap caps of ``rules.py``:

1. Different PMIDs -> DISTINCT. Same PMID or same DOI -> CERTAIN unless the titles clearly
   differ (then POSSIBLE: a database may attach the wrong identifier).
2. Different DOIs -> at most POSSIBLE, and only when title, authors and year agree closely
   (different DOIs are strong evidence of different items, but some databases carry a
   wrong DOI); otherwise DISTINCT.
3. CERTAIN when the titles are nearly identical (>= ``CERTAIN_TITLE``, 0.95), authors do
   not disagree, years
   are at most one apart, nothing hard contradicts (volume, authors, years), and at least
   two other fields agree; or when year, volume and first page all agree and the titles are
   close (>= 0.95; >= 0.85 when authors do not disagree; >= 0.75 when authors agree).
   A differing first page alone does not block (databases mangle supplement and
   electronic page numbers) when year and volume agree.
4. POSSIBLE when titles are close (>= 0.85) with authors not disagreeing and years at most
   one apart; or nearly identical (>= 0.95) with two other fields agreeing; or fairly
   close (>= 0.7) with year, volume and first page agreeing; or, with a title missing on
   one side, when authors, journal, year, volume and first page agree (no title, so a
   person confirms); or fairly close (>= 0.7) from the same team (three or more authors,
   the same first two), journal and year (a retitled paper).
5. Otherwise DISTINCT (not reported).
6. A pair not CERTAIN by now may still be linked on its coordinates (rules 9-11 of
   ``rules.py``: a translated title, a retitled title, a dissertation), or as one team's
   reports of one study (rule 13: a meeting abstract or notice under the study's title).

A trap (``rules.pair_traps``) lowers the band to its cap; a pair a trap pushed down to
DISTINCT is still reported so the reason can be shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from reviewer.dedup.normalise import (
    Author,
    collapse_acronyms,
    journal_prefix_match,
    journals_match,
)
from reviewer.dedup.prepare import Prepared
from reviewer.dedup.rules import (
    SHIFTED_REASON,
    Link,
    Trap,
    coordinate_link,
    locator_contradictions,
    pair_traps,
    same_study_report,
    shifted_coordinates,
    swapped_words,
)
from reviewer.dedup.types import Band, FieldEvidence

SAME = "same"
SIMILAR = "similar"
DIFFERENT = "different"
MISSING = "missing"

_RANK = {Band.DISTINCT: 0, Band.POSSIBLE: 1, Band.CERTAIN: 2}
_WEIGHTS = {
    "doi": 3.0,
    "pmid": 3.0,
    "title": 4.0,
    "authors": 2.0,
    "year": 1.0,
    "journal": 0.5,
    "volume": 1.0,
    "issue": 0.3,
    "pages": 1.0,
    "abstract": 1.0,
}
#: Title similarity above which a pair is CERTAIN when authors, years and two other fields
#: agree (band rule 3). The one threshold ``bench/dedup_accuracy.py --cross-validate``
#: fits again on every fold (the other labelled sets) to show it is not set by the set
#: scored; everything else here is a fixed rule with its reason.
CERTAIN_TITLE = 0.95
_PREFIX_MIN = 30
_PREFIX_LONG = 50


def lower_band(band: Band, cap: Band) -> Band:
    return band if _RANK[band] <= _RANK[cap] else cap


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Everything decided about a pair (``conflict`` feeds the clustering)."""

    band: Band
    score: float
    evidence: tuple[FieldEvidence, ...]
    reasons: tuple[str, ...]
    trapped: bool  # a trap or identifier rule pushed the band down
    conflict: bool  # these two may never share a cluster
    separate_items: bool = False  # alike titles kept apart by a rule: two items of a series


def titles_compared(left: Prepared, right: Prepared) -> float:
    """Title similarity of two records, also with acronyms either title defines collapsed
    ("... Atypical Hemolytic Uremic Syndrome (aHUS)" against "... aHUS")."""
    score = title_similarity(left.title, right.title)
    definitions = left.acronyms + right.acronyms
    if definitions and score < 1.0:
        score = max(
            score,
            title_similarity(
                collapse_acronyms(left.title, definitions),
                collapse_acronyms(right.title, definitions),
            ),
        )
    return score


def _swaps(left: Prepared, right: Prepared) -> list[tuple[str, str]]:
    """Words swapped between the titles (rule 12), with the acronyms they define collapsed."""
    definitions = left.acronyms + right.acronyms
    if definitions:
        return swapped_words(
            collapse_acronyms(left.title, definitions), collapse_acronyms(right.title, definitions)
        )
    return swapped_words(left.title, right.title)


def same_team(left: Prepared, right: Prepared) -> bool:
    """At least three authors on each side, the same first two, and the same year: the
    same team's work of one year, worth comparing even when the titles differ."""
    return (
        len(left.authors) >= 3
        and len(right.authors) >= 3
        and left.year is not None
        and left.year == right.year
        and all(
            _same_person(a, b)[0] for a, b in zip(left.authors[:2], right.authors[:2], strict=True)
        )
    )


def title_similarity(left: str, right: str) -> float:
    """0..1 title similarity (see the module docstring)."""
    if left == right:
        return 1.0
    score = max(fuzz.ratio(left, right), fuzz.token_sort_ratio(left, right)) / 100.0
    shorter, longer = (left, right) if len(left) <= len(right) else (right, left)
    if (
        len(shorter) >= _PREFIX_MIN
        and (len(shorter) >= _PREFIX_LONG or len(shorter) >= 0.7 * len(longer))
        and (longer.startswith(shorter) or longer.endswith(shorter))
    ):
        score = max(score, 0.95)
    return score


def _initials_compatible(left: str, right: str) -> bool:
    return not left or not right or left.startswith(right) or right.startswith(left)


def _surnames_match(left: str, right: str) -> bool:
    if left == right:
        return True
    if min(len(left), len(right)) >= 5:
        return fuzz.ratio(left, right) >= 85.0
    return False


def _same_person(left: Author, right: Author) -> tuple[bool, bool]:
    """Whether two authors are the same person by surname, and whether their initials are
    compatible; a compound surname split after its particle is tried joined."""
    if _surnames_match(left.surname, right.surname):
        return True, _initials_compatible(left.initials, right.initials)
    if left.joined and _surnames_match(left.joined, right.surname):
        return True, _initials_compatible(left.initials[1:], right.initials)
    if right.joined and _surnames_match(left.surname, right.joined):
        return True, _initials_compatible(left.initials, right.initials[1:])
    return False, False


def author_similarity(left: tuple[Author, ...], right: tuple[Author, ...]) -> tuple[str, float]:
    """Outcome and 0..1 score for two author lists."""
    if not left or not right:
        return MISSING, 0.0
    if len(left) == len(right) and all(
        a.surname == b.surname and _initials_compatible(a.initials, b.initials)
        for a, b in zip(left, right, strict=True)
    ):
        return SAME, 1.0
    shorter, longer = (left, right) if len(left) <= len(right) else (right, left)
    shorter = shorter[:12]
    matched = 0.0
    for author in shorter:
        for other in longer:
            same, compatible = _same_person(author, other)
            if same:
                matched += 1.0 if compatible else 0.5
                break
    score = matched / len(shorter)
    first_ok = _same_person(left[0], right[0])[0]
    if not first_ok:
        score *= 0.8
    return (SIMILAR if score >= 0.75 else DIFFERENT), score


def authors_agree(
    left: tuple[Author, ...], right: tuple[Author, ...], evidence: FieldEvidence
) -> bool:
    """The same authors for the coordinate rules: the lists are the same, or nearly every
    author of the shorter list is in the longer one and the first authors match."""
    if evidence.outcome == SAME:
        return True
    return (
        evidence.outcome == SIMILAR and evidence.score >= 0.9 and _same_person(left[0], right[0])[0]
    )


def _journal(left: tuple[str, ...], right: tuple[str, ...]) -> FieldEvidence:
    if not left or not right:
        return FieldEvidence("journal", MISSING, 0.0)
    if left == right:
        return FieldEvidence("journal", SAME, 1.0)
    if journals_match(left, right):
        return FieldEvidence("journal", SIMILAR, 0.95)
    if journal_prefix_match(left, right):
        return FieldEvidence("journal", SIMILAR, 0.85)
    score = fuzz.ratio(" ".join(left), " ".join(right)) / 100.0
    return FieldEvidence("journal", SIMILAR if score >= 0.85 else DIFFERENT, score)


def _exact(
    field: str, left: str, right: str, leading_left: str = "", leading_right: str = ""
) -> FieldEvidence:
    if not left or not right:
        return FieldEvidence(field, MISSING, 0.0)
    if left == right:
        return FieldEvidence(field, SAME, 1.0)
    if leading_left and leading_left == leading_right:
        return FieldEvidence(field, SIMILAR, 0.8)
    return FieldEvidence(field, DIFFERENT, 0.0)


def _pages(left: Prepared, right: Prepared) -> FieldEvidence:
    a, b = left.pages, right.pages
    if not a.first or not b.first:
        return FieldEvidence("pages", MISSING, 0.0)
    if a.first == b.first:
        if a.last == b.last or not a.last or not b.last:
            return FieldEvidence("pages", SAME, 1.0)
        return FieldEvidence("pages", SIMILAR, 0.8)
    return FieldEvidence("pages", DIFFERENT, 0.0)


def _year(left: int | None, right: int | None) -> FieldEvidence:
    if left is None or right is None:
        return FieldEvidence("year", MISSING, 0.0)
    if left == right:
        return FieldEvidence("year", SAME, 1.0)
    if abs(left - right) == 1:
        return FieldEvidence("year", SIMILAR, 0.5)
    return FieldEvidence("year", DIFFERENT, 0.0)


def _abstract(left: str, right: str) -> FieldEvidence:
    if len(left) < 50 or len(right) < 50:
        return FieldEvidence("abstract", MISSING, 0.0)
    if left == right:
        return FieldEvidence("abstract", SAME, 1.0)
    score = fuzz.ratio(left, right) / 100.0
    return FieldEvidence("abstract", SIMILAR if score >= 0.8 else DIFFERENT, score)


def _overall(evidence: tuple[FieldEvidence, ...]) -> float:
    total = weight = 0.0
    for item in evidence:
        if item.outcome == MISSING:
            continue
        total += _WEIGHTS[item.field] * item.score
        weight += _WEIGHTS[item.field]
    return total / weight if weight else 0.0


def evaluate(
    left: Prepared,
    right: Prepared,
    title_score: float | None = None,
    *,
    certain_title: float = CERTAIN_TITLE,
) -> Evaluation:
    """Compare two prepared records (``title_score`` may be passed in if already known;
    ``certain_title`` is band rule 3's threshold)."""
    titles_present = bool(left.title) and bool(right.title)
    if title_score is None:
        title_score = titles_compared(left, right) if titles_present else 0.0
    if not titles_present:
        title = FieldEvidence("title", MISSING, 0.0)
    elif left.title == right.title:
        title = FieldEvidence("title", SAME, 1.0)
    else:
        title = FieldEvidence(
            "title", SIMILAR if title_score >= 0.9 else DIFFERENT, round(title_score, 4)
        )
    author_outcome, author_score = author_similarity(left.authors, right.authors)
    authors = FieldEvidence("authors", author_outcome, round(author_score, 4))
    doi = _exact("doi", left.doi, right.doi)
    pmid = _exact("pmid", left.pmid, right.pmid)
    year = _year(left.year, right.year)
    journal = _journal(left.journal, right.journal)
    volume = _exact("volume", left.volume, right.volume, left.volume_number, right.volume_number)
    issue = _exact("issue", left.issue, right.issue)
    pages = _pages(left, right)
    abstract = _abstract(left.abstract, right.abstract)
    evidence = (doi, pmid, title, authors, year, journal, volume, issue, pages, abstract)
    score = _overall(evidence)

    reasons: list[str] = []
    agree = {item.field for item in evidence if item.outcome in (SAME, SIMILAR)}
    differ = {item.field for item in evidence if item.outcome == DIFFERENT}
    year_near = year.outcome != DIFFERENT
    authors_ok = authors.outcome != DIFFERENT
    support = len(agree & {"authors", "year", "journal", "volume", "pages", "abstract", "issue"})
    hard_conflict = bool(differ & {"volume", "authors", "year"})
    locators = (
        "year" in agree
        and year.outcome == SAME
        and "volume" in agree
        and pages.outcome in (SAME, SIMILAR)
    )

    trapped = False
    conflict = False
    identifiers_differ = doi.outcome == DIFFERENT or pmid.outcome == DIFFERENT
    # An identifier rule counts as having "kept apart" a pair (which is then reported, so
    # the reason can be shown) only when the titles are alike; most pairs with different
    # identifiers are simply different papers and are not worth a row.
    alike = titles_present and title_score >= 0.97
    if pmid.outcome == DIFFERENT:
        band = Band.DISTINCT
        reasons.append("kept apart: different PMIDs")
        trapped, conflict = alike, True
    elif doi.outcome == SAME or pmid.outcome == SAME:
        label = "same DOI" if doi.outcome == SAME else "same PMID"
        reasons.append(label)
        if not titles_present or title_score >= 0.8 or (title_score >= 0.6 and authors_ok):
            band = Band.CERTAIN
        else:
            band = Band.POSSIBLE
            reasons.append(f"{label} but titles differ")
    elif doi.outcome == DIFFERENT:
        close = title_score >= 0.95 and authors_ok and year_near
        band = Band.POSSIBLE if close else Band.DISTINCT
        reasons.append("different DOIs" if close else "kept apart: different DOIs")
        trapped, conflict = alike, True
    elif (
        title_score >= certain_title
        and authors_ok
        and year_near
        and support >= 2
        and not hard_conflict
    ):
        band = Band.CERTAIN
    elif locators and (
        title_score >= 0.95
        or (title_score >= 0.85 and authors_ok)
        or (title_score >= 0.75 and authors.outcome in (SAME, SIMILAR))
    ):
        band = Band.CERTAIN
        reasons.append("year, volume and first page agree")
    elif (
        not titles_present
        and authors.outcome in (SAME, SIMILAR)
        and locators
        and journal.outcome in (SAME, SIMILAR)
    ):
        band = Band.POSSIBLE
        reasons.append("title missing; authors, journal, year, volume and pages agree")
    elif (
        (title_score >= 0.85 and authors_ok and year_near)
        or (title_score >= 0.95 and support >= 2 and authors_ok)
        or (title_score >= 0.7 and locators and authors_ok)
    ):
        band = Band.POSSIBLE
    elif (
        titles_present
        and title_score >= 0.7
        and same_team(left, right)
        and authors.outcome in (SAME, SIMILAR)
        and journal.outcome in (SAME, SIMILAR)
        and not hard_conflict
    ):
        # A retitled paper: the same team, journal and year under another title.
        band = Band.POSSIBLE
        reasons.append("same authors, journal and year under another title")
    else:
        band = Band.DISTINCT

    if band is not Band.CERTAIN and titles_present and not identifiers_differ:
        # Rules 9-11 of rules.py: links on authors and coordinates when titles differ.
        link = coordinate_link(
            left.trap,
            right.trap,
            title_score=title_score,
            authors_identical=authors.outcome == SAME,
            authors_agree=authors_agree(left.authors, right.authors, authors),
            journals_agree=journal.outcome in (SAME, SIMILAR),
        )
        if link is not None and _RANK[link.band] > _RANK[band]:
            band = link.band
            reasons.append(link.reason)

    report: Link | None = None
    if titles_present and not identifiers_differ:
        # Rule 13 of rules.py: one team's meeting abstract or notice under its study's title.
        report = same_study_report(
            left.trap,
            right.trap,
            title_score=title_score,
            team=same_team(left, right) and authors.outcome in (SAME, SIMILAR),
            journals_agree=journal.outcome in (SAME, SIMILAR),
        )
        if (
            report is not None
            and report.band is Band.POSSIBLE
            and not locator_contradictions(left.trap, right.trap)
        ):
            report = None  # no contradiction to lift: the other rules decide
        if report is not None:
            # rule 7 is lifted for this pair (below), so the link also sets the ceiling
            band = report.band
            reasons.append(report.reason)
    if shifted_coordinates(left.trap, right.trap):
        reasons.append(SHIFTED_REASON)

    if titles_present:
        if title.outcome == SAME:
            reasons.append("titles identical after normalisation")
        elif title_score >= 0.9:
            reasons.append(f"titles similar ({title_score:.2f})")
        elif band is not Band.DISTINCT:
            reasons.append(f"titles differ ({title_score:.2f})")
    for item in (authors, year, journal, volume, pages, abstract):
        if item.outcome == SAME:
            reasons.append(f"same {item.field}")
        elif item.outcome == SIMILAR:
            reasons.append(f"similar {item.field}")
        elif item.outcome == DIFFERENT and band is not Band.DISTINCT:
            reasons.append(f"different {item.field}")

    if titles_present:
        stem_score = (
            1.0
            if left.trap.series.stem == right.trap.series.stem
            else fuzz.ratio(left.trap.series.stem, right.trap.series.stem) / 100.0
        )
        titles_alike = stem_score >= 0.95 or title_score >= 0.95
    else:
        titles_alike = False
    traps: list[Trap] = pair_traps(
        left.trap,
        right.trap,
        titles_alike,
        shared_id=doi.outcome == SAME or pmid.outcome == SAME,
        same_pmid=pmid.outcome == SAME,
        journals_differ=journal.outcome == DIFFERENT and journal.score < 0.6,
        authors_differ=authors.outcome == DIFFERENT and authors.score < 0.5,
        swaps=_swaps(left, right) if titles_present and title_score >= 0.7 else [],
        same_study=report is not None,
        same_journal=journal.outcome == SAME or journal.score >= 0.95,
    )
    for trap in traps:
        if trap.cap is Band.DISTINCT:
            conflict = True
        if _RANK[trap.cap] < _RANK[band]:
            band = trap.cap
            trapped = True
        # A trap that only caps the pair at POSSIBLE leaves the decision to a person.
        reason = trap.reason
        if trap.cap is Band.POSSIBLE:
            reason = reason.replace("kept apart: ", "a person decides: ", 1)
        reasons.insert(0, reason)
    shared_id = doi.outcome == SAME or pmid.outcome == SAME
    if titles_present and title_score < 0.8 and not shared_id and not locators:
        conflict = True
    separate_items = titles_alike and any(trap.cap is Band.DISTINCT for trap in traps)
    return Evaluation(
        band,
        score,
        evidence,
        tuple(reasons),
        trapped,
        conflict or bool(traps),
        separate_items,
    )
