"""Winograd F(4,5) is the blocks' convolution: the same numbers as the direct one (exactly in float64,
to float32 rounding in float32), forward, transposed and backward, and the networks built on it
are the direct networks with the same parameters."""
import copy

import pytest
import torch
import torch.nn.functional as F
from rounding import sum_bound, winograd_amplification

from textgan.config import make_config, validate_config
from textgan.errors import ConfigError
from textgan.models import winograd as wg
from textgan.models.text import Critic, Generator
from textgan.runs import resolve_conv

pytestmark = pytest.mark.numerics

B, C, O, L = 3, 6, 5, 16


def _blocked(x):
    return wg.channels_to_blocks(x)


def test_matrices_compute_a_correlation_of_five():
    """A^T [(G w) * (B^T d)] is y_i = sum_k d[i + k] w[k] for one window of eight, in exact terms."""
    g = torch.randn(20, 5, dtype=torch.float64)
    d = torch.randn(20, 8, dtype=torch.float64)
    bt, gm, _, at = (torch.as_tensor(m) for m in (wg._BT, wg._G, wg._G, wg._AT))
    y = ((g @ gm.T) * (d @ bt.T)) @ at.T
    direct = torch.stack([(d[:, i:i + 5] * g).sum(1) for i in range(4)], 1)
    torch.testing.assert_close(y, direct, rtol=1e-13, atol=1e-13)


def test_layouts_round_trip():
    x = torch.randn(B, C, L)
    assert torch.equal(wg.blocks_to_channels(wg.channels_to_blocks(x)), x)
    s = torch.randn(B, L, C)
    assert torch.equal(wg.blocks_to_sequence(wg.sequence_to_blocks(s)), s)
    # position 4t + u of sample b is [u, b, t]
    xb = wg.channels_to_blocks(x)
    assert torch.equal(xb[3, 1, 2], x[1, :, 4 * 2 + 3])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_conv_equals_direct_conv(dtype):
    """Elementwise within the rounding of the two: an output sums C * 5 products, whose size is
    conv(|x|, |w|); Winograd's bound is `winograd_amplification()` times the direct one's."""
    x = torch.randn(B, C, L, dtype=dtype)
    w = torch.randn(O, C, 5, dtype=dtype)
    bias, res = torch.randn(O, dtype=dtype), torch.randn(B, O, L, dtype=dtype)
    direct = F.conv1d(x, w, bias, padding=2)
    size = F.conv1d(x.abs(), w.abs(), bias.abs(), padding=2)
    tol = (1 + winograd_amplification()) * sum_bound(C * 5, size, eps=torch.finfo(dtype).eps)
    y = wg.blocks_to_channels(wg.conv(_blocked(x), wg.transform_weight(w), bias, residual=_blocked(res), scale=0.3))
    err = (y - (res + 0.3 * direct)).abs()
    assert (err <= 0.3 * tol + torch.finfo(dtype).eps * res.abs()).all(), (err / tol).max()
    plain = wg.blocks_to_channels(wg.conv(_blocked(x), wg.transform_weight(w)))
    err = (plain - F.conv1d(x, w, padding=2)).abs()
    assert (err <= tol).all(), (err / tol).max()


def test_float32_error_is_of_the_direct_convolutions_order():
    """Against the float64 result, each float32 output is within the rounding bound of a sum of
    64 * 5 products of size conv(|x|, |w|): the direct convolution within it, Winograd within
    `winograd_amplification()` times it (about 17)."""
    torch.manual_seed(0)
    x, w = torch.randn(8, 64, 32), torch.randn(64, 64, 5) / 18
    exact = F.conv1d(x.double(), w.double(), padding=2)
    bound = sum_bound(64 * 5, F.conv1d(x.double().abs(), w.double().abs(), padding=2))
    err_direct = (F.conv1d(x, w, padding=2).double() - exact).abs()
    err_wino = (wg.blocks_to_channels(wg.conv(_blocked(x), wg.transform_weight(w))).double() - exact).abs()
    assert (err_direct <= bound).all(), (err_direct / bound).max()
    assert (err_wino <= winograd_amplification() * bound).all(), (err_wino / bound).max()
    assert err_wino.max() > 0            # float32 arithmetic really happened


def test_transposed_conv_equals_conv_transpose():
    x = torch.randn(B, O, L, dtype=torch.float64)
    w = torch.randn(O, C, 5, dtype=torch.float64)
    y = wg.conv(_blocked(x), wg.transform_weight(w, transpose=True))
    torch.testing.assert_close(wg.blocks_to_channels(y), F.conv_transpose1d(x, w, padding=2),
                               rtol=1e-12, atol=1e-12)


