"""The paper's image and toy networks: parameter counts pinned by formula, shapes, ranges, the
penalty on images, per-sample layer norm, batch-statistics batch norm, tflib initialisation."""
from __future__ import annotations

import math

import pytest
import torch

from textgan.errors import ConfigError
from textgan.models.image import (MnistCritic, MnistGenerator, ResNet32Critic, ResNet32Generator,
                                  ResNet64Critic, ResNet64Generator, build_image_models)
from textgan.models.toy import ToyCritic, ToyGenerator
from textgan.penalty import penalty_and_norms


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def conv(i, o, k, bias=True):
    return i * o * k * k + (o if bias else 0)


def lin(i, o):
    return i * o + o


# ------------------------------------------------------------------ parameter counts (by formula)

def toy_counts(d):
    g = lin(2, d) + 2 * lin(d, d) + lin(d, 2)
    c = lin(2, d) + 2 * lin(d, d) + lin(d, 1)
    return g, c


def mnist_counts(d):
    g = lin(128, 64 * d) + conv(4 * d, 2 * d, 5) + conv(2 * d, d, 5) + conv(d, 1, 5)
    c = conv(1, d, 5) + conv(d, 2 * d, 5) + conv(2 * d, 4 * d, 5) + lin(64 * d, 1)
    return g, c


def cifar_counts(d, conditional=False, k=10):
    bn = 2 * d * (k if conditional else 1)             # scale + offset (per class when conditional)
    up_block = bn + conv(d, d, 3) + bn + conv(d, d, 3) + conv(d, d, 1)
    g = lin(128, 16 * d) + 3 * up_block + 2 * d + conv(d, 3, 3)
    first = conv(3, d, 3) + conv(d, d, 3) + conv(3, d, 1)
    down = conv(d, d, 3) + conv(d, d, 3) + conv(d, d, 1)
    plain = 2 * conv(d, d, 3)
    c = first + down + 2 * plain + lin(d, 1) + (lin(d, k) if conditional else 0)
    return g, c


def resnet64_counts(d, layer_norm=True):
    def up(i, o):
        return 2 * i + conv(i, o, 3, bias=False) + 2 * o + conv(o, o, 3) + conv(i, o, 1)

    def down(i, o):
        return 4 * i * layer_norm + conv(i, i, 3, bias=False) + conv(i, o, 3) + conv(i, o, 1)

    g = lin(128, 128 * d) + up(8 * d, 8 * d) + up(8 * d, 4 * d) + up(4 * d, 2 * d) + up(2 * d, d) \
        + 2 * d + conv(d, 3, 3)
    c = conv(3, d, 3) + down(d, 2 * d) + down(2 * d, 4 * d) + down(4 * d, 8 * d) + down(8 * d, 8 * d) \
        + lin(128 * d, 1)
    return g, c


@pytest.mark.parametrize("kind,kw,expected", [
    ("toy", {}, toy_counts(512)),
    ("mnist", {}, mnist_counts(64)),
    ("cifar-resnet", {}, cifar_counts(128)),
    ("cifar-resnet", {"conditional": True}, cifar_counts(128, True)),
    ("resnet64", {}, resnet64_counts(64)),
    ("resnet64", {"norm": "none"}, resnet64_counts(64, layer_norm=False)),
])
def test_paper_parameter_counts(kind, kw, expected):
    torch.manual_seed(0)
    gen, critic = build_image_models(kind, **kw)
    assert (n_params(gen), n_params(critic)) == expected


def test_known_totals():
    # the paper's CIFAR-10 ResNet: about 1.2M generator and 1.05M critic parameters
    assert cifar_counts(128) == (1_204_483, 1_053_825)
    assert mnist_counts(64) == (1_554_177, 1_030_145)


# ------------------------------------------------------------------ shapes and ranges

