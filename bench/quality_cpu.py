#!/usr/bin/env python3
"""Quality per CPU-minute: textgan's `small` preset vs the reference at DIM 128, same minutes.

  python bench/quality_cpu.py [--minutes 10] [--side both|textgan|reference] [--dim D]
                              [--critic-iters K] [--lr LR] [--batch B] [--precision fp32|bf16]
                              [--set FIELD=VALUE ...] [--every S] [--no-record]

Both train on ../shared/data/emnlp_news/test_emnlp.txt for the same wall-clock minutes (training
loop only, setup excluded), one after the other, each in its own process:
  textgan:   the `small` preset (overrides optional) through its Trainer, stopping at the budget;
  reference: ../shared/bench/reference_lm.py train --seconds S --dim 128 --eval.
Both are then scored by the SAME code, the reference's own evaluation (JS-1..4 in bits between the
character n-grams of 640 argmax samples and of the corpus lines cut/padded to 32): textgan's samples
are decoded and padded back to 32 characters and passed to the reference's NgramModel.
Prints one JSON object and appends it to bench/RESULTS.md.  Run it on a quiet machine.

--cpu: the textgan side trains on ONE thread for --minutes of its own CPU time (time.process_time),
so the figure holds on a shared machine ("10 CPU-minutes"); the reference has no such budget.
--every S: the textgan side also scores its samples every S seconds of training (a JS curve in its
JSON; the scoring time is not counted in the budget).
With a weight average (`ema`, on in the small preset) the samples are the average's, and `last_js*`
scores the generator's last weights on the same noise: the average's gain within one run.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import report, run_json  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
REF = os.path.join(SHARED, "bench", "reference_lm.py")
CORPUS = os.path.join(SHARED, "data", "emnlp_news", "test_emnlp.txt")


def _reference_module():
    spec = importlib.util.spec_from_file_location("reference_lm", REF)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def textgan_side(a) -> dict:
    sys.path.insert(0, ROOT)
    import torch
    if a.cpu:
        torch.set_num_threads(1)

    from textgan.config import make_config
    from textgan.data.corpus import load_corpus
    from textgan.lm import TextBatches, corpus_tensor
    from textgan.models.text import build_text_models
    from textgan.runs import resolve_conv
    from textgan.sample import generate_ids
    from textgan.train import Trainer, TrainerHooks

    overrides = {"dim": a.dim, "critic_iters": a.critic_iters, "lr": a.lr, "batch_size": a.batch,
                 "precision": a.precision, "seq_len": a.seq_len}
    for item in a.set:                          # any other config field, e.g. --set critic_lr=3e-3
        key, value = item.split("=", 1)
        overrides[key] = json.loads(value) if value[:1] in "0123456789-.[{" else value
    overrides.setdefault("iters", 10**9)       # the budget stops the run unless --set iters=N comes first
    cfg = make_config("small", corpus=a.corpus, device="cpu", **overrides)
    device = torch.device("cpu")
    corpus = load_corpus(cfg.data, cfg.model.seq_len, progress=False)
    cfg.model.vocab_size = len(corpus.vocab)
    torch.manual_seed(cfg.train.seed)
    conv = resolve_conv(cfg, device)          # as train-lm: winograd on CPU in float32
    gen, critic = build_text_models(cfg.model, conv=conv)
    sampler = TextBatches(corpus_tensor(corpus.ids, device), cfg.train.batch_size, len(corpus.vocab),
                          cfg.train.seed)
    trainer = Trainer(gen, critic, sampler, cfg.train, device,
                      hooks=TrainerHooks(log=lambda m: None, progress=False))
    L = cfg.model.seq_len
    ref = _reference_module()
    lines = ref.read_lines(a.corpus, L, 10_000_000)
    real_models = {n: ref.NgramModel(n, lines) for n in range(1, 5)}

    def score_one(generator, prefix: str = "") -> dict:
        """JS-1..4 of 640 argmax samples, by the reference's own code (private noise: training is untouched)."""
        ids = generate_ids(generator, 640, batch_size=cfg.train.batch_size, seed=cfg.train.seed)
        samples = [tuple(line)[:L] + ("`",) * (L - len(line)) for line in corpus.vocab.decode(ids)]
        return {f"{prefix}js{n}": round(ref.NgramModel(n, samples).js_with(real_models[n]), 4) for n in range(1, 5)}

    def score() -> dict:
        """The run's samples (the weight average with --ema); with an average, also the last weights
        (`last_js*`): a paired comparison within one run."""
        js = score_one(trainer.sampling_generator)
        if trainer.average is not None:
            js.update(score_one(trainer.G, "last_"))
        return js

    clock = time.process_time if a.cpu else time.perf_counter
    budget, start, scoring_s, curve = a.minutes * 60, clock(), 0.0, []
    next_score = a.every if a.every else float("inf")
    while clock() - start - scoring_s < budget and trainer.step < cfg.train.iters:
        trainer.iteration()
        if clock() - start - scoring_s >= next_score:     # --every: a JS curve, its cost off the budget
            t0 = clock()
            curve.append({"train_s": round(t0 - start - scoring_s, 1), "iter": trainer.step, **score()})
            print(json.dumps(curve[-1]), file=sys.stderr, flush=True)
            scoring_s += clock() - t0
            next_score += a.every
    train_s = clock() - start - scoring_s
    stats = trainer.read_stats()
    js = score()
    extra = {"curve": curve} if curve else {}
    return {**js, **extra, "gen_iters": trainer.step, "train_s": round(train_s, 1), "dim": cfg.model.dim,
            "critic_iters": cfg.train.critic_iters, "lr": cfg.train.lr, "critic_lr": cfg.train.critic_lr,
            "beta1": cfg.train.beta1, "lr_decay": cfg.train.lr_decay, "batch": cfg.train.batch_size,
            "precision": cfg.train.precision, "conv": conv, "n_blocks": cfg.model.n_blocks,
            "seq_len": cfg.model.seq_len, "ema": cfg.train.ema, "clock": "cpu, 1 thread" if a.cpu else "wall", "wasserstein": round(stats["wasserstein"], 4)}


