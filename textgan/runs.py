"""One run lifecycle for every modality: run directory, config, refuse/resume, trainer, checkpoints.

RUN_DIR/
  config.json        everything needed to rebuild the run ("kind": lm | image)
  metrics.jsonl      one JSON object per logged step
  floor.json         the real-data floor of the evaluation metrics, when the modality has one
  samples/           what the modality writes at each evaluation (text lines, PNG grids, plots)
  checkpoints/       ckpt-<step>.pt: networks, optimisers, step, RNG states, config, and the
                     modality's own extra state (e.g. the vocabulary)

A modality (`textgan/modality.py`; `textgan/lm.py` for text, `textgan/image.py` for images) builds
a run's parts (generator, critic, real-batch sampler, evaluator that also writes samples, held-out
batches, the real-data floor, extra checkpoint state).  Everything else lives here: the process-wide
settings a run wants (`textgan/runtime.py`: allocator, channels_last, TF32, Ctrl-C/SIGTERM handling,
none of which the Trainer does by itself) and cleaning up after a run that fails before its first
checkpoint.

Under torchrun every process runs `train_run`; rank 0 alone prepares, writes and cleans the run
directory, reads what a resume needs and hands it to the others (textgan/distributed.py).
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, Iterable

import torch

from textgan import distributed, runtime
from textgan.checkpoint import CHECKPOINT_DIR, list_checkpoints, load_latest
from textgan.config import RunConfig
from textgan.distributed import World
from textgan.errors import ConfigError
from textgan.modality import Modality
from textgan.trackers import TrackerCallback, check_loggers, close_all, open_trackers
from textgan.train import Callback, Trainer, TrainerHooks

# Settings that may change when a run is resumed; everything else must match.
RESUMABLE = {"iters", "eval_every", "checkpoint_every", "keep_checkpoints", "device", "on_nonfinite",
             "compile", "conv", "data_dir", "download", "inception_weights"}


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


def default_run_dir(tag: str) -> Path:
    tag = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(tag).name)[:40] or "run"
    return Path("runs") / f"{tag}-{time.strftime('%Y%m%d-%H%M%S')}"


def prepare_run_dir(out: Path, resume: bool) -> Path | None:
    """Check (resume) or create the run directory.  Returns what to remove if the run fails before
    its first checkpoint: the top-most directory this call created, or None."""
    if resume:
        if not out.is_dir():
            raise ConfigError(f"cannot resume: no run directory at {out}")
        if not list_checkpoints(out / CHECKPOINT_DIR):
            raise ConfigError(f"cannot resume: {out} holds no checkpoint")
        return None
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"run directory {out} already exists; pass --resume to continue it, "
                          "or choose another --out")
    created = next((p for p in reversed([out, *out.parents]) if not p.exists()), None)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise ConfigError(f"cannot write to run directory {out}: {e.strerror or e}") from None
    return created


def _clean_failed_run(out: Path, created: Path | None) -> None:
    """A run that failed before its first checkpoint leaves nothing behind: neither the run
    directory (nor the parents this run created) nor files it wrote into an empty one."""
    if list_checkpoints(out / CHECKPOINT_DIR):
        return                       # resumable: keep everything
    if created is not None:
        shutil.rmtree(created, ignore_errors=True)
    elif out.is_dir():               # the user's own empty directory: empty it again
        for child in out.iterdir():
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)


def _sections(cfg) -> list[tuple[str, Any]]:
    return [(f.name, getattr(cfg, f.name)) for f in fields(cfg) if is_dataclass(getattr(cfg, f.name))]


def merge_resume_config(saved, overrides: dict):
    """The saved config with the allowed overrides applied; refuse any other difference.
    An option not given (None) keeps the run's value."""
    differences = []
    for _, obj in _sections(saved):
        for f in fields(obj):
            if f.name not in overrides or overrides[f.name] is None:
                continue
            new, old = overrides[f.name], getattr(obj, f.name)
            if f.name in RESUMABLE:
                setattr(obj, f.name, new)
            elif new != old:
                differences.append(f"{f.name} {old!r} in the run, {new!r} given")
    if overrides.get("preset") not in (None, saved.preset):
        differences.append(f"preset {saved.preset!r} in the run, {overrides['preset']!r} given")
    if differences:
        raise ConfigError("cannot resume with different settings: " + "; ".join(differences))
    return saved


def read_run_config(out: Path, modality: Modality):
    path = out / "config.json"
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot read {path}: {e}") from None
    kind = d.get("kind", "lm")
    if kind != modality.kind:
        from textgan.modality import get
        raise ConfigError(f"{out} is a {kind} run; resume it with {get(kind).train_command}")
    return modality.config_from_dict(d)


