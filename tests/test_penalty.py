"""The gradient penalty against closed forms, for every input rank."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from textgan.models.toy import ToyCritic, ToyGenerator
from textgan.penalty import gradient_penalty, penalty_and_norms

pytestmark = pytest.mark.numerics

SHAPES = [(6, 5), (4, 7, 11), (3, 2, 5, 4)]   # [B, D], [B, L, V], [B, C, H, W]


class LinearCritic(nn.Module):
    """D(x) = <w, x> + b per sample: the gradient is w at every point."""

    def __init__(self, w: torch.Tensor, out_2d: bool = False):
        super().__init__()
        self.w = nn.Parameter(w.clone())
        self.b = nn.Parameter(torch.tensor(0.5))
        self.out_2d = out_2d

    def forward(self, x):
        d = (x * self.w).flatten(1).sum(1) + self.b
        return d.unsqueeze(1) if self.out_2d else d


class QuadCritic(nn.Module):
    """D(x) = sum(w * x**2) / 2 per sample: the gradient is w * x."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w.clone())

    def forward(self, x):
        return (self.w * x ** 2 / 2).flatten(1).sum(1)


def _w_with_norm(shape, norm, seed):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(shape[1:], generator=g, dtype=torch.float64)
    return w * (norm / w.norm())


def _data(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64),
            torch.randn(shape, generator=g, dtype=torch.float64))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("norm", [0.3, 1.0, 2.5, 7.0])
@pytest.mark.parametrize("out_2d", [False, True])
def test_linear_critic_closed_form(shape, norm, out_2d):
    real, fake = _data(shape)
    critic = LinearCritic(_w_with_norm(shape, norm, seed=int(norm * 10)), out_2d=out_2d)
    for weight, target in [(10.0, 1.0), (3.0, 0.5)]:
        p, norms = penalty_and_norms(critic, real, fake, weight=weight, target=target)
        assert norms.shape == (shape[0],)
        torch.testing.assert_close(norms, torch.full((shape[0],), norm, dtype=norms.dtype))
        expected = weight * (norm - target) ** 2
        assert p.item() == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_linear_critic_one_sided(shape):
    real, fake = _data(shape)
    below = LinearCritic(_w_with_norm(shape, 0.4, seed=1))
    assert gradient_penalty(below, real, fake, one_sided=True).item() == 0.0
    assert gradient_penalty(below, real, fake).item() == pytest.approx(10 * 0.6 ** 2, rel=1e-9)
    above = LinearCritic(_w_with_norm(shape, 3.0, seed=2))
    assert gradient_penalty(above, real, fake, one_sided=True).item() == pytest.approx(10 * 2.0 ** 2, rel=1e-9)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("one_sided", [False, True])
def test_per_sample_gradient_closed_form(shape, one_sided):
    real, fake = _data(shape, seed=3)
    w = _w_with_norm(shape, 4.0, seed=4)
    alpha = torch.linspace(0.0, 1.0, shape[0], dtype=torch.float64)
    p, norms = penalty_and_norms(QuadCritic(w), real, fake, weight=10.0, alpha=alpha,
                                 one_sided=one_sided)
    a = alpha.view((-1,) + (1,) * (len(shape) - 1))
    x_hat = real + a * (fake - real)
    expected_norms = (w * x_hat).flatten(1).norm(dim=1)          # by hand, per sample
    torch.testing.assert_close(norms, expected_norms.to(norms.dtype))
    assert len(set(expected_norms.round(decimals=6).tolist())) == shape[0]   # they really differ
    excess = expected_norms - 1.0
    if one_sided:
        excess = excess.clamp(min=0)
    assert p.item() == pytest.approx(10.0 * excess.pow(2).mean().item(), rel=1e-9)
    # alpha = 0 / 1 put x_hat exactly on real / fake
    _, n0 = penalty_and_norms(QuadCritic(w), real, fake, alpha=0.0)
    _, n1 = penalty_and_norms(QuadCritic(w), real, fake, alpha=1.0)
    torch.testing.assert_close(n0, (w * real).flatten(1).norm(dim=1).to(n0.dtype))
    torch.testing.assert_close(n1, (w * fake).flatten(1).norm(dim=1).to(n1.dtype))


def _port_per_axis(grad):      # the popular port: gradients.norm(2, dim=1) on [B, L, V]
    return 10 * ((grad.norm(2, dim=1) - 1) ** 2).mean()


def _batch_wide(grad):         # one norm over the whole batch
    return 10 * (grad.norm() - 1) ** 2


