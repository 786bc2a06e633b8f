"""The image modality: what the run lifecycle (`runs.py`) needs to train on 2-D toy points or images.

`IMAGES` is the `Modality` behind `train-image` (and `sample` and `eval-image` of image runs).  Its parts:
- data: a toy sampler (8gaussians | 25gaussians | swissroll, textgan/data/toy.py) or an image data
  set (`load_image_data`: mnist | cifar10 | a folder) served by `ImageBatches`;
- models: `build_image_models` (textgan/models/image.py) of the config's arch;
- held-out batches for the critic's held-out estimate: MNIST validation, the CIFAR-10 test batch, a
  folder's held-out 1%, or for toy data a fixed fresh draw;
- an evaluator whose real-data statistics are built once per run and which writes
  `samples/samples_<step:08d>.png` at every evaluation:
    toy      w1 (exact, N generated vs N real), modes, within_3sigma (Gaussian mixtures) and a plot
             like the paper's Figure 1 (critic contours on a 128x128 grid over [-3, 3]^2 with real
             and generated points);
    mnist    classifier_score and fd (textgan's cached MNIST classifier) + a PNG grid;
    colour   inception_score and fid when Inception weights are available, else one log line saying
             they are skipped + a PNG grid;
- floor.json: the same metrics of real held-out data (the best a generator can hope for).

`IMAGES` (the `Images` modality) also serves `textgan sample` and `textgan eval-image` of image runs.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from textgan.checkpoint import rng_untouched
from textgan.errors import CheckpointError, ConfigError, TextganError
from textgan.modality import (HeldoutBatches, Modality, Model, RunParts, StepSample, register,
                              sampling_weights)
from textgan.sample import generate

SAMPLE_GRID = 64          # images in an evaluation's PNG grid
TOY_RANGE = 3.0           # the paper's plots: [-3, 3]^2 (the scaled data lies within about +-2)
TOY_GRID = 128


# ----------------------------------------------------------------------------- pictures

def value_range(scale: str) -> tuple[float, float]:
    """The generator's output range for a data scale ("unit": [0, 1], "symmetric": [-1, 1])."""
    return (0.0, 1.0) if scale == "unit" else (-1.0, 1.0)


def to_uint8(images, low: float, high: float) -> np.ndarray:
    """Float images with values in [low, high] -> uint8 (rounded, clipped); uint8 unchanged."""
    a = images.detach().float().cpu().numpy() if torch.is_tensor(images) else np.asarray(images)
    if a.dtype == np.uint8:
        return a
    return np.clip(np.rint((a.astype(np.float64) - low) / (high - low) * 255.0), 0, 255).astype(np.uint8)


def save_grid(images, path: str | Path, nrow: int = 8, value_range: tuple[float, float] = (-1.0, 1.0),
              pad: int = 2) -> Path:
    """Write images [N, C, H, W] (C 1 or 3; floats in `value_range` or uint8) as one PNG grid of
    `nrow` images per row, `pad` black pixels between and around them."""
    from PIL import Image

    a = to_uint8(images, *value_range)
    if a.ndim != 4 or a.shape[1] not in (1, 3) or a.shape[0] == 0:
        raise ValueError(f"save_grid needs images [N, 1 or 3, H, W] with N > 0, got {list(a.shape)}")
    n, c, h, w = a.shape
    nrow = max(1, min(nrow, n))
    rows = math.ceil(n / nrow)
    grid = np.zeros((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), dtype=np.uint8)
    for i in range(n):
        r, k = divmod(i, nrow)
        y, x = pad + r * (h + pad), pad + k * (w + pad)
        grid[y:y + h, x:x + w] = a[i].transpose(1, 2, 0)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid[:, :, 0] if c == 1 else grid, mode="L" if c == 1 else "RGB").save(path)
    return path


def save_images(images, directory: str | Path, value_range: tuple[float, float]) -> list[Path]:
    """One PNG per image: DIR/sample_00000.png, ..."""
    from PIL import Image

    a = to_uint8(images, *value_range)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, img in enumerate(a):
        p = directory / f"sample_{i:05d}.png"
        Image.fromarray(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)).save(p)
        paths.append(p)
    return paths


