"""Optimisers, the learning-rate schedule and the generator's weight average.

What an objective brings for its optimiser (Adam or RMSProp and their settings) lives in the
config (`TrainConfig`); this module turns it into torch objects."""
from __future__ import annotations

import copy

import torch
from torch import nn

from textgan.config import TrainConfig


def make_optimizer(params, cfg: TrainConfig, device: torch.device, lr: float | None = None):
    """Adam (the paper) or RMSProp (the weight-clipping baseline).

    RMSProp is PyTorch's with TensorFlow's decay 0.9 (`alpha`) and eps 1e-10; unlike TF1's it starts its
    squared average at 0 rather than 1 and adds eps outside the root, so its first steps are larger."""
    lr = cfg.lr if lr is None else lr
    if cfg.optimizer == "rmsprop":
        # torch's RMSprop has no fused kernel: foreach (one launch per tensor group) on every device
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-10, foreach=True)
    # Adam's fused kernel is one launch per step on CUDA; foreach is the fast path on CPU.
    fast = {"fused": True} if device.type == "cuda" else {"foreach": True}
    return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2), **fast)


def set_learning_rates(step: int, cfg: TrainConfig, opt_g, opt_d) -> None:
    """Linear decay to 0 over the run (the CIFAR-10 ResNet's schedule): a function of the step
    alone, so resume needs no scheduler state."""
    if cfg.lr_decay != "linear":
        return
    factor = max(0.0, 1.0 - step / cfg.iters)
    for opt, base in ((opt_g, cfg.lr), (opt_d, cfg.critic_lr or cfg.lr)):
        for group in opt.param_groups if opt is not None else ():   # None: no critic
            group["lr"] = base * factor


class WeightAverage:
    """An exponential moving average of a network's weights (`--ema`): after update number t
    (0, 1, ...), avg <- avg + (1 - d) * (weights - avg) with d = min(decay, (1 + t) / (10 + t)), the
    warm-up of TensorFlow's ExponentialMovingAverage, so that a short run's average is not its
    initial weights; buffers (e.g. batch-norm statistics) are copied.  Samples from an averaged GAN
    generator are better than from its last, oscillating weights (Yazici et al. 2019); training
    never reads the average."""

    def __init__(self, net: nn.Module, decay: float):
        self.decay = decay
        self.net = copy.deepcopy(net).requires_grad_(False)
        self._source = net
        # once, not per update: loading a state copies into these same tensors
        self._params = (list(self.net.parameters()), list(net.parameters()))
        self._buffers = list(zip(self.net.buffers(), net.buffers()))

    def decay_at(self, t: int) -> float:
        return min(self.decay, (1 + t) / (10 + t))

    @torch.no_grad()
    def update(self, t: int) -> None:
        torch._foreach_lerp_(*self._params, 1.0 - self.decay_at(t))
        for mine, theirs in self._buffers:
            mine.copy_(theirs)

    @torch.no_grad()
    def reset(self) -> None:
        """Start again from the network's current weights."""
        self.net.load_state_dict(self._source.state_dict())
