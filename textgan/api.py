"""The Python API: what `import textgan` gives a user, and what the CLI calls.

    run = textgan.train_lm("synthetic", preset="small", iters=200, out="runs/demo")
    run.sample(4, seed=0)          # the lines `textgan sample --run runs/demo -n 4 --seed 0` prints
    run.evaluate()                 # the object `textgan eval-lm --run runs/demo --json` prints
    textgan.evaluate_text("my_samples.txt", "emnlp-news")
"""
from __future__ import annotations

import json
import sys
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import torch
from torch import nn

from textgan import modality as modalities
from textgan.errors import ConfigError, CorpusError
from textgan.modality import Model, Modality
from textgan.train import Callback


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Run:
    """A run directory: its config, its logged metrics and, from its newest good checkpoint, its
    generator.  Made by `train_lm` / `train_image` or `load_run`."""

    def __init__(self, path: str | Path, *, device: torch.device | str = "cpu"):
        self.path = Path(path)
        config_file = self.path / "config.json"
        try:
            d = json.loads(config_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"no run at {self.path} (no config.json)") from None
        except (OSError, ValueError) as e:
            raise ConfigError(f"cannot read {config_file}: {e}") from None
        self.modality: Modality = modalities.get(d.get("kind", "lm"))
        self.config = self.modality.config_from_dict(d)
        self.device = torch.device(device)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, kind={self.kind!r})"

    @property
    def kind(self) -> str:
        return self.modality.kind

    @property
    def metrics(self) -> list[dict]:
        """The records of metrics.jsonl, one per logged step (read anew each time: a run that is
        still training gains records; a half-written last line is skipped)."""
        records = []
        try:
            text = (self.path / "metrics.jsonl").read_text(encoding="utf-8")
        except FileNotFoundError:
            return records
        for line in text.splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
        return records

    @property
    def floor(self) -> dict:
        """The real-data floor of the run's metrics (floor.json), {} when it has none."""
        try:
            return json.loads((self.path / "floor.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    @cached_property
    def model(self) -> Model:
        """The newest good checkpoint's sampling generator and critic (loaded on first use)."""
        return modalities.load_model(self.path, device=self.device, warn=_stderr)

    @property
    def step(self) -> int:
        return self.model.step

    @property
    def generator(self) -> nn.Module:
        """The sampling generator: the weight average when the run keeps one (`ema`), else the last
        weights."""
        return self.model.generator

    @property
    def critic(self) -> nn.Module | None:
        return self.model.critic

    def reload(self) -> "Run":
        """Forget the loaded checkpoint (after the run trained further)."""
        self.__dict__.pop("model", None)
        return self

    def sample(self, n: int, *, seed: int | None = None, **options) -> Any:
        """n samples: text runs a list of n strings (what `textgan sample --run PATH -n N --seed S`
        prints, one per line); image runs a uint8 tensor [n, C, H, W] (`class_=K`: of one class);
        toy runs a float tensor [n, 2]."""
        _check_count(n)
        return self.modality.sample(self.model, n, seed=seed, **options)

    def evaluate(self, **options) -> dict:
        """What `textgan eval-lm --run PATH --json` (text; `corpus=` defaults to the run's corpus)
        or `textgan eval-image --run PATH --json` (images) prints.  Text runs take eval-lm's options
        with underscores; `temperatures=[0.5, 1.0]` gives (and, as eval-lm, stores in
        PATH/curve.json) the quality-diversity curve of `eval-lm --temperatures 0.5,1.0 --json`."""
        return self.modality.evaluate(self.model, self.path, log=options.pop("log", _stderr), **options)


def load_run(path: str | Path, *, device: torch.device | str = "cpu") -> Run:
    """The run in directory `path` (trained by textgan, finished or not)."""
    return Run(path, device=device)


def _check_count(n: int) -> None:
    if not isinstance(n, int) or n <= 0:
        raise ConfigError(f"-n must be positive, got {n}")


# ------------------------------------------------------------------------ training

def train(modality: Modality, data: str | None, *, out: str | Path | None = None,
          preset: str | None = None, resume: bool = False, progress: bool = True,
          interactive: bool = False, log: Callable[[str], None] = _stderr,
          callbacks: Iterable[Callback] = (), **options) -> dict:
    """Train or resume a run of any modality (the CLI's train commands and `train_lm` /
    `train_image`); returns the lifecycle's summary (run_dir, step, last record, rank)."""
    from textgan.runs import train_run

    loggers, mlflow_uri = options.pop("logger", None), options.pop("mlflow_uri", None)
    if resume:
        cfg = None
        overrides = {**options, "preset": preset}
        if data is not None:
            overrides[modality.data_field] = data
    else:
        if data is None:
            raise ConfigError(f"--{modality.data_field} is required (or --resume --out RUN_DIR to "
                              "continue a run)")
        cfg = modality.make_config(data, preset or "paper", **options)
    return train_run(modality, cfg, out, resume=resume, overrides=overrides if resume else None,
                     progress=progress, interactive=interactive, log=log, callbacks=callbacks,
                     loggers=loggers or None, mlflow_uri=mlflow_uri)


def train_lm(corpus: str | None, *, out: str | Path | None = None, preset: str | None = None,
             progress: bool = True, **options) -> Run:
    """Train (or with `resume=True`, continue) the paper's WGAN-GP language model on `corpus` (a
    name such as "synthetic" or "billion-words", a path, or "hf:NAME"); `preset` is "paper" (the
    default for a new run) or "small".  `options` are train-lm's options with underscores (`iters`,
    `dim`, `eval_every`, `device`, `seed`, `resume`, ...), checked as the CLI checks them (errors are
    `textgan.TextganError`s), e.g. `logger=["tensorboard", "mlflow"]` (or one name); also `log` (a function of one line, default: standard error) and
    `callbacks` (`textgan.Callback`s).  Returns the run."""
    summary = train(modalities.get("lm"), corpus, out=out, preset=preset, progress=progress, **options)
    return Run(summary["run_dir"], device="cpu")


def train_image(dataset: str | None, *, out: str | Path | None = None, preset: str | None = None,
                progress: bool = True, **options) -> Run:
    """Train WGAN-GP on toy data ("8gaussians", "25gaussians", "swissroll"), "mnist", "cifar10" or
    an image folder; arguments as `train_lm`."""
    summary = train(modalities.get("image"), dataset, out=out, preset=preset, progress=progress, **options)
    return Run(summary["run_dir"], device="cpu")


# ------------------------------------------------------------------------ evaluation

def evaluate_run(command: str, run_dir: str | Path, *, device: torch.device | str = "cpu",
                 log: Callable[[str], None] = _stderr, **options) -> tuple[Model, dict]:
    """`eval-lm --run` / `eval-image --run`: the run's newest generator through its modality's
    evaluation; a run of another modality is refused with the command that fits it."""
    model = modalities.load_model(run_dir, device=device, warn=log)
    if model.modality.eval_command != command:
        raise ConfigError(f"{run_dir} is a {model.modality.kind} run; use {model.modality.eval_command}")
    return model, model.modality.evaluate(model, Path(run_dir), log=log, **options)


def _lines(samples: str | Path | Sequence[str], what: str) -> list[str]:
    """A list of strings as it is, or a file's lines read as the paper's evaluation reads them."""
    if isinstance(samples, (str, Path)):
        from textgan.data.text_io import read_lines
        try:
            lines = read_lines(str(samples))
        except FileNotFoundError:
            raise CorpusError(f"no {what} file at {samples}") from None
        except OSError as e:
            raise CorpusError(f"cannot read {what} file {samples}: {e.strerror or e}") from None
    else:
        lines = [str(line) for line in samples]
    if not lines:
        raise CorpusError(f"the {what} are empty")
    return lines


def evaluate_text(samples: str | Path | Sequence[str], corpus: str | Sequence[str], *,
                  heldout: str | Path | Sequence[str] | None = None, seq_len: int = 32,
                  max_lines: int = 10_000_000, seed: int = 0, data_dir: str | None = None,
                  download: bool = False) -> dict:
    """Score generated lines against a corpus, beside the real-data floor: the object
    `textgan eval-lm --samples FILE --corpus C --json` prints for the same inputs.

    samples: a list of strings or the path of a text file; corpus: a corpus name ("emnlp-news"), a
    path, or a list of strings; heldout: held-out real lines (a path or a list; default: the named
    corpus's own held-out split, or for a list none: the floor lines then come from the corpus)."""
    if isinstance(samples, (str, Path)) and isinstance(corpus, str) and not isinstance(heldout, (list, tuple)):
        from textgan.lm import evaluate_lm
        return evaluate_lm(samples=str(samples), corpus=corpus,
                           heldout=None if heldout is None else str(heldout), seq_len=seq_len,
                           max_lines=max_lines, data_dir=data_dir, download=download, seed=seed,
                           log=lambda message: None)
    from textgan.evaluate import evaluate_text as score
    sample_lines = _lines(samples, "samples")
    corpus_lines = _corpus_lines(corpus, max_lines, data_dir, download)
    held, inside = None, False
    if heldout is not None:
        held = _lines(heldout, "held-out lines")
    elif isinstance(corpus, str):
        from textgan.config import DataConfig
        from textgan.data.corpus import corpus_lines as read_corpus
        data = DataConfig(corpus=corpus, max_lines=max_lines, data_dir=data_dir, download=download)
        held = read_corpus(data, progress=False, split="heldout") or None
        inside = corpus != "billion-words"
    return json.loads(json.dumps(score(sample_lines, corpus_lines, seq_len=seq_len, heldout_lines=held,
                                       seed=seed, heldout_in_corpus=inside, line_checks=_checks(corpus, seq_len))))


def _checks(corpus, seq_len: int) -> dict:
    if corpus != "synthetic":
        return {}
    from textgan.data.synthetic import acceptance_rate
    return {"grammar": (lambda lines: acceptance_rate(lines, seq_len), "higher")}


def _corpus_lines(corpus: str | Sequence[str], max_lines: int, data_dir: str | None,
                  download: bool) -> list[str]:
    if not isinstance(corpus, str):
        return _lines(corpus, "corpus lines")[:max_lines]
    from textgan.config import DataConfig
    from textgan.data.corpus import corpus_lines
    return corpus_lines(DataConfig(corpus=corpus, max_lines=max_lines, data_dir=data_dir, download=download),
                        progress=False)


def corpus_lines(corpus: str, *, max_lines: int = 10_000_000, split: str = "all",
                 data_dir: str | None = None, download: bool = False) -> list[str]:
    """A named corpus's (or a path's) raw lines, as training and evaluation read them; `split`
    "heldout" gives its held-out lines only."""
    from textgan.config import DataConfig
    from textgan.data.corpus import corpus_lines as read
    return read(DataConfig(corpus=corpus, max_lines=max_lines, data_dir=data_dir, download=download),
                progress=False, split=split)


def ngram_js(samples: str | Path | Sequence[str], corpus: str | Sequence[str], *, max_n: int = 4,
             seq_len: int = 32, max_lines: int = 10_000_000, data_dir: str | None = None) -> dict[str, float]:
    """The paper's metric alone: {"js1": ..., "js{max_n}": ...}, the Jensen-Shannon divergence (bits)
    between the character n-gram distributions of the samples and of the corpus, every line cut or
    padded to `seq_len` characters.  samples and corpus as in `evaluate_text`."""
    from textgan.metrics.ngrams import NgramReference
    from textgan.metrics.tokens import char_ids
    if not (isinstance(max_n, int) and max_n > 0 and isinstance(seq_len, int) and seq_len > 0):
        raise ConfigError("max_n and seq_len must be positive integers")
    if isinstance(corpus, str):   # a name or a path: read once, as bytes (eval-lm's fast path)
        from textgan.config import DataConfig
        from textgan.data.corpus import corpus_text
        corpus_ids = corpus_text(DataConfig(corpus=corpus, max_lines=max_lines, data_dir=data_dir),
                                 seq_len).ids
    else:
        corpus_ids = char_ids(_corpus_lines(corpus, max_lines, data_dir, False), seq_len)
    reference = NgramReference(corpus_ids, max_n)
    return reference.js(char_ids(_lines(samples, "samples"), seq_len), max_n)
