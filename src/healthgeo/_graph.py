"""Graph internals for :mod:`healthgeo.network`: Dutch tag filters, CSR graphs, snapping, Dijkstra.

Nothing here reads files or knows about wards; :mod:`healthgeo.network` does that.

Representation
--------------
A network is a set of *segments*: straight pieces between two consecutive nodes of an OSM way
(the graph is never topologically simplified, so every segment is a straight line and its
length is the Euclidean distance between its end points in EPSG:28992). Each segment carries
two flags, ``fwd`` (travel ``u -> v`` allowed) and ``bwd`` (``v -> u`` allowed), decided by the
tag filters below. Segments longer than ``densify_m`` are split into equal pieces by inserting
extra nodes, so that snapping to the nearest *node* is snapping to a sample point of the edges
every ``densify_m`` metres at most (GHSCI samples the pedestrian network every 30 m). The
directed pieces form a ``scipy.sparse.csr_matrix`` of lengths in metres (parallel edges
reduced to their minimum). See docs/methods.md#walk-and-cycle-networks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # scipy is imported where it is used: a rule that never builds a graph skips ~1 s of imports
    from scipy import sparse
    from scipy.spatial import cKDTree

from ._errors import InputDataError, NoStreetsError

log = logging.getLogger("healthgeo.network")

#: OSM way tags the filters read (also the tags osmnx/pyrosm are asked to keep).
TAG_KEYS = (
    "highway", "foot", "bicycle", "access", "oneway", "oneway:bicycle", "junction", "area",
    "service", "sidewalk", "sidewalk:both", "cycleway", "cycleway:left", "cycleway:right",
    "cycleway:both", "wheelchair", "ramp:wheelchair", "surface", "smoothness", "incline",
)
#: OSM node tags the wheelchair filter reads (raised kerbs, barriers; see :func:`node_barriers`)
NODE_TAG_KEYS = ("kerb", "wheelchair", "barrier")

_YES = frozenset({"yes", "designated", "permissive"})
_ONEWAY_FWD = frozenset({"yes", "true", "1"})
_ONEWAY_BWD = frozenset({"-1", "reverse"})
_ONEWAY_NO = frozenset({"no", "false", "0"})

#: highway values walkable unless excluded by foot/access/sidewalk tags
WALK_HIGHWAYS = frozenset({
    "footway", "path", "pedestrian", "steps", "living_street", "residential", "service",
    "unclassified", "track", "road", "corridor", "tertiary", "tertiary_link", "secondary",
    "secondary_link", "primary", "primary_link",
})
#: highway values walkable only with foot=yes|designated|permissive
WALK_IF_FOOT = frozenset({
    "cycleway", "bridleway", "busway", "motorway", "motorway_link", "trunk", "trunk_link",
})
#: main roads that need a sidewalk (excluded when tagged sidewalk=no|none without foot=yes)
WALK_NEEDS_SIDEWALK = frozenset({"primary", "primary_link", "secondary", "secondary_link"})

#: highway values cyclable unless excluded by bicycle/access tags
BIKE_HIGHWAYS = frozenset({
    "cycleway", "residential", "living_street", "service", "unclassified", "track", "road",
    "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link",
})
#: highway values cyclable only with bicycle=yes|designated|permissive
BIKE_IF_BICYCLE = frozenset({
    "path", "footway", "pedestrian", "bridleway", "steps", "corridor", "busway", "motorway",
    "motorway_link", "trunk", "trunk_link",
})

#: highway values that are carriageways: moving along one does not cross a kerb, so a raised
#: kerb (or other barrier) on one of their nodes blocks only the paths and crossings meeting there
CARRIAGEWAYS = frozenset({
    "living_street", "residential", "service", "unclassified", "road", "tertiary", "tertiary_link",
    "secondary", "secondary_link", "primary", "primary_link", "trunk", "trunk_link", "motorway",
    "motorway_link", "busway",
})
#: surface values a manual wheelchair cannot use (loose, soft or very uneven), unless the way's
#: smoothness is excellent|good|intermediate or it is tagged wheelchair=yes|designated
WHEELCHAIR_BAD_SURFACES = frozenset({
    "unpaved", "gravel", "fine_gravel", "pebblestone", "rock", "stone", "ground", "dirt", "earth",
    "grass", "grass_paver", "mud", "sand", "woodchips", "stepping_stones", "unhewn_cobblestone",
    "cobblestone", "shells", "clay", "snow", "ice",
})
#: smoothness values usable by a wheelchair (OSM wiki Key:smoothness: "intermediate" is the
#: roughest still usable by wheelchairs; "bad" and worse need robust wheels)
WHEELCHAIR_SMOOTHNESS_OK = frozenset({"excellent", "good", "intermediate"})
WHEELCHAIR_BAD_SMOOTHNESS = frozenset({"bad", "very_bad", "horrible", "very_horrible", "impassable"})
#: node barriers a wheelchair cannot pass (besides kerb=raised and wheelchair=no)
WHEELCHAIR_BAD_BARRIERS = frozenset({"stile", "turnstile", "full-height_turnstile", "kissing_gate", "step"})
#: default steepest incline (%, either direction) a manual wheelchair user is assumed to manage
#: (docs/methods.md#wheelchair-network)
WHEELCHAIR_MAX_INCLINE_PCT = 5.0

FILTER_DOC = {
    "walk": (
        "Dutch walk filter (healthgeo._graph.walk_access): highway in {"
        + ", ".join(sorted(WALK_HIGHWAYS)) + "}, or highway in {" + ", ".join(sorted(WALK_IF_FOOT))
        + "} with foot=yes|designated|permissive (e.g. a fietspad open to pedestrians); excluded: "
        "foot=no|use_sidepath, access=private|no unless foot=yes|designated|permissive, "
        "primary/secondary roads tagged sidewalk=no|none; both directions always (oneway ignored)."
    ),
    "bike": (
        "Dutch cycle filter (healthgeo._graph.bike_access): highway in {"
        + ", ".join(sorted(BIKE_HIGHWAYS)) + "}, or highway in {" + ", ".join(sorted(BIKE_IF_BICYCLE))
        + "} with bicycle=yes|designated|permissive; excluded: bicycle=no|use_sidepath, "
        "access=private|no unless bicycle=yes|designated|permissive; oneway=yes|true|1 (and "
        "junction=roundabout) one direction, oneway=-1|reverse the other, unless "
        "oneway:bicycle=no or cycleway*=opposite*; oneway:bicycle=yes|-1 makes a two-way road "
        "one-way for bikes."
    ),
}
FILTER_DOC["wheelchair"] = (
    "Wheelchair filter (healthgeo._graph.wheelchair_access): the walk filter, then excluded: "
    "highway=steps (unless ramp:wheelchair=yes or wheelchair=yes|designated), wheelchair=no, "
    "surface in {" + ", ".join(sorted(WHEELCHAIR_BAD_SURFACES)) + "} unless smoothness=" + "|".join(
        sorted(WHEELCHAIR_SMOOTHNESS_OK)) + ", smoothness=" + "|".join(sorted(WHEELCHAIR_BAD_SMOOTHNESS))
    + ", |incline| steeper than the limit (percent; degrees converted; up/down without a value "
    "kept), the last three unless wheelchair=yes|designated; paths, footways and crossings (any "
    "highway that is not a carriageway) touching a node with kerb=raised, wheelchair=no or barrier="
    + "|".join(sorted(WHEELCHAIR_BAD_BARRIERS)) + " (unless the node has wheelchair=yes|designated). "
    "Same nodes, snapping and destinations as the walk network (a sub-network of it), so a "
    "wheelchair distance is never shorter than the walking one; both directions always."
)


def _col(tags: pd.DataFrame, key: str) -> pd.Series:
    """Lower-cased, stripped tag column as a categorical (``""`` where absent).

    Cleaning and comparisons run on the few distinct values, not on every segment.
    """
    n = len(tags)
    if key not in tags.columns:
        return pd.Series(pd.Categorical.from_codes(np.zeros(n, np.int64), categories=[""]),
                         index=tags.index)
    codes, uniq = pd.factorize(tags[key], use_na_sentinel=True)
    clean = np.array([str(x).strip().lower() for x in uniq] + [""], dtype=object)
    cats, inv = np.unique(clean, return_inverse=True)
    codes = np.where(codes < 0, len(clean) - 1, codes)
    return pd.Series(pd.Categorical.from_codes(inv[codes], categories=cats), index=tags.index)


def walk_access(tags: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Walk permission of OSM segments, ``(fwd, bwd)`` boolean arrays (equal: oneway ignored).

    ``tags`` has one row per segment and OSM tag keys as columns (missing keys = untagged).
    See :data:`FILTER_DOC` for the rule.
    """
    hw, foot, acc = _col(tags, "highway"), _col(tags, "foot"), _col(tags, "access")
    foot_yes = foot.isin(_YES)
    no_sidewalk = _col(tags, "sidewalk").isin({"no", "none"}) | _col(tags, "sidewalk:both").isin(
        {"no", "none"})
    ok = hw.isin(WALK_HIGHWAYS) | (hw.isin(WALK_IF_FOOT) & foot_yes)
    ok &= ~(hw.isin(WALK_NEEDS_SIDEWALK) & no_sidewalk & ~foot_yes)
    ok &= ~foot.isin({"no", "use_sidepath"})
    ok &= ~(acc.isin({"private", "no"}) & ~foot_yes)
    ok = ok.to_numpy(bool)
    return ok, ok.copy()


