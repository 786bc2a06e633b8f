"""Exact n-gram statistics on encoded integer arrays [N, L], for any n.

An array row is one line of token ids (characters as code points or vocabulary
ids, or word ids).  Negative ids mark *absent* positions (unpadded word lines):
a window that touches one is not an n-gram.  Every window of n consecutive
present tokens is an n-gram, padding included: for characters this is the
paper's evaluation (lines cut/padded to seq_len with '`', the pad n-grams count).

How n-grams are counted without Python tuples: order by order, each k-gram gets
a *dense id* in [0, U_k) (U_k = number of distinct k-grams of the corpus), and a
(k+1)-gram is packed as ``dense_k(prefix) * base + symbol(next)`` with
``base`` = number of distinct symbols.  Because the prefix is re-densified after
every extension, codes stay below U_k * base < 2**63 for any n (a plain
``base**n`` code would overflow int64 for word 4-grams or character 6-grams).
Codes are counted with ``np.bincount`` while the code space is at most
``DENSE_LIMIT`` and a few bins per corpus token (then a lookup table maps code ->
dense id), and by sorting (``np.unique`` per chunk, merged) beyond it (then
``np.searchsorted``); both give the same statistics.
The corpus is processed in row chunks, so peak memory is bounded by the chunk
size and the tables, not by N * L.

Fast path (max_n = 4, no absent positions, ids that are small or mostly small: the
paper's character evaluation and the in-training vocabulary ids): one pass over the
corpus instead of one per order.  Bigrams get ids in order of falling frequency in a
sample of rows, so that frequent 4-grams fall into the low corner of the counting
table and most updates stay in the cache (a bigram the sample lacks gets the next id
where it first appears); the table counts each 4-gram as (id of its first bigram, id
of its last) and each row's last trigram as (id of its bigram, symbol); orders 1-3
follow from it as marginals; the bigram ids are then renumbered by falling corpus
frequency, ties by code (the levels' layout, whatever the sample).  Codes
are computed on flat, cache-sized chunks in reused buffers (fresh large arrays cost
page faults) and counted with ``np.add.at``; a window that crosses a row boundary
counts into a trash cell.  Levels 1-4 hold exactly the counts of the general path;
only their code layout differs (`_Level.split` / `mult`), which `lookup` follows.
"""
from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from textgan.metrics.js import js_bits

DENSE_LIMIT = 1 << 26      # code spaces up to 64M are counted with np.bincount; beyond, by sorting
DENSE_PER_TOKEN = 8        # ... and only up to 8 bins per corpus token (tables sized to the space
DENSE_FLOOR = 1 << 16      #     cost more than sorting a few codes), at least 64K bins
RAW_LIMIT = 1 << 22        # extend raw codes while the next space stays this small (cache-friendly)
CHUNK_ELEMENTS = 1 << 20   # tokens per corpus chunk: small, reused temporaries (fresh big arrays page-fault)
BUFFER_ELEMENTS = 1 << 24  # codes gathered before one bincount / sort
FAST_CHUNK_ELEMENTS = 1 << 15   # fast path: tokens per chunk, so its buffers stay in the L2 cache
FAST_LOW = 256             # fast path on large ids: ids below this are their own symbol code
FAST_SAMPLE_ROWS = 1 << 15  # fast path: rows sampled to order the bigram ids by frequency
UNSEEN = -1                # id of an n-gram (or symbol) that the corpus does not contain
ABSENT = -2                # no n-gram at this window (it touches an absent position)


