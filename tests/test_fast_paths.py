"""The fast training paths keep the maths: a plain WGAN-GP loop (three critic passes, one-hot real,
autograd's double backward for the penalty, direct convolutions) and the Trainer give the same
losses and weights, with either convolution implementation: exactly (to 1e-7 over ten iterations) in
float64, to float32 rounding in float32."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from rounding import sum_bound, winograd_amplification

from textgan.config import TrainConfig
from textgan.lm import TextBatches
from textgan.models.text import Critic, Generator
from textgan.train import Trainer, TrainerHooks

pytestmark = pytest.mark.numerics

V, L, DIM, B, K, Z = 7, 8, 16, 8, 3, 12
N_BLOCKS = 2
# One float32 iteration's rounding, relative to the size of its losses: a critic score passes
# 2 + 2 * N_BLOCKS layers whose widest sum has L * DIM terms (the output Linear; a convolution sums
# 5 * DIM), and the penalty runs the same chain backwards once more.
REL32 = sum_bound(L * DIM, 1.0, layers=2 * (2 + 2 * N_BLOCKS))      # 1.6e-5


def _setup(precision="fp32", conv="direct"):
    torch.manual_seed(0)
    ids = torch.randint(0, V, (40, L), generator=torch.Generator().manual_seed(5))
    gen = Generator(V, dim=DIM, seq_len=L, n_blocks=N_BLOCKS, z_dim=Z, conv=conv)
    critic = Critic(V, dim=DIM, seq_len=L, n_blocks=N_BLOCKS, conv=conv)
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


def _constant_part(D):
    """The part of D(x) that is the same for every x: the output bias, and the last block's second
    bias seen through the output Linear (nothing nonlinear follows it)."""
    w = D.out.weight.view(DIM, L)
    return (D.out.bias + 0.3 * (w.sum(1) * D.blocks[-1].conv2.bias).sum()).item()


def _constant_parameters(D):
    return [D.out.bias, D.blocks[-1].conv2.bias]


def _sync(fast, plain, opts):
    """The plain loop takes the Trainer's state: weights, Adam moments and step, corpus position."""
    plain.G.load_state_dict(fast.G.state_dict())
    plain.D.load_state_dict(fast.D.state_dict())
    for src, dst in zip((fast.opt_g, fast.opt_d), opts):
        state = copy.deepcopy(src.state_dict())     # load_state_dict would share the moment tensors
        state["param_groups"] = dst.state_dict()["param_groups"]   # keep the plain loop's Adam
        dst.load_state_dict(state)
    plain.sampler.load_state_dict(fast.sampler.state_dict())


def _step_curves(conv, iters=10, after_each=None):
    """Ten iterations of the Trainer, each also run by the plain loop from the Trainer's state.

    Float32 training is chaotic: the WGAN loss determines D only up to a constant, so the two
    parameters that shift D by a constant (`_constant_parameters`) have a gradient that is exactly 0
    in real arithmetic and rounding noise in float32, whose sign depends on how a kernel orders its
    sums (real and fake in one batch here, two batches in the plain loop); the same holds for the
    weights of dead ReLU units under Winograd, whose transformed sums do not cancel to exact zeros.
    Adam normalises each gradient, so noise of 1e-9 moves such a weight by up to lr = 1e-3 per step,
    and free-running curves drift apart by 1e-3 within ten iterations on some CPUs and not on others.
    Starting both loops from the same state every iteration keeps each row to that iteration's own
    rounding. Rows: (critic loss, generator loss + D's constant part); the critic loss is invariant
    to the constant, the generator loss is compared without it."""
    fast, plain = _setup(conv=conv), _setup()
    opts = [torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.9)) for net in (plain.G, plain.D)]
    fast_rows, plain_rows = [], []
    for i in range(iters):
        _sync(fast, plain, opts)
        torch.manual_seed(100 + i)
        fast.iteration()
        s = fast.read_stats()
        fast_rows.append((s["critic_loss"], s["generator_loss"] + _constant_part(fast.D)))
        torch.manual_seed(100 + i)
        c_loss, g_loss = _plain_iteration(plain.G, plain.D, *opts, plain.sampler)
        plain_rows.append((c_loss, g_loss + _constant_part(plain.D)))
        if after_each is not None:
            after_each(fast, plain)
    return torch.tensor(fast_rows, dtype=torch.float64), torch.tensor(plain_rows, dtype=torch.float64)


