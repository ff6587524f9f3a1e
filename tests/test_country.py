"""Country runs (docs/methods.md#country-runs): config, run paths, the OSM cut and the national wards."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

import geopandas as gpd
import pytest
import yaml
from shapely.geometry import box

from healthgeo import config as hc
from healthgeo._errors import ConfigError, InputDataError
from healthgeo.national import national_wards
from healthgeo.osmcut import cut, rd_box_to_wgs84

from conftest import REPO


def _demo_config() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def _country(codes) -> dict:
    cfg = _demo_config()
    cfg["run"] = "land"
    cfg["area"] = {"municipalities": codes, "year": 2023}
    cfg["scenarios"] = []
    return cfg


def test_single_municipality_run_path_is_the_run():
    cfg = hc.validate(_demo_config())
    assert not hc.is_country(cfg)
    assert hc.run_paths(cfg) == {"demo": "GM9999"}
    assert hc.national_inputs(cfg, list(cfg["inputs"])) == []


def test_country_run_paths_and_national_inputs():
    cfg = hc.validate(_country(["GM9901", "GM9902", "GM9903"]))
    assert hc.is_country(cfg)
    assert hc.run_paths(cfg) == {f"land/gemeente/GM990{i}": f"GM990{i}" for i in (1, 2, 3)}
    # every demo input is a local file: registered once for all municipalities
    assert set(hc.national_inputs(cfg, list(cfg["inputs"]))) == set(cfg["inputs"])
    cfg["inputs"]["osm"] = {"provider": "osm"}
    assert "osm" not in hc.national_inputs(cfg, list(cfg["inputs"]))


def test_all_means_every_real_municipality_of_the_year():
    cfg = hc.validate(_country("all"))
    codes = hc.municipalities(cfg)
    assert 340 <= len(codes) <= 345  # 342 municipalities on 1 January 2023
    assert "GM0344" in codes and not any(c.startswith("GM99") for c in codes)
    # Weesp (GM0457) merged into Amsterdam in 2022: not in 2023's list
    assert "GM0457" not in codes


def test_unknown_code_in_the_list_is_refused_naming_it():
    with pytest.raises(ConfigError) as e:
        hc.validate(_country(["GM0344", "GM0999", "GM9902"]))
    assert "GM0999" in str(e.value) and "area.municipalities" in str(e.value)
    with pytest.raises(ConfigError, match="GM0457"):  # merged into Amsterdam in 2022
        hc.validate(_country(["GM0344", "GM0457"]))


def test_municipality_and_municipalities_together_are_refused():
    cfg = _country(["GM9901"])
    cfg["area"]["municipality"] = "GM9999"
    with pytest.raises(ConfigError, match="area"):
        hc.validate(cfg)


def test_country_scenario_codes_must_belong_to_a_listed_municipality():
    cfg = _country(["GM9901", "GM9902"])
    cfg["scenarios"] = [copy.deepcopy(_demo_config()["scenarios"][0])]  # where: wijk WK999901
    with pytest.raises(ConfigError, match="WK999901"):
        hc.validate(cfg)
    cfg["scenarios"][0]["where"] = {"wijk": ["WK990201"]}
    hc.validate(cfg)


# --- the OSM cut: hand-checkable ------------------------------------------------------------------

def _osm(tmp_path):
    """Nodes along lat 52.09 (node 7 at 52.095); the box keeps lon 5.10-5.12."""
    lons = {1: 5.090, 2: 5.105, 3: 5.115, 4: 5.130, 5: 5.140, 6: 5.150, 7: 5.111}
    nodes = "".join(f'  <node id="{i}" version="1" lat="{52.095 if i == 7 else 52.09}" lon="{lon}"/>\n'
                    for i, lon in lons.items())
    ways = (
        '  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><tag k="highway" v="residential"/></way>\n'
        '  <way id="11"><nd ref="5"/><nd ref="6"/><tag k="highway" v="footway"/></way>\n'
        '  <way id="12"><nd ref="7"/><nd ref="3"/><tag k="highway" v="path"/></way>\n'
    )
    rels = (
        '  <relation id="20"><member type="way" ref="11" role=""/><tag k="type" v="route"/></relation>\n'
        '  <relation id="21"><member type="way" ref="10" role=""/><member type="way" ref="11" role=""/></relation>\n'
    )
    p = tmp_path / "land.osm"
    p.write_text(f"<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n"
                 f'  <bounds minlat="52.0" minlon="5.0" maxlat="52.2" maxlon="5.2"/>\n{nodes}{ways}{rels}</osm>\n')
    return p


def _rd_box(lon0, lon1, lat0=52.08, lat1=52.10):
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
    xs, ys = t.transform([lon0, lon1, lon0, lon1], [lat0, lat0, lat1, lat1])
    return min(xs), min(ys), max(xs), max(ys)


def test_cut_keeps_inside_nodes_whole_ways_and_relations_with_kept_members(tmp_path):
    rd = _rd_box(5.100, 5.120)
    lon0, _, lon1, _ = rd_box_to_wgs84(rd)
    assert lon0 <= 5.100 and lon1 >= 5.120  # the WGS84 box encloses the RD box
    assert lon1 < 5.130  # ... and not much more: node 4 stays outside
    out = tmp_path / "cut.osm"
    counts = cut(_osm(tmp_path), out, rd)
    root = ET.parse(out).getroot()
    nodes = {int(n.get("id")) for n in root.iter("node")}
    ways = {int(w.get("id")) for w in root.iter("way")}
    rels = {int(r.get("id")) for r in root.iter("relation")}
    # way 10 touches the box (nodes 2, 3): kept whole with its outside nodes 1 and 4
    assert ways == {10, 12} and nodes == {1, 2, 3, 4, 7}
    assert rels == {21}  # 20 has only the dropped way 11
    assert counts == {"nodes": 5, "ways": 2, "relations": 1}
    b = root.find("bounds")
    assert float(b.get("minlon")) == pytest.approx(5.090) and float(b.get("maxlon")) == pytest.approx(5.130)
    # the extract reads back as OSM XML through the network stage's coverage check
    from healthgeo.network import osm_extent

    assert osm_extent(out).area > 0


def test_cut_of_an_area_without_data_has_no_nodes(tmp_path):
    out = tmp_path / "empty.osm"
    counts = cut(_osm(tmp_path), out, _rd_box(5.170, 5.180))
    assert counts == {"nodes": 0, "ways": 0, "relations": 0}
    root = ET.parse(out).getroot()
    assert root.find("node") is None and root.find("bounds") is None


def test_cut_of_a_truncated_extract_says_so(tmp_path):
    p = _osm(tmp_path)
    p.write_text(p.read_text()[:300])
    with pytest.raises(InputDataError, match="truncated"):
        cut(p, tmp_path / "x.osm", _rd_box(5.100, 5.120))
    assert not (tmp_path / "x.osm").exists()


def test_cut_refuses_a_file_that_is_not_osm(tmp_path):
    p = tmp_path / "land.geojson"
    p.write_text("{}")
    with pytest.raises(InputDataError, match="netherlands-latest.osm.pbf"):
        cut(p, tmp_path / "x.osm", _rd_box(5.100, 5.120))


# --- national wards ---------------------------------------------------------------------------------

def _wards(path, gm, buurten):
    crs = "EPSG:28992"
    layers = {
        "buurt": gpd.GeoDataFrame({"buurtcode": buurten, "wijkcode": [f"WK{gm[2:]}01"] * len(buurten),
                                   "gemeentecode": gm}, geometry=[box(i, 0, i + 1, 1) for i in range(len(buurten))],
                                  crs=crs),
        "wijk": gpd.GeoDataFrame({"wijkcode": [f"WK{gm[2:]}01"], "gemeentecode": gm}, geometry=[box(0, 0, 9, 1)],
                                 crs=crs),
        "gemeente": gpd.GeoDataFrame({"gemeentecode": [gm]}, geometry=[box(0, 0, 9, 1)], crs=crs),
    }
    for level, g in layers.items():
        g.to_file(path, layer=level, driver="GPKG", engine="pyogrio")
    return path


def test_national_wards_hold_every_ward_and_refuse_a_code_in_two_municipalities(tmp_path):
    a = _wards(tmp_path / "a.gpkg", "GM9901", ["BU99010101", "BU99010102"])
    b = _wards(tmp_path / "b.gpkg", "GM9902", ["BU99020101"])
    out = national_wards({"GM9901": a, "GM9902": b}, tmp_path / "nl.gpkg")
    assert len(gpd.read_file(out, layer="buurt")) == 3
    assert sorted(gpd.read_file(out, layer="gemeente")["gemeentecode"]) == ["GM9901", "GM9902"]
    c = _wards(tmp_path / "c.gpkg", "GM9903", ["BU99010102"])  # a buurt code of GM9901
    with pytest.raises(InputDataError, match=r"BU99010102.*GM9901.*GM9903"):
        national_wards({"GM9901": a, "GM9903": c}, tmp_path / "nl2.gpkg")
    assert len(gpd.read_file(out, layer="buurt")) == 3  # the earlier file untouched


def test_an_extract_without_streets_is_no_coverage_not_a_broken_file(tmp_path):
    """The cut of an area the national extract does not reach reads as an empty network, and the
    graph builder says "no OSM coverage" (the network stages then write NULLs with that reason);
    an extract with ways but none for walking stays an input error."""
    from healthgeo._errors import NoStreetsError
    from healthgeo.network import build_graphs
    from healthgeo.sources.osm_network import read_osm_xml

    out = tmp_path / "empty.osm"
    cut(_osm(tmp_path), out, _rd_box(5.170, 5.180))
    nodes, edges = read_osm_xml(out)
    assert len(nodes) == 0 and len(edges) == 0
    with pytest.raises(NoStreetsError, match="no OSM coverage"):
        build_graphs(out, ["walk", "bike"])
    motorway = tmp_path / "motorway.osm"
    motorway.write_text(_osm(tmp_path).read_text().replace('v="residential"', 'v="motorway"')
                        .replace('v="footway"', 'v="motorway"').replace('v="path"', 'v="motorway"'))
    with pytest.raises(InputDataError) as e:
        build_graphs(motorway, ["walk"])
    assert not isinstance(e.value, NoStreetsError)
