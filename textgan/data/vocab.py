"""Vocabularies: token <-> id with the paper's semantics.

Index 0 is the unknown symbol, the pad token is '`' and is counted like any
other token (lines are padded to seq_len before counting), and the vocabulary
keeps the (max_vocab - 1) most frequent tokens, ties broken deterministically
(by code point for characters, by the token string for words).

Character encoding and decoding are vectorised: lines become one UTF-32 buffer
viewed as a [N, L] uint32 array of code points, mapped to ids by a lookup table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

PAD = "`"
UNK_ID = 0
UNK_TEXT = "\ufffd"      # how the unknown symbol is written when decoding
UNK_TOKEN = "<unk>"      # the string stored at tokens[0]
KINDS = ("char", "word", "bpe")


def smallest_dtype(vocab_size: int) -> np.dtype:
    """uint8 up to 256 ids, uint16 up to 65536, else int32."""
    if vocab_size <= 256:
        return np.dtype(np.uint8)
    if vocab_size <= 65536:
        return np.dtype(np.uint16)
    return np.dtype(np.int32)


def pad_cut(lines: Sequence[str], seq_len: int) -> list[str]:
    """Each line cut to seq_len characters and right-padded with PAD."""
    return [line[:seq_len].ljust(seq_len, PAD) for line in lines]


def codepoints(lines: Sequence[str], seq_len: int) -> np.ndarray:
    """[N, seq_len] uint32 code points of the cut and padded lines (one C-level pass)."""
    if not lines:
        return np.zeros((0, seq_len), np.uint32)
    buf = "".join(pad_cut(lines, seq_len)).encode("utf-32-le", "surrogatepass")
    return np.frombuffer(buf, np.uint32).reshape(len(lines), seq_len)


def _top_tokens(keys: np.ndarray, counts: np.ndarray, max_vocab: int) -> np.ndarray:
    """Keys of the (max_vocab - 1) largest counts; ties by ascending key (keys sorted)."""
    order = np.lexsort((keys, -counts.astype(np.int64)))
    return keys[order[: max(0, max_vocab - 1)]]


@dataclass
class Vocab:
    tokens: list[str]                 # index -> token; tokens[0] is the unknown symbol
    kind: str = "char"                # char | word | bpe
    tokenizer_json: str | None = None # bpe only: the `tokenizers` JSON, so a checkpoint alone decodes
    _index: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _lut: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _tok: object = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown vocabulary kind {self.kind!r}")
        # tokens[0] never matches input text: the unknown id is only reached by misses
        self._index = {t: i for i, t in enumerate(self.tokens) if i != UNK_ID}
        if self.kind == "char" and any(len(t) != 1 for t in self.tokens[1:]):
            raise ValueError("a char vocabulary holds single characters")

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def pad_id(self) -> int:
        return self._index.get(PAD, UNK_ID)

    @property
    def dtype(self) -> np.dtype:
        return smallest_dtype(len(self.tokens))

    # -- characters -------------------------------------------------------
    def char_lut(self) -> np.ndarray:
        """Code point -> id table covering every code point in the vocabulary."""
        if self._lut is None:
            cps = np.array([ord(t) for t in self.tokens[1:]], dtype=np.int64)
            size = int(cps.max()) + 1 if cps.size else 1
            lut = np.zeros(size, self.dtype)
            lut[cps] = np.arange(1, len(self.tokens), dtype=np.int64)
            self._lut = lut
        return self._lut

    def map_codepoints(self, cps: np.ndarray) -> np.ndarray:
        """uint32 code points (any shape) -> ids; code points outside the vocabulary -> 0."""
        lut = self.char_lut()
        inside = cps < lut.size
        ids = lut[np.where(inside, cps, 0)]
        ids[~inside] = UNK_ID
        return ids

    # -- public API ---------------------------------------------------------
    def encode_lines(self, lines: Sequence[str], seq_len: int) -> np.ndarray:
        """[N, seq_len] ids: cut to seq_len tokens, padded with pad_id, unknown -> 0."""
        if self.kind == "char":
            return self.map_codepoints(codepoints(lines, seq_len))
        if self.kind == "word":
            return self._encode_word(lines, seq_len)
        from textgan.data.tokenize import bpe_encode
        return bpe_encode(self, lines, seq_len)

    def _encode_word(self, lines: Sequence[str], seq_len: int) -> np.ndarray:
        out = np.full((len(lines), seq_len), self.pad_id, self.dtype)
        get = self._index.get
        for r, line in enumerate(lines):
            words = line.split()[:seq_len]
            out[r, : len(words)] = [get(w, UNK_ID) for w in words]
        return out

    def decode(self, ids) -> list[str]:
        """Texts of [N, L] ids (array or tensor): trailing padding stripped, unknown -> UNK_TEXT."""
        if hasattr(ids, "detach"):
            ids = ids.detach().cpu().numpy()
        ids = np.asarray(ids)
        if ids.ndim == 1:
            ids = ids[None, :]
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.tokens)):
            raise ValueError(f"ids outside the vocabulary of {len(self.tokens)} tokens")
        if self.kind == "char":
            return self._decode_char(ids)
        if self.kind == "bpe":
            from textgan.data.tokenize import bpe_decode
            return bpe_decode(self, ids)
        out = []
        for row in ids.tolist():
            while row and row[-1] == self.pad_id:
                row.pop()
            out.append(" ".join(UNK_TEXT if i == UNK_ID else self.tokens[i] for i in row))
        return out

    def _decode_char(self, ids: np.ndarray) -> list[str]:
        n, length = ids.shape
        table = np.array([ord(UNK_TEXT)] + [ord(t) for t in self.tokens[1:]], np.uint32)
        text = table[ids.astype(np.int64)].tobytes().decode("utf-32-le", "surrogatepass")
        rows = [text[i * length:(i + 1) * length] for i in range(n)]
        if self.pad_id == UNK_ID:   # no pad token in this vocabulary: nothing to strip
            return rows
        return [r.rstrip(PAD) for r in rows]

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "tokens": list(self.tokens), "pad": PAD, "unk_id": UNK_ID}
        if self.tokenizer_json is not None:
            d["tokenizer_json"] = self.tokenizer_json
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Vocab":
        return cls(tokens=list(d["tokens"]), kind=d.get("kind", "char"),
                   tokenizer_json=d.get("tokenizer_json"))


def char_vocab_from_counts(counts: np.ndarray, max_vocab: int = 2048) -> Vocab:
    """Vocabulary from a code point histogram (counts[c] = occurrences of chr(c))."""
    counts = np.asarray(counts)
    keys = np.flatnonzero(counts)
    top = _top_tokens(keys, counts[keys], max_vocab)
    return Vocab([UNK_TOKEN] + [chr(int(c)) for c in top], kind="char")


def char_counts(cps: np.ndarray) -> np.ndarray:
    """Histogram over code points of a uint32 array (length = max code point + 1)."""
    return np.bincount(cps.ravel())


def add_counts(total: np.ndarray | None, part: np.ndarray) -> np.ndarray:
    """Sum two histograms of possibly different lengths."""
    if total is None:
        return part.astype(np.int64)
    if part.size > total.size:
        total, part = part.astype(np.int64), total
    total[: part.size] += part
    return total


def build_char_vocab(lines: Sequence[str], seq_len: int, max_vocab: int = 2048) -> Vocab:
    """The paper's character vocabulary: lines cut and padded to seq_len, then counted."""
    return char_vocab_from_counts(char_counts(codepoints(lines, seq_len)), max_vocab)


def word_vocab_from_counts(counts: dict[str, int], max_vocab: int = 2048) -> Vocab:
    """Most frequent words (ties by the word's string order); '`' is the pad token."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: max(0, max_vocab - 1)]
    return Vocab([UNK_TOKEN] + [w for w, _ in items], kind="word")


def word_counts(lines: Sequence[str], seq_len: int) -> dict[str, int]:
    """Word counts of lines cut to seq_len words and padded with PAD tokens."""
    from collections import Counter
    counts: Counter = Counter()
    pads = 0
    for line in lines:
        words = line.split()[:seq_len]
        counts.update(words)
        pads += seq_len - len(words)
    if pads:
        counts[PAD] += pads
    return dict(counts)


def build_word_vocab(lines: Sequence[str], seq_len: int, max_vocab: int = 2048) -> Vocab:
    """Word-level vocabulary (whitespace split, as the original's tokenize option)."""
    return word_vocab_from_counts(word_counts(lines, seq_len), max_vocab)
