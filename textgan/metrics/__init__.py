"""Metrics, registered by name with which direction is better.

``METRICS[name]`` is a text `Metric`; ``metric.fn(comparison)`` computes it from a
`textgan.metrics.context.TextComparison`.  Orders 1..4 are registered; call
``build_metrics(max_n)`` for other orders.  ``IMAGE_METRICS`` describes the keys the
image evaluators (`points`, `classifier`, `inception`) write; they have no `fn`.

`better` is "higher", "lower" or "closer" (closer to the real-data floor).  The
diversity metrics (distinct-n, unique lines, Self-BLEU) are "closer": random
characters are more diverse than any real text, so rewarding a direction would
reward noise; what matters is matching the diversity of real lines.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from textgan.metrics.context import TextComparison


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[[TextComparison], float] | None
    better: str          # "higher" | "lower" | "closer" (to the real-data floor)
    description: str

    @property
    def higher_is_better(self) -> bool | None:
        """True/False for a direction; None for "closer to real"."""
        return {"higher": True, "lower": False}.get(self.better)


def build_metrics(max_n: int = 4) -> dict[str, Metric]:
    """The registry for n-gram orders 1..max_n (BLEU orders 2..max_n)."""
    ms: list[Metric] = []
    for n in range(1, max_n + 1):
        ms.append(Metric(f"js{n}", lambda c, n=n: c.js[f"js{n}"], "lower",
                         f"Jensen-Shannon divergence (bits) of character {n}-gram distributions, "
                         "samples vs corpus, lines cut/padded to seq_len (the paper's metric)"))
    for n in range(1, max_n + 1):
        ms.append(Metric(f"precision{n}", lambda c, n=n: c.precision[n], "higher",
                         f"share of the samples' character {n}-grams that occur in the corpus"))
    for n in range(1, max_n + 1):
        ms.append(Metric(f"in_test{n}", lambda c, n=n: c.in_test[n], "higher",
                         f"%-IN-TEST-{n} (Press et al. 2017) as a share: word {n}-grams of the samples "
                         "found in the held-out set"))
    for n in range(1, max_n + 1):
        ms.append(Metric(f"distinct{n}", lambda c, n=n: c.distinct[n], "closer",
                         f"distinct-{n}: distinct word {n}-grams / all word {n}-grams among the samples"))
    ms.append(Metric("unique_lines", lambda c: c.unique_lines, "closer", "distinct lines / lines"))
    for n in range(2, max_n + 1):
        ms.append(Metric(f"bleu{n}", lambda c, n=n: c.bleu[n], "higher",
                         f"corpus BLEU-{n} (sacrebleu, 0..100) of <= 500 samples, each against the same "
                         "<= 5000 reference lines (seeded choice)"))
    for n in range(2, max_n + 1):
        ms.append(Metric(f"self_bleu{n}", lambda c, n=n: c.self_bleu[n], "closer",
                         f"corpus Self-BLEU-{n} (sacrebleu, 0..100): each of <= 500 samples against all "
                         "the others (itself left out)"))
    return {m.name: m for m in ms}


METRICS: dict[str, Metric] = build_metrics(4)

IMAGE_METRICS: dict[str, Metric] = {m.name: m for m in [
    Metric("w1", None, "lower", "exact Wasserstein-1 distance between generated and real 2-D points "
           "(optimal assignment, equal sample sizes)"),
    Metric("modes", None, "higher", "mixture modes holding at least ceil(0.2 * N / K) generated points "
           "within 3 std of their centre"),
    Metric("within_3sigma", None, "closer", "share of generated points within 3 std of their nearest "
           "centre (real data: about 0.989 in 2-D)"),
    Metric("classifier_score", None, "higher", "Inception-score formula on textgan's MNIST classifier "
           "(at most 10; real digits score about 9.4)"),
    Metric("fd", None, "lower", "Frechet distance on the MNIST classifier's 128-d penultimate features"),
    Metric("inception_score", None, "higher", "Inception score, TF-compatible InceptionV3 (10 splits)"),
    Metric("fid", None, "lower", "Frechet Inception distance on 2048-d pool features"),
]}

__all__ = ["METRICS", "IMAGE_METRICS", "Metric", "build_metrics", "TextComparison"]