@pytest.mark.parametrize("gen,critic,shape,lo", [
    (lambda: MnistGenerator(dim=4), lambda: MnistCritic(dim=4), (1, 28, 28), 0.0),
    (lambda: ResNet32Generator(dim=8), lambda: ResNet32Critic(dim=8), (3, 32, 32), -1.0),
    (lambda: ResNet64Generator(dim=2), lambda: ResNet64Critic(dim=2), (3, 64, 64), -1.0),
])
def test_shapes_ranges_and_penalty(gen, critic, shape, lo):
    torch.manual_seed(1)
    g, d = gen(), critic()
    assert g.z_dim == 128 and not g.conditional
    fake = g(torch.randn(3, 128))
    assert fake.shape == (3, *shape)
    assert fake.min() >= lo and fake.max() <= 1
    assert d(fake).shape == (3,)
    real = torch.rand_like(fake) * (1 - lo) + lo
    penalty, norms = penalty_and_norms(d, real, fake)
    penalty.backward()
    assert torch.isfinite(penalty) and norms.shape == (3,)
    assert all(p.grad is None for p in g.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in d.parameters())


def test_mnist_intermediate_sizes():
    g, d = MnistGenerator(dim=2), MnistCritic(dim=2)
    h = torch.relu(g.inp(torch.randn(2, 128))).view(2, 8, 4, 4)
    assert g.deconv1(h).shape[-2:] == (8, 8)
    assert g.deconv2(torch.zeros(2, 4, 7, 7)).shape[-2:] == (14, 14)
    x = torch.zeros(2, 1, 28, 28)
    assert d.conv1(x).shape[-2:] == (14, 14)
    assert d.conv2(d.conv1(x)).shape[-2:] == (7, 7)
    assert d.conv3(d.conv2(d.conv1(x))).shape[-2:] == (4, 4)


def test_same_padding_puts_the_odd_row_at_the_end():
    # TensorFlow 'SAME', stride 2, k 5 on 28: pad 1 before, 2 after -> output 0 sees inputs 0..3
    d = MnistCritic(dim=1)
    with torch.no_grad():
        d.conv1.weight.fill_(1.0)
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 4, 4] = 1.0                      # outside output (0, 0)'s window, inside (1, 1)'s and (2, 2)'s
    y = d.conv1(x)[0, 0]
    assert y[0, 0] == 0 and y[1, 1] == 1 and y[2, 2] == 1
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 3, 3] = 1.0
    assert d.conv1(x)[0, 0, 0, 0] == 1


@pytest.mark.numerics
def test_deconv_is_the_transpose_of_the_same_conv():
    torch.manual_seed(2)
    g = MnistGenerator(dim=2)
    dc = g.deconv2                                     # 4 -> 2 channels, 7 -> 14
    from textgan.models.image import _SameConv2d
    c = _SameConv2d(2, 4, 5, 2)
    with torch.no_grad():
        c.weight.copy_(dc.weight)
        c.bias.zero_()
        dc.bias.zero_()
    dc, c = dc.double(), c.double()          # an identity of maths: no float32 rounding in the way
    u, v = torch.randn(1, 4, 7, 7, dtype=torch.float64), torch.randn(1, 2, 14, 14, dtype=torch.float64)
    # <deconv(u), v> == <u, conv(v)>
    torch.testing.assert_close((dc(u) * v).sum(), (u * c(v)).sum(), rtol=1e-12, atol=1e-12)


def test_conditional_cifar_pair():
    torch.manual_seed(3)
    g, d = build_image_models("cifar-resnet", dim=8, conditional=True, n_classes=5)
    assert g.conditional and g.n_classes == 5
    z, y = torch.randn(4, 128), torch.tensor([0, 1, 2, 4])
    x = g(z, y)
    assert x.shape == (4, 3, 32, 32)
    with pytest.raises(ValueError, match="conditional"):
        g(z)
    score, logits = d(x, with_logits=True)
    assert score.shape == (4,) and logits.shape == (4, 5)
    assert torch.allclose(d(x), score)                  # the plain call: the score only
    penalty, _ = penalty_and_norms(d, torch.rand_like(x), x)
    assert torch.isfinite(penalty)
    # the label changes the sample (class-conditional batch norm) once the embeddings differ
    with torch.no_grad():
        for m in g.modules():
            if hasattr(m, "scale") and isinstance(m.scale, torch.nn.Embedding):
                m.scale.weight.uniform_(0.5, 1.5)
    a = g(z, y)
    b = g(z, torch.tensor([3, 1, 2, 4]))
    assert not torch.allclose(a[0], b[0])
    uncond = ResNet32Critic(dim=8)
    with pytest.raises(ValueError, match="class head"):
        uncond(x, with_logits=True)
    with pytest.raises(ValueError, match="unconditional"):
        ResNet32Generator(dim=8)(z, y)


# ------------------------------------------------------------------ normalisation

