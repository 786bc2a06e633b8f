"""The One Billion Word benchmark (Chelba et al. 2013) in its official layout.

    <root>/training-monolingual.tokenized.shuffled/news.en-000NN-of-00100   NN = 01..99
    <root>/heldout-monolingual.tokenized.shuffled/news.en.heldout-000NN-of-00050   NN = 00..49

<root> is `1-billion-word-language-modeling-benchmark-r13output`; --data-dir
may name it or its parent.  Training shards are read in order 00001..00099, as
the original `load_dataset` does; shard 00100 is never read (it is the
benchmark's test material, as is heldout shard 00000 for some papers).
"""
from __future__ import annotations

from pathlib import Path

from textgan.data.cache import default_data_dir
from textgan.errors import CorpusError

NAME = "billion-words"
ROOT_NAME = "1-billion-word-language-modeling-benchmark-r13output"
TRAIN_DIR = "training-monolingual.tokenized.shuffled"
HELDOUT_DIR = "heldout-monolingual.tokenized.shuffled"
URL = ("http://www.statmt.org/lm-benchmark/"
       "1-billion-word-language-modeling-benchmark-r13output.tar.gz")
SIZE = 1792209805
SHA256 = "01ba60381110baf7f189dfd2b8374de371e8c9a340835793f190bdae9e90a34e"
HELDOUT_LINES = 10_000   # default held-out lines read from heldout shards 00000, 00001, ...


def train_shard_name(i: int) -> str:
    return f"news.en-{i:05d}-of-00100"


def heldout_shard_name(i: int) -> str:
    return f"news.en.heldout-{i:05d}-of-00050"


def find_root(data_dir: str | Path | None) -> Path | None:
    """The extracted benchmark root under data_dir (itself or its ROOT_NAME child), or None."""
    base = Path(data_dir).expanduser() if data_dir else default_data_dir()
    for cand in (base, base / ROOT_NAME):
        if (cand / TRAIN_DIR).is_dir():
            return cand
    return None


def train_shards(root: Path) -> list[Path]:
    """Existing training shards 00001..00099 in order."""
    return [p for p in (root / TRAIN_DIR / train_shard_name(i) for i in range(1, 100)) if p.is_file()]


def heldout_shards(root: Path) -> list[Path]:
    """Existing held-out shards 00000..00049 in order."""
    return [p for p in (root / HELDOUT_DIR / heldout_shard_name(i) for i in range(50)) if p.is_file()]


def missing_message(data_dir: str | Path | None) -> str:
    where = Path(data_dir).expanduser() if data_dir else default_data_dir()
    return (f"Billion Word not found under {where}: pass --data-dir DIR pointing at "
            f"{ROOT_NAME} (or its parent), or add --download to fetch it (1.8 GB)")


def ensure(data_dir: str | Path | None, *, download: bool = False, interactive: bool = False,
           progress: bool = True, url: str = URL, size: int | None = SIZE,
           sha256: str | None = SHA256) -> Path:
    """The benchmark root, downloading and extracting it when allowed; else CorpusError."""
    root = find_root(data_dir)
    if root is not None:
        if not train_shards(root):
            raise CorpusError(f"no training shards news.en-000NN-of-00100 in {root / TRAIN_DIR}")
        return root
    if not download and interactive:
        import click
        where = Path(data_dir).expanduser() if data_dir else default_data_dir()
        download = click.confirm(f"Billion Word is not under {where}. Download it "
                                 f"({SIZE / 1e9:.1f} GB) from statmt.org?", default=False)
    if not download:
        raise CorpusError(missing_message(data_dir))
    from textgan.data.download import DownloadError, fetch_and_extract
    base = Path(data_dir).expanduser() if data_dir else default_data_dir()
    try:
        fetch_and_extract(url, base / Path(url).name, base, size=size, sha256=sha256,
                          progress=progress)
    except DownloadError as e:
        raise CorpusError(f"{e}; with no network, put the extracted benchmark under "
                          f"--data-dir DIR and run without --download") from None
    root = find_root(base)
    if root is None:
        raise CorpusError(f"the downloaded archive has no {TRAIN_DIR}/ under {base}")
    return root
