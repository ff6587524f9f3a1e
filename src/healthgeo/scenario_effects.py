"""What a ``new_park`` or ``new_path`` scenario changes per buurt: green exposure and accessibility.

:func:`healthgeo.scenarios.apply_scenario` returns the modified green layer (``new_park``) or the
new path edges (``new_path``). :func:`scenario_effects` recomputes only the indicators the
intervention can change and returns per-ward deltas ``delta_{column}`` = scenario − baseline:

``new_park``
    :func:`healthgeo.exposure.green_exposure` with the baseline and the scenario green layer.
    Only wards that can change are recomputed (those within the green-access distance, 300 m,
    of the new polygon or of the public green area it merges with); elsewhere the scenario
    equals the baseline and the delta is exactly 0 (NaN where the indicator is NaN). With a
    network (``osm_path`` or ``networks``) the walk distances to the ``park`` and ``green``
    destinations are recomputed as well (:func:`healthgeo.network.accessibility`, no other
    destination type).
``new_path``
    The walk and bike graphs are built once from ``osm_path`` (or taken from ``networks``) and
    the path is added to each with :func:`add_edges`; accessibility to every amenity category
    present plus ``park``/``green`` is computed on the baseline and the extended graphs.
``no2_reduction``, ``lden_reduction``, ``active_travel``
    Nothing here changes: an empty frame (the ward index, no columns) and no docs. Their
    effects are health-impact deltas (:func:`healthgeo.scenarios.run_scenario`), as is the
    physical-activity benefit of a ``new_path`` with ``activity`` (its walk/cycle uptake).

How a path joins the network (:func:`add_edges`)
------------------------------------------------
Each part of the path (one LineString) becomes a chain of new nodes at its vertices (vertices
shared by parts, to ``precision_m``, are one node). Each part's two end points are joined to the
nearest node of the existing graph (an OSM node or an edge sample point, at most ``densify_m``
= 30 m apart along edges) by a straight connector edge when that node is within ``connect_m``
(default 25 m); an end point within ``precision_m`` of a node is that node. Interior vertices are
not joined: a path crossing a street without sharing an end point is treated as a bridge. A
group of new parts with no joined end point is left out (it cannot change any distance); a path
added to neither the walk nor the bike graph (too far from the network - e.g. coordinates not in
EPSG:28992 -, zero length, or tags that exclude it) raises :class:`ConfigError`. The
path's OSM-style tags go through the same Dutch walk/cycle filter as the OSM network
(:data:`healthgeo._graph.FILTER_DOC`); a part the filter excludes for a mode is not added to that
mode's graph. Connectors are two-way. New edges are densified like the OSM network.

Homes and point destinations keep their baseline snap (the nearest node of the baseline graph):
the path changes routes between the network's nodes, not where residents join it. Adding edges
can only shorten graph distances, so no home's distance to a point destination increases.
Green areas gain entrances where the path crosses their edge and keep their baseline entrances
(also the streets along the edge of a green area that had no path into it), so no distance to
green increases either. See docs/methods.md#scenario-effects.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import inspect
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import ConfigError, CRSError, InputDataError
from ._vocab import TARGET_CRS
from ._graph import Network, access, csr_min, densify, separated_cycleway
from .dictionary import ColumnDoc, delta_doc
from .exposure import green_exposure
from .network import (accessibility, build_graphs, config_kwargs, entrances, green_destinations,
                      split_destinations)
from .scenarios import ScenarioResult

__all__ = ["scenario_effects", "add_edges", "DEFAULT_COLUMNS", "DEFAULT_CONNECT_M", "EFFECT_TYPES"]

log = logging.getLogger(__name__)

CRS = TARGET_CRS
#: scenario types whose effects are recomputed here
EFFECT_TYPES = ("new_park", "new_path")
#: default tolerance (m) for joining a path's end point to the network
DEFAULT_CONNECT_M = 25.0

#: Base columns whose deltas are returned by default: exact names or ``fnmatch`` patterns
#: (``*`` matches any text). Only columns the recomputation produces are returned; counts of
#: homes/residents and snap distances are never returned (the scenario does not change them).
DEFAULT_COLUMNS: tuple[str, ...] = (
    # green exposure (new_park)
    "green_share_pct", "green_m2", "green_m2_per_resident",
    "pop_share_green_1ha_*", "pop_share_green_05ha_*",
    # accessibility: all residents, every destination type present
    "*_walk_m_median", "*_bike_m_median",
    "pop_share_*_walk_*m", "pop_share_*_walk_*min", "pop_share_*_bike_*min",
    # 15-minute completeness and food outlets within reach (new_path with amenities)
    "walk15_categories_mean", "pop_share_walk15_complete", "pop_share_food_outlet_*",
)
_NEVER = ("homes_*", "residents_*", "home_snap_*", "access_nan_reason", "popw_method")
_NEEDS_ALL_AMENITIES = ("walk15_*", "pop_share_walk15_*", "fastfood_share_pct_*", "pop_share_food_outlet_*")


# ==============================================================================================
# public API
# ==============================================================================================
def scenario_effects(
    result: ScenarioResult,
    *,
    wards: gpd.GeoDataFrame,
    residents: gpd.GeoDataFrame,
    green: gpd.GeoDataFrame | None,
    amenities: gpd.GeoDataFrame | None = None,
    osm_path: str | Path | None = None,
    network_params: Mapping | None = None,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    networks: Mapping[str, Network] | Network | None = None,
    boundary=None,
    connect_m: float = DEFAULT_CONNECT_M,
) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Per-ward deltas (scenario − baseline) of green exposure and accessibility.

    Parameters
    ----------
    result
        What :func:`healthgeo.scenarios.apply_scenario` returned.
    wards
        Buurten indexed by ``buurtcode`` (any ward level works), EPSG:28992.
    residents
        Residents points (``residents``, ``residents_65_plus``, ``residents_0_14``; design.md).
    green
        The baseline green layer (``kind``, ``public``, ``area_m2``); ``None`` = no green.
    amenities
        Amenity points with ``category`` (``new_path``: every category present is recomputed).
    osm_path
        OSM extract (``.osm``/``.osm.pbf``) the walk/bike graphs are built from (once each);
        anything :func:`healthgeo.network.build_graphs` accepts (a polygon = Overpass).
    network_params
        The config's ``network`` section (``walk_speed_mps``, ``walk_speed_65plus_mps``,
        ``bike_speed_kmh``, ``minutes``, ``thresholds_m``, ``max_snap_m``,
        ``green_min_area_m2``); missing keys take :func:`healthgeo.network.accessibility`'s
        defaults. Use the same values as the network stage so the baselines agree.
    columns
        Base columns (names or ``fnmatch`` patterns) whose deltas are returned; only columns
        that exist are returned.
    networks
        Already built baseline graphs ``{"walk": ..., "bike": ...}`` (or one Network) instead
        of ``osm_path``; ``new_park`` uses only the walk graph.
    boundary
        Area the graphs are clipped to when built from ``osm_path`` (pass the network stage's
        buffered municipality so the baseline equals the stage's).
    connect_m
        Largest distance (m) from a path end point to the network node it is joined to.

    Returns
    -------
    ``(frame, docs)``: ``delta_{column}`` per ward (index of ``wards``) and a
    :class:`~healthgeo.dictionary.ColumnDoc` per column (unit of the base column). Scenario
    types other than ``new_park``/``new_path`` give an empty frame and no docs.
    """
    if result.type not in EFFECT_TYPES:
        log.info("scenario %r (%s): no green or network change to recompute", result.name, result.type)
        return pd.DataFrame(index=wards.index), {}
    wards = _rd(wards, "wards")
    if not wards.index.is_unique:
        raise InputDataError("wards must be indexed by unique ward codes (buurtcode); dissolve duplicates first.")
    residents = _rd(residents, "residents")
    base_green = _rd(green, "green") if green is not None else _empty_green()
    access_kw = _access_kwargs(network_params)
    graph_kw = config_kwargs(network_params)["graph"]
    if not connect_m > 0:
        raise ConfigError(f"connect_m={connect_m!r} must be > 0 (metres)")
    what = f"scenario {result.name!r} ({result.type})"

    parts: list[tuple[pd.DataFrame, pd.DataFrame, dict, str]] = []
    if result.type == "new_park":
        if result.green is None:
            raise InputDataError(f"{what}: the result has no green layer; call apply_scenario(..., green=...)")
        scen_green = _rd(result.green, "scenario green")
        parts.append(_green_effects(result, wards, residents, base_green, scen_green))
        nets = _networks(networks, osm_path, boundary, ("walk",), what, required=False, **graph_kw)
        if nets:
            kw = dict(access_kw, essential=("green",))
            base, bdocs = _accessibility(nets, residents, {}, wards, base_green, kw)
            scen, _ = _accessibility(nets, residents, {}, wards, scen_green, kw)
            drop = [c for c in base.columns if _matches(c, _NEEDS_ALL_AMENITIES)]
            how = ("walk accessibility to the 'park' and 'green' destinations recomputed with the "
                   "scenario's green layer (the new polygon added)")
            parts.append((base.drop(columns=drop), scen.drop(columns=drop), bdocs, how))
        else:
            log.info("%s: no osm_path/networks given: network distances to green not recomputed", what)
    else:
        nets = _networks(networks, osm_path, boundary, ("walk", "bike"), what, required=True, **graph_kw)
        scen_nets, infos = {}, {}
        for mode, net in nets.items():
            scen_nets[mode], infos[mode] = add_edges(net, result.new_edges, connect_m=connect_m)
            log.info("%s: %s network: %s", what, mode, infos[mode])
        _check_path_added(what, result.new_edges, nets, infos, connect_m)
        path_green = _rd(result.green, "scenario green") if result.green is not None else base_green
        kw = dict(access_kw)
        if amenities is None:
            kw["essential"] = ("green",)
        base, scen, bdocs = _path_accessibility(nets, scen_nets, residents, amenities, wards, path_green, kw)
        if amenities is None:
            drop = [c for c in base.columns if _matches(c, _NEEDS_ALL_AMENITIES)]
            base, scen = base.drop(columns=drop), scen.drop(columns=drop)
        how = (f"accessibility recomputed on the {'/'.join(nets)} network(s) with the new path added: "
               f"end points joined to the nearest network node within {connect_m:g} m by straight "
               "connector edges, interior vertices not joined, parts reaching no node left out; "
               "homes and destinations keep their baseline snap and green areas their baseline "
               "entrances (healthgeo.scenario_effects.add_edges)")
        parts.append((base, scen, bdocs, how))

    frames, docs = [], {}
    for base, scen, bdocs, how in parts:
        f, d = _deltas(base, scen, bdocs, columns, how)
        frames.append(f)
        docs.update(d)
    out = pd.concat(frames, axis=1) if frames else pd.DataFrame(index=wards.index)
    out = out.reindex(wards.index)
    out.index.name = wards.index.name
    return out, docs


