"""The online code path of the workflow, end to end, against a local replay server.

The providers (PDOK OGC API Features, CBS OData, RIVM/CBS health OData, RIVM GCN) are replayed
from the demo city's data in the documented response shapes; the workflow runs with `provider:`
inputs whose `base_url` points at the server. Checks: the documented paths are requested, the
GeoPackage is written with provider provenance, and the raw-response cache makes a rerun
offline (server gone, manifests removed: everything is fetched again from the cache).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import yaml

from healthgeo.demo import FILES, generate

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

#: KWB short name -> CBS OData (Kerncijfers wijken en buurten) column, as in table 85618NED
KWB_ODATA = {
    "a_inw": "AantalInwoners_5", "a_00_14": "k_0Tot15Jaar_8", "a_15_24": "k_15Tot25Jaar_9",
    "a_25_44": "k_25Tot45Jaar_10", "a_45_64": "k_45Tot65Jaar_11", "a_65_oo": "k_65JaarOfOuder_12",
    "a_hh": "HuishoudensTotaal_28", "g_ink_pi": "GemiddeldInkomenPerInwoner_72",
    "p_hh_li": "HuishoudensMetEenLaagInkomen_80", "a_lan_ha": "OppervlakteLand_113",
}
_LEVEL = {"Gemeente": "Gemeente  ", "Wijk": "Wijk      ", "Buurt": "Buurt     "}


def _ogc(path: Path, code: str, name: str) -> dict:
    """A PDOK OGC API Features page (snake_case attributes) from a demo WFS-style GeoJSON."""
    gj = json.loads(path.read_text())
    for f in gj["features"]:
        p = f["properties"]
        p["aantal_inwoners"] = p.pop("aantalInwoners", None)
        f["properties"] = {k: v for k, v in p.items() if k in (code, name, "wijkcode", "gemeentecode",
                                                                 "gemeentenaam", "aantal_inwoners")}
    return {"type": "FeatureCollection", "features": gj["features"], "links": [{"rel": "self", "href": "x"}],
            "numberReturned": len(gj["features"])}


def _kwb_odata(path: Path) -> tuple[dict, dict]:
    kwb = pd.read_excel(path, dtype=str)
    rows, titles = [], []
    for _, r in kwb.iterrows():
        code = r["gwb_code_10"].strip()
        row = {"WijkenEnBuurten": code.ljust(10), "SoortRegio_2": _LEVEL[r["recs"].strip()]}
        for short, long in KWB_ODATA.items():
            v = r.get(short)
            row[long] = None if v is None or str(v).strip() in (".", "", "nan") else float(v)
        rows.append(row)
        titles.append({"Key": code.ljust(10), "Title": r["regio"]})
    return {"odata.metadata": "x", "value": rows}, {"value": titles}


def _health_odata(path: Path) -> dict:
    raw = pd.read_csv(path, sep=";", dtype=str)
    records = []
    for _, r in raw.iterrows():
        rec = {}
        for k, v in r.items():
            v = None if pd.isna(v) or not str(v).strip() else str(v)
            if v is not None and k not in ("Leeftijd", "Marges", "WijkenEnBuurten", "Perioden", "Gemeentenaam_1",
                                           "SoortRegio_2", "Codering_3"):
                v = float(v)
            rec[k] = v
        records.append(rec)
    return {"value": records}


def _zip(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, data)
    return buf.getvalue()


@pytest.fixture(scope="module")
def online_run(tmp_path_factory):
    from replay import ReplayServer

    workdir = tmp_path_factory.mktemp("online")
    demo = workdir / "data" / "raw" / "demo"
    generate(demo)
    srv = ReplayServer().__enter__()
    base = "/cbs/wijken-en-buurten-2023/ogc/v1/collections"
    srv.add(f"{base}/buurten/items", json=_ogc(demo / FILES["buurten"], "buurtcode", "buurtnaam"))
    srv.add(f"{base}/wijken/items", json=_ogc(demo / FILES["wijken"], "wijkcode", "wijknaam"))
    srv.add(f"{base}/gemeenten/items", json=_ogc(demo / FILES["gemeente"], "gemeentecode", "gemeentenaam"))
    data, titles = _kwb_odata(demo / FILES["kerncijfers"])
    srv.add("/ODataApi/odata/85618NED/TypedDataSet", json=data)
    srv.add("/ODataApi/odata/85618NED/WijkenEnBuurten", json=titles)
    srv.add("/ODataApi/OData/50120NED/TypedDataSet", json=_health_odata(demo / FILES["health"]))
    srv.add("/data/gcn/conc_no2_2023.zip", headers={"Content-Type": "application/zip"},
            body=_zip("conc_no2_2023/conc_no2_2023.asc", (demo / FILES["no2"]).read_bytes()))
    opts = {"base_url": srv.base}
    config = {
        "run": "online",
        "area": {"municipality": "GM9999", "year": 2023},
        "inputs": {
            "buurten": {"provider": "pdok", "options": opts},
            "wijken": {"provider": "pdok", "options": opts},
            "gemeente": {"provider": "pdok", "options": opts},
            "kerncijfers": {"provider": "cbs_odata", "options": opts},
            "health": {"provider": "rivm_gezondheid", "year": 2022, "options": opts},
            "no2": {"provider": "rivm_gcn", "year": 2023, "crs": "EPSG:28992", "options": opts},
            "dwellings": {"file": str(demo / FILES["dwellings"]), "layer": "verblijfsobject"},
        },
    }
    cfg = workdir / "online.yaml"
    cfg.write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(cfg), "--replace-workflow-config", "--cores", "2"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    finally:
        srv.__exit__(None, None, None)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return workdir, cmd, srv


def test_documented_requests_were_made(online_run):
    _, _, srv = online_run
    paths = {r.path for r in srv.requests}
    assert {
        "/cbs/wijken-en-buurten-2023/ogc/v1/collections/buurten/items",  # https://api.pdok.nl/...
        "/cbs/wijken-en-buurten-2023/ogc/v1/collections/wijken/items",
        "/cbs/wijken-en-buurten-2023/ogc/v1/collections/gemeenten/items",
        "/ODataApi/odata/85618NED/TypedDataSet",  # https://opendata.cbs.nl/... (KWB 2023)
        "/ODataApi/OData/50120NED/TypedDataSet",  # https://dataderden.cbs.nl/... (health 2022)
        "/data/gcn/conc_no2_2023.zip",  # https://data.rivm.nl/data/gcn/...
    } <= paths
    buurten = next(r for r in srv.requests if r.path.endswith("/buurten/items"))
    assert buurten.param("gemeentecode") == "GM9999" and buurten.param("f") == "json"
    assert buurten.param("crs") == "http://www.opengis.net/def/crs/EPSG/0/28992"


def test_output_from_provider_inputs(online_run):
    workdir, _, _ = online_run
    gpkg = workdir / "data/processed/online/healthgeo.gpkg"
    b = gpd.read_file(gpkg, layer="buurt")
    demo = gpd.read_file(workdir / "data/raw/demo" / FILES["buurten"])
    assert sorted(b["buurtcode"]) == sorted(demo["buurtcode"])
    assert (b["residents_source"] == "kerncijfers").mean() > 0.95
    shown = b["disclosure_reason"].isna()  # small buurten and their secondary companions are withheld
    assert b["no2_ugm3_mean"].between(5, 60).all() and b.loc[shown, "health_good_health_pct"].notna().mean() > 0.95
    assert np.isfinite(b.loc[shown, "health_good_health_pct_lo95"]).mean() > 0.95
    prov = pyogrio.read_dataframe(gpkg, layer="provenance").set_index("input")
    assert prov.loc["buurten", "provider"] == "pdok" and "wijken-en-buurten-2023" in prov.loc["buurten", "url"]
    assert prov.loc["no2", "provider"] == "rivm_gcn" and prov.loc["no2", "licence"]
    assert prov["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()


def test_cache_makes_reruns_offline(online_run):
    """Server gone and manifests deleted: the fetch jobs rerun and are served from data/raw/{provider}."""
    workdir, cmd, _ = online_run
    shutil.rmtree(workdir / "data/raw/manifests/online")
    proc = subprocess.run([*cmd, "fetch"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (workdir / "data/raw/manifests/online/buurten.json").is_file()
    assert (workdir / "data/raw/pdok").is_dir() and (workdir / "data/raw/rivm_gcn").is_dir()
