"""Experiment trackers (`--logger tensorboard|wandb|mlflow`): the run's metrics, samples and config
sent to TensorBoard, Weights & Biases or MLflow beside metrics.jsonl.

Each tracker writes into (or remembers its run id in) the run directory, so `--resume` appends to
the same tracker run.  The packages are optional extras, imported only when a tracker is asked for.
"""
from __future__ import annotations

import importlib
import os
import secrets
import time
from pathlib import Path
from typing import Any, Iterable

from textgan.errors import ConfigError
from textgan.modality import Modality, StepSample
from textgan.train import Callback

TENSORBOARD_DIR = "tensorboard"
WANDB_ID_FILE = "wandb_id.txt"
MLFLOW_ID_FILE = "mlflow_run_id.txt"
MLFLOW_DB = "mlflow.db"
MLFLOW_ARTIFACTS = "mlflow-artifacts"
EXPERIMENT = "textgan"


def _require(module: str, extra: str):
    """The tracker's package, or a one-line error naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"--logger {extra} needs the {extra} package: "
                          f'pip install "textgan[{extra}]"') from None


def flat_config(config: dict, prefix: str = "") -> dict[str, Any]:
    """config.json's nested sections as one level of dotted keys ("train.lr": 0.0001)."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flat_config(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value if isinstance(value, (int, float, str, bool)) else str(value)
    return flat


def scalars(record: dict) -> dict[str, float]:
    """Every logged number of a metrics record (the step is the x axis, not a scalar)."""
    return {k: float(v) for k, v in record.items()
            if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool)}


class Tracker:
    """One experiment tracker's run, opened for a run directory at a step."""

    def log_scalars(self, step: int, values: dict[str, float]) -> None: ...

    def log_sample(self, step: int, sample: StepSample) -> None: ...

    def close(self, failed: bool = False) -> None: ...


class TensorBoardTracker(Tracker):
    """Event files in RUN_DIR/tensorboard.  A resume purges the events logged after the checkpoint it
    resumes from (purge_step = that step + 1: the checkpoint's own record stays)."""

    def __init__(self, run_dir: Path, config: dict, step: int, resume: bool):
        _require("tensorboard", "tensorboard")
        from torch.utils.tensorboard import SummaryWriter
        from torch.utils.tensorboard.summary import hparams
        self.writer = SummaryWriter(log_dir=str(run_dir / TENSORBOARD_DIR),
                                    purge_step=step + 1 if resume else None)
        if not resume:
            for summary in hparams(flat_config(config), {}):
                self.writer.file_writer.add_summary(summary)

    def log_scalars(self, step, values):
        for key, value in values.items():
            self.writer.add_scalar(key, value, step)

    def log_sample(self, step, sample):
        if sample.text is not None:
            # Markdown: four leading spaces keep each line verbatim (padding, spaces)
            self.writer.add_text(sample.tag, "\n".join("    " + line for line in sample.text), step)
        if sample.image is not None:
            import numpy as np
            from PIL import Image
            with Image.open(sample.image) as image:
                pixels = np.asarray(image.convert("RGB"))
            self.writer.add_image(sample.tag, pixels, step, dataformats="HWC")

    def close(self, failed=False):
        self.writer.close()


class WandbTracker(Tracker):
    """A W&B run under RUN_DIR/wandb whose id is kept in RUN_DIR/wandb_id.txt (resume="allow");
    WANDB_MODE=offline works without a server."""

    def __init__(self, run_dir: Path, config: dict, step: int, resume: bool):
        self.wandb = wandb = _require("wandb", "wandb")
        id_file = run_dir / WANDB_ID_FILE
        run_id = id_file.read_text().strip() if id_file.is_file() else secrets.token_hex(4)
        id_file.write_text(run_id + "\n")
        self.run = wandb.init(project=os.environ.get("WANDB_PROJECT") or EXPERIMENT, id=run_id,
                              resume="allow", dir=str(run_dir), name=run_dir.name, config=config)

    def log_scalars(self, step, values):
        self.run.log(values, step=step)

    def log_sample(self, step, sample):
        if sample.text is not None:
            table = self.wandb.Table(columns=["sample"], data=[[line] for line in sample.text])
            self.run.log({sample.tag: table}, step=step)
        if sample.image is not None:
            self.run.log({sample.tag: self.wandb.Image(str(sample.image))}, step=step)

    def close(self, failed=False):
        self.run.finish(exit_code=1 if failed else 0)


