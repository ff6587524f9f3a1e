"""Helpers shared by the provider modules (internal)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from .._errors import CRSError, InputDataError, SchemaDriftError
from ..io import atomic_write
from ..provenance import ProvenanceRecord

log = logging.getLogger(__name__)

TARGET_CRS = "EPSG:28992"
CRS_28992_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"

LICENCES = {
    "pdok": "CC BY 4.0 (CBS, Wijk- en Buurtkaart via PDOK)",
    "cbs_odata": "CC BY 4.0 (CBS, Kerncijfers wijken en buurten)",
    "rivm_gezondheid": "CC BY 4.0 (RIVM/CBS/GGD Gezondheid per wijk en buurt)",
    "rivm_gcn": "open data, attribution 'RIVM, GCN-kaarten'",
    "rivm_alo": "open data, attribution 'RIVM, Atlas Leefomgeving'",
    "luchtmeetnet": "open data, attribution 'RIVM / Luchtmeetnet'",
    "samenmeten": "CC0 1.0 (RIVM Samen Meten; verify)",
    "osm": "ODbL 1.0 (c) OpenStreetMap contributors",
    "bag": "CC0 1.0 / open (Kadaster BAG via PDOK)",
    "cbs_vk100": "CC BY 4.0 (CBS Vierkantstatistieken 100 m)",
}


def strip_code(v):
    """CBS region codes come right-padded with spaces; strip them (keep NaN)."""
    if isinstance(v, str):
        return v.strip()
    return v


def level_of(code: str) -> str | None:
    code = str(code).strip().upper()
    return {"GM": "gemeente", "WK": "wijk", "BU": "buurt", "NL": "land"}.get(code[:2])


def to_number(s: pd.Series) -> pd.Series:
    """Numbers from a CBS column: "." / "" / "x" / null -> NaN, decimal comma tolerated."""
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    t = s.astype("string").str.strip()
    t = t.mask(t.isin([".", "", "x", "-", "?", "NA", "nan", "None"]))
    t = t.str.replace(",", ".", regex=False)
    return pd.to_numeric(t, errors="coerce").astype(float)


def stem(col: str) -> str:
    """Column name without CBS's numeric suffix: 'Eenzaam_28' -> 'Eenzaam'."""
    return re.sub(r"_\d+$", "", str(col))


def require_columns(source: str, found: Iterable[str], expected: Iterable[str], hint: str = "") -> None:
    found = list(found)
    expected = list(expected)
    if any(c not in found for c in expected):
        raise SchemaDriftError(source, expected, found, hint=hint)


def load_table(path_or_obj, *, source: str = "table", sheet=None) -> pd.DataFrame:
    """Read xlsx/csv/JSON (OData ``value`` list) or accept a DataFrame / dict / list of records."""
    if isinstance(path_or_obj, pd.DataFrame):
        return path_or_obj.copy()
    if isinstance(path_or_obj, Mapping):
        return _odata_frame(path_or_obj)
    if isinstance(path_or_obj, list):
        return pd.DataFrame.from_records(path_or_obj)
    path = Path(path_or_obj)
    if not path.exists():
        raise InputDataError(f"{source}: file {path} does not exist. Check the `file:` path in the config.")
    suf = path.suffix.lower()
    if suf in (".xlsx", ".xls"):
        return pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=object)
    if suf == ".json":
        return _odata_frame(json.loads(path.read_text(encoding="utf-8")))
    if suf in (".csv", ".txt"):
        with open(path, "rb") as f:
            head = f.read(4096).decode("utf-8", "replace")
        sep = ";" if head.count(";") > head.count(",") else ","
        try:
            return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8")
        except UnicodeDecodeError:
            return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="latin-1")
    if suf == ".parquet":
        return pd.read_parquet(path)
    raise InputDataError(f"{source}: cannot read {path}: use .xlsx, .csv, .json (OData) or .parquet.")


