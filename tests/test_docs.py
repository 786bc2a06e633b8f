"""The guide stays readable and its links resolve: README.md and docs/*.md.

Checks every relative link (and #anchor) of the README and the docs pages, the README's size, that no
tracked file outside tests/ and bench/RESULTS.md names a machine's absolute paths, and that the pages
describe the tool as it is rather than narrate its history."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_LIMIT = 12_000

# Pages other branches write; listed under "More" and checked once they are merged.
PENDING_PAGES: set[str] = set()

# Paths of one machine that a clone does not have.
MACHINE_PATHS = ("../shared", "/work/", "/home/")
MAY_NAME_MACHINE_PATHS = ("tests/", "bench/RESULTS.md")

# Words that narrate history instead of describing the tool.
HISTORY = re.compile(r"\b(earlier|previously|used to|before the|no longer|was changed|"
                     r"at the time|re-run|re-measured|session|nowadays|the new preset|"
                     r"the previous run|since then|so far|anymore|formerly|originally)\b", re.IGNORECASE)

LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def prose(text: str) -> str:
    """The text without fenced code blocks and inline code, where links are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def links(text: str) -> list[str]:
    return [a or b for a, b in LINK.findall(prose(text))]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", text), re.MULTILINE):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(page: Path, text: str | None = None) -> list[str]:
    """The relative links of `page` (its text, or `text` as if it were there) whose file or #anchor
    does not exist."""
    text = page.read_text(encoding="utf-8") if text is None else text
    broken = []
    for target in links(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):      # https:, mailto: ...
            continue
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / unquote(path_part)).resolve() if path_part else page
        rel = dest.relative_to(ROOT).as_posix() if dest.is_relative_to(ROOT) else str(dest)
        if rel in PENDING_PAGES:
            continue
        if not dest.exists():
            broken.append(f"{target} (no {rel})")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text(encoding="utf-8")):
            broken.append(f"{target} (no heading #{anchor} in {rel})")
    return broken


def history_words(text: str) -> list[str]:
    return sorted({m.group(0).lower() for m in HISTORY.finditer(text)})


def machine_paths(text: str) -> list[str]:
    return [p for p in MACHINE_PATHS if p in text]


def test_the_guide_has_its_pages():
    names = {p.name for p in PAGES}
    assert {"README.md", "index.md", "text-model.md", "images.md", "evaluation.md", "comparisons.md",
            "distributed.md", "api.md", "benchmarks.md", "design.md", "gpu.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page):
    assert links(page.read_text(encoding="utf-8")), "a guide page links somewhere"
    assert broken_links(page) == []


def test_link_check_finds_a_broken_file_and_anchor():
    assert anchors("# Sample and evaluate\n## The `small` preset\n## Sample and evaluate\n") == \
        {"sample-and-evaluate", "the-small-preset", "sample-and-evaluate-1"}
    text = ("[a](api.md#no-such-heading) [b](missing.md) `[c](in-code.md)` [d](https://example.org) "
            "[e](api.md#adding-a-modality) [f](tracking.md) [g](../README.md)")
    assert links(text) == ["api.md#no-such-heading", "missing.md", "https://example.org",
                           "api.md#adding-a-modality", "tracking.md", "../README.md"]
    assert broken_links(ROOT / "docs" / "probe.md", text) == [
        "api.md#no-such-heading (no heading #no-such-heading in docs/api.md)",
        "missing.md (no docs/missing.md)"]


def test_readme_is_short():
    assert (ROOT / "README.md").stat().st_size <= README_LIMIT


def test_readme_test_command_is_the_ci_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^python3? -m pytest tests$", ci, re.MULTILINE)
    assert "python -m pytest tests\n" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_no_tracked_file_names_a_machines_paths():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True,
                           text=True).stdout.split("\0")
    offenders = []
    for name in filter(None, files):
        if name.startswith(MAY_NAME_MACHINE_PATHS) or not (ROOT / name).is_file():
            continue
        text = (ROOT / name).read_bytes().decode("utf-8", errors="replace")
        if machine_paths(text):
            offenders.append(f"{name}: {machine_paths(text)}")
    assert offenders == []


def test_pages_describe_the_tool_not_its_history():
    found = {p.relative_to(ROOT).as_posix(): history_words(p.read_text(encoding="utf-8")) for p in PAGES}
    assert {page: words for page, words in found.items() if words} == {}


def test_history_check_catches_a_lab_notebook():
    notebook = ("The same command ended at 0.305 before the weight average; an earlier `small` preset "
                "was measured at the time, re-measured later. Results from /work/shared/data.")
    assert history_words(notebook) == ["at the time", "before the", "earlier", "re-measured"]
    assert machine_paths(notebook) == ["/work/"]


def test_api_page_names_every_public_name():
    import textgan
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [name for name in textgan.__all__ if not re.search(rf"`{re.escape(name)}\b", text)]
    assert missing == []
