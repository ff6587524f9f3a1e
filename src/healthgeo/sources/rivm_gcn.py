"""RIVM GCN yearly concentration maps (1 km Esri ASCII grids, RD New without a .prj)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS

from .._errors import CRSError, InputDataError
from .._http import get
from .._vocab import RASTER_NODATA_SENTINELS, TARGET_CRS
from ..provenance import ProvenanceRecord
from ._common import LICENCES, extract_zip_member, input_file, reading, rebase_url

log = logging.getLogger(__name__)

GCN_URL = "https://data.rivm.nl/data/gcn/conc_{pollutant}_{year}.zip"
POLLUTANTS = ("no2", "pm10", "pm25")


def read_gcn_ascii(path, *, crs: str = TARGET_CRS):
    """Read a GCN ``.asc`` grid; return ``(array with NaN for nodata, rasterio profile)``.

    GCN files carry no CRS; RD New (EPSG:28992) is assigned (``crs``). The profile is ready for
    writing a GeoTIFF (``rasterio.open(out, "w", **profile)``) with nodata NaN.
    """
    path = input_file(path, "rivm_gcn")
    with reading(path, "rivm_gcn", "an Esri ASCII grid"), rasterio.open(path) as src:
        arr = src.read(1, masked=True).astype("float64")
        profile = src.profile.copy()
        src_crs = src.crs
    if src_crs is None:
        if crs is None:
            raise CRSError(f"{path}: the grid has no CRS; pass crs='EPSG:28992' (GCN is RD New by convention).")
        log.info("%s: no CRS in the file; assigning %s (GCN convention)", path.name, crs)
        src_crs = CRS.from_user_input(crs)
    data = arr.filled(np.nan)
    data[data <= max(RASTER_NODATA_SENTINELS)] = np.nan  # -999 and -3.4e38 (undeclared nodata)
    profile.update(driver="GTiff", dtype="float64", nodata=np.nan, crs=src_crs, count=1)
    if np.isnan(data).all():
        raise InputDataError(f"{path}: the grid holds nodata only.")
    return data, profile


def download(name: str, spec: dict, *, area: dict, cache_dir: Path, boundary=None):
    """Download ``conc_{pollutant}_{year}.zip`` and extract its ``.asc``.

    spec keys: ``year``, ``pollutant`` (no2/pm10/pm25), ``base_url`` (tests).
    """
    year = int(spec.get("year") or area.get("year"))
    pol = str(spec.get("pollutant", "no2")).lower().replace(".", "")
    if pol not in POLLUTANTS:
        raise InputDataError(f"rivm_gcn: pollutant {pol!r} unknown; use one of {POLLUTANTS}.")
    url = rebase_url(GCN_URL.format(pollutant=pol, year=year), spec.get("base_url"))
    resp = get(url, provider="rivm_gcn", cache_dir=cache_dir, expect="zip",
               max_retries=spec.get("max_retries", 5), timeout=spec.get("timeout", 300))
    dest = Path(cache_dir) / "rivm_gcn" / f"conc_{pol}_{year}.asc"
    extract_zip_member(resp.path, dest, suffixes=(".asc",), provider="rivm_gcn", url=resp.url)
    return dest, [ProvenanceRecord.for_file(name, dest, provider="rivm_gcn", url=resp.url,
                                            licence=LICENCES["rivm_gcn"],
                                            note=f"extracted from {resp.path.name}; no CRS in file, EPSG:28992 assigned")]
