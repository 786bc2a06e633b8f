"""The paper's comparisons in the loop: objectives against hand computations, clipping, RMSProp state,
learning-rate decay, the generator batch, AC-GAN terms and the held-out critic estimate."""
import copy
import math

import pytest
import torch
from rounding import sum_bound
from torch import nn

from textgan.config import TrainConfig, make_config, objective_settings
from textgan.presets import preset_names
from textgan.errors import ConfigError
from textgan.losses import (gan_discriminator_loss, gan_generator_loss, objective_critic_loss,
                            objective_generator_loss)
from textgan.penalty import penalty_and_norms
from textgan.train import Trainer, TrainerHooks


class Batches:
    """N(3, 1) in 2-D, optionally with labels; counts its draws."""

    def __init__(self, batch=16, seed=0, n_classes=0):
        self.batch, self.seed, self.n_classes, self.draws = batch, seed, n_classes, 0
        self.g = torch.Generator().manual_seed(seed)

    def next(self):
        self.draws += 1
        return torch.randn(self.batch, 2, generator=self.g) + 3.0

    def next_labeled(self):
        x = self.next()
        return x, (x[:, 0] > 3.0).long()

    def state_dict(self):
        return {"seed": self.seed, "draws": self.draws}

    def load_state_dict(self, state):
        self.__init__(self.batch, state["seed"], self.n_classes)
        for _ in range(state["draws"]):
            self.next()


class MLP(nn.Module):
    """A small 2-D generator (z_dim 2) or critic (scores [B])."""

    def __init__(self, out=2, hidden=16):
        super().__init__()
        self.z_dim = 2
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, out))

    def forward(self, x):
        y = self.net(x)
        return y.squeeze(1) if y.shape[1] == 1 else y


def trainer(tmp_path=None, sampler=None, G=None, D=None, heldout=None, **kw):
    torch.manual_seed(0)
    settings = dict(iters=4, critic_iters=2, batch_size=16, eval_every=2, lr=1e-3)
    settings.update(kw)
    cfg = TrainConfig(**settings)
    return Trainer(G or MLP(2), D or MLP(1), sampler or Batches(), cfg,
                   torch.device("cpu"), run_dir=tmp_path, heldout=heldout,
                   hooks=TrainerHooks(log=lambda m: None, progress=False))


# ---------------------------------------------------------------- losses by hand
@pytest.mark.numerics
def test_objective_losses_on_hand_values():
    d_real, d_fake = torch.tensor([0.0, 2.0]), torch.tensor([-1.0, 1.0])
    sp = lambda x: math.log1p(math.exp(x))       # noqa: E731  softplus
    want_d = (sp(-0.0) + sp(-2.0)) / 2 + (sp(-1.0) + sp(1.0)) / 2
    assert gan_discriminator_loss(d_real, d_fake).item() == pytest.approx(want_d)
    assert objective_critic_loss("gan", d_real, d_fake, 123.0).item() == pytest.approx(want_d)
    # non-saturating: -log sigmoid(D(fake))
    want_g = (-math.log(1 / (1 + math.exp(1.0))) - math.log(1 / (1 + math.exp(-1.0)))) / 2
    assert gan_generator_loss(d_fake).item() == pytest.approx(want_g)
    assert objective_generator_loss("gan", d_fake).item() == pytest.approx(want_g)
    # Wasserstein objectives: E[D(fake)] - E[D(real)] (+ penalty only where there is one)
    assert objective_critic_loss("wgan-gp", d_real, d_fake, 0.5).item() == pytest.approx(0 - 1 + 0.5)
    assert objective_critic_loss("wgan-gp-one-sided", d_real, d_fake, 0.5).item() == pytest.approx(-0.5)
    assert objective_critic_loss("wgan-clip", d_real, d_fake, 0.5).item() == pytest.approx(-1.0)
    assert objective_generator_loss("wgan-clip", d_fake).item() == pytest.approx(0.0)
    with pytest.raises(ValueError, match="unknown objective"):
        objective_critic_loss("lsgan", d_real, d_fake)


