"""Train the WGAN-GP language model on the built-in corpus, then load the run back, sample from it
and evaluate it, all from Python.

    python examples/train_sample_evaluate.py [--iters 300] [--out DIR]

Without --out the run lives in a temporary directory that is removed at the end."""
import argparse
import tempfile
from pathlib import Path

import textgan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--out", help="keep the run in this (new) directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "run"
        textgan.train_lm("synthetic", out=out, preset="small", iters=args.iters, eval_every=100,
                         device="cpu", progress=False)
        run = textgan.load_run(out)
        print(f"{run}: step {run.step}; JS-4 by step:",
              [(r["step"], round(r["js4"], 3)) for r in run.metrics])
        for line in run.sample(5, seed=0):
            print("  ", line)
        result = run.evaluate(n=640)
        print(textgan.format_report(result))


if __name__ == "__main__":
    main()
