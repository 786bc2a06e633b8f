"""--logger tensorboard|wandb|mlflow: records read back with each tool's own reader, resume appends
to the same tracker run, the missing-extra error, and an image (toy) run logging an image."""
import json
import sys

import pytest
from click.testing import CliRunner

from textgan.cli import main

TINY = ["--preset", "small", "--dim", "16", "--critic-iters", "2", "--batch-size", "16",
        "--eval-every", "2", "--device", "cpu", "--seed", "1", "--quiet"]
LOGGERS = ["--logger", "tensorboard", "--logger", "wandb", "--logger", "mlflow"]
WORDS = "the a market price rose fell on monday by percent said".split()


def invoke(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def records(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def resumed_run(tmp_path_factory):
    """A text run to step 4 with all three trackers, then resumed to step 6 (skipped, with the
    tests that read it, where one of the three packages is not installed)."""
    for package in ("tensorboard", "wandb", "mlflow"):
        pytest.importorskip(package)
    import random
    rng = random.Random(0)
    tmp = tmp_path_factory.mktemp("trackers")
    corpus = tmp / "corpus.txt"
    corpus.write_text("".join(" ".join(rng.choice(WORDS) for _ in range(5)) + "\n" for _ in range(300)))
    out = tmp / "run"
    mp = pytest.MonkeyPatch()
    mp.setenv("WANDB_MODE", "offline")
    try:
        first = invoke(["train-lm", "--corpus", str(corpus), "--iters", "4", "--out", str(out), *TINY, *LOGGERS])
        assert first.exit_code == 0, first.output
        ids = {name: (out / name).read_text() for name in ("wandb_id.txt", "mlflow_run_id.txt")}
        second = invoke(["train-lm", "--resume", "--out", str(out), "--iters", "6", "--quiet", *LOGGERS])
        assert second.exit_code == 0, second.output
    finally:
        mp.undo()
    return out, ids


def test_tensorboard_scalars_text_and_hparams(resumed_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    out, _ = resumed_run
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"tensors": 0})
    events.Reload()
    logged = records(out)
    assert [r["step"] for r in logged] == [2, 4, 6]
    for key in ("js4", "wasserstein", "critic_loss"):
        scalars = events.Scalars(key)
        assert [e.step for e in scalars] == [2, 4, 6]          # resume appended, nothing doubled
        assert [e.value for e in scalars] == pytest.approx([r[key] for r in logged], rel=1e-6)
    texts = events.Tensors("samples/text_summary")
    assert [t.step for t in texts] == [2, 4, 6]
    first_line = (out / "samples" / "samples_00000006.txt").read_text().splitlines()[0]
    assert first_line in texts[-1].tensor_proto.string_val[0].decode()
    assert "_hparams_/session_start_info" in events.PluginTagToContent("hparams")


def test_mlflow_metrics_history_and_params(resumed_run):
    from mlflow.tracking import MlflowClient
    out, ids = resumed_run
    run_id = (out / "mlflow_run_id.txt").read_text().strip()
    assert run_id == ids["mlflow_run_id.txt"].strip()           # the resume reused the run
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    history = client.get_metric_history(run_id, "js4")
    assert sorted(m.step for m in history) == [2, 4, 6]
    assert {m.step: m.value for m in history}[6] == pytest.approx(records(out)[-1]["js4"])
    run = client.get_run(run_id)
    assert run.data.params["train.lr"] == str(json.loads((out / "config.json").read_text())["train"]["lr"])
    assert run.data.params["train.iters"] == "4"                # params are not re-logged ...
    assert run.data.tags["train.iters at step 4"] == "6"            # ... a changed one is a tag
    assert run.info.status == "FINISHED"
    artifacts = [a.path for a in client.list_artifacts(run_id, "samples")]
    assert "samples/samples_00000006.txt" in artifacts


def test_wandb_offline_run_holds_the_metrics(resumed_run):
    # wandb 0.31 ships no Python reader of .wandb files; its history records hold each value as
    # JSON text, so every logged js4 must appear verbatim in the run's files (first in the first
    # process's file, the resumed step in the second's)
    out, ids = resumed_run
    run_id = (out / "wandb_id.txt").read_text().strip()
    assert run_id == ids["wandb_id.txt"].strip()
    files = sorted(out.glob(f"wandb/offline-run-*-{run_id}/run-{run_id}.wandb"))
    assert len(files) == 2                                      # one per process, same run id
    first, second = (path.read_bytes() for path in files)
    logged = {r["step"]: repr(r["js4"]).encode() for r in records(out)}
    assert logged[2] in first and logged[4] in first and logged[6] not in first
    assert logged[6] in second and b"js4" in second


def test_missing_package_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)            # import mlflow now raises ImportError
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["train-lm", "--corpus", "synthetic", "--out", str(out), *TINY,
                                       "--logger", "mlflow"])
    assert result.exit_code == 2
    message = result.output.strip().splitlines()
    assert message == ['error: --logger mlflow needs the mlflow package: pip install "textgan[mlflow]"']
    assert not out.exists()                                    # refused before training started


