"""An HTML report of one or more run directories: plots, final figures, samples.

``write_report(run_dirs, out_dir)`` reads each run directory (``config.json``,
``metrics.jsonl``, optional ``floor.json`` and ``samples/``) and writes into
``out_dir``:

- ``<group>_by_step.png`` and ``<group>_by_time.png`` for every metric group a
  run logged (n-gram JS divergences, grammar, the image metrics, the
  Wasserstein estimate on training and held-out data, both losses, the penalty,
  the critic's gradient norm, and any other numeric key); one panel per key,
  one line per run, the real-data floor (``floor.json``) dashed in the run's
  colour; each panel is ``PANEL_PX`` pixels;
- ``curve.png``: the quality-diversity curves (BLEU-4 against Self-BLEU-4, JS-4
  against temperature) of the runs with a ``curve.json`` (``eval-lm --temperatures``;
  see textgan/report_curves.py), when any has one;
- ``samples/run<i>_<step>.png``: a copy of each run's last sample grid, if any;
- ``index.html``: the plots, a table of final values beside the real-data
  floor, and each run's last samples (first lines of the last text file, or the
  copied grid).  It links only files written here, by relative paths.

Runs are labelled by what differs between their configs: the configs are
flattened (``train.lr``), the keys whose values differ are listed, and each run
is labelled ``lr=0.001, seed=2`` (the last path component when it is unique
among the differing keys, else the dotted path); with nothing differing, by the
run directory's name.

It only reads the run directories, so it works on a run still training: an
unparsable line in ``metrics.jsonl`` (the half-written last line) is skipped, a
missing ``samples/`` or ``floor.json`` is fine.  A missing directory, a missing
``metrics.jsonl`` or an unreadable ``config.json`` raise `ConfigError`.
"""
from __future__ import annotations

import html
import json
import math
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from textgan.errors import ConfigError, TextganError, read_json
from textgan.report_curves import HOW_TO, STEM as CURVE_STEM, TITLE as CURVE_TITLE, plot_curves, read_curve

PANEL_PX = (400, 320)        # width, height of one panel in pixels
_DPI = 100
SAMPLE_LINES = 16
MAX_PANELS = 4               # per plot file

# (file stem, title, keys, y label).  Keys a run did not log are left out.
GROUPS: list[tuple[str, str, list[str], str]] = [
    ("js", "n-gram Jensen-Shannon divergence", ["js1", "js2", "js3", "js4"], "bits"),
    ("grammar", "grammatical lines", ["grammar"], "share"),
    ("points", "2-D toy metrics", ["w1", "modes", "within_3sigma"], ""),
    ("classifier", "MNIST classifier metrics", ["classifier_score", "fd"], ""),
    ("inception", "Inception metrics", ["inception_score", "fid"], ""),
    ("wasserstein", "Wasserstein estimate (critic)", ["wasserstein", "wasserstein_heldout"], ""),
    ("losses", "losses", ["critic_loss", "generator_loss"], ""),
    ("penalty", "gradient penalty", ["penalty"], ""),
    ("grad_norm", "critic gradient norm at the interpolates", ["grad_norm"], ""),
]
_AXES = {"step": "generator iterations", "time": "training time"}
_NOT_METRICS = {"step", "time"}

_TITLES = {"js1": "JS-1", "js2": "JS-2", "js3": "JS-3", "js4": "JS-4",
           "wasserstein": "training batches", "wasserstein_heldout": "held-out data",
           "critic_loss": "critic loss", "generator_loss": "generator loss",
           "within_3sigma": "share within 3 std", "classifier_score": "classifier score",
           "fd": "Frechet distance (classifier)", "inception_score": "Inception score", "fid": "FID",
           "w1": "W1 to real points", "modes": "modes covered", "grad_norm": "gradient norm"}


