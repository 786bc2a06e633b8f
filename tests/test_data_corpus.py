"""Corpus loading: PATH files/directories, errors, synthetic, held-out split, cache."""
import gzip
import json
import os
import warnings

import numpy as np
import pytest

from textgan.config import DataConfig
from textgan.data import corpus as corpus_mod
from textgan.data.corpus import corpus_lines, heldout_rows, load_corpus, split_rows
from textgan.data.text_io import read_lines
from textgan.errors import CorpusError


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TEXTGAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TEXTGAN_WORKERS", "1")


def write(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_file_lines_follow_reference_semantics(tmp_path):
    f = write(tmp_path / "a.txt", b"one\r\ntwo\rthree  \n\nlast")
    assert read_lines(f) == ["one", "two", "three  ", "", "last"]
    assert corpus_lines(DataConfig(corpus=str(f))) == read_lines(f)
    c = load_corpus(DataConfig(corpus=str(f)), seq_len=4, progress=False)
    assert c.ids.shape == (5, 4) and c.heldout is None
    assert c.vocab.decode(c.ids) == ["one", "two", "thre", "", "last"]


def test_max_lines_and_directory_order(tmp_path):
    write(tmp_path / "d" / "b.txt", b"b1\nb2\n")
    write(tmp_path / "d" / "a" / "z.txt", b"a1\n")
    write(tmp_path / "d" / "c.txt.gz", gzip.compress(b"c1\nc2\n"))
    write(tmp_path / "d" / "notes.md", b"ignored\n")
    d = DataConfig(corpus=str(tmp_path / "d"))
    assert corpus_lines(d) == ["a1", "b1", "b2", "c1", "c2"]
    d.max_lines = 3
    c = load_corpus(d, seq_len=3, progress=False)
    assert c.vocab.decode(c.ids) == ["a1", "b1", "b2"]


def test_jsonl_with_default_and_named_field(tmp_path):
    f = write(tmp_path / "x.jsonl", b'{"text": "hi", "t": "a"}\n\n{"text": "yo", "t": "b"}\n')
    assert corpus_lines(DataConfig(corpus=str(f))) == ["hi", "yo"]
    assert corpus_lines(DataConfig(corpus=f"{f}:t")) == ["a", "b"]
    with pytest.raises(CorpusError, match="no field 'nope'"):
        corpus_lines(DataConfig(corpus=f"{f}:nope"))


@pytest.mark.parametrize("name,data,match", [
    ("empty.txt", b"", "has no lines"),
    ("bin.txt", b"abc\x00\x01\x02def\n", "binary"),
    ("junk.txt", bytes(range(0x80, 0x100)) * 10, "not UTF-8"),
])
def test_bad_files(tmp_path, name, data, match):
    f = write(tmp_path / name, data)
    with pytest.raises(CorpusError, match=match):
        load_corpus(DataConfig(corpus=str(f)), 8, progress=False)


def test_missing_path_and_unknown_name(tmp_path):
    with pytest.raises(CorpusError, match="not found: .*nothere.txt"):
        load_corpus(DataConfig(corpus=str(tmp_path / "nothere.txt")), 8)
    with pytest.raises(CorpusError, match="unknown corpus 'wikipedia'.*synthetic.*billion-words"):
        load_corpus(DataConfig(corpus="wikipedia"), 8)
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(CorpusError, match="no text files"):
        load_corpus(DataConfig(corpus=str(tmp_path / "empty_dir")), 8)


def test_invalid_utf8_is_replaced_and_counted(tmp_path):
    f = write(tmp_path / "u.txt", b"ok\nbad \xff\xfe here\n")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        c = load_corpus(DataConfig(corpus=str(f)), 12, progress=False)
    assert any("2 invalid UTF-8" in str(x.message) for x in w)
    assert c.vocab.decode(c.ids)[1] == "bad \ufffd\ufffd here"
    assert corpus_lines(DataConfig(corpus=str(f)))[1] == read_lines(f)[1]


def test_synthetic_corpus():
    from textgan.data import synthetic
    d = DataConfig(corpus="synthetic", max_lines=500)
    c = load_corpus(d, 32, progress=False)
    lines = synthetic.generate_lines(500, seed=0)
    assert c.ids.shape[0] + c.heldout.shape[0] == 500 and c.heldout.shape == (50, 32)
    assert corpus_lines(d) == lines
    rows = heldout_rows(500)
    assert c.vocab.decode(c.heldout) == [lines[i][:32] for i in rows]
    assert corpus_lines(d, split="heldout") == [lines[i] for i in rows]
    assert len(corpus_lines(d, split="train")) == 450


def test_heldout_split_is_seeded_and_compacts_in_place():
    rows = heldout_rows(1000)
    assert rows.tolist() == heldout_rows(1000).tolist() and rows.size == 100  # min(640, N/10)
    assert heldout_rows(99).size == 0 and heldout_rows(5_000_000).size == 10_000
    assert heldout_rows(10_000).size == 640 and heldout_rows(200_000).size == 2000
    ids = np.arange(20).reshape(10, 2)
    train, held = split_rows(ids.copy(), np.array([0, 4, 9]))
    assert held[:, 0].tolist() == [0, 8, 18]
    assert train[:, 0].tolist() == [2, 4, 6, 10, 12, 14, 16]


def test_cache_hit_and_invalidation(tmp_path):
    f = write(tmp_path / "c.txt", b"abc\nabd\n")
    d = DataConfig(corpus=str(f))
    first = load_corpus(d, 4, progress=False)
    assert not isinstance(first.ids, np.memmap)
    again = load_corpus(d, 4, progress=False)
    assert isinstance(again.ids, np.memmap) and again.cache_path == first.cache_path
    assert np.array_equal(again.ids, first.ids) and again.vocab.tokens == first.vocab.tokens
    write(f, b"xyz\n")
    os.utime(f, ns=(1, 1))
    changed = load_corpus(d, 4, progress=False)
    assert changed.cache_path != first.cache_path and changed.vocab.decode(changed.ids) == ["xyz"]
    other = load_corpus(DataConfig(corpus=str(f)), 3, progress=False)   # settings are in the key
    assert other.cache_path != changed.cache_path
    meta = json.loads((tmp_path / "cache" / os.path.basename(changed.cache_path) / "meta.json").read_text())
    assert meta["vocab"]["tokens"] == changed.vocab.tokens


def test_parallel_and_serial_encoding_agree(tmp_path, monkeypatch):
    lines = [f"line {i} " + "é" * (i % 7) + "x" * (i % 40) for i in range(3000)]
    f = write(tmp_path / "p.txt", ("\n".join(lines) + "\n").encode())
    monkeypatch.setattr(corpus_mod, "BLOCK_BYTES", 4096)   # many pieces
    monkeypatch.setenv("TEXTGAN_NO_CACHE", "1")
    from textgan.data import tokenize
    parts = tokenize.char_parts_of_pieces(corpus_mod.resolve(DataConfig(corpus=str(f))).pieces(),
                                          16, 2500, n_workers=2)
    ids, vocab = tokenize.encode_char(parts, 16, 2500, 2048)
    assert vocab.decode(ids) == [l[:16] for l in lines[:2500]]


@pytest.mark.parametrize("block", [
    b"", b"a", b"a\n", b"a\n\nb", b"\n\n", b"tail\xc3", b"`x\n\xef\xbf\xbd\xff\n",
    "h\u00e9llo w\u00f6rld\n".encode() + b"\xff\xfeabc\n" + b"x" * 50 + b"\nend",
    b"cr\rlf\r\nend\n",
])
def test_fast_block_path_equals_line_semantics(block):
    from textgan.data.text_io import decode_block
    from textgan.data.tokenize import block_codepoints
    from textgan.data.vocab import codepoints
    cps, bad = block_codepoints(block, 4)
    lines, bad2 = decode_block(block)
    assert np.array_equal(cps, codepoints(lines, 4)) and bad == bad2
