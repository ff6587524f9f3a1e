"""Tests of healthgeo.surface: monitoring sites, IDW surfaces, LOO cross-validation, grid checks.

Synthetic cases are worked out by hand (values in the comments); the real-data checks use
../shared/data/utrecht (skipped when absent).
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Point

from healthgeo import surface as S
from healthgeo._errors import CRSError, InputDataError
from healthgeo.dictionary import ColumnDoc


def sites(xy, values, weights=None, network=None):
    """A monitoring-points frame as monitoring_points returns it."""
    n = len(values)
    return gpd.GeoDataFrame({
        "site_id": [f"S{i}" for i in range(n)], "name": [f"site {i}" for i in range(n)],
        "network": network or ["luchtmeetnet"] * n, "site_type": ["background"] * n,
        "annual_mean_ugm3": np.asarray(values, float), "completeness": [1.0] * n,
        "weight": np.ones(n) if weights is None else np.asarray(weights, float),
    }, geometry=[Point(x, y) for x, y in xy], crs="EPSG:28992")


def write_raster(path: Path, arr, x0=0.0, y1=1000.0, cell=100.0, crs="EPSG:28992", nodata=-9999.0):
    arr = np.asarray(arr, dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                       dtype="float32", crs=crs, transform=from_origin(x0, y1, cell, cell), nodata=nodata) as ds:
        ds.write(arr, 1)
    return path


def cell_value(arr, transform, x, y):
    c = int((x - transform.c) // transform.a)
    r = int((y - transform.f) // transform.e)
    return arr[r, c]


# ------------------------------------------------------------------------------------------ IDW
def test_idw_is_exact_at_the_sites():
    # sites at the centres of cells (0,0), (1,3) and (4,2) of a 100 m grid over (0,0)-(500,500)
    pts = sites([(50, 450), (350, 350), (250, 50)], [10.0, 20.0, 40.0], weights=[1, 0.5, 1])
    arr, t = S.idw_surface(pts, bounds=(0, 0, 500, 500), cell_size=100)
    assert arr.shape == (5, 5) and (t.c, t.f, t.a) == (0, 500, 100)
    assert cell_value(arr, t, 50, 450) == 10.0
    assert cell_value(arr, t, 350, 350) == 20.0
    assert cell_value(arr, t, 250, 50) == 40.0
    # everything else lies strictly between the extremes
    assert np.nanmin(arr) >= 10.0 and np.nanmax(arr) <= 40.0


def test_midpoint_of_two_sites_is_their_mean_with_power_2():
    # sites at x=50 and x=250; the cell centre x=150 is equidistant: (10 + 20) / 2 = 15
    pts = sites([(50, 50), (250, 50)], [10.0, 20.0])
    arr, t = S.idw_surface(pts, bounds=(0, 0, 300, 100), cell_size=100, power=2)
    assert arr.shape == (1, 3)
    np.testing.assert_allclose(arr[0], [10.0, 15.0, 20.0])
    # a sensor (weight 0.5) counts half: (1*10 + 0.5*20) / 1.5 = 13.333...
    pts = sites([(50, 50), (250, 50)], [10.0, 20.0], weights=[1.0, 0.5])
    arr, _ = S.idw_surface(pts, bounds=(0, 0, 300, 100), cell_size=100)
    assert arr[0, 1] == pytest.approx(40.0 / 3.0)


def test_power_and_distance_weights_by_hand():
    # sites at x=50 (10) and x=350 (20); cell centre x=150 is 100 m / 200 m away
    # power 2: weights 1/100^2, 1/200^2 -> (4*10 + 1*20) / 5 = 12 ; power 1: (2*10 + 20) / 3 = 13.33
    pts = sites([(50, 50), (350, 50)], [10.0, 20.0])
    a2, _ = S.idw_surface(pts, bounds=(0, 0, 400, 100), cell_size=100, power=2)
    a1, _ = S.idw_surface(pts, bounds=(0, 0, 400, 100), cell_size=100, power=1)
    assert a2[0, 1] == pytest.approx(12.0)
    assert a1[0, 1] == pytest.approx(40.0 / 3.0)


def test_colocated_sites_give_their_weighted_mean_not_a_division_by_zero():
    pts = sites([(50, 50), (50, 50), (250, 50)], [10.0, 16.0, 30.0], weights=[1.0, 0.5, 1.0])
    arr, _ = S.idw_surface(pts, bounds=(0, 0, 300, 100), cell_size=100)
    assert arr[0, 0] == pytest.approx((10 + 0.5 * 16) / 1.5)  # 12
    assert np.isfinite(arr).all()


def test_max_distance_leaves_far_cells_empty():
    pts = sites([(50, 50), (150, 50)], [10.0, 20.0])
    arr, _ = S.idw_surface(pts, bounds=(0, 0, 500, 100), cell_size=100, max_distance=150)
    # centres 250 (100 m from the site at 150) has a value; 350, 450 are farther than 150 m from both
    assert np.isfinite(arr[0, :3]).all() and np.isnan(arr[0, 3:]).all()
    assert arr[0, 2] == 20.0  # only the site at 150 is within reach


def test_bounds_snap_outwards_to_the_cell_size():
    pts = sites([(120, 130), (480, 420)], [1.0, 2.0])
    arr, t = S.idw_surface(pts, bounds=(120, 130, 480, 420), cell_size=100)
    assert (t.c, t.f) == (100, 500) and arr.shape == (4, 4)


def test_constant_background_with_zero_residuals_is_the_background(tmp_path):
    bg = write_raster(tmp_path / "bg.tif", np.full((10, 10), 20.0))
    pts = sites([(150, 150), (750, 450), (350, 850)], [20.0, 20.0, 20.0])
    arr, t = S.idw_surface(pts, bounds=(0, 0, 1000, 1000), cell_size=50, background=bg)
    assert arr.shape == (20, 20)
    np.testing.assert_allclose(arr, 20.0, atol=1e-5)


def test_background_pattern_is_kept_and_residuals_are_added(tmp_path):
    # background rises 1 ug/m3 per 100 m column (10, 11, ..., 19); every site measures background + 2
    grid = np.tile(np.arange(10, 20, dtype=float), (10, 1))
    bg = write_raster(tmp_path / "bg.tif", grid)
    xy = [(150, 150), (750, 450), (350, 850)]
    vals = [grid[8, 1] + 2, grid[5, 7] + 2, grid[1, 3] + 2]  # 13, 19, 15
    arr, t = S.idw_surface(sites(xy, vals), bounds=(0, 0, 1000, 1000), cell_size=100, background=bg)
    np.testing.assert_allclose(arr, grid + 2, atol=1e-5)
    # plain IDW cannot reproduce the gradient away from the sites
    plain, _ = S.idw_surface(sites(xy, vals), bounds=(0, 0, 1000, 1000), cell_size=100)
    assert not np.allclose(plain, grid + 2, atol=0.5)


def test_background_beyond_max_distance_keeps_the_background(tmp_path):
    bg = write_raster(tmp_path / "bg.tif", np.full((1, 10), 10.0), y1=100)
    pts = sites([(50, 50), (150, 50)], [14.0, 14.0])  # residual +4 near the sites
    arr, _ = S.idw_surface(pts, bounds=(0, 0, 1000, 100), cell_size=100, background=bg, max_distance=150)
    np.testing.assert_allclose(arr[0], [14, 14, 14] + [10] * 7, atol=1e-5)


def test_background_without_crs_needs_background_crs(tmp_path):
    asc = tmp_path / "bg.asc"
    asc.write_text("ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 500\nNODATA_value -999\n"
                   "10 12\n14 -999\n")
    pts = sites([(250, 750), (750, 750), (250, 250)], [11.0, 12.0, 15.0])
    with pytest.raises(CRSError, match="background_crs"):
        S.idw_surface(pts, bounds=(0, 0, 1000, 1000), cell_size=500, background=asc)
    arr, _ = S.idw_surface(pts, bounds=(0, 0, 1000, 1000), cell_size=500, background=asc,
                           background_crs="EPSG:28992")
    # residuals +1, 0, +1 at the three sites; the nodata cell (lower right) stays empty
    np.testing.assert_allclose(arr[0], [11.0, 12.0], atol=1e-5)
    assert arr[1, 0] == pytest.approx(15.0) and np.isnan(arr[1, 1])


def test_background_in_another_crs_is_refused(tmp_path):
    bg = write_raster(tmp_path / "bg.tif", np.full((2, 2), 1.0), crs="EPSG:3035")
    with pytest.raises(CRSError, match="prepare_raster"):
        S.idw_surface(sites([(50, 950)], [1.0]), bounds=(0, 0, 100, 100), background=bg)


# ------------------------------------------------------------------------------------------ LOO
def test_loo_three_collinear_sites_by_hand():
    # sites x = 0, 100, 300 with 10, 20, 40; power 2
    #  site 0 from x=100 (d 100) and x=300 (d 300): weights 9:1 -> (9*20 + 40) / 10 = 22     (error +12)
    #  site 1 from x=0 (d 100) and x=300 (d 200):   weights 4:1 -> (4*10 + 40) / 5  = 16     (error -4)
    #  site 2 from x=0 (d 300) and x=100 (d 200):   weights 4:9 -> (4*10 + 9*20)/13 = 220/13 (error -300/13)
    pts = sites([(0, 0), (100, 0), (300, 0)], [10.0, 20.0, 40.0])
    pred = S.loo_predictions(pts)
    np.testing.assert_allclose(pred["predicted_ugm3"], [22.0, 16.0, 220 / 13])
    np.testing.assert_allclose(pred["error_ugm3"], [12.0, -4.0, -300 / 13])
    assert list(pred["site_id"]) == ["S0", "S1", "S2"]
    m = S.loo_cv(pts)
    e = np.array([12.0, -4.0, -300 / 13])
    assert m["n"] == 3
    assert m["rmse"] == pytest.approx(math.sqrt((144 + 16 + (300 / 13) ** 2) / 3))  # 15.26
    assert m["mae"] == pytest.approx((12 + 4 + 300 / 13) / 3)                      # 13.03
    assert m["bias"] == pytest.approx(e.mean())                                    # -5.03
    assert m["r"] == pytest.approx(np.corrcoef([22, 16, 220 / 13], [10, 20, 40])[0, 1])
    assert m["r"] < 0  # IDW predicts the high end site from lower neighbours


def test_k_nearest_limits_the_neighbours():
    # k = 1 is nearest-neighbour: LOO of x = 0, 100, 300 takes 20, 10, 20; the surface is Voronoi-like
    pts = sites([(0, 0), (100, 0), (300, 0)], [10.0, 20.0, 40.0])
    np.testing.assert_allclose(S.loo_predictions(pts, k=1)["predicted_ugm3"], [20.0, 10.0, 20.0])
    # k = 2 for site 0 (neighbours at 100 and 300 m) equals the full answer 22; with a 4th, far site it still does
    far = sites([(0, 0), (100, 0), (300, 0), (5000, 0)], [10.0, 20.0, 40.0, 99.0])
    assert S.loo_predictions(far, k=2)["predicted_ugm3"].iloc[0] == pytest.approx(22.0)
    # a co-located pair elsewhere makes the query fetch extra neighbours; still only k are used
    pair = sites([(0, 0), (100, 0), (300, 0), (300, 3)], [10.0, 20.0, 40.0, 40.0])
    np.testing.assert_allclose(S.loo_predictions(pair, k=1)["predicted_ugm3"], [20.0, 10.0, 20.0, 20.0])
    near = sites([(20, 0), (100, 0), (300, 0)], [10.0, 20.0, 40.0])
    arr, _ = S.idw_surface(near, bounds=(0, -50, 400, 50), cell_size=100, k=1)
    np.testing.assert_allclose(arr[0], [10.0, 20.0, 40.0, 40.0])  # centres x 50, 150, 250, 350


def test_loo_leaves_colocated_sites_out():
    # a sensor on the same spot as site 0 would "predict" it exactly; it is excluded (10 m radius)
    pts = sites([(0, 0), (100, 0), (300, 0), (3, 4)], [10.0, 20.0, 40.0, 10.0])
    pred = S.loo_predictions(pts)
    assert pred["predicted_ugm3"].iloc[0] == pytest.approx(22.0)
    inclusive = S.loo_predictions(pts, exclude_radius=0.0)
    # from d = 5, 100, 300 m: weights 3600 : 9 : 1 -> (36000 + 180 + 40) / 3610 = 10.033
    assert inclusive["predicted_ugm3"].iloc[0] == pytest.approx(36220 / 3610)


def test_loo_with_background_predicts_from_residuals(tmp_path):
    # background 10 everywhere; residuals 0, 10, 30 -> same errors as the plain case
    bg = write_raster(tmp_path / "bg.tif", np.full((2, 4), 10.0), x0=-50, y1=100)
    pts = sites([(0, 0), (100, 0), (300, 0)], [10.0, 20.0, 40.0])
    m_bg = S.loo_cv(pts, background=bg)
    m = S.loo_cv(pts)
    for key in ("rmse", "mae", "bias", "r"):
        assert m_bg[key] == pytest.approx(m[key], abs=1e-5)


# ------------------------------------------------------------------------------------------ build
def test_build_surface_writes_a_documented_geotiff(tmp_path):
    pts = sites([(25, 25), (125, 25), (325, 25)], [10.0, 20.0, 40.0])  # 100/200/300 m apart, as above
    out = tmp_path / "out" / "no2_surface.tif"
    res = S.build_surface(points=pts, bounds=(0, -100, 400, 100), out_path=out, cell_size=50)
    assert res.path == out and res.n_sites == 3 and res.loo["n"] == 3
    assert res.loo["rmse"] == pytest.approx(math.sqrt((144 + 16 + (300 / 13) ** 2) / 3))
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 28992
        assert ds.dtypes[0] == "float32" and ds.nodata == -9999.0
        assert ds.profile["tiled"] and ds.profile["compress"] == "deflate"
        assert ds.transform.a == 50 and (ds.width, ds.height) == (8, 4)
        assert float(ds.tags()["loo_n"]) == 3 and "IDW" in ds.tags()["method"]
        a = ds.read(1)
    assert np.all(a != -9999.0)
    # cells centred on the sites (row 1 = y 0..50; columns x 0..50, 100..150, 300..350)
    np.testing.assert_allclose(a[1, [0, 2, 6]], [10.0, 20.0, 40.0])
    assert sorted(p.name for p in out.parent.iterdir()) == ["no2_surface.tif"]  # no temp files left


def test_surface_note_reads_like_the_provenance_example(tmp_path):
    res = S.SurfaceResult(path=tmp_path / "x.tif", loo={"rmse": 2.314, "mae": 1.9, "bias": 0.1234, "r": 0.8312,
                                                        "n": 7},
                          n_sites=7, method="IDW", power=2.0, n_stations=7, background="gcn.asc",
                          background_label="RIVM background")
    assert S.surface_note(res) == ("IDW (power 2) of 7 sites on RIVM background; "
                                   "LOO RMSE 2.31 ug/m3, bias 0.12, r 0.83")
    res2 = S.SurfaceResult(path=tmp_path / "x.tif", loo={"rmse": 1.0, "bias": -0.5, "r": float("nan"), "n": 3},
                           n_sites=3, method="IDW", n_stations=2, n_sensors=1)
    assert S.surface_note(res2) == ("IDW (power 2) of 3 sites (2 stations, 1 sensors); "
                                    "LOO RMSE 1.00 ug/m3, bias -0.50, r nan")


@pytest.mark.parametrize("n", [0, 1, 2])
def test_fewer_than_three_sites_is_an_input_error(tmp_path, n):
    pts = sites([(0, 0), (100, 0)][:n], [10.0, 20.0][:n])
    out = tmp_path / "s.tif"
    with pytest.raises(InputDataError, match="at least 3") as e:
        S.build_surface(points=pts, bounds=(0, 0, 100, 100), out_path=out)
    assert "grid" in str(e.value) and "stations" in str(e.value)
    assert not out.exists()


def test_sites_far_from_the_area_do_not_count(tmp_path):
    pts = sites([(0, 0), (100, 0), (50_000, 0)], [10.0, 20.0, 30.0])
    with pytest.raises(InputDataError, match="only 2 usable"):
        S.build_surface(points=pts, bounds=(0, 0, 100, 100), out_path=tmp_path / "s.tif", search_buffer=10_000)


# ------------------------------------------------------------------------------------------ sites
def _stations_pair():
    pts = gpd.GeoDataFrame({"name": ["A-straat", "B-park", "C-fabriek", "D"],
                            "station_type": ["verkeer", "achtergrond", "industrie", ""],
                            "area_type": ["stad"] * 4},
                           geometry=[Point(0, 0), Point(100, 0), Point(200, 0), Point(300, 0)],
                           index=pd.Index(["NL1", "NL2", "NL3", "NL4"], name="station"), crs="EPSG:28992")
    annual = pd.DataFrame({"formula": "NO2", "year": 2023, "mean_ugm3": [30.0, 12.0, 20.0, 15.0],
                           "completeness": [0.99, 0.90, 0.50, 0.80]},
                          index=pd.Index(["NL1", "NL2", "NL3", "NL4"], name="station"))
    return pts, annual


def _sensors_pair():
    pts = gpd.GeoDataFrame(geometry=[Point(10, 10), Point(20, 20)], index=pd.Index(["X1", "X2"], name="sensor"),
                           crs="EPSG:28992")
    annual = pd.DataFrame({"mean_ugm3": [25.0, 40.0, np.nan], "completeness": [0.8, 0.9, 0.2]},
                          index=pd.Index(["X1", "X3", "X4"], name="sensor"))
    return pts, annual


def test_monitoring_points_joins_filters_and_weights(caplog):
    caplog.set_level("INFO", logger="healthgeo.surface")
    pts = S.monitoring_points(_stations_pair(), _sensors_pair(), sensor_weight=0.4)
    assert list(pts.columns) == S.POINT_COLUMNS + ["geometry"]
    assert list(pts["site_id"]) == ["NL1", "NL2", "NL4", "X1"]
    assert list(pts["site_type"]) == ["traffic", "background", "unknown", "unknown"]
    assert list(pts["network"]) == ["luchtmeetnet"] * 3 + ["samenmeten"]
    assert list(pts["weight"]) == [1.0, 1.0, 1.0, 0.4]
    assert pts.loc[pts.site_id == "X1", "annual_mean_ugm3"].item() == 25.0
    assert pts.crs.to_epsg() == 28992
    dropped = pts.attrs["dropped"]
    assert set(dropped) == {"NL3", "X3", "X4"}
    assert "completeness" in dropped["NL3"] and dropped["X3"] == "no location"
    assert "NL3" in caplog.text and "X3" in caplog.text


def test_monitoring_points_options_and_errors():
    pts = S.monitoring_points(_stations_pair(), None, min_completeness=0.4, max_annual_ugm3=25)
    assert list(pts["site_id"]) == ["NL2", "NL3", "NL4"]
    assert S.monitoring_points(None, None).empty
    with pytest.raises(InputDataError, match="pollutant"):
        S.monitoring_points(_stations_pair(), pollutant="pm25")
    with pytest.raises(InputDataError, match="sensor_weight"):
        S.monitoring_points(_stations_pair(), sensor_weight=0)
    wgs = _stations_pair()
    reproj = S.monitoring_points((wgs[0].to_crs("EPSG:4326"), wgs[1]))
    assert reproj.crs.to_epsg() == 28992 and reproj.geometry.x.iloc[0] == pytest.approx(0.0, abs=1e-3)


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    from healthgeo.demo import generate

    return generate(tmp_path_factory.mktemp("demo"), seed=42)


def test_monitoring_points_on_the_demo_files(demo_files):
    from healthgeo.sources import read_luchtmeetnet_csv, read_samenmeten_csv

    st = read_luchtmeetnet_csv(demo_files["stations"])
    # the demo covers Jan-Feb (stations) and Jan-Mar (sensors): annual completeness is 15-24 %,
    # so every site fails the default 75 % threshold
    se75 = read_samenmeten_csv(demo_files["sensors"], demo_files["sensor_locations"])
    assert S.monitoring_points(st, se75).empty
    se = read_samenmeten_csv(demo_files["sensors"], demo_files["sensor_locations"], min_completeness=0.15)
    pts = S.monitoring_points(st, se, min_completeness=0.15)
    assert list(pts["site_id"]) == ["NL99901", "NL99902", "NL99903", "NL99904", "NL99905",
                                    "DMS_ns001", "DMS_ns002", "DMS_ns003", "DMS_ns004", "DMS_ns005"]
    assert pts.set_index("site_id").loc["NL99902", "site_type"] == "traffic"
    assert pts.set_index("site_id").loc["NL99903", "name"] == "Demostad-Stadspark"
    # DMS_pu101/102 started late (12 %), DMS_pu103 has no location row in things.csv
    assert pts.attrs["dropped"] == {"DMS_pu101": "completeness below 15%", "DMS_pu102": "completeness below 15%",
                                    "DMS_pu103": "no location"}
    # stations' means equal the reader's; sensors carry the sensor weight
    assert np.allclose(pts["annual_mean_ugm3"].iloc[:5], st[1]["mean_ugm3"])
    assert (pts.loc[pts.network == "samenmeten", "weight"] == 0.5).all()
    # build straight from the demo paths, on the demo GCN background
    res = S.build_surface(demo_files["stations"], demo_files["sensors"], min_completeness=0.15,
                          bounds=(150_000, 440_000, 160_000, 450_000), out_path=Path(demo_files["no2"]).parent
                          / "surface.tif", background=demo_files["no2"], background_crs="EPSG:28992")
    assert res.n_sites == 10 and res.n_stations == 5 and res.n_sensors == 5 and res.loo["n"] == 10
    assert "on RIVM background" in S.surface_note(res)


# ------------------------------------------------------------------------------------------ grid check
def test_grid_vs_monitoring_and_summary_by_hand(tmp_path):
    grid = write_raster(tmp_path / "g.tif", [[10.0, 20.0], [30.0, -9999.0]], x0=0, y1=200, cell=100)
    pts = sites([(50, 150), (150, 150), (50, 50), (150, 50), (500, 500)], [12.0, 19.0, 33.0, 5.0, 7.0])
    df, docs = S.grid_vs_monitoring(pts, grid)
    assert df.index.name == "site_id"
    np.testing.assert_allclose(df["grid_ugm3"].iloc[:3], [10, 20, 30])
    np.testing.assert_allclose(df["diff_ugm3"].iloc[:3], [2, -1, 3])
    assert list(df["grid_reason"]) == ["", "", "", "nodata cell", "outside raster"]
    assert set(docs) == set(df.columns) and all(isinstance(d, ColumnDoc) and d.unit is not None
                                                for d in docs.values())
    assert docs["diff_ugm3"].unit == "ug/m3" and docs["grid_ugm3"].source == "g.tif"
    s = S.agreement_summary(df)
    assert s["n"] == 3
    assert s["mean_diff"] == pytest.approx(4 / 3)
    assert s["rmse"] == pytest.approx(math.sqrt((4 + 1 + 9) / 3))
    assert s["r"] == pytest.approx(np.corrcoef([12, 19, 33], [10, 20, 30])[0, 1])


# ------------------------------------------------------------------------------------------ real data
def _utrecht_points(shared_dir):
    from healthgeo.sources import read_luchtmeetnet_csv, read_samenmeten_csv

    st = read_luchtmeetnet_csv(shared_dir / "air_luchtmeetnet_2023" / "no2")
    se = read_samenmeten_csv(shared_dir / "air_samenmeten_2023" / "no2_2023_new.csv",
                             shared_dir / "air_samenmeten_2023" / "things_loc_portal.csv")
    return S.monitoring_points(st, se)


def test_real_utrecht_monitoring_points(shared_dir):
    pts = _utrecht_points(shared_dir).set_index("site_id")
    # PROVENANCE.md: 2023 NO2 means 15.5, 17.8, 12.8 ug/m3
    assert pts.loc["NL10636", "annual_mean_ugm3"] == pytest.approx(15.5, abs=0.05)
    assert pts.loc["NL10639", "annual_mean_ugm3"] == pytest.approx(17.8, abs=0.05)
    assert pts.loc["NL10643", "annual_mean_ugm3"] == pytest.approx(12.8, abs=0.05)
    assert pts.loc["NL10636", "site_type"] == "traffic" and pts.loc["NL10643", "site_type"] == "background"
    assert pts.loc["NL10643", "name"] == "Utrecht-Griftpark"
    # no Samen Meten NO2 sensor reaches 75 % of 2023's hours (best: USP_pu002 59 %)
    assert (pts["network"] == "luchtmeetnet").all() and len(pts) == 45
    assert "completeness" in pts.attrs["dropped"]["USP_pu002"]


def test_real_gcn_2021_at_the_utrecht_stations(shared_dir):
    pts = _utrecht_points(shared_dir)
    gcn = shared_dir / "air_rivm_gcn_no2" / "conc_no2_2021.asc"
    with pytest.raises(CRSError):
        S.grid_vs_monitoring(pts, gcn)  # the .asc has no .prj
    df, _ = S.grid_vs_monitoring(pts, gcn, raster_crs="EPSG:28992")
    # PROVENANCE.md: Griftpark 18.5 (cell 137 km E, 457-458 km N: 18.54)
    assert df.loc["NL10643", "grid_ugm3"] == pytest.approx(18.5, abs=0.05)
    # Kardinaal de Jongweg lies at x = 136 999.5 m (0.5 m west of a cell edge) -> cell 136-137 km E: 18.90.
    # PROVENANCE.md's 18.4 (18.35) is the cell 135-136 km E, 1 km west of the station's header coordinates.
    assert df.loc["NL10636", "grid_ugm3"] == pytest.approx(18.90, abs=0.01)
    assert df.loc["NL10643", "diff_ugm3"] == pytest.approx(12.77 - 18.54, abs=0.02)
    s = S.agreement_summary(df)
    assert s["n"] == 45 and s["r"] > 0.8


def test_real_utrecht_surface_loo(shared_dir, tmp_path):
    pts = _utrecht_points(shared_dir)
    gcn = shared_dir / "air_rivm_gcn_no2" / "conc_no2_2021.asc"
    bounds = (126_400, 448_700, 141_900, 461_700)  # Utrecht envelope (PROVENANCE.md)
    plain = S.build_surface(points=pts, bounds=bounds, out_path=tmp_path / "idw.tif")
    on_bg = S.build_surface(points=pts, bounds=bounds, out_path=tmp_path / "idw_gcn.tif", background=gcn,
                            background_crs="EPSG:28992", background_label="RIVM GCN 2021 background")
    used = set(plain.sites["site_id"])
    assert used == {"NL10633", "NL10636", "NL10639", "NL10641", "NL10643", "NL10644"}
    assert plain.loo["n"] == on_bg.loo["n"] == 6
    # the GCN pattern helps even though it is for 2021 and the stations for 2023
    assert on_bg.loo["rmse"] < plain.loo["rmse"]
    assert on_bg.loo["r"] > 0.5
