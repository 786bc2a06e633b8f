#!/usr/bin/env python3
"""The paper's comparison of objectives, small and at equal CPU time (issue 12).

  python bench/compare_objectives.py [--toy-cpu-s 50] [--text-cpu-s 90] [--toy-dim 128]
                                     [--part both|toy|text] [--runs DIR] [--corpus NAME|PATH]
                                     [--data-dir DIR] [--no-record]

The four objectives of textgan/losses.py, each with its preset layer `objective/<name>` (textgan/presets.py: the paper's settings for
that baseline: wgan-clip RMSProp 5e-5, 5 critic steps, clip 0.01; gan Adam 2e-4 beta (0.5, 0.999),
one discriminator step, non-saturating; wgan-gp[-one-sided] Adam 1e-4 beta (0.5, 0.9)):

  toy   8 Gaussians through `textgan.train.Trainer` with the toy MLPs (gan_toy.py's 3 hidden ReLU
        layers, but DIM --toy-dim instead of 512 so that a CPU minute buys thousands of iterations),
        batch 256, lambda 0.1 (gan_toy.py's), 5 critic steps for the WGANs.  Metrics every tenth of
        the run from an evaluator (`toy_metrics` of 1,000 generated points with fixed noise against
        1,000 real points): W1, modes covered (of 8), share within 3 std of a mode.
  text  `cli.py train-lm --preset small --objective X` on --corpus (default: the built-in synthetic
        corpus; the figures in README.md used the EMNLP News test set, `--corpus PATH/test_emnlp.txt`)
        (JS-4 between character 4-gram distributions, bits; lower is better).

Equal time is CPU time, not wall-clock (the machine is shared): every process runs on ONE thread
(torch.set_num_threads(1) here, OMP_NUM_THREADS=1 / MKL_NUM_THREADS=1 for the CLI), and each
objective's iteration count is its CPU budget divided by its CPU seconds per iteration, measured
first by a short probe (toy: time.process_time() over 30 iterations of a throw-away trainer; text:
the children's CPU time of a 12-iteration run minus that of a 2-iteration run, so start-up and
evaluation are not counted).  Evaluation time is outside the budget.
Writes each group's report (textgan.report.write_report) to bench/figures/compare_{toy,text}/,
prints one JSON object and appends it to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import CORPUS_HELP, DATA_DIR_HELP, ROOT, WORKDIR, cpu_model, figure_path, report  # noqa: E402

sys.path.insert(0, ROOT)
from textgan.config import TrainConfig, apply_objective  # noqa: E402
from textgan.losses import ADVERSARIAL  # noqa: E402
from textgan.data.toy import toy_modes, toy_sampler  # noqa: E402
from textgan.metrics.points import toy_metrics  # noqa: E402
from textgan.models.toy import ToyCritic, ToyGenerator  # noqa: E402
from textgan.report import write_report  # noqa: E402
from textgan.train import Trainer, TrainerHooks  # noqa: E402

OBJECTIVES = list(ADVERSARIAL)
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# ----------------------------------------------------------------------------- toy
def toy_config(objective: str, iters: int) -> TrainConfig:
    cfg = TrainConfig(iters=iters, critic_iters=5, batch_size=256, gp_weight=0.1, lr=1e-4,
                      beta1=0.5, beta2=0.9, eval_every=max(1, iters // 10), keep_checkpoints=1,
                      heldout_samples=0, seed=1, device="cpu")
    apply_objective(cfg, objective)
    return cfg


def make_toy_trainer(objective: str, iters: int, dim: int, run_dir=None, evaluator=None):
    torch.manual_seed(1)
    cfg = toy_config(objective, iters)
    return Trainer(ToyGenerator(dim=dim), ToyCritic(dim=dim), toy_sampler("8gaussians", 256, seed=1), cfg,
                   torch.device("cpu"), run_dir=run_dir, evaluator=evaluator,
                   hooks=TrainerHooks(progress=False, log=lambda s: None)), cfg


class ToyEvaluator:
    """(generator, step) -> toy_metrics of n generated points (fixed noise) against n real points."""

    def __init__(self, n: int = 1000):
        self.modes = toy_modes("8gaussians")
        self.real = toy_sampler("8gaussians", n, seed=12345).next().numpy()
        self.z = torch.randn(n, 2, generator=torch.Generator().manual_seed(777))

    @torch.no_grad()
    def __call__(self, generator, step: int) -> dict:
        pts = generator(self.z).numpy()
        return toy_metrics(pts, self.real, self.modes.points.numpy(), self.modes.std)


def run_toy(args) -> dict:
    rows = {}
    dirs = []
    for obj in OBJECTIVES:
        probe, _ = make_toy_trainer(obj, 10 ** 9, args.toy_dim)
        probe.iteration()                                   # warm-up
        t = time.process_time()
        for _ in range(30):
            probe.iteration()
        s_per_iter = (time.process_time() - t) / 30
        iters = max(10, int(args.toy_cpu_s / s_per_iter))
        run_dir = os.path.join(args.runs, "toy", obj)
        shutil.rmtree(run_dir, ignore_errors=True)
        evaluator = ToyEvaluator()
        trainer, cfg = make_toy_trainer(obj, iters, args.toy_dim, run_dir=run_dir, evaluator=evaluator)
        with open(os.path.join(run_dir, "config.json"), "w") as f:
            json.dump({"kind": "toy", "data": {"corpus": "8gaussians"},
                       "model": {"dim": args.toy_dim, "depth": 3}, "train": dataclasses.asdict(cfg)},
                      f, indent=1)
        t = time.process_time()
        last = trainer.fit()
        cpu = time.process_time() - t
        # 2,000 points for the final table (the in-run evaluations use 1,000)
        final = ToyEvaluator(2000)(trainer.sampling_generator, trainer.step)
        rows[obj] = {"iters": iters, "probe_cpu_s_per_iter": round(s_per_iter, 5),
                     "cpu_s_incl_eval": round(cpu, 1),
                     "w1": round(final["w1"], 4), "modes": final["modes"],
                     "within_3sigma": round(final["within_3sigma"], 4),
                     "w1_1000pts_last_log": round(last["w1"], 4)}
        print(obj, rows[obj], flush=True)
        dirs.append(run_dir)
    out = figure_path("compare_toy", args.no_record)
    shutil.rmtree(out, ignore_errors=True)
    write_report(dirs, out)
    return rows


# ----------------------------------------------------------------------------- text
def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def train_lm(args, obj: str, iters: int, out: str, eval_every: int) -> float:
    """Run the CLI; return its CPU seconds (user + system)."""
    shutil.rmtree(out, ignore_errors=True)
    data_dir = ["--data-dir", args.data_dir] if args.data_dir else []
    cmd = [sys.executable, os.path.join(ROOT, "cli.py"), "train-lm", "--corpus", args.corpus, *data_dir,
           "--preset", "small", "--objective", obj, "--iters", str(iters), "--out", out,
           "--eval-every", str(eval_every), "--seed", "1", "--quiet"]
    before = children_cpu()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **ONE_THREAD})
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    return children_cpu() - before


def last_record(run_dir: str) -> dict:
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        lines = [json.loads(x) for x in f if x.strip()]
    return lines[-1]


def run_text(args) -> dict:
    rows = {}
    dirs = []
    probe_dir = os.path.join(args.runs, "text_probe")
    for obj in OBJECTIVES:
        short = train_lm(args, obj, 2, probe_dir, 2)
        long = train_lm(args, obj, 12, probe_dir, 12)
        s_per_iter = max(1e-3, (long - short) / 10)
        iters = max(10, int(args.text_cpu_s / s_per_iter))
        eval_every = max(1, iters // 8)
        run_dir = os.path.join(args.runs, "text", obj)
        cpu = train_lm(args, obj, iters, run_dir, eval_every)
        rec = last_record(run_dir)
        rows[obj] = {"iters": iters, "probe_cpu_s_per_iter": round(s_per_iter, 4),
                     "cpu_s_whole_process": round(cpu, 1),
                     **{k: round(rec[k], 4) for k in ("js1", "js2", "js3", "js4", "grammar") if k in rec},
                     "wasserstein": round(rec["wasserstein"], 4)}
        samples = sorted(os.listdir(os.path.join(run_dir, "samples"))) if os.path.isdir(
            os.path.join(run_dir, "samples")) else []
        if samples:
            with open(os.path.join(run_dir, "samples", samples[-1]), encoding="utf-8") as f:
                rows[obj]["samples"] = [x.rstrip("\n") for x in f.readlines()[:3]]
        print(obj, rows[obj], flush=True)
        dirs.append(run_dir)
    shutil.rmtree(probe_dir, ignore_errors=True)
    out = figure_path("compare_text", args.no_record)
    shutil.rmtree(out, ignore_errors=True)
    write_report(dirs, out)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--toy-cpu-s", type=float, default=50.0, help="CPU seconds of training per toy run")
    ap.add_argument("--text-cpu-s", type=float, default=90.0, help="CPU seconds of training per text run")
    ap.add_argument("--toy-dim", type=int, default=128)
    ap.add_argument("--part", choices=("both", "toy", "text"), default="both")
    ap.add_argument("--runs", default=os.path.join(WORKDIR, "compare_runs"), help="where the run directories go")
    ap.add_argument("--corpus", default="synthetic", help="text part: " + CORPUS_HELP)
    ap.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    result = {"cpu": cpu_model(), "threads": 1, "torch": torch.__version__,
              "budget": "equal CPU seconds per run (process_time / children's rusage), one thread",
              "toy_cpu_s_per_run": args.toy_cpu_s, "text_cpu_s_per_run": args.text_cpu_s}
    if args.part in ("both", "toy"):
        result["toy_8gaussians"] = {"setting": f"DIM {args.toy_dim} (paper 512), batch 256, lambda 0.1, "
                                               "metrics on 2,000 points", "runs": run_toy(args)}
    if args.part in ("both", "text"):
        result["text"] = {"setting": f"cli.py train-lm --preset small, {os.path.basename(args.corpus)}; "
                                     "JS in bits, lower is better", "runs": run_text(args)}
    result["wall_s"] = round(time.time() - t0, 1)
    report("compare_objectives.py", result, args.no_record)


if __name__ == "__main__":
    main()
