"""Scenarios: zero change gives zero deltas, local changes stay local, money adds up."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from healthgeo._errors import ConfigError, InputDataError
from healthgeo.impact import HealthImpactParams, health_impact, present_value
from healthgeo.scenarios import apply_scenario, compare, run_scenario, validate_spec

PARAMS = HealthImpactParams()


@pytest.fixture()
def exposure() -> gpd.GeoDataFrame:
    """Four buurten in two wijken, two points each, on a 100 m grid (EPSG:28992)."""
    rows = []
    layout = {"BU1": ("WK1", 0), "BU2": ("WK1", 1), "BU3": ("WK2", 2), "BU4": ("WK2", 3)}
    for bu, (wk, i) in layout.items():
        for j in range(2):
            rows.append({"buurtcode": bu, "wijkcode": wk, "residents": 100.0 + 50 * j, "residents_65_plus": 20.0,
                         "no2_ugm3": 25.0 + 5 * i, "pm25_ugm3": 9.0, "pm10_ugm3": 16.0,
                         "lden_db": 58.0 + i + j, "lnight_db": 49.0 + i, "x": 150_000 + 100 * i + 10 * j,
                         "y": 445_000.0})
    df = pd.DataFrame(rows)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.x, df.y), crs="EPSG:28992")


@pytest.fixture()
def wards() -> pd.DataFrame:
    return pd.DataFrame({"wijkcode": ["WK1", "WK1", "WK2", "WK2"]},
                        index=pd.Index(["BU1", "BU2", "BU3", "BU4"], name="buurtcode"))


def test_zero_change_gives_exactly_zero_deltas(exposure, wards):
    spec = {"name": "nothing", "type": "no2_reduction", "params": {"percent": 0}, "where": {"wijk": ["WK1"]}}
    result, deltas, _, summary = run_scenario(spec, exposure, wards=wards, params=PARAMS)
    assert not result.changed.any()
    assert result.affected_wards == []
    assert (deltas.to_numpy() == 0.0).all()
    assert (summary["delta"] == 0.0).all()


def test_no2_minus_20_pct_in_one_wijk_changes_only_its_wards(exposure, wards):
    spec = {"name": "no2-20", "type": "no2_reduction", "params": {"percent": 20}, "where": {"wijk": ["WK1"]}}
    result, deltas, ddocs, summary = run_scenario(spec, exposure, wards=wards, params=PARAMS)
    new = result.residents_exposure
    in_wk1 = exposure["wijkcode"] == "WK1"
    assert np.allclose(new.loc[in_wk1, "no2_ugm3"], exposure.loc[in_wk1, "no2_ugm3"] * 0.8)
    assert (new.loc[~in_wk1, "no2_ugm3"] == exposure.loc[~in_wk1, "no2_ugm3"]).all()
    assert result.affected_wards == ["BU1", "BU2"]
    d = deltas["delta_deaths_attr_no2_per_year_central"]
    assert (d.loc[["BU1", "BU2"]] < 0).all()
    assert (deltas.loc[["BU3", "BU4"]].to_numpy() == 0.0).all()
    # other burdens do not move
    assert (deltas["delta_adults_highly_annoyed_road"] == 0).all()
    # money: summary total delta == sum of ward deltas; present value by the helper
    col = "eur_total_per_year_central"
    assert summary.loc[col, "delta"] == pytest.approx(deltas[f"delta_{col}"].sum(), rel=1e-12)
    assert summary.loc[col, "delta"] == pytest.approx(summary.loc[col, "scenario"] - summary.loc[col, "baseline"])
    assert summary.loc[col, "delta_present_value"] == pytest.approx(
        present_value(summary.loc[col, "delta"], PARAMS.horizon_years, PARAMS.discount_rate))
    assert set(ddocs) == set(deltas.columns)
    # the input is untouched
    assert exposure.loc[in_wk1, "no2_ugm3"].tolist() == [25.0, 25.0, 30.0, 30.0]


def test_lden_reduction_in_polygon_and_along_lines(exposure, wards):
    # polygon around BU2 points only (x 150100..150110)
    poly = box(150_095, 444_990, 150_115, 445_010).wkt
    spec = {"name": "quiet", "type": "lden_reduction", "params": {"db": 3}, "where": {"polygon_wkt": poly}}
    r = apply_scenario(spec, exposure, wards=wards)
    assert r.affected_wards == ["BU2"]
    bu2 = exposure["buurtcode"] == "BU2"
    assert np.allclose(r.residents_exposure.loc[bu2, "lden_db"], exposure.loc[bu2, "lden_db"] - 3)
    assert np.allclose(r.residents_exposure.loc[bu2, "lnight_db"], exposure.loc[bu2, "lnight_db"] - 3)
    # buffer of a line through BU3 points (x = 150200, 150210)
    spec = {"name": "quiet-road", "type": "lden_reduction",
            "params": {"db": 2, "lines_wkt": ["LINESTRING (150205 444900, 150205 445100)"], "buffer_m": 6,
                       "lnight": False}}
    r = apply_scenario(spec, exposure, wards=wards)
    assert r.affected_wards == ["BU3"]
    assert (r.residents_exposure["lnight_db"] == exposure["lnight_db"]).all()


def test_polygon_needs_point_locations(exposure, wards):
    plain = pd.DataFrame(exposure.drop(columns=["geometry", "x", "y"]))
    spec = {"name": "p", "type": "no2_reduction", "params": {"percent": 10},
            "where": {"polygon_wkt": box(0, 0, 1, 1).wkt}}
    with pytest.raises(InputDataError, match="locations"):
        apply_scenario(spec, plain, wards=wards)


def test_new_park_and_new_path(exposure, wards):
    green = gpd.GeoDataFrame({"kind": ["park"], "public": [True], "name": ["Oud park"], "area_m2": [100.0]},
                             geometry=[box(0, 0, 10, 10)], crs="EPSG:28992")
    park = Polygon([(150_000, 444_990), (150_020, 444_990), (150_020, 445_010), (150_000, 445_010)])
    spec = {"name": "park", "type": "new_park", "params": {"name": "Nieuw park", "lden_reduction_db": 1},
            "where": {"polygon_wkt": park.wkt}}
    r = apply_scenario(spec, exposure, wards=wards, green=green)
    assert len(r.green) == 2 and r.green.iloc[-1]["name"] == "Nieuw park"
    assert r.green.iloc[-1]["area_m2"] == pytest.approx(400.0)
    assert bool(r.green.iloc[-1]["public"]) is True
    assert r.affected_wards == ["BU1"]
    spec = {"name": "fietspad", "type": "new_path",
            "params": {"line_wkt": "LINESTRING (150000 445000, 150300 445400)", "tags": {"surface": "asphalt"}}}
    r = apply_scenario(spec, exposure, wards=wards)
    e = r.new_edges.iloc[0]
    assert e["highway"] == "cycleway" and e["surface"] == "asphalt"
    assert e["length_m"] == pytest.approx(500.0)  # 300-400-500 triangle
    assert not r.changed.any()


def test_invalid_specs_list_all_problems(wards, exposure):
    with pytest.raises(ConfigError) as e:
        validate_spec({"name": "", "type": "no2_reduction", "params": {"percent": 150, "db": 2}})
    msg = str(e.value)
    assert "percent" in msg and "not used by no2_reduction" in msg and "'where'" in msg and "'name'" in msg
    with pytest.raises(ConfigError, match="unknown wijk code"):
        apply_scenario({"name": "x", "type": "no2_reduction", "params": {"percent": 10}, "where": {"wijk": ["WK9"]}},
                       exposure, wards=wards)


def test_compare_rejects_different_wards(exposure):
    a, _ = health_impact(exposure)
    b, _ = health_impact(exposure[exposure["buurtcode"] != "BU4"])
    with pytest.raises(InputDataError):
        compare(a, b)
