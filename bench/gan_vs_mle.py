#!/usr/bin/env python3
"""The GAN against maximum likelihood at equal CPU time (issue 20).

  python bench/gan_vs_mle.py CORPUS_FILE | --corpus NAME --data-dir DIR
                             [--minutes 10] [--seeds 1,2,3] [--jobs 2]
                             [--temperatures 0.5,0.7,1.0,1.3] [--samples 640]
                             [--gan-variant NAME:FIELD=VALUE[,FIELD=VALUE...] ...] [--variant-seeds 1]
                             [--arms gan,mle] [--from-runs [--score-unscored]]
                             [--runs DIR] [--figure PNG] [--no-record]

Arms: `gan` is `train-lm --preset small` (WGAN-GP), `mle` is `train-lm --preset small --objective mle`
(the causal conv language model of textgan/mle.py); each `--gan-variant` adds a GAN arm with train-lm
options changed (e.g. `batch64:batch_size=64`), trained for --variant-seeds only.  `--arms` picks the
base arms (`--arms ""`: the variants alone, e.g. trials against an MLE baseline measured before).
`--from-runs` trains nothing: it reports the runs already finished in --runs (their bench_result.json)
for the arms and seeds asked, e.g. the seeds that finished of a comparison stopped early.
`--score-unscored` (with --from-runs) scores, from its last checkpoint, a run whose training ended but
whose scoring did not (its training CPU time is then unknown).

Equal time is CPU time, not wall-clock, so the figures are fair on a shared machine: every run is a
process of its own with torch on ONE thread, and trains until `time.process_time()` spent on training
reaches --minutes (the budget is checked at each log, every --eval-every iterations; the in-run
evaluations are not counted, nor is the setup before the first iteration).  At most --jobs runs at once.

After training each run is scored, with one corpus n-gram reference, at every sampling temperature
(--decode sample) and, for GAN arms, by the paper's argmax: JS-1..4 (bits), BLEU-4, Self-BLEU-4 and
distinct-4 of --samples lines, on the corpus's held-out lines (textgan.evaluate_text, the numbers
`eval-lm --run R --temperature T` prints), beside the real-data floor.
Prints a Markdown table (mean +- sd over seeds), then one JSON object; appends both to
bench/RESULTS.md (unless --no-record) and draws --figure (default bench/figures/gan_vs_mle.png).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import record  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIGURE = os.path.join(ROOT, "bench", "figures", "gan_vs_mle.png")
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
METRICS = ("js1", "js2", "js3", "js4", "bleu4", "self_bleu4", "distinct4")
TABLE_METRICS = METRICS
BASE_ARMS = {"gan": {}, "mle": {"objective": "mle"}}


class UsageError(Exception):
    """Bad input: one line on stderr, exit status 2."""


# ----------------------------------------------------------------------------- parsing
def parse_numbers(text: str, kind, what: str) -> list:
    try:
        values = [kind(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"{what} must be a comma-separated list of numbers, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise UsageError(f"{what} must be positive numbers, got {text!r}")
    return values


def parse_value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_variant(text: str) -> tuple[str, dict]:
    """'batch64:batch_size=64,lr=2e-3' -> ('batch64', {'batch_size': 64, 'lr': 0.002})."""
    name, _, spec = text.partition(":")
    pairs = [p for p in spec.split(",") if p]
    if not name or name in BASE_ARMS or not pairs or any("=" not in p for p in pairs):
        raise UsageError(f"--gan-variant must be NAME:FIELD=VALUE[,FIELD=VALUE...] with a new name, got {text!r}")
    return name, {k.strip(): parse_value(v.strip()) for k, v in (p.split("=", 1) for p in pairs)}


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus_file", nargs="?", help="the corpus as a text file (or use --corpus)")
    ap.add_argument("--corpus", help="a named corpus, e.g. emnlp-news (with --data-dir)")
    ap.add_argument("--data-dir", help="where named corpora live")
    ap.add_argument("--minutes", type=float, default=10.0, help="training CPU-minutes per run (one thread)")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--jobs", type=int, default=2, help="runs at once")
    ap.add_argument("--temperatures", default="0.5,0.7,1.0,1.3")
    ap.add_argument("--samples", type=int, default=640, help="generated lines per evaluation")
    ap.add_argument("--eval-every", type=int, default=200, help="iterations between budget checks")
    ap.add_argument("--gan-variant", action="append", default=[], help="NAME:FIELD=VALUE,...")
    ap.add_argument("--variant-seeds", default="1")
    ap.add_argument("--arms", default="gan,mle", help="base arms to train: gan, mle, both or none (\"\")")
    ap.add_argument("--runs", default=os.path.join("runs", "gan_vs_mle"), help="where the runs go")
    ap.add_argument("--figure", default=FIGURE)
    ap.add_argument("--no-record", action="store_true")
    ap.add_argument("--from-runs", action="store_true", help="report the finished runs in --runs; train nothing")
    ap.add_argument("--score-unscored", action="store_true",
                    help="with --from-runs: a run without bench_result.json (its training ended, its scoring "
                         "did not) is scored now from its last checkpoint; its training CPU time stays unknown")
    ap.add_argument("--worker", help=argparse.SUPPRESS)     # one run, as JSON (internal)
    a = ap.parse_args(argv)
    if a.worker:
        return a
    if a.score_unscored and not a.from_runs:
        raise UsageError("--score-unscored is for --from-runs")
    if (a.corpus_file is None) == (a.corpus is None):
        raise UsageError("give the corpus as a file or as --corpus NAME (not both)")
    if a.corpus_file is not None and not os.path.isfile(a.corpus_file):
        raise UsageError(f"no corpus file at {a.corpus_file}")
    if not (a.minutes > 0 and a.jobs > 0 and a.samples > 1 and a.eval_every > 0):
        raise UsageError("--minutes, --jobs, --eval-every must be positive and --samples at least 2")
    a.seeds = parse_numbers(a.seeds, int, "--seeds")
    a.variant_seeds = parse_numbers(a.variant_seeds, int, "--variant-seeds")
    a.temperatures = parse_numbers(a.temperatures, float, "--temperatures")
    a.variants = dict(parse_variant(v) for v in a.gan_variant)
    a.arms = [x for x in a.arms.split(",") if x]
    if any(x not in BASE_ARMS for x in a.arms) or not (a.arms or a.variants):
        raise UsageError(f"--arms must be a subset of gan,mle (or none with a --gan-variant), got {','.join(a.arms)!r}")
    return a


# ----------------------------------------------------------------------------- one run (worker)
class CpuBudget:
    """Stops a Trainer once its training CPU time reaches `seconds`.  The clock starts at the last
    setup message (corpus, floor): what follows is the training loop.  The run's own evaluations are
    timed (the evaluator is wrapped at the first log) and taken out."""

    def __init__(self, seconds: float):
        self.seconds, self.start, self.excluded, self.used, self.logs = seconds, time.process_time(), 0.0, 0.0, 0

    def setup_message(self, message: str) -> None:
        if not self.logs:
            self.start = time.process_time()
        print(message, file=sys.stderr, flush=True)

    def timed(self, evaluator):
        def evaluate(generator, step):
            t = time.process_time()
            try:
                return evaluator(generator, step)
            finally:
                self.excluded += time.process_time() - t
        return evaluate

    def measure(self) -> float:
        self.used = time.process_time() - self.start - self.excluded
        return self.used


def budget_callback(budget: CpuBudget):
    import textgan

    class StopAtBudget(textgan.Callback):
        def on_log(self, trainer, rec):
            if not budget.logs and trainer.evaluator is not None:
                trainer.evaluator = budget.timed(trainer.evaluator)
            budget.logs += 1
            if budget.measure() >= budget.seconds:
                trainer.request_stop(signal.SIGTERM)

        def on_fit_end(self, trainer, rec):
            budget.measure()

    return StopAtBudget()


def decodes(temperatures: list[float], argmax: bool) -> dict[str, dict]:
    out = {"argmax": {"decode": "argmax"}} if argmax else {}
    out.update({f"T{t:g}": {"decode": "sample", "temperature": t} for t in temperatures})
    return out


def score_run(run, spec: dict) -> dict:
    """Every decode of the run against the corpus, one n-gram reference for all of them."""
    from textgan.api import corpus_lines
    from textgan.evaluate import evaluate_text
    from textgan.metrics.ngrams import NgramReference
    from textgan.metrics.tokens import char_ids
    seq_len = run.config.model.seq_len
    lines = corpus_lines(spec["corpus"], data_dir=spec["data_dir"])
    held = corpus_lines(spec["corpus"], data_dir=spec["data_dir"], split="heldout")
    reference = NgramReference(char_ids(lines, seq_len), 4)
    scores, floor = {}, None
    for name, options in decodes(spec["temperatures"], spec["objective"] != "mle").items():
        samples = run.sample(spec["samples"], seed=spec["seed"], **options)
        result = evaluate_text(samples, lines, seq_len=seq_len, heldout_lines=held, seed=0,
                               metrics=list(METRICS), reference=reference, heldout_in_corpus=True)
        scores[name] = result["samples"]
        floor = result["floor"]
    return {"decodes": scores, "floor": floor, "heldout_lines": len(held)}


def worker(spec: dict) -> dict:
    import torch
    torch.set_num_threads(1)
    import textgan
    budget = CpuBudget(spec["minutes"] * 60)
    options = {"iters": 10 ** 9, "eval_every": spec["eval_every"], "eval_samples": 64, "heldout_samples": 0,
               "keep_checkpoints": 1, "seed": spec["seed"], "device": "cpu", **spec["options"]}
    run = textgan.train_lm(spec["corpus"], out=spec["out"], preset="small", progress=False,
                           data_dir=spec["data_dir"], log=budget.setup_message,
                           callbacks=[budget_callback(budget)], **options)
    return scored_result(run.reload(), spec, train_cpu_s=round(budget.used, 1),
                         eval_cpu_s_in_run=round(budget.excluded, 1))


def scored_result(run, spec: dict, **training) -> dict:
    """A trained run's bench result: its step, what `training` says of its time, its scores."""
    t = time.process_time()
    scored = score_run(run, spec)
    return {"arm": spec["arm"], "seed": spec["seed"], "steps": run.step, **training,
            "score_cpu_s": round(time.process_time() - t, 1), **scored}


