"""Hugging Face datasets as corpora: `hf:NAME[:CONFIG[:SPLIT[:FIELD]]]`.

NAME is a hub name (served from the local `datasets` cache; set
HF_DATASETS_OFFLINE=1 to never touch the network), a directory written by
`Dataset.save_to_disk`, or a local data directory/file that `load_dataset`
understands (json, csv, text, parquet).  SPLIT defaults to `train`, FIELD to
`text`; empty parts take the default (`hf:NAME::validation`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textgan.errors import CorpusError

PREFIX = "hf:"


@dataclass(frozen=True)
class HFSpec:
    name: str
    config: str | None = None
    split: str = "train"
    field: str = "text"

    def describe(self) -> str:
        return f"hf:{self.name}" + (f" ({self.config})" if self.config else "") + f" [{self.split}].{self.field}"


def is_hf(corpus: str) -> bool:
    return corpus.startswith(PREFIX)


def parse(corpus: str) -> HFSpec:
    parts = corpus[len(PREFIX):].split(":")
    if not parts[0] or len(parts) > 4:
        raise CorpusError(f"bad dataset spec {corpus!r}: use hf:NAME[:CONFIG[:SPLIT[:FIELD]]]")
    parts += [""] * (4 - len(parts))
    name, config, split, field = parts
    return HFSpec(name, config or None, split or "train", field or "text")


def _load(spec: HFSpec):
    import datasets
    path = Path(spec.name).expanduser()
    if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
        ds = datasets.load_from_disk(str(path))           # written by save_to_disk
        if isinstance(ds, datasets.DatasetDict):
            if spec.split not in ds:
                raise CorpusError(f"{spec.name} has no split {spec.split!r} (has {', '.join(ds)})")
            ds = ds[spec.split]
        return ds
    return datasets.load_dataset(spec.name, spec.config, split=spec.split)


def load(spec: HFSpec):
    """The dataset split (a `datasets.Dataset`), or a CorpusError in one line."""
    try:
        ds = _load(spec)
    except CorpusError:
        raise
    except Exception as e:  # datasets raises many types (ConnectionError, FileNotFoundError, ValueError...)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CorpusError(f"cannot load Hugging Face dataset {spec.name!r} "
                          f"(split {spec.split!r}): {first}. It must be in the local datasets "
                          f"cache or reachable online; set HF_DATASETS_OFFLINE=1 to use the cache only") from None
    if spec.field not in ds.column_names:
        raise CorpusError(f"dataset {spec.name!r} has no field {spec.field!r} "
                          f"(fields: {', '.join(ds.column_names)})")
    return ds


def fingerprint(ds) -> str | None:
    return getattr(ds, "_fingerprint", None)


def lines(ds, spec: HFSpec, max_lines: int | None) -> list[str]:
    """Text values of the field, first max_lines rows (non-strings are stringified)."""
    n = len(ds) if max_lines is None else min(len(ds), max_lines)
    col = ds.select(range(n))[spec.field] if n < len(ds) else ds[spec.field]
    return [v if isinstance(v, str) else ("" if v is None else str(v)) for v in col]
