"""Typology: ordered rules, recorded rule text, safe parser, redevelopment overlap, clustering."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from healthgeo._errors import ConfigError
from healthgeo.typology import DEFAULT_RULES, apply_rules, area_typology, cluster_typology, parse_condition


@pytest.fixture()
def wards() -> gpd.GeoDataFrame:
    """Five 1 km x 0.5 km buurten side by side (area 0.5 km2 each)."""
    geoms = [box(150_000 + 1000 * i, 445_000, 151_000 + 1000 * i, 445_500) for i in range(5)]
    return gpd.GeoDataFrame(
        {"residents": [6000.0, 3000.0, 0.0, 1500.0, 2000.0],
         "income_keur_per_resident": [30.0, 40.0, np.nan, 18.0, 35.0],
         "low_income_hh_pct": [6.0, 4.0, np.nan, 20.0, 5.0],
         "area_m2": [500_000.0] * 5},
        geometry=geoms, crs="EPSG:28992", index=pd.Index([f"BU{i}" for i in range(5)], name="buurtcode"))


def test_rules_fire_in_order_and_record_text():
    t = pd.DataFrame({"a": [10.0, 10.0, 1.0, np.nan], "b": [1.0, 5.0, 5.0, 5.0]}, index=list("wxyz"))
    rules = [
        {"type": "first", "all": ["a >= 10", "b < 2"]},
        {"type": "second", "all": ["a >= 5"]},        # w would match too, but 'first' comes first
        {"type": "third", "any": ["b == 5", "a > 100"]},
    ]
    out = apply_rules(t, rules)
    assert out["typology"].tolist() == ["first", "second", "third", "third"]
    assert out.loc["w", "typology_rule"] == "first: a >= 10 and b < 2"
    assert out.loc["x", "typology_rule"] == "second: a >= 5"
    assert out.loc["y", "typology_rule"] == "third: (b == 5 or a > 100)"
    # swapping the order changes the winner for w
    out2 = apply_rules(t, [rules[1], rules[0], rules[2]])
    assert out2.loc["w", "typology"] == "second"
    # no rule matches -> NA
    out3 = apply_rules(t, [{"type": "only", "all": ["a > 1000"]}])
    assert out3["typology"].isna().all()


def test_unknown_column_names_rule_and_available_columns():
    t = pd.DataFrame({"residents": [1.0], "area_km2": [1.0]})
    with pytest.raises(ConfigError) as e:
        apply_rules(t, [{"type": "ok", "all": ["residents > 0"]}, {"type": "centrum", "all": ["density >= 8000"]}])
    msg = str(e.value)
    assert "rule 2" in msg and "centrum: density >= 8000" in msg and "['density']" in msg
    assert "['area_km2', 'residents']" in msg


@pytest.mark.parametrize("bad", ["residents >= ", "__import__('os') > 1", "a >= b", "a => 3", "a >= 1; b < 2", 3])
def test_condition_parser_rejects_non_conditions(bad):
    with pytest.raises(ConfigError):
        parse_condition(bad)


def test_condition_parser_accepts_numbers():
    c = parse_condition("  income_rank_pct<=-2.5e1 ")
    assert (c.column, c.op, c.value) == ("income_rank_pct", "<=", -25.0)


def test_area_typology_defaults(wards):
    redevelopment = gpd.GeoDataFrame(geometry=[box(151_000, 445_000, 151_400, 445_500)], crs="EPSG:28992")
    # 12 transit stops and 25 shops around BU0 (inside its polygon)
    pts = [Point(150_100 + 10 * i, 445_100) for i in range(37)]
    amenities = gpd.GeoDataFrame({"category": ["transit_stop"] * 12 + ["supermarket"] * 25}, geometry=pts,
                                 crs="EPSG:28992")
    df, docs = area_typology(wards, redevelopment=redevelopment, amenities=amenities)
    # BU1 is 40 % inside the redevelopment polygon
    assert df.loc["BU1", "redevelopment_share_pct"] == pytest.approx(40.0)
    assert df.loc["BU0", "residents_per_km2"] == pytest.approx(12_000.0)
    # income rank: 18 < 30 < 35 < 40 -> (rank - 0.5)/4 x 100
    assert df.loc["BU3", "income_rank_pct"] == pytest.approx(12.5)
    assert df.loc["BU0", "transit_stops_within_400m"] == 12
    # BU1 (next to BU0, within 400 m of some points) also sees stops; all counts non-negative
    assert (df["transit_stops_within_400m"] >= 0).all()
    assert df["typology"].to_dict() == {
        "BU0": "mobiliteitsknooppunt",  # 12 stops, 12 000/km2 (rule before centrum)
        "BU1": "herontwikkeling",
        "BU2": "overig",
        "BU3": "aandachtswijk",
        "BU4": "woonwijk",
    }
    assert df.loc["BU4", "typology_rule"] == "woonwijk: always (fallback)"
    assert set(df.columns) <= set(docs)
    assert DEFAULT_RULES[0]["type"] == "herontwikkeling"


def test_missing_amenities_do_not_fire(wards):
    df, _ = area_typology(wards)
    assert df["transit_stops_within_400m"].isna().all()
    assert "mobiliteitsknooppunt" not in set(df["typology"])


def test_clustering_is_seeded_and_separates_groups():
    rng = np.random.default_rng(0)
    t = pd.DataFrame({"a": np.r_[rng.normal(0, 0.1, 10), rng.normal(10, 0.1, 10)],
                      "b": np.r_[rng.normal(0, 0.1, 10), rng.normal(5, 0.1, 10)]})
    t.loc[3, "b"] = np.nan
    c1 = cluster_typology(t, ["a", "b"], 2, seed=1)
    c2 = cluster_typology(t, ["a", "b"], 2, seed=1)
    assert c1.equals(c2)
    assert pd.isna(c1[3])
    assert set(c1.dropna()[:9]) == {1} and set(c1[10:]) == {2}
    with pytest.raises(ConfigError, match="unknown column"):
        cluster_typology(t, ["zzz"], 2)


def test_area_typology_with_cluster_column(wards):
    df, docs = area_typology(wards, n_clusters=2, seed=3)
    assert "typology_cluster" in df and "typology_cluster" in docs
    assert df["typology_cluster"].isna().sum() == 1  # BU2 has no income


def test_missing_input_does_not_fire_and_is_named_in_the_rule_text():
    t = pd.DataFrame({"income_rank_pct": [10.0, np.nan, np.nan, 90.0, np.nan],
                      "residents": [500.0, 500.0, 50.0, 500.0, np.nan],
                      "density": [100.0, 100.0, 100.0, 100.0, 9000.0]}, index=list("abcde"))
    rules = [{"type": "aandachtswijk", "all": ["income_rank_pct <= 20", "residents >= 100"]},
             {"type": "centrum", "any": ["density >= 8000", "income_rank_pct >= 95"]},
             {"type": "woonwijk", "all": []}]
    out = apply_rules(t, rules)
    assert out["typology"].tolist() == ["aandachtswijk", "woonwijk", "woonwijk", "woonwijk", "centrum"]
    assert out.loc["a", "typology_rule"] == "aandachtswijk: income_rank_pct <= 20 and residents >= 100"
    # b: aandachtswijk and centrum could both have fired with an income
    assert out.loc["b", "typology_rule"] == ("woonwijk: always (fallback; missing income_rank_pct for "
                                             "aandachtswijk; income_rank_pct for centrum)")
    # c: residents < 100 already rules aandachtswijk out, only centrum was undecided
    assert out.loc["c", "typology_rule"] == "woonwijk: always (fallback; missing income_rank_pct for centrum)"
    # d: every input known -> plain text
    assert out.loc["d", "typology_rule"] == "woonwijk: always (fallback)"
    # e: centrum fires on its known 'any' condition; aandachtswijk lacked two inputs
    assert out.loc["e", "typology_rule"] == ("centrum: (density >= 8000 or income_rank_pct >= 95) "
                                             "(missing income_rank_pct, residents for aandachtswijk)")
    # without a fallback the missing inputs are still recorded
    none = apply_rules(t, rules[:1])
    assert pd.isna(none.loc["b", "typology"])
    assert none.loc["b", "typology_rule"] == "no rule (missing income_rank_pct for aandachtswijk)"
    assert pd.isna(none.loc["d", "typology_rule"])


def test_missing_income_in_area_typology_is_recorded(wards):
    pts = [Point(150_100, 445_100)]
    amenities = gpd.GeoDataFrame({"category": ["supermarket"]}, geometry=pts, crs="EPSG:28992")
    w = wards.copy()
    w.loc["BU4", "income_keur_per_resident"] = np.nan
    df, _ = area_typology(w, amenities=amenities)
    assert np.isnan(df.loc["BU4", "income_rank_pct"])
    assert df.loc["BU4", "typology"] == "woonwijk"
    assert df.loc["BU4", "typology_rule"] == "woonwijk: always (fallback; missing income_rank_pct for aandachtswijk)"


def test_income_rank_is_nan_at_gemeente_level(wards):
    gm = wards.iloc[[0]].copy()
    gm.index = pd.Index(["GM0344"], name="gemeentecode")
    df, docs = area_typology(gm)
    assert df["income_rank_pct"].isna().all()
    assert "gemeente level" in docs["income_rank_pct"].method
    assert "missing income_rank_pct for aandachtswijk" in df.loc["GM0344", "typology_rule"]
    # also when the level is given, or when fewer than two wards have an income
    many = wards.copy()
    assert area_typology(many, level="gemeente")[0]["income_rank_pct"].isna().all()
    one = wards.assign(income_keur_per_resident=[30.0, np.nan, np.nan, np.nan, np.nan])
    assert area_typology(one)[0]["income_rank_pct"].isna().all()
    # buurt level unchanged
    assert area_typology(wards)[0].loc["BU3", "income_rank_pct"] == pytest.approx(12.5)


def test_many_indicator_columns_pass_through_without_fragmenting_the_frame(wards):
    """The typology stage passes every indicator column (hundreds); they are added at once."""
    import warnings

    indicators = pd.DataFrame({f"ind_{i}": np.arange(5.0) + i for i in range(300)}, index=wards.index)
    indicators["label"] = "text"  # not numeric: not passed
    indicators["residents"] = -1.0  # already made here: the typology's own value wins
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas' PerformanceWarning about a fragmented frame
        df, docs = area_typology(wards, indicators=indicators)
    assert [c for c in df.columns if c.startswith("ind_")] == [f"ind_{i}" for i in range(300)]
    assert df.loc["BU2", "ind_299"] == 301.0 and "label" not in df and (df["residents"] >= 0).all()
    assert set(df.columns) <= set(docs)
