"""BLEU-n against a reference set and Self-BLEU-n among samples, with sacrebleu's scoring.

Both are CORPUS-level BLEU exactly as ``sacrebleu.metrics.BLEU(max_ngram_order=n,
tokenize="none", smooth_method="exp", effective_order=False).corpus_score``
computes it when every hypothesis is given its reference SET as multiple references:
per hypothesis, clipped n-gram matches (against the maximum count of that
n-gram in any one of its references), n-gram totals, its length and the
closest reference length (ties: the shorter) are summed over hypotheses, and
sacrebleu's ``BLEU.compute_bleu`` turns the sums into the score (0..100; "exp"
smoothing for orders with no match, brevity penalty on the summed lengths).
Tokens are whitespace tokens (``tokenize="none"``: the corpora are pre-tokenised),
case-sensitive.

* ``bleu(hyps, refs, n)``: every hypothesis has ALL of `refs` as its references
  (the text-GAN "test BLEU").  The reference statistics are built once, so 5000
  references cost one pass, not one per hypothesis.
* ``self_bleu(hyps, n)``: hypothesis i has every OTHER hypothesis as a reference
  (i is left out of its own references; duplicates of i elsewhere still count,
  since they are other samples).  Identical lines score 100.

This differs from Texygen's Self-BLEU (mean of nltk sentence BLEUs with
smoothing), which is not comparable across toolkits; the corpus form has no
per-sentence smoothing to choose.  ``choose(lines, k, seed)`` is the seeded
subset used for sizes: `evaluate` scores at most 500 hypotheses
(HYPOTHESES_MAX) against at most 5000 references (REFERENCES_MAX).
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
from sacrebleu.metrics import BLEU

HYPOTHESES_MAX = 500
REFERENCES_MAX = 5000


def choose(lines: Sequence[str], k: int, seed: int) -> list[str]:
    """At most k lines, a seeded uniform choice without replacement, in their original order."""
    if len(lines) <= k:
        return list(lines)
    idx = np.sort(np.random.default_rng(seed).choice(len(lines), size=k, replace=False))
    return [lines[i] for i in idx]


def _ngrams(line: str, n: int) -> tuple[Counter, int]:
    """sacrebleu's extraction: whitespace tokens, all orders 1..n, and the length."""
    toks = line.split()
    grams = Counter(tuple(toks[i:i + k]) for k in range(1, n + 1) for i in range(len(toks) - k + 1))
    return grams, len(toks)


def _closest(hyp_len: int, ref_lens: Counter) -> int:
    """Closest reference length, ties to the shorter one (sacrebleu's rule)."""
    return min(ref_lens, key=lambda r: (abs(hyp_len - r), r))


def _score(stats: np.ndarray, n: int, top: int) -> float:
    """sacrebleu's corpus BLEU-n from summed [hyp_len, ref_len, correct*top, total*top], n <= top."""
    s = [int(v) for v in stats]
    return float(BLEU.compute_bleu(correct=s[2:2 + n], total=s[2 + top:2 + top + n], sys_len=s[0],
                                   ref_len=s[1], smooth_method="exp", effective_order=False,
                                   max_ngram_order=n).score)


def _stats(hyp: Counter, hyp_len: int, ref_max: dict, ref_len: int, n: int) -> list[int]:
    correct, total = [0] * n, [0] * n
    for g, c in hyp.items():
        total[len(g) - 1] += c
        r = ref_max.get(g)
        if r:
            correct[len(g) - 1] += min(c, r)
    return [hyp_len, ref_len, *correct, *total]


def bleu_scores(hyps: Sequence[str], refs: Sequence[str], orders: Sequence[int]) -> dict[int, float]:
    """{n: corpus BLEU-n (0..100)} of hyps, each against the whole reference set refs.
    The statistics of the highest order contain those of the lower ones: one pass."""
    top = max(orders)
    if not hyps or not refs:
        return {n: float("nan") for n in orders}
    ref_max: dict = {}
    ref_lens: Counter = Counter()
    for r in refs:
        grams, length = _ngrams(r, top)
        ref_lens[length] += 1
        for g, c in grams.items():
            if c > ref_max.get(g, 0):
                ref_max[g] = c
    total = np.zeros(2 + 2 * top, dtype=np.int64)
    for h in hyps:
        grams, length = _ngrams(h, top)
        total += _stats(grams, length, ref_max, _closest(length, ref_lens), top)
    return {n: _score(total, n, top) for n in orders}


def bleu(hyps: Sequence[str], refs: Sequence[str], n: int = 4) -> float:
    """Corpus BLEU-n (0..100) of hyps, each against the whole reference set refs."""
    return bleu_scores(hyps, refs, [n])[n]


class _LeaveOneOutMax(dict):
    """For hypothesis i, the maximum count of an n-gram over all OTHER hypotheses."""

    def __init__(self, per_line: list[Counter]):
        super().__init__()
        top: dict = {}          # gram -> (best count, owner line, second best count)
        for i, grams in enumerate(per_line):
            for g, c in grams.items():
                best, owner, second = top.get(g, (0, -1, 0))
                if c > best:
                    top[g] = (c, i, best)
                elif c > second:
                    top[g] = (best, owner, c)
        self.top = top

    def for_line(self, i: int, grams: Counter) -> dict:
        out = {}
        for g in grams:
            best, owner, second = self.top[g]
            out[g] = second if owner == i else best
        return out


def self_bleu_scores(hyps: Sequence[str], orders: Sequence[int]) -> dict[int, float]:
    """{n: corpus Self-BLEU-n (0..100)}: hypothesis i against all the other hypotheses."""
    top = max(orders)
    if len(hyps) < 2:
        return {n: float("nan") for n in orders}
    per = [_ngrams(h, top) for h in hyps]
    loo = _LeaveOneOutMax([g for g, _ in per])
    lens: Counter = Counter(length for _, length in per)
    total = np.zeros(2 + 2 * top, dtype=np.int64)
    for i, (grams, length) in enumerate(per):
        lens[length] -= 1                       # leave line i out of its own length set
        others = +lens                          # drops zero counts
        total += _stats(grams, length, loo.for_line(i, grams), _closest(length, others), top)
        lens[length] += 1
    return {n: _score(total, n, top) for n in orders}


def self_bleu(hyps: Sequence[str], n: int = 4) -> float:
    """Corpus Self-BLEU-n (0..100): hypothesis i against all the other hypotheses."""
    return self_bleu_scores(hyps, [n])[n]
