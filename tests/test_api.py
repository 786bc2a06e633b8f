"""The public Python API: the names, and that each call gives what the matching command prints."""
import json
import math
import random
import signal
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import textgan
from textgan.cli import main

from oracles import js_oracle

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(preset="small", dim=16, critic_iters=2, batch_size=16, eval_every=2, device="cpu", seed=1)
# Words the project's own tests use nowhere else, so the checks see text the code was not tuned on.
WORDS = "harbour lantern quietly orchard velvet copper whistle meadow granite ember".split()


def lines(seed, k):
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))) for _ in range(k)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("api-data") / "corpus.txt"
    path.write_text("\n".join(lines(3, 300)) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("api-runs") / "run"
    return textgan.train_lm(str(corpus), out=out, iters=4, progress=False, log=lambda m: None, **TINY)


def invoke(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_public_names_exist():
    assert isinstance(textgan.__version__, str) and textgan.__version__
    for name in textgan.__all__:
        assert getattr(textgan, name) is not None, name
    for name in ("gradient_penalty", "penalty_and_norms", "train_lm", "train_image", "load_run", "Run",
                 "evaluate_text", "ngram_js", "Trainer", "Callback"):
        assert name in textgan.__all__ and (getattr(textgan, name).__doc__ or "").strip(), name
    with pytest.raises(AttributeError):
        textgan.no_such_name


def test_train_lm_returns_a_run_and_load_run_reads_it(run):
    assert isinstance(run, textgan.Run) and run.kind == "lm"
    assert [r["step"] for r in run.metrics] == [2, 4] and run.step == 4
    assert run.config.train.iters == 4 and run.config.model.dim == 16
    again = textgan.load_run(run.path)
    assert again.metrics == run.metrics
    # the sampling generator is the weight average of the small preset
    state = torch.load(run.path / "checkpoints" / "ckpt-00000004.pt", weights_only=True)
    for k, v in again.generator.state_dict().items():
        assert torch.equal(v, state["generator_avg"][k])
    assert again.critic is not None


def test_run_sample_equals_the_sample_command(run):
    got = run.sample(7, seed=5)
    r = invoke(["sample", "--run", str(run.path), "-n", "7", "--seed", "5", "--device", "cpu"])
    assert r.exit_code == 0 and len(got) == 7
    assert r.output == "".join(line + "\n" for line in got)
    with pytest.raises(textgan.ConfigError):
        run.sample(0)
    with pytest.raises(textgan.ConfigError, match="--class"):
        run.sample(2, class_=1)


def test_run_evaluate_equals_eval_lm_json(run, corpus):
    got = run.evaluate(corpus=str(corpus), n=64, seed=2)
    r = invoke(["eval-lm", "--run", str(run.path), "--corpus", str(corpus), "-n", "64", "--seed", "2", "--json"])
    assert r.exit_code == 0
    assert json.loads(r.output.strip().splitlines()[-1]) == json.loads(json.dumps(got))


def test_evaluate_text_equals_eval_lm_json(corpus, tmp_path):
    samples = tmp_path / "other_model.txt"
    generated = lines(11, 80)
    samples.write_text("\n".join(generated) + "\n", encoding="utf-8")
    r = invoke(["eval-lm", "--samples", str(samples), "--corpus", str(corpus), "--json"])
    want = json.loads(r.output.strip().splitlines()[-1])
    assert textgan.evaluate_text(samples, str(corpus)) == want
    assert textgan.evaluate_text(str(samples), str(corpus)) == want
    # samples as a list: the same numbers as the file
    assert textgan.evaluate_text(generated, str(corpus)) == want
    held = tmp_path / "held.txt"
    held.write_text("\n".join(lines(12, 60)) + "\n", encoding="utf-8")
    r = invoke(["eval-lm", "--samples", str(samples), "--corpus", str(corpus), "--heldout", str(held), "--json"])
    assert textgan.evaluate_text(samples, str(corpus), heldout=held) == json.loads(r.output.strip().splitlines()[-1])
    # a corpus given as a list of strings (no held-out set): the floor comes from the corpus lines
    listed = textgan.evaluate_text(generated, lines(3, 300))
    assert listed["meta"]["floor_source"] == "corpus" and listed["meta"]["corpus_lines"] == 300
    for n in range(1, 5):
        assert listed[f"js{n}"] == pytest.approx(js_oracle(generated, lines(3, 300), n), abs=1e-9)


def test_ngram_js_is_the_papers_definition(corpus, tmp_path):
    generated = lines(21, 50) + ["", "a line longer than thirty-two characters, cut at 32"]
    real = corpus.read_text(encoding="utf-8").splitlines()
    got = textgan.ngram_js(generated, str(corpus))
    assert set(got) == {"js1", "js2", "js3", "js4"}
    for n in range(1, 5):
        assert got[f"js{n}"] == pytest.approx(js_oracle(generated, real, n), abs=1e-9)
    short = textgan.ngram_js(generated, real, max_n=2, seq_len=10)
    assert set(short) == {"js1", "js2"}
    assert short["js2"] == pytest.approx(js_oracle(generated, real, 2, seq_len=10), abs=1e-9)
    path = tmp_path / "s.txt"
    path.write_text("\n".join(generated) + "\n", encoding="utf-8")
    assert textgan.ngram_js(path, real) == pytest.approx(textgan.ngram_js(generated, real))


def test_options_are_checked_as_the_cli_checks_them(corpus, tmp_path):
    with pytest.raises(textgan.ConfigError, match="--dim must be positive"):
        textgan.train_lm(str(corpus), out=tmp_path / "a", iters=2, progress=False, **{**TINY, "dim": 0})
    with pytest.raises(textgan.ConfigError, match="unknown option"):
        textgan.train_lm(str(corpus), out=tmp_path / "b", no_such_option=3, progress=False)
    with pytest.raises(textgan.ConfigError, match="--corpus is required"):
        textgan.train_lm(None, out=tmp_path / "c")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_resume_from_python_continues_the_run(corpus, tmp_path):
    out = tmp_path / "run"
    textgan.train_lm(str(corpus), out=out, iters=2, progress=False, log=lambda m: None, **TINY)
    run = textgan.train_lm(None, out=out, resume=True, iters=4, progress=False, log=lambda m: None)
    assert [r["step"] for r in run.metrics] == [2, 4]


class Recorder(textgan.Callback):
    def __init__(self):
        self.logs, self.checkpoints, self.ended = [], [], 0

    def on_log(self, trainer, record):
        self.logs.append(record["step"])

    def on_checkpoint(self, trainer, path):
        self.checkpoints.append(Path(path).name)

    def on_fit_end(self, trainer, record):
        self.ended += 1


def _toy_trainer(tmp_path, **kw):
    from textgan.config import TrainConfig
    from textgan.data.toy import toy_sampler
    from textgan.models.toy import ToyCritic, ToyGenerator
    torch.manual_seed(0)
    cfg = TrainConfig(iters=4, critic_iters=2, batch_size=32, eval_every=2, gp_weight=0.1)
    return textgan.Trainer(ToyGenerator(dim=16), ToyCritic(dim=16), toy_sampler("8gaussians", 32, 0), cfg,
                           torch.device("cpu"), run_dir=tmp_path,
                           hooks=textgan.TrainerHooks(log=lambda m: None, progress=False), **kw)


def test_trainer_takes_callbacks_and_the_callers_optimisers(tmp_path):
    recorder = Recorder()
    from textgan.models.toy import ToyCritic, ToyGenerator
    t = _toy_trainer(tmp_path, callbacks=[recorder])
    t.fit()
    assert recorder.logs == [2, 4] and recorder.checkpoints == ["ckpt-00000002.pt", "ckpt-00000004.pt"]
    assert recorder.ended == 1
    t = _toy_trainer(tmp_path / "sgd")
    opt_g, opt_d = torch.optim.SGD(t.G.parameters(), lr=0.0), torch.optim.SGD(t.D.parameters(), lr=0.0)
    frozen = _toy_trainer(tmp_path / "frozen", optimizers=(opt_g, opt_d))
    assert frozen.opt_g is opt_g and frozen.opt_d is opt_d
    opt_g2 = torch.optim.SGD(frozen.G.parameters(), lr=0.0)
    opt_d2 = torch.optim.SGD(frozen.D.parameters(), lr=0.0)
    frozen = _toy_trainer(tmp_path / "frozen2", optimizers=(opt_g2, opt_d2))
    before = [p.detach().clone() for p in (*frozen.G.parameters(), *frozen.D.parameters())]
    frozen.fit()          # learning rate 0: the caller's optimisers leave every weight where it was
    assert all(torch.equal(a, b) for a, b in zip(before, (*frozen.G.parameters(), *frozen.D.parameters())))


def test_trainer_changes_nothing_process_wide(tmp_path, monkeypatch):
    from textgan import runtime
    calls = []
    monkeypatch.setattr(runtime, "keep_freed_memory", lambda: calls.append("mallopt"))
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    flags = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.backends.cudnn.benchmark)
    seen_during = []

    class Peek(textgan.Callback):
        def on_log(self, trainer, record):
            seen_during.append((signal.getsignal(signal.SIGINT), runtime.flushes_denormals()))

    t = _toy_trainer(tmp_path, callbacks=[Peek()])
    t.fit()
    assert calls == [] and seen_during == [(handlers[signal.SIGINT], False)] * 2
    assert {s: signal.getsignal(s) for s in handlers} == handlers
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
            torch.backends.cudnn.benchmark) == flags