@torch.no_grad()
def save_toy_plot(path: str | Path, real, fake, critic: nn.Module | None = None,
                  title: str | None = None) -> Path:
    """The paper's Figure 1: critic contours on a 128x128 grid over [-3, 3]^2, real points (orange)
    and generated points (green); matplotlib's Agg backend."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    try:
        if critic is not None:
            t = np.linspace(-TOY_RANGE, TOY_RANGE, TOY_GRID)
            xx, yy = np.meshgrid(t, t)
            device = next(critic.parameters()).device
            pts = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], 1)).float().to(device)
            zz = critic(pts).float().cpu().numpy().reshape(TOY_GRID, TOY_GRID)
            ax.contour(xx, yy, zz, levels=20, linewidths=0.8)
        real, fake = np.asarray(real), np.asarray(fake)
        ax.scatter(real[:, 0], real[:, 1], s=2, c="orange", marker="+", label="real")
        ax.scatter(fake[:, 0], fake[:, 1], s=2, c="green", marker="+", label="generated")
        ax.set_xlim(-TOY_RANGE, TOY_RANGE)
        ax.set_ylim(-TOY_RANGE, TOY_RANGE)
        ax.set_aspect("equal")
        ax.legend(loc="upper right", fontsize=7, markerscale=4)
        if title:
            ax.set_title(title, fontsize=9)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path


# ----------------------------------------------------------------------------- generation

def grid_labels(n_classes: int, per_class: int) -> torch.Tensor:
    """Labels for a grid with one row per class."""
    return torch.arange(n_classes).repeat_interleave(per_class)


# ----------------------------------------------------------------------------- data

def is_toy(cfg) -> bool:
    from textgan.config import TOY_DATASETS
    return cfg.data.dataset.lower() in TOY_DATASETS


def load_data(cfg, progress: bool = True):
    from textgan.data.images import load_image_data
    return load_image_data(cfg.data.dataset, data_dir=cfg.data.data_dir, download=cfg.data.download,
                           size=cfg.model.size or None, channels=cfg.model.channels, seed=cfg.train.seed,
                           progress=progress)


def _first(split, n: int):
    """The first n rows of a split as an ImageSet view."""
    from textgan.data.images import ImageSet
    if n <= 0 or n >= len(split):
        return split
    index = np.arange(n, dtype=np.int64) if split.index is None else split.index[:n]
    return ImageSet(split.images, split.labels, index)


def heldout_images(split, batch_size: int, scale: str, device: torch.device, seed: int) -> HeldoutBatches:
    """A split's rows as float batches, re-iterable (the same dequantisation every pass)."""
    return HeldoutBatches(len(split), lambda: split.batches(batch_size, scale, device=device, seed=seed))


def _toy_draw(name: str, n: int, seed: int) -> torch.Tensor:
    """n real toy points from a sampler of its own seed (never the training stream)."""
    from textgan.data.toy import toy_sampler
    s = toy_sampler(name, n, seed)
    return s.next().cpu()


# ----------------------------------------------------------------------------- evaluators

class ToyEvaluator:
    """w1 of N generated vs N real points (a fixed real draw), modes and within_3sigma for the
    Gaussian mixtures, and the Figure-1 plot."""

    def __init__(self, name: str, n: int, seed: int, samples_dir: Path | None, critic: nn.Module | None = None):
        from textgan.data.toy import toy_modes
        self.name, self.n, self.seed = name, n, seed
        self.real = _toy_draw(name, n, seed * 7919 + 3).numpy()
        modes = toy_modes(name)
        self.centres = modes.points.numpy() if modes.kind == "modes" else None
        self.std = modes.std
        self.samples_dir, self.critic = samples_dir, critic

    def metrics(self, points: np.ndarray) -> dict:
        from textgan.metrics.points import toy_metrics
        out = toy_metrics(points, self.real, self.centres, self.std if self.centres is not None else None)
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in out.items()}

    def floor(self) -> dict:
        return {"heldout_examples": self.n,
                **self.metrics(_toy_draw(self.name, self.n, self.seed * 7919 + 5).numpy())}

    def __call__(self, generator: nn.Module, step: int) -> dict:
        fake = generate(generator, self.n, seed=self.seed * 7919 + step).numpy()
        if not np.isfinite(fake).all():
            return {"w1": float("nan")}
        result = self.metrics(fake)
        if self.samples_dir is not None:
            save_toy_plot(self.samples_dir / f"samples_{step:08d}.png", self.real, fake, self.critic,
                          title=f"{self.name}, step {step}")
        return result


