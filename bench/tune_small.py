#!/usr/bin/env python3
"""What the `small` preset's first command learns in its time budget, for several candidate settings.

  python bench/tune_small.py [--trials NAME,NAME|all] [--jobs N] [--threads T]
                             [--budget-s S] [--deadline-s S] [--corpus synthetic|PATH] [--out DIR]
                             [--no-record]

Each trial is `train-lm --preset small` with a few settings changed (TRIALS below), trained for a
fixed number of generator iterations: `--budget-s` divided by the trial's cost per iteration
(COST_1T: seconds per iteration on one thread of the CPU named there, measured with
`ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2`). So trials are compared at equal CPU work and can
run side by side on a bigger machine (`--jobs`, one process of `--threads` threads each) without
their wall times mattering. `--deadline-s` stops a trial early (SIGTERM: it saves and is still
scored) so a slower machine still reports. Each finished run is then scored exactly as
`eval-lm --run DIR --corpus CORPUS --json` does (640 fresh samples, the corpus's held-out lines),
and its evaluation curve (JS-4, grammar) is kept.  Prints one JSON object; appends it to
bench/RESULTS.md unless --no-record.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import report  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Settings changed from the small preset, per trial.
TRIALS: dict[str, dict] = {
    "base": {"zipf": "v1"},
    "c2": {"critic_iters": 2, "zipf": "v1"},
    "c2-clr3e-3": {"critic_iters": 2, "critic_lr": 3e-3, "zipf": "v1"},
    "s16": {"seq_len": 16, "zipf": "v1"},
    "s16-c2": {"seq_len": 16, "critic_iters": 2, "zipf": "v1"},
    "s16-c2-clr3e-3": {"seq_len": 16, "critic_iters": 2, "critic_lr": 3e-3, "zipf": "v1"},
    "s16-c2-lr2e-3": {"seq_len": 16, "critic_iters": 2, "lr": 2e-3, "zipf": "v1"},
    "s16-c2-lr5e-4": {"seq_len": 16, "critic_iters": 2, "lr": 5e-4, "zipf": "v1"},
    "s16-c2-beta1-0": {"seq_len": 16, "critic_iters": 2, "beta1": 0.0, "zipf": "v1"},
    "s16-c2-dim128": {"seq_len": 16, "critic_iters": 2, "dim": 128, "zipf": "v1"},
    "s16-c2-b128": {"seq_len": 16, "critic_iters": 2, "batch_size": 128, "zipf": "v1"},
    "s16-b32": {"seq_len": 16, "batch_size": 32, "zipf": "v1"},
    "s16-c3": {"seq_len": 16, "critic_iters": 3, "zipf": "v1"},
    "s16-c1": {"seq_len": 16, "critic_iters": 1, "zipf": "v1"},
    "s16-c2-nb2": {"seq_len": 16, "critic_iters": 2, "n_blocks": 2, "zipf": "v1"},
    "s16-c2-nb3": {"seq_len": 16, "critic_iters": 2, "n_blocks": 3, "zipf": "v1"},
    "s16-c1-nb2": {"seq_len": 16, "critic_iters": 1, "n_blocks": 2, "zipf": "v1"},
    "s16-c2-nb2-dim128": {"seq_len": 16, "critic_iters": 2, "n_blocks": 2, "dim": 128, "zipf": "v1"},
    # "zipf": the grammar's entries drawn with weights 1 / rank ** a (rank 1 first; grammar version 2,
    # the default since, is a = 2) or "v1": version 1's 1 / (rank + 1), which the trials above ran on
    "s16-c2-nb2-zipf1.5": {"seq_len": 16, "critic_iters": 2, "n_blocks": 2, "zipf": 1.5},
    "s16-c2-nb2-zipf2": {"seq_len": 16, "critic_iters": 2, "n_blocks": 2, "zipf": 2.0},
    "v2-s16-c2-nb2": {"seq_len": 16, "critic_iters": 2, "n_blocks": 2},   # the small preset now
}

# Seconds per generator iteration, one thread, Intel Xeon (AVX-512 machine run with
# ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2), torch 2.13.0; measured (m) or interpolated (i)
# from the measured ones as critic steps x critic cost + generator cost.
COST_1T: dict[str, float] = {
    "base": 0.448,            # m
    "c2": 0.204,              # m
    "c2-clr3e-3": 0.204,
    "s16": 0.239,             # m
    "s16-c2": 0.110,          # m
    "s16-c2-clr3e-3": 0.110,
    "s16-c2-lr2e-3": 0.110,
    "s16-c2-lr5e-4": 0.110,
    "s16-c2-beta1-0": 0.110,
    "s16-c2-dim128": 0.278,   # m
    "s16-c2-b128": 0.205,     # i (about twice the work of s16-c2)
    "s16-b32": 0.140,         # m
    "s16-c3": 0.153,          # i
    "s16-c1": 0.067,          # i
    "s16-c2-nb2": 0.051,      # m
    "s16-c2-nb3": 0.074,      # m
    "s16-c1-nb2": 0.031,      # m
    "s16-c2-nb2-dim128": 0.124,  # m
    "s16-c2-nb2-zipf1.5": 0.051,
    "s16-c2-nb2-zipf2": 0.051,
    "v2-s16-c2-nb2": 0.051,
}


def _use_zipf(a) -> None:
    """This process's synthetic grammar draws entries with weights 1 / rank ** a, or version 1's
    1 / (rank + 1) for a = "v1" (rank 1 first; no cache: the cache knows only the file)."""
    import numpy as np

    from textgan.data import synthetic

    def weights(k: int) -> np.ndarray:
        w = 1.0 / (np.arange(k) + 2.0) if a == "v1" else 1.0 / (np.arange(k) + 1.0) ** a
        return w / w.sum()
    synthetic._rank_weights = weights
    os.environ["TEXTGAN_NO_CACHE"] = "1"


def worker(a) -> None:
    sys.path.insert(0, ROOT)
    import torch

    from textgan.config import make_config
    from textgan.lm import TEXT, evaluate_lm
    from textgan.modality import load_model
    from textgan.runs import train_run

    torch.set_num_threads(a.threads)
    settings = dict(TRIALS[a.trial])
    zipf = settings.pop("zipf", None)
    if zipf is not None:
        _use_zipf(zipf)
    iters = max(1, int(a.budget_s / COST_1T[a.trial]))
    cfg = make_config("small", corpus=a.corpus, device="cpu", iters=iters,
                      eval_every=max(1, iters // 6), **settings)
    out = Path(a.out) / a.trial
    timer = threading.Timer(a.deadline_s, lambda: os.kill(os.getpid(), signal.SIGTERM))
    timer.start()
    start = time.perf_counter()
    summary = train_run(TEXT, cfg, out, progress=False, log=lambda m: None)
    train_s = time.perf_counter() - start
    timer.cancel()
    result = evaluate_lm(model=load_model(out), n=640, corpus=a.corpus, heldout=None,
                         seq_len=cfg.model.seq_len, max_lines=cfg.data.max_lines, data_dir=None,
                         download=False, seed=0, log=lambda m: None)
    values, floor = result["samples"], result["floor"]
    keep = ("in_test1", "grammar", "js1", "js4")
    curve = [{"step": r["step"], "js4": round(r["js4"], 3), "grammar": r.get("grammar")}
             for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines())]
    samples = sorted((out / "samples").glob("samples_*.txt"))[-1].read_text().splitlines()[:4]
    print(json.dumps({"trial": a.trial, "settings": TRIALS[a.trial], "iters_planned": iters,
                      "iters_done": summary["step"], "train_s": round(train_s, 1),
                      **{k: round(values[k], 3) for k in keep if values.get(k) is not None},
                      "floor": {k: round(floor[k], 3) for k in keep if floor.get(k) is not None},
                      "curve": curve, "samples": samples}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", default="all")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--budget-s", type=float, default=415.0,
                   help="one-thread CPU seconds of training per trial (415: ~255 s on 2 threads)")
    p.add_argument("--deadline-s", type=float, default=1e9)
    p.add_argument("--corpus", default="synthetic")
    p.add_argument("--out", default=None, help="keep the runs here (default: a temporary folder)")
    p.add_argument("--no-record", action="store_true")
    p.add_argument("--trial", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.trial:
        worker(a)
        return
    import tempfile
    names = list(TRIALS) if a.trials == "all" else a.trials.split(",")
    out = a.out or tempfile.mkdtemp(prefix="tune_small_")
    sys.path.insert(0, ROOT)
    from textgan.config import make_config
    from textgan.data.corpus import load_corpus
    for seq_len in sorted({TRIALS[n].get("seq_len", 32) for n in names if "zipf" not in TRIALS[n]}):  # fill the cache once
        load_corpus(make_config("small", corpus=a.corpus, seq_len=seq_len).data, seq_len, progress=False)
    env = {**os.environ, "OMP_NUM_THREADS": str(a.threads)}
    base = [sys.executable, os.path.abspath(__file__), "--corpus", a.corpus, "--out", out,
            "--threads", str(a.threads), "--budget-s", str(a.budget_s), "--deadline-s", str(a.deadline_s)]
    pending, running, rows = list(names), [], []
    while pending or running:
        while pending and len(running) < a.jobs:
            name = pending.pop(0)
            running.append((name, subprocess.Popen(base + ["--trial", name], env=env, text=True,
                                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
        time.sleep(1)
        for name, proc in list(running):
            if proc.poll() is None:
                continue
            running.remove((name, proc))
            stdout, stderr = proc.communicate()
            if proc.returncode == 0:
                rows.append(json.loads(stdout.strip().splitlines()[-1]))
            else:
                rows.append({"trial": name, "error": stderr.strip().splitlines()[-1:]})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    result = {"bench": "tune_small", "corpus": a.corpus, "budget_s_1thread": a.budget_s,
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus",
              "jobs": a.jobs, "threads": a.threads, "runs_dir": out, "trials": rows}
    report("tune_small.py", result, a.no_record)


if __name__ == "__main__":
    main()
