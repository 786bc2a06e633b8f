"""Data-parallel training (textgan/distributed.py): two CPU processes with Gloo on loopback.

Two ranks on the combined batch are one process (float64, exact up to summation order); only rank 0
writes; a distributed run resumes exactly, and a single process resumes it; a signal on one rank
stops both after the same step; a killed rank makes the other exit with one line within the timeout.
Every launch is bounded by a timeout; this file also runs as the worker script of the first test.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from textgan.checkpoint import list_checkpoints, load_checkpoint
from textgan.config import TrainConfig
from textgan.distributed import SINGLE, World, connect, disconnect, world_from_env
from textgan.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_TIMEOUT = 120          # seconds for any launched group of processes (loaded 2-core machine)
DIST_TIMEOUT = "15"           # TEXTGAN_DIST_TIMEOUT in the launched ranks
TINY = ["--preset", "small", "--dim", "16", "--seq-len", "8", "--critic-iters", "2", "--batch-size", "32",
        "--device", "cpu", "--seed", "1", "--quiet"]
WORDS = "the a market price rose fell on monday by percent said minister bank new year".split()


# ---------------------------------------------------------------- launching ranks
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_env(rank: int, world: int, port: int, **extra) -> dict:
    return {**os.environ, "RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
            "LOCAL_WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
            "OMP_NUM_THREADS": "1", "TEXTGAN_DIST_TIMEOUT": DIST_TIMEOUT,
            "PYTHONPATH": str(ROOT), **extra}


def launch(cmd: list[str], world: int = 2, **extra) -> list[subprocess.Popen]:
    """`world` processes of `cmd` with torchrun's variables, as torchrun would start them."""
    port = free_port()
    return [subprocess.Popen(cmd, cwd=ROOT, env=rank_env(r, world, port, **extra), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for r in range(world)]


def finish(procs: list[subprocess.Popen], timeout: float = LAUNCH_TIMEOUT) -> list[tuple[int, str, str]]:
    """(returncode, stdout, stderr) of each process; kills them all if any outlives `timeout`."""
    deadline = time.time() + timeout
    results = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=max(deadline - time.time(), 0.1))
            results.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    return results


def train_cmd(corpus: Path, out: Path, *args: str) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), "train-lm", "--corpus", str(corpus), "--out", str(out),
            *TINY, *args]


def train(corpus: Path, out: Path, *args: str) -> list[tuple[int, str, str]]:
    results = finish(launch(train_cmd(corpus, out, *args)))
    for rc, _, err in results:
        assert rc == 0, err[-3000:]
    return results


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    import random
    rng = random.Random(0)
    path = tmp_path_factory.mktemp("data") / "corpus.txt"
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))) + " ." for _ in range(300)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- the maths: 2 ranks == 1 process
V, L, DIM, B, K, Z, ITERS = 7, 8, 16, 8, 2, 12, 3


class GaussianBatches:
    """Real [B, 2] data without `shard`: the ranks slice its global batches (the generic fallback)."""

    def __init__(self, seed=0):
        self.g, self.draws = torch.Generator().manual_seed(seed), 0

    def next(self):
        self.draws += 1
        return torch.randn(B, 2, generator=self.g) + 3.0

    def state_dict(self):
        return {"draws": self.draws}

    def load_state_dict(self, state):
        raise NotImplementedError


def _trainer(kind: str, world: World):
    """A tiny trainer: the text models (direct or Winograd convolutions, analytic input gradient,
    the sampler's own `shard`), or the toy MLPs (autograd's double backward, a slicing sampler)."""
    from textgan.lm import TextBatches
    from textgan.models.text import Critic, Generator
    from textgan.models.toy import ToyCritic, ToyGenerator
    from textgan.train import Trainer, TrainerHooks
    torch.manual_seed(0)
    if kind == "toy":
        gen, critic, sampler = ToyGenerator(z_dim=Z, dim=16), ToyCritic(dim=16), GaussianBatches()
    else:
        ids = torch.randint(0, V, (40, L), generator=torch.Generator().manual_seed(5))
        gen = Generator(V, dim=DIM, seq_len=L, n_blocks=2, z_dim=Z, conv=kind)
        critic = Critic(V, dim=DIM, seq_len=L, n_blocks=2, conv=kind)
        sampler = TextBatches(ids, B, V, seed=3)
    cfg = TrainConfig(iters=ITERS, critic_iters=K, batch_size=B, lr=1e-3)
    return Trainer(gen, critic, sampler, cfg, torch.device("cpu"), world=world,
                   hooks=TrainerHooks(log=lambda m: None, progress=False))


def _train_all(world: World) -> dict:
    """Per model kind: the parameters of both networks and the logged statistics after ITERS steps."""
    result = {}
    for kind in ("direct", "winograd", "toy"):
        t = _trainer(kind, world)
        torch.manual_seed(42)
        stats = []
        for _ in range(ITERS):
            t.iteration()
            stats.append(t.read_stats())
        result[kind] = {"params": [p.detach().clone() for p in [*t.G.parameters(), *t.D.parameters()]],
                        "stats": stats}
    return result


