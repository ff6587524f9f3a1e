"""Tests of the per-ward exposure indicators (healthgeo.exposure)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from healthgeo.dictionary import ColumnDoc
from healthgeo.exposure import (
    AIR_THRESHOLDS,
    RESIDENTS_EXPOSURE_DOCS,
    air_exposure,
    green_exposure,
    noise_exposure,
    residents_exposure,
)
from healthgeo.zonal import CoverageWeights

# 3 x 3 grid of 10 m cells over x 0..30, y 0..30; NO2 values 5, 10, ..., 45 row by row from the top
NO2 = (np.arange(1, 10, dtype=float) * 5).reshape(3, 3)


def write_tif(path, arr, transform=from_origin(0, 30, 10, 10), nodata=-9999.0):
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                       dtype="float64", crs="EPSG:28992", transform=transform, nodata=nodata) as ds:
        ds.write(arr, 1)
    return path


def residents_gdf(rows, source="bag"):
    """rows: (x, y, weight, buurtcode)."""
    return gpd.GeoDataFrame(
        {
            "residents": [r[2] for r in rows],
            "residents_65_plus": [r[2] / 4 for r in rows],
            "residents_0_14": [0.0 for _ in rows],
            "buurtcode": [r[3] for r in rows],
            "wijkcode": ["WK000001" for _ in rows],
            "source": [r[4] if len(r) > 4 else source for r in rows],
        },
        geometry=[shapely.Point(r[0], r[1]) for r in rows], crs=28992,
    )


@pytest.fixture
def wards():
    return gpd.GeoDataFrame(
        {"residents": [3.0, 4.0, 0.0]},
        geometry=[shapely.box(0, 20, 30, 30), shapely.box(0, 0, 30, 20), shapely.box(30, 0, 40, 30)],
        index=pd.Index(["BU00000001", "BU00000002", "BU00000003"], name="buurtcode"), crs=28992,
    )


@pytest.fixture
def residents():
    return residents_gdf([
        (5, 25, 2.0, "BU00000001"), (25, 25, 1.0, "BU00000001", "area"),   # NO2 5 and 15
        (15, 15, 1.0, "BU00000002"), (25, 5, 3.0, "BU00000002"),           # NO2 25 and 45
    ])


def assert_documented(frame, docs):
    assert set(frame.columns) == set(docs), set(frame.columns) ^ set(docs)
    assert all(isinstance(d, ColumnDoc) and d.unit and d.description for d in docs.values())


def test_air_by_hand(tmp_path, wards, residents):
    tif = write_tif(tmp_path / "no2.tif", NO2)
    df, docs = air_exposure(wards, {"no2": tif}, residents)
    assert_documented(df, docs)
    assert list(df.index) == list(wards.index)
    assert df.loc["BU00000001", "no2_ugm3_mean"] == pytest.approx(10.0)   # (5+10+15)/3
    assert df.loc["BU00000002", "no2_ugm3_mean"] == pytest.approx(32.5)   # (20+...+45)/6
    assert df.loc["BU00000001", "no2_ugm3_popw"] == pytest.approx((2 * 5 + 15) / 3)
    assert df.loc["BU00000002", "no2_ugm3_popw"] == pytest.approx((25 + 3 * 45) / 4)
    assert df.loc["BU00000001", "pop_share_no2_gt_10"] == pytest.approx(1 / 3)
    assert df.loc["BU00000002", "pop_share_no2_gt_30"] == pytest.approx(3 / 4)
    assert df.loc["BU00000002", "pop_share_no2_gt_40"] == pytest.approx(3 / 4)
    assert [c for c in df if c.startswith("pop_share_no2")] == [f"pop_share_no2_gt_{t}" for t in AIR_THRESHOLDS["no2"]]
    # the third ward is outside the raster and has no residents
    r = df.loc["BU00000003"]
    assert math.isnan(r["no2_ugm3_mean"]) and math.isnan(r["no2_ugm3_popw"])
    assert "outside raster" in r["no2_reason"] and "no residents" in r["no2_reason"]
    assert pd.isna(df.loc["BU00000001", "no2_reason"])
    assert df["popw_method"].tolist()[:2] == ["bag+area", "bag"] and pd.isna(df["popw_method"].iloc[2])
    assert "WHO" in docs["pop_share_no2_gt_10"].source

    # one resident of four in ward 2 on a nodata cell: popw over the other three, and the reason says so
    arr = NO2.copy()
    arr[1, 1] = -9999.0  # the cell of (15, 15)
    df, _ = air_exposure(wards, {"no2": write_tif(tmp_path / "no2_hole.tif", arr)}, residents)
    assert df.loc["BU00000002", "no2_ugm3_popw"] == pytest.approx(45.0)
    assert "25.0 % of residents on nodata cells" in df.loc["BU00000002", "no2_reason"]
    assert pd.isna(df.loc["BU00000001", "no2_reason"])


def test_air_popw_vs_brute_force_and_weights_reuse(tmp_path):
    rng = np.random.default_rng(7)
    t = from_origin(0, 500, 10, 10)
    arrs = {p: rng.random((50, 50)) * 40 for p in ("no2", "pm25", "pm10")}
    arrs["no2"][rng.random((50, 50)) < 0.05] = -9999.0
    paths = {p: write_tif(tmp_path / f"{p}.tif", a, transform=t) for p, a in arrs.items()}
    wards = gpd.GeoDataFrame(geometry=[shapely.box(x, y, x + 100, y + 100) for x in range(0, 500, 100)
                                       for y in range(0, 500, 100)],
                             index=pd.Index([f"BU{i:08d}" for i in range(25)], name="buurtcode"), crs=28992)
    xy = rng.uniform(0, 500, (400, 2))
    w = rng.uniform(0.5, 3, 400)
    res = residents_gdf([(x, y, wi, "") for (x, y), wi in zip(xy, w)])
    cache: dict = {}
    df, _ = air_exposure(wards, paths, res, weights=cache)
    assert sum(isinstance(v, CoverageWeights) for v in cache.values()) == 1  # one grid, one build
    df2, _ = air_exposure(wards, paths, res, weights=cache)
    pd.testing.assert_frame_equal(df, df2)
    # brute force: loop over points
    with rasterio.open(paths["no2"]) as ds:
        for code, geom in wards.geometry.items():
            num = den = 0.0
            for (x, y), wi in zip(xy, w):
                if geom.intersects(shapely.Point(x, y)):
                    v = ds.read(1)[ds.index(x, y)]
                    if v != -9999.0:
                        num, den = num + wi * v, den + wi
            assert df.loc[code, "no2_ugm3_popw"] == pytest.approx(num / den, rel=1e-12)


def test_noise_energy_means_bands_and_shares(tmp_path):
    lden = write_tif(tmp_path / "lden.tif", np.array([[60.0, 70.0, 44.0, 80.0]]),
                     transform=from_origin(0, 10, 10, 10))
    lnight = write_tif(tmp_path / "lnight.tif", np.array([[50.0, 60.0, 40.0, 70.0]]),
                       transform=from_origin(0, 10, 10, 10))
    wards = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 20, 10), shapely.box(20, 0, 40, 10)],
                             index=pd.Index(["A", "B"], name="buurtcode"), crs=28992)
    res = residents_gdf([(5, 5, 1.0, "A"), (15, 5, 1.0, "A"), (25, 5, 2.0, "B"), (35, 5, 2.0, "B")])
    df, docs = noise_exposure(wards, lden, lnight, res)
    assert_documented(df, docs)
    e = 10 * math.log10((1e6 + 1e7) / 2)  # 67.4 dB, not 65
    assert df.loc["A", "lden_db_mean"] == pytest.approx(e)
    assert df.loc["A", "lden_db_popw"] == pytest.approx(e)
    assert df.loc["A", "lden_db_popw"] == pytest.approx(67.4, abs=0.01)
    assert df.loc["A", "pop_lden_55_60"] == 0 and df.loc["A", "pop_lden_60_65"] == 1
    assert df.loc["A", "pop_lden_70_75"] == 1
    assert df.loc["B", "pop_lden_lt_45"] == 2 and df.loc["B", "pop_lden_ge_75"] == 2
    assert df.loc["A", "pop_share_lden_ge_53"] == 1.0 and df.loc["B", "pop_share_lden_ge_53"] == 0.5
    assert df.loc["B", "pop_share_lnight_ge_45"] == 0.5
    bands = [c for c in df if c.startswith("pop_lden_")]
    assert bands == ["pop_lden_lt_45", "pop_lden_45_50", "pop_lden_50_55", "pop_lden_55_60",
                     "pop_lden_60_65", "pop_lden_65_70", "pop_lden_70_75", "pop_lden_ge_75"]
    assert df[bands].sum(axis=1).tolist() == [2.0, 4.0]
    # no Lnight raster: NaN with reason
    df, _ = noise_exposure(wards, lden, None, res)
    assert df["lnight_db_popw"].isna().all() and df["lnight_reason"].str.contains("no lnight").all()


def test_grid_residents_use_cell_mean(tmp_path):
    # 10 m noise raster, one 20 m "population cell" holding 60 and 70 dB cells (2 x 2)
    arr = np.array([[60.0, 70.0], [60.0, 70.0]])
    lden = write_tif(tmp_path / "lden.tif", arr, transform=from_origin(0, 20, 10, 10))
    wards = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 20, 20)], index=pd.Index(["A"], name="buurtcode"),
                             crs=28992)
    res = residents_gdf([(5, 5, 10.0, "A", "grid")])
    res["cell_x"], res["cell_y"], res["cell_size_m"] = 10.0, 10.0, 20.0
    df, _ = noise_exposure(wards, lden, None, res)
    assert df.loc["A", "lden_db_popw"] == pytest.approx(10 * math.log10((1e6 + 1e7) / 2))
    assert df.loc["A", "popw_method"] == "grid"
    tab = residents_exposure(res, {"lden": lden})
    assert tab["lden_db"].iloc[0] == pytest.approx(10 * math.log10((1e6 + 1e7) / 2))


def test_residents_exposure_table(tmp_path, residents):
    tif = write_tif(tmp_path / "no2.tif", NO2)
    tab = residents_exposure(residents, {"no2": tif})
    # the residents' age bands the points carry are kept (age-specific baselines of the impact stage)
    assert list(tab.columns) == ["buurtcode", "wijkcode", "residents", "residents_65_plus", "residents_0_14", "source",
                                 "no2_ugm3", "pm25_ugm3", "pm10_ugm3", "lden_db", "lnight_db"]
    assert tab["no2_ugm3"].tolist() == [5.0, 15.0, 25.0, 45.0]
    assert tab["lden_db"].isna().all()
    assert set(tab.columns) <= set(RESIDENTS_EXPOSURE_DOCS)


def test_green(tmp_path):
    # two 200 x 200 m wards side by side
    wards = gpd.GeoDataFrame(
        {"residents": [100.0, 0.0]},
        geometry=[shapely.box(0, 0, 200, 200), shapely.box(200, 0, 400, 200)],
        index=pd.Index(["A", "B"], name="buurtcode"), crs=28992,
    )
    green = gpd.GeoDataFrame(
        {"kind": ["park", "park", "garden", "forest"], "public": [True, True, False, True],
         "area_m2": [6000.0, 6000.0, 4000.0, 5000.0]},
        geometry=[shapely.box(0, 0, 60, 100), shapely.box(60, 0, 120, 100),   # touching: one 1.2 ha park
                  shapely.box(100, 100, 140, 200),                            # private garden 0.4 ha
                  shapely.box(1000, 1000, 1100, 1050)],                       # 0.5 ha, far away
        crs=28992,
    )
    res = residents_gdf([(50, 150, 60.0, "A"), (150, 150, 30.0, "A"), (190, 190, 10.0, "A"),
                         (1000, 700, 5.0, "X")])  # last point: in no ward
    trees = gpd.GeoDataFrame({"source": ["osm"] * 2}, geometry=[shapely.Point(300, 100), shapely.Point(300, 106)],
                             crs=28992)
    df, docs = green_exposure(wards, green, res, trees=trees, crown_radius_m=5.0)
    assert_documented(df, docs)
    # A: 1.2 ha park + 0.4 ha garden = 16 000 m² of 40 000 m²
    assert df.loc["A", "green_share_pct"] == pytest.approx(40.0)
    assert df.loc["A", "green_m2_per_resident"] == pytest.approx(160.0)
    assert df.loc["B", "green_share_pct"] == 0.0 and math.isnan(df.loc["B", "green_m2_per_resident"])
    # distance from (190,190) to the park (box up to x=120, y=100) = hypot(70, 90) < 300 -> all in reach
    assert df.loc["A", "pop_share_green_1ha_300m"] == pytest.approx(1.0)
    assert df.loc["A", "pop_share_green_05ha_300m"] == pytest.approx(1.0)
    assert math.isnan(df.loc["B", "pop_share_green_1ha_300m"])
    assert df.loc["B", "green_access_reason"] == "no residents"
    # canopy from two overlapping 5 m crowns in B: union area / 40 000 m²
    crowns = shapely.union_all(shapely.buffer(shapely.points([(300, 100), (300, 106)]), 5.0)).area
    assert df.loc["B", "tree_canopy_pct"] == pytest.approx(100 * crowns / 40000)
    assert df.loc["B", "meets_3_30_300_canopy"] == False  # noqa: E712
    assert df["tree_canopy_source"].tolist() == ["trees", "trees"]
    assert df["ndvi_mean"].isna().all() and (df["ndvi_reason"] == "no NDVI raster given").all()

    # land cover (class 2 = trees) on a 100 m grid: A's left half is trees -> 50 %; NDVI raster
    lc = np.array([[2, 1, 1, 1], [2, 1, 1, 1]], dtype=float)
    lc_path = write_tif(tmp_path / "lc.tif", lc, transform=from_origin(0, 200, 100, 100))
    ndvi_path = write_tif(tmp_path / "ndvi.tif", np.full((2, 4), 0.5), transform=from_origin(0, 200, 100, 100))
    df, _ = green_exposure(wards, green, None, landcover=lc_path, tree_classes=[2], ndvi=ndvi_path)
    assert df["tree_canopy_pct"].tolist() == pytest.approx([50.0, 0.0])
    assert df["meets_3_30_300_canopy"].tolist() == [True, False]
    assert df["ndvi_mean"].tolist() == pytest.approx([0.5, 0.5])
    assert df["pop_share_green_1ha_300m"].isna().all()
    df, _ = green_exposure(wards, green, None)
    assert df["tree_canopy_pct"].isna().all() and df["meets_3_30_300_canopy"].isna().all()


    # degrees are never mixed with metres: a green layer or wards in WGS84 is a CRSError, not 0 % green
    from healthgeo._errors import CRSError

    with pytest.raises(CRSError, match="reproject"):
        green_exposure(wards, green.to_crs(4326), None)
    with pytest.raises(CRSError, match="reproject"):
        green_exposure(wards, green, None, trees=trees.to_crs(4326))
    with pytest.raises(CRSError, match="geographic"):
        green_exposure(wards.to_crs(4326), green.to_crs(4326), None)
    with pytest.raises(CRSError, match="no CRS"):
        green_exposure(wards, green.set_crs(None, allow_override=True), None)


@pytest.mark.shared
def test_real_utrecht_no2_pipeline(shared_dir, tmp_path):
    """RIVM GCN NO2 2021 (ASCII grid, no CRS) -> prepare_raster -> air_exposure on the 10 real wijken,
    with the stated area fallback for residents (no buurten/BAG in ../shared)."""
    from healthgeo.population import residents_from_area
    from healthgeo._vocab import RASTER_NODATA_SENTINELS
    from healthgeo.rasters import prepare_raster

    wijken = gpd.read_file(shared_dir / "boundaries_cbs_pdok_2022" / "utrecht_wijken_2022.geojson")
    wijken = wijken.rename(columns={"aantalInwoners": "residents"}).set_index("wijkcode")[["residents", "geometry"]]
    wijken.index.name = "wijkcode"
    tif = prepare_raster(shared_dir / "air_rivm_gcn_no2" / "conc_no2_2021.asc", tmp_path / "no2.tif",
                         bounds=wijken.total_bounds, margin_m=1000, assume_crs="EPSG:28992",
                         nodata=RASTER_NODATA_SENTINELS)
    residents = residents_from_area(wijken)
    df, docs = air_exposure(wijken, {"no2": tif}, residents)
    assert set(df.columns) == set(docs)
    assert df["no2_ugm3_mean"].between(16.5, 23.5).all()
    assert df["no2_ugm3_popw"].between(10, 31).all()
    assert (df["popw_method"] == "area").all()
    assert (df["pop_share_no2_gt_10"] == 1.0).all()  # every wijk is above the WHO AQG level
