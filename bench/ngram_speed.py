#!/usr/bin/env python3
"""n-gram JS speed and memory: textgan vs the reference NgramModel path, and corpus scale.

  python bench/ngram_speed.py [--lines 1000000] [--scale-lines 10000000] [--part a|b|ab] [--repeats 3]

(a) JS-1..4 of 640 lines against a LINES-line corpus (lines of ../shared/data emnlp + coco
    with their words shuffled, seeded, written to /tmp), reading and encoding included,
    timed inside one process after imports; textgan and ../shared/bench/reference_lm.py
    (read_lines + NgramModel.js_with) each run in their own subprocess for a clean peak RSS,
    REPEATS times interleaved; the median speedup and the largest JS difference are reported.
(b) Corpus statistics (NgramReference, n = 1..4) over SCALE-LINES synthetic lines of 32
    characters (a character bigram Markov chain fitted on the real lines, generated in
    numpy; generation not timed, its array counts in the peak RSS).
Prints one JSON object and appends it to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import record  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
REF = os.path.join(SHARED, "bench", "reference_lm.py")
SOURCES = [os.path.join(SHARED, "data", "emnlp_news", "test_emnlp.txt"),
           os.path.join(SHARED, "data", "coco", "image_coco.txt")]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_lines() -> list[str]:
    out = []
    for p in SOURCES:
        with open(p, encoding="utf-8") as f:
            out += [l.rstrip("\n") for l in f if l.strip()]
    return out


def make_files(n_lines: int, workdir: str) -> tuple[str, str]:
    os.makedirs(workdir, exist_ok=True)
    corpus, samples = os.path.join(workdir, f"corpus_{n_lines}.txt"), os.path.join(workdir, "samples_640.txt")
    base = real_lines()
    rng = random.Random(0)

    def shuffled(line: str) -> str:
        w = line.split()
        rng.shuffle(w)
        return " ".join(w)

    if not os.path.exists(corpus):
        with open(corpus, "w", encoding="utf-8") as f:
            for i in range(n_lines):
                f.write(shuffled(base[i % len(base)]) + "\n")
    with open(samples, "w", encoding="utf-8") as f:
        for line in random.Random(1).sample(base, 640):
            f.write(shuffled(line) + "\n")
    return corpus, samples


def run_textgan(corpus: str, samples: str) -> dict:
    sys.path.insert(0, ROOT)
    from textgan.metrics.ngrams import NgramReference
    from textgan.metrics.tokens import file_char_ids
    t0 = time.perf_counter()
    c = file_char_ids(corpus, 32)
    s = file_char_ids(samples, 32)
    t1 = time.perf_counter()
    ref = NgramReference(c, 4)
    t2 = time.perf_counter()
    js = ref.js(s)
    t3 = time.perf_counter()
    reps = [time.perf_counter()]
    for _ in range(20):
        ref.js(s)
        reps.append(time.perf_counter())
    return {**js, "total_s": t3 - t0, "read_encode_s": t1 - t0, "build_s": t2 - t1,
            "js_640_ms": 1000 * (reps[-1] - reps[0]) / 20, "peak_rss_mb": peak_mb()}


def run_reference(corpus: str, samples: str) -> dict:
    sys.path.insert(0, os.path.dirname(REF))
    import reference_lm as R
    t0 = time.perf_counter()
    c = R.read_lines(corpus, 32, 10_000_000)
    s = R.read_lines(samples, 32, 10_000_000)
    out = {f"js{n}": R.NgramModel(n, s).js_with(R.NgramModel(n, c)) for n in range(1, 5)}
    return {**out, "total_s": time.perf_counter() - t0, "peak_rss_mb": peak_mb()}


def run_scale(n_lines: int) -> dict:
    sys.path.insert(0, ROOT)
    import numpy as np
    from textgan.metrics.ngrams import NgramReference
    from textgan.metrics.tokens import char_ids
    real = char_ids(real_lines(), 32)
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


def child(kind: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", kind, *args],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--scale-lines", type=int, default=10_000_000)
    p.add_argument("--part", default="ab")
    p.add_argument("--workdir", default="/tmp/textgan_bench")
    p.add_argument("--repeats", type=int, default=3, help="part a: textgan/reference pairs, median reported")
    p.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    p.add_argument("--child", nargs="+")
    a = p.parse_args()
    if a.child:
        kind, *rest = a.child
        fn = {"textgan": run_textgan, "reference": run_reference}.get(kind)
        res = fn(*rest) if fn else run_scale(int(rest[0]))
        print(json.dumps(res))
        return
    result: dict = {"bench": "ngram_speed", "machine": f"{platform.processor() or platform.machine()}, "
                    f"{os.cpu_count()} cpus, python {platform.python_version()}"}
    if "a" in a.part:
        corpus, samples = make_files(a.lines, a.workdir)
        runs = []
        for _ in range(a.repeats):          # interleaved, so both sides see the same machine load
            tg = child("textgan", corpus, samples)
            ref = child("reference", corpus, samples)
            runs.append({"textgan": tg, "reference": ref, "speedup": ref["total_s"] / tg["total_s"],
                         "max_abs_js_diff": max(abs(tg[f"js{n}"] - ref[f"js{n}"]) for n in range(1, 5))})
        med = lambda xs: float(statistics.median(xs))
        result["a"] = {"corpus_lines": a.lines, "repeats": a.repeats,
                       "median_speedup": med([r["speedup"] for r in runs]),
                       "median_textgan_s": med([r["textgan"]["total_s"] for r in runs]),
                       "median_reference_s": med([r["reference"]["total_s"] for r in runs]),
                       "max_abs_js_diff": max(r["max_abs_js_diff"] for r in runs),
                       "runs": runs}
    if "b" in a.part:
        result["b"] = child("scale", str(a.scale_lines))
    text = json.dumps(result, indent=1)
    print(text)
    if a.no_record:
        return
    record("ngram_speed.py", text)


if __name__ == "__main__":
    main()
