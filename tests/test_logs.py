"""Rule logging: the typed error reaches the console once and clearly; the traceback is in the log."""

from __future__ import annotations

import subprocess
import sys


def _run(tmp_path, raise_stmt: str):
    log = tmp_path / "rule.log"
    code = ("from healthgeo.logs import log_to_rule\n"
            "from healthgeo._errors import InputDataError\n"
            f"log_to_rule({str(log)!r})\n"
            f"{raise_stmt}\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return proc, log.read_text()


def test_typed_error_one_clear_line(tmp_path):
    proc, log = _run(tmp_path, "raise InputDataError('health: no rows for Leeftijd 53115; use 20300')")
    assert proc.returncode == 1
    assert "healthgeo: InputDataError: health: no rows for Leeftijd 53115; use 20300" in proc.stderr
    assert "Traceback" not in proc.stderr and "rule.log" in proc.stderr
    assert "Traceback" in log and "no rows for Leeftijd" in log


def test_unexpected_error_traceback_once(tmp_path):
    proc, log = _run(tmp_path, "raise ValueError('boom')")
    assert proc.returncode == 1
    assert proc.stderr.count("Traceback") == 1 and "ValueError: boom" in proc.stderr
    assert "Traceback" in log


def _script(tmp_path, body: str, log_name: str = "logs/demo/exposure/air_buurt.log"):
    log = tmp_path / log_name
    code = ("import logging, warnings\n"
            "from healthgeo.logs import log_to_rule, summary\n"
            f"log_to_rule({log_name!r})\n" + body)  # Snakemake passes the path relative to the workdir
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    return proc, log.read_text()


def test_details_warnings_and_chatter_go_to_the_log_one_line_to_the_console(tmp_path):
    proc, log = _script(tmp_path, (
        "logging.getLogger('healthgeo.exposure').info('coverage weights for 100 wards')\n"
        "logging.getLogger('pyogrio._io').info('Created 100 records')\n"
        "logging.getLogger('healthgeo.network').warning('3 homes lie in no ward')\n"
        "warnings.warn('DataFrame is highly fragmented', UserWarning)\n"
        "summary('wrote 3 tables')\n"))
    assert proc.returncode == 0
    lines = (proc.stdout + proc.stderr).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("healthgeo [exposure/air_buurt] wrote 3 tables (")
    assert "2 warnings in " in lines[0] and "air_buurt.log" in lines[0]
    for text in ("coverage weights", "Created 100 records", "3 homes lie in no ward", "highly fragmented",
                 "wrote 3 tables"):
        assert text in log, text


def test_quiet_job_says_done(tmp_path):
    proc, _ = _script(tmp_path, "logging.getLogger('healthgeo').info('detail')\n",
                      log_name="logs/demo_city/demo_city.log")
    assert proc.stderr.startswith("healthgeo [demo_city] done (") and proc.stderr.count("\n") == 1
    assert "warning" not in proc.stderr


def test_failed_job_prints_no_done_line(tmp_path):
    proc, _ = _script(tmp_path, "raise InputDataError('x')\n".replace("InputDataError", "ValueError"))
    assert proc.returncode == 1 and "healthgeo [" not in proc.stderr