def test_fast_path_matches_plain_loop():
    """Float32, direct convolutions: each iteration's losses agree to its rounding (REL32 times the
    size of the losses), and so do the weights it leaves (REL32 relative, and absolute at the size of
    each tensor), but for D's constant part, which only the generator loss sees."""
    def same_weights(fast, plain):
        skip = {id(p) for p in _constant_parameters(fast.D)}
        for a, b in zip(list(fast.G.parameters()) + list(fast.D.parameters()),
                        list(plain.G.parameters()) + list(plain.D.parameters())):
            if id(a) not in skip:
                torch.testing.assert_close(a, b, rtol=REL32, atol=REL32 * b.abs().max().item())
        assert fast.sampler.state_dict() == plain.sampler.state_dict()

    fast_curve, plain_curve = _step_curves("direct", after_each=same_weights)
    scale = plain_curve.abs().max().item()
    torch.testing.assert_close(fast_curve, plain_curve, rtol=0, atol=REL32 * scale)


def test_constant_part_is_what_shifts_every_score():
    """What `_constant_part` removes is exactly D's input-independent part (float64)."""
    torch.manual_seed(3)
    D = Critic(V, dim=DIM, seq_len=L, n_blocks=N_BLOCKS).double()
    x = torch.softmax(torch.randn(6, L, V, dtype=torch.float64), -1)
    before, c0 = D(x), _constant_part(D)
    with torch.no_grad():
        for p in _constant_parameters(D):
            p.add_(torch.randn_like(p))
    shift = D(x) - before
    torch.testing.assert_close(shift, torch.full_like(shift, _constant_part(D) - c0), rtol=0, atol=1e-12)


@pytest.mark.parametrize("conv", ["direct", "winograd"])
def test_fast_paths_are_the_plain_loop_in_float64(conv, float64):
    """In float64 rounding is out of the way: both convolution paths are the plain loop's maths over
    ten free-running iterations (Adam's eps 1e-8 swamps gradients of 1e-17 noise). The weights agree
    to about 1e-10 (Adam's normalisation enlarges the relative rounding of tiny gradients); the losses
    to about 3e-8, since the Trainer reports them from scores cast to float32 (`critic_step`'s
    `scores.float()`, there for bf16 autocast): the float32 rounding of the same float64 value, which
    is the same on every CPU."""
    fast_curve, plain_curve, fast, plain = _curves(conv)
    assert fast_curve.dtype == torch.float64 and next(fast.D.parameters()).dtype == torch.float64
    torch.testing.assert_close(fast_curve, plain_curve, rtol=1e-7, atol=1e-7)
    _assert_same_weights(fast, plain, rtol=1e-7, atol=1e-8)


def test_winograd_float32_iterations_match_the_plain_loop():
    """Float32 Winograd: each iteration's losses agree with the plain loop's (direct convolutions) to
    the rounding bound of the direct path times Winograd's amplification (`winograd_amplification`,
    about 17). The weights are not compared: a dead unit's weights get rounding noise for a gradient
    and Adam steps of up to lr (see `_step_curves`); the float64 test above compares them."""
    fast_curve, plain_curve = _step_curves("winograd")
    scale = plain_curve.abs().max().item()
    torch.testing.assert_close(fast_curve, plain_curve, rtol=0,
                               atol=winograd_amplification() * REL32 * scale)


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
