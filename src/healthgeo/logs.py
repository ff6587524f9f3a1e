"""Route logging (and uncaught tracebacks) to a Snakemake rule's log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_to_rule(path: str | Path, level: int = logging.INFO) -> logging.Logger:
    """Send all ``logging`` output and any uncaught exception to ``path``.

    Call it first thing in a rule script: ``log_to_rule(snakemake.log[0])``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler, logging.StreamHandler(sys.stderr)]
    root.setLevel(level)
    logging.captureWarnings(True)

    # the full traceback goes to the rule log only; the console gets it once (not twice)
    trace = logging.getLogger("healthgeo.uncaught")
    trace.handlers[:] = [handler]
    trace.propagate = False

    def _hook(exc_type, exc, tb):
        from ._errors import HealthgeoError

        trace.critical("uncaught error", exc_info=(exc_type, exc, tb))
        if issubclass(exc_type, HealthgeoError):
            # a typed error already says what is wrong and how to fix it: one clear message
            sys.stderr.write(f"\nhealthgeo: {exc_type.__name__}: {exc}\n(traceback in {path})\n")
        else:
            sys.__excepthook__(exc_type, exc, tb)

    sys.excepthook = _hook
    return logging.getLogger("healthgeo")
