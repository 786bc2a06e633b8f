"""Batches reach a GPU without a host synchronisation (textgan/data/transfer.py), and the samplers
serve exactly the batches they served before they went through it.

No GPU here: the CUDA copy is stood in for by recorders (pinned memory and non_blocking on the
tensor, every returned batch through `to_device` in the samplers); tests/test_cuda.py checks the real
thing with torch.cuda.set_sync_debug_mode("error")."""
import hashlib

import numpy as np
import pytest
import torch

from textgan.data import images, toy, transfer
from textgan.data.images import ImageBatches, ImageSet
from textgan.data.toy import toy_sampler

CUDA = torch.device("cuda")


def test_to_device_pins_and_does_not_block_on_cuda(monkeypatch):
    calls = []
    pin, to = torch.Tensor.pin_memory, torch.Tensor.to
    pinned = set()

    def fake_pin(self):
        out = self.clone()
        pinned.add(out.data_ptr())
        return out

    def fake_to(self, *args, **kwargs):
        target = torch.device(args[0] if args else kwargs["device"])
        if target.type != "cuda":
            return to(self, *args, **kwargs)
        calls.append((self.data_ptr() in pinned, kwargs.get("non_blocking", False)))
        return self

    monkeypatch.setattr(torch.Tensor, "pin_memory", fake_pin)
    monkeypatch.setattr(torch.Tensor, "to", fake_to)
    x = torch.arange(6.0)
    assert torch.equal(transfer.to_device(x, CUDA), x)
    assert calls == [(True, True)]                    # from pinned memory, queued
    assert transfer.to_device(x, torch.device("cpu")) is x and len(calls) == 1
    monkeypatch.setattr(torch.Tensor, "pin_memory", pin)


@pytest.fixture
def recorded(monkeypatch):
    """`to_device` in the samplers' modules replaced by a recorder that keeps the tensor on the CPU."""
    seen = []

    def record(t, device):
        assert t.device.type == "cpu"
        if device == CUDA:
            seen.append(t)
        return t
    monkeypatch.setattr(images, "to_device", record)
    monkeypatch.setattr(toy, "to_device", record)
    return seen


def image_set():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 3, 4, 4), dtype=np.uint8)
    return ImageSet(x, rng.integers(0, 10, 50).astype(np.int64))


@pytest.mark.parametrize("scale", ["unit", "symmetric"])
def test_image_batches_on_cuda_go_through_to_device_with_the_cpu_values(recorded, scale):
    data = image_set()
    cpu, gpu = ImageBatches(data, 8, scale, seed=3), ImageBatches(data, 8, scale, seed=3, device="cuda")
    for _ in range(8):                                         # into the second epoch
        (a, y), (b, z) = cpu.next_labeled(), gpu.next_labeled()
        assert recorded[-2] is b and recorded[-1] is z
        assert torch.equal(a, b) and torch.equal(y, z)
        c = gpu.next()
        assert recorded[-1] is c and torch.equal(c, cpu.next())
    held = list(data.batches(16, scale, device="cuda", seed=5, labels=True))
    assert all(any(t is r for r in recorded) for pair in held for t in pair)


@pytest.mark.parametrize("name", ["8gaussians", "swissroll"])
def test_drawn_toy_batches_on_cuda_go_through_to_device_with_the_cpu_values(recorded, name):
    cpu, gpu = toy_sampler(name, 64, seed=4), toy_sampler(name, 64, seed=4, device="cuda")
    for _ in range(3):
        b = gpu.next()
        assert recorded[-1] is b and torch.equal(b, cpu.next())


def digest(tensors) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


# sha256 prefixes of the batches the samplers served before they moved batches through to_device
# (the same under the default and AVX2 kernels)
BEFORE = {"batches_unit": "8ec0192bae951d76", "heldout_unit": "4129748c2c6e6700",
          "batches_symmetric": "3764ffe91da68470", "heldout_symmetric": "436b01c373d5ec73",
          "8gaussians": "9a06aa24487a2fab", "25gaussians": "21bcf1cf76551e8f",
          "swissroll": "5158fad30710310f"}


@pytest.mark.numerics
def test_the_samplers_serve_the_batches_they_served_before():
    data = image_set()
    got = {}
    for scale in ("unit", "symmetric"):
        s = ImageBatches(data, 8, scale, seed=3)
        served = []
        for _ in range(9):
            served += [*s.next_labeled(), s.next()]
        got[f"batches_{scale}"] = digest(served)
        got[f"heldout_{scale}"] = digest([t for pair in data.batches(16, scale, seed=5, labels=True)
                                          for t in pair])
    for name in ("8gaussians", "25gaussians", "swissroll"):
        s = toy_sampler(name, 64, seed=4)
        got[name] = digest([s.next() for _ in range(5)])
    assert got == BEFORE