def bike_access(tags: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Cycling permission of OSM segments, ``(fwd, bwd)`` along / against the way's node order.

    See :data:`FILTER_DOC` for the rule.
    """
    hw, bic, acc = _col(tags, "highway"), _col(tags, "bicycle"), _col(tags, "access")
    bike_yes = bic.isin(_YES)
    ok = hw.isin(BIKE_HIGHWAYS) | (hw.isin(BIKE_IF_BICYCLE) & bike_yes)
    ok &= ~bic.isin({"no", "use_sidepath"})
    ok &= ~(acc.isin({"private", "no"}) & ~bike_yes)
    ow, owb = _col(tags, "oneway"), _col(tags, "oneway:bicycle")
    fwd_only = ow.isin(_ONEWAY_FWD) | ((_col(tags, "junction") == "roundabout") & ~ow.isin(_ONEWAY_NO)
                                       & ~ow.isin(_ONEWAY_BWD))
    bwd_only = ow.isin(_ONEWAY_BWD)
    contraflow = owb.isin(_ONEWAY_NO)
    for key in ("cycleway", "cycleway:left", "cycleway:right", "cycleway:both"):
        contraflow |= _col(tags, key).str.startswith("opposite")
    fwd = ok & ~(bwd_only & ~contraflow) & ~owb.isin(_ONEWAY_BWD)
    bwd = ok & ~(fwd_only & ~contraflow) & ~owb.isin(_ONEWAY_FWD)
    return fwd.to_numpy(bool), bwd.to_numpy(bool)


def incline_pct(values: pd.Series) -> np.ndarray:
    """Absolute incline in percent of OSM ``incline`` values (NaN where unknown).

    ``"8%"``, ``"-8 %"``, ``"8"`` (percent assumed) and ``"4.5°"`` (degrees, converted with
    ``100 * tan``) are parsed; ``up``/``down``/``yes`` and anything else are unknown (NaN),
    ``no`` is 0.
    """
    import re

    col = _col(pd.DataFrame({"incline": values}), "incline")
    cats = np.asarray(col.cat.categories, dtype=object)
    val = np.full(len(cats), np.nan)
    pat = re.compile(r"^([+-]?\d+(?:[.,]\d+)?)\s*(%|°|deg)?$")
    for i, c in enumerate(cats):
        if c == "no":
            val[i] = 0.0
            continue
        m = pat.match(c)
        if m:
            x = abs(float(m.group(1).replace(",", ".")))
            val[i] = 100 * np.tan(np.radians(x)) if m.group(2) in ("°", "deg") else x
    return val[col.cat.codes.to_numpy()]


def node_barriers(nodes: pd.DataFrame) -> np.ndarray:
    """Nodes a wheelchair cannot pass: kerb=raised, wheelchair=no, or a barrier in
    :data:`WHEELCHAIR_BAD_BARRIERS`; a node tagged wheelchair=yes|designated never is.

    ``nodes`` has one row per node and node tag columns (:data:`NODE_TAG_KEYS`; missing = untagged).
    """
    wh = _col(nodes, "wheelchair")
    bad = (_col(nodes, "kerb") == "raised") | (wh == "no") | _col(nodes, "barrier").isin(WHEELCHAIR_BAD_BARRIERS)
    return (bad & ~wh.isin({"yes", "designated"})).to_numpy(bool)


def wheelchair_access(tags: pd.DataFrame, max_incline_pct: float = WHEELCHAIR_MAX_INCLINE_PCT
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Wheelchair permission of OSM segments, ``(fwd, bwd)`` (equal: both directions).

    The walk filter, then the exclusions of :data:`FILTER_DOC` ``["wheelchair"]``. A bool
    column ``node_barrier`` (an end node is a raised kerb or barrier, :func:`node_barriers`)
    blocks segments that are not carriageways. See docs/methods.md#wheelchair-network.
    """
    ok, _ = walk_access(tags)
    hw, wh = _col(tags, "highway"), _col(tags, "wheelchair")
    wh_yes = wh.isin({"yes", "designated"}).to_numpy(bool)
    steps = (hw == "steps").to_numpy(bool) & ~wh_yes & ~(_col(tags, "ramp:wheelchair") == "yes").to_numpy(bool)
    smooth = _col(tags, "smoothness")
    bad_surface = (_col(tags, "surface").isin(WHEELCHAIR_BAD_SURFACES) & ~smooth.isin(WHEELCHAIR_SMOOTHNESS_OK)
                   ).to_numpy(bool)
    rough = smooth.isin(WHEELCHAIR_BAD_SMOOTHNESS).to_numpy(bool)
    steep = np.nan_to_num(incline_pct(tags["incline"]) if "incline" in tags.columns
                          else np.zeros(len(tags)), nan=0.0) > max_incline_pct + 1e-9
    ok = ok & ~steps & ~(wh == "no").to_numpy(bool) & ~((bad_surface | rough | steep) & ~wh_yes)
    if "node_barrier" in tags.columns:
        ok &= ~(tags["node_barrier"].fillna(False).to_numpy(bool) & ~hw.isin(CARRIAGEWAYS).to_numpy(bool))
    return ok, ok.copy()


def separated_cycleway(tags: pd.DataFrame) -> np.ndarray:
    """Segments that are physically separated cycle infrastructure.

    ``highway=cycleway`` (a fietspad mapped as its own way) or ``cycleway[:left|:right|:both]=track``.
    """
    sep = _col(tags, "highway") == "cycleway"
    for key in ("cycleway", "cycleway:left", "cycleway:right", "cycleway:both"):
        sep |= _col(tags, key) == "track"
    return sep.to_numpy(bool)


ACCESS_FILTERS = {"walk": walk_access, "bike": bike_access, "wheelchair": wheelchair_access}


def access(tags: dict | pd.DataFrame, mode: str, **kw) -> tuple:
    """``(fwd, bwd)`` for one tag dict (bools) or a frame of segments (arrays).

    ``kw`` go to the filter (``max_incline_pct`` for ``"wheelchair"``).
    """
    if mode not in ACCESS_FILTERS:
        raise ValueError(f"mode must be one of {sorted(ACCESS_FILTERS)}, got {mode!r}")
    if isinstance(tags, dict):
        fwd, bwd = ACCESS_FILTERS[mode](pd.DataFrame([tags]), **kw)
        return bool(fwd[0]), bool(bwd[0])
    return ACCESS_FILTERS[mode](tags, **kw)


# --------------------------------------------------------------------------------------------
# the network object
# --------------------------------------------------------------------------------------------
@dataclass
class Network:
    """A walk or cycle network in EPSG:28992, ready for multi-source Dijkstra.

    Attributes
    ----------
    mode
        ``"walk"`` or ``"bike"``.
    x, y
        Node coordinates (m, EPSG:28992). The first ``n_base`` nodes are OSM nodes; the rest
        are sample points inserted on long segments (``densify_m``).
    graph
        ``csr_matrix`` (n x n): ``graph[i, j]`` = length (m) of the directed edge i -> j.
    osmid
        OSM node ids of the base nodes (``-1`` when unknown).
    segments
        One row per kept OSM segment on base nodes: ``u``, ``v`` (node positions),
        ``length_m``, ``fwd``, ``bwd``, ``highway``, ``separated`` (separated cycleway).
    pieces
        ``(a, b)`` node arrays of the (densified) undirected pieces, for geometry queries.
    dropped
        What the largest-strongly-connected-component rule removed (``nodes``, ``segments``,
        ``components``, ``kept_share`` of the nodes).
    islands
        The removed segments, still streets of the area: ``x0``, ``y0``, ``x1``, ``y1``,
        ``length_m``, ``separated``, ``u``, ``v`` (node numbers shared by touching segments).
        Homes whose nearest street is one of them are on a *network island*
        (:func:`healthgeo.network.home_distances`); street lengths and intersections count them.
    island_xy
        Sample points (ends and every <= ``densify_m``) of the island segments, for snapping.
    """

    mode: str
    x: np.ndarray
    y: np.ndarray
    graph: sparse.csr_matrix
    n_base: int
    osmid: np.ndarray
    segments: pd.DataFrame
    pieces: tuple[np.ndarray, np.ndarray]
    densify_m: float | None
    dropped: dict = field(default_factory=dict)
    islands: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {c: pd.Series(dtype=float) for c in ("x0", "y0", "x1", "y1", "length_m")}
        | {"separated": pd.Series(dtype=bool), "u": pd.Series(dtype=np.int64), "v": pd.Series(dtype=np.int64)}))
    island_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    crs: str = "EPSG:28992"
    _rev: sparse.csr_matrix | None = field(default=None, repr=False)
    _tree: cKDTree | None = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        return self.graph.shape[0]

    @property
    def n_edges(self) -> int:
        return self.graph.nnz

    @property
    def reversed_graph(self) -> sparse.csr_matrix:
        """Transpose of :attr:`graph` (searching it from destinations gives home -> destination)."""
        if self._rev is None:
            self._rev = self.graph.T.tocsr()
        return self._rev

    @property
    def tree(self) -> cKDTree:
        from scipy.spatial import cKDTree
        if self._tree is None:
            self._tree = cKDTree(np.column_stack([self.x, self.y]))
        return self._tree

    def snap(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node (k-d tree on nodes, incl. densified sample points) and distance (m)."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        if len(xy) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        dist, idx = self.tree.query(xy)
        return idx.astype(np.int64), dist

    def street_count(self) -> np.ndarray:
        """Number of distinct streets (undirected neighbours) at each base node."""
        s = self.segments
        return _street_count(s["u"].to_numpy(), s["v"].to_numpy(), self.n_base)

    def island_street_count(self) -> tuple[np.ndarray, np.ndarray]:
        """``(xy, count)`` of the island segments' nodes: position and number of streets."""
        s = self.islands
        if not len(s):
            return np.zeros((0, 2)), np.zeros(0, np.int64)
        ids = np.concatenate([s["u"].to_numpy(), s["v"].to_numpy()])
        xy = np.concatenate([s[["x0", "y0"]].to_numpy(), s[["x1", "y1"]].to_numpy()])
        uniq, first, inv = np.unique(ids, return_index=True, return_inverse=True)
        n = len(s)
        return xy[first], _street_count(inv[:n], inv[n:], len(uniq))

    def to_networkx(self):
        """The directed graph as a ``networkx.DiGraph`` with ``length`` (m) on edges (tests)."""
        import networkx as nx

        coo = self.graph.tocoo()
        g = nx.DiGraph()
        g.add_nodes_from(range(self.n_nodes))
        g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()),
                                  weight="length")
        return g