def _critic_outputs_other_samples(critic, shape):
    """The other samples' scores when sample 0 changes, in float64 (a question of maths, not of how
    a CPU's kernels round float32)."""
    torch.manual_seed(4)
    x = torch.randn(4, *shape, dtype=torch.float64)
    x2 = x.clone()
    x2[0] = torch.randn(*shape, dtype=torch.float64) * 3
    critic = critic.double()
    with torch.no_grad():
        return critic(x)[1:], critic(x2)[1:]


@pytest.mark.numerics
@pytest.mark.parametrize("make,shape", [
    (lambda n: MnistCritic(dim=4, norm=n), (1, 28, 28)),
    (lambda n: ResNet32Critic(dim=4, norm=n), (3, 32, 32)),
    (lambda n: ResNet64Critic(dim=2, norm=n), (3, 64, 64)),
    (lambda n: ToyCritic(dim=8, norm=n), (2,)),
])
def test_layer_norm_is_per_sample_batch_norm_is_not(make, shape):
    torch.manual_seed(5)
    a, b = _critic_outputs_other_samples(make("layer"), shape)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    a, b = _critic_outputs_other_samples(make("none"), shape)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    a, b = _critic_outputs_other_samples(make("batch"), shape)
    assert not torch.allclose(a, b, atol=1e-4)


