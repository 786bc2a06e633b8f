"""The 2-D toy distributions of Gulrajani et al. (2017), exactly as their `gan_toy.py` draws them.

    8gaussians   centres 2 (cos k pi/4, sin k pi/4), k = 0..7, std 0.02, a centre chosen uniformly
                 per point, a fresh batch every call, all divided by 1.414
    25gaussians  centres 2 (i, j), i, j in {-2..2}, std 0.05: 100,000 points (4,000 per centre) made
                 once, shuffled once, divided by 2.828, served in order in consecutive batches
                 (a trailing partial batch is skipped) and wrapping round to the start
    swissroll    scikit-learn's make_swiss_roll with noise 0.25 (t = 1.5 pi (1 + 2u), u ~ U(0, 1);
                 x = t cos t, z = t sin t; N(0, 0.25) added to each), coordinates (x, z), divided by 7.5

Each sampler has `next() -> Tensor [B, 2]` (float32, on its device) and `state_dict()` /
`load_state_dict()` for exact resume: every random draw comes from a private generator seeded by
(seed, batch number), so the state is two integers and resuming replays nothing.  Batches are
drawn on the CPU (the same values on every device) and reach a GPU without a host synchronisation
(textgan/data/transfer.py); the 25-Gaussian set lives on the device.
`toy_modes(name)` gives the modes (or the curve) in the data's scaled coordinates, for metrics.
"""
from __future__ import annotations

import abc
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from textgan.data.transfer import to_device
from textgan.errors import ConfigError

NAMES = ("8gaussians", "25gaussians", "swissroll")

SCALE_8, STD_8, DIV_8 = 2.0, 0.02, 1.414
SCALE_25, STD_25, DIV_25, N_25 = 2.0, 0.05, 2.828, 100_000
NOISE_ROLL, DIV_ROLL = 0.25, 7.5


def _generator(seed: int, stream: int, count: int) -> torch.Generator:
    """A generator for draw `count` of `stream`: independent of every other (seed, stream, count)."""
    mixed = (int(seed) * 6_364_136_223_846_793_005 + stream * 1_442_695_040_888_963_407
             + int(count) * 2_862_933_555_777_941_757) % (1 << 63)
    return torch.Generator().manual_seed(mixed)


def eight_centres() -> Tensor:
    """The 8 centres before scaling: 2 (cos k pi/4, sin k pi/4), k = 0..7 ([8, 2], float64)."""
    k = torch.arange(8, dtype=torch.float64) * (math.pi / 4)
    return SCALE_8 * torch.stack([torch.cos(k), torch.sin(k)], dim=1)


def twentyfive_centres() -> Tensor:
    """The 25 centres before scaling, in gan_toy.py's order (x outer, y inner): 2 (x, y) ([25, 2])."""
    r = torch.arange(-2, 3, dtype=torch.float64)
    return SCALE_25 * torch.cartesian_prod(r, r)


def swissroll_curve(n: int = 1000) -> Tensor:
    """n points of the noise-free roll (x, z) = (t cos t, t sin t), t in [1.5 pi, 4.5 pi], unscaled."""
    t = 1.5 * math.pi * (1 + 2 * torch.linspace(0, 1, n, dtype=torch.float64))
    return torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1)


@dataclass(frozen=True)
class ToyModes:
    """Where a toy distribution's mass lies, in the data's scaled coordinates.

    kind "modes": `points` are the K mode centres and `std` each mode's standard deviation per axis;
    kind "curve": `points` trace the swiss roll's noise-free curve and `std` is the noise per axis."""
    kind: str
    points: Tensor
    std: float


def toy_modes(name: str) -> ToyModes:
    if name == "8gaussians":
        return ToyModes("modes", (eight_centres() / DIV_8).float(), STD_8 / DIV_8)
    if name == "25gaussians":
        return ToyModes("modes", (twentyfive_centres() / DIV_25).float(), STD_25 / DIV_25)
    if name == "swissroll":
        return ToyModes("curve", (swissroll_curve() / DIV_ROLL).float(), NOISE_ROLL / DIV_ROLL)
    raise ConfigError(f"toy data set must be one of {', '.join(NAMES)}, got {name!r}")


