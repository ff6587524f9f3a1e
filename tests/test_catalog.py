"""Indicator catalog, long table and map classes on hand-checkable input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from healthgeo.catalog import catalog_table, fallback_scale, indicators_table
from healthgeo.classes import LISA_COLOURS, YLORRD, classify
from healthgeo.dictionary import WHO_AQG_2021, doc

NO2 = doc("µg/m³", "Annual-mean NO2, population-weighted. More text.", theme="air", higher_is_worse=True,
          label_en="NO2 at home", label_nl="NO2 bij de woning", scale="concentration",
          thresholds=((10, "WHO AQG", WHO_AQG_2021), (20, "IT4", WHO_AQG_2021)))


def test_catalog_uses_column_docs_and_says_what_is_missing():
    docs = {
        "buurt": {"buurtcode": doc("code", "CBS buurt code", theme="identity"), "no2_ugm3_popw": NO2,
                  "green_share_pct": doc("%", "Share of the ward's area that is green; public and private")},
        "wijk": {"wijkcode": doc("code", "CBS wijk code"), "no2_ugm3_popw": NO2},
    }
    cat = catalog_table(docs).set_index("indicator")
    no2 = cat.loc["no2_ugm3_popw"]
    assert (no2["theme"], no2["label_en"], no2["label_nl"], no2["scale"]) == \
        ("air", "NO2 at home", "NO2 bij de woning", "concentration")
    assert bool(no2["higher_is_worse"]) is True
    assert [t["value"] for t in json.loads(no2["thresholds"])] == [10.0, 20.0]
    assert no2["threshold_source"] == WHO_AQG_2021 and no2["levels"] == "buurt,wijk"
    # a doc without metadata: no guessing from the column name; the label is the first clause
    green = cat.loc["green_share_pct"]
    assert pd.isna(green["theme"]) and pd.isna(green["scale"])
    assert green["label_en"] == "Share of the ward's area that is green" == green["label_nl"]
    assert pd.isna(green["higher_is_worse"]) and pd.isna(green["thresholds"])
    assert cat.loc["buurtcode", "theme"] == "identity"


def test_fallback_scale():
    assert [fallback_scale(u) for u in ("fraction (0-1)", "%", "dB", "m", "class", "deaths/year", "bool")] == \
        ["fraction", "percent", "db", "distance", "category", "rate", "flag"]


def test_indicators_long_table_pairs_bounds_and_skips_nulls():
    layer = pd.DataFrame({
        "buurtcode": ["BU01", "BU02"], "name": ["A", "B"],
        "health_good_health_pct": [70.0, np.nan], "health_good_health_pct_lo95": [65.0, np.nan],
        "health_good_health_pct_hi95": [75.0, np.nan],
        "deaths_attr_no2_per_year_central": [1.5, 2.0], "deaths_attr_no2_per_year_low": [1.0, 1.2],
        "deaths_attr_no2_per_year_high": [2.0, 2.9], "no2_reason": [None, "no residents"],
        "residents": [100, 200], "typology": ["centrum", "woonwijk"],
    })
    docs = {"buurt": {c: doc("x", c) for c in layer.columns}}
    long = indicators_table({"buurt": layer}, catalog_table(docs))
    got = {(r.code, r.indicator): (r.value, r.lo95, r.hi95) for r in long.itertuples()}
    assert got[("BU01", "health_good_health_pct")] == (70.0, 65.0, 75.0)
    assert ("BU02", "health_good_health_pct") not in got  # withheld/NULL: no row
    assert got[("BU02", "deaths_attr_no2_per_year_central")] == (2.0, 1.2, 2.9)
    assert got[("BU02", "residents")][0] == 200 and np.isnan(got[("BU02", "residents")][1])
    indicators = set(long["indicator"])
    assert not indicators & {"health_good_health_pct_lo95", "deaths_attr_no2_per_year_low", "name", "no2_reason",
                             "typology", "buurtcode"}
    assert set(long["level"]) == {"buurt"} and list(long.columns) == ["level", "code", "indicator", "value", "lo95", "hi95"]


def test_classes_at_thresholds_and_direction():
    cls = classify(pd.Series([5.0, 10.0, 15.0, 25.0]), thresholds=json.loads(json.dumps(
        [{"value": 20, "label": "IT4"}, {"value": 10, "label": "AQG"}])), higher_is_worse=True)
    assert cls.kind == "threshold" and cls.breaks == [10.0, 20.0]
    assert [cls.index(v) for v in (5.0, 10.0, 15.0, 25.0, np.nan)] == [0, 1, 1, 2, None]
    assert cls.labels == ["< 10", "10 – < 20 (AQG)", "≥ 20 (IT4)"]
    assert cls.colours[-1] == YLORRD[-1]  # worst is darkest red
    better = classify(pd.Series([5.0, 25.0]), thresholds=[(10, "", "")], higher_is_worse=False)
    assert better.colours[0] == YLORRD[-1]  # higher is better: the low class is the dark red one


def test_quantile_and_category_classes():
    q = classify(pd.Series(np.arange(1.0, 101.0)))
    assert q.kind == "quantile" and len(q.colours) == 5
    assert [q.index(v) for v in (1.0, 50.0, 100.0)] == [0, 2, 4]
    lisa = classify(pd.Series(["ns", "HH", None, "LL"]), scale="category")
    assert lisa.categories == ["HH", "LL", "ns"] and lisa.colour("HH") == LISA_COLOURS["HH"]
    typ = classify(pd.Series(["woonwijk", "centrum"]), scale="category")
    assert typ.categories == ["centrum", "woonwijk"] and len(set(typ.colours)) == 2
    div = classify(pd.Series([-4.0, 0.0, 2.0]), diverging=True)  # breaks at ±4/2 and ±4/20
    assert div.breaks == [-2.0, -0.2, 0.2, 2.0]
    assert [div.index(v) for v in (-4.0, -1.0, 0.0, 1.0, 2.0)] == [0, 1, 2, 3, 4]


def test_storage_types_integer_counts_datetime_and_null_text():
    from healthgeo.catalog import storage_types

    frame = pd.DataFrame({
        "residents": [120.0, np.nan, 35.0], "ses_quintile": [1.0, 5.0, np.nan],
        "adults_highly_annoyed_road": [74.3, 2.0, 1.0],  # a modelled count: not whole, stays float
        "retrieved_at": ["2026-12-03T09:07:21+00:00", "", "2026-12-01T00:00:00+00:00"],
        "note": ["", "x", None],
    })
    docs = {"residents": doc("persons", "residents"), "ses_quintile": doc("class 1-5", "quintile"),
            "adults_highly_annoyed_road": doc("persons", "HA"), "retrieved_at": doc("ISO 8601 UTC", "when"),
            "note": doc("text", "remarks")}
    out = storage_types(frame, docs)
    assert str(out["residents"].dtype) == "Int64" and out["residents"].tolist()[::2] == [120, 35]
    assert out["residents"].isna().tolist() == [False, True, False]
    assert str(out["ses_quintile"].dtype) == "Int64" and str(out["adults_highly_annoyed_road"].dtype) == "float64"
    assert str(out["retrieved_at"].dtype).startswith("datetime64") and out["retrieved_at"].isna().tolist() == [False, True, False]
    assert out["retrieved_at"][0] == pd.Timestamp("2026-12-03T09:07:21Z")
    assert out["note"].isna().tolist() == [True, False, True]


@pytest.mark.parametrize("seed,k", [(0, 5), (1, 5), (2, 4), (3, 5)])
def test_quantile_bins_agree_with_mapclassify(seed, k):
    import warnings

    mapclassify = pytest.importorskip("mapclassify")
    from healthgeo.classes import quantile_bins

    rng = np.random.default_rng(seed)
    x = rng.lognormal(size=97) if seed != 3 else np.repeat([1.0, 2.0, 3.0], 30)  # ties: fewer classes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected = mapclassify.Quantiles(x, k=k).bins
    np.testing.assert_allclose(quantile_bins(x, k), expected)