def test_norm_layers_and_defaults():
    _, d64 = build_image_models("resnet64", dim=2)
    assert d64.norm == "layer"
    gn = [m for m in d64.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert len(gn) == 8 and all(m.num_groups == 1 for m in gn)
    _, d32 = build_image_models("cifar-resnet", dim=4)
    assert d32.norm == "none" and not any(isinstance(m, (torch.nn.GroupNorm, torch.nn.BatchNorm2d))
                                          for m in d32.modules())
    _, dm = build_image_models("mnist", dim=2)
    assert dm.norm == "none"
    with pytest.raises(ConfigError, match="norm"):
        build_image_models("mnist", dim=2, norm="instance")


@pytest.mark.numerics
def test_generator_batch_norm_uses_batch_statistics_in_eval():
    torch.manual_seed(6)
    g = ResNet32Generator(dim=4).double()   # the same maths in both modes: compared in float64
    z = torch.randn(8, 128, dtype=torch.float64)
    train_out = g(z)
    g.eval()
    with torch.no_grad():
        eval_out = g(z)
    torch.testing.assert_close(train_out, eval_out, rtol=1e-12, atol=1e-12)
    assert not any(b.numel() for b in g.buffers())       # no running statistics kept
    # batch statistics: a sample's image depends on the rest of its batch
    with torch.no_grad():
        assert not torch.allclose(g(z)[:4], g(z[:4]), atol=1e-4)


# ------------------------------------------------------------------ initialisation

def _bound(s):
    return s * math.sqrt(3)


def test_tflib_initialisation():
    torch.manual_seed(7)
    d = 16
    g, c = ResNet32Generator(dim=d), ResNet32Critic(dim=d)
    # he conv 3x3 d->d: s = sqrt(4 / (9d + 9d)); Glorot 1x1 shortcut: s = sqrt(2 / (d + d))
    b = _bound(math.sqrt(4 / (18 * d)))
    assert 0.9 * b < g.blocks[0].conv1.weight.abs().max() <= b
    b = _bound(math.sqrt(2 / (2 * d)))
    assert 0.8 * b < g.blocks[0].shortcut.weight.abs().max() <= b
    w = g.out.weight                                     # Glorot, d -> 3, k 3
    assert w.abs().max() <= _bound(math.sqrt(2 / (9 * d + 27)))
    w = g.inp.weight                                     # Linear Glorot
    assert w.abs().max() <= _bound(math.sqrt(2 / (128 + 16 * d)))
    assert all(p.abs().sum() == 0 for n, p in list(g.named_parameters()) + list(c.named_parameters())
               if n.endswith("bias"))
    m = MnistGenerator(dim=d)                             # deconv: fan_in = C_in k^2 / 4
    s = math.sqrt(4 / (4 * d * 25 / 4 + 2 * d * 25))
    assert m.deconv1.weight.abs().max() <= _bound(s) and m.deconv1.weight.abs().max() > 0.95 * _bound(s)
    mc = MnistCritic(dim=d)                               # conv stride 2: fan_out = C_out k^2 / 4
    s = math.sqrt(4 / (d * 25 + 2 * d * 25 / 4))
    assert mc.conv2.weight.abs().max() <= _bound(s) and mc.conv2.weight.abs().max() > 0.95 * _bound(s)
    t = ToyGenerator(dim=64)                              # hidden 'he' s = sqrt(2 / fan_in), output Glorot
    assert t.net[2].weight.abs().max() <= _bound(math.sqrt(2 / 64))
    assert t.net[2].weight.abs().max() > 0.95 * _bound(math.sqrt(2 / 64))
    assert t.net[6].weight.abs().max() <= _bound(math.sqrt(2 / 66))


def test_toy_pair_and_builder_checks():
    g, c = build_image_models("toy", dim=8)
    assert g.z_dim == 2 and g(torch.randn(5, 2)).shape == (5, 2) and c(torch.randn(5, 2)).shape == (5,)
    penalty, norms = penalty_and_norms(c, torch.randn(5, 2), g(torch.randn(5, 2)), weight=0.1)
    assert torch.isfinite(penalty) and norms.shape == (5,)
    with pytest.raises(ConfigError, match="size"):
        build_image_models("cifar-resnet", size=64, dim=4)
    with pytest.raises(ConfigError, match="channel"):
        build_image_models("mnist", channels=3, dim=4)
    with pytest.raises(ConfigError, match="cifar-resnet only"):
        build_image_models("mnist", conditional=True, dim=4)
    with pytest.raises(ConfigError, match="image model"):
        build_image_models("dcgan")
    with pytest.raises(ConfigError, match="dim"):
        build_image_models("resnet64", dim=0)
    g1, _ = build_image_models("resnet64", dim=2, channels=1)
    assert g1(torch.randn(2, 128)).shape == (2, 1, 64, 64)


# ------------------------------------------------------------------ the MNIST critic's own input gradient

def _random_mnist_critic(dim, norm="none", seed=8):
    """A float64 MNIST critic with every parameter drawn N(0, 0.3^2): non-zero biases, so the
    LeakyReLU slopes vary across samples and positions."""
    torch.manual_seed(seed)
    critic = MnistCritic(dim=dim, norm=norm).double()
    with torch.no_grad():
        for p in critic.parameters():
            p.normal_(0, 0.3)
    return critic


class _AutogradPenalty(torch.nn.Module):
    """The same critic without `input_grad`: the penalty takes autograd's double backward."""

    def __init__(self, critic):
        super().__init__()
        self.critic = critic

    def forward(self, x):
        return self.critic(x)


@pytest.mark.numerics
@pytest.mark.parametrize("k,stride,n", [(5, 2, 28), (5, 2, 14), (5, 2, 7), (5, 2, 9), (3, 1, 6),
                                        (4, 3, 7), (2, 3, 9), (1, 2, 6)])
def test_same_conv_transpose_is_its_adjoint(k, stride, n):
    """<conv(v) - bias, u> == <v, conv.transpose(u)> for 'SAME' padding of any size, including an
    input whose last rows no window reaches (k < stride)."""
    from textgan.models.image import _SameConv2d
    torch.manual_seed(9)
    c = _SameConv2d(3, 2, k, stride).double()
    with torch.no_grad():
        c.bias.normal_()
    v = torch.randn(2, 3, n, n + 1, dtype=torch.float64)
    y = c(v) - c.bias.view(1, -1, 1, 1)
    u = torch.randn_like(y)
    t = c.transpose(u, v.shape[-2:])
    assert t.shape == v.shape
    torch.testing.assert_close((y * u).sum(), (v * t).sum(), rtol=1e-12, atol=1e-12)


@pytest.mark.numerics
@pytest.mark.parametrize("dim", [4, 8])
@pytest.mark.parametrize("batch", [1, 3, 7])
def test_mnist_input_grad_is_autograds_input_gradient(dim, batch):
    critic = _random_mnist_critic(dim)
    x = torch.rand(batch, 1, 28, 28, dtype=torch.float64, requires_grad=True)
    (ref,) = torch.autograd.grad(critic(x).sum(), x)
    ours = critic.input_grad(x.detach())
    assert ours.shape == x.shape and ours.dtype == torch.float64
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)


