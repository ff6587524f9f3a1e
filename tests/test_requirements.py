"""Health requirements scorecard (healthgeo.requirements): operators, area types, missing indicators."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from healthgeo._errors import ConfigError
from healthgeo.config import validate
from healthgeo.dictionary import doc
from healthgeo.requirements import (
    DEFAULT_REQUIREMENTS,
    REQUIREMENT_TABLE_DOCS,
    SUMMARY_DOCS,
    check_requirements,
    evaluate_requirements,
    known_indicators,
    requirement_problems,
)

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"
CODES = pd.Index(["BU00000001", "BU00000002", "BU00000003"], name="buurtcode")


def req(rid, indicator, op, threshold, area_types=()):
    return {"id": rid, "indicator": indicator, "op": op, "threshold": threshold, "area_types": list(area_types)}


@pytest.fixture
def frame():
    return pd.DataFrame({"x": [10.0, 20.0, 30.0], "tree_canopy_pct": [35.0, np.nan, 12.0],
                         "tree_canopy_reason": [None, "no land-cover raster or tree points given", None],
                         "typology": ["woonwijk", "centrum", None]}, index=CODES)


@pytest.mark.parametrize("op, expect", [
    ("<", [True, False, False]), ("<=", [True, True, False]), (">", [False, False, True]),
    (">=", [False, True, True]), ("==", [False, True, False]), ("!=", [True, False, True]),
])
def test_each_operator(frame, op, expect):
    reqs = check_requirements([req("r", "x", op, 20)], known={"x"})
    per_ward, _, long, _ = evaluate_requirements(frame, reqs, level="buurt", typology=frame["typology"])
    assert long["met"].tolist() == expect
    assert per_ward["requirements_met_n"].tolist() == [float(v) for v in expect]
    assert per_ward["requirements_met_share"].tolist() == [float(v) for v in expect]


def test_not_applicable_to_an_area_type_is_null_with_a_reason_and_not_counted(frame):
    reqs = check_requirements([req("r", "x", "<=", 100, area_types=["woonwijk"]), req("all", "x", "<=", 15)],
                              known={"x"})
    per_ward, docs, long, summary = evaluate_requirements(frame, reqs, level="buurt", typology=frame["typology"],
                                                          docs={"x": doc("µg/m³", "x")})
    r = long[long["requirement"] == "r"].set_index("code")
    assert r.loc["BU00000001", "met"] == True  # noqa: E712
    assert pd.isna(r.loc["BU00000002", "met"]) and not r.loc["BU00000002", "applies"]
    assert r.loc["BU00000002", "reason"] == "not applicable to area type 'centrum' (applies to ['woonwijk'])"
    assert "area type unknown" in r.loc["BU00000003", "reason"]
    assert r.loc["BU00000001", "unit"] == "µg/m³"
    # ward 2: only 'all' applies (20 > 15: not met); ward 1 meets both
    assert per_ward["requirements_applicable_n"].tolist() == [2.0, 1.0, 1.0]
    assert per_ward["requirements_met_n"].tolist() == [2.0, 0.0, 0.0]
    assert per_ward["requirements_met_share"].tolist() == [1.0, 0.0, 0.0]
    s = summary.set_index(["area_type", "requirement"])
    assert s.loc[("woonwijk", "r"), "wards_met_n"] == 1 and ("centrum", "r") not in s.index
    assert s.loc[("(unknown)", "all"), "wards_not_met_n"] == 1
    assert set(long.columns) == set(REQUIREMENT_TABLE_DOCS) and set(summary.columns) == set(SUMMARY_DOCS)
    assert set(per_ward.columns) == set(docs)


def test_missing_indicator_is_null_with_a_reason_not_false(frame):
    reqs = check_requirements([req("canopy", "tree_canopy_pct", ">=", 30),
                               req("cool", "pop_share_cool_place_walk_300m", ">=", 0.95)],
                              known={"tree_canopy_pct", "pop_share_cool_place_walk_300m"})
    per_ward, _, long, _ = evaluate_requirements(frame, reqs, level="buurt", typology=frame["typology"])
    canopy = long[long["requirement"] == "canopy"].set_index("code")
    assert canopy["met"].tolist()[0] == True and canopy["met"].tolist()[2] == False  # noqa: E712
    assert pd.isna(canopy.loc["BU00000002", "met"])
    assert canopy.loc["BU00000002", "reason"] == ("no value for tree_canopy_pct (tree_canopy_reason: no land-cover "
                                                  "raster or tree points given)")
    cool = long[long["requirement"] == "cool"]
    assert cool["met"].isna().all()
    assert (cool["reason"] == "indicator pop_share_cool_place_walk_300m not computed in this run (its input is not "
            "configured)").all()
    # unknowns are not failures: ward 2 has two unknown requirements, a share of NaN, not 0
    assert per_ward.loc["BU00000002", "requirements_unknown_n"] == 2
    assert np.isnan(per_ward.loc["BU00000002", "requirements_met_share"])
    assert per_ward.loc["BU00000003", "requirements_met_share"] == 0.0  # 12 % canopy: not met; cool: unknown


def test_withheld_wards_are_left_out_of_the_summary(frame):
    reqs = check_requirements([req("r", "x", "<=", 100)], known={"x"})
    published = pd.Series([True, False, True], index=CODES.astype(str))
    _, _, long, summary = evaluate_requirements(frame, reqs, level="buurt", typology=frame["typology"],
                                                published=published)
    assert len(long) == 3  # the long table keeps every ward (values withheld by the assembler)
    assert "centrum" not in set(summary["area_type"])
    # a withheld ward's area type does not show through a requirement limited to area types
    reqs = check_requirements([req("r", "x", "<=", 100, area_types=["centrum"])], known={"x"})
    _, _, long, _ = evaluate_requirements(frame, reqs, level="buurt", typology=frame["typology"],
                                          published=published)
    row = long.set_index("code").loc["BU00000002"]
    assert pd.isna(row["area_type"]) and pd.isna(row["met"])
    assert row["reason"] == "not applicable: area type withheld (disclosure control)"


def test_unknown_indicator_is_refused_naming_the_closest_valid_ones():
    problems = requirement_problems([req("a", "no2_ugm3_popwt", "<=", 10), req("a", "x", "=<", 1)],
                                    known=known_indicators(), area_types={"woonwijk"})
    text = "\n".join(problems)
    assert "'no2_ugm3_popwt' is not a healthgeo indicator; closest valid indicators: ['no2_ugm3_popw'" in text
    assert "duplicate ids ['a']" in text and "'=<' is not allowed" in text


def test_unknown_indicator_in_the_config_is_refused_before_any_work():
    cfg = yaml.safe_load(DEMO_CONFIG.read_text())
    cfg["requirements"] = [req("green", "pop_share_green_300m", ">=", 0.9, area_types=["woonwijk"])]
    with pytest.raises(ConfigError) as e:
        validate(cfg)
    msg = str(e.value)
    assert "requirements[0] (green).indicator: 'pop_share_green_300m' is not a healthgeo indicator" in msg
    assert "pop_share_green_1ha_300m" in msg  # the closest valid indicators are named
    cfg["requirements"] = [req("green", "pop_share_green_1ha_300m", ">=", 0.9, area_types=["woonwjk"])]
    with pytest.raises(ConfigError, match=r"\['woonwjk'\] are not area types"):
        validate(cfg)


def test_config_dependent_names_are_known():
    known = known_indicators({"network": {"thresholds_m": [400]}, "heat": {"cool_distance_m": 250}})
    assert {"pop_share_gp_walk_400m_65plus", "pop_share_cool_place_walk_250m"} <= known
    assert "pop_share_gp_walk_400m_65plus" not in known_indicators()


def test_default_requirements_are_valid_and_sourced():
    assert requirement_problems(None, known=known_indicators(), area_types={
        "woonwijk", "aandachtswijk", "centrum", "mobiliteitsknooppunt", "herontwikkeling", "overig"}) == []
    for r in DEFAULT_REQUIREMENTS:
        assert r["source"] and r["label_nl"] and r["label_en"] and r["target_group"], r["id"]
    assert validate(yaml.safe_load(DEMO_CONFIG.read_text()))["requirements"] is None  # the default set


@pytest.mark.slow
def test_indicator_list_matches_the_demo_run(demo_run):
    """src/healthgeo/data/indicator_columns.txt = the numeric ward-layer columns of the demo run: a
    stale name (renamed or dropped column) and a new column missing from the list both fail here.
    Regenerate the list from the demo GeoPackage's data_dictionary when a producer changes."""
    import pyogrio

    from healthgeo.requirements import _listed_indicators

    gpkg = demo_run / "data" / "processed" / "demo" / "healthgeo.gpkg"
    dd = pyogrio.read_dataframe(gpkg, layer="data_dictionary")
    wards = dd[dd["layer"].isin(["buurt", "wijk", "gemeente"])].drop_duplicates("column")
    numeric = wards[(wards["theme"] != "identity") & ~wards["scale"].isin(["text", "category"])
                    & (wards["column"] != "geometry")]
    listed = set(_listed_indicators())
    assert not listed - set(wards["column"]), f"listed but not made by the demo run: {sorted(listed - set(wards['column']))}"
    assert not set(numeric["column"]) - listed, f"made but not listed: {sorted(set(numeric['column']) - listed)}"
    # the demo run wrote the scorecard: heat columns, requirement counts and both tables
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"requirements", "requirements_summary"} <= layers
    req = pyogrio.read_dataframe(gpkg, layer="requirements", read_geometry=False)
    assert set(req["requirement"]) == {r["id"] for r in DEFAULT_REQUIREMENTS}
    # every NULL says why, except in the rows of wards withheld by disclosure control (values withheld)
    withheld = set()
    for level, code in (("buurt", "buurtcode"), ("wijk", "wijkcode"), ("gemeente", "gemeentecode")):
        layer = pyogrio.read_dataframe(gpkg, layer=level, read_geometry=False)
        withheld |= set(layer.loc[layer["disclosure_reason"].notna(), code])
    silent = req.loc[req["met"].isna() & req["reason"].isna(), "code"]
    assert set(silent) <= withheld, sorted(set(silent) - withheld)[:5]
    assert req.loc[~req["code"].isin(withheld), "value"].notna().any()
    # the demo has no tree input: the canopy requirement is NULL with the indicator's own reason
    canopy = req[(req["requirement"] == "canopy_30pct") & (req["level"] == "gemeente")]
    assert canopy["met"].isna().all() and canopy["reason"].str.contains("tree_canopy_reason").all()
