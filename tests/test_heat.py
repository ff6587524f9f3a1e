"""Heat stress (healthgeo.heat): PET per ward, heat-stress classes, cool places within walking distance."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from healthgeo._errors import ConfigError, InputDataError
from healthgeo.heat import PET_CLASSES, cool_place_access, cool_places, heat_exposure, heat_params
from healthgeo.network import graph_from_lines, home_distances
from healthgeo.rasters import prepare_raster

# 3 x 3 grid of 10 m cells over x 0..30, y 0..30; PET in °C, rows from the top (y 20-30, 10-20, 0-10)
PET = np.array([[20.0, 25.0, 30.0],
                [33.0, 36.0, 40.0],
                [41.0, 44.0, 23.0]])


def write_tif(path, arr, transform=from_origin(0, 30, 10, 10), nodata=-9999.0, crs="EPSG:28992"):
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                       dtype="float64", crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(arr, 1)
    return path


def homes(rows):
    """rows: (x, y, residents, residents_65_plus)."""
    return gpd.GeoDataFrame(
        {"residents": [r[2] for r in rows], "residents_65_plus": [r[3] for r in rows],
         "residents_0_14": 0.0, "buurtcode": "BU00000001", "wijkcode": "WK000001", "source": "bag"},
        geometry=[shapely.Point(r[0], r[1]) for r in rows], crs=28992)


@pytest.fixture
def wards():
    return gpd.GeoDataFrame(
        {"residents": [3.0, 6.0]}, geometry=[shapely.box(0, 20, 30, 30), shapely.box(0, 0, 30, 20)],
        index=pd.Index(["BU00000001", "BU00000002"], name="buurtcode"), crs=28992)


def test_pet_means_and_class_shares_by_hand(tmp_path, wards):
    tif = write_tif(tmp_path / "pet.tif", PET)
    res = homes([(5, 25, 2.0, 0.0), (25, 25, 1.0, 0.0),                   # ward 1: PET 20 and 30
                 (15, 15, 1.0, 0.0), (25, 5, 3.0, 0.0), (5, 5, 2.0, 0.0)])  # ward 2: PET 36, 23, 41
    df, docs = heat_exposure(wards, tif, res)
    assert set(df.columns) == set(docs)
    a, b = df.loc["BU00000001"], df.loc["BU00000002"]
    assert a["pet_degc_mean"] == pytest.approx(25.0)                       # (20 + 25 + 30) / 3
    assert b["pet_degc_mean"] == pytest.approx(217 / 6)                    # (33+36+40+41+44+23) / 6
    assert a["pet_degc_popw"] == pytest.approx((2 * 20 + 30) / 3)
    assert b["pet_degc_popw"] == pytest.approx((36 + 3 * 23 + 2 * 41) / 6)
    assert a["pop_share_pet_lt_23"] == pytest.approx(2 / 3)
    assert a["pop_share_pet_29_35"] == pytest.approx(1 / 3)
    # lower bounds are inclusive: PET 23.0 is slight heat stress, 41.0 extreme
    assert b["pop_share_pet_lt_23"] == 0.0
    assert b["pop_share_pet_23_29"] == pytest.approx(3 / 6)
    assert b["pop_share_pet_35_41"] == pytest.approx(1 / 6)
    assert b["pop_share_pet_ge_41"] == pytest.approx(2 / 6)
    shares = df[[f"pop_share_pet_{s}" for s, *_ in PET_CLASSES]]
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert docs["pet_degc_popw"].unit == "°C" and docs["pet_degc_popw"].theme == "heat"
    assert [t[0] for t in docs["pet_degc_popw"].thresholds] == [23.0, 29.0, 35.0, 41.0]
    assert docs["pet_degc_mean"].about == "area" and docs["pop_share_pet_ge_41"].about == "residents"


def test_ward_without_residents_gets_nan_with_reason(tmp_path, wards):
    tif = write_tif(tmp_path / "pet.tif", PET)
    df, _ = heat_exposure(wards, tif, homes([(5, 25, 1.0, 0.0)]))
    assert np.isnan(df.loc["BU00000002", "pet_degc_popw"]) and np.isnan(df.loc["BU00000002", "pop_share_pet_lt_23"])
    assert "no residents" in df.loc["BU00000002", "pet_reason"]
    assert df.loc["BU00000002", "pet_degc_mean"] == pytest.approx(217 / 6)  # the area mean needs no residents


@pytest.mark.parametrize("values, expect", [
    (PET + 273.15, ["293.1", "317.1", "kelvin"]),           # a map in kelvin
    (np.where(PET > 40, PET + 30, PET), ["20", "74", "-30..60", "2 of 9 values", "check the unit"]),  # > 60 °C
    (PET * 10, ["200", "440", "tenths of a degree"]),                   # tenths of a degree
])
def test_heat_raster_in_kelvin_or_out_of_range_is_refused(tmp_path, values, expect):
    tif = write_tif(tmp_path / "pet.tif", values)
    with pytest.raises(InputDataError) as e:
        prepare_raster(tif, tmp_path / "out.tif", bounds=(0, 0, 30, 30), margin_m=0, target_crs="EPSG:28992",
                       quantity="heat")
    for text in expect:
        assert text in str(e.value), str(e.value)


def test_heat_raster_in_another_crs_is_reprojected_and_accepted(tmp_path):
    # the same values in EPSG:3857 around Utrecht: prepared into RD New without complaint
    tif = write_tif(tmp_path / "pet.tif", np.full((20, 20), 31.5), transform=from_origin(568300, 6816800, 50, 50),
                    crs="EPSG:3857")
    out = prepare_raster(tif, tmp_path / "out.tif", bounds=(135800, 455500, 136200, 455900), margin_m=100,
                         target_crs="EPSG:28992", quantity="heat")
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 28992
        a = ds.read(1, masked=True)
        assert a.count() > 0 and float(a.max()) == pytest.approx(31.5)


def test_cool_places_by_hand(tmp_path):
    tif = write_tif(tmp_path / "pet.tif", PET)
    green = gpd.GeoDataFrame(
        {"kind": ["park", "park", "garden"], "public": [True, True, False], "area_m2": [300.0, 200.0, 100.0]},
        geometry=[shapely.box(0, 20, 30, 30),    # PET 20, 25, 30: all cool, 300 m² -> a cool place
                  shapely.box(0, 0, 10, 15),     # PET 33 (cool, 50 m²) and 41: too small
                  shapely.box(20, 0, 30, 10)],   # PET 23 but private -> not a cool place
        crs=28992)
    places = cool_places(green, tif, threshold_degc=35, min_area_m2=200)
    assert len(places) == 1
    assert places["area_m2"].iloc[0] == pytest.approx(300.0)
    assert places["pet_degc_mean"].iloc[0] == pytest.approx(25.0)
    # a lower threshold cuts the 30 °C cell off: 200 m² remain, still a cool place; 250 m² minimum: none
    assert cool_places(green, tif, threshold_degc=28, min_area_m2=200)["area_m2"].tolist() == pytest.approx([200.0])
    assert cool_places(green, tif, threshold_degc=28, min_area_m2=250).empty
    # the crowns of (public) trees are shade: a 5 m disc (~78 m²) inside the 23 °C cell is a cool place of
    # >= 60 m², one in the 36 °C cell is not (too hot), nor is the 50 m² cool part of the second park
    trees = gpd.GeoDataFrame(geometry=[shapely.Point(25, 5), shapely.Point(15, 15)], crs=28992)
    with_trees = cool_places(green, tif, threshold_degc=35, min_area_m2=60, trees=trees, crown_radius_m=5)
    assert sorted(with_trees["area_m2"].round(0)) == [78.0, 300.0]


def test_cool_place_within_300m_walking_on_a_small_graph_by_hand():
    # one footpath along y = 0 with nodes at x 0, 600, 900, 1000; the cool place spans x 900..1000
    lines = gpd.GeoDataFrame({"highway": ["footway"]},
                             geometry=[shapely.LineString([(0, 0), (600, 0), (900, 0), (1000, 0)])], crs=28992)
    net = graph_from_lines(lines, "walk", densify_m=None, min_component_share=None)
    place = gpd.GeoDataFrame({"area_m2": [4000.0]}, geometry=[shapely.box(900, -20, 1000, 20)], crs=28992)
    h = homes([(600, 0, 2.0, 1.0),      # 300 m: within (<= 300)
               (550, 10, 1.0, 0.0),     # snaps 51 m to the node at 600: 351 m
               (0, 0, 1.0, 1.0)])       # 900 m
    dist, _ = home_distances(net, h, {"cool_place": place})
    d = dist["cool_place"].to_numpy()
    assert d == pytest.approx([300.0, np.hypot(50, 10) + 300.0, 900.0])
    wards = gpd.GeoDataFrame(geometry=[shapely.box(-100, -100, 1100, 100)],
                             index=pd.Index(["BU00000001"], name="buurtcode"), crs=28992)
    df, docs = cool_place_access(d, h, wards, within_m=300)
    assert set(df.columns) == set(docs)
    row = df.loc["BU00000001"]
    assert row["pop_share_cool_place_walk_300m"] == pytest.approx(2 / 4)
    assert row["pop_share_cool_place_walk_300m_65plus"] == pytest.approx(1 / 2)
    assert row["cool_place_walk_m_median"] == pytest.approx(300.0)  # weighted median: 2 of 4 at 300 m
    assert pd.isna(row["cool_place_reason"])
    # 350 m: two more residents within
    df2, _ = cool_place_access(d, h, wards, within_m=360)
    assert df2.loc["BU00000001", "pop_share_cool_place_walk_360m"] == pytest.approx(3 / 4)


def test_cool_place_access_says_why_values_are_missing_or_partial():
    h = homes([(0, 0, 1.0, 0.0), (10, 0, 3.0, 0.0)])
    wards = gpd.GeoDataFrame(geometry=[shapely.box(-5, -5, 15, 5), shapely.box(100, 100, 110, 110)],
                             index=pd.Index(["BU00000001", "BU00000002"], name="buurtcode"), crs=28992)
    df, _ = cool_place_access(np.array([np.nan, np.inf]), h, wards)  # one off network, one reaches none
    assert df.loc["BU00000001", "pop_share_cool_place_walk_300m"] == 0.0
    assert "25.0 % of residents off the walk network" in df.loc["BU00000001", "cool_place_reason"]
    assert np.isnan(df.loc["BU00000001", "cool_place_walk_m_median"])  # none reached: no median
    assert df.loc["BU00000002", "cool_place_reason"] == "no residents"
    df0, _ = cool_place_access(np.array([np.inf, np.inf]), h, wards, n_places=0)
    assert "no cool place in the study area" in df0.loc["BU00000001", "cool_place_reason"]


def test_heat_params_are_checked_all_at_once():
    assert heat_params(None)["cool_distance_m"] == 300.0
    with pytest.raises(ConfigError) as e:
        heat_params({"cool_distance_m": -1, "cool_threshold_degc": 300, "cool_min_area": 5})
    msg = str(e.value)
    assert "cool_min_area" in msg and "cool_distance_m=-1" in msg and "cool_threshold_degc=300" in msg
