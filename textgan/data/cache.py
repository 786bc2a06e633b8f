"""Where corpora and encoded arrays live, and the encoded-corpus cache.

Directories: $TEXTGAN_DATA_DIR, else $XDG_CACHE_HOME/textgan, else
~/.cache/textgan.  Encoded corpora are stored under `<that>/encoded/<key>/`
as `ids.npy` (+ `heldout.npy`) and `meta.json`; the key is a hash of the
corpus name, the encoding settings and every source file's (path, size,
mtime_ns), so editing a source file makes a new entry.  Reloads memory-map
the arrays (no copy, near-instant).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

CACHE_VERSION = 2   # bump when encoding or the held-out rule changes


def default_data_dir() -> Path:
    env = os.environ.get("TEXTGAN_DATA_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "textgan"


def cache_dir() -> Path:
    """Root of the encoded-corpus cache ($TEXTGAN_CACHE_DIR overrides)."""
    env = os.environ.get("TEXTGAN_CACHE_DIR")
    return Path(env).expanduser() if env else default_data_dir() / "encoded"


def cache_enabled() -> bool:
    return os.environ.get("TEXTGAN_NO_CACHE", "") in ("", "0")


def file_fingerprint(paths) -> list[list]:
    """(path, size, mtime_ns) of each source file, in order."""
    out = []
    for p in paths:
        st = os.stat(p)
        out.append([os.path.abspath(p), st.st_size, st.st_mtime_ns])
    return out


def cache_key(settings: dict) -> str:
    blob = json.dumps({"v": CACHE_VERSION, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def load(key: str) -> tuple[np.ndarray, np.ndarray | None, dict] | None:
    """(ids, heldout, meta) memory-mapped from the cache, or None on a miss."""
    d = cache_dir() / key
    try:
        meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        ids = np.load(d / "ids.npy", mmap_mode="r")
        held = np.load(d / "heldout.npy", mmap_mode="r") if meta.get("has_heldout") else None
    except (OSError, ValueError):
        return None
    return ids, held, meta


def store(key: str, ids: np.ndarray, heldout: np.ndarray | None, meta: dict) -> Path | None:
    """Write an entry atomically (temporary directory renamed into place); None if impossible."""
    root = cache_dir()
    final = root / key
    tmp: Path | None = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
        np.save(tmp / "ids.npy", np.ascontiguousarray(ids))
        if heldout is not None:
            np.save(tmp / "heldout.npy", np.ascontiguousarray(heldout))
        meta = {**meta, "has_heldout": heldout is not None}
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    except OSError:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        return None
    return final
