"""The engine on hand-made cases: must-merge variants, traps, incremental runs, clustering."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reviewer.dedup import Band, DedupInput, deduplicate
from tests.reviewer.dedup.helpers import band_of, find_pair

BASE = DedupInput(
    id=1,
    title="Human papillomavirus testing in the follow-up of women treated for cervical lesions",
    authors=("Smith, John A.", "Wang, Sophia S.", "Schiffman, Mark"),
    year=2006,
    journal="Journal of Clinical Oncology",
    volume="24",
    issue="3",
    pages="73-76",
    doi="10.1200/JCO.2006.01.123",
    pmid="16123456",
    publication_type="Journal Article",
)


MUST_MERGE = {
    "doi case and prefix": {"doi": "https://doi.org/10.1200/jco.2006.01.123", "pmid": ""},
    "doi: prefix": {"doi": "doi:10.1200/JCO.2006.01.123."},
    "doi missing on one side": {"doi": "", "pmid": ""},
    "trailing period": {"title": BASE.title + ".", "doi": ""},
    "translation brackets": {"title": f"[{BASE.title}].", "doi": "", "pmid": ""},
    "language tag": {"title": BASE.title + " [Article in German]", "doi": ""},
    "abbreviated journal": {"journal": "J Clin Oncol", "doi": "", "pmid": ""},
    "short page range": {"pages": "73-6", "doi": "", "pmid": ""},
    "author initials": {"authors": ("Smith JA", "Wang SS", "Schiffman M"), "doi": ""},
    "initials first": {"authors": ("J. A. Smith", "S. S. Wang", "M. Schiffman"), "doi": ""},
    "punctuation": {
        "title": "Human papillomavirus testing in the follow up of women treated for "
        "cervical lesions: ",
        "doi": "",
        "pmid": "",
    },
    "accents and case": {
        "title": BASE.title.upper().replace("CERVICAL", "CÉRVICAL"),
        "doi": "",
        "pmid": "",
    },
    "one typo": {"title": BASE.title.replace("treated", "traeted"), "doi": "", "pmid": ""},
}


@pytest.mark.parametrize("changes", MUST_MERGE.values(), ids=list(MUST_MERGE))
def test_must_merge(changes: dict[str, object]) -> None:
    other = replace(BASE, id=2, **changes)  # type: ignore[arg-type]
    result = deduplicate([BASE, other])
    assert result.clusters == [(1, 2)]
    pair = find_pair(result, 1, 2)
    assert pair is not None and pair.band is Band.CERTAIN


def test_sharing_economy_punctuation_and_conference_names() -> None:
    first = DedupInput(
        id="a",
        title="How Consumers Perceive Trustworthiness of Providers in Sharing Economy - "
        "Effects of Photos and Comments on Demand at Airbnb",
        authors=("Deng, Chaoqun", "Ravichandran, Thiagarajan"),
        year=2017,
        journal="Americas Conference on Information Systems",
        publication_type="inproceedings",
    )
    second = replace(
        first,
        id="b",
        title=first.title.replace(" - Effects", ": Effects"),
        authors=("Deng, Chaoqun", "Ravichandran, T."),
        journal="Amcis 2017 Proceedings",
    )
    assert band_of(first, second) is Band.CERTAIN


TRAPS = {
    "erratum": {"title": "Erratum: " + BASE.title, "pages": "1201", "issue": "9"},
    "correction notice": {"title": "Correction to: " + BASE.title, "pages": "1201"},
    "erratum by type": {"publication_type": "Published Erratum", "pages": "1201"},
    "retraction notice": {"title": "Retraction: " + BASE.title, "pages": "1400"},
    "reply": {"title": "Reply to " + BASE.title, "pages": "1300", "authors": ("Jones, P",)},
    "in reply": {"title": "In reply: " + BASE.title, "pages": "1300"},
    "comment": {"title": "Comment on: " + BASE.title, "pages": "1300", "authors": ("Lee, K",)},
    "authors reply suffix": {"title": BASE.title + " - Reply", "pages": "77"},
    "conference abstract": {
        "publication_type": "Conference Abstract",
        "year": 2005,
        "volume": "23",
        "pages": "S12",
    },
    "supplement abstract": {"volume": "23 Suppl 1", "year": 2005, "pages": "S12-S13"},
    "series part": {"title": BASE.title + ": Part II", "pages": "80-88"},
    "different year": {"year": 2008, "volume": "", "pages": ""},
}


@pytest.mark.parametrize("changes", TRAPS.values(), ids=list(TRAPS))
def test_traps_are_never_certain(changes: dict[str, object]) -> None:
    first = replace(BASE, doi="", pmid="")
    other = replace(first, id=2, **changes)  # type: ignore[arg-type]
    result = deduplicate([first, other])
    assert result.clusters == []
    pair = find_pair(result, 1, 2)
    if pair is not None:
        assert pair.band is not Band.CERTAIN
        assert any(reason.startswith(("kept apart", "a person decides")) for reason in pair.reasons)


def test_parts_of_a_series_are_distinct() -> None:
    first = replace(BASE, title="Screening for cervical cancer. Part I: cytology", doi="")
    second = replace(
        first, id=2, title="Screening for cervical cancer. Part II: cytology", pages="90-99"
    )
    assert band_of(first, second) is Band.DISTINCT
    third = replace(
        first, id=3, title="Screening for cervical cancer: cytology (2)", pmid="", pages="100-9"
    )
    assert band_of(replace(first, pmid=""), third) is not Band.CERTAIN


def test_annual_minitrack_introductions_are_at_most_possible() -> None:
    first = DedupInput(
        id=3,
        title="Introduction to the Minitrack on Crowdsourcing and Digital Workforce in the "
        "Gig Economy",
        authors=("Deng, Xuefei", "Taylor, Joseph", "Moussawi, Sara"),
        year=2021,
        journal="Proceedings of the Annual Hawaii International Conference on System Sciences",
        doi="10.24251/HICSS.2021.510",
        publication_type="inproceedings",
    )
    second = replace(first, id=4, year=2022, doi="10.24251/HICSS.2022.544")
    assert band_of(first, second) is Band.POSSIBLE
    assert band_of(first, replace(second, year=2024)) is Band.DISTINCT


def test_different_identifiers() -> None:
    assert band_of(BASE, replace(BASE, id=2, pmid="16999999")) is Band.DISTINCT
    other_doi = replace(BASE, id=2, doi="10.1200/JCO.2006.09.999", pmid="")
    assert band_of(BASE, other_doi) is not Band.CERTAIN


def test_evidence_and_reasons_are_serialisable() -> None:
    result = deduplicate([BASE, replace(BASE, id=2, journal="J Clin Oncol")])
    pair = result.pairs[0]
    data = pair.as_dict()
    assert data["band"] == "certain"
    assert "same DOI" in pair.reasons
    fields = {item.field: item for item in pair.evidence}
    assert fields["doi"].outcome == "same"
    assert fields["journal"].outcome == "similar"
    assert set(fields) == {
        "doi",
        "pmid",
        "title",
        "authors",
        "year",
        "journal",
        "volume",
        "issue",
        "pages",
        "abstract",
    }
    assert result.counts() == {
        "certain": 1,
        "possible": 0,
        "clustered_records": 2,
        "duplicates": 1,
    }


def test_cannot_link_is_never_reported_nor_clustered() -> None:
    records = [BASE, replace(BASE, id=2), replace(BASE, id=3, doi="")]
    result = deduplicate(records, cannot_link=[(2, 1)])
    assert find_pair(result, 1, 2) is None
    assert all(not {1, 2} <= set(cluster) for cluster in result.clusters)
    assert len(result.clusters) == 1 and 3 in result.clusters[0]


def test_only_against_scores_pairs_touching_the_new_records() -> None:
    old = [BASE, replace(BASE, id=2)]
    new = replace(BASE, id=3, doi="")
    unrelated = replace(BASE, id=4, title="Something else entirely about kidney function")
    result = deduplicate([*old, new, unrelated], only_against={3, 4})
    scored = {frozenset((pair.left, pair.right)) for pair in result.pairs}
    assert frozenset((1, 2)) not in scored
    assert frozenset((1, 3)) in scored and frozenset((2, 3)) in scored


def test_progress_is_reported() -> None:
    calls: list[tuple[int, int]] = []
    deduplicate(
        [BASE, replace(BASE, id=2)], progress=lambda done, total: calls.append((done, total))
    )
    assert calls and calls[-1][0] == calls[-1][1]


def test_chaining_through_a_bridge_record_is_refused() -> None:
    # B has no DOI and matches both A and C, whose DOIs differ: A and C may never share a
    # cluster, so one of the two certain edges is downgraded to possible.
    a = replace(BASE, id="A", pmid="")
    b = replace(BASE, id="B", doi="", pmid="")
    c = replace(BASE, id="C", doi="10.1200/JCO.2006.01.999", pmid="")
    result = deduplicate([a, b, c])
    assert len(result.clusters) == 1
    assert not {"A", "C"} <= set(result.clusters[0])
    bands = sorted(str(pair.band) for pair in result.pairs if "B" in (pair.left, pair.right))
    assert bands == ["certain", "possible"]
    downgraded = next(
        p for p in result.pairs if p.band is Band.POSSIBLE and "B" in (p.left, p.right)
    )
    assert downgraded.reasons[0].startswith("not clustered")


def test_input_order_of_cluster_members() -> None:
    records = [replace(BASE, id=9, doi=""), replace(BASE, id=5), replace(BASE, id=7)]
    result = deduplicate(records)
    assert result.clusters == [(9, 5, 7)]
    assert result.records == 3


def test_empty_input() -> None:
    result = deduplicate([])
    assert result.clusters == [] and result.pairs == [] and result.compared == 0


# --- titles with acronyms, retitled papers, one question per two groups ---


def test_a_title_that_spells_out_an_acronym_matches_one_that_uses_it() -> None:
    first = DedupInput(
        id=1,
        title="Eculizumab in adult patients with atypical hemolytic uremic syndrome (aHUS)",
        authors=("Alexion Pharmaceuticals, Inc",),
        year=2011,
    )
    second = replace(first, id=2, title="Eculizumab in adult patients with aHUS")

    def title_score(other: DedupInput) -> float:
        pair = find_pair(deduplicate([first, other]), 1, 2)
        assert pair is not None
        return next(e.score for e in pair.evidence if e.field == "title")

    assert band_of(first, second) is not Band.DISTINCT
    assert title_score(second) == 1.0  # the same title once the acronym is collapsed
    assert title_score(replace(second, title="Eculizumab in adult patients with PNH")) < 1.0


def test_the_same_team_journal_and_year_under_another_title_is_possible() -> None:
    first = DedupInput(
        id=1,
        title="Eculizumab in severe Shiga-toxin-associated HUS",
        authors=("Lapeyraque, A. L.", "Malina, M.", "Fremeaux-Bacchi, V.", "Boppel, T."),
        year=2011,
        journal="New England Journal of Medicine",
        volume="364",
        pages="2561-2563",
    )
    second = replace(
        first,
        id=2,
        title="Complement Blockade in Severe Shiga-Toxin–Associated HUS",
        authors=("Lapeyraque, AL", "Malina, M", "Fremeaux-Bacchi, V"),
        journal="New Engl J Med",
        volume="",
        pages="",
    )

    pair = find_pair(deduplicate([first, second]), 1, 2)

    assert pair is not None and pair.band is Band.POSSIBLE
    assert "same authors, journal and year under another title" in pair.reasons
    # another year, or only one author in common, is not enough
    assert band_of(first, replace(second, year=2012)) is Band.DISTINCT
    assert band_of(first, replace(second, authors=("Lapeyraque, AL", "Kim, J", "Ford, P"))) is (
        Band.DISTINCT
    )


def test_a_group_and_a_record_alike_are_one_question() -> None:
    near = replace(BASE, id=2, doi="", pmid="")
    group = [BASE, near]  # certainly one paper
    later = replace(BASE, id=3, doi="", pmid="", year=2007, volume="", issue="", pages="")

    result = deduplicate([*group, later])

    possible = [pair for pair in result.pairs if pair.band is Band.POSSIBLE]
    assert result.clusters == [(1, 2)]
    assert len(possible) == 1
    assert {possible[0].left, possible[0].right} & {1, 2}
    # once a person says the record is not the paper, the group is not asked about again
    again = deduplicate([*group, later], cannot_link=[(possible[0].left, possible[0].right)])
    assert not [pair for pair in again.pairs if pair.band is Band.POSSIBLE]


def test_unlike_records_with_different_identifiers_are_not_reported() -> None:
    other = DedupInput(
        id=2,
        title="Human papillomavirus testing in the triage of atypical squamous cells",
        authors=BASE.authors,
        year=2006,
        journal=BASE.journal,
        doi="10.1200/JCO.2006.02.999",
        pmid="16999999",
    )

    assert find_pair(deduplicate([BASE, other]), 1, 2) is None


def test_a_compound_surname_split_by_one_export_is_still_the_same_author() -> None:
    first = replace(
        BASE,
        id=1,
        authors=("Van Hoorn, K. J.", "Wang, S. S.", "Schiffman, M."),
        doi="",
        pmid="",
    )
    second = replace(first, id=2, authors=("Van, Hoorn K. J.", "Wang, S. S.", "Schiffman, M."))
    pair = find_pair(deduplicate([first, second]), 1, 2)
    assert pair is not None and pair.band is Band.CERTAIN
    assert "similar authors" in pair.reasons  # not "different authors"