@pytest.mark.numerics
def test_one_sided_penalty_is_zero_below_one_and_two_sided_above():
    # critic D(x) = s * sum(x): its input gradient has norm s * sqrt(D) for every sample
    real, fake = torch.randn(8, 4), torch.randn(8, 4)
    for s, below in ((0.3, True), (0.9, True), (1.7, False)):
        critic = lambda x, s=s: s * x.sum(1)   # noqa: E731
        one, norms = penalty_and_norms(critic, real, fake, weight=10.0, one_sided=True)
        two, _ = penalty_and_norms(critic, real, fake, weight=10.0)
        norm = s * 2.0
        assert norms == pytest.approx(torch.full((8,), norm))
        if norm < 1:
            assert one.item() == 0.0 and two.item() == pytest.approx(10 * (norm - 1) ** 2)
        else:
            assert one.item() == pytest.approx(two.item()) and two.item() == pytest.approx(10 * (norm - 1) ** 2)


# ---------------------------------------------------------------- settings per objective
def test_objective_settings_are_the_papers_and_explicit_options_win():
    clip = make_config("paper", objective="wgan-clip")
    assert (clip.train.optimizer, clip.train.lr, clip.train.critic_iters, clip.train.clip_value) == \
        ("rmsprop", 5e-5, 5, 0.01)
    gan = make_config("paper", objective="gan")
    assert (gan.train.optimizer, gan.train.lr, gan.train.beta1, gan.train.beta2, gan.train.critic_iters) == \
        ("adam", 2e-4, 0.5, 0.999, 1)
    assert make_config("paper", objective="wgan-clip", lr=1e-3).train.lr == 1e-3
    one_sided = make_config("paper", objective="wgan-gp-one-sided")
    paper = make_config("paper")
    assert one_sided.train.objective == "wgan-gp-one-sided"
    assert {k: v for k, v in vars(one_sided.train).items() if k != "objective"} == \
        {k: v for k, v in vars(paper.train).items() if k != "objective"}
    assert set(preset_names("objective")) == {"wgan-gp", "wgan-gp-one-sided", "wgan-clip", "gan", "mle"}
    with pytest.raises(ConfigError, match="objective"):
        make_config("paper", objective="lsgan")


# ---------------------------------------------------------------- the loop
def test_clipping_bounds_every_critic_weight_after_each_step():
    t = trainer(objective="wgan-clip", optimizer="rmsprop", lr=0.05, clip_value=0.01)
    assert max(p.abs().max().item() for p in t.D.parameters()) > 0.01      # the init is not clipped
    t.critic_step()
    assert all(p.abs().max().item() <= 0.01 for p in t.D.parameters())
    assert isinstance(t.opt_d, torch.optim.RMSprop) and t.opt_d.defaults["alpha"] == 0.9
    t.iteration()
    assert all(p.abs().max().item() <= 0.01 for p in t.D.parameters())
    stats = t.read_stats()
    assert stats["penalty"] is None and stats["grad_norm"] is None   # not computed without a penalty


