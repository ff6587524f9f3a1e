"""Helpers shared by the provider modules: reading, zip extraction, URL rebasing, study extent.

Public names here are used by every adapter and reader in :mod:`healthgeo.sources`; the shared
vocabulary (CRS, codes, sentinels) lives one layer lower, in :mod:`healthgeo._vocab`.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import math
import re
import sqlite3
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pandas as pd
import shapely
from rasterio.errors import RasterioError
from shapely.geometry import shape

from .._errors import CRSError, DownloadError, HealthgeoError, InputDataError, SchemaDriftError
from .._vocab import CRS_28992_URN, RD_NEW_BOUNDS, TARGET_CRS
from ..io import atomic_write, input_file, sha256_file
from ..provenance import ProvenanceRecord

log = logging.getLogger(__name__)

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


def stem(col: str) -> str:
    """Column name without CBS's numeric suffix: 'Eenzaam_28' -> 'Eenzaam'."""
    return re.sub(r"_\d+$", "", str(col))


def select_period(df: pd.DataFrame, period: str | None, source: str) -> tuple[pd.DataFrame, list[str]]:
    """The rows of one StatLine ``Perioden`` value (``period``, default the latest in the file).

    Returns the rows and the periods the file holds; a frame without ``Perioden`` is returned
    as it is (no periods). A ``period`` the file lacks is an :class:`InputDataError`.
    """
    if "Perioden" not in df.columns:
        return df, []
    per = df["Perioden"].astype("string").str.strip()
    periods = sorted(per.dropna().unique())
    chosen = period or periods[-1]
    if chosen not in periods:
        raise InputDataError(f"{source}: period {chosen!r} not in the file; it has {periods}.")
    return df[(per == chosen).to_numpy()], periods


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
    path = input_file(path_or_obj, source)
    with reading(path, source, "a table"):
        return _load_table_file(path, source, sheet)


def _load_table_file(path: Path, source: str, sheet) -> pd.DataFrame:
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
            df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8")
        except UnicodeDecodeError:
            df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="latin-1")
        _check_not_truncated(path, df, sep, source)
        return df
    if suf == ".parquet":
        return pd.read_parquet(path)
    raise InputDataError(f"{source}: cannot read {path}: use .xlsx, .csv, .json (OData) or .parquet.")


def _check_not_truncated(path: Path, df: pd.DataFrame, sep: str, source: str) -> None:
    """InputDataError when a CSV ends mid-row: no final newline and fewer fields than the header."""
    with open(path, "rb") as f:
        f.seek(max(path.stat().st_size - 65536, 0))
        tail = f.read()
    if tail.endswith((b"\n", b"\r")) or df.empty:
        return
    last = tail.splitlines()[-1].decode("utf-8", "replace")
    n_fields = len(next(csv.reader([last], delimiter=sep)))
    if n_fields < df.shape[1]:
        raise InputDataError(f"{source}: {path} looks truncated: its last line stops after {n_fields} of "
                             f"{df.shape[1]} fields (row {len(df)}). Replace the file with a complete copy.")


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


