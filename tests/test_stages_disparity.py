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