def add_edges(
    network: Network,
    edges: gpd.GeoDataFrame | None,
    *,
    connect_m: float = DEFAULT_CONNECT_M,
    precision_m: float = 0.01,
) -> tuple[Network, dict]:
    """The network with new path edges added (see the module docstring for the rules).

    Nodes of ``network`` keep their positions; new nodes are appended, and the returned
    network snaps points to the baseline nodes only (homes keep their baseline snap).

    Returns
    -------
    ``(network, info)``; ``info`` counts the parts added, not allowed for the mode, without
    length, not reaching the network, and the connectors made. The input network is returned
    unchanged when nothing is added.
    """
    info = {"parts": 0, "added": 0, "not_allowed": 0, "empty": 0, "unconnected": 0, "connectors": 0,
            "length_m": 0.0}
    if edges is None or len(edges) == 0:
        return network, info
    edges = _rd(edges, "new edges")
    lines = edges[edges.geometry.notna()].explode(index_parts=False).reset_index(drop=True)
    lines = lines[lines.geom_type == "LineString"].reset_index(drop=True)
    info["parts"] = len(lines)
    if len(lines) == 0:
        return network, info
    tags = pd.DataFrame(lines.drop(columns=lines.geometry.name))
    fwd, bwd = access(tags, network.mode)
    geoms = lines.geometry.to_numpy()
    empty = shapely.length(geoms) < precision_m
    allowed = (fwd | bwd) & ~empty
    info["empty"] = int(empty.sum())
    info["not_allowed"] = int((~(fwd | bwd) & ~empty).sum())
    if not allowed.any():
        return network, info
    sep = separated_cycleway(tags) if network.mode == "bike" else np.zeros(len(lines), bool)
    hw = tags["highway"].astype(str).to_numpy() if "highway" in tags.columns else np.full(len(lines), "")
    part_ids = np.flatnonzero(allowed)

    coords, line_idx = shapely.get_coordinates(geoms[part_ids], return_index=True)
    part = part_ids[line_idx]
    key = np.round(coords / precision_m).astype(np.int64)
    _, first, node = np.unique(key, axis=0, return_index=True, return_inverse=True)
    node = node.ravel()
    nxy = coords[first]  # one coordinate per new node
    same = line_idx[1:] == line_idx[:-1]
    su, sv, sp = node[:-1][same], node[1:][same], part[:-1][same]
    keep = su != sv
    su, sv, sp = su[keep], sv[keep], sp[keep]

    # end points of each part -> nearest node of the baseline graph
    starts = np.flatnonzero(np.concatenate([[True], line_idx[1:] != line_idx[:-1]]))
    ends = np.concatenate([starts[1:] - 1, [len(line_idx) - 1]])
    end_nodes = np.unique(np.concatenate([node[starts], node[ends]]))
    dist, near = network.tree.query(nxy[end_nodes])
    joined = dist <= connect_m
    alias = np.full(len(nxy), -1, np.int64)  # new node that IS an existing node
    exact = joined & (dist <= precision_m)
    alias[end_nodes[exact]] = near[exact]
    conn_new, conn_old, conn_len = end_nodes[joined & ~exact], near[joined & ~exact], dist[joined & ~exact]

    # keep the groups of new nodes that reach the network
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    m = len(nxy)
    adj = sparse.coo_matrix((np.ones(len(su)), (su, sv)), shape=(m, m))
    _, comp = connected_components(adj, directed=False)
    touching = np.zeros(comp.max() + 1 if m else 0, bool)
    touching[comp[end_nodes[joined]]] = True
    seg_ok = touching[comp[su]]
    parts_ok = np.unique(sp[seg_ok])
    info["unconnected"] = int(len(part_ids) - len(parts_ok))
    if not seg_ok.any():
        log.info("%s network: the new path reaches no node within %g m; nothing added",
                 network.mode, connect_m)
        return network, info
    su, sv, sp = su[seg_ok], sv[seg_ok], sp[seg_ok]
    cmask = touching[comp[conn_new]]
    conn_new, conn_old, conn_len = conn_new[cmask], conn_old[cmask], conn_len[cmask]

    # number the new nodes after every existing node (existing positions unchanged)
    n0 = network.n_nodes
    used = np.zeros(m, bool)
    used[su] = used[sv] = True
    used[conn_new] = True
    used &= alias < 0
    pos = np.where(alias >= 0, alias, -1)
    pos[used] = n0 + np.arange(int(used.sum()))
    X = np.concatenate([network.x, nxy[used, 0]])
    Y = np.concatenate([network.y, nxy[used, 1]])
    u = np.concatenate([pos[su], pos[conn_new]])
    v = np.concatenate([pos[sv], conn_old])
    f = np.concatenate([fwd[sp], np.ones(len(conn_new), bool)])
    b = np.concatenate([bwd[sp], np.ones(len(conn_new), bool)])
    length = np.hypot(X[v] - X[u], Y[v] - Y[u])
    ok = u != v
    u, v, f, b, length = u[ok], v[ok], f[ok], b[ok], length[ok]
    seg_part = np.concatenate([sp, np.full(len(conn_new), -1)])[ok]
    X2, Y2, pa, pb, plen, pf, pbw = densify(X, Y, u, v, length, f, b, network.densify_m)
    coo = network.graph.tocoo()
    graph = csr_min(len(X2), np.concatenate([coo.row, pa[pf], pb[pbw]]),
                    np.concatenate([coo.col, pb[pf], pa[pbw]]),
                    np.concatenate([coo.data, plen[pf], plen[pbw]]))
    is_conn = seg_part < 0
    new_segs = pd.DataFrame({
        "u": u, "v": v, "length_m": length, "fwd": f, "bwd": b,
        "highway": np.where(is_conn, "connector", hw[np.maximum(seg_part, 0)]),
        "separated": np.where(is_conn, False, sep[np.maximum(seg_part, 0)]),
    })
    if "way_id" in network.segments.columns:
        new_segs["way_id"] = -1
    segments = pd.concat([network.segments, new_segs], ignore_index=True)
    a0, b0 = network.pieces
    out = dataclasses.replace(
        network, x=X2, y=Y2, graph=graph, segments=segments,
        pieces=(np.concatenate([a0, pa]), np.concatenate([b0, pb])),
        _rev=None, _tree=network.tree,  # snapping stays on the baseline nodes
    )
    info.update(added=int(len(parts_ok)), connectors=int(len(conn_new)),
                length_m=float(length[~is_conn].sum()))
    log.info("%s network: added %d path part(s), %.0f m, with %d connector(s) (%d part(s) reach no "
             "node within %g m)", network.mode, info["added"], info["length_m"], info["connectors"],
             info["unconnected"], connect_m)
    return out, info