@dataclass
class Run:
    """One run directory as read by the report."""
    path: Path
    config: dict
    records: list[dict]                       # metrics.jsonl, sorted by step, one per step
    floor: dict[str, float] = field(default_factory=dict)
    skipped_lines: int = 0                    # unparsable metrics lines (e.g. a half-written last one)
    sample_text: tuple[int, list[str]] | None = None     # (step, first lines) of the last .txt
    sample_image: tuple[int, Path] | None = None         # (step, path) of the last .png
    label: str = ""
    curve: dict | None = None                 # curve.json (eval-lm --temperatures), if any

    @property
    def kind(self) -> str:
        k = self.config.get("kind")
        if k:
            return str(k)
        keys = {key for r in self.records for key in r}
        return "lm" if any(k.startswith("js") for k in keys) else "image" if self.sample_image else "lm"

    def series(self, key: str, x: str = "step") -> tuple[list[float], list[float]]:
        xs, ys = [], []
        for r in self.records:
            v, t = r.get(key), r.get(x)
            if _is_number(v) and _is_number(t):
                xs.append(float(t))
                ys.append(float(v))
        return xs, ys

    def final(self, key: str) -> tuple[int, float] | None:
        """(step, value) of the last finite value of key."""
        for r in reversed(self.records):
            v = r.get(key)
            if _is_number(v) and math.isfinite(v):
                return int(r.get("step", -1)), float(v)
        return None


@dataclass
class Report:
    index: Path
    runs: list[Run]
    labels: list[str]
    differing_keys: list[str]                 # flattened config keys that differ between the runs
    plots: list[Path]                         # every PNG plot written


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ------------------------------------------------------------------ reading

def _read_json(path: Path, what: str) -> Any:
    return read_json(path, error=ConfigError, what=what,
                     missing=f"{path.parent} is not a run directory: no {path.name}")


def _step_of(path: Path) -> int:
    m = re.search(r"(\d+)$", path.stem)
    return int(m.group(1)) if m else -1


def read_run(run_dir: str | Path) -> Run:
    """A run directory's config, metrics, floor and last samples (ConfigError when it is not a run)."""
    d = Path(run_dir)
    if not d.is_dir():
        raise ConfigError(f"run directory {d} does not exist")
    config = _read_json(d / "config.json", "the run config")
    if not isinstance(config, dict):
        raise ConfigError(f"cannot read the run config {d / 'config.json'}: not a JSON object")
    mpath = d / "metrics.jsonl"
    if not mpath.is_file():
        raise ConfigError(f"{d} is not a run directory: no metrics.jsonl")
    by_step: dict[Any, dict] = {}
    skipped = 0
    try:
        text = mpath.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise ConfigError(f"cannot read {mpath}: {e.strerror or e}") from None
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            skipped += 1
            continue
        if not isinstance(rec, dict) or not _is_number(rec.get("step")):
            skipped += 1
            continue
        by_step[rec["step"]] = rec          # a resumed run re-logs steps: the latest record wins
    records = [by_step[s] for s in sorted(by_step)]

    floor: dict[str, float] = {}
    fpath = d / "floor.json"
    if fpath.is_file():
        try:
            raw = json.loads(fpath.read_text(encoding="utf-8"))
            if isinstance(raw, dict):
                floor = {k: float(v) for k, v in raw.items() if _is_number(v)}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            floor = {}                          # optional: an unreadable floor is no floor

    run = Run(path=d, config=config, records=records, floor=floor, skipped_lines=skipped,
              curve=read_curve(d))
    sdir = d / "samples"
    if sdir.is_dir():
        texts = sorted(sdir.glob("samples_*.txt"), key=_step_of)
        if texts:
            try:
                with open(texts[-1], encoding="utf-8", errors="replace") as f:
                    lines = [next(f, None) for _ in range(SAMPLE_LINES)]
                run.sample_text = (_step_of(texts[-1]),
                                   [ln.rstrip("\n") for ln in lines if ln is not None])
            except OSError:
                pass
        images = sorted(sdir.glob("samples_*.png"), key=_step_of)
        if images:
            run.sample_image = (_step_of(images[-1]), images[-1])
    return run


# ------------------------------------------------------------------- labels

