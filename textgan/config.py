"""Typed run configuration and presets.

A run is fully described by one `RunConfig`; `config.json` in the run directory
is `asdict(config)`, and `RunConfig.from_dict` rebuilds it.  The `paper` preset
is the setting of Gulrajani et al. (2017), `gan_language.py`; `small` is a CPU
setting that learns visibly within minutes.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields


@dataclass
class ModelConfig:
    dim: int = 512            # channels of every residual block (DIM)
    seq_len: int = 32         # sequence length in tokens
    n_blocks: int = 5         # residual blocks in each network
    z_dim: int = 128          # generator noise size
    vocab_size: int = 0       # set from the corpus vocabulary
    arch: str = "conv"        # --objective mle only: conv (causal residual blocks) | gru
    gumbel_tau: float = 0.0   # GAN generator: 0 softmax (the paper); > 0 Gumbel-softmax at this temperature
    straight_through: bool = False   # GAN generator: one-hot outputs in training, the softmax's gradient


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
    kind: str = "lm"                   # the modality (textgan/modality.py); images have their own config

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def check_model(self) -> None:
        _check_text(self)

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


def apply_layer(cfg, values: dict[str, dict]) -> None:
    """Apply one preset layer ({section: {field: value}}, textgan/presets.py) to a run config."""
    for section, fields_ in values.items():
        for k, v in fields_.items():
            setattr(getattr(cfg, section), k, v)


def objective_settings(objective: str) -> dict:
    """The training settings the paper's code uses for `objective` (its preset layer's train part)."""
    from textgan.presets import layer, preset_names
    if objective not in preset_names("objective"):
        from textgan.errors import ConfigError
        raise ConfigError(f"--objective must be one of {', '.join(preset_names('objective'))}, "
                          f"got {objective!r}")
    return dict(layer(f"objective/{objective}").get("train", {}))


def apply_objective(train, objective: str | None) -> None:
    """Set `train.objective` and the paper's settings for it."""
    if objective is None:
        return
    settings = objective_settings(objective)
    train.objective = objective
    for k, v in settings.items():
        setattr(train, k, v)


def build_config(cfg, layers: list[str], overrides: dict):
    """The named preset layers in order, then the objective's settings, then explicit overrides given
    as `section__field=value` or plain field names (looked up in model, data, train; None: not given)."""
    from textgan.presets import layer
    for name in layers:
        apply_layer(cfg, layer(name))
    overrides = dict(overrides)
    apply_objective(cfg.train, overrides.pop("objective", None))
    for key, value in overrides.items():
        if value is None:
            continue
        try:
            set_field(cfg, key, value)
        except KeyError:
            from textgan.errors import ConfigError
            raise ConfigError(f"unknown option {key!r}") from None
    return cfg


def _check_preset(preset: str, prefix: str) -> None:
    from textgan.presets import preset_names
    names = preset_names(prefix)
    if preset not in names:
        from textgan.errors import ConfigError
        raise ConfigError(f"unknown preset {preset!r}; choose from {', '.join(names)}")


def make_config(preset: str = "paper", **overrides) -> RunConfig:
    """A text run's config: the preset (and its layer for the corpus, if any), then the objective's
    settings, then explicit overrides."""
    _check_preset(preset, "lm")
    corpus = overrides.get("corpus") or overrides.get("data__corpus") or DataConfig.corpus
    return build_config(RunConfig(preset=preset), [f"lm/{preset}", f"lm/{preset}/{corpus}"], overrides)


def set_field(cfg, key: str, value) -> None:
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


TEXT_ARCHS = ("conv", "gru")   # the maximum-likelihood models (textgan/models/autoregressive.py)
MAX_SEQ_LEN = 1024  # the generator's input layer grows with seq_len * dim; beyond this it is a typo


def _positive(values: dict) -> None:
    from textgan.errors import ConfigError
    for name, value in values.items():
        if not value > 0:
            raise ConfigError(f"{name} must be positive, got {value}")


def validate_config(cfg) -> None:
    """Refuse values that cannot train, with one line saying which and why (any modality's config:
    the training checks are shared, each config class adds its own model and data checks)."""
    cfg.check_model()
    validate_train(cfg.train)


