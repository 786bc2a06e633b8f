import math

import numpy as np
import pytest
import torch
from rounding import sum_bound

import textgan.metrics.inception as I
from textgan.errors import TextganError


@pytest.fixture(autouse=True)
def _no_onednn():
    """oneDNN spends seconds building primitives for every new input shape, far more than
    these few tiny forward passes take with the plain convolutions."""
    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    yield
    torch.backends.mkldnn.enabled = before


@pytest.fixture(scope="module")
def random_net():
    """The real architecture with random weights, resizing to 75 px (the real metrics use 299) to stay fast."""
    torch.manual_seed(0)
    net = I.FIDInceptionV3(input_size=75).eval()
    with torch.no_grad():     # non-trivial batch-norm statistics
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def test_state_dict_layout_of_the_2015_12_05_file():
    shapes = I.expected_state_shapes()
    # 94 conv + batch-norm units (5 tensors each) and the 1008-way fc
    assert len(shapes) == 94 * 5 + 2
    convs = [k for k in shapes if k.endswith(".conv.weight")]
    assert len(convs) == 94
    for k in convs:
        unit = k[: -len(".conv.weight")]
        c = shapes[k][0]
        assert all(shapes[f"{unit}.bn.{t}"] == (c,) for t in ("weight", "bias", "running_mean", "running_var"))
    assert shapes["Conv2d_1a_3x3.conv.weight"] == (32, 3, 3, 3)
    assert shapes["Conv2d_4a_3x3.conv.weight"] == (192, 80, 3, 3)
    assert shapes["Mixed_5b.branch_pool.conv.weight"] == (32, 192, 1, 1)
    assert shapes["Mixed_6b.branch7x7_2.conv.weight"] == (128, 128, 1, 7)
    assert shapes["Mixed_6e.branch7x7dbl_2.conv.weight"] == (192, 192, 7, 1)
    assert shapes["Mixed_7a.branch3x3_2.conv.weight"] == (320, 192, 3, 3)
    assert shapes["Mixed_7b.branch3x3dbl_1.conv.weight"] == (448, 1280, 1, 1)
    assert shapes["Mixed_7c.branch_pool.conv.weight"] == (192, 2048, 1, 1)
    assert shapes["fc.weight"] == (1008, 2048) and shapes["fc.bias"] == (1008,)
    assert not any("Aux" in k for k in shapes)
    # torchvision's InceptionV3 has 27,161,264 parameters with its aux head (3,326,696) and a
    # 1000-way fc; without the aux head and with 1008 outputs: 23,850,960
    assert sum(math.prod(s) for k, s in shapes.items() if "running" not in k) == 23_850_960


def test_loader_reads_a_file_with_the_real_layout(tmp_path, monkeypatch, random_net):
    sd = random_net.state_dict()      # includes num_batches_tracked, as a model's state_dict does
    path = tmp_path / "weights-inception-2015-12-05-6726825d.pth"
    torch.save(sd, path)
    seen = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: seen.append(k.get("weights_only")) or real_load(*a, **k))
    monkeypatch.setenv(I.WEIGHTS_ENV, str(path))
    net = I.load_inception()
    assert seen == [True]
    assert all(torch.equal(v, sd[k]) for k, v in net.state_dict().items())
    assert not any(p.requires_grad for p in net.parameters())
    # without num_batches_tracked (as a converted file may be) the layout is accepted too
    lean = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    assert I.check_state_dict(lean).keys() == lean.keys()
    # the option wins over the variable
    monkeypatch.setenv(I.WEIGHTS_ENV, str(tmp_path / "nowhere.pth"))
    assert I.weights_path(path) == path


def test_loader_rejects_wrong_layouts(tmp_path, random_net):
    sd = dict(random_net.state_dict())
    del sd["Mixed_5b.branch1x1.conv.weight"]
    sd["AuxLogits.fc.weight"] = torch.zeros(3)
    sd["fc.weight"] = torch.zeros(1000, 2048)
    with pytest.raises(TextganError) as e:
        I.check_state_dict(sd)
    msg = str(e.value)
    assert "\n" not in msg
    assert "missing Mixed_5b.branch1x1.conv.weight" in msg and "AuxLogits.fc.weight" in msg and "fc.weight" in msg
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(TextganError):
        I.load_inception(junk)


def test_missing_weights_message(monkeypatch, tmp_path):
    monkeypatch.delenv(I.WEIGHTS_ENV, raising=False)
    with pytest.raises(TextganError) as e:
        I.load_inception()
    msg = str(e.value)
    assert "\n" not in msg
    assert I.WEIGHTS_URL in msg and "TEXTGAN_INCEPTION_WEIGHTS" in msg
    assert I.WEIGHTS_URL.endswith("weights-inception-2015-12-05-6726825d.pth")
    with pytest.raises(TextganError) as e:
        I.inception_score(np.zeros((2, 3, 8, 8), np.uint8), inception_weights=tmp_path / "absent.pth")
    assert "absent.pth" in str(e.value) and I.WEIGHTS_URL in str(e.value) and "\n" not in str(e.value)


@pytest.mark.numerics
def test_tf1_bilinear_resize_hand_cases():
    x = torch.tensor([[[[0.0, 10.0]]]])                          # 1 × 2
    # TF1 align_corners=False: source = dst · in/out, no half-pixel shift, clamped at the edge
    assert I.resize_bilinear_tf1(x, (1, 4)).flatten().tolist() == [0.0, 5.0, 10.0, 10.0]
    y = torch.arange(16.0).view(1, 1, 4, 4)
    assert torch.equal(I.resize_bilinear_tf1(y, (4, 4)), y)      # same size: identity
    assert I.resize_bilinear_tf1(y, (2, 2)).flatten().tolist() == [0.0, 2.0, 8.0, 10.0]   # every other pixel
    z = torch.tensor([[[[0.0, 4.0], [8.0, 12.0]]]])
    assert np.allclose(I.resize_bilinear_tf1(z, (3, 3))[0, 0].numpy(),
                       [[0, 8 / 3, 4], [16 / 3, 8, 28 / 3], [8, 32 / 3, 12]])
    # and not PyTorch's half-pixel bilinear
    assert not torch.allclose(I.resize_bilinear_tf1(y, (7, 7)),
                              torch.nn.functional.interpolate(y, (7, 7), mode="bilinear", align_corners=False))


