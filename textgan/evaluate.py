"""Evaluate generated text against a corpus, next to the real-data floor.

``evaluate_text`` scores the samples and, as the *real-data floor*, the same
number of real lines that the corpus side never saw (the original printed this
as "validation set JSD"), so JS-4 = 0.35 can be read against what real text
scores.  How the real lines are chosen (all choices seeded by `seed`):

* with `heldout_lines`: the floor lines are a seeded choice of
  min(len(samples), len(heldout) // 2) held-out lines; the rest of the held-out
  set is the test set of %-IN-TEST-n and the BLEU reference pool, for samples and
  floor alike.  The samples' character statistics are against the whole corpus;
  the floor's too, less the floor lines themselves when the held-out lines are
  part of `corpus_lines` (`heldout_in_corpus`: a corpus's own seeded split).
* without: the floor lines are a seeded choice of min(len(samples), len(corpus) // 2)
  corpus lines; the floor is scored against the corpus WITHOUT those lines, the
  samples against the whole corpus (exactly `reference_lm.py ngram`); BLEU
  references come from the corpus without the floor lines; %-IN-TEST is NaN.

BLEU / Self-BLEU use at most 500 hypotheses (bleu.HYPOTHESES_MAX) and at most 5000
references (bleu.REFERENCES_MAX), seeded choices; see textgan/metrics/bleu.py.

Result (JSON-serialisable, NaN written as null)::

    {"js1": .., ..., "js{max_n}": ..,            # the samples' JS, for scripts (eval-lm --json)
     "samples": {metric: value},                # every requested metric, samples
     "floor":   {metric: value},                # the same metrics, real held-out lines
     "better": {metric: "higher" | "lower" | "closer"},   # closer: to the real floor
     "meta": {"samples": M, "floor_lines": F, "corpus_lines": N, "heldout_lines": H|None,
              "test_lines": T, "bleu_hypotheses": .., "bleu_references": .., "seq_len": ..,
              "max_n": .., "seed": .., "floor_source": "heldout"|"corpus"}}
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from textgan.metrics import METRICS, Metric, build_metrics
from textgan.metrics.bleu import HYPOTHESES_MAX, REFERENCES_MAX, choose
from textgan.metrics.context import TextComparison
from textgan.metrics.ngrams import NgramReference
from textgan.metrics.tokens import char_ids


def read_text_lines(path: str, max_lines: int | None = None) -> list[str]:
    """Text lines with the reference semantics (the data layer's reader)."""
    from textgan.data.text_io import read_lines
    return read_lines(path, max_lines=max_lines)


def default_metric_names(max_n: int = 4) -> list[str]:
    return list(build_metrics(max_n))


def _split(n_lines: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded choice of k of n_lines indices (sorted) and the sorted rest."""
    pick = np.sort(np.random.default_rng(seed).choice(n_lines, size=k, replace=False))
    rest = np.setdiff1d(np.arange(n_lines), pick, assume_unique=True)
    return pick, rest


def _clean(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def evaluate_text(samples: Sequence[str], corpus_lines: Sequence[str], *, seq_len: int = 32,
                  max_n: int = 4, heldout_lines: Sequence[str] | None = None, seed: int = 0,
                  metrics: Sequence[str] | None = None,
                  reference: NgramReference | None = None, heldout_in_corpus: bool = False,
                  line_checks: dict | None = None) -> dict:
    """Score samples and the real-data floor; see the module docstring for the result.

    reference: the corpus's character NgramReference (char_ids(corpus_lines, seq_len),
    orders >= max_n) if already built, to skip rebuilding it.
    line_checks: {name: (lines -> share, better)} computed on samples and floor alike
    (e.g. the built-in grammar's acceptance rate).
    """
    if not samples:
        raise ValueError("no samples to evaluate")
    prepared = TextReference(corpus_lines, n_samples=len(samples), seq_len=seq_len, max_n=max_n,
                             heldout_lines=heldout_lines, seed=seed, metrics=metrics, reference=reference,
                             heldout_in_corpus=heldout_in_corpus, line_checks=line_checks)
    return prepared.result(samples)


META_ORDER = ("samples", "floor_lines", "corpus_lines", "heldout_lines", "test_lines", "bleu_hypotheses",
              "bleu_references", "seq_len", "max_n", "seed", "floor_source")


class TextReference:
    """Everything `evaluate_text` compares samples with, built once: the corpus n-gram model, the
    real-data floor and its scores, the %-IN-TEST set and the BLEU references.  `measure` scores one
    sample set and `result` gives evaluate_text's object; both may be called for many sample sets
    of `n_samples` lines (a temperature curve), each exactly as a fresh evaluate_text would."""

    def __init__(self, corpus_lines: Sequence[str], *, n_samples: int, seq_len: int = 32, max_n: int = 4,
                 heldout_lines: Sequence[str] | None = None, seed: int = 0,
                 metrics: Sequence[str] | None = None, reference: NgramReference | None = None,
                 heldout_in_corpus: bool = False, line_checks: dict | None = None):
        if not corpus_lines:
            raise ValueError("the corpus has no lines")
        self.registry: dict[str, Metric] = METRICS if max_n == 4 else build_metrics(max_n)
        self.names = list(metrics) if metrics is not None else list(self.registry)
        unknown = [m for m in self.names if m not in self.registry]
        if unknown:
            raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(self.registry)}")
        corpus_ref = reference if reference is not None else NgramReference(char_ids(corpus_lines, seq_len), max_n)
        if corpus_ref.max_n < max_n:
            raise ValueError(f"the given reference holds orders up to {corpus_ref.max_n}, need {max_n}")
        self.corpus_ref, self.seq_len, self.max_n, self.seed = corpus_ref, seq_len, max_n, seed
        self.n_samples, self.line_checks = n_samples, dict(line_checks or {})

        if heldout_lines:
            pool = list(heldout_lines)
            pick, rest = _split(len(pool), min(n_samples, len(pool) // 2), seed)
            self.floor_lines = [pool[i] for i in pick]
            self.test = [pool[i] for i in rest]
            # A corpus's own held-out split lies inside corpus_lines: score the floor without it.
            floor_ref = corpus_ref.subtract(char_ids(self.floor_lines, seq_len)) \
                if heldout_in_corpus and self.floor_lines else corpus_ref
            ref_pool = self.test
        else:
            pick, rest = _split(len(corpus_lines), min(n_samples, len(corpus_lines) // 2), seed)
            self.floor_lines = [corpus_lines[i] for i in pick]
            self.test = None
            floor_ref = corpus_ref.subtract(char_ids(self.floor_lines, seq_len)) if self.floor_lines else corpus_ref
            ref_pool = [corpus_lines[i] for i in rest]
        self.bleu_refs = choose(ref_pool, REFERENCES_MAX, seed + 1)
        self.floor = self._scores(self.floor_lines, floor_ref) if self.floor_lines else \
            {m: None for m in [*self.names, *self.line_checks]}
        self.better = {m: self.registry[m].better for m in self.names}
        self.better.update({name: better for name, (_, better) in self.line_checks.items()})
        self.meta = {
            "floor_lines": len(self.floor_lines), "corpus_lines": len(corpus_lines),
            "heldout_lines": None if heldout_lines is None else len(heldout_lines),
            "test_lines": 0 if self.test is None else len(self.test),
            "bleu_references": len(self.bleu_refs), "seq_len": seq_len, "max_n": max_n, "seed": seed,
            "floor_source": "heldout" if heldout_lines else "corpus",
        }

    def _scores(self, lines: Sequence[str], ngrams: NgramReference) -> dict:
        comp = TextComparison(lines, ngrams, seq_len=self.seq_len, max_n=self.max_n, test_lines=self.test,
                              bleu_refs=self.bleu_refs, seed=self.seed)
        scores = {m: _clean(self.registry[m].fn(comp)) for m in self.names}
        for n in range(1, self.max_n + 1):      # the js keys even when `metrics` leaves them out
            scores.setdefault(f"js{n}", _clean(comp.js[f"js{n}"]))
        for name, (check, _) in self.line_checks.items():
            scores[name] = _clean(check(list(lines)))
        return scores

    def measure(self, samples: Sequence[str]) -> dict:
        """{metric: value} of one sample set (every requested metric, js1..js{max_n}, line checks)."""
        if not samples:
            raise ValueError("no samples to evaluate")
        return self._scores(samples, self.corpus_ref)

    def result(self, samples: Sequence[str], scores: dict | None = None) -> dict:
        """evaluate_text's object for `samples` (`scores`: their `measure`, if already taken)."""
        scores = dict(scores if scores is not None else self.measure(samples))
        order = [f"js{n}" for n in range(1, self.max_n + 1)]
        extra = [k for k in order if k not in self.names]      # js keys only at the top level
        result = {k: scores[k] for k in order}     # the js keys first, for readers of the JSON line
        result["samples"] = {k: v for k, v in scores.items() if k not in extra}
        result["floor"] = {k: v for k, v in self.floor.items() if k not in extra}
        result["better"] = dict(self.better)
        meta = {"samples": len(samples), **self.meta, "bleu_hypotheses": min(len(samples), HYPOTHESES_MAX)}
        result["meta"] = {k: meta[k] for k in META_ORDER}
        return result


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.2f}" if abs(x) >= 10 else f"{x:.4f}"


def format_report(result: dict) -> str:
    """A plain-text table: metric | samples | real floor | better."""
    rows = [("metric", "samples", "real floor", "better")]
    for name, value in result["samples"].items():
        better = result["better"][name]
        rows.append((name, _fmt(value), _fmt(result["floor"].get(name)),
                     "closer to real" if better == "closer" else better))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [" | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    meta = result.get("meta", {})
    if meta:
        src = "held-out set" if meta.get("floor_source") == "heldout" else "corpus lines held out"
        lines.append("")
        lines.append(f"{meta['samples']} samples; real floor: {meta['floor_lines']} {src}; "
                     f"corpus {meta['corpus_lines']} lines; seq_len {meta['seq_len']}; "
                     f"BLEU: {meta['bleu_hypotheses']} hypotheses vs {meta['bleu_references']} references; "
                     f"seed {meta['seed']}")
    return "\n".join(lines)


def format_curve(result: dict) -> str:
    """eval-lm --temperatures as text: one row per temperature and the real-data floor, one column
    per metric, the better direction last."""
    names = list(result["floor"])
    rows = [("temperature", *names)]
    rows += [(f"{entry['temperature']:g}", *(_fmt(entry.get(m)) for m in names)) for entry in result["curve"]]
    rows.append(("real floor", *(_fmt(result["floor"].get(m)) for m in names)))
    rows.append(("better", *(result["better"].get(m, "") for m in names)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    lines.insert(len(lines) - 2, lines[1])      # rule off the floor from the curve
    meta = result.get("meta", {})
    if meta:
        lines.append("")
        lines.append(f"{meta['samples']} samples per temperature (--decode sample); real floor: "
                     f"{meta['floor_lines']} lines; corpus {meta['corpus_lines']} lines; seq_len "
                     f"{meta['seq_len']}; seed {meta['seed']}")
    return "\n".join(lines)
