"""Moving a batch made on the CPU to the training device without stopping the host.

A plain `.to("cuda")` from ordinary (pageable) memory returns only once the copy is done, so the
CPU cannot queue the next kernels while the GPU works: one host synchronisation per batch.  From
pinned (page-locked) memory with `non_blocking=True` the copy is queued on the current stream like
a kernel, and PyTorch's pinned-memory pool keeps the source block until the copy has run.
"""
from __future__ import annotations

import torch
from torch import Tensor


def to_device(t: Tensor, device: torch.device) -> Tensor:
    """CPU tensor `t` on `device`: itself on the CPU, queued asynchronously on CUDA."""
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)
