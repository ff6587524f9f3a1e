"""Route logging (and uncaught tracebacks) to a Snakemake rule's log file; one line per job on the console.

Everything a job logs — our INFO details, WARNINGs, Python warnings, library chatter (pyogrio's
"Created N records", matplotlib, ...) — goes to the rule's log file. The console gets one line
per job when it ends (what it did, how long it took, how many warnings its log holds), errors,
and a typed error's one-line message; see :func:`log_to_rule`.
"""

from __future__ import annotations

import atexit
import logging
import sys
import time
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: what the current job's console line says it did (set with :func:`summary`)
_job: dict = {}


class _Counter(logging.Handler):
    """Counts the WARNING records (and Python warnings) of the job for its console line."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.warnings = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.ERROR:
            self.warnings += 1


def summary(text: str) -> None:
    """Say in the job's console line what the job did (e.g. ``"wrote data/.../healthgeo.gpkg"``).

    The text is also logged at INFO in the rule log. Without it, the line says ``done``.
    """
    _job["summary"] = text
    logging.getLogger("healthgeo").info(text)


def job_label(path: str | Path) -> str:
    """The job's name on the console, from its log path: ``logs/demo/exposure/air_buurt.log`` ->
    ``exposure/air_buurt`` (the run folder and ``.log`` dropped)."""
    parts = Path(path).with_suffix("").parts
    if "logs" in parts:
        parts = parts[len(parts) - parts[::-1].index("logs"):]
    if len(parts) > 1:
        parts = parts[1:]  # the run name (or the demo_city folder)
    return "/".join(parts)


def log_to_rule(path: str | Path, level: int = logging.INFO) -> logging.Logger:
    """Send all ``logging`` output, Python warnings and any uncaught exception to ``path``.

    Call it first thing in a rule script: ``log_to_rule(snakemake.log[0])``. The console then
    gets only ERROR records, a typed error's one-line message (its traceback goes to the log),
    and, when the script ends normally, one line: ``healthgeo [{job}] {summary or 'done'} (1.2 s[,
    N warnings in {path}])``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.ERROR)
    console.setFormatter(logging.Formatter("healthgeo: %(levelname)s %(name)s: %(message)s"))
    counter = _Counter()
    root = logging.getLogger()
    root.handlers[:] = [handler, console, counter]
    root.setLevel(level)
    logging.captureWarnings(True)

    # the full traceback goes to the rule log only; the console gets it once (not twice)
    trace = logging.getLogger("healthgeo.uncaught")
    trace.handlers[:] = [handler]
    trace.propagate = False

    label, start = job_label(path), time.monotonic()
    _job.clear()

    def _hook(exc_type, exc, tb):
        from ._errors import HealthgeoError

        _job["failed"] = True
        trace.critical("uncaught error", exc_info=(exc_type, exc, tb))
        if issubclass(exc_type, HealthgeoError):
            # a typed error already says what is wrong and how to fix it: one clear message
            sys.stderr.write(f"\nhealthgeo: {exc_type.__name__}: {exc}\n(traceback in {path})\n")
        else:
            sys.__excepthook__(exc_type, exc, tb)

    def _job_line():
        if _job.get("failed"):
            return
        note = f"{time.monotonic() - start:.1f} s"
        if counter.warnings:
            note += f", {counter.warnings} warning{'s' * (counter.warnings > 1)} in {path}"
        sys.stderr.write(f"healthgeo [{label}] {_job.get('summary', 'done')} ({note})\n")
        sys.stderr.flush()

    sys.excepthook = _hook
    atexit.register(_job_line)
    return logging.getLogger("healthgeo")