def test_known_bugs_give_other_values():
    shape = (4, 7, 11)
    real, fake = _data(shape, seed=5)
    w = _w_with_norm(shape, 2.0, seed=6)
    alpha = torch.tensor([0.1, 0.4, 0.7, 0.9], dtype=torch.float64)
    ours = gradient_penalty(QuadCritic(w), real, fake, alpha=alpha).item()
    grad = w * (real + alpha.view(-1, 1, 1) * (fake - real))
    right = 10 * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean().item()
    assert ours == pytest.approx(right, rel=1e-9)
    for bug in (_port_per_axis, _batch_wide):
        wrong = bug(grad).item()
        assert abs(wrong - ours) > 0.1 * abs(ours), bug.__name__
    # and with a linear critic of norm 1 the right penalty is 0 but the per-axis one is not
    lin = LinearCritic(_w_with_norm(shape, 1.0, seed=7))
    assert gradient_penalty(lin, real, fake).item() == pytest.approx(0.0, abs=1e-12)
    assert _port_per_axis(lin.w.detach().expand(shape)).item() > 1.0


class _Recorder(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner, self.seen = inner, None

    def forward(self, x):
        self.seen = x.detach().clone()
        return self.inner(x)


@pytest.mark.parametrize("shape", SHAPES)
def test_random_alpha_is_one_per_sample(shape):
    torch.manual_seed(0)
    real, fake = _data((64,) + shape[1:], seed=8)
    rec = _Recorder(LinearCritic(_w_with_norm(real.shape, 1.0, seed=9)))
    gradient_penalty(rec, real, fake)
    ratio = ((rec.seen - real) / (fake - real)).flatten(1)
    per_sample = ratio[:, :1]
    torch.testing.assert_close(ratio, per_sample.expand_as(ratio))   # constant within a sample
    assert per_sample.min() >= 0 and per_sample.max() <= 1
    assert per_sample.unique().numel() == 64                         # different between samples


def test_seeded_penalty_is_reproducible():
    real, fake = _data((5, 3, 4), seed=10)
    critic = QuadCritic(_w_with_norm(real.shape, 3.0, seed=11))
    torch.manual_seed(123)
    a = gradient_penalty(critic, real, fake)
    torch.manual_seed(123)
    b = gradient_penalty(critic, real, fake)
    assert a.item() == b.item()


@pytest.mark.parametrize("path", ["input_grad", "double backward"])
def test_differentiable_wrt_critic_not_generator(path):
    torch.manual_seed(0)
    gen, critic = ToyGenerator(data_dim=3, z_dim=4, dim=64), ToyCritic(data_dim=3, dim=64)
    real = torch.randn(16, 3)
    fake = gen(torch.randn(16, 4))
    assert fake.requires_grad
    # the toy critic's own input gradient, or autograd's (a plain function has no input_grad)
    p = gradient_penalty(critic if path == "input_grad" else (lambda x: critic(x)), real, fake)
    p.backward()
    grads = {n: q.grad for n, q in critic.named_parameters()}
    # The last bias shifts D but not its input gradient, so the penalty ignores it; in a ReLU
    # net the input gradient is piecewise constant in the other biases, so theirs are 0 (double
    # backward) or absent (the analytic input gradient never uses them).
    assert grads.pop("net.6.bias") is None
    biases = [g for n, g in grads.items() if n.endswith("bias")]
    assert all(g is None or not g.any() for g in biases)
    weights = [g for n, g in grads.items() if n.endswith("weight")]
    assert len(weights) == 4 and all(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0
                                     for g in weights)
    assert all(q.grad is None for q in gen.parameters())


def test_gradient_of_penalty_matches_closed_form():
    # d/dw [10 (||w|| - 1)^2] = 20 (||w|| - 1) w / ||w||  for the linear critic
    shape = (4, 3, 5)
    real, fake = _data(shape, seed=12)
    w = _w_with_norm(shape, 2.5, seed=13)
    critic = LinearCritic(w)
    gradient_penalty(critic, real, fake).backward()
    torch.testing.assert_close(critic.w.grad, 20 * (2.5 - 1) * w / 2.5)
    assert critic.b.grad is None      # the penalty does not depend on the bias


def test_zero_gradient_gives_finite_penalty_gradient():
    critic = LinearCritic(torch.zeros(3, 4, dtype=torch.float64))
    real, fake = _data((2, 3, 4))
    p = gradient_penalty(critic, real, fake)
    p.backward()
    assert p.item() == 10.0
    assert torch.isfinite(critic.w.grad).all()


def test_bad_inputs_raise():
    critic = LinearCritic(torch.ones(4, dtype=torch.float64))
    real, fake = _data((3, 4))
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(critic, real, fake[:2])
    with pytest.raises(ValueError, match="one value per sample"):
        gradient_penalty(critic, real, fake, alpha=torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="floating"):
        gradient_penalty(critic, real.long(), fake.long())
    wide = nn.Linear(4, 2).double()
    with pytest.raises(ValueError, match=r"\[B\] or \[B, 1\]"):
        gradient_penalty(wide, real, fake)
