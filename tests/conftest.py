"""Shared test fixtures and options."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# real Utrecht data: ../shared/data/utrecht beside the checkout, or $HEALTHGEO_SHARED_DATA
SHARED = Path(os.environ.get("HEALTHGEO_SHARED_DATA") or REPO.parent / "shared" / "data" / "utrecht")
if os.environ.get("HEALTHGEO_REQUIRE_SHARED") and not SHARED.is_dir():  # e.g. in CI: fail, don't skip
    raise RuntimeError(f"HEALTHGEO_REQUIRE_SHARED is set but {SHARED} is absent")

#: the command-line defaults of `make run` (Makefile); end-to-end tests run with the same ones
PROFILE = REPO / "workflow" / "profiles" / "default"
DEMO_CONFIG = REPO / "config" / "config.yaml"
COUNTRY_CONFIG = REPO / "config" / "demo_country.yaml"

requires_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="../shared/data/utrecht is absent (real-data tests skipped)"
)


def pytest_addoption(parser):
    parser.addoption(
        "--run-network", action="store_true", default=False,
        help="also run live tests against the real providers (needs internet)",
    )


#: tests that run Snakemake inside the session's demo-run folder (other run names beside ``demo``).
#: `make test` runs pytest-xdist with --dist loadfile (a file per worker); these marks group them
#: across files only under --dist loadgroup. Two Snakemake instances in that folder work on
#: different run names, which Snakemake's locks allow (the suite passed with them concurrent).
DEMO_FOLDER_GROUP = "demo-run-folder"
in_demo_folder = pytest.mark.xdist_group(DEMO_FOLDER_GROUP)


def pytest_collection_modifyitems(config, items):
    # under --dist loadgroup: a test file is one group, tests marked `in_demo_folder` another
    for item in items:
        if not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    if config.getoption("--run-network"):
        return
    skip = pytest.mark.skip(reason="live provider test: pass --run-network to run")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Path of ../shared/data/utrecht; skips the test when absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data/utrecht is absent")
    return SHARED


@pytest.fixture()
def srv():
    """A local HTTP server replaying canned provider responses (tests/replay.py)."""
    from replay import ReplayServer

    with ReplayServer() as s:
        yield s


@pytest.fixture()
def fast_http(monkeypatch):
    """Retries without waiting and no fair-use throttles, so failure-mode tests run fast."""
    from healthgeo import _http

    monkeypatch.setattr(_http, "BACKOFF", 0.01)
    monkeypatch.setattr(_http, "RETRY_AFTER_MAX", 2.0)
    monkeypatch.setattr(_http, "THROTTLES", {})


@dataclass
class WorkflowRun:
    """One finished workflow run: where, its exit code and its console (stdout + stderr as the user sees them)."""

    workdir: Path
    returncode: int
    console: str

    @property
    def gpkg(self) -> Path:
        """The published GeoPackage of the demo run (it may not exist)."""
        return self.workdir / "data" / "processed" / "demo" / "healthgeo.gpkg"

    @property
    def errors(self) -> list[str]:
        """The one-line error messages healthgeo printed (``healthgeo: SomeError: ...``)."""
        return [line for line in self.console.splitlines() if line.startswith("healthgeo: ")]


def workflow_command(workdir: Path, *args: str, config: Path | None = None, cores: int = 2) -> list[str]:
    """The snakemake command `make run` runs, for another working directory and config."""
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
            "--directory", str(workdir), "--workflow-profile", str(PROFILE),
            "--configfile", str(config or DEMO_CONFIG), "--replace-workflow-config",
            "--cores", str(cores), *args]


def run_workflow(workdir: Path, *args: str, config: Path | None = None, timeout: float = 900,
                 env: dict | None = None) -> WorkflowRun:
    """Run the workflow as `make run` does (console captured, stderr merged into stdout)."""
    proc = subprocess.run(workflow_command(workdir, *args, config=config), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    return WorkflowRun(Path(workdir), proc.returncode, proc.stdout)


def shared_run(tmp_path_factory, name: str, config: Path, reuse_env: str) -> WorkflowRun:
    """One uninterrupted workflow run of ``config`` per test session, in folder ``name``: under
    pytest-xdist made by the first worker that needs it (file lock) and read by the others.
    ``reuse_env``: an environment variable that, while developing, names a folder where the run is
    made once and reused in later sessions (delete the folder after changing the workflow)."""
    from filelock import FileLock

    reuse = os.environ.get(reuse_env)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if reuse:
        workdir = Path(reuse)
    elif worker:  # the session's base folder, shared by all workers
        workdir = tmp_path_factory.getbasetemp().parent / name
    else:
        workdir = tmp_path_factory.mktemp(name)
    workdir.mkdir(parents=True, exist_ok=True)
    saved, failed = workdir / "console.txt", workdir / "console.failed.txt"
    with FileLock(str(workdir) + ".lock"):
        if saved.is_file():
            return WorkflowRun(workdir, 0, saved.read_text())
        if failed.is_file():
            pytest.fail(f"the session's {name} failed (in another worker):\n{failed.read_text()[-6000:]}")
        run = run_workflow(workdir, config=config)
        (saved if run.returncode == 0 else failed).write_text(run.console)
    if run.returncode != 0:
        logs = "\n".join(f"--- {p}\n{p.read_text()[-3000:]}" for p in sorted((workdir / "logs").rglob("*.log"))
                         if "Error" in p.read_text() or "Traceback" in p.read_text())
        pytest.fail(f"workflow failed:\n{run.console[-6000:]}\n{logs}")
    return run


@pytest.fixture(scope="session")
def demo_run_result(tmp_path_factory) -> WorkflowRun:
    """The one uninterrupted end-to-end demo run of the session (shared by test_workflow and tests/faults).

    Tests may add runs of *other* run names to its folder (mark them ``in_demo_folder``), but must
    never change its ``data/processed/demo`` or ``data/raw/demo``: copy them first. While
    developing, ``HEALTHGEO_REUSE_DEMO_RUN=/some/dir`` keeps the run across sessions.
    """
    return shared_run(tmp_path_factory, "demo_run", DEMO_CONFIG, "HEALTHGEO_REUSE_DEMO_RUN")


@pytest.fixture(scope="session")
def country_run_result(tmp_path_factory) -> WorkflowRun:
    """The session's run of config/demo_country.yaml (six small municipalities and the national
    GeoPackage), shared like the demo run; ``HEALTHGEO_REUSE_COUNTRY_RUN`` keeps it while developing.
    Tests must not change its files: copy them first."""
    return shared_run(tmp_path_factory, "country_run", COUNTRY_CONFIG, "HEALTHGEO_REUSE_COUNTRY_RUN")


@pytest.fixture(scope="session")
def demo_run(demo_run_result) -> Path:
    """Working directory of the session's demo run."""
    return demo_run_result.workdir


def snakemake(workdir: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real Snakefile in ``workdir`` (default config: the demo), output captured."""
    return subprocess.run(workflow_command(workdir, *args, config=config), capture_output=True, text=True,
                          timeout=900)


def snakemake_or_fail(workdir: Path, *args: str, config: Path | None = None) -> None:
    proc = snakemake(workdir, *args, config=config)
    if proc.returncode != 0:
        logs = "\n".join(f"--- {p}\n{p.read_text()[-3000:]}" for p in sorted((workdir / "logs").rglob("*.log"))
                         if "Error" in p.read_text() or "Traceback" in p.read_text())
        pytest.fail(f"workflow failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}\n{logs}")


@pytest.fixture(scope="session")
def demo_workflow(demo_run) -> Path:
    """Working directory of the session's demo run (alias of ``demo_run``)."""
    return demo_run
