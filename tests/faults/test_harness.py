"""The suite's own helpers: a comparison that cannot see a difference would make every case pass."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from faults.conftest import assert_nothing_lost, assert_same_gpkg, read_layers, snapshot


def _connect(path):
    """sqlite3 with stand-ins for the spatial functions of the GeoPackage's R-tree triggers."""
    con = sqlite3.connect(path)
    for fn in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
        con.create_function(fn, 1, lambda g: 0)
    return con


def test_baseline_gpkg_equals_itself_and_a_timestamp_change_is_ignored(baseline, tmp_path):
    copy = tmp_path / "copy.gpkg"
    shutil.copy(baseline.gpkg, copy)
    with _connect(copy) as con:
        con.execute("UPDATE metadata SET value = '2000-01-01T00:00:00+00:00' WHERE key = 'created_at'")
        con.execute("UPDATE provenance SET retrieved_at = '2000-01-01T00:00:00+00:00'")
    assert_same_gpkg(copy, baseline.gpkg)


@pytest.mark.parametrize("sql", [
    "UPDATE buurt SET no2_ugm3_mean = no2_ugm3_mean + 1e-9 WHERE fid = 3",
    "UPDATE data_dictionary SET description = 'x' WHERE fid = 1",
    "DELETE FROM wijk WHERE fid = 2",
])
def test_any_change_of_a_value_is_seen(baseline, tmp_path, sql):
    copy = tmp_path / "copy.gpkg"
    shutil.copy(baseline.gpkg, copy)
    with _connect(copy) as con:
        con.execute(sql)
    with pytest.raises(AssertionError):
        assert_same_gpkg(copy, baseline.gpkg)


def test_every_layer_is_read(baseline):
    layers = read_layers(baseline.gpkg)
    assert {"buurt", "wijk", "gemeente", "data_dictionary", "metadata", "provenance"} <= set(layers)
    assert "geometry" in layers["buurt"] and "created_at" not in set(layers["metadata"]["key"])


def test_a_lost_or_changed_output_is_seen(finished_copy):
    before = snapshot(finished_copy)
    assert "data/processed/demo/healthgeo.gpkg" in before
    assert_nothing_lost(before, finished_copy)
    table = next(p for p in before if p.endswith(".parquet"))
    (finished_copy / table).write_bytes(b"")
    with pytest.raises(AssertionError, match="changed"):
        assert_nothing_lost(before, finished_copy)
    (finished_copy / table).unlink()
    with pytest.raises(AssertionError, match="lost"):
        assert_nothing_lost(before, finished_copy)
