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
    if not corpus_lines:
        raise ValueError("the corpus has no lines")
    registry: dict[str, Metric] = METRICS if max_n == 4 else build_metrics(max_n)
    names = list(metrics) if metrics is not None else list(registry)
    unknown = [m for m in names if m not in registry]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(registry)}")
    corpus_ref = reference if reference is not None else NgramReference(char_ids(corpus_lines, seq_len), max_n)
    if corpus_ref.max_n < max_n:
        raise ValueError(f"the given reference holds orders up to {corpus_ref.max_n}, need {max_n}")

    if heldout_lines:
        pool = list(heldout_lines)
        pick, rest = _split(len(pool), min(len(samples), len(pool) // 2), seed)
        floor_lines = [pool[i] for i in pick]
        test = [pool[i] for i in rest]
        # A corpus's own held-out split lies inside corpus_lines: score the floor without it.
        floor_ref = corpus_ref.subtract(char_ids(floor_lines, seq_len)) \
            if heldout_in_corpus and floor_lines else corpus_ref
        ref_pool = test
    else:
        pick, rest = _split(len(corpus_lines), min(len(samples), len(corpus_lines) // 2), seed)
        floor_lines = [corpus_lines[i] for i in pick]
        test = None
        floor_ref = corpus_ref.subtract(char_ids(floor_lines, seq_len)) if floor_lines else corpus_ref
        ref_pool = [corpus_lines[i] for i in rest]
    bleu_refs = choose(ref_pool, REFERENCES_MAX, seed + 1)

    sides = {
        "samples": TextComparison(samples, corpus_ref, seq_len=seq_len, max_n=max_n, test_lines=test,
                                  bleu_refs=bleu_refs, seed=seed),
        "floor": TextComparison(floor_lines, floor_ref, seq_len=seq_len, max_n=max_n, test_lines=test,
                                bleu_refs=bleu_refs, seed=seed),
    }
    result: dict = {}
    for side, comp in sides.items():
        result[side] = {m: _clean(registry[m].fn(comp)) for m in names} if comp.lines else \
            {m: None for m in names}
    for n in range(1, max_n + 1):
        key = f"js{n}"
        result[key] = result["samples"][key] if key in result["samples"] else \
            _clean(sides["samples"].js[key])
    result["better"] = {m: registry[m].better for m in names}
    for name, (check, better) in (line_checks or {}).items():
        result["samples"][name] = _clean(check(list(samples)))
        result["floor"][name] = _clean(check(floor_lines)) if floor_lines else None
        result["better"][name] = better
    result["meta"] = {
        "samples": len(samples), "floor_lines": len(floor_lines), "corpus_lines": len(corpus_lines),
        "heldout_lines": None if heldout_lines is None else len(heldout_lines),
        "test_lines": 0 if test is None else len(test),
        "bleu_hypotheses": min(len(samples), HYPOTHESES_MAX), "bleu_references": len(bleu_refs),
        "seq_len": seq_len, "max_n": max_n, "seed": seed,
        "floor_source": "heldout" if heldout_lines else "corpus",
    }
    # Put the js keys first for readers of the JSON line.
    order = [f"js{n}" for n in range(1, max_n + 1)]
    return {**{k: result[k] for k in order}, **{k: v for k, v in result.items() if k not in order}}


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
