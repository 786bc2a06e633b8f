#!/usr/bin/env python3
"""The paper's Figure 1(a): value surfaces of WGAN critics trained to optimality, with the "generator"
held fixed at the real data plus unit Gaussian noise (gan_toy.py's FIXED_GENERATOR: fake = real + N(0, I)),
weight clipping (top row) against the gradient penalty (bottom row), on 8 Gaussians, 25 Gaussians and
the Swiss roll.

  python bench/figure1a.py [--steps 2000] [--dim 256] [--gp-weight 0.1] [--clip 0.01] [--no-record]

Each critic is the toy critic of textgan/models/toy.py (gan_toy.py's 3 hidden ReLU layers, no
normalisation) at width --dim (the paper: 512; narrower here so that six critics train in a few CPU
minutes on one thread), trained alone for --steps critic steps on batches of 256 (gan_toy.py's batch):

  clipping  the WGAN critic loss of textgan.losses (objective wgan-clip), RMSProp lr 5e-5 (gan_toy.py's
            and Arjovsky et al.'s; PyTorch's RMSprop, decay 0.9 as TF), every weight clipped to +-c
            after each step (c = 0.01);
  penalty   objective wgan-gp: the same loss plus textgan.penalty.penalty_and_norms (two-sided,
            lambda 0.1 = gan_toy.py's LAMBDA for these toy sets, the code that made the figure),
            Adam 1e-4, beta (0.5, 0.9).

"Trained to optimality" is checked, not assumed: the critic's Wasserstein estimate E[D(real)] - E[D(fake)]
on a fixed held-out pair of batches is printed at 50% and 100% of the steps (a converged critic has
stopped growing it).  Contours of D over [-3, 3]^2 (gan_toy.py's plotting range, 128 x 128 grid) with
256 real (orange) and 256 fake (green) points.  Writes bench/figures/figure1a.png, prints one JSON
object and appends it to bench/RESULTS.md.  One thread (torch.set_num_threads(1)); the times are
CPU seconds of this process (time.process_time()), the machine being shared.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import cpu_model, figure_path, report  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from textgan.data.toy import NAMES, toy_sampler  # noqa: E402
from textgan.losses import objective_critic_loss, wasserstein_estimate  # noqa: E402
from textgan.models.toy import ToyCritic  # noqa: E402
from textgan.penalty import penalty_and_norms  # noqa: E402

RANGE, GRID = 3.0, 128
BATCH = 256


def fixed_fake(real: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """gan_toy.py's FIXED_GENERATOR: real + 1.0 * N(0, I)."""
    return real + torch.randn(real.shape, generator=g)


def train_critic(name: str, mode: str, args) -> tuple[ToyCritic, dict]:
    torch.manual_seed(args.seed)
    critic = ToyCritic(dim=args.dim)
    sampler = toy_sampler(name, BATCH, seed=args.seed)
    noise = torch.Generator().manual_seed(args.seed + 1)
    # fixed held-out pair for the convergence check
    check_real = toy_sampler(name, 2048, seed=args.seed + 99).next()
    check_fake = fixed_fake(check_real, torch.Generator().manual_seed(args.seed + 100))
    if mode == "clip":
        opt = torch.optim.RMSprop(critic.parameters(), lr=5e-5, alpha=0.9, eps=1e-10)
        objective = "wgan-clip"
    else:
        opt = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
        objective = "wgan-gp"
    estimates = {}
    t0 = time.process_time()
    for step in range(1, args.steps + 1):
        real = sampler.next()
        fake = fixed_fake(real, noise)
        scores = critic(torch.cat([real, fake]))
        d_real, d_fake = scores[:BATCH], scores[BATCH:]
        gp = 0.0
        if mode == "gp":
            gp, _ = penalty_and_norms(critic, real, fake, weight=args.gp_weight)
        loss = objective_critic_loss(objective, d_real, d_fake, gp)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if mode == "clip":
            with torch.no_grad():
                for p in critic.parameters():
                    p.clamp_(-args.clip, args.clip)
        if step in (args.steps // 2, args.steps):
            with torch.no_grad():
                estimates[step] = float(wasserstein_estimate(critic(check_real), critic(check_fake)))
    _, norms = penalty_and_norms(critic, check_real, check_fake, weight=1.0)
    info = {"wasserstein_estimate_by_step": {str(k): round(v, 4) for k, v in estimates.items()},
            "grad_norm_at_interpolates_mean": round(float(norms.mean()), 4),
            "grad_norm_at_interpolates_std": round(float(norms.std()), 4),
            "cpu_s": round(time.process_time() - t0, 1)}
    return critic, info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--gp-weight", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = np.linspace(-RANGE, RANGE, GRID)
    grid = torch.tensor(np.stack(np.meshgrid(xs, xs), -1).reshape(-1, 2), dtype=torch.float32)
    fig, axes = plt.subplots(2, 3, figsize=(10.5, 7.2), dpi=80)
    result = {"steps": args.steps, "dim": args.dim, "batch": BATCH, "gp_weight": args.gp_weight,
              "clip": args.clip, "threads": 1, "cpu": cpu_model(), "critics": {}}
    for col, name in enumerate(NAMES):
        show_real = toy_sampler(name, 256, seed=args.seed + 7).next()
        show_fake = fixed_fake(show_real, torch.Generator().manual_seed(args.seed + 8))
        for row, mode in enumerate(("clip", "gp")):
            critic, info = train_critic(name, mode, args)
            result["critics"][f"{name}/{mode}"] = info
            print(name, mode, info, flush=True)
            with torch.no_grad():
                values = critic(grid).reshape(GRID, GRID).numpy()
            ax = axes[row, col]
            cs = ax.contour(xs, xs, values, levels=20, cmap="viridis", linewidths=0.8)
            ax.scatter(show_fake[:, 0], show_fake[:, 1], s=3, c="tab:green", alpha=0.5, label="fake = real + N(0, I)")
            ax.scatter(show_real[:, 0], show_real[:, 1], s=3, c="tab:orange", label="real")
            ax.set_xlim(-RANGE, RANGE)
            ax.set_ylim(-RANGE, RANGE)
            ax.set_aspect("equal")
            ax.set_xticks([-2, 0, 2])
            ax.set_yticks([-2, 0, 2])
            span = values.max() - values.min()
            ax.set_title(f"{name}, {'clip c=' + str(args.clip) if mode == 'clip' else 'GP lambda=' + str(args.gp_weight)}\n"
                         f"D range {span:.3g}", fontsize=9)
            fig.colorbar(cs, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=7)
    axes[0, 0].set_ylabel("weight clipping", fontsize=11)
    axes[1, 0].set_ylabel("gradient penalty", fontsize=11)
    axes[0, 0].legend(loc="lower left", fontsize=7, markerscale=3)
    fig.suptitle(f"Critic value surfaces, generator fixed at real + N(0, I); 3x{args.dim} ReLU critic, "
                 f"{args.steps} critic steps", fontsize=11)
    fig.tight_layout()
    figure = figure_path("figure1a.png", args.no_record)
    fig.savefig(figure)
    result["figure"] = os.path.relpath(figure, ROOT)
    report("figure1a.py", result, args.no_record)


if __name__ == "__main__":
    main()
