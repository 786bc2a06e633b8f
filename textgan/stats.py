"""The loop's running statistics, kept on the device and read (one host synchronisation) only at
logging steps, and the check for non-finite values."""
from __future__ import annotations

import math

import torch
from torch import nn

from textgan.distributed import World
from textgan.errors import NonFiniteError

# Quantities watched for non-finite values, in the order of the on-device stats vector.
STATS = ("critic_loss", "generator_loss", "wasserstein", "penalty", "grad_norm")


class StepStats:
    """Sums of the critic's (loss, Wasserstein estimate, penalty, mean gradient norm) and of the
    generator's loss since the last read."""

    def __init__(self, device: torch.device, penalised: bool):
        self.device, self.penalised = device, penalised
        self.reset()

    def reset(self) -> None:
        self.critic_sums = torch.zeros(4, device=self.device)
        self.critic_count = 0
        self.gen_sum = torch.zeros((), device=self.device)
        self.gen_count = 0

    @torch.no_grad()
    def add_critic(self, loss, wasserstein, penalty, mean_norm) -> None:
        self.critic_sums += torch.stack([loss.detach(), wasserstein.detach(), penalty.detach(),
                                         mean_norm.detach()])
        self.critic_count += 1

    @torch.no_grad()
    def add_generator(self, loss) -> None:
        self.gen_sum += loss.detach()
        self.gen_count += 1

    def read(self, world: World) -> dict:
        """Means since the last read (one host synchronisation), averaged over ranks."""
        means = torch.cat([self.critic_sums / max(self.critic_count, 1),
                           self.gen_sum.reshape(1) / max(self.gen_count, 1)])
        *c, g = world.mean(means).tolist()
        self.reset()
        # objectives without a penalty do not compute the input gradient: nothing to report
        penalty, norm = (c[2], c[3]) if self.penalised else (None, None)
        return {"critic_loss": c[0], "generator_loss": g, "wasserstein": c[1],
                "penalty": penalty, "grad_norm": norm}


def check_finite(stats: dict, step: int, **nets: nn.Module) -> None:
    """Raise NonFiniteError naming every non-finite statistic and network."""
    bad = [k for k in STATS if stats.get(k) is not None and not math.isfinite(stats[k])]
    for name, net in nets.items():
        if not all(torch.isfinite(p).all() for p in net.parameters()):
            bad.append(f"{name} parameters")
    if bad:
        raise NonFiniteError(f"non-finite {', '.join(bad)} in the iterations up to step {step}")
