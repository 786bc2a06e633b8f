#!/usr/bin/env python3
"""MNIST quality over CPU time: the MNIST preset through textgan's Trainer on this CPU.

  python bench/mnist_quality.py [--preset small|paper] [--minutes 20] [--every N] [--threads 1]
                                [--data-dir DIR] [--seed 1] [--target 8.5]
                                [--dim D] [--lr LR] [--beta1 B] [--critic-iters K] [--batch-size B]
                                [--lr-decay none|linear] [--iters N] [--eval-samples N]
                                [--figure bench/figures/mnist_small_grid.png] [--no-record]

Trains the preset's networks for at most --minutes of training CPU time (the process's CPU seconds,
time.process_time, evaluation excluded; with --threads 1 that is one thread's seconds, independent
of what else shares the machine) or the preset's --iters, whichever comes first (the linear learning-
rate decay, when on, runs to 0 over --iters).  Every --every iterations it measures, with the run's own
evaluator (the same code as `train-image` and `eval-image`): the classifier score and the Fréchet
distance of --eval-samples generated digits (10 splits; real statistics from as many training digits)
and the critic's held-out Wasserstein estimate on the preset's held-out digits.  The real-data floor is
the same protocol on as many held-out (validation) digits.  The one-off training of the cached MNIST
classifier (textgan/metrics/classifier.py) happens before the clock starts and is reported on its own.
Reports the first iteration and training CPU second at which classifier_score >= --target held, the
curve and the CPU, and writes the final 8x8 sample grid to --figure.  Prints one JSON object and
appends it to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import figure_path, machine, report  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OVERRIDES = ("dim", "lr", "beta1", "critic_iters", "batch_size", "lr_decay", "iters", "eval_samples")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=["small", "paper"], default="small")
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--every", type=int, default=None, help="iterations between evaluations "
                   "(default: the preset's eval_every)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data-dir", default=os.environ.get("TEXTGAN_MNIST_DIR"),
                   help="where the four MNIST idx files are (default: $TEXTGAN_MNIST_DIR, else the cache)")
    p.add_argument("--target", type=float, default=8.5, help="classifier score to reach")
    p.add_argument("--dim", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--beta1", type=float)
    p.add_argument("--critic-iters", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr-decay", choices=["none", "linear"])
    p.add_argument("--iters", type=int, help="the run's length (the decay's horizon); the CPU budget "
                   "may stop it earlier")
    p.add_argument("--eval-samples", type=int)
    p.add_argument("--figure", default=None, help="final grid (default bench/figures/mnist_PRESET_grid.png)")
    p.add_argument("--no-record", action="store_true")
    a = p.parse_args()

    sys.path.insert(0, ROOT)
    import torch

    from textgan.data.images import ImageBatches
    from textgan.image import (heldout_images, ImageEvaluator, _first, build_image_models_for, load_data,
                               write_sample_grid)
    from textgan.metrics.classifier import classifier_cache_path
    from textgan.train import Trainer, TrainerHooks

    torch.set_num_threads(a.threads)
    extra = {k: getattr(a, k) for k in OVERRIDES if getattr(a, k) is not None}
    cfg = make_config(a, extra)
    t = cfg.train
    every = a.every or t.eval_every
    device = torch.device("cpu")
    data = load_data(cfg, progress=False)
    x, y = data.train.arrays()
    had_classifier = classifier_cache_path(x, y).exists()
    c0 = time.process_time()
    evaluator = ImageEvaluator(data, cfg, None, lambda m: print(m, file=sys.stderr), device)
    classifier_s = time.process_time() - c0
    floor = evaluator.floor(data.heldout)
    print({"floor": floor}, file=sys.stderr, flush=True)

    torch.manual_seed(t.seed)
    generator, critic = build_image_models_for(cfg)
    sampler = ImageBatches(data.train, t.batch_size, data.scale, t.seed, device)
    heldout = heldout_images(_first(data.heldout, t.heldout_samples), t.batch_size, data.scale, device, t.seed)
    trainer = Trainer(generator, critic, sampler, t, device, heldout=heldout,
                      hooks=TrainerHooks(log=lambda m: None, progress=False))
    load_start = os.getloadavg()
    budget, trained, wall, eval_s = a.minutes * 60.0, 0.0, 0.0, 0.0
    curve, reached = [], None
    while trained < budget and trainer.step < t.iters:
        t0, w0 = time.process_time(), time.perf_counter()
        for _ in range(min(every, t.iters - trainer.step)):
            trainer.iteration()
        trained += time.process_time() - t0
        wall += time.perf_counter() - w0
        e0 = time.process_time()
        m = evaluator(trainer.sampling_generator, trainer.step)
        w_heldout = trainer.heldout_estimate()
        eval_s += time.process_time() - e0
        point = {"iter": trainer.step, "train_cpu_s": round(trained, 1), **m,
                 "wasserstein_heldout": round(w_heldout, 4)}
        curve.append(point)
        print(point, file=sys.stderr, flush=True)
        if reached is None and m.get("classifier_score", 0.0) >= a.target:
            reached = {"iter": trainer.step, "train_cpu_s": round(trained, 1)}
    last = curve[-1]
    figure = a.figure or figure_path(f"mnist_{a.preset}_grid.png", a.no_record)
    write_sample_grid(generator, figure, (0.0, 1.0), seed=t.seed * 7919 + trainer.step)
    result = {
        "bench": "mnist_quality", "preset": a.preset,
        "settings": {k: getattr(t, k) for k in ("iters", "critic_iters", "batch_size", "gp_weight", "lr",
                                                 "beta1", "beta2", "lr_decay", "eval_samples",
                                                 "heldout_samples")} | {"dim": cfg.model.dim},
        "overrides": extra,
        **machine(a.threads, load_start),
        "budget_cpu_s": budget, "clock": "time.process_time of this process (one thread), training only",
        "classifier": {"cached_before": had_classifier, "load_or_train_cpu_s": round(classifier_s, 1)},
        "eval_cpu_s": round(eval_s, 1),
        "protocol": f"{t.eval_samples} samples in 10 splits for generated digits and for the floor "
                    f"({t.eval_samples} held-out digits); fd against {t.eval_samples} training digits",
        "floor_real_heldout": floor,
        "iters": trainer.step, "train_wall_s": round(wall, 1),
        "cpu_s_per_iter": round(trained / trainer.step, 4),
        "target": f"classifier_score >= {a.target}",
        "reached": reached,
        "final": {k: last[k] for k in ("classifier_score", "classifier_score_std", "fd",
                                       "wasserstein_heldout") if k in last},
        "figure": os.path.relpath(figure, ROOT),
        "curve_columns": ["iter", "train_cpu_s", "classifier_score", "fd", "wasserstein_heldout"],
        "curve": [[c["iter"], c["train_cpu_s"], c.get("classifier_score"), c.get("fd"),
                   c["wasserstein_heldout"]] for c in curve],
    }
    report("mnist_quality.py", result, a.no_record)


def make_config(a, extra: dict):
    from textgan.config import make_image_config, validate_config
    cfg = make_image_config("mnist", a.preset, device="cpu", seed=a.seed, data_dir=a.data_dir, **extra)
    validate_config(cfg)
    return cfg


if __name__ == "__main__":
    main()
