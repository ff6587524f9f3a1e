"""OpenStreetMap green areas and amenities: local .osm / .osm.pbf / GeoJSON / GPKG, or osmnx online."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .._errors import InputDataError
from .._vocab import TARGET_CRS, WGS84
from ..io import atomic_write
from ..provenance import ProvenanceRecord
from . import osm_network
from ._common import LICENCES, input_file, list_layers, read_vector, reading, to_target_crs

log = logging.getLogger(__name__)

#: Green tags (OSM leisure/landuse values counted as green, docs/methods.md#green-space) plus cemetery;
#: tag -> design.md ``kind``
GREEN_TAGS = {"leisure": ["park", "garden", "playground"],
              "landuse": ["grass", "forest", "recreation_ground", "meadow", "cemetery"],
              "natural": ["wood", "scrub"]}
GREEN_KINDS = ["park", "garden", "forest", "grass", "playground", "recreation_ground", "meadow", "wood",
               "scrub", "cemetery"]
#: amenity category -> list of (key, value) tags
AMENITY_TAGS = {
    "supermarket": [("shop", "supermarket")],
    "greengrocer": [("shop", "greengrocer")],
    "fast_food": [("amenity", "fast_food")],
    "gp": [("amenity", "doctors"), ("healthcare", "doctor")],
    "pharmacy": [("amenity", "pharmacy"), ("healthcare", "pharmacy")],
    "primary_school": [("amenity", "school")],
    "transit_stop": [("highway", "bus_stop"), ("railway", "tram_stop"), ("railway", "station"),
                     ("railway", "halt"), ("public_transport", "stop_position")],
    "sports": [("leisure", "sports_centre"), ("leisure", "pitch"), ("leisure", "fitness_centre"),
               ("leisure", "sports_hall")],
    "playground": [("leisure", "playground")],
}


def _amenity_query_tags() -> dict:
    tags: dict[str, list] = {}
    for pairs in AMENITY_TAGS.values():
        for k, v in pairs:
            tags.setdefault(k, [])
            if v not in tags[k]:
                tags[k].append(v)
    return tags


def _load(path, tags: dict, polygon=None) -> gpd.GeoDataFrame:
    """Features with ``tags`` from a local file, limited to ``polygon`` (EPSG:28992) when given."""
    if polygon is None:
        return _load_raw(path, tags, None)
    poly_wgs84 = gpd.GeoSeries([polygon], crs=TARGET_CRS).to_crs(WGS84).iloc[0]
    gdf = _load_raw(path, tags, poly_wgs84)
    if gdf.empty or gdf.crs is None:
        return gdf
    keep = gdf.to_crs(TARGET_CRS).intersects(polygon).to_numpy()
    return gdf[keep]


def _load_raw(path, tags: dict, polygon=None) -> gpd.GeoDataFrame:
    """Features with ``tags`` from a local file (OSM XML, PBF, GeoJSON/GPKG); polygon in WGS84."""
    if isinstance(path, gpd.GeoDataFrame):
        return path
    p = input_file(path, "osm")
    name = p.name.lower()
    if name.endswith(".osm.pbf") or name.endswith(".pbf"):
        try:
            import pyrosm
        except ImportError as e:  # pragma: no cover
            raise InputDataError("osm: reading .osm.pbf needs pyrosm (pip install pyrosm).") from e
        extra = ["name", "access", "garden:type", "isced:level"]
        with reading(p, "osm", "an OSM PBF extract"):
            osm = pyrosm.OSM(str(p))
            gdf = osm.get_data_by_custom_criteria(custom_filter={k: list(v) for k, v in tags.items()},
                                                  filter_type="keep", keep_nodes=True, keep_ways=True,
                                                  keep_relations=True, tags_as_columns=list(tags) + extra)
        if gdf is None:
            return gpd.GeoDataFrame(geometry=[], crs=WGS84)
        if "id" in gdf.columns and "osmid" not in gdf.columns:
            kind = gdf["osm_type"].astype(str).str[0] if "osm_type" in gdf.columns else ""
            gdf["osmid"] = kind + gdf["id"].astype(str)
        return gdf
    if name.endswith((".osm", ".xml", ".osm.bz2")):
        import osmnx as ox
        with reading(p, "osm", "OSM XML"):
            try:
                gdf = ox.features_from_xml(p, polygon=polygon, tags=tags)
            except ValueError as e:  # osmnx raises InsufficientResponseError when nothing matches
                if type(e).__name__ != "InsufficientResponseError":
                    raise
                return gpd.GeoDataFrame(geometry=[], crs=WGS84)
        gdf = gdf.reset_index()
        if "id" in gdf.columns:
            gdf["osmid"] = gdf["element"].astype(str).str[0] + gdf["id"].astype(str) if "element" in gdf.columns else gdf["id"]
        return gdf
    if p.suffix.lower() == ".gpkg":
        layers = list_layers(p, source="osm")
        want = "green" if "leisure" in tags and "park" in tags.get("leisure", []) else "amenities"
        if want in layers:
            return read_vector(p, source="osm", layer=want)
    return read_vector(p, source="osm")


def _tag(gdf, key):
    return gdf[key].astype("string") if key in gdf.columns else pd.Series(pd.NA, index=gdf.index, dtype="string")


def read_osm_green(path, *, crs=None, polygon=None) -> gpd.GeoDataFrame:
    """Green polygons (design.md ``green``): ``kind``, ``public``, ``name``, ``area_m2`` in EPSG:28992.

    ``polygon`` (EPSG:28992) limits the features to those intersecting it.

    ``path``: .osm XML (osmnx), .osm.pbf (pyrosm), or GeoJSON/GPKG with OSM tag columns or a
    ``kind`` column. ``public`` is False for ``access`` private/no and for gardens (private
    gardens are mapped as ``leisure=garden`` unless ``garden:type=community``/``access=yes``).
    """
    gdf = _load(path, GREEN_TAGS, polygon)
    src = str(path) if not isinstance(path, gpd.GeoDataFrame) else "osm green"
    if len(gdf) == 0:
        return gpd.GeoDataFrame({"kind": [], "public": [], "name": [], "area_m2": []}, geometry=[], crs=TARGET_CRS)
    gdf = to_target_crs(gdf, source=src, crs=crs)
    gdf = gdf[gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])].copy()
    if "kind" in gdf.columns:
        kind = gdf["kind"].astype("string")
    else:
        kind = pd.Series(pd.NA, index=gdf.index, dtype="string")
        for key, values in GREEN_TAGS.items():
            t = _tag(gdf, key)
            kind = kind.fillna(t.where(t.isin(values)))
    gdf["kind"] = kind
    gdf = gdf[gdf["kind"].isin(GREEN_KINDS)]
    access = _tag(gdf, "access").str.lower()
    private = access.isin(["private", "no", "customers"]).fillna(False)
    garden_public = (_tag(gdf, "garden:type").isin(["community", "botanical", "public"]) | access.isin(["yes", "public"])).fillna(False)
    if "public" in gdf.columns and gdf["public"].dtype == bool:
        public = gdf["public"]
    else:
        public = ~private & ~((gdf["kind"] == "garden") & ~garden_public)
    out = gpd.GeoDataFrame({"kind": gdf["kind"].astype(str).to_numpy(), "public": public.astype(bool).to_numpy(),
                            "name": _tag(gdf, "name").to_numpy()}, geometry=gdf.geometry.to_numpy(), crs=TARGET_CRS)
    out["area_m2"] = out.geometry.area
    return out


def read_osm_amenities(path, *, crs=None, polygon=None) -> gpd.GeoDataFrame:
    """Amenity points (design.md ``amenities``): ``category``, ``name``, ``osmid`` in EPSG:28992.

    Polygons (e.g. a supermarket mapped as a building) become their representative point.
    A feature matching several categories appears once per category.
    """
    gdf = _load(path, _amenity_query_tags(), polygon)
    src = str(path) if not isinstance(path, gpd.GeoDataFrame) else "osm amenities"
    if len(gdf) == 0:
        return gpd.GeoDataFrame({"category": [], "name": [], "osmid": []}, geometry=[], crs=TARGET_CRS)
    gdf = to_target_crs(gdf, source=src, crs=crs)
    osmid = gdf["osmid"].astype(str) if "osmid" in gdf.columns else pd.Series(gdf.index.astype(str), index=gdf.index)
    parts = []
    for cat, pairs in AMENITY_TAGS.items():
        if "category" in gdf.columns:
            m = gdf["category"] == cat
        else:
            m = pd.Series(False, index=gdf.index)
            for k, v in pairs:
                m |= (_tag(gdf, k) == v).fillna(False)
            if cat == "primary_school":
                isced = _tag(gdf, "isced:level")
                m &= (isced.isna() | isced.str.contains("1", regex=False)).fillna(True)
        sub = gdf[m.to_numpy()]
        if len(sub):
            parts.append(gpd.GeoDataFrame({"category": cat, "name": _tag(sub, "name").to_numpy(),
                                           "osmid": osmid[m.to_numpy()].to_numpy()},
                                          geometry=sub.geometry.representative_point().to_numpy(), crs=TARGET_CRS))
    if not parts:
        return gpd.GeoDataFrame({"category": [], "name": [], "osmid": []}, geometry=[], crs=TARGET_CRS)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=TARGET_CRS)


def download(name: str, spec: dict, *, area: dict, cache_dir: Path, boundary=None):
    """Green or amenity features inside the study area via osmnx ``features_from_polygon`` (Overpass).

    spec keys: ``theme`` (``green``, ``amenities`` or ``all``), ``buffer_m`` (default 1000 m, so
    parks and facilities just across the border count for the wards along it). With ``all`` the
    walk/cycle street network (every ``highway`` way within ``network_buffer_m``, default 2000 m)
    is stored in the same GeoPackage too, so ``snakemake fetch`` makes a later run fully offline.
    Needs ``boundary``.
    """
    import osmnx as ox

    theme = spec.get("theme", "all")
    if theme not in ("green", "amenities", "all"):
        raise InputDataError(f"osm: theme {theme!r} unknown; use 'green', 'amenities' or 'all'.")
    if boundary is None or len(boundary) == 0:
        raise InputDataError("osm: online download needs the study-area boundary (run the boundaries step first) "
                             "or give the OSM data as a local `file:`.")
    ox.settings.cache_folder = str(Path(cache_dir) / "osm" / "osmnx")
    ox.settings.use_cache = True
    out = Path(cache_dir) / "osm" / f"{name}_{theme}_{area['municipality']}.gpkg"
    themes = ["green", "amenities"] if theme == "all" else [theme]
    notes, layers = [], {}
    for th in themes:
        buf = float(spec.get("buffer_m", 1000))
        poly = boundary.to_crs(TARGET_CRS).union_all().buffer(buf)
        poly4326 = gpd.GeoSeries([poly], crs=TARGET_CRS).to_crs(WGS84).iloc[0]
        tags = GREEN_TAGS if th == "green" else _amenity_query_tags()
        raw = ox.features_from_polygon(poly4326, tags=tags).reset_index()
        raw["osmid"] = raw["element"].astype(str).str[0] + raw["id"].astype(str)
        layers[th] = read_osm_green(raw) if th == "green" else read_osm_amenities(raw)
        notes.append(f"{len(layers[th])} {th} (tags {tags})")
    network = None
    if theme == "all":
        poly = boundary.to_crs(TARGET_CRS).union_all().buffer(float(spec.get("network_buffer_m", 2000)))
        network = osm_network.read_overpass(gpd.GeoSeries([poly], crs=TARGET_CRS).to_crs(WGS84).iloc[0])
        notes.append(f"street network: {len(network[0])} nodes, {len(network[1])} way segments "
                     "(osmnx graph_from_polygon, all highway ways)")
    with atomic_write(out) as tmp:  # one GPKG, one layer per theme (+ the street network tables)
        for th, gdf in layers.items():
            gdf.to_file(tmp, layer=th, driver="GPKG", engine="pyogrio")
        if network is not None:
            osm_network.write_network_layers(*network, tmp)
    return out, [ProvenanceRecord.for_file(name, out, provider="osm", url=ox.settings.overpass_url,
                                           licence=LICENCES["osm"],
                                           note="osmnx features_from_polygon; " + "; ".join(notes))]
