"""Generate realistic-looking search exports for the demo review.

The records are invented (no real paper is copied) but shaped like a PubMed
MEDLINE export and an Embase RIS export of the same search: many papers appear
in both databases, as they do in a real review, with the small differences real
exports have (capitalisation, punctuation, author name style, missing DOIs).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SITES = [
    "lung",
    "bladder",
    "orbit",
    "mesentery",
    "liver",
    "stomach",
    "larynx",
    "spleen",
    "kidney",
    "uterus",
    "small bowel",
    "pancreas",
    "mediastinum",
    "trachea",
    "heart",
    "retroperitoneum",
    "maxillary sinus",
    "extremity soft tissue",
]
DESIGNS = [
    "a case series of {n} children",
    "a single-centre experience with {n} patients",
    "a multicentre retrospective study of {n} patients",
    "report of a case and review of the literature",
    "a population-based cohort of {n} patients",
    "outcomes of {n} consecutive patients",
]
TOPICS = [
    "Inflammatory myofibroblastic tumor of the {site} in children: {design}",
    "Surgical management of pediatric inflammatory myofibroblastic tumor of the {site}: {design}",
    "ALK rearrangement and outcome in inflammatory myofibroblastic tumour of the {site}: {design}",
    "Plasma cell granuloma of the {site} in an adolescent: {design}",
    "Crizotinib for unresectable inflammatory myofibroblastic tumor of the {site}: {design}",
    "Recurrence after incomplete resection of inflammatory myofibroblastic tumor of the "
    "{site}: {design}",
    "Imaging features of inflammatory pseudotumor of the {site}: {design}",
    "Inflammatory myofibroblastic tumor of the {site} in adults: {design}",
]
OFF_TOPIC = [
    "Immune-mediated myocarditis after checkpoint inhibitors: {design}",
    "Myofibroblasts in wound healing of the {site}: an experimental study",
    "IgG4-related disease of the {site}: {design}",
    "Fibromatosis of the {site} in children: {design}",
    "Inflammatory bowel disease and the {site}: {design}",
]
SURNAMES = [
    "Smith",
    "Müller",
    "García",
    "Rossi",
    "Kowalski",
    "Nguyen",
    "Tanaka",
    "Silva",
    "Dubois",
    "Jensen",
    "Okafor",
    "Cohen",
    "Novak",
    "Andersson",
    "Papadopoulos",
    "Yilmaz",
    "Kim",
    "O'Brien",
    "van der Berg",
    "Ivanova",
    "Haddad",
    "Fernández",
    "Lindqvist",
    "Moretti",
]
GIVEN = [
    "Anna",
    "Lukas",
    "Maria",
    "Giulia",
    "Piotr",
    "Minh",
    "Hiroshi",
    "Ana",
    "Claire",
    "Mette",
    "Chidi",
    "Daniel",
    "Jana",
    "Erik",
    "Eleni",
    "Emre",
    "Ji-woo",
    "Sean",
    "Pieter",
    "Olga",
]
JOURNALS = [
    ("Journal of Pediatric Surgery", "J Pediatr Surg"),
    ("Pediatric Blood & Cancer", "Pediatr Blood Cancer"),
    ("European Journal of Pediatric Surgery", "Eur J Pediatr Surg"),
    ("American Journal of Surgical Pathology", "Am J Surg Pathol"),
    ("Pediatric Surgery International", "Pediatr Surg Int"),
    ("Journal of Clinical Oncology", "J Clin Oncol"),
    ("Pediatric Radiology", "Pediatr Radiol"),
    ("Cancer", "Cancer"),
]
SENTENCES = [
    "Inflammatory myofibroblastic tumor (IMT) is a rare mesenchymal neoplasm of intermediate "
    "biological potential that occurs mostly in children and young adults.",
    "We reviewed the records of {n} patients treated between {y1} and {y2}.",
    "Complete resection with negative margins was achieved in {r} patients.",
    "Anaplastic lymphoma kinase (ALK) expression was found in {a} of {n} tumors.",
    "Local recurrence occurred in {rec} patients, all of whom had positive margins.",
    "Median follow-up was {f} months; {d} patients died of disease.",
    "Targeted therapy with ALK inhibitors achieved a response in unresectable cases.",
    "Complete surgical excision remains the mainstay of treatment.",
]


@dataclass
class DemoPaper:
    title: str
    authors: list[tuple[str, str]]
    year: int
    journal: tuple[str, str]
    volume: int
    issue: int
    first_page: int
    last_page: int
    doi: str
    pmid: str
    abstract: str
    keywords: list[str] = field(default_factory=list)
    language: str = "eng"


def _paper(rng: random.Random, index: int) -> DemoPaper:
    n = rng.randint(1, 60)
    site = rng.choice(SITES)
    design = rng.choice(DESIGNS).format(n=n)
    template = rng.choice(TOPICS if rng.random() < 0.7 else OFF_TOPIC)
    title = template.format(site=site, design=design)
    title = title[0].upper() + title[1:]
    year = rng.randint(1986, 2024)
    authors = [(rng.choice(SURNAMES), rng.choice(GIVEN)) for _ in range(rng.randint(1, 7))]
    y1 = rng.randint(1980, 2015)
    numbers = {
        "n": n,
        "y1": y1,
        "y2": y1 + rng.randint(2, 9),
        "r": rng.randint(0, n),
        "a": rng.randint(0, n),
        "rec": rng.randint(0, max(0, n // 3)),
        "f": rng.randint(6, 120),
        "d": rng.randint(0, max(0, n // 10)),
    }
    abstract = " ".join(s.format(**numbers) for s in rng.sample(SENTENCES, k=rng.randint(3, 6)))
    first = rng.randint(1, 1800)
    return DemoPaper(
        title=title,
        authors=authors,
        year=year,
        journal=rng.choice(JOURNALS),
        volume=rng.randint(1, 60),
        issue=rng.randint(1, 12),
        first_page=first,
        last_page=first + rng.randint(3, 12),
        doi=f"10.5555/demo.{year}.{index:05d}",
        pmid=str(30000000 + index * 7),
        abstract=abstract if rng.random() > 0.08 else "",
        keywords=rng.sample(
            [
                "inflammatory myofibroblastic tumor",
                "child",
                "ALK",
                "surgery",
                "recurrence",
                "plasma cell granuloma",
                "outcome",
                "adolescent",
            ],
            k=3,
        ),
        language="eng" if rng.random() > 0.05 else rng.choice(["ger", "fre", "chi"]),
    )


def demo_papers(*, seed: int = 2024, count: int = 420) -> list[DemoPaper]:
    rng = random.Random(seed)
    return [_paper(rng, i) for i in range(1, count + 1)]


def _wrap(tag: str, text: str, width: int = 82) -> list[str]:
    """MEDLINE lines: the tag padded to 4, then '- ', continuation lines indented 6."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width - 6:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    head = f"{tag:<4}- {lines[0]}"
    return [head, *(f"      {rest}" for rest in lines[1:])]


