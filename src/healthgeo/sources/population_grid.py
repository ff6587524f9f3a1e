"""CBS 100 m population grid (Vierkantstatistieken): reader for the 2018 and newer schemas."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np

from .._errors import SchemaDriftError
from .._http import get
from .._vocab import TARGET_CRS, mask_sentinels
from ..plausibility import check_columns
from ..provenance import ProvenanceRecord
from ._common import LICENCES, extract_zip_member, read_vector, rebase_url, to_target_crs

log = logging.getLogger(__name__)

#: CBS release zip, e.g. 2025-cbs_vk100_2024_v1.zip (first release) or 2024-cbs_vk100_2021_vol.zip (final)
VK100_URL = "https://download.cbs.nl/vierkant/100/{release}.zip"

# standardised -> candidates (2018 upper case; newer snake_case)
_COLS = {
    "cell_id": ["C28992R100", "crs28992res100m", "c28992r100"],
    "residents": ["INWONER", "aantal_inwoners"],
    "residents_0_14": ["INW_014", "aantal_inwoners_0_tot_15_jaar"],
    "residents_65_plus": ["INW_65PL", "aantal_inwoners_65_jaar_en_ouder"],
    "households": ["AANTAL_HH", "aantal_part_huishoudens"],
    "dwellings": ["WONING", "aantal_woningen"],
}


def read_population_grid(path, *, layer: str | None = None, secret_as: str = "nan") -> gpd.GeoDataFrame:
    """CBS 100 m cells (EPSG:28992) with ``cell_id``, ``residents``, ``residents_0_14``,
    ``residents_65_plus``, ``households``, ``dwellings``.

    CBS secrecy codes (-99997 etc.) become NaN (``secret_as="nan"``) or 0 (``"zero"``), with a log
    line counting them. Cells with residents NaN are kept (they are inhabited, 1-4 residents).
    """
    if isinstance(path, gpd.GeoDataFrame):
        gdf, src = path, "vk100"
    else:
        gdf, src = read_vector(path, source="cbs_vk100", layer=layer), str(path)
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    found = {k: next((c for c in v if c in cols), None) for k, v in _COLS.items()}
    if found["residents"] is None:
        raise SchemaDriftError(src, ["INWONER (2018 schema) or aantal_inwoners (2019+)"], cols)
    gdf = to_target_crs(gdf, source=src)
    out = gpd.GeoDataFrame(geometry=gdf.geometry.to_numpy(), crs=TARGET_CRS)
    out["cell_id"] = gdf[found["cell_id"]].to_numpy() if found["cell_id"] else np.arange(len(gdf)).astype(str)
    for k in ("residents", "residents_0_14", "residents_65_plus", "households", "dwellings"):
        if found[k] is None:
            out[k] = np.nan
            continue
        raw = gdf[found[k]]
        v, n_secret = mask_sentinels(raw)
        if n_secret:
            log.info("%s: %s: %d cell(s) with CBS secrecy code -> %s", src, found[k], n_secret, secret_as)
        sec = v.isna().to_numpy() & raw.notna().to_numpy()
        out[k] = np.where(sec, 0.0 if secret_as == "zero" else np.nan, v.to_numpy())
    check_columns(out, {k: "count" for k in ("residents", "residents_0_14", "residents_65_plus", "households",
                                             "dwellings")}, source=src)
    return out[["cell_id", "residents", "residents_0_14", "residents_65_plus", "households", "dwellings", "geometry"]]


def download(name: str, spec: dict, *, area: dict, cache_dir: Path, boundary=None):
    """Download a CBS vk100 release zip and extract its GPKG.

    spec keys: ``year``, ``release`` (zip stem on download.cbs.nl, default
    ``{year + 1}-cbs_vk100_{year}_v1``; final releases are named like ``2024-cbs_vk100_2021_vol``),
    ``url`` (full override), ``base_url`` (tests).
    """
    year = int(spec.get("year") or area.get("year"))
    release = spec.get("release") or f"{year + 1}-cbs_vk100_{year}_v1"
    url = spec.get("url") or rebase_url(VK100_URL.format(release=release), spec.get("base_url"))
    resp = get(url, provider="cbs_vk100", cache_dir=cache_dir, expect="zip", timeout=spec.get("timeout", 600),
               max_retries=spec.get("max_retries", 5))
    dest = Path(cache_dir) / "cbs_vk100" / f"cbs_vk100_{year}.gpkg"
    extract_zip_member(resp.path, dest, suffixes=(".gpkg",), provider="cbs_vk100", url=resp.url)
    return dest, [ProvenanceRecord.for_file(name, dest, provider="cbs_vk100", url=resp.url,
                                            licence=LICENCES["cbs_vk100"], note=f"release {release}")]
