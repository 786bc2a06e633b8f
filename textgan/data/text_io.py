"""Reading text sources line by line: plain files, gzip files and JSON lines.

Line semantics are the reference's `read_lines`: UTF-8 with invalid bytes
replaced, universal newlines (\\n, \\r\\n and \\r end a line), only the newline
stripped.  Large files are read in blocks of whole lines (byte ranges that end
just after a b"\\n"), so two processes can decode them independently and the
result is identical to reading the file line by line.
"""
from __future__ import annotations

import gzip
import json
import os
import warnings
from dataclasses import dataclass
from typing import Iterable, Iterator

from textgan.data.vocab import pad_cut  # noqa: F401  (re-exported: part of this module's API)
from textgan.errors import CorpusError

BLOCK_BYTES = 16 << 20          # one unit of work: ~16 MB of whole lines
SNIFF_BYTES = 1 << 16
_REPLACEMENT_BYTES = "\ufffd".encode("utf-8")


def read_lines(path: str | os.PathLike, max_lines: int | None = None) -> list[str]:
    """Lines of a UTF-8 text file exactly as the reference reads them."""
    lines: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            lines.append(raw.rstrip("\n"))
            if max_lines is not None and len(lines) >= max_lines:
                break
    return lines


@dataclass(frozen=True)
class Piece:
    """A unit of reading: a byte range of a plain file, or a whole gzip file."""
    path: str
    fmt: str                  # txt | gz | jsonl | jsonl.gz
    start: int = 0
    end: int = -1             # -1: to the end of the file
    field: str = "text"       # jsonl only


def file_format(path: str) -> str:
    name = path.lower()
    if name.endswith(".jsonl.gz"):
        return "jsonl.gz"
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".gz"):
        return "gz"
    return "txt"


def _open_binary(path: str, fmt: str):
    return gzip.open(path, "rb") if fmt.endswith("gz") else open(path, "rb")


def sniff(path: str, fmt: str) -> None:
    """Refuse binary input: NUL bytes or mostly undecodable bytes at the start."""
    try:
        with _open_binary(path, fmt) as f:
            head = f.read(SNIFF_BYTES)
    except (OSError, EOFError) as e:
        raise CorpusError(f"cannot read {path}: {e}") from None
    if b"\x00" in head:
        raise CorpusError(f"{path} is a binary file, not UTF-8 text")
    if head:
        text = head.decode("utf-8", "replace")
        bad = text.count("\ufffd") - head.count(_REPLACEMENT_BYTES)
        if bad > 0.3 * len(text):
            raise CorpusError(f"{path} is not UTF-8 text ({bad} of {len(text)} characters undecodable)")


def split_file(path: str, fmt: str, field: str = "text", block: int = BLOCK_BYTES) -> list[Piece]:
    """Byte ranges of whole lines (gzip files cannot be split: one piece)."""
    if fmt.endswith("gz"):
        return [Piece(path, fmt, field=field)]
    size = os.path.getsize(path)
    pieces, start = [], 0
    with open(path, "rb") as f:
        while start < size:
            end = start + block
            if end >= size:
                end = size
            else:
                f.seek(end)
                tail = f.read(1 << 20)
                while tail and b"\n" not in tail:       # a line longer than 1 MB
                    more = f.read(1 << 20)
                    if not more:
                        break
                    tail += more
                cut = tail.find(b"\n")
                end = size if cut < 0 else end + cut + 1
            pieces.append(Piece(path, fmt, start, end, field))
            start = end
    return pieces


def decode_block(data: bytes) -> tuple[list[str], int]:
    """Lines of a block of whole lines and the number of invalid UTF-8 sequences replaced."""
    try:
        text = data.decode("utf-8")
        bad = 0
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
        bad = text.count("\ufffd") - data.count(_REPLACEMENT_BYTES)
    if "\r" in text:   # universal newlines, as open() in text mode
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines, bad


def iter_blocks(f, block: int = BLOCK_BYTES, limit: int = -1) -> Iterator[bytes]:
    """Blocks of whole lines from a binary stream (up to `limit` bytes when >= 0)."""
    carry = b""
    left = limit
    while True:
        n = block if left < 0 else min(block, left)
        data = f.read(n) if n else b""
        if left >= 0:
            left -= len(data)
        if not data:
            if carry:
                yield carry
            return
        data = carry + data
        if data.endswith(b"\r"):   # a "\r\n" may straddle the boundary: keep the "\r" back
            cut = len(data) - 1
        else:
            cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
        if cut <= 0:
            carry = data
            continue
        carry = data[cut:]
        yield data[:cut]


def _jsonl_values(lines: list[str], piece: Piece) -> list[str]:
    out = []
    for line in lines:
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise CorpusError(f"{piece.path}: invalid JSON line ({e.msg})") from None
        if not isinstance(rec, dict) or piece.field not in rec:
            raise CorpusError(f"{piece.path}: a record has no field {piece.field!r}")
        value = rec[piece.field]
        out.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return out


def iter_piece_bytes(piece: Piece, block: int = BLOCK_BYTES) -> Iterator[bytes]:
    """Raw blocks of whole lines of one piece."""
    with _open_binary(piece.path, piece.fmt) as f:
        limit = -1
        if not piece.fmt.endswith("gz"):
            f.seek(piece.start)
            limit = (os.path.getsize(piece.path) if piece.end < 0 else piece.end) - piece.start
        yield from iter_blocks(f, block, limit)


def iter_piece_lines(piece: Piece, block: int = BLOCK_BYTES) -> Iterator[tuple[list[str], int]]:
    """(lines, invalid UTF-8 count) per block of one piece."""
    for data in iter_piece_bytes(piece, block):
        lines, bad = decode_block(data)
        if piece.fmt.startswith("jsonl"):
            lines = _jsonl_values(lines, piece)
        yield lines, bad


def warn_replaced(bad: int, what: str) -> None:
    if bad:
        warnings.warn(f"{what}: {bad} invalid UTF-8 sequence(s) replaced by U+FFFD", stacklevel=3)


def read_source_lines(pieces: Iterable[Piece], max_lines: int | None, what: str = "corpus") -> list[str]:
    """Lines of pieces in order, up to max_lines (invalid UTF-8 counted in one warning)."""
    out: list[str] = []
    bad = 0
    for piece in pieces:
        for lines, b in iter_piece_lines(piece):
            bad += b
            if max_lines is not None and len(out) + len(lines) >= max_lines:
                out.extend(lines[: max_lines - len(out)])
                warn_replaced(bad, what)
                return out
            out.extend(lines)
    warn_replaced(bad, what)
    return out

