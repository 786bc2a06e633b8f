"""Corpora by name or path -> EncodedCorpus (ids [N, L] + Vocab + held-out split).

Names: `synthetic` (built-in grammar, no files), `billion-words` (official
layout under --data-dir), `hf:NAME[:CONFIG[:SPLIT[:FIELD]]]`; anything else is
a PATH: a text file, `.txt.gz`, `.jsonl` (`PATH.jsonl:FIELD`, field `text` by
default) or a directory of such files read in sorted order, recursively.

Held-out split: billion-words reads its own held-out shards (first
HELDOUT_LINES lines of news.en.heldout-00000-of-00050, 00001, ...).  Every
other corpus holds out a seeded random 1% of its lines (numpy
default_rng(0)), at least min(640, N/10) so that a real-data floor of 640
lines (the evaluation's sample size) exists, at most 10,000, none when under
100 lines; those lines are removed from the training ids.  The vocabulary is built from all lines read.
"""
from __future__ import annotations

import bisect
import mmap
import os
import sys
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from textgan.data import billion_words as bw
from textgan.data import cache, hf
from textgan.data.text_io import (BLOCK_BYTES, Piece, decode_block, file_format, iter_piece_lines,
                                  read_source_lines, sniff, split_file, warn_replaced)
from textgan.data.vocab import Vocab
from textgan.errors import CorpusError

HELDOUT_FRACTION = 0.01
HELDOUT_MAX = 10_000
HELDOUT_MIN = 640      # one evaluation's worth of lines, for a comparable real-data floor
HELDOUT_SEED = 0
TEXT_SUFFIXES = (".txt", ".text", ".txt.gz", ".jsonl", ".jsonl.gz")
NAMED = {
    "synthetic": "built-in probabilistic grammar of short news-style sentences (no files)",
    "billion-words": "One Billion Word benchmark, training shards 00001-00099 (Chelba et al. 2013)",
    "emnlp-news": "EMNLP2017 WMT News sentences (Texygen), read from <data-dir>/emnlp-news/",
    "image-coco": "MS-COCO captions (Texygen), read from <data-dir>/image-coco/",
}
LOCAL_NAMED = ("emnlp-news", "image-coco")     # no official archive: the user places the files


def _cards_dir() -> Path:
    """corpora/ of the checkout (editable install), else the copy a wheel installs under
    <prefix>/share/textgan/corpora (pyproject's data-files)."""
    checkout = Path(__file__).resolve().parents[2] / "corpora"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "textgan" / "corpora"


CARDS_DIR = _cards_dir()


@dataclass
class EncodedCorpus:
    name: str
    ids: np.ndarray                      # [N, L] uint8 / uint16 / int32
    vocab: Vocab
    heldout: np.ndarray | None = None    # [M, L], same vocabulary
    source: str = ""                     # human description
    cache_path: str | None = field(default=None, repr=False)

    @property
    def seq_len(self) -> int:
        return int(self.ids.shape[1])

    def __len__(self) -> int:
        return int(self.ids.shape[0])


@dataclass
class Source:
    """What a corpus spec resolved to: files to stream, or lines made in memory."""
    name: str
    description: str
    pieces: Callable[[], Iterable[Piece]] | None = None    # files, split into pieces lazily
    lines: Callable[[], list[str]] | None = None            # in-memory corpora
    heldout_pieces: list[Piece] | None = None                # billion-words
    key: dict = field(default_factory=dict)                  # identity for the cache
    total_bytes: int = 0                                     # size of the files (pool or not)
    line_bound: int | None = None                            # most lines the files can hold
    files: list[tuple[str, str, str]] | None = None          # (path, format, field) of file corpora


# -- resolving a spec --------------------------------------------------------
def _file_pieces(files: list[tuple[str, str, str]]) -> Iterator[Piece]:
    for path, fmt, fld in files:
        sniff(path, fmt)
        yield from split_file(path, fmt, fld, BLOCK_BYTES)


