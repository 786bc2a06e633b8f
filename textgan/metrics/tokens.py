"""Text lines -> integer arrays for the n-gram metrics (lossless, no vocabulary needed).

Characters: a line becomes its first seq_len Unicode code points, right-padded
with '`' (the paper's evaluation view); the code point itself is the id, so any
character is kept distinct and both sides of a comparison share one id space.

Words: whitespace tokens (``str.split()``), mapped to ids by a `WordIds` map that
grows as new words arrive, so samples and references share one id space.  Word
lines are NOT padded: positions past a line's end are absent (-1) and form no
n-gram, because a padding "word" would invent n-grams no text contains.

Files: `file_char_ids` reads a text file straight into that array (bytes, one
vectorised gather of each line's first seq_len bytes; only lines with non-ASCII
bytes among them are decoded in Python), exactly as the reference reads text.
"""
from __future__ import annotations

import mmap
from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

PAD = "`"
GATHER_ROWS = 1 << 15    # rows per gather when the ids are wider than bytes (the temporary stays in cache)


def pad_cut(lines: Sequence[str], seq_len: int, pad: str = PAD) -> list[str]:
    """Each line cut to seq_len characters and right-padded with `pad`."""
    return [line[:seq_len].ljust(seq_len, pad) for line in lines]


def char_ids(lines: Sequence[str], seq_len: int, pad: str = PAD) -> np.ndarray:
    """[N, seq_len] uint32 code points of the lines, cut/padded to seq_len."""
    if seq_len < 1:
        raise ValueError(f"seq_len must be >= 1, got {seq_len}")
    text = "".join(pad_cut(lines, seq_len, pad))
    # surrogatepass: lone surrogates (possible in Python strings) still get a distinct id.
    buf = text.encode("utf-32-le", "surrogatepass")
    return np.frombuffer(buf, dtype="<u4").reshape(len(lines), seq_len).astype(np.uint32)


class WordIds:
    """A growing word -> id map shared by every set of lines it encodes."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def encode(self, lines: Sequence[str], max_len: int | None = None) -> np.ndarray:
        """[N, longest line (or max_len)] int32 word ids, -1 past each line's end."""
        rows = [line.split() for line in lines]
        if max_len is not None:
            rows = [r[:max_len] for r in rows]
        width = max((len(r) for r in rows), default=0)
        out = np.full((len(rows), max(width, 1)), -1, dtype=np.int32)
        index = self.index
        for i, words in enumerate(rows):
            out[i, :len(words)] = [index.setdefault(w, len(index)) for w in words]
        return out


def file_char_ids(path: str, seq_len: int, max_lines: int | None = None, pad: str = PAD) -> np.ndarray:
    """char_ids of a text file's lines, vectorised, with the reference reading semantics:
    UTF-8 with errors="replace", universal newlines, only the line break removed.

    Returns [N, seq_len] code points in the narrowest of uint8 / uint16 / uint32 that holds
    them (the values are those of `char_ids`; only the dtype may be narrower).
    """
    with open(path, "rb") as f:
        try:   # mapped, not copied: the file is scanned once for line breaks and gathered from
            data: bytes | mmap.mmap = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):   # empty file, pipe, ...
            data = f.read()
    try:
        return bytes_char_ids(data, seq_len, max_lines, pad)
    finally:
        if isinstance(data, mmap.mmap):
            try:
                data.close()
            except BufferError:   # an exception's traceback still holds a view: left to the GC
                pass


def _positions(a: np.ndarray, test, block: int = 1 << 20) -> np.ndarray:
    """Flat positions where test(a) holds, computed block by block in one reused buffer
    (one big temporary would cost a page fault per 4 KiB, more than the comparison)."""
    buf = np.empty(min(block, len(a)), dtype=bool)
    parts = [np.zeros(0, np.int64)]
    for i in range(0, len(a), block):
        x = a[i:i + block]
        hit = buf[:len(x)]
        test(x, out=hit)
        parts.append(np.flatnonzero(hit) + i)
    return np.concatenate(parts)


