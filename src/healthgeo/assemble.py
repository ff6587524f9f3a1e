"""Write the output GeoPackage: ward layers, data dictionary, provenance, metadata.

The GeoPackage is the contract with dashboards:

* spatial layers ``buurt``, ``wijk``, ``gemeente`` keyed by the CBS code column
  (``buurtcode``/``wijkcode``/``gemeentecode``, unique index), EPSG:28992;
* non-spatial ``data_dictionary`` (layer, column, unit, description, method, source and the
  column's metadata: theme, about, scale, direction, labels, thresholds, burden group) with a row
  for *every* column of every layer and table - assembling refuses undocumented columns;
* non-spatial ``provenance`` (input, provider, file, url, params, retrieved_at, sha256, licence, note);
* non-spatial ``metadata`` (key, value): run, municipality, synthetic flag, version, created_at;
* any further non-spatial tables (e.g. ``disparity``) given with their column docs.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from . import __version__
from ._errors import HealthgeoError, InputDataError
from ._vocab import CODE_COLUMN, LEVELS
from .catalog import presentation_tables, storage_types
from .dictionary import ColumnDoc, doc
from .disclosure import (DEFAULT_MIN_RESIDENTS, REASON_COLUMN, disclosure_reasons, protect_layer,
                         protect_table)
from .io import atomic_write, read_table
from .provenance import COLUMNS as PROVENANCE_COLUMNS, ProvenanceRecord, now_utc
from .styles import write_data_columns
from .wards import ward_docs

log = logging.getLogger(__name__)

DICTIONARY_COLUMNS = ["layer", "column", "unit", "description", "method", "source", "theme", "about", "scale",
                      "higher_is_worse", "label_en", "label_nl", "thresholds", "burden_group"]

LAYER_DESCRIPTIONS = {
    "buurt": "Indicators per CBS buurt (neighbourhood)",
    "wijk": "Indicators per CBS wijk (district)",
    "gemeente": "Indicators for the whole municipality",
    "data_dictionary": "One row per column of every layer/table: unit, description, method, source, theme, "
                       "about (residents/area/identity), scale, direction, labels (en/nl), thresholds, burden group",
    "provenance": "One row per input: provider or file, URL, retrieval time, sha256, licence",
    "metadata": "Run metadata (key, value)",
    "disparity": "Inequality measures per indicator and ward level (indicator, metric, value, 95 % interval)",
    "burden_reference": "Fixed reference values of the cumulative-burden percentiles, to compare later runs",
    "air_monitoring": "Measured annual means at monitoring sites against the air-quality grid at the same place",
    "walkability_reference": "Fixed reference values (mean, sd) of the walkability z-scores, so reruns compare",
    "validation_access": ("healthgeo's population-weighted mean network distance per buurt and destination type "
                          "against CBS Nabijheid voorzieningen road distance (ratio, within +-25 %)"),
    "validation_access_summary": ("Agreement with CBS Nabijheid voorzieningen per destination type and network: "
                                  "correlation, median ratio, share of buurten within +-25 %"),
    "requirements": ("Health requirements (PvE scorecard): one row per ward and requirement - value, met "
                     "(true/false/NULL) and the reason for NULL (not applicable, not computed, no value)"),
    "requirements_summary": "Health requirements met per area type (typology class), ward level and requirement",
    "crosswalk": ("Boundary crosswalk of each survey wave's wards onto this year's wards: from_code, to_code, weight "
                  "(share of the source ward's residents, or area), method (docs/methods.md#boundary-crosswalks)"),
    "crosswalk_quality": ("Quality of the boundary crosswalk per target ward and wave year: share of its residents "
                          "explained by the wave's wards, and with an unambiguous origin"),
    "disparity_trend": ("Concentration index, SII and quintile gap per year with 95 % bootstrap intervals, and the "
                        "change first -> last year with its 95 % interval (docs/methods.md#trends)"),
    "scenario_comparison": ("Scenario totals against the baseline (burden, DALYs, euros; negative delta = gain, "
                            "positive for *_averted_* rows)"),
}

_META_DOCS = {
    "key": doc("text", "metadata key"),
    "value": doc("text", "metadata value"),
}
_PROV_DOCS = {
    "input": doc("text", "input name as in the config (inputs.<name>)"),
    "provider": doc("text", "provider adapter, or 'local file'"),
    "file": doc("path", "local file that was read (cached download or given file)"),
    "url": doc("URL", "URL requested (empty for local files)"),
    "params": doc("text", "request parameters or reader options"),
    "retrieved_at": doc("ISO 8601 UTC", "time of download or of reading the local file"),
    "sha256": doc("hex", "sha256 checksum of the file"),
    "licence": doc("text", "licence of the data"),
    "note": doc("text", "remarks (e.g. cross-validation error of an interpolated surface)"),
}
_DICT_DOCS = {c: doc("text", f"{c} of the documented column") for c in DICTIONARY_COLUMNS}
_DICT_DOCS.update({
    "theme": doc("text", "indicator family (air, noise, green, access, health, disparity, burden, impact, typology, "
                 "keyfigures, identity, quality, scenario, ...)"),
    "about": doc("text", "what the value describes: residents (withheld for small wards), area or identity (always "
                 "published)"),
    "scale": doc("text", "how the value is scaled: fraction, percent, count, concentration, db, distance, ..."),
    "higher_is_worse": doc("bool", "direction: 1 = a higher value is worse, 0 = better, NULL = no direction"),
    "label_en": doc("text", "short English label"),
    "label_nl": doc("text", "short Dutch label"),
    "thresholds": doc("JSON", "reference values as a JSON list of [value, label, source]; NULL when none"),
    "burden_group": doc("text", "component of the cumulative burden the column enters; NULL when none"),
})


class UndocumentedColumnError(HealthgeoError, ValueError):
    """A column reached the output without a data-dictionary entry (a bug in healthgeo)."""


def merge_tables(wards: gpd.GeoDataFrame, level: str, tables: Sequence[str | Path]) -> tuple[gpd.GeoDataFrame, dict[str, ColumnDoc]]:
    """Join indicator tables (written by :func:`healthgeo.io.write_table`) onto a ward layer.

    Every code of a table must be a ward of the layer (a foreign or mistyped code means a join on
    the wrong vintage or level, which would silently lose rows); wards a table lacks get NULL and
    are logged.
    """
    docs = ward_docs(level)
    out = wards.copy()
    for path in tables:
        df, tdocs = read_table(path)
        dup = sorted(set(df.columns) & set(out.columns))
        clash = [c for c in dup if not df[c].reindex(out.index).equals(out[c])]
        if clash:
            raise HealthgeoError(f"{path}: columns {clash} already exist on the {level} layer with other values")
        df = df.drop(columns=dup)  # shared columns with identical values (e.g. popw_method) are kept once
        missing = sorted(set(out.index) - set(df.index))
        if missing and len(missing) == len(out):
            raise HealthgeoError(f"{path}: no ward of the {level} layer is in this table (wrong level?)")
        foreign = sorted(set(map(str, df.index)) - set(map(str, out.index)))
        if foreign:
            raise InputDataError(
                f"{path}: {len(foreign)} code(s) are not {level} wards of this run: {foreign[:10]}. "
                "The table was built for another ward vintage or level; rebuild it from the same wards.")
        if missing:
            log.warning("%s: %d %s ward(s) have no row (NULL in the layer): %s", path, len(missing), level,
                        missing[:10])
        out = out.join(df, how="left")
        docs.update(tdocs)
    return out, docs


def _dictionary_rows(layer: str, columns: Sequence[str], docs: Mapping[str, ColumnDoc]) -> list[dict]:
    undocumented = [c for c in columns if c not in docs]
    if undocumented:
        raise UndocumentedColumnError(
            f"layer {layer!r}: columns without a data-dictionary entry: {undocumented}. "
            "Every indicator function must return a ColumnDoc for each column it adds."
        )
    return [{"layer": layer, "column": c, **_dictionary_fields(docs[c])} for c in columns]


def _dictionary_fields(d: ColumnDoc) -> dict:
    """The data_dictionary fields of one column doc (empty metadata as NULL)."""
    row = d.as_dict()
    row["thresholds"] = json.dumps([list(t) for t in d.thresholds], ensure_ascii=False) if d.thresholds else None
    for k in ("theme", "scale", "label_en", "label_nl", "burden_group"):
        row[k] = row[k] or None
    return {k: row[k] for k in DICTIONARY_COLUMNS[2:]}


def assemble(
    out_path: str | Path,
    *,
    wards_path: str | Path,
    tables: Mapping[str, Sequence[str | Path]],
    provenance: Sequence[ProvenanceRecord],
    metadata: Mapping[str, str],
    extra_tables: Mapping[str, tuple[pd.DataFrame, Mapping[str, ColumnDoc], str]] | None = None,
    scenario_layers: Mapping[str, str | Path] | None = None,
    trend_layers: Mapping[str, str | Path] | None = None,
    min_residents: float = DEFAULT_MIN_RESIDENTS,
) -> Path:
    """Write the output GeoPackage atomically and return its path.

    ``tables`` maps a level to the indicator tables joined onto it; ``extra_tables`` maps a
    table name to ``(frame, docs, description)`` for non-spatial tables. ``scenario_layers``
    maps a scenario name to its per-buurt delta table, written as the spatial layer
    ``scenario_{name}`` (buurt geometry, ``buurtcode``, deltas). ``min_residents`` is the
    disclosure threshold, used for secondary suppression (:func:`hierarchical_suppression`).
    ``trend_layers`` maps a level to its trend table (:func:`healthgeo.trend.trend`), written as
    the spatial layer ``trend_{level}`` (the level's geometry, code, name, trend columns).
    """
    out_path = Path(out_path)
    dictionary: list[dict] = []
    written: dict[str, tuple[pd.DataFrame, Mapping[str, ColumnDoc]]] = {}  # ward layers as written
    with atomic_write(out_path) as tmp:
        merged = {}
        for level in LEVELS:
            wards = gpd.read_file(wards_path, layer=level, engine="pyogrio").set_index(CODE_COLUMN[level])
            merged[level] = (wards, *merge_tables(wards, level, tables.get(level, [])))
        reasons = disclosure_reasons({lv: merged[lv][0] for lv in LEVELS}, min_residents=min_residents)
        raw = {lv: merged[lv][1] for lv in LEVELS}  # before withholding: to keep their values out of tables
        for level in LEVELS:
            wards, layer, docs = merged[level]
            # small wards: every value about their residents is withheld, whichever stages ran
            layer, docs = protect_layer(layer, reasons[level], docs, keep=list(wards.columns),
                                        min_residents=min_residents)
            small = reasons[level].notna()
            if small.any():
                log.info("%s: values of %d ward(s) withheld (disclosure control)", level, int(small.sum()))
            layer = storage_types(layer.reset_index(), docs)  # integer counts, NULL not ''
            written[level] = (layer, docs)
            columns = [c for c in layer.columns]
            dictionary += _dictionary_rows(level, columns, docs)
            pyogrio.write_dataframe(
                layer, tmp, layer=level, driver="GPKG", append=tmp.exists(),
                layer_options={"DESCRIPTION": LAYER_DESCRIPTIONS[level]},
            )
        for name, path in (scenario_layers or {}).items():
            layer_name = f"scenario_{name}"
            buurten = gpd.read_file(wards_path, layer="buurt", engine="pyogrio").set_index("buurtcode")
            deltas, ddocs = read_table(path)
            foreign = sorted(set(map(str, deltas.index)) - set(map(str, buurten.index)))
            if foreign:
                raise InputDataError(f"{path}: scenario rows for codes that are not buurten of this run: {foreign[:10]}")
            layer = buurten[["name", "geometry"]].join(deltas, how="left")
            docs = {**{k: v for k, v in ward_docs("buurt").items() if k in ("buurtcode", "name", "geometry")}, **ddocs}
            layer, docs = protect_layer(layer, reasons["buurt"], docs, keep=["name"], min_residents=min_residents)
            docs[REASON_COLUMN] = docs[REASON_COLUMN].replace(
                description="Why this buurt's scenario values are withheld (see the buurt layer); NA when shown")
            layer = storage_types(layer.reset_index(), docs)  # integer counts, NULL not ''
            written[layer_name] = (layer, docs)
            dictionary += _dictionary_rows(layer_name, list(layer.columns), docs)
            pyogrio.write_dataframe(layer, tmp, layer=layer_name, driver="GPKG", append=True,
                                    layer_options={"DESCRIPTION": f"Scenario {name}: change per buurt against the baseline "
                                                   "(scenario - baseline; each column's sign is explained in data_dictionary)"})
        for level, path in (trend_layers or {}).items():
            layer_name = f"trend_{level}"
            wards = gpd.read_file(wards_path, layer=level, engine="pyogrio").set_index(CODE_COLUMN[level])
            values, tdocs = read_table(path)
            values.index = values.index.astype(str)
            foreign = sorted(set(values.index) - set(map(str, wards.index)))
            if foreign:
                raise InputDataError(f"{path}: trend rows for codes that are not {level} wards of this run: {foreign[:10]}")
            layer = wards[["name", "geometry"]].join(values, how="left")
            docs = {**{k: v for k, v in ward_docs(level).items() if k in (CODE_COLUMN[level], "name", "geometry")},
                    **tdocs}
            layer, docs = protect_layer(layer, reasons[level], docs, keep=["name"], min_residents=min_residents)
            docs[REASON_COLUMN] = docs[REASON_COLUMN].replace(
                description=f"Why this ward's values are withheld (see the {level} layer); NA when shown")
            layer = storage_types(layer.reset_index(), docs)
            written[layer_name] = (layer, docs)
            dictionary += _dictionary_rows(layer_name, list(layer.columns), docs)
            pyogrio.write_dataframe(layer, tmp, layer=layer_name, driver="GPKG", append=True,
                                    layer_options={"DESCRIPTION": f"Change over the run's years per {level} on "
                                                   "this year's boundaries: value per year, change, annual slope "
                                                   "(docs/methods.md#trends)"})
        meta = {"healthgeo_version": __version__, "created_at": now_utc(), **dict(metadata)}
        nonspatial = {
            "provenance": (pd.DataFrame([asdict(r) for r in provenance], columns=PROVENANCE_COLUMNS), _PROV_DOCS, LAYER_DESCRIPTIONS["provenance"]),
            "metadata": (pd.DataFrame({"key": list(meta), "value": [str(v) for v in meta.values()]}), _META_DOCS, LAYER_DESCRIPTIONS["metadata"]),
        }
        nonspatial.update(extra_tables or {})
        nonspatial.update(presentation_tables({k: v[0] for k, v in written.items()}, {k: v[1] for k, v in written.items()}))
        # a long table's rows name ward-layer columns: their docs say whether a row is about residents
        layer_docs = {c: d for _, (_, ldocs) in written.items() for c, d in ldocs.items()}
        for name in [n for n in nonspatial if n not in ("provenance", "metadata")]:  # every table, also later ones
            frame, docs, desc = nonspatial[name]
            protected = protect_table(frame, {**layer_docs, **docs}, reasons, values=raw, name=name)
            nonspatial[name] = (protected, docs, desc)
        for name, (frame, docs, _desc) in nonspatial.items():
            dictionary += _dictionary_rows(name, list(frame.columns), docs)
        dictionary += _dictionary_rows("data_dictionary", DICTIONARY_COLUMNS, _DICT_DOCS)
        dd = pd.DataFrame(dictionary, columns=DICTIONARY_COLUMNS).astype({"higher_is_worse": "boolean"})
        nonspatial["data_dictionary"] = (dd, _DICT_DOCS, LAYER_DESCRIPTIONS["data_dictionary"])
        for name, (frame, tdocs, desc) in nonspatial.items():
            frame = storage_types(frame.reset_index(drop=True), tdocs)  # integer counts, DATETIME timestamps
            for col in frame.columns:  # GPKG has no boolean-with-null; keep object columns as text
                if frame[col].dtype == object or str(frame[col].dtype).startswith("string"):
                    frame[col] = frame[col].astype("string").replace("", pd.NA)  # no value = NULL, not 
            pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", append=True,
                                    layer_options={"DESCRIPTION": desc})
        con = sqlite3.connect(tmp)
        try:
            with con:  # commits; the connection is closed before the file is moved into place
                for level in LEVELS:
                    code = CODE_COLUMN[level]
                    con.execute(f'CREATE UNIQUE INDEX "idx_{level}_{code}" ON "{level}" ("{code}")')
                for name in scenario_layers or {}:
                    con.execute(f'CREATE UNIQUE INDEX "idx_scenario_{name}_buurtcode" '
                                f'ON "scenario_{name}" ("buurtcode")')
                for level in trend_layers or {}:
                    code = CODE_COLUMN[level]
                    con.execute(f'CREATE UNIQUE INDEX "idx_trend_{level}_{code}" ON "trend_{level}" ("{code}")')
                write_data_columns(con)  # column titles/descriptions for QGIS (OGC schema extension)
        finally:
            con.close()
    log.info("wrote %s", out_path)
    return out_path


def assemble_run(out_path, *, wards_path, tables, manifests, run: str, municipality: str, year: int,
                 extra_provenance: Sequence[str | Path] = (),
                 extra_tables: Mapping[str, Sequence[str | Path]] | None = None,
                 scenario_layers: Mapping[str, str | Path] | None = None,
                 trend_layers: Mapping[str, str | Path] | None = None,
                 min_residents: float = DEFAULT_MIN_RESIDENTS, impact: Mapping | None = None) -> Path:
    """Assemble one workflow run: provenance from the fetch manifests, synthetic flag, metadata.

    ``impact``: the run's ``impact`` config; its baseline choice goes into the metadata and the
    municipality's registered deaths, when given, into the provenance (the ward baselines were
    scaled to them).

    ``extra_tables`` maps a non-spatial table name to the Parquet tables (with docs) that are
    concatenated into it (e.g. the disparity tables of the buurt and wijk levels).
    """
    from .provenance import read_manifest

    from .provenance import read_provenance

    records = [r for m in manifests for r in read_manifest(m).provenance]
    records += [r for p in extra_provenance for r in read_provenance(p)]
    impact = dict(impact or {})
    if impact.get("registered_deaths_per_year") is not None:
        records.append(ProvenanceRecord(
            input="registered_deaths", provider="config (impact.registered_deaths_per_year)",
            params=f"{impact['registered_deaths_per_year']:g} natural-cause deaths per year in {municipality}",
            note="ward baseline deaths scaled by one factor so that they sum to the registered deaths; the factor "
                 "is in the data dictionary (baseline_deaths_per_year)"))
    synthetic = any(r.provider.startswith("healthgeo demo") or "SYNTHETIC" in r.note.upper() for r in records) \
        or municipality == "GM9999"
    metadata = {
        "run": run,
        "municipality": municipality,
        "year": str(year),
        "crs": "EPSG:28992",
        "synthetic": "true" if synthetic else "false",
        "impact_baseline": str(impact.get("baseline", "age_specific")),
        "synthetic_note": "SYNTHETIC demo data generated by healthgeo.demo - not real" if synthetic else "",
    }
    extra = {}
    for name, paths in (extra_tables or {}).items():
        if not paths:
            continue
        parts = [read_table(p) for p in paths]
        docs = {k: v for _, d in parts for k, v in d.items()}
        frame = pd.concat([df.reset_index(drop=True) for df, _ in parts], ignore_index=True)
        extra[name] = (frame, docs, LAYER_DESCRIPTIONS.get(name, name))
    return assemble(out_path, wards_path=wards_path, tables=tables, provenance=records,
                    metadata=metadata, extra_tables=extra, scenario_layers=scenario_layers,
                    trend_layers=trend_layers, min_residents=min_residents)
