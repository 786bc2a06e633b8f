"""The toy distributions against gan_toy.py's definitions: centres, spreads, scaling, order, resume."""
import math

import pytest
import torch

from textgan.data.toy import (EightGaussians, SwissRoll, TwentyFiveGaussians, swissroll_curve, toy_modes,
                              toy_sampler)
from textgan.errors import ConfigError

pytestmark = pytest.mark.numerics


def nearest(points, centres):
    d = torch.cdist(points.double(), centres.double())
    dist, idx = d.min(dim=1)
    return dist, idx


def test_eight_gaussians():
    s = EightGaussians(4096, seed=3)
    x = s.next()
    assert x.shape == (4096, 2) and x.dtype == torch.float32
    modes = toy_modes("8gaussians")
    expected = [(2 * math.cos(k * math.pi / 4) / 1.414, 2 * math.sin(k * math.pi / 4) / 1.414)
                for k in range(8)]
    assert torch.allclose(modes.points, torch.tensor(expected), atol=1e-6)
    assert modes.std == pytest.approx(0.02 / 1.414)
    dist, idx = nearest(x, modes.points)
    counts = torch.bincount(idx, minlength=8)
    assert counts.min() > 4096 / 8 * 0.8                     # each centre chosen uniformly
    resid = x.double() - modes.points[idx].double()
    assert resid.std(dim=0).tolist() == pytest.approx([0.02 / 1.414] * 2, rel=0.08)
    assert dist.max() < 6 * 0.02 / 1.414 * 1.5
    assert not torch.equal(x, s.next())                       # fresh every batch


def test_twentyfive_gaussians_in_order_and_wrapping():
    s = TwentyFiveGaussians(256, seed=1)
    assert s.data.shape == (100_000, 2)
    modes = toy_modes("25gaussians")
    grid = torch.tensor([(2 * i / 2.828, 2 * j / 2.828) for i in range(-2, 3) for j in range(-2, 3)])
    assert torch.allclose(modes.points, grid, atol=1e-6)
    dist, idx = nearest(s.data, modes.points)
    assert torch.bincount(idx, minlength=25).tolist() == [4000] * 25     # 100,000 / 25 per centre
    resid = s.data.double() - modes.points[idx].double()
    assert resid.std(dim=0).tolist() == pytest.approx([0.05 / 2.828] * 2, rel=0.03)
    assert dist.max() < 6 * 0.05 / 2.828
    # shuffled once: consecutive points are not in generation order
    assert (idx[:25] != torch.arange(25)).any()
    n = 100_000 // 256                                        # 390 full batches, then wrap
    batches = [s.next() for _ in range(n)]
    assert torch.equal(torch.cat(batches), s.data[:n * 256])
    assert torch.equal(s.next(), batches[0])
    # the set depends on the seed only
    assert torch.equal(TwentyFiveGaussians(64, seed=1).data, s.data)
    assert not torch.equal(TwentyFiveGaussians(64, seed=2).data, s.data)


def test_swissroll():
    x = SwissRoll(2048, seed=5).next()
    assert x.shape == (2048, 2) and x.dtype == torch.float32
    raw = x.double() * 7.5
    curve = swissroll_curve(5000)
    dist, _ = nearest(raw, curve)
    # noise N(0, 0.25) per coordinate: its component across the curve has std 0.25
    assert dist.pow(2).mean().sqrt().item() == pytest.approx(0.25, rel=0.12)
    assert dist.max() < 5 * 0.25
    r = raw.norm(dim=1)                                       # the radius is t in [1.5 pi, 4.5 pi]
    assert r.min() > 1.5 * math.pi - 1.5 and r.max() < 4.5 * math.pi + 1.5
    # t uniform on [1.5 pi, 4.5 pi]: the mean radius is 3 pi
    assert r.mean().item() == pytest.approx(3 * math.pi, rel=0.03)
    modes = toy_modes("swissroll")
    assert modes.kind == "curve" and modes.std == pytest.approx(0.25 / 7.5)
    start = torch.tensor([0.0, -1.5 * math.pi], dtype=torch.float64) / 7.5      # t = 1.5 pi
    assert torch.allclose(modes.points[0].double(), start, atol=1e-6)


@pytest.mark.parametrize("name", ["8gaussians", "25gaussians", "swissroll"])
def test_exact_resume(name):
    a = toy_sampler(name, 32, seed=7)
    for _ in range(5):
        a.next()
    state = a.state_dict()
    expected = [a.next() for _ in range(3)]
    b = toy_sampler(name, 32, seed=0)
    b.load_state_dict(state)
    assert all(torch.equal(e, b.next()) for e in expected)
    c = toy_sampler(name, 32, seed=7)                         # the same seed gives the same stream
    assert torch.equal(c.next(), toy_sampler(name, 32, seed=7).next())


def test_errors():
    with pytest.raises(ConfigError, match="8gaussians"):
        toy_sampler("moons", 8)
    with pytest.raises(ConfigError, match="batch size"):
        toy_sampler("8gaussians", 0)
    with pytest.raises(ConfigError):
        toy_modes("moons")
