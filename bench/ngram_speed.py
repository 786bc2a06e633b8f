#!/usr/bin/env python3
"""n-gram JS and eval-lm speed against the plain baseline (bench/baseline.py), and corpus scale.

  python bench/ngram_speed.py [--corpus NAME|PATH] [--data-dir DIR] [--lines 1000000] [--samples PATH]
                              [--part aeb] [--repeats 3] [--scale-lines 10000000] [--no-record]

The timed corpus is LINES lines made from --corpus's non-blank lines (default: the built-in synthetic
corpus; a corpus name under --data-dir, or a text file or folder), repeated in order, each with its
words shuffled (seeded), written to a temporary directory that is removed at the end; --lines 0 times
--corpus itself (a text file).  Without --samples, 640 seeded corpus lines with their words shuffled
again are the samples.  Every side runs in its own subprocess (a clean peak RSS), timed inside it
after its imports; per repeat, the baseline, then (a), then (e), so each ratio compares runs of the
same minute on the same machine:

(a) ngram_js: the paper's JS-1..4 of the samples against the corpus, reading included:
    the public `textgan.ngram_js(SAMPLES, CORPUS)` against the baseline's plain path
    (`bench/baseline.py ngram`: tuples, dict counts).  Ratio: baseline seconds / textgan seconds.
(e) eval_lm: the whole `textgan eval-lm --samples SAMPLES --corpus CORPUS --json` in-process
    (evaluate_lm and the JSON line; every metric, the real-data floor on the corpus's own
    held-out split).  Ratio: the baseline's JS-only seconds / eval-lm seconds.
(b) Corpus statistics (NgramReference, n = 1..4) over SCALE-LINES synthetic lines of 32
    characters (a character bigram Markov chain fitted on the corpus's first 20,000 lines,
    generated in numpy; generation not timed, its array counts in the peak RSS).

Each ratio is given from wall-clock seconds and from CPU seconds (user + system of the side's
process: on a shared machine the wall clock also counts the time other processes held the
cores).  Medians over the repeats are reported.  Prints one JSON object and appends it to
bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import CORPUS_HELP, DATA_DIR_HELP, ROOT, corpus_lines, cpu_model, record, run_json  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def shuffled_words(line: str, rng: random.Random) -> str:
    w = line.split()
    rng.shuffle(w)
    return " ".join(w)


def make_corpus(base: list[str], path: str, n_lines: int) -> None:
    base = [line for line in base if line.strip()]
    rng = random.Random(0)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n_lines):
            f.write(shuffled_words(base[i % len(base)], rng) + "\n")


def make_samples(corpus: str, workdir: str, n: int = 640) -> str:
    with open(corpus, encoding="utf-8", errors="replace") as f:
        lines = [line.rstrip("\n") for line in f]
    rng = random.Random(1)
    path = os.path.join(workdir, f"samples_{n}.txt")
    with open(path, "w", encoding="utf-8") as f:
        for line in rng.sample(lines, n):
            f.write(shuffled_words(line, rng) + "\n")
    return path


def run_js(corpus: str, samples: str) -> dict:
    sys.path.insert(0, ROOT)
    import textgan.config, textgan.data.corpus, textgan.metrics.ngrams  # noqa: F401  (imports untimed)
    from textgan import ngram_js
    t0, c0 = time.perf_counter(), time.process_time()
    js = ngram_js(samples, corpus, max_n=4, seq_len=32)   # the public function, reading included
    t1 = time.perf_counter()
    return {**js, "total_s": t1 - t0, "cpu_s": time.process_time() - c0, "peak_rss_mb": peak_mb()}


def run_eval(corpus: str, samples: str) -> dict:
    sys.path.insert(0, ROOT)
    import textgan.config, textgan.data.corpus, textgan.evaluate, textgan.lm  # noqa: F401  (imports untimed)
    from textgan import evaluate_text
    t0, c0 = time.perf_counter(), time.process_time()
    result = evaluate_text(samples, corpus)      # the object `eval-lm --json` prints
    line = json.dumps(result)           # what `eval-lm --json` prints
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {**{f"js{n}": result[f"js{n}"] for n in range(1, 5)}, "floor_js4": result["floor"]["js4"],
            "in_test1": result["samples"]["in_test1"], "json_chars": len(line), "total_s": total,
            "cpu_s": cpu, "peak_rss_mb": peak_mb()}


def run_baseline(corpus: str, samples: str) -> dict:
    import baseline
    return baseline.ngram(corpus, samples, 4, 32)


def run_scale(corpus: str, n_lines: int) -> dict:
    sys.path.insert(0, ROOT)
    import numpy as np
    from textgan.metrics.ngrams import NgramReference
    from textgan.metrics.tokens import file_char_ids
    real = file_char_ids(corpus, 32, max_lines=20_000)
    alphabet, dense = np.unique(real, return_inverse=True)
    dense = dense.reshape(real.shape)
    V = len(alphabet)
    trans = np.ones((V, V))                                   # add-one: every transition possible
    np.add.at(trans, (dense[:, :-1].ravel(), dense[:, 1:].ravel()), 1)
    cdf = np.cumsum(trans / trans.sum(1, keepdims=True), axis=1)
    cdf[:, -1] = 1.0
    flat = (np.arange(V)[:, None] + cdf).ravel()              # row s lies in (s, s+1]
    start = np.bincount(dense[:, 0], minlength=V).cumsum() / len(dense)
    rng = np.random.default_rng(0)
    g0 = time.perf_counter()
    ids = np.empty((n_lines, 32), dtype=np.uint8 if V <= 256 else np.uint16)
    ids[:, 0] = np.minimum(np.searchsorted(start, rng.random(n_lines)), V - 1)
    for t in range(1, 32):
        prev = ids[:, t - 1].astype(np.int64)
        j = np.searchsorted(flat, prev + rng.random(n_lines), side="left") - prev * V
        ids[:, t] = np.clip(j, 0, V - 1)
    gen_s = time.perf_counter() - g0
    rss_before = peak_mb()
    t0 = time.perf_counter()
    ref = NgramReference(ids, 4)
    build_s = time.perf_counter() - t0
    return {"lines": n_lines, "alphabet": V, "generate_s": gen_s, "build_s": build_s,
            "unique": [ref.unique(n) for n in range(1, 5)], "total": [ref.total(n) for n in range(1, 5)],
            "peak_rss_mb_before_build": rss_before, "peak_rss_mb": peak_mb(),
            "array_mb": ids.nbytes / 2**20}


CHILDREN = {"js": run_js, "eval": run_eval, "baseline": run_baseline}


def child(kind: str, *args: str) -> dict:
    return run_json([sys.executable, os.path.abspath(__file__), "--child", kind, *args], kind)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", default="synthetic", help=CORPUS_HELP)
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--samples", help="generated lines (default: 640 shuffled corpus lines)")
    p.add_argument("--lines", type=int, default=1_000_000,
                   help="lines of the timed corpus, made from --corpus (0: --corpus itself, a text file)")
    p.add_argument("--scale-lines", type=int, default=10_000_000)
    p.add_argument("--part", default="aeb", help="any of a (ngram_js), e (eval-lm), b (scale)")
    p.add_argument("--repeats", type=int, default=3, help="parts a and e: medians over this many")
    p.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    p.add_argument("--child", nargs="+")
    a = p.parse_args()
    if a.child:
        kind, *rest = a.child
        fn = CHILDREN.get(kind)
        print(json.dumps(fn(*rest) if fn else run_scale(rest[0], int(rest[1]))))
        return
    result: dict = {"bench": "ngram_speed", "machine": f"{cpu_model()}, {os.cpu_count()} cpus, "
                    f"python {platform.python_version()}"}
    workdir = tempfile.TemporaryDirectory(prefix="textgan_bench_")
    if a.lines > 0:
        corpus = os.path.join(workdir.name, f"corpus_{a.lines}.txt")
        make_corpus(corpus_lines(a.corpus, a.data_dir), corpus, a.lines)
    elif os.path.isfile(a.corpus):
        corpus = a.corpus
    else:
        p.error("--lines 0 times --corpus itself: give a text file")
    with open(corpus, "rb") as f:
        n_lines = sum(1 for _ in f)
    if "a" in a.part or "e" in a.part:
        samples = a.samples or make_samples(corpus, workdir.name)
        runs = []
        for _ in range(a.repeats):          # interleaved, so every side sees the same machine load
            run = {"baseline": child("baseline", corpus, samples)}
            for part, side, kind in (("a", "ngram_js", "js"), ("e", "eval_lm", "eval")):
                if part in a.part:
                    out = run[side] = child(kind, corpus, samples)
                    run[f"{side}_ratio"] = run["baseline"]["total_s"] / out["total_s"]
                    run[f"{side}_cpu_ratio"] = run["baseline"]["cpu_s"] / out["cpu_s"]
                    run[f"{side}_max_abs_js_diff"] = max(abs(out[f"js{n}"] - run["baseline"][f"js{n}"])
                                                         for n in range(1, 5))
            runs.append(run)
        med = lambda key, sub=None: float(statistics.median(r[key] if sub is None else r[key][sub] for r in runs))
        summary = {"corpus_lines": n_lines, "repeats": a.repeats,
                   "median_baseline_s": med("baseline", "total_s"), "median_baseline_cpu_s": med("baseline", "cpu_s")}
        for part, side in (("a", "ngram_js"), ("e", "eval_lm")):
            if part in a.part:
                summary.update({f"median_{side}_ratio": med(f"{side}_ratio"),
                                f"median_{side}_cpu_ratio": med(f"{side}_cpu_ratio"),
                                f"median_{side}_s": med(side, "total_s"), f"median_{side}_cpu_s": med(side, "cpu_s"),
                                f"{side}_max_abs_js_diff": max(r[f"{side}_max_abs_js_diff"] for r in runs)})
        result["timed"] = {**summary, "runs": runs}
    if "b" in a.part:
        result["b"] = child("scale", corpus, str(a.scale_lines))
    workdir.cleanup()
    text = json.dumps(result, indent=1)
    print(text)
    if not a.no_record:
        record("ngram_speed.py", text)


if __name__ == "__main__":
    main()
