"""Encoding engines: text sources -> [N, seq_len] ids + Vocab, for the three token levels.

char (the paper): streamed in blocks of ~16 MB of whole lines.  Each block is
turned into a uint32 code point array in one C-level pass, counted with
np.bincount, and kept only as compact block-local ids (uint8 when the block
has <= 256 distinct characters) plus its small alphabet; once every block is
counted the vocabulary is fixed and each block is mapped into the final array
and freed.  Blocks are independent, so a process pool decodes them on all
cores; memory apart from the result stays about one block per process.

word: whitespace split (the original's tokenize option), seq_len counts words.
bpe: a byte-level BPE trained with `tokenizers`; its JSON travels in the Vocab.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

from textgan.data.text_io import Piece, decode_block, iter_piece_bytes, iter_piece_lines, warn_replaced
from textgan.data.vocab import (PAD, UNK_ID, UNK_TEXT, UNK_TOKEN, Vocab, char_vocab_from_counts,
                                codepoints, smallest_dtype, word_vocab_from_counts)
from textgan.errors import ConfigError

MAX_CODEPOINT = 0x110000
CHUNK_LINES = 1 << 17        # lines per block when encoding in-memory lines


def workers() -> int:
    """Processes for encoding: the usable cores, capped at 4 ($TEXTGAN_WORKERS overrides)."""
    env = os.environ.get("TEXTGAN_WORKERS")
    if env:
        return max(1, int(env))
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:
        n = os.cpu_count() or 1
    return max(1, min(n, 4))


# -- characters --------------------------------------------------------------
@dataclass
class CharPart:
    """One encoded block: block-local ids over a small sorted alphabet of code points."""
    local: np.ndarray       # [n, L] uint8/uint16 indices into alphabet
    alphabet: np.ndarray    # sorted uint32 code points present in the block
    counts: np.ndarray      # occurrences of each alphabet entry
    bad: int = 0            # invalid UTF-8 sequences replaced

    def __len__(self) -> int:
        return self.local.shape[0]

    def head(self, k: int) -> "CharPart":
        """The first k lines (counts recomputed so the vocabulary sees only kept lines)."""
        local = self.local[:k]
        counts = np.bincount(local.ravel(), minlength=self.alphabet.size)
        return CharPart(local, self.alphabet, counts, self.bad)


def char_part(lines: Sequence[str], seq_len: int, bad: int = 0) -> CharPart:
    return _part_of_codepoints(codepoints(lines, seq_len), bad)


def _part_of_codepoints(cps: np.ndarray, bad: int = 0) -> CharPart:
    hist = np.bincount(cps.ravel()) if cps.size else np.zeros(1, np.int64)
    alphabet = np.flatnonzero(hist).astype(np.uint32)
    lut = np.zeros(hist.size, smallest_dtype(alphabet.size))
    lut[alphabet] = np.arange(alphabet.size)
    return CharPart(lut[cps], alphabet, hist[alphabet], bad)


def block_codepoints(data: bytes, seq_len: int) -> tuple[np.ndarray, int]:
    """[n, seq_len] uint32 code points of a block of whole lines, and invalid UTF-8 count.

    Same result as decode_block + codepoints, but pure-ASCII lines (nearly all
    of English news) are cut and padded straight from the bytes with numpy;
    only lines holding a byte >= 0x80 are decoded in Python."""
    if b"\r" in data:                              # universal newlines: take the general path
        lines, bad = decode_block(data)
        return codepoints(lines, seq_len), bad
    arr = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(arr == 10)
    if not data.endswith(b"\n") and data:
        ends = np.append(ends, arr.size)
    n = ends.size
    if n == 0:
        return np.zeros((0, seq_len), np.uint32), 0
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lens = ends - starts
    cols = np.arange(seq_len)
    idx = np.minimum(starts[:, None] + cols, arr.size - 1)
    cps = np.where(cols < lens[:, None], arr[idx], ord(PAD)).astype(np.uint32)
    wide = np.flatnonzero(np.maximum.reduceat(arr, starts) >= 0x80)
    bad = 0
    if wide.size:
        lines = []
        for i in wide.tolist():
            raw = data[starts[i]:ends[i]]
            try:
                lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                text = raw.decode("utf-8", "replace")
                bad += text.count("\ufffd") - raw.count(b"\xef\xbf\xbd")
                lines.append(text)
        cps[wide] = codepoints(lines, seq_len)
    return cps, bad


def _encode_piece(piece: Piece, seq_len: int, max_lines: int) -> list[CharPart]:
    """Worker: the CharParts of one piece (at most max_lines lines)."""
    parts, left = [], max_lines
    if piece.fmt.startswith("jsonl"):
        for lines, bad in iter_piece_lines(piece):
            parts.append(char_part(lines[:left], seq_len, bad))
            left -= len(parts[-1])
            if left <= 0:
                break
        return parts
    for data in iter_piece_bytes(piece):
        cps, bad = block_codepoints(data, seq_len)
        parts.append(_part_of_codepoints(cps[:left], bad))
        left -= len(parts[-1])
        if left <= 0:
            break
    return parts


def _ordered_parts(pieces: Iterable[Piece], seq_len: int, max_lines: int,
                   n_workers: int) -> Iterator[CharPart]:
    """CharParts of pieces in order; pieces run ahead in a pool, a bounded window at a time."""
    it = iter(pieces)
    if n_workers <= 1:
        for piece in it:
            for p in _encode_piece(piece, seq_len, max_lines):
                if (yield p):
                    return
        return
    ctx = _mp_context()
    with ProcessPoolExecutor(n_workers, mp_context=ctx) as pool:
        window: deque = deque()
        for piece in it:
            window.append(pool.submit(_encode_piece, piece, seq_len, max_lines))
            if len(window) > n_workers:
                stop = yield from _drain_one(window)
                if stop:
                    break
        while window:
            yield from _drain_one(window)


def _mp_context():
    """fork on Linux (fast, and needs no importable __main__, like torch's DataLoader;
    the workers run only numpy and file reads), spawn elsewhere."""
    if sys.platform.startswith("linux"):
        return mp.get_context("fork")
    return mp.get_context("spawn")


def _drain_one(window: deque):
    parts = window.popleft().result()
    for p in parts:
        sent = yield p
        if sent:                      # consumer has enough lines: cancel what is queued
            for f in window:
                f.cancel()
            window.clear()
            return True
    return False


class _RowBuffer:
    """Growable [capacity, L] array of block-local ids; widened to uint16 when a block needs it.

    Capacity starts at an upper bound on the line count when one is known (np.empty
    pages are not resident until written), so no copy is made in the usual case."""

    def __init__(self, capacity: int, seq_len: int):
        self.arr = np.empty((max(1, capacity), seq_len), np.uint8)
        self.n = 0

    def append(self, local: np.ndarray, limit: int) -> None:
        k = local.shape[0]
        dtype = np.promote_types(self.arr.dtype, local.dtype)
        if self.n + k > self.arr.shape[0] or dtype != self.arr.dtype:
            cap = self.arr.shape[0]
            if self.n + k > cap:
                cap = min(limit, max(2 * cap, self.n + k))
            grown = np.empty((cap, self.arr.shape[1]), dtype)
            grown[: self.n] = self.arr[: self.n]
            self.arr = grown
        self.arr[self.n:self.n + k] = local
        self.n += k


def encode_char(parts: Iterable[CharPart], seq_len: int, max_lines: int, max_vocab: int,
                what: str = "corpus", progress=None, capacity: int | None = None
                ) -> tuple[np.ndarray, Vocab]:
    """Counts every part, fixes the vocabulary, then maps block-local ids to final ids in place."""
    buf = _RowBuffer(min(max_lines, capacity or CHUNK_LINES), seq_len)
    segments: list[tuple[int, int, np.ndarray]] = []   # (first row, rows, alphabet)
    total = np.zeros(MAX_CODEPOINT, np.int64)
    bad = 0
    gen = iter(parts)
    for part in gen:
        if buf.n + len(part) > max_lines:
            part = part.head(max_lines - buf.n)
        segments.append((buf.n, len(part), part.alphabet))
        buf.append(part.local, max_lines)
        total[part.alphabet] += part.counts
        bad += part.bad
        if progress is not None:
            progress.update(len(part))
        if buf.n >= max_lines:
            if hasattr(gen, "send"):            # tell the reader to stop and cancel queued work
                try:
                    gen.send(True)
                except StopIteration:
                    pass
                gen.close()
            break
    warn_replaced(bad, what)
    vocab = char_vocab_from_counts(total, max_vocab)
    local = buf.arr
    out = local if local.dtype == vocab.dtype else np.empty((buf.n, seq_len), vocab.dtype)
    for row, k, alphabet in segments:
        out[row:row + k] = vocab.map_codepoints(alphabet)[local[row:row + k]]
    return out[: buf.n], vocab


def char_parts_of_pieces(pieces: Iterable[Piece], seq_len: int, max_lines: int,
                         n_workers: int | None = None) -> Iterator[CharPart]:
    return _ordered_parts(pieces, seq_len, max_lines, workers() if n_workers is None else n_workers)


def char_parts_of_lines(lines: Sequence[str], seq_len: int) -> Iterator[CharPart]:
    for i in range(0, len(lines), CHUNK_LINES):
        yield char_part(lines[i:i + CHUNK_LINES], seq_len)


# -- words -------------------------------------------------------------------
def encode_word(blocks: Iterable[list[str]], seq_len: int, max_lines: int, max_vocab: int,
                progress=None) -> tuple[np.ndarray, Vocab]:
    """Word ids: provisional ids by first appearance, counted, then mapped to the vocabulary."""
    prov: dict[str, int] = {}
    counts = np.zeros(0, np.int64)
    pads, n = 0, 0
    parts: list[np.ndarray] = []
    for lines in blocks:
        lines = lines[: max_lines - n]
        rows = [line.split()[:seq_len] for line in lines]
        lens = np.fromiter(map(len, rows), np.int64, len(rows))
        flat = [w for r in rows for w in r]
        ids = np.fromiter((prov.setdefault(w, len(prov)) for w in flat), np.int64, len(flat))
        block = np.full((len(rows), seq_len), -1, np.int64)
        block[np.arange(seq_len) < lens[:, None]] = ids
        parts.append(block.astype(np.int32))
        c = np.bincount(ids, minlength=len(prov))
        counts = np.concatenate([counts, np.zeros(len(prov) - counts.size, np.int64)]) + c
        pads += int(len(rows) * seq_len - len(flat))
        n += len(rows)
        if progress is not None:
            progress.update(len(rows))
        if n >= max_lines:
            break
    words = list(prov)
    table = {w: int(counts[i]) for i, w in enumerate(words)}
    if pads:
        table[PAD] = table.get(PAD, 0) + pads
    vocab = word_vocab_from_counts(table, max_vocab)
    lut = np.zeros(len(words) + 1, vocab.dtype)         # last slot: padding marker -1
    index = {t: i for i, t in enumerate(vocab.tokens) if i != UNK_ID}
    lut[:-1] = [index.get(w, UNK_ID) for w in words]
    lut[-1] = vocab.pad_id
    out = np.empty((n, seq_len), vocab.dtype)
    row = 0
    while parts:
        p = parts.pop(0)
        out[row:row + len(p)] = lut[p]                 # -1 indexes the last slot
        row += len(p)
    return out, vocab


# -- byte-level BPE ----------------------------------------------------------
MIN_BPE_VOCAB = 260          # 256 byte symbols + the two special tokens + a few merges


def train_bpe(lines: Iterable[str], vocab_size: int) -> Vocab:
    """Byte-level BPE (no unknown bytes); id 0 = <unk>, id 1 = the pad token '`'."""
    if vocab_size < MIN_BPE_VOCAB:
        raise ConfigError(f"bpe_vocab_size must be at least {MIN_BPE_VOCAB} (256 byte symbols + specials)")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE(unk_token=UNK_TOKEN))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[UNK_TOKEN, PAD],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(lines, trainer=trainer)
    tokens = [tok.id_to_token(i) for i in range(tok.get_vocab_size())]
    return Vocab(tokens, kind="bpe", tokenizer_json=tok.to_str())


def _tokenizer(vocab: Vocab):
    if vocab._tok is None:
        from tokenizers import Tokenizer
        vocab._tok = Tokenizer.from_str(vocab.tokenizer_json)
    return vocab._tok


def bpe_encode(vocab: Vocab, lines: Sequence[str], seq_len: int) -> np.ndarray:
    out = np.full((len(lines), seq_len), vocab.pad_id, vocab.dtype)
    for r, enc in enumerate(_tokenizer(vocab).encode_batch(list(lines), add_special_tokens=False)):
        ids = enc.ids[:seq_len]
        out[r, : len(ids)] = ids
    return out


def bpe_decode(vocab: Vocab, ids: np.ndarray) -> list[str]:
    tok = _tokenizer(vocab)
    out = []
    for row in ids.tolist():
        while row and row[-1] == vocab.pad_id:
            row.pop()
        segments, cur = [], []
        for i in row + [UNK_ID]:
            if i == UNK_ID:
                segments.append(tok.decode(cur, skip_special_tokens=False) if cur else "")
                cur = []
            else:
                cur.append(i)
        out.append(UNK_TEXT.join(segments))
    return out


def encode_bpe(blocks: Iterable[list[str]], vocab: Vocab, seq_len: int, max_lines: int,
               progress=None) -> np.ndarray:
    parts, n = [], 0
    for lines in blocks:
        lines = lines[: max_lines - n]
        parts.append(bpe_encode(vocab, lines, seq_len))
        n += len(lines)
        if progress is not None:
            progress.update(len(lines))
        if n >= max_lines:
            break
    return np.concatenate(parts) if parts else np.zeros((0, seq_len), vocab.dtype)
