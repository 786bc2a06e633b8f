"""Small DCGAN-like pair for [B, C, H, W] images in [-1, 1] (e.g. MNIST 28x28, 32x32).

The critic has no batch normalisation (it would couple the samples of a batch and
break the per-sample gradient penalty): plain strided convs and LeakyReLU.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from textgan.errors import ConfigError


def _base(size: int) -> int:
    if size <= 0 or size % 4:
        raise ConfigError(f"image size must be a positive multiple of 4 (e.g. 28 or 32), got {size}")
    return size // 4


class ImageGenerator(nn.Module):
    def __init__(self, z_dim: int = 128, channels: int = 1, size: int = 28, dim: int = 64):
        super().__init__()
        self.z_dim, self.channels, self.size, self.dim = z_dim, channels, size, dim
        self.base = _base(size)
        self.inp = nn.Linear(z_dim, 4 * dim * self.base ** 2)
        self.net = nn.Sequential(
            nn.ReLU(),
            nn.ConvTranspose2d(4 * dim, 2 * dim, 4, stride=2, padding=1),   # base -> 2*base
            nn.ReLU(),
            nn.ConvTranspose2d(2 * dim, channels, 4, stride=2, padding=1),  # -> size
        )

    def forward(self, z: Tensor) -> Tensor:
        """z [B, z_dim] -> images [B, C, size, size] in [-1, 1]."""
        h = self.inp(z).view(z.shape[0], 4 * self.dim, self.base, self.base)
        return torch.tanh(self.net(h))


class ImageCritic(nn.Module):
    def __init__(self, channels: int = 1, size: int = 28, dim: int = 64):
        super().__init__()
        base = _base(size)
        self.net = nn.Sequential(
            nn.Conv2d(channels, dim, 4, stride=2, padding=1), nn.LeakyReLU(0.2),    # -> size/2
            nn.Conv2d(dim, 2 * dim, 4, stride=2, padding=1), nn.LeakyReLU(0.2),     # -> size/4
            nn.Flatten(),
            nn.Linear(2 * dim * base ** 2, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        """x [B, C, size, size] -> scores [B]."""
        return self.net(x).squeeze(1)
