"""The modality-free loop on toy [B, D] data: schedule, parameters touched, logging, faults."""
import json
import math

import pytest
import torch

from textgan.checkpoint import list_checkpoints, load_checkpoint
from textgan.config import TrainConfig
from textgan.errors import NonFiniteError
from textgan.models.toy import ToyCritic, ToyGenerator
from textgan.train import Trainer, TrainerHooks


class GaussianBatches:
    """Real data: N(3, 1) in 2-D from a private generator (state = draws so far)."""

    def __init__(self, batch=16, seed=0):
        self.batch, self.seed, self.draws = batch, seed, 0
        self.g = torch.Generator().manual_seed(seed)

    def next(self):
        self.draws += 1
        return torch.randn(self.batch, 2, generator=self.g) + 3.0

    def state_dict(self):
        return {"seed": self.seed, "draws": self.draws}

    def load_state_dict(self, state):
        self.__init__(self.batch, state["seed"])
        for _ in range(state["draws"]):
            self.next()


def make_trainer(tmp_path=None, iters=6, eval_every=3, **kw):
    torch.manual_seed(0)
    cfg = TrainConfig(iters=iters, critic_iters=2, batch_size=16, eval_every=eval_every, lr=1e-3, **kw)
    return Trainer(ToyGenerator(z_dim=8, dim=64), ToyCritic(dim=64), GaussianBatches(), cfg, torch.device("cpu"),
                   run_dir=tmp_path, hooks=TrainerHooks(log=lambda m: None, progress=False))


def params(module):
    return [p.detach().clone() for p in module.parameters()]


def changed(before, module):
    return [not torch.equal(a, b) for a, b in zip(before, module.parameters())]


@pytest.mark.numerics
def test_critic_step_changes_only_critic():
    t = make_trainer()
    g0, d0 = params(t.G), params(t.D)
    t.critic_step()
    # every critic weight moves except the output bias: the WGAN loss is invariant to a constant shift
    # of D, so that bias gets an exactly zero gradient
    assert changed(d0, t.D) == [True] * 7 + [False] and not any(changed(g0, t.G))
    stats = t.read_stats()
    assert all(math.isfinite(stats[k]) for k in ("critic_loss", "wasserstein", "penalty", "grad_norm"))
    assert stats["penalty"] >= 0


def test_generator_step_changes_only_generator():
    t = make_trainer()
    g0, d0 = params(t.G), params(t.D)
    t.generator_step()
    assert all(changed(g0, t.G)) and not any(changed(d0, t.D))
    assert all(p.requires_grad for p in t.D.parameters())  # critic unfrozen again
    assert math.isfinite(t.read_stats()["generator_loss"])


def test_iteration_schedule_counts_steps():
    t = make_trainer()
    t.iteration()
    assert t.step == 1 and t.stats.critic_count == 2 and t.stats.gen_count == 1
    assert t.sampler.draws == 2  # one real batch per critic step


