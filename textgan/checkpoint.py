"""Checkpoints: one dict that is enough to sample from or to resume a run.

Saving is atomic (temporary file in the same directory, flush, fsync, rename,
fsync of the directory), so a crash, a kill -9 or a full disk never leaves a
half-written file under a checkpoint's name.  Loading never unpickles arbitrary
objects: `torch.load(..., weights_only=True)` accepts only tensors and plain
containers, so a file crafted to run code on load is rejected.
"""
from __future__ import annotations

import contextlib
import errno
import os
import pickle
import random
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from textgan.errors import CheckpointError

FORMAT_VERSION = 1
CHECKPOINT_DIR = "checkpoints"
_NAME = re.compile(r"^ckpt-(\d{8,})\.pt$")


def checkpoint_name(step: int) -> str:
    return f"ckpt-{step:08d}.pt"


# ---------------------------------------------------------------- RNG states
def capture_rng_state() -> dict:
    """Every global RNG a run touches, in a form `weights_only` loading accepts."""
    py_version, py_state, py_gauss = random.getstate()
    np_state = np.random.get_state()
    state = {
        "python": [py_version, list(py_state), py_gauss],
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "torch_cpu": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["torch_cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Set every global RNG from `capture_rng_state`'s dict, wherever its tensors were loaded (a
    checkpoint read onto a GPU holds CUDA tensors; the setters take CPU byte tensors).

    The CUDA states are restored per device index; when the checkpoint holds a different number of
    them than this machine has GPUs, the devices both have are restored and a warning says that the
    others' streams are not the saved ones."""
    version, py_state, gauss = state["python"]
    random.setstate((version, tuple(py_state), gauss))
    n = state["numpy"]
    np.random.set_state(("MT19937", _on_cpu(n["keys"]).numpy().astype(np.uint32), int(n["pos"]),
                         int(n["has_gauss"]), float(n["cached_gaussian"])))
    torch.set_rng_state(_on_cpu(state["torch_cpu"]))
    if "torch_cuda" in state and torch.cuda.is_available():
        saved = [_on_cpu(s) for s in state["torch_cuda"]]
        count = torch.cuda.device_count()
        if len(saved) == count:
            torch.cuda.set_rng_state_all(saved)
        else:
            shared = min(len(saved), count)
            for i in range(shared):
                torch.cuda.set_rng_state(saved[i], i)
            restored = f"GPU 0..{shared - 1}" if shared > 1 else "GPU 0" if shared else "none"
            warnings.warn(f"the checkpoint holds the random states of {len(saved)} GPU(s) and this machine "
                          f"has {count}: restored {restored}; random draws on any other GPU do not "
                          "continue the saved run's", RuntimeWarning, stacklevel=2)


def _on_cpu(t) -> torch.Tensor:
    """A tensor of a loaded state on the CPU (unchanged when it already is)."""
    return t.cpu() if torch.is_tensor(t) else torch.as_tensor(t)


@contextlib.contextmanager
def rng_untouched():
    """Every global RNG stream (Python, numpy, torch's CPU and initialised CUDA ones) is on exit as
    it was on entry: for work inside a run, such as metrics, that must not shift its random draws."""
    state = capture_rng_state()
    try:
        yield
    finally:
        restore_rng_state(state)


# ---------------------------------------------------------------- save
def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write `state` atomically to `path`; on any failure the old file (if any) is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format_version": FORMAT_VERSION, **state}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError):
            why = "no space left on device" if e.errno == errno.ENOSPC else (e.strerror or str(e))
            raise CheckpointError(f"could not save checkpoint {path}: {why}; "
                                  "earlier checkpoints are intact") from None
        raise
    return path


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def prune_checkpoints(directory: str | Path, keep: int) -> None:
    """Keep the newest `keep` checkpoints of a run (by step)."""
    if keep <= 0:
        return
    for _, path in list_checkpoints(directory)[:-keep]:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------- load
def list_checkpoints(directory: str | Path) -> list[tuple[int, Path]]:
    """(step, path) of the checkpoints in `directory`, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for p in directory.iterdir():
        m = _NAME.match(p.name)
        if m:
            found.append((int(m.group(1)), p))
    return sorted(found)


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """Load one checkpoint safely, or raise CheckpointError saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "unpickling refused"
        if "weights_only" in str(e) or "Unsupported global" in str(e):
            raise CheckpointError(f"refusing to load {path}: it holds objects other than tensors and "
                                  f"plain data, which could run code ({first[:160]})") from None
        raise CheckpointError(f"checkpoint {path} is damaged ({first[:160]})") from None
    except Exception as e:  # noqa: BLE001
        # Random bytes fail anywhere inside the restricted unpickler (IndexError on its stack,
        # struct.error, zip errors, ...): any failure to read the file means it is damaged.
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"checkpoint {path} is damaged or truncated ({first[:160]})") from None
    if not isinstance(state, dict) or "format_version" not in state:
        raise CheckpointError(f"{path} is not a textgan checkpoint")
    if state["format_version"] > FORMAT_VERSION:
        raise CheckpointError(f"{path} has format version {state['format_version']}; this textgan "
                              f"reads up to {FORMAT_VERSION}: upgrade textgan")
    return state


def load_latest(directory: str | Path, map_location="cpu", warn=None) -> tuple[dict, Path]:
    """The newest checkpoint of `directory` that loads; damaged ones are reported via `warn` and skipped."""
    found = list_checkpoints(directory)
    if not found:
        raise CheckpointError(f"no checkpoint in {directory}")
    problems = []
    for _, path in reversed(found):
        try:
            return load_checkpoint(path, map_location), path
        except CheckpointError as e:
            problems.append(str(e))
            if warn is not None:
                warn(f"skipping {path.name}: {e}")
    raise CheckpointError("no usable checkpoint in " f"{directory}: " + "; ".join(problems))


def find_checkpoint(run_dir: str | Path | None = None, checkpoint: str | Path | None = None,
                    map_location="cpu", warn=None) -> tuple[dict, Path]:
    """Resolve `--run DIR` / `--checkpoint FILE` to a loaded checkpoint."""
    if checkpoint is not None:
        return load_checkpoint(checkpoint, map_location), Path(checkpoint)
    if run_dir is None:
        raise CheckpointError("give a run directory (--run DIR) or a checkpoint file (--checkpoint FILE)")
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CheckpointError(f"no run directory at {run_dir}")
    return load_latest(run_dir / CHECKPOINT_DIR, map_location, warn)