def test_api_takes_one_logger_name(tmp_path, monkeypatch):
    import textgan
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(textgan.TextganError, match=r"textgan\[tensorboard\]"):
        textgan.train_lm("synthetic", out=tmp_path / "run", logger="tensorboard", iters=2)
    with pytest.raises(textgan.TextganError, match="unknown logger"):
        textgan.train_lm("synthetic", out=tmp_path / "run", logger=["neptune"], iters=2)


def test_toy_run_logs_its_scatter_plot_as_an_image(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    out = tmp_path / "toy"
    result = invoke(["train-image", "--dataset", "8gaussians", "--iters", "2", "--dim", "16", "--batch-size", "32",
                     "--critic-iters", "1", "--eval-every", "2", "--device", "cpu", "--quiet", "--out", str(out),
                     "--logger", "tensorboard"])
    assert result.exit_code == 0, result.output
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    images = events.Images("samples")
    assert [i.step for i in images] == [2]
    assert images[0].width > 100 and images[0].encoded_image_string[:4] == b"\x89PNG"
    assert [e.step for e in events.Scalars("w1")] == [2]


class RecordingTracker:
    """Stands in for a tracker: remembers what it was sent and how it was closed."""
    opened = []

    def __init__(self, run_dir, config, step, resume):
        self.steps, self.closed = [], []
        RecordingTracker.opened.append(self)

    def log_scalars(self, step, values):
        self.steps.append(step)

    def log_sample(self, step, sample):
        pass

    def close(self, failed=False):
        self.closed.append(failed)


class StopOrFail:
    """A callback that, at the first log, asks for a SIGTERM stop or raises."""

    def __init__(self, how):
        self.how = how

    def on_log(self, trainer, record):
        import signal
        if self.how == "stop":
            trainer.request_stop(signal.SIGTERM)
        else:
            raise RuntimeError("boom")

    def on_checkpoint(self, trainer, path):
        pass

    def on_fit_end(self, trainer, record):
        pass


@pytest.mark.parametrize("how", ["stop", "fail"])
def test_trackers_are_closed_on_stop_and_on_exception(tmp_path, monkeypatch, how):
    import textgan
    from textgan import trackers
    monkeypatch.setitem(trackers.TRACKERS, "tensorboard", RecordingTracker)
    monkeypatch.setitem(trackers.PACKAGES, "tensorboard", "json")      # any importable package
    RecordingTracker.opened = []
    options = dict(out=tmp_path / "run", preset="small", dim=16, critic_iters=1, batch_size=16, eval_every=1,
                   iters=4, device="cpu", max_lines=200, progress=False, logger="tensorboard",
                   callbacks=[StopOrFail(how)], log=lambda message: None)
    if how == "fail":
        with pytest.raises(RuntimeError, match="boom"):
            textgan.train_lm("synthetic", **options)
    else:
        textgan.train_lm("synthetic", **options)
    [tracker] = RecordingTracker.opened
    assert tracker.closed == [how == "fail"]                # closed once; a failure says so
    if how == "stop":                                        # stopped early, not at iters 4
        assert tracker.steps[0] == 1 and tracker.steps[-1] < 4
    else:
        assert tracker.steps == []                          # the failing callback ran first
