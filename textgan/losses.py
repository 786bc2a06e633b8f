"""WGAN objectives as pure functions of critic scores (any shape; means over all)."""
from __future__ import annotations

from torch import Tensor


def critic_loss(d_real: Tensor, d_fake: Tensor, penalty: Tensor | float) -> Tensor:
    """E[D(fake)] - E[D(real)] + penalty (the critic minimises it)."""
    return d_fake.mean() - d_real.mean() + penalty


def generator_loss(d_fake: Tensor) -> Tensor:
    """-E[D(fake)] (the generator minimises it)."""
    return -d_fake.mean()


def wasserstein_estimate(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """E[D(real)] - E[D(fake)]: the critic's estimate of the Wasserstein distance."""
    return d_real.mean() - d_fake.mean()
