"""The CLI end to end on a tiny model (click's runner), and its errors."""
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from textgan.checkpoint import list_checkpoints
from textgan.cli import main

from oracles import js_oracle

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--preset", "small", "--dim", "16", "--critic-iters", "2", "--batch-size", "16",
        "--eval-every", "2", "--device", "cpu", "--seed", "1", "--quiet"]
WORDS = "the a market price rose fell on monday by percent said minister bank new year".split()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    import random
    rng = random.Random(0)
    path = tmp_path_factory.mktemp("data") / "corpus.txt"
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8))) + " ." for _ in range(400)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run_dir(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "run"
    result = invoke(["train-lm", "--corpus", str(corpus), "--iters", "4", "--out", str(out), *TINY])
    assert result.exit_code == 0, result.output
    return out


def invoke(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_train_leaves_a_complete_run(run_dir):
    assert {"config.json", "vocab.json", "metrics.jsonl", "samples", "checkpoints"} <= set(os.listdir(run_dir))
    records = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [2, 4]
    for r in records:
        for k in ("time", "critic_loss", "generator_loss", "wasserstein", "penalty", "grad_norm"):
            assert math.isfinite(r[k])
        for k in ("js1", "js2", "js3", "js4"):
            assert 0.0 <= r[k] <= 1.0
    samples = (run_dir / "samples" / "samples_00000004.txt").read_text(encoding="utf-8").splitlines()
    assert len(samples) == 640
    cfg = json.loads((run_dir / "config.json").read_text())
    assert cfg["model"]["dim"] == 16 and cfg["train"]["critic_iters"] == 2 and cfg["train"]["iters"] == 4
    assert [s for s, _ in list_checkpoints(run_dir / "checkpoints")] == [2, 4]


def test_sample_prints_and_writes(run_dir, tmp_path):
    result = invoke(["sample", "--run", str(run_dir), "-n", "7", "--seed", "3", "--device", "cpu"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 7 and all(len(l) <= 32 and not l.endswith("`") for l in lines)
    out = tmp_path / "s.txt"
    ckpt = run_dir / "checkpoints" / "ckpt-00000004.pt"
    result = invoke(["sample", "--checkpoint", str(ckpt), "-n", "640", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0
    written = out.read_text(encoding="utf-8").splitlines()
    assert len(written) == 640 and written[:7] == lines  # same seed, same lines


@pytest.mark.numerics
def test_eval_lm_matches_the_definition(run_dir, corpus, tmp_path):
    samples = tmp_path / "s.txt"
    assert invoke(["sample", "--run", str(run_dir), "-n", "200", "--out", str(samples)]).exit_code == 0
    result = invoke(["eval-lm", "--samples", str(samples), "--corpus", str(corpus), "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    sample_lines = samples.read_text(encoding="utf-8").split("\n")[:-1]
    corpus_lines = corpus.read_text(encoding="utf-8").split("\n")[:-1]
    for n in range(1, 5):
        assert abs(got[f"js{n}"] - js_oracle(sample_lines, corpus_lines, n)) < 1e-9
    table = invoke(["eval-lm", "--samples", str(samples), "--corpus", str(corpus)])
    assert table.exit_code == 0 and "js4" in table.stdout.lower()


def test_eval_lm_from_run(run_dir, corpus):
    result = invoke(["eval-lm", "--run", str(run_dir), "-n", "64", "--corpus", str(corpus), "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert all(0.0 <= got[f"js{n}"] <= 1.0 for n in range(1, 5))


def test_resume_continues_to_total_iters(corpus, tmp_path):
    out = tmp_path / "run"
    assert invoke(["train-lm", "--corpus", str(corpus), "--iters", "2", "--out", str(out), *TINY]).exit_code == 0
    result = invoke(["train-lm", "--corpus", str(corpus), "--iters", "4", "--out", str(out), "--resume",
                     "--quiet"])
    assert result.exit_code == 0, result.output
    steps = [json.loads(l)["step"] for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [2, 4]
    refused = invoke(["train-lm", "--corpus", str(corpus), "--iters", "6", "--out", str(out), "--resume",
                      "--dim", "32"])
    assert refused.exit_code == 2 and "dim 16 in the run, 32 given" in refused.output


def bad(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    return result.output.strip()


def test_clear_errors(corpus, run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)          # commands without --out would start runs/ in the working directory
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    base = ["train-lm", "--iters", "2", *TINY]
    cases = {
        "missing": (base + ["--corpus", str(tmp_path / "nope.txt")], "nope.txt"),
        "empty": (base + ["--corpus", str(empty)], "empty"),
        "binary": (base + ["--corpus", str(binary)], "blob.bin"),
        "unknown": (base + ["--corpus", "no-such-corpus"], "no-such-corpus"),
        "dim": (base + ["--corpus", str(corpus), "--dim", "0"], "--dim must be positive"),
        "batch": (base + ["--corpus", str(corpus), "--batch-size", "-3"], "--batch-size must be positive"),
        "seq": (base + ["--corpus", str(corpus), "--seq-len", "100000"], "larger than the model supports"),
        "device": (base + ["--corpus", str(corpus), "--device", "cuda:99"], "cuda:99"),
        "exists": (base + ["--corpus", str(corpus), "--out", str(run_dir)], "--resume"),
        "unwritable": (base + ["--corpus", str(corpus), "--out", str(blocker / "run")], "cannot write"),
        "no-run": (["sample", "--run", str(tmp_path / "none")], "no run directory"),
        "no-samples": (["eval-lm", "--samples", str(tmp_path / "none.txt"), "--corpus", str(corpus)],
                       "none.txt"),
    }
    for name, (args, needle) in cases.items():
        message = bad(args)
        assert message.startswith("error:") and len(message.splitlines()) == 1, (name, message)
        assert needle in message, (name, message)


def test_billion_words_absent_without_network(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TEXTGAN_DATA_DIR", raising=False)
    message = bad(["train-lm", "--corpus", "billion-words", "--data-dir", str(tmp_path / "bw"), "--iters", "1",
                   "--quiet"])
    assert "--data-dir" in message and "--download" in message


def test_kill_9_then_resume(corpus, tmp_path):
    """A training process killed with SIGKILL after a checkpoint resumes and finishes."""
    out = tmp_path / "run"
    cmd = [sys.executable, str(ROOT / "cli.py"), "train-lm", "--corpus", str(corpus), "--out", str(out), *TINY]
    proc = subprocess.Popen(cmd + ["--iters", "100000"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    try:
        while time.time() < deadline and len(list_checkpoints(out / "checkpoints")) < 2:
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = list_checkpoints(out / "checkpoints")
    assert done, "no checkpoint was written before the kill"
    target = done[-1][0] + 4
    result = subprocess.run(cmd + ["--iters", str(target), "--resume"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert list_checkpoints(out / "checkpoints")[-1][0] == target


def test_sigint_saves_and_stops(corpus, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, str(ROOT / "cli.py"), "train-lm", "--corpus", str(corpus), "--out", str(out), *TINY,
           "--iters", "100000"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list_checkpoints(out / "checkpoints"):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "stopped by SIGINT" in err and "--resume" in err
    import re
    stopped_at = int(re.search(r"stopped by SIGINT at step (\d+)", err).group(1))
    assert list_checkpoints(out / "checkpoints")[-1][0] == stopped_at  # saved at the stop step


def test_synthetic_run_logs_grammar_acceptance(tmp_path):
    out = tmp_path / "run"
    result = invoke(["train-lm", "--corpus", "synthetic", "--max-lines", "2000", "--iters", "2",
                     "--out", str(out), *TINY])
    assert result.exit_code == 0, result.output
    records = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert all(0.0 <= r["grammar"] <= 1.0 for r in records)
    floor = json.loads((out / "floor.json").read_text())
    assert floor["heldout_lines"] == 200 and 0.0 <= floor["js4"] <= 1.0  # min(640, N/10) held out
    evaluated = invoke(["eval-lm", "--run", str(out), "-n", "64", "--corpus", "synthetic", "--max-lines", "2000",
                        "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    assert 0.0 <= json.loads(evaluated.stdout)["samples"]["grammar"] <= 1.0
    r = json.loads(evaluated.stdout)
    # the corpus holds lines out, so %-in-test and the grammar's floor are there (real lines: all accepted)
    assert r["samples"]["in_test1"] is not None and r["floor"]["in_test1"] > 0.5
    assert r["floor"]["grammar"] == 1.0
    assert r["better"]["distinct1"] == "closer" and r["better"]["grammar"] == "higher"
    # the small preset trains the built-in grammar on 16-character lines; eval-lm judges the run at them
    assert json.loads((out / "config.json").read_text())["model"]["seq_len"] == 16
    assert r["meta"]["seq_len"] == 16


def test_small_preset_shortens_lines_only_for_the_built_in_corpus():
    from textgan.config import make_config
    assert make_config("small").model.seq_len == 16
    assert make_config("small", corpus="lines.txt").model.seq_len == 32
    assert make_config("small", corpus="synthetic", seq_len=24).model.seq_len == 24   # options win
    assert make_config("paper", corpus="synthetic").model.seq_len == 32               # the paper's


def test_failed_commands_leave_nothing_behind(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args in (["--corpus", "nope.txt"], ["--corpus", str(corpus), "--dim", "0"],
                 ["--corpus", str(corpus), "--out", "deep/er/run", "--max-lines", "3"]):
        result = invoke(["train-lm", "--iters", "2", *TINY, *args])
        assert result.exit_code == 2, result.output
        errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and result.output.strip().splitlines()[-1] == errors[0]
        assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []      # no runs/, no deep/
    mine = tmp_path / "mine"
    mine.mkdir()                                                   # the user's own empty directory stays
    result = invoke(["train-lm", "--corpus", "nope.txt", "--out", str(mine), *TINY])
    assert result.exit_code == 2 and mine.is_dir() and not any(mine.iterdir())


def test_resume_needs_only_the_run_directory(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    assert invoke(["train-lm", "--corpus", str(corpus), "--iters", "2", "--out", str(out), *TINY]).exit_code == 0
    result = invoke(["train-lm", "--resume", "--out", str(out), "--iters", "4", "--quiet"])
    assert result.exit_code == 0, result.output
    steps = [json.loads(l)["step"] for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [2, 4]
    # a setting that may not change on resume is refused, naming it
    result = invoke(["train-lm", "--resume", "--out", str(out), "--iters", "6", "--lr", "0.5", "--quiet"])
    assert result.exit_code == 2 and "lr" in result.output
    result = invoke(["train-lm", "--iters", "2", "--quiet"])
    assert result.exit_code == 2 and "--corpus is required" in result.output


@pytest.mark.parametrize("command", ["train-lm", "train-image"])
def test_lr_decay_option_sets_the_rates_the_run_trains_with(command, corpus, tmp_path):
    """--lr-decay linear: the rates of the last of 4 iterations are base * (1 - 3/4), the critic's from
    its own (two time-scale) base; --lr-decay none keeps the bases although the toy preset decays."""
    from textgan.checkpoint import load_checkpoint
    data = ["--corpus", str(corpus), *TINY] if command == "train-lm" else \
        ["--dataset", "8gaussians", "--preset", "small", "--dim", "16", "--device", "cpu", "--quiet"]
    for decay, factor in (("linear", 0.25), ("none", 1.0)):
        out = tmp_path / decay
        r = invoke([command, *data, "--iters", "4", "--eval-every", "4", "--lr", "1e-3",
                    "--critic-lr", "3e-3", "--lr-decay", decay, "--out", str(out)])
        assert r.exit_code == 0, r.output
        assert json.loads((out / "config.json").read_text())["train"]["lr_decay"] == decay
        state = load_checkpoint(list_checkpoints(out / "checkpoints")[-1][1])
        assert state["step"] == 4
        for key, base in (("opt_g", 1e-3), ("opt_d", 3e-3)):
            assert [g["lr"] for g in state[key]["param_groups"]] == \
                pytest.approx([base * factor] * len(state[key]["param_groups"]))


def test_ema_option_and_samples_from_the_average(corpus, run_dir, tmp_path):
    """The small preset keeps a weight average (--ema 0.999) and `sample` draws from it; --ema 0 keeps
    none; a decay outside [0, 1) is a one-line error."""
    from textgan.checkpoint import load_checkpoint
    import torch
    from textgan.modality import load_model
    assert json.loads((run_dir / "config.json").read_text())["train"]["ema"] == 0.999
    state = load_checkpoint(run_dir / "checkpoints" / "ckpt-00000004.pt")
    generator = load_model(run_dir).generator
    for k, v in generator.state_dict().items():
        assert torch.equal(v, state["generator_avg"][k])
    assert any(not torch.equal(state["generator"][k], state["generator_avg"][k]) for k in state["generator"])
    out = tmp_path / "plain"
    r = invoke(["train-lm", "--corpus", str(corpus), *TINY, "--iters", "2", "--ema", "0", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "generator_avg" not in load_checkpoint(out / "checkpoints" / "ckpt-00000002.pt")
    for value in ("1", "-0.5"):
        message = bad(["train-lm", "--corpus", str(corpus), *TINY, "--ema", value, "--out", str(tmp_path / value)])
        assert "--ema must lie in [0, 1)" in message and not (tmp_path / value).exists()


def test_gumbel_tau_is_a_train_lm_option_checked_in_one_line(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(["train-lm", "--corpus", str(corpus), "--iters", "2", *TINY, "--gumbel-tau", "-0.5"])
    assert result.exit_code == 2 and result.output.strip() == \
        "error: --gumbel-tau must be 0 (plain softmax) or a positive number, got -0.5"
    assert "--gumbel-tau" in invoke(["train-lm", "--help"]).output
    assert sorted(p.name for p in tmp_path.iterdir()) == []