def _odata_frame(doc) -> pd.DataFrame:
    if isinstance(doc, Mapping):
        if "value" in doc:
            return pd.DataFrame.from_records(doc["value"])
        if isinstance(doc.get("d"), Mapping) and "results" in doc["d"]:
            return pd.DataFrame.from_records(doc["d"]["results"])
    if isinstance(doc, list):
        return pd.DataFrame.from_records(doc)
    raise InputDataError("JSON input: expected an OData document with a `value` list of records.")


def to_target_crs(gdf, *, source: str, crs=None, target: str = TARGET_CRS):
    """Assign ``crs`` when the layer has none, raise CRSError when neither, reproject with a log line."""
    if gdf.crs is None:
        if crs is None:
            raise CRSError(
                f"{source}: the layer has no CRS. Give it in the config (e.g. `crs: EPSG:28992` for "
                "RD New, `EPSG:4326` for lon/lat) or fix the file (.prj / GeoJSON crs member)."
            )
        gdf = gdf.set_crs(crs)
    if not gdf.crs.equals(target):
        log.info("%s: reprojecting from %s to %s", source, gdf.crs.to_string(), target)
        gdf = gdf.to_crs(target)
    return gdf


#: extent of RD New (EPSG:28992) over the Netherlands incl. a margin, metres (EPSG area of use
#: x -7 000..300 000, y 289 000..629 000, widened by ~10-20 km)
RD_NEW_BOUNDS = (-10_000.0, 266_000.0, 320_000.0, 647_000.0)


def check_rd_new(features: list, source: str, responses=()) -> None:
    """Raise when features said to be EPSG:28992 have coordinates outside the Netherlands.

    Guards against a service ignoring ``crs=``/``srsName`` and answering in lon/lat (CRS84):
    degrees read as metres would put every ward in the sea off Africa, silently. The cached
    ``responses`` are removed first, so nothing wrong stays in the cache.
    """
    from shapely.geometry import shape

    geoms = [shape(f["geometry"]) for f in features if f.get("geometry")]
    if not geoms:
        return
    import shapely

    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    bx0, by0, bx1, by1 = RD_NEW_BOUNDS
    if x0 < bx0 or y0 < by0 or x1 > bx1 or y1 > by1:
        for r in responses:  # drop the cached pages so a rerun asks the service again
            Path(r.path).unlink(missing_ok=True)
        hint = " - these look like lon/lat degrees" if max(abs(x0), abs(x1)) <= 180 and max(abs(y0), abs(y1)) <= 90 else ""
        raise InputDataError(
            f"{source}: coordinates span ({x0:.1f}, {y0:.1f}) - ({x1:.1f}, {y1:.1f}), outside RD New "
            f"(EPSG:28992) over the Netherlands{hint}. The service did not honour the requested CRS; "
            "nothing was cached. Retry later or download the file by hand and give it as `file:` with its `crs:`.")


def write_geojson(features: list, path: Path, *, crs_urn: str | None = "urn:ogc:def:crs:EPSG::28992") -> Path:
    doc = {"type": "FeatureCollection", "features": features}
    if crs_urn:
        doc["crs"] = {"type": "name", "properties": {"name": crs_urn}}
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(doc), encoding="utf-8")
    return path


def write_records_json(records: list, path: Path, **extra) -> Path:
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps({"value": records, **extra}), encoding="utf-8")
    return path


def prov_for_responses(name: str, provider: str, responses, out: Path, *, note: str = "") -> list[ProvenanceRecord]:
    """One record for the assembled file, listing the request URLs (first and count)."""
    from ..io import sha256_file

    urls = [r.url for r in responses]
    url = urls[0] if urls else ""
    if len(urls) > 1:
        note = (note + "; " if note else "") + f"{len(urls)} requests (pages); first shown"
    return [ProvenanceRecord(input=name, provider=provider, file=str(out), url=url,
                             params="", sha256=sha256_file(out), licence=LICENCES.get(provider, ""),
                             note=note)]


def municipality_number(code: str) -> str:
    """'GM0344' -> '0344'."""
    code = str(code).strip().upper()
    if not re.fullmatch(r"GM\d{4}", code):
        raise InputDataError(f"municipality code {code!r} is not of the form GM0344 (GM + 4 digits).")
    return code[2:]
