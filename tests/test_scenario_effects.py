"""Tests of healthgeo.scenario_effects: per-buurt deltas of new_park / new_path scenarios.

Hand-made graphs (EPSG:28992 around (150 000, 450 000)) give distances worked out by hand; the
demo city (generated once per module) checks the real readers and the properties that must hold
on any network: a new park raises its buurt's green share by exactly its area, a new path never
lengthens a trip, and a change that changes nothing gives zero deltas.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from healthgeo._errors import ConfigError, InputDataError
from healthgeo.network import graph_from_frames, home_distances
from healthgeo.scenario_effects import add_edges, scenario_effects
from healthgeo.scenarios import apply_scenario

CRS = "EPSG:28992"
X0, Y0 = 150_000.0, 450_000.0
RES = {"highway": "residential"}


# ------------------------------------------------------------------------------ hand-made city
def u_street(mode: str):
    """A U-shaped street: A (0,0) - B (0,500) - C (100,500) - D (100,0); A to D is 1100 m."""
    nodes = pd.DataFrame({"x": [X0, X0, X0 + 100, X0 + 100], "y": [Y0, Y0 + 500, Y0 + 500, Y0]},
                         index=[1, 2, 3, 4])
    edges = pd.DataFrame([dict(RES, u=1, v=2), dict(RES, u=2, v=3), dict(RES, u=3, v=4)])
    return graph_from_frames(nodes, edges, mode, crs=CRS, densify_m=None)


def homes(*xy) -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame(geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=CRS)
    g["residents"] = 1.0
    g["residents_65_plus"] = 0.0
    g["residents_0_14"] = 0.0
    g["source"] = "bag"
    return g


def hand_wards() -> gpd.GeoDataFrame:
    idx = pd.Index(["BU00010001", "BU00010002"], name="buurtcode")
    return gpd.GeoDataFrame({"residents": [2.0, 1.0]},
                            geometry=[box(X0 - 50, Y0 - 50, X0 + 50, Y0 + 550),
                                      box(X0 + 50, Y0 - 50, X0 + 150, Y0 + 550)], crs=CRS, index=idx)


HAND_HOMES = homes((0, 490), (100, -10), (0, -20))  # near B, near D, near A
SUPERMARKET = gpd.GeoDataFrame({"category": ["supermarket"]}, geometry=[Point(X0, Y0 - 10)], crs=CRS)


def path_result(line_wkt: str, **params):
    spec = {"name": "fietspad", "type": "new_path", "params": {"line_wkt": line_wkt, **params}}
    return apply_scenario(spec, pd.DataFrame({"buurtcode": ["BU00010001"]}), wards=None)


def hand_effects(result, **kw):
    nets = {"walk": u_street("walk"), "bike": u_street("bike")}
    return scenario_effects(result, wards=hand_wards(), residents=HAND_HOMES, green=None,
                            amenities=SUPERMARKET, networks=nets, **kw)


def line(x1, y1, x2, y2) -> str:
    return f"LINESTRING ({X0 + x1} {Y0 + y1}, {X0 + x2} {Y0 + y2})"


def test_path_shortcut_by_hand():
    # path (95,0)-(5,0): joined to D and A by 5 m connectors -> D to A = 5 + 90 + 5 = 100 m.
    # home near D: 10 (snap) + 1100 + 10 (supermarket snap) = 1120 m before, 120 m after.
    t, docs = hand_effects(path_result(line(95, 0, 5, 0)))
    east, west = "BU00010002", "BU00010001"
    for mode in ("walk", "bike"):
        assert t.loc[east, f"delta_supermarket_{mode}_m_median"] == pytest.approx(-1000)
    # 1120 m -> 120 m crosses the 500 m / 1000 m thresholds: share 0 -> 1
    assert t.loc[east, "delta_pop_share_supermarket_walk_500m"] == 1
    # west ward: homes near A (30 m) and near B (520 m, the path does not help): no change
    assert t.loc[west, "delta_supermarket_walk_m_median"] == 0
    assert set(t.columns) == set(docs)
    d = docs["delta_supermarket_walk_m_median"]
    assert d.unit == "m" and "scenario − baseline" in d.description and "connector" in d.method
    assert docs["delta_pop_share_supermarket_walk_500m"].unit == "fraction (0-1)"


def test_path_beyond_tolerance_is_refused_until_tolerance_allows():
    res = path_result(line(70, 0, 30, 0))  # ends 30 m from D and from A
    with pytest.raises(ConfigError, match=r"'fietspad'.*connect_m=25"):
        hand_effects(res, connect_m=25)
    t, _ = hand_effects(res, connect_m=35)  # 10 + 30 + 40 + 30 + 10 = 120 m
    assert t.loc["BU00010002", "delta_supermarket_walk_m_median"] == pytest.approx(-1000)


def test_disconnected_path_is_refused():
    # 5 km from the network: e.g. coordinates in the wrong CRS. Zero deltas would hide the mistake.
    res = path_result(line(5000, 5000, 5100, 5000))
    with pytest.raises(ConfigError, match=r"(?s)'fietspad'.*outside the network's extent.*EPSG:28992"):
        hand_effects(res)
    net, info = add_edges(u_street("walk"), res.new_edges)
    assert info["unconnected"] == 1 and info["added"] == 0 and net.n_nodes == 4


def test_lon_lat_path_is_refused_by_apply_scenario():
    with pytest.raises(ConfigError, match=r"(?s)'fietspad'.*EPSG:28992"):
        path_result("LINESTRING (5.1214 52.0907, 5.1250 52.0920)")


def test_zero_length_path_is_refused():
    res = path_result(line(100, 0, 100, 0))
    with pytest.raises(ConfigError, match="zero length"):
        hand_effects(res)


def test_path_excluded_by_its_tags_is_refused():
    res = path_result(line(95, 0, 5, 0), highway="footway", tags={"foot": "no", "bicycle": "no"})
    with pytest.raises(ConfigError, match="tags"):
        hand_effects(res)


def test_path_into_a_green_keeps_its_street_entrances():
    # street (0,0)-(100,0)-(300,0); a 1 ha park 20 m north (x 100..200, y 20..120) without
    # paths is reached from the street node (100,0) (within 30 m of its edge). A dead-end path
    # from (300,0) into the park adds an entrance at (150,70) and removes none.
    nodes = pd.DataFrame({"x": [X0, X0 + 100, X0 + 300], "y": [Y0, Y0, Y0]}, index=[1, 2, 3])
    edges = pd.DataFrame([dict(RES, u=1, v=2), dict(RES, u=2, v=3)])
    nets = {m: graph_from_frames(nodes, edges, m, crs=CRS, densify_m=None) for m in ("walk", "bike")}
    green = gpd.GeoDataFrame({"kind": ["park"], "public": [True], "name": ["p"], "area_m2": [10_000.0]},
                             geometry=[box(X0 + 100, Y0 + 20, X0 + 200, Y0 + 120)], crs=CRS)
    idx = pd.Index(["BU00030001", "BU00030002"], name="buurtcode")
    wards = gpd.GeoDataFrame(geometry=[box(X0 - 50, Y0 - 50, X0 + 50, Y0 + 50),
                                       box(X0 + 250, Y0 - 50, X0 + 350, Y0 + 50)], crs=CRS, index=idx)
    res = path_result(line(300, 0, 150, 70))
    t, _ = scenario_effects(res, wards=wards, residents=homes((0, 0), (300, 10)), green=green, networks=nets)
    # home at (0,0): 100 m via the street before and after (not 300 + 165.5 via the path)
    assert t.loc["BU00030001", "delta_park_walk_m_median"] == 0
    # home at (300,10): 10 + 200 = 210 m before; 10 + 165.5 = 175.5 m along the path after
    after = 10 + np.hypot(150, 70)
    assert t.loc["BU00030002", "delta_park_walk_m_median"] == pytest.approx(after - 210)
    assert t.loc["BU00030002", "delta_green_bike_m_median"] == pytest.approx(after - 210)


def test_add_edges_keeps_nodes_and_snapping():
    base = u_street("walk")
    res = path_result(line(95, 0, 50, 0) .replace(")", f", {X0 + 5} {Y0})"))  # 3 vertices
    net, info = add_edges(base, res.new_edges)
    assert info == {"parts": 1, "added": 1, "not_allowed": 0, "empty": 0, "unconnected": 0,
                    "connectors": 2, "length_m": pytest.approx(90)}
    np.testing.assert_array_equal(net.x[:base.n_nodes], base.x)
    # a point right on the new path still snaps to a baseline node
    node, snap = net.snap(np.array([[X0 + 50, Y0]]))
    assert node[0] < base.n_nodes and snap[0] == pytest.approx(50)
    d, _ = home_distances(net, homes((100, 0)), {"x": gpd.GeoDataFrame(geometry=[Point(X0, Y0)], crs=CRS)})
    assert d["x"].iloc[0] == pytest.approx(100)
    # a footway is not added to the bike network
    foot = path_result(line(95, 0, 5, 0), highway="footway", tags={"bicycle": "no"})
    bnet, binfo = add_edges(u_street("bike"), foot.new_edges)
    assert binfo["not_allowed"] == 1 and bnet is not None and bnet.n_nodes == 4


def test_new_park_joining_a_small_green_reaches_its_neighbours():
    # a public 0.8 ha strip (x 100..900) becomes 1.1 ha with a new 0.3 ha park (x 900..1200) in
    # the east ward; a home in the west ward is 240 m from the strip's west end (838 m from the
    # new park) and now lives within 300 m of a >= 1 ha public green area
    idx = pd.Index(["BU00020001", "BU00020002"], name="buurtcode")
    wards = gpd.GeoDataFrame({"residents": [1.0, 1.0]}, crs=CRS, index=idx,
                             geometry=[box(X0, Y0 - 500, X0 + 500, Y0 + 500),
                                       box(X0 + 500, Y0 - 500, X0 + 1500, Y0 + 500)])
    green = gpd.GeoDataFrame({"kind": ["grass"], "public": [True], "name": ["strook"], "area_m2": [8000.0]},
                             geometry=[box(X0 + 100, Y0, X0 + 900, Y0 + 10)], crs=CRS)
    res = homes((100, 250), (1400, 400))
    spec = {"name": "park", "type": "new_park", "where": {"polygon_wkt": box(X0 + 900, Y0, X0 + 1200, Y0 + 10).wkt}}
    result = apply_scenario(spec, res, wards=wards, green=green)
    t, _ = scenario_effects(result, wards=wards, residents=res, green=green)
    assert t.loc["BU00020001", "delta_pop_share_green_1ha_300m"] == 1  # 0 -> 1, via the strip
    assert t.loc["BU00020001", "delta_green_share_pct"] == 0
    assert t.loc["BU00020002", "delta_green_m2"] == pytest.approx(3000)
    assert t.loc["BU00020002", "delta_pop_share_green_1ha_300m"] == 0  # 438 m from the park


def test_new_park_keeps_parks_of_a_green_layer_without_area_column():
    # the baseline green has no area_m2 column; a small new green far away must not make the
    # 1 ha park (reached from the street node (100,0)) disappear from the scenario
    nodes = pd.DataFrame({"x": [X0, X0 + 100, X0 + 300], "y": [Y0, Y0, Y0]}, index=[1, 2, 3])
    edges = pd.DataFrame([dict(RES, u=1, v=2), dict(RES, u=2, v=3)])
    net = graph_from_frames(nodes, edges, "walk", crs=CRS, densify_m=None)
    green = gpd.GeoDataFrame({"kind": ["park"], "public": [True], "name": ["p"]},
                             geometry=[box(X0 + 100, Y0 + 20, X0 + 200, Y0 + 120)], crs=CRS)
    wards = gpd.GeoDataFrame(geometry=[box(X0 - 50, Y0 - 50, X0 + 350, Y0 + 50)], crs=CRS,
                             index=pd.Index(["BU00040001"], name="buurtcode"))
    res = homes((0, 0))
    spec = {"name": "plantsoen", "type": "new_park",
            "where": {"polygon_wkt": box(X0 + 3000, Y0, X0 + 3050, Y0 + 60).wkt}}
    result = apply_scenario(spec, res, wards=wards, green=green)
    np.testing.assert_allclose(result.green["area_m2"], [10_000, 3000])
    t, _ = scenario_effects(result, wards=wards, residents=res, green=green, networks={"walk": net})
    assert t.loc["BU00040001", "delta_park_walk_m_median"] == 0
    assert t.loc["BU00040001", "delta_green_walk_m_median"] == 0


def test_other_scenario_types_give_empty_frame():
    spec = {"name": "no2", "type": "no2_reduction", "params": {"percent": 20}, "where": {"buurt": ["BU00010001"]}}
    rx = pd.DataFrame({"buurtcode": ["BU00010001"], "no2_ugm3": [20.0]})
    res = apply_scenario(spec, rx, wards=None)
    t, docs = scenario_effects(res, wards=hand_wards(), residents=HAND_HOMES, green=None)
    assert t.index.equals(hand_wards().index) and t.shape[1] == 0 and docs == {}


def test_new_path_without_network_raises():
    with pytest.raises(InputDataError, match="osm_path"):
        scenario_effects(path_result(line(95, 0, 5, 0)), wards=hand_wards(), residents=HAND_HOMES, green=None)


# ------------------------------------------------------------------------------ demo city
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from healthgeo.demo import generate
    from healthgeo.network import build_graphs
    from healthgeo.population import residents_from_dwellings
    from healthgeo.sources import read_boundaries, read_dwellings, read_osm_amenities, read_osm_green
    from healthgeo.wards import build_levels

    paths = generate(tmp_path_factory.mktemp("demo"))
    buurten = build_levels(read_boundaries(paths["buurten"], "buurt"), municipality="GM9999")["buurt"]
    residents = residents_from_dwellings(read_dwellings(paths["dwellings"]), buurten)
    return {
        "paths": paths, "wards": buurten, "residents": residents,
        "green": read_osm_green(paths["osm"]), "amenities": read_osm_amenities(paths["osm"]),
        "networks": build_graphs(paths["osm"], ("walk", "bike")),
    }


def free_square(demo, side: float):
    """A side x side square inside one buurt, touching no green and >= 50 m from its edge."""
    green = shapely.union_all(demo["green"].geometry.to_numpy())
    for code, geom in demo["wards"].geometry.items():
        c = geom.representative_point()
        for dx, dy in [(0, 0), (150, 0), (-150, 0), (0, 150), (0, -150)]:
            sq = box(c.x + dx - side / 2, c.y + dy - side / 2, c.x + dx + side / 2, c.y + dy + side / 2)
            if geom.buffer(-50).contains(sq) and not sq.intersects(green):
                return code, sq
    pytest.fail("no free square in the demo city")


def assert_no_new_nan(t, base, cols):
    """A delta is NaN where the baseline or the scenario is NaN: it may only be NaN where the
    baseline already is (reachable -> unreachable would hide behind fillna(0))."""
    for c in cols:
        grew = t[c].isna() & base[c.removeprefix("delta_")].reindex(t.index).notna()
        assert not grew.any(), f"{c}: NaN in the scenario only, wards {list(t.index[grew])[:5]}"


def park_result(demo, polygon):
    spec = {"name": "nieuw_park", "type": "new_park", "where": {"polygon_wkt": polygon.wkt}}
    return apply_scenario(spec, demo["residents"], wards=demo["wards"], green=demo["green"])


def test_new_park_raises_its_buurt_green_share_exactly(demo, caplog):
    code, sq = free_square(demo, 120.0)  # 1.44 ha: also a 'park' destination (>= 1 ha)
    wards = demo["wards"]
    with caplog.at_level("INFO"):
        t, docs = scenario_effects(park_result(demo, sq), wards=wards, residents=demo["residents"],
                                   green=demo["green"], osm_path=demo["paths"]["osm"])
    # the wards out of the park's reach are not recomputed; their residents are not "in no ward"
    assert "green exposure recomputed for" in caplog.text and "lie in no ward" not in caplog.text
    expected = sq.area / wards.geometry[code].area * 100
    assert t.loc[code, "delta_green_share_pct"] == pytest.approx(expected, abs=1e-6)
    assert t.loc[code, "delta_green_m2"] == pytest.approx(sq.area, abs=1e-6)
    far = wards.geometry.distance(sq) > 1000
    assert far.sum() > 10
    green_cols = ["delta_green_share_pct", "delta_green_m2", "delta_pop_share_green_1ha_300m"]
    assert (t.loc[far, green_cols].fillna(0) == 0).all().all()
    # network distances to park/green never increase; the buurt itself gets closer to a park
    dist = [c for c in t.columns if c.endswith("_m_median")]
    assert {"delta_park_walk_m_median", "delta_green_walk_m_median"} <= set(dist)
    assert (t[dist].fillna(0) <= 1e-9).all().all()
    assert t.loc[code, "delta_park_walk_m_median"] < 0
    shares = [c for c in t.columns if c.startswith("delta_pop_share")]
    assert (t[shares].fillna(0) >= -1e-12).all().all()
    from healthgeo.network import accessibility

    base_access, _ = accessibility(demo["networks"]["walk"], demo["residents"], {}, wards,
                                   green=demo["green"], essential=("green",))
    assert_no_new_nan(t, base_access, dist + [c for c in shares if c[6:] in base_access.columns])
    assert not any("supermarket" in c or "bike" in c for c in t.columns)  # only what changed
    assert set(t.columns) == set(docs)
    assert docs["delta_green_share_pct"].unit == "%"
    # recomputing only the wards within reach equals recomputing every ward
    from healthgeo.exposure import green_exposure

    res = park_result(demo, sq)
    scen = green_exposure(wards, res.green, demo["residents"])[0]
    base = green_exposure(wards, demo["green"], demo["residents"])[0]
    for c in green_cols + ["delta_green_m2_per_resident", "delta_pop_share_green_05ha_300m"]:
        b = c.removeprefix("delta_")
        np.testing.assert_allclose(t[c], scen[b] - base[b], atol=1e-9)
    assert (t[green_cols].fillna(0) != 0).any(axis=1).sum() > 1  # neighbours gain access too
    assert docs["delta_park_walk_m_median"].unit == "m"


def test_duplicate_park_changes_nothing(demo):
    g = demo["green"]
    big = g[g["public"].astype(bool) & (g["area_m2"] >= 20_000)].iloc[0].geometry
    t, _ = scenario_effects(park_result(demo, big), wards=demo["wards"], residents=demo["residents"],
                            green=g, networks=demo["networks"])
    assert len(t.columns) >= 5
    assert np.allclose(t.fillna(0).to_numpy(), 0, atol=1e-6)


def detour(net):
    """Two network nodes < 120 m apart with the longest network detour between them (sampled)."""
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    xy = np.column_stack([net.x[:net.n_base], net.y[:net.n_base]])
    pairs = cKDTree(xy).query_pairs(120, output_type="ndarray")
    pairs = pairs[np.random.default_rng(0).choice(len(pairs), min(1500, len(pairs)), replace=False)]
    src = np.unique(pairs[:, 0])[:300]
    d = dijkstra(net.graph, indices=src, limit=6000)
    pairs = pairs[np.isin(pairs[:, 0], src)]
    gain = d[np.searchsorted(src, pairs[:, 0]), pairs[:, 1]] - np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    a, b = pairs[np.argmax(np.nan_to_num(gain, posinf=0))]
    return xy[a], xy[b]


def test_new_path_shortcut_never_lengthens_a_trip(demo):
    a, b = detour(demo["networks"]["walk"])
    wkt = f"LINESTRING ({a[0]} {a[1]}, {b[0]} {b[1]})"
    spec = {"name": "brug", "type": "new_path", "params": {"line_wkt": wkt}}
    res = apply_scenario(spec, demo["residents"], wards=demo["wards"])
    t, docs = scenario_effects(res, wards=demo["wards"], residents=demo["residents"], green=demo["green"],
                               amenities=demo["amenities"], networks=demo["networks"])
    assert set(t.columns) == set(docs)
    for cat in ("supermarket", "park", "green"):
        assert f"delta_{cat}_walk_m_median" in t.columns and f"delta_{cat}_bike_m_median" in t.columns
    dist = [c for c in t.columns if c.endswith("_m_median")]
    assert (t[dist].fillna(0) <= 1e-9).all().all()
    shares = [c for c in t.columns if c.startswith("delta_pop_share") or c == "delta_walk15_categories_mean"]
    assert (t[shares].fillna(0) >= -1e-12).all().all()
    from healthgeo.network import accessibility

    base_access, _ = accessibility(demo["networks"], demo["residents"], demo["amenities"], demo["wards"],
                                   green=demo["green"])
    assert_no_new_nan(t, base_access, dist + shares)
    # per home: homes within 300 m of the path reach some destination sooner, none later
    net = demo["networks"]["walk"]
    new, info = add_edges(net, res.new_edges)
    assert info["added"] == 1 and info["connectors"] == 0  # end points are network nodes
    near = demo["residents"][demo["residents"].distance(shapely.LineString([a, b])) < 300]
    dests = {c: g for c, g in demo["amenities"].groupby("category")}
    before, _ = home_distances(net, near, dests)
    after, _ = home_distances(new, near, dests)
    diff = (after[list(dests)] - before[list(dests)]).to_numpy()
    diff = diff[np.isfinite(diff)]
    assert (diff <= 1e-9).all() and (diff < -50).any()
