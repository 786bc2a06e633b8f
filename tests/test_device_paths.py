"""The CUDA paths' fixes that a CPU can show: checkpoints are read to the CPU whatever the device,
every objective's optimiser builds for a CUDA device, and a batch-norm generator makes each critic
step's fakes in its own call of the paper's batch."""
from __future__ import annotations

import pytest
import torch

import textgan.checkpoint as checkpoint
from textgan.config import TrainConfig, make_config
from textgan.losses import OBJECTIVES
from textgan.models.image import build_image_models
from textgan.optim import make_optimizer
from textgan.lm import TEXT
from textgan.runs import train_run
from textgan.train import Trainer, TrainerHooks


@pytest.fixture
def load_locations(monkeypatch):
    """The map_location of every checkpoint textgan reads."""
    seen = []
    real = torch.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get("map_location"))
        return real(*args, **kwargs)

    monkeypatch.setattr(checkpoint.torch, "load", spy)
    return seen


def tiny_text_config(tmp_path, **kw):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"line {i} of the tiny corpus\n" for i in range(200)), encoding="utf-8")
    return make_config("small", corpus=str(corpus), iters=4, eval_every=2, batch_size=8, dim=8,
                       seq_len=8, device="cpu", **kw)


def test_resume_reads_the_checkpoint_to_the_cpu(tmp_path, load_locations):
    cfg = tiny_text_config(tmp_path)
    train_run(TEXT, cfg, tmp_path / "run", progress=False, log=lambda *a: None)
    load_locations.clear()
    train_run(TEXT, None, tmp_path / "run", resume=True, overrides={"iters": 6}, progress=False,
              log=lambda *a: None)
    assert load_locations == ["cpu"]


def test_rollback_reads_the_checkpoint_to_the_cpu(tmp_path, load_locations):
    from test_train import make_trainer, poison
    t = make_trainer(tmp_path, iters=6, eval_every=2, on_nonfinite="rollback")
    poison(t, lambda n: n == 6)
    t.fit()
    assert t.step == 6 and load_locations and set(load_locations) == {"cpu"}


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_every_objectives_optimiser_builds_for_a_cuda_device(objective):
    cfg = make_config("paper", objective=objective).train
    param = torch.nn.Parameter(torch.zeros(3))
    opt = make_optimizer([param], cfg, torch.device("cuda"))      # built, not stepped: no GPU needed
    if cfg.optimizer == "rmsprop":
        assert isinstance(opt, torch.optim.RMSprop) and not opt.defaults.get("fused")
    else:
        assert isinstance(opt, torch.optim.Adam) and opt.defaults["fused"] is True


def test_a_batch_norm_generators_critic_fakes_are_per_step_calls_of_the_papers_batch(float64):
    torch.manual_seed(0)
    generator, critic = build_image_models("cifar-resnet", size=32, channels=3, dim=16)
    cfg = TrainConfig(iters=1, critic_iters=5, batch_size=64, gen_batch_size=128)
    trainer = Trainer(generator, critic, sampler=None, cfg=cfg, device=torch.device("cpu"),
                      hooks=TrainerHooks(log=lambda m: None, progress=False))
    torch.manual_seed(1)
    fakes, _ = trainer._fakes(5)
    torch.manual_seed(1)
    z = torch.randn(5 * 64, generator.z_dim)
    with torch.no_grad():
        per_step = torch.stack([generator(chunk) for chunk in z.split(64)])
        one_call = generator(z).view_as(per_step)
    assert fakes.shape == (5, 64, 3, 32, 32)
    torch.testing.assert_close(fakes, per_step, rtol=0, atol=1e-12)
    # the test can fail: normalising over 5 x 64 rows gives other images
    assert (one_call - per_step).abs().max() > 1e-3
