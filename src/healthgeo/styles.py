"""QGIS-ready GeoPackage: ``layer_styles`` (QML styles) and the OGC schema extension.

* ``layer_styles`` is the table QGIS reads styles from (same columns as QGIS creates): a default
  style for every ward and scenario layer and named alternative styles for the headline
  indicators. Each style is a rule-based renderer with the classes of :mod:`healthgeo.classes`
  (the report's classes), a hatched *withheld* class and a grey *no data* class; the rules are
  exclusive, so every ward falls in exactly one.
* ``gpkg_data_columns`` (OGC GeoPackage schema extension, registered in ``gpkg_extensions``)
  gets a title and description for every column from ``data_dictionary`` and
  ``indicator_catalog``; GDAL >= 3.7 reads them as field alternative names and comments.
* The column titles are also in each layer's *default* style (QML category ``Fields``), so
  QGIS builds that read no ``gpkg_data_columns`` (QGIS 3.22 on GDAL 3.6, Debian 12) show them as
  aliases too. Alternative styles carry symbology only: switching to one keeps the aliases.

QGIS finds a layer's styles with ``f_table_schema = ''`` (not NULL): :func:`write_data_columns`,
run on the finished file, sets that key (the writer stores empty text as NULL).

Classes and palettes: docs/methods.md#report-classes.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping
from xml.sax.saxutils import quoteattr

import pandas as pd

from ._vocab import LEVELS
from .classes import NO_DATA_COLOUR, WITHHELD_COLOUR, Classes, classify
from .dictionary import doc

log = logging.getLogger(__name__)

#: headline indicators that get a named alternative style on the ward layers (when present);
#: the first present one is the layer's default style
HEADLINE_STYLES = ["no2_ugm3_popw", "pm25_ugm3_popw", "lden_db_popw", "pop_share_green_1ha_300m",
                   "supermarket_walk_m_median", "health_good_health_pct", "burden_score_pctl", "double_burden",
                   "no2_ugm3_popw_lisa", "typology", "dalys_total_per_year_central"]
SCENARIO_STYLES = ["delta_dalys_total_per_year_central", "delta_eur_total_per_year_central"]

STYLE_COLUMNS = ["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                 "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"]
STYLE_DOCS = {
    "f_table_catalog": doc("text", "QGIS layer_styles: catalog of the styled table ('' - the empty text QGIS looks styles up by)"),
    "f_table_schema": doc("text", "QGIS layer_styles: schema of the styled table ('' - the empty text QGIS looks styles up by)"),
    "f_table_name": doc("text", "layer the style belongs to"),
    "f_geometry_column": doc("text", "geometry column of the layer"),
    "styleName": doc("text", "style name shown in QGIS (Layer Properties > Style)"),
    "styleQML": doc("QML", "the style as QGIS QML (rule-based renderer: value classes, withheld, no data)"),
    "styleSLD": doc("SLD", "the style as SLD (not written: NULL)"),
    "useAsDefault": doc("bool", "1 = QGIS applies this style when the layer is opened"),
    "description": doc("text", "what the style shows"),
    "owner": doc("text", "who made the style"),
    "ui": doc("text", "QGIS UI file (not used: NULL)"),
    "update_time": doc("datetime UTC", "when the style was written"),
}
DESCRIPTION = "QGIS styles per layer (QML; the default one is applied when the layer is opened)"


def _rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4)) + ",255"


def _symbol(name: int, colour: str, *, hatched: bool = False) -> str:
    style = "b_diagonal" if hatched else "solid"
    opts = {"color": _rgb(colour), "style": style, "outline_color": "255,255,255,255", "outline_style": "solid",
            "outline_width": "0.2", "outline_width_unit": "MM", "joinstyle": "bevel"}
    options = "".join(f'<Option type="QString" name="{k}" value="{v}"/>' for k, v in opts.items())
    props = "".join(f'<prop k="{k}" v="{v}"/>' for k, v in opts.items())  # QGIS < 3.26 reads these
    return (f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" pass="0" locked="0"><Option type="Map">{options}</Option>{props}'
            f'</layer></symbol>')


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _literal(v) -> str:
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, bool):
        return "1" if v else "0"
    return repr(float(v))


def class_filters(column: str, cls: Classes, *, withheld_column: str | None) -> list[tuple[str, str, str, bool]]:
    """Exclusive QGIS (and SQLite) filter expressions: ``(filter, label, colour, hatched)``."""
    c = _q(column)
    shown = f"{_q(withheld_column)} IS NULL" if withheld_column else ""
    rules = []
    if withheld_column:
        rules.append((f"{_q(withheld_column)} IS NOT NULL", "withheld (disclosure control)", WITHHELD_COLOUR, True))

    def both(expr):
        return f"{shown} AND {expr}" if shown else expr

    rules.append((both(f"{c} IS NULL"), "no data", NO_DATA_COLOUR, False))
    if cls.kind == "category":
        for v, lab, col in zip(cls.categories, cls.labels, cls.colours):
            rules.append((both(f"{c} = {_literal(v)}"), lab, col, False))
        known = ", ".join(_literal(v) for v in cls.categories)
        other = f"{c} IS NOT NULL AND {c} NOT IN ({known})" if known else f"{c} IS NOT NULL"
        rules.append((both(other), "other", NO_DATA_COLOUR, False))
        return rules
    edges = [None, *cls.breaks, None]
    for lo, hi, lab, col in zip(edges[:-1], edges[1:], cls.labels, cls.colours):
        parts = [f"{c} IS NOT NULL"]
        if lo is not None:
            parts.append(f"{c} >= {lo!r}")
        if hi is not None:
            parts.append(f"{c} < {hi!r}")
        rules.append((both(" AND ".join(parts)), lab, col, False))
    return rules


def qml(column: str, cls: Classes, *, withheld_column: str | None, aliases: Mapping[str, str] | None = None) -> str:
    """A QGIS QML document: rule-based renderer with the classes, withheld and no-data rules.

    With ``aliases`` (field name -> title) the style also sets the layer's field aliases
    (category ``Fields``); without, it is symbology only and leaves the aliases alone.
    """
    rules = class_filters(column, cls, withheld_column=withheld_column)
    xml_rules = "".join(f'<rule key="r{i}" filter={quoteattr(f)} label={quoteattr(lab)} symbol="{i}"/>'
                        for i, (f, lab, _col, _h) in enumerate(rules))
    symbols = "".join(_symbol(i, col, hatched=h) for i, (_f, _lab, col, h) in enumerate(rules))
    fields = ""
    if aliases:
        fields = "<aliases>" + "".join(f'<alias field={quoteattr(k)} index="{i}" name={quoteattr(v)}/>'
                                       for i, (k, v) in enumerate(aliases.items())) + "</aliases>"
    categories = "Symbology|Fields" if aliases else "Symbology"
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
            f'<qgis version="3.22.0" styleCategories="{categories}">'
            '<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">'
            f'<rules key="root">{xml_rules}</rules><symbols>{symbols}</symbols></renderer-v2>'
            f"{fields}<layerGeometryType>2</layerGeometryType></qgis>")


def style_rows(layers: Mapping[str, pd.DataFrame], catalog: pd.DataFrame, *, geometry_column: str = "geom",
               now=None) -> pd.DataFrame:
    """``layer_styles`` rows: a default style per ward/scenario layer, alternatives for the headlines."""
    now = now if now is not None else pd.Timestamp.now(tz="UTC").floor("s")
    cat = catalog.set_index("indicator")
    titles = cat["label_en"].dropna().to_dict() if "label_en" in cat else {}
    rows = []
    for name, layer in layers.items():
        is_scenario = name.startswith("scenario_")
        is_trend = name.startswith("trend_")  # change over the run's years: diverging, like a scenario
        candidates = SCENARIO_STYLES if is_scenario else () if is_trend else HEADLINE_STYLES
        present = [c for c in candidates if c in layer and layer[c].notna().any()]
        if not present and (is_scenario or is_trend):
            present = [c for c in layer.columns
                       if (c.startswith("delta_") and c != "delta_residents" if is_scenario else c.endswith("_change"))
                       and pd.api.types.is_numeric_dtype(layer[c]) and layer[c].notna().any()][:1]
        diverging = is_scenario or is_trend
        withheld_col = "disclosure_reason" if "disclosure_reason" in layer else None
        aliases = {c: str(titles[c]) for c in layer.columns if c != "geometry" and titles.get(c)}
        for k, column in enumerate(present):
            stem = column.removeprefix("delta_") if is_scenario else column.removesuffix("_change") if is_trend \
                else column
            info = cat.loc[stem] if stem in cat.index else pd.Series(dtype=object)
            thresholds = info.get("thresholds")
            thr = [] if diverging or not isinstance(thresholds, str) else json.loads(thresholds)
            hiw = info.get("higher_is_worse")
            shown = layer[column] if withheld_col is None else layer.loc[layer[withheld_col].isna(), column]
            cls = classify(shown, thresholds=thr, scale=str(info.get("scale") or ""),
                           higher_is_worse=None if pd.isna(hiw) else bool(hiw), diverging=diverging)
            label = str(info.get("label_en") or column)
            rows.append({
                "f_table_catalog": None, "f_table_schema": None, "f_table_name": name,
                "f_geometry_column": geometry_column, "styleName": f"{name}: {column}"[:250],
                "styleQML": qml(column, cls, withheld_column=withheld_col, aliases=aliases if k == 0 else None),
                "styleSLD": None,
                "useAsDefault": k == 0, "description": f"{'Δ ' if diverging else ''}{label} ({cls.kind} classes)",
                "owner": "healthgeo", "ui": None, "update_time": now,
            })
    frame = pd.DataFrame(rows, columns=STYLE_COLUMNS)
    frame["useAsDefault"] = frame["useAsDefault"].astype(bool)
    frame["update_time"] = pd.to_datetime(frame["update_time"], utc=True)
    return frame


def write_data_columns(con: sqlite3.Connection) -> int:
    """Fill the OGC ``gpkg_data_columns`` table from ``data_dictionary`` (and catalog labels).

    Registers the ``gpkg_schema`` extension; returns the number of rows written. Also gives the
    ``layer_styles`` rows the key QGIS looks them up by (``f_table_catalog``/``f_table_schema``
    ``''``, as QGIS itself writes them; with NULL QGIS ignores every style) and their
    ``update_time`` the GeoPackage DATETIME form with milliseconds, which older GDAL expects.
    """
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'layer_styles'").fetchone():
        con.execute("UPDATE layer_styles SET f_table_catalog = '', f_table_schema = '', "
                    "update_time = strftime('%Y-%m-%dT%H:%M:%fZ', update_time)")
    con.execute("CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
                "name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT, "
                "CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), CONSTRAINT gdc_tn UNIQUE (table_name, name))")
    con.execute("CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT NULL, "
                "constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN, max NUMERIC, "
                "max_is_inclusive BOOLEAN, description TEXT, "
                "CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))")
    for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        con.execute("INSERT OR IGNORE INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) "
                    "SELECT ?, NULL, 'gpkg_schema', 'http://www.geopackage.org/spec/#extension_schema', 'read-write' "
                    "WHERE NOT EXISTS (SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND extension_name = 'gpkg_schema')",
                    (table, table))
    labels = dict(con.execute("SELECT indicator, label_en FROM indicator_catalog").fetchall()) \
        if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'indicator_catalog'").fetchone() else {}
    geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
    contents = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    n = 0
    fields: dict[str, set[str]] = {}
    for layer, column, unit, description in con.execute(
            "SELECT layer, \"column\", unit, description FROM data_dictionary").fetchall():
        if layer not in contents:
            continue
        actual = geom.get(layer, column) if column == "geometry" else column
        if layer not in fields:  # names from gpkg_contents
            fields[layer] = {r[1] for r in con.execute(f'PRAGMA table_info("{layer}")')}
        if actual not in fields[layer]:
            continue
        title = labels.get(column) if layer in LEVELS or layer.startswith("scenario_") else None
        desc = description or ""
        if unit:
            desc = f"{desc} [{unit}]" if desc else f"[{unit}]"
        con.execute("INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title, description) "
                    "VALUES (?, ?, ?, ?, ?)", (layer, actual, actual, title or column, desc or None))
        n += 1
    return n