@pytest.mark.numerics
@pytest.mark.parametrize("objective", ["wgan-clip", "gan", "wgan-gp-one-sided"])
def test_every_objective_trains_and_resumes_bit_identically(tmp_path, objective):
    settings = dict(objective_settings(objective), objective=objective, lr=1e-3)
    full = trainer(tmp_path / "full", iters=6, **settings)
    full.fit()
    half = trainer(tmp_path / "half", iters=3, **settings)
    half.fit()
    resumed = trainer(tmp_path / "half", iters=6, **settings)
    resumed.rollback()                    # loads the newest checkpoint: step 3
    assert resumed.step == 3
    if objective == "wgan-clip":          # RMSProp's squared averages come back exactly
        for a, b in zip(half.opt_d.state_dict()["state"].values(),
                        resumed.opt_d.state_dict()["state"].values()):
            assert torch.equal(a["square_avg"], b["square_avg"])
    resumed.fit()
    for a, b in zip(full.D.state_dict().values(), resumed.D.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(full.G.state_dict().values(), resumed.G.state_dict().values()):
        assert torch.equal(a, b)


def test_linear_decay_and_critic_learning_rate():
    t = trainer(iters=4, lr=1e-3, critic_lr=4e-3, lr_decay="linear")
    assert t.opt_d.param_groups[0]["lr"] == 4e-3
    seen = []
    for _ in range(4):
        t.iteration()
        seen.append((t.opt_g.param_groups[0]["lr"], t.opt_d.param_groups[0]["lr"]))
    # the rate used at iteration i (0-based) is base * (1 - i / iters)
    assert seen == [pytest.approx((1e-3 * f, 4e-3 * f)) for f in (1.0, 0.75, 0.5, 0.25)]


def test_generator_step_uses_its_own_batch_size():
    calls = []
    G = MLP(2, 8)
    G.register_forward_hook(lambda m, args, out: calls.append(out.shape[0]))
    t = trainer(G=G, gen_batch_size=32, critic_iters=3)
    t.iteration()
    assert calls == [3 * 16, 32]          # one call for all critic steps' fakes, then the generator's


class CondG(nn.Module):
    n_classes, z_dim = 2, 2

    def __init__(self):
        super().__init__()
        self.net, self.emb = nn.Linear(2, 2), nn.Embedding(2, 2)

    def forward(self, z, labels):
        return self.net(z) + self.emb(labels)


class CondD(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.score, self.cls = nn.Linear(2, 8), nn.Linear(8, 1), nn.Linear(8, 2)

    def forward(self, x, with_logits=False):
        h = torch.relu(self.body(x))
        s = self.score(h).squeeze(1)
        return (s, self.cls(h)) if with_logits else s


def test_acgan_terms_reach_the_class_heads():
    t = trainer(G=CondG(), D=CondD(), sampler=Batches(n_classes=2))
    before = [p.detach().clone() for p in t.D.cls.parameters()]
    emb = t.G.emb.weight.detach().clone()
    t.iteration()
    assert any(not torch.equal(a, b) for a, b in zip(before, t.D.cls.parameters()))
    assert not torch.equal(emb, t.G.emb.weight)      # the generator learns from its class term
    # without the AC-GAN weights the class head gets no gradient at all
    t2 = trainer(G=CondG(), D=CondD(), sampler=Batches(n_classes=2), acgan_critic_weight=0.0,
                 acgan_generator_weight=0.0)
    before = [p.detach().clone() for p in t2.D.cls.parameters()]
    t2.iteration()
    assert all(torch.equal(a, b) for a, b in zip(before, t2.D.cls.parameters()))


@pytest.mark.numerics
def test_heldout_estimate_uses_no_training_batch_and_fixed_noise(tmp_path):
    held = [torch.full((5, 2), 10.0), torch.full((3, 2), 10.0)]
    t = trainer(tmp_path, heldout=held)
    draws = t.sampler.draws
    rng = torch.get_rng_state()
    first = t.heldout_estimate()
    assert t.sampler.draws == draws and torch.equal(torch.get_rng_state(), rng)
    assert t.heldout_estimate() == first                       # the same fixed noise every time
    # by hand, in float64: the critic's mean on the held-out set minus its mean on generated points;
    # the Trainer's float32 value is within the rounding of G and D (two layers each, 16 wide)
    g = torch.Generator().manual_seed(t.cfg.seed * 104_729 + 17)
    z = torch.cat([torch.randn(5, 2, generator=g), torch.randn(3, 2, generator=g)]).double()
    G64, D64 = copy.deepcopy(t.G).double(), copy.deepcopy(t.D).double()
    d_real, d_fake = D64(torch.cat(held).double()), D64(G64(z))
    want = (d_real.mean() - d_fake.mean()).item()
    assert abs(first - want) <= sum_bound(16, (d_real.abs().mean() + d_fake.abs().mean()).item(), layers=4)
    t.fit()
    import json
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert all("wasserstein_heldout" in r and "wasserstein" in r for r in records)
