"""Column metadata is set where a column is made, and everything downstream reads it.

Theme, direction (``higher_is_worse``), what a value is about (residents / area / identity),
labels (en/nl), scale, thresholds and burden group live on each column's
:class:`~healthgeo.dictionary.ColumnDoc`. Disclosure control, disparity directions, the burden
components, the data dictionary, the indicator catalog, the long ``indicators`` table and the
report read them - no hand-kept list of columns anywhere else.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyogrio
import pytest
import yaml
from conftest import DEMO_CONFIG

from healthgeo.assemble import assemble
from healthgeo.config import validate
from healthgeo.dictionary import ABOUT, SCALES, THEMES, doc
from healthgeo.burden import BURDEN_REFERENCE_DOCS
from healthgeo.io import read_table, write_table
from healthgeo.stages import disparity as disparity_stage
from healthgeo.wards import read_wards

pytestmark = pytest.mark.slow
LEVELS = ("buurt", "wijk", "gemeente")


def test_every_column_of_the_demo_layers_carries_its_metadata(demo_run):
    """The data dictionary of the demo run: every ward-layer column has theme, scale and both
    labels from its producer; every scenario column a theme; values from the allowed sets."""
    dd = pyogrio.read_dataframe(demo_run / "data" / "processed" / "demo" / "healthgeo.gpkg", layer="data_dictionary")
    wards = dd[dd["layer"].isin(LEVELS)]
    for field in ("theme", "scale", "label_en", "label_nl"):
        missing = sorted(set(wards.loc[wards[field].isna(), "column"]))
        assert not missing, f"ward-layer columns without {field}: {missing[:20]} ({len(missing)})"
    scen = dd[dd["layer"].str.startswith("scenario_") & (dd["layer"] != "scenario_comparison")]
    assert scen["theme"].notna().all(), sorted(set(scen.loc[scen["theme"].isna(), "column"]))
    assert set(dd["theme"].dropna()) <= set(THEMES) and set(dd["scale"].dropna()) <= set(SCALES)
    assert set(dd["about"]) <= set(ABOUT)
    # the data dictionary says what disclosure control did: area means stay, residents' values go
    about = wards.drop_duplicates("column").set_index("column")["about"]
    assert about["no2_ugm3_mean"] == "area" and about["no2_ugm3_popw"] == "residents"
    assert about["buurtcode"] == "identity"
    thr = json.loads(wards.set_index("column").loc["no2_ugm3_popw", "thresholds"].iloc[0])
    assert [t[0] for t in thr] == [10.0, 20.0, 30.0, 40.0] and thr[0][1] == "AQG"  # WHO AQG 2021
    hiw = wards.drop_duplicates("column").set_index("column")["higher_is_worse"]
    assert hiw["no2_ugm3_popw"] == True and hiw["green_share_pct"] == False  # noqa: E712
    assert pd.isna(hiw["buurtcode"])


TOY = "toy_heat_days_popw"
TOY_DOC = doc("days/year", "Toy indicator: hot days at home, population-weighted", "test", "test source",
              theme="heat", higher_is_worse=True, burden_group="exposures", scale="count",
              label_en="hot days at home", label_nl="hete dagen bij de woning",
              thresholds=((10.0, "toy limit", "toy source"),))


def test_a_new_indicator_is_one_edit_and_flows_to_every_table(demo_run, tmp_path):
    """A toy indicator documented once (its ColumnDoc) reaches the burden, the disparity table,
    disclosure control, the data dictionary, the catalog and the long table."""
    base = demo_run / "data" / "processed" / "demo"
    wards_path = base / "wards.gpkg"
    buurten = read_wards(wards_path, "buurt")
    rng = np.random.default_rng(5)
    toy = pd.DataFrame({TOY: rng.uniform(2, 30, len(buurten)).round(3) + 0.0001}, index=buurten.index)
    write_table(toy, tmp_path / "toy.parquet", {TOY: TOY_DOC})

    cfg = validate(yaml.safe_load(DEMO_CONFIG.read_text()))
    params = {**cfg["disparity"], "indicators": [*cfg["disparity"]["indicators"], TOY], "n_boot": 100,
              "permutations": 99}
    inputs = [p for p in sorted((base / "buurt").glob("*.parquet"))
              if p.stem not in ("disparity", "disparity_table", "burden_reference")] + [tmp_path / "toy.parquet"]
    out = {k: tmp_path / f"{k}.parquet" for k in ("wards", "table", "reference")}
    disparity_stage(wards_path, inputs, "buurt", out["wards"], out["table"], out["reference"], params=params,
                    min_residents=50)
    per_ward, docs = read_table(out["wards"])
    # the burden reads its components from the docs: the toy indicator is an exposure
    assert f"{TOY}_pctl" in per_ward and docs[f"{TOY}_pctl"].label_nl == "hete dagen bij de woning: lastpercentiel"
    table, _ = read_table(out["table"])
    assert TOY in set(table["indicator"])
    ref, _ = read_table(out["reference"])
    assert TOY in set(ref["variable"])
    # its direction comes from the doc: the ward with most hot days has the highest percentile
    shown = per_ward[f"{TOY}_pctl"].notna()
    assert per_ward.loc[shown, f"{TOY}_pctl"].idxmax() == toy.loc[shown[shown].index, TOY].idxmax()

    tables = {"buurt": [*inputs, out["wards"]]}
    gpkg = assemble(tmp_path / "toy.gpkg", wards_path=wards_path, tables=tables, provenance=[], metadata={},
                    extra_tables={"burden_reference": (ref, BURDEN_REFERENCE_DOCS, "reference")},
                    min_residents=50)
    layer = pyogrio.read_dataframe(gpkg, layer="buurt", read_geometry=False).set_index("buurtcode")
    small = layer.index[pd.to_numeric(layer["residents"]) < 50]
    assert len(small) and layer.loc[small, TOY].isna().all() and layer[TOY].notna().sum() > 50  # disclosure
    dd = pyogrio.read_dataframe(gpkg, layer="data_dictionary").set_index(["layer", "column"])
    row = dd.loc[("buurt", TOY)]
    assert (row["theme"], row["burden_group"], row["about"], row["label_nl"]) == \
        ("heat", "exposures", "residents", "hete dagen bij de woning")
    cat = pyogrio.read_dataframe(gpkg, layer="indicator_catalog").set_index("indicator")
    assert cat.loc[TOY, "theme"] == "heat" and json.loads(cat.loc[TOY, "thresholds"])[0]["value"] == 10.0
    long = pyogrio.read_dataframe(gpkg, layer="indicators")
    toy_rows = long[long["indicator"] == TOY]
    assert len(toy_rows) == layer[TOY].notna().sum() and not set(toy_rows["code"]) & set(small)
    published = pyogrio.read_dataframe(gpkg, layer="burden_reference")
    toy_ref = published.loc[published["variable"] == TOY, "value"]
    assert len(toy_ref) and not set(toy_ref) & set(toy.loc[small, TOY])  # no small ward's value listed
