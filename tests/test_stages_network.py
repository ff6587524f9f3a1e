"""The network stage computes home distances once and translates the config's network section in one place."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import pandas as pd
import yaml
from shapely.geometry import box

from healthgeo import network as nw
from healthgeo import stages
from healthgeo._errors import ConfigError
from healthgeo.config import validate
from healthgeo.dictionary import doc

REPO = Path(__file__).resolve().parents[1]


def test_network_stage_computes_home_distances_once_for_all_levels(monkeypatch, tmp_path):
    params = dict(validate(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))["network"])
    assert params["walkability_radius_m"] == 500  # the GHSCI access threshold by default
    params["max_snap_m"] = 123.0
    wards = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs="EPSG:28992",
                             index=pd.Index(["BU1"], name="buurtcode"))
    seen = {"home_access": [], "accessibility": [], "walkability": []}

    class FakeAccess:
        def accessibility(self, w, **kw):
            seen["accessibility"].append(kw)
            return pd.DataFrame({"a": [1.0]}, index=w.index), {"a": doc("", "a")}

        def walkability(self, w, **kw):
            seen["walkability"].append(kw)
            ref = pd.DataFrame({"mean": [1.0], "sd": [1.0], "source": ["x"]},
                               index=pd.Index(["daily_living_score"], name="component"))
            return pd.DataFrame({"w": [1.0]}, index=w.index), {"w": doc("", "w")}, ref

    def fake_home_access(*args, **kw):
        seen["home_access"].append(kw)
        return FakeAccess()

    monkeypatch.setattr(stages, "read_manifest", lambda p: type("M", (), {"path": "x.osm", "spec": {"file": 1}}))
    monkeypatch.setattr(stages, "read_wards", lambda p, level: wards)
    monkeypatch.setattr(stages, "_residents", lambda p: None)
    monkeypatch.setattr(stages, "write_table", lambda *a, **k: None)
    monkeypatch.setattr(stages.gpd, "read_file", lambda *a, **k: None)
    monkeypatch.setattr(nw, "build_graphs", lambda *a, **k: {"walk": None, "bike": None})
    monkeypatch.setattr(stages, "_require_streets_inside", lambda net, wards_path: None)
    monkeypatch.setattr(nw, "home_access", fake_home_access)
    monkeypatch.setattr(nw, "osm_extent", lambda p: None)
    monkeypatch.setattr(nw, "cycleway_share", lambda net, w, **kw: (pd.DataFrame(index=w.index), {}))
    levels = {lv: tmp_path / f"{lv}.parquet" for lv in ("buurt", "wijk", "gemeente")}
    stages.network_accessibility("m.json", "r", "a", "g", "w", levels, tmp_path / "ref.parquet",
                                 params=params, margin_m=10.0)
    # snapping and Dijkstra once (one home_access), aggregation per level; walkability and
    # accessibility share its max_snap_m, so both leave out the same off-network homes
    assert len(seen["home_access"]) == 1 and seen["home_access"][0]["max_snap_m"] == 123.0
    assert len(seen["accessibility"]) == len(seen["walkability"]) == 3
    assert seen["walkability"][0]["radius_m"] == 500
    assert seen["accessibility"][0]["speeds"]["bike"] == pytest.approx(15 / 3.6)


def test_config_translation_exists_once():
    params = validate(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))["network"]
    kw = nw.config_kwargs(params)
    assert kw["access"]["speeds"] == {"walk": 1.33, "walk_children": 1.33, "walk_65plus": 1.0,
                                      "bike": pytest.approx(15 / 3.6), "bike_65plus": pytest.approx(15 / 3.6),
                                      "bike_children": pytest.approx(15 / 3.6),
                                      "wheelchair": 0.9, "wheelchair_65plus": 0.9}
    assert kw["home"] == {"max_snap_m": 250, "green_min_area_m2": 10000}
    assert kw["graph"] == {"min_component_share": 0.9, "wheelchair_max_incline_pct": 5.0}
    assert kw["modes"] == ("walk", "bike", "wheelchair")  # the demo config measures the wheelchair network
    assert set(kw["access"]) == {"speeds", "thresholds", "minutes"}
    assert kw["walkability"] == {"radius_m": 500}
    # the scenario effects read the same translation
    from healthgeo.scenario_effects import _access_kwargs

    assert _access_kwargs(params) == {**kw["home"], **kw["access"]}
    with pytest.raises(ConfigError, match="unknown key.*'walk_speed'"):
        nw.config_kwargs({"walk_speed": 1.0})
