#!/usr/bin/env python3
"""textgan on a GPU: run the CUDA tests and measure the CUDA paths, in one command (no network).

  python bench/gpu_check.py [--dry-run] [--results FILE | --no-record] [--parts NAME,...]
                            [--mnist-dir DIR] [--budget-s 470]

Parts, in this order (each one key of the JSON object printed as the last line of stdout):
  environment    torch, CUDA and cuDNN versions, the GPU's name and memory, the CPU, the date
  cuda_tests     `pytest -m cuda tests/test_cuda.py`: passed / failed / skipped, the failures, and
                 whether the two identical GPU runs were bit-identical (the tests' bit_identical)
  syncs          host synchronisations (torch.cuda.set_sync_debug_mode("warn"), each warning
                 caught) over 20 non-logging iterations, after 3 warm-up ones, of the text paper
                 networks, the CIFAR-10 ResNet and 8 Gaussians, with where they come from
  lm_paper       the paper's language model (DIM 512, 5 blocks, batch 64, 32 characters, a
                 2,048-symbol vocabulary of random lines, 10 critic steps): seconds per generator
                 iteration, sequences/s, peak memory and the ETA of 200,000 iterations in fp32 (+ TF32,
                 the trainer's CUDA default), bf16 autocast and --compile; the time to save a
                 checkpoint; the plain PyTorch baseline on the same lines in this run, as a ratio
  image_cifar    the paper's CIFAR-10 ResNet (DIM 128, batch 64, generator batch 128, 5 critic
                 steps) on random 32x32 images: seconds per iteration and the ETA of 100,000, with
                 the networks' weights in PyTorch's default layout and in channels_last
  inception      images/s of the Inception forward (random weights; the metric's resizing to 299,
                 full float32) at two batch sizes, and what 50,000 samples would take
  first_command  the README's first command (`train-lm --corpus synthetic --preset small`) on the
                 device: wall time, its last logged figures, and `eval-lm` on the run
  mnist_small    `train-image --dataset mnist --preset small` stopped (SIGINT, as a user would)
                 after 3 minutes of training or at its end, then `eval-image`: classifier score,
                 FD and their real-data floors.  It needs the MNIST idx files (--mnist-dir, else
                 $TEXTGAN_MNIST_DIR, else textgan's data directory); the classifier it is scored
                 with is trained (cached) in a background process from the start, on the CPU

A part that fails reports {"error": ...} and the others still run; a part that does not fit in
what is left of --budget-s (about 8 minutes on one H100/H200, by estimate: none has run on a GPU
yet) reports {"skipped": ...}.  The result is appended to bench/RESULTS.md (or --results FILE) under
the command, the date and the machine.

--dry-run runs every part on the CPU at tiny sizes (about a minute on 2 cores): it checks that the
script works, its figures mean nothing; syncs are null there (no CUDA to count them on), and it
records only with an explicit --results.  The plain baseline is bench/baseline.py when present,
else the reference that bench/train_speed.py compares with; without either it is skipped.
"""
from __future__ import annotations

import argparse
import datetime
import gzip
import json
import os
import platform
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.dont_write_bytecode = True          # no __pycache__ in bench/ from its sibling scripts
# The textgan pieces used directly (training, sampling and evaluating go through cli.py):
from textgan.checkpoint import CHECKPOINT_DIR, list_checkpoints, load_checkpoint  # noqa: E402
from textgan.config import make_config, make_image_config  # noqa: E402
from textgan.data.images import ImageBatches, ImageSet, find_mnist, load_mnist  # noqa: E402
from textgan.data.toy import toy_sampler  # noqa: E402
from textgan.lm import TextBatches, corpus_tensor  # noqa: E402
from textgan.metrics.classifier import load_or_train_classifier  # noqa: E402
from textgan.metrics.inception import FIDInceptionV3, inception_features  # noqa: E402
from textgan.models.image import build_image_models  # noqa: E402
from textgan.models.text import build_text_models  # noqa: E402
from textgan.runtime import training_environment  # noqa: E402
from textgan.train import Trainer, TrainerHooks  # noqa: E402

COMPILE_RESERVE_S = 150        # what lm_paper's --compile setting may take, compilation included
MNIST_OVERHEAD_S = 45          # mnist_small besides training: start-up, the last checkpoint, eval-image
PARTS = ("environment", "cuda_tests", "syncs", "lm_paper", "image_cifar", "inception", "first_command",
         "mnist_small")