@dataclass
class _Level:
    """The corpus n-grams of one order: their codes (sorted) and counts.

    A k-gram's code is ``ext(prefix (k-1)-gram) * base + symbol``, where ``ext`` is the
    prefix's raw code, or, for a `dense` level, its position in `keys` (re-densified
    so that the next order's codes stay small; done when space * base > RAW_LIMIT).
    The fast path's levels may pack differently (`split`, `mult`; see `lookup`).
    """
    space: int                      # codes lie in [0, space)
    keys: np.ndarray                # int64 [U] codes present in the corpus (sorted where no lut)
    counts: np.ndarray              # int64 [U] their corpus counts
    dense: bool = False             # the next order extends positions, not raw codes
    lut: np.ndarray | None = None   # int [space] code -> position or UNSEEN (dense levels that fit)
    reduced: bool = False           # counts were lowered by `subtract`: count 0 means unseen
    split: int = 0                  # fast path: code = ext(first `split`-gram) * mult + ext(the rest)
    mult: int = 0                   # (0: the default split k-1 + 1 symbol, mult = base)

    def pos(self, codes: np.ndarray) -> np.ndarray:
        """Positions in `keys` (int64) of valid codes; UNSEEN for codes the corpus lacks."""
        if self.lut is not None:
            d = self.lut[codes].astype(np.int64)
        elif len(self.keys) == 0:
            return np.full(codes.shape, UNSEEN, dtype=np.int64)
        else:
            idx = np.minimum(np.searchsorted(self.keys, codes), len(self.keys) - 1)
            d = np.where(self.keys[idx] == codes, idx, UNSEEN)
        if self.reduced:
            d = np.where((d >= 0) & (self.counts[np.maximum(d, 0)] > 0), d, UNSEEN)
        return d

    def with_sentinels(self, codes: np.ndarray) -> np.ndarray:
        """Positions where codes >= 0, the sentinel (negative) elsewhere."""
        if codes.min(initial=0) >= 0:
            return self.pos(codes)
        out = codes.copy()
        ok = codes >= 0
        out[ok] = self.pos(codes[ok])
        return out


class _Counter:
    """Accumulates the counts of valid codes over chunks: bincount (code spaces up to
    `dense_limit`) or sorting, run on a reused buffer of BUFFER_ELEMENTS codes rather
    than per small chunk.  Both give the same keys and counts."""

    def __init__(self, space: int, dense_limit: int = DENSE_LIMIT):
        self.space = space
        self.bincount = space <= dense_limit
        self.total: np.ndarray | None = None
        self.parts: list[tuple[np.ndarray, np.ndarray]] = []
        self.buf = np.empty(0, np.int64)
        self.used = 0

    def add(self, codes: np.ndarray) -> None:
        codes = codes.ravel()
        if self.used + codes.size > len(self.buf):
            self.flush()
            if codes.size > len(self.buf):
                self.buf = np.empty(max(codes.size, BUFFER_ELEMENTS), np.int64)
        self.buf[self.used:self.used + codes.size] = codes
        self.used += codes.size

    def flush(self) -> None:
        codes, self.used = self.buf[:self.used], 0
        if codes.size == 0:
            return
        if self.bincount:
            c = np.bincount(codes, minlength=self.space)
            if self.total is None:
                self.total = c
            else:
                self.total += c
        else:
            self.parts.append(np.unique(codes, return_counts=True))

    def level(self, dense: bool) -> _Level:
        self.flush()
        self.buf = np.empty(0, np.int64)
        if self.bincount:
            total = self.total if self.total is not None else np.zeros(self.space, np.int64)
            keys = np.flatnonzero(total).astype(np.int64)
            counts = total[keys].astype(np.int64)
            lut = None
            if dense:
                lut = np.full(self.space, UNSEEN, dtype=np.int32)
                lut[keys] = np.arange(len(keys), dtype=np.int32)
            return _Level(self.space, keys, counts, dense, lut)
        if not self.parts:
            return _Level(self.space, np.zeros(0, np.int64), np.zeros(0, np.int64), dense)
        keys = np.concatenate([k for k, _ in self.parts])
        cnts = np.concatenate([c for _, c in self.parts]).astype(np.int64)
        if len(self.parts) > 1:   # merge the chunks: sort once, add the counts of equal keys
            order = np.argsort(keys, kind="stable")
            keys, cnts = keys[order], cnts[order]
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            keys, cnts = keys[starts], np.add.reduceat(cnts, starts)
        return _Level(self.space, keys.astype(np.int64), cnts, dense)


def _extend(prev: np.ndarray, sym: np.ndarray, k: int, base: int) -> np.ndarray:
    """k-gram codes [R, L-k+1] from (k-1)-gram ext ids [R, L-k+2] and symbols [R, L].
    Windows touching a negative (ABSENT / UNSEEN) get that sentinel; ABSENT wins."""
    return _combine(prev[:, :-1], sym[:, k - 1:], base)


