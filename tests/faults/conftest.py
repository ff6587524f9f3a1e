"""Shared helpers of the fault-injection suite: break one thing in a copy of the demo city, run the
workflow as `make run` would, and check what the user is left with.

Fixtures
--------
``baseline``     the session's uninterrupted demo run (shared with ``tests/test_workflow.py``);
                 read-only: ``baseline.gpkg``, ``baseline.console``, ``baseline.workdir``.
``demo_city``    a fresh working directory holding a copy of the demo city's raw inputs (no outputs);
                 break a file under ``demo_city / "data/raw/demo"`` and run.
``finished_copy`` a fresh working directory holding a copy of the *whole* baseline run (inputs,
                 outputs, Snakemake's metadata): a run there only redoes what a change invalidates,
                 and there is a previous GeoPackage to lose.

Helpers (import them: ``from faults.conftest import run_workflow, ...``)
-------
``run_workflow(workdir, *targets, override=None, config=None)``  run as `make run` does; returns
    a :class:`WorkflowRun` (``returncode``, ``console``, ``gpkg``, ``errors``).
``write_config(workdir, override)``  the demo config with ``override`` merged in (nested dicts merge,
    ``None`` deletes a key).
``start_workflow(workdir, ...)``  the same run as a background process (for kills).
``read_layers(gpkg)`` / ``assert_same_gpkg(a, b)``  every layer as a frame; layer-by-layer equality
    ignoring creation timestamps.
``snapshot(workdir)`` / ``assert_nothing_lost(before, workdir)``  sha256 of every output file of the
    demo run, and a check that each one is still there, unchanged and readable.
"""

from __future__ import annotations

import copy
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import yaml

from conftest import DEMO_CONFIG, REPO, WorkflowRun, workflow_command
from conftest import run_workflow as _run

__all__ = ["DEMO_CONFIG", "GPKG", "REPO", "RECEIPT", "WorkflowRun", "assert_nothing_lost", "assert_same_gpkg",
           "console_errors", "kill_group", "read_layers", "run_workflow", "snapshot", "start_workflow",
           "write_config"]

GPKG = Path("data/processed/demo/healthgeo.gpkg")
RECEIPT = Path("data/processed/demo/healthgeo.gpkg.json")
#: columns and metadata keys that record *when* something was made, not what
TIMESTAMPS = {"created_at", "retrieved_at", "update_time"}  # update_time: QGIS layer_styles

