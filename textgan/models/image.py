"""The image networks of Gulrajani et al. (2017), as in their code
(github.com/igul222/improved_wgan_training).

    kind            file                  generator                          critic               DIM
    "mnist"         gan_mnist.py          MnistGenerator  -> [B,1,28,28] in [0,1]   MnistCritic     64
    "cifar-resnet"  gan_cifar_resnet.py   ResNet32Generator -> [B,C,32,32] in [-1,1] ResNet32Critic 128
    "resnet64"      gan_64x64.py (Good*)  ResNet64Generator -> [B,C,64,64] in [-1,1] ResNet64Critic  64
    "toy"           gan_toy.py            ToyGenerator (models/toy.py)       ToyCritic           512

`build_image_models(kind, ...)` builds a pair with the paper's defaults.

Calling conventions (the same for every pair):
- every generator has `.z_dim` (and `.conditional`, `.n_classes`); `gen(z)` maps z [B, z_dim] to
  images; a conditional generator (cifar-resnet with conditional=True) takes `gen(z, y)` with class
  labels y [B] (int64) and refuses a call without them;
- every critic's plain call `critic(x)` returns the scores [B] and nothing else, so the gradient
  penalty (`textgan.penalty.penalty_and_norms(critic, real, fake)`) works on any critic unchanged;
- the AC-GAN critic (conditional cifar-resnet) also has a class head: `critic(x, with_logits=True)`
  returns `(scores [B], logits [B, n_classes])` from one pass.  As in the original, the critic never
  sees the labels (its normalisation is not class-conditional): labels enter only through the loss.

Normalisation:
- generators: batch norm with batch statistics always, also in eval mode and when sampling (the
  original never uses moving averages): `BatchNorm2d(track_running_stats=False)`; a conditional
  generator's residual blocks use conditional batch norm (per-class scale and offset over a
  non-affine batch norm, Dumoulin et al.), its output normalisation is the plain one, as in the original;
- critics take `norm` in none|layer|batch, placed where the original places the critic's
  normalisation: layer = `GroupNorm(1, C)` (each sample over (C, H, W), per-channel scale/offset,
  tflib's Layernorm), batch = `BatchNorm2d` with batch statistics.  Defaults: none, except the 64x64
  critic, which the paper runs with layer norm.  Batch norm couples the samples of a batch, which
  the per-sample gradient penalty assumes they are not; it is there for ablations.

Initialisation as tflib: weights U(+-sqrt(3)*s), biases 0, with s by layer kind:
  Linear (glorot)              s = sqrt(2 / (fan_in + fan_out))
  Conv2D, he_init=True         s = sqrt(4 / (fan_in + fan_out)),
                               fan_in = C_in k^2, fan_out = C_out k^2 / stride^2
  Conv2D, he_init=False        s = sqrt(2 / (fan_in + fan_out))
  Deconv2D (stride 2)          the same with fan_in = C_in k^2 / 4, fan_out = C_out k^2
Convolutions default to he_init=True in tflib; the original passes he_init=False for residual
shortcuts, the CIFAR generator's output convolution and the 64x64 critic's input convolution.
Batch/layer norm: scale 1, offset 0.

Padding is TensorFlow's 'SAME': for stride-2 convolutions with even input sizes it is asymmetric
(one more row/column at the end), reproduced here exactly (`_SameConv2d`, `_Deconv2d`).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textgan.errors import ConfigError
from textgan.models.toy import NORMS, ToyCritic, ToyGenerator, init_linear_

KINDS = ("toy", "mnist", "cifar-resnet", "resnet64")
DEFAULT_DIM = {"toy": 512, "mnist": 64, "cifar-resnet": 128, "resnet64": 64}
DEFAULT_NORM = {"toy": "none", "mnist": "none", "cifar-resnet": "none", "resnet64": "layer"}
SIZES = {"mnist": 28, "cifar-resnet": 32, "resnet64": 64}
Z_DIM = 128


# ----------------------------------------------------------------------------- initialisation

def _uniform_(weight: Tensor, s: float) -> None:
    with torch.no_grad():
        weight.uniform_(-s * math.sqrt(3.0), s * math.sqrt(3.0))


def init_conv_(conv: nn.Conv2d | nn.ConvTranspose2d, he: bool = True, stride: int = 1) -> None:
    """tflib's Conv2D / Deconv2D initialisation (see the module docstring); bias 0."""
    k = conv.kernel_size[0] * conv.kernel_size[1]
    if isinstance(conv, nn.ConvTranspose2d):
        fan_in, fan_out = conv.in_channels * k / stride ** 2, conv.out_channels * k
    else:
        fan_in, fan_out = conv.in_channels * k, conv.out_channels * k / stride ** 2
    _uniform_(conv.weight, math.sqrt((4.0 if he else 2.0) / (fan_in + fan_out)))
    if conv.bias is not None:
        with torch.no_grad():
            conv.bias.zero_()