class _ToySampler:
    """State and checks shared by the toy samplers (`count` batches served so far)."""
    name = ""

    def __init__(self, batch_size: int, seed: int = 0, device: torch.device | str = "cpu"):
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ConfigError(f"batch size must be a positive integer, got {batch_size!r}")
        self.batch_size, self.seed, self.device = batch_size, int(seed), torch.device(device)
        self.count = 0                      # batches served so far

    def state_dict(self) -> dict:
        return {"name": self.name, "seed": self.seed, "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        if state.get("name", self.name) != self.name:
            raise ValueError(f"sampler state is for {state['name']!r}, not {self.name!r}")
        self.seed, self.count = int(state["seed"]), int(state["count"])


class _DrawnSampler(_ToySampler, abc.ABC):
    """A sampler that draws each batch afresh from its own seeded stream (batch k from stream k)."""

    @abc.abstractmethod
    def _draw(self, g: torch.Generator) -> Tensor:
        """One batch [B, 2] drawn with `g`."""

    def next(self) -> Tensor:
        """The next batch [B, 2] (float32, on the sampler's device)."""
        batch = self._draw(_generator(self.seed, 1, self.count))
        self.count += 1
        return to_device(batch, self.device)


class EightGaussians(_DrawnSampler):
    name = "8gaussians"

    def _draw(self, g: torch.Generator) -> Tensor:
        which = torch.randint(0, 8, (self.batch_size,), generator=g)
        noise = torch.randn(self.batch_size, 2, generator=g, dtype=torch.float64) * STD_8
        pts = noise + eight_centres()[which]
        return pts.float() / DIV_8


class SwissRoll(_DrawnSampler):
    name = "swissroll"

    def _draw(self, g: torch.Generator) -> Tensor:
        t = 1.5 * math.pi * (1 + 2 * torch.rand(self.batch_size, generator=g, dtype=torch.float64))
        pts = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1)
        pts = pts + NOISE_ROLL * torch.randn(self.batch_size, 2, generator=g, dtype=torch.float64)
        return pts.float() / DIV_ROLL


class TwentyFiveGaussians(_ToySampler):
    """The fixed 100,000-point set (made from `seed`), served in order: batch k is rows
    [(k mod n) B, (k mod n + 1) B) with n = 100,000 // B."""
    name = "25gaussians"

    def __init__(self, batch_size: int, seed: int = 0, device: torch.device | str = "cpu",
                 n_points: int = N_25):
        super().__init__(batch_size, seed, device)
        if n_points % 25 or n_points < batch_size:
            raise ConfigError(f"25gaussians needs a multiple of 25 points, at least one batch; "
                              f"got {n_points}")
        self.n_points = n_points
        self.data = self._make(self.seed).to(self.device)
        self.n_batches = n_points // batch_size

    def _make(self, seed: int) -> Tensor:
        g = _generator(seed, 0, 0)
        centres = twentyfive_centres().repeat(self.n_points // 25, 1)      # x outer, y inner, repeated
        pts = torch.randn(self.n_points, 2, generator=g, dtype=torch.float64) * STD_25 + centres
        pts = pts[torch.randperm(self.n_points, generator=g)]             # shuffled once
        return pts.float() / DIV_25

    def next(self) -> Tensor:
        k = self.count % self.n_batches
        self.count += 1
        return self.data[k * self.batch_size:(k + 1) * self.batch_size]

    def load_state_dict(self, state: dict) -> None:
        seed = int(state["seed"])
        if seed != self.seed:
            self.data = self._make(seed).to(self.device)
        super().load_state_dict(state)


SAMPLERS = {"8gaussians": EightGaussians, "25gaussians": TwentyFiveGaussians, "swissroll": SwissRoll}


def toy_sampler(name: str, batch_size: int, seed: int = 0,
                device: torch.device | str = "cpu") -> _ToySampler:
    """The sampler of toy data set `name` (8gaussians | 25gaussians | swissroll)."""
    if name not in SAMPLERS:
        raise ConfigError(f"toy data set must be one of {', '.join(NAMES)}, got {name!r}")
    return SAMPLERS[name](batch_size, seed, device)