pytestmark = pytest.mark.slow


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def write_config(workdir: Path, override: dict | None = None, *, base: Path = DEMO_CONFIG,
                 name: str = "fault_config.yaml") -> Path:
    """The demo config with ``override`` merged in, written into ``workdir``; returns its path.

    Nested dicts merge key by key; a value ``None`` deletes the key (e.g. ``{"inputs": {"health": None}}``).
    """
    cfg = _merge(yaml.safe_load(Path(base).read_text()), override or {})
    path = Path(workdir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def run_workflow(workdir: Path, *targets: str, override: dict | None = None, config: Path | None = None,
                 timeout: float = 900, env: dict | None = None) -> WorkflowRun:
    """Run the workflow in ``workdir`` as `make run` does, optionally with a config ``override``."""
    if override is not None:
        config = write_config(workdir, override, base=config or DEMO_CONFIG)
    return _run(workdir, *targets, config=config, timeout=timeout, env=env)


def start_workflow(workdir: Path, *targets: str, config: Path | None = None) -> subprocess.Popen:
    """The same run in the background, in its own process group (kill it with :func:`kill_group`)."""
    log = open(Path(workdir) / "console.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(workflow_command(workdir, *targets, config=config), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Kill Snakemake and every job it started (a power cut, an OOM kill)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    proc.wait(timeout=60)


def unlock(workdir: Path) -> None:
    """What `make run` does before resuming after a hard kill: release the stale Snakemake lock."""
    proc = subprocess.run(workflow_command(workdir, "--unlock"), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def console_errors(console: str) -> list[str]:
    """The one-line healthgeo error messages a run printed (``healthgeo: SomeError: ...``)."""
    return [line for line in console.splitlines() if line.startswith("healthgeo: ")]


def read_layers(gpkg: Path) -> dict[str, pd.DataFrame]:
    """Every layer of a GeoPackage as a frame (geometry as WKB), timestamps dropped, rows sorted."""
    out = {}
    for name, geom_type in pyogrio.list_layers(gpkg):
        frame = pyogrio.read_dataframe(gpkg, layer=name, read_geometry=geom_type is not None)
        if geom_type is not None:
            frame = pd.DataFrame(frame.drop(columns="geometry")).assign(geometry=frame.geometry.to_wkb())
        frame = frame.drop(columns=[c for c in frame.columns if c in TIMESTAMPS])
        if {"key", "value"} <= set(frame.columns):  # the metadata table
            frame = frame[~frame["key"].isin(TIMESTAMPS)]
        out[name] = frame.sort_values(list(frame.columns[:2])).reset_index(drop=True)
    return out


def assert_same_gpkg(got: Path, expected: Path) -> None:
    """Same layers, columns, dtypes and values (NaN = NaN), ignoring creation timestamps."""
    a, b = read_layers(got), read_layers(expected)
    assert list(a) == list(b), f"layers differ: {list(a)} vs {list(b)}"
    for name in b:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=f"layer {name}")


def snapshot(workdir: Path, run: str = "demo") -> dict[str, str]:
    """sha256 of every published file of a run (the GeoPackage, its receipt, the per-level tables)."""
    from healthgeo.io import sha256_file

    base = Path(workdir) / "data" / "processed" / run
    return {str(p.relative_to(workdir)): sha256_file(p) for p in sorted(base.rglob("*")) if p.is_file()
            and not p.name.startswith(".")}


def assert_nothing_lost(before: dict[str, str], workdir: Path) -> None:
    """Every file of ``before`` is still there, byte for byte; the GeoPackage still opens."""
    from healthgeo.io import sha256_file

    for rel, digest in before.items():
        path = Path(workdir) / rel
        assert path.is_file(), f"{rel} was lost"
        assert sha256_file(path) == digest, f"{rel} changed"
    gpkg = Path(workdir) / GPKG
    if str(GPKG) in before:
        assert {"buurt", "wijk", "gemeente"} <= {n for n, _ in pyogrio.list_layers(gpkg)}
        assert len(pyogrio.read_dataframe(gpkg, layer="buurt", read_geometry=False)) > 0


def leftovers(workdir: Path, run: str = "demo") -> list[Path]:
    """Temporary or partial files left in the run's output folders (``.name.*`` written by io.atomic_write)."""
    base = Path(workdir) / "data" / "processed" / run
    return sorted(p for p in base.rglob(".*") if p.is_file())


def wait_for(predicate, timeout: float = 300, poll: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll)
    return False


@pytest.fixture(scope="session")
def baseline(demo_run_result) -> WorkflowRun:
    """The session's uninterrupted demo run (read-only)."""
    return demo_run_result


@pytest.fixture()
def demo_city(baseline, tmp_path) -> Path:
    """A fresh working directory with a copy of the demo city's raw inputs and nothing else."""
    work = tmp_path / "work"
    shutil.copytree(baseline.workdir / "data" / "raw" / "demo", work / "data" / "raw" / "demo")
    return work


@pytest.fixture()
def finished_copy(baseline, tmp_path) -> Path:
    """A fresh working directory holding a copy of the whole finished baseline run."""
    work = tmp_path / "finished"
    shutil.copytree(baseline.workdir, work, symlinks=True,
                    ignore=shutil.ignore_patterns("demo_surface", "demo_nc", "console.log", "console.txt"))
    return work
