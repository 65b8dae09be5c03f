"""Template filters for the screening page: the review's highlight terms marked in a text.

    {% load screening %}
    {{ record.abstract|highlight:review }}

Terms are the review's `highlight_include` and `highlight_exclude` lists. Matching is
case-insensitive and on whole words: "tumor" marks "Tumor" but not "tumors"; a `*` stands
for any word characters ("child*" marks "child", "children", "childhood"), and spaces in a
term match any run of white space ("case report" across a line break).

Safety: the matches are found in the raw text, then every piece of it, marked or not, is
escaped on its own before the <mark> tags are put around the marked pieces. Marking the
already-escaped text instead would let a term such as "lt" or "amp" match inside an
entity ("&lt;") and break it.

Overlaps: where terms overlap, the match starting first wins, then the longest; a tie
(the same words in both lists) is marked as exclusion, the sign more costly to miss.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

INCLUDE, EXCLUDE = "hl-include", "hl-exclude"


def term_pattern(term: str) -> str | None:
    """The regular expression of one term, or None for a term that would mark every word."""
    words = term.split()
    if not words or not any(ch.isalnum() for ch in term):
        return None
    parts = []
    for word in words:
        parts.append(r"\w*".join(re.escape(piece) for piece in word.split("*")))
    return r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)"


@lru_cache(maxsize=64)
def _compiled(
    include: tuple[str, ...], exclude: tuple[str, ...]
) -> tuple[tuple[re.Pattern[str], str], ...]:
    patterns = []
    # exclusion first: on an exact tie the first kept wins (see the module docstring)
    for terms, css in ((exclude, EXCLUDE), (include, INCLUDE)):
        for term in terms:
            pattern = term_pattern(term)
            if pattern is not None:
                patterns.append((re.compile(pattern, re.IGNORECASE), css))
    return tuple(patterns)


def _terms(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(term) for term in value if str(term).strip())


def spans(text: str, include: Sequence[str], exclude: Sequence[str]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, css class) of the terms found in `text`, in order."""
    found: list[tuple[int, int, int, str]] = []
    for order, (pattern, css) in enumerate(_compiled(tuple(include), tuple(exclude))):
        for match in pattern.finditer(text):
            if match.end() > match.start():
                found.append((match.start(), -(match.end() - match.start()), order, css))
    kept: list[tuple[int, int, str]] = []
    end = 0
    for start, negative_length, _, css in sorted(found):
        if start >= end:
            end = start - negative_length
            kept.append((start, end, css))
    return kept


def _marked(text: str, found: Iterable[tuple[int, int, str]]) -> SafeString:
    out: list[str] = []
    position = 0
    for start, end, css in found:
        out.append(escape(text[position:start]))
        out.append(f'<mark class="{css}">{escape(text[start:end])}</mark>')
        position = end
    out.append(escape(text[position:]))
    return mark_safe("".join(out))  # every piece of the text is escaped above


def highlight_terms(text: str, include: Sequence[str], exclude: Sequence[str]) -> SafeString:
    """`text`, escaped, with the include and exclude terms in <mark> tags."""
    text = "" if text is None else str(text)
    return _marked(text, spans(text, include, exclude))


@register.filter
def highlight(text: object, review: object) -> SafeString:
    """`text` with `review`'s highlight terms marked (see the module docstring)."""
    include = _terms(getattr(review, "highlight_include", None))
    exclude = _terms(getattr(review, "highlight_exclude", None))
    return highlight_terms("" if text is None else str(text), include, exclude)