class ImageEvaluator:
    """Sample metrics of N generated images against real statistics built once, and a PNG grid."""

    def __init__(self, data, cfg, samples_dir: Path | None, log, device: torch.device):
        self.scale, self.n, self.seed = data.scale, cfg.train.eval_samples, cfg.train.seed
        self.samples_dir, self.log = samples_dir, log
        self.low, self.high = value_range(data.scale)
        self.kind = None
        self.tag: dict = {}     # what the metrics depend on beyond the sample count, kept in floor.json
        with rng_untouched():                 # never move the training RNG (any device's)
            if data.shape[0] == 1 and data.shape[1:] == (28, 28) and data.train.labels is not None:
                from textgan.metrics.classifier import (classifier_cache_path, feature_statistics,
                                                        load_or_train_classifier, predict)
                if 0 < len(data.heldout) < self.n:
                    # The score's small-split bias: the floor and the samples in one protocol.
                    log(f"classifier metrics on {len(data.heldout):,} samples, not {self.n:,}: the held-out "
                        "split's size, so that the real-data floor is measured the same way")
                    self.n = len(data.heldout)
                x, y = data.train.arrays()
                log("MNIST classifier for classifier_score / fd: loading or training (cached)")
                self.model = load_or_train_classifier(x, y).to(device)
                self.kind = "classifier"
                self.tag = {"classifier": classifier_cache_path(x, y).stem}
                real_x, _ = _first(data.train, self.n).arrays()
                self.real_stats = feature_statistics(predict(self.model, real_x)[1])
            else:
                from textgan.metrics.inception import inception_features, load_inception
                try:
                    self.model = load_inception(cfg.data.inception_weights, device=device)
                except TextganError as e:
                    log(f"inception_score / fid skipped: {e}")
                    self.model = None
                if self.model is not None:
                    from textgan.metrics.classifier import feature_statistics
                    real_x, _ = _first(data.train, self.n).arrays()
                    self.kind = "inception"
                    self.real_stats = feature_statistics(inception_features(self.model, real_x)[0])

    def metrics(self, images) -> dict:
        """images: float in the data's range, or uint8."""
        from textgan.metrics.classifier import (SCORE_SPLITS, feature_statistics, frechet_distance,
                                                score_from_probs)
        if self.kind == "classifier":
            from textgan.metrics.classifier import predict
            u8 = to_uint8(images, self.low, self.high)
            p, f = predict(self.model, u8)
            s = score_from_probs(p, SCORE_SPLITS)
            return {"classifier_score": round(s.mean, 6), "classifier_score_std": round(s.std, 6),
                    "fd": round(frechet_distance(*feature_statistics(f), *self.real_stats), 6)}
        if self.kind == "inception":
            from textgan.metrics.inception import inception_features, inception_score_from_logits
            pools, logits = inception_features(self.model, to_uint8(images, self.low, self.high))
            s = inception_score_from_logits(logits)
            return {"inception_score": round(s.mean, 6), "inception_score_std": round(s.std, 6),
                    "fid": round(frechet_distance(*feature_statistics(pools), *self.real_stats,
                                                  method="eigvals"), 6)}
        return {}

    def floor(self, heldout) -> dict:
        x, _ = _first(heldout, self.n).arrays()
        return {"heldout_examples": int(len(x)), **self.tag, **self.metrics(np.ascontiguousarray(x))}

    def floor_matches(self, floor: dict) -> bool:
        """Whether a stored floor was measured as this evaluator measures samples: for the MNIST
        classifier, the same classifier (version and training data) and the same sample count."""
        if self.kind != "classifier":
            return True
        return floor.get("heldout_examples") == self.n and all(floor.get(k) == v for k, v in self.tag.items())

    def __call__(self, generator: nn.Module, step: int) -> dict:
        result = {}
        if self.kind is not None:
            fake = generate(generator, self.n, seed=self.seed * 7919 + step)
            if not torch.isfinite(fake).all():
                return {}
            result = self.metrics(fake)
        if self.samples_dir is not None:
            write_sample_grid(generator, self.samples_dir / f"samples_{step:08d}.png",
                              (self.low, self.high), seed=self.seed * 7919 + step)
        return result


