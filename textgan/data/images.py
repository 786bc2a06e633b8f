"""Image data sets as compact uint8 arrays [N, C, H, W] (+ int64 labels), and their batch sampler.

Sources:
- MNIST (LeCun, Cortes & Burges), the four idx files `train-images-idx3-ubyte`,
  `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (each raw or .gz),
  fetched with --download from the ossci-datasets mirror that torchvision uses (byte-identical to
  yann.lecun.com's files; sizes and sha256 below).  Split as the paper's `mnist.pkl.gz`: the first
  50,000 training images train, the last 10,000 are the validation (held-out) split, t10k is the test
  split (for files of other lengths: the last sixth of the training file).
- CIFAR-10 (Krizhevsky 2009), the "python version" `cifar-10-python.tar.gz` from
  www.cs.toronto.edu/~kriz, extracted to `cifar-10-batches-py/`: `data_batch_1..5` train (50,000),
  `test_batch` is the held-out split (10,000).  The batches are pickles; they are read by an
  unpickler that can build only dicts, lists, bytes/strings, numbers and numpy arrays
  (`numpy.core.multiarray._reconstruct`, `numpy.ndarray`, `numpy.dtype`, and `_codecs.encode`, which
  protocol-2 pickles written by Python 3 use for bytes): any other global is refused, never imported.
- an image folder: every .png/.jpg/.jpeg under it (recursively, sorted), the shorter side
  resized to `size` (bicubic) and centre-cropped to size x size (32 or 64).  Channels (`channels`
  0, the default, detects): 1 when every image is grey, else 3.  An image is grey when PIL opens it
  in a grey mode (1, L, LA, I, I;16...: 16-bit values keep their high byte) or when its RGB crop
  has three equal channels (grey saved as RGB, PNG palettes, JPEG; its one channel is then exactly
  PIL's convert("L")), so a grey folder is found whatever format wrote it, without a second
  decoding pass.  channels=1 converts colour images to their luminance as PIL's convert("L")
  (0.299 R + 0.587 G + 0.114 B); channels=3 repeats a grey image into R, G and B.  When every
  image lies in a first-level sub-folder and there are at least two, the sub-folder names are the
  classes (sorted; labels are their indices).  Hidden files and folders (".name") are skipped.
  Held out: a seeded 1% of the images, at least 500 but at most a tenth.  Decoded folders are
  cached as one .npy (textgan/data/cache.py: key = root, size, the channels asked for and every
  file's path/size/mtime; the array's shape holds the detected channels) and memory-mapped on
  reload.

Training tensors (`to_float`): MNIST x / 255 in [0, 1] ("unit"); CIFAR-10 and folders
x / 128 - 1 plus U(0, 1/128) dequantisation noise ("symmetric"), as the paper's code.
"""
from __future__ import annotations

import gzip
import pickle
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import Tensor

from textgan.data import cache
from textgan.data.transfer import to_device
from textgan.errors import ConfigError, DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
FOLDER_SIZES = (32, 64)
SCALES = ("unit", "symmetric")


@dataclass(frozen=True)
class RemoteFile:
    url: str
    size: int
    sha256: str

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


