"""Typed run configuration and presets.

A run is fully described by one `RunConfig`; `config.json` in the run directory
is `asdict(config)`, and `RunConfig.from_dict` rebuilds it.  The `paper` preset
is the setting of Gulrajani et al. (2017), `gan_language.py`; `small` is a CPU
setting that learns visibly within minutes.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields


@dataclass
class ModelConfig:
    dim: int = 512            # channels of every residual block (DIM)
    seq_len: int = 32         # sequence length in tokens
    n_blocks: int = 5         # residual blocks in each network
    z_dim: int = 128          # generator noise size
    vocab_size: int = 0       # set from the corpus vocabulary


@dataclass
class DataConfig:
    corpus: str = "synthetic"          # NAME or PATH
    tokens: str = "char"               # char | word | bpe
    bpe_vocab_size: int = 2048
    max_lines: int = 10_000_000
    max_vocab: int = 2048              # index 0 is the unknown symbol
    data_dir: str | None = None        # where named corpora live (None: the cache)
    download: bool = False


@dataclass
class TrainConfig:
    iters: int = 200_000               # total generator iterations of the run
    critic_iters: int = 10             # critic steps per generator step
    batch_size: int = 64
    gp_weight: float = 10.0            # lambda
    lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.9
    eval_every: int = 100              # log, evaluate, sample, checkpoint
    eval_samples: int = 640            # generated lines per evaluation
    checkpoint_every: int = 0          # 0: at every evaluation
    keep_checkpoints: int = 3
    seed: int = 1
    device: str = "auto"               # auto | cpu | cuda | cuda:N
    precision: str = "fp32"            # fp32 | bf16 (autocast)
    compile: bool = False              # torch.compile the networks
    conv: str = "auto"                 # auto | direct | winograd (auto: winograd on CPU in fp32)
    on_nonfinite: str = "stop"         # stop | rollback
    # The paper's comparisons (textgan/losses.py): wgan-gp | wgan-gp-one-sided | wgan-clip | gan
    objective: str = "wgan-gp"
    clip_value: float = 0.01           # wgan-clip: every critic weight clipped to +-c after each step
    optimizer: str = "adam"            # adam | rmsprop (PyTorch's, with TF's decay 0.9; see train.py)
    critic_lr: float = 0.0             # 0: the same as lr (set it for a two time-scale update rule)
    lr_decay: str = "none"             # none | linear (to 0 over the run, as the CIFAR-10 ResNet)
    gen_batch_size: int = 0            # generator step's batch; 0: batch_size (CIFAR-10 ResNet: 2x)
    acgan_critic_weight: float = 1.0   # conditional models: class cross-entropy on real images
    acgan_generator_weight: float = 0.1  # ... and on the generator's own samples
    heldout_samples: int = 640         # held-out examples for wasserstein_heldout (0: off)
    ema: float = 0.0                   # 0: off; else the decay per iteration of an average of the
                                       # generator's weights that evaluation and samples use


@dataclass
class RunConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    preset: str = "paper"
    kind: str = "lm"                   # the modality (runs.py); image runs have their own config

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        return config_from_dict(cls, d)


def config_from_dict(cls, d: dict):
    """A run config from its to_dict() form; unknown keys (older or newer versions) are ignored."""
    sections = {}
    for f in fields(cls):
        if f.default_factory is not dataclasses.MISSING:       # model, data, train
            kind = type(f.default_factory())
            known = {g.name for g in fields(kind)}
            sections[f.name] = kind(**{k: v for k, v in (d.get(f.name) or {}).items() if k in known})
    return cls(**sections, preset=d.get("preset", "paper"))


# Overrides applied on top of the dataclass defaults (which are the paper's).
PRESETS: dict[str, dict[str, dict]] = {
    "paper": {},
    "small": {
        # Chosen with bench/tune_small.py and bench/quality_cpu.py (bench/RESULTS.md): per CPU second,
        # two narrow residual blocks, one critic step on batches of 32 and a critic that learns 3x
        # faster than the generator (two time-scale rule) learn fastest on a CPU; samples from an
        # average of the generator's weights (decay 0.999) score better than the last weights.
        "model": {"dim": 64, "n_blocks": 2},
        "train": {"iters": 12_000, "critic_iters": 1, "batch_size": 32, "lr": 1e-3,
                  "critic_lr": 3e-3, "eval_every": 1000, "ema": 0.999},
        "data": {"max_lines": 200_000},
    },
}

# What a preset changes for one corpus, applied after the preset.  The built-in grammar's sentences
# are judged by its exact acceptance check; on 16-character lines the small preset's five minutes
# are enough to show learning (bench/tune_small.py).
CORPUS_PRESETS: dict[tuple[str, str], dict[str, dict]] = {
    ("small", "synthetic"): {"model": {"seq_len": 16}},
}


# What the paper's code uses for each baseline objective (DESIGN.md): applied after the preset,
# before explicit options.  wgan-gp-one-sided keeps the preset's settings (only the penalty changes).
OBJECTIVE_SETTINGS: dict[str, dict] = {
    "wgan-gp": {},
    "wgan-gp-one-sided": {},
    # WGAN (Arjovsky et al.): RMSProp 5e-5, 5 critic steps, weights clipped to +-0.01
    "wgan-clip": {"optimizer": "rmsprop", "lr": 5e-5, "critic_iters": 5, "clip_value": 0.01,
                  "critic_lr": 0.0, "lr_decay": "none"},
    # DCGAN: Adam 2e-4, beta (0.5, 0.999), one discriminator step, non-saturating generator loss
    "gan": {"optimizer": "adam", "lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "critic_iters": 1,
            "critic_lr": 0.0, "lr_decay": "none"},
}


def apply_objective(train, objective: str | None) -> None:
    """Set `train.objective` and the paper's settings for it."""
    if objective is None:
        return
    if objective not in OBJECTIVE_SETTINGS:
        from textgan.errors import ConfigError
        raise ConfigError(f"--objective must be one of {', '.join(OBJECTIVE_SETTINGS)}, got {objective!r}")
    train.objective = objective
    for k, v in OBJECTIVE_SETTINGS[objective].items():
        setattr(train, k, v)


