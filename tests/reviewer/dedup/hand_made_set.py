"""The made-up records of the de-duplication tests, named, and the labelled set built from them.

Written by hand from the classes of issue 14 (not from any benchmark file). Each named
record below is a case a reviewer would name: a year of "Editor's Comments" exported by
three databases (two with issue and pages, one without), a recurring column with a specific
title, a title translated in one database, a shortened title, a journal given as a section
name, a dissertation and its Dissertation Abstracts entry, an issue number mistyped, and a
one-page notice in a later issue, and two trial registrations that differ in one word
(adult / pediatric). The rule tests (`test_rules.py`) vary these records one field at a
time; ``hand_made_set()`` returns them as records and gold clusters in the shape of the
shared labelled sets, so the tests and ``bench/dedup_ablation.py`` score it the same way.
"""

from __future__ import annotations

from dataclasses import replace

from reviewer.dedup import DedupInput
from reviewer.dedup.benchmark import LabelledSet

# --- the named records --------------------------------------------------------------------

#: An editorial column with a generic title: its March issue.
COLUMN = DedupInput(
    id="mar",
    title="Editor's Comments",
    authors=("Straub, Detmar W.",),
    year=2009,
    journal="MIS Quarterly",
    volume="33",
    issue="1",
    pages="iii-vi",
)
#: A journal article (three authors; the hand-made set keeps the first two).
ARTICLE = DedupInput(
    id="a",
    title="Cervical cytology screening in women over fifty: a register-based cohort",
    authors=("Berger, Anna", "Keller, Thomas", "Wolf, Jonas"),
    year=2008,
    journal="Deutsches Arzteblatt International",
    volume="105",
    issue="12",
    pages="212-218",
)
#: A German-language article, and (`TRANSLATED`) its record in a database that gives the
#: title translated into English, in brackets.
ORIGINAL = DedupInput(
    id="de",
    title="Zervixzytologie bei Frauen über fünfzig: eine registerbasierte Kohortenstudie",
    authors=("Berger, A", "Keller, T"),
    year=2008,
    journal="Dtsch Arztebl Int",
    volume="105",
    issue="12",
    pages="212-8",
)
TRANSLATED = replace(
    ORIGINAL,
    id="en",
    title="[Cervical cytology in women over fifty: a register-based cohort study]",
    journal="Deutsches Arzteblatt international",
    issue="",
)
#: A dissertation, and (`DAI`) its Dissertation Abstracts International entry.
THESIS = DedupInput(
    id="thesis",
    title="Coping with uncertainty after an abnormal cervical smear",
    authors=("Novak, Jana",),
    year=2001,
    journal="University of Michigan",
    publication_type="phdthesis",
)
DAI = DedupInput(
    id="dai",
    title="Coping with uncertainty after an abnormal cervical smear.",
    authors=("Novak, J.",),
    year=2003,
    journal="Dissertation Abstracts International: Section B: The Sciences and Engineering",
    volume="63",
    issue="8-B",
    pages="3712",
)
#: A recurring column whose title is not generic: its first issue.
GATEWAYS = DedupInput(
    id="g1",
    title="Gateways to clinical trials",
    authors=("Bayes, M.", "Rabasseda, X."),
    year=2006,
    journal="Methods and Findings in Experimental and Clinical Pharmacology",
    volume="28",
    issue="1",
    pages="49-71",
)
#: A trial registration, for adults (its sister registrations differ in one word).
REGISTRATION = DedupInput(
    id="adult",
    title="Open label trial of eculizumab in adult patients with plasma therapy-sensitive aHUS",
    authors=("Alexion Pharmaceuticals, Inc",),
    year=2011,
)
#: One team's article (four authors), whose abstracts and notices appear in other issues.
TEAM_ARTICLE = DedupInput(
    id="article",
    title="Oral iron every other day versus daily in pregnant women with anaemia",
    authors=("Mensah, Kofi", "Duarte, Lucia", "Petrov, Ivan", "Haddad, Rana"),
    year=2014,
    journal="Transfusion Medicine",
    volume="24",
    issue="6",
    pages="388-394",
)