def _combine(left: np.ndarray, right: np.ndarray, mult: int) -> np.ndarray:
    """Codes left * mult + right of aligned windows; a negative part's sentinel propagates."""
    codes = left * mult + right
    if left.min(initial=0) < 0 or right.min(initial=0) < 0:
        bad = (left < 0) | (right < 0)
        codes[bad] = np.minimum(left, right)[bad]
    return codes


def _regrid(table: np.ndarray, size: int, grown: int, extra: int) -> np.ndarray:
    """The fast build's flat table, [size, size + extra] and a trash cell, as [grown, grown + extra]."""
    old = table[:-1].reshape(size, size + extra)
    out = np.zeros(grown * (grown + extra) + 1, table.dtype)
    grid = out[:-1].reshape(grown, grown + extra)
    grid[:size, :size] = old[:, :size]
    grid[:size, grown:] = old[:, size:]
    return out


def _sorted_keys(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    return keys[order], counts[order]


class NgramReference:
    """Corpus n-gram statistics (orders 1..max_n), built once and queried many times.

    corpus_ids: [N, L] integer array (any int dtype; may be a memmap); negative = absent.
    Sample arrays given to the queries may hold ids the corpus never used: those
    symbols, and every n-gram containing them, are simply unseen.
    """

    def __init__(self, corpus_ids: np.ndarray, max_n: int = 4, *, chunk_elements: int = CHUNK_ELEMENTS,
                 fast: bool = True):
        if corpus_ids.ndim != 2:
            raise ValueError(f"corpus ids must be a 2-D array [N, L], got shape {corpus_ids.shape}")
        if max_n < 1:
            raise ValueError(f"max_n must be >= 1, got {max_n}")
        self.max_n = max_n
        self.num_lines, self.seq_len = corpus_ids.shape
        self._rows = max(1, chunk_elements // max(1, self.seq_len))
        if not (fast and self._build_fast(corpus_ids)):
            self._build_general(corpus_ids)

    def _alphabet(self, ids: np.ndarray) -> np.ndarray:
        """Counts of every raw id 0..max (negatives skipped); sets the raw id -> symbol table."""
        raw = np.zeros(int(ids.max(initial=0)) + 1 if ids.size else 1, dtype=np.int64)
        for c in self._chunks(ids):
            c = c.ravel()
            raw += np.bincount(c[c >= 0] if c.min(initial=0) < 0 else c, minlength=len(raw))
        present = np.flatnonzero(raw)
        self._alpha = np.full(len(raw), UNSEEN, dtype=np.int64)
        self._alpha[present] = np.arange(len(present), dtype=np.int64)
        self.base = max(1, len(present))
        return raw

    def _build_general(self, ids: np.ndarray) -> None:
        max_n = self.max_n
        # Order 1 = the alphabet: raw id -> dense symbol, a lookup table over 0..max id.
        raw = self._alphabet(ids)
        present = np.flatnonzero(raw)
        self._levels: list[_Level] = [_Level(self.base, np.arange(len(present), dtype=np.int64),
                                             raw[present])]
        # Orders 2..max_n, as many orders per pass over the corpus as need no re-densifying.
        while len(self._levels) < max_n:
            first = len(self._levels) + 1
            prev = self._levels[-1]
            space = (len(prev.keys) if prev.dense else prev.space) * self.base
            spaces = [space]
            while first + len(spaces) - 1 < max_n and spaces[-1] * self.base <= RAW_LIMIT:
                spaces.append(spaces[-1] * self.base)
            # A small corpus (the word n-grams of a few hundred lines) is sorted, not binned.
            dense_limit = min(DENSE_LIMIT, max(DENSE_FLOOR, DENSE_PER_TOKEN * ids.size))
            counters = [_Counter(sp, dense_limit) for sp in spaces]
            for chunk in self._chunks(ids):
                sym = self._symbols(chunk)
                ext = self._ext_ids(sym, first - 1)
                for j, counter in enumerate(counters):
                    ext = _extend(ext, sym, first + j, self.base)
                    counter.add(ext.ravel() if ext.min(initial=0) >= 0 else ext[ext >= 0])
            last = first + len(spaces) - 1
            for j, counter in enumerate(counters):
                self._levels.append(counter.level(dense=(first + j == last and last < max_n)))

    def _build_fast(self, ids: np.ndarray) -> bool:
        """Orders 1..4 in one pass (see the module docstring); False where it does not apply
        (then the general build runs).  Symbol codes: raw ids when they are small (vocabulary
        ids, ASCII), else raw ids below FAST_LOW and ranks of the rarer larger ids above it."""
        n_rows, L = ids.shape
        if self.max_n != 4 or L < 4 or n_rows == 0 or int(ids.min()) < 0:
            return False
        hi = int(ids.max())
        high = None
        if (hi + 1) ** 2 <= RAW_LIMIT:
            R = hi + 1
        else:
            high = self._high_ids(ids)
            if high is None or (FAST_LOW + len(high)) ** 2 > RAW_LIMIT:
                return False
            R = FAST_LOW + len(high)
            sym_lut = np.zeros(hi + 1, np.int64)     # only ids >= FAST_LOW are looked up
            sym_lut[high] = np.arange(FAST_LOW, R)

        def symbols(chunk: np.ndarray, out: np.ndarray) -> None:
            """The symbol codes of a chunk of rows, into `out` (same shape)."""
            np.copyto(out, chunk)
            if high is not None:                     # the few large ids: ranked
                big = chunk >= FAST_LOW
                out[big] = sym_lut[out[big]]

        # Bigram ids by falling frequency in a sample of rows: frequent 4-grams then pack into
        # the low corner of the 4-gram table, which keeps most of its updates in the cache.
        # A bigram the sample lacks gets the next id where it first appears.
        sample = np.asarray(ids[::max(1, n_rows // FAST_SAMPLE_ROWS)])
        sym = np.empty(sample.shape, np.int64)
        symbols(sample, sym)
        sampled = np.bincount((sym[:, :-1] * R + sym[:, 1:]).ravel(), minlength=R * R)
        seen = np.flatnonzero(sampled)
        seen = seen[np.argsort(-sampled[seen], kind="stable")]
        prov = np.full(R * R, -1, np.int32)          # bigram code -> its id here, -1 not met yet
        prov[seen] = np.arange(len(seen))            # (int32: a smaller table, faster lookups)
        codes, n_ids = [seen], len(seen)             # the bigram code of each id
        cap = math.isqrt(DENSE_LIMIT)                # more bigrams: the 4-gram table is too large
        if n_ids > cap:
            return False
        size = min(cap, n_ids + max(64, n_ids // 4))
        # One table of counts by id, row p = a bigram, `size` columns then R: column j < size
        # counts the 4-grams (p, bigram j), column size + x the rows ending in (p, symbol x).
        # The other orders follow from it: every bigram but a row's last starts a 4-gram or
        # ends one of those trigrams, and so on.
        # (int32 counts where they cannot overflow: half the table, fewer cache misses)
        count_type = np.int32 if ids.size < 2**31 else np.int64
        one = count_type(1)
        table = np.zeros(size * (size + R) + 1, count_type)
        trash = len(table) - 1                       # a cell for the windows that count nothing

        rows = max(1, min(self._rows, FAST_CHUNK_ELEMENTS // L))
        sbuf, cbuf, qbuf = (np.empty(rows * L, np.int64) for _ in range(3))
        dbuf = np.empty(rows * L, np.int32)
        for r0 in range(0, n_rows, rows):
            # Codes of a chunk of rows, flat (long contiguous runs are fast) in reused buffers
            # (fresh large arrays cost page faults); a row-crossing window is no bigram.
            chunk = np.asarray(ids[r0:r0 + rows])
            r, n = chunk.shape[0], chunk.size
            s = sbuf[:n]
            symbols(chunk, s.reshape(r, L))
            c = cbuf[:n - 1]
            np.multiply(s[:-1], R, out=c)
            c += s[1:]
            d = dbuf[:n - 1]
            np.take(prov, c, out=d)
            d[L - 1::L] = 0
            if d.min() < 0:                          # bigrams not met before
                miss = np.flatnonzero(d < 0)
                new = np.unique(c[miss])
                if n_ids + len(new) > size:
                    grown = min(cap, max(2 * size, n_ids + len(new)))
                    if n_ids + len(new) > grown:
                        return False
                    table = _regrid(table, size, grown, R)
                    size, trash = grown, len(table) - 1
                prov[new] = np.arange(n_ids, n_ids + len(new))
                codes.append(new)
                n_ids += len(new)
                d[miss] = prov[c[miss]]
            q = qbuf[:n]                             # q[i]: the cell of the window at i
            width = np.int64(size + R)               # (int64: the ids are int32)
            np.multiply(d[:-2], width, out=q[:n - 3])
            q[:n - 3] += d[2:]
            q[L - 3::L] = d[L - 3::L] * width + size + s[L - 1::L]   # each row's last trigram
            q[L - 2::L] = trash                      # windows that cross a row boundary
            q[L - 1::L] = trash
            np.add.at(table, q, one)

        # Final dense bigram ids: by falling count, ties by code; every table re-keyed to them.
        code2 = np.concatenate(codes)
        U2 = n_ids
        table = table[:-1].reshape(size, size + R)[:U2].astype(np.int64)
        t4, t3 = table[:, :U2], table[:, size:].copy()   # t3: (first bigram, third symbol)
        ends, last = np.nonzero(t3)                  # each row's last trigram and its count
        n_ends = t3[ends, last]
        count2 = t4.sum(axis=1) + t3.sum(axis=1)
        np.add.at(count2, prov[code2[ends] % R * R + last], n_ends)   # each row's last bigram
        order = np.lexsort((code2, -count2))
        dense = np.empty(U2, np.int64)
        dense[order] = np.arange(U2)
        keys2, counts2 = code2[order], count2[order]
        c1 = np.zeros(R, np.int64)
        np.add.at(c1, last, n_ends)                  # each row's last symbol
        np.add.at(c1, code2 // R, count2)
        first, second = np.nonzero(t4)
        n4 = t4[first, second]
        keys4, counts4 = _sorted_keys(dense[first] * U2 + dense[second], n4)
        t3 = t3.ravel()
        np.add.at(t3, first * R + code2[second] // R, n4)
        at3 = np.flatnonzero(t3)
        keys3, counts3 = _sorted_keys(dense[at3 // R] * R + at3 % R, t3[at3])
        keys1 = np.flatnonzero(c1)

        # Query tables: raw id -> symbol code (UNSEEN if the corpus lacks it), positions.
        self.base = R
        self._alpha = np.full(hi + 1, UNSEEN, dtype=np.int64)
        raw_of_code = keys1 if high is None else np.concatenate([np.arange(FAST_LOW), high])[keys1]
        self._alpha[raw_of_code] = keys1
        pos1 = np.full(R, UNSEEN, dtype=np.int64)
        pos1[keys1] = np.arange(len(keys1), dtype=np.int64)
        lut2 = np.full(R * R, UNSEEN, dtype=np.int64)
        lut2[keys2] = np.arange(U2, dtype=np.int64)
        self._levels = [
            _Level(R, keys1, c1[keys1], lut=pos1),
            _Level(R * R, keys2, counts2, dense=True, lut=lut2),
            _Level(U2 * R, keys3, counts3),
            _Level(U2 * U2, keys4, counts4, split=2, mult=U2),
        ]
        return True

    def _high_ids(self, ids: np.ndarray) -> np.ndarray | None:
        """The distinct ids >= FAST_LOW when they are rare (text that is mostly ASCII), else None."""
        parts, found = [], 0
        for chunk in self._chunks(ids):
            big = chunk[chunk >= FAST_LOW]
            found += len(big)
            if found * 8 > ids.size:
                return None
            parts.append(np.unique(big))
        return np.unique(np.concatenate(parts))

    def _chunks(self, ids: np.ndarray) -> Iterator[np.ndarray]:
        for r in range(0, ids.shape[0], self._rows):
            yield np.asarray(ids[r:r + self._rows])

    def _symbols(self, chunk: np.ndarray) -> np.ndarray:
        """Raw ids -> dense symbols (int64), UNSEEN for ids the corpus lacks, ABSENT for negatives."""
        if chunk.size == 0 or (chunk.min() >= 0 and chunk.max() < len(self._alpha)):
            return self._alpha[chunk]                 # the common case: one gather, no copies
        x = chunk.astype(np.int64)
        inside = (x >= 0) & (x < len(self._alpha))
        out = np.where(x < 0, ABSENT, UNSEEN).astype(np.int64)
        out[inside] = self._alpha[x[inside]]
        return out

    def _ext_ids(self, sym: np.ndarray, k: int) -> np.ndarray:
        """The ids that order k+1 extends: raw codes, or positions of dense levels."""
        ext = sym
        for j in range(2, k + 1):
            ext = _extend(ext, sym, j, self.base)
            if self._levels[j - 1].dense:
                ext = self._levels[j - 1].with_sentinels(ext)
        return ext

    # ---- queries -------------------------------------------------------------------------
    def lookup(self, ids: np.ndarray, max_n: int | None = None) -> list[np.ndarray]:
        """Corpus positions of every window of `ids`, order 1..max_n.

        Element n-1 is an int64 array [M, L-n+1]: >= 0 the n-gram's index into
        counts(n), UNSEEN if the corpus lacks it, ABSENT if the window is not an n-gram.
        """
        max_n = self.max_n if max_n is None else max_n
        if max_n > self.max_n:
            raise ValueError(f"this reference holds orders up to {self.max_n}, asked for {max_n}")
        if ids.ndim != 2:
            raise ValueError(f"sample ids must be a 2-D array [M, L], got shape {ids.shape}")
        sym = self._symbols(np.asarray(ids))
        first = self._levels[0]
        out = [first.with_sentinels(sym) if (first.reduced or first.lut is not None) else sym]
        ext = {1: sym}                       # per order: what higher orders are packed from
        width = sym.shape[1]
        for k in range(2, max_n + 1):
            if width < k:
                out.append(np.zeros((sym.shape[0], 0), np.int64))
                continue
            level = self._levels[k - 1]
            a, m = level.split or k - 1, width - k + 1
            codes = _combine(ext[a][:, :m], ext[k - a][:, a:a + m], level.mult or self.base)
            where = level.with_sentinels(codes)
            out.append(where)
            ext[k] = where if level.dense else codes
        return out

    def total(self, n: int) -> int:
        """Number of n-grams (windows) in the corpus."""
        return int(self._levels[n - 1].counts.sum())

    def unique(self, n: int) -> int:
        """Number of distinct n-grams in the corpus."""
        return int(np.count_nonzero(self._levels[n - 1].counts))

    def counts(self, n: int) -> np.ndarray:
        """Corpus counts of the distinct n-grams (order of dense ids)."""
        return self._levels[n - 1].counts

    def subtract(self, ids: np.ndarray) -> "NgramReference":
        """A copy without the n-grams of `ids`, lines that are part of this corpus
        (used to hold real lines out for the real-data floor without a second build)."""
        out = copy.copy(self)
        out._levels = []
        for level, d in zip(self._levels, self.lookup(ids)):
            d = d[d != ABSENT]
            if (d < 0).any():
                raise ValueError("subtract: the lines are not part of this corpus")
            counts = level.counts - np.bincount(d, minlength=len(level.counts))
            if (counts < 0).any():
                raise ValueError("subtract: the lines are not part of this corpus")
            out._levels.append(dataclasses.replace(level, counts=counts, reduced=True))
        out.num_lines = self.num_lines - ids.shape[0]
        return out

    def js(self, sample_ids: np.ndarray, max_n: int | None = None) -> dict[str, float]:
        """{"js1": .., "js{max_n}": ..}: Jensen-Shannon divergence in bits between the
        n-gram distributions of the samples and of the corpus (unsmoothed counts)."""
        out = {}
        for n, d in enumerate(self.lookup(sample_ids, max_n), start=1):
            d = d[d != ABSENT]
            seen = d[d >= 0]
            grams, p_shared = np.unique(seen, return_counts=True)
            counts = self._levels[n - 1].counts
            out[f"js{n}"] = js_bits(p_shared, counts[grams], d.size, int(counts.sum()))
        return out

    def precision(self, sample_ids: np.ndarray, max_n: int | None = None) -> dict[int, float]:
        """{n: share of the samples' n-grams (with multiplicity) that occur in the corpus}."""
        out = {}
        for n, d in enumerate(self.lookup(sample_ids, max_n), start=1):
            d = d[d != ABSENT]
            out[n] = float((d >= 0).mean()) if d.size else float("nan")
        return out


def distinct(ids: np.ndarray, max_n: int = 4) -> dict[int, float]:
    """{n: distinct n-grams / all n-grams} within one set of lines (distinct-n of Li et al. 2016)."""
    ref = NgramReference(ids, max_n)
    return {n: (ref.unique(n) / ref.total(n) if ref.total(n) else float("nan"))
            for n in range(1, max_n + 1)}
