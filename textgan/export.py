"""A shareable model folder: the sampling generator of a run, without its critic or optimisers.

    MODEL_DIR/
      model.safetensors   the sampling generator's weights (the weight average when the run kept one)
      config.json         {"textgan_version", "kind", "step", "config": the run's config}
      <key>.json          what the modality needs besides the weights (text: vocab.json; images: image.json)
      README.md           a model card: data, preset, steps, final metrics beside the real-data floor

The layout of a Hugging Face model repository (weights, config.json, tokenizer files, README.md with a
YAML header), so `--push-to-hub` uploads it as it is.  Reading it needs safetensors and JSON only:
nothing is unpickled.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from textgan.errors import CheckpointError, ConfigError, read_json

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
CARD = "README.md"


def is_model_folder(path: str | Path | None) -> bool:
    return path is not None and (Path(path) / WEIGHTS).is_file()


def _safetensors():
    try:
        from safetensors.torch import load_file, save_file
    except ImportError:
        raise ConfigError("model folders need safetensors: pip install safetensors") from None
    return load_file, save_file


def export_run(run_dir: str | Path, out: str | Path, *, checkpoint: str | Path | None = None,
               force: bool = False, warn=None) -> Path:
    """Write the model folder of a run (its newest good checkpoint, or `checkpoint`) to `out`."""
    from textgan import __version__
    from textgan.checkpoint import find_checkpoint
    from textgan.modality import get, sampling_weights

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise ConfigError(f"{out} exists and is not an empty directory (--force replaces its files)")
    state, path = find_checkpoint(run_dir, checkpoint, map_location="cpu", warn=warn)
    config = state.get("config")
    if not isinstance(config, dict):
        raise CheckpointError(f"checkpoint {path} holds no run config")
    modality = get(config.get("kind", "lm"))
    model = modality.load(state, path, torch.device("cpu"))      # checks that the weights fit the config
    _, save_file = _safetensors()
    out.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().contiguous().clone() for k, v in sampling_weights(state).items()}
    save_file(weights, str(out / WEIGHTS), metadata={"format": "pt", "textgan": __version__})
    _write_json(out / CONFIG, {"textgan_version": __version__, "kind": modality.kind, "step": model.step,
                               "config": config})
    for key in modality.state_keys:
        _write_json(out / f"{key}.json", state[key])
    (out / CARD).write_text(model_card(run_dir, modality, model, config), encoding="utf-8")
    return out


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")


def _read_json(path: Path):
    return read_json(path, error=CheckpointError, missing=f"model folder {path.parent} has no {path.name}")


def load_folder(path: str | Path, device: torch.device):
    """The model of a folder written by `export_run` (safetensors and JSON; no pickle)."""
    from textgan.modality import get
    path = Path(path)
    meta = _read_json(path / CONFIG)
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{path / CONFIG} is not a textgan model config")
    modality = get(meta.get("kind", "lm"))
    load_file, _ = _safetensors()
    try:
        weights = load_file(str(path / WEIGHTS))
    except Exception as e:        # safetensors raises its own error types for a damaged file
        raise CheckpointError(f"cannot read {path / WEIGHTS}: {e}") from None
    state = {"config": meta["config"], "step": int(meta.get("step", 0)), "generator": weights,
             **{key: _read_json(path / f"{key}.json") for key in modality.state_keys}}
    return modality.load(state, path, device)


# ----------------------------------------------------------------------- model card

def _final_metrics(run_dir: Path, modality) -> tuple[dict, dict]:
    """The last logged values of the modality's summary metrics, and the real-data floor."""
    last: dict = {}
    metrics = run_dir / "metrics.jsonl"
    if metrics.is_file():
        for line in metrics.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict):
                last.update({k: v for k, v in rec.items() if isinstance(v, (int, float))})
    floor = {}
    if (run_dir / "floor.json").is_file():
        try:
            floor = json.loads((run_dir / "floor.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            floor = {}
    keys = [k for k in modality.summary_keys if k in last] or [k for k in last if k not in ("step", "time")]
    return {k: last[k] for k in keys}, {k: floor[k] for k in keys if isinstance(floor.get(k), (int, float))}


def model_card(run_dir: str | Path, modality, model, config: dict) -> str:
    run_dir = Path(run_dir) if run_dir is not None else None
    data = config.get("data", {})
    source = data.get(modality.data_field) or data.get("corpus") or data.get("dataset") or "?"
    objective = config.get("train", {}).get("objective", "wgan-gp")
    preset = config.get("preset", "?")
    final, floor = _final_metrics(run_dir, modality) if run_dir is not None else ({}, {})
    rows = [f"| {k} | {v:.4g} | {floor[k]:.4g} |" if k in floor else f"| {k} | {v:.4g} | - |"
            for k, v in final.items()]
    direction = {k: modality.better(k) for k in final}
    command = f"textgan {modality.train_command} --{modality.data_field} {source} --preset {preset}"
    lines = ["---", "library_name: textgan", "tags:", "- textgan", f"- {objective}",
             f"- {'text-generation' if modality.kind == 'lm' else 'image-generation'}", "---", "",
             f"# textgan {modality.kind} generator ({objective})", "",
             f"The sampling generator of a textgan run (the weight average when the run kept one), at "
             f"step {model.step:,}; no critic, no optimiser state.", "",
             f"- data: `{source}`", f"- preset: `{preset}`, objective `{objective}`",
             f"- steps: {model.step:,} of {config.get('train', {}).get('iters', '?'):,}"
             if isinstance(config.get("train", {}).get("iters"), int) else f"- steps: {model.step:,}",
             f"- trained with: `{command}` and the settings in config.json", ""]
    if rows:
        lines += ["## Final metrics", "", "| metric | this model | real-data floor |", "| --- | --- | --- |",
                  *rows, "", "Better: " + ", ".join(f"{k} {d}" for k, d in direction.items() if d) + ".", ""]
    lines += ["## Use", "", "```bash", "pip install textgan", "textgan sample --model MODEL_DIR -n 8 --seed 0",
              "```", "", "```python", "import textgan", "model = textgan.load_model(\"MODEL_DIR\")", "```", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------- the Hub

def push_to_hub(folder: str | Path, repo: str, *, private: bool = False, token: str | None = None) -> str:
    """Upload a model folder to the Hugging Face Hub as model repository `repo`; its URL."""
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise ConfigError('--push-to-hub needs huggingface_hub: pip install huggingface_hub') from None
    api = HfApi(token=token)
    try:
        api.create_repo(repo, repo_type="model", private=private, exist_ok=True)
        info = api.upload_folder(folder_path=str(folder), repo_id=repo, repo_type="model",
                                 commit_message="textgan export")
    except Exception as e:       # offline, refused, unauthorised: one line, the folder stays written
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"could not push {folder} to the Hub as {repo} ({type(e).__name__}: {reason}); "
                          f"the folder is written, push it later with `huggingface-cli upload {repo} {folder}`"
                          ) from None
    return str(getattr(info, "commit_url", None) or f"https://huggingface.co/{repo}")
