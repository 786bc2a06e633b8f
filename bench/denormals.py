#!/usr/bin/env python3
"""What flushing denormal floats to zero is worth: training steps per CPU-second with and without it.

  python bench/denormals.py [--corpus NAME|PATH] [--data-dir DIR] [--iters 3000] [--block 1000]
                            [--rounds 2] [--objectives wgan-gp,mle] [--preset small] [--threads 1]
                            [--no-record]

A CPU run of textgan flushes denormals (float32 values below 1.2e-38) to zero on every thread
(`textgan/runtime.py`, as TensorFlow's CPU threads do).  This trains `train-lm --preset PRESET`
for ITERS iterations twice per objective and round, each side a fresh process on THREADS torch
threads: once as textgan does, once with the flushing switched off (the lifecycle's
`runtime.flush_denormals` replaced by a no-op in that process).  Timed: the process CPU time of
each BLOCK iterations of the training loop (setup excluded; each block ends with the run's
evaluation of 64 lines, on both sides).  The cost of denormals grows as the generator's softmax
sharpens, so the blocks are reported one by one.  Ratios: CPU seconds without flushing / with,
for the whole loop and for the last block; medians over the rounds.  One JSON object printed and
appended to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import CORPUS_HELP, DATA_DIR_HELP, ROOT, cpu_model, report, run_json  # noqa: E402


def side(spec: dict) -> dict:
    """One training run in this process; its training loop's CPU seconds."""
    sys.path.insert(0, ROOT)
    import torch
    torch.set_num_threads(spec["threads"])
    import textgan
    from textgan import runtime
    if not spec["flush"]:
        runtime.flush_denormals = contextlib.nullcontext
    clock = {"start": time.process_time(), "blocks": []}

    def setup(message: str) -> None:            # the last setup line starts the clock
        clock["start"] = time.process_time()

    class EndOfBlock(textgan.Callback):
        def on_log(self, trainer, record):
            now = time.process_time()
            clock["blocks"].append(round(now - clock["start"], 3))
            clock["start"] = now

    with tempfile.TemporaryDirectory() as out:
        textgan.train_lm(spec["corpus"], out=os.path.join(out, "run"), preset=spec["preset"],
                         objective=spec["objective"], iters=spec["iters"], eval_every=spec["block"],
                         eval_samples=64, heldout_samples=0, device="cpu", seed=1, progress=False,
                         data_dir=spec["data_dir"], log=setup, callbacks=[EndOfBlock()])
    return {"blocks_cpu_s": clock["blocks"], "iters": spec["iters"], "flushes": spec["flush"],
            "threads": torch.get_num_threads()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="synthetic", help=CORPUS_HELP)
    ap.add_argument("--data-dir", help=DATA_DIR_HELP)
    ap.add_argument("--iters", type=int, default=3000)
    ap.add_argument("--block", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--objectives", default="wgan-gp,mle")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-record", action="store_true")
    ap.add_argument("--side", help=argparse.SUPPRESS)      # one side, as JSON (internal)
    a = ap.parse_args(argv)
    if a.side:
        print(json.dumps(side(json.loads(a.side))))
        return 0
    if min(a.iters, a.block, a.rounds, a.threads) < 1 or a.iters % a.block:
        ap.error("--iters, --block, --rounds and --threads must be positive, --iters a multiple of --block")
    corpus = os.path.abspath(a.corpus) if os.path.exists(a.corpus) else a.corpus
    env = {**os.environ, "OMP_NUM_THREADS": str(a.threads), "PYTHONPATH": ROOT}
    result = {"bench": "denormals", "cpu": cpu_model(), "cores": os.cpu_count(), "threads": a.threads,
              "corpus": os.path.basename(a.corpus), "preset": a.preset, "iters": a.iters, "block": a.block,
              "rounds": a.rounds, "objectives": {}}
    for objective in [o for o in a.objectives.split(",") if o]:
        runs = {"flush": [], "keep": []}
        for _ in range(a.rounds):
            for name, flush in (("keep", False), ("flush", True)):
                spec = {"corpus": corpus, "data_dir": a.data_dir, "preset": a.preset, "objective": objective,
                        "iters": a.iters, "block": a.block, "threads": a.threads, "flush": flush}
                r = run_json([sys.executable, os.path.abspath(__file__), "--side", json.dumps(spec)],
                             f"{objective} {name}", env=env)
                runs[name].append(r["blocks_cpu_s"])
                print(f"{objective} {name}: CPU-s per {a.block} iterations {r['blocks_cpu_s']}", file=sys.stderr,
                      flush=True)
        whole = [sum(k) / sum(f) for k, f in zip(runs["keep"], runs["flush"])]
        last = [k[-1] / f[-1] for k, f in zip(runs["keep"], runs["flush"])]
        result["objectives"][objective] = {
            "blocks_cpu_s_flush": runs["flush"], "blocks_cpu_s_keep": runs["keep"],
            "ratio_whole": [round(x, 3) for x in whole], "median_ratio_whole": round(statistics.median(whole), 3),
            "ratio_last_block": [round(x, 3) for x in last],
            "median_ratio_last_block": round(statistics.median(last), 3)}
    report("denormals.py", result, a.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
