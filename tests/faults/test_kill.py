"""Promise: a run killed at any point (SIGKILL: power cut, OOM killer, CI timeout) loses nothing.

- The previous GeoPackage stays intact and readable, even when the kill hits its rewrite.
- The next run (`make run`: release the stale lock, rerun incomplete jobs) finishes what was left
  and publishes a GeoPackage identical, layer by layer, to that of an uninterrupted run.
- No temporary or partial file survives that next run.
"""

from __future__ import annotations

import os
import random
import re
import time
from pathlib import Path

from faults.conftest import (GPKG, RECEIPT, assert_nothing_lost, assert_same_gpkg, kill_group, leftovers,
                             run_workflow, snapshot, start_workflow, unlock, wait_for)
from healthgeo.io import receipt_problem

TEMP = re.compile(r"^\.healthgeo\.\d+\.[a-z0-9_]{8}\.gpkg$")


def _gpkg_temp(workdir: Path) -> Path | None:
    folder = workdir / GPKG.parent
    return next((p for p in folder.iterdir() if TEMP.match(p.name) and p.stat().st_size > 0), None) \
        if folder.is_dir() else None


def _benchmarks(workdir: Path) -> dict[Path, int]:
    """Benchmark file of every finished job (written when a job ends) and its mtime."""
    return {p: p.stat().st_mtime_ns for p in (workdir / "logs").rglob("*.tsv")} if (workdir / "logs").is_dir() else {}


def _jobs_done(workdir: Path) -> int:
    return len(_benchmarks(workdir))


def _resume_and_check(workdir: Path, baseline) -> None:
    unlock(workdir)
    run = run_workflow(workdir)
    assert run.returncode == 0, run.console[-4000:]
    assert_same_gpkg(workdir / GPKG, baseline.gpkg)
    assert receipt_problem(workdir / RECEIPT) is None and (workdir / RECEIPT).is_file()
    assert not leftovers(workdir), f"temporary files survived a successful run: {leftovers(workdir)}"


def test_kill_during_the_final_write_keeps_the_previous_gpkg(finished_copy, baseline):
    """The GeoPackage is being rewritten (assemble forced) when the run is killed."""
    before = snapshot(finished_copy)
    proc = start_workflow(finished_copy, "--forcerun", "assemble")
    try:
        assert wait_for(lambda: _gpkg_temp(finished_copy) is not None, timeout=300), \
            "the new GeoPackage was never being written: " + (finished_copy / "console.log").read_text()[-3000:]
        time.sleep(random.uniform(0, 0.5))
    finally:
        kill_group(proc)
    partial = _gpkg_temp(finished_copy)
    assert partial is not None, "killed too late: the write had finished"
    # the receipt is Snakemake's output and was removed when the job started; all else is as before
    assert not (finished_copy / RECEIPT).exists()
    assert_nothing_lost({k: v for k, v in before.items() if k != str(RECEIPT)}, finished_copy)
    _resume_and_check(finished_copy, baseline)
    assert not partial.exists()


def test_sigkill_at_random_points_then_rerun_gives_the_same_gpkg(demo_city, baseline):
    """Two kills of a fresh run (after a random number of finished jobs, then during the final
    write); each resume picks up where the last one stopped; the result equals an uninterrupted run."""
    seed = int(os.environ.get("HEALTHGEO_FAULT_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    after_jobs = rng.randint(1, 35)
    proc = start_workflow(demo_city)
    try:
        assert wait_for(lambda: _jobs_done(demo_city) >= after_jobs or proc.poll() is not None, timeout=600)
        time.sleep(rng.uniform(0, 2))
    finally:
        kill_group(proc)
    finished = _benchmarks(demo_city)
    assert proc.returncode != 0, f"seed {seed}: the run finished before the kill"
    # jobs that had certainly finished (the newest might not be recorded yet) are not redone
    finished = dict(sorted(finished.items(), key=lambda kv: kv[1])[:-1])

    unlock(demo_city)
    proc = start_workflow(demo_city)
    try:
        assert wait_for(lambda: _gpkg_temp(demo_city) is not None or proc.poll() is not None, timeout=600), \
            f"seed {seed}: " + (demo_city / "console.log").read_text()[-3000:]
        time.sleep(rng.uniform(0, 0.3))
    finally:
        kill_group(proc)

    _resume_and_check(demo_city, baseline)
    redone = [str(p.relative_to(demo_city)) for p, t in finished.items() if p.stat().st_mtime_ns != t]
    assert not redone, f"seed {seed}: finished jobs were redone: {redone}"


def test_a_failing_rule_keeps_the_previous_gpkg_and_its_receipt(finished_copy):
    """An input that breaks after a good run: the rules that read it fail, the GeoPackage and its
    receipt stay (assemble never starts, so Snakemake removes nothing of it). Intermediate tables
    of the failed jobs are Snakemake outputs and go, as Snakemake does."""
    before = {k: v for k, v in snapshot(finished_copy).items() if k in (str(GPKG), str(RECEIPT))}
    assert len(before) == 2
    (finished_copy / "data/raw/demo/rivm/gezondheid_2022.csv").write_text("not;a;health;table\n")
    run = run_workflow(finished_copy)
    assert run.returncode != 0, run.console[-3000:]
    assert_nothing_lost(before, finished_copy)
    assert receipt_problem(finished_copy / RECEIPT) is None
    assert not leftovers(finished_copy)


#: assemble and the rules that read its GeoPackage
DOWNSTREAM = {"assemble", "report", "all"}


def _planned(run) -> set[str]:
    """Rules a dry run plans, from Snakemake's job-stats table."""
    return set(re.findall(r"^(\w+)\s+\d+$", run.console, flags=re.MULTILINE)) - {"total"}


def test_a_missing_or_changed_gpkg_is_written_again(finished_copy, baseline):
    """The receipt vouches for the GeoPackage; when it no longer matches, assemble (only) runs again."""
    intact = run_workflow(finished_copy, "--dry-run")
    assert intact.returncode == 0 and "Nothing to be done" in intact.console, intact.console[-2000:]
    gpkg = finished_copy / GPKG
    data = bytearray(gpkg.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes (an edit in a GIS, a bad disk)
    gpkg.write_bytes(bytes(data))
    changed = run_workflow(finished_copy, "--dry-run")
    assert changed.returncode == 0 and "assemble" in _planned(changed), changed.console[-2000:]
    assert _planned(changed) <= DOWNSTREAM, changed.console[-2000:]
    assert "differs from the file the receipt describes" in changed.console
    gpkg.unlink()
    rerun = run_workflow(finished_copy)
    assert rerun.returncode == 0 and "assemble" in _planned(rerun), rerun.console[-2000:]
    assert _planned(rerun) <= DOWNSTREAM, rerun.console[-2000:]
    assert_same_gpkg(gpkg, baseline.gpkg)
    assert receipt_problem(finished_copy / RECEIPT) is None
