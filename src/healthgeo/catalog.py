"""Indicator catalog and the dashboard-ready long table, derived from the column documentation.

Both tables are built from what :mod:`healthgeo.assemble` writes, so nothing here is a second
hand-kept list of indicators:

* ``indicator_catalog``: one row per documented column of the ward layers, with the metadata
  of its :class:`~healthgeo.dictionary.ColumnDoc` (theme, labels, unit, scale, direction,
  reference thresholds with their source);
* ``indicators``: the ward layers' numeric values as a long table (level, code, indicator,
  value, lo95, hi95), built from the layers *after* disclosure control, so a withheld value is
  absent here too.

Theme, scale, direction, labels and thresholds are those of the column's ``ColumnDoc``, set where
the column is made; ``tests/test_catalog.py`` checks that every ward-layer column of the demo
run has them. Only storage types of non-indicator tables (no scale in their docs) are inferred
from the unit (:func:`fallback_scale`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._vocab import CODE_COLUMN, LEVELS
from .dictionary import ColumnDoc, doc
from .styles import DESCRIPTION as STYLES_DESCRIPTION, STYLE_DOCS, style_rows

log = logging.getLogger(__name__)

CATALOG_COLUMNS = ["indicator", "theme", "label_en", "label_nl", "unit", "scale", "higher_is_worse",
                   "thresholds", "threshold_source", "description", "levels"]
CATALOG_DOCS = {
    "indicator": doc("text", "column name of the indicator in the ward layers"),
    "theme": doc("text", "indicator family: air, noise, green, access, health, disparity, burden, impact, "
                 "typology, keyfigures, identity, quality, ..."),
    "label_en": doc("text", "short English label for maps and dashboards"),
    "label_nl": doc("text", "short Dutch label for maps and dashboards"),
    "unit": doc("text", "unit of the values"),
    "scale": doc("text", "how the value is scaled: fraction, percent, count, concentration, db, distance, "
                 "category, flag, money, rate, score, ..."),
    "higher_is_worse": doc("bool", "direction: 1 = a higher value is worse (pollution), 0 = better (green, "
                           "access), NULL = no direction"),
    "thresholds": doc("JSON", "reference values as a JSON list of {value, label, source} (e.g. WHO guideline "
                      "and interim targets); NULL when there are none"),
    "threshold_source": doc("text", "sources of the reference values, '; '-separated"),
    "description": doc("text", "what the column holds (as in data_dictionary)"),
    "levels": doc("text", "ward layers holding the column, comma-separated"),
}

INDICATORS_COLUMNS = ["level", "code", "indicator", "value", "lo95", "hi95"]
INDICATORS_DOCS = {
    "level": doc("text", "ward level: buurt, wijk or gemeente"),
    "code": doc("code", "CBS code of the ward (buurtcode, wijkcode or gemeentecode)"),
    "indicator": doc("text", "indicator column name (see indicator_catalog and data_dictionary)"),
    "value": doc("indicator unit", "value of the indicator (withheld values are absent, as in the ward layers)"),
    "lo95": doc("indicator unit", "lower bound of the 95 % interval (NULL when the indicator has none)"),
    "hi95": doc("indicator unit", "upper bound of the 95 % interval (NULL when the indicator has none)"),
}
DESCRIPTIONS = {
    "indicator_catalog": "One row per ward-layer column: theme, labels (en/nl), unit, scale, direction, thresholds",
    "indicators": "Ward values as a long table (level, code, indicator, value, 95 % bounds) for dashboards",
}

#: scale from the unit, for the storage type of table columns whose docs set no scale
_SCALE_BY_UNIT = [
    ("percent", r"^%$|^percent(?!ile)"),
    ("rank", r"^percentile"),
    ("fraction", r"^fraction|^1 \(0-1\)$"),
    ("concentration", r"µg/m³|ug/m3|ugm3"),
    ("db", r"^dB"),
    ("distance", r"^(?:m|km)$"),
    ("money", r"EUR"),
    ("rate", r"/year"),
    ("density", r"/km2|/km²|per km"),
    ("category", r"^(?:class|category)"),
    ("flag", r"^(?:bool|boolean)$"),
    ("count", r"^(?:count|persons|households|homes)$"),
    ("score", r"score|z-score"),
    ("text", r"^(?:text|code|path|URL|hex)$"),
]


def fallback_scale(unit: str) -> str:
    """Scale of a column from its unit (storage types of table columns whose docs set no scale)."""
    for scale, pattern in _SCALE_BY_UNIT:
        if re.search(pattern, unit or ""):
            return scale
    return ""


def _short(description: str) -> str:
    """A label from a description: without parentheses, its first sentence, at most ~90 characters
    (cut at the last comma before that)."""
    text = re.sub(r"\s*\([^()]*\)", "", description or "")
    text = re.split(r"(?<=[a-z0-9)])[.;:](?:\s|$)", text, maxsplit=1)[0].strip()
    if len(text) > 90:
        cut = text.rfind(", ", 0, 90)
        text = text[:cut] if cut > 20 else text[:87].rstrip() + "..."
    return text


def entry(column: str, d: ColumnDoc) -> dict:
    """One catalog row of a column (the metadata of its ColumnDoc; label_en falls back to the
    description's first clause, label_nl to label_en)."""
    label_en = d.label_en or _short(d.description) or column
    thresholds = [{"value": float(t[0]), "label": str(t[1]) if len(t) > 1 else "",
                   "source": str(t[2]) if len(t) > 2 else ""} for t in d.thresholds]
    sources = sorted({t["source"] for t in thresholds if t["source"]})
    return {
        "indicator": column,
        "theme": d.theme or None,
        "label_en": label_en,
        "label_nl": d.label_nl or label_en,
        "unit": d.unit or None,
        "scale": d.scale or None,
        "higher_is_worse": d.higher_is_worse,
        "thresholds": json.dumps(thresholds, ensure_ascii=False) if thresholds else None,
        "threshold_source": "; ".join(sources) or None,
        "description": d.description or None,
    }


def catalog_table(docs_by_layer: Mapping[str, Mapping[str, ColumnDoc]]) -> pd.DataFrame:
    """The ``indicator_catalog`` of the ward layers' columns (first documentation seen wins)."""
    rows: dict[str, dict] = {}
    levels: dict[str, list[str]] = {}
    for level in LEVELS:
        for column, d in (docs_by_layer.get(level) or {}).items():
            if column == "geometry":
                continue
            rows.setdefault(column, entry(column, d))
            levels.setdefault(column, []).append(level)
    frame = pd.DataFrame([{**r, "levels": ",".join(levels[c])} for c, r in rows.items()], columns=CATALOG_COLUMNS)
    # labels made from descriptions can coincide (two "Median network distance"): name the column too
    for lang in ("label_en", "label_nl"):
        dup = frame[lang].duplicated(keep=False)
        own = {c for level in LEVELS for c, d in (docs_by_layer.get(level) or {}).items() if getattr(d, lang)}
        fix = dup & ~frame["indicator"].isin(own)
        frame.loc[fix, lang] = frame.loc[fix, lang] + " (" + frame.loc[fix, "indicator"] + ")"
    frame["higher_is_worse"] = frame["higher_is_worse"].astype("boolean")
    return frame


def read_catalog(thresholds_json: str | None) -> list[dict]:
    """The thresholds of one catalog row as a list of ``{value, label, source}``."""
    if thresholds_json is None or (isinstance(thresholds_json, float) and np.isnan(thresholds_json)):
        return []
    return json.loads(thresholds_json)


def _bounds(columns: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """Value column -> (lower, upper) 95 % bound columns, for the naming schemes in use."""
    cols = set(columns)
    out = {}
    for c in columns:
        if f"{c}_lo95" in cols or f"{c}_hi95" in cols:
            out[c] = (f"{c}_lo95" if f"{c}_lo95" in cols else None, f"{c}_hi95" if f"{c}_hi95" in cols else None)
        elif c.endswith("_central"):
            stem = c.removesuffix("_central")
            if f"{stem}_low" in cols or f"{stem}_high" in cols:
                out[c] = (f"{stem}_low" if f"{stem}_low" in cols else None,
                          f"{stem}_high" if f"{stem}_high" in cols else None)
    return out


def indicators_table(layers: Mapping[str, pd.DataFrame], catalog: pd.DataFrame) -> pd.DataFrame:
    """The ``indicators`` long table of the ward layers' numeric indicator columns.

    ``layers`` are the ward layers as written (after disclosure control), with the code either as
    index or as a column. Identity and data-quality columns are left out, bounds become the
    ``lo95``/``hi95`` of their value's row, and NULL values give no row.
    """
    theme = dict(zip(catalog["indicator"], catalog["theme"]))
    parts = []
    for level in LEVELS:
        if level not in layers:
            continue
        layer = layers[level]
        code = CODE_COLUMN[level]
        if code in layer.columns:
            layer = layer.set_index(code)
        columns = [c for c in layer.columns if c != "geometry" and theme.get(c) not in ("identity", "quality")]
        numeric = [c for c in columns if pd.api.types.is_numeric_dtype(layer[c]) or pd.api.types.is_bool_dtype(layer[c])
                   or str(layer[c].dtype) == "boolean"]
        bounds = _bounds(numeric)
        bound_cols = {b for pair in bounds.values() for b in pair if b}
        values = [c for c in numeric if c not in bound_cols]
        if not values:
            continue

        def matrix(cols):
            out = np.full((len(layer), len(cols)), np.nan)
            for k, col in enumerate(cols):
                if col is not None:
                    out[:, k] = pd.to_numeric(layer[col].astype("Float64"), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            return out

        v = matrix(values)
        lo = matrix([bounds.get(c, (None, None))[0] for c in values])
        hi = matrix([bounds.get(c, (None, None))[1] for c in values])
        n, m = v.shape
        part = pd.DataFrame({"level": level, "code": np.repeat(layer.index.astype(str).to_numpy(), m),
                             "indicator": np.tile(np.asarray(values, dtype=object), n),
                             "value": v.ravel(), "lo95": lo.ravel(), "hi95": hi.ravel()})
        parts.append(part[part["value"].notna()])
    if not parts:
        return pd.DataFrame(columns=INDICATORS_COLUMNS)
    return pd.concat(parts, ignore_index=True)[INDICATORS_COLUMNS]


def presentation_tables(layers: Mapping[str, pd.DataFrame], docs_by_layer: Mapping[str, Mapping[str, ColumnDoc]]
                        ) -> dict[str, tuple[pd.DataFrame, dict[str, ColumnDoc], str]]:
    """``indicator_catalog``, ``indicators`` and the QGIS ``layer_styles`` as
    ``{name: (frame, docs, description)}`` for assemble.

    ``layers`` are the spatial layers as written (ward levels and ``scenario_*``), after
    disclosure control; ``docs_by_layer`` their column docs.
    """
    catalog = catalog_table(docs_by_layer)
    long = indicators_table(layers, catalog)
    styles = style_rows(layers, catalog)
    log.info("indicator_catalog: %d columns; indicators: %d values; layer_styles: %d styles",
             len(catalog), len(long), len(styles))
    return {
        "indicator_catalog": (catalog, CATALOG_DOCS, DESCRIPTIONS["indicator_catalog"]),
        "indicators": (long, INDICATORS_DOCS, DESCRIPTIONS["indicators"]),
        "layer_styles": (styles, STYLE_DOCS, STYLES_DESCRIPTION),
    }


#: scales whose whole-number values are stored as INTEGER (counts, class numbers such as ses_quintile)
INTEGER_SCALES = ("count", "category", "rank")


def storage_types(frame: pd.DataFrame, docs: Mapping[str, ColumnDoc]) -> pd.DataFrame:
    """The frame with the GeoPackage column types a dashboard expects.

    * counts and class numbers (scale ``count``/``category``/``rank``, from the doc or its unit)
      whose values are all whole numbers become nullable integers (``residents``, ``age_*``,
      ``households``, ``homes_n``, ``ses_quintile``, ...);
    * timestamps (unit ``ISO 8601 ...`` or ``datetime``) become DATETIME;
    * empty text becomes NULL.
    """
    changes = {}
    for c in frame.columns:
        if c == "geometry" or c not in docs:
            continue
        d = docs[c]
        s = frame[c]
        scale = d.scale or fallback_scale(d.unit)
        if scale in INTEGER_SCALES and pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            x = pd.to_numeric(s, errors="coerce").astype(float)
            known = x.dropna()
            if len(known) and np.isfinite(known).all() and (known == known.round()).all():
                changes[c] = x.round().astype("Int64")
        elif re.match(r"(?i)^(?:ISO 8601|datetime)", d.unit or "") and not pd.api.types.is_datetime64_any_dtype(s):
            text = s.astype("string").replace("", pd.NA)
            parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
            if (parsed.notna() == text.notna()).all():
                changes[c] = parsed
        elif pd.api.types.is_string_dtype(s) and all(isinstance(v, str) for v in s.dropna()):
            changes[c] = s.astype("string").replace("", pd.NA)
    if not changes:
        return frame.copy()
    # one concat instead of many column writes (the ward layers have hundreds of columns)
    out = pd.concat([frame.drop(columns=list(changes)), pd.DataFrame(changes, index=frame.index)], axis=1)
    return out[list(frame.columns)]