# ==============================================================================================
# internals
# ==============================================================================================
def _check_path_added(what: str, edges, nets: Mapping[str, Network], infos: Mapping[str, dict],
                      connect_m: float) -> None:
    """Refuse a new path that joins no network: its deltas would be zero for a wrong reason."""
    if any(info["added"] for info in infos.values()):
        return
    why = []
    for mode, info in infos.items():
        if info["parts"] == 0:
            why.append(f"{mode}: no LINESTRING part")
        elif info["empty"] == info["parts"]:
            why.append(f"{mode}: the path has zero length")
        elif info["not_allowed"] + info["empty"] == info["parts"]:
            why.append(f"{mode}: its tags exclude it (healthgeo._graph.FILTER_DOC['{mode}'])")
        else:
            why.append(f"{mode}: no end point within connect_m={connect_m:g} m of a network node")
    msg = f"{what}: the new path was added to no network, so it cannot change any distance ({'; '.join(why)})."
    if edges is not None and len(edges):
        lx0, ly0, lx1, ly1 = _rd(edges, "new edges").total_bounds
        nx0 = min(float(n.x.min()) for n in nets.values()) - connect_m
        ny0 = min(float(n.y.min()) for n in nets.values()) - connect_m
        nx1 = max(float(n.x.max()) for n in nets.values()) + connect_m
        ny1 = max(float(n.y.max()) for n in nets.values()) + connect_m
        if lx1 < nx0 or lx0 > nx1 or ly1 < ny0 or ly0 > ny1:
            msg += (f" The line ({lx0:.0f} {ly0:.0f} .. {lx1:.0f} {ly1:.0f}) lies outside the network's "
                    f"extent ({nx0:.0f} {ny0:.0f} .. {nx1:.0f} {ny1:.0f}): coordinates must be EPSG:28992 "
                    "(RD New, metres) within the study area.")
    msg += (" Fix the path: coordinates in EPSG:28992, each end point on or within connect_m of a street "
            "(or raise connect_m), and walk/cycle tags (e.g. highway=cycleway, foot=yes).")
    raise ConfigError(msg)


