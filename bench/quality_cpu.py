#!/usr/bin/env python3
"""Quality per CPU-minute: textgan's `small` preset vs the plain baseline at DIM 128, same minutes.

  python bench/quality_cpu.py [--minutes 10] [--side both|textgan|baseline] [--dim D]
                              [--critic-iters K] [--lr LR] [--batch B] [--precision fp32|bf16]
                              [--set FIELD=VALUE ...] [--every S] [--corpus NAME|PATH]
                              [--data-dir DIR] [--no-record]

Both train on --corpus (default: the built-in synthetic corpus; the figures in README.md used the
EMNLP News test set, `--corpus PATH/test_emnlp.txt`) for the same wall-clock minutes (training
loop only, setup excluded), one after the other, each in its own process:
  textgan:   the `small` preset (overrides optional) through its Trainer, stopping at the budget;
  baseline:  bench/baseline.py train --seconds S --dim 128 --samples-out FILE.
Both sides' 640 argmax samples are then scored by the SAME code, the baseline's evaluation (JS-1..4
in bits between the character n-grams of the samples and of the corpus lines, both cut/padded to the
small preset's sequence length, which the baseline then trains at too: 16 on synthetic, else 32):
textgan's samples are decoded and padded back to that length.
Prints one JSON object and appends it to bench/RESULTS.md.  Run it on a quiet machine.

--cpu: the textgan side trains on ONE thread for --minutes of its own CPU time (time.process_time),
so the figure holds on a shared machine ("10 CPU-minutes"); the baseline has no such budget.
--every S: the textgan side also scores its samples every S seconds of training (a JS curve in its
JSON; the scoring time is not counted in the budget).
With a weight average (`ema`, on in the small preset) the samples are the average's, and `last_js*`
scores the generator's last weights on the same noise: the average's gain within one run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baseline  # noqa: E402
from record import (BASELINE, CORPUS_HELP, DATA_DIR_HELP, ROOT, corpus_file, cpu_model,  # noqa: E402
                    report, run_json)


def real_ngram_models(text: str, seq_len: int) -> dict:
    """The n-gram models (n = 1..4) of the corpus file's lines, cut/padded to seq_len."""
    lines = baseline.read_lines(text, seq_len)
    return {n: baseline.NgramLanguageModel(n, lines) for n in range(1, 5)}


def js_of(samples: list[tuple], real_models: dict) -> dict:
    return {f"js{n}": round(baseline.NgramLanguageModel(n, samples).js_with(real_models[n]), 4)
            for n in range(1, 5)}


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
    from textgan.lm import generate_ids
    from textgan.train import Trainer, TrainerHooks

    overrides = {"dim": a.dim, "critic_iters": a.critic_iters, "lr": a.lr, "batch_size": a.batch,
                 "precision": a.precision, "seq_len": a.seq_len}
    for item in a.set:                          # any other config field, e.g. --set critic_lr=3e-3
        key, value = item.split("=", 1)
        overrides[key] = json.loads(value) if value[:1] in "0123456789-.[{" else value
    overrides.setdefault("iters", 10**9)       # the budget stops the run unless --set iters=N comes first
    cfg = make_config("small", corpus=a.corpus, data_dir=a.data_dir, device="cpu", **overrides)
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
    real_models = real_ngram_models(corpus_file(a.corpus, a.data_dir), L)

    def score_one(generator, prefix: str = "") -> dict:
        """JS-1..4 of 640 argmax samples, by the baseline's code (private noise: training is untouched)."""
        ids = generate_ids(generator, 640, batch_size=cfg.train.batch_size, seed=cfg.train.seed)
        samples = [tuple(line)[:L] + ("`",) * (L - len(line)) for line in corpus.vocab.decode(ids)]
        return {prefix + k: v for k, v in js_of(samples, real_models).items()}

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


def baseline_side(a) -> dict:
    """The baseline trains for the budget and writes its samples; they are scored like textgan's,
    at the textgan side's sequence length (the small preset's: 16 on the synthetic corpus, else 32)."""
    sys.path.insert(0, ROOT)
    from textgan.config import make_config
    seq_len = a.seq_len or make_config("small", corpus=a.corpus).model.seq_len
    text = corpus_file(a.corpus, a.data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        samples = os.path.join(tmp, "samples.txt")
        cmd = [sys.executable, BASELINE, "train", "--corpus", text, "--dim", "128", "--seq-len", str(seq_len),
               "--seconds", str(a.minutes * 60), "--iters", str(10**9), "--samples-out", samples,
               "--device", "cpu"]
        out = run_json(cmd, "baseline")
        lines = baseline.read_lines(samples, seq_len)
    return {**out, **js_of(lines, real_ngram_models(text, seq_len))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--side", choices=["both", "textgan", "baseline"], default="both")
    p.add_argument("--corpus", default="synthetic", help=CORPUS_HELP)
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
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
              "machine": f"{cpu_model()}, {os.cpu_count()} cpus, "
                         f"python {platform.python_version()}"}
    if a.side in ("both", "textgan"):
        # its own process, like the baseline: neither inherits the other's threads or memory
        result["textgan"] = run_json([sys.executable, os.path.abspath(__file__), "--worker"] + sys.argv[1:],
                                     "textgan side")
    if a.side in ("both", "baseline"):
        result["baseline"] = {k: v for k, v in baseline_side(a).items()
                              if k in ("js1", "js2", "js3", "js4", "gen_iters", "dim", "seq_len",
                                       "sec_per_gen_iter")}
    if "textgan" in result and "baseline" in result:
        result["js4_textgan_minus_baseline"] = round(result["textgan"]["js4"] - result["baseline"]["js4"], 4)
    report("quality_cpu.py", result, a.no_record)


if __name__ == "__main__":
    main()
