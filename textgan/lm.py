"""The language-model modality: what the run lifecycle (`runs.py`) needs to train on text.

A corpus (integer array + vocabulary) becomes an on-device batch sampler that
emits one-hot [B, L, V] batches, held-out batches for the critic's held-out
estimate, and an evaluation hook that generates 640 lines, measures their n-gram
JS divergence against the corpus statistics (built once per run) and writes them
to the run directory.  `LM` is the `Modality` behind `train-lm`, `sample` and `eval-lm --run` of text runs;
`evaluate_lm` is `eval-lm`.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from textgan.errors import CheckpointError, ConfigError, CorpusError
from textgan.metrics.ngrams import NgramReference
from textgan.modality import (HeldoutBatches, Modality, Model, RunParts, StepSample, register,
                              sampling_weights)
from textgan.models.autoregressive import draw
from textgan.sample import generate


def corpus_tensor(ids: np.ndarray, device: torch.device) -> torch.Tensor:
    """The encoded corpus as a compact tensor on the device (indexing needs a signed or uint8 type)."""
    if ids.dtype == np.uint16:
        ids = ids.astype(np.int32)  # torch indexes uint16 poorly; int32 keeps it compact
    with warnings.catch_warnings():
        # a memory-mapped cache is read-only; the tensor is only ever read
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(np.ascontiguousarray(ids)).to(device)


DECODES = ("argmax", "sample")


def check_temperature(value) -> float | None:
    """A sampling temperature (a number or its text, > 0) as a float; None stays None."""
    if value is None:
        return None
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"--temperature must be a positive number, got {value!r}") from None
    if not (math.isfinite(t) and t > 0):
        raise ConfigError(f"--temperature must be a positive number, got {value!r}")
    return t


def _decoder(decode: str, temperature: float):
    """What one batch of noise becomes: token ids [b, L].  An autoregressive model (textgan/mle.py)
    draws position by position; the GAN generator's positions are independent given the noise, so
    each is the argmax of its softmax (the paper) or a draw from softmax(logits / T)."""
    def ids(generator: nn.Module, z: torch.Tensor, _labels, g) -> torch.Tensor:
        if getattr(generator, "autoregressive", False):
            return generator.sample_ids(z.shape[0], g, temperature=temperature, greedy=decode == "argmax")
        logits = generator.logits(z)
        return logits.argmax(-1) if decode == "argmax" else draw(logits, temperature, g)
    return ids


def generate_ids(generator: nn.Module, n: int, *, batch_size: int = 64, seed: int | None = None,
                 temperature: float | None = None, decode: str | None = None) -> np.ndarray:
    """[n, L] token ids decoded the generator's way (`default_decode`: "sample" for maximum-likelihood
    models, else "argmax", the paper's) unless `decode` says otherwise; sampling draws from
    softmax(logits / temperature), default 1.  `seed` seeds a private generator for the noise and
    the draws (the global RNG is untouched)."""
    decode = decode or getattr(generator, "default_decode", "argmax")
    ids = generate(generator, n, seed=seed, batch_size=batch_size,
                   decode=_decoder(decode, 1.0 if temperature is None else temperature))
    return (ids if n else torch.zeros(0, 0, dtype=torch.long)).numpy()


def one_hot(ids: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """[..., L] ids -> [..., L, V] one-hot floats, by scatter on the device (F.one_hot checks the
    id range: a host sync on CUDA)."""
    ids = ids.long()
    return torch.zeros(*ids.shape, vocab_size, device=ids.device).scatter_(-1, ids.unsqueeze(-1), 1.0)


class TextBatches:
    """Shuffled epochs of the corpus, as the original's `inf_train_gen`: each epoch is a fresh permutation
    of the lines cut into consecutive batches (a trailing partial batch is dropped).  The order is drawn
    from its own seeded generator, so the state is just (epoch, position) and resume is exact."""

    def __init__(self, ids: torch.Tensor, batch_size: int, vocab_size: int, seed: int):
        if ids.shape[0] < batch_size:
            raise CorpusError(f"the corpus has {ids.shape[0]} training lines, fewer than the batch size "
                              f"{batch_size}; use more lines or a smaller --batch-size")
        self.ids, self.batch_size, self.vocab_size, self.seed = ids, batch_size, vocab_size, seed
        self.epoch, self.pos = 0, 0
        self._rows = (0, batch_size)        # the rows of each batch this process takes
        self._perm = self._permutation(0)

    def shard(self, rank: int, size: int) -> None:
        """Under data parallelism: every rank runs the same permutation and takes rows
        [rank*b, (rank+1)*b) of each global batch (b = batch_size / size)."""
        b = self.batch_size // size
        self._rows = (rank * b, (rank + 1) * b)

    def _permutation(self, epoch: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.ids.shape[0], generator=g).to(self.ids.device)

    def next_ids(self) -> torch.Tensor:
        if self.pos + self.batch_size > self._perm.shape[0]:
            self.epoch, self.pos = self.epoch + 1, 0
            self._perm = self._permutation(self.epoch)
        rows = self._perm[self.pos + self._rows[0]:self.pos + self._rows[1]]
        self.pos += self.batch_size
        return self.ids[rows].long()

    def next(self) -> torch.Tensor:
        return one_hot(self.next_ids(), self.vocab_size)

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


def _heldout_batches(ids: torch.Tensor, batch_size: int, vocab_size: int) -> HeldoutBatches:
    """Held-out lines as one-hot batches, made on demand."""
    return HeldoutBatches(ids.shape[0], lambda: (one_hot(chunk, vocab_size) for chunk in ids.split(batch_size)))


def build_lm_run(cfg, device: torch.device, out: Path, *, resume: bool, progress: bool,
                 interactive: bool, log) -> RunParts:
    from textgan.data.corpus import load_corpus
    from textgan.models.text import build_text_models
    from textgan.runs import resolve_conv

    corpus = load_corpus(cfg.data, cfg.model.seq_len, progress=progress, interactive=interactive)
    cfg.model.vocab_size = len(corpus.vocab)
    log(f"corpus {corpus.name}: {corpus.ids.shape[0]:,} lines of {cfg.model.seq_len} tokens, "
        f"vocabulary {len(corpus.vocab)} ({corpus.source})")
    trainer = None
    if cfg.train.objective == "mle":        # the maximum-likelihood yardstick: no critic
        from textgan.mle import MLETrainer, build_mle_model
        generator, critic, trainer = build_mle_model(cfg.model, log).to(device), None, MLETrainer
    else:
        generator, critic = build_text_models(cfg.model, conv=resolve_conv(cfg, device))
        generator, critic = generator.to(device), critic.to(device)
    sampler = TextBatches(corpus_tensor(corpus.ids, device), cfg.train.batch_size,
                          len(corpus.vocab), cfg.train.seed)
    evaluator = TextEvaluator(corpus.ids, corpus.vocab, cfg.train.eval_samples, cfg.train.batch_size,
                              cfg.train.seed, out / "samples", line_checks=_line_checks(cfg))
    vocab_dict = corpus.vocab.to_dict()
    heldout, files = None, {"vocab.json": vocab_dict}
    if corpus.heldout is not None and len(corpus.heldout):
        if not resume:
            files["floor.json"] = _real_floor(evaluator, corpus.heldout, cfg.train.eval_samples, log)
        if cfg.train.heldout_samples and critic is not None:
            heldout = _heldout_batches(corpus_tensor(corpus.heldout[:cfg.train.heldout_samples], device),
                                       cfg.train.batch_size, len(corpus.vocab))

    def check_resume(state: dict) -> None:
        if state.get("vocab") != vocab_dict:
            raise CheckpointError(f"the corpus now gives a different vocabulary than the run's "
                                  f"({_vocab_difference(state.get('vocab'), vocab_dict)}); "
                                  "resume with the corpus the run was trained on")

    return RunParts(generator, critic, sampler, evaluator=evaluator, heldout=heldout,
                    extra_state={"vocab": vocab_dict}, files=files,
                    check_resume=check_resume, trainer=trainer)


def _line_checks(cfg) -> dict:
    """The built-in grammar knows exactly which lines it can produce: log that share too."""
    if cfg.data.corpus != "synthetic" or cfg.data.tokens != "char":
        return {}
    from textgan.data.synthetic import acceptance_rate
    seq_len = cfg.model.seq_len
    return {"grammar": lambda lines: acceptance_rate(lines, seq_len)}


def _real_floor(evaluator, heldout, n: int, log) -> dict:
    """JS of real held-out lines against the training corpus: the best a generator can hope for
    (the original printed it as "validation set JSD"); floor.json."""
    floor = {k: round(v, 6) for k, v in evaluator.reference.js(np.asarray(heldout[:n])).items()}
    log("real-data floor (" + f"{min(n, len(heldout))} held-out lines): "
        + ", ".join(f"{k} {v:.4f}" for k, v in floor.items()))
    return {"heldout_lines": int(min(n, len(heldout))), **floor}


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


def check_temperatures(value) -> list[float] | None:
    """--temperatures "0.5,0.7,1.0" (or a list of numbers) as positive floats; None stays None."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    temps = []
    for item in items:
        try:
            temps.append(check_temperature("" if item is None else item))   # "" is no number either
        except ConfigError:
            raise ConfigError("--temperatures must be a comma-separated list of positive numbers, "
                              f"got {value!r}") from None
    if not temps:
        raise ConfigError("--temperatures must list at least one temperature")
    return temps