SEQ_LEN = 32


@dataclass(frozen=True)
class Sizes:
    text_dim: int
    vocab: int
    text_batch: int
    text_critic: int
    text_lines: int
    warmup: int                 # iterations before timing or counting
    timed: int                  # timed iterations per setting
    sync_iters: int
    cifar_dim: int
    cifar_batch: int
    cifar_gen_batch: int
    cifar_critic: int
    toy_dim: int
    toy_batch: int
    inception_size: int
    inception_batches: tuple[int, int]
    inception_images: int
    baseline_iters: int
    first_args: tuple[str, ...]
    first_eval_args: tuple[str, ...]
    mnist_seconds: float
    mnist_args: tuple[str, ...]


GPU = Sizes(text_dim=512, vocab=2048, text_batch=64, text_critic=10, text_lines=20_000, warmup=3, timed=10,
            sync_iters=20, cifar_dim=128, cifar_batch=64, cifar_gen_batch=128, cifar_critic=5, toy_dim=512,
            toy_batch=256, inception_size=299, inception_batches=(50, 500), inception_images=2000,
            baseline_iters=10, first_args=(), first_eval_args=(), mnist_seconds=180.0, mnist_args=())
DRY = Sizes(text_dim=16, vocab=64, text_batch=8, text_critic=2, text_lines=400, warmup=1, timed=1,
            sync_iters=1, cifar_dim=8, cifar_batch=4, cifar_gen_batch=8, cifar_critic=1, toy_dim=16,
            toy_batch=16, inception_size=75, inception_batches=(2, 4), inception_images=8,
            baseline_iters=3, first_args=("--iters", "4", "--eval-every", "2", "--dim", "8", "--max-lines", "5000"),
            first_eval_args=("--max-lines", "5000", "-n", "64"),
            mnist_seconds=3.0, mnist_args=("--dim", "8", "--batch-size", "8", "--iters", "1000000",
                                           "--eval-every", "1000000"))


def log(message: str) -> None:
    print(f"[gpu_check] {message}", file=sys.stderr, flush=True)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def quiet_hooks() -> TrainerHooks:
    return TrainerHooks(log=lambda message: None, progress=False)


