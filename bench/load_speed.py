#!/usr/bin/env python3
"""Corpus loading at the paper's scale: textgan vs the baseline's loader.

Builds (once) a Billion-Word-shaped tree of LINES lines under the temporary directory
(or --tree): the official layout, ~306k lines per training shard, each line a perturbed
copy of a line of --corpus (default: the built-in synthetic corpus; the figures in
README.md used the first 100 lines of Billion Word shard news.en-00001-of-00100,
`--corpus PATH/lm1b_100.txt`): words rotated, one character changed, a number
inserted; plus one held-out shard.  Then, each in a fresh process:

  textgan_first   load_corpus(billion-words, seq_len 32, max_lines LINES), empty cache
  textgan_cached  the same call again: memory-maps the cached arrays (touch_all_pages_s:
                  the time to then read one byte of every page, which the map defers)
  baseline        bench/baseline.py's load_dataset, the original's: the shards in order as
                  tuples cut/padded to 32, shuffled, the character map, unmapped characters
                  replaced (the lines it trains on, encoded per batch)

and prints one JSON object (appended to bench/RESULTS.md): wall seconds of the load call,
peak RSS of the process (ru_maxrss) and of its worker processes, and the encoded array size.

  python bench/load_speed.py [--lines 10000000] [--tree DIR] [--skip-baseline]
                             [--corpus NAME|PATH] [--data-dir DIR] [--no-record]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import (BASELINE, CORPUS_HELP, DATA_DIR_HELP, ROOT, WORKDIR, corpus_lines,  # noqa: E402
                    cpu_model, report, run_json)

PER_SHARD = 306_000          # Billion Word: ~30.3M lines over 99 training shards
TRAIN_DIR = "training-monolingual.tokenized.shuffled"
HELDOUT_DIR = "heldout-monolingual.tokenized.shuffled"
BW_ROOT = "1-billion-word-language-modeling-benchmark-r13output"


def perturbed(base: list[str], rng: random.Random):
    letters = "abcdefghijklmnopqrstuvwxyz"
    while True:
        words = rng.choice(base).split(" ")
        k = rng.randrange(len(words))
        words = words[k:] + words[:k]
        w = rng.randrange(len(words))
        if words[w]:
            i = rng.randrange(len(words[w]))
            words[w] = words[w][:i] + rng.choice(letters) + words[w][i + 1:]
        words.insert(rng.randrange(len(words) + 1), str(rng.randrange(1000)))
        yield " ".join(words)


def build_tree(tree: Path, lines: int, base: list[str]) -> Path:
    """The tree of `lines` lines made from `base` (rebuilt when either changes)."""
    root = tree / BW_ROOT
    tag = hashlib.sha1("\n".join(base).encode("utf-8")).hexdigest()[:12]
    marker = tree / f".complete-{tag}-{lines}"
    if marker.exists():
        return root
    if tree.exists():
        shutil.rmtree(tree)
    rng = random.Random(0)
    gen = perturbed(base, rng)
    (root / TRAIN_DIR).mkdir(parents=True)
    (root / HELDOUT_DIR).mkdir(parents=True)
    left, shard = lines, 1
    while left > 0:
        n = min(PER_SHARD, left)
        with open(root / TRAIN_DIR / f"news.en-{shard:05d}-of-00100", "w", encoding="utf-8") as f:
            f.write("\n".join(next(gen) for _ in range(n)) + "\n")
        left -= n
        shard += 1
    with open(root / HELDOUT_DIR / "news.en.heldout-00000-of-00050", "w", encoding="utf-8") as f:
        f.write("\n".join(next(gen) for _ in range(20_000)) + "\n")
    marker.touch()
    return root


TEXTGAN = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
from textgan.config import DataConfig
from textgan.data.corpus import load_corpus
t = time.perf_counter()
c = load_corpus(DataConfig(corpus="billion-words", data_dir={tree!r}, max_lines={lines}), 32, progress=False)
wall = time.perf_counter() - t
t = time.perf_counter()
checksum = int(c.ids[:, 0].sum())   # touches every page: what a memory-mapped reload defers
touch = time.perf_counter() - t
self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
kids_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({{"wall_s": round(wall, 3), "touch_all_pages_s": round(touch, 3), "peak_rss_mb": round(self_mb, 1),
    "worker_peak_rss_mb": round(kids_mb, 1), "lines": int(c.ids.shape[0]),
    "heldout": None if c.heldout is None else int(c.heldout.shape[0]), "dtype": str(c.ids.dtype),
    "vocab": len(c.vocab), "encoded_mb": round(c.ids.nbytes / 2**20, 1),
    "memory_mapped": type(c.ids).__name__ == "memmap"}}))
"""

BASELINE_CODE = r"""
import importlib.util, json, resource, sys, time
spec = importlib.util.spec_from_file_location("baseline", {baseline!r})
ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)
shards = {shards!r}
t = time.perf_counter()
lines, charmap, inv = ref.load_dataset(shards, 32, {lines})
wall = time.perf_counter() - t
print(json.dumps({{"wall_s": round(wall, 3),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    "lines": len(lines), "vocab": len(inv)}}))
"""


def run(code: str, env: dict) -> dict:
    return run_json([sys.executable, "-c", code], "benchmark process", env=env)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lines", type=int, default=10_000_000)
    p.add_argument("--tree", default=os.path.join(WORKDIR, "billion-words"))
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument("--corpus", default="synthetic", help="the lines the tree is made of: " + CORPUS_HELP)
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    p.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.build_only:
        build_tree(Path(a.tree), a.lines, [l for l in corpus_lines(a.corpus, a.data_dir) if l.strip()])
        return
    # build in a child: ru_maxrss of a process started from this one begins at this
    # process's peak (Linux carries the high-water mark across fork+exec), so stay small
    subprocess.run([sys.executable, __file__, "--build-only", "--lines", str(a.lines), "--tree", a.tree,
                    "--corpus", a.corpus, *(["--data-dir", a.data_dir] if a.data_dir else [])], check=True)
    root = Path(a.tree) / BW_ROOT
    cache = tempfile.mkdtemp(prefix="textgan-bench-cache-")
    env = {**os.environ, "TEXTGAN_CACHE_DIR": cache}
    try:
        code = TEXTGAN.format(repo=ROOT, tree=str(root), lines=a.lines)
        result = {"tool": "bench/load_speed.py", "lines": a.lines, "corpus": os.path.basename(a.corpus),
                  "cpu": cpu_model(), "cpus": os.cpu_count(),
                  "textgan_first": run(code, env), "textgan_cached": run(code, env)}
        if not a.skip_baseline:
            shards = sorted(str(s) for s in (root / TRAIN_DIR).iterdir())
            result["baseline"] = run(BASELINE_CODE.format(baseline=BASELINE, shards=shards,
                                                          lines=a.lines), env)
            base_s = result["baseline"]["wall_s"]
            result["first_load_speedup"] = round(base_s / result["textgan_first"]["wall_s"], 2)
            result["peak_rss_ratio"] = round(result["baseline"]["peak_rss_mb"]
                                             / result["textgan_first"]["peak_rss_mb"], 2)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    report("load_speed.py", result, a.no_record)


if __name__ == "__main__":
    main()