def evaluate_lm(*, samples: str | list[str] | None = None, model: Model | None = None, n: int = 640,
                corpus: str, heldout: str | None = None, seq_len: int | None = None,
                max_lines: int = 10_000_000, data_dir: str | None = None, download: bool = False,
                seed: int = 0, interactive: bool = False, log=print, temperature: float | None = None,
                decode: str | None = None, temperatures=None) -> dict:
    """eval-lm: samples from a file (read exactly as the paper's evaluation) or a list of lines, or
    generated from a loaded text model, measured against a corpus's raw lines.  `temperatures`
    (model only): one sample set per temperature, drawn with decode "sample" (also for GAN
    generators: argmax ignores the temperature), all against one reference built once; the result
    is that of the first temperature plus `curve`, one {"temperature", metric: value} per temperature."""
    if (samples is None) == (model is None):
        raise ConfigError("give exactly one of --samples FILE or --run DIR")
    if (seq_len is not None and seq_len <= 0) or max_lines <= 0 or n <= 0:
        raise ConfigError("--seq-len, --max-lines and -n must be positive")
    temps = check_temperatures(temperatures)
    if temps is not None:
        if model is None:
            raise ConfigError("--temperatures is for --run (a file's samples are fixed)")
        if temperature is not None or decode is not None:
            raise ConfigError("--temperatures replaces --temperature and --decode (it samples at each)")
    if model is None:
        sample_sets = [_sample_file_lines(samples, max_lines)]
    else:
        settings = [(t, "sample") for t in temps] if temps is not None else [(temperature, decode)]
        sample_sets = [TEXT.sample(model, n, seed=seed, temperature=t, decode=d) for t, d in settings]
        log(f"generated {n} lines from {model.source} at step {model.step}"
            + (f" at each of {len(temps)} temperatures" if temps is not None else ""))
        seq_len = seq_len or model.config.model.seq_len     # judge the run at the length it was trained for
    reference = _lm_reference(corpus, n_samples=len(sample_sets[0]), seq_len=seq_len or 32,
                              max_lines=max_lines, data_dir=data_dir, download=download, heldout=heldout,
                              seed=seed, interactive=interactive)
    scores = [reference.measure(lines) for lines in sample_sets]
    result = reference.result(sample_sets[0], scores[0])
    if temps is not None:
        result["curve"] = [{"temperature": t, **s} for t, s in zip(temps, scores)]
    return result


