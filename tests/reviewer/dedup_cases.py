"""Records for the app's de-duplication tests: a certain pair, a possible pair, a trap.

The engine decides the bands; each test that relies on one asserts it first, so a
change in the engine shows up as a clear failure here rather than a puzzling one.
"""

from __future__ import annotations

from typing import Any

from reviewer.models import Record, Review, Source
from tests.factories import make_record

PAPER: dict[str, Any] = {
    "title": "Inflammatory myofibroblastic tumor of the bladder in children: a case series",
    "authors": ["Alaggio, Rita", "Cecchetto, Giovanni", "Bisogno, Gianni"],
    "year": 2010,
    "journal": "Journal of Pediatric Surgery",
    "volume": "45",
    "issue": "3",
    "pages": "532-538",
    "doi": "10.1016/j.jpedsurg.2009.08.011",
}
#: The same paper as another database exports it: DOI as a URL in capitals, initials,
#: abbreviated journal, short page range, trailing full stop, no issue, an abstract.
PAPER_ELSEWHERE: dict[str, Any] = {
    "title": "Inflammatory myofibroblastic tumor of the bladder in children: a case series.",
    "authors": ["Alaggio R", "Cecchetto G", "Bisogno G"],
    "year": 2010,
    "journal": "J Pediatr Surg",
    "volume": "45",
    "pages": "532-8",
    "doi": "https://doi.org/10.1016/J.JPEDSURG.2009.08.011",
    "abstract": "Eleven children with bladder IMT were treated by partial cystectomy.",
}
#: Alike but not certainly the same: the same authors and a near-identical title, a
#: year apart, in a different journal, with no DOI or pages to settle it.
MAYBE_LEFT: dict[str, Any] = {
    "title": "Crizotinib for unresectable inflammatory myofibroblastic tumour in children",
    "authors": ["Mossé, Yael P", "Voss, Stephan D"],
    "year": 2016,
    "journal": "Pediatric Blood & Cancer",
}
MAYBE_RIGHT: dict[str, Any] = {
    "title": "Crizotinib for unresectable inflammatory myofibroblastic tumours in children",
    "authors": ["Mosse YP", "Voss SD"],
    "year": 2017,
    "journal": "Journal of Clinical Oncology",
}
#: An erratum to PAPER: it must never be linked to it.
ERRATUM: dict[str, Any] = {
    "title": (
        "Erratum: Inflammatory myofibroblastic tumor of the bladder in children: a case series"
    ),
    "authors": ["Alaggio, Rita", "Cecchetto, Giovanni", "Bisogno, Gianni"],
    "year": 2010,
    "journal": "Journal of Pediatric Surgery",
    "volume": "45",
    "issue": "6",
    "pages": "1342",
    "publication_type": "Erratum",
}
UNRELATED: dict[str, Any] = {
    "title": "IgG4-related disease of the orbit: a multicentre cohort",
    "authors": ["Wallace, Zachary"],
    "year": 2019,
    "journal": "Ophthalmology",
}


def add(review: Review, source: Source, fields: dict[str, Any], **more: Any) -> Record:
    return make_record(review, source, **{**fields, **more})