def write_sample_grid(generator: nn.Module, path: Path, vrange, *, seed: int, n: int = SAMPLE_GRID) -> Path:
    """A grid of n samples; a conditional generator: one row per class."""
    k = int(getattr(generator, "n_classes", 0) or 0)
    if k:
        per = max(1, n // k)
        images = generate(generator, k * per, seed=seed, labels=grid_labels(k, per))
        return save_grid(images, path, nrow=per, value_range=vrange)
    return save_grid(generate(generator, n, seed=seed), path, nrow=int(math.ceil(math.sqrt(n))),
                     value_range=vrange)


# ----------------------------------------------------------------------------- the run

def build_image_models_for(cfg):
    from textgan.models.image import build_image_models
    m = cfg.model
    return build_image_models(m.arch, size=m.size or None, channels=m.channels or None, dim=m.dim,
                              conditional=m.conditional, n_classes=m.n_classes or 10,
                              norm=m.critic_norm, z_dim=m.z_dim)


def build_image_run(cfg, device: torch.device, out: Path, *, resume: bool, progress: bool,
                    interactive: bool, log) -> RunParts:
    if cfg.model.critic_norm == "batch":
        log("warning: --critic-norm batch couples the samples of a batch: the gradient penalty is then "
            "no longer per sample")
    samples_dir = out / "samples"
    t = cfg.train
    if is_toy(cfg):
        from textgan.data.toy import toy_sampler
        name = cfg.data.dataset.lower()
        sampler = toy_sampler(name, t.batch_size, t.seed, device)
        generator, critic = build_image_models_for(cfg)
        generator, critic = generator.to(device), critic.to(device)
        meta = {"scale": "toy", "classes": None}
        evaluator = ToyEvaluator(name, t.eval_samples, t.seed, samples_dir, critic)
        heldout = None
        if t.heldout_samples:
            pts = _toy_draw(name, t.heldout_samples, t.seed * 7919 + 11).to(device)
            heldout = list(pts.split(t.batch_size))
        floor = evaluator.floor if not resume else None
        log(f"data {name}: 2-D points, batch {t.batch_size}")
    else:
        data = load_data(cfg, progress=progress)
        cfg.model.channels, cfg.model.size = data.shape[0], data.shape[1]   # honours an explicit channels
        if cfg.model.conditional:
            if data.n_classes is None:
                raise ConfigError(f"--conditional needs class labels, and {cfg.data.dataset} has none "
                                  "(a folder needs at least two class sub-folders)")
            cfg.model.n_classes = data.n_classes
        train = _first(data.train, cfg.data.max_examples) if cfg.data.max_examples else data.train
        log(f"data {data.name}: {len(train):,} training images {data.shape}, {len(data.heldout):,} held out"
            + (f", {data.n_classes} classes" if data.n_classes else "") + f" ({data.source})")
        from textgan.data.images import ImageBatches
        sampler = ImageBatches(train, t.batch_size, data.scale, t.seed, device)
        generator, critic = build_image_models_for(cfg)
        generator, critic = generator.to(device), critic.to(device)
        meta = {"scale": data.scale, "classes": list(data.classes) if data.classes else None}
        evaluator = ImageEvaluator(data, cfg, samples_dir, log, device)
        heldout = None
        if t.heldout_samples and len(data.heldout):
            heldout = heldout_images(_first(data.heldout, t.heldout_samples), t.batch_size, data.scale,
                                     device, t.seed)
        floor = (lambda: evaluator.floor(data.heldout)) if not resume else None
    files = {}
    if floor is not None:
        with rng_untouched():
            values = floor()
        files["floor.json"] = values
        shown = ", ".join(f"{k} {v:.4f}" for k, v in values.items()
                          if k != "heldout_examples" and not isinstance(v, str))
        log("real-data floor (" + f"{values['heldout_examples']} held-out examples): "
            + (shown or "no sample metrics for this data set (see above)"))

    def check_resume(state: dict) -> None:
        if state.get("image") != meta:
            raise CheckpointError(f"the data now differ from the run's ({state.get('image')} in the run, "
                                  f"{meta} now); resume with the data the run was trained on")

    return RunParts(generator, critic, sampler, evaluator=evaluator, heldout=heldout,
                    extra_state={"image": meta}, files=files, check_resume=check_resume)


# ----------------------------------------------------------------------------- the modality

class Images(Modality):
    """2-D toy points and images (MNIST, CIFAR-10, folders)."""
    kind = "image"
    data_field = "dataset"
    train_command = "train-image"
    eval_command = "eval-image"
    headline = None                  # per data set: see `headline_for`
    summary_keys = ("w1", "modes", "within_3sigma", "classifier_score", "fd", "inception_score", "fid",
                    "wasserstein_heldout")
    state_keys = ("image",)

    def config_from_dict(self, d: dict):
        from textgan.config import ImageRunConfig
        return ImageRunConfig.from_dict(d)

    def make_config(self, data: str, preset: str = "paper", **options):
        from textgan.config import make_image_config
        return make_image_config(data, preset, **options)

    def run_tag(self, cfg) -> str:
        return cfg.data.dataset

    def step_samples(self, run_dir: Path, step: int) -> list[StepSample]:
        """The PNG the evaluator wrote at this step: a sample grid, or the toy data's scatter plot."""
        path = Path(run_dir) / "samples" / f"samples_{step:08d}.png"
        return [StepSample("samples", image=path)] if path.is_file() else []

    def build(self, cfg, device, out, *, resume, progress, interactive, log) -> RunParts:
        return build_image_run(cfg, device, out, resume=resume, progress=progress,
                               interactive=interactive, log=log)

    def headline_for(self, cfg) -> str | None:
        """The progress bar's metric: w1 for toy data, else the data set's sample score."""
        if is_toy(cfg):
            return "w1"
        return "classifier_score" if cfg.data.dataset.lower() == "mnist" else "inception_score"

    def load(self, state: dict, path: Path, device: torch.device) -> Model:
        from textgan.config import ImageRunConfig
        try:
            cfg = ImageRunConfig.from_dict(state["config"])
            generator, critic = build_image_models_for(cfg)
            generator.load_state_dict(sampling_weights(state))
            if state.get("critic") is None:      # a model folder (textgan export) keeps no critic
                critic = None
            else:
                critic.load_state_dict(state["critic"])
            meta = state["image"]
        except (KeyError, TypeError, RuntimeError, ConfigError) as e:
            raise CheckpointError(f"checkpoint {path} does not hold a usable image generator ({e})") from None
        return Model(self, generator.to(device), cfg, int(state["step"]),
                     critic=None if critic is None else critic.to(device),
                     extra={"image": meta}, source=Path(path))

    def _labels(self, model: Model, n: int, class_: int | None) -> torch.Tensor | None:
        k = int(getattr(model.generator, "n_classes", 0) or 0)
        if class_ is None:
            return None
        if not k:
            raise ConfigError("--class needs a conditional run (trained with --conditional)")
        if not 0 <= class_ < k:
            raise ConfigError(f"--class must be between 0 and {k - 1}, got {class_}")
        return torch.full((n,), class_, dtype=torch.long)

    def sample(self, model: Model, n: int, *, seed: int | None = None, class_: int | None = None,
               **options) -> torch.Tensor:
        """Images as uint8 [n, C, H, W]; toy data as float points [n, 2]."""
        self.refuse(options, (), "image runs")
        seed = _seed(seed)
        out = generate(model.generator, n, seed=seed, labels=self._labels(model, n, class_))
        if model.extra["image"]["scale"] == "toy":
            return out
        return torch.from_numpy(to_uint8(out, *value_range(model.extra["image"]["scale"])))

    def write_samples(self, model: Model, n: int, out: str | None, *, seed: int | None = None,
                      class_: int | None = None, **options) -> tuple[str | None, str]:
        """A grid (FILE.png), N files (DIR/), or a toy scatter plot."""
        self.refuse(options, (), "image runs")
        if not out:
            raise ConfigError("image samples need --out FILE.png (one grid) or --out DIR/ (N files)")
        generator, cfg, meta = model.generator, model.config, model.extra["image"]
        seed = _seed(seed)
        k = int(getattr(generator, "n_classes", 0) or 0)
        labels = self._labels(model, n, class_)
        to_dir = out.endswith(("/", "\\")) or Path(out).is_dir()
        step = f" (step {model.step})"
        if meta["scale"] == "toy":
            if to_dir:
                raise ConfigError("a toy run samples 2-D points: use --out FILE.png for a scatter plot")
            fake = generate(generator, n, seed=seed).numpy()
            real = _toy_draw(cfg.data.dataset.lower(), n, seed + 1).numpy()
            save_toy_plot(out, real, fake, model.critic, title=f"{cfg.data.dataset}, {n} samples")
            return None, f"wrote a scatter plot of {n} samples to {out}" + step
        vrange = value_range(meta["scale"])
        if k and class_ is None and not to_dir:
            per = max(1, math.ceil(n / k))
            images = generate(generator, k * per, seed=seed, labels=grid_labels(k, per))
            save_grid(images, out, nrow=per, value_range=vrange)
            return None, f"wrote {k} rows of {per} samples (one row per class) to {out}" + step
        images = generate(generator, n, seed=seed, labels=labels)
        if to_dir:
            paths = save_images(images, out, vrange)
            return None, f"wrote {len(paths)} PNG files to {out}" + step
        save_grid(images, out, nrow=int(math.ceil(math.sqrt(n))), value_range=vrange)
        return None, f"wrote a grid of {n} samples to {out}" + step

    def evaluate(self, model: Model, run_dir: Path | None, *, log=print, n: int | None = None,
                 inception_weights: str | None = None, **options) -> dict:
        """The generator through its data set's metrics, beside the real-data floor (the run's
        floor.json when it was measured the same way) and the better direction of each."""
        import json

        self.refuse(options, (), "image runs")
        cfg, meta, step = model.config, model.extra["image"], model.step
        if n is not None:
            if n <= 0:
                raise ConfigError(f"-n must be positive, got {n}")
            cfg.train.eval_samples = n
        if inception_weights is not None:
            cfg.data.inception_weights = inception_weights
        if meta["scale"] == "toy":
            evaluator = ToyEvaluator(cfg.data.dataset.lower(), cfg.train.eval_samples, cfg.train.seed, None)
            floor_fn = evaluator.floor
        else:
            data = load_data(cfg, progress=False)
            device = next(model.generator.parameters()).device
            evaluator = ImageEvaluator(data, cfg, None, log, device)
            floor_fn = lambda: evaluator.floor(data.heldout)  # noqa: E731
        values = evaluator(model.generator, step)
        floor = {}
        if run_dir is not None:
            try:
                floor = json.loads((Path(run_dir) / "floor.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                floor = {}
        matches = getattr(evaluator, "floor_matches", lambda _: True)
        if n is not None or any(k not in floor for k in values) or not matches(floor):
            floor = floor_fn()       # asked for another count, or the floor is of another protocol
        metrics = {k: {"value": v, "floor": floor.get(k), "better": self.better(k)} for k, v in values.items()}
        return {"run": str(run_dir if run_dir is not None else model.source), "step": step,
                "dataset": cfg.data.dataset, "samples": evaluator.n, "metrics": metrics}

    def format_evaluation(self, result: dict) -> str:
        lines = [f"{result['run']} at step {result['step']} ({result['dataset']}, {result['samples']} samples)",
                 f"{'metric':<22}{'value':>12}{'real floor':>14}  better"]
        for k, m in result["metrics"].items():
            floor = "" if m["floor"] is None else f"{m['floor']:.4f}"
            better = "closer to real" if m["better"] == "closer" else (m["better"] or "")
            lines.append(f"{k:<22}{m['value']:>12.4f}{floor:>14}  {better}")
        if not result["metrics"]:
            lines.append("(no metrics for this data set: see the log line above)")
        return "\n".join(lines)

    def better(self, metric: str) -> str | None:
        from textgan.metrics import IMAGE_METRICS
        info = IMAGE_METRICS.get(metric)
        return info.better if info else None

    def summary(self, run_dir: Path, step: int, record: dict | None) -> list[str]:
        lines = super().summary(run_dir, step, record)
        pictures = sorted((Path(run_dir) / "samples").glob("samples_*.png"))
        if pictures:
            lines.append(f"samples at step {step}: {pictures[-1]}")
        return lines


def _seed(seed: int | None) -> int:
    """A fixed seed, or a fresh one: image sampling always draws from a private stream."""
    return int(torch.randint(1 << 30, ()).item()) if seed is None else seed


IMAGES = register(Images())