def _rd(gdf, what: str):
    if gdf is None:
        raise InputDataError(f"{what} is required")
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputDataError(f"{what} must be a GeoDataFrame (EPSG:28992)")
    if gdf.crs is None:
        raise CRSError(f"{what} has no CRS. Set it (e.g. gdf.set_crs('EPSG:28992')).")
    if not gdf.crs.equals(CRS):
        log.info("reprojecting %s from %s to %s", what, gdf.crs.to_string(), CRS)
        gdf = gdf.to_crs(CRS)
    return gdf


def _empty_green() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"kind": pd.Series(dtype=object), "public": pd.Series(dtype=bool),
                             "name": pd.Series(dtype=object), "area_m2": pd.Series(dtype=float)},
                            geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def _access_kwargs(params: Mapping | None) -> dict:
    """accessibility() keyword arguments from the config's ``network`` section."""
    kw = config_kwargs(params)
    return {**kw["home"], **kw["access"]}


def _networks(networks, osm_path, boundary, modes, what: str, *, required: bool,
              **graph_kw) -> dict[str, Network]:
    if networks is not None:
        nets = {networks.mode: networks} if isinstance(networks, Network) else dict(networks)
        nets = {m: n for m, n in nets.items() if m in modes}
        if not nets and required:
            raise InputDataError(f"{what}: networks has none of the modes {list(modes)}")
        return nets
    if osm_path is None:
        if required:
            raise InputDataError(f"{what}: a new path needs the walk/cycle network: pass osm_path= "
                                 "(the OSM extract of the network stage) or networks=")
        return {}
    return build_graphs(osm_path, modes, boundary=boundary, **graph_kw)


