"""Boundary crosswalks and trend statistics on hand-checkable cases (healthgeo.crosswalk, healthgeo.trend)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from shapely.geometry import Point, box

from healthgeo._errors import InputDataError
from healthgeo.crosswalk import apply_crosswalk, build_crosswalk, check_quality
from healthgeo.dictionary import doc
from healthgeo.trend import Z95, gap_change, ols_slope, se_from_bounds, survey_change, trend

CRS = "EPSG:28992"


def _wards(spec: dict) -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame(geometry=list(spec.values()), index=pd.Index(list(spec), name="buurtcode"), crs=CRS)
    return g


def _points(xy_res) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"residents": [r for _, _, r in xy_res]},
                            geometry=[Point(x, y) for x, y, _ in xy_res], crs=CRS)


# the source year: four 100 x 100 m buurten in a row (x 0-400)
SOURCE = {"BU1": box(0, 0, 100, 100), "BU2": box(100, 0, 200, 100), "BU3": box(200, 0, 300, 100),
          "BU4": box(300, 0, 400, 100)}
# the target year: BU1 unchanged; BU2 split at x=150 into BU2A/BU2B; BU3+BU4 merged into BU34
TARGET = {"BU1": box(0, 0, 100, 100), "BU2A": box(100, 0, 150, 100), "BU2B": box(150, 0, 200, 100),
          "BU34": box(200, 0, 400, 100)}
# residents: 10 in BU1; BU2: 30 west of 150, 10 east; BU3 20, BU4 40
RESIDENTS = [(50, 50, 10), (120, 50, 30), (180, 50, 10), (250, 50, 20), (350, 50, 40)]


def test_crosswalk_of_an_unchanged_ward_a_split_and_a_merge():
    table, quality = build_crosswalk(_wards(SOURCE), _wards(TARGET), residents=_points(RESIDENTS))
    got = {(r.from_code, r.to_code): (round(r.weight, 9), r.method) for r in table.itertuples()}
    assert got == {("BU1", "BU1"): (1.0, "identical"),
                   ("BU2", "BU2A"): (0.75, "residents"), ("BU2", "BU2B"): (0.25, "residents"),
                   ("BU3", "BU34"): (1.0, "residents"), ("BU4", "BU34"): (1.0, "residents")}
    # weights sum to one per source ward
    assert table.groupby("from_code")["weight"].sum().to_numpy() == pytest.approx(1.0)
    # every target fully explained; the split's parts have no unambiguous origin, the merge has
    assert quality["explained_frac"].to_numpy() == pytest.approx(1.0)
    assert quality.loc[["BU1", "BU34"], "unambiguous_frac"].tolist() == [1.0, 1.0]
    assert quality.loc[["BU2A", "BU2B"], "unambiguous_frac"].tolist() == [0.0, 0.0]


def test_crosswalk_by_area_without_residents_and_a_renamed_code():
    src = _wards({"BU1": box(0, 0, 100, 100), "BU2": box(100, 0, 200, 100)})
    # BU1 renamed BU9; the border between them shifted 20 m east
    tgt = _wards({"BU9": box(0, 0, 100, 100), "BU2": box(100, 0, 220, 100)})
    src2 = _wards({"BU1": box(0, 0, 100, 100), "BU2": box(100, 0, 200, 100), "BU3": box(200, 0, 300, 100)})
    table, quality = build_crosswalk(src, tgt)
    got = {(r.from_code, r.to_code): (round(r.weight, 9), r.method) for r in table.itertuples()}
    assert got == {("BU1", "BU9"): (1.0, "renamed"), ("BU2", "BU2"): (1.0, "area")}
    # BU2 of the target reaches 20 m outside the source wards: 100 of 120 m covered
    assert quality.loc["BU2", "explained_frac"] == pytest.approx(100 / 120)
    # a boundary shift between two source wards: BU2 (target 100-220) takes 20 % of source BU3
    table2, _ = build_crosswalk(src2, tgt)
    w = table2.set_index(["from_code", "to_code"])["weight"]
    assert w[("BU3", "BU2")] == pytest.approx(0.2) and ("BU3", "BU9") not in w.index


def test_a_constant_value_stays_constant_and_counts_are_kept():
    table, _ = build_crosswalk(_wards(SOURCE), _wards(TARGET), residents=_points(RESIDENTS))
    res = pd.Series({"BU1": 10.0, "BU2": 40.0, "BU3": 20.0, "BU4": 40.0})
    values = pd.DataFrame({"no2_ugm3": [21.0] * 4, "share": [0.1, 0.2, 0.3, 0.6], "n": [10.0, 40.0, 20.0, 40.0]},
                          index=["BU1", "BU2", "BU3", "BU4"])
    out = apply_crosswalk(values, table, source_residents=res, counts=("n",))
    assert out["no2_ugm3"].to_numpy() == pytest.approx(21.0)
    # the merge: residents-weighted mean (20 x 0.3 + 40 x 0.6) / 60 = 0.5; the split keeps BU2's 0.2
    assert out.loc["BU34", "share"] == pytest.approx(0.5)
    assert out.loc[["BU2A", "BU2B"], "share"].tolist() == pytest.approx([0.2, 0.2])
    # counts: 40 split 30/10, 20 + 40 merged; the total is kept
    assert out["n"].to_dict() == pytest.approx({"BU1": 10, "BU2A": 30, "BU2B": 10, "BU34": 60})
    assert out["n"].sum() == pytest.approx(values["n"].sum())


def test_a_target_ward_mostly_unexplained_is_refused_by_name():
    src = _wards({"BU1": box(0, 0, 100, 100)})
    tgt = _wards({"BU1": box(0, 0, 100, 100), "BU5": box(100, 0, 200, 100)})
    pts = _points([(50, 50, 10), (150, 50, 30), (190, 50, 10)])
    _, quality = build_crosswalk(src, tgt, residents=pts)
    assert quality.loc["BU5", "explained_frac"] == pytest.approx(0.0)
    with pytest.raises(InputDataError, match=r"1 target ward\(s\).*2019 wards: BU5 \(0 %\)"):
        check_quality(quality, year=2019)
    check_quality(quality.drop(index="BU5"), year=2019)  # the rest is fine


def test_duplicate_codes_and_crs_are_refused():
    dup = pd.concat([_wards({"BU1": box(0, 0, 1, 1)}), _wards({"BU1": box(1, 0, 2, 1)})])
    with pytest.raises(InputDataError, match="duplicate ward codes"):
        build_crosswalk(dup, _wards({"BU1": box(0, 0, 2, 1)}))
    with pytest.raises(InputDataError, match="differs from target CRS"):
        build_crosswalk(_wards({"BU1": box(0, 0, 1, 1)}).to_crs(4326), _wards({"BU1": box(0, 0, 1, 1)}))


def test_slope_and_interval_equal_scipy():
    rng = np.random.default_rng(3)
    for n in (3, 4, 7):
        years = np.arange(2015, 2015 + n)
        y = 30 - 1.1 * (years - 2015) + rng.normal(0, 0.5, n)
        slope, lo, hi = ols_slope(years, y)
        ref = stats.linregress(years, y)
        t = stats.t.ppf(0.975, n - 2)
        assert slope == pytest.approx(ref.slope)
        assert (lo, hi) == pytest.approx((ref.slope - t * ref.stderr, ref.slope + t * ref.stderr))
    assert np.isnan(ols_slope([2019, 2020], [1.0, 2.0])[0])
    assert np.isnan(ols_slope([2019, 2020, 2021], [1.0, np.nan, 2.0])[0])


def test_survey_change_interval_from_published_bounds():
    # wave 1: 40 % [36, 44] -> SE 2.04; wave 2: 46 % [42, 50] -> SE 2.04; change 6, SE 2.886
    change, lo, hi, sig = survey_change([40.0], [36.0], [44.0], [46.0], [42.0], [50.0])
    se = np.hypot(8 / (2 * Z95), 8 / (2 * Z95))
    assert change[0] == 6.0 and se == pytest.approx(2.886, abs=1e-3)
    assert (lo[0], hi[0]) == pytest.approx((6 - stats.norm.ppf(0.975) * se, 6 + stats.norm.ppf(0.975) * se))
    assert sig[0] == 1.0  # 0.34 .. 11.66 excludes zero, although the bounds [36, 44] and [42, 50] overlap
    _, _, _, sig = survey_change([40.0], [36.0], [44.0], [44.0], [40.0], [48.0])
    assert sig[0] == 0.0
    _, lo, _, sig = survey_change([40.0], [np.nan], [44.0], [44.0], [40.0], [48.0])
    assert np.isnan(lo[0]) and np.isnan(sig[0])
    assert se_from_bounds(36.0, 44.0) == pytest.approx(4 / 1.959964)


def test_trend_frame_columns_and_docs():
    docs = {"no2_ugm3_popw": doc("ug/m3", "NO2 at home", theme="air", about="residents", scale="concentration",
                                 higher_is_worse=True, label_en="NO2", label_nl="NO2"),
            "health_good_health_pct": doc("%", "good health", theme="health", about="residents", scale="percent",
                                          higher_is_worse=False, label_en="good health", label_nl="goede gezondheid"),
            "name": doc("text", "name", theme="identity", about="identity", scale="text")}
    idx = pd.Index(["BU1", "BU2"], name="buurtcode")
    per_year = {
        2019: pd.DataFrame({"no2_ugm3_popw": [30.0, 20.0], "name": ["a", "b"], "health_good_health_pct": [70.0, 60.0],
                            "health_good_health_pct_lo95": [66.0, 50.0], "health_good_health_pct_hi95": [74.0, 70.0]},
                           index=idx),
        2020: pd.DataFrame({"no2_ugm3_popw": [29.0, 19.0], "name": ["a", "b"]}, index=idx),
        2021: pd.DataFrame({"no2_ugm3_popw": [28.0, np.nan], "name": ["a", "b"], "health_good_health_pct": [76.0, 61.0],
                            "health_good_health_pct_lo95": [72.0, 51.0], "health_good_health_pct_hi95": [80.0, 71.0]},
                           index=idx),
    }
    t, tdocs = trend(per_year, docs)
    assert t.loc["BU1", "no2_ugm3_popw_2020"] == 29.0
    assert t.loc["BU1", "no2_ugm3_popw_change"] == pytest.approx(-2.0)
    assert t.loc["BU1", "no2_ugm3_popw_slope_per_year"] == pytest.approx(-1.0)
    # a perfect line: the interval collapses onto the slope
    assert t.loc["BU1", ["no2_ugm3_popw_slope_lo95", "no2_ugm3_popw_slope_hi95"]].tolist() == pytest.approx([-1, -1])
    assert np.isnan(t.loc["BU2", "no2_ugm3_popw_change"]) and np.isnan(t.loc["BU2", "no2_ugm3_popw_slope_per_year"])
    # survey change flagged for BU1 (+6, narrow bounds), not for BU2 (+1, wide bounds)
    assert t["health_good_health_pct_change_significant"].tolist() == [True, False]
    assert "name_change" not in t and "health_good_health_pct_lo95_2019" not in t
    assert set(tdocs) == set(t.columns)
    assert tdocs["no2_ugm3_popw_slope_per_year"].unit == "ug/m3 per year"
    assert tdocs["no2_ugm3_popw_change"].higher_is_worse is True and tdocs["no2_ugm3_popw_change"].theme == "trend"
    with pytest.raises(InputDataError, match="at least two years"):
        trend({2019: per_year[2019]}, docs)


def test_change_in_the_gap_with_bootstrap_intervals():
    d = {2019: pd.DataFrame({"indicator": ["no2"], "measure": ["sii"], "value": [4.0], "lo95": [3.0], "hi95": [5.0]}),
         2021: pd.DataFrame({"indicator": ["no2"], "measure": ["sii"], "value": [2.0], "lo95": [1.0], "hi95": [3.0]})}
    g = gap_change(d)
    row = g.iloc[0]
    assert row["change"] == -2.0 and row["year_first"] == 2019 and row["year_last"] == 2021
    se = np.hypot(2 / (2 * Z95), 2 / (2 * Z95))
    assert row["change_hi95"] == pytest.approx(-2 + Z95 * se)
    assert bool(row["change_significant"]) is True  # the gap closed: -2 +- 1.41


def test_survey_bounds_through_the_crosswalk_by_hand():
    """A split keeps its source's published bounds; a merge gets the interval of the residents-weighted
    mean of two independent estimates, SE = sqrt(sum w_i^2 SE_i^2)."""
    table, _ = build_crosswalk(_wards(SOURCE), _wards(TARGET), residents=_points(RESIDENTS))
    res = pd.Series({"BU1": 10.0, "BU2": 40.0, "BU3": 20.0, "BU4": 40.0})
    values = pd.DataFrame({"h_pct": [50.0, 40.0, 30.0, 60.0], "h_pct_lo95": [45.0, 36.0, 26.0, 50.0],
                           "h_pct_hi95": [55.0, 45.0, 34.0, 70.0]}, index=["BU1", "BU2", "BU3", "BU4"])
    out = apply_crosswalk(values, table, source_residents=res)
    # identical and split: the published (asymmetric) bounds pass unchanged
    assert out.loc["BU1", ["h_pct", "h_pct_lo95", "h_pct_hi95"]].tolist() == pytest.approx([50, 45, 55])
    assert out.loc["BU2B", ["h_pct", "h_pct_lo95", "h_pct_hi95"]].tolist() == pytest.approx([40, 36, 45])
    # merge BU3 (20 residents, SE 8/3.92) + BU4 (40 residents, SE 20/3.92): weights 1/3, 2/3
    est = (20 * 30 + 40 * 60) / 60
    se = np.sqrt((1 / 3) ** 2 * (8 / (2 * Z95)) ** 2 + (2 / 3) ** 2 * (20 / (2 * Z95)) ** 2)
    z = stats.norm.ppf(0.975)
    assert out.loc["BU34", "h_pct"] == pytest.approx(est)
    assert out.loc["BU34", ["h_pct_lo95", "h_pct_hi95"]].tolist() == pytest.approx([est - z * se, est + z * se])
    # a missing bound of one merged source: no interval rather than a too narrow one
    values.loc["BU4", "h_pct_lo95"] = np.nan
    out = apply_crosswalk(values, table, source_residents=res)
    assert np.isnan(out.loc["BU34", "h_pct_lo95"]) and out.loc["BU34", "h_pct"] == pytest.approx(est)


def test_trend_over_raster_years_and_survey_waves_uses_each_columns_own_years():
    """NO2 for 2021-2023 and a survey in waves 2016, 2020, 2022: each column's change runs from its
    own first to its own last year; the wave change's interval equals a hand computation."""
    docs = {"no2": doc("ug/m3", "NO2", theme="air", about="area", scale="concentration"),
            "h_pct": doc("%", "h", theme="health", about="residents", scale="percent")}
    idx = pd.Index(["BU1"], name="buurtcode")

    def wave(v, lo, hi):
        return pd.DataFrame({"h_pct": [v], "h_pct_lo95": [lo], "h_pct_hi95": [hi]}, index=idx)

    per_year = {2016: wave(30.0, 27.0, 33.0), 2020: wave(28.0, 25.0, 31.0),
                2021: pd.DataFrame({"no2": [25.0]}, index=idx),
                2022: pd.concat([pd.DataFrame({"no2": [24.0]}, index=idx), wave(25.0, 22.5, 27.5)], axis=1),
                2023: pd.DataFrame({"no2": [23.0]}, index=idx)}
    t, tdocs = trend(per_year, docs)
    assert t.loc["BU1", "no2_change"] == pytest.approx(-2.0) and "no2_2016" not in t
    assert t.loc["BU1", "no2_slope_per_year"] == pytest.approx(-1.0)
    assert t.loc["BU1", "h_pct_change"] == pytest.approx(-5.0) and "h_pct_2021" not in t
    se = np.hypot(6 / (2 * stats.norm.ppf(0.975)), 5 / (2 * stats.norm.ppf(0.975)))
    lo, hi = stats.norm.interval(0.95, loc=-5.0, scale=se)
    assert (t.loc["BU1", "h_pct_change_lo95"], t.loc["BU1", "h_pct_change_hi95"]) == pytest.approx((lo, hi))
    assert bool(t.loc["BU1", "h_pct_change_significant"]) is bool(hi < 0) is True  # bounds overlap, change significant
    assert set(tdocs) == set(t.columns)