def save_result(spec: dict, result: dict) -> None:
    with open(result_file(spec), "w", encoding="utf-8") as f:
        json.dump(result, f)             # each run's scores survive a failure of a later one


# ----------------------------------------------------------------------------- many runs
def run_specs(a) -> list[dict]:
    arms = {**{k: (v, a.seeds) for k, v in BASE_ARMS.items() if k in a.arms},
            **{k: (v, a.variant_seeds) for k, v in a.variants.items()}}
    corpus = a.corpus or os.path.abspath(a.corpus_file)
    return [{"arm": arm, "seed": seed, "options": options, "objective": options.get("objective", "wgan-gp"),
             "corpus": corpus, "data_dir": a.data_dir, "minutes": a.minutes, "eval_every": a.eval_every,
             "samples": a.samples, "temperatures": a.temperatures,
             "out": os.path.abspath(os.path.join(a.runs, f"{arm}-seed{seed}"))}
            for seed in sorted({s for _, seeds in arms.values() for s in seeds})
            for arm, (options, seeds) in arms.items() if seed in seeds]


def result_file(spec: dict) -> str:
    return os.path.join(spec["out"], "bench_result.json")


def finished(spec: dict, score_unscored: bool = False) -> dict:
    try:
        with open(result_file(spec), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        if score_unscored and os.path.isdir(os.path.join(spec["out"], "checkpoints")):
            return score_later(spec)
        raise UsageError(f"no finished run {spec['arm']} seed {spec['seed']} in {os.path.dirname(spec['out'])}") from None


def score_later(spec: dict) -> dict:
    """A run whose scoring failed after its training ended, scored from its last checkpoint as the
    worker would have (its training CPU time was not kept: None)."""
    import textgan
    run = textgan.load_run(spec["out"])
    result = scored_result(run, spec, train_cpu_s=None, eval_cpu_s_in_run=None, scored_later=True)
    save_result(spec, result)
    print(f"{spec['arm']} seed {spec['seed']}: scored from its checkpoint at step {run.step}", file=sys.stderr,
          flush=True)
    return result


def launch(spec: dict) -> dict:
    if os.path.exists(spec["out"]):
        import shutil
        shutil.rmtree(spec["out"])
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)]
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **ONE_THREAD,
                                                               "PYTHONPATH": ROOT})
    if p.returncode != 0:
        tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise UsageError(f"run {spec['arm']} seed {spec['seed']} failed: {tail}")
    result = json.loads(p.stdout.strip().splitlines()[-1])
    save_result(spec, result)
    print(f"{spec['arm']} seed {spec['seed']}: {result['steps']} steps in {result['train_cpu_s']} CPU-s, "
          f"JS-4 " + ", ".join(f"{k} {v['js4']:.4f}" for k, v in result["decodes"].items()),
          file=sys.stderr, flush=True)
    return result


