"""The toy pair of Gulrajani et al. (2017), `gan_toy.py`, for [B, 2] data (8 Gaussians, 25 Gaussians,
Swiss roll; see textgan/data/toy.py).

Generator: z [B, z_dim=2] -> 3 x (Linear DIM, ReLU) -> Linear data_dim.
Critic:    x [B, data_dim] -> 3 x (Linear DIM, ReLU) -> Linear 1 -> [B].
DIM 512 in the paper.  Initialisation as its tflib: the hidden layers are `ReLULayer`s
(initialization='he': U(+-sqrt(3)*s), s = sqrt(2 / fan_in)), the output layers Glorot
(s = sqrt(2 / (fan_in + fan_out))); biases 0.

`norm` (critic only; not in the paper, whose toy critic has none): "layer" puts GroupNorm(1, DIM)
(per sample, per-feature scale/offset) after each hidden Linear, "batch" BatchNorm1d (batch statistics).
The plain critic (norm "none") also writes out its own input gradient for the penalty (`input_grad`).
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

    @property
    def input_grad(self):
        """The analytic input gradient (`relu_input_grad`) for the plain critic; None with a norm
        layer, so that the penalty (textgan/penalty.py) falls back to autograd's double backward."""
        return self.relu_input_grad if self.norm == "none" else None

    def relu_input_grad(self, x: Tensor) -> Tensor:
        """d sum_i D(x_i) / d x  [B, data_dim], differentiable w.r.t. the weights (not w.r.t. x).

        For D(x) = w4 . relu(W3 relu(W2 relu(W1 x + b1) + b2) + b3) + b4 the gradient is
            W1^T diag(m1) W2^T diag(m2) W3^T diag(m3) w4,   m_k = [pre-activation k > 0]:
        the masks come from a forward without a graph (ReLU's derivative is piecewise constant, so
        they carry no gradient), and only the chain above is recorded.  The same values as
        autograd's double backward, which also pushes zeros back through the whole forward graph."""
        if self.norm != "none":
            raise ValueError("relu_input_grad needs the critic without a norm layer")
        linears = [m for m in self.net if isinstance(m, nn.Linear)]
        masks = []
        with torch.no_grad():
            h = x
            for lin in linears[:-1]:
                h = lin(h)
                masks.append(h > 0)
                h = torch.relu(h)
        g = linears[-1].weight * masks[-1]                   # [B, DIM]: w4 masked by the last layer
        for lin, m in zip(reversed(linears[1:-1]), reversed(masks[:-1])):
            g = (g @ lin.weight) * m
        return g @ linears[0].weight
