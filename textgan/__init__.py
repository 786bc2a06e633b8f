"""textgan: Wasserstein GANs with gradient penalty on text (the character language model of
Gulrajani et al. 2017) and images, with one gradient-penalty core.

    import textgan
    run = textgan.train_lm("synthetic", preset="small", iters=300, out="runs/demo")
    print(run.sample(4, seed=0))
    print(textgan.ngram_js(run.sample(640, seed=1), "synthetic"))

Names are imported on first use, so `import textgan` stays light.
"""
from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version as _version
from typing import TYPE_CHECKING

try:
    __version__ = _version("textgan")
except PackageNotFoundError:        # a source checkout that was never installed
    __version__ = "0.0.0+unknown"

# public name -> the module that defines it
_EXPORTS = {
    "gradient_penalty": "textgan.penalty",
    "penalty_and_norms": "textgan.penalty",
    "train_lm": "textgan.api",
    "train_image": "textgan.api",
    "load_run": "textgan.api",
    "Run": "textgan.api",
    "load_model": "textgan.modality",
    "export_run": "textgan.export",
    "evaluate_text": "textgan.api",
    "ngram_js": "textgan.api",
    "format_report": "textgan.evaluate",
    "corpus_lines": "textgan.api",
    "Trainer": "textgan.train",
    "TrainerHooks": "textgan.train",
    "Callback": "textgan.train",
    "Modality": "textgan.modality",
    "register_modality": "textgan.modality",
    "TextganError": "textgan.errors",
    "ConfigError": "textgan.errors",
    "CorpusError": "textgan.errors",
    "CheckpointError": "textgan.errors",
}
_RENAMED = {"register_modality": "register"}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'textgan' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:   # for type checkers and IDEs: the same names, imported eagerly
    from textgan.api import Run, corpus_lines, evaluate_text, load_run, ngram_js, train_image, train_lm
    from textgan.evaluate import format_report
    from textgan.export import export_run
    from textgan.errors import CheckpointError, ConfigError, CorpusError, TextganError
    from textgan.modality import Modality, load_model
    from textgan.modality import register as register_modality
    from textgan.penalty import gradient_penalty, penalty_and_norms
    from textgan.train import Callback, Trainer, TrainerHooks
