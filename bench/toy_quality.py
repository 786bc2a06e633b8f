#!/usr/bin/env python3
"""Toy quality over wall time: 8 Gaussians with the toy preset on this CPU.

  python bench/toy_quality.py [--preset small|paper] [--minutes 5] [--every 100] [--threads 2]
                              [--dataset 8gaussians] [--seed 1] [--no-record]

Trains the preset's networks (512-unit MLPs, lambda 0.1, 5 critic steps, batch 256, Adam 1e-4
beta (0.5, 0.9)) through textgan's Trainer for at most --minutes of training time (evaluation
excluded) and every --every iterations measures 1,000 generated points against 1,000 real ones with
the run's own evaluator: modes covered (target 8/8), share within 3 sigma (target >= 0.90; real data
~0.99) and exact W1.  Reports the first iteration and training second at which both targets held,
the curve, the CPU and the machine load (other processes share the cores).  Prints one JSON object
and appends it to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import report  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=["small", "paper"], default="small")
    p.add_argument("--dataset", default="8gaussians")
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--every", type=int, default=100)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-record", action="store_true")
    a = p.parse_args()

    sys.path.insert(0, ROOT)
    import torch

    from textgan.config import make_image_config
    from textgan.data.toy import toy_sampler
    from textgan.image import ToyEvaluator, build_image_models_for
    from textgan.train import Trainer, TrainerHooks

    torch.set_num_threads(a.threads)
    cfg = make_image_config(a.dataset, a.preset, device="cpu", seed=a.seed, iters=10**9)
    torch.manual_seed(cfg.train.seed)
    device = torch.device("cpu")
    generator, critic = build_image_models_for(cfg)
    sampler = toy_sampler(a.dataset, cfg.train.batch_size, cfg.train.seed, device)
    trainer = Trainer(generator, critic, sampler, cfg.train, device,
                      hooks=TrainerHooks(log=lambda m: None, progress=False))
    evaluator = ToyEvaluator(a.dataset, 1000, cfg.train.seed, None)
    load_start = os.getloadavg()
    budget, trained = a.minutes * 60.0, 0.0
    curve, reached = [], None
    while trained < budget:
        t0 = time.perf_counter()
        for _ in range(a.every):
            trainer.iteration()
        trained += time.perf_counter() - t0
        m = evaluator(generator, trainer.step)
        point = {"iter": trainer.step, "train_s": round(trained, 1), **m}
        curve.append(point)
        print(point, file=sys.stderr, flush=True)
        if reached is None and m.get("modes") == 8 and m.get("within_3sigma", 0) >= 0.90:
            reached = {"iter": trainer.step, "train_s": round(trained, 1)}
    last = curve[-1]
    result = {
        "bench": "toy_quality", "dataset": a.dataset, "preset": a.preset,
        "settings": {k: getattr(cfg.train, k) for k in ("gp_weight", "critic_iters", "batch_size", "lr",
                                                         "beta1", "beta2")} | {"dim": cfg.model.dim},
        "cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": a.threads,
        "torch": torch.__version__,
        "loadavg_start": [round(x, 2) for x in load_start],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "budget_s": budget, "iters": trainer.step,
        "s_per_iter": round(trained / trainer.step, 4),
        "targets": "modes 8/8 and within_3sigma >= 0.90 (1,000 samples)",
        "reached": reached,
        "final": {k: last[k] for k in ("w1", "modes", "within_3sigma") if k in last},
        "curve": [[c["iter"], c["train_s"], c.get("modes"), c.get("within_3sigma"), c["w1"]] for c in curve],
        "curve_columns": ["iter", "train_s", "modes", "within_3sigma", "w1"],
    }
    report("toy_quality.py", result, a.no_record)


if __name__ == "__main__":
    main()