class MlflowTracker(Tracker):
    """An MLflow run whose id is kept in RUN_DIR/mlflow_run_id.txt.  The default store is SQLite
    (RUN_DIR/mlflow.db, artifacts in RUN_DIR/mlflow-artifacts); `uri` names another (a server)."""

    def __init__(self, run_dir: Path, config: dict, step: int, resume: bool, uri: str | None = None):
        _require("mlflow", "mlflow")
        from mlflow.entities import Param
        from mlflow.tracking import MlflowClient
        local = uri is None
        uri = uri or f"sqlite:///{(run_dir / MLFLOW_DB).resolve()}"
        self.client = client = MlflowClient(tracking_uri=uri)
        id_file = run_dir / MLFLOW_ID_FILE
        if id_file.is_file():
            self.run_id = id_file.read_text().strip()
            client.update_run(self.run_id, status="RUNNING")
            logged = client.get_run(self.run_id).data.params
        else:
            experiment = client.get_experiment_by_name(EXPERIMENT)
            experiment_id = experiment.experiment_id if experiment else client.create_experiment(
                EXPERIMENT, artifact_location=(run_dir / MLFLOW_ARTIFACTS).resolve().as_uri() if local else None)
            self.run_id = client.create_run(experiment_id, run_name=run_dir.name).info.run_id
            id_file.write_text(self.run_id + "\n")
            logged = {}
        # MLflow params are immutable: log those not yet logged; a value changed on resume (e.g.
        # train.iters) is recorded as a tag at the resumed step
        params = {k: str(v)[:6000] for k, v in flat_config(config).items()}
        new = [Param(k, v) for k, v in params.items() if k not in logged]
        for start in range(0, len(new), 100):
            client.log_batch(self.run_id, params=new[start:start + 100])
        for k, v in params.items():
            if k in logged and logged[k] != v:
                client.set_tag(self.run_id, f"{k} at step {step}", v)

    def log_scalars(self, step, values):
        from mlflow.entities import Metric
        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(k, v, now, step) for k, v in values.items()])

    def log_sample(self, step, sample):
        if sample.text is not None:
            self.client.log_text(self.run_id, "".join(line + "\n" for line in sample.text),
                                 f"samples/{sample.tag}_{step:08d}.txt")
        if sample.image is not None:
            self.client.log_artifact(self.run_id, str(sample.image), "samples")

    def close(self, failed=False):
        self.client.set_terminated(self.run_id, status="FAILED" if failed else "FINISHED")


TRACKERS = {"tensorboard": TensorBoardTracker, "wandb": WandbTracker, "mlflow": MlflowTracker}
PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow"}


def check_loggers(names: Iterable[str] | str | None) -> list[str]:
    """The requested tracker names, checked: known, and their package importable (before any
    training starts)."""
    if names is None:
        return []
    names = [names] if isinstance(names, str) else list(names)
    for name in names:
        if name not in TRACKERS:
            raise ConfigError(f"unknown logger {name!r}; use {', '.join(TRACKERS)}")
        _require(PACKAGES[name], name)
    return list(dict.fromkeys(names))


def open_trackers(names: list[str], run_dir: Path, config: dict, step: int, resume: bool,
                  mlflow_uri: str | None = None) -> list[Tracker]:
    """Open every requested tracker; the ones already open are closed if a later one fails."""
    opened: list[Tracker] = []
    try:
        for name in names:
            extra = {"uri": mlflow_uri} if name == "mlflow" else {}
            opened.append(TRACKERS[name](run_dir, config, step, resume, **extra))
    except BaseException:
        close_all(opened, failed=True)
        raise
    return opened


def close_all(trackers: list[Tracker], failed: bool = False) -> None:
    for tracker in trackers:
        tracker.close(failed=failed)
    trackers.clear()                 # closing twice (on_fit_end, then the lifecycle's finally) is a no-op


class TrackerCallback(Callback):
    """Sends each logged record (numbers as scalars at its step) and the samples the modality wrote
    at that step to every tracker; closes them when `fit` ends."""

    def __init__(self, trackers: list[Tracker], modality: Modality, run_dir: Path):
        self.trackers, self.modality, self.run_dir = trackers, modality, run_dir

    def on_log(self, trainer, record):
        step = int(record.get("step", trainer.step))
        values = scalars(record)
        samples = self.modality.step_samples(self.run_dir, step)
        for tracker in self.trackers:
            tracker.log_scalars(step, values)
            for sample in samples:
                tracker.log_sample(step, sample)

    def on_fit_end(self, trainer, record):
        close_all(self.trackers)
