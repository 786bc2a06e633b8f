"""Your own networks, your own loop, textgan's gradient penalty: WGAN-GP on 8 Gaussians in 2-D.

    python examples/penalty_2d.py [--iters 300]

Prints the critic's Wasserstein estimate as it trains and, at the end, how many of the 8 modes the
generator's points cover.  Writes nothing."""
import argparse
import math

import torch
from torch import nn

import textgan


def real_batch(n: int) -> torch.Tensor:
    """8 Gaussians on a circle of radius 2 (std 0.02), scaled by 1/1.414 as in the paper's toy code."""
    k = torch.randint(8, (n,))
    centres = 2 * torch.stack([torch.cos(k * math.pi / 4), torch.sin(k * math.pi / 4)], 1)
    return (centres + 0.02 * torch.randn(n, 2)) / 1.414


def mlp(out: int) -> nn.Module:
    return nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)          # networks this small run fastest on one thread
    torch.manual_seed(0)
    G, D = mlp(2), mlp(1)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9))
    for it in range(1, args.iters + 1):
        for _ in range(5):                                   # critic steps
            real, fake = real_batch(256), G(torch.randn(256, 2)).detach()
            gp = textgan.gradient_penalty(D, real, fake, weight=0.1)   # the paper's toy lambda
            w = D(real).mean() - D(fake).mean()
            opt_d.zero_grad()
            (gp - w).backward()
            opt_d.step()
        loss_g = -D(G(torch.randn(256, 2))).mean()          # generator step
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        if it % 50 == 0:
            print(f"iteration {it}: Wasserstein estimate {w.item():.4f}, penalty {gp.item():.4f}")
    with torch.no_grad():
        points = G(torch.randn(2000, 2)) * 1.414
    angles = torch.arange(8) * math.pi / 4
    centres = 2 * torch.stack([torch.cos(angles), torch.sin(angles)], 1)
    nearest = torch.cdist(points, centres).min(1)
    covered = {int(i) for i in nearest.indices[nearest.values < 0.3].unique()}
    print(f"modes covered: {len(covered)} of 8")


if __name__ == "__main__":
    main()
