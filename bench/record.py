"""Helpers shared by the benchmark scripts: run one side in its own process and read its JSON line;
print a run's result and append it to bench/RESULTS.md under the command that produced it; name the
CPU; get a corpus's lines (or a plain text file of them, for bench/baseline.py) from --corpus and
--data-dir."""
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
RESULTS = os.path.join(BENCH, "RESULTS.md")
BASELINE = os.path.join(BENCH, "baseline.py")
# where scripts keep their generated data between runs (a corpus, a fake Billion Word tree)
WORKDIR = os.path.join(tempfile.gettempdir(), "textgan_bench")
CORPUS_HELP = ("the text: a corpus name (synthetic, emnlp-news, ... under --data-dir; see "
               "`python cli.py corpora`) or a PATH (file or directory of .txt files); default: synthetic, "
               "the built-in corpus, so it runs from a bare clone")
DATA_DIR_HELP = "where named corpora live (as train-lm's --data-dir; default $TEXTGAN_DATA_DIR or the cache)"


def shown(args: list[str]) -> list[str]:
    """Command-line arguments as the log shows them: a path outside the repository becomes PATH
    or DIR, so that RESULTS.md names nothing a clone does not have."""
    def one(arg: str) -> str:
        if (os.path.isabs(arg) or os.sep in arg) and os.path.exists(arg):
            inside = os.path.commonpath([ROOT, os.path.abspath(arg)]) == ROOT
            if not inside:
                return "DIR" if os.path.isdir(arg) else "PATH"
        return arg
    return [one(a) for a in args]


def record(script: str, text: str, preface: str = "", args: list[str] | None = None) -> None:
    """`script` is the bench file's name (e.g. "train_speed.py"); its arguments come from sys.argv
    unless `args` are given (paths outside the repository shown as PATH or DIR).  `preface`: Markdown
    (e.g. a table) written under the heading, before the JSON."""
    cmd = shlex.join(["python", f"bench/{script}"] + shown(sys.argv[1:] if args is None else args))
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


def cpu_model() -> str:
    """lscpu's "Model name" (the kernel's /proc/cpuinfo when lscpu is absent)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def figure_path(name: str, no_record: bool) -> str:
    """Where a bench writes a figure (or a folder of them): bench/figures/NAME when it records its
    result, else under the temporary WORKDIR, so that a trial run leaves the recorded figures alone."""
    path = os.path.join(BENCH if not no_record else WORKDIR, "figures", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def machine(threads: int, load_start: tuple[float, ...]) -> dict:
    """Where a quality bench ran: the CPU, its cores, torch's threads and version, the load average
    (1, 5, 15 min) when the bench started and when it ended."""
    import torch
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": threads, "torch": torch.__version__,
            "loadavg_start": [round(v, 2) for v in load_start],
            "loadavg_end": [round(v, 2) for v in os.getloadavg()]}


def corpus_lines(corpus: str, data_dir: str | None = None, max_lines: int = 10_000_000) -> list[str]:
    """Every line textgan reads for `--corpus corpus --data-dir data_dir` (held-out lines included)."""
    sys.path.insert(0, ROOT)
    from textgan.config import make_config
    from textgan.data.corpus import corpus_lines as read
    data = make_config("paper", corpus=corpus, data_dir=data_dir, max_lines=max_lines).data
    return read(data, progress=False)


def corpus_file(corpus: str, data_dir: str | None = None, max_lines: int = 10_000_000) -> str:
    """A UTF-8 text file of the corpus's lines, for the baseline (which reads one file, as the
    original does): `corpus` itself when it is a .txt file, else its lines written under WORKDIR."""
    if corpus.endswith(".txt") and os.path.isfile(corpus):
        return corpus
    text = "".join(line + "\n" for line in corpus_lines(corpus, data_dir, max_lines))
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    path = os.path.join(WORKDIR, f"corpus-{digest}.txt")
    if not os.path.exists(path):
        os.makedirs(WORKDIR, exist_ok=True)
        with open(path + ".part", "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(path + ".part", path)
    return path
