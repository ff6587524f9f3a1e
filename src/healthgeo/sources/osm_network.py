"""OSM street networks as node and way-segment tables: OSM XML, .osm.pbf, Overpass, fetched GeoPackage.

The readers return ``(nodes, edges)``: nodes indexed by OSM id with ``x``/``y`` (lon/lat) and
the node tags of :data:`healthgeo._graph.NODE_TAG_KEYS` where the source has them, and
one row per way segment with ``u``, ``v``, ``osmid`` and the raw OSM tags of
:data:`healthgeo._graph.TAG_KEYS`. :mod:`healthgeo.network` builds the walk/cycle graphs from
them. A missing, empty, truncated or unparsable file raises one
:class:`~healthgeo._errors.InputDataError` naming the file.
"""

from __future__ import annotations

import logging

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from .._errors import InputDataError
from .._graph import NODE_TAG_KEYS, TAG_KEYS
from ._common import input_file, reading

#: layers of a GeoPackage holding a downloaded street network (written by the ``osm`` provider)
NETWORK_LAYERS = ("network_nodes", "network_edges")

_SETTINGS_TAGS = list(dict.fromkeys(list(TAG_KEYS) + ["name"]))


log = logging.getLogger(__name__)


@contextlib.contextmanager
def osmnx_settings():
    """Keep every way in node order with its raw tags (restored afterwards)."""
    import osmnx as ox

    old = (ox.settings.useful_tags_way, ox.settings.all_oneway, ox.settings.log_console,
           ox.settings.useful_tags_node)
    ox.settings.useful_tags_way = _SETTINGS_TAGS
    ox.settings.useful_tags_node = list(dict.fromkeys(list(ox.settings.useful_tags_node) + list(NODE_TAG_KEYS)))
    # all_oneway: one edge per way segment in the way's node order with the raw `oneway` string,
    # so our own filter decides directions (osmnx still flips oneway=-1|reverse|T ways; undone below)
    ox.settings.all_oneway = True
    try:
        yield ox
    finally:
        (ox.settings.useful_tags_way, ox.settings.all_oneway, ox.settings.log_console,
         ox.settings.useful_tags_node) = old


def frames_from_osmnx(G) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(nodes, edges)`` of an osmnx MultiDiGraph built with :func:`osmnx_settings`."""
    nodes = pd.DataFrame.from_dict(dict(G.nodes(data=True)), orient="index")
    nodes = nodes[["x", "y", *[k for k in NODE_TAG_KEYS if k in nodes.columns]]]
    rows = [dict(d, u=u, v=v) for u, v, d in G.edges(data=True)]
    edges = pd.DataFrame(rows) if rows else pd.DataFrame(columns=["u", "v", "osmid", *TAG_KEYS])
    if len(edges) and "oneway" in edges.columns:
        # osmnx reversed the node order of oneway=-1|reverse|T ways: restore the way's order
        flip = edges["oneway"].astype(str).isin(["-1", "reverse", "T"]).to_numpy()
        u0 = edges["u"].to_numpy().copy()
        edges.loc[flip, "u"] = edges.loc[flip, "v"].to_numpy()
        edges.loc[flip, "v"] = u0[flip]
    return nodes, edges


def read_osm_xml(path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Street network of an OSM XML extract (``.osm``)."""
    path = input_file(path, "osm network")
    if _without_elements(path):
        # a well-formed extract with no data: the area has no OSM coverage (e.g. a municipality's cut of a
        # national extract that does not reach it); the stages give its wards NULL values with a reason
        log.warning("%s holds no OSM nodes or ways: an empty street network", path)
        return pd.DataFrame(columns=["x", "y"], dtype=float), pd.DataFrame(columns=["u", "v", "osmid", *TAG_KEYS])
    with reading(path, "osm network", "OSM XML"), osmnx_settings() as ox:
        G = ox.graph_from_xml(path, bidirectional=False, simplify=False, retain_all=True)
    return frames_from_osmnx(G)


def _without_elements(path) -> bool:
    """True for a well-formed OSM XML file without any node, way or relation (a truncated file is
    left to the reader, which says so)."""
    import xml.etree.ElementTree as ET

    try:
        for _, el in ET.iterparse(path, events=("start",)):
            if el.tag in ("node", "way", "relation"):
                return False
    except ET.ParseError:
        return False
    return True


