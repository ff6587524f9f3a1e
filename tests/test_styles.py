"""QGIS styles and the OGC schema extension on hand-checkable input (read back with sqlite3)."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd

from healthgeo.catalog import catalog_table
from healthgeo.classes import NO_DATA_COLOUR, classify
from healthgeo.dictionary import doc
from healthgeo.styles import class_filters, qml, style_rows

LAYER = pd.DataFrame({
    "buurtcode": ["BU1", "BU2", "BU3", "BU4", "BU5"],
    "no2_ugm3_popw": [8.0, 10.0, 19.9, 35.0, np.nan],
    "typology": ["centrum", "woonwijk", None, "woonwijk", "centrum"],
    "disclosure_reason": [None, None, None, None, None],
})
LAYER.loc[3, "disclosure_reason"] = "fewer than 50 residents"


def _classes_per_row(filters):
    """For every row of LAYER, the rules (by number) whose filter holds, evaluated by SQLite."""
    con = sqlite3.connect(":memory:")
    LAYER.to_sql("t", con, index=False)
    cols = ", ".join(f"coalesce(({f}), 0)" for f, *_ in filters)
    return [list(r) for r in con.execute(f"SELECT {cols} FROM t ORDER BY buurtcode")]


def test_threshold_rules_are_exclusive_and_cover_every_ward():
    cls = classify(LAYER["no2_ugm3_popw"], thresholds=[(10, "AQG", ""), (20, "IT4", "")], higher_is_worse=True)
    rules = class_filters("no2_ugm3_popw", cls, withheld_column="disclosure_reason")
    assert [r[1] for r in rules] == ["withheld (disclosure control)", "no data", "< 10", "10 – < 20 (AQG)", "≥ 20 (IT4)"]
    hits = _classes_per_row(rules)
    assert all(sum(h) == 1 for h in hits)  # exactly one class per ward
    # BU1 8 -> "< 10"; BU2 10 -> "10 – < 20"; BU3 19.9 -> same; BU4 withheld; BU5 NULL -> no data
    assert [h.index(1) for h in hits] == [2, 3, 3, 0, 1]
    assert rules[1][2] == NO_DATA_COLOUR and rules[0][3] is True  # withheld is hatched


def test_category_rules_and_qml_parse():
    cls = classify(LAYER["typology"], scale="category")
    rules = class_filters("typology", cls, withheld_column="disclosure_reason")
    hits = _classes_per_row(rules)
    assert all(sum(h) == 1 for h in hits)
    assert [rules[h.index(1)][1] for h in hits] == ["centrum", "woonwijk", "no data",
                                                    "withheld (disclosure control)", "centrum"]
    root = ET.fromstring(qml("typology", cls, withheld_column="disclosure_reason").split(">", 1)[1])
    r = root.find("renderer-v2")
    assert r.get("type") == "RuleRenderer"
    assert [x.get("filter") for x in r.iter("rule")] == [f for f, *_ in rules]
    fills = [s.find("layer/Option") for s in r.iter("symbol")]
    styles = [{o.get("name"): o.get("value") for o in f} for f in fills]
    assert styles[0]["style"] == "b_diagonal" and all(s["style"] == "solid" for s in styles[1:])


def test_style_rows_default_and_alternatives():
    docs = {"buurt": {c: doc("x", c) for c in LAYER.columns}}
    docs["buurt"]["no2_ugm3_popw"] = doc("µg/m³", "NO2", thresholds=((10, "AQG", "WHO"),), higher_is_worse=True,
                                         label_en="NO2 at home")
    layers = {"buurt": LAYER, "scenario_x": pd.DataFrame({"buurtcode": ["BU1", "BU2"],
                                                          "delta_dalys_total_per_year_central": [-1.0, 0.0]})}
    rows = style_rows(layers, catalog_table(docs))
    assert rows.groupby("f_table_name")["useAsDefault"].sum().to_dict() == {"buurt": 1, "scenario_x": 1}
    b = rows[rows["f_table_name"] == "buurt"].set_index("styleName")
    assert list(b.index) == ["buurt: no2_ugm3_popw", "buurt: typology"]
    assert bool(b.loc["buurt: no2_ugm3_popw", "useAsDefault"]) and "threshold" in b.loc["buurt: no2_ugm3_popw", "description"]
    assert "&gt;= 10.0" in b.loc["buurt: no2_ugm3_popw", "styleQML"]
    assert rows["styleSLD"].isna().all() and str(rows["update_time"].dtype).startswith("datetime64")


def test_default_style_carries_the_column_titles_alternatives_do_not():
    docs = {"buurt": {c: doc("x", c) for c in LAYER.columns}}
    docs["buurt"]["no2_ugm3_popw"] = doc("µg/m³", "NO2", label_en="NO2 at home")
    rows = style_rows({"buurt": LAYER}, catalog_table(docs)).set_index("styleName")
    default = ET.fromstring(rows.loc["buurt: no2_ugm3_popw", "styleQML"].split(">", 1)[1])
    assert default.get("styleCategories") == "Symbology|Fields"
    aliases = {a.get("field"): a.get("name") for a in default.iter("alias")}
    assert aliases["no2_ugm3_popw"] == "NO2 at home" and set(aliases) <= set(LAYER.columns)
    # an alternative style is symbology only, so switching to it in QGIS keeps the aliases
    alt = ET.fromstring(rows.loc["buurt: typology", "styleQML"].split(">", 1)[1])
    assert alt.get("styleCategories") == "Symbology" and alt.find("aliases") is None


def test_write_data_columns_gives_layer_styles_the_key_qgis_looks_up():
    """QGIS selects styles WHERE f_table_schema = '' (NULL matches nothing); DATETIME with milliseconds."""
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT, "
                "definition TEXT, scope TEXT)")
    con.execute("CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT)")
    con.execute("CREATE TABLE gpkg_contents (table_name TEXT)")
    con.execute('CREATE TABLE data_dictionary (layer TEXT, "column" TEXT, unit TEXT, description TEXT)')
    con.execute("CREATE TABLE layer_styles (f_table_catalog TEXT, f_table_schema TEXT, f_table_name TEXT, "
                "update_time DATETIME)")
    con.execute("INSERT INTO layer_styles VALUES (NULL, NULL, 'buurt', '2026-12-03T12:32:20Z')")
    from healthgeo.styles import write_data_columns

    write_data_columns(con)
    assert con.execute("SELECT f_table_catalog, f_table_schema, update_time FROM layer_styles").fetchall() == [
        ("", "", "2026-12-03T12:32:20.000Z")]


def test_quantile_classes_with_many_ties_at_the_minimum():
    """40 % of the wards at 0 (no green within 300 m): the lowest class is '0 %', holding exactly the
    zeros, not an empty '< 0 %' with the zeros lumped into the next class; QGIS rules agree."""
    values = pd.Series([0.0] * 8 + [0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    cls = classify(values, scale="fraction")
    assert cls.labels[0] == "0 %" and cls.breaks[0] == 0.05
    assert [cls.colour(v) for v in (0.0, 0.05)] == [cls.colours[0], cls.colours[1]]
    assert all(b > 0 for b in cls.breaks) and len(cls.labels) == len(cls.breaks) + 1
    con = sqlite3.connect(":memory:")
    pd.DataFrame({"v": values}).to_sql("t", con, index=False)
    rules = class_filters("v", cls, withheld_column=None)
    hits = [list(r) for r in con.execute(f"SELECT {', '.join(f'coalesce(({f}), 0)' for f, *_ in rules)} FROM t")]
    assert all(sum(h) == 1 for h in hits)
    assert [h.index(1) for h in hits[:9]] == [1] * 8 + [2]  # rule 0 = no data; rule 1 = '0 %'
