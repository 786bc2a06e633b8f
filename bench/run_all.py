#!/usr/bin/env python3
"""Re-measure the headline table: textgan against the plain baseline (bench/baseline.py), same run.

  python bench/run_all.py [--quick] [--corpus NAME|PATH] [--data-dir DIR] [--only STEP,...]
                          [--no-record]

Runs the benchmark scripts one after another, each in its own process with --no-record, and
prints one Markdown table (textgan, baseline, ratio, and the command of each figure) headed by the
CPU it ran on (lscpu's model name, torch's CPU capability, cores, load average); unless
--no-record, appends the table and every script's JSON to bench/RESULTS.md.

Data: --corpus (default `synthetic`, the built-in corpus: no files, so it runs from a bare clone)
is the text every text benchmark reads: a corpus name (`python cli.py corpora`; `emnlp-news` and
`image-coco` live under --data-dir, `python cli.py corpora prepare NAME` fetches and caches them)
or a PATH, a text file or a directory of them (as train-lm's --corpus). The image benchmark needs
no data: it times the paper's networks on random pixels.

--quick (under 15 minutes on 2 quiet cores): fewer rounds and iterations, the load benchmark at
1,000,000 lines, no bf16, direct-convolution or quality rows. Without --quick: the settings of the
commands the README quotes, including JS-4 after 10 minutes of training (about 50 minutes in all).

Steps: train (DIM 128), train_direct, train512, train_bf16, image, ngram, eval, load, quality.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import BENCH, CORPUS_HELP, DATA_DIR_HELP, RESULTS, ROOT, cpu_model, shown  # noqa: E402

ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# step -> (script, quick arguments or None to skip, full arguments, extra environment, text data?)
STEPS = {
    "train": ("train_speed.py", ["--rounds", "2", "--iters", "5"], ["--rounds", "4", "--iters", "6"], {}, True),
    "train_direct": ("train_speed.py", None, ["--rounds", "2", "--iters", "6", "--conv", "direct"], {}, True),
    "train512": ("train_speed.py", ["--dim", "512", "--rounds", "1", "--iters", "3"],
                 ["--dim", "512", "--rounds", "1", "--iters", "3"], {}, True),
    "train_bf16": ("train_speed.py", None, ["--rounds", "3", "--iters", "6", "--precision", "bf16"], {}, True),
    "image": ("image_speed.py", ["--rounds", "2", "--iters", "3", "--cifar-iters", "1"],
              ["--rounds", "3", "--iters", "4", "--cifar-iters", "2"], ONE_THREAD, False),
    "ngram": ("ngram_speed.py", ["--part", "aeb", "--repeats", "2"], ["--part", "aeb", "--repeats", "3"], {}, True),
    "eval": ("eval_overhead.py", ["--iters", "2", "--evals", "1"], ["--iters", "2", "--evals", "1"], {}, True),
    "load": ("load_speed.py", ["--lines", "1000000"], ["--lines", "10000000"], {}, True),
    "quality": ("quality_cpu.py", None, ["--minutes", "10", "--every", "60"], {}, True),
}


def parse_json(stdout: str) -> dict:
    """The JSON object a script printed last (indented or on one line)."""
    lines = stdout.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("{"):
            try:
                return json.loads("\n".join(lines[i:]))
            except json.JSONDecodeError:
                continue
    raise ValueError("no JSON object in the output")


def run_step(script: str, args: list[str], env: dict) -> tuple[dict, float]:
    cmd = [sys.executable, os.path.join(BENCH, script), *args, "--no-record"]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **env})
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed after {wall:.0f} s:\n{out.stderr[-3000:]}")
    return parse_json(out.stdout), wall


def x(ratio: float) -> str:
    return f"{ratio:.2f}x"


def span(values: list[float]) -> str:
    return f"{min(values):.2f}x-{max(values):.2f}x" if len(values) > 1 else x(values[0])


def rows_for(step: str, r: dict) -> list[tuple[str, str, str, str]]:
    """(what, textgan, baseline, ratio) rows of one step's JSON."""
    if step.startswith("train"):
        s = r["settings"]
        what = {"train": f"training, paper settings but DIM {s['dim']}, float32, `--conv auto`",
                "train_direct": "the same with `--conv direct`",
                "train512": "training, the paper's settings (DIM 512), float32",
                "train_bf16": f"DIM {s['dim']} with `--precision bf16`"}[step]
        per_iter = lambda seq_s: 64 * 10 / seq_s
        ratio = f"{x(r['ratio_of_medians'])} (rounds {span([k['ratio'] for k in r['rounds']])})"
        return [(what, f"{r['textgan_sequences_per_s']:.1f} sequences/s ({per_iter(r['textgan_sequences_per_s']):.2f} s/iteration)",
                 f"{r['baseline_sequences_per_s']:.1f} sequences/s ({per_iter(r['baseline_sequences_per_s']):.2f} s/iteration)",
                 ratio)]
    if step == "image":
        m = r["mnist"]
        rows = [("MNIST, paper networks (DIM 64, batch 50, 5 critic steps), one thread",
                 f"{m['textgan_iters_per_cpu_s']:.3f} iterations/CPU-s", f"{m['plain_iters_per_cpu_s']:.3f} iterations/CPU-s",
                 f"{x(m['speedup_textgan_over_plain'])} (rounds "
                 f"{span([k['plain_cpu_s_per_iter'] / k['textgan_cpu_s_per_iter'] for k in m['rounds']])})")]
        if "cifar10_resnet" in r:
            c = r["cifar10_resnet"]
            rows.append(("CIFAR-10 ResNet, paper networks, one thread", f"{c['cpu_s_per_iter']:.1f} CPU-s/iteration "
                         f"({c['cpu_hours_for_100k_iters']:,.0f} CPU-hours for 100k)", "-", "-"))
        return rows
    if step == "ngram":
        rows = []
        if "timed" in r:
            t = r["timed"]
            base = [k["baseline"] for k in t["runs"]]
            peak = lambda side: max(k["peak_rss_mb"] for k in side)
            head = f"640 lines vs a {t['corpus_lines']:,}-line corpus, reading included"
            for side, what in (("ngram_js", "textgan.ngram_js (JS-1..4)"),
                               ("eval_lm", "the whole eval-lm --json (every metric, the floor)")):
                if f"median_{side}_ratio" not in t:
                    continue
                runs = [k[f"{side}_ratio"] for k in t["runs"]]
                rows.append((f"{what}, {head}",
                             f"{t[f'median_{side}_s']:.2f} s, {peak([k[side] for k in t['runs']]):.0f} MB peak",
                             f"{t['median_baseline_s']:.1f} s (JS only), {peak(base):.0f} MB peak",
                             f"{t[f'median_{side}_ratio']:.1f}x (runs {min(runs):.1f}x-{max(runs):.1f}x; CPU-s "
                             f"{t[f'median_{side}_cpu_ratio']:.1f}x); JS differ by at most "
                             f"{t[f'{side}_max_abs_js_diff']:.1e}"))
        if "b" in r:
            b = r["b"]
            rows.append((f"n-gram statistics, n = 1..4, {b['lines']:,} lines of 32 characters",
                         f"{b['build_s']:.1f} s, {b['peak_rss_mb']:.0f} MB peak", "-", "-"))
        return rows
    if step == "eval":
        return [(f"one in-training evaluation (640 samples from the DIM {r['dim']} generator + JS-1..4 vs "
                 f"{r['corpus_lines']:,} lines)",
                 f"{r['eval_s']:.2f} s = {r['overhead_pct']:.2f}% of 100 iterations ({r['iter_s']:.1f} s each)", "-", "-")]
    if step == "load":
        first, cached = r["textgan_first"], r["textgan_cached"]
        rows = [(f"load + encode {r['lines']:,} Billion-Word-shaped lines",
                 f"{first['wall_s']:.2f} s, {first['peak_rss_mb']:.0f} MB peak",
                 f"{r['baseline']['wall_s']:.1f} s, {r['baseline']['peak_rss_mb']:.0f} MB peak" if "baseline" in r else "-",
                 x(r["first_load_speedup"]) if "baseline" in r else "-"),
                ("cached reload of the same (memory-mapped)",
                 f"{cached['wall_s']:.3f} s (+{cached['touch_all_pages_s']:.2f} s to touch every page)", "-", "-")]
        return rows
    if step == "quality":
        t, b = r["textgan"], r["baseline"]
        return [(f"JS-4 after {r['minutes']:g} minutes of training, `small` preset vs the baseline at DIM {b['dim']}",
                 f"{t['js4']:.3f} ({t['gen_iters']:,} iterations)", f"{b['js4']:.3f} ({b['gen_iters']:,} iterations)",
                 "lower is better")]
    raise KeyError(step)


