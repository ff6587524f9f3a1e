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


# ---------------------------------------------------------------- active travel (WHO HEAT)


def test_active_travel_programme_gains_health_and_euros(exposure, wards):
    spec = {"name": "fietsstimulering", "type": "active_travel", "where": {"wijk": ["WK1"]},
            "params": {"mode": "bike", "users_share": 0.10, "minutes_per_week": 100}}
    result, deltas, ddocs, summary = run_scenario(spec, exposure, wards=wards, params=PARAMS)
    rx = result.residents_exposure
    in_wk1 = (exposure["wijkcode"] == "WK1").to_numpy()
    assert rx["active_bike_users_share"].tolist() == [0.10] * 4 + [0.0] * 4
    assert rx["active_bike_min_per_week"].tolist() == [100.0] * 4 + [0.0] * 4
    assert result.changed.to_numpy().tolist() == in_wk1.tolist() and result.affected_wards == ["BU1", "BU2"]
    assert "active_bike_users_share" not in exposure.columns  # the input is untouched
    # BU1 (100 + 150 residents): 250 x 0.10 x 0.59 x 204/100 000 x (1 - 0.90) x 100/100 = 0.0030090 deaths/year
    d = deltas["delta_deaths_averted_active_bike_per_year_central"]
    assert d["BU1"] == pytest.approx(250 * 0.10 * 0.59 * 204e-5 * 0.10)
    assert (d[["BU1", "BU2"]] > 0).all() and (d[["BU3", "BU4"]] == 0).all()
    eur = deltas["delta_eur_total_per_year_central"]
    assert eur["BU1"] == pytest.approx(-d["BU1"] * PARAMS.yll_per_death * PARAMS.voly_eur_indexed)
    assert (deltas["delta_dalys_total_per_year_central"][["BU1", "BU2"]] < 0).all()
    assert (eur[["BU3", "BU4"]] == 0).all()
    # the environmental burden does not move
    assert (deltas["delta_deaths_attr_no2_per_year_central"] == 0).all()
    # summary: baseline 0 for the averted rows; total delta = sum of ward deltas; PV of the euro delta
    row = summary.loc["deaths_averted_active_bike_per_year_central"]
    assert row["baseline"] == 0.0 and row["delta"] == pytest.approx(d.sum()) and row["delta"] > 0
    col = "eur_total_per_year_central"
    assert summary.loc[col, "delta"] == pytest.approx(eur.sum(), rel=1e-12) and summary.loc[col, "delta"] < 0
    assert summary.loc[col, "delta_present_value"] == pytest.approx(
        present_value(summary.loc[col, "delta"], PARAMS.horizon_years, PARAMS.discount_rate))
    assert set(ddocs) == set(deltas.columns)
    assert "positive = gain" in ddocs["delta_deaths_averted_active_bike_per_year_central"].description
    assert "net: DALYs minus dalys_averted_active_bike_per_year_central" in ddocs[
        "delta_dalys_total_per_year_central"].method


def test_more_users_or_minutes_gain_more(exposure, wards):
    def gain(share, minutes):
        spec = {"name": "p", "type": "active_travel", "where": {"buurt": ["BU3"]},
                "params": {"mode": "walk", "users_share": share, "minutes_per_week": minutes}}
        _, deltas, _, _ = run_scenario(spec, exposure, wards=wards, params=PARAMS)
        return deltas.loc["BU3", "delta_deaths_averted_active_walk_per_year_central"]

    assert gain(0.0, 100) == 0.0
    assert 0 < gain(0.05, 100) < gain(0.10, 100) < gain(0.10, 200)
    assert gain(0.10, 200) == pytest.approx(2 * gain(0.10, 100))  # linear below the cap
    assert gain(0.10, 1000) == pytest.approx(gain(0.10, 2000))  # capped (walking: 30 %)


