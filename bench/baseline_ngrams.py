#!/usr/bin/env python3
"""The plain n-gram evaluation that textgan's n-gram JS speed is measured against.

It is the paper's own evaluation code (language_helpers.py: `load_dataset` and
`NgramLanguageModel.js_with`), written out in the same plain Python:

* each line is read as a tuple of characters (UTF-8, invalid bytes replaced, only the
  newline removed), cut to seq_len and padded with '`' to seq_len;
* for each n, the n-grams of every padded line (every window of n characters, padding
  included) are counted as Python tuples in a dict;
* JS(P, Q) in bits between the two normalised count distributions, P the samples' and Q
  the corpus's: KL(P||M) over P's n-grams plus KL(Q||M) over Q's, M = (P + Q) / 2, halved,
  divided by ln 2 (log-probabilities as the original computes them, -inf for an n-gram a
  side lacks).

  python bench/baseline_ngrams.py --corpus FILE --samples FILE [--seq-len 32] [--max-n 4]

prints one JSON line: js1..js{max-n}, the seconds taken (wall-clock and CPU, reading included)
and the peak RSS.
"""
from __future__ import annotations

import argparse
import collections
import json
import math
import resource
import time

import numpy as np


def read_lines(path: str, seq_len: int, max_lines: int = 10_000_000) -> list[tuple[str, ...]]:
    """The original's load_dataset: each line a tuple of characters, cut and '`'-padded."""
    lines = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            chars = tuple(raw.rstrip("\n"))[:seq_len]
            lines.append(chars + ("`",) * (seq_len - len(chars)))
            if len(lines) >= max_lines:
                break
    return lines


class NgramLanguageModel:
    """Counts of the n-grams of lines, as the original keeps them."""

    def __init__(self, n: int, samples: list[tuple[str, ...]]):
        self.counts: dict[tuple[str, ...], int] = collections.defaultdict(int)
        self.total = 0
        for s in samples:
            for i in range(len(s) - n + 1):
                self.counts[tuple(s[i:i + n])] += 1
                self.total += 1

    def log_likelihood(self, gram: tuple[str, ...]) -> float:
        c = self.counts.get(gram)
        return -math.inf if c is None else math.log(c) - math.log(self.total)

    def js_with(self, p: "NgramLanguageModel") -> float:
        """JS divergence in bits between p and self."""
        log_p = np.array([p.log_likelihood(g) for g in p.counts])
        log_q = np.array([self.log_likelihood(g) for g in p.counts])
        log_m = np.logaddexp(log_p - math.log(2), log_q - math.log(2))
        kl_p_m = np.sum(np.exp(log_p) * (log_p - log_m))
        log_p = np.array([p.log_likelihood(g) for g in self.counts])
        log_q = np.array([self.log_likelihood(g) for g in self.counts])
        log_m = np.logaddexp(log_p - math.log(2), log_q - math.log(2))
        kl_q_m = np.sum(np.exp(log_q) * (log_q - log_m))
        return float(0.5 * (kl_p_m + kl_q_m) / math.log(2))


def js(corpus: str, samples: str, seq_len: int = 32, max_n: int = 4) -> dict:
    """{"js1".."js{max_n}", "total_s", "cpu_s", "peak_rss_mb"}: JS of the samples against the
    corpus; wall-clock and CPU seconds (this process, user + system), reading included."""
    t0, c0 = time.perf_counter(), time.process_time()
    c = read_lines(corpus, seq_len)
    s = read_lines(samples, seq_len)
    out = {f"js{n}": NgramLanguageModel(n, c).js_with(NgramLanguageModel(n, s)) for n in range(1, max_n + 1)}
    return {**out, "total_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", required=True)
    p.add_argument("--samples", required=True)
    p.add_argument("--seq-len", type=int, default=32)
    p.add_argument("--max-n", type=int, default=4)
    a = p.parse_args()
    print(json.dumps(js(a.corpus, a.samples, a.seq_len, a.max_n)))


if __name__ == "__main__":
    main()
