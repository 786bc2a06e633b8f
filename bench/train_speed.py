#!/usr/bin/env python3
"""Training speed: textgan's Trainer vs the plain baseline (bench/baseline.py train), same settings.

  python bench/train_speed.py [--dim 128] [--rounds 3] [--iters 5] [--precision fp32|bf16]
                              [--conv auto|direct|winograd] [--device cpu] [--threads N]
                              [--corpus NAME|PATH] [--data-dir DIR] [--no-record]

The paper's settings except DIM (batch 64, sequence 32, 10 critic iterations, lambda 10, Adam 1e-4)
on --corpus (default: the built-in synthetic corpus; the figures in README.md used the EMNLP News
test set, `--corpus PATH/test_emnlp.txt`).  Both sides read the same text file (a named corpus is
written out once under the temporary directory).  Each round runs textgan and the baseline once,
each in its own fresh process, alternating (so both see the same machine load); each reports the
median seconds per generator iteration over its warm iterations (the first two are dropped, as the
baseline does).  Sequences per second = batch * critic_iters / (seconds per generator iteration).
Prints one JSON object (per-round figures, medians, the ratio textgan / baseline, the hours a full
200,000-iteration run would take at each speed) and appends it to bench/RESULTS.md.  --threads sets
OMP_NUM_THREADS for both sides alike.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import (BASELINE, CORPUS_HELP, DATA_DIR_HELP, ROOT, corpus_file, cpu_model,  # noqa: E402
                    report, run_json)

BATCH, SEQ_LEN, CRITIC_ITERS = 64, 32, 10


def worker(dim: int, iters: int, precision: str, conv: str, device: str, corpus: str) -> dict:
    """textgan's side, in its own process: the Trainer's iterations, timed like the baseline."""
    sys.path.insert(0, ROOT)
    import torch

    from textgan.config import DataConfig, ModelConfig, RunConfig, TrainConfig
    from textgan.data.corpus import load_corpus
    from textgan.lm import TextBatches, corpus_tensor
    from textgan.models.text import build_text_models
    from textgan.runs import resolve_conv
    from textgan.train import Trainer, TrainerHooks

    dev = torch.device(device)
    corpus_ = load_corpus(DataConfig(corpus=corpus), SEQ_LEN, progress=False)
    vocab = len(corpus_.vocab)
    model_cfg = ModelConfig(dim=dim, seq_len=SEQ_LEN, vocab_size=vocab)
    cfg = TrainConfig(iters=iters, critic_iters=CRITIC_ITERS, batch_size=BATCH, precision=precision,
                      device=device, conv=conv)
    conv = resolve_conv(RunConfig(model=model_cfg, train=cfg), dev)
    torch.manual_seed(1)
    gen, critic = build_text_models(model_cfg, conv=conv)
    sampler = TextBatches(corpus_tensor(corpus_.ids, dev), BATCH, vocab, cfg.seed)
    trainer = Trainer(gen.to(dev), critic.to(dev), sampler, cfg, dev,
                      hooks=TrainerHooks(log=lambda m: None, progress=False))
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        trainer.iteration()
        sync()
        times.append(time.perf_counter() - t)
    stats = trainer.read_stats()
    sec = statistics.median(times[min(2, len(times) - 1):])
    return {"sec_per_gen_iter": sec, "sequences_per_s": BATCH * CRITIC_ITERS / sec, "vocab": vocab,
            "threads": torch.get_num_threads(), "conv": conv, "critic_loss": stats["critic_loss"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iters", type=int, default=5, help="generator iterations per run (2 warm-up)")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--conv", choices=["auto", "direct", "winograd"], default="auto",
                   help="textgan's convolutions (auto: winograd on CPU in fp32, as train-lm)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="OMP_NUM_THREADS for both sides (0: default)")
    p.add_argument("--corpus", default="synthetic", help=CORPUS_HELP)
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        print(json.dumps(worker(a.dim, a.iters, a.precision, a.conv, a.device, a.corpus)))
        return
    text = corpus_file(a.corpus, a.data_dir)     # the one file both sides read
    env = dict(os.environ)
    if a.threads:
        env["OMP_NUM_THREADS"] = str(a.threads)
    ours_cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--dim", str(a.dim), "--iters",
                str(a.iters), "--precision", a.precision, "--conv", a.conv, "--device", a.device,
                "--corpus", text]
    base_cmd = [sys.executable, BASELINE, "train", "--corpus", text, "--dim", str(a.dim), "--batch",
                str(BATCH), "--seq-len", str(SEQ_LEN), "--critic-iters", str(CRITIC_ITERS),
                "--iters", str(a.iters), "--device", a.device]
    rounds = []
    for r in range(a.rounds):
        # alternate which side goes first, so neither always follows the other's leftovers
        order = ("textgan", "baseline") if r % 2 == 0 else ("baseline", "textgan")
        got = {side: run_json(cmd, " ".join(cmd), env=env, cwd=ROOT)
               for side in order for cmd in [ours_cmd if side == "textgan" else base_cmd]}
        rounds.append({"textgan": round(got["textgan"]["sequences_per_s"], 2),
                       "baseline": round(got["baseline"]["sequences_per_s"], 2),
                       "ratio": round(got["textgan"]["sequences_per_s"] / got["baseline"]["sequences_per_s"], 3)})
        print(json.dumps({"round": r, **rounds[-1]}), file=sys.stderr)
    ours = statistics.median(x["textgan"] for x in rounds)
    base = statistics.median(x["baseline"] for x in rounds)
    result = {"bench": "train_speed",
              "machine": f"{cpu_model()}, {os.cpu_count()} cpus, "
                         f"python {platform.python_version()}, device {a.device}",
              "settings": {"dim": a.dim, "batch": BATCH, "seq_len": SEQ_LEN, "critic_iters": CRITIC_ITERS,
                           "iters_per_run": a.iters, "precision": a.precision, "conv": a.conv,
                           "threads": a.threads or "default", "corpus": os.path.basename(a.corpus)},
              "rounds": rounds,
              "textgan_sequences_per_s": ours, "baseline_sequences_per_s": base,
              "ratio_of_medians": round(ours / base, 3),
              # a full paper run (200,000 generator iterations) at these speeds
              "eta_200k_iters_hours": {"textgan": round(200_000 * BATCH * CRITIC_ITERS / ours / 3600, 1),
                                       "baseline": round(200_000 * BATCH * CRITIC_ITERS / base / 3600, 1)},
              "median_round_ratio": statistics.median(x["ratio"] for x in rounds)}
    report("train_speed.py", result, a.no_record)


if __name__ == "__main__":
    main()
