"""Atomic writes: the old file survives any failure, leftovers of killed writers go, full disks say so."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time

import pytest

from healthgeo import io
from healthgeo._errors import OutOfSpaceError


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.gpkg"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with io.atomic_write(target) as tmp:
            tmp.write_text("half")
            (tmp.parent / (tmp.name + "-journal")).write_text("j")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg"]


def test_leftovers_of_killed_writers_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "healthgeo.gpkg"
    dead, alive = _dead_pid(), os.getpid()
    stale = [tmp_path / f".healthgeo.{dead}.abcd_123.gpkg", tmp_path / f".healthgeo.{dead}.abcd_123.gpkg-journal",
             tmp_path / ".healthgeo.k2j4h5g6.gpkg"]  # the last: pid-less name of earlier versions
    busy = tmp_path / f".healthgeo.{alive}.zzzzzzzz.gpkg"  # a writer that is still running
    other = [tmp_path / ".other.k2j4h5g6.gpkg", tmp_path / ".healthgeo.k2j4h5g6.parquet"]
    for p in [*stale, busy, *other]:
        p.write_text("partial")
    with io.atomic_write(target) as tmp:
        assert str(os.getpid()) in tmp.name
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert not any(p.exists() for p in stale)
    assert busy.exists() and all(p.exists() for p in other)


def test_data_is_flushed_before_the_rename(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(io.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(io.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    io.write_json({"a": 1}, tmp_path / "x.json")
    assert calls[:2] == ["fsync", "replace"] and calls.count("fsync") == 2  # the file, then its folder


@pytest.mark.parametrize("exc", [
    OSError(errno.ENOSPC, "No space left on device"),
    RuntimeError("sqlite3_exec(INSERT INTO ...) failed: database or disk is full"),
])
def test_full_disk_is_reported_as_out_of_space(tmp_path, exc):
    target = tmp_path / "healthgeo.gpkg"
    target.write_text("old")
    with pytest.raises(OutOfSpaceError, match="no space left") as info:
        with io.atomic_write(target) as tmp:
            tmp.write_text("partial")
            raise exc
    msg = str(info.value)
    assert "\n" not in msg and str(target) in msg and "untouched" in msg and "MB free" in msg
    assert info.value.__cause__ is exc
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["healthgeo.gpkg"]


def test_other_errors_are_not_called_out_of_space(tmp_path):
    with pytest.raises(ValueError):
        with io.atomic_write(tmp_path / "x.json"):
            raise ValueError("bad value")


def test_receipt_describes_the_published_file(tmp_path):
    gpkg, receipt = tmp_path / "healthgeo.gpkg", tmp_path / "healthgeo.gpkg.json"
    gpkg.write_bytes(b"layers" * 100)
    record = io.write_receipt(gpkg, receipt)
    assert record["file"] == "healthgeo.gpkg" and record["size"] == 600 and len(record["sha256"]) == 64
    assert io.receipt_problem(receipt) is None
    os.utime(gpkg, ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, same bytes: still the same
    assert io.drop_stale_receipt(receipt) is None and receipt.exists()


@pytest.mark.parametrize("change, reason", [
    (lambda p: p.unlink(), "missing"),
    (lambda p: p.write_bytes(b"LAYERS" * 100), "differs"),  # same size, other bytes
    (lambda p: p.write_bytes(b"x"), "bytes"),
])
def test_a_receipt_whose_file_is_gone_or_changed_is_dropped(tmp_path, change, reason):
    gpkg, receipt = tmp_path / "healthgeo.gpkg", tmp_path / "healthgeo.gpkg.json"
    gpkg.write_bytes(b"layers" * 100)
    io.write_receipt(gpkg, receipt)
    change(gpkg)
    assert reason in io.drop_stale_receipt(receipt)
    assert not receipt.exists()


def test_no_receipt_no_problem(tmp_path):
    assert io.drop_stale_receipt(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text("{")
    assert "unreadable" in io.receipt_problem(tmp_path / "bad.json")