def test_gpu_fast_math_is_restored():
    from textgan.runtime import gpu_fast_math
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark)
    with gpu_fast_math():
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.benchmark
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
            torch.backends.cudnn.benchmark) == before


def test_request_stop_ends_fit_with_a_checkpoint(tmp_path):
    t = _toy_trainer(tmp_path)
    t.cfg.iters = 100

    class StopAtFirstLog(textgan.Callback):
        def on_log(self, trainer, record):
            trainer.request_stop(signal.SIGTERM)

    t.callbacks.append(StopAtFirstLog())
    t.fit()
    # the request is seen after the next iteration, which then checkpoints
    assert t.step == 3 and (tmp_path / "checkpoints" / "ckpt-00000003.pt").exists()


def test_train_image_from_python(tmp_path):
    run = textgan.train_image("8gaussians", out=tmp_path / "toy", preset="small", iters=2, eval_every=2,
                              dim=16, batch_size=32, device="cpu", progress=False, log=lambda m: None)
    points = run.sample(10, seed=3)
    assert run.kind == "image" and points.shape == (10, 2) and points.dtype == torch.float32
    assert torch.equal(points, run.sample(10, seed=3))
    result = run.evaluate()
    assert set(result["metrics"]) >= {"w1", "modes"} and result["step"] == 2


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "examples").glob("*.py")))
def test_examples_run_from_an_empty_directory(script, tmp_path):
    # This checkout's textgan, whichever copy is installed (as a user's pip install would provide).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / script)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip()
    assert list(tmp_path.iterdir()) == []            # nothing left behind
