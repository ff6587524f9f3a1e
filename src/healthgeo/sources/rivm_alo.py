"""RIVM Atlas Leefomgeving rasters (NO2 and road/all-source noise Lden) via WCS 2.0.1 or bulk zip."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlencode

from .._errors import ConfigError, InputDataError
from .._http import get
from ..io import atomic_write
from ..provenance import ProvenanceRecord
from ._common import LICENCES, extract_zip_member, rebase_url, study_bbox

log = logging.getLogger(__name__)

WCS_URL = "https://data.rivm.nl/geo/alo/wcs"
BULK_URL = "https://data.rivm.nl/data/alo/{name}.zip"

#: NSL NO2 maps per year (release date differs per year)
NO2_COVERAGES = {
    2019: "rivm_nsl_20210101_gm_NO22019", 2020: "rivm_nsl_20220101_gm_NO22020",
    2021: "rivm_nsl_20230101_gm_NO22021", 2022: "rivm_nsl_20240401_gm_NO22022",
    2023: "rivm_nsl_20250401_gm_NO22023", 2024: "rivm_nsl_20260401_gm_NO22024",
}
#: noise Lden maps: (source, year) -> layer
LDEN_COVERAGES = {
    ("allebronnen", 2020): "rivm_20220601_Geluid_lden_allebronnen_2020",
    ("wegverkeer", 2020): "rivm_20220601_Geluid_lden_wegverkeer_2020",
    ("treinverkeer", 2020): "rivm_20220601_Geluid_lden_treinverkeer_2020",
    ("vliegverkeer", 2020): "rivm_20220601_Geluid_lden_vliegverkeer_2020",
    ("wegverkeer", 2022): "rivm_20250101_Geluid_lden_wegverkeer_2022",
}
#: bulk GeoTIFF zips
LDEN_BULK = {("allebronnen", 2022): "rivm_20250801_Geluid_lden_allebronnen_2022"}

def coverage_id(layer: str, year: int, source: str = "wegverkeer") -> str:
    """WCS coverage id (``alo__`` + layer name) for ``layer`` ``no2`` or ``lden`` (others: give one)."""
    if layer == "no2":
        if year not in NO2_COVERAGES:
            raise InputDataError(f"rivm_alo: no NO2 map known for {year}; known {sorted(NO2_COVERAGES)} "
                                 "(give `coverage_id:` to override).")
        return "alo__" + NO2_COVERAGES[year]
    if layer == "lden":
        key = (source, year)
        if key not in LDEN_COVERAGES:
            raise InputDataError(f"rivm_alo: no Lden map known for {key}; known {sorted(LDEN_COVERAGES)} "
                                 "(give `coverage_id:`, or `bulk: true` for allebronnen 2022).")
        return "alo__" + LDEN_COVERAGES[key]
    if layer in ("pm25", "pm10"):
        raise InputDataError(f"rivm_alo: no {layer.upper()} coverage id is known (healthgeo knows NO2 and Lden "
                             "maps only); use provider `rivm_gcn` for PM grids, give `options: {coverage_id: "
                             "...}` from the ALO WCS GetCapabilities, or a local `file:`.")
    if layer == "lnight":
        raise InputDataError("rivm_alo: no Lnight coverage id is known (healthgeo knows Lden maps only); give "
                             "`options: {coverage_id: ...}` from the ALO WCS GetCapabilities, or a local `file:`.")
    raise InputDataError(f"rivm_alo: layer {layer!r} unknown; use 'no2', 'lden' or 'lnight' (+ coverage_id).")


def download(name: str, spec: dict, *, area: dict, cache_dir: Path, boundary=None):
    """GetCoverage (GeoTIFF, EPSG:28992) of an ALO layer clipped to the study area.

    spec keys: ``layer`` (``no2`` or ``lden``), ``year``, ``source`` (noise source:
    ``wegverkeer`` default, ``allebronnen``, ``treinverkeer``, ``vliegverkeer``), ``coverage_id``
    (override), ``bbox`` (override, EPSG:28992), ``bulk`` (true: national bulk zip instead of WCS),
    ``base_url`` (tests).
    """
    if not spec.get("layer") and not spec.get("coverage_id") and not spec.get("bulk"):
        raise ConfigError(f"rivm_alo: input {name!r} does not say which map to download; name the input after "
                          "it (no2, noise_lden, noise_lnight) or give `options: {layer: no2|lden|lnight}` "
                          "or `options: {coverage_id: ...}`.")
    layer = str(spec.get("layer", "")).lower()
    year = int(spec.get("year") or area.get("year"))
    source = spec.get("source", "wegverkeer")
    common = dict(provider="rivm_alo", cache_dir=cache_dir, max_retries=spec.get("max_retries", 5),
                  timeout=spec.get("timeout", 300))
    if spec.get("bulk"):
        key = spec.get("bulk_name") or LDEN_BULK.get((source, year))
        if key is None:
            raise InputDataError(f"rivm_alo: no bulk file known for {(source, year)}; known {sorted(LDEN_BULK)}.")
        url = rebase_url(BULK_URL.format(name=key), spec.get("base_url"))
        resp = get(url, expect="zip", **common)
        dest = Path(cache_dir) / "rivm_alo" / f"{key}.tif"
        extract_zip_member(resp.path, dest, suffixes=(".tif", ".tiff"), provider="rivm_alo", url=resp.url,
                           pick="largest")
        return dest, [ProvenanceRecord.for_file(name, dest, provider="rivm_alo", url=resp.url,
                                                licence=LICENCES["rivm_alo"], note=f"bulk {key}")]
    cov = spec.get("coverage_id") or coverage_id(layer, year, source)
    x0, y0, x1, y1 = study_bbox(area, boundary, spec.get("bbox"))
    url = rebase_url(WCS_URL, spec.get("base_url"))
    # two `subset` parameters: requests takes a list of tuples
    plist = [("service", "WCS"), ("version", "2.0.1"), ("request", "GetCoverage"), ("coverageId", cov),
             ("subset", f"X({x0},{x1})"), ("subset", f"Y({y0},{y1})"), ("format", "image/tiff")]
    resp = _get_multi(url, plist, **common)
    dest = Path(cache_dir) / "rivm_alo" / f"{name}_{cov}_{x0}_{y0}_{x1}_{y1}.tif"
    with atomic_write(dest) as tmp:
        tmp.write_bytes(resp.path.read_bytes())
    note = f"WCS coverage {cov}, bbox {x0},{y0},{x1},{y1} EPSG:28992"
    if layer == "no2" and year <= 2021:
        note += "; older coverages use -3.4e38 as nodata (mask values < -1e30)"
    return dest, [ProvenanceRecord.for_file(name, dest, provider="rivm_alo", url=resp.url,
                                            licence=LICENCES["rivm_alo"], note=note)]


def _get_multi(url, plist, **kw):
    """GET with repeated query keys: folded into the URL so the cache key sees them in order."""
    return get(url + "?" + urlencode(plist), expect="tiff", **kw)