def _street_count(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    a, b = np.minimum(u, v), np.maximum(u, v)
    pairs = np.unique(np.column_stack([a, b])[a != b], axis=0)
    return np.bincount(pairs.ravel(), minlength=n)


def csr_min(n: int, rows: np.ndarray, cols: np.ndarray, w: np.ndarray) -> sparse.csr_matrix:
    """CSR matrix of directed edges; parallel edges keep their *minimum* length, loops dropped.

    (``csr_matrix((w, (r, c)))`` would *sum* duplicates.)
    """
    from scipy import sparse
    rows, cols, w = np.asarray(rows, np.int64), np.asarray(cols, np.int64), np.asarray(w, float)
    keep = rows != cols
    if not keep.all():
        rows, cols, w = rows[keep], cols[keep], w[keep]
    # fast path: scipy's COO -> CSR conversion (a counting sort) sums duplicates; when nothing
    # was merged there were no parallel edges and the result is exact
    fast = sparse.coo_matrix((w, (rows, cols)), shape=(n, n)).tocsr()
    fast.sum_duplicates()
    if fast.nnz == len(w):
        return fast
    key = rows * n + cols
    order = np.argsort(key)
    key, w = key[order], w[order]
    start = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else \
        np.zeros(0, np.int64)
    wmin = np.minimum.reduceat(w, start) if len(start) else w
    key = key[start]
    r, c = key // n, key % n
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
    return sparse.csr_matrix((wmin, c.astype(np.int32), indptr), shape=(n, n))


def n_pieces(length: np.ndarray, spacing: float | None) -> np.ndarray:
    """Number of equal pieces :func:`densify` splits each segment into."""
    if spacing is None or spacing <= 0:
        return np.ones(len(length), np.int64)
    return np.maximum(1, np.ceil(np.asarray(length, float) / spacing - 1e-9)).astype(np.int64)


def densify(x, y, u, v, length, fwd, bwd, spacing):
    """Split segments longer than ``spacing`` into equal straight pieces (new nodes appended)."""
    n0 = len(x)
    k = n_pieces(length, spacing)
    extra = k - 1
    n_extra = int(extra.sum())
    seg_of_new = np.repeat(np.arange(len(u)), extra)
    start = np.cumsum(extra) - extra
    j = np.arange(n_extra) - np.repeat(start, extra) + 1
    t = j / np.repeat(k, extra)
    su, sv = u[seg_of_new], v[seg_of_new]
    nx_ = x[su] + t * (x[sv] - x[su])
    ny_ = y[su] + t * (y[sv] - y[su])
    # chain of node ids per segment: u, new..., v
    clen = k + 1
    cstart = np.cumsum(clen) - clen
    chain = np.empty(int(clen.sum()), np.int64)
    chain[cstart] = u
    chain[cstart + k] = v
    if n_extra:
        chain[np.repeat(cstart, extra) + j] = n0 + np.arange(n_extra)
    last = np.zeros(len(chain), bool)
    last[cstart + k] = True
    pos = np.flatnonzero(~last)
    a, b = chain[pos], chain[pos + 1]
    plen = np.repeat(length / k, k)
    return (np.concatenate([x, nx_]), np.concatenate([y, ny_]), a, b, plen,
            np.repeat(fwd, k), np.repeat(bwd, k))


def _used(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    m = np.zeros(n, bool)
    m[u] = True
    m[v] = True
    return np.flatnonzero(m)


def from_segments(
    x: np.ndarray,
    y: np.ndarray,
    segs: pd.DataFrame,
    mode: str,
    *,
    osmid: np.ndarray | None = None,
    densify_m: float | None = 30.0,
    largest_scc: bool = True,
    min_component_share: float | None = 0.9,
) -> Network:
    """Build a :class:`Network` from node coordinates and tagged segments.

    Parameters
    ----------
    x, y
        Node coordinates in EPSG:28992 (m), positions 0..n-1.
    segs
        Columns ``u``, ``v`` (node positions, in the way's node order) and OSM tag columns
        (:data:`TAG_KEYS`; missing = untagged). Optional ``fwd``/``bwd`` bool columns override
        the tag filter (synthetic graphs).
    mode
        ``"walk"`` or ``"bike"``.
    largest_scc
        Keep only the largest strongly connected component (the rest becomes
        :attr:`Network.islands`, logged as a WARNING with counts).
    min_component_share
        Refuse the network (:class:`~healthgeo._errors.InputDataError` with the figures) when the
        largest component keeps less than this share of the nodes: the extract is then broken
        or clipped, and accessibility would silently come from a fraction of the residents.
        ``None`` accepts any share.
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components
    x, y = np.asarray(x, float), np.asarray(y, float)
    u, v = segs["u"].to_numpy(np.int64), segs["v"].to_numpy(np.int64)
    if len(u) and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= len(x)):
        raise InputDataError("segment end points refer to unknown nodes; give u/v as positions "
                             "into x/y (0 .. n-1).")
    if "fwd" in segs.columns and "bwd" in segs.columns:
        fwd, bwd = segs["fwd"].to_numpy(bool), segs["bwd"].to_numpy(bool)
    else:
        fwd, bwd = access(segs, mode)
    keep = (fwd | bwd) & (u != v)
    n_tagged = len(segs)
    # per-segment attributes kept as arrays (no DataFrame copies on large extracts)
    hw = _col(segs, "highway")
    hw_codes, hw_cats = hw.cat.codes.to_numpy(), np.asarray(hw.cat.categories, dtype=object)
    sep = separated_cycleway(segs) if mode == "bike" else np.zeros(len(segs), bool)
    way = segs["osmid"].to_numpy() if "osmid" in segs.columns else None
    idx = np.flatnonzero(keep)
    u, v, fwd, bwd = u[keep], v[keep], fwd[keep], bwd[keep]
    length = np.hypot(x[v] - x[u], y[v] - y[u])
    if len(u) == 0 and n_tagged == 0:
        raise NoStreetsError(f"the OSM input holds no street for the {mode} network (0 segments read): no OSM "
                             "coverage of this area")
    if len(u) == 0:
        raise InputDataError(f"no {mode} segments left after the Dutch {mode} tag filter "
                             f"({n_tagged} segments read). Check the extract covers streets.")

    # largest strongly connected component on the OSM nodes that carry a kept segment
    n_all = len(x)
    used = _used(n_all, u, v)
    rows = np.concatenate([u[fwd], v[bwd]])
    cols = np.concatenate([v[fwd], u[bwd]])
    # connectivity only: duplicate entries (summed by scipy) do not matter here
    g0 = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_all, n_all))
    dropped = {"nodes": 0, "segments": 0, "components": 0, "kept_share": 1.0}
    islands = island_xy = None
    if largest_scc:
        ncomp, labels = connected_components(g0, directed=True, connection="strong")
        sizes = np.bincount(labels[used], minlength=ncomp)
        big = int(np.argmax(sizes))
        in_big = labels == big
        seg_keep = in_big[u] & in_big[v]
        share = float(sizes[big] / len(used))
        dropped = {
            "nodes": int(len(used) - sizes[big]),
            "segments": int((~seg_keep).sum()),
            "components": int((sizes > 0).sum() - 1),
            "kept_share": share,
        }
        figures = (f"{mode} network: the largest connected component keeps {int(sizes[big])} of "
                   f"{len(used)} nodes ({100 * share:.1f} %); {dropped['nodes']} nodes and "
                   f"{dropped['segments']} segments in {dropped['components']} other component(s) "
                   "are cut off from it")
        if min_component_share is not None and share < min_component_share:
            raise InputDataError(
                f"{figures}, below network.min_component_share = {min_component_share:g}. The "
                "street network falls apart into islands (a clipped or damaged extract, or a filter "
                "that drops connecting ways): check the OSM input covers the study area plus margin, "
                "or lower network.min_component_share to accept it (residents on islands then get "
                "NULL accessibility with a reason).")
        if dropped["nodes"]:
            log.warning("%s; they are kept as network islands: homes whose nearest street is on "
                        "one get NULL accessibility with a reason", figures)
        out = ~seg_keep
        iu, iv, ilen = u[out], v[out], length[out]
        islands = pd.DataFrame({"x0": x[iu], "y0": y[iu], "x1": x[iv], "y1": y[iv], "length_m": ilen,
                                "separated": sep[idx[out]], "u": iu, "v": iv})
        if len(iu):
            ix, iy, *_ = densify(x, y, iu, iv, ilen, fwd[out], bwd[out], densify_m)
            pts = np.concatenate([_used(len(x), iu, iv), np.arange(len(x), len(ix))])
            island_xy = np.column_stack([ix[pts], iy[pts]])
        idx = idx[seg_keep]
        u, v, fwd, bwd, length = u[seg_keep], v[seg_keep], fwd[seg_keep], bwd[seg_keep], length[seg_keep]
        used = _used(n_all, u, v)
    # renumber base nodes 0..n_base-1
    remap = np.full(n_all, -1, np.int64)
    remap[used] = np.arange(len(used))
    u, v = remap[u], remap[v]
    bx, by = x[used], y[used]
    osm = np.asarray(osmid, np.int64)[used] if osmid is not None else np.full(len(used), -1, np.int64)

    X, Y, a, b, plen, pf, pb = densify(bx, by, u, v, length, fwd, bwd, densify_m)
    n = len(X)
    graph = csr_min(n, np.concatenate([a[pf], b[pb]]), np.concatenate([b[pf], a[pb]]),
                    np.concatenate([plen[pf], plen[pb]]))
    seg_frame = pd.DataFrame({
        "u": u, "v": v, "length_m": length, "fwd": fwd, "bwd": bwd,
        "highway": hw_cats[hw_codes[idx]], "separated": sep[idx],
    })
    if way is not None:
        seg_frame["way_id"] = way[idx]
    seg_frame["tag_row"] = idx  # row of `segs` (its tags), e.g. for sub_network()
    net = Network(mode=mode, x=X, y=Y, graph=graph, n_base=len(used), osmid=osm, segments=seg_frame,
                  pieces=(a, b), densify_m=densify_m, dropped=dropped)
    if islands is not None:
        net.islands = islands
    if island_xy is not None:
        net.island_xy = island_xy
    log.info("%s graph: %d OSM nodes (+%d sample points every <= %s m), %d directed edges, "
             "%.1f km of segments", mode, len(used), n - len(used), densify_m, graph.nnz,
             length.sum() / 1000)
    return net


def sub_network(net: Network, keep: np.ndarray, mode: str) -> Network:
    """The network of ``net``'s segments where ``keep`` is true, on the SAME nodes.

    Node numbers, coordinates, sample points, islands and snapping stay those of ``net`` (the
    k-d tree is shared), so a home or destination snaps to the same node on both, and every
    distance on the sub-network is >= the one on ``net`` (it has a subset of the edges). Nodes
    without a kept edge stay in the graph, unconnected: destinations cannot be reached from
    them (infinite distance), which is how a barrier cuts residents off. Used for the
    wheelchair network (a sub-network of the walk network, docs/methods.md#wheelchair-network).
    """
    from scipy.sparse.csgraph import connected_components
    keep = np.asarray(keep, bool)
    seg = net.segments
    if len(keep) != len(seg):
        raise ValueError(f"keep has {len(keep)} values for {len(seg)} segments")
    k = n_pieces(seg["length_m"].to_numpy(float), net.densify_m)
    a, b = net.pieces
    if int(k.sum()) != len(a):
        raise ValueError("network pieces do not match its segments (was it changed after it was built?)")
    pk = np.repeat(keep, k)
    pf, pb = np.repeat(seg["fwd"].to_numpy(bool), k) & pk, np.repeat(seg["bwd"].to_numpy(bool), k) & pk
    plen = np.repeat(seg["length_m"].to_numpy(float) / k, k)
    graph = csr_min(net.n_nodes, np.concatenate([a[pf], b[pb]]), np.concatenate([b[pf], a[pb]]),
                    np.concatenate([plen[pf], plen[pb]]))
    deg = np.bincount(np.concatenate([a[pk], b[pk]]), minlength=net.n_nodes)
    ncomp, labels = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(labels[deg > 0], minlength=ncomp)
    main = labels == int(np.argmax(sizes)) if sizes.any() else np.zeros(net.n_nodes, bool)
    dropped = {"segments": int((~keep).sum()), "length_m": float(seg["length_m"].to_numpy()[~keep].sum()),
               "nodes_without_edge": int((deg == 0).sum()),
               "nodes_outside_main": int(((deg > 0) & ~main).sum())}
    log.info("%s network (sub-network of %s): %d of %d segments kept (%.1f of %.1f km); %d node(s) "
             "left without an edge, %d cut off from the largest connected part", mode, net.mode,
             int(keep.sum()), len(keep), (seg["length_m"].to_numpy()[keep].sum()) / 1000,
             seg["length_m"].sum() / 1000, dropped["nodes_without_edge"], dropped["nodes_outside_main"])
    return Network(mode=mode, x=net.x, y=net.y, graph=graph, n_base=net.n_base, osmid=net.osmid,
                   segments=seg.loc[keep].reset_index(drop=True), pieces=(a[pk], b[pk]),
                   densify_m=net.densify_m, dropped=dropped, islands=net.islands,
                   island_xy=net.island_xy, crs=net.crs, _tree=net.tree)


# --------------------------------------------------------------------------------------------
# shortest paths
# --------------------------------------------------------------------------------------------
def multi_source(graph: sparse.csr_matrix, nodes, offsets=None, *, limit: float = np.inf) -> np.ndarray:
    """Distance from every node to the nearest source, in ONE Dijkstra pass.

    ``dist[i] = min_k (offsets[k] + d(nodes[k] -> i))`` on ``graph``. Pass the *reversed*
    graph to get distances from every node *to* the nearest source on a directed graph.

    Without offsets (or all zero) this is ``scipy.sparse.csgraph.dijkstra(graph,
    indices=nodes, min_only=True)``. With offsets (destination snap distances), scipy's
    ``min_only`` cannot start sources at different distances, so a virtual super-source is
    appended and joined to each source node by an edge of length ``1 + offset``; one
    single-source search then gives the same result (the constant 1 m keeps zero offsets
    from being lost and is subtracted again).
    """
    from scipy import sparse
    from scipy.sparse.csgraph import dijkstra
    nodes = np.asarray(nodes, np.int64)
    n = graph.shape[0]
    if len(nodes) == 0:
        return np.full(n, np.inf)
    if offsets is None or not np.any(np.asarray(offsets) > 0):
        return dijkstra(graph, directed=True, indices=np.unique(nodes), min_only=True, limit=limit)
    offsets = np.asarray(offsets, float)
    order = np.lexsort((offsets, nodes))
    nodes, offsets = nodes[order], offsets[order]
    first = np.ones(len(nodes), bool)
    first[1:] = nodes[1:] != nodes[:-1]
    nodes, offsets = nodes[first], offsets[first]
    g = graph.tocsr()
    indptr = np.concatenate([g.indptr.astype(np.int64), [g.indptr[-1] + len(nodes)]])
    indices = np.concatenate([g.indices.astype(np.int64), nodes])
    data = np.concatenate([g.data, offsets + 1.0])
    g2 = sparse.csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))
    d = dijkstra(g2, directed=True, indices=n, limit=limit + 1.0)[:n]
    return d - 1.0


def counts_within(graph: sparse.csr_matrix, src_nodes, src_offsets, target_nodes, target_offsets,
                  radius: float, chunk: int = 32) -> np.ndarray:
    """Number of sources within ``radius`` (offset + graph + offset) of each target.

    Bounded Dijkstra (``limit=radius``) from the sources in chunks; ``graph`` as for
    :func:`multi_source` (reversed for directed graphs, to count target -> source paths).
    """
    from scipy.sparse.csgraph import dijkstra
    src_nodes = np.asarray(src_nodes, np.int64)
    src_offsets = np.asarray(src_offsets, float)
    target_nodes = np.asarray(target_nodes, np.int64)
    target_offsets = np.asarray(target_offsets, float)
    out = np.zeros(len(target_nodes), np.int64)
    uniq, inv = np.unique(target_nodes, return_inverse=True)
    for s in range(0, len(src_nodes), chunk):
        idx = src_nodes[s:s + chunk]
        d = dijkstra(graph, directed=True, indices=idx, limit=radius)
        d = d[:, uniq][:, inv] + src_offsets[s:s + chunk, None] + target_offsets[None, :]
        out += (d <= radius).sum(axis=0)
    return out
