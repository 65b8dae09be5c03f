"""The file a parser reads: where it is, what the user called it, how to decode it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from reviewer.imports.base import ParseError
from reviewer.imports.decoding import Decoding


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file on disk plus the name the user uploaded it under (for messages)."""

    path: Path
    filename: str
    decoding: Decoding

    def open_text(self, *, newline: str | None = None) -> TextIO:
        return self.decoding.open(self.path, newline=newline)

    def error(
        self, message: str, *, line: int | None = None, record: int | None = None
    ) -> ParseError:
        """A ParseError naming this file."""
        return ParseError(message, filename=self.filename, line=line, record=record)


def first_value(raw: dict[str, Any], *keys: str) -> str:
    """The first non-empty value among `keys` (the first item when a key holds a list)."""
    for key in keys:
        value = raw.get(key)
        if isinstance(value, list):
            value = next((v for v in value if v and v.strip()), "")
        if value and value.strip():
            return value
    return ""


def all_values(raw: dict[str, Any], *keys: str) -> list[str]:
    """Every non-empty value under `keys`, in key order."""
    values: list[str] = []
    for key in keys:
        value = raw.get(key)
        if isinstance(value, list):
            values.extend(v for v in value if v and v.strip())
        elif value and value.strip():
            values.append(value)
    return values


def drop_empty(raw: dict[str, Any]) -> dict[str, Any]:
    """The record without tags that carried no text (e.g. 'SP  -' with nothing after it)."""
    cleaned: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, list):
            items = [v for v in value if v and v.strip()]
            if items:
                cleaned[key] = items
        elif value and str(value).strip():
            cleaned[key] = value
    return cleaned
