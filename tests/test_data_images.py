"""Image readers (MNIST idx, CIFAR-10 batches, folders), downloads, conversion, the batch sampler."""
import gzip
import hashlib
import http.server
import os
import pickle
import struct
import tarfile
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from textgan.data import images as im
from textgan.data.images import (ImageBatches, heldout_positions, load_cifar10, load_folder,
                                 load_image_data, load_mnist, read_cifar_batch, read_idx, to_float)
from textgan.errors import ConfigError, CorpusError, DataError, TextganError

# ------------------------------------------------------------------ helpers writing small data sets


def idx_bytes(arr: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08}[arr.dtype]
    return bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def make_mnist(d, n_train=60, n_test=12, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    d.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for stem, a in arrays.items():
        if gz:
            (d / f"{stem}.gz").write_bytes(gzip.compress(idx_bytes(a)))
        else:
            (d / stem).write_bytes(idx_bytes(a))
    return arrays


def cifar_batch(n, seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, n)]
    # the real batches: Python 2 pickles of a dict with byte-string keys
    return {b"batch_label": b"testing batch", b"labels": labels, b"data": data,
            b"filenames": [b"x.png"] * n}


def make_cifar(root, n=8):
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True, exist_ok=True)
    batches = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        batches[name] = cifar_batch(n, i)
        (d / name).write_bytes(pickle.dumps(batches[name], protocol=2))
    return d, batches


def png(path, w, h, color=(0, 0, 0), fmt="PNG"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (w, h), color).save(path, fmt)


# ------------------------------------------------------------------ MNIST

@pytest.mark.parametrize("gz", [True, False])
def test_mnist_split_and_layout(tmp_path, gz):
    arrays = make_mnist(tmp_path / "mnist", gz=gz)
    data = load_mnist(tmp_path)                         # finds DIR/mnist/
    x, y = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    assert data.scale == "unit" and data.n_classes == 10 and data.shape == (1, 28, 28)
    tx, ty = data.train.arrays()
    hx, hy = data.heldout.arrays()
    assert tx.shape == (50, 1, 28, 28) and tx.dtype == np.uint8 and ty.dtype == np.int64
    assert np.array_equal(tx[:, 0], x[:50]) and np.array_equal(ty, y[:50])      # first 5/6 train
    assert np.array_equal(hx[:, 0], x[50:]) and np.array_equal(hy, y[50:])      # last sixth validation
    sx, sy = data.test.arrays()
    assert np.array_equal(sx[:, 0], arrays["t10k-images-idx3-ubyte"])
    assert np.array_equal(sy, arrays["t10k-labels-idx1-ubyte"])


def test_mnist_missing_names_the_options(tmp_path):
    with pytest.raises(DataError) as e:
        load_image_data("mnist", data_dir=tmp_path / "nothing")
    msg = str(e.value)
    assert "\n" not in msg and "--data-dir" in msg and "--download" in msg and "MNIST" in msg


def test_idx_corrupt_and_truncated(tmp_path):
    a = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    good = idx_bytes(a)
    (tmp_path / "ok").write_bytes(good)
    assert np.array_equal(read_idx(tmp_path / "ok"), a)
    (tmp_path / "short").write_bytes(good[:-10])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "short")
    (tmp_path / "magic").write_bytes(b"\x01\x02" + good[2:])
    with pytest.raises(DataError, match="not an idx file"):
        read_idx(tmp_path / "magic")
    (tmp_path / "cut.gz").write_bytes(gzip.compress(good)[:-30])
    with pytest.raises(DataError) as e:
        read_idx(tmp_path / "cut.gz")
    assert "\n" not in str(e.value) and "cut.gz" in str(e.value)


def test_mnist_label_count_mismatch(tmp_path):
    make_mnist(tmp_path, gz=False)
    y = np.zeros(59, np.uint8)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(y))
    with pytest.raises(DataError, match="59 labels for 60 images"):
        load_mnist(tmp_path)


# ------------------------------------------------------------------ CIFAR-10

