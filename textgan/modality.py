"""The modality plug-in: everything that differs between text, images and any new kind of data.

Every command asks the run's modality, never its kind string: the run lifecycle (`runs.py`) asks it
for a run's parts (networks, real-batch sampler, evaluator that also writes samples, held-out
batches, the real-data floor) and `sample`, `eval-*`, `report` and the Python API ask it to load a
generator from a checkpoint, draw samples, write them, evaluate them and describe metrics.

Adding a modality is one module that subclasses `Modality` and ends with one registration line:

    class Audio(Modality):
        kind = "audio"
        ...
    AUDIO = register(Audio())

`config.json` records the run's `kind`, and `get(kind)` finds the modality again (importing the
built-in ones on first use).
"""
from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import torch
from torch import nn

from textgan.errors import CheckpointError, ConfigError


@dataclass
class RunParts:
    """What a modality builds for one run."""
    generator: nn.Module
    critic: nn.Module | None                       # None: an objective without one (mle)
    sampler: Any                                   # next() / state_dict() / load_state_dict()
    evaluator: Callable | None = None              # (generator, step) -> dict; writes samples
    heldout: Iterable[torch.Tensor] | None = None  # fixed held-out batches (critic input form)
    extra_state: dict = field(default_factory=dict)      # saved in every checkpoint
    files: dict[str, dict] = field(default_factory=dict)  # JSON files written beside config.json
    check_resume: Callable[[dict], None] | None = None   # refuse a checkpoint that does not fit
    trainer: Callable | None = None                # the loop's class (None: the adversarial Trainer)


@dataclass
class StepSample:
    """One sample an evaluation wrote: lines of text, or the path of an image file."""
    tag: str
    text: list[str] | None = None
    image: Path | None = None


@dataclass
class Model:
    """A generator read back from a checkpoint or a model folder, ready to sample."""
    modality: "Modality"
    generator: nn.Module           # the sampling generator: the weight average when the run kept one
    config: Any                    # the run's config (RunConfig, ImageRunConfig, ...)
    step: int
    critic: nn.Module | None = None
    extra: dict = field(default_factory=dict)   # what the modality needs to sample (vocabulary, ...)
    source: Path | None = None     # the checkpoint or folder it came from


class HeldoutBatches:
    """A fixed held-out set as re-iterable batches, made on demand (a [640, 32, 2048] one-hot is
    168 MB): `make()` returns a fresh iterator over the batches, the same every pass."""

    def __init__(self, n: int, make: Callable[[], Iterator[torch.Tensor]]):
        self.n, self._make = n, make

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[torch.Tensor]:
        return self._make()


