#!/usr/bin/env python3
"""Data-parallel scaling: training throughput with 1, 2, ... CPU processes (Gloo on loopback).

  python bench/scaling.py [--ranks 1,2] [--dim 64] [--iters 6] [--rounds 3] [--corpus NAME|PATH]
                          [--data-dir DIR] [--no-record]

The paper's settings except DIM (global batch 64, sequence 32, 10 critic iterations) on --corpus
(default: the built-in synthetic corpus; the figures in README.md used the EMNLP News test set,
`--corpus PATH/test_emnlp.txt`).  For each
world size N, N processes are started with torchrun's variables (as `torchrun --nproc-per-node N`
would), each with one thread (OMP_NUM_THREADS=1), so N processes use N cores; one process using all
the machine's cores (OMP_NUM_THREADS = cores) is measured beside them.  Rank 0 reports the median seconds per generator iteration over the warm
iterations (the first two dropped) and the cost of the per-iteration stop flag (one integer
all-reduced).  Sequences per second = global batch * critic_iters / (seconds per generator
iteration); efficiency = (throughput / N) / throughput of one single-threaded process, i.e. per
rank against one rank with the same resources.  Rounds alternate the configurations, so each sees
the same machine load.  Appends its JSON to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import CORPUS_HELP, DATA_DIR_HELP, ROOT, cpu_model, report  # noqa: E402

BATCH, SEQ_LEN, CRITIC_ITERS = 64, 32, 10


def worker(dim: int, iters: int, corpus: str, data_dir: str | None) -> None:
    """One rank: the Trainer's iterations, timed; rank 0 prints one JSON line."""
    sys.path.insert(0, ROOT)
    import torch

    from textgan import distributed
    from textgan.config import DataConfig, ModelConfig, TrainConfig
    from textgan.data.corpus import load_corpus
    from textgan.lm import TextBatches, corpus_tensor
    from textgan.models.text import build_text_models
    from textgan.train import Trainer, TrainerHooks

    world = distributed.world_from_env()
    distributed.connect(world)
    dev = torch.device("cpu")
    text = load_corpus(DataConfig(corpus=corpus, data_dir=data_dir), SEQ_LEN, progress=False)
    ids, vocab = corpus_tensor(text.ids, dev), len(text.vocab)
    model_cfg = ModelConfig(dim=dim, seq_len=SEQ_LEN, vocab_size=vocab)
    cfg = TrainConfig(iters=iters, critic_iters=CRITIC_ITERS, batch_size=BATCH)
    torch.manual_seed(1)
    gen, critic = build_text_models(model_cfg, conv="winograd")     # what --conv auto runs on CPU
    trainer = Trainer(gen, critic, TextBatches(ids, BATCH, vocab, cfg.seed), cfg, dev, world=world,
                      hooks=TrainerHooks(log=lambda m: None, progress=False))
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        trainer.iteration()
        trainer._agree_on_stop()
        times.append(time.perf_counter() - t)
    n = 200
    world.agree_max(0)
    t = time.perf_counter()
    for _ in range(n):
        world.agree_max(0)
    flag_us = (time.perf_counter() - t) / n * 1e6
    distributed.disconnect(world)
    if world.is_main:
        sec = statistics.median(times[2:])
        print(json.dumps({"sec_per_gen_iter": sec, "sequences_per_s": BATCH * CRITIC_ITERS / sec,
                          "stop_flag_us": flag_us, "vocab": vocab,
                          "threads_per_rank": torch.get_num_threads()}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_world(size: int, dim: int, iters: int, threads: int, data: list[str]) -> dict:
    port = free_port()
    procs = []
    for rank in range(size):
        env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": str(size), "LOCAL_RANK": str(rank),
               "LOCAL_WORLD_SIZE": str(size), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
               "OMP_NUM_THREADS": str(threads)}
        if size == 1:
            for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
                env.pop(name)
        procs.append(subprocess.Popen([sys.executable, __file__, "--worker", "--dim", str(dim),
                                       "--iters", str(iters), *data], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=1800) for p in procs]
    for p, (_, err) in zip(procs, outs):
        if p.returncode != 0:
            raise SystemExit(f"{size} process(es) failed:\n{err[-2000:]}")
    return json.loads(outs[0][0].strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--iters", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--corpus", default="synthetic", help=CORPUS_HELP)
    ap.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    if args.worker:
        worker(args.dim, args.iters, args.corpus, args.data_dir)
        return
    data = ["--corpus", args.corpus, *(["--data-dir", args.data_dir] if args.data_dir else [])]
    sizes = [int(s) for s in args.ranks.split(",")]
    cores = os.cpu_count() or 1
    configs = {f"{n} process{'es' if n > 1 else ''} x 1 thread": (n, 1) for n in sizes}
    if cores > 1:
        configs[f"1 process x {cores} threads"] = (1, cores)
    rounds = []
    for _ in range(args.rounds):
        rounds.append({name: run_world(n, args.dim, args.iters, t, data) for name, (n, t) in configs.items()})
    per_size = {}
    base = None
    for name, (n, _) in configs.items():
        tput = statistics.median(r[name]["sequences_per_s"] for r in rounds)
        base = base or (tput if n == 1 else None)
        per_size[name] = {"sequences_per_s": round(tput, 2),
                          "efficiency": round(tput / n / base, 3) if base else None,
                          "sec_per_gen_iter": round(statistics.median(r[name]["sec_per_gen_iter"]
                                                                      for r in rounds), 4),
                          "stop_flag_us": round(statistics.median(r[name]["stop_flag_us"] for r in rounds), 1)}
    result = {"what": "data-parallel scaling, CPU processes with Gloo on loopback (no GPU lent: no GPU figures)",
              "settings": {"dim": args.dim, "global_batch": BATCH, "seq_len": SEQ_LEN,
                           "critic_iters": CRITIC_ITERS, "iters_per_run": args.iters, "conv": "winograd",
                           "corpus": os.path.basename(args.corpus)},
              "machine": {"cpu": cpu_model(), "cores": cores, "load_avg_1min": round(os.getloadavg()[0], 2)},
              "rounds": [{n: round(r[n]["sequences_per_s"], 2) for n in r} for r in rounds],
              "by_configuration": per_size}
    report("scaling.py", result, args.no_record)


if __name__ == "__main__":
    main()