def _worker(out: str) -> None:
    torch.set_default_dtype(torch.float64)
    world = world_from_env()
    connect(world)
    try:
        torch.save(_train_all(world), f"{out}.{world.rank}")
    finally:
        disconnect(world)
    Path(f"{out}.{world.rank}.threads").write_text("\n".join(_native_threads()))


def _native_threads() -> list[str]:
    """The names of this process's threads (Linux), e.g. Gloo's `pt_gloo_runloop` workers."""
    tasks = Path("/proc/self/task")
    return [(t / "comm").read_text().strip() for t in tasks.iterdir()] if tasks.is_dir() else []


def test_two_ranks_are_one_process_on_the_combined_batch(tmp_path, float64):
    out = tmp_path / "params"
    procs = launch([sys.executable, __file__, "worker", str(out)])
    single = _train_all(SINGLE)
    for rc, _, err in finish(procs):
        assert rc == 0, err[-3000:]
    ranks = [torch.load(f"{out}.{r}") for r in range(2)]
    # disconnect() really ends the group: no Gloo thread outlives it to abort the exiting process
    for r in range(2):
        assert not [t for t in Path(f"{out}.{r}.threads").read_text().split() if "gloo" in t], r
    for kind, expected in single.items():
        for a, b, s in zip(ranks[0][kind]["params"], ranks[1][kind]["params"], expected["params"]):
            assert a.dtype == torch.float64
            assert torch.equal(a, b), kind                        # DDP keeps the ranks identical
            # 1e-17 apart (summation order), except a few parameters whose gradient is exactly zero
            # in exact arithmetic (e.g. the critic's last conv bias): there Adam turns rounding noise
            # g ~ 1e-17 into steps lr * g / eps ~ 1e-12
            torch.testing.assert_close(a, s, rtol=1e-9, atol=1e-10, msg=kind)
        for got, want in zip(ranks[0][kind]["stats"], expected["stats"]):
            for key, value in want.items():                     # statistics averaged over ranks
                assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-11), (kind, key)


# ---------------------------------------------------------------- runs: files, resume
def _ckpt_params(path: Path) -> dict:
    state = load_checkpoint(path)
    return {**{f"G.{k}": v for k, v in state["generator"].items()},
            **{f"D.{k}": v for k, v in state["critic"].items()},
            **{f"avg.{k}": v for k, v in state.get("generator_avg", {}).items()}}   # --ema (small preset)


def _metrics(run: Path) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if k != "time"}
            for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def whole_run(corpus, tmp_path_factory):
    """Six iterations on two ranks, started by torchrun itself."""
    out = tmp_path_factory.mktemp("ddp") / "whole"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2",
           "--master-addr", "127.0.0.1", "--master-port", str(free_port()),
           str(ROOT / "cli.py"), "train-lm", "--corpus", str(corpus), "--out", str(out), *TINY,
           "--iters", "6", "--eval-every", "3"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TEXTGAN_DIST_TIMEOUT": DIST_TIMEOUT}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=LAUNCH_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_torchrun_run_writes_only_from_rank_0(whole_run):
    out, proc = whole_run
    assert "global batch 32 = 16 per process" in proc.stderr
    assert proc.stdout.count(f"run {out}: step 6") == 1              # rank 0 reports, rank 1 is silent
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints", "config.json", "floor.json",
                                                     "metrics.jsonl", "samples", "vocab.json"]
    assert [m["step"] for m in _metrics(out)] == [3, 6]               # one writer: no duplicate lines
    assert [s for s, _ in list_checkpoints(out / "checkpoints")] == [3, 6]
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["samples_00000003.txt",
                                                                   "samples_00000006.txt"]
    state = load_checkpoint(out / "checkpoints" / "ckpt-00000006.pt")
    assert not any(k.startswith("module.") for k in [*state["generator"], *state["critic"]])
    assert len(state["rng_by_rank"]) == 2
    from textgan.cli import main
    sampled = CliRunner().invoke(main, ["sample", "--run", str(out), "-n", "3", "--seed", "0"])
    assert sampled.exit_code == 0 and len(sampled.output.splitlines()) == 3, sampled.output


def test_distributed_resume_continues_exactly(corpus, whole_run, tmp_path):
    whole, _ = whole_run
    out = tmp_path / "resumed"
    train(corpus, out, "--iters", "3", "--eval-every", "3")
    train(corpus, out, "--iters", "6", "--resume")
    assert _metrics(out) == _metrics(whole)
    got, want = (_ckpt_params(run / "checkpoints" / "ckpt-00000006.pt") for run in (out, whole))
    assert any(k.startswith("avg.") for k in want)
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)


def test_single_process_resumes_a_distributed_run(whole_run, tmp_path):
    import shutil
    import textgan
    out = tmp_path / "single"
    shutil.copytree(whole_run[0], out)
    run = textgan.train_lm(None, out=out, resume=True, iters=8, progress=False, log=lambda m: None)
    assert run.step == 8
    assert [m["step"] for m in _metrics(out)] == [3, 6, 8]
    assert "rng_by_rank" not in load_checkpoint(out / "checkpoints" / "ckpt-00000008.pt")


