"""Progress in a log file: a plain line every few percent (rate, time left, the headline metric),
never a carriage-return update per step."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from textgan.progress import PLAIN_EVERY_PERCENT, PlainProgress

ROOT = Path(__file__).resolve().parents[1]


def test_plain_progress_writes_a_line_every_few_percent():
    lines = []
    bar = PlainProgress(total=400, initial=100, write=lines.append)
    bar.set_postfix(js4="0.512")
    for _ in range(300):
        bar.update()
    assert len(lines) == (400 - 100) // (400 * PLAIN_EVERY_PERCENT // 100)
    assert lines[-1].startswith("train 400/400 (100%)")
    assert all(re.search(r"[\d.]+ it/s, ETA [\d:?]+, js4 0.512$", line) for line in lines)


def test_a_redirected_training_log_has_no_carriage_returns(tmp_path):
    log = tmp_path / "train.log"
    with open(log, "wb") as f:
        proc = subprocess.run([sys.executable, str(ROOT / "cli.py"), "train-lm", "--corpus", "synthetic",
                               "--preset", "small", "--iters", "200", "--eval-every", "100", "--dim", "16",
                               "--out", str(tmp_path / "run"), "--device", "cpu"],
                              stdout=f, stderr=subprocess.STDOUT, cwd=tmp_path, timeout=300)
    text = log.read_bytes().decode("utf-8")
    assert proc.returncode == 0, text[-2000:]
    assert "\r" not in text
    progress = [line for line in text.splitlines() if re.match(r"train \d+/200 \(\d+%\)", line)]
    assert 100 // PLAIN_EVERY_PERCENT - 1 <= len(progress) <= 100 // PLAIN_EVERY_PERCENT
    assert progress[-1].startswith("train 200/200 (100%)")
    assert all("it/s" in line and "ETA" in line for line in progress)
    assert "js4" in progress[-1]             # the modality's headline, once it has been measured
