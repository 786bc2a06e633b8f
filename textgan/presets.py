"""Every preset of every modality and objective, in one format.

A preset layer is plain data, ``{section: {field: value}}``, applied on top of the config
dataclasses' defaults (which are the paper's text model).  A run's config is built from the
layers its modality names, in order, then the objective's layer, then the explicit options:

    text:    "lm/<preset>", then "lm/<preset>/<corpus>" if present
    images:  "image/<family>/<preset>"   (family: toy | mnist | cifar10 | folder-32 | folder-64)
    every:   "objective/<objective>"     (the paper's code's settings for that objective)

A new preset is one new entry here; `textgan/config.py` knows no names.
"""
from __future__ import annotations

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

PRESETS: dict[str, dict[str, dict]] = {
    # ------------------------------------------------------------------ text (gan_language.py)
    "lm/paper": {},
    "lm/small": {
        # Chosen with bench/tune_small.py and bench/quality_cpu.py (bench/RESULTS.md): per CPU second,
        # two narrow residual blocks, one critic step on batches of 32 and a critic that learns 3x
        # faster than the generator (two time-scale rule) learn fastest on a CPU; samples from an
        # average of the generator's weights (decay 0.999) score better than the last weights.
        "model": {"dim": 64, "n_blocks": 2},
        "train": {"iters": 12_000, "critic_iters": 1, "batch_size": 32, "lr": 1e-3,
                  "critic_lr": 3e-3, "eval_every": 1000, "ema": 0.999},
        "data": {"max_lines": 200_000},
    },
    # The built-in grammar's sentences are judged by its exact acceptance check; on 16-character
    # lines the small preset's five minutes are enough to show learning (bench/tune_small.py).
    "lm/small/synthetic": {"model": {"seq_len": 16}},

    # ------------------------------------------------------------------ objectives
    "objective/wgan-gp": {},
    "objective/wgan-gp-one-sided": {},          # only the penalty changes
    # WGAN (Arjovsky et al.): RMSProp 5e-5, 5 critic steps, weights clipped to +-0.01
    "objective/wgan-clip": {"train": {"optimizer": "rmsprop", "lr": 5e-5, "critic_iters": 5,
                                      "clip_value": 0.01, "critic_lr": 0.0, "lr_decay": "none"}},
    # DCGAN: Adam 2e-4, beta (0.5, 0.999), one discriminator step, non-saturating generator loss
    "objective/gan": {"train": {"optimizer": "adam", "lr": 2e-4, "beta1": 0.5, "beta2": 0.999,
                                "critic_iters": 1, "critic_lr": 0.0, "lr_decay": "none"}},
    # Maximum likelihood (textgan/mle.py): the usual language-model settings, Adam 1e-3 with betas
    # (0.9, 0.999), one step per iteration, no weight average; the model's size is the preset's
    # (paper: DIM 512, 5 blocks; small: DIM 64, 2 blocks), as the GAN's at the same preset.
    "objective/mle": {"train": {"optimizer": "adam", "lr": 1e-3, "beta1": 0.9, "beta2": 0.999,
                                "critic_iters": 1, "critic_lr": 0.0, "lr_decay": "none", "ema": 0.0}},

    # ------------------------------------------------------------------ images
    "image/toy/paper": {   # gan_toy.py
        "model": {"arch": "toy", "dim": 512, "z_dim": 2, "size": 0, "critic_norm": "none"},
        "train": {"iters": 100_000, "critic_iters": 5, "batch_size": 256, "gp_weight": 0.1,
                  "lr": 1e-4, "beta1": 0.5, "beta2": 0.9, "eval_every": 100,
                  "eval_samples": 1000, "heldout_samples": 1000},
    },
    # Chosen with bench/toy_quality.py (bench/RESULTS.md): DIM 128 and 2 critic steps (0.008
    # one-thread CPU-s per iteration, the paper's networks 0.19), lr 1e-3 decayed linearly to 0 (the
    # decay sharpens the modes at the end); the paper's lambda, batch and betas.  20,000 iterations:
    # about 3 one-thread CPU-minutes, 8/8 and 25/25 modes.
    "image/toy/small": {
        "model": {"arch": "toy", "dim": 128, "z_dim": 2, "size": 0, "critic_norm": "none"},
        "train": {"iters": 20_000, "critic_iters": 2, "batch_size": 256, "gp_weight": 0.1,
                  "lr": 1e-3, "beta1": 0.5, "beta2": 0.9, "lr_decay": "linear", "eval_every": 1000,
                  "eval_samples": 1000, "heldout_samples": 1000},
    },
    "image/mnist/paper": {   # gan_mnist.py
        "model": {"arch": "mnist", "dim": 64, "z_dim": 128, "size": 28, "critic_norm": "none"},
        "train": {"iters": 200_000, "critic_iters": 5, "batch_size": 50, "gp_weight": 10.0,
                  "lr": 1e-4, "beta1": 0.5, "beta2": 0.9, "eval_every": 100,
                  "eval_samples": 10_000, "heldout_samples": 10_000},
    },
    # tuned for 20 CPU-minutes on one thread (bench/mnist_quality.py): fewer critic steps, a 20x
    # larger learning rate with beta1 0 and the CIFAR ResNet's linear decay; metrics on 10,000
    # samples (10 splits of 1,000, as the floor on the 10,000 held-out digits)
    "image/mnist/small": {
        "model": {"arch": "mnist", "dim": 32, "z_dim": 128, "size": 28, "critic_norm": "none"},
        "train": {"iters": 4000, "critic_iters": 2, "batch_size": 50, "gp_weight": 10.0,
                  "lr": 2e-3, "beta1": 0.0, "beta2": 0.9, "lr_decay": "linear", "eval_every": 200,
                  "eval_samples": 10_000, "heldout_samples": 500},
    },
    "image/cifar10/paper": _CIFAR_PAPER,
    "image/cifar10/small": _CIFAR_SMALL,
    "image/folder-32/paper": _CIFAR_PAPER,      # 32 px folders: the CIFAR ResNet
    # 32 px folders on a CPU, chosen with bench/folder_quality.py (bench/RESULTS.md, trial 1: MNIST as
    # grey PNGs reached classifier score 8.35, real held-out 9.88, in 10 one-thread CPU-minutes):
    # DIM 16, 2 critic steps, lr 2e-3 decayed linearly over 1,200 iterations, a weight average.
    "image/folder-32/small": {
        "model": {**_CIFAR_PAPER["model"], "dim": 16},
        "train": {**_CIFAR_PAPER["train"], "iters": 1200, "critic_iters": 2, "gen_batch_size": 64,
                  "lr": 2e-3, "ema": 0.99, "eval_every": 200, "eval_samples": 1000, "heldout_samples": 500},
    },
    "image/folder-64/paper": {   # gan_64x64.py, Good generator / critic with layer norm
        "model": {"arch": "resnet64", "dim": 64, "z_dim": 128, "size": 64, "critic_norm": "layer"},
        "train": {"iters": 200_000, "critic_iters": 5, "batch_size": 64, "gp_weight": 10.0,
                  "lr": 1e-4, "beta1": 0.0, "beta2": 0.9, "eval_every": 1000,
                  "eval_samples": 10_000, "heldout_samples": 1000},
    },
    "image/folder-64/small": {
        "model": {"arch": "resnet64", "dim": 16, "z_dim": 128, "size": 64, "critic_norm": "layer"},
        "train": {"iters": 300, "critic_iters": 5, "batch_size": 32, "gp_weight": 10.0,
                  "lr": 1e-4, "beta1": 0.0, "beta2": 0.9, "eval_every": 100,
                  "eval_samples": 500, "heldout_samples": 256},
    },
}


def preset_names(prefix: str) -> list[str]:
    """The preset names under `prefix` ("lm" -> ["paper", "small"]; "objective" -> the objectives)."""
    names = []
    for key in PRESETS:
        head, _, rest = key.rpartition("/")
        if head == prefix:
            names.append(rest)
    return names


def layer(name: str) -> dict[str, dict]:
    """One preset layer by name; {} when there is none (e.g. no corpus-specific layer)."""
    return PRESETS.get(name, {})
