"""The character language model of Gulrajani et al. (2017), `gan_language.py`.

Generator: z [B, z_dim] -> Linear(z_dim, seq_len*dim) -> view [B, dim, seq_len]
           -> n_blocks ResBlocks -> Conv1d(dim, V, 1) -> [B, L, V] -> softmax over V.
Critic:    x [B, L, V] -> [B, V, L] -> Conv1d(V, dim, 1) -> n_blocks ResBlocks
           -> flatten [B, dim*seq_len] -> Linear(seq_len*dim, 1) -> [B].
ResBlock:  x + 0.3 * conv2(relu(conv1(relu(x)))), Conv1d(dim, dim, 5, padding=2).

The original is channels-first (tflib's conv1d uses NCW), so the view after the
input Linear and the flatten before the output Linear are channel-major, as here.
No normalisation layers anywhere (the gradient penalty is per sample).

Two implementations of the same networks, chosen per model by `conv` (the parameters and their
state_dict are identical, so a checkpoint loads into either):
- "direct": the layout above with oneDNN/cuDNN convolutions (GPUs, and the reference for tests);
- "winograd": the blocked layout and F(4,5) convolutions of `winograd.py`, the fast CPU path.
"""
from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textgan.config import ModelConfig
from textgan.errors import ConfigError
from textgan.models import winograd as wg

CONVS = ("direct", "winograd")


def tflib_init_(module: nn.Module) -> None:
    """Initialise one layer as the paper's code (tflib) does; use with `model.apply`.

    Conv1D (he_init=True): U(-s*sqrt(3), s*sqrt(3)), s = sqrt(4 / (fan_in + fan_out)),
      fan_in = in_ch * k, fan_out = out_ch * k (stride 1).
    Linear (initialization=None -> 'glorot'): same uniform with s = sqrt(2 / (in + out)).
    Biases: zero.  Draws from the torch RNG, so torch.manual_seed makes it reproducible.
    """
    if isinstance(module, nn.Conv1d):
        k = module.kernel_size[0]
        s = math.sqrt(4.0 / (module.in_channels * k + module.out_channels * k / module.stride[0]))
    elif isinstance(module, nn.Linear):
        s = math.sqrt(2.0 / (module.in_features + module.out_features))
    else:
        return
    bound = s * math.sqrt(3.0)
    with torch.no_grad():
        module.weight.uniform_(-bound, bound)
        if module.bias is not None:
            module.bias.zero_()


def _check_positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"model {name} must be a positive integer, got {value!r}")


def _check_conv(conv: str, seq_len: int) -> str:
    if conv not in CONVS:
        raise ConfigError(f"conv must be one of {', '.join(CONVS)}, got {conv!r}")
    if conv == "winograd" and not wg.supports(seq_len):
        raise ConfigError(f"conv winograd needs a sequence length divisible by {wg.TILE}, got {seq_len}")
    return conv


def _conv(x: Tensor, conv: nn.Conv1d) -> Tensor:
    """`conv(x)` for the blocks' Conv1d(k=5, padding 2), run as a [B, C, 1, L] 2-D convolution:
    the same sums, and oneDNN's 2-D kernels were about 10% faster per training step on CPU."""
    return F.conv2d(x.unsqueeze(2), conv.weight.unsqueeze(2), conv.bias, padding=(0, 2)).squeeze(2)


def _conv_t(g: Tensor, conv: nn.Conv1d) -> Tensor:
    """The transpose of `_conv` without its bias: the gradient w.r.t. its input, given g w.r.t. its output."""
    return F.conv_transpose2d(g.unsqueeze(2), conv.weight.unsqueeze(2), padding=(0, 2)).squeeze(2)


class ResBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.conv1 = nn.Conv1d(dim, dim, 5, padding=2)
        self.conv2 = nn.Conv1d(dim, dim, 5, padding=2)

    def forward(self, x: Tensor) -> Tensor:
        return x + 0.3 * _conv(torch.relu(_conv(torch.relu(x), self.conv1)), self.conv2)

    def forward_blocked(self, x: Tensor, masks: list | None = None) -> Tensor:
        """The same block on the blocked layout [4, B, T, C]; appends its ReLU masks to `masks`."""
        a = wg.conv(torch.relu(x), wg.transform_weight(self.conv1.weight), self.conv1.bias)
        if masks is not None:
            masks.append(((x > 0).to(x.dtype), (a > 0).to(a.dtype)))
        return wg.conv(torch.relu(a), wg.transform_weight(self.conv2.weight), self.conv2.bias,
                       residual=x, scale=0.3)

    def input_grad_blocked(self, g: Tensor, masks: tuple[Tensor, Tensor]) -> Tensor:
        """One step of the critic's backward chain (see `Critic.input_grad`) in the blocked layout."""
        m_in, m_mid = masks
        t = wg.conv(g, wg.transform_weight(self.conv2.weight, transpose=True)) * m_mid
        return torch.addcmul(g, wg.conv(t, wg.transform_weight(self.conv1.weight, transpose=True)),
                             m_in, value=0.3)


class Generator(nn.Module):
    def __init__(self, vocab_size: int, dim: int = 512, seq_len: int = 32, n_blocks: int = 5,
                 z_dim: int = 128, conv: str = "direct", gumbel_tau: float = 0.0,
                 straight_through: bool = False):
        super().__init__()
        _check_positive(vocab_size=vocab_size, dim=dim, seq_len=seq_len, n_blocks=n_blocks,
                        z_dim=z_dim)
        self.vocab_size, self.dim, self.seq_len, self.z_dim = vocab_size, dim, seq_len, z_dim
        self.gumbel_tau = float(gumbel_tau)
        self.straight_through = bool(straight_through)
        self.conv = _check_conv(conv, seq_len)
        self.inp = nn.Linear(z_dim, seq_len * dim)
        self.blocks = nn.Sequential(*[ResBlock(dim) for _ in range(n_blocks)])
        self.out = nn.Conv1d(dim, vocab_size, 1)
        self.apply(tflib_init_)

    def logits(self, z: Tensor) -> Tensor:
        """z [B, z_dim] -> unnormalised scores [B, L, V]."""
        h = self.inp(z).view(z.shape[0], self.dim, self.seq_len)
        if self.conv == "winograd":
            h = wg.channels_to_blocks(h)
            for blk in self.blocks:
                h = blk.forward_blocked(h)
            return wg.blocks_to_sequence(torch.nn.functional.linear(h, self.out.weight.squeeze(2),
                                                                    self.out.bias))
        return self.out(self.blocks(h)).transpose(1, 2)

    def forward(self, z: Tensor) -> Tensor:
        """z [B, z_dim] -> probabilities [B, L, V] (softmax over V).  In training mode only:
        - `gumbel_tau` > 0: Gumbel-softmax relaxed samples softmax((logits + g) / tau), g ~ Gumbel(0, 1)
          (Kusner & Hernandez-Lobato 2016), so that the critic sees near one-hot vectors, as real
          data is, rather than smooth distributions;
        - `straight_through`: exactly one-hot vectors, the argmax of those probabilities, whose
          gradient is taken to be the probabilities' own (the straight-through estimator, Bengio et
          al. 2013; with Gumbel noise, Jang et al. 2017's straight-through Gumbel-softmax).
        Decoding (`logits`) is unchanged."""
        logits = self.logits(z)
        if not self.training:
            return torch.softmax(logits, dim=-1)
        if self.gumbel_tau > 0:
            u = torch.rand_like(logits).clamp_(1e-10, 1.0 - 1e-7)
            probs = torch.softmax((logits - torch.log(-torch.log(u))) / self.gumbel_tau, dim=-1)
        else:
            probs = torch.softmax(logits, dim=-1)
        if self.straight_through:
            hard = torch.zeros_like(probs).scatter_(-1, probs.argmax(-1, keepdim=True), 1.0)
            return hard + (probs - probs.detach())      # the values of `hard`, the gradient of `probs`
        return probs