def train_run(modality: Modality, cfg, out: str | Path | None, *, resume: bool = False,
              overrides: dict | None = None, progress: bool = True, interactive: bool = False,
              log=print, callbacks: Iterable[Callback] = (), loggers: Iterable[str] | str | None = None,
              mlflow_uri: str | None = None) -> dict:
    """Train (or resume) a run of any modality; returns a summary (run_dir, step, last record, rank).
    Under torchrun (RANK, WORLD_SIZE, ... set) this process is one rank of a data-parallel run.
    `loggers`: experiment trackers (textgan/trackers.py) that rank 0 also sends the run to."""
    world = distributed.world_from_env()
    tracking = Tracking(check_loggers(loggers) if world.is_main else [], mlflow_uri)
    if not resume and cfg is not None:
        modality.validate(cfg)                   # cheap errors before connecting
        world.check_batches(cfg.train)
    distributed.connect(world)
    try:
        return _run(modality, cfg, out, world, resume=resume, overrides=overrides, progress=progress,
                    interactive=interactive, log=log, callbacks=callbacks, tracking=tracking)
    except RuntimeError as e:
        if world.distributed and distributed.is_comm_failure(e):
            raise distributed.comm_failure(world, e) from None
        raise
    finally:
        distributed.disconnect(world)


def _run(modality: Modality, cfg, out, world: World, *, resume: bool, overrides: dict | None,
         progress: bool, interactive: bool, log, callbacks, tracking: "Tracking") -> dict:
    if resume:
        if out is None:
            raise ConfigError("--resume needs --out RUN_DIR")
        out = Path(out)

        def resumed_config():
            prepare_run_dir(out, resume=True)
            return merge_resume_config(read_run_config(out, modality), overrides or {})
        cfg = world.from_main(resumed_config)
    else:
        out = world.from_main(lambda: Path(out) if out is not None else default_run_dir(modality.run_tag(cfg)))
    modality.validate(cfg)
    world.check_batches(cfg.train)
    device = distributed.device_for(world, resolve_device(cfg.train.device))
    created = None if resume else world.from_main(lambda: prepare_run_dir(out, resume=False))
    try:
        return _train(modality, cfg, out, device, world, resume=resume, progress=progress,
                      interactive=interactive, log=log, callbacks=callbacks, tracking=tracking)
    except BaseException:
        if not resume and world.is_main:
            _clean_failed_run(out, created)
        raise


def _train(modality: Modality, cfg, out: Path, device: torch.device, world: World, *, resume: bool,
           progress: bool, interactive: bool, log, callbacks, tracking: "Tracking") -> dict:
    if not world.is_main:            # rank 0 speaks for the run
        log, progress, interactive = (lambda message: None), False, False
    elif world.distributed:
        b = world.local_batch(cfg.train.batch_size)
        log(f"data parallel: {world.size} processes ({device.type}); global batch "
            f"{cfg.train.batch_size} = {b} per process"
            + ("; --compile is not used with several processes" if cfg.train.compile else ""))
    torch.manual_seed(cfg.train.seed)
    # rank 0 first: it fills shared caches (downloads, encoded corpora) that the others then read
    parts = world.main_first(lambda: modality.build(cfg, device, out, resume=resume, progress=progress,
                                                    interactive=interactive, log=log))
    hooks = TrainerHooks(extra_state={"config": cfg.to_dict(), **parts.extra_state},
                         log=log, progress=progress, headline=modality.headline_for(cfg))
    nets = [net for net in (parts.generator, parts.critic) if net is not None]
    with runtime.training_environment(device, *nets):
        trainer = (parts.trainer or Trainer)(parts.generator, parts.critic, parts.sampler, cfg.train, device, run_dir=out,
                          evaluator=parts.evaluator, hooks=hooks, heldout=parts.heldout, world=world,
                          callbacks=callbacks)
        if resume:
            # rank 0 reads the checkpoint (to the CPU, whatever the device: the RNG states must be CPU
            # tensors, and load_state_dict copies the weights to the networks' device) and hands it
            # to the others (no shared filesystem needed)
            state, path = world.from_main(lambda: load_latest(out / CHECKPOINT_DIR, "cpu", warn=log))
            if parts.check_resume is not None:
                parts.check_resume(state)
            trainer.load_state_dict(state)
            log(f"resuming {out} from {path.name} (step {trainer.step} of {cfg.train.iters})")
        if world.is_main:
            write_json(out / "config.json", cfg.to_dict())
            for name, content in parts.files.items():
                write_json(out / name, content)
        trackers = tracking.open(modality, trainer, out, cfg.to_dict(), resume)
        try:
            with runtime.stop_on_signals(trainer.request_stop):
                record = trainer.fit()
        except BaseException:
            close_all(trackers, failed=True)
            raise
        close_all(trackers)
    world.agree_max(0)               # every rank leaves together, after rank 0's last writes
    return {"run_dir": str(out), "step": trainer.step, "last": record, "rank": world.rank}


@dataclass
class Tracking:
    """The experiment trackers a run was asked for (checked names; empty on ranks other than 0)."""
    loggers: list[str]
    mlflow_uri: str | None = None

    def open(self, modality: Modality, trainer: Trainer, out: Path, config: dict, resume: bool) -> list:
        """Open the trackers at the trainer's step and hook them into it; the open trackers."""
        if not self.loggers:
            return []
        trackers = open_trackers(self.loggers, out, config, trainer.step, resume, self.mlflow_uri)
        trainer.callbacks.append(TrackerCallback(trackers, modality, out))
        return trackers


def write_json(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
