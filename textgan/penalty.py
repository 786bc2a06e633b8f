"""THE gradient penalty of WGAN-GP (Gulrajani et al. 2017), for inputs of any rank.

    x_hat   = real + alpha * (fake - real),   one alpha ~ U[0, 1] per sample
    g_i     = d D(x_hat) / d x_hat_i          (gradient of sum_i D(x_hat_i))
    penalty = weight * mean_i (||g_i||_2 - target)^2          (two-sided, the paper)
            = weight * mean_i relu(||g_i||_2 - target)^2      (one-sided)

where ||g_i|| is the Euclidean norm of sample i's whole gradient, over ALL its
non-batch axes.  The same function serves [B, D] toy data, [B, L, V] text
(one-hot real rows vs. softmax fake rows) and [B, C, H, W] images.

Known traps of public implementations that this one avoids (tests pin each):
- per-axis norm: a widely used PyTorch port of the language model computes
  `gradients.norm(2, dim=1)` on the [B, L, V] gradient, which gives B*V norms
  (one per vocabulary column) instead of one norm per sample;
- batch-wide alpha: `torch.rand(1)` mixes every sample with the same weight;
- batch-wide norm: `gradients.norm()` takes one norm over the whole batch;
- hard-coded image rank: `alpha.expand(B, C, H, W)` or `torch.rand(B, 1, 1, 1)`
  breaks on [B, D] or [B, L, V]; here alpha has shape [B, 1, ..., 1] for any rank.

The penalty is a function of the critic's parameters only: real and fake are
detached here, so calling `.backward()` on it never reaches the generator.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

Critic = Callable[[Tensor], Tensor]


def _per_sample_alpha(real: Tensor, alpha: Tensor | float | None) -> Tensor:
    """alpha as [B, 1, ..., 1] (broadcasts over any rank); drawn U[0,1) per sample when None."""
    batch = real.shape[0]
    view = (batch,) + (1,) * (real.dim() - 1)
    if alpha is None:
        return torch.rand(view, device=real.device, dtype=real.dtype)
    alpha = torch.as_tensor(alpha, device=real.device, dtype=real.dtype)
    if alpha.numel() == 1:
        return alpha.reshape(1).expand(batch).reshape(view)
    if alpha.numel() != batch:
        raise ValueError(f"alpha must have one value per sample ({batch}), got shape {tuple(alpha.shape)}")
    return alpha.reshape(view)


def penalty_and_norms(critic: Critic, real: Tensor, fake: Tensor, *, weight: float = 10.0,
                      target: float = 1.0, one_sided: bool = False,
                      alpha: Tensor | float | None = None) -> tuple[Tensor, Tensor]:
    """Weighted gradient penalty (scalar, differentiable w.r.t. the critic's
    parameters) and the per-sample gradient norms [B] (detached, for logging).

    A critic that knows its own input gradient (a method `input_grad(x)` returning
    d sum_i D(x_i) / dx, differentiable w.r.t. its parameters) supplies it; any other
    critic, or one whose `input_grad` is None (e.g. a configuration it does not cover),
    goes through autograd's double backward."""
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} "
                         f"and {tuple(fake.shape)}")
    if real.dim() < 2:
        raise ValueError(f"expected a batch [B, ...] of rank >= 2, got shape {tuple(real.shape)}")
    if not real.is_floating_point():
        raise ValueError(f"real must be a floating tensor (one-hot for text), got {real.dtype}")
    real = real.detach()
    fake = fake.detach().to(real.dtype)   # never backprop into the generator
    a = _per_sample_alpha(real, alpha)
    x_hat = real + a * (fake - real)
    input_grad = getattr(critic, "input_grad", None)
    if input_grad is not None:
        grad = input_grad(x_hat)
    else:
        x_hat.requires_grad_(True)
        out = critic(x_hat)
        if out.dim() > 1:
            out = out.reshape(out.shape[0], -1)
            if out.shape[1] != 1:
                raise ValueError(f"critic must return [B] or [B, 1], got shape {tuple(out.shape)}")
        # The samples are independent, so the gradient of the sum is each sample's own gradient.
        (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return penalty_from_grad(grad, weight=weight, target=target, one_sided=one_sided)


def penalty_from_grad(grad: Tensor, *, weight: float = 10.0, target: float = 1.0,
                      one_sided: bool = False) -> tuple[Tensor, Tensor]:
    """(weighted penalty, detached per-sample norms [B]) from the critic's input gradient [B, ...]."""
    # at least float32 for the norm, also when the gradient came out of a bfloat16 autocast region
    grad = grad.to(torch.promote_types(grad.dtype, torch.float32))
    norms = grad.flatten(1).norm(2, dim=1)      # one norm per sample, all axes
    excess = norms - target
    if one_sided:
        excess = torch.relu(excess)
    penalty = weight * excess.pow(2).mean()
    return penalty, norms.detach()


def gradient_penalty(critic: Critic, real: Tensor, fake: Tensor, *, weight: float = 10.0,
                     target: float = 1.0, one_sided: bool = False,
                     alpha: Tensor | float | None = None) -> Tensor:
    """Weighted scalar gradient penalty; see the module docstring."""
    return penalty_and_norms(critic, real, fake, weight=weight, target=target,
                             one_sided=one_sided, alpha=alpha)[0]