class Critic(nn.Module):
    def __init__(self, vocab_size: int, dim: int = 512, seq_len: int = 32, n_blocks: int = 5,
                 conv: str = "direct"):
        super().__init__()
        _check_positive(vocab_size=vocab_size, dim=dim, seq_len=seq_len, n_blocks=n_blocks)
        self.vocab_size, self.dim, self.seq_len = vocab_size, dim, seq_len
        self.conv = _check_conv(conv, seq_len)
        self.inp = nn.Conv1d(vocab_size, dim, 1)
        self.blocks = nn.Sequential(*[ResBlock(dim) for _ in range(n_blocks)])
        self.out = nn.Linear(seq_len * dim, 1)
        self.apply(tflib_init_)

    def forward(self, x: Tensor) -> Tensor:
        """x [B, L, V] (one-hot or probabilities) -> scores [B]."""
        if self.conv == "winograd":
            h = self._embed_blocked(x)
            for blk in self.blocks:
                h = blk.forward_blocked(h)
            return torch.einsum("ubtc,utc->b", h, self._out_weight_blocked()) + self.out.bias
        h = self.blocks(self.inp(x.transpose(1, 2)))
        return self.out(h.flatten(1)).squeeze(1)

    def _embed_blocked(self, x: Tensor) -> Tensor:
        """The input layer on the blocked layout: [B, L, V] -> [4, B, T, C]."""
        return torch.nn.functional.linear(wg.sequence_to_blocks(x), self.inp.weight.squeeze(2),
                                          self.inp.bias)

    def _out_weight_blocked(self) -> Tensor:
        """The output Linear's weight (channel-major, index c*L + l) in the blocked layout [4, T, C]."""
        return self.out.weight.view(self.dim, self.seq_len // wg.TILE, wg.TILE).permute(2, 1, 0)

    def input_grad(self, x: Tensor) -> Tensor:
        """d sum_i D(x_i) / d x  [B, L, V], differentiable w.r.t. the parameters (not w.r.t. x).

        The gradient penalty needs exactly this.  Autograd's double backward gives the same values,
        but it also pushes zeros back through the whole forward graph (ReLU's derivative is piecewise
        constant, so the masks carry no gradient), costing about a third more convolutions.  Here the
        forward runs without a graph only to get the ReLU masks, and the backward chain is written out:
            g_L = out.weight (the same for every sample)
            g  <- g + 0.3 * [h > 0] * conv1^T([a > 0] * conv2^T(g))   per block, last to first
            dD/dx = g^T inp.weight
        """
        if self.conv == "winograd":
            return self._input_grad_blocked(x)
        with torch.no_grad():
            masks = []
            h = self.inp(x.transpose(1, 2))
            for blk in self.blocks:
                a = _conv(torch.relu(h), blk.conv1)
                masks.append((h > 0, a > 0))
                h = h + 0.3 * _conv(torch.relu(a), blk.conv2)
        g = self.out.weight.view(1, self.dim, self.seq_len)
        for blk, (m_in, m_mid) in zip(reversed(self.blocks), reversed(masks)):
            t = _conv_t(g, blk.conv2) * m_mid
            g = g + 0.3 * (_conv_t(t, blk.conv1) * m_in)
        return torch.einsum("bdl,dv->blv", g, self.inp.weight.squeeze(2))

    def _input_grad_blocked(self, x: Tensor) -> Tensor:
        """`input_grad` on the blocked layout (the same chain, step for step)."""
        masks: list = []
        with torch.no_grad():
            h = self._embed_blocked(x)
            for blk in self.blocks:
                h = blk.forward_blocked(h, masks)
        g = self._out_weight_blocked().unsqueeze(1)          # [4, 1, T, C]: the same for all samples
        for blk, m in zip(reversed(self.blocks), reversed(masks)):
            g = blk.input_grad_blocked(g, m)
        return wg.blocks_to_sequence(g @ self.inp.weight.squeeze(2))


def build_text_models(cfg: ModelConfig, conv: str = "direct") -> tuple[Generator, Critic]:
    """The generator/critic pair for `cfg` (cfg.vocab_size comes from the corpus vocabulary), both
    running the convolutions `conv` ("direct" or "winograd"; see the module docstring)."""
    if cfg.vocab_size <= 0:
        raise ConfigError(f"model vocab_size must be set from the vocabulary (> 0), got {cfg.vocab_size}")
    gen = Generator(cfg.vocab_size, dim=cfg.dim, seq_len=cfg.seq_len, n_blocks=cfg.n_blocks,
                    z_dim=cfg.z_dim, conv=conv, gumbel_tau=cfg.gumbel_tau,
                    straight_through=cfg.straight_through)
    critic = Critic(cfg.vocab_size, dim=cfg.dim, seq_len=cfg.seq_len, n_blocks=cfg.n_blocks, conv=conv)
    return gen, critic
