"""GAN objectives as pure functions of critic scores (any shape; means over all).

The objectives of the paper's comparisons (`TrainConfig.objective`):

    wgan-gp             critic  E[D(fake)] - E[D(real)] + lambda * E[(||grad|| - 1)^2]   (the paper)
    wgan-gp-one-sided   critic  E[D(fake)] - E[D(real)] + lambda * E[max(0, ||grad|| - 1)^2]
    wgan-clip           critic  E[D(fake)] - E[D(real)], every critic weight clipped to +-c after
                                each step (Arjovsky et al. 2017; the loop does the clipping)
    wgan-*              generator  -E[D(fake)]
    gan                 discriminator  -E[log sigmoid(D(real))] - E[log(1 - sigmoid(D(fake)))]
                        generator      -E[log sigmoid(D(fake))]   (non-saturating, Goodfellow et al.)

D returns logits for `gan`; softplus keeps both forms exact for large |D|.

    mle                 no critic: an autoregressive model's cross-entropy of the next token
                        (teacher forcing), the maximum-likelihood yardstick (textgan/mle.py)
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

ADVERSARIAL = ("wgan-gp", "wgan-gp-one-sided", "wgan-clip", "gan")   # the Trainer's critic objectives
OBJECTIVES = ADVERSARIAL + ("mle",)


def critic_loss(d_real: Tensor, d_fake: Tensor, penalty: Tensor | float) -> Tensor:
    """E[D(fake)] - E[D(real)] + penalty (the critic minimises it)."""
    return d_fake.mean() - d_real.mean() + penalty


def generator_loss(d_fake: Tensor) -> Tensor:
    """-E[D(fake)] (the generator minimises it)."""
    return -d_fake.mean()


def wasserstein_estimate(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """E[D(real)] - E[D(fake)]: the critic's estimate of the Wasserstein distance."""
    return d_real.mean() - d_fake.mean()


def gan_discriminator_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """Binary cross-entropy of logits: real labelled 1, fake 0 (softplus(-x) = -log sigmoid(x))."""
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def gan_generator_loss(d_fake: Tensor) -> Tensor:
    """The non-saturating generator loss -E[log sigmoid(D(fake))]."""
    return F.softplus(-d_fake).mean()


def mle_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean cross-entropy (nats per token) of logits [..., V] for the token ids targets [...]."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def uses_penalty(objective: str) -> bool:
    return objective in ("wgan-gp", "wgan-gp-one-sided")


def objective_critic_loss(objective: str, d_real: Tensor, d_fake: Tensor,
                          penalty: Tensor | float = 0.0) -> Tensor:
    """The critic's (discriminator's) loss under `objective`; `penalty` is ignored without one."""
    if objective == "gan":
        return gan_discriminator_loss(d_real, d_fake)
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    return critic_loss(d_real, d_fake, penalty if uses_penalty(objective) else 0.0)


def objective_generator_loss(objective: str, d_fake: Tensor) -> Tensor:
    return gan_generator_loss(d_fake) if objective == "gan" else generator_loss(d_fake)


def auxiliary_class_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """AC-GAN's auxiliary classifier term: cross-entropy of the critic's class head."""
    return F.cross_entropy(logits, labels)
