"""The fast training paths keep the maths: a plain WGAN-GP loop (three critic passes, one-hot real,
autograd's double backward for the penalty, direct convolutions) and the Trainer give the same
losses and weights, with either convolution implementation."""
import math

import pytest
import torch
import torch.nn.functional as F

from textgan.config import TrainConfig
from textgan.lm import TextBatches
from textgan.models.text import Critic, Generator
from textgan.train import Trainer, TrainerHooks

V, L, DIM, B, K, Z = 7, 8, 16, 8, 3, 12


def _setup(precision="fp32", conv="direct"):
    torch.manual_seed(0)
    ids = torch.randint(0, V, (40, L), generator=torch.Generator().manual_seed(5))
    gen = Generator(V, dim=DIM, seq_len=L, n_blocks=2, z_dim=Z, conv=conv)
    critic = Critic(V, dim=DIM, seq_len=L, n_blocks=2, conv=conv)
    cfg = TrainConfig(iters=10, critic_iters=K, batch_size=B, lr=1e-3, precision=precision)
    return Trainer(gen, critic, TextBatches(ids, B, V, seed=3), cfg, torch.device("cpu"),
                   hooks=TrainerHooks(log=lambda m: None, progress=False))


def _plain_iteration(G, D, opt_g, opt_d, sampler):
    """The reference_lm.py loop, drawing noise in the Trainer's order (all critic steps' z first)."""
    z = torch.randn(K * B, Z)
    c_losses = []
    for i in range(K):
        real = F.one_hot(sampler.next_ids(), V).to(torch.get_default_dtype())
        with torch.no_grad():
            fake = G(z[i * B:(i + 1) * B])
        d_real, d_fake = D(real).mean(), D(fake).mean()
        alpha = torch.rand(B, 1, 1)
        x = (real + alpha * (fake - real)).requires_grad_(True)
        (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
        gp = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
        loss = d_fake - d_real + 10.0 * gp
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        c_losses.append(loss.item())
    for p in D.parameters():
        p.requires_grad_(False)
    g_loss = -D(G(torch.randn(B, Z))).mean()
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    for p in D.parameters():
        p.requires_grad_(True)
    return sum(c_losses) / K, g_loss.item()


def _curves(conv, iters=10):
    """(fast, plain) loss curves [iters, 2] and the two trainers, from the same seeds."""
    fast = _setup(conv=conv)
    plain = _setup()     # same seed: same initial weights, same corpus order; direct convolutions
    opts = [torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.9)) for net in (plain.G, plain.D)]
    torch.manual_seed(42)
    fast_curve = []
    for _ in range(iters):
        fast.iteration()
        s = fast.read_stats()
        fast_curve.append((s["critic_loss"], s["generator_loss"]))
    torch.manual_seed(42)
    plain_curve = [_plain_iteration(plain.G, plain.D, *opts, plain.sampler) for _ in range(iters)]
    return torch.tensor(fast_curve), torch.tensor(plain_curve), fast, plain


def _assert_same_weights(fast, plain, rtol, atol):
    for a, b in zip(list(fast.G.parameters()) + list(fast.D.parameters()),
                    list(plain.G.parameters()) + list(plain.D.parameters())):
        torch.testing.assert_close(a, b, rtol=rtol, atol=atol)
    assert fast.sampler.state_dict() == plain.sampler.state_dict()


def test_fast_path_matches_plain_loop():
    fast_curve, plain_curve, fast, plain = _curves("direct")
    torch.testing.assert_close(fast_curve, plain_curve, rtol=1e-4, atol=1e-4)
    _assert_same_weights(fast, plain, rtol=1e-4, atol=1e-5)


@pytest.fixture
def float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.mark.parametrize("conv", ["direct", "winograd"])
def test_fast_paths_are_the_plain_loop_in_float64(conv, float64):
    """In float64 rounding is out of the way: both convolution paths are the plain loop's maths."""
    fast_curve, plain_curve, fast, plain = _curves(conv)
    assert fast_curve.dtype == torch.float64 and next(fast.D.parameters()).dtype == torch.float64
    torch.testing.assert_close(fast_curve, plain_curve, rtol=1e-7, atol=1e-7)
    _assert_same_weights(fast, plain, rtol=1e-7, atol=1e-8)


def test_winograd_float32_curve_stays_with_the_plain_loop():
    """Winograd rounds differently (relative ~1e-6 per convolution); Adam turns such differences on
    parameters whose gradient is rounding noise (e.g. the last bias, where real and fake cancel) into
    full-size steps, so the curves drift apart slowly: at most 1.2e-3 in 10 iterations here, on
    losses of 0.1 to 3 (the float64 test above shows the maths are the same)."""
    fast_curve, plain_curve, _, _ = _curves("winograd")
    assert abs(fast_curve[0, 0] - plain_curve[0, 0]) < 1e-4       # first critic steps
    torch.testing.assert_close(fast_curve, plain_curve, rtol=0, atol=5e-3)


def test_critic_input_grad_is_autograd_double_backward():
    torch.manual_seed(1)
    D = Critic(V, dim=DIM, seq_len=L, n_blocks=3).double()
    for p in D.parameters():            # non-zero biases so every mask pattern matters
        p.data.normal_(0, 0.3)
    x = torch.softmax(torch.randn(5, L, V, dtype=torch.float64), -1).requires_grad_(True)
    (ref,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    ours = D.input_grad(x.detach())
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    params = list(D.parameters())
    loss_ref = (ref.flatten(1).norm(dim=1) - 1).pow(2).mean()
    loss_ours = (ours.flatten(1).norm(dim=1) - 1).pow(2).mean()
    g_ref = torch.autograd.grad(loss_ref, params, allow_unused=True)
    g_ours = torch.autograd.grad(loss_ours, params, allow_unused=True)
    for a, b in zip(g_ref, g_ours):
        if b is None:        # biases: the penalty does not depend on them (autograd says zero)
            assert a is None or not a.any()
        else:
            torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12)


def test_one_hot_batches_on_device_match_f_one_hot():
    ids = torch.randint(0, V, (20, L), generator=torch.Generator().manual_seed(2))
    a, b = TextBatches(ids, 4, V, seed=9), TextBatches(ids, 4, V, seed=9)
    for _ in range(7):                  # crosses an epoch boundary
        x = a.next()
        assert x.dtype == torch.float32 and torch.equal(x, F.one_hot(b.next_ids(), V).float())


def test_bf16_autocast_trains_with_finite_float32_statistics():
    t = _setup("bf16")
    before = [p.detach().clone() for p in t.D.parameters()]
    for _ in range(2):
        t.iteration()
    stats = t.read_stats()
    assert all(math.isfinite(v) for v in stats.values())
    assert all(p.dtype == torch.float32 for p in t.D.parameters())
    assert any(not torch.equal(a, p) for a, p in zip(before, t.D.parameters()))
