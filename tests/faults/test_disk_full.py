"""Promise: a disk that fills up during the final write stops the run with one "out of space" line and
loses nothing; once space is freed, the next run publishes the GeoPackage.

The full disk is a small tmpfs mounted in a private mount namespace (``unshare -m``: needs root
or CAP_SYS_ADMIN; skipped with the reason where it cannot be made), holding a copy of a finished
demo run and a ballast file that leaves less free space than the GeoPackage needs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from faults.conftest import (GPKG, RECEIPT, assert_nothing_lost, assert_same_gpkg, snapshot,
                             workflow_command)

#: free space left on the full disk: room for Snakemake's bookkeeping and the logs, not for the
#: ~2.4 MB GeoPackage
FREE_BYTES = 1_000_000

INSIDE = textwrap.dedent('''
    import json, shutil, subprocess, sys
    from pathlib import Path

    mnt, src, out = (Path(a) for a in sys.argv[1:4])
    first, second = json.loads(sys.argv[4]), json.loads(sys.argv[5])
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128m", "tmpfs", str(mnt)], check=True)
    work = mnt / "work"
    shutil.copytree(src, work, symlinks=True)
    ballast = mnt / "ballast"
    with open(ballast, "wb") as f:
        f.write(b"\\0" * (shutil.disk_usage(mnt).free - int(sys.argv[6])))
    result = {}
    for name, cmd in (("full", first), ("freed", second)):
        if name == "freed":
            ballast.unlink()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        result[name] = {"returncode": proc.returncode, "console": proc.stdout,
                        "listing": sorted(p.name for p in (work / "data/processed/demo").iterdir())}
        shutil.copytree(work / "data/processed", out / name / "data/processed", symlinks=True)
    (out / "result.json").write_text(json.dumps(result))
''')


def _namespace_or_skip() -> None:
    if not shutil.which("unshare") or not shutil.which("mount"):
        pytest.skip("a full disk needs `unshare` and `mount` (util-linux) to make a private tmpfs")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a private mount namespace here (needs root or CAP_SYS_ADMIN): "
                    f"{probe.stderr.strip()}")


def test_full_disk_during_the_final_write_loses_nothing(finished_copy, baseline, tmp_path):
    _namespace_or_skip()
    before = snapshot(finished_copy)
    mnt, out = tmp_path / "mnt", tmp_path / "out"
    mnt.mkdir()
    work = mnt / "work"
    first = workflow_command(work, "--forcerun", "assemble")  # the GeoPackage must be written again
    second = workflow_command(work)
    proc = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c", INSIDE,
                           str(mnt), str(finished_copy), str(out), json.dumps(first), json.dumps(second),
                           str(FREE_BYTES)], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads((out / "result.json").read_text())

    full = result["full"]
    assert full["returncode"] == 1, full["console"][-3000:]
    errors = [line for line in full["console"].splitlines() if line.startswith("healthgeo: ")]
    assert len(errors) == 1 and errors[0].startswith("healthgeo: OutOfSpaceError: no space left on the device while writing "), \
        full["console"][-3000:]
    assert "healthgeo.gpkg" in errors[0] and "MB free" in errors[0]
    assert "Traceback" not in full["console"] and "INSERT INTO" not in full["console"]
    # nothing lost: every earlier output byte for byte (the receipt is Snakemake's output of the
    # failed job, so it goes), and no partial GeoPackage left in the folder
    assert_nothing_lost({k: v for k, v in before.items() if k != str(RECEIPT)}, out / "full")
    assert not [n for n in full["listing"] if n.startswith(".")], full["listing"]
    assert RECEIPT.name not in full["listing"]

    freed = result["freed"]
    assert freed["returncode"] == 0, freed["console"][-3000:]
    assert_same_gpkg(out / "freed" / GPKG, baseline.gpkg)
    assert RECEIPT.name in freed["listing"] and not [n for n in freed["listing"] if n.startswith(".")]