def make_config(preset: str = "paper", **overrides) -> RunConfig:
    """Preset, then the objective's settings, then explicit overrides given as
    `section__field=value` or plain field names (looked up in model, data, train)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    cfg = RunConfig(preset=preset)
    corpus = overrides.get("corpus") or overrides.get("data__corpus") or cfg.data.corpus
    for layer in (PRESETS[preset], CORPUS_PRESETS.get((preset, corpus), {})):
        for section, values in layer.items():
            for k, v in values.items():
                setattr(getattr(cfg, section), k, v)
    apply_objective(cfg.train, overrides.pop("objective", None))
    for key, value in overrides.items():
        if value is None:
            continue
        set_field(cfg, key, value)
    return cfg


def set_field(cfg: RunConfig, key: str, value) -> None:
    if "__" in key:
        section, name = key.split("__", 1)
        setattr(getattr(cfg, section), name, value)
        return
    for section in ("model", "data", "train"):
        obj = getattr(cfg, section)
        if key in {f.name for f in fields(obj)}:
            setattr(obj, key, value)
            return
    raise KeyError(f"unknown config field {key!r}")


MAX_SEQ_LEN = 1024  # the generator's input layer grows with seq_len * dim; beyond this it is a typo


def validate_config(cfg: RunConfig) -> None:
    """Refuse values that cannot train, with one line saying which and why."""
    from textgan.errors import ConfigError

    positive = {"--dim": cfg.model.dim, "--seq-len": cfg.model.seq_len, "--iters": cfg.train.iters,
                "--critic-iters": cfg.train.critic_iters, "--batch-size": cfg.train.batch_size,
                "--max-lines": cfg.data.max_lines, "--lr": cfg.train.lr,
                "n_blocks": cfg.model.n_blocks, "z_dim": cfg.model.z_dim,
                "eval samples": cfg.train.eval_samples}
    for name, value in positive.items():
        if not value > 0:
            raise ConfigError(f"{name} must be positive, got {value}")
    if cfg.model.seq_len > MAX_SEQ_LEN:
        raise ConfigError(f"--seq-len {cfg.model.seq_len} is larger than the model supports "
                          f"(at most {MAX_SEQ_LEN})")
    if cfg.train.gp_weight < 0:
        raise ConfigError(f"--gp-weight must be zero or positive, got {cfg.train.gp_weight}")
    if cfg.train.eval_every < 0 or cfg.train.checkpoint_every < 0:
        raise ConfigError("--eval-every and the checkpoint interval must be zero or positive")
    if not 2 <= cfg.data.max_vocab <= 1 << 20:
        raise ConfigError(f"max_vocab must be between 2 and {1 << 20}, got {cfg.data.max_vocab}")
    if cfg.data.tokens not in ("char", "word", "bpe"):
        raise ConfigError(f"--tokens must be char, word or bpe, got {cfg.data.tokens!r}")
    if cfg.train.precision not in ("fp32", "bf16"):
        raise ConfigError(f"--precision must be fp32 or bf16, got {cfg.train.precision!r}")
    if cfg.train.conv not in ("auto", "direct", "winograd"):
        raise ConfigError(f"--conv must be auto, direct or winograd, got {cfg.train.conv!r}")
    if cfg.train.conv == "winograd" and cfg.train.precision != "fp32":
        raise ConfigError("--conv winograd runs in float32 only; use --conv direct with --precision bf16")
    if cfg.train.conv == "winograd" and cfg.model.seq_len % 4:
        raise ConfigError(f"--conv winograd needs --seq-len divisible by 4, got {cfg.model.seq_len}")
    if cfg.train.on_nonfinite not in ("stop", "rollback"):
        raise ConfigError(f"on_nonfinite must be stop or rollback, got {cfg.train.on_nonfinite!r}")
    validate_train(cfg.train)


def validate_train(t: TrainConfig) -> None:
    """The modality-free part of the checks (text and image runs share it)."""
    from textgan.errors import ConfigError
    from textgan.losses import OBJECTIVES

    if t.objective not in OBJECTIVES:
        raise ConfigError(f"--objective must be one of {', '.join(OBJECTIVES)}, got {t.objective!r}")
    if t.optimizer not in ("adam", "rmsprop"):
        raise ConfigError(f"optimizer must be adam or rmsprop, got {t.optimizer!r}")
    if t.lr_decay not in ("none", "linear"):
        raise ConfigError(f"lr_decay must be none or linear, got {t.lr_decay!r}")
    if t.objective == "wgan-clip" and not t.clip_value > 0:
        raise ConfigError(f"--clip-value must be positive, got {t.clip_value}")
    if t.critic_lr < 0 or t.gen_batch_size < 0 or t.heldout_samples < 0:
        raise ConfigError("critic_lr, gen_batch_size and heldout_samples must be zero or positive")
    if not 0 <= t.ema < 1:
        raise ConfigError(f"--ema must lie in [0, 1) (0: off, e.g. 0.999), got {t.ema}")
    if not (0 <= t.beta1 < 1 and 0 <= t.beta2 < 1):
        raise ConfigError(f"Adam betas must lie in [0, 1), got ({t.beta1}, {t.beta2})")


# ============================================================================ images
# The image modality (textgan/image.py): its own run config beside RunConfig, sharing TrainConfig.

TOY_DATASETS = ("8gaussians", "25gaussians", "swissroll")
IMAGE_ARCHS = ("toy", "mnist", "cifar-resnet", "resnet64")
CRITIC_NORMS = ("none", "layer", "batch")


@dataclass
class ImageModelConfig:
    arch: str = "toy"                  # toy | mnist | cifar-resnet | resnet64
    dim: int = 512                     # DIM of both networks
    z_dim: int = 2                     # generator noise size (toy 2, images 128)
    size: int = 0                      # image side (28 mnist, 32 cifar-resnet, 64 resnet64; 0 toy)
    channels: int = 0                  # 0: from the data (1 MNIST, grey folders; 3 colour; 0 toy); 1|3 forces
    conditional: bool = False          # AC-GAN (cifar-resnet only)
    n_classes: int = 0                 # set from the data's classes when conditional
    critic_norm: str = "none"          # none | layer | batch


@dataclass
class ImageDataConfig:
    dataset: str = "8gaussians"        # 8gaussians | 25gaussians | swissroll | mnist | cifar10 | PATH
    data_dir: str | None = None        # where mnist / cifar10 live (None: the cache)
    download: bool = False
    max_examples: int = 0              # training images to use (0: all)
    inception_weights: str | None = None  # Inception weights for IS/FID (None: $TEXTGAN_INCEPTION_WEIGHTS)


@dataclass
class ImageRunConfig:
    model: ImageModelConfig = field(default_factory=ImageModelConfig)
    data: ImageDataConfig = field(default_factory=ImageDataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    preset: str = "paper"
    kind: str = "image"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ImageRunConfig":
        return config_from_dict(cls, d)


def image_family(dataset: str, size: int | None = None) -> str:
    """Which preset table a data set uses: toy | mnist | cifar10 | folder-32 | folder-64."""
    name = str(dataset).lower()
    if name in TOY_DATASETS:
        return "toy"
    if name == "mnist":
        return "mnist"
    if name in ("cifar10", "cifar-10"):
        return "cifar10"
    return "folder-32" if size == 32 else "folder-64"


_CIFAR_PAPER = {   # gan_cifar_resnet.py
    "model": {"arch": "cifar-resnet", "dim": 128, "z_dim": 128, "size": 32, "critic_norm": "none"},
    "train": {"iters": 100_000, "critic_iters": 5, "batch_size": 64, "gen_batch_size": 128,
              "gp_weight": 10.0, "lr": 2e-4, "beta1": 0.0, "beta2": 0.9, "lr_decay": "linear",
              "eval_every": 1000, "eval_samples": 50_000, "heldout_samples": 10_000},
}
_CIFAR_SMALL = {
    "model": {**_CIFAR_PAPER["model"], "dim": 32},
    # the paper's optimiser; DIM 32 and 1,000-sample metrics to stay within minutes on a CPU
    "train": {**_CIFAR_PAPER["train"], "iters": 500, "eval_every": 100, "eval_samples": 1000,
              "heldout_samples": 500},
}

# Per data-set family: "paper" is the setting of the paper's code (DESIGN.md), "small" a CPU setting.
IMAGE_PRESETS: dict[str, dict[str, dict[str, dict]]] = {
    "toy": {   # gan_toy.py
        "paper": {
            "model": {"arch": "toy", "dim": 512, "z_dim": 2, "size": 0, "critic_norm": "none"},
            "train": {"iters": 100_000, "critic_iters": 5, "batch_size": 256, "gp_weight": 0.1,
                      "lr": 1e-4, "beta1": 0.5, "beta2": 0.9, "eval_every": 100,
                      "eval_samples": 1000, "heldout_samples": 1000},
        },
        # Chosen with bench/toy_quality.py (bench/RESULTS.md): DIM 128 and 2 critic steps (0.008
        # one-thread CPU-s per iteration, the paper's networks 0.19), lr 1e-3 decayed linearly to 0 (the
        # decay sharpens the modes at the end); the paper's lambda, batch and betas.  20,000 iterations:
        # about 3 one-thread CPU-minutes, 8/8 and 25/25 modes.
        "small": {
            "model": {"arch": "toy", "dim": 128, "z_dim": 2, "size": 0, "critic_norm": "none"},
            "train": {"iters": 20_000, "critic_iters": 2, "batch_size": 256, "gp_weight": 0.1,
                      "lr": 1e-3, "beta1": 0.5, "beta2": 0.9, "lr_decay": "linear", "eval_every": 1000,
                      "eval_samples": 1000, "heldout_samples": 1000},
        },
    },
    "mnist": {   # gan_mnist.py
        "paper": {
            "model": {"arch": "mnist", "dim": 64, "z_dim": 128, "size": 28, "critic_norm": "none"},
            "train": {"iters": 200_000, "critic_iters": 5, "batch_size": 50, "gp_weight": 10.0,
                      "lr": 1e-4, "beta1": 0.5, "beta2": 0.9, "eval_every": 100,
                      "eval_samples": 10_000, "heldout_samples": 10_000},
        },
        "small": {  # tuned for 20 CPU-minutes on one thread (bench/mnist_quality.py): fewer critic
            # steps, a 20x larger learning rate with beta1 0 and the CIFAR ResNet's linear decay;
            # metrics on 10,000 samples (10 splits of 1,000, as the floor on the 10,000 held-out digits)
            "model": {"arch": "mnist", "dim": 32, "z_dim": 128, "size": 28, "critic_norm": "none"},
            "train": {"iters": 4000, "critic_iters": 2, "batch_size": 50, "gp_weight": 10.0,
                      "lr": 2e-3, "beta1": 0.0, "beta2": 0.9, "lr_decay": "linear", "eval_every": 200,
                      "eval_samples": 10_000, "heldout_samples": 500},
        },
    },
    "cifar10": {"paper": _CIFAR_PAPER, "small": _CIFAR_SMALL},
    "folder-32": {"paper": _CIFAR_PAPER, "small": _CIFAR_SMALL},   # 32 px folders: the CIFAR ResNet
    "folder-64": {   # gan_64x64.py, Good generator / critic with layer norm
        "paper": {
            "model": {"arch": "resnet64", "dim": 64, "z_dim": 128, "size": 64, "critic_norm": "layer"},
            "train": {"iters": 200_000, "critic_iters": 5, "batch_size": 64, "gp_weight": 10.0,
                      "lr": 1e-4, "beta1": 0.0, "beta2": 0.9, "eval_every": 1000,
                      "eval_samples": 10_000, "heldout_samples": 1000},
        },
        "small": {
            "model": {"arch": "resnet64", "dim": 16, "z_dim": 128, "size": 64, "critic_norm": "layer"},
            "train": {"iters": 300, "critic_iters": 5, "batch_size": 32, "gp_weight": 10.0,
                      "lr": 1e-4, "beta1": 0.0, "beta2": 0.9, "eval_every": 100,
                      "eval_samples": 500, "heldout_samples": 256},
        },
    },
}
IMAGE_PRESET_NAMES = ("paper", "small")


def make_image_config(dataset: str, preset: str = "paper", **overrides) -> ImageRunConfig:
    """The family's preset (by data set and size), then the objective's settings, then explicit
    overrides (`section__field=value` or plain field names looked up in model, data, train)."""
    from textgan.errors import ConfigError
    if preset not in IMAGE_PRESET_NAMES:
        raise ConfigError(f"unknown preset {preset!r}; choose from {', '.join(IMAGE_PRESET_NAMES)}")
    family = image_family(dataset, overrides.get("size"))
    cfg = ImageRunConfig(preset=preset)
    cfg.data.dataset = str(dataset)
    for section, values in IMAGE_PRESETS[family][preset].items():
        for k, v in values.items():
            setattr(getattr(cfg, section), k, v)
    apply_objective(cfg.train, overrides.pop("objective", None))
    for key, value in overrides.items():
        if value is None:
            continue
        try:
            set_field(cfg, key, value)
        except KeyError:
            raise ConfigError(f"unknown image config field {key!r}") from None
    return cfg


def _expected_size(cfg: ImageRunConfig) -> tuple[int, ...] | None:
    name = cfg.data.dataset.lower()
    if name in TOY_DATASETS:
        return (0,)
    if name == "mnist":
        return (28,)
    if name in ("cifar10", "cifar-10"):
        return (32,)
    return None


def validate_image_config(cfg: ImageRunConfig) -> None:
    """Refuse image settings that cannot train, with one line saying which and why."""
    from pathlib import Path

    from textgan.errors import ConfigError

    m, d, t = cfg.model, cfg.data, cfg.train
    name = d.dataset.lower()
    known = TOY_DATASETS + ("mnist", "cifar10", "cifar-10")
    if name not in known and not Path(d.dataset).expanduser().is_dir():
        raise ConfigError(f"unknown dataset {d.dataset!r}: use {', '.join(TOY_DATASETS)}, mnist, cifar10 "
                          "or the PATH of an image folder")
    if m.arch not in IMAGE_ARCHS:
        raise ConfigError(f"image model must be one of {', '.join(IMAGE_ARCHS)}, got {m.arch!r}")
    if m.critic_norm not in CRITIC_NORMS:
        raise ConfigError(f"--critic-norm must be one of {', '.join(CRITIC_NORMS)}, got {m.critic_norm!r}")
    positive = {"--dim": m.dim, "z_dim": m.z_dim, "--iters": t.iters, "--critic-iters": t.critic_iters,
                "--batch-size": t.batch_size, "--lr": t.lr, "eval samples": t.eval_samples}
    for opt, value in positive.items():
        if not value > 0:
            raise ConfigError(f"{opt} must be positive, got {value}")
    if d.max_examples < 0:
        raise ConfigError(f"--max-examples must be zero (all) or positive, got {d.max_examples}")
    data_channels = {"mnist": 1, "cifar10": 3, "cifar-10": 3}.get(name, 0 if name in TOY_DATASETS else None)
    if m.channels not in (0, 1, 3) or (m.channels and data_channels not in (None, m.channels)):
        what = ("1 or 3 (0: detect from the images)" if data_channels is None else
                "0 for the 2-D toy points" if data_channels == 0 else f"{data_channels} for {d.dataset}")
        raise ConfigError(f"--channels must be {what}, got {m.channels}")
    want = _expected_size(cfg)
    if want is None:
        if m.size not in (32, 64):
            raise ConfigError(f"--size must be 32 or 64 for an image folder, got {m.size}")
    elif m.size not in want and not (want == (0,) and m.size == 0):
        what = "the toy data sets are 2-D points and take no --size" if want == (0,) else \
            f"{d.dataset} images are {want[0]}x{want[0]}"
        raise ConfigError(f"bad --size {m.size}: {what}")
    arch_size = {"toy": 0, "mnist": 28, "cifar-resnet": 32, "resnet64": 64}[m.arch]
    if arch_size != m.size:
        raise ConfigError(f"the {m.arch} networks work at size {arch_size or 'none (2-D points)'}, "
                          f"not {m.size}")
    if (m.arch == "toy") != (name in TOY_DATASETS):
        raise ConfigError(f"the {m.arch} networks do not fit data set {d.dataset!r}")
    if m.conditional and m.arch != "cifar-resnet":
        if m.arch == "resnet64":
            raise ConfigError("--conditional (AC-GAN) needs the CIFAR ResNet: add --size 32 for an image "
                              "folder (the default --size 64 uses the 64x64 ResNet, which has no class head)")
        raise ConfigError("--conditional (AC-GAN) needs the CIFAR ResNet: cifar10 or a 32 px "
                          "folder of class sub-folders")
    if t.eval_every < 0 or t.checkpoint_every < 0:
        raise ConfigError("--eval-every and the checkpoint interval must be zero or positive")
    if t.gp_weight < 0:
        raise ConfigError(f"--gp-weight must be zero or positive, got {t.gp_weight}")
    if t.precision not in ("fp32", "bf16"):
        raise ConfigError(f"--precision must be fp32 or bf16, got {t.precision!r}")
    if t.on_nonfinite not in ("stop", "rollback"):
        raise ConfigError(f"on_nonfinite must be stop or rollback, got {t.on_nonfinite!r}")
    if name == "25gaussians" and t.batch_size > 100_000:
        raise ConfigError(f"--batch-size must be at most 100000 for 25gaussians, got {t.batch_size}")
    validate_train(t)
