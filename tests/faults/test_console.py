"""Promise: a clean run has a quiet console — one line per job plus Snakemake's progress, no Python
warnings (their causes are fixed, not silenced: the rule logs hold none either), and a closing
summary that says where the GeoPackage, the logs and any warnings are."""

from __future__ import annotations

import re
import subprocess
import sys

from faults.conftest import DEMO_CONFIG

#: console lines allowed per job (Snakemake's select/execute/finished/progress lines and healthgeo's one
#: line: about 6.5 per job) plus a fixed header and summary; a job that prints its file lists or
#: library chatter adds at least 5 lines per job and breaks it
LINES_PER_JOB, LINES_FIXED = 7, 30
WARNING = re.compile(r"\b\w*Warning\b")  # PerformanceWarning, UserWarning, ... as Python prints them


def test_clean_demo_run_prints_one_line_per_job_and_no_warning(baseline):
    lines = baseline.console.splitlines()
    assert baseline.returncode == 0
    total = int(re.search(r"of (\d+) steps", baseline.console).group(1))
    budget = LINES_FIXED + LINES_PER_JOB * total
    assert len(lines) < budget, f"{len(lines)} console lines for {total} jobs:\n" + "\n".join(lines[:80])
    assert not [line for line in lines if WARNING.search(line)]
    jobs = [line for line in lines if line.startswith("healthgeo [")]
    assert len(jobs) == total - 1  # every job but the target rule `all` says it is done, once
    assert any(line.startswith("healthgeo [assemble] published data/processed/demo/healthgeo.gpkg")
               for line in jobs)
    assert f"{total} of {total} steps (100%) done" in baseline.console
    # library chatter and job details stay in the rule logs
    for chatter in ("Created ", "records", "input:", "output:", "reason:", "lie in no ward", "{'"):
        assert chatter not in baseline.console, chatter


def test_no_python_warning_in_any_rule_log(baseline):
    logs = sorted((baseline.workdir / "logs").rglob("*.log"))
    assert len(logs) > 40
    warned = {str(p.relative_to(baseline.workdir)): [line for line in p.read_text().splitlines()
                                                     if " py.warnings: " in line or WARNING.search(line)]
              for p in logs}
    assert not {k: v for k, v in warned.items() if v}


def _summary(workdir, *args):
    return subprocess.run([sys.executable, "-m", "healthgeo", "outputs", str(DEMO_CONFIG), *args],
                          cwd=workdir, capture_output=True, text=True, timeout=120)


def test_summary_says_where_to_look(baseline):
    proc = _summary(baseline.workdir)
    assert proc.returncode == 0, proc.stderr
    assert "data/processed/demo/healthgeo.gpkg (last written" in proc.stdout
    assert "logs (details, warnings) in logs/demo/" in proc.stdout
    failed = _summary(baseline.workdir, "--exit-code", "1")
    assert failed.returncode == 1
    assert "FAILED (exit 1)" in failed.stdout
    assert "the last good GeoPackage is kept: data/processed/demo/healthgeo.gpkg" in failed.stdout


def test_summary_names_the_logs_with_warnings(baseline, tmp_path):
    gpkg = tmp_path / "data/processed/demo/healthgeo.gpkg"
    gpkg.parent.mkdir(parents=True)
    gpkg.write_bytes(baseline.gpkg.read_bytes())
    (tmp_path / "logs/demo/prepare").mkdir(parents=True)
    (tmp_path / "logs/demo/prepare/wards.log").write_text("2026-01-01 00:00:00,000 INFO healthgeo.x: fine\n")
    (tmp_path / "logs/demo/assemble.log").write_text(
        "2026-01-01 00:00:00,000 WARNING healthgeo.x: something odd\n"
        "2026-01-01 00:00:00,000 WARNING py.warnings: UserWarning: and this\n")
    proc = _summary(tmp_path)
    assert "2 warning(s) in 1 log(s), e.g. logs/demo/assemble.log\n" in proc.stdout
    (tmp_path / "logs/demo/assemble.log").write_text("")
    assert "warning(s) in" not in _summary(tmp_path).stdout
