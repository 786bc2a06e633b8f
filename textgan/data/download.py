"""Resumable, verified downloads and safe tar extraction.

`download_file` keeps a `<dest>.part` file, resumes it with an HTTP Range
request, checks the final size and sha256, and only then renames it into
place.  `safe_extract` refuses members that would land outside the target
(absolute paths, '..', links pointing out, device files) before writing
anything, and extracts with tarfile's "data" filter where Python has it.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from textgan.errors import CorpusError

CHUNK = 1 << 20


class DownloadError(CorpusError):
    """The network or the server failed (as opposed to a bad file)."""


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _progress(total: int | None, initial: int, desc: str, enabled: bool):
    from textgan.progress import data_bar
    return data_bar(total=total, initial=initial, desc=desc, unit="B", enabled=enabled, unit_scale=True,
                    unit_divisor=1024)


def download_file(url: str, dest: str | os.PathLike, *, size: int | None = None,
                  sha256: str | None = None, progress: bool = True, timeout: float = 30.0) -> Path:
    """Fetch url to dest (resuming dest.part), verify size and sha256, return dest."""
    dest = Path(dest)
    if dest.exists() and (size is None or dest.stat().st_size == size):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:      # a stale partial file larger than the target
        part.unlink()
        have = 0
    req = urllib.request.Request(url, headers={"User-Agent": "textgan"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        if size is None or have < size:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status = getattr(resp, "status", None) or getattr(resp, "code", None)
                if have and status != 206:     # the server ignored the range: start again
                    have = 0
                length = resp.headers.get("Content-Length")
                total = size if size is not None else (have + int(length) if length else None)
                with open(part, "ab" if have else "wb") as out, \
                        _progress(total, have, dest.name, progress) as bar:
                    for block in iter(lambda: resp.read(CHUNK), b""):
                        out.write(block)
                        bar.update(len(block))
    except (urllib.error.URLError, socket.timeout, ConnectionError, TimeoutError) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(f"download of {url} failed ({reason})") from None
    got = part.stat().st_size
    if size is not None and got != size:
        if got > size:
            part.unlink()
        raise CorpusError(f"download of {url} is {got} bytes, expected {size}"
                          + ("; run again to resume" if got < size else ""))
    if sha256 is not None:
        digest = sha256_file(part)
        if digest != sha256.lower():
            part.unlink()
            raise CorpusError(f"checksum mismatch for {url}: sha256 {digest}, expected {sha256}")
    os.replace(part, dest)
    return dest


def _inside(root: Path, target: Path) -> bool:
    try:
        target.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def check_members(tar: tarfile.TarFile, dest: Path) -> None:
    """Raise CorpusError if any member could write outside dest."""
    for m in tar.getmembers():
        name = m.name
        if name.startswith(("/", "\\")) or os.path.isabs(name) or ".." in Path(name).parts:
            raise CorpusError(f"unsafe path in archive: {name!r}")
        if not _inside(dest, dest / name):
            raise CorpusError(f"unsafe path in archive: {name!r}")
        if m.issym() or m.islnk():
            base = dest if m.islnk() else (dest / name).parent
            if os.path.isabs(m.linkname) or not _inside(dest, base / m.linkname):
                raise CorpusError(f"unsafe link in archive: {name!r} -> {m.linkname!r}")
        if m.isdev():
            raise CorpusError(f"device file in archive: {name!r}")


def safe_extract(archive: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Extract a (possibly compressed) tar archive into dest after checking every member."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            check_members(tar, dest)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, filter="data")
            else:                                   # members already checked above
                tar.extractall(dest)
    except (tarfile.TarError, EOFError) as e:
        raise CorpusError(f"cannot extract {archive}: {e}") from None
    return dest


def fetch_and_extract(url: str, archive: Path, target_root: Path, *, size: int | None,
                      sha256: str | None, progress: bool = True) -> None:
    """Download archive and extract it into target_root through a temporary directory,
    so an interrupted extraction never leaves a half tree where a full one is expected."""
    download_file(url, archive, size=size, sha256=sha256, progress=progress)
    tmp = target_root / ".extracting"
    if tmp.exists():
        shutil.rmtree(tmp)
    safe_extract(archive, tmp)
    for child in tmp.iterdir():
        final = target_root / child.name
        if final.exists():
            shutil.rmtree(final) if final.is_dir() else final.unlink()
        os.replace(child, final)
    tmp.rmdir()
