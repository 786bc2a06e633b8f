"""Overlap of generated n-grams with real text: precision against the training
corpus (characters) and %-IN-TEST-n against held-out text (words, Press et al. 2017)."""
from __future__ import annotations

from typing import Sequence

from textgan.metrics.ngrams import NgramReference
from textgan.metrics.tokens import WordIds, char_ids


def char_precision(samples: Sequence[str], corpus: NgramReference, seq_len: int,
                   max_n: int = 4) -> dict[int, float]:
    """{n: share of the samples' character n-grams (lines cut/padded to seq_len, with
    multiplicity) that occur in the corpus}."""
    return corpus.precision(char_ids(samples, seq_len), max_n)


def in_test(samples: Sequence[str], test_lines: Sequence[str], max_n: int = 4) -> dict[int, float]:
    """%-IN-TEST-n as a share in [0, 1]: of all word n-grams of the samples (whitespace
    tokens, with multiplicity, no n-gram across line ends), the share found anywhere
    in test_lines.  NaN for an order the samples have no n-gram of."""
    words = WordIds()
    ref = NgramReference(words.encode(test_lines), max_n)
    return ref.precision(words.encode(samples), max_n)