def mean_sd(values: list) -> dict:
    """Mean and sd of the numbers among `values` (a metric is None where it is undefined, e.g.
    BLEU without references)."""
    values = [v for v in values if v is not None]
    if not values:
        return {"mean": None, "sd": None, "n": 0}
    return {"mean": round(statistics.fmean(values), 4),
            "sd": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0, "n": len(values)}


def summarise(results: list[dict]) -> dict:
    """{arm: {decode: {metric: {mean, sd, n}}, "steps": ..., "train_cpu_s": ...}}."""
    arms: dict = {}
    for r in results:
        arms.setdefault(r["arm"], []).append(r)
    out = {}
    for arm, runs in arms.items():
        out[arm] = {"seeds": [r["seed"] for r in runs], "steps": mean_sd([r["steps"] for r in runs]),
                    "train_cpu_s": mean_sd([r["train_cpu_s"] for r in runs]),
                    "decodes": {d: {m: mean_sd([r["decodes"][d][m] for r in runs]) for m in METRICS}
                                for d in runs[0]["decodes"]}}
    return out


def distance(metric: str, value: float, floor: dict) -> float:
    """How far from good: JS is lower-better, BLEU-4 higher-better, the rest closer-to-real."""
    if value is None:
        return float("inf")
    if metric.startswith("js"):
        return value
    if metric.startswith("bleu"):
        return -value
    return abs(value - floor[metric])


