"""Generating from a generator: noise from a private, seeded random stream (the training RNG never
moves), in batches, gathered on the CPU.  Every modality samples through `generate`; what a batch
of noise becomes (argmax token ids, images, points) is the modality's `decode`."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

Decode = Callable[[nn.Module, torch.Tensor, "torch.Tensor | None", "torch.Generator | None"], torch.Tensor]


def _forward(generator: nn.Module, z: torch.Tensor, labels: torch.Tensor | None,
             _g: torch.Generator | None) -> torch.Tensor:
    return (generator(z) if labels is None else generator(z, labels)).float()


@torch.no_grad()
def generate(generator: nn.Module, n: int, *, seed: int | None = None, batch_size: int = 500,
             labels: torch.Tensor | None = None, decode: Decode = _forward) -> torch.Tensor:
    """n outputs [n, ...] on the CPU.  The noise (and the random labels of a conditional generator
    when `labels` is None) comes from a private generator seeded `seed`; None draws from the global
    stream.  `decode(generator, z, labels, rng)` turns one batch of noise into outputs (default: the
    generator's own output as float32); `rng` is the same private generator, for sampling decoders."""
    device = next(generator.parameters()).device
    g = torch.Generator(device=device).manual_seed(seed) if seed is not None else None
    n_classes = int(getattr(generator, "n_classes", 0) or 0)
    out = []
    for start in range(0, n, batch_size):
        b = min(batch_size, n - start)
        z = torch.randn(b, generator.z_dim, device=device, generator=g)
        y = None
        if n_classes:
            y = (labels[start:start + b].to(device) if labels is not None
                 else torch.randint(n_classes, (b,), device=device, generator=g))
        out.append(decode(generator, z, y, g).cpu())
    return torch.cat(out) if out else torch.zeros(0)
