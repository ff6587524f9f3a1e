"""Walk and cycle accessibility per ward from the OpenStreetMap network.

Pipeline
--------
1. :func:`build_graph` reads a local OSM XML file (osmnx ``graph_from_xml``), an ``.osm.pbf``
   (pyrosm) or Overpass (osmnx ``graph_from_polygon``), applies healthgeo's own Dutch tag filter
   (:data:`healthgeo._graph.FILTER_DOC`, not osmnx's ``network_type="walk"`` filter, which
   mishandles separately mapped sidewalks and shared foot/cycle paths), projects to EPSG:28992,
   keeps the largest strongly connected component and compresses the graph to a
   ``scipy.sparse`` CSR matrix of edge lengths in metres. The other components are kept as
   *network islands* (a WARNING with counts); when the largest keeps less than
   ``min_component_share`` (config ``network.min_component_share``, 90 %) of the nodes the run
   fails with the figures.
2. :func:`home_access` (via :func:`home_distances`) snaps every home and destination ONCE per
   mode to the nearest graph node with a k-d tree (``scipy.spatial.cKDTree``) on the nodes, which
   include sample points inserted every ``densify_m`` (30 m) along long segments. Homes farther
   than ``max_snap_m`` from any street, or whose nearest street is an island, are flagged and
   left out. For each destination type ONE multi-source Dijkstra pass over the whole graph (on
   the reversed graph, so directed cycle graphs give home -> destination) gives
   ``snap(home) + graph distance + snap(destination)`` for every home; every distance is checked
   to be >= the straight-line distance to the nearest destination.
3. :meth:`HomeAccess.accessibility` and :meth:`HomeAccess.walkability` aggregate those per-home
   distances to any ward level (buurt, wijk, gemeente) without touching the graph again;
   :func:`cycleway_share` sums street lengths. Each returns ``(DataFrame, docs)``
   (``walkability`` also its reference table); :func:`accessibility` and :func:`walkability`
   do both steps for one level.

Honest coverage: every accessibility aggregate states the share of residents it is computed
over (``access_{mode}_covered_frac``); a destination type without any destination in the
input keeps its columns, NULL with ``{type}_access_nan_reason``; street lengths and
intersection densities count island streets too, and are NULL with a reason for wards outside
the extent of the OSM input (:func:`osm_extent`).

Polygon destinations (public green) are reached at *entrances*: nodes inside the polygon within
``entrance_tol_m`` of its boundary, and the inside end of every network piece crossing the
boundary; a polygon with neither is reached at nodes within ``adjacent_tol_m`` (30 m, the
distance GHSCI uses for public-open-space entry points) of its boundary (a street along its edge).

Methods, defaults and sources: docs/methods.md#network-distances, docs/methods.md#travel-speeds,
docs/methods.md#accessibility-indicators, docs/methods.md#15-minute-completeness,
docs/methods.md#food-environment, docs/methods.md#walkability-index and
docs/methods.md#cycling-infrastructure.
"""

from __future__ import annotations

import numbers
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import ConfigError, CRSError, HealthgeoError, InputDataError
from ._green import public_green_parts
from ._vocab import TARGET_CRS
from ._graph import (FILTER_DOC, WHEELCHAIR_MAX_INCLINE_PCT, Network, access, counts_within, from_segments,
                     multi_source, node_barriers, sub_network)
from .dictionary import GHSCI, WHO_GREEN_2017, ColumnDoc, doc
from .sources.osm_network import NETWORK_LAYERS, read_network_gpkg, read_osm_xml, read_overpass, read_pbf

__all__ = [
    "Network", "build_graph", "build_graphs", "graph_from_frames", "graph_from_lines",
    "home_distances", "green_destinations", "accessibility", "walkability", "cycleway_share",
    "intersections", "weighted_quantile", "DEFAULT_SPEEDS", "DEFAULT_ESSENTIAL",
    "DEFAULT_DAILY_LIVING", "DEFAULT_WALKABILITY_REFERENCE", "AMENITY_CATEGORIES", "GREEN_TYPES",
    "HomeAccess", "home_access", "config_kwargs", "CONFIG_KEYS", "entrances", "split_destinations",
    "osm_extent", "extent_covered_frac", "graphs_from_frames", "sub_distances", "MODES",
    "WHEELCHAIR_DESTINATIONS",
]

log = logging.getLogger(__name__)
CRS = TARGET_CRS

# --- citations --------------------------------------------------------------------------------
BOHANNON_2011 = ("Bohannon & Andrews (2011), Normal walking speed: a descriptive meta-analysis, "
                 "Physiotherapy 97(3):182-189, doi:10.1016/j.physio.2010.12.004")
FIETSTELWEEK = ("Fietsersbond, Nationale Fietstelweek 2015/2016 GPS data: mean urban cycling speeds "
                "14.4 km/h (Amsterdam) to 16.9 km/h (Arnhem), as reported by NL Times 2016-11-08")
KARMARKAR_2011 = ("Karmarkar, Cooper, Wang, Kelleher & Cooper (2011), Analyzing wheelchair mobility patterns "
                  "of community-dwelling older adults, J Rehabil Res Dev 48(9):1077-1086, "
                  "https://www.rehab.research.va.gov/jour/11/489/karmarkar489.html")
MORENO_2021 = ("Moreno et al. (2021), Introducing the '15-minute city', Smart Cities 4(1):93-111")
OSM = "OpenStreetMap contributors (ODbL 1.0), walk/cycle network"

#: Default travel speeds in m/s (keys: walk, bike, and ``_65plus`` / ``_children`` variants).
DEFAULT_SPEEDS: dict[str, float] = {
    # 1.33 m/s = 4.8 km/h: comfortable gait speed of adults < 60 is 1.3-1.43 m/s (Bohannon 2011)
    "walk": 1.33,
    # 1.0 m/s: between the 70-79 (~1.1-1.3 m/s) and 80-99 (0.94-0.97 m/s) strata (Bohannon 2011)
    "walk_65plus": 1.0,
    "walk_children": 1.33,
    # 15 km/h: typical Dutch urban cycling speed (Fietstelweek)
    "bike": 15 / 3.6,
    "bike_65plus": 15 / 3.6,
    "bike_children": 15 / 3.6,
    # 0.9 m/s: between the manual (0.64-0.76 m/s) and power (0.7-0.9 m/s) wheelchair averages
    # logged among older users (Karmarkar 2011); docs/methods.md#wheelchair-network
    "wheelchair": 0.9,
    "wheelchair_65plus": 0.9,
}
SPEED_SOURCES = {
    "walk": BOHANNON_2011 + " (comfortable gait speed of adults under 60: 1.3-1.43 m/s)",
    "walk_65plus": BOHANNON_2011 + " (70-79: about 1.1-1.3 m/s; 80-99: 0.94-0.97 m/s; 1.0 m/s chosen "
                   "as a conservative value for all 65+)",
    "walk_children": "assumption: adult walking speed (no separate evidence used)",
    "bike": FIETSTELWEEK,
    "bike_65plus": FIETSTELWEEK + "; assumption: no age difference (e-bike use is common among "
                   "Dutch older adults)",
    "bike_children": FIETSTELWEEK + "; assumption: no age difference",
    "wheelchair": KARMARKAR_2011 + " (data-logged mean speeds of older wheelchair users: manual 0.64 m/s at "
                  "home and in the community, 0.76 m/s at an event; power 0.7-0.9 m/s); 0.9 m/s assumed for a "
                  "continuous trip outdoors (the logged means include short indoor moves)",
    "wheelchair_65plus": KARMARKAR_2011 + " (participants were older adults); same speed as all wheelchair users",
}

AMENITY_CATEGORIES = ("supermarket", "greengrocer", "fast_food", "gp", "pharmacy", "primary_school",
                      "transit_stop", "sports", "playground")
#: polygon destination types made from the green layer: "park" = public green area >= 1 ha of
#: any kind (park, forest, grass, ...; WHO Europe 2017), "green" = any public green area. A
#: public green area is the union of touching polygons with ``public`` true (NaN = not public),
#: the rule :func:`healthgeo.exposure.green_exposure` uses (:mod:`healthgeo._green`)
GREEN_TYPES = ("park", "green")
#: labels of the destination types and modes in the catalog (en, nl)
DESTINATION_LABELS = {
    "supermarket": ("supermarket", "supermarkt"), "greengrocer": ("greengrocer", "groenteboer"),
    "fast_food": ("fast food", "fastfood"), "gp": ("GP", "huisarts"), "pharmacy": ("pharmacy", "apotheek"),
    "primary_school": ("primary school", "basisschool"), "transit_stop": ("transit stop", "ov-halte"),
    "sports": ("sports facility", "sportvoorziening"), "playground": ("playground", "speeltuin"),
    "park": ("park (>= 1 ha)", "park (>= 1 ha)"), "green": ("public green", "openbaar groen"),
}
MODE_LABELS = {"walk": ("walking", "lopend"), "bike": ("cycling", "fietsend"),
               "wheelchair": ("by wheelchair", "per rolstoel")}
#: network modes: walk, bike and wheelchair (a sub-network of walk, docs/methods.md#wheelchair-network)
MODES = ("walk", "bike", "wheelchair")
#: destination types with wheelchair accessibility columns (and the gap versus walking)
WHEELCHAIR_DESTINATIONS = ("gp", "pharmacy", "supermarket", "transit_stop", "park")
_WHO_LABELS = {"": ("", ""), "_65plus": (", 65+", ", 65+"), "_children": (", children", ", kinderen")}


def _dest_label(name: str) -> tuple[str, str]:
    return DESTINATION_LABELS.get(name, (name.replace("_", " "), name.replace("_", " ")))
CHILD_DESTINATIONS = ("playground", "primary_school")
FOOD_OUTLETS = ("supermarket", "greengrocer", "fast_food")
#: 15-minute city essentials; "a|b" = either category counts
DEFAULT_ESSENTIAL = ("supermarket|greengrocer", "gp", "pharmacy", "primary_school", "transit_stop",
                     "green")
#: categories of the walkability daily-living score (reached within the GHSCI 500 m access threshold)
DEFAULT_DAILY_LIVING = ("supermarket|greengrocer", "transit_stop", "gp", "pharmacy", "primary_school")
#: Fixed reference values (mean, sd) for the walkability z-scores. Provisional values chosen
#: for Dutch urban buurten, NOT estimated from a national sample: replace them with reference
#: values computed once over all Dutch buurten and keep them fixed across runs.
DEFAULT_WALKABILITY_REFERENCE = {
    "daily_living_score": (3.0, 1.5),
    "pop_density_per_km2": (6000.0, 4000.0),
    "intersection_density_per_km2": (100.0, 50.0),
}

#: keys of the config's ``network`` section (``config.schema.yaml``) read by :func:`config_kwargs`
CONFIG_KEYS = ("walk_speed_mps", "walk_speed_65plus_mps", "bike_speed_kmh", "minutes", "thresholds_m",
               "max_snap_m", "green_min_area_m2", "walkability_reference", "walkability_radius_m",
               "min_component_share", "modes", "wheelchair_speed_mps", "wheelchair_max_incline_pct")