def best_decode(arm: dict, metric: str, floor: dict) -> str:
    return min(arm["decodes"], key=lambda d: distance(metric, arm["decodes"][d][metric]["mean"], floor))


def verdicts(summary: dict, floor: dict) -> dict:
    """Per metric: the GAN (its argmax default, and its best decode) against MLE (T=1 and its best);
    {} unless both were trained."""
    if not {"gan", "mle"} <= set(summary):
        return {}
    gan, mle = summary["gan"], summary["mle"]
    out = {}
    for m in TABLE_METRICS:
        row = {}
        for label, g, l in (("default", "argmax", "T1"), ("best", best_decode(gan, m, floor),
                                                         best_decode(mle, m, floor))):
            gv, lv = gan["decodes"][g][m]["mean"], mle["decodes"][l][m]["mean"]
            dg, dl = distance(m, gv, floor), distance(m, lv, floor)
            row[label] = {"gan": [g, gv], "mle": [l, lv],
                          "better": "tie" if dg == dl else "gan" if dg < dl else "mle"}
        out[m] = row
    return out


def js4_ratios(summary: dict) -> dict:
    """Each GAN arm's best JS-4 over its decodes divided by MLE's best (target: <= 1.5)."""
    if "mle" not in summary:
        return {}
    mle = min(d["js4"]["mean"] for d in summary["mle"]["decodes"].values())
    return {arm: round(min(d["js4"]["mean"] for d in s["decodes"].values()) / mle, 3)
            for arm, s in summary.items() if arm != "mle"}


def markdown_table(summary: dict, floor: dict) -> str:
    head = "| arm | decode | steps | " + " | ".join(TABLE_METRICS) + " |"
    lines = [head, "|" + "---|" * (3 + len(TABLE_METRICS))]
    for arm, s in summary.items():
        steps = f"{s['steps']['mean']:.0f}"
        for d, values in s["decodes"].items():
            cells = ["-" if values[m]["mean"] is None else f"{values[m]['mean']:.4f} ± {values[m]['sd']:.4f}"
                     for m in TABLE_METRICS]
            lines.append(f"| {arm} (n={s['steps']['n']}) | {d} | {steps} | " + " | ".join(cells) + " |")
    lines.append("| real floor | held-out lines | | " + " | ".join(f"{floor[m]:.4f}" for m in TABLE_METRICS) + " |")
    return "\n".join(lines)


def _winner(better: str) -> str:
    return "a tie" if better == "tie" else f"{better.upper()} is better"


def verdict_lines(v: dict) -> list[str]:
    lines = []
    for m, row in v.items():
        d, b = row["default"], row["best"]
        lines.append(f"- {m}: at the defaults {_winner(d['better'])} (GAN argmax {d['gan'][1]:.4f}, "
                     f"MLE T=1 {d['mle'][1]:.4f}); at each one's best decode {_winner(b['better'])} "
                     f"(GAN {b['gan'][0]} {b['gan'][1]:.4f}, MLE {b['mle'][0]} {b['mle'][1]:.4f})")
    return lines