def write_curve(run_dir: Path, result: dict, log) -> None:
    """The quality-diversity curve beside the run, where `report` finds it.  A folder that cannot
    be written (a read-only model folder) costs only the copy: the curve is still printed."""
    import json

    from textgan.report_curves import CURVE_FILE
    try:
        (run_dir / CURVE_FILE).write_text(json.dumps(result) + "\n", encoding="utf-8")
    except OSError as e:
        log(f"warning: cannot write {run_dir / CURVE_FILE} ({e.strerror or e}); the curve is printed only")
        return
    log(f"wrote {run_dir / CURVE_FILE}")


def _sample_file_lines(samples: str | list[str], max_lines: int) -> list[str]:
    from textgan.data.text_io import read_lines
    if isinstance(samples, (list, tuple)):
        sample_text = [str(line) for line in samples]
        if not sample_text:
            raise CorpusError("no samples to evaluate")
        return sample_text
    try:
        sample_text = read_lines(samples, max_lines=max_lines)
    except FileNotFoundError:
        raise CorpusError(f"no samples file at {samples}") from None
    except OSError as e:
        raise CorpusError(f"cannot read samples file {samples}: {e.strerror or e}") from None
    if not sample_text:
        raise CorpusError(f"samples file {samples} is empty")
    return sample_text


