#!/usr/bin/env python3
"""Toy quality over CPU time: 8 or 25 Gaussians with the toy preset on this CPU.

  python bench/toy_quality.py [--preset small|paper] [--minutes 5] [--every 100] [--threads 1]
                              [--dataset 8gaussians|25gaussians] [--seed 1] [--min-modes N]
                              [--dim D] [--lr LR] [--iters N] [--critic-iters K] [--batch-size B]
                              [--gp-weight L] [--beta1 B1] [--beta2 B2] [--lr-decay none|linear]
                              [--figure bench/figures/toy_8gaussians.png] [--no-record]

Trains the preset's networks and optimiser (each setting can be overridden; the paper's: 512-unit
MLPs, lambda 0.1, 5 critic steps, batch 256, Adam 1e-4 beta (0.5, 0.9)) through textgan's Trainer
for the run's iterations (--iters, default the preset's; a linear learning-rate decay reaches 0 at
that step) or at most --minutes of training CPU time, whichever comes first (the process's CPU
seconds, time.process_time, evaluation excluded; with --threads 1 that is one thread's seconds,
independent of what else shares the machine), and every --every iterations measures 1,000 generated
points against 1,000 real ones with the run's own evaluator: modes covered (target all 8, or
--min-modes), share within 3 sigma (target >= 0.90 for 8gaussians; real data ~0.99) and exact W1.
Reports the first iteration and training CPU second at which the targets held, the curve, the CPU,
and writes the final Figure-1 picture (critic contours, real and generated points) to --figure and
the curve (W1, modes, share within 3 sigma over training CPU seconds) beside it (`*_curve.png`),
with the same metrics of 1,000 fresh real points (`real_floor`: what a perfect generator gets).
Prints one JSON object and appends it to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import figure_path, machine, report  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def save_curve_plot(path: str, curve: list[dict], n_modes: int, floor_w1: float, title: str) -> None:
    """W1 (left axis; dotted: real vs real points, the floor) and modes covered / share within
    3 sigma (right axis) over training CPU seconds."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    cpu = [c["train_cpu_s"] for c in curve]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    try:
        lines = ax.plot(cpu, [c["w1"] for c in curve], color="black", label="W1 (left)")
        lines += [ax.axhline(floor_w1, color="black", linestyle=":", linewidth=1,
                             label="W1 of real vs real points (left)")]
        ax.set_xlabel("training CPU seconds (one thread)")
        ax.set_ylabel("exact W1, 1,000 points")
        ax.set_ylim(bottom=0)
        if "modes" in curve[0]:
            right = ax.twinx()
            lines += right.plot(cpu, [c["within_3sigma"] for c in curve], color="tab:green",
                                label="within 3 sigma (right)")
            lines += right.plot(cpu, [c["modes"] / n_modes for c in curve], color="tab:orange",
                                linestyle="--", label=f"modes covered / {n_modes} (right)")
            right.set_ylim(0, 1.05)
        fig.legend(handles=lines, loc="lower center", ncol=2, fontsize=7, frameon=False)
        ax.set_title(title, fontsize=9)
        fig.tight_layout(rect=(0, 0.1, 1, 1))
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=["small", "paper"], default="small")
    p.add_argument("--dataset", default="8gaussians")
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--every", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dim", type=int, default=None, help="override the preset's DIM")
    p.add_argument("--lr", type=float, default=None, help="override the preset's learning rate")
    p.add_argument("--iters", type=int, default=None,
                   help="the run's generator iterations (default the preset's; the decay's length)")
    p.add_argument("--critic-iters", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--gp-weight", type=float, default=None)
    p.add_argument("--beta1", type=float, default=None)
    p.add_argument("--beta2", type=float, default=None)
    p.add_argument("--lr-decay", choices=["none", "linear"], default=None)
    p.add_argument("--min-modes", type=int, default=None,
                   help="modes that must be covered (default: all; the issue asks 23 of 25 for 25gaussians)")
    p.add_argument("--min-within", type=float, default=None,
                   help="share within 3 sigma that must hold (default 0.90 for 8gaussians, none otherwise)")
    p.add_argument("--figure", default=None, help="final Figure-1 picture (default bench/figures/toy_DATASET.png)")
    p.add_argument("--no-record", action="store_true")
    a = p.parse_args()

    sys.path.insert(0, ROOT)
    import torch

    from textgan.config import make_image_config, validate_config
    from textgan.data.toy import toy_sampler
    from textgan.data.toy import toy_modes
    from textgan.image import ToyEvaluator, build_image_models_for, generate, save_toy_plot
    from textgan.train import Trainer, TrainerHooks

    torch.set_num_threads(a.threads)
    names = ("dim", "lr", "iters", "critic_iters", "batch_size", "gp_weight", "beta1", "beta2", "lr_decay")
    extra = {k: getattr(a, k) for k in names if getattr(a, k) is not None}
    cfg = make_image_config(a.dataset, a.preset, device="cpu", seed=a.seed, **extra)
    validate_config(cfg)
    torch.manual_seed(cfg.train.seed)
    device = torch.device("cpu")
    generator, critic = build_image_models_for(cfg)
    sampler = toy_sampler(a.dataset, cfg.train.batch_size, cfg.train.seed, device)
    trainer = Trainer(generator, critic, sampler, cfg.train, device,
                      hooks=TrainerHooks(log=lambda m: None, progress=False))
    evaluator = ToyEvaluator(a.dataset, 1000, cfg.train.seed, None)
    n_modes = len(toy_modes(a.dataset).points)
    min_modes = n_modes if a.min_modes is None else a.min_modes
    min_within = a.min_within if a.min_within is not None else (0.90 if a.dataset == "8gaussians" else 0.0)
    load_start = os.getloadavg()
    budget, trained, wall = a.minutes * 60.0, 0.0, 0.0
    curve, reached = [], None
    while trained < budget and trainer.step < cfg.train.iters:
        t0, w0 = time.process_time(), time.perf_counter()
        for _ in range(min(a.every, cfg.train.iters - trainer.step)):
            trainer.iteration()
        trained += time.process_time() - t0
        wall += time.perf_counter() - w0
        m = evaluator(trainer.sampling_generator, trainer.step)
        point = {"iter": trainer.step, "train_cpu_s": round(trained, 1), **m}
        curve.append(point)
        print(point, file=sys.stderr, flush=True)
        if reached is None and m.get("modes", 0) >= min_modes and m.get("within_3sigma", 0) >= min_within:
            reached = {"iter": trainer.step, "train_cpu_s": round(trained, 1)}
    last = curve[-1]
    figure = a.figure or figure_path(f"toy_{a.dataset}.png", a.no_record)
    fake = generate(generator, 1000, seed=cfg.train.seed * 7919 + trainer.step).numpy()
    t = cfg.train
    decay = ", linear decay" if t.lr_decay == "linear" else ""
    quality = (f"{last['modes']} modes, {last['within_3sigma']:.0%} within 3 sigma, " if "modes" in last
               else "")                                           # the swiss roll has no modes
    save_toy_plot(figure, evaluator.real, fake, critic,
                  title=f"{a.dataset}, {a.preset}: DIM {cfg.model.dim}, lr {t.lr:g}{decay}, "
                        f"{t.critic_iters} critic steps, batch {t.batch_size}\n"
                        f"step {trainer.step}: {quality}W1 {last['w1']:.3f}, {trained:.0f} CPU s")
    curve_figure = os.path.splitext(figure)[0] + "_curve.png"
    floor = evaluator.floor()
    save_curve_plot(curve_figure, curve, n_modes, floor["w1"], f"{a.dataset}, {a.preset} preset: the evaluations over "
                                         f"training CPU time")
    result = {
        "bench": "toy_quality", "dataset": a.dataset, "preset": a.preset,
        "settings": {k: getattr(cfg.train, k) for k in ("gp_weight", "critic_iters", "batch_size", "lr",
                                                         "beta1", "beta2", "lr_decay", "iters")}
                    | {"dim": cfg.model.dim},
        **machine(a.threads, load_start),
        "budget_cpu_s": budget, "clock": "time.process_time of this process (one thread)",
        "iters": trainer.step, "train_wall_s": round(wall, 1),
        "cpu_s_per_iter": round(trained / trainer.step, 4),
        "targets": f"modes >= {min_modes}/{n_modes} and within_3sigma >= {min_within} (1,000 samples)",
        "reached": reached,
        "final": {k: last[k] for k in ("w1", "modes", "within_3sigma") if k in last},
        "real_floor": {k: floor[k] for k in ("w1", "modes", "within_3sigma") if k in floor},
        "figure": os.path.relpath(figure, ROOT),
        "curve_figure": os.path.relpath(curve_figure, ROOT),
        "curve": [[c["iter"], c["train_cpu_s"], c.get("modes"), c.get("within_3sigma"), c["w1"]] for c in curve],
        "curve_columns": ["iter", "train_cpu_s", "modes", "within_3sigma", "w1"],
    }
    report("toy_quality.py", result, a.no_record)


if __name__ == "__main__":
    main()
