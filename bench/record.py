"""Helpers shared by the benchmark scripts: run one side in its own process and read its JSON line;
print a run's result and append it to bench/RESULTS.md under the command that produced it."""
import json
import os
import shlex
import subprocess
import sys

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")


def shown_args(args: list[str]) -> list[str]:
    """Arguments as a record shows them: an absolute path keeps only its last two parts
    (`.../emnlp_news/test_emnlp.txt`), so that no machine's layout is written into the results."""
    return [".../" + "/".join(a.rstrip("/").split("/")[-2:]) if os.path.isabs(a) else a for a in args]


def record(script: str, text: str, preface: str = "", args: list[str] | None = None) -> None:
    """`script` is the bench file's name (e.g. "train_speed.py"); its arguments come from sys.argv
    unless `args` are given.  `preface`: Markdown (e.g. a table) written under the heading, before
    the JSON."""
    cmd = shlex.join(["python", f"bench/{script}"] + (sys.argv[1:] if args is None else args))
    preface = f"{preface}\n\n" if preface else ""
    with open(RESULTS, "a", encoding="utf-8") as f:
        f.write(f"\n## `{cmd}`\n\n{preface}```json\n{text}\n```\n")


def report(script: str, result: dict, no_record: bool) -> None:
    """Print `result` as indented JSON and, unless `no_record`, append it to RESULTS.md."""
    text = json.dumps(result, indent=1)
    print(text)
    if not no_record:
        record(script, text)


def run_json(cmd: list[str], what: str, **kwargs) -> dict:
    """Run `cmd` (subprocess.run keyword arguments allowed) and return the JSON of its last stdout
    line; exit with `what` and the end of its stderr if it fails."""
    out = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if out.returncode != 0:
        raise SystemExit(f"{what} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