# ---------------------------------------------------------------- stops and deaths
def _wait_for_training(out: Path, procs) -> None:
    """Until config.json exists (written just before the loop starts), then a moment of training."""
    deadline = time.time() + LAUNCH_TIMEOUT
    while not (out / "config.json").exists():
        if time.time() > deadline or any(p.poll() is not None for p in procs):
            finish(procs, timeout=1)
            pytest.fail("the ranks did not start training")
        time.sleep(0.1)
    time.sleep(1.0)


def test_sigterm_on_one_rank_stops_both_with_one_checkpoint(corpus, tmp_path):
    out = tmp_path / "run"
    procs = launch(train_cmd(corpus, out, "--iters", "100000", "--eval-every", "50000"))
    _wait_for_training(out, procs)
    procs[1].send_signal(signal.SIGTERM)
    (rc0, _, err0), (rc1, _, err1) = finish(procs)
    assert rc0 == 0 and rc1 == 0, err0[-2000:] + err1[-2000:]
    step = int(re.search(r"stopped by SIGTERM at step (\d+)", err0).group(1))
    assert "stopped by" not in err1                                   # rank 0 speaks for the run
    assert [s for s, _ in list_checkpoints(out / "checkpoints")] == [step]


def test_killed_rank_makes_the_other_exit_with_one_line(corpus, tmp_path):
    out = tmp_path / "run"
    procs = launch(train_cmd(corpus, out, "--iters", "100000", "--eval-every", "50000"))
    _wait_for_training(out, procs)
    procs[1].send_signal(signal.SIGKILL)
    start = time.time()
    (rc0, _, err0), _ = finish(procs, timeout=float(DIST_TIMEOUT) + 30)
    assert time.time() - start < float(DIST_TIMEOUT) + 10
    assert rc0 == 2, err0[-2000:]
    last = err0.strip().splitlines()[-1]
    assert last.startswith("error: rank 0 of 2: lost contact with another rank"), err0[-2000:]
    assert "Traceback" not in err0
    assert not out.exists()                       # failed before its first checkpoint: cleaned up


# ---------------------------------------------------------------- configuration errors
@pytest.mark.parametrize("env,needle", [
    ({"WORLD_SIZE": "2", "RANK": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1"}, "RANK=2 is out of range"),
    ({"WORLD_SIZE": "2", "RANK": "0", "MASTER_PORT": "1"}, "MASTER_ADDR"),
    ({"WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1"}, "RANK is not"),
    ({"RANK": "1"}, "WORLD_SIZE is not"),
    ({"WORLD_SIZE": "two"}, "not an integer"),
    ({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "3", "MASTER_ADDR": "h", "MASTER_PORT": "1"}, "LOCAL_RANK=3"),
    ({"WORLD_SIZE": "2", "RANK": "1", "MASTER_ADDR": "h", "MASTER_PORT": "1", "TEXTGAN_DIST_TIMEOUT": "0"},
     "TEXTGAN_DIST_TIMEOUT"),
])
def test_inconsistent_environment_is_one_line(env, needle, monkeypatch, corpus):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "TEXTGAN_DIST_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match=re.escape(needle)):
        _with_env(monkeypatch, env)
    from textgan.cli import main
    result = CliRunner().invoke(main, ["train-lm", "--corpus", str(corpus), "--iters", "1", *TINY], env=env)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith("error:") and needle in result.output


def _with_env(monkeypatch, env: dict):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return world_from_env()


def test_global_batch_must_split_evenly(monkeypatch, corpus, tmp_path):
    from textgan.cli import main
    env = {"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1"}
    result = CliRunner().invoke(main, ["train-lm", "--corpus", str(corpus), "--out", str(tmp_path / "r"),
                                       *TINY, "--batch-size", "7"], env=env)
    assert result.exit_code == 2, result.output
    assert "--batch-size 7 is the global batch and must divide evenly among 2 ranks (e.g. 6 or 8)" \
        in result.output
    assert World(rank=1, size=4).rows(64) == slice(16, 32)


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    _worker(sys.argv[2])


def test_train_image_runs_unchanged_under_torchrun(tmp_path):
    out = tmp_path / "toy"
    cmd = [sys.executable, str(ROOT / "cli.py"), "train-image", "--dataset", "8gaussians", "--preset", "small",
           "--dim", "16", "--iters", "4", "--eval-every", "2", "--batch-size", "64", "--device", "cpu",
           "--out", str(out), "--quiet"]
    results = finish(launch(cmd))
    assert all(rc == 0 for rc, _, _ in results), results[0][2][-3000:] + results[1][2][-3000:]
    (_, out0, err0), (_, out1, _) = results
    assert "global batch 64 = 32 per process" in err0
    assert out0.count(f"run {out}: step 4") == 1 and out1 == ""      # rank 0 reports, rank 1 is silent
    assert [m["step"] for m in _metrics(out)] == [2, 4]
    assert [s for s, _ in list_checkpoints(out / "checkpoints")] == [2, 4]
