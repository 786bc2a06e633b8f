#!/usr/bin/env python3
"""The paper's Figure 1(b): gradient norms of a deep WGAN critic, layer by layer, on the Swiss roll,
with weight clipping at c in {0.1, 0.01, 0.001} against the gradient penalty.

  python bench/figure1b.py [--steps 100] [--dim 512] [--layers 12] [--gp-weight 0.1] [--no-record]

The critic is a --layers-deep ReLU MLP without batch norm (11 hidden Linear(DIM)+ReLU layers and a
Linear(DIM, 1) output for 12; tflib's initialisation as textgan/models/toy.py: He for the hidden layers,
Glorot for the output).  As in bench/figure1a.py the "generator" is fixed at the real data plus unit
Gaussian noise (gan_toy.py's FIXED_GENERATOR), and each critic is trained alone, briefly (--steps critic
steps on batches of 256):

  clip c    objective wgan-clip of textgan.losses, RMSProp lr 5e-5 (decay 0.9 as TF), every parameter
            clamped to +-c after each step;
  penalty   objective wgan-gp: the same loss plus textgan.penalty.penalty_and_norms (two-sided,
            lambda --gp-weight, 0.1 = gan_toy.py's LAMBDA for the toy sets), Adam 1e-4, beta (0.5, 0.9).

Then, on --measure fresh batches, the gradient of that critic loss (penalty included for the penalty
critic) with respect to each layer's weight matrix; the figure plots log10 of its Frobenius norm (mean
over the batches) against the layer index (1 = the input layer), one line per setting.  The paper's
picture: under clipping the norms grow (c = 0.1) or shrink (c = 0.001) geometrically with depth
(exploding / vanishing), under the penalty they stay within a narrow band.  Writes
bench/figures/figure1b.png, prints one JSON object and appends it to bench/RESULTS.md.  One thread; times
are CPU seconds of this process (time.process_time()).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from figure1a import fixed_fake  # noqa: E402
from record import cpu_model, figure_path, report  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from textgan.data.toy import toy_sampler  # noqa: E402
from textgan.losses import objective_critic_loss  # noqa: E402
from textgan.models.toy import init_linear_  # noqa: E402
from textgan.penalty import penalty_and_norms  # noqa: E402

BATCH = 256
CLIPS = (0.1, 0.01, 0.001)


class DeepCritic(nn.Module):
    """`layers` Linear layers, ReLU between them, no normalisation: x [B, 2] -> [B]."""

    def __init__(self, dim: int, layers: int):
        super().__init__()
        mods: list[nn.Module] = []
        for i in range(layers - 1):
            mods += [init_linear_(nn.Linear(2 if i == 0 else dim, dim), "he"), nn.ReLU()]
        mods.append(init_linear_(nn.Linear(dim, 1), "glorot"))
        self.net = nn.Sequential(*mods)
        self.linears = [m for m in mods if isinstance(m, nn.Linear)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def critic_loss(critic: DeepCritic, real, fake, mode: str, gp_weight: float) -> torch.Tensor:
    scores = critic(torch.cat([real, fake]))
    d_real, d_fake = scores[: len(real)], scores[len(real):]
    if mode == "gp":
        gp, _ = penalty_and_norms(critic, real, fake, weight=gp_weight)
        return objective_critic_loss("wgan-gp", d_real, d_fake, gp)
    return objective_critic_loss("wgan-clip", d_real, d_fake, 0.0)


def run_setting(mode: str, clip: float | None, args) -> dict:
    torch.manual_seed(args.seed)
    critic = DeepCritic(args.dim, args.layers)
    sampler = toy_sampler("swissroll", BATCH, seed=args.seed)
    noise = torch.Generator().manual_seed(args.seed + 1)
    if mode == "clip":
        opt = torch.optim.RMSprop(critic.parameters(), lr=5e-5, alpha=0.9, eps=1e-10)
    else:
        opt = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
    t0 = time.process_time()
    for _ in range(args.steps):
        real = sampler.next()
        loss = critic_loss(critic, real, fixed_fake(real, noise), mode, args.gp_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if mode == "clip":
            with torch.no_grad():
                for p in critic.parameters():
                    p.clamp_(-clip, clip)
    # the gradient of the critic loss w.r.t. each layer's weights, on fresh batches
    norms = np.zeros((args.measure, args.layers))
    for k in range(args.measure):
        real = sampler.next()
        loss = critic_loss(critic, real, fixed_fake(real, noise), mode, args.gp_weight)
        grads = torch.autograd.grad(loss, [m.weight for m in critic.linears])
        norms[k] = [float(g.norm()) for g in grads]
    mean = norms.mean(0)
    log10 = np.log10(np.maximum(mean, 1e-300))
    return {"log10_grad_norm_by_layer": [round(float(v), 3) for v in log10],
            "log10_span": round(float(log10.max() - log10.min()), 2),
            "cpu_s": round(time.process_time() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100, help="critic steps before measuring (default 100)")
    ap.add_argument("--measure", type=int, default=5, help="batches the norms are averaged over")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--gp-weight", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    if args.layers < 2:
        ap.error("--layers must be at least 2")
    torch.set_num_threads(1)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = {"steps": args.steps, "measure_batches": args.measure, "dim": args.dim, "layers": args.layers,
              "batch": BATCH, "gp_weight": args.gp_weight, "threads": 1, "cpu": cpu_model(), "settings": {}}
    settings = [(f"clip c={c}", "clip", c) for c in CLIPS] + [(f"gradient penalty (lambda={args.gp_weight})", "gp", None)]
    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=90)
    layers = np.arange(1, args.layers + 1)
    for (label, mode, clip), style in zip(settings, ("o-", "s-", "^-", "D-")):
        info = run_setting(mode, clip, args)
        result["settings"][label] = info
        print(label, info, flush=True)
        ax.plot(layers, info["log10_grad_norm_by_layer"], style, label=label, markersize=4)
    ax.set_xlabel("critic layer (1 = input)")
    ax.set_ylabel("log10 ||d critic loss / d W_layer||")
    ax.set_xticks(layers)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"Swiss roll, {args.layers}-layer ReLU MLP critic (width {args.dim}, no batch norm),\n"
                 f"after {args.steps} critic steps; generator fixed at real + N(0, I)", fontsize=9)
    fig.tight_layout()
    figure = figure_path("figure1b.png", args.no_record)
    fig.savefig(figure)
    result["figure"] = os.path.relpath(figure, ROOT)
    report("figure1b.py", result, args.no_record)


if __name__ == "__main__":
    main()
