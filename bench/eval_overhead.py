#!/usr/bin/env python3
"""Cost of the in-training evaluation relative to training, at the paper's settings.

  python bench/eval_overhead.py [--lines 1000000] [--iters 3] [--evals 3] [--corpus NAME|PATH]
                                [--data-dir DIR] [--no-record]

One in-training evaluation is what `textgan.lm.TextEvaluator` does every `eval_every` (100)
generator iterations: generate 640 lines with the paper-size generator (DIM 512, argmax,
batches of 64, `textgan.lm.generate_ids`) and their JS-1..4 against the corpus statistics
(`NgramReference`, built once per run, before training: its build time is reported apart).
The corpus is the n-gram benchmark's LINES-line text (bench/ngram_speed.py makes it from the lines
of --corpus, default the built-in synthetic corpus), encoded
as vocabulary ids (dense ranks of its characters), as a training run holds it.

One training iteration is `textgan.train.Trainer.iteration()` with `textgan.models.text`
at DIM 512, batch 64, 10 critic steps per generator step (the paper's settings), real batches
drawn from the same corpus; ITERS warm iterations are timed after one warm-up iteration.

overhead_pct = eval_s / (100 * iter_s) * 100: the share of training time spent evaluating.
Medians over EVALS evaluations and ITERS iterations.  Prints JSON, appends it to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import CORPUS_HELP, DATA_DIR_HELP, ROOT, WORKDIR, corpus_lines, cpu_model, report  # noqa: E402

sys.path.insert(0, ROOT)

from textgan.config import TrainConfig  # noqa: E402
from textgan.lm import TextBatches, TextEvaluator, corpus_tensor  # noqa: E402
from textgan.metrics.tokens import file_char_ids  # noqa: E402
from textgan.models.text import Critic, Generator  # noqa: E402
from textgan.lm import generate_ids  # noqa: E402
from textgan.train import Trainer, TrainerHooks  # noqa: E402


def vocab_ids(path: str, seq_len: int) -> np.ndarray:
    """The corpus as a run holds it: [N, L] ids of a dense character vocabulary (id 0 = unknown)."""
    cps = file_char_ids(path, seq_len)
    counts = np.bincount(cps.ravel())
    chars = np.flatnonzero(counts)
    rank = np.zeros(len(counts), np.int64)
    rank[chars[np.argsort(-counts[chars], kind="stable")]] = np.arange(1, len(chars) + 1)
    ids = rank[cps]
    return ids.astype(np.uint8 if ids.max() < 256 else np.uint16)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--iters", type=int, default=3, help="timed training iterations (after 1 warm-up)")
    p.add_argument("--evals", type=int, default=3, help="timed evaluations (after 1 warm-up)")
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--workdir", default=WORKDIR)
    p.add_argument("--corpus", default="synthetic", help=CORPUS_HELP)
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--no-record", action="store_true")
    a = p.parse_args()

    import ngram_speed                                        # the benchmark corpus, made once
    corpus_path = os.path.join(a.workdir, f"eval_overhead_{a.lines}.txt")
    os.makedirs(a.workdir, exist_ok=True)
    ngram_speed.make_corpus(corpus_lines(a.corpus, a.data_dir), corpus_path, a.lines)
    ids = vocab_ids(corpus_path, 32)
    V = int(ids.max()) + 1
    cfg = TrainConfig(batch_size=64, critic_iters=10, eval_samples=640)
    device = torch.device("cpu")
    torch.manual_seed(0)
    conv = "winograd"               # what train-lm's --conv auto runs on CPU in float32
    G, D = Generator(V, a.dim, conv=conv), Critic(V, a.dim, conv=conv)

    t0 = time.perf_counter()
    evaluator = TextEvaluator(ids, None, cfg.eval_samples, cfg.batch_size, seed=1, samples_dir=None)
    build_s = time.perf_counter() - t0

    evaluator(G, 0)                                           # warm-up
    evals, gens, jss = [], [], []
    for step in range(1, a.evals + 1):
        t0 = time.perf_counter()
        js = evaluator(G, step * 100)
        evals.append(time.perf_counter() - t0)
        # The two parts apart (same work as the evaluator's call).
        t0 = time.perf_counter()
        sample = generate_ids(G, cfg.eval_samples, batch_size=cfg.batch_size, seed=step)
        t1 = time.perf_counter()
        evaluator.reference.js(sample)
        gens.append(t1 - t0)
        jss.append(time.perf_counter() - t1)

    sampler = TextBatches(corpus_tensor(ids, device), cfg.batch_size, V, seed=1)
    trainer = Trainer(G, D, sampler, cfg, device, hooks=TrainerHooks(progress=False, log=lambda s: None))
    trainer.iteration()                                       # warm-up
    iters = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        trainer.iteration()
        iters.append(time.perf_counter() - t0)

    med = lambda xs: float(statistics.median(xs))
    eval_s, iter_s = med(evals), med(iters)
    result = {
        "bench": "eval_overhead",
        "machine": f"{cpu_model()}, {os.cpu_count()} cpus, "
                   f"torch {torch.__version__} ({torch.get_num_threads()} threads), cpu",
        "corpus": os.path.basename(a.corpus), "corpus_lines": int(ids.shape[0]), "vocab": V, "dim": a.dim, "batch": cfg.batch_size,
        "critic_iters": cfg.critic_iters, "eval_samples": cfg.eval_samples, "eval_every": cfg.eval_every,
        "reference_build_s": build_s,
        "eval_s": eval_s, "eval_generate_s": med(gens), "eval_js_s": med(jss),
        "iter_s": iter_s, "evals_s": evals, "iters_s": iters,
        "overhead_pct": 100 * eval_s / (cfg.eval_every * iter_s),
        "last_js": js,
    }
    report("eval_overhead.py", result, a.no_record)


if __name__ == "__main__":
    main()