def _lm_reference(corpus: str, *, n_samples: int, seq_len: int, max_lines: int, data_dir: str | None,
                  download: bool, heldout: str | None, seed: int, interactive: bool):
    """The corpus read and its n-gram models, floor and references built: once per eval-lm."""
    from textgan.config import DataConfig
    from textgan.data.corpus import corpus_lines, corpus_text, heldout_rows
    from textgan.data.text_io import read_lines
    from textgan.evaluate import TextReference

    data = DataConfig(corpus=corpus, max_lines=max_lines, data_dir=data_dir, download=download)
    # The corpus is read once: its char ids for the n-gram reference, its lines on demand.
    text = corpus_text(data, seq_len, interactive=interactive)
    inside = False
    if heldout is not None:
        held = read_lines(heldout)
    elif corpus == "billion-words":
        held = corpus_lines(data, progress=False, split="heldout")  # the benchmark's own held-out shards
    else:
        held = [text[i] for i in heldout_rows(len(text)).tolist()]  # the corpus's own seeded split
        inside = True
    checks = {}
    if corpus == "synthetic":
        # The built-in grammar can tell exactly which lines it could have produced, real ones too.
        from textgan.data.synthetic import acceptance_rate
        checks["grammar"] = (lambda lines: acceptance_rate(lines, seq_len), "higher")
    if not len(text):
        raise CorpusError(f"the corpus {corpus} has no lines")
    return TextReference(text, n_samples=n_samples, seq_len=seq_len, heldout_lines=held or None, seed=seed,
                         heldout_in_corpus=inside, line_checks=checks,
                         reference=NgramReference(text.ids, max_n=4))


