"""Metrics of the 2-D toy experiments (8 Gaussians, 25 Gaussians, Swiss roll).

Everything works in the data's own (scaled) coordinates: pass the mixture's
centres and its per-axis standard deviation exactly as the sampler uses them
(for the toy sets of the paper's ``gan_toy.py`` that is after the division by
1.414 or 2.828).  Nothing here knows a particular data set.

- `wasserstein1(x, y)`: exact Wasserstein-1 distance between two equal-sized
  point clouds (optimal one-to-one assignment on Euclidean distances), lower is
  better, 0 for identical sets.
- `mode_counts` / `modes_covered` / `within_3sigma`: a point belongs to its
  nearest centre if it lies within 3·std of it (Euclidean distance; the
  components are isotropic).  ``within_3sigma`` is the share of all points that
  belong to some mode ("high-quality samples", higher is better);
  ``modes_covered`` counts the modes that received at least ``min_count``
  points (higher is better, at most K).

The coverage threshold.  By default a mode counts as covered when it holds at
least 20 % of an even share of the points, ``ceil(0.2 · N / K)``: for the usual
2,500 samples on the 25-Gaussian grid that is 20 points, the rule of PacGAN
(Lin et al. 2018) and VEEGAN-style evaluations; it scales with N, so a handful
of stray points in a mode the generator has essentially dropped do not count as
covering it, while a mode holding a fifth of its fair share does.  Pass
``min_count`` to use a fixed number instead (``min_count=1``: any point at all).
"""
from __future__ import annotations

import math

import numpy as np

#: default coverage threshold, as a share of the even share N / K (see module doc)
MIN_SHARE = 0.2


def _points(a, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(f"{name} must have shape [N, 2], got {list(a.shape)}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains non-finite values")
    return a


def _distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Euclidean distance matrix [len(x), len(y)] (exact differences, no Gram trick)."""
    return np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))


def wasserstein1(x, y) -> float:
    """Exact W1 between the empirical distributions of x [N, 2] and y [N, 2].

    With equal weights 1/N on both sides an optimal transport plan is a
    permutation (Birkhoff), so W1 = min over assignments of the mean matched
    Euclidean distance, found with `scipy.optimize.linear_sum_assignment`.
    O(N³) worst case, N² memory: 2,500 points take about a second against a
    good generator, but ~10 s on a shared CPU core when the generator has
    collapsed onto a few modes (long augmenting paths); subsample for frequent
    monitoring.  Lower is better."""
    from scipy.optimize import linear_sum_assignment

    x = _points(x, "x")
    y = _points(y, "y")
    if len(x) != len(y):
        raise ValueError(f"wasserstein1 needs equal-sized point sets, got {len(x)} and {len(y)}")
    if len(x) == 0:
        raise ValueError("wasserstein1 needs at least one point")
    cost = _distances(x, y)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def mode_counts(points, centres, std: float) -> np.ndarray:
    """[K] int: how many points lie within 3·std of each centre, each point
    counted only for its nearest centre."""
    p = _points(points, "points")
    c = _points(centres, "centres")
    if len(c) == 0:
        raise ValueError("need at least one centre")
    if not std > 0:
        raise ValueError(f"std must be positive, got {std}")
    d = _distances(p, c)
    nearest = d.argmin(1)
    close = d[np.arange(len(p)), nearest] <= 3.0 * std
    return np.bincount(nearest[close], minlength=len(c)).astype(np.int64)


def coverage_threshold(n_points: int, n_modes: int, min_share: float = MIN_SHARE,
                       min_count: int | None = None) -> int:
    """Points a mode needs to count as covered: ``min_count`` when given, else
    ``max(1, ceil(min_share · n_points / n_modes))``."""
    if min_count is not None:
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count}")
        return int(min_count)
    return max(1, math.ceil(min_share * n_points / n_modes - 1e-9))


def modes_covered(points, centres, std: float, min_share: float = MIN_SHARE,
                  min_count: int | None = None) -> int:
    """Number of modes holding at least `coverage_threshold` points within 3·std
    (higher is better, at most len(centres))."""
    counts = mode_counts(points, centres, std)
    need = coverage_threshold(int(np.asarray(points).shape[0]), len(counts), min_share, min_count)
    return int((counts >= need).sum())


def within_3sigma(points, centres, std: float) -> float:
    """Share of points within 3·std of their nearest centre (higher is better)."""
    counts = mode_counts(points, centres, std)
    n = int(np.asarray(points).shape[0])
    return float(counts.sum() / n) if n else float("nan")


def toy_metrics(points, real, centres=None, std: float | None = None,
                min_share: float = MIN_SHARE, min_count: int | None = None) -> dict[str, float]:
    """{'w1', and with centres/std given also 'modes', 'within_3sigma'} for
    generated points against an equal-sized real sample."""
    out: dict[str, float] = {"w1": wasserstein1(points, real)}
    if centres is not None and std is not None:
        counts = mode_counts(points, centres, std)
        n = len(np.asarray(points))
        need = coverage_threshold(n, len(counts), min_share, min_count)
        out["modes"] = int((counts >= need).sum())
        out["within_3sigma"] = float(counts.sum() / n)
    return out


__all__ = ["MIN_SHARE", "wasserstein1", "mode_counts", "coverage_threshold", "modes_covered",
           "within_3sigma", "toy_metrics"]