def test_fit_logs_and_checkpoints(tmp_path):
    t = make_trainer(tmp_path, iters=7, eval_every=3)
    t.fit()
    records = [json.loads(l) for l in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [3, 6, 7]
    for r in records:
        for key in ("time", "critic_loss", "generator_loss", "wasserstein", "penalty", "grad_norm"):
            assert math.isfinite(r[key])
    steps = [s for s, _ in list_checkpoints(tmp_path / "checkpoints")]
    assert steps == [3, 6, 7]
    state = load_checkpoint(tmp_path / "checkpoints" / "ckpt-00000007.pt")
    assert state["step"] == 7 and state["sampler"]["draws"] == 14
    assert {"generator", "critic", "opt_g", "opt_d", "rng", "format_version"} <= set(state)


def test_keeps_last_k_checkpoints(tmp_path):
    t = make_trainer(tmp_path, iters=10, eval_every=2, keep_checkpoints=2)
    t.fit()
    assert [s for s, _ in list_checkpoints(tmp_path / "checkpoints")] == [8, 10]


@pytest.mark.numerics
def test_resume_is_bit_identical(tmp_path):
    straight = make_trainer(tmp_path / "a", iters=8, eval_every=2)
    straight.fit()
    first = make_trainer(tmp_path / "b", iters=4, eval_every=2)
    first.fit()
    second = make_trainer(tmp_path / "b", iters=8, eval_every=2)
    state = load_checkpoint(tmp_path / "b" / "checkpoints" / "ckpt-00000004.pt")
    torch.manual_seed(123)  # a different global state must not matter: the checkpoint restores it
    second.load_state_dict(state)
    second.fit()
    for a, b in zip(list(straight.G.parameters()) + list(straight.D.parameters()),
                    list(second.G.parameters()) + list(second.D.parameters())):
        assert torch.equal(a, b)
    sa, sb = straight.opt_d.state_dict()["state"], second.opt_d.state_dict()["state"]
    assert all(torch.equal(sa[k]["exp_avg_sq"], sb[k]["exp_avg_sq"]) for k in sa)


def poison(trainer, bad_call):
    """Make the sampler's real batches NaN on the calls where bad_call(n) is true (n counts from 1)."""
    original, calls = trainer.sampler.next, {"n": 0}

    def poisoned():
        calls["n"] += 1
        batch = original()
        return batch * float("nan") if bad_call(calls["n"]) else batch

    trainer.sampler.next = poisoned


def test_nonfinite_stops_with_step_and_quantity(tmp_path):
    t = make_trainer(tmp_path, iters=6, eval_every=2)
    poison(t, lambda n: n > 5)  # NaN from iteration 3 on
    with pytest.raises(NonFiniteError, match=r"non-finite .*critic_loss.* up to step 4"):
        t.fit()
    # the last good checkpoint (step 2) is intact and finite
    good = load_checkpoint(tmp_path / "checkpoints" / "ckpt-00000002.pt")
    assert all(torch.isfinite(v).all() for v in good["critic"].values())
    assert [s for s, _ in list_checkpoints(tmp_path / "checkpoints")] == [2]


def test_nonfinite_rollback_recovers(tmp_path):
    t = make_trainer(tmp_path, iters=6, eval_every=2, on_nonfinite="rollback")
    poison(t, lambda n: n == 6)  # one bad batch, in iteration 3
    t.fit()
    assert t.step == 6
    assert all(torch.isfinite(p).all() for p in t.D.parameters())


def test_checkpoint_between_logs_is_never_saved_non_finite(tmp_path):
    t = make_trainer(tmp_path, iters=6, eval_every=6, checkpoint_every=2)
    poison(t, lambda n: n > 4)  # NaN from iteration 3 on
    with pytest.raises(NonFiniteError, match="parameters"):
        t.fit()
    assert [s for s, _ in list_checkpoints(tmp_path / "checkpoints")] == [2]


# ---------------------------------------------------------------- --ema: the generator's weight average
@pytest.mark.numerics
def test_weight_average_follows_its_recurrence(float64):
    """avg_0 = initial weights; after update t: avg += (1 - min(decay, (1+t)/(10+t))) * (w_t - avg)."""
    decay = 0.9
    t = make_trainer(ema=decay)
    expected = params(t.G)
    for step in range(25):                      # past step 80 the warm-up would end; 25 covers its rise
        t.iteration()
        d = min(decay, (1 + step) / (10 + step))
        expected = [a + (1 - d) * (w.detach() - a) for a, w in zip(expected, t.G.parameters())]
    got = list(t.average.net.parameters())
    assert all(torch.allclose(a, b, rtol=0, atol=1e-12) for a, b in zip(expected, got))
    assert not any(p.requires_grad for p in got)
    assert t.sampling_generator is t.average.net
    assert not any(torch.equal(a, w) for a, w in zip(got, t.G.parameters()))


def test_weight_average_decay_reaches_its_setting():
    t = make_trainer(ema=0.999)
    assert t.average.decay_at(0) == pytest.approx(0.1)
    assert t.average.decay_at(100) == pytest.approx(101 / 110)
    assert t.average.decay_at(10**6) == 0.999


def test_no_average_without_ema(tmp_path):
    t = make_trainer(tmp_path, iters=2, eval_every=2)
    t.fit()
    assert t.average is None and t.sampling_generator is t.G
    assert "generator_avg" not in load_checkpoint(tmp_path / "checkpoints" / "ckpt-00000002.pt")


def test_evaluator_and_checkpoint_see_the_average(tmp_path):
    seen = []
    t = make_trainer(tmp_path, iters=4, eval_every=2, ema=0.99)
    t.evaluator = lambda generator, step: seen.append(generator) or {}
    t.fit()
    assert seen == [t.average.net, t.average.net]
    state = load_checkpoint(tmp_path / "checkpoints" / "ckpt-00000004.pt")
    for k, v in t.average.net.state_dict().items():
        assert torch.equal(state["generator_avg"][k], v)
        assert not torch.equal(state["generator"][k], v)


@pytest.mark.numerics
def test_resume_restores_the_average_exactly(tmp_path):
    straight = make_trainer(tmp_path / "a", iters=8, eval_every=2, ema=0.99)
    straight.fit()
    make_trainer(tmp_path / "b", iters=4, eval_every=2, ema=0.99).fit()
    second = make_trainer(tmp_path / "b", iters=8, eval_every=2, ema=0.99)
    second.load_state_dict(load_checkpoint(tmp_path / "b" / "checkpoints" / "ckpt-00000004.pt"))
    second.fit()
    for a, b in zip(straight.average.net.parameters(), second.average.net.parameters()):
        assert torch.equal(a, b)


def test_average_starts_from_the_weights_when_the_checkpoint_has_none(tmp_path):
    make_trainer(tmp_path, iters=2, eval_every=2).fit()             # a run without --ema
    t = make_trainer(tmp_path, iters=4, eval_every=2, ema=0.99)
    t.load_state_dict(load_checkpoint(tmp_path / "checkpoints" / "ckpt-00000002.pt"))
    for a, b in zip(t.average.net.parameters(), t.G.parameters()):
        assert torch.equal(a, b)