def test_cifar_batches(tmp_path):
    _, batches = make_cifar(tmp_path)
    data = load_image_data("cifar10", data_dir=tmp_path)
    assert data.scale == "symmetric" and data.classes[0] == "airplane" and data.test is None
    x, y = data.train.arrays()
    assert x.shape == (40, 3, 32, 32) and y.shape == (40,) and y.dtype == np.int64
    first = batches["data_batch_1"][b"data"][0]
    assert np.array_equal(x[0, 0].ravel(), first[:1024])           # the red plane first, row-major
    assert np.array_equal(x[0, 2].ravel(), first[2048:])
    assert y[:8].tolist() == batches["data_batch_1"][b"labels"]
    hx, hy = data.heldout.arrays()
    assert np.array_equal(hx.reshape(8, -1), batches["test_batch"][b"data"])


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_not_run(tmp_path):
    d, _ = make_cifar(tmp_path)
    marker = tmp_path / "pwned"
    payload = cifar_batch(8, 0)
    payload[b"batch_label"] = Exploit(marker)
    (d / "data_batch_3").write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(DataError, match="refusing to load") as e:
        load_cifar10(tmp_path)
    assert not marker.exists() and "\n" not in str(e.value)
    # a bare exploit file is refused the same way
    (d / "data_batch_3").write_bytes(pickle.dumps(Exploit(marker)))
    with pytest.raises(DataError, match="refusing"):
        read_cifar_batch(d / "data_batch_3")
    assert not marker.exists()


