"""The network stage passes the config's network section on to walkability as to accessibility."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import yaml
from shapely.geometry import box

from healthgeo import network as nw
from healthgeo import stages
from healthgeo.config import validate
from healthgeo.dictionary import doc

REPO = Path(__file__).resolve().parents[1]


def test_network_stage_passes_snap_and_radius_to_walkability(monkeypatch, tmp_path):
    params = dict(validate(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))["network"])
    assert params["walkability_radius_m"] == 500  # the GHSCI access threshold by default
    params["max_snap_m"] = 123.0
    wards = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs="EPSG:28992",
                             index=pd.Index(["BU1"], name="buurtcode"))
    seen = {}

    def fake_accessibility(*args, **kw):
        seen["accessibility"] = kw
        return pd.DataFrame({"a": [1.0]}, index=wards.index), {"a": doc("", "a")}

    def fake_walkability(*args, **kw):
        seen["walkability"] = kw
        ref = pd.DataFrame({"mean": [1.0], "sd": [1.0], "source": ["x"]},
                           index=pd.Index(["daily_living_score"], name="component"))
        return pd.DataFrame({"w": [1.0]}, index=wards.index), {"w": doc("", "w")}, ref

    monkeypatch.setattr(stages, "read_manifest", lambda p: type("M", (), {"path": "x.osm", "spec": {"file": 1}}))
    monkeypatch.setattr(stages, "read_wards", lambda p, level: wards)
    monkeypatch.setattr(stages, "_residents", lambda p: None)
    monkeypatch.setattr(stages, "write_table", lambda *a, **k: None)
    monkeypatch.setattr(stages.gpd, "read_file", lambda *a, **k: None)
    monkeypatch.setattr(nw, "build_graphs", lambda *a, **k: {"walk": None, "bike": None})
    monkeypatch.setattr(nw, "accessibility", fake_accessibility)
    monkeypatch.setattr(nw, "walkability", fake_walkability)
    monkeypatch.setattr(nw, "cycleway_share", lambda net, w: (pd.DataFrame(index=w.index), {}))
    stages.network_accessibility("m.json", "r", "a", "g", "w", {"buurt": tmp_path / "b.parquet"},
                                 tmp_path / "ref.parquet", params=params, margin_m=10.0)
    assert seen["walkability"]["max_snap_m"] == seen["accessibility"]["max_snap_m"] == 123.0
    assert seen["walkability"]["radius_m"] == 500