def _path_files(corpus: str) -> tuple[list[tuple[str, str, str]], str] | None:
    """[(path, format, field)] for a PATH spec, or None when it is not a path."""
    path, fld = corpus, "text"
    if not os.path.exists(path) and ":" in corpus:
        head, tail = corpus.rsplit(":", 1)
        if file_format(head).startswith("jsonl") and os.path.exists(head):
            path, fld = head, tail
    p = Path(path).expanduser()
    if p.is_file():
        return [(str(p), file_format(str(p)), fld)], str(p)
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*")
                       if f.is_file() and f.name.lower().endswith(TEXT_SUFFIXES)
                       and not any(part.startswith(".") for part in f.relative_to(p).parts))
        if not files:
            raise CorpusError(f"no text files ({', '.join(TEXT_SUFFIXES)}) in directory {p}")
        return [(f, file_format(f), fld) for f in files], f"{p} ({len(files)} files)"
    return None


def _looks_like_path(corpus: str) -> bool:
    return os.sep in corpus or corpus.startswith(".") or "." in Path(corpus).name


def resolve(data, *, interactive: bool = False, progress: bool = True) -> Source:
    corpus = str(data.corpus)
    if corpus == "synthetic":
        from textgan.data import synthetic
        n = min(data.max_lines, synthetic.DEFAULT_LINES)
        mod = cache.file_fingerprint([synthetic.__file__])
        return Source("synthetic", f"synthetic grammar, {n} lines (seed 0)",
                      lines=lambda: synthetic.generate_lines(n, seed=0),
                      key={"synthetic": mod, "n": n})
    if corpus == bw.NAME:
        root = bw.ensure(data.data_dir, download=data.download, interactive=interactive,
                         progress=progress)
        shards = bw.train_shards(root)
        held = bw.heldout_shards(root)
        files = [(str(s), "txt", "text") for s in shards]
        return Source(bw.NAME, f"Billion Word at {root}",
                      pieces=lambda: _file_pieces(files),
                      heldout_pieces=[Piece(str(h), "txt") for h in held],
                      key={"files": cache.file_fingerprint(shards + held)},
                      total_bytes=sum(s.stat().st_size for s in shards),
                      line_bound=sum(s.stat().st_size + 1 for s in shards), files=files)
    if corpus in LOCAL_NAMED:
        where = (Path(data.data_dir).expanduser() if data.data_dir else cache.default_data_dir()) / corpus
        if not where.is_dir():
            raise CorpusError(f"{corpus} not found: put its text files in {where} (see "
                              f"`textgan corpora show {corpus}` for where they live) or pass --data-dir")
        corpus = str(where)
    if hf.is_hf(corpus):
        spec = hf.parse(corpus)
        ds = hf.load(spec)
        return Source(corpus, spec.describe(), lines=lambda: hf.lines(ds, spec, data.max_lines),
                      key={"hf": [spec.name, spec.config, spec.split, spec.field],
                           "fingerprint": hf.fingerprint(ds)})
    found = _path_files(corpus)
    if found is None:
        if _looks_like_path(corpus):
            raise CorpusError(f"corpus path not found: {corpus}")
        raise CorpusError(f"unknown corpus {corpus!r}: use a file or directory path, hf:NAME, "
                          f"or one of: {', '.join(NAMED)}")
    files, desc = found
    prints = cache.file_fingerprint([f for f, _, _ in files])
    return Source(corpus, desc, pieces=lambda: _file_pieces(files),
                  key={"files": prints, "fields": [f for _, _, f in files]},
                  total_bytes=sum(size for _, size, _ in prints),
                  # every line but a file's last ends in a newline byte (gzip: unknown)
                  line_bound=None if any(fmt.endswith("gz") for _, fmt, _ in files)
                  else sum(size + 1 for _, size, _ in prints), files=files)


