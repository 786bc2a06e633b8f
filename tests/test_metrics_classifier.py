import math

import numpy as np
import pytest
import torch

import textgan.metrics.classifier as C
from textgan.metrics.classifier import (classifier_cache_path, classifier_metrics, feature_statistics,
                                        frechet_distance, load_or_train_classifier, predict,
                                        score_from_logits, score_from_probs)

pytestmark = pytest.mark.numerics


# ------------------------------------------------------------------ the score

def test_uniform_probabilities_score_one():
    p = np.full((100, 10), 0.1)
    s = score_from_probs(p, splits=10)
    assert s.mean == pytest.approx(1.0, abs=1e-12) and s.std == pytest.approx(0.0, abs=1e-12)


def test_identical_rows_score_one():
    p = np.tile([0.7, 0.2, 0.1], (30, 1))
    assert score_from_probs(p, splits=3).mean == pytest.approx(1.0)


@pytest.mark.parametrize("k", [2, 5, 10])
def test_confident_even_predictions_score_k(k):
    p = np.eye(k)[np.arange(20 * k) % k]          # every chunk holds each class equally often
    s = score_from_probs(p, splits=4)
    assert s.mean == pytest.approx(k, rel=1e-12) and s.std == pytest.approx(0.0, abs=1e-12)


def test_two_class_hand_case():
    # half the rows (0.9, 0.1), half (0.1, 0.9): p(y) = (0.5, 0.5), KL = 0.9 ln 1.8 + 0.1 ln 0.2
    p = np.array([[0.9, 0.1], [0.1, 0.9]] * 5)
    kl = 0.9 * math.log(1.8) + 0.1 * math.log(0.2)
    assert score_from_probs(p, splits=1).mean == pytest.approx(math.exp(kl), rel=1e-12)


def test_splits_give_mean_and_population_std():
    # chunk 1: two classes evenly (score 2), chunk 2: one class only (score 1)
    p = np.array([[1, 0], [0, 1], [1, 0], [1, 0]], dtype=float)
    s = score_from_probs(p, splits=2)
    assert s.mean == pytest.approx(1.5) and s.std == pytest.approx(0.5)


def test_logits_agree_with_probs_and_shuffle_is_seeded():
    z = np.random.default_rng(0).normal(size=(64, 7)) * 3
    p = torch.as_tensor(z).softmax(1).numpy()
    assert score_from_logits(z, 4).mean == pytest.approx(score_from_probs(p, 4).mean, rel=1e-10)
    a = score_from_logits(z, 4, shuffle_seed=2020)
    assert a == score_from_logits(z, 4, shuffle_seed=2020)
    assert a.mean != pytest.approx(score_from_logits(z, 4).mean, rel=1e-9)
    assert score_from_logits(z, 1, shuffle_seed=5).mean == pytest.approx(score_from_logits(z, 1).mean)


def test_score_rejects_non_probabilities():
    with pytest.raises(ValueError):
        score_from_probs(np.ones((4, 3)), 1)
    with pytest.raises(ValueError):
        score_from_probs(np.full((4, 2), 0.5), splits=5)


# ---------------------------------------------------------- Fréchet distance

@pytest.mark.parametrize("method", ["sqrtm", "eigvals"])
def test_identical_gaussians_distance_zero(method):
    a = np.random.default_rng(0).normal(size=(200, 6))
    mu, s = feature_statistics(a)
    assert frechet_distance(mu, s, mu, s, method=method) == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize("method", ["sqrtm", "eigvals"])
def test_diagonal_gaussians_closed_form(method):
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    want = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum()   # 5 + 1 + 1 + 6.25
    got = frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2), method=method)
    assert got == pytest.approx(want, rel=1e-10) and want == pytest.approx(13.25)