def test_new_path_activity_selects_points_within_the_catchment(exposure, wards):
    # points at y = 445 000, x = 150 000/010 (BU1), 150 100/110 (BU2), 150 200/210 (BU3), 150 300/310 (BU4);
    # the path runs along y = 445 050 up to x = 150 105: the first three points are 50 m away,
    # (150 110, 445 000) is sqrt(5^2 + 50^2) = 50.25 m away, (150 200, 445 000) 107.4 m, (150 310, ...) 211 m
    line = "LINESTRING (149000 445050, 150105 445050)"
    spec = {"name": "fietspad", "type": "new_path",
            "params": {"line_wkt": line, "activity": {"mode": "bike", "users_share": 0.05, "minutes_per_week": 60,
                                                      "catchment_m": 50.1}}}
    r = apply_scenario(spec, exposure, wards=wards)
    assert r.residents_exposure["active_bike_users_share"].tolist() == [0.05, 0.05, 0.05] + [0.0] * 5
    assert r.residents_exposure["active_bike_min_per_week"].tolist() == [60.0] * 3 + [0.0] * 5
    assert r.affected_wards == ["BU1", "BU2"] and len(r.new_edges) == 1
    assert any("within 50.1 m of the path" in n for n in r.notes)
    # default catchment 500 m: every point (the farthest is 211 m away)
    del spec["params"]["activity"]["catchment_m"]
    r = apply_scenario(spec, exposure, wards=wards)
    assert (r.residents_exposure["active_bike_users_share"] == 0.05).all()
    # without activity a new path changes no point and adds no column
    del spec["params"]["activity"]
    r = apply_scenario(spec, exposure, wards=wards)
    assert not r.changed.any() and not [c for c in r.residents_exposure if c.startswith("active_")]


def test_activity_specs_are_validated(exposure, wards):
    with pytest.raises(ConfigError) as e:
        validate_spec({"name": "p", "type": "active_travel", "params": {"mode": "car", "users_share": 1.5}})
    msg = str(e.value)
    assert "params.mode must be one of ['bike', 'walk']; got 'car'" in msg
    assert "params.users_share must be a share in [0, 1]" in msg and "1.5" in msg
    assert "params.minutes_per_week must be a number > 0" in msg and "None" in msg
    assert "active_travel needs 'where'" in msg
    with pytest.raises(ConfigError) as e:
        validate_spec({"name": "p", "type": "new_path", "params": {
            "line_wkt": "LINESTRING (150000 445000, 150300 445400)",
            "activity": {"mode": "bike", "users_share": 0.1, "minutes_per_week": 0, "catchment_m": -5, "radius": 3}}})
    msg = str(e.value)
    assert "params.activity: unknown key(s) ['radius']" in msg and "params.activity.catchment_m must be > 0" in msg
    assert "params.activity.minutes_per_week must be a number > 0" in msg
    with pytest.raises(ConfigError, match="params.activity must be a mapping"):
        validate_spec({"name": "p", "type": "new_path", "params": {"line_wkt": "LINESTRING (0 0, 1 1)",
                                                                   "activity": "bike"}})
    with pytest.raises(ConfigError, match=r"params \['catchment_m'\] not used by active_travel"):
        validate_spec({"name": "p", "type": "active_travel", "where": {"wijk": ["WK1"]},
                       "params": {"mode": "walk", "users_share": 0.1, "minutes_per_week": 30, "catchment_m": 100}})
    # one activity scenario on top of another is refused (the uptakes would need combining)
    spec = {"name": "p", "type": "active_travel", "where": {"wijk": ["WK1"]},
            "params": {"mode": "bike", "users_share": 0.1, "minutes_per_week": 30}}
    once = apply_scenario(spec, exposure, wards=wards).residents_exposure
    with pytest.raises(InputDataError, match="already has active_bike_users_share"):
        apply_scenario(spec, once, wards=wards)


def test_compare_counts_averted_columns_missing_from_the_baseline_as_zero(exposure):
    base, _ = health_impact(exposure)
    scen, sdocs = health_impact(exposure.assign(active_walk_users_share=0.2, active_walk_min_per_week=84.0))
    deltas, ddocs, summary = compare(base, scen, docs=sdocs)
    col = "deaths_averted_active_walk_per_year_central"
    assert (deltas[f"delta_{col}"] == scen[col]).all() and (deltas[f"delta_{col}"] > 0).all()
    assert summary.loc[col, "baseline"] == 0.0 and summary.loc[col, "scenario"] == pytest.approx(scen[col].sum())
    assert "the baseline has none (0)" in ddocs[f"delta_{col}"].method
    assert (deltas["delta_eur_total_per_year_central"] < 0).all()