def _check_text(cfg: "RunConfig") -> None:
    from textgan.errors import ConfigError

    _positive({"--dim": cfg.model.dim, "--seq-len": cfg.model.seq_len, "--max-lines": cfg.data.max_lines,
               "n_blocks": cfg.model.n_blocks, "z_dim": cfg.model.z_dim})
    if cfg.model.seq_len > MAX_SEQ_LEN:
        raise ConfigError(f"--seq-len {cfg.model.seq_len} is larger than the model supports "
                          f"(at most {MAX_SEQ_LEN})")
    if not 2 <= cfg.data.max_vocab <= 1 << 20:
        raise ConfigError(f"max_vocab must be between 2 and {1 << 20}, got {cfg.data.max_vocab}")
    if cfg.data.tokens not in ("char", "word", "bpe"):
        raise ConfigError(f"--tokens must be char, word or bpe, got {cfg.data.tokens!r}")
    if cfg.train.conv not in ("auto", "direct", "winograd"):
        raise ConfigError(f"--conv must be auto, direct or winograd, got {cfg.train.conv!r}")
    if cfg.train.conv == "winograd" and cfg.train.precision != "fp32":
        raise ConfigError("--conv winograd runs in float32 only; use --conv direct with --precision bf16")
    if cfg.train.conv == "winograd" and cfg.model.seq_len % 4:
        raise ConfigError(f"--conv winograd needs --seq-len divisible by 4, got {cfg.model.seq_len}")
    if cfg.model.arch not in TEXT_ARCHS:
        raise ConfigError(f"--arch must be one of {', '.join(TEXT_ARCHS)}, got {cfg.model.arch!r}")
    if not (math.isfinite(cfg.model.gumbel_tau) and cfg.model.gumbel_tau >= 0):
        raise ConfigError(f"--gumbel-tau must be 0 (plain softmax) or a positive number, got {cfg.model.gumbel_tau}")
    if cfg.model.gumbel_tau and cfg.train.objective == "mle":
        raise ConfigError("--gumbel-tau is for the GAN's generator, not --objective mle")
    if cfg.model.straight_through and cfg.train.objective == "mle":
        raise ConfigError("--straight-through is for the GAN's generator, not --objective mle")
    if cfg.model.arch != "conv" and cfg.train.objective != "mle":
        raise ConfigError(f"--arch {cfg.model.arch} is for --objective mle (the GAN's generator is the "
                          "paper's convolutional one)")


def validate_train(t: TrainConfig) -> None:
    """The modality-free part of the checks (every modality's config shares it)."""
    from textgan.errors import ConfigError
    from textgan.losses import OBJECTIVES

    _positive({"--iters": t.iters, "--critic-iters": t.critic_iters, "--batch-size": t.batch_size,
               "--lr": t.lr, "eval samples": t.eval_samples})
    if t.gp_weight < 0:
        raise ConfigError(f"--gp-weight must be zero or positive, got {t.gp_weight}")
    if t.eval_every < 0 or t.checkpoint_every < 0:
        raise ConfigError("--eval-every and the checkpoint interval must be zero or positive")
    if t.precision not in ("fp32", "bf16"):
        raise ConfigError(f"--precision must be fp32 or bf16, got {t.precision!r}")
    if t.on_nonfinite not in ("stop", "rollback"):
        raise ConfigError(f"on_nonfinite must be stop or rollback, got {t.on_nonfinite!r}")
    if t.keep_checkpoints < 0:
        raise ConfigError(f"--keep-checkpoints must be zero (all) or positive, got {t.keep_checkpoints}")
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

    def check_model(self) -> None:
        _check_image(self)

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


def make_image_config(dataset: str, preset: str = "paper", **overrides) -> ImageRunConfig:
    """The family's preset (by data set and size), then the objective's settings, then explicit
    overrides (`section__field=value` or plain field names looked up in model, data, train)."""
    family = image_family(dataset, overrides.get("size"))
    _check_preset(preset, f"image/{family}")
    cfg = ImageRunConfig(preset=preset)
    cfg.data.dataset = str(dataset)
    return build_config(cfg, [f"image/{family}/{preset}"], overrides)


def _expected_size(cfg: ImageRunConfig) -> tuple[int, ...] | None:
    name = cfg.data.dataset.lower()
    if name in TOY_DATASETS:
        return (0,)
    if name == "mnist":
        return (28,)
    if name in ("cifar10", "cifar-10"):
        return (32,)
    return None


def _check_image(cfg: ImageRunConfig) -> None:
    """The image model's and data's checks (validate_config adds the training ones)."""
    from pathlib import Path

    from textgan.errors import ConfigError

    m, d, t = cfg.model, cfg.data, cfg.train
    if t.objective == "mle":
        raise ConfigError("--objective mle is for train-lm (text); images train adversarially")
    name = d.dataset.lower()
    known = TOY_DATASETS + ("mnist", "cifar10", "cifar-10")
    if name not in known and not Path(d.dataset).expanduser().is_dir():
        raise ConfigError(f"unknown dataset {d.dataset!r}: use {', '.join(TOY_DATASETS)}, mnist, cifar10 "
                          "or the PATH of an image folder")
    if m.arch not in IMAGE_ARCHS:
        raise ConfigError(f"image model must be one of {', '.join(IMAGE_ARCHS)}, got {m.arch!r}")
    if m.critic_norm not in CRITIC_NORMS:
        raise ConfigError(f"--critic-norm must be one of {', '.join(CRITIC_NORMS)}, got {m.critic_norm!r}")
    _positive({"--dim": m.dim, "z_dim": m.z_dim})
    if d.max_examples < 0:
        raise ConfigError(f"--max-examples must be zero (all) or positive, got {d.max_examples}")
    data_channels = {"mnist": 1, "cifar10": 3, "cifar-10": 3}.get(name, 0 if name in TOY_DATASETS else None)
    if m.channels not in (0, 1, 3) or (m.channels and data_channels not in (None, m.channels)):
        what = ("1 or 3 (0: detect from the images)" if data_channels is None else
                "left out for the 2-D toy points (they have no channels)" if data_channels == 0 else f"{data_channels} for {d.dataset}")
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
    if name == "25gaussians" and t.batch_size > 100_000:
        raise ConfigError(f"--batch-size must be at most 100000 for 25gaussians, got {t.batch_size}")