def bytes_char_ids(data: bytes | mmap.mmap, seq_len: int, max_lines: int | None = None,
                   pad: str = PAD) -> np.ndarray:
    r"""`file_char_ids` of a file's raw bytes (a bytes object or a read-only mmap).

    Why it is exact: universal newlines translate "\r\n" and "\r" to "\n", and those bytes are
    ASCII, so translating the bytes before decoding is the same as translating the text after;
    an ASCII byte always decodes to itself and ends any invalid sequence, so a line whose first
    seq_len bytes are ASCII starts with exactly those characters.  Only the other lines (few in
    most text) are decoded one by one (each ends at a "\n", which decoding the whole file
    would also treat as a boundary).
    """
    if seq_len < 1:
        raise ValueError(f"seq_len must be >= 1, got {seq_len}")
    data, starts, ends = line_spans(data, max_lines)
    return spans_char_ids(data, starts, ends, seq_len, pad)


def line_spans(data: bytes | mmap.mmap, max_lines: int | None = None
               ) -> tuple[bytes | mmap.mmap, np.ndarray, np.ndarray]:
    r"""(data, starts, ends): the bytes with universal newlines applied ("\r\n" and "\r" become
    "\n"; `data` itself when it has no "\r") and each line's byte span [start, end), line
    break excluded, up to max_lines lines.  data[start:end].decode("utf-8", "replace") is
    the line exactly as `file_char_ids` reads it."""
    if data.find(b"\r") >= 0:
        data = bytes(data).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    a = np.frombuffer(data, dtype=np.uint8) if len(data) else np.zeros(0, np.uint8)
    breaks = _positions(a, lambda x, out: np.equal(x, 10, out=out))
    starts = np.empty(len(breaks) + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = breaks + 1
    ends = np.append(breaks, len(a))
    if starts[-1] == len(a):            # nothing after the last line break: no further line
        starts, ends = starts[:-1], ends[:-1]
    if max_lines is not None:
        starts, ends = starts[:max_lines], ends[:max_lines]
    return data, starts, ends


def spans_char_ids(data: bytes | mmap.mmap, starts: np.ndarray, ends: np.ndarray, seq_len: int,
                   pad: str = PAD) -> np.ndarray:
    """`bytes_char_ids` of the lines at the spans `line_spans` gave (same data)."""
    padv = ord(pad)
    a = np.frombuffer(data, dtype=np.uint8) if len(data) else np.zeros(0, np.uint8)
    if padv >= 128 or len(a) < seq_len:  # rare shapes: decode every line
        lines = [data[s:e].decode("utf-8", errors="replace") for s, e in zip(starts.tolist(), ends.tolist())]
        return _narrow(char_ids(lines, seq_len, pad))
    # Rows whose first seq_len bytes hold a non-ASCII byte are decoded one by one (few in most
    # text), and so are the rows near the end of the buffer; they are found first so that the
    # result is allocated once, in the dtype their code points need (a fresh copy costs page faults).
    redo = np.flatnonzero(starts > len(a) - seq_len)
    if len(starts) and not (isinstance(data, bytes) and data.isascii()):
        high = _positions(a[:int(ends[-1])], lambda x, out: np.greater_equal(x, 128, out=out))
        row = np.searchsorted(starts, high, side="right") - 1
        redo = np.union1d(redo, row[(high - starts[row] < seq_len) & (high < ends[row])])
    fixed = None
    if len(redo):
        lines = [data[starts[i]:ends[i]].decode("utf-8", errors="replace") for i in redo.tolist()]
        fixed = char_ids(lines, seq_len, pad)
    top = int(fixed.max()) if fixed is not None else 0
    dtype = np.uint8 if top < 256 else np.uint16 if top < 65536 else np.uint32
    # The first seq_len bytes of every line: a gather of whole windows (rows near the end of the
    # buffer are shifted back here and redone), in chunks when it widens the bytes.
    windows = sliding_window_view(a, seq_len)
    first = np.minimum(starts, len(a) - seq_len)
    if dtype is np.uint8:
        out = windows[first]
    else:
        out = np.empty((len(starts), seq_len), dtype)
        for r0 in range(0, len(starts), GATHER_ROWS):
            out[r0:r0 + GATHER_ROWS] = windows[first[r0:r0 + GATHER_ROWS]]
    lens = ends - starts
    short = np.flatnonzero(lens < seq_len)      # only these rows hold bytes past their line
    out[short] = np.where(np.arange(seq_len) < lens[short, None], out[short], out.dtype.type(padv))
    if fixed is not None:
        out[redo] = fixed
    return out


def _narrow(ids: np.ndarray) -> np.ndarray:
    top = int(ids.max(initial=0))
    return ids.astype(np.uint8 if top < 256 else np.uint16 if top < 65536 else np.uint32)