def describe_corpus(corpus: str) -> str:
    """The corpus as the log names it: a name as is, a path by what it holds (no absolute path)."""
    if not os.path.exists(corpus):
        return f"`--corpus {corpus}`"
    if os.path.isfile(corpus):
        return f"`--corpus PATH`, the file {os.path.basename(corpus)}"
    files = sorted(os.path.relpath(os.path.join(d, f), corpus) for d, _, fs in os.walk(corpus) for f in fs
                   if f.endswith((".txt", ".text", ".txt.gz", ".jsonl", ".jsonl.gz")))
    return f"`--corpus DIR`, a directory of {len(files)} text files ({', '.join(files)})"


def torch_facts() -> dict:
    """torch's version, CPU capability and the resident memory its import alone costs (in a child)."""
    code = ("import json, resource, torch; print(json.dumps({'torch': torch.__version__, "
            "'capability': torch.backends.cpu.get_cpu_capability(), 'threads': torch.get_num_threads(), "
            "'import_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the short settings (under 15 minutes on 2 cores)")
    p.add_argument("--corpus", default="synthetic", help=CORPUS_HELP)
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--only", default=None, help=f"comma-separated steps of: {', '.join(STEPS)}")
    p.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    a = p.parse_args()
    chosen = a.only.split(",") if a.only else list(STEPS)
    unknown = [s for s in chosen if s not in STEPS]
    if unknown:
        p.error(f"unknown step(s) {', '.join(unknown)}; choose from {', '.join(STEPS)}")
    data = ["--corpus", a.corpus, *(["--data-dir", a.data_dir] if a.data_dir else [])]

    facts = torch_facts()
    load = os.getloadavg()
    head = (f"CPU: {cpu_model()} ({os.cpu_count()} cores), torch {facts['torch']} CPU capability "
            f"{facts['capability']}, {facts['threads']} threads; load average at the start "
            f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min); text: {describe_corpus(a.corpus)}")
    print(head, file=sys.stderr, flush=True)
    start = time.perf_counter()
    table, raw, walls = [], {}, []
    for step in chosen:
        script, quick, full, env, text = STEPS[step]
        args = quick if a.quick else full
        if args is None:
            continue
        args = args + (data if text else [])
        result, wall = run_step(script, args, env)
        raw[step] = result
        env_words = [f"{k}={v}" for k, v in env.items() if k == "OMP_NUM_THREADS"]
        command = " ".join(env_words + ["python", f"bench/{script}"] + shown(args))
        for what, ours, base, ratio in rows_for(step, result):
            table.append(f"| {what} | {ours} | {base} | {ratio} | `{command}` |")
        walls.append(f"{step} {wall:.0f} s")
        print(f"{step}: {wall:.0f} s", file=sys.stderr, flush=True)
    total = time.perf_counter() - start
    text = "\n".join([
        head + f"; {total / 60:.1f} minutes in all ({', '.join(walls)}).",
        f"Peak memory: the training and evaluation processes include importing torch "
        f"({facts['import_rss_mb']:.0f} MB alone); neither side imports it for the n-gram and loading "
        "figures. Ratios are textgan's speed over the baseline's.",
        "",
        "| what | textgan | baseline | ratio | command |",
        "|---|---|---|---|---|",
        *table])
    print(text)
    if not a.no_record:
        cmd = " ".join(["python", "bench/run_all.py"] + shown(sys.argv[1:]))
        with open(RESULTS, "a", encoding="utf-8") as f:
            f.write(f"\n## `{cmd}`\n\n{text}\n\n```json\n{json.dumps(raw, indent=1)}\n```\n")


if __name__ == "__main__":
    main()
