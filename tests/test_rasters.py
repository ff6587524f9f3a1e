"""Tests of raster preparation (healthgeo.rasters.prepare_raster)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from healthgeo._errors import CRSError, InputDataError
from healthgeo._vocab import RASTER_NODATA_SENTINELS
from healthgeo.rasters import DEFAULT_NODATA, prepare_raster


def write_asc(path, arr, xll, yll, cell, nodata=-999):
    rows = "\n".join(" ".join(f"{v:.4E}" for v in row) for row in arr)
    path.write_text(
        f"NCOLS {arr.shape[1]}\nNROWS {arr.shape[0]}\nXLLCORNER {xll}\nYLLCORNER {yll}\n"
        f"CELLSIZE {cell}\nNODATA_VALUE {nodata}\n{rows}\n"
    )
    return path


@pytest.fixture
def asc(tmp_path):
    # 4 x 5 cells of 1 km, lower-left (100000, 400000), like the RIVM GCN grids (no .prj)
    arr = np.arange(20, dtype=float).reshape(4, 5) + 10
    arr[0, 0] = -999
    return write_asc(tmp_path / "conc_no2.asc", arr, 100000, 400000, 1000)


def test_ascii_without_crs_needs_assume_crs(asc, tmp_path):
    with pytest.raises(CRSError, match="crs:"):
        prepare_raster(asc, tmp_path / "out.tif", bounds=(101000, 401000, 103000, 403000))
    assert not (tmp_path / "out.tif").exists()


def test_ascii_georeferenced_clipped_and_nodata(asc, tmp_path):
    out = prepare_raster(asc, tmp_path / "out.tif", bounds=(101200, 401200, 102800, 402800),
                         margin_m=500, assume_crs="EPSG:28992", nodata=RASTER_NODATA_SENTINELS)
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 28992
        # bounds + margin = 100700..103300 x 400700..403300 -> whole cells 100000..104000 x 400000..404000
        assert tuple(ds.bounds) == (100000.0, 400000.0, 104000.0, 404000.0)
        assert ds.res == (1000.0, 1000.0)
        assert ds.nodata == DEFAULT_NODATA
        data = ds.read(1)
        assert ds.compression is not None
    assert data[0, 0] == DEFAULT_NODATA  # -999 became the explicit nodata
    # the cell centred at (101500, 402500) is row 1 (from the top), col 1 of the source -> 10 + 6
    with rasterio.open(out) as ds:
        v = next(ds.sample([(101500, 402500)]))[0]
    assert v == 16.0


def test_rivm_float_min_sentinel_and_all_nodata(tmp_path):
    arr = np.full((300, 300), -3.4028235e38, dtype=np.float32)
    arr[:10, :10] = 55.0
    src = tmp_path / "lden.tif"
    with rasterio.open(src, "w", driver="GTiff", width=300, height=300, count=1, dtype="float32",
                       crs="EPSG:28992", transform=from_origin(130000, 460000, 10, 10)) as ds:
        ds.write(arr, 1)  # no nodata declared, like some RIVM downloads
    out = prepare_raster(src, tmp_path / "o.tif", bounds=(130000, 457000, 133000, 460000),
                         nodata=[-3.4e38])
    with rasterio.open(out) as ds:
        d = ds.read(1)
        assert ds.profile["tiled"] and ds.profile["blockxsize"] == 256
    assert (d == DEFAULT_NODATA).sum() == 300 * 300 - 100 and (d == 55.0).sum() == 100
    with pytest.raises(InputDataError, match="only nodata"):
        prepare_raster(src, tmp_path / "x.tif", bounds=(131000, 457000, 133000, 459000), nodata=[-3.4e38])
    with pytest.raises(InputDataError, match="outside the raster"):
        prepare_raster(src, tmp_path / "y.tif", bounds=(0, 0, 1000, 1000))


def test_reprojection_is_logged_and_lands_in_rd(tmp_path, caplog):
    # a small WGS84 raster around Utrecht centre
    src = tmp_path / "wgs.tif"
    arr = np.arange(100, dtype=np.float32).reshape(10, 10)
    with rasterio.open(src, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(5.05, 52.12, 0.01, 0.01), nodata=-1) as ds:
        ds.write(arr, 1)
    with caplog.at_level(logging.INFO, logger="healthgeo.rasters"):
        out = prepare_raster(src, tmp_path / "rd.tif", bounds=(134000, 452000, 138000, 456000),
                             margin_m=100, resampling="nearest")
    msg = " ".join(r.getMessage() for r in caplog.records)
    assert "EPSG:4326" in msg and "EPSG:28992" in msg and "reprojecting" in msg
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 28992
        l, b, r, t = ds.bounds
        assert l <= 133900 and b <= 451900 and r >= 138100 and t >= 456100
        assert (ds.read(1) != ds.nodata).mean() > 0.9


def test_truncated_raster_is_a_clear_error(tmp_path):
    from healthgeo._errors import InputDataError
    from healthgeo.zonal import GridSpec

    bad = tmp_path / "conc_no2_2023.asc"
    bad.write_text("ncols 3\nnrows 2\nxllcorner 0\n")  # a download cut off after three header lines
    with pytest.raises(InputDataError, match="cannot be read as a raster"):
        prepare_raster(bad, tmp_path / "out.tif", bounds=(0, 0, 1, 1))
    with pytest.raises(InputDataError, match="cannot be read as a raster"):
        GridSpec.from_raster(bad)
    assert not (tmp_path / "out.tif").exists()