class Modality(ABC):
    """One kind of data.  Subclasses set the class attributes and implement the methods."""
    kind: str = ""                 # recorded in config.json
    data_field: str = "data"       # the config field (and train option) naming the data: "corpus"
    train_command: str = ""        # e.g. "train-lm": named in error messages
    eval_command: str = ""
    headline: str | None = None    # the metric a progress bar shows (e.g. "js4")
    summary_keys: tuple[str, ...] = ()   # the metrics a finished run's summary line shows
    state_keys: tuple[str, ...] = ()     # checkpoint entries `load` needs besides the networks and config
                                         # (a model folder keeps each as KEY.json: textgan/export.py)

    # ------------------------------------------------------------ configs
    @abstractmethod
    def config_from_dict(self, d: dict) -> Any: ...

    @abstractmethod
    def make_config(self, data: str, preset: str = "paper", **options) -> Any:
        """A new run's config from its data (corpus, data set), preset and explicit options."""

    def validate(self, cfg) -> None:
        from textgan.config import validate_config
        validate_config(cfg)

    @abstractmethod
    def run_tag(self, cfg) -> str:
        """What a run's default directory is named after."""

    def headline_for(self, cfg) -> str | None:
        """The metric a run's progress bar shows."""
        return self.headline

    # ------------------------------------------------------------ training
    @abstractmethod
    def build(self, cfg, device: torch.device, out: Path, *, resume: bool, progress: bool,
              interactive: bool, log) -> RunParts: ...

    # ------------------------------------------------------------ after training
    @abstractmethod
    def load(self, state: dict, path: Path, device: torch.device) -> Model:
        """The sampling generator (and critic) of a loaded checkpoint."""

    @abstractmethod
    def sample(self, model: Model, n: int, *, seed: int | None = None, **options) -> Any:
        """n samples as Python data (lines of text, an image tensor, points)."""

    @abstractmethod
    def write_samples(self, model: Model, n: int, out: str | None, *, seed: int | None = None,
                      **options) -> tuple[str | None, str]:
        """`textgan sample`: (text for standard output or None, a line for the log)."""

    @abstractmethod
    def evaluate(self, model: Model, run_dir: Path | None, *, log=print, **options) -> dict:
        """What `eval-* --json` prints for a generator."""

    @abstractmethod
    def format_evaluation(self, result: dict) -> str: ...

    def step_samples(self, run_dir: Path, step: int) -> list["StepSample"]:
        """What this modality's evaluator wrote at `step` under run_dir/samples, for experiment
        trackers; none by default."""
        return []

    def better(self, metric: str) -> str | None:
        """"higher", "lower" or "closer" (to the real-data floor) for a logged metric; None unknown."""
        return None

    def summary(self, run_dir: Path, step: int, record: dict | None) -> list[str]:
        """The lines a finished `train-*` command prints."""
        last = record or {}
        shown = "".join(f", {k} {last[k]}" if isinstance(last[k], int) else f", {k} {last[k]:.4f}"
                        for k in self.summary_keys if isinstance(last.get(k), (int, float)))
        return [f"run {run_dir}: step {step}{shown}"]

    def refuse(self, options: dict, allowed: Iterable[str], what: str) -> None:
        """A one-line error for options this modality does not take (e.g. --class on a text run)."""
        bad = [k for k, v in options.items() if v is not None and k not in set(allowed)]
        if bad:
            names = ", ".join("--" + k.rstrip("_").replace("_", "-") for k in bad)
            raise ConfigError(f"{names} {'is' if len(bad) == 1 else 'are'} not for {what}")


_REGISTRY: dict[str, Modality] = {}
_BUILT_IN = {"lm": "textgan.lm", "image": "textgan.image"}


def register(modality: Modality) -> Modality:
    """Make a modality known by its kind (the one registration line of a new modality)."""
    if not modality.kind:
        raise ValueError("a modality needs a kind")
    _REGISTRY[modality.kind] = modality
    return modality


def get(kind: str) -> Modality:
    """The modality of a run's `kind`."""
    if kind not in _REGISTRY and kind in _BUILT_IN:
        importlib.import_module(_BUILT_IN[kind])
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise ConfigError(f"unknown kind of run {kind!r}; known: {', '.join(sorted(_BUILT_IN | _REGISTRY))}") \
            from None


def kinds() -> list[str]:
    return sorted(set(_BUILT_IN) | set(_REGISTRY))


def load_model(run_dir: str | Path | None = None, checkpoint: str | Path | None = None,
               device: torch.device | str = "cpu", warn=None) -> Model:
    """The sampling generator of a run's newest good checkpoint (or of one checkpoint file), or of
    a model folder written by `textgan export` (`run_dir` holding model.safetensors), of whatever
    modality its config names.  Checkpoints are read to the CPU."""
    from textgan.checkpoint import find_checkpoint
    from textgan.export import is_model_folder, load_folder
    if checkpoint is None and is_model_folder(run_dir):
        return load_folder(run_dir, torch.device(device))
    state, path = find_checkpoint(run_dir, checkpoint, map_location="cpu", warn=warn)
    config = state.get("config")
    if not isinstance(config, dict):
        raise CheckpointError(f"checkpoint {path} holds no run config")
    return get(config.get("kind", "lm")).load(state, path, torch.device(device))


def sampling_weights(state: dict) -> dict:
    """The generator weights a checkpoint's samples come from: the run's weight average when it kept
    one (`--ema`), else the last weights."""
    return state.get("generator_avg") or state["generator"]