def check_in_rd_new(gdf, source: str) -> None:
    """CRSError when a layer in EPSG:28992 has coordinates outside the Netherlands.

    Catches a file whose declared CRS is wrong (RD New metres labelled as lon/lat, or the reverse),
    which reprojection turns into coordinates far outside the country.
    """
    geoms = gdf.geometry[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if geoms.empty:
        return
    x0, y0, x1, y1 = geoms.total_bounds
    bx0, by0, bx1, by1 = RD_NEW_BOUNDS
    if not (bx0 <= x0 and by0 <= y0 and x1 <= bx1 and y1 <= by1):
        raise CRSError(
            f"{source}: after reprojection to {TARGET_CRS} the coordinates span ({x0:.6g}, {y0:.6g}) - "
            f"({x1:.6g}, {y1:.6g}), outside the Netherlands: the CRS declared in the file (or given as "
            "`crs:`) does not match its coordinates. Fix the file's CRS (e.g. ogr2ogr -a_srs EPSG:28992).")


def check_rd_new(features: list, source: str, responses=()) -> None:
    """Raise when features said to be EPSG:28992 have coordinates outside the Netherlands.

    Guards against a service ignoring ``crs=``/``srsName`` and answering in lon/lat (CRS84):
    degrees read as metres would put every ward in the sea off Africa, silently. The cached
    ``responses`` are removed first, so nothing wrong stays in the cache.
    """
    geoms = [shape(f["geometry"]) for f in features if f.get("geometry")]
    if not geoms:
        return
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


def write_geojson(features: list, path: Path, *, crs_urn: str | None = CRS_28992_URN) -> Path:
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
    urls = [r.url for r in responses]
    url = urls[0] if urls else ""
    if len(urls) > 1:
        note = (note + "; " if note else "") + f"{len(urls)} requests (pages); first shown"
    return [ProvenanceRecord(input=name, provider=provider, file=str(out), url=url,
                             params="", sha256=sha256_file(out), licence=LICENCES.get(provider, ""),
                             note=note)]


# --------------------------------------------------------------------------- reading files
#: Exceptions a library raises when a file is truncated, empty, of another format or unreadable.
#: :func:`reading` turns them into one InputDataError naming the file.
READ_ERRORS = (OSError, ValueError, SyntaxError, EOFError, RuntimeError, KeyError, IndexError,
               zipfile.BadZipFile, sqlite3.DatabaseError, RasterioError)


def _first_line(err: BaseException, limit: int = 200) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


@contextlib.contextmanager
def reading(path, source: str, what: str = "file") -> Iterator[None]:
    """Turn any library error raised while reading ``path`` into one :class:`InputDataError`.

    The message names the file and what is wrong in one line (the full traceback stays chained
    for the rule log). Our own typed errors pass through unchanged.
    """
    try:
        yield
    except HealthgeoError:
        raise
    except READ_ERRORS as err:
        raise InputDataError(
            f"{source}: {path} cannot be read as {what} ({type(err).__name__}: {_first_line(err)}). "
            "A truncated or interrupted download, or a file of another format? Replace it, or delete "
            "it and rerun so a provider input is fetched again.") from err


def read_vector(path, *, source: str, layer: str | None = None) -> gpd.GeoDataFrame:
    """A vector file (GeoPackage, GeoJSON, Shapefile, ...) read with pyogrio.

    Missing, empty (0 bytes) and unreadable files raise one :class:`InputDataError` naming the
    file; ``layer`` selects a layer of a multi-layer file.
    """
    p = input_file(path, source)
    with reading(p, source, "a vector file (GeoPackage/GeoJSON/Shapefile)"):
        if layer:
            return gpd.read_file(p, layer=layer, engine="pyogrio")
        return gpd.read_file(p, engine="pyogrio")


def list_layers(path, *, source: str) -> list[str]:
    """Layer names of a vector file (InputDataError when it cannot be read)."""
    import pyogrio

    p = input_file(path, source)
    with reading(p, source, "a vector file"):
        return [str(n) for n, _ in pyogrio.list_layers(p)]


def extract_zip_member(zpath, dest, *, suffixes: tuple[str, ...], provider: str, url: str,
                       pick: str = "first") -> Path:
    """Extract one member ending in ``suffixes`` from the zip ``zpath`` to ``dest``, atomically.

    ``pick`` is ``"first"`` or ``"largest"`` (several candidate members). Member paths are
    checked against directory traversal ("zip-slip": absolute paths, ``..`` parts, also written
    with backslashes or a drive letter); a corrupted zip or no matching member raises
    :class:`DownloadError` naming the provider and URL.
    """
    try:
        with zipfile.ZipFile(zpath) as z:
            members = [m for m in z.infolist() if m.filename.lower().endswith(suffixes) and not m.is_dir()]
            if not members:
                raise DownloadError(provider, url, f"the zip holds no {'/'.join(suffixes)} file "
                                                   f"(members: {z.namelist()[:10]})")
            m = max(members, key=lambda m: m.file_size) if pick == "largest" else members[0]
            check_member_path(m.filename, provider=provider, url=url)
            with atomic_write(dest) as tmp, z.open(m) as fsrc, open(tmp, "wb") as fdst:
                while block := fsrc.read(1 << 20):
                    fdst.write(block)
    except zipfile.BadZipFile as e:
        raise DownloadError(provider, url, f"corrupted zip ({e})") from e
    return Path(dest)


def check_member_path(name: str, *, provider: str, url: str) -> None:
    """DownloadError when a zip member's path could escape the extraction folder."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", name):
        raise DownloadError(provider, url, f"unsafe member path {name!r} in the zip (zip-slip)")


# --------------------------------------------------------------------------- URLs and extent
def rebase_url(url: str, base_url: str | None) -> str:
    """Replace the scheme and host of ``url`` by ``base_url`` (tests point adapters at a local server)."""
    if not base_url:
        return url
    return re.sub(r"^https?://[^/]+", base_url.rstrip("/"), url)


#: Municipal envelopes (EPSG:28992) used only when neither a boundary nor a bbox is given.
KNOWN_BBOX = {"GM0344": (126000, 448000, 142000, 462000)}


def study_bbox(area: dict, boundary=None, bbox=None, buffer: float = 1000.0) -> tuple[int, int, int, int]:
    """Bounding box (EPSG:28992, rounded outwards to 100 m) of the study area plus ``buffer``.

    From ``bbox`` when given, else the ``boundary`` polygons, else :data:`KNOWN_BBOX`.
    """
    if bbox is not None:
        x0, y0, x1, y1 = map(float, bbox)
    elif boundary is not None and len(boundary):
        b = boundary.to_crs(TARGET_CRS) if boundary.crs is not None else boundary
        x0, y0, x1, y1 = b.total_bounds
        x0, y0, x1, y1 = x0 - buffer, y0 - buffer, x1 + buffer, y1 + buffer
    elif area.get("municipality") in KNOWN_BBOX:
        x0, y0, x1, y1 = KNOWN_BBOX[area["municipality"]]
    else:
        raise InputDataError("need the study area's extent: pass the boundary or give `bbox: "
                             "[xmin, ymin, xmax, ymax]` (EPSG:28992) in the spec.")
    r = 100
    return (math.floor(x0 / r) * r, math.floor(y0 / r) * r, math.ceil(x1 / r) * r, math.ceil(y1 / r) * r)


def title_paths(properties: list[dict]) -> dict[str, str]:
    """Key -> 'Group/Subgroup/Title' (lower case) from a DataProperties list."""
    by_id = {p.get("ID"): p for p in properties}
    out = {}
    for p in properties:
        if not p.get("Key"):
            continue
        parts, q, seen = [], p, set()
        while q is not None and q.get("ID") not in seen:
            seen.add(q.get("ID"))
            parts.append(str(q.get("Title", "")))
            q = by_id.get(q.get("ParentID"))
        out[p["Key"]] = "/".join(reversed(parts)).lower()
    return out


def load_with_meta(path_or_obj, source: str) -> tuple[pd.DataFrame, dict]:
    """Rows and the meta data (table, regio_year, properties) of a JSON document, if any."""
    if isinstance(path_or_obj, (str, Path)) and str(path_or_obj).lower().endswith(".json"):
        docu = json.loads(Path(path_or_obj).read_text(encoding="utf-8"))
        meta = {k: v for k, v in docu.items() if k != "value"} if isinstance(docu, dict) else {}
        return load_table(docu, source=source), meta
    return load_table(path_or_obj, source=source), {}
