"""Test-wide settings: the tests leave nothing behind, neither in the checkout nor in the home directory.

- textgan's encoded-corpus cache and data directory live in a temporary directory, never in ~/.cache;
- so do the caches of the libraries the tests drive (Hugging Face datasets, matplotlib's font list)
  and Hypothesis' example database (else `.hypothesis/` in the working directory); these are set
  before any test module is imported, since the libraries read them at import;
- a session check fails the run if the checkout gained anything (a run directory under `runs/`, say);
- `float64`: a fixture that makes float64 torch's default dtype for one test.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_LIBRARY_DIRS: str | None = None


def pytest_configure(config):
    global _LIBRARY_DIRS
    _LIBRARY_DIRS = tempfile.mkdtemp(prefix="textgan-tests-")
    for var, sub in (("HF_HOME", "huggingface"), ("HF_DATASETS_CACHE", "huggingface/datasets"),
                     ("MPLCONFIGDIR", "matplotlib")):
        os.environ[var] = os.path.join(_LIBRARY_DIRS, sub)
    # a user's own choice of Hypothesis directory is kept
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(_LIBRARY_DIRS, "hypothesis"))


def pytest_unconfigure(config):
    if _LIBRARY_DIRS:
        shutil.rmtree(_LIBRARY_DIRS, ignore_errors=True)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("TEXTGAN_CACHE_DIR", str(tmp_path_factory.mktemp("textgan-cache")))
    mp.setenv("TEXTGAN_DATA_DIR", str(tmp_path_factory.mktemp("textgan-data")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory):
    """A tiny MNIST in the four gzipped idx files: 72 random training digits, 12 test digits."""
    import gzip

    import numpy as np
    from test_data_images import idx_bytes
    d = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (72, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": np.arange(72, dtype=np.uint8) % 10,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": np.arange(12, dtype=np.uint8) % 10}
    for stem, a in arrays.items():
        (d / f"{stem}.gz").write_bytes(gzip.compress(idx_bytes(a)))
    return d


@pytest.fixture
def float64():
    """torch's default dtype float64 for one test (exact maths, rounding out of the way)."""
    import torch        # here, not at the top: the library settings above come before any import
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def _checkout_entries() -> set[str]:
    """Names at the top of the checkout and under runs/ (where a command without --out writes)."""
    names = {p.name for p in ROOT.iterdir()}
    runs = ROOT / "runs"
    if runs.is_dir():
        names |= {f"runs/{p.name}" for p in runs.iterdir()}
    return names


@pytest.fixture(autouse=True, scope="session")
def _checkout_stays_clean():
    before = _checkout_entries()
    yield
    added = sorted(_checkout_entries() - before - {".pytest_cache"})
    assert not added, f"the tests left {', '.join(added)} in the checkout {ROOT}: write under tmp_path"
