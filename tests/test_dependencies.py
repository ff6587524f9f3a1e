"""Run-time dependencies: what the pipeline imports is declared, what only tests use is a test extra."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "healthgeo"
TEST_ONLY = {"exactextract", "networkx"}  # reference implementations the tests/benchmarks compare against


def _requirement_names(reqs) -> set[str]:
    import re

    return {re.split(r"[<>=!\[ ;]", r, maxsplit=1)[0].strip().lower() for r in reqs}


def _imports(path: Path) -> list[tuple[str, str]]:
    """(top-level module, enclosing function name or '') of every import in a file."""
    found = []

    def visit(node, func=""):
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
            if isinstance(child, ast.Import):
                found.extend((a.name.split(".")[0], func) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.module.split(".")[0], func))
            visit(child, name)

    visit(ast.parse(path.read_text()))
    return found


def test_test_only_packages_are_test_extras():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not TEST_ONLY & _requirement_names(project["dependencies"])
    assert TEST_ONLY <= _requirement_names(project["optional-dependencies"]["test"])


def test_pipeline_code_does_not_import_test_only_packages():
    """Only the test helper ``to_networkx`` may import networkx; nothing imports exactextract."""
    allowed = {("networkx", "to_networkx")}
    for path in [*SRC.rglob("*.py"), *(REPO / "workflow" / "scripts").glob("*.py")]:
        for module, func in _imports(path):
            if module in TEST_ONLY:
                assert (module, func) in allowed, f"{path.relative_to(REPO)} imports {module} in {func or 'module'}"


def test_a_rule_scripts_imports_leave_scipy_and_requests_for_later():
    """Every job is a new Python process that imports healthgeo.stages: scipy.stats (~1 s), the
    graph code's scipy.sparse and requests are imported where they are used, not at start-up
    (benchmarks/national.py measures the start-up share of a country run)."""
    import subprocess
    import sys

    code = ("import sys, healthgeo.stages, healthgeo.logs; "
            "print([m for m in ('scipy.stats', 'scipy.sparse', 'scipy.spatial', 'osmnx', 'matplotlib') "
            "if m in sys.modules]); "
            "print(type(sys.modules['requests']).__name__ if 'requests' in sys.modules else 'absent')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]", out[0]
    assert out[1] in ("_LazyModule", "absent"), out[1]
