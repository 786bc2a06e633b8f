"""Image runs end to end on tiny models: every preset's model family through `runs.train_run`, resume,
the evaluators' pictures, `sample` / `eval-image` on image runs, one-line errors, one penalty."""
import gzip
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import textgan
from textgan.checkpoint import CHECKPOINT_DIR, list_checkpoints, load_checkpoint
from textgan.cli import main
from textgan.config import ImageRunConfig, make_image_config, validate_config
from textgan.presets import layer
from textgan.errors import ConfigError
from textgan.image import IMAGES, save_grid
from textgan.runs import train_run

from test_data_images import cifar_batch, idx_bytes

TINY = dict(iters=2, critic_iters=2, batch_size=8, eval_every=2, eval_samples=20, heldout_samples=16,
            device="cpu", dim=8)


def logs():
    lines = []
    return lines, lines.append


def run(cfg, out, **kw):
    lines, log = logs()
    summary = train_run(IMAGES, cfg, out, progress=False, log=log, **kw)
    return summary, lines


# ------------------------------------------------------------------ data the tests write

@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    d = root / "cifar-10-batches-py"
    d.mkdir()
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        with open(d / name, "wb") as f:
            pickle.dump(cifar_batch(8, i), f, protocol=2)
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("folder")
    rng = np.random.default_rng(1)
    for cls in ("cats", "dogs"):
        (root / cls).mkdir()
        for i in range(12):
            a = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
            Image.fromarray(a).save(root / cls / f"{i}.png")
    return root


# ------------------------------------------------------------------ one step of every family

@pytest.mark.parametrize("name", ["8gaussians", "25gaussians", "swissroll"])
def test_toy_run(tmp_path, name):
    cfg = make_image_config(name, "small", **{**TINY, "dim": 16, "batch_size": 32, "eval_samples": 100})
    summary, lines = run(cfg, tmp_path / "run")
    last = summary["last"]
    assert summary["step"] == 2 and last["w1"] > 0 and np.isfinite(last["wasserstein_heldout"])
    if name != "swissroll":
        assert {"modes", "within_3sigma"} <= set(last)
    floor = json.loads((tmp_path / "run" / "floor.json").read_text())
    assert floor["w1"] < last["w1"]
    png = tmp_path / "run" / "samples" / "samples_00000002.png"
    with Image.open(png) as im:
        assert im.size == (500, 500)
        assert len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0)) > 10     # contours and points, not a blank page
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["kind"] == "image" and saved["model"]["arch"] == "toy"


def test_mnist_run(tmp_path, mnist_dir):
    cfg = make_image_config("mnist", "small", data_dir=str(mnist_dir), **TINY)
    summary, lines = run(cfg, tmp_path / "run")
    last = summary["last"]
    assert 1.0 <= last["classifier_score"] <= 10.0 and last["fd"] >= 0
    assert np.isfinite(last["wasserstein_heldout"]) and np.isfinite(last["wasserstein"])   # Figure 5b's two curves
    floor = json.loads((tmp_path / "run" / "floor.json").read_text())
    assert {"classifier_score", "fd"} <= set(floor)
    with Image.open(tmp_path / "run" / "samples" / "samples_00000002.png") as im:
        assert im.mode == "L" and im.size == (8 * 30 + 2, 8 * 30 + 2)
    assert any("60 training images" in line for line in lines)


