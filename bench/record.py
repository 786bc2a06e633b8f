"""Append one benchmark run's JSON output to bench/RESULTS.md under the command that produced it."""
import os
import sys

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")


def record(script: str, text: str) -> None:
    """`script` is the bench file's name (e.g. "train_speed.py"); its arguments come from sys.argv."""
    cmd = " ".join(["python", f"bench/{script}"] + sys.argv[1:])
    with open(RESULTS, "a", encoding="utf-8") as f:
        f.write(f"\n## `{cmd}`\n\n```json\n{text}\n```\n")
