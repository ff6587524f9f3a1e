"""The disparity stage on a level with too few wards to compare (a small municipality's wijken)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from healthgeo import stages
from healthgeo.dictionary import doc
from healthgeo.io import read_table, write_table


def test_single_wijk_level_writes_empty_measures_not_an_error(tmp_path):
    w = gpd.GeoDataFrame({"wijkcode": ["WK000101"], "name": ["a"], "gemeentecode": ["GM0001"],
                          "residents": [1000.0], "income_keur_per_resident": [30.0]},
                         geometry=[box(0, 0, 100, 100)], crs=28992)
    w.to_file(tmp_path / "wards.gpkg", layer="wijk", engine="pyogrio")
    t = pd.DataFrame({"no2_ugm3_popw": [20.0]}, index=pd.Index(["WK000101"], name="wijkcode"))
    write_table(t, tmp_path / "t.parquet", {"no2_ugm3_popw": doc("ug/m3", "NO2")})
    params = dict(indicators=["no2_ugm3_popw"], ranking="income_keur_per_resident", proxy=None, n_boot=0,
                  seed=0, min_residents=50, permutations=0, double_burden_pctl=75)
    out = [tmp_path / f"o{i}.parquet" for i in range(3)]
    stages.disparity(tmp_path / "wards.gpkg", [tmp_path / "t.parquet"], "wijk", *out, params=params)
    per_ward, _ = read_table(out[0])
    table, _ = read_table(out[1])
    assert list(per_ward.index) == ["WK000101"] and per_ward["disclosure_reason"].isna().all()
    assert table.empty or table["value"].isna().all()


def test_key_figures_without_any_exposure_give_no_burden_not_an_error(tmp_path):
    """Population characteristics alone (income, an SES column) but no exposure or effect: the
    cumulative burden is not computed (it combines both sides) and the stage finishes."""
    codes = [f"WK00010{i}" for i in range(1, 7)]
    w = gpd.GeoDataFrame({"wijkcode": codes, "name": list("abcdef"), "gemeentecode": ["GM0001"] * 6,
                          "residents": [1000.0] * 6, "income_keur_per_resident": [20.0, 25, 30, 35, 40, 45]},
                         geometry=[box(100 * i, 0, 100 * (i + 1), 100) for i in range(6)], crs=28992)
    w.to_file(tmp_path / "wards.gpkg", layer="wijk", engine="pyogrio")
    t = pd.DataFrame({"low_income_hh_pct": [20.0, 15, 12, 9, 6, 3]}, index=pd.Index(codes, name="wijkcode"))
    write_table(t, tmp_path / "t.parquet", {"low_income_hh_pct": doc(
        "%", "low-income households", theme="keyfigures", about="residents", scale="percent", higher_is_worse=True,
        label_en="low income", label_nl="laag inkomen", burden_group="socioeconomic")})
    params = dict(indicators=["low_income_hh_pct"], ranking="income_keur_per_resident", proxy=None, n_boot=0,
                  seed=0, min_residents=50, permutations=99, double_burden_pctl=75)
    out = [tmp_path / f"o{i}.parquet" for i in range(3)]
    stages.disparity(tmp_path / "wards.gpkg", [tmp_path / "t.parquet"], "wijk", *out, params=params)
    per_ward, _ = read_table(out[0])
    assert not [c for c in per_ward.columns if c.startswith("burden_score")]
    assert len(per_ward) == 6