def test_backward_passes_gradcheck():
    torch.manual_seed(1)
    x = torch.randn(2, 3, 8, dtype=torch.float64)
    w = torch.randn(4, 3, 5, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(4, dtype=torch.float64, requires_grad=True)
    xb = _blocked(x).requires_grad_(True)
    res = torch.randn(4, 2, 2, 4, dtype=torch.float64, requires_grad=True)

    def f(xb, w, bias, res):
        return wg.conv(xb, wg.transform_weight(w), bias, residual=res, scale=0.7)
    assert torch.autograd.gradcheck(f, (xb, w, bias, res))
    assert torch.autograd.gradcheck(lambda xb, w: wg.conv(xb, wg.transform_weight(w, transpose=True)),
                                    (_blocked(torch.randn(2, 4, 8, dtype=torch.float64)).requires_grad_(True), w))


def test_training_works_after_a_first_call_under_inference_mode():
    """The transform matrices are cached; made under inference mode they must still serve autograd."""
    wg._constants.cache_clear()
    critic = Critic(7, dim=8, seq_len=L, n_blocks=1, conv="winograd")
    x = torch.softmax(torch.randn(2, L, 7), -1)
    with torch.inference_mode():
        critic(x)
    critic(x).sum().backward()
    assert all(p.grad is not None for p in critic.parameters())


def test_double_backward_is_refused_not_wrong():
    x = _blocked(torch.randn(2, 3, 8)).requires_grad_(True)
    y = wg.conv(x, wg.transform_weight(torch.randn(3, 3, 5))).pow(2).sum()
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    with pytest.raises(RuntimeError):
        g.sum().backward()


def _pair(cls, *args, **kw):
    torch.manual_seed(3)
    direct = cls(*args, **kw).double()
    for p in direct.parameters():            # non-zero biases so every mask pattern matters
        p.data.normal_(0, 0.3)
    fast = copy.deepcopy(direct)
    fast.conv = "winograd"
    return direct, fast


def test_winograd_critic_is_the_direct_critic():
    direct, fast = _pair(Critic, 7, dim=8, seq_len=L, n_blocks=2)
    x = torch.softmax(torch.randn(4, L, 7, dtype=torch.float64), -1)
    torch.testing.assert_close(fast(x), direct(x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(fast.input_grad(x), direct.input_grad(x), rtol=1e-12, atol=1e-12)
    # the critic loss + penalty gradients w.r.t. every parameter
    grads = []
    for net in (direct, fast):
        ig = net.input_grad(x)
        loss = net(x).mean() + (ig.flatten(1).norm(dim=1) - 1).pow(2).mean()
        grads.append(torch.autograd.grad(loss, list(net.parameters())))
    for a, b in zip(*grads):
        torch.testing.assert_close(b, a, rtol=1e-11, atol=1e-11)


def test_winograd_generator_is_the_direct_generator():
    direct, fast = _pair(Generator, 7, dim=8, seq_len=L, n_blocks=2, z_dim=5)
    z = torch.randn(4, 5, dtype=torch.float64)
    torch.testing.assert_close(fast(z), direct(z), rtol=1e-12, atol=1e-12)
    ga = torch.autograd.grad(direct(z)[..., 0].sum(), list(direct.parameters()))
    gb = torch.autograd.grad(fast(z)[..., 0].sum(), list(fast.parameters()))
    for a, b in zip(ga, gb):
        torch.testing.assert_close(b, a, rtol=1e-11, atol=1e-11)


def test_checkpoints_load_into_either_implementation():
    direct = Critic(7, dim=8, seq_len=L, n_blocks=2)
    fast = Critic(7, dim=8, seq_len=L, n_blocks=2, conv="winograd")
    fast.load_state_dict(direct.state_dict())
    x = torch.softmax(torch.randn(2, L, 7), -1)
    # float32 rounding of both: 2 + 2 * 2 layers, the widest summing L * 8 terms
    tol = (1 + winograd_amplification()) * sum_bound(L * 8, direct(x).abs().max().item(), layers=6)
    torch.testing.assert_close(fast(x), direct(x), rtol=0, atol=tol)


def test_unsupported_settings_are_refused_with_a_reason():
    with pytest.raises(ConfigError, match="divisible by 4"):
        Critic(7, dim=8, seq_len=30, conv="winograd")
    with pytest.raises(ConfigError, match="conv must be one of"):
        Generator(7, dim=8, seq_len=16, conv="fft")
    cfg = make_config("small", conv="winograd", precision="bf16")
    with pytest.raises(ConfigError, match="float32 only"):
        validate_config(cfg)
    with pytest.raises(ConfigError, match="divisible by 4"):
        validate_config(make_config("small", conv="winograd", seq_len=30))


def test_auto_picks_winograd_on_cpu_in_float32_only():
    cpu = torch.device("cpu")
    assert resolve_conv(make_config("small"), cpu) == "winograd"
    assert resolve_conv(make_config("small", precision="bf16"), cpu) == "direct"
    assert resolve_conv(make_config("small", seq_len=30), cpu) == "direct"
    assert resolve_conv(make_config("small", conv="direct"), cpu) == "direct"
    assert resolve_conv(make_config("small"), torch.device("cuda")) == "direct"