def conv2d(c_in: int, c_out: int, k: int, *, he: bool = True, bias: bool = True) -> nn.Conv2d:
    """A stride-1 convolution with 'SAME' padding (odd k), tflib-initialised."""
    conv = nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=bias)
    init_conv_(conv, he)
    return conv


def linear(n_in: int, n_out: int) -> nn.Linear:
    return init_linear_(nn.Linear(n_in, n_out), "glorot")


# ----------------------------------------------------------------------------- layers

class _SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow's 'SAME' padding for any stride: output ceil(n / stride); the odd
    padding row/column goes at the end (bottom/right)."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, he: bool = True):
        super().__init__(c_in, c_out, k, stride=stride, padding=0)
        init_conv_(self, he, stride)

    def _pads(self, n: int) -> tuple[int, int]:
        """'SAME' padding (before, after) of an axis of n inputs."""
        s, k = self.stride[0], self.kernel_size[0]
        total = max((-(-n // s) - 1) * s + k - n, 0)
        return total // 2, total - total // 2

    def forward(self, x: Tensor) -> Tensor:
        (top, bottom), (left, right) = self._pads(x.shape[-2]), self._pads(x.shape[-1])
        return super().forward(F.pad(x, [left, right, top, bottom]))   # F.pad: last axis first

    def transpose(self, g: Tensor, size: tuple[int, int]) -> Tensor:
        """The transpose of this convolution without its bias: the gradient w.r.t. its input [B, C_in,
        *size], given g, the gradient w.r.t. its output.  The padded rows/columns are cut away: the
        before-pads by the transposed convolution's `padding`, the rest by cropping to `size` (or,
        where the input's last rows are outside every window, added back by `output_padding`)."""
        s, k = self.stride[0], self.kernel_size[0]
        before, extra = [], []
        for n, m in zip(size, g.shape[-2:]):
            b = self._pads(n)[0]
            before.append(b)
            extra.append(max(n - ((m - 1) * s + k - 2 * b), 0))
        out = F.conv_transpose2d(g, self.weight, stride=self.stride, padding=before, output_padding=extra)
        return out[..., :size[0], :size[1]]


class _Deconv2d(nn.ConvTranspose2d):
    """tflib's Deconv2D: TensorFlow's conv2d_transpose, stride 2, 'SAME', output exactly 2n: the
    transpose of `_SameConv2d` from 2n to n (padding 1 before, 2 after for k = 5)."""

    def __init__(self, c_in: int, c_out: int, k: int = 5, he: bool = True):
        super().__init__(c_in, c_out, k, stride=2, padding=(k - 2) // 2)
        init_conv_(self, he, 2)

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        return super().forward(x)[..., :2 * h, :2 * w]


def _leaky_slope(pre: Tensor, negative_slope: float) -> Tensor:
    """The derivative of LeakyReLU at its pre-activations `pre`, as autograd takes it: 1 where
    pre > 0, else `negative_slope` (at least float32, so the slope is not rounded to bfloat16)."""
    dtype = torch.promote_types(pre.dtype, torch.float32)
    return torch.full_like(pre, negative_slope, dtype=dtype).masked_fill_(pre > 0, 1.0)


def _check_norm(norm: str) -> str:
    if norm not in NORMS:
        raise ConfigError(f"critic norm must be one of {', '.join(NORMS)}, got {norm!r}")
    return norm


def critic_norm(norm: str, channels: int) -> nn.Module:
    """The critic normalisation layer for `norm` (none|layer|batch) over `channels`."""
    if norm == "layer":
        return nn.GroupNorm(1, channels, eps=1e-5)
    if norm == "batch":
        return nn.BatchNorm2d(channels, eps=1e-5, track_running_stats=False)
    return nn.Identity()


class CondBatchNorm2d(nn.Module):
    """Batch norm (batch statistics) with a per-class scale and offset (tflib's cond_batchnorm)."""

    def __init__(self, channels: int, n_classes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, eps=1e-5, affine=False, track_running_stats=False)
        self.scale = nn.Embedding(n_classes, channels)
        self.offset = nn.Embedding(n_classes, channels)
        nn.init.ones_(self.scale.weight)
        nn.init.zeros_(self.offset.weight)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return (self.bn(x) * self.scale(y)[:, :, None, None]) + self.offset(y)[:, :, None, None]


def _gen_norm(channels: int, n_classes: int | None) -> nn.Module:
    if n_classes:
        return CondBatchNorm2d(channels, n_classes)
    return nn.BatchNorm2d(channels, eps=1e-5, track_running_stats=False)


def _apply_norm(norm: nn.Module, x: Tensor, y: Tensor | None) -> Tensor:
    return norm(x, y) if isinstance(norm, CondBatchNorm2d) else norm(x)


def _up(x: Tensor) -> Tensor:
    """tflib's UpsampleConv resampling: 4 copies + depth_to_space = nearest-neighbour x2."""
    return F.interpolate(x, scale_factor=2, mode="nearest")


def _pool(x: Tensor) -> Tensor:
    """tflib's mean-pool: the mean of each 2x2 block."""
    return F.avg_pool2d(x, 2)


class ResBlock(nn.Module):
    """The pre-activation residual block of gan_cifar_resnet.py / gan_64x64.py:

        out = shortcut(x) + conv2(relu(N2(conv1(relu(N1(x))))))
        resample None: conv1 in->out, conv2 out->out; shortcut identity if in == out else 1x1 conv
        resample 'up':   conv1 = up -> conv in->out;  conv2 out->out;  shortcut = up -> 1x1 conv
        resample 'down': conv1 in->in;  conv2 = conv in->out -> mean-pool;  shortcut 1x1 conv + pool
    N1, N2: `norm1`/`norm2` modules (batch norm / conditional batch norm in generators, the critic's
    `norm` in critics).  conv1 has no bias in the 64x64 networks (`conv1_bias=False`).
    The 1x1 shortcut of a down block is run as pool -> conv (the original's CIFAR file writes conv ->
    pool, its 64x64 file pool -> conv: the same linear map)."""

    def __init__(self, c_in: int, c_out: int, resample: str | None, norm1: nn.Module, norm2: nn.Module,
                 conv1_bias: bool = True):
        super().__init__()
        if resample not in (None, "up", "down"):
            raise ValueError(f"resample must be None, 'up' or 'down', got {resample!r}")
        self.resample = resample
        mid = c_in if resample == "down" else c_out
        self.norm1, self.norm2 = norm1, norm2
        self.conv1 = conv2d(c_in, mid, 3, bias=conv1_bias)
        self.conv2 = conv2d(mid, c_out, 3)
        self.shortcut = (None if c_in == c_out and resample is None
                         else conv2d(c_in, c_out, 1, he=False))

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        if self.shortcut is None:
            skip = x
        elif self.resample == "up":
            skip = self.shortcut(_up(x))
        elif self.resample == "down":
            skip = self.shortcut(_pool(x))
        else:
            skip = self.shortcut(x)
        h = torch.relu(_apply_norm(self.norm1, x, y))
        h = self.conv1(_up(h) if self.resample == "up" else h)
        h = torch.relu(_apply_norm(self.norm2, h, y))
        h = self.conv2(h)
        if self.resample == "down":
            h = _pool(h)
        return skip + h


# ----------------------------------------------------------------------------- base classes

class _Generator(nn.Module):
    z_dim: int = Z_DIM
    conditional: bool = False
    n_classes: int | None = None

    def _check_labels(self, z: Tensor, y: Tensor | None) -> Tensor | None:
        if self.conditional:
            if y is None:
                raise ValueError("this generator is conditional: call it as gen(z, y) with labels y [B]")
            if y.shape != (z.shape[0],):
                raise ValueError(f"labels must have shape [{z.shape[0]}], got {tuple(y.shape)}")
            return y.long()
        if y is not None:
            raise ValueError("this generator is unconditional: call it as gen(z)")
        return None


# ----------------------------------------------------------------------------- MNIST (gan_mnist.py)

class MnistGenerator(_Generator):
    """z [B, 128] -> Linear 4*4*4DIM -> ReLU -> [4DIM, 4, 4] -> deconv 5x5 -> [2DIM, 8, 8] -> ReLU
    -> crop 7x7 -> deconv -> [DIM, 14, 14] -> ReLU -> deconv -> [1, 28, 28] -> sigmoid.
    No batch norm (the original adds it only in its weight-clipping mode)."""

    def __init__(self, dim: int = 64, z_dim: int = Z_DIM):
        super().__init__()
        _check_sizes(dim=dim, z_dim=z_dim)
        self.dim, self.z_dim = dim, z_dim
        self.inp = linear(z_dim, 4 * 4 * 4 * dim)
        self.deconv1 = _Deconv2d(4 * dim, 2 * dim)
        self.deconv2 = _Deconv2d(2 * dim, dim)
        self.deconv3 = _Deconv2d(dim, 1)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """z [B, z_dim] -> images [B, 1, 28, 28] in [0, 1]."""
        self._check_labels(z, y)
        h = torch.relu(self.inp(z)).view(z.shape[0], 4 * self.dim, 4, 4)
        h = torch.relu(self.deconv1(h))[:, :, :7, :7]
        h = torch.relu(self.deconv2(h))
        return torch.sigmoid(self.deconv3(h))


class MnistCritic(nn.Module):
    """x [B, 1, 28, 28] -> conv 5x5 s2 1->DIM (14x14), LeakyReLU 0.2 -> DIM->2DIM s2 (7x7) [norm]
    LeakyReLU -> 2DIM->4DIM s2 (4x4) [norm] LeakyReLU -> Linear 4*4*4DIM -> 1.  [norm] is where
    the original's weight-clipping mode puts batch norm; none in the paper's WGAN-GP."""

    def __init__(self, dim: int = 64, norm: str = "none"):
        super().__init__()
        _check_sizes(dim=dim)
        self.dim, self.norm = dim, _check_norm(norm)
        self.conv1 = _SameConv2d(1, dim, 5, 2)
        self.conv2 = _SameConv2d(dim, 2 * dim, 5, 2)
        self.norm2 = critic_norm(norm, 2 * dim)
        self.conv3 = _SameConv2d(2 * dim, 4 * dim, 5, 2)
        self.norm3 = critic_norm(norm, 4 * dim)
        self.out = linear(4 * 4 * 4 * dim, 1)

    def forward(self, x: Tensor) -> Tensor:
        """x [B, 1, 28, 28] -> scores [B]."""
        h = F.leaky_relu(self.conv1(x), 0.2)
        h = F.leaky_relu(self.norm2(self.conv2(h)), 0.2)
        h = F.leaky_relu(self.norm3(self.conv3(h)), 0.2)
        return self.out(h.flatten(1)).squeeze(1)

    @property
    def input_grad(self):
        """The gradient penalty's fast path (`textgan.penalty.penalty_and_norms`): `_input_grad` without
        normalisation (the paper's WGAN-GP critic); None with layer or batch norm, whose input
        gradient the penalty takes by autograd's double backward."""
        return self._input_grad if self.norm == "none" else None

    def _input_grad(self, x: Tensor) -> Tensor:
        """d sum_i D(x_i) / d x  [B, 1, 28, 28], differentiable w.r.t. the parameters (not w.r.t. x).

        As the text critic's `input_grad`: autograd's double backward gives the same values but also
        pushes zeros back through the forward graph (LeakyReLU's derivative is piecewise constant).
        Here the forward runs without a graph only for the LeakyReLU slopes s_l (1 where the
        pre-activation is > 0, else 0.2, as autograd's), and the backward chain is written out:
            g_3 = out.weight as [4DIM, 4, 4] * s_3        (the same weight for every sample)
            g_2 = conv3^T(g_3) * s_2,   g_1 = conv2^T(g_2) * s_1,   dD/dx = conv1^T(g_1)
        with conv^T the transpose of a 'SAME' stride-2 convolution (`_SameConv2d.transpose`)."""
        with torch.no_grad():
            p1 = self.conv1(x)
            p2 = self.conv2(F.leaky_relu(p1, 0.2))
            p3 = self.conv3(F.leaky_relu(p2, 0.2))
            s1, s2, s3 = (_leaky_slope(p, 0.2) for p in (p1, p2, p3))
        g = self.out.weight.view(1, 4 * self.dim, *p3.shape[-2:]) * s3
        g = self.conv3.transpose(g, p2.shape[-2:]) * s2
        g = self.conv2.transpose(g, p1.shape[-2:]) * s1
        return self.conv1.transpose(g, x.shape[-2:])


# ----------------------------------------------------------------------------- CIFAR-10 ResNet

class ResNet32Generator(_Generator):
    """gan_cifar_resnet.py: z [B, 128] -> Linear 4*4*DIM -> [DIM, 4, 4] -> 3 up-blocks (8, 16, 32)
    -> BN -> ReLU -> conv 3x3 DIM->C (Glorot) -> tanh.  Conditional: class-conditional BN in the blocks."""

    def __init__(self, dim: int = 128, channels: int = 3, z_dim: int = Z_DIM,
                 conditional: bool = False, n_classes: int = 10):
        super().__init__()
        _check_sizes(dim=dim, channels=channels, z_dim=z_dim, n_classes=n_classes)
        self.dim, self.channels, self.z_dim = dim, channels, z_dim
        self.conditional, self.n_classes = bool(conditional), (n_classes if conditional else None)
        nc = self.n_classes
        self.inp = linear(z_dim, 4 * 4 * dim)
        self.blocks = nn.ModuleList([ResBlock(dim, dim, "up", _gen_norm(dim, nc), _gen_norm(dim, nc))
                                     for _ in range(3)])
        self.out_norm = _gen_norm(dim, None)
        self.out = conv2d(dim, channels, 3, he=False)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """z [B, z_dim] (and labels y [B] when conditional) -> images [B, C, 32, 32] in [-1, 1]."""
        y = self._check_labels(z, y)
        h = self.inp(z).view(z.shape[0], self.dim, 4, 4)
        for blk in self.blocks:
            h = blk(h, y)
        return torch.tanh(self.out(torch.relu(self.out_norm(h))))


class ResNet32Critic(nn.Module):
    """gan_cifar_resnet.py: x [B, C, 32, 32] -> OptimizedResBlockDisc1 (conv 3x3 C->DIM, ReLU,
    conv 3x3, mean-pool; shortcut mean-pool + 1x1 conv; 16x16) -> down block (8x8) -> 2 plain blocks
    -> ReLU -> mean over H, W -> Linear 1 (+ Linear n_classes, the AC-GAN head, when conditional).
    `norm` goes in the last three blocks (N1, N2), as the original's NORMALIZATION_D."""

    def __init__(self, dim: int = 128, channels: int = 3, conditional: bool = False,
                 n_classes: int = 10, norm: str = "none"):
        super().__init__()
        _check_sizes(dim=dim, channels=channels, n_classes=n_classes)
        self.dim, self.channels, self.norm = dim, channels, _check_norm(norm)
        self.conditional, self.n_classes = bool(conditional), (n_classes if conditional else None)
        self.conv1 = conv2d(channels, dim, 3)
        self.conv2 = conv2d(dim, dim, 3)
        self.shortcut1 = conv2d(channels, dim, 1, he=False)
        self.blocks = nn.ModuleList([
            ResBlock(dim, dim, "down", critic_norm(norm, dim), critic_norm(norm, dim)),
            ResBlock(dim, dim, None, critic_norm(norm, dim), critic_norm(norm, dim)),
            ResBlock(dim, dim, None, critic_norm(norm, dim), critic_norm(norm, dim)),
        ])
        self.out = linear(dim, 1)
        self.classifier = linear(dim, n_classes) if conditional else None

    def features(self, x: Tensor) -> Tensor:
        """x [B, C, 32, 32] -> pooled features [B, DIM]."""
        h = self.shortcut1(_pool(x)) + _pool(self.conv2(torch.relu(self.conv1(x))))
        for blk in self.blocks:
            h = blk(h)
        return torch.relu(h).mean(dim=(2, 3))

    def forward(self, x: Tensor, with_logits: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """x [B, C, 32, 32] -> scores [B]; with_logits=True (AC-GAN critic only): (scores, logits [B, K])."""
        f = self.features(x)
        score = self.out(f).squeeze(1)
        if not with_logits:
            return score
        if self.classifier is None:
            raise ValueError("this critic has no class head (build it with conditional=True)")
        return score, self.classifier(f)


# ----------------------------------------------------------------------------- 64x64 ResNet

class ResNet64Generator(_Generator):
    """gan_64x64.py GoodGenerator: z [B, 128] -> Linear 4*4*8DIM -> [8DIM, 4, 4] -> up-blocks
    8D->8D, 8D->4D, 4D->2D, 2D->D (8, 16, 32, 64) -> BN -> ReLU -> conv 3x3 D->C -> tanh."""

    def __init__(self, dim: int = 64, channels: int = 3, z_dim: int = Z_DIM):
        super().__init__()
        _check_sizes(dim=dim, channels=channels, z_dim=z_dim)
        self.dim, self.channels, self.z_dim = dim, channels, z_dim
        self.inp = linear(z_dim, 4 * 4 * 8 * dim)
        chans = [8 * dim, 8 * dim, 4 * dim, 2 * dim, dim]
        self.blocks = nn.ModuleList([ResBlock(a, b, "up", _gen_norm(a, None), _gen_norm(b, None),
                                              conv1_bias=False) for a, b in zip(chans, chans[1:])])
        self.out_norm = _gen_norm(dim, None)
        self.out = conv2d(dim, channels, 3)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """z [B, z_dim] -> images [B, C, 64, 64] in [-1, 1]."""
        self._check_labels(z, y)
        h = self.inp(z).view(z.shape[0], 8 * self.dim, 4, 4)
        for blk in self.blocks:
            h = blk(h)
        return torch.tanh(self.out(torch.relu(self.out_norm(h))))


class ResNet64Critic(nn.Module):
    """gan_64x64.py GoodDiscriminator: x [B, C, 64, 64] -> conv 3x3 C->DIM (Glorot) -> down-blocks
    D->2D, 2D->4D, 4D->8D, 8D->8D (32, 16, 8, 4) -> flatten 4*4*8DIM -> Linear 1 (no final ReLU).
    `norm` (default layer, the paper's) in every block (N1, N2)."""

    def __init__(self, dim: int = 64, channels: int = 3, norm: str = "layer"):
        super().__init__()
        _check_sizes(dim=dim, channels=channels)
        self.dim, self.channels, self.norm = dim, channels, _check_norm(norm)
        self.inp = conv2d(channels, dim, 3, he=False)
        chans = [dim, 2 * dim, 4 * dim, 8 * dim, 8 * dim]
        self.blocks = nn.ModuleList([ResBlock(a, b, "down", critic_norm(norm, a), critic_norm(norm, a),
                                              conv1_bias=False) for a, b in zip(chans, chans[1:])])
        self.out = linear(4 * 4 * 8 * dim, 1)

    def forward(self, x: Tensor) -> Tensor:
        """x [B, C, 64, 64] -> scores [B]."""
        h = self.inp(x)
        for blk in self.blocks:
            h = blk(h)
        return self.out(h.flatten(1)).squeeze(1)


# ----------------------------------------------------------------------------- builder

def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"model {name} must be a positive integer, got {value!r}")


def build_image_models(kind: str, size: int | None = None, channels: int | None = None,
                       dim: int | None = None, conditional: bool = False, n_classes: int = 10,
                       norm: str | None = None, z_dim: int | None = None) -> tuple[nn.Module, nn.Module]:
    """(generator, critic) of `kind` (toy | mnist | cifar-resnet | resnet64) with the paper's DIM
    and critic normalisation unless given.  `size`/`channels` are checked against the kind (mnist:
    28 and 1; cifar-resnet: 32; resnet64: 64; toy ignores them: its data are [B, 2]).  Only
    cifar-resnet can be conditional (the AC-GAN of the paper).  `z_dim`: the noise size (toy 2,
    others 128 unless given)."""
    if kind not in KINDS:
        raise ConfigError(f"image model must be one of {', '.join(KINDS)}, got {kind!r}")
    dim = DEFAULT_DIM[kind] if dim is None else dim
    norm = DEFAULT_NORM[kind] if norm is None else _check_norm(norm)
    if conditional and kind != "cifar-resnet":
        raise ConfigError(f"a conditional (AC-GAN) model is available for cifar-resnet only, not {kind}")
    if kind == "toy":
        return ToyGenerator(data_dim=2, z_dim=z_dim or 2, dim=dim), ToyCritic(data_dim=2, dim=dim, norm=norm)
    want = SIZES[kind]
    if size is not None and size != want:
        raise ConfigError(f"the {kind} networks make {want}x{want} images, got size {size}")
    if kind == "mnist":
        if channels not in (None, 1):
            raise ConfigError(f"the mnist networks make 1-channel images, got {channels} channels")
        return MnistGenerator(dim=dim, z_dim=z_dim or Z_DIM), MnistCritic(dim=dim, norm=norm)
    channels = 3 if channels is None else channels
    if kind == "cifar-resnet":
        return (ResNet32Generator(dim=dim, channels=channels, z_dim=z_dim or Z_DIM, conditional=conditional,
                                  n_classes=n_classes),
                ResNet32Critic(dim=dim, channels=channels, conditional=conditional, n_classes=n_classes,
                               norm=norm))
    return (ResNet64Generator(dim=dim, channels=channels, z_dim=z_dim or Z_DIM),
            ResNet64Critic(dim=dim, channels=channels, norm=norm))
