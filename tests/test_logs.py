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
