"""The workflow on a real SLURM cluster: Snakemake's slurm executor against a single-node cluster.

``tests/slurm_local.sh`` starts munged, slurmctld and slurmd from Debian's ``slurm-wlm`` and
``munge`` packages on this machine (``.ci/run`` installs them, so this runs in CI); the demo
country (config/demo_country.yaml: six municipalities and the national GeoPackage) is then run
through ``--executor slurm`` with the cluster profile (``workflow/profiles/slurm``), and every
GeoPackage must equal the local run's, layer by layer. The daemons are stopped afterwards by
their pid files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import COUNTRY_CONFIG, REPO
from faults.conftest import assert_same_gpkg

SCRIPT = REPO / "tests" / "slurm_local.sh"
PROFILE = REPO / "workflow" / "profiles" / "slurm"
pytestmark = [pytest.mark.cluster, pytest.mark.slow]


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A running single-node SLURM cluster; yields the environment that points at it."""
    missing = [exe for exe in ("munged", "slurmctld", "slurmd", "sbatch", "squeue") if shutil.which(exe) is None]
    if missing:
        pytest.skip(f"{missing} not installed (apt-get install -y slurm-wlm munge; .ci/run does it)")
    if os.geteuid() != 0:
        pytest.skip("the single-node test cluster runs its daemons as root")
    pytest.importorskip("snakemake_executor_plugin_slurm")
    where = tmp_path_factory.mktemp("slurm")
    proc = subprocess.run([str(SCRIPT), "start", str(where)], capture_output=True, text=True, timeout=180)
    try:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        yield {**os.environ, "SLURM_CONF": str(where / "slurm.conf")}
    finally:
        subprocess.run([str(SCRIPT), "stop", str(where)], capture_output=True, timeout=60)
        for pid_file in where.glob("*.pid"):
            pytest.fail(f"{pid_file.name} left behind: a daemon was not stopped")


def _jobs(env: dict) -> list[str]:
    """Rules of the jobs the cluster ran: the executor comments each job ``rule_<name>[_wildcards_...]``
    (squeue lists finished jobs for MinJobAge seconds)."""
    out = subprocess.run(["squeue", "--states=all", "--noheader", "--format=%k"], env=env,
                         capture_output=True, text=True, check=True).stdout
    return [line.strip().removeprefix("rule_") for line in out.splitlines() if line.strip()]


def test_demo_country_through_slurm_equals_the_local_run(slurm, country_run_result, tmp_path):
    """config/demo_country.yaml (six municipalities, each its own jobs, and the national GeoPackage)
    through sbatch: the national GeoPackage and every municipality's equal the local run's, layer
    by layer (creation timestamps aside)."""
    workdir = tmp_path / "cluster"
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--workflow-profile", str(PROFILE), "--configfile", str(COUNTRY_CONFIG), "--replace-workflow-config",
           "--jobs", "4", "--slurm-no-account", "--slurm-status-command", "squeue",
           "--slurm-init-seconds-before-status-checks", "5", "--latency-wait", "30"]
    proc = subprocess.run(cmd, env=slurm, capture_output=True, text=True, timeout=2400)
    logs = "\n".join(p.read_text()[-2000:] for p in sorted((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))[-3:])
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-6000:] + logs
    jobs = _jobs(slurm)
    # every compute rule went through sbatch, for every municipality; downloads and the generator stayed local
    # (squeue lists a finished job for MinJobAge seconds only: the late rules are certainly there)
    rules = {j.split("_wildcards")[0] for j in jobs}
    assert rules >= {"disparity", "assemble", "report", "national"}, sorted(rules)
    assert not any(j.startswith(("fetch_input", "demo_country")) for j in jobs), jobs
    local = country_run_result.workdir / "data" / "processed" / "demo_country"
    remote = workdir / "data" / "processed" / "demo_country"
    gpkgs = sorted(p.relative_to(local) for p in local.rglob("healthgeo.gpkg"))
    assert len(gpkgs) == 7, gpkgs  # six municipalities and the country
    for rel in gpkgs:
        assert_same_gpkg(remote / rel, local / rel)


def test_resources_of_every_rule_are_measured():
    """The cluster profile requests threads, memory and runtime for every rule that runs on a
    node, written by benchmarks/rule_resources.py from benchmark files."""
    import yaml

    sys.path.insert(0, str(REPO / "benchmarks"))
    from rule_resources import rule_patterns

    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    local = {"fetch_input", "fetch", "demo_city", "demo_country"}
    rules = set(rule_patterns()) - local
    assert rules <= set(profile["set-resources"]), sorted(rules - set(profile["set-resources"]))
    assert rules <= set(profile["set-threads"]), sorted(rules - set(profile["set-threads"]))
    for rule, res in profile["set-resources"].items():
        assert res["mem_mb"] >= 512 and res["runtime"] >= 5, (rule, res)
