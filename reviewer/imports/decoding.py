"""Which text encoding a file is in, decided once, before any parser reads it.

Exports arrive as UTF-8 (with or without a byte-order mark), UTF-16 from Windows tools,
and now and then in a legacy code page. We trust a BOM, then check that the *whole* file
is valid UTF-8 (a cheap streaming pass; a bad byte on line 90,000 must not surface
mid-import), and only then fall back to cp1252 or charset-normalizer's best guess, with a
warning the user sees, because a wrong guess garbles names and accents.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

import charset_normalizer

#: How much of a file we look at to sniff its encoding and format.
SNIFF_BYTES = 64 * 1024

_CHUNK = 1024 * 1024

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True, slots=True)
class Decoding:
    """How to open a file as text. `warning` is shown to the user when not empty."""

    encoding: str
    errors: str = "strict"
    warning: str = ""
    #: The line of the first byte that is not UTF-8 (or not the BOM's encoding), if any.
    first_bad_line: int | None = None

    def open(self, path: Path, *, newline: str | None = None) -> TextIO:
        """Open `path` as text; `newline=None` turns CRLF and CR-only endings into "\\n"."""
        return open(path, encoding=self.encoding, errors=self.errors, newline=newline)


def _binary(source: Path | bytes) -> BinaryIO:
    """The file (a path, or its bytes already in memory) opened for reading bytes."""
    return io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")


def read_head(source: Path | bytes, size: int = SNIFF_BYTES) -> bytes:
    """The first `size` bytes of the file."""
    with _binary(source) as handle:
        return handle.read(size)


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark announces, if the file starts with one."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    return None


def bomless_utf16(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the NUL bytes say so, though no BOM is present.

    ASCII text in UTF-16 has a NUL in every other byte: the odd bytes for little-endian,
    the even bytes for big-endian. Binary files have NULs scattered everywhere.
    """
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nuls = even.count(0) / len(even)
    odd_nuls = odd.count(0) / len(odd)
    if odd_nuls > 0.4 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.4 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def head_text(head: bytes) -> tuple[str, str]:
    """Decode the sniffed head leniently, for format detection: (text, encoding)."""
    encoding = bom_encoding(head) or bomless_utf16(head)
    if encoding is None:
        encoding = "utf-8" if _first_bad_byte(head, "utf-8", partial=True) is None else "cp1252"
    text = head.decode(encoding, errors="replace")
    return text.lstrip("\ufeff"), encoding


def choose_decoding(path: Path | bytes) -> Decoding:
    """Decide how to decode the whole file (a path, or its bytes), checking every byte
    when it matters."""
    head = read_head(path)
    encoding = bom_encoding(head) or bomless_utf16(head)
    if encoding is not None:
        bad = _first_bad_byte_in_file(path, encoding)
        if bad is None:
            return Decoding(encoding)
        line = _line_of_offset(path, bad)
        return Decoding(
            encoding,
            errors="replace",
            warning=(
                f"The file says it is {encoding} but has bytes that are not (first at line "
                f"{line}); they are shown as �. Check special "
                "characters, and re-export the file if they matter."
            ),
            first_bad_line=line,
        )
    bad = _first_bad_byte_in_file(path, "utf-8")
    if bad is None:
        return Decoding("utf-8")
    line = _line_of_offset(path, bad)
    where = f"line {line}"
    if _first_bad_byte_in_file(path, "cp1252") is None:
        return Decoding(
            "cp1252",
            warning=(
                f"The file is not valid UTF-8 (first at {where}); decoded as cp1252 "
                "(Windows Western European); check special characters."
            ),
            first_bad_line=line,
        )
    best = charset_normalizer.from_bytes(head).best()
    if best is not None:
        return Decoding(
            best.encoding,
            errors="replace",
            warning=(
                f"The file is not valid UTF-8 (first at {where}); decoded as {best.encoding} "
                "(best guess); check special characters, and re-export as UTF-8 if they "
                "look wrong."
            ),
            first_bad_line=line,
        )
    return Decoding(
        "latin-1",
        warning=(
            f"The file is not valid UTF-8 (first at {where}) and its encoding could not be "
            "recognised; decoded as latin-1; check special characters."
        ),
        first_bad_line=line,
    )


def _first_bad_byte(data: bytes, encoding: str, *, partial: bool) -> int | None:
    """Offset of the first undecodable byte, None if all decode.

    With `partial`, a multi-byte character cut off at the end does not count (the sniffed
    head usually ends mid-file).
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        decoder.decode(data, final=not partial)
    except UnicodeDecodeError as error:
        return error.start
    return None


def _first_bad_byte_in_file(path: Path | bytes, encoding: str) -> int | None:
    """Stream the file through a strict decoder; offset of the first bad byte, or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with _binary(path) as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return offset + max(error.start, 0)
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset
    return None


def _line_of_offset(path: Path | bytes, offset: int) -> int:
    """1-based line number of the byte at `offset` (counting LF, CRLF and CR endings)."""
    lines = 1
    remaining = offset
    previous = b""
    with _binary(path) as handle:
        while remaining > 0 and (chunk := handle.read(min(_CHUNK, remaining))):
            remaining -= len(chunk)
            # A CRLF split across chunks must count once: glue the last byte on.
            data = previous + chunk
            lines += data.count(b"\n") + data.replace(b"\r\n", b"").count(b"\r")
            lines -= previous.count(b"\n") + previous.count(b"\r")
            previous = chunk[-1:]
    return lines
