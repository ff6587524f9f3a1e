"""Every input reader turns a missing, empty, truncated or garbage file into one typed line naming it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from healthgeo._errors import InputDataError, OutOfSpaceError
from healthgeo.io import atomic_write, is_out_of_space, write_json
from healthgeo.rasters import prepare_raster
from healthgeo.sources import (read_boundaries, read_dwellings, read_gcn_ascii, read_health, read_kerncijfers,
                               read_luchtmeetnet, read_osm_amenities, read_osm_green, read_population_grid,
                               read_samenmeten_csv)
from healthgeo.sources.osm_network import read_network_gpkg, read_osm_xml

READERS = {
    "boundaries.geojson": lambda p: read_boundaries(p, "buurt"),
    "kwb.csv": read_kerncijfers,
    "kwb.xlsx": read_kerncijfers,
    "health.json": read_health,
    "conc_no2.asc": read_gcn_ascii,
    "lden.tif": lambda p: prepare_raster(p, p.with_name("out.tif"), bounds=(0, 0, 100, 100)),
    "green.osm": read_osm_green,
    "amenities.osm": read_osm_amenities,
    "network.osm": read_osm_xml,
    "network.gpkg": read_network_gpkg,
    "dwellings.gpkg": read_dwellings,
    "vk100.gpkg": read_population_grid,
    "stations.csv": read_luchtmeetnet,
    "sensors.csv": read_samenmeten_csv,
}


def _one_line(err: InputDataError, path: Path, what: str):
    msg = str(err)
    assert "\n" not in msg and len(msg) < 600, msg
    assert str(path) in msg and what in msg, msg


@pytest.mark.parametrize("name", sorted(READERS))
def test_empty_file(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(b"")
    with pytest.raises(InputDataError) as e:
        READERS[name](p)
    _one_line(e.value, p, "is empty (0 bytes)")


@pytest.mark.parametrize("name", sorted(READERS))
def test_missing_file(tmp_path, name):
    p = tmp_path / name
    with pytest.raises(InputDataError) as e:
        READERS[name](p)
    _one_line(e.value, p, "does not exist")


GARBAGE = b"\x00\x9f\x92\x96 definitely not what the reader expects <<<<\xff\xfe" * 64


@pytest.mark.parametrize("name", sorted(READERS))
def test_garbage_file(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(GARBAGE)
    with pytest.raises(InputDataError) as e:  # SchemaDriftError is an InputDataError too
        READERS[name](p)
    msg = str(e.value)
    assert "\n" not in msg and str(p) in msg, msg


def _tif(path, n=64):
    a = np.full((n, n), 55.0, dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1, dtype="float32", crs="EPSG:28992",
                       transform=from_origin(0, n * 10, 10, 10), nodata=-9999.0) as ds:
        ds.write(a, 1)
    return path


def test_raster_truncated_after_its_header(tmp_path):
    full = _tif(tmp_path / "full.tif")
    p = tmp_path / "lden.tif"
    p.write_bytes(full.read_bytes()[:600])  # header and tags survive, the cell values do not
    with pytest.raises(InputDataError) as e:
        prepare_raster(p, tmp_path / "out.tif", bounds=(0, 0, 640, 640), quantity="noise_lden")
    _one_line(e.value, p, "cannot be read")
    assert not (tmp_path / "out.tif").exists()


def test_osm_xml_truncated(tmp_path):
    p = tmp_path / "city.osm"
    p.write_text('<?xml version="1.0"?>\n<osm version="0.6"><node id="1" lat="52.0" lon="5.1"/><way id="2"><nd re',
                 encoding="utf-8")
    with pytest.raises(InputDataError) as e:
        read_osm_xml(p)
    _one_line(e.value, p, "cannot be read as OSM XML")


def test_csv_truncated_mid_row_is_read_or_refused_with_its_name(tmp_path):
    p = tmp_path / "kwb.csv"
    p.write_text("gwb_code_10;regio;recs;a_inw\nBU99990101;A;Buurt;5", encoding="utf-8")
    with pytest.raises(InputDataError) as e:  # the truncated file lacks columns: schema drift, naming the file
        read_kerncijfers(p)
    assert str(p) in str(e.value)


# --------------------------------------------------------------------------- out of space
@pytest.mark.parametrize("err", [
    OSError(28, "No space left on device"),
    sqlite3.OperationalError("database or disk is full"),
    RuntimeError("sqlite3_exec(INSERT INTO t VALUES (" + "1," * 2800 + "1)) failed: database or disk is full"),
])
def test_out_of_space_while_writing_is_reported_as_such(tmp_path, err):
    target = tmp_path / "out.json"
    write_json({"old": True}, target)
    with pytest.raises(OutOfSpaceError) as e:
        with atomic_write(target) as tmp:
            tmp.write_text("partial")
            raise err
    msg = str(e.value)
    assert msg.startswith(f"no space left on the device while writing {target}") and len(msg) < 400
    assert target.read_text() == '{\n  "old": true\n}'  # the previous output is untouched
    assert [f.name for f in tmp_path.iterdir()] == ["out.json"]  # and no temporary file is left


def test_other_write_errors_are_not_called_out_of_space(tmp_path):
    assert not is_out_of_space(OSError(13, "Permission denied"))
    with pytest.raises(ValueError):
        with atomic_write(tmp_path / "x.txt"):
            raise ValueError("bug")