def _accessibility(nets, residents, dests, wards, green, kw):
    return accessibility(nets, residents, dests, wards, green=green, **kw)


def _path_accessibility(nets, scen_nets, residents, amenities, wards, green, kw):
    """Accessibility on the baseline and the extended graphs, one mode at a time.

    Green areas keep their baseline entrances in the scenario (as extra point destinations on
    the same nodes): a path crossing into a green area that had none is reached at the path's
    inside end *and*, as before, from the streets along its edge.
    """
    sig = inspect.signature(accessibility).parameters
    min_area = kw.get("green_min_area_m2", sig["green_min_area_m2"].default)
    tol, adjacent = sig["entrance_tol_m"].default, sig["adjacent_tol_m"].default
    dests = split_destinations(amenities) if amenities is not None else {}
    dests.update(green_destinations(green, min_area_m2=min_area))
    base = scen = None
    docs: dict[str, ColumnDoc] = {}
    for mode, net in nets.items():
        b, d = accessibility({mode: net}, residents, dests, wards, **kw)
        sd = dict(dests)
        for name in ("park", "green"):
            nodes, _ = entrances(net, sd[name].geometry, tol, adjacent)
            pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(net.x[nodes], net.y[nodes]), crs=CRS)
            sd[name] = gpd.GeoDataFrame(pd.concat([sd[name][["geometry"]], pts], ignore_index=True),
                                        geometry="geometry", crs=CRS)
        s, _ = accessibility({mode: scen_nets[mode]}, residents, sd, wards, **kw)
        if base is None:
            base, scen = b, s
        else:
            new = [c for c in b.columns if c not in base.columns]
            base, scen = base.join(b[new]), scen.join(s[new])
        docs.update({k: v for k, v in d.items() if k not in docs})
    return base, scen, docs


