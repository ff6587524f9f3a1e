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

    def _hook(exc_type, exc, tb):
        logging.getLogger("healthgeo").critical("uncaught error", exc_info=(exc_type, exc, tb))
        sys.__excepthook__(exc_type, exc, tb)

    sys.excepthook = _hook
    return logging.getLogger("healthgeo")
