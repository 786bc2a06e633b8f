import math

import numpy as np
import pytest

from textgan.metrics.points import (coverage_threshold, mode_counts, modes_covered,
                                    toy_metrics, wasserstein1, within_3sigma)

pytestmark = pytest.mark.numerics


def eight_gaussians():
    k = np.arange(8)
    centres = 2 * np.stack([np.cos(k * np.pi / 4), np.sin(k * np.pi / 4)], 1) / 1.414
    return centres, 0.02 / 1.414


def grid25():
    ij = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3)], dtype=float)
    return 2 * ij / 2.828, 0.05 / 2.828


def test_w1_identical_sets_and_permutation_is_zero():
    x = np.random.default_rng(0).normal(size=(50, 2))
    assert wasserstein1(x, x) == 0.0
    assert wasserstein1(x, x[::-1]) == 0.0


def test_w1_of_a_shifted_copy_is_the_shift():
    # points far apart compared with the shift: the identity matching is optimal
    x = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    shift = np.array([0.3, 0.4])   # length 0.5
    assert wasserstein1(x, x + shift) == pytest.approx(0.5, abs=1e-12)


def test_w1_any_translation_of_a_cloud_is_its_length():
    # for a pure translation t, W1 = |t| (mean matched distance >= |mean difference| = |t|)
    x = np.random.default_rng(1).normal(size=(200, 2))
    t = np.array([3.0, -4.0])
    assert wasserstein1(x, x + t) == pytest.approx(5.0, abs=1e-9)


def test_w1_picks_the_cheaper_assignment():
    x = np.array([[0.0, 0.0], [1.0, 0.0]])
    y = np.array([[1.0, 0.1], [0.0, 0.1]])    # the same two points swapped, moved up 0.1
    assert wasserstein1(x, y) == pytest.approx(0.1)
    y2 = np.array([[2.0, 0.0], [0.0, 0.0]])   # one point moved by 1, matched optimally
    assert wasserstein1(x, y2) == pytest.approx(0.5)


def test_w1_rejects_bad_shapes():
    with pytest.raises(ValueError):
        wasserstein1(np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError):
        wasserstein1(np.zeros((3, 3)), np.zeros((3, 3)))


def test_modes_on_constructed_points():
    centres, std = eight_gaussians()
    rng = np.random.default_rng(0)
    # 6 modes get 100 points each, exactly on the centre ± 1 std; mode 6 gets 5 points; mode 7 none;
    # 50 points far away (the origin lies 1.41 from every centre)
    pts = [centres[k] + rng.uniform(-0.7, 0.7, size=(100, 2)) * std for k in range(6)]
    pts.append(centres[6] + np.zeros((5, 2)))
    pts.append(np.zeros((50, 2)))
    pts = np.concatenate(pts)
    n = len(pts)                       # 655
    counts = mode_counts(pts, centres, std)
    assert counts.tolist() == [100] * 6 + [5, 0]
    assert within_3sigma(pts, centres, std) == pytest.approx(605 / n)
    # default threshold ceil(0.2 * 655 / 8) = 17: mode 6 with 5 points is not covered
    assert coverage_threshold(n, 8) == 17
    assert modes_covered(pts, centres, std) == 6
    assert modes_covered(pts, centres, std, min_count=5) == 7
    assert modes_covered(pts, centres, std, min_count=1) == 7


def test_three_sigma_boundary_and_nearest_centre_only():
    centres = np.array([[0.0, 0.0], [1.0, 0.0]])
    std = 0.1
    pts = np.array([[0.3 - 1e-9, 0.0],     # inside 3 std of centre 0
                    [0.0, 0.30001],       # just outside
                    [0.55, 0.0],          # nearest centre 1, 0.45 away: outside
                    [0.8, 0.0]])          # centre 1
    assert mode_counts(pts, centres, std).tolist() == [1, 1]
    assert within_3sigma(pts, centres, std) == 0.5


def test_grid25_real_samples_cover_everything():
    centres, std = grid25()
    rng = np.random.default_rng(0)
    real = centres[rng.integers(0, 25, 2500)] + rng.normal(size=(2500, 2)) * std
    assert coverage_threshold(2500, 25) == 20        # PacGAN's 20 of 2,500
    assert modes_covered(real, centres, std) == 25
    # 3 std in 2-D holds 1 - exp(-4.5) = 98.9 % of an isotropic Gaussian
    assert within_3sigma(real, centres, std) == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    collapsed = np.repeat(centres[:3], [200, 200, 100], axis=0)
    m = toy_metrics(collapsed, real[:500], centres, std)
    assert m["modes"] == 3 and m["within_3sigma"] == 1.0 and m["w1"] > 0.3
    assert set(toy_metrics(real, real)) == {"w1"}


def test_image_metric_descriptions_cover_the_logged_keys():
    from textgan.metrics import IMAGE_METRICS

    assert set(IMAGE_METRICS) == {"w1", "modes", "within_3sigma", "classifier_score", "fd",
                                  "inception_score", "fid"}
    assert IMAGE_METRICS["w1"].higher_is_better is False and IMAGE_METRICS["modes"].higher_is_better is True
    assert IMAGE_METRICS["within_3sigma"].better == "closer"
    assert IMAGE_METRICS["within_3sigma"].higher_is_better is None