def config_kwargs(section: Mapping | None) -> dict[str, dict]:
    """Keyword arguments from the config's ``network`` section - the one place it is translated.

    Returns ``{"graph": ..., "home": ..., "access": ..., "walkability": ..., "modes": ...}`` for
    :func:`build_graphs`, :func:`home_access`, :meth:`HomeAccess.accessibility`,
    :meth:`HomeAccess.walkability` and the modes to build (walk and bike always, wheelchair when
    listed in ``modes``); only keys present in
    ``section`` are passed on, so missing keys take the functions' defaults. The walking speed
    also applies to children, the cycling speed (km/h -> m/s) to every age group.
    """
    p = dict(section or {})
    unknown = sorted(set(p) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(f"network parameters: unknown key(s) {unknown}; allowed: {list(CONFIG_KEYS)} "
                          "(the config's network section)")
    graph = {k: p[k] for k in ("min_component_share",) if k in p}
    if "wheelchair_max_incline_pct" in p:
        graph["wheelchair_max_incline_pct"] = float(p["wheelchair_max_incline_pct"])
    bad = [m for m in p.get("modes") or () if m not in MODES]
    if bad:
        raise ConfigError(f"network.modes: unknown mode(s) {bad}; allowed: {list(MODES)}")
    modes = tuple(dict.fromkeys(["walk", "bike", *(p.get("modes") or ())]))
    home = {k: p[k] for k in ("max_snap_m", "green_min_area_m2") if k in p}
    access: dict = {}
    speeds = {}
    if "walk_speed_mps" in p:
        speeds["walk"] = speeds["walk_children"] = float(p["walk_speed_mps"])
    if "walk_speed_65plus_mps" in p:
        speeds["walk_65plus"] = float(p["walk_speed_65plus_mps"])
    if "bike_speed_kmh" in p:
        speeds["bike"] = speeds["bike_65plus"] = speeds["bike_children"] = float(p["bike_speed_kmh"]) / 3.6
    if "wheelchair_speed_mps" in p:
        speeds["wheelchair"] = speeds["wheelchair_65plus"] = float(p["wheelchair_speed_mps"])
    if speeds:
        access["speeds"] = speeds
    if "thresholds_m" in p:
        access["thresholds"] = tuple(p["thresholds_m"])
    if "minutes" in p:
        access["minutes"] = p["minutes"]
    walk: dict = {}
    if "walkability_radius_m" in p:
        walk["radius_m"] = p["walkability_radius_m"]
    if p.get("walkability_reference"):
        walk["reference"] = {k: tuple(v) for k, v in p["walkability_reference"].items()}
    return {"graph": graph, "home": home, "access": access, "walkability": walk, "modes": modes}


# ==============================================================================================
# building graphs (the OSM files are read by healthgeo.sources.osm_network)
# ==============================================================================================
def graph_from_frames(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    mode: str,
    *,
    crs="EPSG:4326",
    boundary=None,
    densify_m: float | None = 30.0,
    min_component_share: float | None = 0.9,
    wheelchair_max_incline_pct: float = WHEELCHAIR_MAX_INCLINE_PCT,
) -> Network:
    """Build a :class:`Network` from a node table and a table of tagged way segments.

    Parameters
    ----------
    nodes
        Indexed by node id, columns ``x``, ``y`` in ``crs``; optional node tag columns
        (``kerb``, ``wheelchair``, ``barrier``) for the wheelchair network.
    edges
        One row per way segment: ``u``, ``v`` (node ids, in the way's node order), OSM tag
        columns (``highway``, ``foot``, ``bicycle``, ``access``, ``oneway``, ...), optional
        ``osmid`` (way id). Optional ``fwd``/``bwd`` bool columns bypass the tag filter.
    mode
        ``"walk"``, ``"bike"`` or ``"wheelchair"`` (the walk network without the segments the
        wheelchair filter excludes, on the same nodes: :func:`healthgeo._graph.sub_network`).
    crs
        CRS of the node coordinates; they are projected to EPSG:28992.
    boundary
        Optional (Multi)Polygon in EPSG:28992: segments with an end outside are dropped.
    densify_m
        Maximum spacing of the graph's nodes along edges (m); ``None`` = OSM nodes only.
    min_component_share
        Smallest share of the nodes the largest connected component must keep
        (:func:`healthgeo._graph.from_segments`); ``None`` accepts any (for the wheelchair
        network: of the walk network it is cut from).
    wheelchair_max_incline_pct
        Steepest ``incline`` (%, either direction) the wheelchair network keeps.
    """
    return graphs_from_frames(nodes, edges, (mode,), crs=crs, boundary=boundary, densify_m=densify_m,
                              min_component_share=min_component_share,
                              wheelchair_max_incline_pct=wheelchair_max_incline_pct)[mode]


def graphs_from_frames(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    modes: Iterable[str],
    *,
    crs="EPSG:4326",
    boundary=None,
    densify_m: float | None = 30.0,
    min_component_share: float | None = 0.9,
    wheelchair_max_incline_pct: float = WHEELCHAIR_MAX_INCLINE_PCT,
) -> dict[str, Network]:
    """:func:`graph_from_frames` for several modes; the wheelchair network is cut from the walk one."""
    modes = tuple(modes)
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise ConfigError(f"modes must be among {list(MODES)}, got {bad}")
    if not (isinstance(wheelchair_max_incline_pct, numbers.Real) and wheelchair_max_incline_pct >= 0):
        raise ConfigError(f"wheelchair_max_incline_pct={wheelchair_max_incline_pct!r} must be a number >= 0 "
                          "(percent, e.g. 5 for 1:20)")
    nodes = _unique_nodes(nodes)
    x, y = nodes["x"].to_numpy(float), nodes["y"].to_numpy(float)
    if crs is None:
        raise CRSError("node coordinates have no CRS: pass crs= (e.g. 'EPSG:4326').")
    from pyproj import CRS as _CRS, Transformer

    if _CRS.from_user_input(crs) != _CRS.from_user_input(CRS):
        x, y = Transformer.from_crs(crs, CRS, always_xy=True).transform(x, y)
        x, y = np.asarray(x, float), np.asarray(y, float)
    pos = pd.Series(np.arange(len(nodes)), index=nodes.index)
    edges = edges.reset_index(drop=True)
    ok = edges["u"].isin(pos.index) & edges["v"].isin(pos.index)
    if (~ok).any():
        log.warning("%d segment(s) refer to nodes missing from the extract; dropped", int((~ok).sum()))
        edges = edges.loc[ok].reset_index(drop=True)
    segs = edges.copy()
    segs["u"] = pos.loc[edges["u"]].to_numpy()
    segs["v"] = pos.loc[edges["v"]].to_numpy()
    if boundary is not None:
        inside = shapely.contains_xy(boundary, x, y)
        keep = inside[segs["u"].to_numpy()] & inside[segs["v"].to_numpy()]
        log.info("boundary: kept %d of %d segments", int(keep.sum()), len(segs))
        segs = segs.loc[keep].reset_index(drop=True)
    osmid = nodes.index.to_numpy() if np.issubdtype(nodes.index.dtype, np.integer) else None
    out = {}
    for m in dict.fromkeys(["walk" if m == "wheelchair" else m for m in modes]):
        out[m] = from_segments(x, y, segs, m, osmid=osmid, densify_m=densify_m,
                               min_component_share=min_component_share)
    if "wheelchair" in modes:
        walk = out["walk"]
        if "node_barrier" not in segs.columns:
            blocked = node_barriers(nodes)
            segs["node_barrier"] = blocked[segs["u"].to_numpy()] | blocked[segs["v"].to_numpy()]
        rows = walk.segments["tag_row"].to_numpy()
        ok, _ = access(segs.iloc[rows].reset_index(drop=True), "wheelchair",
                       max_incline_pct=wheelchair_max_incline_pct)
        out["wheelchair"] = sub_network(walk, ok, "wheelchair")
    return {m: out[m] for m in modes}


def _unique_nodes(nodes: pd.DataFrame) -> pd.DataFrame:
    """Drop repeated node rows; refuse ids repeated with different coordinates.

    An id listed twice at one position (e.g. a node in two tiles of an extract) is one node;
    at two positions, keeping either would silently move every segment using it.
    """
    dup = nodes.index.duplicated(keep=False)
    if not dup.any():
        return nodes
    xy = nodes.loc[dup, ["x", "y"]]
    moved = xy.groupby(level=0).nunique(dropna=False).gt(1).any(axis=1)
    if moved.any():
        ids = moved.index[moved.to_numpy()].tolist()
        raise InputDataError(
            f"{len(ids)} node id(s) {ids[:10]}{' ...' if len(ids) > 10 else ''} appear more than once "
            "with different coordinates, so the segments using them are ambiguous. Node ids must be "
            "unique: re-export the OSM extract (e.g. `osmium merge` / `osmium sort` instead of "
            "concatenating files) or renumber the nodes.")
    log.info("%d repeated node row(s) with identical coordinates dropped", int(nodes.index.duplicated().sum()))
    return nodes[~nodes.index.duplicated()]


_GEOFABRIK_ONEWAY = {"F": "yes", "T": "-1", "B": "no"}


def graph_from_lines(
    lines: gpd.GeoDataFrame,
    mode: str,
    *,
    densify_m: float | None = 30.0,
    largest_scc: bool = True,
    precision_m: float = 0.01,
    min_component_share: float | None = 0.9,
) -> Network:
    """Build a :class:`Network` from street LineStrings (e.g. Geofabrik ``gis_osm_roads_free``).

    Lines are split at every vertex; vertices closer than ``precision_m`` are merged so
    lines sharing an end point connect. Tag columns as in OSM (``highway``, ``foot``, ...);
    Geofabrik's ``fclass`` stands in for a missing ``highway`` and its ``oneway`` codes
    F/T/B become yes/-1/no (line direction = way direction).
    """
    lines = _to_rd(lines, "lines").explode(index_parts=False).reset_index(drop=True)
    lines = lines[lines.geom_type == "LineString"]
    tags = pd.DataFrame(lines.drop(columns="geometry"))
    if "highway" not in tags.columns and "fclass" in tags.columns:
        tags["highway"] = tags["fclass"]
    if "oneway" in tags.columns:
        tags["oneway"] = tags["oneway"].map(lambda o: _GEOFABRIK_ONEWAY.get(o, o))
    coords, line_idx = shapely.get_coordinates(lines.geometry.to_numpy(), return_index=True)
    keyxy = np.round(coords / precision_m).astype(np.int64)
    uniq, node = np.unique(keyxy, axis=0, return_inverse=True)
    node = node.ravel()
    same = line_idx[1:] == line_idx[:-1]
    a, b = node[:-1][same], node[1:][same]
    segs = tags.iloc[line_idx[:-1][same]].reset_index(drop=True)
    segs["u"], segs["v"] = a, b
    xy = uniq * precision_m
    return from_segments(xy[:, 0].astype(float), xy[:, 1].astype(float), segs, mode,
                         densify_m=densify_m, largest_scc=largest_scc,
                         min_component_share=min_component_share)


def build_graph(source, mode: str, *, boundary=None, densify_m: float | None = 30.0,
                min_component_share: float | None = 0.9,
                wheelchair_max_incline_pct: float = WHEELCHAIR_MAX_INCLINE_PCT) -> Network:
    """Build the walk or cycle network.

    Parameters
    ----------
    source
        A local ``.osm``/``.xml`` file (osmnx ``graph_from_xml``), a ``.osm.pbf`` file (pyrosm),
        or a (Multi)Polygon / GeoDataFrame / GeoSeries in EPSG:28992 to download from Overpass
        (osmnx ``graph_from_polygon``; needs internet).
    mode
        ``"walk"`` (oneway ignored), ``"bike"`` (directed) or ``"wheelchair"`` (the walk network
        without steps, raised kerbs, rough surfaces and inclines steeper than
        ``wheelchair_max_incline_pct``; docs/methods.md#wheelchair-network).
    boundary
        Optional area (EPSG:28992 geometry or GeoDataFrame) to clip the network to; buffer it
        (e.g. 1 km) so destinations just outside the municipality stay reachable.
    densify_m
        Maximum node spacing along edges, so snapping to nodes is snapping to edge sample points.
    min_component_share
        The run fails when the largest connected component keeps less than this share of the
        nodes (config ``network.min_component_share``); ``None`` accepts any share.

    Returns
    -------
    Network
        Largest strongly connected component, EPSG:28992, lengths in metres; the rest as
        :attr:`Network.islands`.
    """
    return build_graphs(source, (mode,), boundary=boundary, densify_m=densify_m,
                        min_component_share=min_component_share,
                        wheelchair_max_incline_pct=wheelchair_max_incline_pct)[mode]


def build_graphs(source, modes: Iterable[str] = ("walk", "bike"), *, boundary=None,
                 densify_m: float | None = 30.0,
                 min_component_share: float | None = 0.9,
                 wheelchair_max_incline_pct: float = WHEELCHAIR_MAX_INCLINE_PCT) -> dict[str, Network]:
    """:func:`build_graph` for several modes, reading the OSM source once."""
    modes = tuple(modes)
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise ConfigError(f"modes must be among {list(MODES)}, got {bad}")
    boundary_geom = _as_geometry(boundary) if boundary is not None else None
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise InputDataError(f"OSM file {path} does not exist. Download an extract (e.g. "
                                 "Geofabrik utrecht-latest.osm.pbf) or give a polygon for Overpass.")
        name = path.name.lower()
        if name.endswith(".pbf"):
            bbox = None
            if boundary_geom is not None:
                bbox = list(gpd.GeoSeries([boundary_geom], crs=CRS).to_crs(4326).total_bounds)
            nodes, edges = read_pbf(path, bbox)
        elif name.endswith((".osm", ".xml")):
            nodes, edges = read_osm_xml(path)
        elif name.endswith(".gpkg"):  # downloaded by `snakemake fetch` (osm provider): offline from here on
            nodes, edges = read_network_gpkg(path)
        else:
            raise InputDataError(f"{path}: unknown OSM format; use .osm (XML), .osm.pbf or a fetched .gpkg.")
        log.info("read %d nodes and %d way segments from %s", len(nodes), len(edges), path)
    else:
        area = _as_geometry(source)
        poly = gpd.GeoSeries([area], crs=CRS).to_crs(4326).iloc[0]
        nodes, edges = read_overpass(poly)  # pragma: no cover
        if boundary_geom is None:  # pragma: no cover
            boundary_geom = area
    return graphs_from_frames(nodes, edges, modes, crs="EPSG:4326", boundary=boundary_geom,
                              densify_m=densify_m, min_component_share=min_component_share,
                              wheelchair_max_incline_pct=wheelchair_max_incline_pct)


def osm_extent(source) -> shapely.Geometry | None:
    """The area an OSM input covers, in EPSG:28992, or ``None`` when it cannot be told.

    An OSM XML file's ``<bounds>`` (or, without one, the convex hull of its nodes); a fetched
    GeoPackage's street-network nodes (convex hull); ``None`` for ``.osm.pbf`` files and anything
    else. Wards outside it get NULL street and green values with a reason instead of zeros.
    """
    path = Path(source)
    name = path.name.lower()
    lon: list[float] = []
    lat: list[float] = []
    if name.endswith((".osm", ".xml")):
        import xml.etree.ElementTree as ET

        try:
            for _, el in ET.iterparse(path, events=("start",)):
                if el.tag == "bounds":
                    b = [float(el.get(k)) for k in ("minlon", "minlat", "maxlon", "maxlat")]
                    return _wgs84_to_rd(shapely.box(*b))
                if el.tag == "node" and el.get("lon") is not None:
                    lon.append(float(el.get("lon")))
                    lat.append(float(el.get("lat")))
                elif el.tag in ("way", "relation"):
                    break  # nodes come first in an OSM file
        except ET.ParseError as e:
            raise InputDataError(f"{path}: not a readable OSM XML file ({e}); is it empty or "
                                 "truncated? Download the extract again.") from e
    elif name.endswith(".gpkg"):
        import pyogrio

        if set(NETWORK_LAYERS) <= {n for n, _ in pyogrio.list_layers(path)}:
            n = pyogrio.read_dataframe(path, layer=NETWORK_LAYERS[0], read_geometry=False)
            lon, lat = n["x"].tolist(), n["y"].tolist()
    if len(lon) < 3:
        log.info("%s: extent unknown; every ward counts as covered by it", path)
        return None
    return _wgs84_to_rd(shapely.MultiPoint(np.column_stack([lon, lat])).convex_hull)


def _wgs84_to_rd(geom):
    geom = shapely.segmentize(geom, 0.001)  # straight in degrees is curved in metres
    return gpd.GeoSeries([geom], crs="EPSG:4326").to_crs(CRS).iloc[0]


def extent_covered_frac(wards: gpd.GeoDataFrame, extent) -> np.ndarray:
    """Share of each ward's area inside ``extent`` (1 where ``extent`` is None)."""
    g = np.asarray(wards.geometry.values, dtype=object)
    if extent is None:
        return np.ones(len(g))
    area = shapely.area(g)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(area > 0, shapely.area(shapely.intersection(g, extent)) / area, np.nan)
    return np.clip(frac, 0.0, 1.0)


def _as_geometry(obj):
    if isinstance(obj, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if obj.crs is None:
            raise CRSError("the boundary has no CRS; set it (EPSG:28992 expected).")
        return obj.to_crs(CRS).union_all()
    if isinstance(obj, shapely.Geometry):
        return obj
    raise InputDataError(f"expected a path, a shapely geometry or a GeoDataFrame, got {type(obj)}")


# ==============================================================================================
# per-home distances
# ==============================================================================================
def _to_rd(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise CRSError(f"{what} has no CRS. Set it (e.g. gdf.set_crs('EPSG:28992')).")
    if not gdf.crs.equals(CRS):
        log.info("reprojecting %s from %s to EPSG:28992", what, gdf.crs.to_string())
        gdf = gdf.to_crs(CRS)
    return gdf


def _has_location(geoms: gpd.GeoSeries) -> np.ndarray:
    """True where a geometry exists, is not empty and has only finite coordinates."""
    g = np.asarray(geoms.values, dtype=object)
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    coords, idx = shapely.get_coordinates(g[ok], return_index=True)
    bad = np.unique(idx[~np.isfinite(coords).all(axis=1)])
    ok[np.flatnonzero(ok)[bad]] = False
    return ok


def _home_xy(homes: gpd.GeoDataFrame) -> np.ndarray:
    """(x, y) of every home; refuses homes without a location (they cannot be snapped)."""
    located = _has_location(homes.geometry)
    if not located.all():
        bad = homes.index[~located].tolist()
        raise InputDataError(
            f"{len(bad)} homes have no location (empty, missing or non-finite geometry): index "
            f"{bad[:10]}{' ...' if len(bad) > 10 else ''}. Drop or geocode them first, e.g. "
            "`homes[homes.geometry.notna() & ~homes.geometry.is_empty]`.")
    return np.column_stack([homes.geometry.x.to_numpy(), homes.geometry.y.to_numpy()])


def split_destinations(destinations) -> dict[str, gpd.GeoDataFrame]:
    """``{type: destinations}``; the amenities table gives every one of :data:`AMENITY_CATEGORIES`
    (an empty frame where the data has none), so the columns made from it depend on the
    categories, never on what the data happened to contain."""
    if isinstance(destinations, gpd.GeoDataFrame):
        if "category" not in destinations.columns:
            raise InputDataError("amenities need a `category` column (design.md); or pass a dict "
                                 "{category: GeoDataFrame}.")
        out = {c: destinations.iloc[:0] for c in AMENITY_CATEGORIES}
        out.update({str(c): g for c, g in destinations.groupby("category")})
        return out
    return dict(destinations)


def green_destinations(green: gpd.GeoDataFrame, *, min_area_m2: float = 10_000.0) -> dict:
    """``{"park": public green areas >= min_area_m2 (any kind), "green": all public green areas}``.

    A public green area is the union of touching polygons whose ``public`` is true (NaN = not
    public), sized by its geometry area - the rule of :func:`healthgeo.exposure.green_exposure`
    (:func:`healthgeo._green.public_green_parts`), so both count the same parks. The frames hold
    one row per area (``area_m2``, geometry). A missing ``public`` column raises
    :class:`~healthgeo._errors.SchemaDriftError`.
    """
    green = _to_rd(green, "green")
    parts = public_green_parts(green)
    area = shapely.area(parts) if len(parts) else np.zeros(0)
    pub = gpd.GeoDataFrame({"area_m2": area}, geometry=gpd.GeoSeries(parts, crs=CRS), crs=CRS)
    return {"park": pub[area >= min_area_m2].reset_index(drop=True), "green": pub}


def entrances(net: Network, polys: gpd.GeoSeries, tol: float,
               adjacent_tol: float = 30.0) -> tuple[np.ndarray, int]:
    """Entrance nodes of polygons (see module docstring) and the number without any."""
    geoms = shapely.make_valid(polys.to_numpy())
    geoms = geoms[~shapely.is_empty(geoms)]
    if len(geoms) == 0:
        return np.zeros(0, np.int64), 0
    cache = net.__dict__.setdefault("_geom_cache", {})
    if not cache:  # built once per network, reused by every polygon destination type
        a, b = net.pieces
        cache["pts"] = shapely.points(net.x, net.y)
        cache["pts_tree"] = shapely.STRtree(cache["pts"])
        cache["lines_tree"] = shapely.STRtree(shapely.linestrings(np.stack(
            [np.column_stack([net.x[a], net.y[a]]), np.column_stack([net.x[b], net.y[b]])], axis=1)))
    pts = cache["pts"]
    bnd = shapely.boundary(geoms)
    pi, ni = cache["pts_tree"].query(bnd, predicate="dwithin", distance=tol)
    inside = shapely.intersects(geoms[pi], pts[ni])
    ent_p, ent_n = [pi[inside]], [ni[inside]]
    a, b = net.pieces
    qi, li = cache["lines_tree"].query(bnd, predicate="intersects")
    for end in (a, b):
        inn = shapely.intersects(geoms[qi], pts[end[li]])
        ent_p.append(qi[inn])
        ent_n.append(end[li][inn])
    ent_p, ent_n = np.concatenate(ent_p), np.concatenate(ent_n)
    missing = np.setdiff1d(np.arange(len(geoms)), ent_p)
    if len(missing):  # no path touches it: reach it from a street along its edge
        gi, gn = cache["pts_tree"].query(bnd[missing], predicate="dwithin", distance=adjacent_tol)
        ent_p, ent_n = np.concatenate([ent_p, missing[gi]]), np.concatenate([ent_n, gn])
    unreachable = len(np.setdiff1d(np.arange(len(geoms)), ent_p))
    return np.unique(ent_n), unreachable


def home_distances(
    network: Network,
    homes: gpd.GeoDataFrame,
    destinations: Mapping[str, gpd.GeoDataFrame] | gpd.GeoDataFrame,
    *,
    max_snap_m: float = 250.0,
    entrance_tol_m: float = 10.0,
    adjacent_tol_m: float = 30.0,
    verify: bool = True,
) -> tuple[pd.DataFrame, dict]:
    """Network distance (m) from every home to the nearest destination of each type.

    Distance = snap(home) + graph distance + snap(destination); one multi-source Dijkstra
    pass per destination type. Homes (and point destinations) farther than ``max_snap_m``
    from the network are flagged / dropped. Point destinations snap to the nearest node;
    polygon destinations are reached at their entrances (snap 0).

    A home whose nearest street (within ``max_snap_m``) is a network island
    (:attr:`Network.islands`, cut off from the main network) is flagged ``on_island`` (not
    ``off_network``) and gets no distances either.

    Returns
    -------
    distances, info
        ``distances``: index of ``homes``; ``snap_m``, ``off_network``, ``on_island`` and one
        column per destination type (NaN for off-network and island homes, inf when no
        destination of that type is reachable). ``info``: per type the number of destinations
        used / dropped.
    """
    homes = _to_rd(homes, "homes")
    xy = _home_xy(homes)
    hnode, hsnap = network.snap(xy)
    island = np.zeros(len(xy), bool)
    if len(network.island_xy):  # nearest street (within max_snap_m) cut off from the main network
        from scipy.spatial import cKDTree

        di, _ = cKDTree(network.island_xy).query(xy)
        island = (di < hsnap) & (di <= max_snap_m)
    off = (hsnap > max_snap_m) & ~island
    out = {"snap_m": hsnap, "off_network": off, "on_island": island}
    info: dict[str, dict] = {}
    targets: dict[str, tuple] = {}
    g = network.reversed_graph
    for name, gdf in split_destinations(destinations).items():
        gdf = _to_rd(gdf, f"destinations[{name!r}]")
        located = _has_location(gdf.geometry)
        n_no_loc = int((~located).sum())
        if n_no_loc:
            log.warning("%s: %d destination(s) without a location (empty, missing or non-finite "
                        "geometry) left out", name, n_no_loc)
            gdf = gdf[located]
        is_poly = gdf.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        nodes_l, offs_l, pts_l = [], [], []
        n_far = 0
        if (~is_poly).any():
            pts = gdf.geometry[~is_poly]
            pts = pts.where(pts.geom_type == "Point", pts.representative_point())
            pxy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
            dn, ds = network.snap(pxy)
            near = ds <= max_snap_m
            n_far = int((~near).sum())
            nodes_l.append(dn[near]), offs_l.append(ds[near]), pts_l.append(pxy[near])
        n_unreach = 0
        if is_poly.any():
            en, n_unreach = entrances(network, gdf.geometry[is_poly], entrance_tol_m, adjacent_tol_m)
            nodes_l.append(en), offs_l.append(np.zeros(len(en)))
            pts_l.append(np.column_stack([network.x[en], network.y[en]]))
        dnodes = np.concatenate(nodes_l) if nodes_l else np.zeros(0, np.int64)
        doffs = np.concatenate(offs_l) if offs_l else np.zeros(0)
        dpts = np.concatenate(pts_l) if pts_l else np.zeros((0, 2))
        if n_far or n_unreach:
            log.warning("%s: %d destination(s) farther than %g m from the %s network and %d "
                        "polygon(s) without entrance left out", name, n_far, max_snap_m,
                        network.mode, n_unreach)
        info[name] = {"n": int(len(gdf)), "n_no_location": n_no_loc, "n_off_network": n_far,
                      "n_no_entrance": n_unreach, "n_target_nodes": int(len(np.unique(dnodes)))}
        d_node = multi_source(g, dnodes, doffs)
        d = hsnap + d_node[hnode]
        d[off | island] = np.nan
        if verify and len(dpts):
            from scipy.spatial import cKDTree

            eu, _ = cKDTree(dpts).query(xy)
            bad = ~off & (d < eu - 1e-6 * (1 + eu))
            if bad.any():
                raise HealthgeoError(f"{name}: {int(bad.sum())} network distance(s) shorter than the "
                                     "straight line - a bug in healthgeo.network, please report.")
        out[name] = d
        targets[name] = (dnodes, doffs)
    frame = pd.DataFrame(out, index=homes.index)
    frame.attrs["targets"] = targets
    frame.attrs["home_nodes"] = hnode
    return frame, info


def sub_distances(network: Network, base: pd.DataFrame, base_info: Mapping[str, dict],
                  names: Iterable[str]) -> tuple[pd.DataFrame, dict]:
    """Distances on a sub-network (wheelchair) from the SAME home and destination snapping as ``base``.

    ``base`` is :func:`home_distances`' result on the network ``network`` was cut from
    (:func:`healthgeo._graph.sub_network`): the homes keep their nodes, snap distances and
    off-network / island flags, the destinations their target nodes and offsets; only the
    Dijkstra pass runs on the sub-network. Every distance is therefore >= the base distance
    (checked), and infinite where the sub-network's barriers cut the home off.
    """
    if int(np.max(base.attrs["home_nodes"], initial=-1)) >= network.n_nodes:
        raise HealthgeoError("sub_distances: the network is not a sub-network of the one the base "
                             "distances were measured on")
    hnode, hsnap = base.attrs["home_nodes"], base["snap_m"].to_numpy()
    gone = base["off_network"].to_numpy() | base["on_island"].to_numpy()
    out = {"snap_m": hsnap, "off_network": base["off_network"].to_numpy(),
           "on_island": base["on_island"].to_numpy()}
    targets, info = {}, {}
    for name in names:
        if name not in base.attrs["targets"]:
            continue
        dnodes, doffs = base.attrs["targets"][name]
        d = hsnap + multi_source(network.reversed_graph, dnodes, doffs)[hnode]
        d[gone] = np.nan
        w = base[name].to_numpy()
        if np.any(d < w - 1e-6 * (1 + np.nan_to_num(w))):
            raise HealthgeoError(f"{name}: {network.mode} distance shorter than on the network it was cut "
                                 "from - a bug in healthgeo.network, please report.")
        out[name], targets[name], info[name] = d, (dnodes, doffs), dict(base_info[name])
    frame = pd.DataFrame(out, index=base.index)
    frame.attrs["targets"] = targets
    frame.attrs["home_nodes"] = hnode
    return frame, info


# ==============================================================================================
# aggregation helpers
# ==============================================================================================
def weighted_quantile(codes: np.ndarray, values: np.ndarray, weights: np.ndarray, q: float,
                      n_groups: int) -> np.ndarray:
    """Population-weighted quantile per group: the smallest value v with share(<= v) >= q.

    Inverse of the weighted empirical CDF, no interpolation (a median of 100/200/300/400 m
    with equal weights is 200 m). Groups without weight give NaN. Infinite values count as
    beyond every finite value.
    """
    return _GroupSorted(codes, values, n_groups).quantile(weights, q)


class _GroupSorted:
    """Values sorted by (group, value) once, for several weightings and quantiles.

    Zero-weight entries stay in the order: they never change a cumulative weight, so each
    quantile equals that of the weighted entries alone.
    """

    def __init__(self, codes: np.ndarray, values: np.ndarray, n_groups: int):
        ok = ~np.isnan(values) & (codes >= 0)
        self.pos = np.flatnonzero(ok)
        order = np.lexsort((values[ok], codes[ok]))
        self.pos = self.pos[order]
        self.c, self.v = codes[self.pos], values[self.pos]
        self.n = n_groups

    def quantile(self, weights: np.ndarray, q: float) -> np.ndarray:
        w = weights[self.pos]
        keep = w > 0
        c, v, w = self.c[keep], self.v[keep], w[keep]
        res = np.full(self.n, np.nan)
        if len(c) == 0:
            return res
        tot = np.bincount(c, weights=w, minlength=self.n)
        cw = np.cumsum(w)
        start = np.concatenate([[0.0], np.cumsum(tot)])[:-1]
        within = cw - start[c]
        hit = within >= q * tot[c] * (1 - 1e-12)
        idx = np.flatnonzero(hit)
        g, first = np.unique(c[idx], return_index=True)
        res[g] = v[idx[first]]
        res[np.isinf(res)] = np.nan
        return res


def _share(codes, cond, w, n):
    num = np.bincount(codes, weights=w * cond, minlength=n)
    den = np.bincount(codes, weights=w, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _assign_wards(homes: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> np.ndarray:
    """Position of the ward each home lies in (-1 if none)."""
    wards = _to_rd(wards, "wards")
    if not wards.index.is_unique:
        raise InputDataError("wards have duplicate codes in the index; index wards by their CBS code.")
    j = gpd.sjoin(gpd.GeoDataFrame(geometry=homes.geometry.reset_index(drop=True)),
                  gpd.GeoDataFrame(geometry=wards.geometry.reset_index(drop=True)),
                  how="left", predicate="intersects")
    j = j[~j.index.duplicated(keep="first")]
    codes = j["index_right"].fillna(-1).to_numpy(np.int64)
    if (codes < 0).any():
        log.warning("%d home(s) lie in no ward and are left out", int((codes < 0).sum()))
    return codes


def _resolve(dist: pd.DataFrame, spec: str) -> np.ndarray | None:
    """Distance for an essential spec ``"a|b"`` = min over available categories."""
    cols = [c for c in spec.split("|") if c in dist.columns]
    if not cols:
        return None
    return np.fmin.reduce([dist[c].to_numpy() for c in cols]) if len(cols) > 1 else dist[cols[0]].to_numpy()


def _check_homes(homes: gpd.GeoDataFrame) -> None:
    missing = [c for c in ("residents",) if c not in homes.columns]
    if missing:
        raise InputDataError(f"homes lack column(s) {missing}; give the residents points table "
                             "(design.md: residents, residents_65_plus, residents_0_14, ...).")


def _as_networks(networks) -> dict[str, Network]:
    if isinstance(networks, Network):
        return {networks.mode: networks}
    if isinstance(networks, Mapping):
        return dict(networks)
    return {n.mode: n for n in networks}


# ==============================================================================================
# accessibility
# ==============================================================================================
def _access_problems(sp: Mapping[str, float], thresholds, minutes, nets=None) -> list[str]:
    problems = [f"unknown speed key {k!r} (use {sorted(DEFAULT_SPEEDS)})" for k in sp
                if k not in DEFAULT_SPEEDS]
    problems += [f"speed {k}={v!r} must be > 0 (m/s)" for k, v in sp.items()
                 if not (isinstance(v, numbers.Real) and v > 0)]
    problems += [f"threshold {t:g} m must be > 0" for t in thresholds if not t > 0]
    if not (minutes > 0):
        problems.append(f"minutes={minutes!r} must be > 0")
    return problems


def accessibility(
    networks: Network | Mapping[str, Network] | Iterable[Network],
    homes: gpd.GeoDataFrame,
    destinations: Mapping[str, gpd.GeoDataFrame] | gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    *,
    green: gpd.GeoDataFrame | None = None,
    speeds: Mapping[str, float] | None = None,
    thresholds: Iterable[float] = (500.0, 1000.0),
    minutes: float = 15.0,
    max_snap_m: float = 250.0,
    essential: Iterable[str] = DEFAULT_ESSENTIAL,
    green_min_area_m2: float = 10_000.0,
    entrance_tol_m: float = 10.0,
    adjacent_tol_m: float = 30.0,
    food_radius_m: float = 1000.0,
) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Walk and cycle accessibility per ward: :func:`home_access` then :meth:`HomeAccess.accessibility`.

    For several ward levels call :func:`home_access` once and aggregate its result per level.

    Parameters
    ----------
    networks
        One :class:`Network` or several (``{"walk": ..., "bike": ...}``); columns are made per mode.
    homes
        Residents points (``residents``, ``residents_65_plus``, ``residents_0_14``), EPSG:28992.
    destinations
        ``{type: GeoDataFrame of points or polygons}`` or the amenities table with ``category``.
    wards
        Polygons indexed by ward code (any level); homes are assigned to the ward they lie in.
    green
        Green polygons (``public``; see :func:`green_destinations`): adds ``park`` and ``green``.
    speeds
        m/s per ``walk``/``bike`` and their ``_65plus``/``_children`` variants; defaults
        :data:`DEFAULT_SPEEDS` (cited in the docs).
    thresholds
        Walking distance thresholds (m) for ``pop_share_{dest}_walk_{t}m``.
    minutes
        Travel-time threshold for ``pop_share_{dest}_{mode}_{minutes}min``.
    max_snap_m
        Homes and destinations farther than this from the network are left out (counted).
    essential
        Categories of the 15-minute completeness score (``"a|b"`` = either).
    """
    sp = dict(DEFAULT_SPEEDS)
    sp.update(speeds or {})
    thresholds = [float(t) for t in thresholds]
    problems = _access_problems(sp, thresholds, minutes)
    for name, val in (("max_snap_m", max_snap_m), ("food_radius_m", food_radius_m)):
        if not (val > 0):
            problems.append(f"{name}={val!r} must be > 0")
    problems += [f"network for {m!r} is a {n.mode!r} network" for m, n in _as_networks(networks).items()
                 if m != n.mode]
    if problems:  # every problem at once, before any work
        raise ConfigError("accessibility parameters are invalid: " + "; ".join(problems))
    access = home_access(networks, homes, destinations, green=green, max_snap_m=max_snap_m,
                         green_min_area_m2=green_min_area_m2, entrance_tol_m=entrance_tol_m,
                         adjacent_tol_m=adjacent_tol_m, food_radius_m=food_radius_m)
    return access.accessibility(wards, speeds=speeds, thresholds=thresholds, minutes=minutes,
                                essential=essential)


def home_access(
    networks: Network | Mapping[str, Network] | Iterable[Network],
    homes: gpd.GeoDataFrame,
    destinations: Mapping[str, gpd.GeoDataFrame] | gpd.GeoDataFrame,
    *,
    green: gpd.GeoDataFrame | None = None,
    max_snap_m: float = 250.0,
    green_min_area_m2: float = 10_000.0,
    entrance_tol_m: float = 10.0,
    adjacent_tol_m: float = 30.0,
    food_radius_m: float | None = 1000.0,
) -> HomeAccess:
    """Snap every home and run every Dijkstra pass ONCE per mode, for aggregation to any level.

    Per mode, :func:`home_distances` to every destination type; on the walk network also the
    number of food outlets within ``food_radius_m`` of each home (``None`` skips them). The
    result aggregates to buurt, wijk and gemeente with :meth:`HomeAccess.accessibility` and
    :meth:`HomeAccess.walkability` without touching the graphs again.
    """
    _check_homes(homes)
    homes = _to_rd(homes, "homes")
    nets = _as_networks(networks)
    problems = [f"{name}={val!r} must be > 0" for name, val in
                (("max_snap_m", max_snap_m), ("food_radius_m", food_radius_m))
                if val is not None and not (val > 0)]
    problems += [f"network for {m!r} is a {n.mode!r} network" for m, n in nets.items() if m != n.mode]
    if problems:
        raise ConfigError("accessibility parameters are invalid: " + "; ".join(problems))
    dests = split_destinations(destinations)
    if green is not None:
        dests.update(green_destinations(green, min_area_m2=green_min_area_m2))
    unknown = [k for k in dests if k not in AMENITY_CATEGORIES + GREEN_TYPES]
    if unknown:
        log.info("extra destination types %s (not in design.md's categories) are used as given", unknown)
    if "wheelchair" in nets and "walk" not in nets:
        raise ConfigError("the wheelchair network is measured against the walk network it is cut from: "
                          "pass both ({'walk': ..., 'wheelchair': ...}).")
    distances, infos, food = {}, {}, {}
    for mode, net in sorted(nets.items(), key=lambda kv: kv[0] == "wheelchair"):  # walk before wheelchair
        if mode == "wheelchair":
            wd = {k: v for k, v in dests.items() if k in WHEELCHAIR_DESTINATIONS}
            distances[mode], infos[mode] = sub_distances(net, distances["walk"], infos["walk"], tuple(wd))
            continue
        dist, info = home_distances(net, homes, dests, max_snap_m=max_snap_m,
                                    entrance_tol_m=entrance_tol_m, adjacent_tol_m=adjacent_tol_m)
        distances[mode], infos[mode] = dist, info
        if mode == "walk" and food_radius_m is not None:
            tg, hn, hs = dist.attrs["targets"], dist.attrs["home_nodes"], dist["snap_m"].to_numpy()
            for cat in FOOD_OUTLETS:
                if cat in tg and len(tg[cat][0]):
                    food[cat] = counts_within(net.reversed_graph, tg[cat][0], tg[cat][1], hn, hs,
                                              food_radius_m)
                else:
                    food[cat] = np.zeros(len(homes))
    return HomeAccess(networks=nets, homes=homes, destinations=tuple(dests), distances=distances,
                      info=infos, food_counts=food, max_snap_m=max_snap_m,
                      green_min_area_m2=green_min_area_m2, entrance_tol_m=entrance_tol_m,
                      adjacent_tol_m=adjacent_tol_m, food_radius_m=food_radius_m)


@dataclass
class HomeAccess:
    """Network distances of every home, per mode, made once by :func:`home_access`.

    Attributes
    ----------
    networks
        ``{mode: Network}`` the distances were computed on.
    homes
        The residents points (EPSG:28992), in the order of the distance rows.
    destinations
        Destination types (amenity categories, ``park``, ``green``) given.
    distances
        ``{mode: frame}`` as returned by :func:`home_distances` (``snap_m``, ``off_network``,
        one column per destination type).
    info
        ``{mode: {type: counts}}`` of destinations used and left out.
    food_counts
        ``{category: count per home}`` of food outlets within ``food_radius_m`` walking (empty
        without a walk network or with ``food_radius_m=None``).
    """

    networks: dict[str, Network]
    homes: gpd.GeoDataFrame
    destinations: tuple[str, ...]
    distances: dict[str, pd.DataFrame]
    info: dict[str, dict]
    food_counts: dict[str, np.ndarray]
    max_snap_m: float
    green_min_area_m2: float
    entrance_tol_m: float
    adjacent_tol_m: float
    food_radius_m: float | None

    def accessibility(
        self,
        wards: gpd.GeoDataFrame,
        *,
        speeds: Mapping[str, float] | None = None,
        thresholds: Iterable[float] = (500.0, 1000.0),
        minutes: float = 15.0,
        essential: Iterable[str] = DEFAULT_ESSENTIAL,
    ) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
        """Accessibility columns per ward of one level (parameters as :func:`accessibility`)."""
        sp = dict(DEFAULT_SPEEDS)
        sp.update(speeds or {})
        thresholds = [float(t) for t in thresholds]
        problems = _access_problems(sp, thresholds, minutes)
        if problems:
            raise ConfigError("accessibility parameters are invalid: " + "; ".join(problems))
        return _aggregate_access(self, _to_rd(wards, "wards"), sp, thresholds, minutes, tuple(essential))

    def mean_distances(self, wards: gpd.GeoDataFrame) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
        """Population-weighted MEAN network distance per ward, mode and destination type.

        The statistic CBS publishes in *Nabijheid voorzieningen* (mean over residents), for the
        comparison in :mod:`healthgeo.validation`. Homes off the network, on islands or without
        a reachable destination are left out; ``residents_with_distance`` says how many count.
        One row per ward x mode x destination (long table, ward code in the index's name column).
        """
        wards = _to_rd(wards, "wards")
        codes = _assign_wards(self.homes, wards)
        valid = codes >= 0
        c = np.where(valid, codes, 0)
        n = len(wards)
        w = np.where(valid, np.nan_to_num(self.homes["residents"].to_numpy(float)), 0.0)
        name = wards.index.name or "code"
        rows = []
        for mode, dist in self.distances.items():
            if mode == "wheelchair":  # CBS publishes road distances: walk and bike compare, wheelchair not
                continue
            for dest in self.destinations:
                if dest not in dist:
                    continue
                d = dist[dest].to_numpy(float)
                ok = np.isfinite(d) & valid
                num = np.bincount(c, weights=np.where(ok, d * w, 0.0), minlength=n)
                den = np.bincount(c, weights=np.where(ok, w, 0.0), minlength=n)
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(den > 0, num / den, np.nan)
                rows.append(pd.DataFrame({name: wards.index.astype(str), "mode": mode, "destination": dest,
                                          "network_m_popw_mean": mean, "residents_with_distance": den}))
        out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
            columns=[name, "mode", "destination", "network_m_popw_mean", "residents_with_distance"])
        docs = {
            name: doc("code", "CBS code of the ward", theme="identity", about="identity", scale="text"),
            "mode": doc("category", "network the distance was measured on (walk or bike)", theme="access",
                        about="identity", scale="category"),
            "destination": doc("category", "destination type (amenity category or green type)", theme="access",
                               about="identity", scale="category"),
            "network_m_popw_mean": doc(
                "m", "Population-weighted mean network distance from home to the nearest destination of the type",
                "sum_i w_i d_i / sum_i w_i over the ward's residents points with a finite distance (homes off "
                "the network, on islands or without a reachable destination left out)", OSM,
                theme="access", about="residents", scale="distance", higher_is_worse=True,
                label_en="mean network distance", label_nl="gemiddelde netwerkafstand"),
            "residents_with_distance": doc(
                "persons", "Residents the mean is computed over", theme="quality", about="residents",
                scale="count", label_en="residents with a distance", label_nl="inwoners met een afstand"),
        }
        return out, docs

    def walkability(
        self,
        wards: gpd.GeoDataFrame,
        *,
        reference: Mapping[str, tuple[float, float]] | None = None,
        daily_living: Iterable[str] = DEFAULT_DAILY_LIVING,
        radius_m: float = 500.0,
        intersection_tolerance_m: float = 12.0,
        extent=None,
    ) -> tuple[pd.DataFrame, dict[str, ColumnDoc], pd.DataFrame]:
        """Walkability per ward of one level (parameters as :func:`walkability`)."""
        if "walk" not in self.networks:
            raise ConfigError("walkability needs the walk network (home_access({'walk': ...}, ...)).")
        return _walkability(self, wards, reference=reference, daily_living=tuple(daily_living),
                            radius_m=radius_m, intersection_tolerance_m=intersection_tolerance_m,
                            extent=extent)


def _aggregate_access(acc: HomeAccess, wards: gpd.GeoDataFrame, sp: dict, thresholds: list,
                      minutes: float, essential: tuple) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    homes, max_snap_m = acc.homes, acc.max_snap_m
    green_min_area_m2, entrance_tol_m = acc.green_min_area_m2, acc.entrance_tol_m
    adjacent_tol_m, food_radius_m = acc.adjacent_tol_m, acc.food_radius_m
    dests = acc.destinations
    codes = _assign_wards(homes, wards)
    nW = len(wards)
    c = np.where(codes >= 0, codes, 0)
    valid = codes >= 0
    groups = {
        "": homes["residents"].to_numpy(float),
        "_65plus": _col_or_nan(homes, "residents_65_plus"),
        "_children": _col_or_nan(homes, "residents_0_14"),
    }
    for k in groups:
        groups[k] = np.where(valid, np.nan_to_num(groups[k]), 0.0)
    w_all = groups[""]
    cols: dict[str, np.ndarray] = {}
    docs: dict[str, ColumnDoc] = {}
    mins = f"{minutes:g}min"
    residents_total = np.bincount(c, weights=w_all, minlength=nW)
    cols["homes_n"] = np.bincount(c[valid], minlength=nW)
    docs["homes_n"] = doc("count", "Residents points (homes) in the ward",
                          "points of the residents table lying in the ward polygon",
                          theme="access", scale="count", label_en="homes", label_nl="woningen")
    cols["residents_n"] = residents_total
    docs["residents_n"] = doc("persons", "Residents in the ward (sum of residents points)",
                              theme="access", scale="count", label_en="residents (points)", label_nl="inwoners (punten)")

    reasons = np.full(nW, None, dtype=object)
    reasons[residents_total <= 0] = "no residents in ward"
    dest_reasons: dict[str, str] = {}
    for mode, net in acc.networks.items():
        dist = acc.distances[mode]
        off = dist["off_network"].to_numpy()
        isl = dist["on_island"].to_numpy()
        on = valid & ~off & ~isl
        covered = np.bincount(c, weights=w_all * on, minlength=nW)
        if mode != "wheelchair":  # wheelchair shares the walk network's snapping: same figures
            cols[f"homes_off_network_{mode}_n"] = np.bincount(c[valid & off], minlength=nW)
            docs[f"homes_off_network_{mode}_n"] = doc(
                "count", f"Homes farther than {max_snap_m:g} m from the {mode} network (left out of "
                f"all {mode} distances and shares)", "k-d tree (cKDTree) nearest network node; "
                f"nodes include sample points every <= {net.densify_m} m along edges", OSM,
                theme="quality", scale="count", label_en=f"homes off the {mode} network",
                label_nl=f"woningen buiten het {mode}netwerk")
            cols[f"residents_off_network_{mode}"] = np.bincount(c, weights=w_all * (valid & off), minlength=nW)
            docs[f"residents_off_network_{mode}"] = doc(
                "persons", f"Residents of homes farther than {max_snap_m:g} m from the {mode} network",
                theme="quality", scale="count", label_en=f"residents off the {mode} network",
                label_nl=f"inwoners buiten het {mode}netwerk")
            cols[f"residents_island_{mode}"] = np.bincount(c, weights=w_all * (valid & isl), minlength=nW)
            docs[f"residents_island_{mode}"] = doc(
                "persons", f"Residents whose nearest {mode} street is a network island (cut off from the "
                f"main {mode} network; left out of all {mode} distances and shares)",
                "largest strongly connected component = main network; the other components are islands",
                OSM, theme="quality", about="residents", scale="count", higher_is_worse=None,
                label_en=f"residents on {mode} network islands", label_nl=f"inwoners op {mode}netwerk-eilanden")
            with np.errstate(invalid="ignore", divide="ignore"):
                cols[f"access_{mode}_covered_frac"] = np.where(residents_total > 0, covered / residents_total, np.nan)
            docs[f"access_{mode}_covered_frac"] = doc(
                "fraction (0-1)", f"Share of the ward's residents the {mode} accessibility values are "
                f"computed over: homes within {max_snap_m:g} m of the main {mode} network (not off the "
                "network, not on a network island)", "residents on the main network / residents in the ward",
                OSM, theme="quality", about="residents", scale="fraction", higher_is_worse=None,
                label_en=f"{mode} access coverage", label_nl=f"dekking bereikbaarheid ({mode})")
            snap = np.where(valid, dist["snap_m"].to_numpy(), np.nan)
            cols[f"home_snap_{mode}_m_median"] = weighted_quantile(codes, snap, w_all, 0.5, nW)
            docs[f"home_snap_{mode}_m_median"] = doc(
                "m", f"Population-weighted median distance from home to the nearest {mode} network node",
                "straight line, k-d tree on network nodes (incl. edge sample points)", OSM,
                theme="quality", scale="distance", label_en=f"distance home to {mode} network",
                label_nl=f"afstand woning tot {mode}netwerk")
        no_on = (covered <= 0) & (residents_total > 0)
        on_isl = np.bincount(c, weights=w_all * (valid & isl), minlength=nW) > 0
        reasons[no_on & on_isl & (reasons == None)] = (  # noqa: E711
            f"no residents on the main {mode} network: their nearest streets are network islands "
            f"(cut off from it) or farther than {max_snap_m:g} m")
        reasons[no_on & (reasons == None)] = (  # noqa: E711
            f"no residents within {max_snap_m:g} m of the {mode} network")
        speed = sp[mode]
        for name in (d for d in dests if d in dist.columns):
            d = dist[name].to_numpy()
            nodest = acc.info[mode][name]["n_target_nodes"] == 0
            if nodest:  # no data, not "nobody reaches one": NULL, with the reason per category
                why = (f"no {name} in the input" if acc.info[mode][name]["n"] == 0 else
                       f"no {name} within {max_snap_m:g} m of the {mode} network")
                prev = dest_reasons.get(name)
                dest_reasons[name] = why if prev is None or prev == why else f"{prev}; {why}"
                d = np.full(len(d), np.nan)
            has = np.isfinite(d).any()
            ranked = _GroupSorted(codes, d, nW) if has else None  # one sort for every weighting
            method = (f"snap(home) + shortest {mode} path + snap(destination): one multi-source "
                      f"Dijkstra pass (scipy.sparse.csgraph) from all destinations over the "
                      f"{'reversed ' if mode == 'bike' else ''}network; {FILTER_DOC[mode]}")
            if name == "park":
                method += (f" 'park' = any public green area >= {green_min_area_m2 / 1e4:g} ha "
                           "(touching polygons with public = true unioned, public unknown = not "
                           "public; the rule of green_exposure).")
            if name in GREEN_TYPES:
                method += (f" Green reached at entrances (nodes inside within {entrance_tol_m:g} m "
                           f"of the edge or where a path crosses it; greens without such a node at "
                           f"nodes within {adjacent_tol_m:g} m of the edge)")
            src = OSM + ("; " + WHO_GREEN_2017 if name in GREEN_TYPES else "")
            den, dnl = _dest_label(name)
            men, mnl = MODE_LABELS.get(mode, (mode, mode))
            far_is_worse = None if name == "fast_food" else True  # fast food nearby is no benefit: no direction
            subgroups = ["", "_65plus"] + (["_children"] if name in CHILD_DESTINATIONS else [])
            for sfx in subgroups:
                w = np.where(on, groups[sfx], 0.0)
                who = {"": "residents", "_65plus": "residents aged 65+",
                       "_children": "children aged 0-14"}[sfx]
                spd_key = mode + sfx
                spd = sp.get(spd_key, speed)
                if not has:
                    med = p90 = np.full(nW, np.nan)
                else:
                    med, p90 = ranked.quantile(w, 0.5), ranked.quantile(w, 0.9)
                base = f"{name}_{mode}_m"
                cols[f"{base}_median{sfx}"] = med
                docs[f"{base}_median{sfx}"] = doc(
                    "m", f"Median network distance ({mode}) from home to the nearest {name}, "
                    f"weighted by {who}", method + "; weighted quantile = smallest distance "
                    "reached by >= 50 % of the weight (no interpolation)", src,
                    theme="access", scale="distance", higher_is_worse=far_is_worse,
                    label_en=f"{den}: median {mode} distance{_WHO_LABELS[sfx][0]}",
                    label_nl=f"{dnl}: mediane afstand {mnl}{_WHO_LABELS[sfx][1]}")
                cols[f"{base}_p90{sfx}"] = p90
                docs[f"{base}_p90{sfx}"] = doc(
                    "m", f"90th percentile network distance ({mode}) to the nearest {name}, "
                    f"weighted by {who}", method, src,
                    theme="access", scale="distance", higher_is_worse=far_is_worse,
                    label_en=f"{den}: 90th pct {mode} distance{_WHO_LABELS[sfx][0]}",
                    label_nl=f"{dnl}: 90e pct afstand {mnl}{_WHO_LABELS[sfx][1]}")
                dd = np.nan_to_num(d, nan=np.inf)
                if mode == "walk":
                    for t in thresholds:
                        col = f"pop_share_{name}_walk_{t:g}m{sfx}"
                        cols[col] = _share(c, dd <= t, w, nW) if has else np.where(
                            (np.bincount(c, weights=w, minlength=nW) > 0) & (not nodest), 0.0, np.nan)
                        docs[col] = doc("fraction (0-1)", f"Share of {who} within {t:g} m walking "
                                        f"of a {name}", method, src, theme="access", scale="fraction",
                                        higher_is_worse=None if far_is_worse is None else False,
                                        label_en=f"{den} ≤ {t:g} m walking{_WHO_LABELS[sfx][0]}",
                                        label_nl=f"{dnl} ≤ {t:g} m lopen{_WHO_LABELS[sfx][1]}")
                col = f"pop_share_{name}_{mode}_{mins}{sfx}"
                lim = spd * minutes * 60
                cols[col] = _share(c, dd <= lim, w, nW) if has else np.where(
                    (np.bincount(c, weights=w, minlength=nW) > 0) & (not nodest), 0.0, np.nan)
                docs[col] = doc("fraction (0-1)", f"Share of {who} reaching a {name} within "
                                f"{minutes:g} min by {mode}", method + f"; speed {spd:.3g} m/s "
                                f"({spd * 3.6:.3g} km/h) -> {lim:.0f} m",
                                src + "; speed: " + SPEED_SOURCES.get(spd_key, SPEED_SOURCES[mode]),
                                theme="access", scale="fraction",
                                higher_is_worse=None if far_is_worse is None else False,
                                label_en=f"{den} ≤ {minutes:g} min {men}{_WHO_LABELS[sfx][0]}",
                                label_nl=f"{dnl} ≤ {minutes:g} min {mnl}{_WHO_LABELS[sfx][1]}")
        if mode == "walk":
            w = np.where(on, w_all, 0.0)
            lim = sp["walk"] * minutes * 60
            n_cat = np.zeros(len(homes))
            used = []
            for spec in essential:
                d = _resolve(dist, spec)
                if d is None:
                    log.warning("15-minute completeness: no destinations for %r; it counts as "
                                "not reached", spec)
                    continue
                used.append(spec)
                n_cat += np.nan_to_num(d, nan=np.inf) <= lim
            src15 = MORENO_2021 + "; speed: " + SPEED_SOURCES["walk"]
            m15 = (f"per home, number of essential categories {list(essential)} ('a|b' = either) "
                   f"with a walking distance <= {lim:.0f} m ({minutes:g} min at {sp['walk']:.3g} m/s); "
                   f"categories without destinations count as not reached")
            cols["walk15_categories_mean"] = _share(c, n_cat, w, nW)
            docs["walk15_categories_mean"] = doc(
                "count", f"Population-weighted mean number of the {len(essential)} essential "
                f"categories reached within {minutes:g} min on foot", m15, src15,
                theme="access", scale="count", higher_is_worse=False,
                label_en=f"essentials within {minutes:g} min walk", label_nl=f"basisvoorzieningen ≤ {minutes:g} min lopen")
            cols["pop_share_walk15_complete"] = _share(c, n_cat >= len(essential), w, nW)
            docs["pop_share_walk15_complete"] = doc(
                "fraction (0-1)", f"Share of residents reaching all {len(essential)} essential "
                f"categories within {minutes:g} min on foot", m15, src15,
                theme="access", scale="fraction", higher_is_worse=False,
                label_en=f"all essentials within {minutes:g} min walk",
                label_nl=f"alle basisvoorzieningen ≤ {minutes:g} min lopen")
        if mode == "walk" and acc.food_counts:
            # food environment
            w = np.where(on, w_all, 0.0)
            cnt = acc.food_counts
            food = sum(cnt.values())
            with np.errstate(invalid="ignore", divide="ignore"):
                ff = np.where(food > 0, 100.0 * cnt["fast_food"] / np.maximum(food, 1), np.nan)
            wf = np.where(on & (food > 0), w_all, 0.0)
            # no food outlet of any kind on the network: missing data, not a food desert
            food_reason = None if any(acc.info["walk"].get(k, {}).get("n_target_nodes", 0)
                                      for k in FOOD_OUTLETS) else (
                "no supermarket, greengrocer or fast_food near the walk network in the input")
            if food_reason:
                w = np.zeros_like(w)
            cols[f"fastfood_share_pct_{food_radius_m / 1000:g}km"] = _share(c, np.nan_to_num(ff), wf, nW)
            docs[f"fastfood_share_pct_{food_radius_m / 1000:g}km"] = doc(
                "%", f"Fast-food outlets as a share of food outlets (supermarket, greengrocer, "
                f"fast_food) within {food_radius_m:g} m walking of home, population-weighted mean",
                f"per home: count of outlets with snap + network + snap distance <= {food_radius_m:g} m "
                "(bounded Dijkstra from each outlet); mean over residents with >= 1 food outlet "
                "within reach (others excluded, see pop_share_food_outlet_1km)", OSM,
                theme="access", scale="percent", higher_is_worse=True,
                label_en=f"fast-food share within {food_radius_m:g} m", label_nl=f"aandeel fastfood ≤ {food_radius_m:g} m")
            cols[f"pop_share_food_outlet_{food_radius_m / 1000:g}km"] = _share(c, food > 0, w, nW)
            docs[f"pop_share_food_outlet_{food_radius_m / 1000:g}km"] = doc(
                "fraction (0-1)", f"Share of residents with >= 1 food outlet within {food_radius_m:g} m "
                "walking", "as fastfood_share_pct_1km", OSM, theme="access", scale="fraction", higher_is_worse=False,
                label_en=f"food outlet within {food_radius_m:g} m", label_nl=f"voedselwinkel ≤ {food_radius_m:g} m")
            cols["food_access_nan_reason"] = np.full(nW, food_reason, dtype=object)
            docs["food_access_nan_reason"] = doc(
                "text", "Why the food-environment values are NULL in this run (empty when they are "
                "not): no food outlet of any kind in the input - missing data, not a food desert", "",
                OSM, theme="quality", scale="text", higher_is_worse=None,
                label_en="food access: reason missing", label_nl="voedselomgeving: reden ontbreken")

    if "wheelchair" in acc.networks and "walk" in acc.networks:
        _wheelchair_gap(acc, cols, docs, c, valid, w_all, nW, sp, minutes)
    frame = pd.DataFrame(cols, index=wards.index)
    if "food_access_nan_reason" in frame:
        frame["food_access_nan_reason"] = frame["food_access_nan_reason"].astype("string")
    frame["access_nan_reason"] = pd.array(reasons, dtype="string")
    docs["access_nan_reason"] = doc("text", "Why the ward's accessibility values are NaN (empty when "
                                    "they are not)", "'no residents in ward', 'no residents within "
                                    "max_snap_m of the network' or 'no residents on the main network' "
                                    "(network islands)", theme="quality", scale="text",
                                    label_en="access: reason missing", label_nl="bereikbaarheid: reden ontbreken")
    for name in dests:  # one reason column per destination type, whatever the data holds
        col = f"{name}_access_nan_reason"
        frame[col] = pd.array([dest_reasons.get(name)] * nW, dtype="string")
        docs[col] = doc("text", f"Why every {name} distance and share is NULL in this run (empty when "
                        "they are not): no destination of this type in the input, or none near the "
                        "network - missing data, not a lack of access", "", OSM, theme="quality",
                        scale="text", higher_is_worse=None,
                        label_en=f"{name} access: reason missing", label_nl=f"{name} bereikbaarheid: reden ontbreken")
    missing_docs = set(frame.columns) - set(docs)
    assert not missing_docs, missing_docs
    return frame, docs


def _wheelchair_gap(acc: HomeAccess, cols: dict, docs: dict, c: np.ndarray, valid: np.ndarray,
                    w_all: np.ndarray, nW: int, sp: Mapping[str, float], minutes: float) -> None:
    """Per ward, what a wheelchair user loses against walking (docs/methods.md#wheelchair-network).

    Per destination type: the population-weighted mean extra distance (wheelchair minus walking,
    residents reaching one both ways), the share of residents reaching one on foot but by no
    wheelchair route at all, and the share reaching one within ``minutes`` on foot but not by
    wheelchair (barriers, detours and the lower speed together); and the share of residents
    losing at least one of the types within ``minutes``.
    """
    walk, wheel = acc.distances["walk"], acc.distances["wheelchair"]
    on = valid & ~walk["off_network"].to_numpy() & ~walk["on_island"].to_numpy()
    w = np.where(on, w_all, 0.0)
    lim_walk, lim_wh = sp["walk"] * minutes * 60, sp["wheelchair"] * minutes * 60
    mins = f"{minutes:g}min"
    method = ("per home: distance on the wheelchair network (the walk network without steps, raised "
              "kerbs, rough surfaces and steep inclines; same home and destination snapping) and on the "
              "walk network, each snap(home) + shortest path + snap(destination); " + FILTER_DOC["wheelchair"])
    src = OSM + "; wheelchair speed: " + SPEED_SOURCES["wheelchair"] + "; walking speed: " + SPEED_SOURCES["walk"]
    lost_any = np.zeros(len(w), bool)
    names = [d for d in WHEELCHAIR_DESTINATIONS if d in wheel.columns]
    for name in names:
        den, dnl = _dest_label(name)
        dw, dh = walk[name].to_numpy(float), wheel[name].to_numpy(float)
        nodest = acc.info["walk"][name]["n_target_nodes"] == 0
        both = np.isfinite(dw) & np.isfinite(dh)
        wb = np.where(both, w, 0.0)
        num = np.bincount(c, weights=wb * np.where(both, dh - dw, 0.0), minlength=nW)
        tot = np.bincount(c, weights=wb, minlength=nW)
        with np.errstate(invalid="ignore", divide="ignore"):
            extra = np.where(tot > 0, num / tot, np.nan)
        cut = np.isfinite(dw) & ~np.isfinite(dh)
        lost = (np.nan_to_num(dw, nan=np.inf) <= lim_walk) & ~(np.nan_to_num(dh, nan=np.inf) <= lim_wh)
        lost_any |= lost & on
        nan = np.full(nW, np.nan)
        cols[f"{name}_wheelchair_extra_m_mean"] = nan if nodest else extra
        docs[f"{name}_wheelchair_extra_m_mean"] = doc(
            "m", f"Population-weighted mean extra distance to the nearest {den} by wheelchair compared "
            "with walking, over residents who reach one both ways (0 = no detour)",
            method + "; extra = wheelchair distance - walking distance (>= 0 by construction)", src,
            theme="access", about="residents", scale="distance", higher_is_worse=True,
            label_en=f"{den}: extra distance by wheelchair", label_nl=f"{dnl}: omweg per rolstoel")
        cols[f"pop_share_{name}_wheelchair_cut_off"] = nan if nodest else _share(c, cut, w, nW)
        docs[f"pop_share_{name}_wheelchair_cut_off"] = doc(
            "fraction (0-1)", f"Share of residents who reach a {den} on foot but by no wheelchair route "
            "at all (steps, raised kerbs, rough or steep ways cut them off)", method, src,
            theme="access", about="residents", scale="fraction", higher_is_worse=True,
            label_en=f"{den}: cut off by wheelchair", label_nl=f"{dnl}: onbereikbaar per rolstoel")
        cols[f"pop_share_{name}_wheelchair_lost_{mins}"] = nan if nodest else _share(c, lost, w, nW)
        docs[f"pop_share_{name}_wheelchair_lost_{mins}"] = doc(
            "fraction (0-1)", f"Share of residents who reach a {den} within {minutes:g} min on foot but "
            f"not within {minutes:g} min by wheelchair (= pop_share_{name}_walk_{mins} - "
            f"pop_share_{name}_wheelchair_{mins})",
            method + f"; walking {sp['walk']:.3g} m/s -> {lim_walk:.0f} m, wheelchair "
            f"{sp['wheelchair']:.3g} m/s -> {lim_wh:.0f} m: barriers, detours and the lower speed together",
            src, theme="access", about="residents", scale="fraction", higher_is_worse=True,
            label_en=f"{den}: lost within {minutes:g} min by wheelchair",
            label_nl=f"{dnl}: verloren binnen {minutes:g} min per rolstoel")
    if names:
        cols[f"pop_share_wheelchair_lost_any_{mins}"] = _share(c, lost_any, w, nW)
        docs[f"pop_share_wheelchair_lost_any_{mins}"] = doc(
            "fraction (0-1)", f"Share of residents who lose at least one of {names} within {minutes:g} min "
            "when moving by wheelchair instead of walking",
            method + f"; per home: any type with walking distance <= {lim_walk:.0f} m and wheelchair "
            f"distance > {lim_wh:.0f} m (types without destinations in the input never count)", src,
            theme="access", about="residents", scale="fraction", higher_is_worse=True,
            label_en=f"any essential lost within {minutes:g} min by wheelchair",
            label_nl=f"een voorziening verloren binnen {minutes:g} min per rolstoel")


def _col_or_nan(df, col):
    if col in df.columns:
        return df[col].to_numpy(float)
    log.warning("homes have no %r column: those columns will be NaN", col)
    return np.full(len(df), np.nan)


# ==============================================================================================
# walkability
# ==============================================================================================
def intersections(net: Network, tolerance_m: float = 12.0) -> np.ndarray:
    """Street intersections: base nodes with >= 3 streets, clustered within ``tolerance_m``.

    Returns the (x, y) of the cluster centroids (GHSCI consolidates intersections within
    12 m so dual carriageways and separately mapped sidewalks are not counted twice).
    Intersections of network islands (:attr:`Network.islands`) count too: they are streets of
    the area, only cut off from the main network.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    sc = net.street_count()
    idx = np.flatnonzero(sc >= 3)
    ixy, isc = net.island_street_count()  # streets cut off from the main network exist too
    xy = np.concatenate([np.column_stack([net.x[idx], net.y[idx]]), ixy[isc >= 3]])
    if len(xy) == 0 or not tolerance_m:
        return xy
    pairs = cKDTree(xy).query_pairs(tolerance_m, output_type="ndarray")
    m = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(xy), len(xy)))
    _, lab = connected_components(m, directed=False)
    cnt = np.bincount(lab)
    return np.column_stack([np.bincount(lab, weights=xy[:, 0]) / cnt,
                            np.bincount(lab, weights=xy[:, 1]) / cnt])


def walkability(
    network: Network,
    homes: gpd.GeoDataFrame,
    destinations: Mapping[str, gpd.GeoDataFrame] | gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    *,
    green: gpd.GeoDataFrame | None = None,
    reference: Mapping[str, tuple[float, float]] | None = None,
    daily_living: Iterable[str] = DEFAULT_DAILY_LIVING,
    radius_m: float = 500.0,
    max_snap_m: float = 250.0,
    intersection_tolerance_m: float = 12.0,
    extent=None,
) -> tuple[pd.DataFrame, dict[str, ColumnDoc], pd.DataFrame]:
    """GHSCI-style walkability index per ward against FIXED reference values.

    ``walkability_index = z(daily_living_score) + z(pop_density_per_km2) +
    z(intersection_density_per_km2)``, each ``z = (value - ref_mean) / ref_sd`` with the
    reference values passed in (defaults :data:`DEFAULT_WALKABILITY_REFERENCE`), so scores
    of reruns and other areas compare. Returns ``(frame, docs, reference_table)``.

    Parameters
    ----------
    daily_living
        Categories of the daily-living score (``"a|b"`` = either). A category without any
        destination on the network counts as not reached (logged, and named in the docs).
    radius_m
        Walking distance (m) within which a daily-living destination counts as reached:
        500 m, the GHSCI access threshold (GHSCI's 1 000 m is the neighbourhood for densities).
    max_snap_m
        Homes farther than this from the network are left out of the daily-living score; use
        the value given to :func:`accessibility` so both leave out the same homes.
    extent
        Area the network input covers (:func:`osm_extent`); a ward not wholly inside it gets a
        NULL intersection density (and index) with a reason instead of 0. ``None``: all covered.
    """
    if network.mode != "walk":
        raise ConfigError("walkability needs the walk network (build_graph(..., 'walk')).")
    _walk_reference(radius_m, max_snap_m, reference)
    dests = split_destinations(destinations)
    if green is not None:
        dests.update(green_destinations(green))
    needed = {c for spec in daily_living for c in spec.split("|")}
    acc = home_access({"walk": network}, homes, {k: v for k, v in dests.items() if k in needed},
                      max_snap_m=max_snap_m, food_radius_m=None)
    return _walkability(acc, wards, reference=reference, daily_living=tuple(daily_living),
                        radius_m=radius_m, intersection_tolerance_m=intersection_tolerance_m, extent=extent)


def _walk_reference(radius_m, max_snap_m, reference) -> dict:
    """The fixed walkability reference (defaults updated by ``reference``); ConfigError if invalid."""
    problems = [f"{k}={v!r} must be > 0 (m)" for k, v in (("radius_m", radius_m), ("max_snap_m", max_snap_m))
                if not (isinstance(v, numbers.Real) and v > 0)]
    if problems:
        raise ConfigError("walkability parameters are invalid: " + "; ".join(problems))
    ref = dict(DEFAULT_WALKABILITY_REFERENCE)
    ref.update(reference or {})
    bad = [k for k, (m, s) in ref.items() if not (np.isfinite(m) and np.isfinite(s) and s > 0)]
    if bad:
        raise ConfigError(f"walkability reference values need a finite mean and sd > 0: {bad}")
    return ref


def _walkability(acc: HomeAccess, wards: gpd.GeoDataFrame, *, reference, daily_living: tuple,
                 radius_m: float, intersection_tolerance_m: float, extent=None):
    max_snap_m = acc.max_snap_m
    ref = _walk_reference(radius_m, max_snap_m, reference)
    network, homes = acc.networks["walk"], acc.homes
    wards = _to_rd(wards, "wards")
    dist, info = acc.distances["walk"], acc.info["walk"]
    codes = _assign_wards(homes, wards)
    nW = len(wards)
    c = np.where(codes >= 0, codes, 0)
    isl = dist["on_island"].to_numpy()
    w = np.where((codes >= 0) & ~dist["off_network"].to_numpy() & ~isl, homes["residents"].to_numpy(float), 0.0)
    score = np.zeros(len(homes))
    # a category with no destination on the network (none given, or all dropped) is not reached
    lacking = [spec for spec in daily_living
               if not any(info.get(k, {}).get("n_target_nodes", 0) for k in spec.split("|"))]
    if lacking:
        log.warning("walkability: no destinations on the walk network for daily-living "
                    "categories %s; they count as not reached, which lowers daily_living_score",
                    lacking)
    for spec in daily_living:
        d = _resolve(dist, spec)
        if d is not None:
            score += np.nan_to_num(d, nan=np.inf) <= radius_m
    area_km2 = wards.geometry.area.to_numpy() / 1e6
    residents = np.bincount(c, weights=np.where(codes >= 0, homes["residents"].to_numpy(float), 0.0),
                            minlength=nW)
    ixy = intersections(network, intersection_tolerance_m)
    ij = gpd.sjoin(gpd.GeoDataFrame(geometry=gpd.points_from_xy(ixy[:, 0], ixy[:, 1]), crs=CRS),
                   gpd.GeoDataFrame(geometry=wards.geometry.reset_index(drop=True)),
                   how="inner", predicate="within")
    n_int = np.bincount(ij["index_right"].to_numpy(np.int64), minlength=nW)
    with np.errstate(invalid="ignore", divide="ignore"):
        comp = {
            "daily_living_score": _share(c, score, w, nW),
            "pop_density_per_km2": residents / area_km2,
            "intersection_density_per_km2": n_int / area_km2,
        }
    comp["daily_living_score"][residents <= 0] = np.nan
    covered = extent_covered_frac(wards, extent)
    outside = ~(covered >= 1 - 1e-6)  # streets beyond the extract are unknown, not absent
    comp["intersection_density_per_km2"][outside] = np.nan
    on_network = np.bincount(c, weights=w, minlength=nW) > 0
    cols = dict(comp)
    z = {}
    for k, v in comp.items():
        m, s = ref[k]
        z[k] = (v - m) / s
        cols[f"z_{k}"] = z[k]
    cols["walkability_index"] = (z["daily_living_score"] + z["pop_density_per_km2"]
                                 + z["intersection_density_per_km2"])
    frame = pd.DataFrame(cols, index=wards.index)
    reason = np.full(nW, None, dtype=object)
    reason[~on_network] = f"no residents within {max_snap_m:g} m of the walk network"
    island_res = np.bincount(c, weights=np.where((codes >= 0) & isl, homes["residents"].to_numpy(float), 0.0),
                             minlength=nW)
    reason[~on_network & (island_res > 0)] = (
        f"no residents on the main walk network: their nearest streets are network islands (cut off "
        f"from it) or farther than {max_snap_m:g} m")
    reason[residents <= 0] = "no residents in ward"
    reason[outside] = [f"ward outside the extent of the OSM network input ({100 * f:.1f} % of its area "
                       "covered)" for f in covered[outside]]
    frame["walkability_nan_reason"] = pd.array(reason, dtype="string")
    src = GHSCI
    refdoc = {k: f"reference mean {m:g}, sd {s:g}" for k, (m, s) in ref.items()}
    dl_method = (f"per home, number of categories whose nearest destination (snap + network + snap "
                 f"distance, walk) is <= {radius_m:g} m ('a|b' = either); {radius_m:g} m is the "
                 "access threshold (GHSCI: 500 m; its 1 000 m network neighbourhood is for "
                 f"densities); homes farther than {max_snap_m:g} m from the network left out; GHSCI "
                 "counts fresh food, convenience and public transport - healthgeo's amenity "
                 "categories replace convenience stores")
    if lacking:
        dl_method += f"; categories without destinations (counted as not reached): {lacking}"
    docs = {
        "daily_living_score": doc("count", f"Population-weighted mean number of daily-living "
                                  f"categories {list(daily_living)} within {radius_m:g} m walking",
                                  dl_method, src, theme="access", scale="count", higher_is_worse=False,
                                  label_en="daily-living destinations nearby", label_nl="dagelijkse voorzieningen dichtbij"),
        "pop_density_per_km2": doc("persons/km2", "Residents per km2 of ward area",
                                   "sum of residents points / ward polygon area (ward-level, not "
                                   "GHSCI's 1 km network neighbourhood)", src, theme="access", scale="density",
                                   label_en="population density", label_nl="bevolkingsdichtheid"),
        "intersection_density_per_km2": doc("1/km2", "Street intersections per km2 of ward area",
                                            f"walk-network nodes with >= 3 streets, consolidated "
                                            f"within {intersection_tolerance_m:g} m, counted by "
                                            "centroid in the ward", src + "; " + OSM, theme="access",
                                            about="area", scale="density", higher_is_worse=False,
                                            label_en="intersection density", label_nl="kruispuntdichtheid"),
        "walkability_index": doc("z-score sum", "Walkability index: sum of the three z-scores",
                                 "z = (value - fixed reference mean) / fixed reference sd; "
                                 + "; ".join(f"{k}: {v}" for k, v in refdoc.items()), src,
                                 theme="access", scale="score", higher_is_worse=False,
                                 label_en="walkability index", label_nl="beloopbaarheidsindex"),
        "walkability_nan_reason": doc("text", "Why the ward's walkability values are NaN (empty "
                                      "when they are not)", "'no residents in ward' (every value "
                                      "NaN) or 'no residents within max_snap_m of the walk "
                                      "network' / 'no residents on the main walk network' (network "
                                      "islands; daily_living_score and walkability_index NaN); the "
                                      "score covers the residents of access_walk_covered_frac; 'ward "
                                      "outside the extent of the OSM network input' "
                                      "(intersection_density_per_km2 and walkability_index NaN)",
                                      theme="quality", scale="text", label_en="walkability: reason missing",
                                      label_nl="beloopbaarheid: reden ontbreken"),
    }
    for k in comp:
        docs[f"z_{k}"] = doc("z-score", f"{k} standardised against a fixed reference ({refdoc[k]})",
                             "(value - ref mean) / ref sd; reference returned in the reference table",
                             src, theme="access", scale="score", about=docs[k].about,
                             higher_is_worse=docs[k].higher_is_worse,
                             label_en=f"{docs[k].label_en} (z-score)", label_nl=f"{docs[k].label_nl} (z-score)")
    reference_table = pd.DataFrame(
        {"mean": [ref[k][0] for k in comp], "sd": [ref[k][1] for k in comp],
         "source": ["provisional default (healthgeo.network.DEFAULT_WALKABILITY_REFERENCE)"
                    if reference is None or k not in reference else "given by caller" for k in comp]},
        index=pd.Index(list(comp), name="component"))
    return frame, docs, reference_table


# ==============================================================================================
# cycling infrastructure
# ==============================================================================================
def cycleway_share(network: Network, wards: gpd.GeoDataFrame, *,
                   extent=None) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Length of separated cycleways as a share of the cyclable network, per ward.

    Each OSM segment (kept by the bike filter, counted once whatever its directions) is
    assigned to the ward containing its midpoint. A ward not wholly inside ``extent`` (the area
    the network input covers, :func:`osm_extent`; ``None`` = all covered) gets NULL lengths with
    a reason instead of 0 km.
    """
    if network.mode != "bike":
        raise ConfigError("cycleway_share needs the bike network (build_graph(..., 'bike')).")
    wards = _to_rd(wards, "wards")
    s, isl = network.segments, network.islands  # islands are cyclable streets too
    u, v = s["u"].to_numpy(), s["v"].to_numpy()
    mx = np.concatenate([(network.x[u] + network.x[v]) / 2, (isl["x0"].to_numpy() + isl["x1"].to_numpy()) / 2])
    my = np.concatenate([(network.y[u] + network.y[v]) / 2, (isl["y0"].to_numpy() + isl["y1"].to_numpy()) / 2])
    length = np.concatenate([s["length_m"].to_numpy(), isl["length_m"].to_numpy()])
    separated = np.concatenate([s["separated"].to_numpy(bool), isl["separated"].to_numpy(bool)])
    mid = gpd.GeoDataFrame(geometry=gpd.points_from_xy(mx, my), crs=CRS)
    j = gpd.sjoin(mid, gpd.GeoDataFrame(geometry=wards.geometry.reset_index(drop=True)),
                  how="inner", predicate="intersects")
    j = j[~j.index.duplicated(keep="first")]
    seg = j.index.to_numpy()
    w = j["index_right"].to_numpy(np.int64)
    n = len(wards)
    L = length[seg]
    total = np.bincount(w, weights=L, minlength=n) / 1000
    sep = np.bincount(w, weights=L * separated[seg], minlength=n) / 1000
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, 100 * sep / total, np.nan)
    covered = extent_covered_frac(wards, extent)
    outside = ~(covered >= 1 - 1e-6)
    for a in (total, sep, share):
        a[outside] = np.nan
    frame = pd.DataFrame({"cyclable_network_km": total, "cycleway_separated_km": sep,
                          "cycleway_separated_share_pct": share, "street_network_covered_frac": covered},
                         index=wards.index)
    reason = np.where(total > 0, None, "no cyclable network in ward").astype(object)
    reason[outside] = [f"ward outside the extent of the OSM network input ({100 * f:.1f} % of its area "
                       "covered)" for f in covered[outside]]
    frame["cycleway_nan_reason"] = pd.array(reason, dtype="string")
    how = ("OSM segments assigned to the ward containing their midpoint, network islands (cut off "
           "from the main network) included; " + FILTER_DOC["bike"])
    docs = {
        "cyclable_network_km": doc("km", "Length of the cyclable network (each way counted once)", how, OSM,
                                   theme="access", about="area", scale="distance",
                                   label_en="cyclable network length", label_nl="lengte fietsnetwerk"),
        "cycleway_separated_km": doc("km", "Length of separated cycleways (highway=cycleway or "
                                     "cycleway*=track)", how, OSM, theme="access", about="area", scale="distance",
                                     label_en="separated cycleway length", label_nl="lengte vrijliggend fietspad"),
        "cycleway_separated_share_pct": doc("%", "Separated cycleways as a share of the cyclable "
                                            "network length", how, OSM, theme="access", about="area",
                                            scale="percent", higher_is_worse=False,
                                            label_en="separated cycleways", label_nl="aandeel vrijliggende fietspaden"),
        "street_network_covered_frac": doc(
            "fraction (0-1)", "Share of the ward's area inside the extent of the OSM network input",
            "area(ward ∩ extent) / area(ward); extent = the OSM file's bounds (or its nodes' convex "
            "hull); 1 when unknown. Street lengths and intersection densities are NULL unless the "
            "whole ward is covered", OSM, theme="quality", about="area", scale="fraction",
            higher_is_worse=None, label_en="street network coverage", label_nl="dekking stratennet"),
        "cycleway_nan_reason": doc("text", "Why cycleway_separated_share_pct (or every length, when "
                                   "the ward is outside the network input's extent) is NaN",
                                   theme="quality", scale="text",
                                   label_en="cycleways: reason missing", label_nl="fietspaden: reden ontbreken"),
    }
    return frame, docs


def walkability_reference_docs(ref) -> dict[str, ColumnDoc]:
    """Docs of the walkability reference table (:func:`HomeAccess.walkability`'s third value)."""
    cols = list(ref.reset_index().columns) if ref.index.name else list(ref.columns)
    base = {
        "variable": doc("text", "walkability component"),
        "component": doc("text", "walkability component"),
        "mean": doc("component unit", "fixed reference mean used for the z-score (same in every run)"),
        "sd": doc("component unit", "fixed reference standard deviation used for the z-score"),
        "source": doc("text", "where the reference value comes from"),
    }
    return {c: base.get(c, doc("", c.replace("_", " "))) for c in cols}
