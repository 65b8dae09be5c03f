"""Normalisation of bibliographic fields for comparison.

Every function here is pure and cheap; the engine calls them once per record (see
``prepare.py``) and compares only the normalised forms.

* text: HTML entities and tags (``<i>``, ``&amp;``, MathML-ish ``<mml:mi>``), LaTeX braces
  and commands, accents (NFKD, combining marks dropped, ``ß``/``æ``/``ø``/``ł`` spelled out),
  case, punctuation (every run of non-alphanumerics becomes one space).
* titles: bracketed language or database notes (``[Chinese]``, ``[Article in German]``,
  ``[see comments]``, ``[published erratum appears in ...]``) are dropped; a title wholly in
  square brackets (PubMed's translated titles) loses its brackets; ``&`` reads as ``and``.
* authors: ``Smith, John A.``, ``Smith JA``, ``J. A. Smith`` and ``Smith, J`` all become
  surname ``smith`` with initials ``ja`` (or ``j``); particles stay part of the surname
  (``van den brule``) and spaces/hyphens are removed from the comparison key.
* journals: stop-words (of, the, and, &, ...) dropped, then compared word by word where an
  abbreviated word matches a full word when it starts with the same letter and its letters
  appear in order in the full word (``J Clin Oncol`` = ``Journal of Clinical Oncology``,
  ``Natl`` = ``National``).
* pages: ``73-6`` = ``73-76``, ``288--297`` = ``288-297``, ``e1234``, ``S12-S15``; the first
  page is the comparison key.
* DOIs: ``https://doi.org/``, ``doi:``, ``DOI `` prefixes, URL escapes, case and trailing
  punctuation removed.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

_TAG = re.compile(r"<[^<>]{0,200}>")
_LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+\s*")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPECIAL_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "’": "'",
        "‘": "'",
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
        "−": "-",
    }
)

_LANGUAGES = (
    "afrikaans|albanian|arabic|bosnian|bulgarian|catalan|chinese|croatian|czech|danish|dutch|"
    "english|estonian|finnish|french|georgian|german|greek|hebrew|hungarian|icelandic|"
    "indonesian|italian|japanese|korean|latvian|lithuanian|macedonian|malay|norwegian|"
    "persian|polish|portuguese|romanian|russian|serbian|slovak|slovene|slovenian|spanish|"
    "swedish|thai|turkish|ukrainian|vietnamese|multiple languages"
)
_BRACKET_NOTE = re.compile(
    r"\[\s*(?:(?:article|text|abstract)\s+in\s+(?:" + _LANGUAGES + r")"
    r"|(?:" + _LANGUAGES + r")(?:\s+(?:abstract|text|version))?"
    r"|author'?s?'? transl?\.?"
    r"|see (?:comments?|editorial comments?)[^\]]*"
    r"|(?:published )?errat(?:um|a) (?:appears? )?in[^\]]*"
    r"|comment(?:ary)?s? (?:in|on)[^\]]*"
    r"|retraction (?:of|in)[^\]]*"
    r"|in process citation|electronic resource|online|erratum|corrected|review|registered"
    r"|\d+\s+refs?|epub ahead of print)\s*\]\.?",
    re.IGNORECASE,
)
_UNCLOSED_BRACKET = re.compile(r"\s*\.?\s*\[[^\[\]]*$")
_MIN_KEPT = 10
_PAREN_NOTE = re.compile(
    r"\(\s*(?:structured|provisional)?\s*abstract\s*\)\s*\.?\s*$", re.IGNORECASE
)
_WHOLLY_BRACKETED = re.compile(r"^\s*\[(?P<inner>[^\[\]]+)\]\s*[.]?\s*$")
_DOI_BODY = re.compile(r"10\.\d{3,9}/\S+")
_DOI_TRAILING = ".,;:)]}>'\""
_STOP_WORDS = frozenset(
    {"of", "the", "and", "for", "in", "on", "an", "de", "des", "der", "die", "la", "le", "les"}
    | {"y", "et", "und", "fur", "du", "el"}
)


def fold(text: str) -> str:
    """Strip markup and accents, lower-case, and reduce punctuation to single spaces."""
    return _NON_ALNUM.sub(" ", strip_accents(strip_markup(text)).lower()).strip()


def strip_markup(text: str) -> str:
    """Remove HTML/XML tags and entities and LaTeX commands/braces, keeping their text."""
    if not text:
        return ""
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "\\" in text:
        text = _LATEX_COMMAND.sub("", text)
    if "{" in text or "}" in text:
        text = text.replace("{", "").replace("}", "")
    return text


def strip_accents(text: str) -> str:
    """Spell out special letters and drop combining accents (``é`` -> ``e``)."""
    text = text.translate(_SPECIAL_LETTERS)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def clean_title(title: str) -> str:
    """The title with markup, language/database notes and translation brackets removed.

    Keeps case and punctuation (the trap rules read them); ``normalise_title`` folds it.
    """
    text = strip_markup(title).strip()
    if "[" in text:
        text = _BRACKET_NOTE.sub(" ", text).strip()
        unclosed = _UNCLOSED_BRACKET.search(text)
        if unclosed and unclosed.start() >= _MIN_KEPT:
            text = text[: unclosed.start()]
        match = _WHOLLY_BRACKETED.match(text)
        if match:
            text = match.group("inner")
    if "(" in text:
        text = _PAREN_NOTE.sub("", text)
    text = text.replace("&", " and ")
    return " ".join(text.split()).rstrip(" .")


_LANGUAGE_NOTE = re.compile(
    r"\[\s*(?:(?:article|text)\s+in\s+)?(?:" + _LANGUAGES + r")(?:\s+(?:abstract|text))?\s*\]",
    re.IGNORECASE,
)


def title_is_translation(title: str) -> bool:
    """True when a title is marked as a translation: wholly in square brackets (PubMed's
    translated titles) or carrying a language note such as ``[Article in German]``."""
    if "[" not in title:
        return False
    text = strip_markup(title).strip()
    return bool(_WHOLLY_BRACKETED.match(text) or _LANGUAGE_NOTE.search(text))


def normalise_title(title: str) -> str:
    """Folded title words joined by single spaces (see the module docstring)."""
    return fold(clean_title(title))


def normalise_doi(value: str) -> str:
    """The bare lower-case DOI (``10.x/y``) found in ``value``, or "" when there is none."""
    if not value:
        return ""
    text = unquote(value.strip()).lower()
    match = _DOI_BODY.search(text)
    if match is None:
        return ""
    return match.group(0).rstrip(_DOI_TRAILING)


def normalise_pmid(value: str) -> str:
    """The PubMed id as bare digits without leading zeros, or ""."""
    digits = "".join(char for char in value if char.isdigit())
    return digits.lstrip("0")


@dataclass(frozen=True, slots=True)
class Author:
    """An author reduced to a surname key and initials (``smith``, ``ja``)."""

    surname: str
    initials: str
    # The surname as it reads when an export split a compound surname after its particle
    # ("Le, Quintrec M." for Le Quintrec M; "Goicoechea de, Jorge E."): the particle joined
    # with the first given name ("lequintrec"), whose initials then drop their first letter.
    # Only compared when the surname itself matches no one.
    joined: str = ""


def _initials_of(given: str) -> str:
    letters: list[str] = []
    for token in re.split(r"[\s.\-]+", given):
        if not token:
            continue
        if token.isupper() and len(token) <= 4 and token.isalpha():
            letters.extend(token.lower())
        elif token[0].isalpha():
            letters.append(token[0].lower())
    return "".join(letters)


def _is_initials_token(token: str) -> bool:
    bare = token.replace(".", "").replace("-", "")
    return 0 < len(bare) <= 3 and bare.isalpha() and bare.isupper()


def _surname_key(text: str) -> str:
    return _NON_ALNUM.sub("", text.lower())


_PARTICLES = frozenset(
    {
        "le",
        "la",
        "de",
        "da",
        "di",
        "du",
        "del",
        "della",
        "des",
        "van",
        "von",
        "der",
        "den",
        "dos",
        "das",
        "el",
        "al",
        "ten",
        "ter",
        "st",
    }
)
_GIVEN_WORD_AND_INITIALS = re.compile(r"^\s*([A-Z][a-z]+)\s+([A-Z](?:[.\s-]*[A-Z])*\.?)\s*$")


def _split_compound(surname: str, given: str) -> str:
    """The joined surname when ``surname`` ends in a particle and ``given`` is one
    capitalised word and initials ("Le", "Quintrec M." -> "lequintrec"), else ""."""
    words = surname.split()
    if not words or words[-1].lower() not in _PARTICLES:
        return ""
    match = _GIVEN_WORD_AND_INITIALS.match(given)
    return _surname_key(surname + match.group(1)) if match else ""


def parse_author(name: str) -> Author | None:
    """Parse one author string in any of the usual forms; None for empty or "et al"."""
    text = strip_accents(strip_markup(name)).strip().strip(",;")
    if not text or text.lower().rstrip(".") in {"et al", "and others", "others", "anonymous"}:
        return None
    if "," in text:
        surname, _, given = text.partition(",")
        key = _surname_key(surname)
        if not key:
            return None
        return Author(key, _initials_of(given), _split_compound(surname, given))
    tokens = text.split()
    if len(tokens) == 1:
        key = _surname_key(tokens[0])
        return Author(key, "") if key else None
    if _is_initials_token(tokens[-1]) and not _is_initials_token(tokens[0]):
        # "Smith JA", "van den Brule AJ"
        return Author(_surname_key(" ".join(tokens[:-1])), _initials_of(tokens[-1]))
    # "J. A. Smith", "John A. Smith", "Jean-Claude van Damme": surname after the given names
    index = 0
    while index < len(tokens) - 1 and (
        _is_initials_token(tokens[index]) or tokens[index].endswith(".") or index == 0
    ):
        index += 1
    while index > 1 and tokens[index - 1][:1].islower():
        index -= 1  # a particle ("van", "de") belongs to the surname
    given_names, surnames = tokens[:index], tokens[index:]
    return Author(_surname_key(" ".join(surnames)), _initials_of(" ".join(given_names)))


def parse_authors(names: tuple[str, ...] | list[str]) -> tuple[Author, ...]:
    """Parse every author, dropping empty entries and "et al"."""
    parsed = (parse_author(name) for name in names)
    return tuple(author for author in parsed if author is not None)


def normalise_journal(journal: str) -> tuple[str, ...]:
    """Journal words without stop-words or bracketed notes (``[Electronic Resource]``)."""
    text = re.sub(r"\[[^\]]*\]", " ", strip_markup(journal))
    return tuple(word for word in fold(text).split() if word not in _STOP_WORDS)


def _abbreviates(short: str, full: str) -> bool:
    """True when ``short`` can abbreviate ``full``: same first letter, letters in order."""
    if short == full:
        return True
    if not short or not full or short[0] != full[0] or len(short) > len(full):
        return False
    position = 0
    for char in short:
        position = full.find(char, position)
        if position < 0:
            return False
        position += 1
    return True


def journals_match(left: tuple[str, ...], right: tuple[str, ...]) -> bool:
    """Word-by-word abbreviation match of two normalised journal names of equal length."""
    if len(left) != len(right) or not left:
        return False
    return all(
        _abbreviates(a, b) if len(a) <= len(b) else _abbreviates(b, a)
        for a, b in zip(left, right, strict=True)
    )


def journal_prefix_match(left: tuple[str, ...], right: tuple[str, ...]) -> bool:
    """True when the shorter name matches the start of the longer (extra trailing words)."""
    if not left or not right:
        return False
    short, long = (left, right) if len(left) <= len(right) else (right, left)
    return journals_match(short, long[: len(short)])


@dataclass(frozen=True, slots=True)
class Pages:
    """First and last page as lower-case strings (``"73"``, ``"76"``; ``"e1234"``)."""

    first: str
    last: str


_PAGE_SPLIT = re.compile(r"\s*(?:-+|–|—|‐|‑|−|\s+to\s+)\s*")
_PAGE_TOKEN = re.compile(r"^([a-z]*)0*(\d+)([a-z]*)$")


def _page_token(token: str) -> str:
    token = re.sub(r"[^0-9a-z]", "", token.lower())
    match = _PAGE_TOKEN.match(token)
    if match:
        return match.group(1) + match.group(2) + match.group(3)
    return token


def normalise_pages(pages: str) -> Pages:
    """Parse a page range; the last page of ``73-6`` is expanded to ``76``."""
    text = strip_markup(pages).strip().lower()
    text = re.sub(r"^(?:pp?\.?|pages?)\s*", "", text)
    if not text:
        return Pages("", "")
    text = text.split(",")[0].split(";")[0]
    parts = _PAGE_SPLIT.split(text, maxsplit=1)
    first = _page_token(parts[0])
    last = _page_token(parts[1]) if len(parts) > 1 else ""
    first_match = _PAGE_TOKEN.match(first)
    last_match = _PAGE_TOKEN.match(last)
    if first_match and last_match:
        first_digits, last_digits = first_match.group(2), last_match.group(2)
        if len(last_digits) < len(first_digits):
            last_digits = first_digits[: len(first_digits) - len(last_digits)] + last_digits
        last = first_match.group(1) + last_digits + first_match.group(3)
    return Pages(first, last if last != first else "")


def normalise_volume(volume: str) -> str:
    """Volume or issue reduced to its folded words joined without spaces (``"12suppl3"``)."""
    return fold(volume).replace(" ", "")


def leading_number(value: str) -> str:
    """The first run of digits in a normalised volume/issue (``"24suppl3"`` -> ``"24"``)."""
    match = re.search(r"\d+", value)
    return match.group(0).lstrip("0") or "0" if match else ""


_PARENTHESISED = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9-]{1,9})\s*\)")


def acronym_definitions(title: str) -> tuple[tuple[str, str], ...]:
    """Acronyms a title defines, as (acronym, expansion) in folded form.

    "Atypical Hemolytic Uremic Syndrome (aHUS)" defines ``ahus`` as ``atypical hemolytic
    uremic syndrome``: the words just before the parenthesis whose initials spell it. Used to
    compare a title that spells a term out with one that only gives its acronym.
    """
    if "(" not in title:
        return ()
    found: list[tuple[str, str]] = []
    for match in _PARENTHESISED.finditer(title):
        acronym = fold(match.group(1)).replace(" ", "")
        words = fold(title[: match.start()]).split()
        size = len(acronym)
        if not 2 <= size <= len(words) or not acronym.isalpha():
            continue
        expansion = words[-size:]
        if "".join(word[0] for word in expansion) == acronym:
            found.append((acronym, " ".join(expansion)))
    return tuple(found)


def collapse_acronyms(title: str, definitions: tuple[tuple[str, str], ...]) -> str:
    """A folded title with each defined term written as its acronym only."""
    for acronym, expansion in definitions:
        title = title.replace(f"{expansion} {acronym}", acronym).replace(expansion, acronym)
    return title
