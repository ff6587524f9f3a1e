"""Shared test fixtures and options."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# real Utrecht data: ../shared/data/utrecht beside the checkout, or $HEALTHGEO_SHARED_DATA
SHARED = Path(os.environ.get("HEALTHGEO_SHARED_DATA") or REPO.parent / "shared" / "data" / "utrecht")
if os.environ.get("HEALTHGEO_REQUIRE_SHARED") and not SHARED.is_dir():  # e.g. in CI: fail, don't skip
    raise RuntimeError(f"HEALTHGEO_REQUIRE_SHARED is set but {SHARED} is absent")

requires_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="../shared/data/utrecht is absent (real-data tests skipped)"
)


def pytest_addoption(parser):
    parser.addoption(
        "--run-network", action="store_true", default=False,
        help="also run live tests against the real providers (needs internet)",
    )


def pytest_collection_modifyitems(config, items):
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
