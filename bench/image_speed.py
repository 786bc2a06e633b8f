#!/usr/bin/env python3
"""Image training throughput on one CPU thread: textgan's Trainer vs a plain PyTorch loop.

  python bench/image_speed.py [--rounds 3] [--iters 4] [--cifar-iters 3 (0: skip)] [--threads 1] [--no-record]

MNIST at the paper's settings (gan_mnist.py: DIM 64, batch 50, 5 critic steps, lambda 10, Adam 1e-4
beta (0.5, 0.9)): the same networks (textgan.models.image, the same initial weights) trained by
  - textgan's Trainer (one iteration = 5 critic steps + 1 generator step), and
  - a plain loop written the caogang way (gan_mnist.py of the widely used PyTorch port): per critic
    step a real pass, a fake pass and an interpolate pass, each with its own backward, the penalty by
    autograd.grad(create_graph=True) double backward, the same optimisers, PyTorch's default
    (NCHW) weight layout.  The Trainer's own choices are in: its penalty uses the critic's
    `input_grad` (no double backward), and on CPU it keeps convolution weights channels_last.
Both run in this process, alternating blocks of --iters iterations for --rounds rounds (so both see
the same machine), on the same fixed pool of random real batches in [0, 1] (throughput does not
depend on the pixels).  Time is this process's CPU time (time.process_time) with --threads torch
threads: CPU seconds per iteration, iterations per CPU second, and the ratio textgan / plain.

Then the CIFAR-10 ResNet (the paper's networks, DIM 128, batch 64, generator batch 128, linear
decay) through textgan's Trainer on random 32x32 tensors: CPU seconds per iteration (after one
warm-up iteration) and the CPU-hours a 100k-iteration run would take at that rate.
Prints one JSON object and appends it to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import cpu_model, report  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class PoolSampler:
    """The real-batch sampler the Trainer asks for: a fixed pool of random batches, cycled."""

    def __init__(self, pool, labels=None):
        self.pool, self.labels, self.i = pool, labels, 0

    def next(self):
        x = self.pool[self.i % len(self.pool)]
        self.i += 1
        return x

    def next_labeled(self):
        y = self.labels[self.i % len(self.labels)]
        return self.next(), y

    def state_dict(self):
        return {"i": self.i}

    def load_state_dict(self, state):
        self.i = state["i"]


def plain_loop(G, D, pool, batch: int, critic_iters: int, lam: float):
    """gan_mnist.py of the caogang port, on the same networks: returns one-iteration callable."""
    import torch
    from torch import autograd
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.9))
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.9))
    one, mone = torch.tensor(1.0), torch.tensor(-1.0)
    state = {"i": 0}

    def gradient_penalty(real, fake):
        alpha = torch.rand(batch, 1, 1, 1).expand(real.size())
        interpolates = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        d_int = D(interpolates)
        grads = autograd.grad(outputs=d_int, inputs=interpolates, grad_outputs=torch.ones(d_int.size()),
                              create_graph=True, retain_graph=True, only_inputs=True)[0]
        return ((grads.view(batch, -1).norm(2, dim=1) - 1) ** 2).mean() * lam

    def iteration():
        for p in D.parameters():
            p.requires_grad = True
        for _ in range(critic_iters):
            real = pool[state["i"] % len(pool)]
            state["i"] += 1
            D.zero_grad()
            d_real = D(real).mean()
            d_real.backward(mone)
            with torch.no_grad():
                fake = G(torch.randn(batch, 128))
            d_fake = D(fake).mean()
            d_fake.backward(one)
            gp = gradient_penalty(real, fake)
            gp.backward()
            opt_d.step()
        for p in D.parameters():
            p.requires_grad = False
        G.zero_grad()
        g = D(G(torch.randn(batch, 128))).mean()
        g.backward(mone)
        opt_g.step()

    return iteration


def timed(fn, n: int) -> float:
    t0 = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - t0) / n


def cifar_speed(iters: int, dev) -> dict:
    """CPU seconds per iteration of the CIFAR-10 ResNet through the Trainer, after one warm-up."""
    import torch

    from textgan.config import make_image_config
    from textgan.image import build_image_models_for
    from textgan.train import Trainer, TrainerHooks

    ccfg = make_image_config("cifar10", "paper", device="cpu", seed=1)
    ct = ccfg.train
    ccfg.model.channels = 3
    torch.manual_seed(1)
    CG, CD = build_image_models_for(ccfg)
    cpool = [torch.rand(ct.batch_size, 3, 32, 32) * 2 - 1 for _ in range(4)]
    ctrainer = Trainer(CG, CD, PoolSampler(cpool), ct, dev, hooks=TrainerHooks(log=lambda m: None, progress=False))
    ctrainer.iteration()
    c_s = timed(ctrainer.iteration, iters)
    print({"cifar_cpu_s_per_iter": c_s}, file=sys.stderr, flush=True)
    return {"settings": {"dim": ccfg.model.dim, "batch_size": ct.batch_size, "gen_batch_size": ct.gen_batch_size,
                         "critic_iters": ct.critic_iters, "lr_decay": ct.lr_decay},
            "iters": iters, "cpu_s_per_iter": round(c_s, 3), "iters_per_cpu_s": round(1 / c_s, 4),
            "cpu_hours_for_100k_iters": round(c_s * 100_000 / 3600, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iters", type=int, default=4)
    p.add_argument("--cifar-iters", type=int, default=3, help="timed CIFAR-10 iterations (0: skip that part)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-record", action="store_true")
    a = p.parse_args()

    sys.path.insert(0, ROOT)
    import copy

    import torch

    from textgan.config import make_image_config
    from textgan.image import build_image_models_for
    from textgan.train import Trainer, TrainerHooks

    torch.set_num_threads(a.threads)
    dev = torch.device("cpu")
    cfg = make_image_config("mnist", "paper", device="cpu", seed=1, iters=10**9)
    t = cfg.train
    torch.manual_seed(1)
    G, D = build_image_models_for(cfg)
    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    pool = [torch.rand(t.batch_size, 1, 28, 28) for _ in range(8)]
    trainer = Trainer(G, D, PoolSampler(pool), t, dev, hooks=TrainerHooks(log=lambda m: None, progress=False))
    plain = plain_loop(G2, D2, pool, t.batch_size, t.critic_iters, t.gp_weight)
    trainer.iteration()   # warm-up of both (allocator, first-call costs)
    plain()
    rounds = []
    for _ in range(a.rounds):
        tg = timed(trainer.iteration, a.iters)
        pl = timed(plain, a.iters)
        rounds.append({"textgan_cpu_s_per_iter": round(tg, 4), "plain_cpu_s_per_iter": round(pl, 4)})
        print(rounds[-1], file=sys.stderr, flush=True)
    tg = statistics.median(r["textgan_cpu_s_per_iter"] for r in rounds)
    pl = statistics.median(r["plain_cpu_s_per_iter"] for r in rounds)

    result = {
        "bench": "image_speed", "cpu": cpu_model(), "torch_threads": a.threads, "torch": torch.__version__,
        "clock": "time.process_time of this process (CPU seconds)",
        "mnist": {
            "settings": {"dim": cfg.model.dim, "batch_size": t.batch_size, "critic_iters": t.critic_iters,
                         "gp_weight": t.gp_weight, "lr": t.lr, "betas": [t.beta1, t.beta2]},
            "rounds": rounds, "iters_per_round": a.iters,
            "textgan_cpu_s_per_iter": tg, "plain_cpu_s_per_iter": pl,
            "textgan_iters_per_cpu_s": round(1 / tg, 3), "plain_iters_per_cpu_s": round(1 / pl, 3),
            "speedup_textgan_over_plain": round(pl / tg, 3),
            "target": ">= 1.25x",
        },
    }
    if a.cifar_iters > 0:
        result["cifar10_resnet"] = cifar_speed(a.cifar_iters, dev)
    report("image_speed.py", result, a.no_record)


if __name__ == "__main__":
    main()
