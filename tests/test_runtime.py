"""The process-wide settings of a training run (textgan/runtime.py): denormals flushed on the CPU."""
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import textgan
from textgan import runtime

DENORMAL = 1e-39            # below float32's smallest normal number, 1.18e-38
TINY = dict(preset="small", dim=16, critic_iters=1, batch_size=16, eval_every=2, device="cpu", seed=1)


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def share_flushed(n: int = 1 << 20) -> float:
    """The share of a large elementwise product (split between the intra-op threads) flushed to 0."""
    x = torch.full((n,), DENORMAL, dtype=torch.float32)
    return ((x * 1.0) == 0).float().mean().item()


def test_denormals_are_kept_outside_a_run():
    assert share_flushed() == 0.0 and not runtime.flushes_denormals()


@pytest.mark.parametrize("n_threads", [1, 2])
def test_flush_denormals_reaches_every_thread_of_an_existing_pool_and_is_undone(threads, n_threads):
    torch.set_num_threads(n_threads)
    share_flushed()                     # the intra-op pool exists before the setting, as in a user's process
    with runtime.flush_denormals():
        assert share_flushed() == 1.0 and runtime.flushes_denormals()
        assert (torch.tensor([DENORMAL]) * 3.0).item() == 0.0
        assert (torch.tensor([2e-38]) * 1.0).item() == pytest.approx(2e-38)   # normal numbers untouched
    assert share_flushed() == 0.0 and not runtime.flushes_denormals()


def test_a_flushing_caller_keeps_its_setting(threads):
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    try:
        with runtime.flush_denormals():
            assert runtime.flushes_denormals()
        assert runtime.flushes_denormals()
    finally:
        torch.set_flush_denormal(False)
    assert not runtime.flushes_denormals()


def test_a_cpu_training_run_flushes_denormals(tmp_path, threads):
    torch.set_num_threads(2)
    rng = random.Random(5)
    words = "pebble lagoon saffron thistle beacon".split()
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(" ".join(rng.choice(words) for _ in range(4)) + "\n" for _ in range(200)))
    seen = []

    class Peek(textgan.Callback):
        def on_log(self, trainer, record):
            seen.append((runtime.flushes_denormals(), share_flushed()))

    for objective in ("wgan-gp", "mle"):
        textgan.train_lm(str(corpus), out=tmp_path / objective, iters=2, progress=False, log=lambda m: None,
                         callbacks=[Peek()], objective=objective, **TINY)
    assert seen == [(True, 1.0)] * 2
    assert not runtime.flushes_denormals()


def test_the_denormals_bench_times_both_sides(tmp_path):
    """bench/denormals.py on a tiny corpus: both sides train, each block is timed, nothing is recorded."""
    root = Path(__file__).resolve().parents[1]
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(f"a short line {i % 7} of text\n" for i in range(64)), encoding="utf-8")
    before = (root / "bench" / "RESULTS.md").read_bytes()
    p = subprocess.run([sys.executable, str(root / "bench" / "denormals.py"), "--corpus", str(corpus), "--iters",
                        "4", "--block", "2", "--rounds", "1", "--objectives", "wgan-gp", "--no-record"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout)["objectives"]["wgan-gp"]
    assert len(got["blocks_cpu_s_flush"][0]) == len(got["blocks_cpu_s_keep"][0]) == 2
    assert all(t > 0 for t in got["blocks_cpu_s_flush"][0] + got["blocks_cpu_s_keep"][0])
    assert got["median_ratio_whole"] > 0
    assert (root / "bench" / "RESULTS.md").read_bytes() == before