def read_overpass(polygon_wgs84) -> tuple[pd.DataFrame, pd.DataFrame]:  # pragma: no cover - needs internet
    """Every ``highway`` way within ``polygon_wgs84`` from Overpass (osmnx ``graph_from_polygon``)."""
    with osmnx_settings() as ox:
        G = ox.graph_from_polygon(polygon_wgs84, network_type="all", custom_filter='["highway"]',
                                  simplify=False, retain_all=True, truncate_by_edge=True)
    return frames_from_osmnx(G)


def write_network_layers(nodes: pd.DataFrame, edges: pd.DataFrame, path) -> None:
    """Append the node and way-segment tables (lon/lat, OSM tags) to a GeoPackage as plain tables."""
    n = pd.DataFrame({"id": nodes.index.to_numpy(np.int64), "x": nodes["x"].to_numpy(float),
                      "y": nodes["y"].to_numpy(float)})
    for k in NODE_TAG_KEYS:  # node tags the wheelchair filter reads
        if k in nodes.columns:
            n[k] = nodes[k].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)).to_numpy()
    e = edges[[c for c in ("u", "v", "osmid", *TAG_KEYS) if c in edges.columns]].copy()
    for c in e.columns:
        if c not in ("u", "v"):
            e[c] = e[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                            else (";".join(map(str, v)) if isinstance(v, list) else str(v)))
    e["u"] = e["u"].astype(np.int64)
    e["v"] = e["v"].astype(np.int64)
    pyogrio.write_dataframe(n, path, layer=NETWORK_LAYERS[0], driver="GPKG", append=Path(path).exists())
    pyogrio.write_dataframe(e, path, layer=NETWORK_LAYERS[1], driver="GPKG", append=True)


def read_network_gpkg(path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The network tables of a GeoPackage fetched by the ``osm`` provider (theme ``all``)."""
    path = input_file(path, "osm network")
    with reading(path, "osm network", "a GeoPackage"):
        have = {name for name, _ in pyogrio.list_layers(path)}
        if not set(NETWORK_LAYERS) <= have:
            raise InputDataError(f"{path}: no street network in this GeoPackage (layers {sorted(have)}); download "
                                 "it with the osm provider (theme all) or give an .osm / .osm.pbf extract.")
        n = pyogrio.read_dataframe(path, layer=NETWORK_LAYERS[0], read_geometry=False)
        e = pyogrio.read_dataframe(path, layer=NETWORK_LAYERS[1], read_geometry=False)
    nodes = pd.DataFrame({"x": n["x"].to_numpy(float), "y": n["y"].to_numpy(float)},
                         index=n["id"].to_numpy(np.int64))
    for k in NODE_TAG_KEYS:
        if k in n.columns:
            nodes[k] = n[k].to_numpy()
    return nodes, e


def _tag(tags, key):
    if isinstance(tags, str):
        import json

        try:
            tags = json.loads(tags)
        except ValueError:
            return None
    return tags.get(key) if isinstance(tags, dict) else None


def read_pbf(path, bbox_wgs84=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Street network of an ``.osm.pbf`` extract (pyrosm), optionally within ``bbox_wgs84``."""
    import pyrosm

    path = input_file(path, "osm network")
    with reading(path, "osm network", "an OSM PBF extract"):
        osm = pyrosm.OSM(str(path), bounding_box=bbox_wgs84)
        extra = [k for k in TAG_KEYS if k not in ("highway",)]
        res = osm.get_network(network_type="all", nodes=True, extra_attributes=extra)
    if res is None or res[1] is None or len(res[1]) == 0:
        raise InputDataError(f"{path}: pyrosm found no highway ways. Is it an OSM extract of the area?")
    nodes, edges = res
    tags = nodes["tags"] if "tags" in nodes.columns else pd.Series([None] * len(nodes), index=nodes.index)
    nodes = pd.DataFrame({"x": nodes["lon"].to_numpy(float), "y": nodes["lat"].to_numpy(float)},
                         index=nodes["id"].to_numpy(np.int64))
    for k in NODE_TAG_KEYS:  # pyrosm keeps node tags as a dict (or JSON text) per node
        nodes[k] = [_tag(t, k) for t in tags]
    edges = pd.DataFrame(edges.drop(columns="geometry"))
    edges = edges.rename(columns={"id": "osmid"})
    return nodes, edges
