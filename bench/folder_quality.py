#!/usr/bin/env python3
"""32 px image folders over CPU time: MNIST written out as a folder of grey PNGs, trained with the
folder `small` preset, scored by textgan's MNIST classifier.

  python bench/folder_quality.py --mnist-dir DIR [--images 20000] [--minutes 10] [--every-s 60]
                                 [--threads 1] [--seed 1] [--eval-samples 10000] [--preset small]
                                 [--dim D] [--lr LR] [--beta1 B] [--critic-iters K] [--batch-size B]
                                 [--gen-batch-size B] [--lr-decay none|linear] [--iters N] [--ema D]
                                 [--folder DIR] [--figure PREFIX] [--no-record]

--mnist-dir (default $TEXTGAN_MNIST_DIR) holds the four MNIST idx files (raw or .gz).  The first
--images training digits are padded with 2 black pixels on every side to 32x32 and written as grey
('L') PNGs in one sub-folder per digit, into a temporary folder (or --folder DIR, kept); textgan
loads it as any image folder (detecting one channel; no cache) and trains `--preset --size 32` on it
through its Trainer for at most --minutes of training CPU time (time.process_time of this process,
evaluation excluded; with --threads 1 one thread's seconds, whatever else shares the machine) or the
preset's --iters (the linear decay's horizon), whichever comes first.

Every --every-s training CPU seconds and at the end: --eval-samples generated images (the sampling
weights: the weight average with --ema) are cut back to their centre 28x28 (the inverse of the
padding) and scored as `train-image --dataset mnist` scores digits: the classifier score (10 splits)
and the Fréchet distance of the classifier's features against as many real training digits; with
--ema the last weights are scored too.  The real-data floor is the same protocol on as many held-out
(validation) digits, which the folder does not hold.  The cached classifier (trained once on the
50,000 training digits, textgan/metrics/classifier.py) is loaded or trained before the clock starts.
Writes PREFIX_grid.png (the final 8x8 sample grid at 32 px, as the run writes it) and
PREFIX_curve.png (score over CPU seconds) (default bench/figures/folder32_PRESET), prints one JSON
object and appends it to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import cpu_model, figure_path, machine, report  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OVERRIDES = ("dim", "lr", "beta1", "critic_iters", "batch_size", "gen_batch_size", "lr_decay", "iters",
             "ema")
PAD = 2          # 28 + 2 * PAD = 32


def write_digit_folder(images, labels, root: str) -> None:
    """uint8 digits [N, 1, 28, 28] -> root/<digit>/<index>.png, 32x32 grey (black border)."""
    import numpy as np
    from PIL import Image
    for d in range(10):
        os.makedirs(os.path.join(root, str(d)), exist_ok=True)
    for i, (x, y) in enumerate(zip(images, labels)):
        Image.fromarray(np.pad(x[0], PAD), mode="L").save(os.path.join(root, str(int(y)), f"{i:05d}.png"))


def save_curve_plot(path: str, curve: list[dict], floor: float, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    try:
        ax.plot([c["train_cpu_s"] for c in curve], [c["classifier_score"] for c in curve], "o-",
                label="samples")
        if "last_classifier_score" in curve[0]:
            ax.plot([c["train_cpu_s"] for c in curve], [c["last_classifier_score"] for c in curve], "x:",
                    label="samples, last weights")
        ax.axhline(floor, color="grey", linestyle="--", label=f"real held-out digits ({floor:.2f})")
        ax.set_xlabel("training CPU seconds (one thread)")
        ax.set_ylabel("MNIST classifier score (max 10)")
        ax.set_ylim(1, 10)
        ax.set_title(title, fontsize=9)
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mnist-dir", default=os.environ.get("TEXTGAN_MNIST_DIR"),
                   help="the four MNIST idx files (default: $TEXTGAN_MNIST_DIR)")
    p.add_argument("--images", type=int, default=20_000, help="training digits written to the folder")
    p.add_argument("--preset", choices=["small", "paper"], default="small")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--every-s", type=float, default=60.0, help="training CPU seconds between scores")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--eval-samples", type=int, default=10_000)
    p.add_argument("--dim", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--beta1", type=float)
    p.add_argument("--critic-iters", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--gen-batch-size", type=int)
    p.add_argument("--lr-decay", choices=["none", "linear"])
    p.add_argument("--iters", type=int, help="the run's length (the decay's horizon)")
    p.add_argument("--ema", type=float)
    p.add_argument("--folder", help="write the PNG folder here and keep it (default: a temporary one)")
    p.add_argument("--figure", help="prefix of the two figures (default bench/figures/folder32_PRESET)")
    p.add_argument("--no-record", action="store_true")
    a = p.parse_args()
    if not a.mnist_dir:
        p.error("--mnist-dir DIR (or $TEXTGAN_MNIST_DIR) is needed: the four MNIST idx files")
    if a.eval_samples <= 0 or a.eval_samples % 10:
        p.error("--eval-samples must be a positive multiple of 10 (10 splits)")

    os.environ["TEXTGAN_NO_CACHE"] = "1"        # a throw-away folder: keep it out of the cache
    sys.path.insert(0, ROOT)
    import numpy as np
    import torch

    from textgan.config import make_image_config, validate_config
    from textgan.data.images import ImageBatches, load_mnist
    from textgan.image import heldout_images, _first, build_image_models_for, generate, load_data, to_uint8, \
        write_sample_grid
    from textgan.metrics.classifier import (SCORE_SPLITS, classifier_cache_path, feature_statistics,
                                            frechet_distance, load_or_train_classifier, predict,
                                            score_from_probs)
    from textgan.train import Trainer, TrainerHooks

    torch.set_num_threads(a.threads)
    mnist = load_mnist(a.mnist_dir, progress=False)
    digits, digit_labels = mnist.train.arrays()
    folder = a.folder or tempfile.mkdtemp(prefix="textgan-digits-")
    try:
        w0 = time.perf_counter()
        write_digit_folder(digits[:a.images], digit_labels[:a.images], folder)
        write_s = time.perf_counter() - w0

        extra = {k: getattr(a, k) for k in OVERRIDES if getattr(a, k) is not None}
        cfg = make_image_config(folder, a.preset, size=32, device="cpu", seed=a.seed, **extra)
        validate_config(cfg)
        t = cfg.train
        w0 = time.perf_counter()
        data = load_data(cfg, progress=False)
        load_s = time.perf_counter() - w0
        cfg.model.channels = data.shape[0]
        if data.shape != (1, 32, 32):
            raise SystemExit(f"the digit folder loaded as {data.shape}, not one grey channel")

        had_classifier = classifier_cache_path(digits, digit_labels).exists()
        c0 = time.process_time()
        classifier = load_or_train_classifier(digits, digit_labels)
        classifier_s = time.process_time() - c0
        n = a.eval_samples
        real_stats = feature_statistics(predict(classifier, digits[:n])[1])

        def metrics(images) -> dict:
            """uint8 [N, 1, 28, 28] or float [N, 1, 32, 32] in [-1, 1] (cut to the centre 28x28)."""
            if images.shape[-1] == 32:
                images = to_uint8(images, -1.0, 1.0)[:, :, PAD:-PAD, PAD:-PAD]
            prob, feats = predict(classifier, np.ascontiguousarray(images))
            s = score_from_probs(prob, SCORE_SPLITS)
            return {"classifier_score": round(s.mean, 4), "classifier_score_std": round(s.std, 4),
                    "fd": round(frechet_distance(*feature_statistics(feats), *real_stats), 3)}

        held_digits, _ = mnist.heldout.arrays()
        floor = metrics(held_digits[:n])
        print({"floor": floor}, file=sys.stderr, flush=True)

        torch.manual_seed(t.seed)
        generator, critic = build_image_models_for(cfg)
        sampler = ImageBatches(data.train, t.batch_size, data.scale, t.seed, "cpu")
        heldout = heldout_images(_first(data.heldout, t.heldout_samples), t.batch_size, data.scale,
                                torch.device("cpu"), t.seed)
        trainer = Trainer(generator, critic, sampler, t, torch.device("cpu"), heldout=heldout,
                          hooks=TrainerHooks(log=lambda m: None, progress=False))
        load_start = os.getloadavg()
        budget, trained, wall, eval_s = a.minutes * 60.0, 0.0, 0.0, 0.0
        curve, next_eval = [], a.every_s
        while trained < budget and trainer.step < t.iters:
            t0, w0 = time.process_time(), time.perf_counter()
            trainer.iteration()
            trained += time.process_time() - t0
            wall += time.perf_counter() - w0
            if trained < next_eval and trained < budget and trainer.step < t.iters:
                continue
            next_eval += a.every_s
            e0 = time.process_time()
            seed = t.seed * 7919 + trainer.step
            point = {"iter": trainer.step, "train_cpu_s": round(trained, 1),
                     **metrics(generate(trainer.sampling_generator, n, seed=seed))}
            if t.ema:
                point["last_classifier_score"] = metrics(generate(trainer.G, n, seed=seed))["classifier_score"]
            point["wasserstein_heldout"] = round(trainer.heldout_estimate(), 4)
            eval_s += time.process_time() - e0
            curve.append(point)
            print(point, file=sys.stderr, flush=True)
    finally:
        if not a.folder:
            shutil.rmtree(folder, ignore_errors=True)

    prefix = a.figure or figure_path(f"folder32_{a.preset}", a.no_record)
    grid = write_sample_grid(trainer.sampling_generator, prefix + "_grid.png", (-1.0, 1.0),
                             seed=t.seed * 7919 + trainer.step)
    save_curve_plot(prefix + "_curve.png", curve, floor["classifier_score"],
                    f"MNIST as a 32 px PNG folder, --preset {a.preset} --size 32, {cpu_model()}")
    last = curve[-1]
    result = {
        "bench": "folder_quality", "preset": a.preset, "folder_images": a.images,
        "folder": "MNIST training digits padded to 32x32, grey PNGs in class sub-folders; loaded as "
                  f"{list(data.shape)} (channels detected)",
        "settings": {k: getattr(t, k) for k in ("iters", "critic_iters", "batch_size", "gen_batch_size",
                                                 "gp_weight", "lr", "beta1", "beta2", "lr_decay", "ema")}
        | {"arch": cfg.model.arch, "dim": cfg.model.dim},
        "overrides": extra,
        **machine(a.threads, load_start),
        "budget_cpu_s": budget, "clock": "time.process_time of this process, training only",
        "write_folder_wall_s": round(write_s, 1), "load_folder_wall_s": round(load_s, 1),
        "classifier": {"cached_before": had_classifier, "load_or_train_cpu_s": round(classifier_s, 1)},
        "eval_cpu_s": round(eval_s, 1),
        "protocol": f"{n} samples cut to their centre 28x28, 10 splits; floor: {n} held-out (validation) "
                    f"digits; fd against {n} training digits",
        "floor_real_heldout": floor,
        "iters": trainer.step, "train_wall_s": round(wall, 1),
        "cpu_s_per_iter": round(trained / trainer.step, 4),
        "final": {k: v for k, v in last.items() if k not in ("iter", "train_cpu_s")},
        "figures": [os.path.relpath(grid, ROOT), os.path.relpath(prefix + "_curve.png", ROOT)],
        "curve_columns": ["iter", "train_cpu_s", "classifier_score", "fd", "wasserstein_heldout"]
        + (["last_classifier_score"] if t.ema else []),
        "curve": [[c["iter"], c["train_cpu_s"], c["classifier_score"], c["fd"], c["wasserstein_heldout"]]
                  + ([c["last_classifier_score"]] if t.ema else []) for c in curve],
    }
    report("folder_quality.py", result, a.no_record)


if __name__ == "__main__":
    main()