def test_cifar_conditional_run(tmp_path, cifar_dir):
    cfg = make_image_config("cifar10", "small", data_dir=str(cifar_dir), conditional=True, **TINY)
    summary, lines = run(cfg, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["model"]["n_classes"] == 10 and saved["model"]["conditional"]
    assert saved["train"]["gen_batch_size"] == 128 and saved["train"]["lr_decay"] == "linear"
    skipped = [line for line in lines if "skipped" in line]
    assert len(skipped) == 1 and "Inception weights" in skipped[0]     # said once, with why
    assert "--inception-weights FILE" in skipped[0]                       # the option a CLI user has
    floor_line = [line for line in lines if line.startswith("real-data floor")]
    assert floor_line and "no sample metrics" in floor_line[0]            # not a line ending in ": "
    with Image.open(tmp_path / "run" / "samples" / "samples_00000002.png") as im:
        assert im.mode == "RGB" and im.size == (6 * 34 + 2, 10 * 34 + 2)   # one row per class


@pytest.mark.parametrize("size,arch", [(32, "cifar-resnet"), (64, "resnet64")])
def test_folder_run(tmp_path, folder, size, arch):
    cfg = make_image_config(str(folder), "small", size=size, **TINY)
    summary, _ = run(cfg, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["model"]["arch"] == arch and saved["model"]["size"] == size
    assert summary["step"] == 2 and np.isfinite(summary["last"]["wasserstein_heldout"])
    with Image.open(tmp_path / "run" / "samples" / "samples_00000002.png") as im:
        assert im.size == (8 * (size + 2) + 2,) * 2 and im.mode == "RGB"
    assert saved["model"]["channels"] == 3


@pytest.fixture(scope="module")
def grey_folder(tmp_path_factory):
    """Grey PNGs as L, 16-bit and equal-channel RGB files (the formats a grey folder arrives in)."""
    root = tmp_path_factory.mktemp("grey")
    rng = np.random.default_rng(3)
    for i in range(24):
        g = rng.integers(0, 256, (36, 36), dtype=np.uint8)
        im = [Image.fromarray(g, "L"), Image.fromarray(g.astype(np.uint16) * 256),
              Image.fromarray(np.repeat(g[..., None], 3, -1), "RGB")][i % 3]
        im.save(root / f"{i:02d}.png")
    return root


def grid_mode(run_dir, step=2):
    with Image.open(Path(run_dir) / "samples" / f"samples_{step:08d}.png") as im:
        return im.mode


def test_grey_folder_trains_and_samples_in_one_channel(tmp_path, grey_folder):
    cfg = make_image_config(str(grey_folder), "small", size=32, **TINY)
    summary, lines = run(cfg, tmp_path / "run")
    assert summary["step"] == 2 and np.isfinite(summary["last"]["wasserstein_heldout"])
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["model"]["channels"] == 1 and grid_mode(tmp_path / "run") == "L"
    assert any("training images (1, 32, 32)" in line for line in lines)
    # without Inception weights: one line names the skipped metrics and how to enable them
    skipped = [line for line in lines if "skipped" in line]
    assert len(skipped) == 1 and "inception_score / fid" in skipped[0] and "--inception-weights FILE" in skipped[0]
    # sample --run: a grey grid, and grey files
    r = invoke(["sample", "--run", str(tmp_path / "run"), "-n", "4", "--out", str(tmp_path / "g.png"), "--seed", "1"])
    assert r.exit_code == 0, r.output
    with Image.open(tmp_path / "g.png") as im:
        assert im.mode == "L" and im.size == (2 * 34 + 2,) * 2
    r = invoke(["sample", "--run", str(tmp_path / "run"), "-n", "2", "--out", str(tmp_path / "many") + "/"])
    assert r.exit_code == 0, r.output
    assert {Image.open(f).mode for f in (tmp_path / "many").glob("*.png")} == {"L"}
    # resume reads the run's channels back (and the folder cache's detected entry)
    summary, _ = run(None, tmp_path / "run", resume=True, overrides={"iters": 4})
    assert summary["step"] == 4 and grid_mode(tmp_path / "run", 4) == "L"


def test_channels_override_wins_over_the_data(tmp_path, grey_folder, folder):
    cfg = make_image_config(str(grey_folder), "small", size=32, channels=3, **TINY)
    run(cfg, tmp_path / "rgb")
    assert grid_mode(tmp_path / "rgb") == "RGB"
    assert json.loads((tmp_path / "rgb" / "config.json").read_text())["model"]["channels"] == 3
    cfg = make_image_config(str(folder), "small", size=32, channels=1, **TINY)   # colour -> luminance
    run(cfg, tmp_path / "grey")
    assert grid_mode(tmp_path / "grey") == "L"
    for dataset, channels, message in ((str(folder), 2, "--channels must be 1 or 3 (0: detect"),
                                       ("mnist", 3, "--channels must be 1 for mnist"),
                                       ("cifar10", 1, "--channels must be 3 for cifar10"),
                                       ("8gaussians", 1, "--channels must be left out for the 2-D toy points")):
        with pytest.raises(ConfigError, match=re.escape(message)) as e:
            validate_config(make_image_config(dataset, "small", channels=channels))
        assert "\n" not in str(e.value)


def test_channels_option_on_the_command_line(tmp_path, folder):
    tiny = ["--iters", "2", "--critic-iters", "2", "--batch-size", "8", "--eval-every", "2", "--dim", "8"]
    r = invoke(["train-image", "--dataset", str(folder), "--preset", "small", "--size", "32", "--channels", "1",
                "--out", str(tmp_path / "run"), "--device", "cpu", *tiny])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model"]["channels"] == 1
    assert grid_mode(tmp_path / "run") == "L"
    r = invoke(["train-image", "--dataset", str(folder), "--channels", "2", "--out", str(tmp_path / "bad")])
    assert r.exit_code == 2 and "--channels" in r.output and not (tmp_path / "bad").exists()


def test_presets_carry_the_papers_settings():
    toy = layer(f"image/toy/paper")["train"]
    assert (toy["gp_weight"], toy["critic_iters"], toy["batch_size"], toy["lr"], toy["beta1"],
            toy["iters"], toy["eval_every"]) == (0.1, 5, 256, 1e-4, 0.5, 100_000, 100)
    mnist = layer(f"image/mnist/paper")["train"]
    assert (mnist["gp_weight"], mnist["batch_size"], mnist["iters"]) == (10.0, 50, 200_000)
    cifar = layer(f"image/cifar10/paper")["train"]
    assert (cifar["lr"], cifar["beta1"], cifar["gen_batch_size"], cifar["lr_decay"]) == (2e-4, 0.0, 128, "linear")
    assert layer(f"image/folder-64/paper")["model"]["critic_norm"] == "layer"
    assert make_image_config("8gaussians", "paper").train.lr_decay == "none"   # gan_toy.py: constant lr
    cfg = make_image_config("8gaussians", "paper", objective="wgan-clip")
    assert cfg.train.optimizer == "rmsprop" and cfg.train.critic_iters == 5
    assert ImageRunConfig.from_dict(cfg.to_dict()) == cfg


def test_toy_small_preset_keeps_the_papers_penalty_and_optimiser():
    """The CPU toy setting (bench/toy_quality.py, bench/RESULTS.md) for every toy data set: the paper's
    lambda, batch and Adam betas; narrower networks, fewer critic steps, a decayed higher rate."""
    for name in ("8gaussians", "25gaussians", "swissroll"):
        cfg = make_image_config(name, "small")
        t = cfg.train
        assert (t.gp_weight, t.batch_size, t.beta1, t.beta2, t.objective) == (0.1, 256, 0.5, 0.9, "wgan-gp")
        assert (cfg.model.dim, t.critic_iters, t.lr, t.lr_decay, t.iters) == (128, 2, 1e-3, "linear", 20_000)
        validate_config(cfg)


# ------------------------------------------------------------------ resume

def _params(run_dir):
    state = load_checkpoint(list_checkpoints(Path(run_dir) / CHECKPOINT_DIR)[-1][1])
    return state["generator"], state["critic"], state["step"]


@pytest.mark.parametrize("dataset", ["8gaussians", "mnist"])
def test_resume_is_bit_identical(tmp_path, mnist_dir, dataset):
    # A run of 2 iterations continued to 4 is the 4-iteration run only with a constant rate (a linear
    # decay is a function of the run's length: see the decayed case below).
    extra = {"data_dir": str(mnist_dir)} if dataset == "mnist" else {"batch_size": 32}
    settings = {**TINY, "iters": 4, "eval_every": 2, "lr_decay": "none", **extra}
    run(make_image_config(dataset, "small", **settings), tmp_path / "full")
    run(make_image_config(dataset, "small", **{**settings, "iters": 2}), tmp_path / "half")
    run(None, tmp_path / "half", resume=True, overrides={"iters": 4})
    g1, d1, s1 = _params(tmp_path / "full")
    g2, d2, s2 = _params(tmp_path / "half")
    assert s1 == s2 == 4
    for a, b in ((g1, g2), (d1, d2)):
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_decayed_toy_run_resumes_bit_identically_from_a_mid_run_checkpoint(tmp_path):
    """The toy small preset decays its rate linearly over --iters: a run stopped half-way (here: its
    last checkpoint removed) and resumed with the same --iters ends where the uninterrupted run did."""
    import shutil
    settings = {**TINY, "iters": 4, "eval_every": 2, "checkpoint_every": 2, "batch_size": 32}
    cfg = make_image_config("8gaussians", "small", **settings)
    assert cfg.train.lr_decay == "linear"
    run(cfg, tmp_path / "full")
    shutil.copytree(tmp_path / "full", tmp_path / "cut")
    ckpts = list_checkpoints(tmp_path / "cut" / CHECKPOINT_DIR)
    assert [step for step, _ in ckpts] == [2, 4]
    ckpts[-1][1].unlink()
    run(None, tmp_path / "cut", resume=True, overrides={})
    g1, d1, s1 = _params(tmp_path / "full")
    g2, d2, s2 = _params(tmp_path / "cut")
    assert s1 == s2 == 4
    for a, b in ((g1, g2), (d1, d2)):
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------ pictures

def test_save_grid_size_and_range(tmp_path):
    x = torch.linspace(-1, 1, 10 * 3 * 4 * 5).view(10, 3, 4, 5)
    save_grid(x, tmp_path / "g.png", nrow=4, value_range=(-1, 1), pad=2)
    with Image.open(tmp_path / "g.png") as im:
        a = np.asarray(im)
    assert a.shape == (3 * (4 + 2) + 2, 4 * (5 + 2) + 2, 3)
    assert a[2:6, 2:7].min() == 0 and a.max() == 255            # -1 -> 0, 1 -> 255
    assert np.asarray(a[:2]).max() == 0                           # the padding is black
    save_grid(torch.full((2, 1, 3, 3), 0.5), tmp_path / "u.png", nrow=2, value_range=(0, 1))
    with Image.open(tmp_path / "u.png") as im:
        assert im.mode == "L" and np.asarray(im)[2, 2] == 128
    with pytest.raises(ValueError):
        save_grid(torch.zeros(2, 2, 3, 3), tmp_path / "bad.png")


# ------------------------------------------------------------------ CLI

def invoke(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def cifar_run(tmp_path_factory, cifar_dir):
    out = tmp_path_factory.mktemp("runs") / "cifar"
    r = invoke(["train-image", "--dataset", "cifar10", "--preset", "small", "--data-dir", str(cifar_dir),
                "--conditional", "--dim", "8", "--iters", "2", "--critic-iters", "1", "--batch-size", "8",
                "--eval-every", "2", "--device", "cpu", "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "samples at step 2:" in r.output and "samples_00000002.png" in r.output
    return out


def test_sample_grid_directory_and_class(tmp_path, cifar_run):
    r = invoke(["sample", "--run", str(cifar_run), "-n", "20", "--out", str(tmp_path / "rows.png"), "--seed", "1"])
    assert r.exit_code == 0, r.output
    with Image.open(tmp_path / "rows.png") as im:
        assert im.size == (2 * 34 + 2, 10 * 34 + 2)                   # one row per class
    r = invoke(["sample", "--run", str(cifar_run), "-n", "5", "--out", str(tmp_path / "many") + "/"])
    assert r.exit_code == 0, r.output
    files = sorted((tmp_path / "many").glob("*.png"))
    assert len(files) == 5 and Image.open(files[0]).size == (32, 32)
    r = invoke(["sample", "--run", str(cifar_run), "-n", "4", "--class", "3", "--out", str(tmp_path / "c.png")])
    assert r.exit_code == 0, r.output
    with Image.open(tmp_path / "c.png") as im:
        assert im.size == (2 * 34 + 2, 2 * 34 + 2)
    r = CliRunner().invoke(main, ["sample", "--run", str(cifar_run), "--class", "10", "--out", str(tmp_path / "x.png")])
    assert r.exit_code == 2 and "--class must be between 0 and 9" in r.output


def test_sample_toy_scatter_and_eval_image_json(tmp_path):
    out = tmp_path / "toy"
    r = invoke(["train-image", "--dataset", "8gaussians", "--preset", "small", "--dim", "16", "--iters", "2",
                "--eval-every", "2", "--device", "cpu", "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    r = invoke(["sample", "--run", str(out), "-n", "200", "--out", str(tmp_path / "s.png")])
    assert r.exit_code == 0 and Image.open(tmp_path / "s.png").size == (500, 500)
    r = invoke(["eval-image", "--run", str(out), "--json"])
    assert r.exit_code == 0, r.output
    result = json.loads(r.output.strip().splitlines()[-1])
    m = result["metrics"]
    assert m["w1"]["better"] == "lower" and m["w1"]["floor"] > 0
    assert m["modes"]["floor"] == 8 and m["within_3sigma"]["better"] == "closer"
    r = invoke(["eval-image", "--run", str(out)])
    assert "real floor" in r.output and "w1" in r.output


def test_eval_image_mnist_floor(tmp_path, mnist_dir):
    out = tmp_path / "m"
    run(make_image_config("mnist", "small", data_dir=str(mnist_dir), **TINY), out)
    r = invoke(["eval-image", "--run", str(out), "--json"])
    assert r.exit_code == 0, r.output
    m = json.loads(r.output.strip().splitlines()[-1])["metrics"]
    assert m["classifier_score"]["floor"] is not None and m["fd"]["better"] == "lower"


def test_mnist_floor_and_samples_share_one_protocol(tmp_path, mnist_dir):
    # 12 held-out digits (72 // 6): the samples are scored as 12 too, not the 20 asked for, since the
    # score's splits bias it by their size; floor.json names the classifier it was measured with
    out = tmp_path / "m"
    _, lines = run(make_image_config("mnist", "small", data_dir=str(mnist_dir), **TINY), out)
    assert any("classifier metrics on 12 samples, not 20" in line for line in lines)
    floor = json.loads((out / "floor.json").read_text())
    assert floor["heldout_examples"] == 12 and floor["classifier"].startswith("mnist_cnn_v2_")

    def floor_seen(stored):
        (out / "floor.json").write_text(json.dumps(stored))
        r = invoke(["eval-image", "--run", str(out), "--json"])
        result = json.loads(r.output.strip().splitlines()[-1])
        assert result["samples"] == 12
        return result["metrics"]["classifier_score"]["floor"]

    assert floor_seen({**floor, "classifier_score": 123.0}) == 123.0          # same protocol: the stored one
    measured = pytest.approx(floor["classifier_score"], abs=1e-6)
    assert floor_seen({**floor, "classifier_score": 123.0, "classifier": "mnist_cnn_v1_0"}) == measured
    assert floor_seen({**floor, "classifier_score": 123.0, "heldout_examples": 1000}) == measured


@pytest.mark.parametrize("args,message", [
    (["--dataset", "nosuchset"], "unknown dataset 'nosuchset'"),
    (["--dataset", "mnist", "--data-dir", "{tmp}/empty"], "MNIST not found under"),
    (["--dataset", "mnist", "--size", "32"], "bad --size 32"),
    (["--dataset", "8gaussians", "--size", "64"], "bad --size 64"),
    (["--dataset", "{tmp}", "--size", "48"], "--size must be 32 or 64"),
    (["--dataset", "mnist", "--conditional"], "--conditional"),
    (["--dataset", "{tmp}", "--conditional"], "add --size 32"),     # a folder's default 64 px has no class head
])
def test_one_line_errors(tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    (tmp_path / "empty").mkdir()
    out = tmp_path / "run"
    r = CliRunner().invoke(main, ["train-image", *args, "--out", str(out), "--quiet", "--device", "cpu"])
    assert r.exit_code == 2, r.output
    assert message in r.output and len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert not out.exists()                                        # nothing left behind


def test_critic_norm_batch_warns_once(tmp_path):
    cfg = make_image_config("8gaussians", "small", critic_norm="batch", **{**TINY, "batch_size": 32})
    _, lines = run(cfg, tmp_path / "run")
    warnings = [line for line in lines if "no longer per sample" in line]
    assert len(warnings) == 1


def test_validation_refuses_bad_values():
    for overrides in ({"dim": 0}, {"iters": -1}, {"critic_norm": "group"}, {"max_examples": -2}):
        with pytest.raises(ConfigError):
            validate_config(make_image_config("8gaussians", "small", **overrides))


# ------------------------------------------------------------------ one penalty for text and images

def test_one_gradient_penalty_for_text_and_images():
    import textgan.penalty
    import textgan.train
    assert textgan.train.penalty_and_norms is textgan.penalty.penalty_and_norms
    # image and text runs both go through train.Trainer, which calls that function; no other module
    # of the package takes a gradient with respect to its inputs for a penalty
    root = Path(textgan.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "penalty.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"autograd\.grad\(|create_graph\s*=\s*True|torch\.func\.(grad|vjp)\b", text):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
    import textgan.image
    from textgan import modality
    assert modality.get("image") is textgan.image.IMAGES


# ------------------------------------------------------------------ one step of every preset, its own networks

@pytest.mark.parametrize("family,dataset,size", [("toy", "8gaussians", None), ("mnist", "mnist", None),
                                                 ("cifar10", "cifar10", None), ("folder-32", "FOLDER", 32),
                                                 ("folder-64", "FOLDER", 64)])
@pytest.mark.parametrize("preset", ["paper", "small"])
def test_one_step_of_every_preset_with_its_networks(tmp_path, family, dataset, size, preset):
    """The preset's own networks (the paper's DIM included) and settings, batch shrunk to 2 and one
    critic step: one Trainer iteration moves both networks and stays finite."""
    from textgan.image import build_image_models_for
    from textgan.train import Trainer, TrainerHooks
    if dataset == "FOLDER":
        dataset = str(tmp_path)
    extra = {"size": size} if size else {}
    if layer(f"image/{family}/{preset}")["train"].get("gen_batch_size"):
        extra["gen_batch_size"] = 4          # the preset's 2x generator batch, shrunk alike
    cfg = make_image_config(dataset, preset, device="cpu", batch_size=2, critic_iters=1, **extra)
    want = layer(f"image/{family}/{preset}")["model"]
    assert (cfg.model.arch, cfg.model.dim) == (want["arch"], want["dim"])
    if cfg.model.arch != "toy":
        cfg.model.channels = 1 if cfg.model.arch == "mnist" else 3
    torch.manual_seed(0)
    g, d = build_image_models_for(cfg)
    shape = (2, 2) if cfg.model.arch == "toy" else (2, cfg.model.channels, cfg.model.size, cfg.model.size)

    class Sampler:
        def next(self):
            return torch.rand(shape) * 2 - 1

        def state_dict(self):
            return {}

        def load_state_dict(self, state):
            pass

    before = [p.detach().clone() for p in (*g.parameters(), *d.parameters())]
    trainer = Trainer(g, d, Sampler(), cfg.train, torch.device("cpu"), hooks=TrainerHooks(log=lambda m: None))
    trainer.iteration()
    after = list((*g.parameters(), *d.parameters()))
    assert trainer.step == 1 and all(torch.isfinite(p).all() for p in after)
    assert any(not torch.equal(a, b) for a, b in zip(before[:len(list(g.parameters()))], after))
    assert any(not torch.equal(a, b) for a, b in zip(before[len(list(g.parameters())):],
                                                      after[len(list(g.parameters())):]))