def flatten_config(config: dict, prefix: str = "") -> dict[str, Any]:
    """{"train": {"lr": 1e-4}} → {"train.lr": 1e-4}; lists stay values."""
    out: dict[str, Any] = {}
    for k, v in config.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten_config(v, key + "."))
        else:
            out[key] = v
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, str):
        return v
    if v is None or isinstance(v, bool):
        return json.dumps(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    return json.dumps(v, sort_keys=True, default=str)


_MISSING = object()


def run_labels(configs: list[dict], names: list[str]) -> tuple[list[str], list[str]]:
    """(labels, differing flattened keys): each run labelled by `key=value` of the
    config keys whose values differ between the runs; by its name when none do."""
    flat = [flatten_config(c) for c in configs]
    keys = sorted({k for f in flat for k in f})
    differing = [k for k in keys
                 if len({json.dumps(f.get(k, "<unset>"), sort_keys=True, default=str) for f in flat}) > 1]
    if len(configs) < 2 or not differing:
        return list(names), differing
    leaves = [k.rsplit(".", 1)[-1] for k in differing]
    shown = [leaf if leaves.count(leaf) == 1 else k for k, leaf in zip(differing, leaves)]
    labels = []
    for f in flat:
        parts = [f"{s}={_fmt(f[k]) if k in f else 'unset'}" for k, s in zip(differing, shown)]
        labels.append(", ".join(parts))
    if len(set(labels)) < len(labels):        # cannot happen with distinct values; be safe
        labels = [f"{n}: {lab}" for n, lab in zip(names, labels)]
    return labels, differing


def _names(paths: list[Path]) -> list[str]:
    names = [p.resolve().name or str(p) for p in paths]
    if len(set(names)) < len(names):
        names = [str(p) for p in paths]
    return names


# -------------------------------------------------------------------- plots

def _group_keys(runs: list[Run]) -> list[tuple[str, str, list[str], str]]:
    present = {k for r in runs for rec in r.records for k, v in rec.items() if _is_number(v)}
    groups = []
    known = set()
    for stem, title, keys, unit in GROUPS:
        known.update(keys)
        ks = [k for k in keys if k in present]
        if ks:
            groups.append((stem, title, ks, unit))
    other = sorted(present - known - _NOT_METRICS)
    for i in range(0, len(other), MAX_PANELS):
        chunk = other[i:i + MAX_PANELS]
        groups.append((f"other{i // MAX_PANELS + 1}", "other logged values", chunk, ""))
    return groups


def _time_unit(runs: list[Run]) -> tuple[str, float]:
    t = max((r.get("time") for run in runs for r in run.records if _is_number(r.get("time"))), default=0)
    if t > 3 * 3600:
        return "hours", 3600.0
    if t > 600:
        return "minutes", 60.0
    return "seconds", 1.0


def _plot_group(path: Path, title: str, keys: list[str], unit: str, runs: list[Run], x: str,
                colours: list, time_unit: tuple[str, float]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    w, h = PANEL_PX
    fig = Figure(figsize=(w * len(keys) / _DPI, h / _DPI), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    # training and held-out estimates on one scale, so that overfitting shows as the curves separating
    axes = fig.subplots(1, len(keys), squeeze=False, sharey=keys == ["wasserstein", "wasserstein_heldout"])[0]
    scale = time_unit[1] if x == "time" else 1.0
    any_floor = False
    for ax, key in zip(axes, keys):
        for run, colour in zip(runs, colours):
            xs, ys = run.series(key, x)
            if xs:
                ax.plot([v / scale for v in xs], ys, color=colour, linewidth=1.2, label=run.label,
                        marker="o" if len(xs) == 1 else None, markersize=3)
            if key in run.floor:
                ax.axhline(run.floor[key], color=colour, linestyle="--", linewidth=1)
                any_floor = True
        ax.set_title(_TITLES.get(key, key), fontsize=9)
        ax.set_xlabel(f"{_AXES[x]} ({time_unit[0]})" if x == "time" else _AXES[x], fontsize=8)
        if unit:
            ax.set_ylabel(unit, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=c, linewidth=1.2, label=r.label) for r, c in zip(runs, colours)]
    if any_floor:
        handles.append(Line2D([], [], color="grey", linestyle="--", linewidth=1, label="real-data floor"))
    axes[0].legend(handles=handles, fontsize=6, loc="best", framealpha=0.7)
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=_DPI)


# --------------------------------------------------------------------- html

def _better(key: str, kinds: Iterable[str]) -> str:
    """The better direction of a metric, as the runs' modalities describe it."""
    from textgan import modality
    for kind in kinds:
        try:
            better = modality.get(kind).better(key)
        except TextganError:
            continue
        if better:
            return better
    return ""


def _num(v: float | None) -> str:
    if v is None:
        return ""
    if isinstance(v, int) or (abs(v) >= 1e5 and float(v).is_integer()):
        return f"{int(v)}"
    return f"{v:.4g}"


_CSS = """body{font-family:sans-serif;margin:1.5em;max-width:110em}
table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}
th{background:#f4f4f4}td.k,th.k{text-align:left}img{max-width:100%;border:1px solid #eee;margin:.3em 0}
pre{background:#f8f8f8;padding:.5em;overflow-x:auto}.note{color:#666;font-size:90%}"""


def _html(runs: list[Run], differing: list[str], plots: list[tuple[str, str, str, str]],
          samples: dict[int, str], curve_plot: str | None = None) -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>textgan report</title>", f"<style>{_CSS}</style></head><body>",
           "<h1>textgan report</h1>"]
    out.append("<h2>Runs</h2><table><tr><th>#</th><th class=k>label</th><th class=k>directory</th>"
               "<th>kind</th><th>last step</th><th>training time (s)</th></tr>")
    for i, r in enumerate(runs):
        last = r.records[-1] if r.records else {}
        out.append(f"<tr><td>{i + 1}</td><td class=k>{e(r.label)}</td><td class=k>{e(str(r.path))}</td>"
                   f"<td>{e(r.kind)}</td><td>{_num(last.get('step'))}</td><td>{_num(last.get('time'))}</td></tr>")
    out.append("</table>")
    if differing:
        out.append(f"<p class=note>Config keys that differ: {e(', '.join(differing))}.</p>")
    notes = [f"run {i + 1}: {r.skipped_lines} unreadable line(s) in metrics.jsonl skipped"
             for i, r in enumerate(runs) if r.skipped_lines]
    notes += [f"run {i + 1}: nothing logged yet" for i, r in enumerate(runs) if not r.records]
    for n in notes:
        out.append(f"<p class=note>{e(n)}</p>")

    # final figures beside the floor
    keys = [k for _, _, ks, _ in _group_keys(runs) for k in ks]
    kinds = list(dict.fromkeys(r.kind for r in runs))
    out.append("<h2>Final values</h2><table><tr><th class=k>metric</th><th>better</th>")
    for i, r in enumerate(runs):
        out.append(f"<th>{e(r.label)}</th>")
        if r.floor:
            out.append(f"<th>real-data floor ({i + 1})</th>")
    out.append("</tr>")
    for k in keys:
        out.append(f"<tr><td class=k>{e(k)}</td><td>{e(_better(k, kinds))}</td>")
        for r in runs:
            f = r.final(k)
            out.append(f"<td title='step {f[0]}'>{_num(f[1])}</td>" if f else "<td></td>")
            if r.floor:
                out.append(f"<td>{_num(r.floor.get(k))}</td>")
        out.append("</tr>")
    out.append("</table>")
    if any(r.floor for r in runs):
        out.append("<p class=note>The floor is what real held-out data scores on the same metric: "
                   "the best a generator can hope for.</p>")

    out.append("<h2>Plots</h2>")
    for title, stem, by_step, by_time in plots:
        out.append(f"<h3>{e(title)}</h3>")
        out.append(f'<p><img src="{e(by_step)}" alt="{e(title)} by iteration"></p>')
        if by_time:
            out.append(f'<p><img src="{e(by_time)}" alt="{e(title)} by training time"></p>')

    if curve_plot:
        out.append(f"<h2>{e(CURVE_TITLE)}</h2>")
        out.append(f'<p><img src="{e(curve_plot)}" alt="BLEU-4 against Self-BLEU-4 and JS-4 against '
                   'temperature"></p>')
        out.append("<p class=note>One point per sampling temperature (--decode sample); the star and "
                   "the dashed line are the real-data floor of the same evaluation.</p>")
    elif any(r.kind == "lm" for r in runs):
        out.append(f"<p class=note>{e(HOW_TO)}</p>")

    out.append("<h2>Samples</h2>")
    for i, r in enumerate(runs):
        out.append(f"<h3>{i + 1}. {e(r.label)}</h3>")
        shown = False
        if r.sample_text is not None:
            step, lines = r.sample_text
            out.append(f"<p class=note>samples at step {step} (first {len(lines)} lines)</p>")
            out.append("<pre>" + "\n".join(e(ln) for ln in lines) + "</pre>")
            shown = True
        if i in samples:
            out.append(f'<p class=note>samples at step {r.sample_image[0]}</p>'
                       f'<p><img src="{e(samples[i])}" alt="samples of run {i + 1}"></p>')
            shown = True
        if not shown:
            out.append("<p class=note>no samples yet</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------- main

def build_report(run_dirs: Iterable[str | Path], out_dir: str | Path) -> Report:
    """Write the report (see the module doc) and say what was written."""
    paths = [Path(p) for p in run_dirs]
    if not paths:
        raise ConfigError("no run directories given")
    runs = [read_run(p) for p in paths]
    labels, differing = run_labels([r.config for r in runs], _names(paths))
    for r, lab in zip(runs, labels):
        r.label = lab

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"report directory {out} is a file")
    out.mkdir(parents=True, exist_ok=True)

    from matplotlib import colormaps
    cmap = colormaps["tab10"]
    colours = [cmap(i % 10) for i in range(len(runs))]
    time_unit = _time_unit(runs)
    has_time = any(_is_number(rec.get("time")) for r in runs for rec in r.records)

    plots: list[Path] = []
    entries: list[tuple[str, str, str, str]] = []
    for stem, title, keys, unit in _group_keys(runs):
        by_step = out / f"{stem}_by_step.png"
        _plot_group(by_step, title, keys, unit, runs, "step", colours, time_unit)
        plots.append(by_step)
        by_time = ""
        if has_time:
            p = out / f"{stem}_by_time.png"
            _plot_group(p, title, keys, unit, runs, "time", colours, time_unit)
            plots.append(p)
            by_time = p.name
        entries.append((title, stem, by_step.name, by_time))

    samples: dict[int, str] = {}
    for i, r in enumerate(runs):
        if r.sample_image is not None:
            step, src = r.sample_image
            dest = out / "samples" / f"run{i + 1}_{step:08d}.png"
            dest.parent.mkdir(exist_ok=True)
            try:
                shutil.copyfile(src, dest)
                samples[i] = dest.relative_to(out).as_posix()
            except OSError:
                pass

    curve_path = out / f"{CURVE_STEM}.png"
    curve_plot = None
    if plot_curves(curve_path, runs, colours, PANEL_PX, _DPI):
        plots.append(curve_path)
        curve_plot = curve_path.name

    index = out / "index.html"
    index.write_text(_html(runs, differing, entries, samples, curve_plot), encoding="utf-8")
    return Report(index=index, runs=runs, labels=labels, differing_keys=differing, plots=plots)


def write_report(run_dirs: Iterable[str | Path], out_dir: str | Path) -> Path:
    """Write the report of the run directories into out_dir; the path of its index.html."""
    return build_report(run_dirs, out_dir).index


__all__ = ["PANEL_PX", "GROUPS", "Run", "Report", "read_run", "flatten_config", "run_labels",
           "build_report", "write_report"]
