"""The Billion Word reader on a fake tree in the official layout (training + held-out shards)."""
import pytest

from textgan.config import DataConfig
from textgan.data import billion_words as bw
from textgan.data.corpus import corpus_lines, load_corpus
from textgan.errors import CorpusError


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TEXTGAN_DATA_DIR", str(tmp_path / "default-data"))
    monkeypatch.setenv("TEXTGAN_WORKERS", "1")


def make_tree(parent, shards=(1, 2, 3, 100), per_shard=3, heldout=(0, 1)):
    root = parent / bw.ROOT_NAME
    train = root / bw.TRAIN_DIR
    train.mkdir(parents=True)
    for i in shards:
        (train / bw.train_shard_name(i)).write_text(
            "".join(f"s{i} line {j} .\n" for j in range(per_shard)), encoding="utf-8")
    held = root / bw.HELDOUT_DIR
    held.mkdir()
    for i in heldout:
        (held / bw.heldout_shard_name(i)).write_text(f"line {i} s .\nline {i} n .\n", encoding="utf-8")
    return root


def test_shards_in_order_and_max_lines_across_boundary(tmp_path):
    make_tree(tmp_path)
    d = DataConfig(corpus="billion-words", data_dir=str(tmp_path), max_lines=5)
    assert corpus_lines(d) == ["s1 line 0 .", "s1 line 1 .", "s1 line 2 .", "s2 line 0 .", "s2 line 1 ."]
    c = load_corpus(d, 12, progress=False)
    assert c.vocab.decode(c.ids)[3:] == ["s2 line 0 .", "s2 line 1 ."]
    held = ["line 0 s .", "line 0 n .", "line 1 s .", "line 1 n ."]
    assert c.vocab.decode(c.heldout) == held          # encoded with the training vocabulary
    assert corpus_lines(d, split="heldout") == held


def test_shard_100_is_never_read_and_root_form_works(tmp_path):
    root = make_tree(tmp_path)
    d = DataConfig(corpus="billion-words", data_dir=str(root), max_lines=1000)
    lines = corpus_lines(d)
    assert len(lines) == 9 and lines[-1] == "s3 line 2 ." and not any(l.startswith("s100") for l in lines)


def test_default_data_dir_from_environment(tmp_path):
    make_tree(tmp_path / "default-data")
    assert corpus_lines(DataConfig(corpus="billion-words", max_lines=1)) == ["s1 line 0 ."]


def test_missing_tree_without_download(tmp_path):
    d = DataConfig(corpus="billion-words", data_dir=str(tmp_path / "nowhere"))
    with pytest.raises(CorpusError) as e:
        load_corpus(d, 32, progress=False)
    msg = str(e.value)
    assert "--data-dir" in msg and "--download" in msg and "\n" not in msg


def test_interactive_no_means_error(tmp_path, monkeypatch):
    import click
    monkeypatch.setattr(click, "confirm", lambda *a, **k: False)
    with pytest.raises(CorpusError, match="--download"):
        bw.ensure(tmp_path / "nowhere", interactive=True)


def test_download_without_network_is_a_clear_error(tmp_path):
    # nothing listens on port 9 of localhost: the connection is refused like an absent network
    with pytest.raises(CorpusError) as e:
        bw.ensure(tmp_path / "d", download=True, progress=False,
                  url="http://127.0.0.1:9/bw.tar.gz", size=10, sha256=None)
    assert "--data-dir" in str(e.value) and "download" in str(e.value)


def test_download_and_extract_a_tiny_benchmark(tmp_path):
    import hashlib
    import tarfile
    src = make_tree(tmp_path / "src", shards=(1,), heldout=(0,))
    archive = tmp_path / "bw.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        t.add(src, arcname=bw.ROOT_NAME)
    blob = archive.read_bytes()
    target = tmp_path / "data"
    root = bw.ensure(target, download=True, progress=False, url=archive.as_uri(),
                     size=len(blob), sha256=hashlib.sha256(blob).hexdigest())
    assert root == target / bw.ROOT_NAME
    assert corpus_lines(DataConfig(corpus="billion-words", data_dir=str(target))) == \
        ["s1 line 0 .", "s1 line 1 .", "s1 line 2 ."]
