"""A language-model run from start to finish: run directory, corpus, models, trainer.

RUN_DIR/
  config.json        everything needed to rebuild the run
  vocab.json         the vocabulary
  metrics.jsonl      one JSON object per logged step
  floor.json         JS of real held-out lines vs the corpus (the real-data floor)
  samples/           samples_<step>.txt, one generated line per line
  checkpoints/       ckpt-<step>.pt: networks, optimisers, step, RNG states, config, vocabulary
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch

from textgan.checkpoint import CHECKPOINT_DIR, list_checkpoints, load_latest
from textgan.config import RunConfig, validate_config
from textgan.errors import CheckpointError, ConfigError
from textgan.train import Trainer, TrainerHooks

# Settings that may change when a run is resumed; everything else must match.
RESUMABLE = {"iters", "eval_every", "checkpoint_every", "keep_checkpoints", "device", "on_nonfinite",
             "compile", "conv", "data_dir", "download"}


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {name!r} requested but CUDA is not available on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"device {name!r} requested but this machine has "
                              f"{torch.cuda.device_count()} CUDA device(s)")
    elif device.type != "cpu":
        raise ConfigError(f"unsupported device {name!r}; use auto, cpu, cuda or cuda:N")
    return device


def resolve_conv(cfg: RunConfig, device: torch.device) -> str:
    """The convolution implementation for `--conv auto`: Winograd F(4,5) on CPU in float32, where it
    measured ~1.3x faster per training step (bench/train_speed.py); cuDNN's direct ones elsewhere."""
    if cfg.train.conv != "auto":
        return cfg.train.conv
    from textgan.models.winograd import supports
    fast = device.type == "cpu" and cfg.train.precision == "fp32" and supports(cfg.model.seq_len)
    return "winograd" if fast else "direct"


def default_run_dir(corpus: str) -> Path:
    tag = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(corpus).name)[:40] or "corpus"
    return Path("runs") / f"{tag}-{time.strftime('%Y%m%d-%H%M%S')}"


def prepare_run_dir(out: Path, resume: bool) -> None:
    if resume:
        if not out.is_dir():
            raise ConfigError(f"cannot resume: no run directory at {out}")
        if not list_checkpoints(out / CHECKPOINT_DIR):
            raise ConfigError(f"cannot resume: {out} holds no checkpoint")
        return
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"run directory {out} already exists; pass --resume to continue it, "
                          "or choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise ConfigError(f"cannot write to run directory {out}: {e.strerror or e}") from None


def merge_resume_config(saved: RunConfig, overrides: dict) -> RunConfig:
    """The saved config with the allowed overrides applied; refuse any other difference."""
    differences = []
    for section in ("model", "data", "train"):
        obj = getattr(saved, section)
        for f in fields(obj):
            if f.name not in overrides or overrides[f.name] is None:
                continue
            new, old = overrides[f.name], getattr(obj, f.name)
            if f.name in RESUMABLE:
                setattr(obj, f.name, new)
            elif new != old:
                differences.append(f"{f.name} {old!r} in the run, {new!r} given")
    if "preset" in overrides and overrides["preset"] not in (None, saved.preset):
        differences.append(f"preset {saved.preset!r} in the run, {overrides['preset']!r} given")
    if differences:
        raise ConfigError("cannot resume with different settings: " + "; ".join(differences))
    return saved


