"""Text lines -> integer arrays for the n-gram metrics (lossless, no vocabulary needed).

Characters: a line becomes its first seq_len Unicode code points, right-padded
with '`' (the paper's evaluation view); the code point itself is the id, so any
character is kept distinct and both sides of a comparison share one id space.

Words: whitespace tokens (``str.split()``), mapped to ids by a `WordIds` map that
grows as new words arrive, so samples and references share one id space.  Word
lines are NOT padded: positions past a line's end are absent (-1) and form no
n-gram, because a padding "word" would invent n-grams no text contains.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

PAD = "`"


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
    UTF-8 with errors="replace", universal newlines, only the line break removed."""
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    if "\r" in text:   # what text-mode reading does: \r\n and lone \r end a line
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    breaks = np.flatnonzero(cps == 10)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(cps)]])
    if starts[-1] == len(cps):          # nothing after the last line break: no further line
        starts, ends = starts[:-1], ends[:-1]
    if max_lines is not None:
        starts, ends = starts[:max_lines], ends[:max_lines]
    out = np.empty((len(starts), seq_len), dtype=np.uint32)
    if len(cps) == 0:
        return out.reshape(len(starts), seq_len) if len(starts) == 0 else np.full_like(out, ord(pad))
    step = max(1, (1 << 22) // seq_len)   # rows per gather: bounds the index temporaries
    cols = np.arange(seq_len)
    for r in range(0, len(starts), step):
        s, e = starts[r:r + step], ends[r:r + step]
        idx = s[:, None] + cols
        out[r:r + step] = np.where(idx < e[:, None], cps[np.minimum(idx, len(cps) - 1)], ord(pad))
    return out
