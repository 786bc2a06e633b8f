"""bench/gan_vs_mle.py tiny, end to end on a small made-up corpus, and its pieces: the CPU budget
leaves the run's evaluations out, the verdicts judge each metric its own way, bad input is one line."""
import importlib.util
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "gan_vs_mle.py"
TEMPERATURES = ["T0.5", "T0.7", "T1", "T1.3"]


def bench_module():
    spec = importlib.util.spec_from_file_location("gan_vs_mle", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def corpus(tmp_path):
    rng = random.Random(0)
    words = "the a news said year market people government new would time first two last".split()
    path = tmp_path / "corpus.txt"
    path.write_text("".join(" ".join(rng.choice(words) for _ in range(rng.randint(3, 7))) + "\n"
                            for _ in range(400)), encoding="utf-8")
    return path


def run_bench(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_tiny_comparison_gives_both_arms_every_decode_and_a_figure(corpus, tmp_path):
    results = (ROOT / "bench" / "RESULTS.md").read_bytes()
    figure = tmp_path / "fig.png"
    proc = run_bench(corpus, "--minutes", "0.05", "--seeds", "1", "--samples", "64", "--eval-every", "20",
                     "--runs", tmp_path / "runs", "--figure", figure, "--no-record")
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    summary = got["summary"]
    assert set(summary) == {"gan", "mle"}
    # the GAN is also judged by its argmax default; maximum likelihood only by sampling
    assert list(summary["gan"]["decodes"]) == ["argmax"] + TEMPERATURES
    assert list(summary["mle"]["decodes"]) == TEMPERATURES
    for arm in summary.values():
        for scores in arm["decodes"].values():
            assert all(0 <= scores[f"js{n}"]["mean"] <= 1 for n in range(1, 5))
            assert scores["js4"]["n"] == 1 and scores["js4"]["sd"] == 0.0
    for run in got["runs"]:
        # trained up to the budget (3 CPU-s), checked every 20 iterations: not far past it
        assert 3.0 <= run["train_cpu_s"] < 30 and run["steps"] >= 20 and run["steps"] % 20 == 1
    assert 0 <= got["floor"]["js4"] <= 1 and got["heldout_lines"] > 0
    assert set(got["verdicts"]) == {"js1", "js2", "js3", "js4", "bleu4", "self_bleu4", "distinct4"}
    assert got["js4_ratio_to_mle"]["gan"] > 0
    assert "| gan (n=1) | argmax |" in proc.stdout and "| real floor |" in proc.stdout
    assert figure.stat().st_size > 10_000
    assert (ROOT / "bench" / "RESULTS.md").read_bytes() == results          # --no-record
    # --from-runs reports the same runs again without training
    again = run_bench(corpus, "--seeds", "1", "--runs", tmp_path / "runs", "--figure", tmp_path / "again.png",
                      "--from-runs", "--no-record")
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout.strip().splitlines()[-1])["summary"] == summary
    missing = run_bench(corpus, "--seeds", "2", "--runs", tmp_path / "runs", "--from-runs", "--no-record")
    assert missing.returncode == 2 and "no finished run gan seed 2" in missing.stderr
    # a run whose scoring was lost is scored again from its checkpoint, to the same scores
    (tmp_path / "runs" / "mle-seed1" / "bench_result.json").unlink()
    lost = run_bench(corpus, "--seeds", "1", "--runs", tmp_path / "runs", "--from-runs", "--no-record")
    assert lost.returncode == 2 and "no finished run mle seed 1" in lost.stderr
    rescored = run_bench(corpus, "--seeds", "1", "--samples", "64", "--runs", tmp_path / "runs", "--from-runs",
                         "--score-unscored", "--figure", tmp_path / "re.png", "--no-record")
    assert rescored.returncode == 0, rescored.stderr[-3000:]
    again = json.loads(rescored.stdout.strip().splitlines()[-1])
    assert again["summary"]["mle"]["decodes"] == summary["mle"]["decodes"]
    assert [(r["arm"], r["train_cpu_s"], r["scored_later"]) for r in again["runs"]] == \
        [("gan", got["runs"][0]["train_cpu_s"], None), ("mle", None, True)]


@pytest.mark.parametrize("with_corpus, args, message", [
    (False, ["missing.txt"], "no corpus file at missing.txt"),
    (False, [], "give the corpus as a file or as --corpus NAME"),
    (True, ["--seeds", "1,x"], "--seeds must be a comma-separated list of numbers"),
    (True, ["--minutes", "0"], "--minutes, --jobs, --eval-every must be positive"),
    (True, ["--gan-variant", "mle:lr=1"], "--gan-variant must be NAME:FIELD=VALUE"),
])
def test_bad_input_is_one_line_and_status_2(tmp_path, corpus, with_corpus, args, message):
    proc = run_bench(*([corpus] if with_corpus else []), *args, "--no-record", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr and "Traceback" not in proc.stderr


def test_cpu_budget_leaves_the_evaluations_out():
    gan_vs_mle = bench_module()
    budget = gan_vs_mle.CpuBudget(1.0)

    def busy(seconds):
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass

    evaluate = budget.timed(lambda generator, step: busy(0.3) or {"js4": 0.5})
    budget.setup_message("corpus: ...")
    busy(0.1)
    assert evaluate(None, 1) == {"js4": 0.5}
    used = budget.measure()
    assert 0.09 <= used < 0.25 and budget.excluded >= 0.3


def test_verdicts_judge_each_metric_its_own_way():
    gan_vs_mle = bench_module()

    def arm(decode, **metrics):
        return {"decodes": {decode: {m: {"mean": v} for m, v in metrics.items()}}}

    values = dict(js1=0.1, js2=0.1, js3=0.1)
    summary = {"gan": arm("argmax", js4=0.3, bleu4=20.0, self_bleu4=30.0, distinct4=0.5, **values),
               "mle": arm("T1", js4=0.2, bleu4=10.0, self_bleu4=50.0, distinct4=0.5, **values)}
    floor = {"self_bleu4": 45.0, "distinct4": 0.6}
    v = gan_vs_mle.verdicts(summary, floor)
    assert v["js4"]["default"]["better"] == "mle"            # lower JS
    assert v["bleu4"]["default"]["better"] == "gan"          # higher BLEU
    assert v["self_bleu4"]["default"]["better"] == "mle"     # closer to the real 45
    assert v["distinct4"]["default"]["better"] == "tie"
    assert gan_vs_mle.js4_ratios(summary) == {"gan": 1.5}


def test_records_name_no_absolute_path(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import record
    finally:
        sys.path.remove(str(ROOT / "bench"))
    results = tmp_path / "RESULTS.md"
    monkeypatch.setattr(record, "RESULTS", str(results))
    corpus_file, runs = tmp_path / "data" / "emnlp_news" / "test_emnlp.txt", tmp_path / "x" / "real"
    corpus_file.parent.mkdir(parents=True)
    corpus_file.write_text("a line\n")
    runs.mkdir(parents=True)
    args = [str(corpus_file), "--runs", f"{runs}/", "--arms", "", "--gan-variant", "g:gumbel_tau=0.5"]
    record.record("gan_vs_mle.py", '{"a": 1}', preface="| t |", args=args)
    assert results.read_text(encoding="utf-8") == (
        "\n## `python bench/gan_vs_mle.py PATH --runs DIR --arms '' "
        "--gan-variant g:gumbel_tau=0.5`\n\n| t |\n\n```json\n{\"a\": 1}\n```\n")