def _green_effects(result: ScenarioResult, wards, residents, base_green, scen_green):
    """Baseline and scenario green exposure; only wards the new green can reach are recomputed."""
    access_m = float(inspect.signature(green_exposure).parameters["access_distance_m"].default)
    base, bdocs = green_exposure(wards, base_green, residents)
    new = _new_green(result, base_green, scen_green)
    scen = base.copy()
    if len(new):
        new_geom = shapely.union_all(shapely.make_valid(new.geometry.to_numpy()))
        pub = scen_green[scen_green["public"].fillna(False).astype(bool).to_numpy()]
        reach = new_geom
        if len(pub):
            pub_geoms = shapely.make_valid(pub.geometry.to_numpy())
            merged = shapely.get_parts(shapely.union_all(pub_geoms))
            reach = shapely.union_all(np.concatenate([[new_geom], merged[shapely.intersects(merged, new_geom)]]))
        reach = shapely.buffer(reach, access_m + 1.0)
        hit = shapely.intersects(np.asarray(wards.geometry.to_numpy(), dtype=object), reach)
        if hit.any():
            # only the residents of the recomputed wards (the others would be "outside every ward")
            sub, _ = green_exposure(wards[hit], scen_green, _residents_in(residents, wards[hit]))
            scen.loc[sub.index, sub.columns] = sub
        log.info("scenario %r: green exposure recomputed for %d of %d wards within %g m of the new green",
                 result.name, int(hit.sum()), len(wards), access_m)
    how = ("green exposure recomputed with the scenario's green layer (the new polygon added) for the "
           f"wards within {access_m:g} m of the new polygon or the public green area it joins; "
           "unchanged elsewhere")
    return base, scen, bdocs, how