def reference_side(a) -> dict:
    cmd = [sys.executable, REF, "train", "--corpus", a.corpus, "--dim", "128", "--seconds",
           str(a.minutes * 60), "--iters", str(10**9), "--eval", "--device", "cpu"]
    return run_json(cmd, "reference")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--side", choices=["both", "textgan", "reference"], default="both")
    p.add_argument("--corpus", default=CORPUS)
    p.add_argument("--dim", type=int, default=None, help="override the small preset's DIM")
    p.add_argument("--critic-iters", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--precision", choices=["fp32", "bf16"], default=None)
    p.add_argument("--cpu", action="store_true", help="textgan side: one thread, --minutes of CPU time")
    p.add_argument("--seq-len", type=int, default=None, help="override the small preset's sequence length")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override any other config field of the small preset (repeatable)")
    p.add_argument("--every", type=float, default=0.0, metavar="S",
                   help="textgan side: also score every S seconds of training (a JS curve; not counted)")
    p.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        print(json.dumps(textgan_side(a)))
        return
    result = {"bench": "quality_cpu", "minutes": a.minutes,
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
                         f"python {platform.python_version()}"}
    if a.side in ("both", "textgan"):
        # its own process, like the reference: neither inherits the other's threads or memory
        result["textgan"] = run_json([sys.executable, os.path.abspath(__file__), "--worker"] + sys.argv[1:],
                                     "textgan side")
    if a.side in ("both", "reference"):
        result["reference"] = {k: v for k, v in reference_side(a).items()
                               if k in ("js1", "js2", "js3", "js4", "gen_iters", "dim", "sec_per_gen_iter")}
    if "textgan" in result and "reference" in result:
        result["js4_textgan_minus_reference"] = round(result["textgan"]["js4"] - result["reference"]["js4"], 4)
    report("quality_cpu.py", result, a.no_record)


if __name__ == "__main__":
    main()
