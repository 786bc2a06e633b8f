"""The toy pair of Gulrajani et al. (2017), `gan_toy.py`, for [B, 2] data (8 Gaussians, 25 Gaussians,
Swiss roll; see textgan/data/toy.py).

Generator: z [B, z_dim=2] -> 3 x (Linear DIM, ReLU) -> Linear data_dim.
Critic:    x [B, data_dim] -> 3 x (Linear DIM, ReLU) -> Linear 1 -> [B].
DIM 512 in the paper.  Initialisation as its tflib: the hidden layers are `ReLULayer`s
(initialization='he': U(+-sqrt(3)*s), s = sqrt(2 / fan_in)), the output layers Glorot
(s = sqrt(2 / (fan_in + fan_out))); biases 0.

`norm` (critic only; not in the paper, whose toy critic has none): "layer" puts GroupNorm(1, DIM)
(per sample, per-feature scale/offset) after each hidden Linear, "batch" BatchNorm1d (batch statistics).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from textgan.errors import ConfigError

NORMS = ("none", "layer", "batch")


def init_linear_(layer: nn.Linear, kind: str = "glorot") -> nn.Linear:
    """tflib's Linear initialisation: 'glorot' s = sqrt(2/(in+out)), 'he' s = sqrt(2/in); U(+-s*sqrt(3));
    bias 0.  Draws from the torch RNG (torch.manual_seed makes it reproducible)."""
    fan_in, fan_out = layer.in_features, layer.out_features
    if kind == "he":
        s = math.sqrt(2.0 / fan_in)
    elif kind == "glorot":
        s = math.sqrt(2.0 / (fan_in + fan_out))
    else:
        raise ValueError(f"unknown initialisation {kind!r}")
    with torch.no_grad():
        layer.weight.uniform_(-s * math.sqrt(3.0), s * math.sqrt(3.0))
        if layer.bias is not None:
            layer.bias.zero_()
    return layer


def _check(norm: str, **sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"model {name} must be a positive integer, got {value!r}")
    if norm not in NORMS:
        raise ConfigError(f"critic norm must be one of {', '.join(NORMS)}, got {norm!r}")


def _mlp(n_in: int, dim: int, n_out: int, norm: str = "none") -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(3):
        layers.append(init_linear_(nn.Linear(n_in if i == 0 else dim, dim), "he"))
        if norm == "layer":
            layers.append(nn.GroupNorm(1, dim))
        elif norm == "batch":
            layers.append(nn.BatchNorm1d(dim, track_running_stats=False))
        layers.append(nn.ReLU())
    layers.append(init_linear_(nn.Linear(dim, n_out), "glorot"))
    return nn.Sequential(*layers)


class ToyGenerator(nn.Module):
    def __init__(self, data_dim: int = 2, z_dim: int = 2, dim: int = 512):
        super().__init__()
        _check("none", data_dim=data_dim, z_dim=z_dim, dim=dim)
        self.data_dim, self.z_dim, self.dim = data_dim, z_dim, dim
        self.net = _mlp(z_dim, dim, data_dim)

    def forward(self, z: Tensor) -> Tensor:
        """z [B, z_dim] -> samples [B, data_dim]."""
        return self.net(z)


class ToyCritic(nn.Module):
    def __init__(self, data_dim: int = 2, dim: int = 512, norm: str = "none"):
        super().__init__()
        _check(norm, data_dim=data_dim, dim=dim)
        self.data_dim, self.dim, self.norm = data_dim, dim, norm
        self.net = _mlp(data_dim, dim, 1, norm)

    def forward(self, x: Tensor) -> Tensor:
        """x [B, data_dim] -> scores [B]."""
        return self.net(x).squeeze(1)