def train_lm(cfg: RunConfig | None, out: str | Path | None, *, resume: bool = False,
             overrides: dict | None = None, progress: bool = True, interactive: bool = False,
             log=print) -> dict:
    """Train (or resume) a language-model run; returns a summary for the CLI."""
    from textgan.data.corpus import load_corpus
    from textgan.lm import TextBatches, TextEvaluator, corpus_tensor
    from textgan.models.text import build_text_models

    if resume:
        if out is None:
            raise ConfigError("--resume needs --out RUN_DIR")
        out = Path(out)
        prepare_run_dir(out, resume=True)
        try:
            saved = RunConfig.from_dict(json.loads((out / "config.json").read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            raise ConfigError(f"cannot read {out / 'config.json'}: {e}") from None
        cfg = merge_resume_config(saved, overrides or {})
    else:
        out = Path(out) if out is not None else default_run_dir(cfg.data.corpus)
    validate_config(cfg)
    device = resolve_device(cfg.train.device)
    if not resume:
        prepare_run_dir(out, resume=False)

    corpus = load_corpus(cfg.data, cfg.model.seq_len, progress=progress, interactive=interactive)
    cfg.model.vocab_size = len(corpus.vocab)
    log(f"corpus {corpus.name}: {corpus.ids.shape[0]:,} lines of {cfg.model.seq_len} tokens, "
        f"vocabulary {len(corpus.vocab)} ({corpus.source})")

    torch.manual_seed(cfg.train.seed)
    generator, critic = build_text_models(cfg.model, conv=resolve_conv(cfg, device))
    generator, critic = generator.to(device), critic.to(device)
    sampler = TextBatches(corpus_tensor(corpus.ids, device), cfg.train.batch_size,
                          len(corpus.vocab), cfg.train.seed)
    evaluator = TextEvaluator(corpus.ids, corpus.vocab, cfg.train.eval_samples, cfg.train.batch_size,
                              cfg.train.seed, out / "samples", line_checks=_line_checks(cfg))
    if corpus.heldout is not None and len(corpus.heldout) and not resume:
        _log_real_floor(evaluator, corpus.heldout, cfg.train.eval_samples, out, log)
    vocab_dict = corpus.vocab.to_dict()
    hooks = TrainerHooks(extra_state={"config": cfg.to_dict(), "vocab": vocab_dict},
                         log=log, progress=progress)
    trainer = Trainer(generator, critic, sampler, cfg.train, device, run_dir=out,
                      evaluator=evaluator, hooks=hooks)

    if resume:
        state, path = load_latest(out / CHECKPOINT_DIR, device, warn=log)
        if state.get("vocab") != vocab_dict:
            raise CheckpointError(f"the corpus now gives a different vocabulary than the run's "
                                  f"({_vocab_difference(state.get('vocab'), vocab_dict)}); "
                                  "resume with the corpus the run was trained on")
        trainer.load_state_dict(state)
        log(f"resuming {out} from {path.name} (step {trainer.step} of {cfg.train.iters})")
    _write_json(out / "config.json", cfg.to_dict())
    _write_json(out / "vocab.json", vocab_dict)

    record = trainer.fit()
    return {"run_dir": str(out), "step": trainer.step, "last": record}


def _line_checks(cfg: RunConfig) -> dict:
    """The built-in grammar knows exactly which lines it can produce: log that share too."""
    if cfg.data.corpus != "synthetic" or cfg.data.tokens != "char":
        return {}
    from textgan.data.synthetic import acceptance_rate
    seq_len = cfg.model.seq_len
    return {"grammar": lambda lines: acceptance_rate(lines, seq_len)}


def _log_real_floor(evaluator, heldout, n: int, out: Path, log) -> None:
    """JS of real held-out lines against the training corpus: the best a generator can hope for
    (the original printed it as "validation set JSD")."""
    floor = {k: round(v, 6) for k, v in evaluator.reference.js(np.asarray(heldout[:n])).items()}
    _write_json(out / "floor.json", {"heldout_lines": int(min(n, len(heldout))), **floor})
    log("real-data floor (" + f"{min(n, len(heldout))} held-out lines): "
        + ", ".join(f"{k} {v:.4f}" for k, v in floor.items()))


def _vocab_difference(old: dict | None, new: dict) -> str:
    if not old:
        return "the checkpoint has no vocabulary"
    a, b = old.get("tokens", []), new.get("tokens", [])
    if len(a) != len(b):
        return f"{len(a)} tokens in the run, {len(b)} now"
    i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
    if i is not None:
        return f"token {i} is {a[i]!r} in the run, {b[i]!r} now"
    return "its settings differ"


def _write_json(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def evaluate_lm(*, samples: str | None, run_dir: str | None, n: int, corpus: str, heldout: str | None,
                seq_len: int, max_lines: int, data_dir: str | None, download: bool, seed: int,
                interactive: bool = False, log=print) -> dict:
    """eval-lm: samples from a file (read exactly as the paper's evaluation) or generated from a run,
    measured against a corpus's raw lines."""
    from textgan.config import DataConfig
    from textgan.data.corpus import corpus_lines
    from textgan.data.text_io import read_lines
    from textgan.evaluate import evaluate_text
    from textgan.sample import load_generator, sample_lines

    if (samples is None) == (run_dir is None):
        raise ConfigError("give exactly one of --samples FILE or --run DIR")
    if seq_len <= 0 or max_lines <= 0 or n <= 0:
        raise ConfigError("--seq-len, --max-lines and -n must be positive")
    if samples is not None:
        from textgan.errors import CorpusError
        try:
            sample_text = read_lines(samples, max_lines=max_lines)
        except FileNotFoundError:
            raise CorpusError(f"no samples file at {samples}") from None
        except OSError as e:
            raise CorpusError(f"cannot read samples file {samples}: {e.strerror or e}") from None
        if not sample_text:
            raise CorpusError(f"samples file {samples} is empty")
    else:
        generator, vocab, _, step = load_generator(run_dir, None, "cpu", warn=log)
        sample_text = sample_lines(generator, vocab, n, seed=seed)
        log(f"generated {n} lines from {run_dir} at step {step}")
    data = DataConfig(corpus=corpus, max_lines=max_lines, data_dir=data_dir, download=download)
    lines = corpus_lines(data, progress=False, interactive=interactive)
    if heldout is not None:
        held = read_lines(heldout)
    elif corpus == "billion-words":
        held = corpus_lines(data, progress=False, split="heldout")  # the benchmark's own held-out shards
    else:
        held = None
    result = evaluate_text(sample_text, lines, seq_len=seq_len, heldout_lines=held, seed=seed)
    if corpus == "synthetic":
        # The built-in grammar can tell exactly which generated lines it could have produced.
        from textgan.data.synthetic import acceptance_rate
        result["samples"]["grammar"] = acceptance_rate(sample_text, seq_len)
        result["floor"]["grammar"] = None
        result["higher_is_better"]["grammar"] = True
    return result
