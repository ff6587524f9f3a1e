"""OSM green and amenity readers on a tiny hand-written OSM XML extract and GeoJSON."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from healthgeo.sources import read_osm_amenities, read_osm_green

# lon/lat of a ~ 70 m x 110 m square in Utrecht
NODES = {1: (5.100, 52.090), 2: (5.101, 52.090), 3: (5.101, 52.091), 4: (5.100, 52.091),
         5: (5.102, 52.090), 6: (5.103, 52.090), 7: (5.103, 52.091), 8: (5.102, 52.091)}


def _osm(tmp_path):
    nodes = "\n".join(f'<node id="{i}" version="1" lat="{lat}" lon="{lon}"/>' for i, (lon, lat) in NODES.items())
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
{nodes}
<node id="20" version="1" lat="52.0905" lon="5.1045"><tag k="shop" v="supermarket"/><tag k="name" v="AH"/></node>
<node id="21" version="1" lat="52.0906" lon="5.1046"><tag k="highway" v="bus_stop"/></node>
<node id="22" version="1" lat="52.0907" lon="5.1047"><tag k="amenity" v="school"/><tag k="isced:level" v="2;3"/></node>
<node id="23" version="1" lat="52.0908" lon="5.1048"><tag k="amenity" v="school"/><tag k="isced:level" v="1"/></node>
<node id="24" version="1" lat="52.0909" lon="5.1049"><tag k="amenity" v="doctors"/></node>
<way id="100" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
  <tag k="leisure" v="park"/><tag k="name" v="Griftpark"/></way>
<way id="101" version="1"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
  <tag k="leisure" v="garden"/></way>
</osm>"""
    p = tmp_path / "mini.osm"
    p.write_text(xml, encoding="utf-8")
    return p


def test_green_from_osm_xml(tmp_path):
    g = read_osm_green(_osm(tmp_path))
    assert sorted(g["kind"]) == ["garden", "park"]
    park = g[g["kind"] == "park"].iloc[0]
    assert park["public"] and park["name"] == "Griftpark"
    assert not g[g["kind"] == "garden"].iloc[0]["public"]  # private gardens by default
    assert g.crs.equals("EPSG:28992") and park["area_m2"] == pytest.approx(68 * 111, rel=0.05)


def test_amenities_from_osm_xml(tmp_path):
    a = read_osm_amenities(_osm(tmp_path))
    cats = sorted(a["category"])
    assert cats == ["gp", "primary_school", "supermarket", "transit_stop"]  # isced 2;3 school excluded
    assert a.set_index("category").loc["supermarket", "name"] == "AH"
    assert (a.geom_type == "Point").all() and a.crs.equals("EPSG:28992")


def test_green_from_geojson_with_tags(tmp_path):
    gdf = gpd.GeoDataFrame({"leisure": ["park", None], "landuse": [None, "forest"], "access": [None, "private"],
                            "name": ["P", "F"]},
                           geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)], crs="EPSG:28992")
    p = tmp_path / "green.geojson"
    gdf.to_file(p)
    g = read_osm_green(p)
    assert list(g["kind"]) == ["park", "forest"] and list(g["public"]) == [True, False]
    assert list(g["area_m2"]) == [100, 100]


def test_amenities_from_category_column():
    gdf = gpd.GeoDataFrame({"category": ["pharmacy", "nonsense"], "name": ["A", "B"], "osmid": ["n1", "n2"]},
                           geometry=[Point(0, 0), Point(1, 1)], crs="EPSG:28992")
    a = read_osm_amenities(gdf)
    assert list(a["category"]) == ["pharmacy"]


def test_pbf_via_pyrosm_bundled_sample():
    pyrosm = pytest.importorskip("pyrosm")
    from pathlib import Path
    pbf = Path(pyrosm.__file__).parent / "data" / "test.osm.pbf"  # shipped with pyrosm (Helsinki sample)
    if not pbf.exists():
        pytest.skip("pyrosm sample PBF absent")
    g = read_osm_green(pbf)
    assert len(g) > 0 and set(g["kind"]) <= {"park", "garden", "forest", "grass", "playground", "recreation_ground",
                                             "meadow", "wood", "scrub", "cemetery"}
    a = read_osm_amenities(pbf)
    assert "transit_stop" in set(a["category"]) and a["osmid"].str.match(r"^[nwr]\d+$").all()


def test_osm_online_adapter_writes_both_layers(tmp_path, monkeypatch):
    """The Overpass call is replaced by a canned osmnx-shaped frame (no network)."""
    import osmnx as ox
    import pandas as pd

    from healthgeo.sources import fetch_input

    calls = []

    def fake_features_from_polygon(polygon, tags):
        calls.append((polygon, tags))
        if "natural" in tags:
            return gpd.GeoDataFrame({"element": ["way"], "id": [1], "leisure": ["park"], "name": ["Park"]},
                                    geometry=[box(5.10, 52.09, 5.101, 52.091)], crs="EPSG:4326"
                                    ).set_index(["element", "id"])
        return gpd.GeoDataFrame({"element": ["node"], "id": [2], "shop": ["supermarket"], "name": ["AH"]},
                                geometry=[Point(5.1, 52.09)], crs="EPSG:4326").set_index(["element", "id"])

    monkeypatch.setattr(ox, "features_from_polygon", fake_features_from_polygon)
    import healthgeo.sources.osm_network as nw  # the street network (theme all) comes from Overpass too: canned

    monkeypatch.setattr(nw, "read_overpass", lambda poly: (
        pd.DataFrame({"x": [5.100, 5.101], "y": [52.09, 52.09]}, index=[1, 2]),
        pd.DataFrame({"u": [1], "v": [2], "osmid": [9], "highway": ["residential"]})))
    boundary = gpd.GeoDataFrame(geometry=[box(134000, 455000, 136000, 457000)], crs="EPSG:28992")
    area = {"municipality": "GM0344", "year": 2023}
    out, prov = fetch_input("osm", {"provider": "osm"}, area=area, cache_dir=tmp_path, boundary=boundary)
    assert len(calls) == 2 and calls[0][1]["leisure"] == ["park", "garden", "playground"]
    g, a = read_osm_green(out), read_osm_amenities(out)
    assert list(g["kind"]) == ["park"] and list(a["category"]) == ["supermarket"] and a["osmid"][0] == "n2"
    assert prov[0].licence.startswith("ODbL")
    assert pd.notna(prov[0].sha256)


def test_resolve_spec_from_input_names():
    from healthgeo.sources import resolve_spec
    assert resolve_spec("wijken", {"provider": "pdok"})["level"] == "wijk"
    assert resolve_spec("pm25", {"provider": "rivm_gcn"})["pollutant"] == "pm25"
    assert resolve_spec("noise_lden", {"provider": "rivm_alo", "options": {"coverage_id": "x"}}) == {
        "provider": "rivm_alo", "coverage_id": "x", "layer": "lden"}
    assert resolve_spec("stations", {"provider": "luchtmeetnet", "formula": "PM25"})["formula"] == "PM25"
