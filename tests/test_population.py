"""Tests of residents' locations (healthgeo.population)."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from healthgeo._errors import SchemaDriftError
from healthgeo.population import (
    RESIDENT_COLUMNS,
    residents_from_area,
    residents_from_dwellings,
    residents_from_grid,
)


@pytest.fixture
def buurten():
    idx = pd.Index(["BU00000001", "BU00000002", "BU00000003", "BU00000004"], name="buurtcode")
    return gpd.GeoDataFrame(
        {
            "residents": [30.0, 10.0, np.nan, 5.0],
            "age_65_plus": [6.0, 2.0, np.nan, 1.0],
            "age_0_14": [3.0, 1.0, np.nan, 0.0],
            "wijkcode": ["WK000001", "WK000001", "WK000002", "WK000002"],
        },
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100),
                  shapely.box(200, 0, 300, 100), shapely.box(0, 100, 100, 200)],
        index=idx, crs=28992,
    )


def test_dwellings_equal_split_and_area_fallback(buurten, caplog):
    dw = gpd.GeoDataFrame(
        {"gebruiksdoel": ["woonfunctie", "woonfunctie", "kantoorfunctie", "woonfunctie,winkelfunctie",
                          "Woonfunctie", "woonfunctie"]},
        geometry=[shapely.Point(10, 10), shapely.Point(20, 20), shapely.Point(30, 30),
                  shapely.Point(40, 40), shapely.Point(50, 50), shapely.Point(-500, -500)],
        crs=28992,
    )
    with caplog.at_level(logging.WARNING):
        res = residents_from_dwellings(dw, buurten)
    assert list(res.columns[:len(RESIDENT_COLUMNS)]) == RESIDENT_COLUMNS
    bag = res[res["source"] == "bag"]
    assert len(bag) == 4  # office dropped, outside point dropped
    np.testing.assert_allclose(bag["residents"], 7.5)
    np.testing.assert_allclose(bag["residents_65_plus"], 1.5)
    assert set(bag["buurtcode"]) == {"BU00000001"} and set(bag["wijkcode"]) == {"WK000001"}
    # BU2 and BU4 have residents but no dwellings -> one 'area' point each, with a warning
    area = res[res["source"] == "area"].set_index("buurtcode")
    assert sorted(area.index) == ["BU00000002", "BU00000004"]
    assert area.loc["BU00000002", "residents"] == 10.0
    assert buurten.geometry["BU00000002"].contains(area.geometry["BU00000002"])
    assert any("BU00000002" in w for w in res.attrs["warnings"])
    assert "no BAG dwelling" in caplog.text
    assert res["residents"].sum() == pytest.approx(30 + 10 + 5)


def test_dwellings_schema_drift(buurten):
    with pytest.raises(SchemaDriftError, match="gebruiksdoel"):
        residents_from_dwellings(gpd.GeoDataFrame(geometry=[shapely.Point(1, 1)], crs=28992), buurten)


def test_grid_secrecy_split_and_rescale(buurten, caplog):
    # 100 m cells shifted by 50 m: x -50..50, 50..150, 150..250, 250..350 (y 0..100)
    cells = [shapely.box(x, 0, x + 100, 100) for x in (-50, 50, 150, 250)]
    grid = gpd.GeoDataFrame({"aantal_inwoners": [-99997, 20, 8, 6]}, geometry=cells, crs=28992)
    with caplog.at_level(logging.INFO):
        res = residents_from_grid(grid, buurten)
    assert "-99997" in caplog.text
    per_buurt = res.groupby("buurtcode")["residents"].sum()
    # raw split: BU1 10, BU2 10+4, BU3 4+3 (half of the last cell is outside every buurt);
    # rescaled to the buurt totals where known (BU3's total is unknown -> kept)
    assert per_buurt["BU00000001"] == pytest.approx(30.0)
    assert per_buurt["BU00000002"] == pytest.approx(10.0)
    assert per_buurt["BU00000003"] == pytest.approx(7.0)
    # BU4 has residents but no grid population -> area point
    assert res.loc[res["buurtcode"] == "BU00000004", "source"].tolist() == ["area"]
    g = res[res["source"] == "grid"]
    assert set(g["cell_size_m"].round(6)) == {100.0}
    assert set(g["cell_x"]) == {100.0, 200.0, 300.0}
    # 65+ distributed in proportion to residents: BU1 6/30 of its weight
    b1 = g[g["buurtcode"] == "BU00000001"]
    np.testing.assert_allclose(b1["residents_65_plus"], b1["residents"] * 0.2)
    # every point lies in its buurt
    for _, r in g.iterrows():
        assert buurten.geometry[r["buurtcode"]].intersects(r.geometry)


def test_area_fallback(buurten):
    res = residents_from_area(buurten)
    assert set(res["source"]) == {"area"}
    assert res["residents"].sum() == pytest.approx(45.0)  # NaN buurt left out
    assert len(res) == 3