def test_disparity_trend_table_year_rows_and_the_change_in_the_gap():
    from healthgeo.trend import disparity_trend, disparity_trend_docs

    def rows(year_values):
        return pd.DataFrame([{"level": "buurt", "indicator": "no2", "metric": m, "value": v, "ci_low": v - 1,
                              "ci_high": v + 1, "n_wards": 40, "ranking_variable": "ses_woa_score", "note": ""}
                             for m, v in year_values] +
                            [{"level": "buurt", "indicator": "no2", "metric": "gini", "value": 0.1, "ci_low": 0.0,
                              "ci_high": 0.2, "n_wards": 40, "ranking_variable": "", "note": ""}])

    t = disparity_trend({2021: rows([("sii", 4.0), ("ci_relative", 0.05)]),
                         2023: rows([("sii", 1.0), ("ci_relative", 0.04)])})
    assert list(t.columns) == list(disparity_trend_docs())
    assert "gini" not in set(t["metric"])
    ch = t[t["kind"] == "change"].set_index("metric")
    assert ch.loc["sii", "value"] == pytest.approx(-3.0)
    se = np.hypot(2 / (2 * Z95), 2 / (2 * Z95))
    assert ch.loc["sii", ["ci_low", "ci_high"]].tolist() == pytest.approx([-3 - Z95 * se, -3 + Z95 * se])
    assert bool(ch.loc["sii", "change_significant"]) and not bool(ch.loc["ci_relative", "change_significant"])
    assert (ch["year_first"] == 2021).all() and (ch["year_last"] == 2023).all()
    assert len(t[t["kind"] == "year"]) == 4 and t.loc[t["kind"] == "year", "change_significant"].isna().all()
