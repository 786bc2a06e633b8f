"""Checkpoint -> samples: argmax of the generator's softmax at each position, as the paper."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from textgan.checkpoint import find_checkpoint
from textgan.config import RunConfig
from textgan.errors import CheckpointError


@torch.no_grad()
def generate_ids(generator: nn.Module, n: int, *, batch_size: int = 64, seed: int | None = None) -> np.ndarray:
    """[n, L] token ids; `seed` draws the noise from a private generator (the global RNG is untouched)."""
    device = next(generator.parameters()).device
    g = None
    if seed is not None:
        g = torch.Generator(device=device).manual_seed(seed)
    was_training = generator.training
    generator.eval()
    out = []
    try:
        for start in range(0, n, batch_size):
            b = min(batch_size, n - start)
            z = torch.randn(b, generator.z_dim, device=device, generator=g)
            out.append(generator.logits(z).argmax(-1).cpu())
    finally:
        generator.train(was_training)
    ids = torch.cat(out) if out else torch.zeros(0, 0, dtype=torch.long)
    return ids.numpy()


def sampling_weights(state: dict) -> dict:
    """The generator weights a checkpoint's samples come from: the run's weight average when it kept
    one (`--ema`), else the last weights."""
    return state.get("generator_avg") or state["generator"]


def load_generator(run_dir: str | Path | None = None, checkpoint: str | Path | None = None,
                   device: torch.device | str = "cpu", warn=None):
    """(generator, vocabulary, config, step) from a run directory's newest good checkpoint or a file."""
    from textgan.data.vocab import Vocab
    from textgan.models.text import build_text_models
    from textgan.runs import resolve_conv

    state, path = find_checkpoint(run_dir, checkpoint, map_location="cpu", warn=warn)
    try:
        cfg = RunConfig.from_dict(state["config"])
        vocab = Vocab.from_dict(state["vocab"])
        generator, _ = build_text_models(cfg.model, conv=resolve_conv(cfg, torch.device(device)))
        generator.load_state_dict(sampling_weights(state))
    except (KeyError, TypeError, RuntimeError) as e:
        raise CheckpointError(f"checkpoint {path} does not hold a usable text generator ({e})") from None
    return generator.to(device), vocab, cfg, int(state["step"])


def sample_lines(generator: nn.Module, vocab, n: int, *, seed: int | None = None,
                 batch_size: int = 64) -> list[str]:
    return vocab.decode(generate_ids(generator, n, batch_size=batch_size, seed=seed))
