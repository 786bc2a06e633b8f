"""Faults a long run meets: exact resume through the CLI, changed corpora, full disks, hostile bytes."""
import errno
import json

import pytest
import torch
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textgan import checkpoint as ck
from textgan.cli import main
from textgan.config import DataConfig
from textgan.data.corpus import load_corpus
from textgan.errors import CheckpointError, CorpusError

TINY = ["--preset", "small", "--dim", "8", "--critic-iters", "2", "--batch-size", "8", "--eval-every", "2",
        "--device", "cpu", "--seed", "3", "--quiet"]


def corpus_file(path, extra=""):
    lines = [f"line {i} of the corpus, number {i * 7 % 13}{extra}" for i in range(64)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def train(*args):
    return CliRunner().invoke(main, ["train-lm", *args, *TINY])


def final_state(run):
    state, _ = ck.load_latest(run / "checkpoints")
    return state


def assert_same_tensors(a, b):
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same_tensors(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_tensors(x, y)
    else:
        assert a == b


@pytest.mark.numerics
def test_stop_and_resume_is_bit_identical_through_the_cli(tmp_path):
    data = corpus_file(tmp_path / "c.txt")
    assert train("--corpus", str(data), "--iters", "6", "--out", str(tmp_path / "straight")).exit_code == 0
    assert train("--corpus", str(data), "--iters", "3", "--out", str(tmp_path / "split")).exit_code == 0
    resumed = train("--corpus", str(data), "--iters", "6", "--out", str(tmp_path / "split"), "--resume")
    assert resumed.exit_code == 0, resumed.output
    a, b = final_state(tmp_path / "straight"), final_state(tmp_path / "split")
    assert a["step"] == b["step"] == 6
    for key in ("generator", "critic", "opt_g", "opt_d", "sampler"):
        assert_same_tensors(a[key], b[key])


def test_resume_refuses_a_changed_vocabulary(tmp_path):
    data = corpus_file(tmp_path / "c.txt")
    run = tmp_path / "run"
    assert train("--corpus", str(data), "--iters", "2", "--out", str(run)).exit_code == 0
    corpus_file(data, extra=" §¶")  # new characters: a different vocabulary
    result = train("--corpus", str(data), "--iters", "4", "--out", str(run), "--resume")
    assert result.exit_code == 2 and "vocabulary" in result.output, result.output


def test_resume_skips_a_truncated_newest_checkpoint(tmp_path):
    data = corpus_file(tmp_path / "c.txt")
    run = tmp_path / "run"
    assert train("--corpus", str(data), "--iters", "4", "--out", str(run)).exit_code == 0
    newest = run / "checkpoints" / ck.checkpoint_name(4)
    newest.write_bytes(newest.read_bytes()[:1000])
    result = train("--corpus", str(data), "--iters", "6", "--out", str(run), "--resume")
    assert result.exit_code == 0, result.output
    assert "skipping ckpt-00000004.pt" in result.output
    assert final_state(run)["step"] == 6


def test_disk_full_during_training_keeps_last_checkpoint(tmp_path, monkeypatch):
    data = corpus_file(tmp_path / "c.txt")
    run = tmp_path / "run"
    real_save = torch.save
    calls = {"n": 0}

    def save_then_fill(obj, f):
        calls["n"] += 1
        if calls["n"] > 1:
            f.write(b"\0" * 100)
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(obj, f)

    monkeypatch.setattr(ck.torch, "save", save_then_fill)
    result = train("--corpus", str(data), "--iters", "6", "--out", str(run))
    monkeypatch.undo()
    assert result.exit_code == 2 and "no space left on device" in result.output
    assert [s for s, _ in ck.list_checkpoints(run / "checkpoints")] == [2]
    assert ck.load_checkpoint(run / "checkpoints" / ck.checkpoint_name(2))["step"] == 2


def test_sample_from_damaged_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.pt"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    result = CliRunner().invoke(main, ["sample", "--checkpoint", str(bad)])
    assert result.exit_code == 2 and result.output.startswith("error:") and "damaged" in result.output


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(max_size=600))
def test_reader_fuzz_arbitrary_bytes(tmp_path, payload):
    """Any bytes either load as a corpus or raise the documented CorpusError: nothing else."""
    path = tmp_path / "fuzz.txt"
    path.write_bytes(payload)
    data = DataConfig(corpus=str(path), max_lines=1000)
    try:
        corpus = load_corpus(data, 8, progress=False)
    except CorpusError:
        return
    assert corpus.ids.ndim == 2 and corpus.ids.shape[1] == 8
    assert corpus.ids.shape[0] >= 1 and int(corpus.ids.max()) < len(corpus.vocab)
