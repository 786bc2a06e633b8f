"""eval-lm reads its corpus once (`corpus_text`) and gives exactly the JSON of the two-read
pipeline it replaced: `corpus_lines` for the corpus and again for its held-out split, and
`evaluate_text` building its n-gram reference from the lines."""
import json
import random
import warnings

import numpy as np
import pytest

from textgan.config import DataConfig
from textgan.data.corpus import corpus_lines, corpus_text
from textgan.data.text_io import read_lines
from textgan.evaluate import evaluate_text
from textgan.lm import evaluate_lm
from textgan.metrics.tokens import char_ids

WORDS = ("the a cat dog sat on mat park bench today walks fast red big café €5 日本 naïve "
         "x`y `` 𝄞").split()
ENDS = [b"\n"] * 8 + [b"\r\n", b"\r"]


def corpus_bytes(n: int, seed: int, final_newline: bool = True) -> bytes:
    """Lines of words, short and long, with CRLF and lone CR breaks, blank lines, non-ASCII
    characters before and after character 32, and invalid UTF-8 bytes."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 14))).encode()
        if rng.random() < 0.03:
            line = line[:rng.randint(0, len(line))] + rng.choice([b"\xff", b"\xc3", b"\xe2\x82"]) + b" z"
        out.append(line + (rng.choice(ENDS) if i < n - 1 or final_newline else b""))
    return b"".join(out)


def old_evaluate_lm(samples, corpus, *, heldout=None, seq_len=32, max_lines=10_000_000, seed=0):
    """evaluate_lm's body before the corpus was read once."""
    data = DataConfig(corpus=corpus, max_lines=max_lines)
    lines = corpus_lines(data, progress=False)
    inside = False
    if heldout is not None:
        held = read_lines(heldout)
    else:
        held = corpus_lines(data, progress=False, split="heldout")
        inside = True
    checks = {}
    if corpus == "synthetic":
        from textgan.data.synthetic import acceptance_rate
        checks["grammar"] = (lambda lines: acceptance_rate(lines, seq_len), "higher")
    return evaluate_text(read_lines(samples, max_lines=max_lines), lines, seq_len=seq_len,
                         heldout_lines=held or None, seed=seed, heldout_in_corpus=inside, line_checks=checks)


def new_evaluate_lm(samples, corpus, *, heldout=None, seq_len=32, max_lines=10_000_000, seed=0):
    return evaluate_lm(samples=str(samples), n=640, corpus=str(corpus),
                       heldout=None if heldout is None else str(heldout), seq_len=seq_len,
                       max_lines=max_lines, data_dir=None, download=False, seed=seed, log=lambda *a: None)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "corpus.txt").write_bytes(corpus_bytes(1500, 0))
    (tmp_path / "samples.txt").write_bytes(corpus_bytes(200, 1))
    (tmp_path / "heldout.txt").write_bytes(corpus_bytes(300, 2))
    d = tmp_path / "dir"
    d.mkdir()
    (d / "a.txt").write_bytes(corpus_bytes(700, 3, final_newline=False))
    (d / "b.txt").write_bytes(b"")
    (d / "c.txt").write_bytes(corpus_bytes(900, 4))
    (tmp_path / "tiny.txt").write_bytes(corpus_bytes(60, 5))
    (tmp_path / "c.jsonl").write_text("".join(json.dumps({"text": line}) + "\n"
                                              for line in read_lines(tmp_path / "corpus.txt")), "utf-8")
    return tmp_path


CASES = {   # corpus, options: a file's own held-out split, other lengths and seeds, several files
    "own split": ("corpus.txt", {}),          # cut by max_lines, --heldout, a corpus too small
    "seq_len 16, seed 3": ("corpus.txt", {"seq_len": 16, "seed": 3}),   # to split, JSON lines
    "directory, max_lines": ("dir", {"max_lines": 1200}),
    "heldout file": ("corpus.txt", {"heldout": "heldout.txt"}),
    "no split": ("tiny.txt", {}),
    "jsonl": ("c.jsonl", {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_eval_lm_json_is_unchanged_by_reading_the_corpus_once(files, case):
    name, opts = CASES[case]
    if "heldout" in opts:
        opts = {**opts, "heldout": files / opts["heldout"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # the invalid UTF-8 warning; its count: below
        new = new_evaluate_lm(files / "samples.txt", files / name, **opts)
        old = old_evaluate_lm(files / "samples.txt", str(files / name), **opts)
    assert json.dumps(new) == json.dumps(old)
    assert new["meta"]["floor_source"] == ("corpus" if name == "tiny.txt" else "heldout")


def test_eval_lm_json_is_unchanged_on_the_synthetic_grammar(tmp_path):
    samples = tmp_path / "s.txt"
    samples.write_text("".join(line + "\n" for line in corpus_lines(
        DataConfig(corpus="synthetic", max_lines=300), progress=False)[::3]), "utf-8")
    new = new_evaluate_lm(samples, "synthetic", max_lines=1500, seq_len=16)
    assert "grammar" in new["samples"]
    assert json.dumps(new) == json.dumps(old_evaluate_lm(samples, "synthetic", max_lines=1500, seq_len=16))


@pytest.mark.parametrize("name,max_lines", [("corpus.txt", 10**7), ("dir", 10**7), ("dir", 1200),
                                            ("dir", 700), ("dir", 5), ("c.jsonl", 900), ("tiny.txt", 10**7)])
def test_corpus_text_is_corpus_lines_and_their_char_ids(files, name, max_lines):
    data = DataConfig(corpus=str(files / name), max_lines=max_lines)
    with warnings.catch_warnings(record=True) as old_warned:
        warnings.simplefilter("always")
        lines = corpus_lines(data, progress=False)
    with warnings.catch_warnings(record=True) as new_warned:
        warnings.simplefilter("always")
        text = corpus_text(data, 32)
    assert len(text) == len(lines) and list(text) == lines
    assert text[-1] == lines[-1] and text[-len(lines)] == lines[0]
    with pytest.raises(IndexError):
        text[len(lines)]
    assert text.ids.tolist() == char_ids(lines, 32).tolist()
    if max_lines == 10**7:   # corpus_lines counts a whole block read, also past max_lines
        assert [str(w.message) for w in new_warned] == [str(w.message) for w in old_warned]
        assert len(new_warned) == (name != "c.jsonl")     # the JSON file was written as valid UTF-8


def test_corpus_text_of_a_directory_with_no_lines_is_refused(tmp_path):
    from textgan.errors import CorpusError
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(CorpusError, match="no lines"):
        corpus_text(DataConfig(corpus=str(tmp_path)), 32)


def test_corpus_text_keeps_the_narrowest_id_type(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"plain\n")
    (tmp_path / "b.txt").write_bytes("caf\u00e9 \u20ac\n".encode())
    text = corpus_text(DataConfig(corpus=str(tmp_path)), 8)
    assert text.ids.dtype == np.uint16 and list(text) == ["plain", "café €"]
