import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from textgan.errors import ConfigError
from textgan.report import PANEL_PX, build_report, read_run, run_labels, write_report


def config(lr, kind="lm"):
    return {"kind": kind, "preset": "small",
            "model": {"dim": 64, "seq_len": 32},
            "data": {"corpus": "synthetic", "tokens": "char"},
            "train": {"lr": lr, "batch_size": 64, "seed": 1}}


def make_run(d: Path, lr, *, truncated=False, image=False, floor=True, samples=True):
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps(config(lr, "image" if image else "lm"), indent=2))
    lines = []
    for i, step in enumerate(range(100, 600, 100)):
        rec = {"step": step, "time": 1.5 * step, "critic_loss": -1.0 / (i + 1), "generator_loss": 0.1 * i,
               "wasserstein": 2.0 - 0.2 * i, "penalty": 0.1, "grad_norm": 1.0 + 0.01 * i}
        if image:
            rec.update({"w1": 0.5 / (i + 1), "modes": 3 + i, "within_3sigma": 0.5 + 0.1 * i})
        else:
            rec.update({"wasserstein_heldout": 2.1 - 0.2 * i, "grammar": 0.1 * i,
                        **{f"js{n}": 0.9 - 0.1 * i + 0.01 * n for n in range(1, 5)}})
        lines.append(json.dumps(rec))
    text = "\n".join(lines) + "\n"
    if truncated:
        text += '{"step": 600, "time": 90'           # a run still writing its next line
    (d / "metrics.jsonl").write_text(text)
    if floor and not image:
        (d / "floor.json").write_text(json.dumps({"heldout_lines": 640, "js1": 0.001, "js2": 0.01,
                                                  "js3": 0.03, "js4": 0.07}))
    if samples:
        s = d / "samples"
        s.mkdir()
        if image:
            for step in (100, 500):
                Image.fromarray(np.full((20, 30, 3), step // 4, np.uint8)).save(s / f"samples_{step:08d}.png")
        else:
            (s / "samples_00000100.txt").write_text("old sample\n")
            body = [f"line {k} <b>&</b>" for k in range(40)]
            (s / "samples_00000500.txt").write_text("\n".join(body) + "\n")
    return d


@pytest.fixture
def two_runs(tmp_path):
    a = make_run(tmp_path / "run_a", 0.001)
    b = make_run(tmp_path / "run_b", 0.0001, truncated=True, samples=False)
    return a, b


def linked_files(index: Path) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', index.read_text())


def test_report_of_two_text_runs(tmp_path, two_runs):
    out = tmp_path / "report"
    rep = build_report(two_runs, out)
    assert rep.index == out / "index.html" and rep.index.is_file()
    assert rep.differing_keys == ["train.lr"]
    assert rep.labels == ["lr=0.001", "lr=0.0001"]
    groups = {"js": 4, "grammar": 1, "wasserstein": 2, "losses": 2, "penalty": 1, "grad_norm": 1}
    want = {f"{g}_by_{x}.png": n for g, n in groups.items() for x in ("step", "time")}
    assert sorted(p.name for p in rep.plots) == sorted(want)
    for name, panels in want.items():
        p = out / name
        assert p.stat().st_size > 1000
        with Image.open(p) as im:
            assert im.format == "PNG" and im.size == (PANEL_PX[0] * panels, PANEL_PX[1])
    # the page links only files that exist inside the report directory
    links = linked_files(rep.index)
    assert links and set(links) == set(want)
    for link in links:
        target = (out / link).resolve()
        assert target.is_file() and out.resolve() in target.parents
    page = rep.index.read_text()
    assert "lr=0.001" in page and "lr=0.0001" in page
    # samples: the last file's first 16 lines, escaped; run b has none
    assert "line 0 &lt;b&gt;&amp;&lt;/b&gt;" in page and "line 15 " in page and "line 16 " not in page
    assert "old sample" not in page and "<b>&</b>" not in page and "no samples yet" in page
    # the truncated last line of run b is skipped and said so
    assert [r["step"] for r in rep.runs[1].records] == [100, 200, 300, 400, 500]
    assert rep.runs[1].skipped_lines == 1 and "1 unreadable line" in page
    # final values beside the floor
    assert rep.runs[0].final("js4") == (500, pytest.approx(0.54))
    assert "0.54" in page and "0.07" in page and "real-data floor" in page


def test_image_runs_copy_the_last_grid_and_plot_image_metrics(tmp_path):
    a = make_run(tmp_path / "toy1", 0.001, image=True)
    b = make_run(tmp_path / "toy2", 0.001, image=True)     # identical configs: labelled by directory
    out = tmp_path / "rep"
    rep = build_report([a, b], out)
    assert rep.labels == ["toy1", "toy2"] and rep.differing_keys == []
    names = {p.name for p in rep.plots}
    assert {"points_by_step.png", "points_by_time.png"} <= names and not any(n.startswith("js") for n in names)
    with Image.open(out / "points_by_step.png") as im:
        assert im.size == (3 * PANEL_PX[0], PANEL_PX[1])
    links = linked_files(rep.index)
    assert "samples/run1_00000500.png" in links and "samples/run2_00000500.png" in links
    for link in links:
        assert (out / link).is_file()
    with Image.open(out / "samples" / "run1_00000500.png") as im:
        assert im.size == (30, 20) and im.getpixel((0, 0)) == (125, 125, 125)


def test_labels_name_every_differing_key():
    c1, c2 = config(1e-3), config(1e-3)
    c2["train"]["seed"] = 2
    c2["model"]["dim"] = 128
    labels, keys = run_labels([c1, c2], ["a", "b"])
    assert keys == ["model.dim", "train.seed"] and labels == ["dim=64, seed=1", "dim=128, seed=2"]
    # the same leaf name in two sections: the dotted path disambiguates; a missing key is "unset"
    c3 = {"g": {"lr": 1}, "d": {"lr": 1}}
    c4 = {"g": {"lr": 2}, "d": {"lr": 3}, "extra": True}
    labels, keys = run_labels([c3, c4], ["x", "y"])
    assert labels == ["d.lr=1, extra=unset, g.lr=1", "d.lr=3, extra=true, g.lr=2"]
    assert run_labels([c1], ["only"])[0] == ["only"]


def test_bad_run_directories(tmp_path, two_runs):
    with pytest.raises(ConfigError, match="does not exist"):
        write_report([tmp_path / "nowhere"], tmp_path / "o1")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.json").write_text(json.dumps(config(1e-3)))
    with pytest.raises(ConfigError, match="no metrics.jsonl"):
        write_report([two_runs[0], empty], tmp_path / "o2")
    broken = make_run(tmp_path / "broken", 1e-3, samples=False)
    (broken / "config.json").write_text('{"model": ')
    with pytest.raises(ConfigError) as e:
        read_run(broken)
    assert "config" in str(e.value) and "\n" not in str(e.value)
    (broken / "config.json").unlink()
    with pytest.raises(ConfigError, match="no config.json"):
        read_run(broken)
    with pytest.raises(ConfigError):
        write_report([], tmp_path / "o3")


def test_a_run_that_has_logged_nothing_yet(tmp_path, two_runs):
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "config.json").write_text(json.dumps(config(0.01)))
    (fresh / "metrics.jsonl").write_text("")
    index = write_report([two_runs[0], fresh], tmp_path / "out")
    assert index == tmp_path / "out" / "index.html"
    page = index.read_text()
    assert "lr=0.001" in page and "lr=0.01" in page and "nothing logged yet" in page


def test_report_of_a_real_toy_image_run(tmp_path):
    """Not a hand-written run directory: a two-step toy run through `train_run`, then `report` on it."""
    from textgan.config import make_image_config
    from textgan.image import IMAGES
    from textgan.runs import train_run
    cfg = make_image_config("8gaussians", "small", iters=2, critic_iters=2, batch_size=32, eval_every=2,
                            eval_samples=100, heldout_samples=16, device="cpu", dim=16)
    run = tmp_path / "toy"
    train_run(IMAGES, cfg, run, progress=False, log=lambda line: None)
    out = tmp_path / "rep"
    rep = build_report([run], out)
    names = {p.name for p in rep.plots}
    assert {"points_by_step.png", "wasserstein_by_step.png", "losses_by_time.png"} <= names
    with Image.open(out / "wasserstein_by_step.png") as im:     # training and held-out estimates
        assert im.size == (2 * PANEL_PX[0], PANEL_PX[1])
    links = linked_files(rep.index)
    assert "samples/run1_00000002.png" in links
    for link in links:
        assert (out / link).is_file() and (out / link).stat().st_size > 1000
    with Image.open(out / "samples" / "run1_00000002.png") as im:
        assert im.size == (500, 500)
