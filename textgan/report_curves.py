"""The report's quality-diversity curves: for each run with a RUN_DIR/curve.json (written by
`eval-lm --run RUN_DIR --temperatures ...`), BLEU-4 against Self-BLEU-4 and JS-4 against the
sampling temperature, one line per run, the real-data floor of the same evaluation in the run's
colour (a star on the BLEU plane, a dashed line over temperature)."""
from __future__ import annotations

import json
from pathlib import Path

CURVE_FILE = "curve.json"
STEM = "curve"
TITLE = "quality-diversity curve (eval-lm --temperatures)"
HOW_TO = ("no run has a quality-diversity curve yet; `textgan eval-lm --run RUN_DIR --corpus C "
          "--temperatures 0.5,0.7,1.0,1.3` stores one in RUN_DIR/curve.json")
# (x key, y key, x label, y label) of each panel
PANELS = [("self_bleu4", "bleu4", "Self-BLEU-4 (lower: more diverse)", "BLEU-4 (higher: closer to real)"),
          ("temperature", "js4", "sampling temperature", "JS-4 (bits)")]


def read_curve(run_dir: Path) -> dict | None:
    """The run's curve.json, or None when it has none (or an unreadable one: the curve is optional)."""
    try:
        curve = json.loads((Path(run_dir) / CURVE_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    ok = isinstance(curve, dict) and isinstance(curve.get("curve"), list) and \
        all(isinstance(e, dict) for e in curve["curve"])
    return curve if ok else None


def plot_curves(path: Path, runs: list, colours: list, panel_px: tuple[int, int], dpi: int) -> bool:
    """Draw the curves of the runs that have one (`run.curve`) into `path`; False when none has."""
    with_curve = [(run, colour) for run, colour in zip(runs, colours) if run.curve]
    if not with_curve:
        return False
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    w, h = panel_px
    fig = Figure(figsize=(w * len(PANELS) / dpi, h / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(PANELS), squeeze=False)[0]
    for ax, (xkey, ykey, xlabel, ylabel) in zip(axes, PANELS):
        for run, colour in with_curve:
            points = [(e.get(xkey), e.get(ykey), e.get("temperature")) for e in run.curve["curve"]]
            points = [p for p in points if _number(p[0]) and _number(p[1])]
            ax.plot([p[0] for p in points], [p[1] for p in points], color=colour, linewidth=1.2,
                    marker="o", markersize=3, label=run.label)
            if xkey != "temperature":      # name each point by its temperature
                for x, y, t in points:
                    ax.annotate(f"T={t:g}", (x, y), fontsize=6, color=colour,
                                xytext=(3, 3), textcoords="offset points")
            floor = run.curve.get("floor") or {}
            if xkey == "temperature" and _number(floor.get(ykey)):
                ax.axhline(floor[ykey], color=colour, linestyle="--", linewidth=1)
            elif _number(floor.get(xkey)) and _number(floor.get(ykey)):
                ax.plot([floor[xkey]], [floor[ykey]], color=colour, marker="*", markersize=9, linestyle="")
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=c, linewidth=1.2, marker="o", markersize=3, label=r.label)
               for r, c in with_curve]
    handles.append(Line2D([], [], color="grey", marker="*", markersize=9, linestyle="--", linewidth=1,
                          label="real-data floor"))
    axes[0].legend(handles=handles, fontsize=6, loc="best", framealpha=0.7)
    fig.suptitle(TITLE, fontsize=10)
    fig.savefig(path, dpi=dpi)
    return True


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v
