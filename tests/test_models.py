"""The paper's text models (shapes, exact structure, parameter count, tflib init) and the toy pair
(the image networks: tests/test_models_image.py)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from textgan.config import ModelConfig
from textgan.errors import ConfigError
from textgan.models import Critic, Generator, ToyCritic, ToyGenerator, build_text_models

SMALL = dict(dim=16, seq_len=8, n_blocks=2)
V = 13


@pytest.mark.numerics
def test_shapes_and_softmax():
    torch.manual_seed(0)
    gen, critic = Generator(V, z_dim=10, **SMALL), Critic(V, **SMALL)
    z = torch.randn(3, 10)
    probs, logits = gen(z), gen.logits(z)
    assert probs.shape == logits.shape == (3, 8, V)
    assert gen.z_dim == 10
    torch.testing.assert_close(probs.sum(-1), torch.ones(3, 8))
    assert (probs >= 0).all()
    torch.testing.assert_close(probs, torch.softmax(logits, -1))
    out = critic(probs)
    assert out.shape == (3,)
    one_hot = F.one_hot(torch.randint(0, V, (5, 8)), V).float()
    assert critic(one_hot).shape == (5,)


def _ref_block(x, conv1, conv2):
    h = F.conv1d(F.relu(x), conv1.weight, conv1.bias, padding=2)
    return x + 0.3 * F.conv1d(F.relu(h), conv2.weight, conv2.bias, padding=2)


@pytest.mark.numerics
def test_forward_is_exactly_the_papers_graph():
    """Recompute both networks op by op (gan_language.py), channel-major reshape/flatten. In float64:
    the reference's kernels (conv1d, matmul) sum in another order than the model's (conv2d, Linear),
    which float32 would turn into CPU-dependent last bits; float64 leaves only the maths to compare."""
    torch.manual_seed(1)
    gen, critic = Generator(V, z_dim=10, **SMALL).double(), Critic(V, **SMALL).double()
    for p in list(gen.parameters()) + list(critic.parameters()):   # non-zero biases too
        p.data.normal_(0, 0.2)
    z = torch.randn(4, 10, dtype=torch.float64)
    h = (z @ gen.inp.weight.T + gen.inp.bias).reshape(4, 16, 8)      # [B, DIM, SEQ_LEN]
    for blk in gen.blocks:
        h = _ref_block(h, blk.conv1, blk.conv2)
    logits = F.conv1d(h, gen.out.weight, gen.out.bias).permute(0, 2, 1)
    torch.testing.assert_close(gen(z), torch.softmax(logits, dim=2), rtol=1e-12, atol=1e-12)

    x = torch.softmax(torch.randn(4, 8, V, dtype=torch.float64), -1)
    h = F.conv1d(x.permute(0, 2, 1), critic.inp.weight, critic.inp.bias)
    for blk in critic.blocks:
        h = _ref_block(h, blk.conv1, blk.conv2)
    ref = h.reshape(4, 16 * 8) @ critic.out.weight.T + critic.out.bias
    torch.testing.assert_close(critic(x), ref[:, 0], rtol=1e-12, atol=1e-12)


def test_exact_parameter_count_of_paper_preset():
    v, dim, L, n, z = 100, 512, 32, 5, 128
    block = 2 * (dim * dim * 5 + dim)                         # two Conv1d(dim, dim, 5) with bias
    gen_expected = (z * L * dim + L * dim) + n * block + (dim * v + v)
    critic_expected = (v * dim + dim) + n * block + (L * dim + 1)
    assert (gen_expected, critic_expected) == (15_277_156, 13_180_417)
    gen, critic = build_text_models(ModelConfig(dim=dim, seq_len=L, n_blocks=n, z_dim=z, vocab_size=v))
    assert sum(p.numel() for p in gen.parameters()) == gen_expected
    assert sum(p.numel() for p in critic.parameters()) == critic_expected
    assert not any("norm" in type(m).__name__.lower() for m in critic.modules())


def _check_uniform(w, s):
    bound = s * math.sqrt(3)
    assert w.abs().max().item() <= bound + 1e-7
    assert w.abs().max().item() > 0.99 * bound
    # relative s.d. of a sample std of n uniforms is sqrt(0.2 / n); allow 5 of them
    assert w.std().item() == pytest.approx(s, rel=5 * math.sqrt(0.2 / w.numel()))
    assert w.mean().item() == pytest.approx(0.0, abs=0.01 * s)


@pytest.mark.numerics
def test_tflib_init():
    torch.manual_seed(2)
    dim, L, v, z = 256, 8, 50, 128
    gen = Generator(v, dim=dim, seq_len=L, n_blocks=1, z_dim=z)
    critic = Critic(v, dim=dim, seq_len=L, n_blocks=1)
    # Conv1D he_init: s = sqrt(4 / (in*k + out*k))
    _check_uniform(gen.blocks[0].conv1.weight, math.sqrt(4 / (dim * 5 + dim * 5)))
    _check_uniform(critic.inp.weight, math.sqrt(4 / (v * 1 + dim * 1)))
    # Linear glorot: s = sqrt(2 / (in + out))
    _check_uniform(gen.inp.weight, math.sqrt(2 / (z + L * dim)))
    _check_uniform(critic.out.weight, math.sqrt(2 / (L * dim + 1)))
    for m in (gen, critic):
        for name, p in m.named_parameters():
            if name.endswith("bias"):
                assert p.abs().max().item() == 0.0, name
    # the torch RNG drives it
    torch.manual_seed(7)
    a = Generator(V, **SMALL).state_dict()
    torch.manual_seed(7)
    b = Generator(V, **SMALL).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("bad", [dict(vocab_size=0), dict(vocab_size=-3, dim=8), dict(vocab_size=5, dim=0),
                                 dict(vocab_size=5, seq_len=0), dict(vocab_size=5, n_blocks=0),
                                 dict(vocab_size=5, z_dim=-1)])
def test_build_rejects_bad_config(bad):
    cfg = ModelConfig(**{**dict(dim=8, seq_len=4, n_blocks=1), **bad})
    with pytest.raises(ConfigError):
        build_text_models(cfg)


def test_build_small():
    gen, critic = build_text_models(ModelConfig(dim=8, seq_len=4, n_blocks=1, z_dim=6, vocab_size=7))
    assert gen(torch.randn(2, 6)).shape == (2, 4, 7)
    assert critic(torch.rand(2, 4, 7)).shape == (2,)


def test_toy_pair():
    gen, critic = ToyGenerator(data_dim=3, z_dim=5, dim=16), ToyCritic(data_dim=3, dim=16)
    x = gen(torch.randn(7, 5))
    assert x.shape == (7, 3) and critic(x).shape == (7,)


def test_gumbel_softmax_outputs_only_while_training():
    torch.manual_seed(0)
    plain = Generator(vocab_size=7, dim=8, seq_len=8, n_blocks=1, z_dim=4)
    gumbel = Generator(vocab_size=7, dim=8, seq_len=8, n_blocks=1, z_dim=4, gumbel_tau=0.5)
    gumbel.load_state_dict(plain.state_dict())
    z = torch.randn(64, 4)
    soft = plain(z)
    relaxed = gumbel(z)
    assert torch.allclose(relaxed.sum(-1), torch.ones(64, 8), atol=1e-5) and (relaxed >= 0).all()
    # tau 0.5 with noise: sharper than the softmax (closer to one-hot) and not the same vectors
    assert relaxed.max(-1).values.mean() > soft.max(-1).values.mean() + 0.05
    assert not torch.allclose(relaxed, gumbel(z))
    relaxed.sum().backward()                                  # the relaxation is differentiable
    assert gumbel.out.weight.grad is not None and gumbel.out.weight.grad.abs().sum() > 0
    gumbel.eval()
    assert torch.equal(gumbel(z), plain(z)) and torch.equal(gumbel.logits(z), plain.logits(z))


def test_straight_through_outputs_are_one_hot_with_the_softmax_gradient():
    torch.manual_seed(0)
    plain = Generator(vocab_size=7, dim=8, seq_len=8, n_blocks=1, z_dim=4)
    st = Generator(vocab_size=7, dim=8, seq_len=8, n_blocks=1, z_dim=4, straight_through=True)
    st.load_state_dict(plain.state_dict())
    z, weight = torch.randn(16, 4), torch.randn(16, 8, 7)
    hard, soft = st(z), plain(z)
    assert torch.equal(hard, torch.nn.functional.one_hot(soft.argmax(-1), 7).float())
    (hard * weight).sum().backward()
    (soft * weight).sum().backward()
    for a, b in zip(st.parameters(), plain.parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=0)
    assert plain.out.weight.grad.abs().sum() > 0
    st.eval()
    assert torch.equal(st(z), plain(z))
    torch.manual_seed(1)                      # with Gumbel noise: a hard sample, not always the argmax
    gumbel = Generator(vocab_size=7, dim=8, seq_len=8, n_blocks=1, z_dim=4, gumbel_tau=1.0, straight_through=True)
    gumbel.load_state_dict(plain.state_dict())
    sampled = gumbel(z)
    assert ((sampled == 0) | (sampled == 1)).all() and torch.equal(sampled.sum(-1), torch.ones(16, 8))
    assert not torch.equal(sampled, hard)


@pytest.mark.parametrize("options, message", [
    ({"gumbel_tau": -1.0}, "--gumbel-tau must be 0 (plain softmax) or a positive number"),
    ({"gumbel_tau": float("nan")}, "--gumbel-tau must be 0 (plain softmax) or a positive number"),
    ({"gumbel_tau": 0.5, "objective": "mle"}, "--gumbel-tau is for the GAN's generator"),
    ({"straight_through": True, "objective": "mle"}, "--straight-through is for the GAN's generator"),
])
def test_gumbel_tau_is_validated(options, message):
    from textgan.config import make_config, validate_config
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_config(make_config("small", corpus="synthetic", **options))


def test_gumbel_tau_reaches_the_generator():
    from textgan.config import make_config
    cfg = make_config("small", corpus="synthetic", gumbel_tau=0.7)
    cfg.model.vocab_size = 5
    generator, _ = build_text_models(cfg.model)
    assert generator.gumbel_tau == 0.7 and make_config("small", corpus="synthetic").model.gumbel_tau == 0.0
