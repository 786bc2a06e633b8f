"""bench/ runs from a clone: no benchmark file names a path outside the repository.

Every file under bench/ except the results log is read (scripts, figures, reports); none may name
the sibling `../shared` folder, the `/work/` tree of the machine the figures were taken on, or a
home directory.  The log's headings are written through `record.shown`, which replaces paths
outside the repository by PATH or DIR.
"""
from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
HOME = os.path.expanduser("~")
PATTERNS = [re.escape("../shared"), r"shared/(?:bench|data)\b", re.escape("/work/"),
            r"/home/[A-Za-z0-9_.-]+", r"/root/", r"/Users/[A-Za-z0-9_.-]+"]
if HOME not in ("", "/", "~"):
    PATTERNS.append(re.escape(HOME.rstrip("/") + "/"))
OUTSIDE = re.compile("|".join(PATTERNS))


def bench_module(name: str):
    """Import bench/NAME.py (as bench_NAME) without writing byte code into bench/."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    before, sys.dont_write_bytecode = sys.dont_write_bytecode, True    # no __pycache__ in bench/
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = before
    return module


def bench_files() -> list[Path]:
    """Every file under bench/ but the results log and Python's byte-code caches."""
    return sorted(p for p in BENCH.rglob("*") if p.is_file() and p.name != "RESULTS.md"
                  and "__pycache__" not in p.parts and p.suffix != ".pyc")


def outside_paths(text: str) -> list[str]:
    return sorted(set(OUTSIDE.findall(text)))


def test_the_pattern_catches_outside_paths():
    assert outside_paths('SHARED = os.path.join(ROOT, "../shared")') == ["../shared"]
    assert outside_paths("--data-dir /work/shared/data/mnist") != []
    assert outside_paths("see shared/bench/reference_lm.py") == ["shared/bench"]
    assert outside_paths("cache in /home/alice/.cache") == ["/home/alice"]
    assert outside_paths("the machine being shared; --corpus PATH/test_emnlp.txt") == []


def test_no_bench_file_names_a_path_outside_the_repository():
    files = bench_files()
    assert BENCH / "baseline.py" in files and BENCH / "run_all.py" in files
    found = {}
    for path in files:
        hits = outside_paths(path.read_bytes().decode("latin-1"))   # binary files too
        if hits:
            found[str(path.relative_to(BENCH.parent))] = hits
    assert found == {}


def test_logged_commands_show_outside_paths_as_placeholders(tmp_path):
    record = bench_module("record")
    (tmp_path / "lines.txt").write_text("a\n", encoding="utf-8")
    args = ["--corpus", str(tmp_path / "lines.txt"), "--data-dir", str(tmp_path), "--rounds", "2",
            "--figure", "bench/figures/figure1a.png", "synthetic"]
    assert record.shown(args) == ["--corpus", "PATH", "--data-dir", "DIR", "--rounds", "2",
                                  "--figure", "bench/figures/figure1a.png", "synthetic"]


def _textgan_imports(path: Path):
    """(line, module, name) of every `from textgan... import name` and `import textgan...` in a file."""
    import ast
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textgan"):
            for alias in node.names:
                yield node.lineno, node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("textgan"):
                    yield node.lineno, alias.name, None


def test_every_textgan_name_a_bench_script_or_example_imports_exists():
    """The scripts import textgan lazily inside functions; a renamed name must fail here, not in a
    user's hands."""
    import importlib
    missing = []
    for path in sorted([*BENCH.glob("*.py"), *(BENCH.parent / "examples").glob("*.py")]):
        for line, module, name in _textgan_imports(path):
            mod = importlib.import_module(module)
            if name is not None and not hasattr(mod, name):
                try:
                    importlib.import_module(f"{module}.{name}")
                except ImportError:
                    missing.append(f"{path.name}:{line} {module}.{name}")
    assert not missing
