"""BAG dwellings (verblijfsobjecten with woonfunctie): PDOK OGC API download and local GPKG reader."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .._errors import SchemaDriftError
from .._http import get_all_items
from .._vocab import CRS_28992_URI, TARGET_CRS
from ._common import (check_rd_new, list_layers, prov_for_responses, read_vector, rebase_url, study_bbox,
                      to_target_crs, write_geojson)

log = logging.getLogger(__name__)

OGC_URL = "https://api.pdok.nl/lv/bag/ogc/v1/collections/verblijfsobject/items"
#: statuses of objects that are not (or no longer) dwellings in use
NOT_IN_USE = ("ingetrokken", "niet gerealiseerd", "buiten gebruik", "ten onrechte opgevoerd")


def read_dwellings(path, *, layer: str | None = None, crs=None, in_use_only: bool = True) -> gpd.GeoDataFrame:
    """Dwellings as points (EPSG:28992): ``identificatie``, ``oppervlakte``, ``status``.

    Keeps verblijfsobjecten whose ``gebruiksdoel`` contains ``woonfunctie`` and, by default, drops
    those whose ``status`` says withdrawn / not realised / out of use / wrongly registered. Accepts a BAG GPKG (``verblijfsobject`` layer of
    bag-light) or the GeoJSON written by the OGC API download.
    """
    if isinstance(path, gpd.GeoDataFrame):
        gdf, src = path, "bag"
    else:
        p = Path(path)
        src = str(p)
        if layer is None and p.suffix.lower() == ".gpkg":
            layers = list_layers(p, source="bag")
            layer = "verblijfsobject" if "verblijfsobject" in layers else layers[0]
        gdf = read_vector(p, source="bag", layer=layer)
    need = ["identificatie", "gebruiksdoel"]
    if any(c not in gdf.columns for c in need):
        raise SchemaDriftError(src, need + ["oppervlakte", "status"], [c for c in gdf.columns if c != "geometry"])
    gdf = to_target_crs(gdf, source=src, crs=crs)
    doel = gdf["gebruiksdoel"].astype(str).str.lower()
    keep = doel.str.contains("woonfunctie")
    if in_use_only and "status" in gdf.columns:
        status = gdf["status"].astype(str).str.lower()
        keep &= ~status.str.contains("|".join(NOT_IN_USE), regex=True)
    out = gdf[keep.to_numpy()].copy()
    out["geometry"] = out.geometry.representative_point() if not out.empty and (out.geom_type != "Point").any() else out.geometry
    cols = [c for c in ("identificatie", "oppervlakte", "status", "gebruiksdoel") if c in out.columns]
    out = out[cols + ["geometry"]].reset_index(drop=True)
    if "oppervlakte" in out.columns:
        out["oppervlakte"] = pd.to_numeric(out["oppervlakte"], errors="coerce")
    log.info("%s: %d dwellings (woonfunctie%s) of %d objects", src, len(out), ", in use" if in_use_only else "", len(gdf))
    return gpd.GeoDataFrame(out, geometry="geometry", crs=TARGET_CRS)


def download(name: str, spec: dict, *, area: dict, cache_dir: Path, boundary=None):
    """Verblijfsobjecten in the study area's bbox from PDOK BAG OGC API (paged, EPSG:28992).

    spec keys: ``bbox`` (override), ``base_url`` (tests). The reader filters to dwellings.
    """
    x0, y0, x1, y1 = study_bbox(area, boundary, spec.get("bbox"), buffer=0)
    url = rebase_url(OGC_URL, spec.get("base_url"))
    params = {"bbox": f"{x0},{y0},{x1},{y1}", "bbox-crs": CRS_28992_URI, "crs": CRS_28992_URI,
              "f": "json", "limit": 1000}
    feats, resps = get_all_items(url, style="ogc", params=params, provider="bag", cache_dir=cache_dir,
                                 max_retries=spec.get("max_retries", 5))
    out = Path(cache_dir) / "bag" / f"{name}_{area['municipality']}_{x0}_{y0}_{x1}_{y1}.geojson"
    check_rd_new(feats, "bag verblijfsobjecten", resps)
    write_geojson(feats, out)
    return out, prov_for_responses(name, "bag", resps, out, note=f"{len(feats)} verblijfsobjecten")
