"""The published documentation is self-contained: methods live in the repository and code cites them.

(a) no library, workflow or documentation text points outside the repository (the old
    ``../shared/METHODS.md``, machine paths, relative paths that climb out of the checkout);
(b) every ``docs/methods.md#anchor`` cited anywhere, and every ``(#anchor)`` link inside
    ``docs/methods.md``, is a heading of ``docs/methods.md`` (GitHub-style slug);
(c) the LICENSE file exists and says MIT, as ``pyproject.toml`` does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
METHODS = REPO / "docs" / "methods.md"

#: What a user of the published project receives and reads (checked by (a)).
PUBLISHED = [REPO / "src", REPO / "workflow", REPO / "docs", REPO / "README.md", REPO / "Snakefile"]
#: Where citations of docs/methods.md may appear (checked by (b)).
CITING = PUBLISHED + [REPO / "tests", REPO / "config", REPO / "benchmarks", REPO / "pyproject.toml"]
TEXT_SUFFIXES = {".py", ".smk", ".md", ".yaml", ".yml", ".json", ".toml", ".sh", ".txt", ".cfg", ".csv", ""}

# (a) forbidden: the old shared methods file, and absolute paths of someone's machine
OUTSIDE = [
    re.compile(r"\.\./shared\b"),
    re.compile(r"\bshared/METHODS\.md"),
    re.compile(r"\bMETHODS\.md"),  # the old file name: the repository's file is docs/methods.md
    re.compile(r"(?<![\w.])/(?:work|home|Users|root|mnt)/[\w.-]+"),
    re.compile(r"\b[A-Z]:\\\\?Users\b"),
]
# relative paths that climb: resolved against the file's folder, they must stay in the repository
RELATIVE = re.compile(r"(?<![\w$./])((?:\.\./)+[\w.*{}-]*(?:/[\w.*{}-]+)*)")
CITATION = re.compile(r"docs/methods\.md#([\w-]+)")
# Markdown files named in the text (``design.md``, ``docs/methods.md#x``): they must be in the repository
MARKDOWN_NAME = re.compile(r"(?<![\w.-])((?:[\w.-]+/)*[\w-]+\.md)\b")
LOCAL_LINK = re.compile(r"\]\(#([\w-]+)\)")


def _files(roots) -> list[Path]:
    out = []
    for root in roots:
        if root.is_file():
            out.append(root)
        elif root.is_dir():
            out += [p for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in TEXT_SUFFIXES
                    and "__pycache__" not in p.parts and not p.name.startswith(".")]
    return out


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return ""


def github_slug(heading: str, seen: dict[str, int]) -> str:
    """GitHub's anchor of a Markdown heading: markup dropped, lower case, punctuation removed
    (letters, digits, ``_``, ``-`` and spaces kept), spaces to ``-``; repeats get ``-1``, ``-2``."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links -> their text
    text = re.sub(r"[`*]", "", text).strip().lower()
    slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
    n = seen.get(slug, 0)
    seen[slug] = n + 1
    return slug if n == 0 else f"{slug}-{n}"


def heading_anchors(markdown: str) -> list[str]:
    """Anchors of the ATX headings of a Markdown text, outside fenced code blocks."""
    anchors, seen, fenced = [], {}, False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m and not fenced:
            anchors.append(github_slug(m.group(2), seen))
    return anchors


def _repo_markdown() -> set[str]:
    """Names (and repository paths) of the Markdown files the repository has."""
    files = [p for p in REPO.rglob("*.md") if not ({".venv", ".git", "node_modules"} & set(p.parts))]
    return {p.name for p in files} | {p.relative_to(REPO).as_posix() for p in files}


def outside_references(path: Path, text: str, markdown: set[str] | None = None) -> list[str]:
    """References in ``text`` (the contents of ``path``) to something outside the repository."""
    markdown = _repo_markdown() if markdown is None else markdown
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for rx in OUTSIDE:
            found += [f"{path.relative_to(REPO)}:{lineno}: {m.group(0)}" for m in rx.finditer(line)]
        for m in RELATIVE.finditer(line):
            target = (path.parent / m.group(1)).resolve()
            if not target.is_relative_to(REPO):
                found.append(f"{path.relative_to(REPO)}:{lineno}: {m.group(1)} (resolves outside the repository)")
        for m in MARKDOWN_NAME.finditer(line):
            name = m.group(1)
            if name not in markdown and Path(name).name not in markdown:
                found.append(f"{path.relative_to(REPO)}:{lineno}: {name} (no such Markdown file in the repository)")
    return found


