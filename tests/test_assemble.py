"""GeoPackage contract: layers keyed by code, a dictionary row per column, provenance, atomicity."""

import sqlite3

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from healthgeo.assemble import UndocumentedColumnError, assemble
from healthgeo.dictionary import doc
from healthgeo.io import write_table
from healthgeo.provenance import ProvenanceRecord
from healthgeo.wards import build_levels


@pytest.fixture()
def wards_path(tmp_path):
    b = gpd.GeoDataFrame(
        {"residents": [10.0, 20.0]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=28992,
        index=pd.Index(["BU99990101", "BU99990201"], name="buurtcode"),
    )
    path = tmp_path / "wards.gpkg"
    for level, gdf in build_levels(b, municipality="GM9999").items():
        gdf.to_file(path, layer=level, engine="pyogrio")
    return path


def _table(tmp_path, level, codes, docs=True):
    df = pd.DataFrame({"no2_ugm3_mean": [20.0 + i for i in range(len(codes))]}, index=pd.Index(codes))
    path = tmp_path / f"{level}.parquet"
    write_table(df, path, {"no2_ugm3_mean": doc("ug/m3", "NO2 area mean", about="area")} if docs else {})
    return path


def test_layers_dictionary_provenance(tmp_path, wards_path):
    tables = {
        "buurt": [_table(tmp_path, "buurt", ["BU99990101", "BU99990201"])],
        "wijk": [_table(tmp_path, "wijk", ["WK999901", "WK999902"])],
        "gemeente": [_table(tmp_path, "gemeente", ["GM9999"])],
    }
    prov = [ProvenanceRecord(input="no2", provider="rivm_gcn", url="https://x", sha256="ab", licence="open")]
    extra = {"disparity": (pd.DataFrame({"indicator": ["no2"], "value": [0.1]}),
                           {"indicator": doc("text", "i"), "value": doc("1", "v")}, "inequality")}
    out = assemble(tmp_path / "out.gpkg", wards_path=wards_path, tables=tables, provenance=prov,
                   metadata={"run": "t", "synthetic": "true"}, extra_tables=extra)
    layers = dict(pyogrio.list_layers(out))
    assert layers["buurt"] in ("Polygon", "MultiPolygon") and layers["data_dictionary"] is None
    assert set(layers) == {"buurt", "wijk", "gemeente", "data_dictionary", "provenance", "metadata", "disparity",
                           "indicator_catalog", "indicators", "layer_styles"}
    b = gpd.read_file(out, layer="buurt")
    assert list(b["buurtcode"]) == ["BU99990101", "BU99990201"] and b.crs.to_epsg() == 28992
    assert b["no2_ugm3_mean"].tolist() == [20.0, 21.0]
    dd = pyogrio.read_dataframe(out, layer="data_dictionary")
    for layer in layers:
        cols = pyogrio.read_info(out, layer=layer)["fields"].tolist()
        documented = set(dd.loc[dd["layer"] == layer, "column"])
        assert set(cols) <= documented, (layer, set(cols) - documented)
    assert dd.set_index(["layer", "column"]).loc[("buurt", "no2_ugm3_mean"), "unit"] == "ug/m3"
    p = pyogrio.read_dataframe(out, layer="provenance")
    assert p.loc[0, "url"] == "https://x"
    meta = dict(pyogrio.read_dataframe(out, layer="metadata")[["key", "value"]].values)
    assert meta["synthetic"] == "true" and "healthgeo_version" in meta
    with sqlite3.connect(out) as con:
        (sql,) = con.execute("SELECT sql FROM sqlite_master WHERE name = 'idx_buurt_buurtcode'").fetchone()
    assert sql.startswith("CREATE UNIQUE INDEX") and '("buurtcode")' in sql


def test_undocumented_column_refused_and_nothing_written(tmp_path, wards_path):
    tables = {"buurt": [_table(tmp_path, "buurt", ["BU99990101", "BU99990201"], docs=False)]}
    with pytest.raises(UndocumentedColumnError, match="no2_ugm3_mean"):
        assemble(tmp_path / "out.gpkg", wards_path=wards_path, tables=tables, provenance=[], metadata={})
    assert not (tmp_path / "out.gpkg").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_small_wards_withheld_on_every_layer_and_scenario(tmp_path, wards_path):
    """A ward below the disclosure threshold keeps its identity, but no derived value leaks anywhere."""
    ind = pd.DataFrame({"no2_ugm3_mean": [20.0, 21.0], "meets_3_30_300_canopy": [True, False],
                        "typology": ["woonwijk", "centrum"]},
                       index=pd.Index(["BU99990101", "BU99990201"], name="buurtcode"))
    # what a column is about is said by its doc (where it is made): area values stay for every ward
    ind_docs = {"no2_ugm3_mean": doc("ug/m3", "NO2", about="area"), "meets_3_30_300_canopy": doc("bool", "canopy", about="area"),
                "typology": doc("text", "type")}
    write_table(ind, tmp_path / "ind.parquet", ind_docs)
    disc = pd.DataFrame({"disclosure_reason": pd.array(["fewer than 15 residents", None], dtype="string"),
                         "no2_ugm3_popw": [19.0, 22.0]}, index=ind.index)
    write_table(disc, tmp_path / "disc.parquet", {"disclosure_reason": doc("text", "why withheld"),
                                                  "no2_ugm3_popw": doc("ug/m3", "popw")})
    delta = pd.DataFrame({"delta_dalys_total_per_year_central": [-0.1, -0.2]}, index=ind.index)
    write_table(delta, tmp_path / "delta.parquet", {"delta_dalys_total_per_year_central": doc("DALY/year", "d")})
    out = assemble(tmp_path / "out.gpkg", wards_path=wards_path, provenance=[], metadata={},
                   tables={"buurt": [tmp_path / "ind.parquet", tmp_path / "disc.parquet"]},
                   scenario_layers={"park": tmp_path / "delta.parquet"}, min_residents=15)
    b = gpd.read_file(out, layer="buurt").set_index("buurtcode")
    small, big = b.loc["BU99990101"], b.loc["BU99990201"]
    # assemble decides from residents itself (the stage's own reason is overwritten)
    assert small["residents"] == 10.0 and small["disclosure_reason"].startswith("fewer than 15 residents")
    assert small["no2_ugm3_mean"] == 20.0  # an area mean says nothing about the residents: kept
    assert pd.isna(small["no2_ugm3_popw"])
    assert small["meets_3_30_300_canopy"] == True and pd.isna(small["typology"])  # noqa: E712 (canopy: area)
    # the only other buurt goes too: gemeente total minus it would give the small one exactly
    assert "secondary suppression" in big["disclosure_reason"] and pd.isna(big["typology"])
    assert big["no2_ugm3_mean"] == 21.0 and pd.isna(big["no2_ugm3_popw"]) and not big["meets_3_30_300_canopy"]
    s = gpd.read_file(out, layer="scenario_park").set_index("buurtcode")
    assert s["delta_dalys_total_per_year_central"].isna().all()
    assert s.loc["BU99990101", "disclosure_reason"].startswith("fewer than 15 residents")
    assert "secondary suppression" in s.loc["BU99990201", "disclosure_reason"]
    dd = pyogrio.read_dataframe(out, layer="data_dictionary")
    assert ((dd["layer"] == "scenario_park") & (dd["column"] == "disclosure_reason")).any()
    with sqlite3.connect(out) as con:
        assert con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'idx_scenario_park_buurtcode'").fetchone() == (1,)


def test_table_with_foreign_codes_is_refused(tmp_path, wards_path):
    tables = {"buurt": [_table(tmp_path, "buurt", ["BU99990101", "BU9999020"])]}  # typo in the second code
    from healthgeo._errors import InputDataError

    with pytest.raises(InputDataError, match="BU9999020"):
        assemble(tmp_path / "out.gpkg", wards_path=wards_path, tables=tables, provenance=[], metadata={})
    assert not (tmp_path / "out.gpkg").exists()


def test_secondary_suppression_by_hand():
    """WK1: one small buurt (5) -> the next smallest (30) joins it: 35 < 50 -> also 60. WK2: two small
    buurten with 30 + 25 = 55 >= 50 -> nothing more. WK3: a withheld buurt without residents -> nothing."""
    from healthgeo.disclosure import hierarchical_suppression

    layer = pd.DataFrame({
        "wijkcode": ["WK1"] * 4 + ["WK2"] * 3 + ["WK3"] * 2,
        "residents": [5, 30, 60, 900, 30, 25, 700, 0, 400],
        "disclosure_reason": ["small", None, None, None, "small", "small", None, "small", None],
    }, index=[f"B{i}" for i in range(9)])
    extra, _ = hierarchical_suppression(layer, None, min_residents=50)
    assert extra.notna().tolist() == [False, True, True, False, False, False, False, False, False]
    assert "secondary suppression" in extra["B1"] and "wijk total" in extra["B1"]


def test_suppression_holds_across_wijk_and_gemeente():
    """A wijk of one small buurt: the gemeente total minus every published buurt must not reveal it."""
    from healthgeo.disclosure import hierarchical_suppression

    buurt = pd.DataFrame({"wijkcode": ["W1", "W2", "W2", "W3", "W3"], "residents": [30, 400, 500, 600, 700],
                          "disclosure_reason": ["small", None, None, None, None]},
                         index=["B1", "B2", "B3", "B4", "B5"])
    wijk = pd.DataFrame({"residents": [30, 900, 1300], "disclosure_reason": ["small", None, None]},
                        index=["W1", "W2", "W3"])
    eb, ew = hierarchical_suppression(buurt, wijk, min_residents=50)
    hidden = set(buurt.index[buurt["disclosure_reason"].notna()]) | set(eb.index[eb.notna()])
    assert hidden == {"B1", "B2"} and set(ew.index[ew.notna()]) == {"W2"}
    # every remainder a reader can form covers >= 2 buurten and >= 50 residents
    assert buurt.loc[sorted(hidden), "residents"].sum() >= 50 and len(hidden) >= 2
    # unknown residents count as people: a withheld buurt of unknown size gets a companion
    b2 = pd.DataFrame({"wijkcode": ["W1", "W1"], "residents": [float("nan"), 1000.0],
                       "disclosure_reason": ["residents unknown", None]}, index=["B1", "B2"])
    eb2, _ = hierarchical_suppression(b2, None, min_residents=50)
    assert eb2.notna().tolist() == [False, True]


def test_withhold_keeps_the_frame_in_few_blocks():
    """Hundreds of indicator columns are NULLed at once: the layer is not fragmented into one
    block per column (pandas then warns on every later insert, e.g. reset_index)."""
    import warnings

    import numpy as np

    from healthgeo.disclosure import withhold

    idx = pd.Index([f"BU{i:08d}" for i in range(5)], name="buurtcode")
    layer = gpd.GeoDataFrame({**{f"x{i}": np.arange(5.0) for i in range(300)}, "flag": [True, False] * 2 + [True],
                              "txt": ["a", None, "c", "d", "e"], "n": np.arange(5), "green_m2": np.arange(5.0)},
                             geometry=[box(i, 0, i + 1, 1) for i in range(5)], crs="EPSG:28992", index=idx)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = withhold(layer, [True, False, False, False, True], keep=["green_m2"])
        out = out.reset_index()
    assert list(out.columns) == ["buurtcode", *layer.columns] and out.crs == layer.crs
    assert out.loc[0, ["x0", "x299", "n"]].isna().all() and out.loc[0, "txt"] is None and out["flag"].isna()[0]
    assert out.loc[1, "x299"] == 1.0 and out.loc[1, "flag"] == np.False_ and out.loc[0, "green_m2"] == 0.0
