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
        def build(kind, values):
            known = {f.name for f in fields(kind)}
            return kind(**{k: v for k, v in (values or {}).items() if k in known})
        return cls(model=build(ModelConfig, d.get("model")),
                   data=build(DataConfig, d.get("data")),
                   train=build(TrainConfig, d.get("train")),
                   preset=d.get("preset", "paper"))


# Overrides applied on top of the dataclass defaults (which are the paper's).
PRESETS: dict[str, dict[str, dict]] = {
    "paper": {},
    "small": {
        "model": {"dim": 64, "n_blocks": 5},
        # about 0.3 s per iteration on 2 CPU cores: 600 iterations in ~3 minutes
        "train": {"iters": 600, "critic_iters": 5, "batch_size": 64, "lr": 1e-3,
                  "eval_every": 100},
        "data": {"max_lines": 200_000},
    },
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
    for section, values in PRESETS[preset].items():
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
    if not (0 <= t.beta1 < 1 and 0 <= t.beta2 < 1):
        raise ConfigError(f"Adam betas must lie in [0, 1), got ({t.beta1}, {t.beta2})")