def _penalty_and_param_grads(critic, params, real, fake, alpha, one_sided=False):
    gp, norms = penalty_and_norms(critic, real, fake, alpha=alpha, one_sided=one_sided)
    grads = torch.autograd.grad(gp, params, allow_unused=True)
    # a parameter the penalty does not reach (the biases, in the written-out chain): gradient zero
    return gp, norms, [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


@pytest.mark.numerics
@pytest.mark.parametrize("dim,batch", [(4, 5), (8, 3)])
@pytest.mark.parametrize("one_sided", [False, True])
def test_mnist_penalty_and_its_parameter_gradients_are_double_backwards(dim, batch, one_sided):
    critic = _random_mnist_critic(dim)
    params = list(critic.parameters())
    real = torch.rand(batch, 1, 28, 28, dtype=torch.float64)
    fake = torch.rand(batch, 1, 28, 28, dtype=torch.float64)
    alpha = torch.rand(batch, dtype=torch.float64)
    gp, norms, grads = _penalty_and_param_grads(critic, params, real, fake, alpha, one_sided)
    ref_gp, ref_norms, ref_grads = _penalty_and_param_grads(_AutogradPenalty(critic), params, real, fake,
                                                            alpha, one_sided)
    torch.testing.assert_close(gp, ref_gp, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(norms, ref_norms, rtol=1e-12, atol=1e-12)
    for (name, _), g, ref in zip(critic.named_parameters(), grads, ref_grads):
        torch.testing.assert_close(g, ref, rtol=1e-10, atol=1e-12, msg=lambda m, n=name: f"{n}: {m}")
    assert any(g.abs().sum() > 0 for g in grads)


@pytest.mark.numerics
@pytest.mark.parametrize("norm", ["layer", "batch"])
def test_mnist_critic_with_normalisation_takes_autograds_penalty(norm):
    """The written-out chain knows no normalisation: with layer or batch norm the critic offers no
    `input_grad`, and the penalty is autograd's double backward, by definition."""
    critic = _random_mnist_critic(4, norm)
    assert critic.input_grad is None and getattr(critic, "input_grad", None) is None
    real = torch.rand(4, 1, 28, 28, dtype=torch.float64)
    fake = torch.rand(4, 1, 28, 28, dtype=torch.float64)
    alpha = torch.rand(4, dtype=torch.float64)
    gp, norms = penalty_and_norms(critic, real, fake, alpha=alpha)
    x = (real + alpha.view(4, 1, 1, 1) * (fake - real)).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    ref_norms = grad.flatten(1).norm(dim=1)
    torch.testing.assert_close(norms, ref_norms.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gp, 10 * ((ref_norms - 1) ** 2).mean(), rtol=1e-12, atol=1e-12)
    gp.backward()
    assert all(p.grad is not None for p in critic.parameters() if p.dim() == 4)


@pytest.mark.numerics
def test_mnist_critic_step_is_the_same_with_either_penalty_path(float64):
    """One Trainer critic step in float64 (the paper's loss, Adam), from the same state and the same
    random draws: the written-out input gradient and autograd's double backward give the same loss,
    the same parameter gradients and the same updated weights."""
    from textgan.config import TrainConfig
    from textgan.train import Trainer, TrainerHooks

    class AutogradMnistCritic(MnistCritic):
        input_grad = None            # the penalty takes autograd's double backward

    real, fake = torch.rand(6, 1, 28, 28), torch.rand(6, 1, 28, 28)

    class Sampler:
        def next(self):
            return real

        def state_dict(self):
            return {}

        def load_state_dict(self, state):
            pass

    source = _random_mnist_critic(8)
    results = []
    for cls in (MnistCritic, AutogradMnistCritic):
        critic = cls(dim=8)
        critic.load_state_dict(source.state_dict())
        assert (critic.input_grad is None) == (cls is AutogradMnistCritic)
        gen = MnistGenerator(dim=2)
        cfg = TrainConfig(iters=1, critic_iters=1, batch_size=6, lr=1e-3)
        trainer = Trainer(gen, critic, Sampler(), cfg, torch.device("cpu"),
                          hooks=TrainerHooks(log=lambda m: None, progress=False))
        torch.manual_seed(10)
        trainer.critic_step(fake)
        results.append((trainer.read_stats(), [p.grad.clone() for p in critic.parameters()],
                        [p.detach().clone() for p in critic.parameters()]))
    (stats, grads, weights), (ref_stats, ref_grads, ref_weights) = results
    assert ref_stats["penalty"] > 0
    for key in ("critic_loss", "wasserstein", "penalty", "grad_norm"):
        assert stats[key] == pytest.approx(ref_stats[key], rel=1e-12, abs=1e-12), key
    for g, ref in zip(grads, ref_grads):
        torch.testing.assert_close(g, ref, rtol=1e-10, atol=1e-12)
    for w, ref in zip(weights, ref_weights):
        torch.testing.assert_close(w, ref, rtol=1e-10, atol=1e-12)


def test_cpu_run_environment_keeps_conv_weights_channels_last_with_their_values():
    """The run lifecycle's CPU setting puts 4-D weights in channels_last memory, values unchanged; a
    bare Trainer leaves the caller's modules as they are."""
    from textgan.config import TrainConfig
    from textgan.runtime import training_environment
    from textgan.train import Trainer, TrainerHooks
    torch.manual_seed(11)
    g, d = build_image_models("mnist", dim=2)
    before = [p.detach().clone() for p in (*g.parameters(), *d.parameters())]
    Trainer(g, d, sampler=None, cfg=TrainConfig(iters=1, batch_size=2), device=torch.device("cpu"),
            hooks=TrainerHooks(log=lambda m: None, progress=False))
    assert not any(p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous()
                   for p in (*g.parameters(), *d.parameters()) if p.dim() == 4)
    with training_environment(torch.device("cpu"), g, d):
        after = list((*g.parameters(), *d.parameters()))
        assert sum(p.dim() == 4 for p in after) == 6
        assert all(p.is_contiguous(memory_format=torch.channels_last) for p in after if p.dim() == 4)
        assert all(torch.equal(a, b) for a, b in zip(before, after))


# ------------------------------------------------------------------ the toy critic's analytic input gradient

def _toy_critic64(seed=11, dim=16):
    torch.manual_seed(seed)
    d = ToyCritic(dim=dim).double()
    for p in d.parameters():            # non-zero biases so that the masks differ between samples
        p.data.normal_(0, 0.5)
    return d


@pytest.mark.numerics
def test_toy_input_grad_is_autograd_gradient():
    d = _toy_critic64()
    x = torch.randn(9, 2, dtype=torch.float64, requires_grad=True)
    (ref,) = torch.autograd.grad(d(x).sum(), x)
    ours = d.input_grad(x.detach())
    assert ours.shape == (9, 2)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.numerics
@pytest.mark.parametrize("one_sided", [False, True])
def test_toy_penalty_with_input_grad_equals_double_backward(one_sided):
    """Value, per-sample norms and parameter gradients of the penalty: the analytic path against
    autograd's double backward (the same critic behind a plain function, which has no input_grad)."""
    d = _toy_critic64()
    real = torch.randn(12, 2, dtype=torch.float64)
    fake = torch.randn(12, 2, dtype=torch.float64)
    alpha = torch.rand(12, dtype=torch.float64)
    params = list(d.parameters())
    results = []
    for critic in (d, lambda x: d(x)):
        gp, norms = penalty_and_norms(critic, real, fake, weight=0.1, one_sided=one_sided, alpha=alpha)
        grads = torch.autograd.grad(gp, params, allow_unused=True)
        results.append((gp, norms, grads))
    (gp_a, n_a, g_a), (gp_r, n_r, g_r) = results
    torch.testing.assert_close(gp_a, gp_r, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(n_a, n_r, rtol=1e-12, atol=1e-12)
    for p, a, r in zip(params, g_a, g_r):
        if a is None or r is None:      # biases: the penalty does not depend on them
            assert (a is None or not a.any()) and (r is None or not r.any()), p.shape
        else:
            torch.testing.assert_close(a, r, rtol=1e-12, atol=1e-12)
    assert any(a is not None and a.any() for a in g_a)


def test_toy_input_grad_only_without_norm():
    assert callable(ToyCritic(dim=4).input_grad)
    for norm in ("layer", "batch"):
        c = ToyCritic(dim=4, norm=norm)
        assert c.input_grad is None          # the penalty then takes autograd's double backward
        penalty, _ = penalty_and_norms(c, torch.randn(5, 2), torch.randn(5, 2), weight=0.1)
        assert torch.isfinite(penalty)
        with pytest.raises(ValueError, match="norm"):
            c.relu_input_grad(torch.randn(3, 2))
