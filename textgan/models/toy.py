"""Tiny MLP generator/critic for [B, D] data (exercises the shared penalty and loop)."""
from __future__ import annotations

from torch import Tensor, nn


class ToyGenerator(nn.Module):
    def __init__(self, data_dim: int = 2, z_dim: int = 8, hidden: int = 64):
        super().__init__()
        self.z_dim = z_dim
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                 nn.ReLU(), nn.Linear(hidden, data_dim))

    def forward(self, z: Tensor) -> Tensor:
        """z [B, z_dim] -> samples [B, D]."""
        return self.net(z)


class ToyCritic(nn.Module):
    def __init__(self, data_dim: int = 2, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(data_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                 nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x: Tensor) -> Tensor:
        """x [B, D] -> scores [B]."""
        return self.net(x).squeeze(1)