@pytest.mark.numerics
def test_forward_shapes_and_grey_images(random_net):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (2, 3, 32, 32), dtype=np.uint8)
    pool, logits = I.inception_features(random_net, rgb, batch_size=1)
    assert pool.shape == (2, 2048) and logits.shape == (2, 1008) and pool.dtype == np.float64
    assert (pool >= 0).all() and np.isfinite(logits).all()
    # logits carry no fc bias: pool @ fc.weight^T, to the rounding of a float32 sum of 2048 products
    w = random_net.fc.weight.detach().double().numpy()
    err = np.abs(logits - pool @ w.T)
    bound = sum_bound(pool.shape[1], np.abs(pool) @ np.abs(w).T)
    assert (err <= bound).all(), (err / bound).max()
    grey = rgb[:1, :1]
    pg, _ = I.inception_features(random_net, grey)
    pr, _ = I.inception_features(random_net, np.repeat(grey, 3, axis=1))
    assert np.array_equal(pg, pr)
    with pytest.raises(ValueError):
        I.inception_features(random_net, rgb.astype(np.float32))


def test_the_real_input_size_runs():
    torch.manual_seed(0)
    net = I.FIDInceptionV3().eval()
    assert net.input_size == 299
    pool, logits = I.inception_features(net, np.zeros((1, 3, 28, 28), np.uint8))
    assert pool.shape == (1, 2048) and logits.shape == (1, 1008)


@pytest.mark.numerics
def test_inception_score_formula_on_hand_logits():
    # confident logits spread evenly over 4 of the 1008 classes: IS = 4 in every split
    logits = np.full((40, 1008), -50.0)
    logits[np.arange(40), np.arange(40) % 4] = 50.0
    s = I.inception_score_from_logits(logits[np.argsort(np.arange(40) % 10, kind="stable")], splits=1)
    assert s.mean == pytest.approx(4.0, rel=1e-9)
    assert I.inception_score_from_logits(np.zeros((30, 1008)), splits=10).mean == pytest.approx(1.0)
    # ten splits after torch-fidelity's seeded permutation (RandomState(2020))
    z = np.random.default_rng(0).normal(size=(100, 1008)) * 4
    perm = np.random.RandomState(2020).permutation(100)
    p = torch.as_tensor(z[perm]).softmax(1).numpy()
    scores = []
    for i in range(10):
        c = p[i * 10:(i + 1) * 10]
        kl = (c * (np.log(c) - np.log(c.mean(0)))).sum(1).mean()
        scores.append(math.exp(kl))
    s = I.inception_score_from_logits(z)
    assert s.mean == pytest.approx(np.mean(scores), rel=1e-10) and s.std == pytest.approx(np.std(scores), rel=1e-8)


@pytest.mark.numerics
def test_fid_formula_on_hand_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 5))
    assert I.fid_from_features(a, a) == pytest.approx(0.0, abs=1e-9)
    # b = 2a + 3: the exact sample covariance is 4 Σa, mean shifted by a.mean + 3
    b = 2 * a + 3
    sa = np.cov(a, rowvar=False)
    w, v = np.linalg.eigh(sa)
    sqrt_sa = (v * np.sqrt(w)) @ v.T
    # tr Σa + tr 4Σa − 2 tr (4Σa²)^½ = 5 tr Σa − 4 tr Σa = tr Σa
    want = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(sa) + 4 * np.trace(sa) - 2 * 2 * np.trace(sqrt_sa @ sqrt_sa)
    assert I.fid_from_features(a, b) == pytest.approx(want, rel=1e-9)
    assert want == pytest.approx(((a.mean(0) + 3) ** 2).sum() + np.trace(sa))


@pytest.mark.numerics
def test_end_to_end_with_a_random_network(random_net):
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (4, 3, 16, 16), dtype=np.uint8)    # 4 images, 2 splits
    s = I.inception_score(imgs, splits=2, model=random_net)
    assert s.mean >= 1.0 - 1e-9 and np.isfinite(s.std)
    assert I.fid(imgs, imgs, model=random_net) == pytest.approx(0.0, abs=1e-6)
    u = I.images_to_uint8(np.array([[-1.0, 0.0, 1.0, 2.0]]), low=-1, high=1)
    assert u.tolist() == [[0, 128, 255, 255]]


class Recorder(torch.nn.Module):
    """Stands in for the network: records each forward's batch size and the TF32 switches."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(1, 1)
        self.calls = []

    def forward(self, x):
        self.calls.append((len(x), torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32))
        return torch.zeros(len(x), I.POOL_DIM), torch.zeros(len(x), I.N_LOGITS)


def test_batch_size_suits_the_device_and_tf32_is_off_for_the_metric():
    assert I.default_batch_size(torch.device("cuda")) == 500
    assert I.default_batch_size(torch.device("cpu")) == 50
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    net = Recorder()
    try:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True   # as a CUDA run sets
        pool, _ = I.inception_features(net, np.zeros((120, 3, 8, 8), np.uint8))
        assert pool.shape == (120, I.POOL_DIM)
        assert net.calls == [(50, False, False), (50, False, False), (20, False, False)]
        assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (True, True)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before