def _residents_in(residents, wards):
    """The residents points that lie in one of ``wards`` (``None`` stays ``None``)."""
    if residents is None or len(residents) == 0:
        return residents
    pts = np.asarray(residents.geometry.values, dtype=object)
    inside = shapely.STRtree(np.asarray(wards.geometry.values, dtype=object)).query(pts, predicate="intersects")[0]
    return residents.iloc[np.unique(inside)]


def _new_green(result: ScenarioResult, base_green, scen_green):
    if "scenario" in scen_green.columns:
        return scen_green[scen_green["scenario"].astype(str).to_numpy() == str(result.name)]
    if len(scen_green) >= len(base_green):
        return scen_green.iloc[len(base_green):]
    raise InputDataError(f"scenario {result.name!r}: cannot tell the new park from the baseline green "
                         "(no `scenario` column and fewer rows than the baseline)")


def _matches(col: str, patterns) -> bool:
    return any(fnmatch.fnmatchcase(col, p) for p in patterns)


def _gain_sign(column: str) -> str:
    """Which sign of the delta is an improvement, for the data dictionary."""
    worse_when_higher = ("_m_median", "_m_p90", "_walk_m", "_bike_m", "fastfood_share", "home_snap",
                         "off_network")
    if any(k in column for k in worse_when_higher):
        return "negative = improvement (shorter distance / less exposure)"
    return "positive = improvement (more green or better access)"


def _deltas(base: pd.DataFrame, scen: pd.DataFrame, bdocs: Mapping[str, ColumnDoc], columns, how: str):
    cols = [c for c in base.columns
            if c in scen.columns and _matches(c, columns) and not _matches(c, _NEVER)
            and pd.api.types.is_numeric_dtype(base[c]) and not pd.api.types.is_bool_dtype(base[c])]
    out = pd.DataFrame(index=base.index)
    docs: dict[str, ColumnDoc] = {}
    for c in cols:
        out[f"delta_{c}"] = scen[c].astype(float) - base[c].astype(float)
        src = bdocs.get(c)
        docs[f"delta_{c}"] = delta_doc(
            src,
            src.unit if src else "",
            f"change in {c} under the scenario (scenario − baseline; {_gain_sign(c)})"
            + (f"; {c}: {src.description}" if src else ""),
            f"{how}; delta = scenario − baseline per ward, NaN where either is NaN"
            + (f"; {c}: {src.method}" if src and src.method else ""),
            (src.source + "; " if src and src.source else "") + "scenario spec (healthgeo.scenarios)",
        )
    return out, docs