def test_cifar_truncated_and_wrong_content(tmp_path):
    d, _ = make_cifar(tmp_path)
    blob = (d / "test_batch").read_bytes()
    (d / "test_batch").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="damaged or truncated"):
        load_cifar10(tmp_path)
    (d / "test_batch").write_bytes(pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(DataError, match="not a CIFAR-10 batch"):
        read_cifar_batch(d / "test_batch")
    (d / "test_batch").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(DataError, match="not a CIFAR-10 batch"):
        read_cifar_batch(d / "test_batch")


def test_cifar_missing(tmp_path):
    with pytest.raises(DataError) as e:
        load_cifar10(tmp_path)
    assert "--data-dir" in str(e.value) and "--download" in str(e.value) and "CIFAR-10" in str(e.value)


# ------------------------------------------------------------------ downloads

class Files(http.server.BaseHTTPRequestHandler):
    files: dict = {}

    def do_GET(self):
        body = Files.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def spec(url, body):
    return im.RemoteFile(url, len(body), hashlib.sha256(body).hexdigest())


def test_mnist_download_over_http(tmp_path, server, monkeypatch):
    src = tmp_path / "src"
    arrays = make_mnist(src)
    Files.files = {p.name: p.read_bytes() for p in src.iterdir()}
    monkeypatch.setattr(im, "MNIST_FILES", {stem: spec(server + stem + ".gz", Files.files[stem + ".gz"])
                                            for stem in im.MNIST_FILES})
    data = load_image_data("mnist", data_dir=tmp_path / "dl", download=True, progress=False)
    assert sorted(p.name for p in (tmp_path / "dl" / "mnist").iterdir()) == sorted(Files.files)
    assert np.array_equal(data.test.arrays()[0][:, 0], arrays["t10k-images-idx3-ubyte"])
    # a wrong checksum is refused and nothing is kept
    bad = dict(im.MNIST_FILES)
    stem = "t10k-labels-idx1-ubyte"
    bad[stem] = im.RemoteFile(bad[stem].url, bad[stem].size, "0" * 64)
    monkeypatch.setattr(im, "MNIST_FILES", bad)
    with pytest.raises(CorpusError, match="checksum mismatch"):
        load_mnist(tmp_path / "dl2", download=True, progress=False)
    assert not (tmp_path / "dl2" / "mnist" / f"{stem}.gz").exists()


def test_cifar_download_file_url(tmp_path, monkeypatch):
    make_cifar(tmp_path / "src")
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        t.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    monkeypatch.setattr(im, "CIFAR10_ARCHIVE", spec(archive.as_uri(), archive.read_bytes()))
    data = load_cifar10(tmp_path / "dl", download=True, progress=False)
    assert len(data.train) == 40 and len(data.heldout) == 8
    assert (tmp_path / "dl" / "cifar-10-batches-py" / "test_batch").is_file()


def test_download_network_failure_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(im, "CIFAR10_ARCHIVE", im.RemoteFile("http://127.0.0.1:9/none.tar.gz", 10, "0" * 64))
    with pytest.raises(DataError) as e:
        load_cifar10(tmp_path, download=True, progress=False)
    assert "\n" not in str(e.value) and "--data-dir" in str(e.value)


# ------------------------------------------------------------------ folders

def test_folder_classes_resize_crop_and_cache(tmp_path):
    root = tmp_path / "imgs"
    for i in range(3):
        png(root / "cats" / f"c{i}.png", 40, 40, (200, 10, 10))
        png(root / "dogs" / f"d{i}.JPG", 50, 30, (10, 200, 10), fmt="JPEG")
    # 64x32: shorter side already 32 -> no resize, the centre 32 columns are kept (green)
    wide = Image.new("RGB", (64, 32), (255, 0, 0))
    wide.paste((0, 255, 0), (16, 0, 48, 32))
    wide.save(root / "dogs" / "wide.png")
    (root / "dogs" / "notes.txt").write_text("not an image")
    (root / "dogs" / "._d0.JPG").write_bytes(b"\x00\x05\x16\x07 macOS resource fork")   # skipped
    png(root / ".thumbs" / "t.png", 8, 8)                                                   # skipped
    data = load_folder(root, 32, progress=False)
    assert data.classes == ("cats", "dogs") and data.scale == "symmetric"
    assert len(data.train) + len(data.heldout) == 7 and len(data.heldout) == 0   # a tenth of 7 -> 0
    x, y = data.train.arrays()
    assert x.shape == (7, 3, 32, 32) and x.dtype == np.uint8
    assert y.tolist() == [0, 0, 0, 1, 1, 1, 1]                 # sorted: cats/c0..2, dogs/d0..2.JPG, wide
    assert (x[0, 0] == 200).all() and (x[0, 1] == 10).all()
    w = x[6]
    assert (w[1] == 255).all() and (w[0] == 0).all()
    # the second load is a memory-mapped cache hit with the same content
    again = load_folder(root, 32, progress=False)
    assert isinstance(again.train.images, np.memmap)
    assert np.array_equal(again.train.arrays()[0], x)
    # an edited file makes a new entry
    png(root / "cats" / "c0.png", 40, 40, (0, 0, 255))
    os.utime(root / "cats" / "c0.png", ns=(1, 10**18))
    third = load_folder(root, 32, progress=False)
    assert (third.train.arrays()[0][0, 2] == 255).all()


def test_folder_without_classes_64_and_resize(tmp_path):
    png(tmp_path / "a.png", 128, 256, (50, 60, 70))
    png(tmp_path / "sub" / "b.png", 20, 20, (5, 6, 7))
    data = load_image_data(tmp_path, size=None, progress=False)          # default 64 px
    assert data.classes is None and data.train.labels is None
    x, _ = data.train.arrays()
    assert x.shape == (2, 3, 64, 64)
    assert (x[0, 0] == 50).all() and (x[1, 2] == 7).all()                 # 128x256 -> 64x128 -> crop


def test_folder_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_folder(tmp_path / "none", 32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no .png"):
        load_folder(tmp_path / "empty", 32)
    png(tmp_path / "bad" / "ok.png", 8, 8)
    (tmp_path / "bad" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    with pytest.raises(DataError, match="broken.jpg") as e:
        load_folder(tmp_path / "bad", 32, progress=False)
    assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="32, 64"):
        load_folder(tmp_path / "bad", 48)
    with pytest.raises(ConfigError, match="download"):
        load_image_data(tmp_path / "bad", download=True)
    assert issubclass(DataError, TextganError)


def grey_folder(root, n=4):
    """Grey images in every format a grey folder arrives in: L, LA, 16-bit, 1-bit, palette, RGB and
    JPEG with equal channels.  Returns the expected [N, 1, 32, 32] pixels (all 32x32: no resize)."""
    rng = np.random.default_rng(5)
    want = []
    for i in range(n):
        g = rng.integers(0, 256, (32, 32), dtype=np.uint8)
        kind = i % 7
        if kind == 0:
            Image.fromarray(g, "L").save(root / f"{i:02d}_l.png")
        elif kind == 1:
            Image.fromarray(np.stack([g, np.full_like(g, 99)], -1), "LA").save(root / f"{i:02d}_la.png")
        elif kind == 2:      # 16-bit: the high byte, not PIL's clip to 255
            Image.fromarray(g.astype(np.uint16) * 256 + 200).save(root / f"{i:02d}_16.png")
        elif kind == 3:
            g = np.where(g > 127, 255, 0).astype(np.uint8)
            Image.fromarray(g).convert("1").save(root / f"{i:02d}_bit.png")
        elif kind == 4:
            Image.fromarray(np.repeat(g[..., None], 3, -1)).convert("P").save(root / f"{i:02d}_p.png")
            g = np.asarray(Image.open(root / f"{i:02d}_p.png").convert("L"))
        elif kind == 5:
            Image.fromarray(np.repeat(g[..., None], 3, -1), "RGB").save(root / f"{i:02d}_rgb.png")
        else:                # an RGB JPEG of a grey picture decodes with equal channels
            Image.fromarray(np.repeat(g[..., None], 3, -1), "RGB").save(root / f"{i:02d}_j.jpg", quality=90)
            g = np.asarray(Image.open(root / f"{i:02d}_j.jpg"))[..., 0]
        want.append(g)
    return np.stack(want)[:, None]


def test_grey_folder_has_one_channel_in_every_format(tmp_path):
    want = grey_folder(tmp_path, 7)
    assert {Image.open(f).mode for f in tmp_path.iterdir()} == {"L", "LA", "I;16", "1", "P", "RGB"}
    data = load_folder(tmp_path, 32, progress=False)
    x = np.concatenate([data.train.arrays()[0], data.heldout.arrays()[0]])
    assert data.shape == (1, 32, 32) and x.shape == (7, 1, 32, 32)
    assert np.array_equal(x, want)
    # forced to 3: the same grey in R, G and B
    rgb = load_folder(tmp_path, 32, channels=3, progress=False)
    assert rgb.shape == (3, 32, 32) and np.array_equal(rgb.train.arrays()[0], np.repeat(want, 3, 1))


def test_one_colour_image_makes_the_folder_rgb(tmp_path):
    want = grey_folder(tmp_path, 3)
    tint = np.zeros((32, 32, 3), np.uint8)
    tint[..., 0] = 1                             # one level of red: not grey
    Image.fromarray(tint).save(tmp_path / "zz.png")
    x = load_folder(tmp_path, 32, progress=False).train.arrays()[0]
    assert x.shape == (4, 3, 32, 32)
    assert np.array_equal(x[:3], np.repeat(want, 3, 1)) and np.array_equal(x[3], tint.transpose(2, 0, 1))


def test_colour_folder_forced_grey_is_pils_luminance(tmp_path):
    rng = np.random.default_rng(2)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    colour = load_folder(tmp_path, 32, progress=False)
    assert colour.shape == (3, 32, 32)
    grey = load_folder(tmp_path, 32, channels=1, progress=False)
    assert grey.shape == (1, 32, 32)
    with Image.open(tmp_path / "0.png") as im:           # convert("L"), then the same resize and crop
        expect = im.convert("L").resize((32, 32), Image.Resampling.BICUBIC, reducing_gap=3.0)
    assert np.array_equal(grey.train.arrays()[0][0, 0], np.asarray(expect))
    with pytest.raises(ConfigError, match="channels must be 1 or 3") as e:
        load_folder(tmp_path, 32, channels=2)
    assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="MNIST images have 1 channel"):
        load_image_data("mnist", channels=3)


def test_folder_cache_key_holds_the_channels(tmp_path, monkeypatch):
    grey_folder(tmp_path, 2)
    detected = load_folder(tmp_path, 32, progress=False)               # decodes: 1 channel
    forced = load_folder(tmp_path, 32, channels=3, progress=False)     # its own entry, not the grey one
    assert detected.shape == (1, 32, 32) and forced.shape == (3, 32, 32)

    def no_decoding(*args, **kw):
        raise AssertionError("decoded again")
    monkeypatch.setattr(im, "load_image", no_decoding)
    # cache hits: the detected entry again, the forced one, and channels=1 (what a resumed run asks
    # for after detecting 1) reads the detected entry
    assert load_folder(tmp_path, 32, progress=False).shape == (1, 32, 32)
    assert load_folder(tmp_path, 32, channels=3, progress=False).shape == (3, 32, 32)
    again = load_folder(tmp_path, 32, channels=1, progress=False)
    assert isinstance(again.train.images, np.memmap) and again.shape == (1, 32, 32)


def test_heldout_positions():
    assert len(heldout_positions(50_000)) == 500
    assert len(heldout_positions(1_000_000)) == 10_000
    assert len(heldout_positions(3_000)) == 300
    a = heldout_positions(20_000, seed=3)
    assert np.array_equal(a, heldout_positions(20_000, seed=3)) and np.all(np.diff(a) > 0)
    assert not np.array_equal(a, heldout_positions(20_000, seed=4))


def test_folder_split_is_disjoint(tmp_path):
    for i in range(20):
        png(tmp_path / f"{i:02d}.png", 8, 8, (i, i, i))
    data = load_folder(tmp_path, 32, progress=False)
    assert len(data.heldout) == 2 and len(data.train) == 18
    assert not set(data.heldout.index) & set(data.train.index)


# ------------------------------------------------------------------ conversion and the sampler

@pytest.mark.numerics
def test_to_float():
    x = torch.tensor([0, 1, 127, 128, 255], dtype=torch.uint8)
    assert torch.equal(to_float(x, "unit"), x.float() / 255)
    g = torch.Generator().manual_seed(0)
    y = to_float(x.repeat(1000), "symmetric", g)
    base = x.float().repeat(1000) / 128 - 1
    assert ((y - base) >= 0).all() and ((y - base) < 1 / 128).all()
    assert (y - base).mean().item() == pytest.approx(0.5 / 128, rel=0.05)
    with pytest.raises(ValueError):
        to_float(x, "other")


def small_set(n=20):
    x = np.arange(n, dtype=np.uint8)[:, None, None, None] * np.ones((1, 1, 2, 2), np.uint8)
    return im.ImageSet(x, np.arange(n, dtype=np.int64) % 10)


def test_sampler_epochs_labels_and_resume():
    data = small_set(20)
    s = ImageBatches(data, 6, "unit", seed=2)
    first = [s.next_labeled() for _ in range(3)]              # 18 of 20 rows, no repeats
    rows = torch.cat([x[:, 0, 0, 0] for x, _ in first]) * 255
    assert len(set(rows.round().long().tolist())) == 18
    for x, y in first:
        assert torch.equal((x[:, 0, 0, 0] * 255).round().long() % 10, y) and y.dtype == torch.int64
    state = s.state_dict()
    expected = [s.next() for _ in range(5)]                   # crosses into epoch 2
    assert s.epoch >= 1
    t = ImageBatches(data, 6, "unit", seed=99)
    t.load_state_dict(state)
    assert all(torch.equal(e, t.next()) for e in expected)


def test_sampler_symmetric_resume_includes_noise():
    data = small_set(20)
    s = ImageBatches(data, 4, "symmetric", seed=1)
    s.next()
    state = s.state_dict()
    a = s.next()
    t = ImageBatches(data, 4, "symmetric", seed=1)
    t.load_state_dict(state)
    assert torch.equal(a, t.next())
    assert a.min() >= -1 and a.max() < 20 / 128 - 1 + 1 / 128


def test_sampler_errors_and_heldout_batches():
    unlabeled = im.ImageSet(np.zeros((8, 1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="no labels"):
        ImageBatches(unlabeled, 4, "unit").next_labeled()
    with pytest.raises(ConfigError, match="fewer than the batch size"):
        ImageBatches(unlabeled, 9, "unit")
    data = small_set(10)
    a = list(data.batches(4, "symmetric", seed=5))
    b = list(data.batches(4, "symmetric", seed=5))
    assert [x.shape[0] for x in a] == [4, 4, 2] and all(torch.equal(p, q) for p, q in zip(a, b))
    xy = list(data.batches(4, "unit", labels=True))
    assert torch.equal(xy[2][1], torch.tensor([8, 9]))
