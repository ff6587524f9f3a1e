"""NetCDF grids as raster inputs (healthgeo.rasters.netcdf_to_geotiff, xarray + dask).

Tiny files built here with xarray (h5netcdf engine for NetCDF4, scipy for NetCDF3) whose time
means are known by hand: a constant per cell plus a zero-mean sawtooth over the hours.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import xarray as xr
import yaml
from rasterio.crs import CRS
from shapely.geometry import box

from healthgeo._errors import ConfigError, CRSError, InputDataError
from healthgeo.config import validate
from healthgeo.rasters import describe_netcdf, netcdf_to_geotiff
from healthgeo.zonal import zonal_mean

REPO = Path(__file__).resolve().parents[1]

ENGINES = {"nc4": ("h5netcdf", "NETCDF4"), "nc3": ("scipy", "NETCDF3_64BIT")}
HOURS = 48
SAW = np.arange(HOURS) % 4 - 1.5  # zero mean over every 4 hours; max +1.5


def write_nc(ds: xr.Dataset, path, kind: str = "nc4", fill=-999.0):
    engine, fmt = ENGINES[kind]
    encoding = {n: {"_FillValue": fill} for n, v in ds.data_vars.items() if v.ndim >= 2}
    ds.to_netcdf(path, engine=engine, format=fmt, encoding=encoding)
    return path


def hourly_lonlat(base: np.ndarray) -> xr.Dataset:
    """48 hourly steps on a 0.1 degree lon/lat grid, latitude ascending (south-up, as CAMS writes)."""
    ny, nx = base.shape
    cube = (base[None] + SAW[:, None, None]).astype(np.float32)
    cube[:24, 0, 0] = np.nan  # cell (lat 52.0, lon 5.0): only hours 24..47 valid -> mean still base
    cube[:, 1, 2] = np.nan  # every hour missing -> nodata
    return xr.Dataset(
        {"no2": (("time", "lat", "lon"), cube, {"units": "ug m-3"})},
        coords={"time": pd.date_range("2023-01-01", periods=HOURS, freq="h"),
                "lat": 52.0 + 0.1 * np.arange(ny), "lon": 5.0 + 0.1 * np.arange(nx)},
    )


BASE = np.array([[10.0, 11.0, 12.0, 13.0],
                 [20.0, 21.0, 22.0, 23.0],
                 [30.0, 31.0, 32.0, 33.0]])  # rows = lat 52.0, 52.1, 52.2


@pytest.mark.parametrize("kind", ["nc4", "nc3"])
def test_hourly_lonlat_mean_transform_crs_and_nodata(tmp_path, kind):
    src = write_nc(hourly_lonlat(BASE), tmp_path / "cams_no2.nc", kind)
    out = netcdf_to_geotiff(src, tmp_path / "no2.tif")
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 4326
        assert ds.dtypes[0] == "float32" and np.isnan(ds.nodata)
        t = ds.transform
        assert (t.a, t.e) == pytest.approx((0.1, -0.1)) and t.b == t.d == 0
        assert (t.c, t.f) == pytest.approx((4.95, 52.25))  # west edge, north edge of cell centres
        data = ds.read(1)
        assert ds.tags()["variable"] == "no2" and ds.tags()["time_steps"] == "48"
    expected = BASE[::-1].copy()  # north-up: lat 52.2 first
    expected[1, 2] = np.nan  # all 48 hours missing
    np.testing.assert_array_equal(data, expected.astype(np.float32))


def test_max_and_wrapped_longitudes(tmp_path):
    ds = hourly_lonlat(BASE)
    ds = ds.assign_coords(lon=[0.0, 1.0, 358.0, 359.0])  # 0..360 longitudes: west of Greenwich last
    out = netcdf_to_geotiff(write_nc(ds, tmp_path / "g.nc"), tmp_path / "g.tif", reduce="max")
    with rasterio.open(out) as r:
        assert (r.transform.c, r.transform.a) == pytest.approx((-2.5, 1.0))
        data = r.read(1)
    expected = BASE[::-1] + 1.5
    expected[1, 2] = np.nan
    expected = expected[:, [2, 3, 0, 1]]  # columns at -2, -1, 0, 1 degrees
    np.testing.assert_array_equal(data, expected.astype(np.float32))


# --- RD New x/y grid, CRS from the file, then prepare + zonal mean ------------------------------

RD_BASE = np.arange(16, dtype=float).reshape(4, 4) * 2 + 20  # rows north -> south


def rd_dataset(with_crs: bool = True) -> xr.Dataset:
    cube = RD_BASE[None, None] + SAW[:24, None, None, None]  # (time, level, y, x), level singleton
    attrs = {"units": "ug m-3", "grid_mapping": "crs"} if with_crs else {"units": "ug m-3"}
    ds = xr.Dataset(
        {"no2": (("time", "level", "y", "x"), cube, attrs),
         "pm25": (("time", "level", "y", "x"), cube / 2, attrs)},
        coords={"time": pd.date_range("2023-01-01", periods=24, freq="h"), "level": [0.0],
                "y": 400350.0 - 100 * np.arange(4), "x": 100050.0 + 100 * np.arange(4)},
    )
    if with_crs:
        ds["crs"] = xr.DataArray(0, attrs={"grid_mapping_name": "oblique_stereographic",
                                           "crs_wkt": CRS.from_epsg(28992).to_wkt()})
    return ds


def test_rd_grid_crs_from_file_prepared_and_zonal_mean(tmp_path, caplog):
    from healthgeo.provenance import write_manifest
    from healthgeo.stages import prepare_raster as stage_prepare_raster

    src = write_nc(rd_dataset(), tmp_path / "model_no2.nc")
    gemeente = gpd.GeoDataFrame({"gemeentecode": ["GM9999"]}, geometry=[box(100000, 400000, 100400, 400400)],
                                crs="EPSG:28992")
    gemeente.to_file(tmp_path / "wards.gpkg", layer="gemeente")
    write_manifest(tmp_path / "no2.json", input="no2", local_path=src,
                   spec={"file": str(src), "variable": "no2"}, records=[])
    out = tmp_path / "rasters" / "no2.tif"
    with caplog.at_level(logging.INFO, logger="healthgeo"):
        stage_prepare_raster(tmp_path / "no2.json", tmp_path / "wards.gpkg", out, margin_m=0.0,
                             crs="EPSG:28992")
    assert "reprojecting" not in caplog.text  # the file's RD New WKT is recognised as the target CRS
    assert "mean over 24 time steps" in caplog.text
    converted = tmp_path / "rasters" / "no2.from_netcdf.tif"
    with rasterio.open(converted) as ds:
        assert ds.crs.to_epsg() == 28992 and ds.dtypes[0] == "float64"
        assert tuple(ds.bounds) == (100000.0, 400000.0, 100400.0, 400400.0)
        np.testing.assert_array_equal(ds.read(1), RD_BASE)
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 28992 and tuple(ds.bounds) == (100000.0, 400000.0, 100400.0, 400400.0)
        np.testing.assert_array_equal(ds.read(1), RD_BASE.astype(np.float32))

    wards = gpd.GeoDataFrame(
        {"buurtcode": ["BU99990001", "BU99990002"]},
        geometry=[box(100000, 400200, 100200, 400400),  # the 2 x 2 cells top left
                  box(100100, 400000, 100400, 400150)],  # row 3 cols 1-3 whole, row 2 cols 1-3 half
        crs="EPSG:28992",
    ).set_index("buurtcode")
    got = zonal_mean(wards, out)["mean"]
    w1 = RD_BASE[0:2, 0:2].mean()
    w2 = (RD_BASE[3, 1:4].sum() + 0.5 * RD_BASE[2, 1:4].sum()) / 4.5
    assert got["BU99990001"] == pytest.approx(w1, rel=1e-12)
    assert got["BU99990002"] == pytest.approx(w2, rel=1e-12)


def test_provenance_note_names_variable_and_steps(tmp_path):
    from healthgeo.sources import fetch_input

    src = write_nc(rd_dataset(), tmp_path / "model.nc")
    _, records = fetch_input("no2", {"file": str(src), "variable": "pm25"}, area={}, cache_dir=tmp_path)
    assert "variable 'pm25'" in records[0].note and "mean over 24 time steps" in records[0].note


# --- errors -------------------------------------------------------------------------------------

def _irregular(tmp_path):
    ds = hourly_lonlat(BASE).assign_coords(lon=[5.0, 5.1, 5.25, 5.3])
    return write_nc(ds, tmp_path / "irregular.nc")


def _extra_dim(tmp_path):
    ds = hourly_lonlat(BASE)
    ds = xr.concat([ds, ds, ds], dim=pd.Index([0.0, 50.0, 250.0], name="level"))
    return write_nc(ds, tmp_path / "levels.nc")


def _rotated(tmp_path):
    ds = hourly_lonlat(BASE).rename(lon="rlon", lat="rlat")
    return write_nc(ds, tmp_path / "rotated.nc")


def _two_variables(tmp_path):
    return write_nc(rd_dataset(), tmp_path / "two.nc")


def _hourly(tmp_path):
    return write_nc(hourly_lonlat(BASE), tmp_path / "hourly.nc")


def _no_crs(tmp_path):
    return write_nc(rd_dataset(with_crs=False), tmp_path / "nocrs.nc")


@pytest.mark.parametrize("make, kw, error, message", [
    (_two_variables, {}, InputDataError, r"2 gridded variables \['no2', 'pm25'\].*`variable:`"),
    (_two_variables, {"variable": "o3"}, InputDataError, r"no data variable 'o3'.*\['no2', 'pm25'\]"),
    (_irregular, {}, InputDataError, "'lon' coordinates are not evenly spaced"),
    (_extra_dim, {}, InputDataError, r"dimension 'level' has 3 values.*isel"),
    (_rotated, {}, InputDataError, "rotated-pole grid"),
    (_hourly, {"reduce": "none"}, InputDataError, "48 time steps.*reduce: mean"),
    (_no_crs, {"variable": "no2"}, CRSError, "declares no CRS.*`crs:`"),
])
def test_errors_say_what_to_do_and_write_nothing(tmp_path, make, kw, error, message):
    src = make(tmp_path)
    with pytest.raises(error, match=message):
        netcdf_to_geotiff(src, tmp_path / "out.tif", **kw)
    assert not (tmp_path / "out.tif").exists()
    with pytest.raises(error, match=message):  # the fetch-time description fails the same way
        describe_netcdf(src, **kw)


def test_configured_crs_for_xy_grid_without_one(tmp_path):
    src = write_nc(rd_dataset(with_crs=False), tmp_path / "nocrs.nc")
    out = netcdf_to_geotiff(src, tmp_path / "out.tif", variable="no2", crs="EPSG:28992")
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 28992


def test_not_a_netcdf_file(tmp_path):
    bad = tmp_path / "truncated.nc"
    bad.write_bytes(b"<html>502 Bad Gateway</html>")
    with pytest.raises(InputDataError, match="neither NetCDF3.*NetCDF4"):
        netcdf_to_geotiff(bad, tmp_path / "out.tif")


# --- dask ---------------------------------------------------------------------------------------

def test_chunked_reduction_by_dask_equals_numpy_mean(tmp_path, caplog):
    from dask.callbacks import Callback

    rng = np.random.default_rng(0)
    cube = rng.gamma(4.0, 6.0, size=(HOURS, 5, 7))
    cube[rng.random(cube.shape) < 0.2] = np.nan
    ds = xr.Dataset({"no2": (("time", "latitude", "longitude"), cube)},
                    coords={"time": np.arange(HOURS), "latitude": 53.0 - 0.1 * np.arange(5),
                            "longitude": 4.0 + 0.1 * np.arange(7)})
    ds["time"].attrs["standard_name"] = "time"
    src = write_nc(ds, tmp_path / "random.nc", "nc3")

    tasks = []
    with caplog.at_level(logging.INFO, logger="healthgeo"), \
            Callback(pretask=lambda key, dsk, state: tasks.append(key)):
        out = netcdf_to_geotiff(src, tmp_path / "chunked.tif", chunks={"time": 8})
    assert "dask chunks time=8" in caplog.text and "(6 chunks)" in caplog.text
    assert len(tasks) >= 6  # computed by dask, one or more tasks per time chunk
    with rasterio.open(out) as r:
        chunked = r.read(1)
        assert r.dtypes[0] == "float64"
    np.testing.assert_allclose(chunked, np.nanmean(cube, axis=0), rtol=1e-12)

    plain = netcdf_to_geotiff(src, tmp_path / "plain.tif", chunks=None)
    with rasterio.open(plain) as r:
        np.testing.assert_allclose(r.read(1), chunked, rtol=1e-12)

    with xr.open_dataset(src, engine="scipy", chunks={"time": 8}) as opened:
        assert opened["no2"].chunks is not None


# --- config -------------------------------------------------------------------------------------

def test_config_accepts_netcdf_keys_only_for_netcdf_rasters():
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["inputs"]["no2"] = {"file": "cams_no2_2023.nc", "variable": "no2_conc", "reduce": "mean"}
    assert validate(cfg)["inputs"]["no2"]["variable"] == "no2_conc"
    cfg["inputs"]["no2"]["reduce"] = "median"
    with pytest.raises(ConfigError, match=r"inputs.no2.reduce: 'median' is not allowed"):
        validate(cfg)
    cfg["inputs"]["no2"] = {"file": "conc_no2_2023.asc", "crs": "EPSG:28992", "variable": "no2"}
    with pytest.raises(ConfigError, match=r"inputs.no2: \['variable'\] apply only to a NetCDF"):
        validate(cfg)