def medline_export(papers: list[DemoPaper]) -> str:
    """A PubMed 'PubMed format' (.nbib) export."""
    chunks = []
    for p in papers:
        lines = [f"PMID- {p.pmid}", "OWN - NLM", "STAT- MEDLINE"]
        lines += [f"VI  - {p.volume}", f"IP  - {p.issue}", f"DP  - {p.year}"]
        lines += _wrap("TI", p.title + ".")
        lines += [f"PG  - {p.first_page}-{str(p.last_page)[-len(str(p.first_page)) :]}"]
        lines += [f"LID - {p.doi} [doi]"]
        if p.abstract:
            lines += _wrap("AB", p.abstract)
        for surname, given in p.authors:
            lines += [f"FAU - {surname}, {given}", f"AU  - {surname} {given[0]}"]
        lines += [f"LA  - {p.language}", "PT  - Journal Article"]
        lines += [f"TA  - {p.journal[1]}", f"JT  - {p.journal[0]}"]
        lines += [f"OT  - {k}" for k in p.keywords]
        lines += [f"SO  - {p.journal[1]}. {p.year};{p.volume}({p.issue}):{p.first_page}."]
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + "\n"


def _varied(p: DemoPaper, rng: random.Random) -> tuple[str, str]:
    """The title and DOI as another database gives them: British spelling, capitals or no
    final stop now and then; the DOI missing ("") or in capitals now and then."""
    title = p.title
    if rng.random() < 0.3:
        title = title.replace("tumor", "tumour")
    if rng.random() < 0.2:
        title = title.upper() if rng.random() < 0.3 else title.rstrip(".")
    doi = ""
    if rng.random() > 0.1:
        doi = p.doi.upper() if rng.random() < 0.2 else p.doi
    return title, doi


def ris_export(papers: list[DemoPaper], rng: random.Random) -> str:
    """An Embase-style RIS export; titles and DOIs vary as they do between databases."""
    chunks = []
    for p in papers:
        title, doi = _varied(p, rng)
        lines = ["TY  - JOUR", f"TI  - {title}"]
        lines += [f"AU  - {surname}, {given[0]}." for surname, given in p.authors]
        lines += [f"PY  - {p.year}", f"T2  - {p.journal[0]}", f"J2  - {p.journal[1]}"]
        lines += [f"VL  - {p.volume}", f"IS  - {p.issue}"]
        lines += [f"SP  - {p.first_page}", f"EP  - {p.last_page}"]
        if doi:
            lines += [f"DO  - {doi}"]
        if p.abstract:
            lines += [f"AB  - {p.abstract}"]
        lines += [f"KW  - {k}" for k in p.keywords]
        lines += [f"LA  - {'English' if p.language == 'eng' else 'German'}", "M3  - Article"]
        lines += [f"AN  - {620000000 + int(p.pmid) % 1000000}", "DB  - Embase", "ER  - "]
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + "\n"


