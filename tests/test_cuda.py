"""The CUDA paths, on a GPU: `python -m pytest -m cuda tests/test_cuda.py` (bench/gpu_check.py runs
them).  Without a GPU every test here is skipped.

What a GPU changes and the CPU tests cannot show: the penalty's exact maths on CUDA kernels, a
Trainer step on CUDA against the same step on the CPU, checkpoints crossing between the devices,
what two identical GPU runs give, batches reaching the device without a host synchronisation, and
the metrics leaving the run's CUDA random stream alone.

A CPU and a CUDA trainer draw their noise from different generators; `same_draws` gives both the
same numbers (drawn on the CPU, then moved), so that their steps can be compared.  The trainer turns
TF32 on for CUDA; the comparisons with the CPU turn it off again (float32 against float32)."""
import contextlib
import copy
import gzip
import json
import math
import random
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from textgan.checkpoint import (CHECKPOINT_DIR, capture_rng_state, list_checkpoints, load_checkpoint,
                                restore_rng_state, save_checkpoint)
from textgan.cli import main
from textgan.config import ModelConfig, TrainConfig, apply_objective
from textgan.data.images import ImageBatches, ImageSet
from textgan.data.toy import toy_sampler
from textgan.lm import TextBatches, corpus_tensor
from textgan.losses import ADVERSARIAL
from textgan.models.image import build_image_models
from textgan.models.text import build_text_models
from textgan.penalty import penalty_and_norms
from textgan.train import Trainer, TrainerHooks

from test_data_images import idx_bytes
from test_penalty import SHAPES, LinearCritic, QuadCritic, _data, _w_with_norm

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

CPU, CUDA = torch.device("cpu"), torch.device("cuda")
WORDS = "the a market price rose fell on monday by percent said minister bank new year".split()


@pytest.fixture(autouse=True)
def _backend_switches():
    """The trainer sets TF32 and cudnn.benchmark process-wide on CUDA: put them back after each test."""
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.backends.cudnn.benchmark)
    yield
    (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
     torch.backends.cudnn.benchmark) = saved


def no_tf32():
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False


@contextlib.contextmanager
def same_draws(seed: int):
    """torch.randn / rand / randint called without a generator draw from one seeded CPU generator and
    are then moved to the device asked for: a CPU and a CUDA trainer see the same noise."""
    g = torch.Generator().manual_seed(seed)
    with pytest.MonkeyPatch.context() as mp:
        for name in ("randn", "rand", "randint"):
            real = getattr(torch, name)

            def draw(*args, _real=real, device=None, generator=None, **kwargs):
                if generator is not None:
                    return _real(*args, device=device, generator=generator, **kwargs)
                return _real(*args, generator=g, **kwargs).to(device if device is not None else CPU)
            mp.setattr(torch, name, draw)
        yield


def invoke(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


# ------------------------------------------------------------------ data the tests write

def lines(n=400, seed=0):
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8))) + " ." for _ in range(n)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "corpus.txt"
    path.write_text("\n".join(lines()) + "\n", encoding="utf-8")
    return path


TEXT_RUN = ["--preset", "small", "--dim", "16", "--critic-iters", "2", "--batch-size", "16",
            "--eval-every", "2", "--seed", "1", "--quiet"]
MNIST_RUN = ["--dataset", "mnist", "--preset", "small", "--dim", "8", "--critic-iters", "2",
             "--batch-size", "8", "--eval-every", "2", "--seed", "1", "--quiet"]


def train(kind, out, device, iters, corpus, mnist_dir, *extra):
    if kind == "text":
        args = ["train-lm", "--corpus", str(corpus), *TEXT_RUN]
    else:
        args = ["train-image", *MNIST_RUN, "--data-dir", str(mnist_dir)]
    r = invoke([*args, "--device", device, "--iters", str(iters), "--out", str(out), *extra])
    assert r.exit_code == 0, r.output
    return r


def newest(run_dir):
    return load_checkpoint(list_checkpoints(Path(run_dir) / CHECKPOINT_DIR)[-1][1])