class Text(Modality):
    """Character (or word, BPE) sequences: the paper's language model."""
    kind = "lm"
    data_field = "corpus"
    train_command = "train-lm"
    eval_command = "eval-lm"
    headline = "js4"
    summary_keys = ("js1", "js2", "js3", "js4")
    state_keys = ("vocab",)

    def config_from_dict(self, d: dict):
        from textgan.config import RunConfig
        return RunConfig.from_dict(d)

    def make_config(self, data: str, preset: str = "paper", **options):
        from textgan.config import make_config
        return make_config(preset, corpus=data, **options)

    def step_samples(self, run_dir: Path, step: int) -> list[StepSample]:
        """The lines TextEvaluator wrote at this step."""
        path = Path(run_dir) / "samples" / f"samples_{step:08d}.txt"
        if not path.is_file():
            return []
        return [StepSample("samples", text=path.read_text(encoding="utf-8").splitlines())]

    def run_tag(self, cfg) -> str:
        return cfg.data.corpus

    def build(self, cfg, device, out, *, resume, progress, interactive, log) -> RunParts:
        return build_lm_run(cfg, device, out, resume=resume, progress=progress,
                            interactive=interactive, log=log)

    def load(self, state: dict, path: Path, device: torch.device) -> Model:
        from textgan.config import RunConfig
        from textgan.data.vocab import Vocab
        from textgan.models.text import build_text_models
        from textgan.runs import resolve_conv
        try:
            cfg = RunConfig.from_dict(state["config"])
            vocab = Vocab.from_dict(state["vocab"])
            if cfg.train.objective == "mle":
                from textgan.mle import load_mle
                return load_mle(self, state, cfg, vocab, path, device)
            generator, critic = build_text_models(cfg.model, conv=resolve_conv(cfg, device))
            generator.load_state_dict(sampling_weights(state))
            if state.get("critic") is None:      # a model folder (textgan export) keeps no critic
                critic = None
            else:
                critic.load_state_dict(state["critic"])
        except (KeyError, TypeError, RuntimeError) as e:
            raise CheckpointError(f"checkpoint {path} does not hold a usable text generator ({e})") from None
        return Model(self, generator.to(device), cfg, int(state["step"]),
                     critic=None if critic is None else critic.to(device),
                     extra={"vocab": vocab}, source=Path(path))

    def sample(self, model: Model, n: int, *, seed: int | None = None, temperature=None,
               decode: str | None = None, **options) -> list[str]:
        """n lines; `decode` "argmax" or "sample" (default: the run's, see `generate_ids`), sampling
        at `temperature` (default 1; giving one alone means sampling)."""
        self.refuse(options, (), "text runs")
        temperature = check_temperature(temperature)
        if decode is not None and decode not in DECODES:
            raise ConfigError(f"--decode must be argmax or sample, got {decode!r}")
        if decode == "argmax" and temperature is not None:
            raise ConfigError("--temperature is for --decode sample (argmax takes no temperature)")
        if temperature is not None:
            decode = "sample"
        return model.extra["vocab"].decode(generate_ids(model.generator, n, seed=seed,
                                                        temperature=temperature, decode=decode))

    def write_samples(self, model: Model, n: int, out: str | None, *, seed: int | None = None,
                      **options) -> tuple[str | None, str | None]:
        lines = self.sample(model, n, seed=seed, **options)
        text = "".join(line + "\n" for line in lines)
        if not out:
            return text, None
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot write {out}: {e.strerror or e}") from None
        return None, f"wrote {len(lines)} lines from step {model.step} to {out}"

    def evaluate(self, model: Model, run_dir: Path | None, *, log=print, corpus: str | None = None,
                 **options) -> dict:
        """eval-lm's table for n lines generated from the model, against `corpus` (default: the
        corpus the run was trained on); with `temperatures` also its curve, stored as
        RUN_DIR/curve.json for the report."""
        if corpus is None:                  # the run's own corpus, where the run found it
            corpus = model.config.data.corpus
            if options.get("data_dir") is None:
                options["data_dir"] = model.config.data.data_dir
        result = evaluate_lm(model=model, corpus=corpus, log=log, **options)
        if "curve" in result and run_dir is not None:
            write_curve(Path(run_dir), result, log)
        return result

    def format_evaluation(self, result: dict) -> str:
        from textgan.evaluate import format_report
        return format_report(result)

    def better(self, metric: str) -> str | None:
        from textgan.metrics import METRICS
        if metric == "grammar":
            return "higher"
        info = METRICS.get(metric)
        return info.better if info else None

    def summary(self, run_dir: Path, step: int, record: dict | None) -> list[str]:
        lines = super().summary(run_dir, step, record)
        samples = sorted((Path(run_dir) / "samples").glob("samples_*.txt"))
        if samples:
            lines.append(f"samples at step {step} ({samples[-1]}):")
            lines += [f"  {line}" for line in samples[-1].read_text(encoding="utf-8").splitlines()[:8]]
        return lines


TEXT = register(Text())
