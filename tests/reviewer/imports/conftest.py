"""Helpers for the import parser tests: the real exports and small files written on the fly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reviewer.imports import ParsedRecord, read_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"

WriteFile = Callable[..., Path]


@pytest.fixture
def exports(shared_data: Path) -> Path:
    """The real search exports in shared/data/exports."""
    return shared_data / "exports"


@pytest.fixture
def write(tmp_path: Path) -> WriteFile:
    """Write `content` (text, encoded as `encoding`, or bytes) to tmp_path/name."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return _write


def records_of(path: Path, **kwargs: object) -> list[ParsedRecord]:
    """Every record of a file, read with `read_file` (filename defaults to the path's)."""
    kwargs.setdefault("filename", path.name)
    return list(read_file(path, **kwargs).records())  # type: ignore[arg-type]