def records(run_dir):
    return [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


# ------------------------------------------------------------------ the penalty's closed forms

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("norm", [0.3, 1.0, 2.5, 7.0])
def test_linear_critic_penalty_closed_form_on_cuda(shape, norm):
    """D(x) = <w, x> + b has gradient w everywhere: norm ||w|| for every sample, penalty 10 (||w|| - 1)^2,
    float64 on the GPU, with alpha drawn there."""
    real, fake = (t.to(CUDA) for t in _data(shape))
    critic = LinearCritic(_w_with_norm(shape, norm, seed=int(norm * 10))).to(CUDA)
    for one_sided in (False, True):
        p, norms = penalty_and_norms(critic, real, fake, weight=10.0, one_sided=one_sided)
        assert p.device.type == "cuda" and norms.dtype == torch.float64
        torch.testing.assert_close(norms.cpu(), torch.full((shape[0],), norm, dtype=torch.float64))
        excess = max(norm - 1.0, 0.0) if one_sided else norm - 1.0
        assert p.item() == pytest.approx(10.0 * excess ** 2, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_per_sample_penalty_closed_form_on_cuda(shape):
    """D(x) = sum(w x^2) / 2: the gradient at x_hat is w * x_hat, one norm per sample, in float64."""
    real, fake = (t.to(CUDA) for t in _data(shape, seed=3))
    w = _w_with_norm(shape, 4.0, seed=4).to(CUDA)
    alpha = torch.linspace(0.0, 1.0, shape[0], dtype=torch.float64, device=CUDA)
    p, norms = penalty_and_norms(QuadCritic(w).to(CUDA), real, fake, weight=10.0, alpha=alpha)
    x_hat = real + alpha.view((-1,) + (1,) * (len(shape) - 1)) * (fake - real)
    expected = (w * x_hat).flatten(1).norm(dim=1)
    torch.testing.assert_close(norms, expected, rtol=1e-12, atol=0)
    assert p.item() == pytest.approx(10.0 * (expected - 1).pow(2).mean().item(), rel=1e-9)


@pytest.mark.parametrize("family", ["text", "mnist"])
def test_critics_own_input_gradient_equals_autograds_on_cuda(family):
    """The penalty's fast path (the critic's written-out input gradient) against autograd, float64."""
    torch.manual_seed(0)
    if family == "text":
        _, critic = build_text_models(ModelConfig(dim=16, seq_len=8, n_blocks=2, z_dim=8, vocab_size=12))
        x = torch.rand(4, 8, 12, dtype=torch.float64)
    else:
        _, critic = build_image_models("mnist", dim=8)
        x = torch.rand(4, 1, 28, 28, dtype=torch.float64)
    critic, x = critic.double().to(CUDA), x.to(CUDA).requires_grad_(True)
    (want,) = torch.autograd.grad(critic(x).sum(), x)
    got = critic.input_grad(x.detach())
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ one Trainer step, CPU against CUDA

def text_parts(device):
    torch.manual_seed(0)
    g, d = build_text_models(ModelConfig(dim=16, seq_len=8, n_blocks=2, z_dim=16, vocab_size=12))
    ids = np.random.default_rng(0).integers(1, 12, (200, 8)).astype(np.uint8)
    return g, d, TextBatches(corpus_tensor(ids, device), 8, 12, seed=1), {}


def image_parts(kind, device):
    torch.manual_seed(0)
    g, d = build_image_models(kind, dim=8 if kind == "mnist" else 16)
    shape = (1, 28, 28) if kind == "mnist" else (3, 32, 32)
    x = np.random.default_rng(0).integers(0, 256, (40, *shape), dtype=np.uint8)
    scale = "unit" if kind == "mnist" else "symmetric"
    extra = {} if kind == "mnist" else {"gen_batch_size": 16}     # the ResNet's 2x generator batch
    return g, d, ImageBatches(ImageSet(x), 8, scale, seed=1, device=device), extra


def one_iteration(family, device, lr=1e-4):
    g, d, sampler, extra = text_parts(device) if family == "text" else image_parts(family, device)
    cfg = TrainConfig(critic_iters=1, batch_size=8, lr=lr, **extra)
    trainer = Trainer(g.to(device), d.to(device), sampler, cfg, device,
                      hooks=TrainerHooks(log=lambda m: None, progress=False))
    no_tf32()
    with same_draws(7):
        trainer.iteration()
    stats = trainer.read_stats()
    grads = [p.grad.detach().cpu() for net in (trainer.G, trainer.D) for p in net.parameters()
             if p.grad is not None]
    params = [p.detach().cpu() for net in (trainer.G, trainer.D) for p in net.parameters()]
    return stats, grads, params


def assert_weights_agree(a, b, lr, steps):
    """Weights after `steps` Adam updates at rates up to `lr`.  An Adam update is about lr whatever
    the gradient's size, so gradients that differ in rounding only give weights that differ by far
    less than 1% of lr, except where a gradient lies within rounding of 0 (its sign may flip: up to
    about 2 lr per update).  Asserted: fewer than 0.1% of the weights differ by more than 1% of lr,
    and none by more than 4 lr per update."""
    diffs = torch.cat([(x.float() - y.float()).abs().flatten() for x, y in zip(a, b)])
    assert len(a) == len(b) and diffs.max().item() <= 4 * lr * steps
    assert (diffs > 1e-2 * lr).float().mean().item() < 1e-3, diffs.max().item()


def rates(state) -> float:
    t = state["config"]["train"]
    return max(t["lr"], t.get("critic_lr") or 0.0)


@pytest.mark.parametrize("family", ["text", "mnist", "cifar-resnet"])
def test_one_trainer_step_agrees_on_cpu_and_cuda(family):
    (s_cpu, g_cpu, p_cpu), (s_gpu, g_gpu, p_gpu) = one_iteration(family, CPU), one_iteration(family, CUDA)
    for k, v in s_cpu.items():
        if v is not None:
            assert s_gpu[k] == pytest.approx(v, rel=1e-4, abs=1e-6), k
    assert len(g_cpu) == len(g_gpu) > 0
    for a, b in zip(g_cpu, g_gpu):
        torch.testing.assert_close(b, a, rtol=1e-3, atol=1e-4 * max(a.abs().max().item(), 1e-12))
    assert_weights_agree(p_cpu, p_gpu, 1e-4, steps=1)


@pytest.mark.parametrize("objective", ADVERSARIAL)
def test_every_objective_builds_and_steps_on_cuda(objective):
    torch.manual_seed(0)
    g, d = build_image_models("mnist", dim=8)
    cfg = TrainConfig(critic_iters=2, batch_size=8)
    apply_objective(cfg, objective)
    x = np.random.default_rng(0).integers(0, 256, (40, 1, 28, 28), dtype=np.uint8)
    trainer = Trainer(g.to(CUDA), d.to(CUDA), ImageBatches(ImageSet(x), 8, "unit", device=CUDA), cfg, CUDA,
                      hooks=TrainerHooks(log=lambda m: None, progress=False))
    trainer.iteration()
    stats = trainer.read_stats()
    assert math.isfinite(stats["critic_loss"]) and math.isfinite(stats["generator_loss"])
    assert all(torch.isfinite(p).all() for p in trainer.D.parameters())


# ------------------------------------------------------------------ checkpoints between the devices

@pytest.mark.parametrize("kind", ["text", "mnist"])
def test_a_cuda_checkpoint_samples_and_evaluates_on_the_cpu(tmp_path, corpus, mnist_dir, kind):
    out = tmp_path / "run"
    train(kind, out, "cuda", 2, corpus, mnist_dir)
    assert "torch_cuda" in newest(out)["rng"]                    # written by a CUDA run
    if kind == "text":
        r = invoke(["sample", "--run", str(out), "-n", "5", "--seed", "1", "--device", "cpu"])
        assert r.exit_code == 0, r.output
        assert len(r.stdout.splitlines()) == 5
        r = invoke(["eval-lm", "--run", str(out), "--corpus", str(corpus), "-n", "64", "--json"])
        assert r.exit_code == 0, r.output
        assert 0.0 <= json.loads(r.stdout)["js4"] <= 1.0
    else:
        r = invoke(["sample", "--run", str(out), "-n", "16", "--out", str(tmp_path / "g.png"), "--device", "cpu"])
        assert r.exit_code == 0, r.output
        assert (tmp_path / "g.png").is_file()
        r = invoke(["eval-image", "--run", str(out), "--device", "cpu", "--json"])
        assert r.exit_code == 0, r.output
        metrics = json.loads(r.stdout)["metrics"]
        assert 1.0 <= metrics["classifier_score"]["value"] <= 10.0


@pytest.mark.parametrize("kind", ["text", "mnist"])
def test_a_cpu_checkpoint_resumes_on_cuda(tmp_path, corpus, mnist_dir, kind):
    out = tmp_path / "run"
    train(kind, out, "cpu", 2, corpus, mnist_dir)
    train(kind, out, "cuda", 4, corpus, mnist_dir, "--resume")
    state = newest(out)
    assert state["step"] == 4 and "torch_cuda" in state["rng"]
    assert all(torch.isfinite(v).all() for v in state["generator"].values() if v.is_floating_point())
    assert [r["step"] for r in records(out)] == [2, 4]


def test_a_cuda_run_resumes_on_cuda_and_continues_its_random_streams(tmp_path, corpus, mnist_dir,
                                                                    record_property):
    """2 + 2 iterations (resumed: the checkpoint's CUDA random state restored) against 4 in one go."""
    train("text", tmp_path / "full", "cuda", 4, corpus, mnist_dir)
    train("text", tmp_path / "half", "cuda", 2, corpus, mnist_dir)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        train("text", tmp_path / "half", "cuda", 4, corpus, mnist_dir, "--resume")
    assert not [w for w in warned if "GPU" in str(w.message)]
    a, b = newest(tmp_path / "full"), newest(tmp_path / "half")
    assert a["step"] == b["step"] == 4
    keys = [(net, k) for net in ("generator", "critic") for k in a[net]]
    record_property("bit_identical", all(torch.equal(a[n][k], b[n][k]) for n, k in keys))
    steps = 4 * (a["config"]["train"]["critic_iters"] + 1)
    assert_weights_agree([a[n][k] for n, k in keys], [b[n][k] for n, k in keys], rates(a), steps)


@pytest.mark.parametrize("kind", ["text", "mnist"])
def test_two_identical_gpu_runs_agree(tmp_path, corpus, mnist_dir, kind, record_property):
    """The same command twice on the GPU: logged losses within 1e-4 relative, weights as
    `assert_weights_agree`; whether they are bit-identical is recorded (property bit_identical)."""
    for name in ("one", "two"):
        train(kind, tmp_path / name, "cuda", 4, corpus, mnist_dir)
    r1, r2 = records(tmp_path / "one"), records(tmp_path / "two")
    for x, y in zip(r1, r2):
        for k in ("critic_loss", "generator_loss", "wasserstein", "penalty", "grad_norm"):
            assert y[k] == pytest.approx(x[k], rel=1e-4, abs=1e-6), k
    a, b = newest(tmp_path / "one"), newest(tmp_path / "two")
    keys = [(net, k) for net in ("generator", "critic") for k in a[net]]
    record_property("bit_identical", all(torch.equal(a[n][k], b[n][k]) for n, k in keys))
    steps = 4 * (a["config"]["train"]["critic_iters"] + 1)
    assert_weights_agree([a[n][k] for n, k in keys], [b[n][k] for n, k in keys], rates(a), steps)


def test_rng_states_loaded_onto_the_gpu_restore():
    torch.manual_seed(3)
    torch.randn(1, device=CUDA)
    saved = capture_rng_state()
    expected = (torch.rand(3), torch.rand(3, device=CUDA).cpu())
    moved = {**saved, "torch_cpu": saved["torch_cpu"].to(CUDA),
             "torch_cuda": [s.to(CUDA) for s in saved["torch_cuda"]],
             "numpy": {**saved["numpy"], "keys": saved["numpy"]["keys"].to(CUDA)}}
    torch.manual_seed(9)
    restore_rng_state(moved)
    got = (torch.rand(3), torch.rand(3, device=CUDA).cpu())
    assert all(torch.equal(a, b) for a, b in zip(expected, got))


def test_a_checkpoint_read_onto_the_gpu_resumes_its_rng(tmp_path):
    torch.manual_seed(4)
    torch.randn(1, device=CUDA)
    path = save_checkpoint({"rng": capture_rng_state()}, tmp_path / "c.pt")
    expected = torch.randn(5, device=CUDA).cpu()
    restore_rng_state(load_checkpoint(path, map_location=CUDA)["rng"])
    assert torch.equal(torch.randn(5, device=CUDA).cpu(), expected)


# ------------------------------------------------------------------ no host synchronisation

def test_samplers_on_cuda_do_not_synchronise():
    x = np.random.default_rng(0).integers(0, 256, (64, 3, 8, 8), dtype=np.uint8)
    data = ImageSet(x, np.arange(64, dtype=np.int64) % 10)
    ids = np.random.default_rng(1).integers(1, 20, (400, 8)).astype(np.uint8)
    samplers = [ImageBatches(data, 8, "unit", device=CUDA), ImageBatches(data, 8, "symmetric", device=CUDA),
                toy_sampler("8gaussians", 256, device=CUDA), toy_sampler("swissroll", 256, device=CUDA),
                toy_sampler("25gaussians", 256, device=CUDA),
                TextBatches(corpus_tensor(ids, CUDA), 16, 20, seed=1)]
    for s in samplers:                     # warm-up: CUDA's and the pinned pool's first allocations
        s.next()
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(5):                  # 5 text batches of 16 of 400 lines: no new epoch
            out = [s.next() for s in samplers] + list(samplers[1].next_labeled())
            out += [b for pair in data.batches(16, "symmetric", device=CUDA, seed=2, labels=True) for b in pair]
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert all(t.device.type == "cuda" for t in out)
    cpu = ImageBatches(data, 8, "symmetric")
    for _ in range(10):                 # the warm-up batch, then next / next_labeled 4 times, then next
        expected = cpu.next()
    assert torch.equal(out[1].cpu(), expected)         # the same values as on the CPU


# ------------------------------------------------------------------ metrics leave the run's streams alone

def test_the_classifier_leaves_the_cuda_stream_and_agrees_with_the_cpu(mnist_dir):
    from textgan.metrics.classifier import predict, train_classifier
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (300, 28, 28), dtype=np.uint8), rng.integers(0, 10, 300)
    torch.cuda.manual_seed_all(11)
    torch.randn(1, device=CUDA)
    before, cpu_before = [s.clone() for s in torch.cuda.get_rng_state_all()], torch.get_rng_state()
    model = train_classifier(x, y, epochs=1)
    p_cpu, f_cpu = predict(model, x[:100])
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True     # as a CUDA run
    p_gpu, f_gpu = predict(copy.deepcopy(model).to(CUDA), x[:100])
    assert torch.backends.cudnn.allow_tf32                       # put back after the metric
    assert all(torch.equal(a, b) for a, b in zip(before, torch.cuda.get_rng_state_all()))
    assert torch.equal(cpu_before, torch.get_rng_state())
    np.testing.assert_allclose(p_gpu, p_cpu, rtol=0, atol=1e-5)
    np.testing.assert_allclose(f_gpu, f_cpu, rtol=1e-4, atol=1e-5)


def test_an_mnist_run_on_cuda_keeps_its_streams_through_evaluation(tmp_path, mnist_dir):
    """The evaluator's classifier (trained at the run's start) and the floor leave the CUDA stream
    where the run's seed put it: the first noise the run draws is that of torch.manual_seed(seed)."""
    from textgan.config import make_image_config
    from textgan.data.images import load_image_data
    from textgan.image import ImageEvaluator
    cfg = make_image_config("mnist", "small", data_dir=str(mnist_dir), eval_samples=40)
    data = load_image_data("mnist", data_dir=str(mnist_dir), progress=False)
    torch.manual_seed(1)
    expected = torch.randn(4, device=CUDA).cpu()
    torch.manual_seed(1)
    evaluator = ImageEvaluator(data, cfg, None, lambda m: None, CUDA)
    evaluator.floor(data.heldout)
    assert next(evaluator.model.parameters()).device.type == "cuda"
    assert torch.equal(torch.randn(4, device=CUDA).cpu(), expected)


def test_inception_on_cuda_agrees_with_the_cpu_without_tf32():
    import textgan.metrics.inception as inception
    torch.manual_seed(0)
    net = inception.FIDInceptionV3(input_size=75).eval()
    images = np.random.default_rng(0).integers(0, 256, (8, 3, 32, 32), dtype=np.uint8)
    pool_cpu, logits_cpu = inception.inception_features(net, images)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True     # as a CUDA run
    pool_gpu, logits_gpu = inception.inception_features(net.to(CUDA), images)
    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    # float32 on both (TF32's 10-bit products would be ~1e-3 off per layer)
    np.testing.assert_allclose(pool_gpu, pool_cpu, rtol=1e-3, atol=1e-4 * np.abs(pool_cpu).max())
    np.testing.assert_allclose(logits_gpu, logits_cpu, rtol=1e-3, atol=1e-4 * np.abs(logits_cpu).max())
