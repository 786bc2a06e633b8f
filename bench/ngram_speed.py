#!/usr/bin/env python3
"""n-gram JS speed and memory: textgan vs the reference NgramModel path, and corpus scale.

  python bench/ngram_speed.py [--lines 1000000] [--scale-lines 10000000] [--part a|b|ab] [--repeats 3]
                              [--corpus NAME|PATH] [--data-dir DIR]

The real lines are those of --corpus (default: the built-in synthetic corpus; the figures in
README.md used the EMNLP News and COCO test sets, `--corpus DIR` with the two files in DIR).
(a) JS-1..4 of 640 lines against a LINES-line corpus (real lines with their words shuffled,
    seeded, written under the temporary directory), reading and encoding included,
    timed inside one process after imports; textgan and bench/baseline.py
    (read_lines + NgramLanguageModel.js_with) each run in their own subprocess for a clean peak RSS,
    REPEATS times interleaved; the median speedup and the largest JS difference are reported.
(b) Corpus statistics (NgramReference, n = 1..4) over SCALE-LINES synthetic lines of 32
    characters (a character bigram Markov chain fitted on the real lines, generated in
    numpy; generation not timed, its array counts in the peak RSS).
Prints one JSON object and appends it to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import hashlib
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
from record import CORPUS_HELP, DATA_DIR_HELP, ROOT, WORKDIR, corpus_lines, record  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_lines(corpus: str, data_dir: str | None) -> list[str]:
    return [l for l in corpus_lines(corpus, data_dir) if l.strip()]


def make_files(n_lines: int, workdir: str, base: list[str]) -> tuple[str, str]:
    """The LINES-line corpus and the 640 samples made from `base`, named by its content."""
    os.makedirs(workdir, exist_ok=True)
    tag = hashlib.sha1("\n".join(base).encode("utf-8")).hexdigest()[:12]
    corpus = os.path.join(workdir, f"corpus_{tag}_{n_lines}.txt")
    samples = os.path.join(workdir, f"samples_{tag}_640.txt")
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
    import baseline as R
    t0 = time.perf_counter()
    c = R.read_lines(corpus, 32, 10_000_000)
    s = R.read_lines(samples, 32, 10_000_000)
    out = {f"js{n}": R.NgramLanguageModel(n, s).js_with(R.NgramLanguageModel(n, c)) for n in range(1, 5)}
    return {**out, "total_s": time.perf_counter() - t0, "peak_rss_mb": peak_mb()}


def run_scale(n_lines: int, corpus: str, data_dir: str | None) -> dict:
    sys.path.insert(0, ROOT)
    import numpy as np
    from textgan.metrics.ngrams import NgramReference
    from textgan.metrics.tokens import char_ids
    real = char_ids(real_lines(corpus, data_dir), 32)
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
    p.add_argument("--workdir", default=WORKDIR)
    p.add_argument("--corpus", default="synthetic", help=CORPUS_HELP)
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--repeats", type=int, default=3, help="part a: textgan/reference pairs, median reported")
    p.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    p.add_argument("--child", nargs="+")
    a = p.parse_args()
    if a.child:
        kind, *rest = a.child
        fn = {"textgan": run_textgan, "reference": run_reference}.get(kind)
        res = fn(*rest) if fn else run_scale(int(rest[0]), a.corpus, a.data_dir)
        print(json.dumps(res))
        return
    result: dict = {"bench": "ngram_speed", "machine": f"{platform.processor() or platform.machine()}, "
                    f"{os.cpu_count()} cpus, python {platform.python_version()}"}
    if "a" in a.part:
        corpus, samples = make_files(a.lines, a.workdir, real_lines(a.corpus, a.data_dir))
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
        result["b"] = child("scale", str(a.scale_lines), "--corpus", a.corpus,
                            *(["--data-dir", a.data_dir] if a.data_dir else []))
    text = json.dumps(result, indent=1)
    print(text)
    if a.no_record:
        return
    record("ngram_speed.py", text)


if __name__ == "__main__":
    main()
