"""One evaluated set of lines and what it is compared against, with shared work cached.

Several metrics need the same intermediate (the samples' n-gram lookup, the word
ids of the held-out set, BLEU statistics of all orders); a `TextComparison`
computes each at first use, so asking for js1..js4 costs one lookup.
"""
from __future__ import annotations

from functools import cached_property
from typing import Sequence

from textgan.metrics import bleu as _bleu
from textgan.metrics.diversity import distinct_words, unique_lines
from textgan.metrics.ngrams import NgramReference
from textgan.metrics.overlap import in_test
from textgan.metrics.tokens import PAD, char_ids


def word_view(lines: Sequence[str], seq_len: int) -> list[str]:
    """What the model can produce of a line: its first seq_len characters, trailing PAD removed.
    Word metrics see samples and real lines through the same view."""
    return [line[:seq_len].rstrip(PAD) for line in lines]


class TextComparison:
    """`lines` (generated, or real floor lines) against a corpus n-gram reference
    (characters), optional held-out test lines (word %-in-test) and BLEU references."""

    def __init__(self, lines: Sequence[str], corpus: NgramReference, *, seq_len: int, max_n: int,
                 test_lines: Sequence[str] | None = None, bleu_refs: Sequence[str] | None = None,
                 seed: int = 0):
        self.lines = list(lines)
        self.corpus = corpus
        self.seq_len = seq_len
        self.max_n = max_n
        self.test_lines = None if test_lines is None else word_view(test_lines, seq_len)
        self.bleu_refs = None if bleu_refs is None else word_view(bleu_refs, seq_len)
        self.seed = seed

    @cached_property
    def words(self) -> list[str]:
        return word_view(self.lines, self.seq_len)

    @cached_property
    def char_ids(self):
        return char_ids(self.lines, self.seq_len)

    @cached_property
    def js(self) -> dict[str, float]:
        return self.corpus.js(self.char_ids, self.max_n)

    @cached_property
    def precision(self) -> dict[int, float]:
        return self.corpus.precision(self.char_ids, self.max_n)

    @cached_property
    def in_test(self) -> dict[int, float]:
        if not self.test_lines:
            return {n: float("nan") for n in range(1, self.max_n + 1)}
        return in_test(self.words, self.test_lines, self.max_n)

    @cached_property
    def distinct(self) -> dict[int, float]:
        return distinct_words(self.words, self.max_n)

    @cached_property
    def unique_lines(self) -> float:
        return unique_lines(self.lines)

    @cached_property
    def bleu_hyps(self) -> list[str]:
        return _bleu.choose(self.words, _bleu.HYPOTHESES_MAX, self.seed)

    @cached_property
    def bleu(self) -> dict[int, float]:
        orders = list(range(2, self.max_n + 1)) or [1]
        if not self.bleu_refs:
            return {n: float("nan") for n in orders}
        return _bleu.bleu_scores(self.bleu_hyps, self.bleu_refs, orders)

    @cached_property
    def self_bleu(self) -> dict[int, float]:
        return _bleu.self_bleu_scores(self.bleu_hyps, list(range(2, self.max_n + 1)) or [1])