# --- the labelled set ---------------------------------------------------------------------


def _editors_comments() -> tuple[list[DedupInput], list[tuple[str, ...]]]:
    base = replace(COLUMN, id="", issue="", pages="")
    records: list[DedupInput] = []
    gold: list[tuple[str, ...]] = []
    for quarter, pages in ((1, "iii-vi"), (2, "iii-v"), (3, "iii-vii"), (4, "iii-iv")):
        first = replace(base, id=f"ec{quarter}-a", issue=str(quarter), pages=pages)
        second = replace(
            first, id=f"ec{quarter}-b", title="EDITOR'S COMMENTS.", journal="MIS Q", pages=pages
        )
        bare = replace(base, id=f"ec{quarter}-c", title="Editor’s comments")
        records += [first, second, bare]
        gold.append((str(first.id), str(second.id)))
    return records, gold


def _recurring_column() -> list[DedupInput]:
    base = replace(GATEWAYS, id="", issue="", pages="")
    return [
        replace(base, id="gw1", issue="1", pages="49-71"),
        replace(base, id="gw3", issue="3", pages="185-206"),
        replace(base, id="gw6", issue="6", pages="379-412"),
        replace(base, id="gw-bare", journal="Methods Find Exp Clin Pharmacol"),
    ]


def _pairs() -> tuple[list[DedupInput], list[tuple[str, ...]]]:
    article = replace(ARTICLE, id="art-a", authors=ARTICLE.authors[:2])
    # the translated pair in another journal than `ORIGINAL`'s, by other authors
    translated_original = replace(
        ORIGINAL,
        id="tr-de",
        authors=("Horn, A", "Vogel, T"),
        year=2011,
        journal="Geburtshilfe Frauenheilkd",
        volume="71",
        issue="4",
        pages="301-8",
    )
    translated = replace(
        translated_original,
        id="tr-en",
        title=TRANSLATED.title,
        journal="Geburtshilfe und Frauenheilkunde",
        issue="",
    )
    shortened = replace(
        article, id="art-b", title="Cytology screening after fifty", journal="Dtsch Arztebl Int"
    )
    in_journal = DedupInput(
        id="jc-a",
        title="Self-sampling for HPV testing increased screening uptake in non-attenders",
        authors=("Okafor, Chidi", "Lindqvist, Eva", "Marsh, Paul"),
        year=2015,
        journal="Annals of Internal Medicine",
        volume="162",
        issue="8",
        pages="JC9",
    )
    section = replace(in_journal, id="jc-b", journal="ACP Journal Club", issue="", pages="")
    typo = replace(article, id="art-d", issue="21", pages="212")
    notice = replace(article, id="notice", issue="19", pages="1180-1181")
    thesis = replace(THESIS, pages="245")
    abstract_entry = DAI
    adults = replace(
        REGISTRATION,
        id="trial-adult",
        title="Open-label trial of eculizumab in adult patients with plasma therapy-resistant aHUS",
    )
    children = replace(adults, id="trial-child", title=adults.title.replace("adult", "pediatric"))
    records = [
        adults,
        children,
        article,
        shortened,
        typo,
        notice,
        translated_original,
        translated,
        in_journal,
        section,
        thesis,
        abstract_entry,
    ]
    gold = [
        ("art-a", "art-b", "art-d"),
        ("jc-a", "jc-b"),
        ("tr-de", "tr-en"),
        ("thesis", "dai"),
    ]
    return records, gold


def hand_made_set() -> LabelledSet:
    """The hand-made cases as one labelled set (records in the order written above)."""
    comments, comments_gold = _editors_comments()
    pairs, pairs_gold = _pairs()
    return LabelledSet(
        name="hand_made",
        records=[*comments, *_recurring_column(), *pairs],
        gold_clusters=[*comments_gold, *pairs_gold],
        maybe_pairs=[],
    )
