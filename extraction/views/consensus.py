"""The senior's comparison of two extractors' copies, and the consensus built from it.

Seniors only. The comparison opens once both copies are done; every disagreeing value is
listed with both sides, and one click takes a side into the consensus copy. The consensus
copy is then checked and marked final on its own page (the same page extractors use).
The pages are the ones risk-of-bias appraisal has too (`extraction.dual.views`).
"""

from __future__ import annotations

from django.http import QueryDict
from django.urls import URLPattern, path

from extraction.dual import views as dual
from extraction.models import Extraction
from extraction.selectors import Comparison, compare
from extraction.services.consensus import consensus_start, consensus_take, copies_of
from extraction.values import form_spec
from reviewer.models import Review, User


def _number(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _comparison(
    review: Review, a: Extraction, b: Extraction, consensus: Extraction | None
) -> Comparison:
    return compare(a, b, consensus, spec=form_spec(review))


def _take(consensus: Extraction, user: User, side: dual.Side, post: QueryDict) -> None:
    consensus_take(
        consensus=consensus,
        user=user,
        side=side,
        field_id=_number(post.get("field", "")),
        position=_number(post.get("position", "")),
    )


PAGES = dual.ConsensusPages(
    model=Extraction,
    prefix="extraction",
    template="extraction/compare.html",
    started="Consensus started from every value the two copies agree on.",
    no_side="Say which copy to take the value from.",
    copies_of=copies_of,
    consensus_start=consensus_start,
    comparison=_comparison,
    take=_take,
)


VIEWS = dual.page_views(PAGES)


urlpatterns: list[URLPattern] = [
    path("studies/<int:pk>/compare/", VIEWS.compare, name="extraction-compare"),
    path("studies/<int:pk>/compare/start/", VIEWS.start, name="extraction-consensus-start"),
    path("copies/<int:pk>/take/", VIEWS.take, name="extraction-take"),
]