def test_slug_rules():
    seen: dict[str, int] = {}
    assert github_slug("Tree canopy and the 3-30-300 rule", seen) == "tree-canopy-and-the-3-30-300-rule"
    assert github_slug("Gini and Theil", seen) == "gini-and-theil"
    assert github_slug("`popw` (population-weighted)", seen) == "popw-population-weighted"
    assert github_slug("Gini and Theil", seen) == "gini-and-theil-1"
    assert heading_anchors("# A\n```\n# not a heading\n```\n## B b\n") == ["a", "b-b"]


def test_checks_can_fail(tmp_path):
    """The detectors find what they are meant to find (so a passing test means something)."""
    bad = REPO / "src" / "healthgeo" / "x.py"  # not written: the path only places the text
    assert outside_references(bad, "see ../shared/METHODS.md")
    assert outside_references(bad, "open('../../../elsewhere/data.csv')")
    assert outside_references(bad, "path = '/work/main/data'")
    assert outside_references(bad, "# tags as listed in SOURCES.md")
    assert not outside_references(bad, "# see design.md and README.md")
    assert not outside_references(bad, "see docs/methods.md#air-exposure and ../healthgeo/zonal.py")
    assert CITATION.findall("x docs/methods.md#no-such-section y") == ["no-such-section"]
    assert "no-such-section" not in heading_anchors(METHODS.read_text(encoding="utf-8"))


def test_no_reference_outside_the_repository():
    problems, markdown = [], _repo_markdown()
    for path in _files(PUBLISHED):
        problems += outside_references(path, _text(path), markdown)
    assert not problems, "published text points outside the repository:\n" + "\n".join(problems)


def test_methods_anchors_exist():
    assert METHODS.is_file(), "docs/methods.md is missing"
    anchors = set(heading_anchors(METHODS.read_text(encoding="utf-8")))
    assert len(anchors) == len(heading_anchors(METHODS.read_text(encoding="utf-8"))), \
        "docs/methods.md has repeated headings: their anchors get -1 suffixes, cite unique headings"
    missing, n_cited = [], 0
    for path in _files(CITING):
        if path == Path(__file__).resolve():
            continue  # this file's own examples of bad citations
        text = _text(path)
        cites = CITATION.findall(text)
        if path == METHODS:
            cites += LOCAL_LINK.findall(text)
        n_cited += len(cites)
        missing += [f"{path.relative_to(REPO)}: #{a}" for a in cites if a not in anchors]
    assert not missing, "cited sections that docs/methods.md does not have:\n" + "\n".join(sorted(set(missing)))
    assert n_cited > 20, f"only {n_cited} citations of docs/methods.md found; the search is broken"


@pytest.mark.parametrize("module", ["exposure", "zonal", "impact", "disparity", "_inequality"])
def test_method_modules_cite_methods(module):
    """The modules that implement the documented formulas point to them."""
    text = (REPO / "src" / "healthgeo" / f"{module}.py").read_text(encoding="utf-8")
    assert CITATION.search(text), f"healthgeo/{module}.py does not cite docs/methods.md#..."


def test_readme_links_methods():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "](docs/methods.md)" in readme


def test_licence_is_mit():
    licence = REPO / "LICENSE"
    assert licence.is_file(), "LICENSE file missing"
    text = licence.read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 the healthgeo contributors" in text
    assert "THE SOFTWARE IS PROVIDED \"AS IS\"" in text
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib  # Python >= 3.11
    except ModuleNotFoundError:  # Python 3.10: the [project] line is enough
        m = re.search(r'^license\s*=\s*(?:\{\s*text\s*=\s*)?"([^"]*)"', pyproject, re.M)
        declared = m.group(1) if m else ""
    else:
        declared = tomllib.loads(pyproject)["project"].get("license")
        declared = declared.get("text", "") if isinstance(declared, dict) else str(declared or "")
    assert declared.strip() == "MIT", f"pyproject.toml declares licence {declared!r}, LICENSE says MIT"
