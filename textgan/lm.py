"""The language-model task: what `train.py` needs to train on text.

A corpus (integer array + vocabulary) becomes an on-device batch sampler that
emits one-hot [B, L, V] batches, and an evaluation hook that generates 640
lines, measures their n-gram JS divergence against the corpus statistics (built
once per run) and writes them to the run directory.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from textgan.metrics.ngrams import NgramReference
from textgan.sample import generate_ids


def corpus_tensor(ids: np.ndarray, device: torch.device) -> torch.Tensor:
    """The encoded corpus as a compact tensor on the device (indexing needs a signed or uint8 type)."""
    if ids.dtype == np.uint16:
        ids = ids.astype(np.int32)  # torch indexes uint16 poorly; int32 keeps it compact
    with warnings.catch_warnings():
        # a memory-mapped cache is read-only; the tensor is only ever read
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(np.ascontiguousarray(ids)).to(device)


class TextBatches:
    """Shuffled epochs of the corpus, as the original's `inf_train_gen`: each epoch is a fresh permutation
    of the lines cut into consecutive batches (a trailing partial batch is dropped).  The order is drawn
    from its own seeded generator, so the state is just (epoch, position) and resume is exact."""

    def __init__(self, ids: torch.Tensor, batch_size: int, vocab_size: int, seed: int):
        if ids.shape[0] < batch_size:
            raise ValueError(f"the corpus has {ids.shape[0]} lines, fewer than the batch size {batch_size}")
        self.ids, self.batch_size, self.vocab_size, self.seed = ids, batch_size, vocab_size, seed
        self.epoch, self.pos = 0, 0
        self._perm = self._permutation(0)

    def _permutation(self, epoch: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.ids.shape[0], generator=g).to(self.ids.device)

    def next_ids(self) -> torch.Tensor:
        if self.pos + self.batch_size > self._perm.shape[0]:
            self.epoch, self.pos = self.epoch + 1, 0
            self._perm = self._permutation(self.epoch)
        rows = self._perm[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        return self.ids[rows].long()

    def next(self) -> torch.Tensor:
        # One-hot by scatter on the device (F.one_hot checks the id range, a host sync on CUDA).
        ids = self.next_ids()
        out = torch.zeros(*ids.shape, self.vocab_size, device=ids.device)
        return out.scatter_(-1, ids.unsqueeze(-1), 1.0)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "pos": self.pos, "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        self.seed, self.epoch, self.pos = int(state["seed"]), int(state["epoch"]), int(state["pos"])
        self._perm = self._permutation(self.epoch)


class TextEvaluator:
    """JS-1..4 of `n_samples` generated lines against the corpus, every evaluation step."""

    def __init__(self, corpus_ids: np.ndarray, vocab, n_samples: int, batch_size: int,
                 seed: int, samples_dir: str | Path | None, max_n: int = 4,
                 line_checks: dict[str, Callable[[list[str]], float]] | None = None):
        self.reference = NgramReference(corpus_ids, max_n=max_n)
        self.line_checks = line_checks or {}   # e.g. {"grammar": share of lines the grammar accepts}
        self.vocab, self.n_samples, self.batch_size = vocab, n_samples, batch_size
        self.seed = seed
        self.samples_dir = Path(samples_dir) if samples_dir is not None else None

    def __call__(self, generator: nn.Module, step: int) -> dict:
        # Its own noise generator: evaluating never moves the training RNG, so resume stays exact.
        ids = generate_ids(generator, self.n_samples, batch_size=self.batch_size,
                           seed=self.seed * 7919 + step)
        result = {k: round(v, 6) for k, v in self.reference.js(ids).items()}
        lines = self.vocab.decode(ids) if self.samples_dir is not None or self.line_checks else None
        for name, check in self.line_checks.items():
            result[name] = round(check(lines), 6)
        if self.samples_dir is not None:
            self.samples_dir.mkdir(parents=True, exist_ok=True)
            (self.samples_dir / f"samples_{step:08d}.txt").write_text(
                "".join(line + "\n" for line in lines), encoding="utf-8")
        return result
