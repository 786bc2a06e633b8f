"""Diversity of a set of lines: distinct-n (Li et al. 2016) and the share of unique lines."""
from __future__ import annotations

from typing import Sequence

from textgan.metrics.ngrams import distinct
from textgan.metrics.tokens import WordIds


def distinct_words(lines: Sequence[str], max_n: int = 4) -> dict[int, float]:
    """{n: distinct word n-grams / all word n-grams} over the lines (whitespace tokens,
    no n-gram across line ends).  NaN for an order with no n-gram."""
    return distinct(WordIds().encode(lines), max_n)


def unique_lines(lines: Sequence[str]) -> float:
    """Distinct lines / lines (1.0: no sample repeated; mode collapse drives it down)."""
    return len(set(lines)) / len(lines) if lines else float("nan")