# -- held-out rows -----------------------------------------------------------
def heldout_rows(n: int) -> np.ndarray:
    """Sorted row indices of the seeded held-out split of an n-line corpus."""
    if n < 100:
        return np.zeros(0, np.int64)
    m = min(HELDOUT_MAX, max(int(n * HELDOUT_FRACTION), min(HELDOUT_MIN, n // 10)))
    if m <= 0:
        return np.zeros(0, np.int64)
    return np.sort(np.random.default_rng(HELDOUT_SEED).choice(n, m, replace=False))


def split_rows(ids: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(train, heldout): rows moved out; train compacted in place (no second full copy)."""
    held = ids[rows].copy()
    dst = int(rows[0]) if rows.size else ids.shape[0]
    bounds = list(rows[1:]) + [ids.shape[0]]
    for r, nxt in zip(rows, bounds):
        src, end = int(r) + 1, int(nxt)
        ids[dst:dst + end - src] = ids[src:end]
        dst += end - src
    return ids[:dst], held


# -- reading lines -------------------------------------------------------------
def _line_blocks(src: Source) -> Iterator[list[str]]:
    if src.lines is not None:
        yield src.lines()
        return
    bad = 0
    for piece in src.pieces():
        for lines, b in iter_piece_lines(piece):
            bad += b
            yield lines
    warn_replaced(bad, src.description)


def _limited_blocks(src: Source, max_lines: int) -> Iterator[list[str]]:
    left = max_lines
    for block in _line_blocks(src):
        yield block[:left]
        left -= min(left, len(block))
        if left <= 0:
            return


def _all_lines(src: Source, max_lines: int) -> list[str]:
    if src.lines is not None:
        return src.lines()[:max_lines]
    return read_source_lines(src.pieces(), max_lines, src.description)


def corpus_lines(data, *, progress: bool = True, interactive: bool = False,
                 split: str = "all") -> list[str]:
    """Raw text lines of a corpus (no cutting, no vocabulary), up to data.max_lines.

    split: "all" (every line read, as the reference reads the file), "train"
    (without the held-out lines) or "heldout".
    """
    if split not in ("all", "train", "heldout"):
        raise ValueError(f"split must be all, train or heldout, not {split!r}")
    src = resolve(data, interactive=interactive, progress=progress)
    if split == "heldout" and src.heldout_pieces is not None:
        return read_source_lines(src.heldout_pieces, bw.HELDOUT_LINES, "held-out shards")
    lines = _all_lines(src, data.max_lines)
    if not lines:
        raise CorpusError(f"corpus {src.description} has no lines")
    if split == "all" or src.heldout_pieces is not None:
        return lines
    rows = heldout_rows(len(lines))
    if split == "heldout":
        return [lines[i] for i in rows]
    drop = set(rows.tolist())
    return [line for i, line in enumerate(lines) if i not in drop]


class CorpusText(SequenceABC):
    """A corpus's raw lines (`corpus_lines`, split "all"), read once: `ids`, the character ids
    of every line cut/padded to seq_len (the values of `tokens.char_ids` of the lines), and
    the lines themselves as a sequence.  Plain text files are scanned as bytes and a line is
    decoded only when asked for, so a million-line corpus costs no million Python strings."""

    def __init__(self, ids: np.ndarray, lines: list[str] | None = None,
                 spans: list[tuple[bytes | mmap.mmap, np.ndarray, np.ndarray]] | None = None):
        self.ids = ids
        self._lines = lines
        self._spans = spans or []                 # per file: its bytes and its lines' spans
        self._first = np.cumsum([0] + [len(s) for _, s, _ in self._spans]).tolist()  # first row per file

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __getitem__(self, i: int) -> str:
        if self._lines is not None:
            return self._lines[i]
        if not -len(self) <= i < len(self):
            raise IndexError("corpus line index out of range")
        i %= len(self)
        f = bisect.bisect_right(self._first, i) - 1
        data, starts, ends = self._spans[f]
        j = i - self._first[f]
        return data[int(starts[j]):int(ends[j])].decode("utf-8", errors="replace")


def corpus_text(data, seq_len: int, *, interactive: bool = False) -> CorpusText:
    """`corpus_lines(data)` and their char ids in one read (eval-lm's corpus side)."""
    from textgan.metrics.tokens import char_ids

    src = resolve(data, interactive=interactive, progress=False)
    if src.files is None or any(fmt != "txt" for _, fmt, _ in src.files):
        lines = _all_lines(src, data.max_lines)
        text = CorpusText(char_ids(lines, seq_len), lines=lines)
    else:
        text = _text_files(src, seq_len, data.max_lines)
    if not len(text):
        raise CorpusError(f"corpus {src.description} has no lines")
    return text


def _text_files(src: Source, seq_len: int, max_lines: int) -> CorpusText:
    """Plain text files as bytes: line spans and char ids vectorised (`tokens.line_spans`), the
    invalid UTF-8 sequences counted for the same warning as `corpus_lines` gives."""
    from textgan.metrics.tokens import _positions, line_spans, spans_char_ids

    parts, spans, bad, left = [], [], 0, max_lines
    for path, _, _ in src.files:
        if left <= 0:
            break
        sniff(path, "txt")
        with open(path, "rb") as f:
            try:   # mapped, not copied; the map stays open for the lines decoded later
                raw: bytes | mmap.mmap = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (ValueError, OSError):   # an empty file
                raw = f.read()
        raw, starts, ends = line_spans(raw, left)
        left -= len(starts)
        parts.append(spans_char_ids(raw, starts, ends, seq_len))
        spans.append((raw, starts, ends))
        # Only lines with a non-ASCII byte can hold an invalid sequence: decode just those.
        used = int(ends[-1]) if len(ends) else 0
        high = _positions(np.frombuffer(raw, np.uint8, count=used),
                          lambda x, out: np.greater_equal(x, 128, out=out))
        rows = np.unique(np.searchsorted(starts, high, side="right") - 1)
        bad += decode_block(b"\n".join(raw[starts[r]:ends[r]] for r in rows.tolist()))[1]
    warn_replaced(bad, src.description)
    ids = np.concatenate(parts) if parts else np.zeros((0, seq_len), np.uint8)
    return CorpusText(ids, spans=spans)


# -- encoding ------------------------------------------------------------------
def _progress_bar(enabled: bool, desc: str):
    from textgan.progress import data_bar
    return data_bar(desc=desc, unit=" lines", enabled=enabled, unit_scale=True, leave=False)


def _encode(src: Source, data, seq_len: int, progress: bool) -> tuple[np.ndarray, Vocab]:
    from textgan.data import tokenize as tk
    kind = data.tokens
    if kind not in ("char", "word", "bpe"):
        from textgan.errors import ConfigError
        raise ConfigError(f"tokens must be char, word or bpe, not {kind!r}")
    with _progress_bar(progress, f"encoding {src.name}") as bar:
        if kind == "char":
            # a pool pays off only when there are several blocks to spread over the cores
            n_workers = tk.workers() if src.total_bytes > 2 * BLOCK_BYTES else 1
            if src.lines is not None:
                lines = src.lines()[: data.max_lines]
                parts, bound = tk.char_parts_of_lines(lines, seq_len), len(lines)
            else:
                parts = tk.char_parts_of_pieces(src.pieces(), seq_len, data.max_lines, n_workers)
                bound = src.line_bound
            return tk.encode_char(parts, seq_len, data.max_lines, data.max_vocab,
                                  src.description, bar, capacity=bound)
        if kind == "word":
            return tk.encode_word(_line_blocks(src), seq_len, data.max_lines, data.max_vocab, bar)
        # two streamed passes: train the BPE on the text, then encode it block by block
        vocab = tk.train_bpe((line for block in _limited_blocks(src, data.max_lines) for line in block),
                             data.bpe_vocab_size)
        return tk.encode_bpe(_limited_blocks(src, data.max_lines), vocab, seq_len, data.max_lines,
                             bar), vocab


def _settings(src: Source, data, seq_len: int) -> dict:
    s = {"corpus": src.name, "source": src.key, "tokens": data.tokens, "seq_len": seq_len,
         "max_lines": data.max_lines, "max_vocab": data.max_vocab,
         "heldout": [HELDOUT_FRACTION, HELDOUT_MAX, HELDOUT_SEED, bw.HELDOUT_LINES]}
    if data.tokens == "bpe":
        s["bpe_vocab_size"] = data.bpe_vocab_size
    return s


def load_corpus(data, seq_len: int, *, progress: bool = True,
                interactive: bool = False) -> EncodedCorpus:
    """The encoded corpus (from the cache when its sources are unchanged)."""
    src = resolve(data, interactive=interactive, progress=progress)
    key = cache.cache_key(_settings(src, data, seq_len))
    if cache.cache_enabled():
        hit = cache.load(key)
        if hit is not None:
            ids, held, meta = hit
            return EncodedCorpus(src.name, ids, Vocab.from_dict(meta["vocab"]), held,
                                 meta.get("source", src.description),
                                 str(cache.cache_dir() / key))
    ids, vocab = _encode(src, data, seq_len, progress)
    if ids.shape[0] == 0:
        raise CorpusError(f"corpus {src.description} has no lines")
    if src.heldout_pieces is not None:
        lines = read_source_lines(src.heldout_pieces, bw.HELDOUT_LINES, "held-out shards")
        held = vocab.encode_lines(lines, seq_len) if lines else None
    else:
        rows = heldout_rows(ids.shape[0])
        held = None
        if rows.size:
            ids, held = split_rows(ids, rows)
    path = None
    if cache.cache_enabled():
        meta = {"name": src.name, "source": src.description, "vocab": vocab.to_dict(),
                "shape": list(ids.shape)}
        stored = cache.store(key, ids, held, meta)
        path = str(stored) if stored else None
    return EncodedCorpus(src.name, ids, vocab, held, src.description, path)


# -- the `corpora` command -------------------------------------------------------
def _card_text(name: str) -> str | None:
    path = CARDS_DIR / f"{name}.md"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _summary(name: str) -> str:
    text = _card_text(name) or ""
    for line in text.splitlines():
        if line.startswith("summary:"):
            return line.split(":", 1)[1].strip()
    return NAMED[name]


def _available(name: str, data_dir: str | None = None) -> bool:
    if name == "synthetic":
        return True
    if name == bw.NAME:
        return bw.find_root(data_dir) is not None
    base = Path(data_dir).expanduser() if data_dir else cache.default_data_dir()
    return (base / name).is_dir()


def list_corpora(data_dir: str | None = None) -> list[dict]:
    """One dict per named corpus: name, summary, available (files present), card path."""
    out = []
    for name in NAMED:
        card = CARDS_DIR / f"{name}.md"
        out.append({"name": name, "summary": _summary(name), "available": _available(name, data_dir),
                    "card": str(card) if card.is_file() else None})
    return out


def show_corpus(name: str) -> str:
    """The corpus card (Markdown), or a CorpusError for an unknown name."""
    if name not in NAMED:
        raise CorpusError(f"unknown corpus {name!r}: choose one of {', '.join(NAMED)}")
    return _card_text(name) or f"{name}: {NAMED[name]}"


def prepare_corpus(data, seq_len: int, *, progress: bool = True, interactive: bool = False) -> str:
    """Download (when data.download) and encode a corpus into the cache; a one-line summary."""
    c = load_corpus(data, seq_len, progress=progress, interactive=interactive)
    held = 0 if c.heldout is None else int(c.heldout.shape[0])
    where = f"; cached in {c.cache_path}" if c.cache_path else ""
    return (f"{c.name}: {len(c):,} training lines + {held:,} held-out lines of {seq_len} "
            f"{data.tokens} tokens, vocabulary {len(c.vocab)} ({c.ids.dtype}){where}")
