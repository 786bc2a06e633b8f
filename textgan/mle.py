"""The maximum-likelihood yardstick: `train-lm --objective mle`.

An autoregressive model (textgan/models/autoregressive.py: `--arch conv`, the paper's residual
blocks made causal, or `--arch gru`) is trained by teacher forcing on the same encoded corpus,
tokens and sequence length as the GAN, through the same run lifecycle (run directory, config.json,
the text evaluator's metrics every --eval-every, checkpoints, exact resume, Ctrl-C, torchrun).
Its samples are drawn ancestrally at temperature 1 unless told otherwise (`sample --temperature`,
`--decode argmax`).  The objective's optimiser settings are the preset layer "objective/mle"
(textgan/presets.py); the model's size is the preset's (paper: DIM 512 and 5 blocks, small: DIM 64
and 2 blocks).

`MLETrainer` is the Trainer without a critic: one Adam step on the next-token cross-entropy per
iteration; `generator_loss` in metrics.jsonl is that cross-entropy (nats per token).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from textgan.losses import mle_loss
from textgan.modality import Model, sampling_weights
from textgan.models.autoregressive import build_lm
from textgan.optim import set_learning_rates
from textgan.train import Trainer, _wide


def _parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def build_mle_model(cfg, log) -> nn.Module:
    """The run's model; logs its parameter count beside the GAN generator's at the same settings."""
    from textgan.models.text import Generator
    model = build_lm(cfg)
    with torch.device("meta"):         # only counted: no memory, no draws from the training RNG
        gan = Generator(cfg.vocab_size, dim=cfg.dim, seq_len=cfg.seq_len, n_blocks=cfg.n_blocks,
                        z_dim=cfg.z_dim)
    log(f"maximum likelihood, --arch {cfg.arch}: {_parameters(model):,} parameters "
        f"(the GAN generator at these settings: {_parameters(gan):,})")
    return model


class MLETrainer(Trainer):
    """The run lifecycle's loop for `--objective mle` (constructed with critic None)."""

    def iteration(self) -> None:
        set_learning_rates(self.step, self.cfg, self.opt_g, None)
        ids = self.sampler.next_ids()          # this rank's rows of the global batch [b, L]
        with self._autocast():
            loss = mle_loss(_wide(self._G_step(ids)), ids)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        if self.average is not None:
            self.average.update(self.step)
        self.stats.add_generator(loss)
        self.step += 1

    def read_stats(self) -> dict:
        return {"generator_loss": super().read_stats()["generator_loss"]}

    def _postfix(self, record: dict) -> dict:
        shown = {"nll": f"{record['generator_loss']:.3f}"}
        key = self.hooks.headline
        if key and isinstance(record.get(key), (int, float)):
            shown[key] = f"{record[key]:.3f}"
        return shown


def load_mle(modality, state: dict, cfg, vocab, path: Path, device: torch.device) -> Model:
    """A checkpoint's maximum-likelihood model, ready to sample (no critic)."""
    model = build_lm(cfg.model)
    model.load_state_dict(sampling_weights(state))
    return Model(modality, model.to(device), cfg, int(state["step"]), critic=None,
                 extra={"vocab": vocab}, source=Path(path))