MNIST_BASE = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_FILES = {   # stem -> the .gz on the server
    "train-images-idx3-ubyte": RemoteFile(MNIST_BASE + "train-images-idx3-ubyte.gz", 9_912_422,
                                          "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "train-labels-idx1-ubyte": RemoteFile(MNIST_BASE + "train-labels-idx1-ubyte.gz", 28_881,
                                          "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "t10k-images-idx3-ubyte": RemoteFile(MNIST_BASE + "t10k-images-idx3-ubyte.gz", 1_648_877,
                                         "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "t10k-labels-idx1-ubyte": RemoteFile(MNIST_BASE + "t10k-labels-idx1-ubyte.gz", 4_542,
                                         "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}
CIFAR10_ARCHIVE = RemoteFile("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", 170_498_071,
                             "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce")
CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = "test_batch"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


# ----------------------------------------------------------------------------- containers

@dataclass
class ImageSet:
    """One split: rows `index` (all when None) of `images` uint8 [N, C, H, W] (possibly memory-mapped)
    and `labels` int64 [N] or None."""
    images: np.ndarray
    labels: np.ndarray | None = None
    index: np.ndarray | None = None

    def __len__(self) -> int:
        return self.images.shape[0] if self.index is None else int(self.index.shape[0])

    def rows(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(images, labels) at split positions `positions` (0 .. len-1)."""
        rows = positions if self.index is None else self.index[positions]
        return self.images[rows], (None if self.labels is None else self.labels[rows])

    def arrays(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The whole split as in-memory arrays."""
        return self.rows(np.arange(len(self)))

    def batches(self, batch_size: int, scale: str, *, device: torch.device | str = "cpu",
                seed: int = 0, labels: bool = False) -> Iterator[Tensor | tuple[Tensor, Tensor]]:
        """The split in order as float batches (the last one may be short), with dequantisation noise
        from a fixed seed so that every pass is identical (held-out critic loss)."""
        g, device = torch.Generator().manual_seed(seed), torch.device(device)
        for start in range(0, len(self), batch_size):
            x, y = self.rows(np.arange(start, min(start + batch_size, len(self))))
            out = to_device(to_float(_tensor(x), scale, g), device)
            if labels:
                if y is None:
                    raise ValueError("this data set has no labels")
                yield out, to_device(_labels(y), device)
            else:
                yield out


@dataclass
class ImageData:
    """A data set's splits: `train`, `heldout` (MNIST validation, CIFAR-10 test batch, folder 1%),
    `test` (MNIST t10k only).  `scale` says how `to_float` maps its pixels."""
    name: str
    train: ImageSet
    heldout: ImageSet
    test: ImageSet | None
    classes: tuple[str, ...] | None
    scale: str
    source: str = ""

    @property
    def n_classes(self) -> int | None:
        return None if self.classes is None else len(self.classes)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W)."""
        return tuple(self.train.images.shape[1:])


def to_float(x: Tensor, scale: str, generator: torch.Generator | None = None) -> Tensor:
    """uint8 images -> training tensors: "unit" x / 255 in [0, 1]; "symmetric" x / 128 - 1 plus
    U(0, 1/128) dequantisation (noise drawn on the CPU from `generator`, then moved to x's device)."""
    if scale == "unit":
        return x.float() / 255.0
    if scale == "symmetric":
        noise = to_device(torch.rand(x.shape, generator=generator), x.device)
        return x.float() / 128.0 - 1.0 + noise / 128.0
    raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")


def _tensor(x: np.ndarray) -> Tensor:
    """Gathered uint8 rows as a CPU tensor (a copy when they are not contiguous)."""
    return torch.from_numpy(np.ascontiguousarray(x))


def _labels(y: np.ndarray) -> Tensor:
    return torch.from_numpy(np.asarray(y, dtype=np.int64))


# ----------------------------------------------------------------------------- batch sampler

class ImageBatches:
    """Shuffled epochs of a split, as the original's generators and `TextBatches`: each epoch a fresh
    seeded permutation cut into consecutive batches (a trailing partial batch is dropped).  `next()`
    returns the float batch on `device`, `next_labeled()` (x, y).  Dequantisation noise comes from a
    generator seeded by (seed, batch number), so the state is four integers and resume is exact.
    Batches are made on the CPU (the same values on every device) and reach a GPU through pinned
    memory, queued without a host synchronisation (textgan/data/transfer.py)."""

    def __init__(self, data: ImageSet, batch_size: int, scale: str, seed: int = 0,
                 device: torch.device | str = "cpu"):
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
        if len(data) < batch_size:
            raise ConfigError(f"the data set has {len(data)} images, fewer than the batch size {batch_size}")
        self.data, self.batch_size, self.scale = data, batch_size, scale
        self.seed, self.device = int(seed), torch.device(device)
        self.epoch, self.pos, self.count = 0, 0, 0
        self._perm = self._permutation(0)

    def _permutation(self, epoch: int) -> np.ndarray:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(len(self.data), generator=g).numpy()

    def _next_rows(self) -> tuple[np.ndarray, np.ndarray | None]:
        if self.pos + self.batch_size > self._perm.shape[0]:
            self.epoch, self.pos = self.epoch + 1, 0
            self._perm = self._permutation(self.epoch)
        positions = self._perm[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        return self.data.rows(positions)

    def _float(self, x: np.ndarray) -> Tensor:
        g = torch.Generator().manual_seed((self.seed * 7_919 + self.count * 104_729 + 1) % (1 << 63))
        self.count += 1
        return to_device(to_float(_tensor(x), self.scale, g), self.device)

    def next(self) -> Tensor:
        x, _ = self._next_rows()
        return self._float(x)

    def next_labeled(self) -> tuple[Tensor, Tensor]:
        if self.data.labels is None:
            raise ValueError("this data set has no labels: a conditional model needs a labelled one")
        x, y = self._next_rows()
        return self._float(x), to_device(_labels(y), self.device)

    def state_dict(self) -> dict:
        return {"seed": self.seed, "epoch": self.epoch, "pos": self.pos, "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])
        self.pos, self.count = int(state["pos"]), int(state["count"])
        self._perm = self._permutation(self.epoch)


# ----------------------------------------------------------------------------- MNIST

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            head = f.read(2)
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:       # gzip.BadGzipFile is an OSError
        raise DataError(f"cannot read {path}: {e} (a damaged or truncated file? delete it and "
                        f"download again)") from None


def read_idx(path: str | Path) -> np.ndarray:
    """An idx file (raw or gzip) as an array of its declared shape and type."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise DataError(f"{path} is not an idx file (bad magic number)")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise DataError(f"{path} is truncated (header cut short)")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    want = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    body = memoryview(data)[4 + 4 * ndim:]
    if len(body) != want:
        raise DataError(f"{path} is {'truncated' if len(body) < want else 'too long'}: "
                        f"{len(body)} bytes of data, expected {want} for shape {tuple(shape)}")
    return np.frombuffer(body, dtype=dtype).reshape(shape)


def _mnist_dirs(base: Path) -> list[Path]:
    return [base, base / "mnist", base / "MNIST", base / "MNIST" / "raw"]


def find_mnist(data_dir: str | Path | None) -> dict[str, Path] | None:
    """The four idx files (each raw or .gz) in data_dir or its mnist/, MNIST/, MNIST/raw/; else None."""
    base = Path(data_dir).expanduser() if data_dir else cache.default_data_dir()
    for d in _mnist_dirs(base):
        found = {}
        for stem in MNIST_FILES:
            for cand in (d / stem, d / (stem + ".gz")):
                if cand.is_file():
                    found[stem] = cand
                    break
        if len(found) == len(MNIST_FILES):
            return found
    return None


def _missing(what: str, data_dir, expect: str, mb: int) -> str:
    where = Path(data_dir).expanduser() if data_dir else cache.default_data_dir()
    return (f"{what} not found under {where}: pass --data-dir DIR holding {expect}, "
            f"or add --download to fetch it ({mb} MB)")


def _fetch(fn, what: str, *args, **kw):
    from textgan.data.download import DownloadError
    try:
        return fn(*args, **kw)
    except DownloadError as e:
        raise DataError(f"{e}; with no network, put the {what} files under --data-dir DIR and run "
                        f"without --download") from None


def load_mnist(data_dir: str | Path | None = None, *, download: bool = False,
               progress: bool = True) -> ImageData:
    """MNIST as uint8 [N, 1, 28, 28] with labels: train 50k, held-out (validation) 10k, test 10k."""
    files = find_mnist(data_dir)
    if files is None:
        if not download:
            raise DataError(_missing("MNIST", data_dir, "train-images-idx3-ubyte(.gz) and the three other "
                                     "MNIST idx files", 12))
        from textgan.data.download import download_file
        base = (Path(data_dir).expanduser() if data_dir else cache.default_data_dir()) / "mnist"
        for spec in MNIST_FILES.values():
            _fetch(download_file, "MNIST", spec.url, base / spec.name, size=spec.size,
                   sha256=spec.sha256, progress=progress)
        files = find_mnist(base)
        assert files is not None
    arrays = {stem: read_idx(p) for stem, p in files.items()}

    def pair(kind: str) -> tuple[np.ndarray, np.ndarray]:
        x, y = arrays[f"{kind}-images-idx3-ubyte"], arrays[f"{kind}-labels-idx1-ubyte"]
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
            raise DataError(f"{files[f'{kind}-images-idx3-ubyte']}: expected uint8 images [N, 28, 28], "
                            f"got {x.dtype} {tuple(x.shape)}")
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise DataError(f"{files[f'{kind}-labels-idx1-ubyte']}: {y.shape[0] if y.ndim else 0} labels "
                            f"for {x.shape[0]} images")
        if y.size and int(y.max()) > 9:
            raise DataError(f"{files[f'{kind}-labels-idx1-ubyte']}: labels must be digits 0..9")
        return x[:, None], y.astype(np.int64)

    x, y = pair("train")
    xt, yt = pair("t10k")
    n_val = x.shape[0] // 6                      # 10,000 of 60,000, as mnist.pkl.gz
    n_train = x.shape[0] - n_val
    if n_train <= 0 or n_val <= 0:
        raise DataError(f"{files['train-images-idx3-ubyte']} holds only {x.shape[0]} images")
    return ImageData("mnist", ImageSet(x[:n_train], y[:n_train]), ImageSet(x[n_train:], y[n_train:]),
                     ImageSet(xt, yt), tuple(str(i) for i in range(10)), "unit",
                     str(files["train-images-idx3-ubyte"].parent))


# ----------------------------------------------------------------------------- CIFAR-10

def _numpy_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:                                  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds plain containers and numpy arrays only; every other global is refused."""

    def find_class(self, module: str, name: str):
        if name == "_reconstruct" and module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            return _numpy_reconstruct()
        if module == "numpy" and name == "ndarray":
            return np.ndarray
        if module == "numpy" and name == "dtype":
            return np.dtype
        if module == "_codecs" and name == "encode":
            import codecs
            return codecs.encode
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def restricted_load(path: str | Path):
    """Unpickle a data file with `_RestrictedUnpickler` (Python 2 pickles read as latin-1, as numpy
    documents for its arrays)."""
    try:
        with open(path, "rb") as f:
            return _RestrictedUnpickler(f, encoding="latin1").load()
    except pickle.UnpicklingError as e:
        if str(e).startswith("refusing"):
            raise DataError(f"{path}: {e}: not a CIFAR-10 batch (it asks to run code); delete it") from None
        raise DataError(f"{path} is damaged or truncated ({e}); delete it and download again") from None
    except (EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError, MemoryError,
            struct.error) as e:
        raise DataError(f"{path} is damaged or truncated ({type(e).__name__}: {e}); delete it and "
                        f"download again") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e}") from None


def read_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch -> (uint8 [n, 3, 32, 32], int64 labels [n])."""
    obj = restricted_load(path)
    if not isinstance(obj, dict):
        raise DataError(f"{path} is not a CIFAR-10 batch (a {type(obj).__name__}, not a dict)")
    d = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}
    data, labels = d.get("data"), d.get("labels")
    if not isinstance(data, np.ndarray) or labels is None:
        raise DataError(f"{path} is not a CIFAR-10 batch (no data array or labels)")
    labels = np.asarray(labels)
    if (data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or labels.ndim != 1
            or labels.shape[0] != data.shape[0] or not np.issubdtype(labels.dtype, np.integer)):
        raise DataError(f"{path} is not a CIFAR-10 batch: data {data.dtype} {tuple(data.shape)}, "
                        f"{labels.shape[0] if labels.ndim else 0} labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{path}: labels must be 0..9")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def find_cifar10(data_dir: str | Path | None) -> Path | None:
    """The directory holding data_batch_1..5 and test_batch (data_dir or its cifar-10-batches-py/)."""
    base = Path(data_dir).expanduser() if data_dir else cache.default_data_dir()
    for d in (base, base / CIFAR10_DIR):
        if all((d / n).is_file() for n in CIFAR10_TRAIN + (CIFAR10_TEST,)):
            return d
    return None


def load_cifar10(data_dir: str | Path | None = None, *, download: bool = False,
                 progress: bool = True) -> ImageData:
    """CIFAR-10 as uint8 [N, 3, 32, 32] with labels: train 50k (data_batch_1..5), held-out 10k
    (test_batch)."""
    root = find_cifar10(data_dir)
    if root is None:
        if not download:
            raise DataError(_missing("CIFAR-10", data_dir, f"{CIFAR10_DIR}/ (data_batch_1..5, test_batch)",
                                     163))
        from textgan.data.download import fetch_and_extract
        base = Path(data_dir).expanduser() if data_dir else cache.default_data_dir()
        _fetch(fetch_and_extract, "CIFAR-10", CIFAR10_ARCHIVE.url, base / CIFAR10_ARCHIVE.name, base,
               size=CIFAR10_ARCHIVE.size, sha256=CIFAR10_ARCHIVE.sha256, progress=progress)
        root = find_cifar10(base)
        if root is None:
            raise DataError(f"the downloaded archive has no {CIFAR10_DIR}/ with all six batches under {base}")
    parts = [read_cifar_batch(root / n) for n in CIFAR10_TRAIN]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    xt, yt = read_cifar_batch(root / CIFAR10_TEST)
    return ImageData("cifar10", ImageSet(x, y), ImageSet(xt, yt), None, CIFAR10_CLASSES, "symmetric",
                     str(root))


# ----------------------------------------------------------------------------- image folders

def list_images(root: Path) -> list[Path]:
    """Image files under root, sorted; hidden files and folders (".name", e.g. macOS "._x.jpg"
    resource forks or .ipynb_checkpoints/) are skipped."""
    return sorted(p for p in root.rglob("*")
                  if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def folder_classes(root: Path, files: list[Path]) -> tuple[tuple[str, ...] | None, np.ndarray | None]:
    """Classes = first-level sub-folders when every image lies in one and there are at least two."""
    tops = [p.relative_to(root).parts for p in files]
    if any(len(t) < 2 for t in tops):
        return None, None
    names = sorted({t[0] for t in tops})
    if len(names) < 2:
        return None, None
    lookup = {n: i for i, n in enumerate(names)}
    return tuple(names), np.array([lookup[t[0]] for t in tops], dtype=np.int64)


GREY_MODES = ("1", "L", "LA", "La")
FOLDER_CHANNELS = (0, 1, 3)     # 0: detect


def _grey_or_rgb(im):
    """A PIL image in mode L (grey modes; 16-bit ones by their high byte) or RGB (every other)."""
    from PIL import Image
    if im.mode in GREY_MODES:
        return im.convert("L")
    if im.mode == "I" or im.mode.startswith("I;16"):
        # PNG's 16-bit grey: PIL's convert("L") would clip every value above 255 to white
        a = np.asarray(im).astype(np.int64)
        return Image.fromarray((np.clip(a, 0, 65535) >> 8).astype(np.uint8), mode="L")
    return im.convert("RGB")


def load_image(path: Path, size: int, channels: int = 3) -> np.ndarray:
    """One image file -> uint8 [C, size, size], shorter side resized to size, centre crop.
    channels 1: grey (colour by PIL's convert("L")); 3: RGB; 0: [1, ...] when the image is grey
    (a grey mode, or equal R, G and B in the crop), else [3, ...]."""
    from PIL import Image, ImageOps
    try:
        with Image.open(path) as im:
            im = _grey_or_rgb(ImageOps.exif_transpose(im))
            if channels:
                im = im.convert("L" if channels == 1 else "RGB")
            w, h = im.size
            s = size / min(w, h)
            nw, nh = max(size, round(w * s)), max(size, round(h * s))
            if (nw, nh) != (w, h):
                im = im.resize((nw, nh), Image.Resampling.BICUBIC, reducing_gap=3.0)
            left, top = (nw - size) // 2, (nh - size) // 2
            im = im.crop((left, top, left + size, top + size))
            a = np.asarray(im, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise DataError(f"cannot read image {path}: {e}") from None
    if a.ndim == 2:
        return a[None]
    a = a.transpose(2, 0, 1)
    if channels == 0 and (a[0] == a[1]).all() and (a[1] == a[2]).all():
        return a[:1]        # grey stored as RGB: exactly its convert("L")
    return a


def decode_folder(files: list[Path], size: int, channels: int = 0, *,
                  progress: bool = False, desc: str = "decoding") -> np.ndarray:
    """Every file as uint8 [N, C, size, size]; channels 0: C = 1 when every image is grey, else 3.
    Grey images fill a 1-channel array until the first colour one, which widens it once."""
    from textgan.progress import data_bar
    images = np.empty((len(files), channels or 1, size, size), dtype=np.uint8)
    with data_bar(total=len(files), desc=desc, unit="img", enabled=progress) as bar:
        for i, p in enumerate(files):
            a = load_image(p, size, channels)
            if a.shape[0] > images.shape[1]:
                images = np.repeat(images, 3, axis=1)          # the earlier grey images, as RGB
            images[i] = a                                      # a grey image broadcasts into RGB
            bar.update()
    return images


def heldout_positions(n: int, seed: int = 0) -> np.ndarray:
    """Sorted rows of a folder's held-out split: a seeded 1%, at least 500, at most a tenth."""
    m = min(max(500, n // 100), n // 10)
    if m <= 0:
        return np.zeros(0, np.int64)
    return np.sort(np.random.default_rng(seed).choice(n, m, replace=False)).astype(np.int64)


def load_folder(path: str | Path, size: int = 64, *, channels: int = 0, seed: int = 0,
                progress: bool = True) -> ImageData:
    """Every image under `path` as uint8 [N, C, size, size] (cached, memory-mapped on reload);
    channels 0 detects (1 when every image is grey, else 3), 1 or 3 forces."""
    if size not in FOLDER_SIZES:
        raise ConfigError(f"image size must be one of {', '.join(map(str, FOLDER_SIZES))}, got {size}")
    if channels not in FOLDER_CHANNELS:
        raise ConfigError(f"channels must be 1 or 3 (0: detect from the images), got {channels}")
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist")
    files = list_images(root)
    if not files:
        raise DataError(f"no .png/.jpg/.jpeg images under {root}")
    classes, labels = folder_classes(root, files)
    fingerprint = cache.file_fingerprint(files)

    def key(asked: int) -> str:
        return cache.cache_key({"kind": "image-folder", "root": str(root.resolve()), "size": size,
                                "channels": asked, "files": fingerprint})
    images = None
    if cache.cache_enabled():
        # a forced count also takes the detected entry when the detection chose that count (a
        # resumed run asks for what its first start detected): the pixels are the same
        for asked in dict.fromkeys((channels, 0)):
            hit = cache.load(key(asked))
            if hit is None or hit[0].ndim != 4:
                continue
            n, c, h, w = hit[0].shape
            if (n, h, w) == (len(files), size, size) and (c == channels if channels else c in (1, 3)):
                images = hit[0]
                break
    if images is None:
        images = decode_folder(files, size, channels, progress=progress, desc=f"decoding {root.name}")
        if cache.cache_enabled():
            # labels are not stored: they follow from the file paths, which are part of the key
            stored = cache.store(key(channels), images, None,
                                 {"kind": "image-folder", "root": str(root), "size": size,
                                  "channels": int(images.shape[1]), "classes": classes})
            if stored is not None:
                images = np.load(stored / "ids.npy", mmap_mode="r")
    held = heldout_positions(len(files), seed)
    train = np.setdiff1d(np.arange(len(files), dtype=np.int64), held, assume_unique=True)
    return ImageData(f"folder:{root}", ImageSet(images, labels, train), ImageSet(images, labels, held),
                     None, classes, "symmetric", str(root))


# ----------------------------------------------------------------------------- entry point

def load_image_data(source: str | Path, *, data_dir: str | Path | None = None, download: bool = False,
                    size: int | None = None, channels: int = 0, seed: int = 0,
                    progress: bool = True) -> ImageData:
    """`mnist`, `cifar10` (or `cifar-10`), or a path to an image folder (size 32 or 64, default 64;
    channels 0 detects, 1 or 3 forces)."""
    name = str(source)
    if name.lower() == "mnist":
        if size not in (None, 28):
            raise ConfigError(f"MNIST images are 28x28, got size {size}")
        if channels not in (0, 1):
            raise ConfigError(f"MNIST images have 1 channel, got channels {channels}")
        return load_mnist(data_dir, download=download, progress=progress)
    if name.lower() in ("cifar10", "cifar-10"):
        if size not in (None, 32):
            raise ConfigError(f"CIFAR-10 images are 32x32, got size {size}")
        if channels not in (0, 3):
            raise ConfigError(f"CIFAR-10 images have 3 channels, got channels {channels}")
        return load_cifar10(data_dir, download=download, progress=progress)
    if download:
        raise ConfigError("--download fetches mnist or cifar10 only, not an image folder")
    return load_folder(name, 64 if size is None else size, channels=channels, seed=seed, progress=progress)