def test_methods_agree_on_full_covariances_and_singular_guard():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(50, 8)), rng.normal(size=(50, 8)) @ rng.normal(size=(8, 8)) + 1
    sa, sb = feature_statistics(a), feature_statistics(b)
    assert frechet_distance(*sa, *sb) == pytest.approx(frechet_distance(*sa, *sb, method="eigvals"), rel=1e-8)
    # fewer samples than dimensions: singular covariances, still finite and non-negative
    c, d = rng.normal(size=(5, 20)), rng.normal(size=(5, 20))
    v = frechet_distance(*feature_statistics(c), *feature_statistics(d))
    assert np.isfinite(v) and v > 0


# ------------------------------------------------------------ the classifier

def fake_digits(n, seed=0):
    """n 28×28 uint8 images whose class is a bright bar in one of 10 places."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for k in range(10):
        r, c = 2 + 2 * (k // 2) + (k % 2) * 12, 4 + (k % 2) * 8
        x[y == k, r:r + 3, c:c + 12] = 250
    return x, y


def test_classifier_trains_caches_and_reloads_with_weights_only(tmp_path, monkeypatch):
    x, y = fake_digits(2000)
    path = classifier_cache_path(x, y, epochs=1, cache_dir=tmp_path)
    assert not path.exists()
    m = load_or_train_classifier(x, y, epochs=1, cache_dir=tmp_path)
    assert path.exists() and path.parent == tmp_path
    torch.load(path, weights_only=True)          # a plain state_dict

    # a second call loads, never trains
    def boom(*a, **k):
        raise AssertionError("retrained despite a cache entry")
    monkeypatch.setattr(C, "train_classifier", boom)
    loaded_with = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: loaded_with.append(k.get("weights_only")) or real_load(*a, **k))
    m2 = load_or_train_classifier(x, y, epochs=1, cache_dir=tmp_path)
    assert loaded_with == [True]
    for (k, v), (k2, v2) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)

    # other data (or another seed) → another cache entry
    x2 = x.copy()
    x2[0, 0, 0] ^= 1
    assert classifier_cache_path(x2, y, epochs=1, cache_dir=tmp_path) != path
    assert classifier_cache_path(x, y, epochs=1, seed=7, cache_dir=tmp_path) != path

    p, f = predict(m, x[:300])
    assert p.shape == (300, 10) and f.shape == (300, C.FEATURE_DIM)
    assert p.dtype == np.float64 and np.allclose(p.sum(1), 1)
    assert C.accuracy(m, x[:300], y[:300]) > 0.5      # an easy task; one epoch learns something
    met = classifier_metrics(m, x[:300], x[300:600], splits=3)
    assert set(met) == {"classifier_score", "classifier_score_std", "fd"}
    assert 1.0 <= met["classifier_score"] <= 10.0 and met["fd"] >= 0
    # float input in [0, 1] is the same as uint8 / 255: the same input tensor, hence the same
    # predictions (compared at the same batch size: another one may round differently on some CPUs)
    as_float = x[:10].astype(np.float32) / 255
    assert torch.equal(C.as_input(as_float), C.as_input(x[:10]))
    assert np.array_equal(predict(m, as_float)[0], predict(m, x[:10])[0])


def test_classifier_input_validation():
    with pytest.raises(ValueError):
        C.as_input(np.zeros((2, 32, 32), np.uint8))
    with pytest.raises(ValueError):
        C.train_classifier(np.zeros((3, 28, 28), np.uint8), np.array([0, 1]))


def test_training_decays_the_learning_rate_linearly_to_zero(monkeypatch):
    x, y = fake_digits(300)
    seen = []
    real_step = torch.optim.Adam.step
    monkeypatch.setattr(torch.optim.Adam, "step",
                        lambda self, *a, **k: seen.append(self.param_groups[0]["lr"]) or real_step(self, *a, **k))
    C.train_classifier(x, y, epochs=2, batch_size=128, lr=0.01)       # 3 batches an epoch, 6 steps
    assert seen == pytest.approx([0.01 * (1 - k / 6) for k in range(6)], rel=1e-12)


def test_recipe_is_in_the_cache_key(monkeypatch, tmp_path):
    # the recipe of version 2 (10 epochs, Adam 2e-3 decayed linearly); another version never reuses a file
    assert (C.ARCH_VERSION, C.DEFAULT_EPOCHS, C.DEFAULT_LR, C.SCORE_SPLITS) == (2, 10, 2e-3, 10)
    x, y = fake_digits(50)
    path = classifier_cache_path(x, y, cache_dir=tmp_path)
    assert path.name.startswith("mnist_cnn_v2_")
    monkeypatch.setattr(C, "ARCH_VERSION", 1)
    assert classifier_cache_path(x, y, cache_dir=tmp_path) != path


def test_small_splits_bias_the_score_low():
    # perfect predictions of evenly drawn classes: near 10 in splits of 1,000, clearly lower in splits of 100
    # (each split's class histogram is an estimate whose entropy falls short by about 9 / 2n nats)
    labels = np.random.default_rng(0).integers(0, 10, 10_000)
    p = np.eye(10)[labels]
    big, small = score_from_probs(p, 10).mean, score_from_probs(p[:1000], 10).mean
    assert big > 9.95 and small < 9.7
    assert small == pytest.approx(10 * math.exp(-9 / 200), abs=0.15)


# ------------------------------------------------------------ inside a run: no RNG stream moves

def streams():
    import random
    return random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state()


def same_streams(a, b):
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and torch.equal(a[2], b[2])


def refuse_cuda_seeding(monkeypatch):
    """From here on, any seeding or setting of a CUDA stream fails the test (CUDA itself is absent)."""
    def refuse(*a, **k):
        raise AssertionError("a CUDA random stream was seeded or set")
    for name in ("manual_seed", "manual_seed_all", "set_rng_state", "set_rng_state_all", "seed", "seed_all"):
        monkeypatch.setattr(torch.cuda, name, refuse)


def test_training_and_loading_move_no_rng_stream(tmp_path, monkeypatch):
    import random
    x, y = fake_digits(300)
    random.seed(5); np.random.seed(6); torch.manual_seed(7)
    refuse_cuda_seeding(monkeypatch)
    before = streams()
    model = C.train_classifier(x, y, epochs=1)
    assert same_streams(before, streams())
    torch.save(model.state_dict(), tmp_path / "c.pt")
    C.load_classifier(tmp_path / "c.pt")
    assert same_streams(before, streams())


def test_a_new_classifier_is_the_one_torch_manual_seed_gave():
    # the cached classifiers keep their meaning: the same initial weights as before the private seeding
    torch.manual_seed(C.DEFAULT_SEED)
    old = C.MnistClassifier()
    for a, b in zip(old.state_dict().values(), C.new_classifier(C.DEFAULT_SEED).state_dict().values()):
        assert torch.equal(a, b)


def test_the_image_evaluator_moves_no_rng_stream(monkeypatch):
    import random
    from textgan.config import make_image_config
    from textgan.data.images import ImageData, ImageSet
    from textgan.image import ImageEvaluator
    x, y = fake_digits(200)
    data = ImageData("mnist", ImageSet(x[:150, None], y[:150]), ImageSet(x[150:, None], y[150:]), None,
                     tuple(str(i) for i in range(10)), "unit")
    cfg = make_image_config("mnist", "small", eval_samples=40)
    random.seed(1); np.random.seed(2); torch.manual_seed(3)
    refuse_cuda_seeding(monkeypatch)
    before = streams()
    evaluator = ImageEvaluator(data, cfg, None, lambda m: None, torch.device("cpu"))
    assert evaluator.kind == "classifier" and same_streams(before, streams())


def test_predict_runs_in_full_float32_and_restores_the_switches(monkeypatch):
    x, _ = fake_digits(30)
    model = C.new_classifier()
    seen = []
    features = model.features
    monkeypatch.setattr(model, "features", lambda t: seen.append(
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)) or features(t))
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True   # as a CUDA run sets
        predict(model, x, batch_size=8)
        assert seen == [(False, False)] * 4
        assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (True, True)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


def test_full_float32_restores_the_switches_after_an_error():
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        for setting in ((True, False), (False, True), (True, True)):
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = setting
            with pytest.raises(KeyError):
                with C.full_float32():
                    assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
                    raise KeyError
            assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == setting
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before