def free(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()


# ----------------------------------------------------------------------------- the trainers measured

def random_lines(s: Sizes, seed: int = 0) -> np.ndarray:
    """[lines, 32] symbol ids drawn uniformly from the vocabulary (speed does not depend on them)."""
    return np.random.default_rng(seed).integers(0, s.vocab, (s.text_lines, SEQ_LEN)).astype(np.uint16)


def text_trainer(s: Sizes, device: torch.device, ids: np.ndarray, run_dir=None, **train) -> Trainer:
    """The paper preset's networks and settings (the dry run shrinks them) on lines `ids`."""
    torch.manual_seed(1)
    cfg = make_config("paper", dim=s.text_dim, batch_size=s.text_batch, critic_iters=s.text_critic,
                      device=str(device), **train)
    cfg.model.vocab_size = s.vocab
    generator, critic = build_text_models(cfg.model, conv="direct")        # --conv auto on CUDA
    sampler = TextBatches(corpus_tensor(ids, device), s.text_batch, s.vocab, cfg.train.seed)
    return Trainer(generator.to(device), critic.to(device), sampler, cfg.train, device, run_dir=run_dir,
                   hooks=quiet_hooks())


def image_models(cfg):
    m = cfg.model
    return build_image_models(m.arch, dim=m.dim, norm=m.critic_norm, z_dim=m.z_dim)


def cifar_trainer(s: Sizes, device: torch.device, channels_last: bool = False) -> Trainer:
    """The paper's CIFAR-10 ResNet preset (the dry run shrinks it) on random images."""
    torch.manual_seed(1)
    cfg = make_image_config("cifar10", "paper", device=str(device), dim=s.cifar_dim, batch_size=s.cifar_batch,
                            gen_batch_size=s.cifar_gen_batch, critic_iters=s.cifar_critic)
    generator, critic = image_models(cfg)
    if channels_last:
        generator, critic = (net.to(memory_format=torch.channels_last) for net in (generator, critic))
    images = np.random.default_rng(0).integers(0, 256, (max(2000, 4 * s.cifar_batch), 3, 32, 32), dtype=np.uint8)
    sampler = ImageBatches(ImageSet(images), s.cifar_batch, "symmetric", cfg.train.seed, device)
    return Trainer(generator.to(device), critic.to(device), sampler, cfg.train, device, hooks=quiet_hooks())


def toy_trainer(s: Sizes, device: torch.device) -> Trainer:
    torch.manual_seed(1)
    cfg = make_image_config("8gaussians", "paper", device=str(device), dim=s.toy_dim, batch_size=s.toy_batch)
    generator, critic = image_models(cfg)
    sampler = toy_sampler("8gaussians", s.toy_batch, cfg.train.seed, device)
    return Trainer(generator.to(device), critic.to(device), sampler, cfg.train, device, hooks=quiet_hooks())


def time_iterations(trainer: Trainer, s: Sizes, device: torch.device) -> dict:
    """Warm-up iterations, then seconds per iteration over the timed ones (one synchronisation at
    each end: the GPU's own pace, not the host's); peak memory over both.  In the environment a
    run gets (textgan.runtime.training_environment: TF32 and cuDNN autotuning on CUDA)."""
    with training_environment(device, trainer.G, trainer.D):
        return _time_iterations(trainer, s, device)


def _time_iterations(trainer: Trainer, s: Sizes, device: torch.device) -> dict:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    for _ in range(s.warmup):
        trainer.iteration()
    synchronize(device)
    warm = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(s.timed):
        trainer.iteration()
    synchronize(device)
    sec = (time.perf_counter() - start) / s.timed
    peak = round(torch.cuda.max_memory_allocated(device) / 2**30, 3) if device.type == "cuda" else None
    stats = trainer.read_stats()
    return {"sec_per_iter": round(sec, 5), "warmup_s": round(warm, 2), "peak_memory_gib": peak,
            "finite": all(v is None or np.isfinite(v) for v in stats.values())}


# ----------------------------------------------------------------------------- parts

def environment(device: torch.device, dry_run: bool) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = None
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        gpu = {"name": p.name, "memory_gib": round(p.total_memory / 2**30, 1),
               "capability": f"{p.major}.{p.minor}", "count": torch.cuda.device_count()}
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "dry_run": dry_run, "torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
            "gpu": gpu, "cpu": cpu, "cpus": os.cpu_count(), "python": platform.python_version()}


