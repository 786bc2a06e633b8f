"""Autoregressive language models trained by maximum likelihood: the yardstick of `--objective mle`.

Both read token ids [B, L] and return logits [B, L, V] where position t predicts token t from the
tokens before it (teacher forcing): the input is the sequence shifted right by one behind a
dedicated start symbol, index V of an embedding of V + 1 rows (no vocabulary token doubles as it).

- `ConvLM` (`--arch conv`): the paper's residual blocks made causal, x + 0.3 * conv2(relu(conv1(relu(x))))
  with kernel-5 convolutions padded on the left only (4 positions), at the same DIM and number of
  blocks as the GAN; each block sees 8 more past tokens (2 blocks: 16, 5 blocks: 40).
- `GRULM` (`--arch gru`): a 2-layer GRU of width DIM, the recurrent models of Press et al. (2017).

Sampling (`sample_ids`) draws each token from softmax(logits / T) in turn with a given random
generator (ancestral sampling), or takes the argmax (greedy).  `z_dim` is 1 only so that the
common sampling loop (`textgan/sample.py`) can size its batches; the noise is never read.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textgan.errors import ConfigError
from textgan.models.text import _check_positive, tflib_init_


def draw(logits: Tensor, temperature: float, generator: torch.Generator | None) -> Tensor:
    """One token id per row of logits [..., V], from softmax(logits / temperature)."""
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    return torch.multinomial(flat, 1, generator=generator).view(probs.shape[:-1])


class _LM(nn.Module):
    autoregressive = True
    default_decode = "sample"     # what the run's evaluations and `sample` use unless told otherwise
    z_dim = 1

    def __init__(self, vocab_size: int, dim: int, seq_len: int):
        super().__init__()
        self.vocab_size, self.dim, self.seq_len = vocab_size, dim, seq_len
        self.bos = vocab_size
        self.embed = nn.Embedding(vocab_size + 1, dim)

    def _init_embedding(self) -> None:
        # as the critic's one-hot input layer, a Conv1d(V + 1, dim, 1) under tflib's initialisation
        bound = math.sqrt(3.0) * math.sqrt(4.0 / (self.vocab_size + 1 + self.dim))
        with torch.no_grad():
            self.embed.weight.uniform_(-bound, bound)

    def shifted(self, ids: Tensor) -> Tensor:
        """[B, L] targets -> [B, L] inputs: the start symbol, then ids[:, :-1]."""
        start = torch.full_like(ids[:, :1], self.bos)
        return torch.cat([start, ids[:, :-1]], dim=1)

    def forward(self, ids: Tensor) -> Tensor:
        """Target ids [B, L] -> logits [B, L, V] (position t sees ids[:, :t] only)."""
        return self.logits(ids)

    @torch.no_grad()
    def sample_ids(self, n: int, generator: torch.Generator | None, *, temperature: float = 1.0,
                   greedy: bool = False) -> Tensor:
        """[n, seq_len] token ids drawn one position at a time."""
        device = self.embed.weight.device
        ids = torch.zeros(n, 0, dtype=torch.long, device=device)
        state = None
        for _ in range(self.seq_len):
            logits, state = self.next_logits(ids, state)
            token = logits.argmax(-1) if greedy else draw(logits, temperature, generator)
            ids = torch.cat([ids, token.unsqueeze(1)], dim=1)
        return ids


class CausalResBlock(nn.Module):
    """The paper's ResBlock with its kernel-5 convolutions padded on the left (causal)."""

    def __init__(self, dim: int):
        super().__init__()
        self.conv1 = nn.Conv1d(dim, dim, 5)
        self.conv2 = nn.Conv1d(dim, dim, 5)

    def forward(self, x: Tensor) -> Tensor:
        a = self.conv1(F.pad(torch.relu(x), (4, 0)))
        return x + 0.3 * self.conv2(F.pad(torch.relu(a), (4, 0)))


class ConvLM(_LM):
    def __init__(self, vocab_size: int, dim: int = 512, seq_len: int = 32, n_blocks: int = 5):
        _check_positive(vocab_size=vocab_size, dim=dim, seq_len=seq_len, n_blocks=n_blocks)
        super().__init__(vocab_size, dim, seq_len)
        self.blocks = nn.Sequential(*[CausalResBlock(dim) for _ in range(n_blocks)])
        self.out = nn.Conv1d(dim, vocab_size, 1)
        self.apply(tflib_init_)
        self._init_embedding()

    def _run(self, inputs: Tensor) -> Tensor:
        h = self.embed(inputs).transpose(1, 2)           # [B, dim, L]
        return self.out(self.blocks(h)).transpose(1, 2)  # [B, L, V]

    def logits(self, ids: Tensor) -> Tensor:
        return self._run(self.shifted(ids))

    def next_logits(self, prefix: Tensor, state=None) -> tuple[Tensor, None]:
        """The next token's logits [B, V] after `prefix` [B, t] (the whole prefix again: no cache)."""
        start = torch.full((prefix.shape[0], 1), self.bos, dtype=torch.long, device=prefix.device)
        return self._run(torch.cat([start, prefix], dim=1))[:, -1], None


class GRULM(_LM):
    def __init__(self, vocab_size: int, dim: int = 512, seq_len: int = 32, n_layers: int = 2):
        _check_positive(vocab_size=vocab_size, dim=dim, seq_len=seq_len, n_layers=n_layers)
        super().__init__(vocab_size, dim, seq_len)
        self.rnn = nn.GRU(dim, dim, num_layers=n_layers, batch_first=True)
        self.out = nn.Linear(dim, vocab_size)
        self.apply(tflib_init_)           # the output layer; the GRU keeps PyTorch's initialisation
        self._init_embedding()

    def logits(self, ids: Tensor) -> Tensor:
        h, _ = self.rnn(self.embed(self.shifted(ids)))
        return self.out(h)

    def next_logits(self, prefix: Tensor, state=None) -> tuple[Tensor, Tensor]:
        """The next token's logits [B, V]: one step from the hidden state after prefix[:, :-1]."""
        last = prefix[:, -1:] if prefix.shape[1] else \
            torch.full((prefix.shape[0], 1), self.bos, dtype=torch.long, device=prefix.device)
        h, state = self.rnn(self.embed(last), state)
        return self.out(h[:, -1]), state


def build_lm(cfg) -> _LM:
    """The maximum-likelihood model of a ModelConfig (cfg.arch: conv | gru)."""
    if cfg.arch == "gru":
        return GRULM(cfg.vocab_size, dim=cfg.dim, seq_len=cfg.seq_len)
    if cfg.arch == "conv":
        return ConvLM(cfg.vocab_size, dim=cfg.dim, seq_len=cfg.seq_len, n_blocks=cfg.n_blocks)
    raise ConfigError(f"--arch must be conv or gru, got {cfg.arch!r}")
