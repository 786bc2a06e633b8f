#!/usr/bin/env python3
"""Corpus loading at the paper's scale: textgan vs the reference loader.

Builds (once) a Billion-Word-shaped tree of LINES lines under /tmp: the official
layout, ~306k lines per training shard, each line a perturbed copy of a line of
../shared/data/lm1b/lm1b_100.txt (words rotated, one character changed, a
number inserted), plus one held-out shard.  Then, each in a fresh process:

  textgan_first   load_corpus(billion-words, seq_len 32, max_lines LINES), empty cache
  textgan_cached  the same call again: memory-maps the cached arrays (touch_all_pages_s:
                  the time to then read one byte of every page, which the map defers)
  reference       reference_lm.read_lines over the shards in order + build_charmap

and prints one JSON object: wall seconds of the load call, peak RSS of the
process (ru_maxrss) and of its worker processes, and the encoded array size.

  python bench/load_speed.py [--lines 10000000] [--tree /tmp/textgan-bw-bench] [--skip-reference]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import run_json  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEED_LINES = SHARED / "data" / "lm1b" / "lm1b_100.txt"
REFERENCE = SHARED / "bench" / "reference_lm.py"
PER_SHARD = 306_000          # Billion Word: ~30.3M lines over 99 training shards
TRAIN_DIR = "training-monolingual.tokenized.shuffled"
HELDOUT_DIR = "heldout-monolingual.tokenized.shuffled"
ROOT = "1-billion-word-language-modeling-benchmark-r13output"


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


def build_tree(tree: Path, lines: int) -> Path:
    root = tree / ROOT
    marker = tree / f".complete-{lines}"
    if marker.exists():
        return root
    if tree.exists():
        shutil.rmtree(tree)
    base = SEED_LINES.read_text(encoding="utf-8").splitlines()
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

REFERENCE_CODE = r"""
import importlib.util, json, resource, sys, time
spec = importlib.util.spec_from_file_location("reference_lm", {ref!r})
ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)
shards = {shards!r}
t = time.perf_counter()
lines = []
for s in shards:   # the original's load_dataset: shards in order until max_lines
    lines += ref.read_lines(s, 32, {lines} - len(lines))
    if len(lines) >= {lines}:
        break
charmap, inv = ref.build_charmap(lines)
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
    p.add_argument("--tree", default="/tmp/textgan-bw-bench")
    p.add_argument("--skip-reference", action="store_true")
    p.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.build_only:
        build_tree(Path(a.tree), a.lines)
        return
    # build in a child: ru_maxrss of a process started from this one begins at this
    # process's peak (Linux carries the high-water mark across fork+exec), so stay small
    subprocess.run([sys.executable, __file__, "--build-only", "--lines", str(a.lines),
                    "--tree", a.tree], check=True)
    root = Path(a.tree) / ROOT
    cache = tempfile.mkdtemp(prefix="textgan-bench-cache-")
    env = {**os.environ, "TEXTGAN_CACHE_DIR": cache}
    try:
        code = TEXTGAN.format(repo=str(REPO), tree=str(root), lines=a.lines)
        result = {"tool": "bench/load_speed.py", "lines": a.lines, "cpus": os.cpu_count(),
                  "textgan_first": run(code, env), "textgan_cached": run(code, env)}
        if not a.skip_reference:
            shards = sorted(str(s) for s in (root / TRAIN_DIR).iterdir())
            result["reference"] = run(REFERENCE_CODE.format(ref=str(REFERENCE), shards=shards,
                                                            lines=a.lines), env)
            ref_s = result["reference"]["wall_s"]
            result["first_load_speedup"] = round(ref_s / result["textgan_first"]["wall_s"], 2)
            result["peak_rss_ratio"] = round(result["reference"]["peak_rss_mb"]
                                             / result["textgan_first"]["peak_rss_mb"], 2)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
