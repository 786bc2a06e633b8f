"""bench/gpu_check.py end to end in its dry run: every part on the CPU at tiny sizes, one JSON
object as the last line of stdout, appended to the results file it is given."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = ["environment", "cuda_tests", "syncs", "lm_paper", "image_cifar", "inception", "first_command",
         "mnist_small"]


def test_dry_run_runs_every_part_and_records(tmp_path):
    results = tmp_path / "RESULTS.md"
    proc = subprocess.run([sys.executable, "bench/gpu_check.py", "--dry-run", "--results", str(results)],
                          cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert list(got) == PARTS + ["total_s"]
    assert not [k for k in PARTS if "error" in got[k]], {k: got[k].get("error") for k in PARTS}
    assert got["environment"]["dry_run"] and got["environment"]["gpu"] is None
    tests = got["cuda_tests"]
    assert tests["failed"] == tests["passed"] == 0 and tests["skipped"] >= 8      # collected, skipped on CPU
    syncs = got["syncs"]
    assert "no CUDA" in syncs["reason"]
    assert all(syncs[k] == {"iterations": 1, "syncs": None} for k in ("text_paper", "cifar_resnet", "8gaussians"))
    lm = got["lm_paper"]
    for mode in ("fp32_tf32", "bf16", "compile"):
        assert lm[mode]["sec_per_iter"] > 0 and lm[mode]["finite"] and lm[mode]["eta_200k_hours"] > 0
    assert lm["checkpoint"]["save_s"] >= 0 and lm["checkpoint"]["mib"] > 0
    assert "skipped" in lm["baseline"] or lm["ratio_to_baseline"] > 0
    assert got["image_cifar"]["faster"] in ("default_layout", "channels_last")
    assert got["inception"]["seconds_for_50000"] > 0
    first = got["first_command"]
    assert first["step"] == 4 and 0 <= first["eval_lm"]["js4"]["samples"] <= 1
    mnist = got["mnist_small"]
    assert mnist["step"] >= 1 and 1 <= mnist["classifier_score"]["value"] <= 10
    text = results.read_text(encoding="utf-8")
    assert text.startswith("\n## `python bench/gpu_check.py --dry-run --results FILE` (")     # no paths
    assert json.loads(text.split("```json\n", 1)[1].split("\n```", 1)[0]) == got