def cuda_tests(tmp: Path, timeout: float, dry_run: bool) -> dict:
    """pytest -m cuda in its own process; the per-test results and properties from its JUnit XML
    (the legacy family: record_property writes nothing in xunit2).  The dry run hides any GPU from
    it (the tests are then skipped: collected and checked, not run)."""
    report = tmp / "cuda_tests.xml"
    cmd = [sys.executable, "-m", "pytest", "-m", "cuda", "tests/test_cuda.py", "-q", "-p", "no:cacheprovider",
           f"--junitxml={report}", "-o", "junit_family=xunit1"]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""} if dry_run else None
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    wall = round(time.perf_counter() - start, 1)
    if not report.is_file():
        return {"error": f"pytest exited {proc.returncode} without a report: {proc.stdout[-1500:]}"}
    counts = Counter()
    failed, bit_identical = [], {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = case.get("name")
        if case.find("failure") is not None or case.find("error") is not None:
            counts["failed"] += 1
            failed.append(name)
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
        for prop in case.iter("property"):
            if prop.get("name") == "bit_identical":
                bit_identical[name] = prop.get("value") == "True"
    return {"passed": counts["passed"], "failed": counts["failed"], "skipped": counts["skipped"],
            "failed_tests": failed, "bit_identical": bit_identical, "exit_status": proc.returncode,
            "wall_s": wall}


def count_syncs(trainer: Trainer, s: Sizes, device: torch.device) -> dict:
    """Host synchronisations over `sync_iters` iterations that log nothing (after the warm-up)."""
    for _ in range(s.warmup):
        trainer.iteration()
    synchronize(device)
    if device.type != "cuda":
        for _ in range(s.sync_iters):     # the same iterations, uncounted: CUDA alone can count them
            trainer.iteration()
        return {"iterations": s.sync_iters, "syncs": None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            for _ in range(s.sync_iters):
                trainer.iteration()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    syncs = [w for w in caught if "synchroniz" in str(w.message)]
    where = Counter(f"{Path(w.filename).name}:{w.lineno}" for w in syncs)
    return {"iterations": s.sync_iters, "syncs": len(syncs), "where": dict(where.most_common(8))}


def syncs(s: Sizes, device: torch.device) -> dict:
    result = {}
    for name, build in (("text_paper", lambda: text_trainer(s, device, random_lines(s))),
                        ("cifar_resnet", lambda: cifar_trainer(s, device)),
                        ("8gaussians", lambda: toy_trainer(s, device))):
        result[name] = count_syncs(build(), s, device)
        free(device)
    if device.type != "cuda":
        result["reason"] = "no CUDA: torch.cuda.set_sync_debug_mode needs a GPU (the iterations ran uncounted)"
    return result


def baseline_script() -> str | None:
    """The plain PyTorch baseline: bench/baseline.py, else the reference bench/train_speed.py runs."""
    own = ROOT / "bench" / "baseline.py"
    if own.is_file():
        return str(own)
    try:
        from train_speed import REF
    except ImportError:
        return None
    return REF if os.path.isfile(REF) else None


def plain_baseline(corpus: Path, s: Sizes, device: torch.device, timeout: float) -> dict:
    """The baseline's `train` on the same lines, model and batch, in its own process."""
    script = baseline_script()
    if script is None:
        return {"skipped": "no plain baseline on this machine (bench/baseline.py, or the reference of "
                           "bench/train_speed.py)"}
    cmd = [sys.executable, script, "train", "--corpus", str(corpus), "--dim", str(s.text_dim), "--batch",
           str(s.text_batch), "--seq-len", str(SEQ_LEN), "--critic-iters", str(s.text_critic),
           "--iters", str(s.baseline_iters), "--device", str(device)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        return {"error": f"{Path(script).name} exited {proc.returncode}: {proc.stderr[-800:]}"}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"script": Path(script).name, "sequences_per_s": out["sequences_per_s"],
            "sec_per_iter": out.get("sec_per_gen_iter"), "vocab": out.get("vocab"),
            "iters": s.baseline_iters}


def write_lines(ids: np.ndarray, path: Path) -> None:
    """The same lines as text for the baseline: symbol k is the character U+4E00 + k - 1 (0: the
    padding character '`'), so that its vocabulary is as large."""
    chars = np.array(["`"] + [chr(0x4E00 + k) for k in range(1, int(ids.max()) + 1)])
    path.write_text("\n".join("".join(row) for row in chars[ids]) + "\n", encoding="utf-8")


def lm_paper(s: Sizes, device: torch.device, tmp: Path, remaining) -> dict:
    ids = random_lines(s)
    settings = {"dim": s.text_dim, "blocks": 5, "batch": s.text_batch, "seq_len": SEQ_LEN, "vocab": s.vocab,
                "critic_iters": s.text_critic, "warmup_iters": s.warmup, "timed_iters": s.timed}
    result: dict = {"settings": settings}
    for name, train in (("fp32_tf32", {}), ("bf16", {"precision": "bf16"}), ("compile", {"compile": True})):
        if name == "compile" and remaining() < COMPILE_RESERVE_S:
            result[name] = {"skipped": f"{remaining():.0f} s of the budget left; compiling may take minutes"}
            continue
        log(f"lm_paper: {name}")
        try:
            trainer = text_trainer(s, device, ids, run_dir=tmp / "lm" if name == "fp32_tf32" else None, **train)
            figures = time_iterations(trainer, s, device)
            figures["sequences_per_s"] = round(s.text_batch * s.text_critic / figures["sec_per_iter"], 1)
            figures["eta_200k_hours"] = round(200_000 * figures["sec_per_iter"] / 3600, 1)
            if name == "fp32_tf32":
                figures["tf32"] = device.type == "cuda"      # training_environment's setting
                start = time.perf_counter()
                path = trainer.save()
                result["checkpoint"] = {"save_s": round(time.perf_counter() - start, 2),
                                        "mib": round(path.stat().st_size / 2**20, 1)}
            if name == "compile" and device.type != "cuda":
                figures["note"] = "the trainer compiles on CUDA only: this is the fp32 path again"
            result[name] = figures
            del trainer
        except Exception as e:  # noqa: BLE001 - one setting failing must not hide the others
            result[name] = {"error": f"{type(e).__name__}: {e}"[:600]}
        free(device)
    corpus = tmp / "lines.txt"
    write_lines(ids, corpus)
    log("lm_paper: plain baseline")
    try:
        result["baseline"] = plain_baseline(corpus, s, device, timeout=max(30.0, min(240.0, remaining())))
    except Exception as e:  # noqa: BLE001
        result["baseline"] = {"error": f"{type(e).__name__}: {e}"[:600]}
    ours, base = result.get("fp32_tf32", {}), result["baseline"]
    if "sequences_per_s" in ours and "sequences_per_s" in base:
        result["ratio_to_baseline"] = round(ours["sequences_per_s"] / base["sequences_per_s"], 2)
    return result


def image_cifar(s: Sizes, device: torch.device) -> dict:
    result = {"settings": {"dim": s.cifar_dim, "batch": s.cifar_batch, "gen_batch": s.cifar_gen_batch,
                           "critic_iters": s.cifar_critic, "warmup_iters": s.warmup, "timed_iters": s.timed}}
    for name, channels_last in (("default_layout", False), ("channels_last", True)):
        log(f"image_cifar: {name}")
        figures = time_iterations(cifar_trainer(s, device, channels_last), s, device)
        figures["eta_100k_hours"] = round(100_000 * figures["sec_per_iter"] / 3600, 1)
        result[name] = figures
        free(device)
    result["faster"] = min(("default_layout", "channels_last"), key=lambda k: result[k]["sec_per_iter"])
    return result


def inception(s: Sizes, device: torch.device) -> dict:
    torch.manual_seed(0)
    net = FIDInceptionV3(input_size=s.inception_size).eval().to(device)
    images = np.random.default_rng(0).integers(0, 256, (s.inception_images, 3, 32, 32), dtype=np.uint8)
    result = {"input_size": s.inception_size, "images": s.inception_images, "weights": "random"}
    for batch in s.inception_batches:
        inception_features(net, images[:batch], batch_size=batch)       # warm-up (cuDNN's choice)
        synchronize(device)
        start = time.perf_counter()
        inception_features(net, images, batch_size=batch)               # ends reading back to the host
        result[f"images_per_s_batch_{batch}"] = round(s.inception_images / (time.perf_counter() - start), 1)
    best = max(v for k, v in result.items() if k.startswith("images_per_s"))
    result["seconds_for_50000"] = round(50_000 / best, 1)
    free(device)
    return result


def cli(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), *args]


def shown(cmd: list[str], names: dict[Path, str]) -> str:
    """A `cli` command as the user types it, with these paths (machine-specific) by their names."""
    names = {str(path): name for path, name in names.items()}
    return " ".join(["python", "cli.py", *(names.get(arg, arg) for arg in cmd[2:])])


def first_command(s: Sizes, device: torch.device, tmp: Path, timeout: float) -> dict:
    out = tmp / "first"
    cmd = cli("train-lm", "--corpus", "synthetic", "--preset", "small", "--out", str(out), "--quiet",
              "--device", device.type, *s.first_args)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    wall = round(time.perf_counter() - start, 1)
    if proc.returncode != 0:
        return {"error": f"train-lm exited {proc.returncode}: {proc.stderr[-800:]}"}
    last = json.loads((out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    ev = subprocess.run(cli("eval-lm", "--run", str(out), "--corpus", "synthetic", "--json", *s.first_eval_args),
                        cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if ev.returncode != 0:
        return {"wall_s": wall, "error": f"eval-lm exited {ev.returncode}: {ev.stderr[-800:]}"}
    r = json.loads(ev.stdout.strip().splitlines()[-1])
    return {"command": shown(cmd, {out: "RUN_DIR"}), "wall_s": wall, "step": last["step"],
            "train_s": last.get("time"), "last_logged": {k: last.get(k) for k in ("js4", "grammar")},
            "eval_lm": {k: {"samples": r["samples"].get(k), "floor": r["floor"].get(k)}
                        for k in ("in_test1", "grammar", "js4")}}


def mnist_dir_for(args, tmp: Path) -> Path | None:
    """The directory of the MNIST idx files: --mnist-dir, $TEXTGAN_MNIST_DIR, textgan's data
    directory (the first that has them); the dry run's fake digits."""
    if args.dry_run:
        return fake_mnist(tmp / "mnist")
    for d in [d for d in (args.mnist_dir, os.environ.get("TEXTGAN_MNIST_DIR")) if d] + [None]:
        found = find_mnist(d)
        if found:
            return next(iter(found.values())).parent
    return None


def fake_mnist(d: Path) -> Path:
    """Random digits in the idx format (the dry run's stand-in for MNIST)."""
    rng = np.random.default_rng(0)
    d.mkdir(parents=True, exist_ok=True)
    for stem, n in (("train", 72), ("t10k", 12)):
        for kind, a in (("images-idx3", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
                        ("labels-idx1", (np.arange(n) % 10).astype(np.uint8))):
            head = bytes([0, 0, 0x08, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
            (d / f"{stem}-{kind}-ubyte.gz").write_bytes(gzip.compress(head + a.tobytes()))
    return d


def start_classifier(mnist: Path | None, log_path: Path) -> subprocess.Popen | None:
    """Train (or find cached) the MNIST evaluator's classifier in the background, on CPU threads the
    GPU parts leave free (the run then finds it in the cache, as any later run would)."""
    if mnist is None:
        return None
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 2) - 4))}
    with open(log_path, "w", encoding="utf-8") as f:
        return subprocess.Popen([sys.executable, __file__, "--classifier-worker", str(mnist)], cwd=ROOT,
                                env=env, stdout=f, stderr=subprocess.STDOUT)


def classifier_worker(mnist: str) -> None:
    start = time.perf_counter()
    x, y = load_mnist(mnist, progress=False).train.arrays()
    load_or_train_classifier(x, y)
    print(json.dumps({"classifier_s": round(time.perf_counter() - start, 1)}))


def mnist_small(s: Sizes, device: torch.device, tmp: Path, mnist: Path | None, worker, remaining) -> dict:
    if mnist is None:
        return {"skipped": "no MNIST idx files: pass --mnist-dir DIR (there is no network to download them)"}
    if remaining() < MNIST_OVERHEAD_S + 30:
        return {"skipped": f"{remaining():.0f} s of the budget left: too little to train and evaluate"}
    result = {}
    if worker is not None:
        start = time.perf_counter()
        try:
            worker.wait(timeout=max(1.0, remaining() - MNIST_OVERHEAD_S - 30))
        except subprocess.TimeoutExpired:
            result["classifier"] = "not ready: the run trains it before its clock starts"
        result["classifier_wait_s"] = round(time.perf_counter() - start, 1)
    # at most the 3 minutes, less when the budget is short (said in the result)
    seconds = min(s.mnist_seconds, remaining() - MNIST_OVERHEAD_S)
    if seconds < s.mnist_seconds:
        result["training_cut_to_s"] = round(seconds, 1)
    out = tmp / "mnist_run"
    cmd = cli("train-image", "--dataset", "mnist", "--preset", "small", "--data-dir", str(mnist), "--out",
              str(out), "--quiet", "--device", device.type, *s.mnist_args)
    with open(tmp / "mnist_train.log", "w", encoding="utf-8") as f:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
        deadline = time.perf_counter() + 120
        while not (out / "config.json").is_file() and proc.poll() is None and time.perf_counter() < deadline:
            time.sleep(0.2)                     # config.json is written just before training starts
        try:
            proc.wait(timeout=max(1.0, seconds))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)     # the trainer finishes its iteration and checkpoints
            proc.wait(timeout=120)
    if proc.returncode != 0:
        return {**result, "error": f"train-image exited {proc.returncode}: "
                                   f"{(tmp / 'mnist_train.log').read_text(encoding='utf-8')[-800:]}"}
    state = load_checkpoint(list_checkpoints(out / CHECKPOINT_DIR)[-1][1])
    ev = subprocess.run(cli("eval-image", "--run", str(out), "--device", device.type, "--json"), cwd=ROOT,
                        capture_output=True, text=True, timeout=max(60.0, remaining()))
    if ev.returncode != 0:
        return {**result, "error": f"eval-image exited {ev.returncode}: {ev.stderr[-800:]}"}
    metrics = json.loads(ev.stdout.strip().splitlines()[-1])["metrics"]
    return {**result, "command": shown(cmd, {out: "RUN_DIR", mnist: "DIR"}), "step": int(state["step"]),
            "of_iters": int(state["config"]["train"]["iters"]), "train_s": round(float(state["elapsed"]), 1),
            **{k: {"value": m["value"], "floor": m["floor"]} for k, m in metrics.items()}}


# ----------------------------------------------------------------------------- the command

PATH_OPTIONS = {"--mnist-dir": "DIR", "--results": "FILE"}     # shown by name in the log's headings


def append_results(path: Path, argv: list[str], result: dict) -> None:
    """The result under a heading with the command (its paths by name), the date and the machine."""
    args = []
    for previous, arg in zip([""] + argv, argv):
        option = arg.split("=", 1)[0]
        args.append(PATH_OPTIONS.get(previous) or (f"{option}={PATH_OPTIONS[option]}" if "=" in arg
                                                  and option in PATH_OPTIONS else arg))
    env = result.get("environment", {})
    machine = (env.get("gpu") or {}).get("name") or f"CPU {env.get('cpu')}"
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"\n## `python bench/gpu_check.py {' '.join(args)}` ({env.get('date')}, {machine})\n\n"
                f"```json\n{json.dumps(result, indent=1)}\n```\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dry-run", action="store_true", help="every part on the CPU at tiny sizes")
    p.add_argument("--results", type=Path, default=None,
                   help="append the result here (default bench/RESULTS.md; a dry run only when given)")
    p.add_argument("--no-record", action="store_true", help="print only")
    p.add_argument("--parts", default=",".join(PARTS), help=f"a comma-separated subset of {', '.join(PARTS)}")
    p.add_argument("--mnist-dir", default=None, help="the four MNIST idx files (for mnist_small)")
    p.add_argument("--budget-s", type=float, default=470.0, help="stop starting parts after this")
    p.add_argument("--classifier-worker", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.classifier_worker:
        classifier_worker(a.classifier_worker)
        return
    parts = [x.strip() for x in a.parts.split(",") if x.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        p.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    if not a.dry_run and not torch.cuda.is_available():
        p.error("no CUDA GPU here: run with --dry-run to exercise the script on the CPU")
    s, device = (DRY, torch.device("cpu")) if a.dry_run else (GPU, torch.device("cuda"))
    t0 = time.perf_counter()

    def remaining() -> float:
        return a.budget_s - (time.perf_counter() - t0)

    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="gpu_check-") as tmp_name:
        tmp = Path(tmp_name)
        mnist = mnist_dir_for(a, tmp) if "mnist_small" in parts else None
        worker = start_classifier(mnist, tmp / "classifier.log")
        jobs = {"environment": lambda: environment(device, a.dry_run),
                "cuda_tests": lambda: cuda_tests(tmp, max(30.0, min(240.0, remaining())), a.dry_run),
                "syncs": lambda: syncs(s, device),
                "lm_paper": lambda: lm_paper(s, device, tmp, remaining),
                "image_cifar": lambda: image_cifar(s, device),
                "inception": lambda: inception(s, device),
                "first_command": lambda: first_command(s, device, tmp, timeout=max(30.0, min(300.0, remaining()))),
                "mnist_small": lambda: mnist_small(s, device, tmp, mnist, worker, remaining)}
        try:
            for name in PARTS:
                if name not in parts:
                    continue
                if remaining() <= 0 and name != "environment":
                    result[name] = {"skipped": f"the budget of {a.budget_s:.0f} s is spent"}
                    continue
                log(f"{name} ({time.perf_counter() - t0:.0f} s in)")
                start = time.perf_counter()
                try:
                    result[name] = jobs[name]()
                except Exception as e:  # noqa: BLE001 - report it and go on with the next part
                    traceback.print_exc()
                    result[name] = {"error": f"{type(e).__name__}: {e}"[:800]}
                if isinstance(result[name], dict) and name != "environment":
                    result[name]["part_s"] = round(time.perf_counter() - start, 1)
        finally:
            if worker is not None and worker.poll() is None:
                worker.kill()
                worker.wait()
    result["total_s"] = round(time.perf_counter() - t0, 1)
    if not a.no_record and (a.results is not None or not a.dry_run):
        append_results(a.results or ROOT / "bench" / "RESULTS.md", sys.argv[1:], result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