def refer_export(papers: list[DemoPaper], rng: random.Random) -> str:
    """An EndNote export (Refer tagged, .enw), the papers varied as in `ris_export`."""
    chunks = []
    for p in papers:
        title, doi = _varied(p, rng)
        lines = ["%0 Journal Article", f"%T {title}"]
        lines += [f"%A {surname}, {given[0]}." for surname, given in p.authors]
        lines += [f"%D {p.year}", f"%J {p.journal[0]}", f"%V {p.volume}", f"%N {p.issue}"]
        lines += [f"%P {p.first_page}-{p.last_page}"]
        if doi:
            lines += [f"%R {doi}"]
        if p.abstract:
            lines += [f"%X {p.abstract}"]
        lines += [f"%K {k}" for k in p.keywords]
        lines += [f"%G {'English' if p.language == 'eng' else 'German'}"]
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + "\n"


def _ris(lines: list[str]) -> str:
    return "\n".join(["TY  - JOUR", *lines, "DB  - Embase", "ER  - "])


def hard_cases(papers: list[DemoPaper]) -> str:
    """Embase records that test de-duplication, each about one PubMed paper of the demo.

    - Four are the same paper as Embase indexed it badly: the print year instead of the
      online year, the title's last word garbled, no DOI, pages or volume. The engine cannot
      be sure, so they wait in the queue for a person.
    - Two are errata of a paper: alike but another record, so they too go to the queue
      (an erratum is never linked automatically).
    - Two are conference abstracts that preceded a paper: kept apart by a rule.
    """
    chunks = []
    for p in papers[:4]:  # the same paper, with what would settle it missing
        words = p.title.split()
        chunks.append(
            _ris(
                [
                    f"TI  - {' '.join(words[:-1])} (preliminary results)",
                    *(f"AU  - {surname}, {given[0]}." for surname, given in p.authors),
                    f"PY  - {p.year + 1}",
                    f"T2  - {p.journal[0]}",
                    "M3  - Article",
                ]
            )
        )
    for p in papers[4:6]:  # errata
        chunks.append(
            _ris(
                [
                    f"TI  - Erratum: {p.title}",
                    *(f"AU  - {surname}, {given[0]}." for surname, given in p.authors),
                    f"PY  - {p.year}",
                    f"T2  - {p.journal[0]}",
                    f"VL  - {p.volume}",
                    f"IS  - {p.issue % 12 + 1}",
                    f"SP  - {p.last_page + 400}",
                    "M3  - Erratum",
                ]
            )
        )
    for p in papers[6:8]:  # the conference abstract a year before the paper
        chunks.append(
            _ris(
                [
                    f"TI  - {p.title}",
                    *(f"AU  - {surname}, {given[0]}." for surname, given in p.authors[:3]),
                    f"PY  - {p.year - 1}",
                    f"T2  - {p.journal[0]}",
                    f"VL  - {p.volume - 1} Suppl 1",
                    f"SP  - S{p.first_page % 200 + 1}",
                    "M3  - Conference Abstract",
                ]
            )
        )
    return "\n\n".join(chunks) + "\n"


#: Records of the demo searches, for the tests and the README.
PUBMED_RECORDS = 320
EMBASE_RECORDS = 260 + 8
CITATION_RECORDS = 3
CERTAIN_DUPLICATES = 160


def demo_exports(*, seed: int = 2024) -> tuple[str, str]:
    """The PubMed and Embase exports of the demo search.

    420 papers in all: PubMed finds 320 of them, Embase 260, and 160 are in both, so
    the certain duplicates are 160. Embase also has the 8 hard records of `hard_cases`
    about papers both found: 4 possible duplicates and 2 errata for the queue, and 2
    conference abstracts that stay apart.
    """
    papers = demo_papers(seed=seed, count=420)
    rng = random.Random(seed + 1)
    pubmed = papers[:320]
    embase = papers[160:]
    rng.shuffle(embase)
    return medline_export(pubmed), ris_export(embase, rng) + "\n" + hard_cases(papers[:160])


def citation_export(*, seed: int = 2024) -> str:
    """A small EndNote export (.enw) of papers found by citation searching (reference lists
    of included studies, collected in EndNote): three papers no database search found. They
    skip title/abstract screening and are sought for full text at once, in the PRISMA
    diagram's "other methods" column."""
    rng = random.Random(seed + 2)
    papers = [_paper(rng, 900 + n) for n in range(3)]
    for paper in papers:
        paper.title = paper.title.replace("IgG4-related disease", "Inflammatory pseudotumour")
    return refer_export(papers, random.Random(seed + 3))