# ----------------------------------------------------------------------------- figure
def temperature_of(decode: str) -> float | None:
    return float(decode[1:]) if decode.startswith("T") else None


def draw_figure(summary: dict, floor: dict, path: str, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for arm, s in summary.items():
        temps = [d for d in s["decodes"] if temperature_of(d) is not None]
        x = [s["decodes"][d]["self_bleu4"]["mean"] for d in temps]
        y = [s["decodes"][d]["bleu4"]["mean"] for d in temps]
        line, = left.plot(x, y, "o-", label=arm)
        for d, xi, yi in zip(temps, x, y):
            left.annotate(d, (xi, yi), fontsize=7, textcoords="offset points", xytext=(3, 3))
        js = [s["decodes"][d]["js4"] for d in temps]
        right.errorbar([temperature_of(d) for d in temps], [j["mean"] for j in js], yerr=[j["sd"] for j in js],
                       fmt="o-", color=line.get_color(), label=arm, capsize=3)
        if "argmax" in s["decodes"]:
            a = s["decodes"]["argmax"]
            left.plot(a["self_bleu4"]["mean"], a["bleu4"]["mean"], "s", color=line.get_color(),
                      label=f"{arm} argmax")
            right.axhline(a["js4"]["mean"], color=line.get_color(), ls="--", lw=1, label=f"{arm} argmax")
    left.plot(floor["self_bleu4"], floor["bleu4"], "k*", ms=12, label="real held-out lines")
    right.plot([1.0], [floor["js4"]], "k*", ms=12, label="real held-out lines")
    left.set(xlabel="Self-BLEU-4 (diversity: lower is more diverse)", ylabel="BLEU-4 (quality)",
             title="quality vs diversity over temperature")
    right.set(xlabel="sampling temperature", ylabel="JS-4 (bits, lower is better)", yscale="log",
              title="JS-4 vs temperature (mean ± sd over seeds)")
    left.legend(fontsize=7)
    right.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- main
def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return "unknown"
    return next((x.split(":", 1)[1].strip() for x in out.splitlines() if x.startswith("Model name")), "unknown")


def compare(a) -> dict:
    specs = run_specs(a)
    t0 = time.time()
    if a.from_runs:
        results = [finished(spec, a.score_unscored) for spec in specs]
    else:
        with ThreadPoolExecutor(max_workers=a.jobs) as pool:
            results = list(pool.map(launch, specs))
    summary = summarise(results)
    floor = results[0]["floor"]
    return {"bench": "gan_vs_mle", "cpu": cpu_model(), "cores": os.cpu_count(), "threads_per_run": 1,
            "jobs": a.jobs, "budget": f"{a.minutes:g} training CPU-minutes per run (time.process_time, "
            "one thread; in-run evaluation and setup excluded)",
            "corpus": a.corpus or os.path.basename(a.corpus_file), "samples": a.samples,
            "heldout_lines": results[0]["heldout_lines"], "variants": a.variants, "floor": floor,
            "summary": summary, "verdicts": verdicts(summary, floor), "js4_ratio_to_mle": js4_ratios(summary),
            "runs": [{k: r.get(k) for k in ("arm", "seed", "steps", "train_cpu_s", "eval_cpu_s_in_run",
                                            "scored_later")} for r in results],
            "from_runs": a.from_runs, "wall_s": round(time.time() - t0, 1)}


def main(argv=None) -> int:
    try:
        a = parse_args(argv)
        if a.worker:
            print(json.dumps(worker(json.loads(a.worker))))
            return 0
        result = compare(a)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    table = markdown_table(result["summary"], result["floor"])
    said = "\n".join(verdict_lines(result["verdicts"]))
    ratios = ", ".join(f"{k} {v:.2f}x" for k, v in result["js4_ratio_to_mle"].items())
    text = table + (f"\n\n{said}" if said else "") + \
        (f"\n- best JS-4 over decodes, relative to MLE's best: {ratios}" if ratios else "")
    print(text)
    print(json.dumps(result))
    draw_figure(result["summary"], result["floor"], a.figure,
                f"{result['corpus']}: {result['budget']}; {result['cpu']}")
    if not a.no_record:
        record("gan_vs_mle.py", json.dumps(result, indent=1), preface=text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
