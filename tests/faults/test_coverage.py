"""Honest coverage on inputs derived from the demo city: no indicator reports 0 for "no data".

Each case breaks the demo city in one way - a buurt outside every input's extent, a street
network that falls apart into islands, a category with no destinations - and asserts NULL with
a reason (or the failure message) instead of a silent zero.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin

from healthgeo import network as nw
from healthgeo._errors import InputDataError
from healthgeo.exposure import air_exposure, green_exposure, noise_exposure

CRS = "EPSG:28992"
SHIFT_M = 30_000.0  # far beyond every demo input (the city spans ~10 km)
FAR = "BU99999999"


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    from healthgeo.demo import generate
    from healthgeo.population import residents_from_dwellings
    from healthgeo.sources import read_boundaries, read_dwellings, read_osm_amenities, read_osm_green
    from healthgeo.wards import build_levels

    paths = generate(tmp_path_factory.mktemp("demo"))
    buurten = build_levels(read_boundaries(paths["buurten"], "buurt"), municipality="GM9999")["buurt"]
    residents = residents_from_dwellings(read_dwellings(paths["dwellings"]), buurten)
    return {"paths": paths, "wards": buurten, "residents": residents,
            "green": read_osm_green(paths["osm"]), "amenities": read_osm_amenities(paths["osm"])}


def with_far_buurt(city):
    """The demo buurten plus a copy of the most populous one moved 30 km east, with its residents."""
    wards, res = city["wards"], city["residents"]
    code = res.groupby("buurtcode")["residents"].sum().idxmax()
    far = wards.loc[[code]].copy()
    far.index = pd.Index([FAR], name=wards.index.name)
    far["geometry"] = far.geometry.translate(SHIFT_M, 0)
    moved = res[res["buurtcode"] == code].copy()
    moved["geometry"] = moved.geometry.translate(SHIFT_M, 0)
    moved["buurtcode"] = FAR
    return (gpd.GeoDataFrame(pd.concat([wards, far]), crs=wards.crs),
            gpd.GeoDataFrame(pd.concat([res, moved], ignore_index=True), crs=res.crs), code)


def small_raster(path, bounds, value):
    """A 100 m GeoTIFF over ``bounds`` (the demo city only), EPSG:28992."""
    x0, y0, x1, y1 = bounds
    w, h = int(np.ceil((x1 - x0) / 100)), int(np.ceil((y1 - y0) / 100))
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs=CRS, transform=from_origin(x0, y1, 100, 100), nodata=-9999.0) as dst:
        dst.write(np.full((1, h, w), value, dtype="float32"))
    return path


# ------------------------------------------------------------------------------ out of extent
def test_buurt_outside_every_extent_gets_null_with_a_reason(city, tmp_path):
    wards, residents, twin = with_far_buurt(city)
    p = city["paths"]
    air, _ = air_exposure(wards, {"no2": p["no2"]}, residents, assume_crs=CRS)
    assert np.isnan(air.loc[FAR, "no2_ugm3_mean"]) and np.isnan(air.loc[FAR, "no2_ugm3_popw"])
    assert air.loc[FAR, "no2_reason"] and pd.isna(air.loc[twin, "no2_reason"])
    assert air.loc[FAR, "no2_covered_frac"] == 0 and air.loc[twin, "no2_covered_frac"] > 0.99
    noise, _ = noise_exposure(wards, p["noise_lden"], p["noise_lnight"], residents)
    for col in ("lden_db_mean", "lden_db_popw", "pop_share_lden_ge_53", "lnight_db_popw"):
        assert np.isnan(noise.loc[FAR, col]), col
    assert noise.loc[FAR, "lden_reason"] and noise.loc[FAR, "lden_covered_frac"] == 0

    # green from OSM: the buurt lies beyond the extract's bounds -> unknown, not 0 %
    extent = nw.osm_extent(p["osm"])
    city_box = tuple(city["wards"].total_bounds)
    ndvi = small_raster(tmp_path / "ndvi.tif", city_box, 0.4)
    cover = small_raster(tmp_path / "landcover.tif", city_box, 2)
    green, docs = green_exposure(wards, city["green"], residents, extent=extent, ndvi=ndvi)
    for col in ("green_share_pct", "green_m2", "green_m2_per_resident", "pop_share_green_1ha_300m",
                "ndvi_mean"):
        assert np.isnan(green.loc[FAR, col]), col
        assert not np.isnan(green.loc[twin, col]), col
    assert "outside the extent of the green input (0.0 %" in green.loc[FAR, "green_reason"]
    assert "outside the extent" in green.loc[FAR, "green_access_reason"]
    assert green.loc[FAR, "ndvi_reason"] and green.loc[FAR, "green_covered_frac"] == 0
    assert green.loc[twin, "green_covered_frac"] == 1 and pd.isna(green.loc[twin, "green_reason"])
    assert docs["green_covered_frac"].theme == "quality"
    canopy, _ = green_exposure(wards, city["green"], residents, extent=extent, landcover=cover,
                               tree_classes=[2])
    assert np.isnan(canopy.loc[FAR, "tree_canopy_pct"]) and canopy.loc[FAR, "tree_canopy_reason"]
    assert canopy.loc[twin, "tree_canopy_pct"] == pytest.approx(100)

    # street network: no streets there because the extract ends, not because there are none
    nets = nw.build_graphs(p["osm"], ("walk", "bike"))
    access = nw.home_access(nets, residents, city["amenities"], green=city["green"])
    acc, _ = access.accessibility(wards)
    assert np.isnan(acc.loc[FAR, "supermarket_walk_m_median"])
    assert np.isnan(acc.loc[FAR, "pop_share_supermarket_walk_500m"])
    assert acc.loc[FAR, "access_walk_covered_frac"] == 0 and acc.loc[FAR, "access_nan_reason"]
    walk, _, _ = access.walkability(wards, extent=extent)
    assert np.isnan(walk.loc[FAR, "intersection_density_per_km2"])
    assert "outside the extent of the OSM network input" in walk.loc[FAR, "walkability_nan_reason"]
    assert walk.loc[twin, "intersection_density_per_km2"] > 0
    cyc, _ = nw.cycleway_share(nets["bike"], wards, extent=extent)
    assert np.isnan(cyc.loc[FAR, "cyclable_network_km"]) and cyc.loc[FAR, "street_network_covered_frac"] == 0
    assert cyc.loc[twin, "cyclable_network_km"] > 0


# ------------------------------------------------------------------------------ network islands
def cut_osm(src, dst, keep_share: float):
    """The demo extract with every way crossing a north-south cut line removed; the cut is
    placed so that about ``keep_share`` of the way nodes lie west of it."""
    tree = ET.parse(src)
    root = tree.getroot()
    lon = {n.get("id"): float(n.get("lon")) for n in root.iter("node")}
    ways = [w for w in root.findall("way") if any(t.get("k") == "highway" for t in w.findall("tag"))]
    used = np.array([lon[nd.get("ref")] for w in ways for nd in w.findall("nd")])
    cut = float(np.quantile(used, keep_share))
    for w in ways:
        xs = [lon[nd.get("ref")] for nd in w.findall("nd")]
        if min(xs) < cut <= max(xs):
            root.remove(w)
    tree.write(dst, encoding="utf-8", xml_declaration=True)
    return dst


def test_network_falling_apart_fails_with_the_figures(city, tmp_path):
    broken = cut_osm(city["paths"]["osm"], tmp_path / "cut.osm", keep_share=0.6)
    with pytest.raises(InputDataError) as e:
        nw.build_graphs(broken, ("walk",))  # default: the largest part must keep 90 %
    msg = str(e.value)
    assert "walk network: the largest connected component keeps" in msg
    assert "below network.min_component_share = 0.9" in msg and "\n" not in msg


def test_network_islands_give_null_and_a_covered_share(city, tmp_path, caplog):
    broken = cut_osm(city["paths"]["osm"], tmp_path / "cut.osm", keep_share=0.7)
    with caplog.at_level("WARNING", logger="healthgeo.network"):
        nets = nw.build_graphs(broken, ("walk", "bike"), min_component_share=0.5)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("largest connected component keeps" in m and "cut off" in m for m in warned)
    walk = nets["walk"]
    assert 0.5 < walk.dropped["kept_share"] < 0.9 and len(walk.islands) > 0
    wards, residents = city["wards"], city["residents"]
    access = nw.home_access(nets, residents, city["amenities"], green=city["green"])
    acc, _ = access.accessibility(wards)
    island = acc["residents_island_walk"] > 0
    assert island.any()
    # wards wholly on islands: NULL with the reason, never 0
    alone = acc["access_walk_covered_frac"] == 0
    assert alone.any()
    assert acc.loc[alone, "supermarket_walk_m_median"].isna().all()
    assert acc.loc[alone, "pop_share_supermarket_walk_1000m"].isna().all()
    assert acc.loc[alone, "access_nan_reason"].str.contains("network islands").all()
    # the city-wide figure says how many residents it comes from
    gem = gpd.GeoDataFrame(geometry=[wards.union_all()], crs=wards.crs,
                           index=pd.Index(["GM9999"], name="gemeentecode"))
    g, _ = access.accessibility(gem)
    on = ~access.distances["walk"]["off_network"] & ~access.distances["walk"]["on_island"]
    expect = residents.loc[on.to_numpy(), "residents"].sum() / residents["residents"].sum()
    assert g.loc["GM9999", "access_walk_covered_frac"] == pytest.approx(expect)
    assert 0 < expect < 1
    # streets on islands still exist: no buurt loses its intersections or cycle network
    w, _, _ = access.walkability(wards)
    intact = nw.build_graphs(city["paths"]["osm"], ("walk", "bike"))
    w0, _, _ = nw.home_access(intact, residents, {}).walkability(wards)
    had = w0["intersection_density_per_km2"] > 0
    assert (w.loc[had, "intersection_density_per_km2"] > 0).mean() > 0.95
    c, _ = nw.cycleway_share(nets["bike"], wards)
    c0, _ = nw.cycleway_share(intact["bike"], wards)
    assert ((c["cyclable_network_km"] > 0) == (c0["cyclable_network_km"] > 0)).all()


# ------------------------------------------------------------------------------ stable schema
def test_no_supermarket_tagged_keeps_the_supermarket_columns(city):
    amenities = city["amenities"]
    nets = nw.build_graphs(city["paths"]["osm"], ("walk", "bike"))
    wards, residents = city["wards"], city["residents"]
    full, _ = nw.home_access(nets, residents, amenities, green=city["green"]).accessibility(wards)
    none = amenities[amenities["category"] != "supermarket"]
    t, docs = nw.home_access(nets, residents, none, green=city["green"]).accessibility(wards)
    assert list(t.columns) == list(full.columns)
    sm = [c for c in t.columns if c.startswith("supermarket_") and c != "supermarket_access_nan_reason"]
    sm += [c for c in t.columns if c.startswith("pop_share_supermarket_")]
    assert len(sm) == 16  # walk/bike median, p90 (all, 65+), walk 500 m/1000 m and 15 min shares
    assert t[sm].isna().all().all()
    assert (t["supermarket_access_nan_reason"] == "no supermarket in the input").all()
    assert full["supermarket_access_nan_reason"].isna().all()


# ------------------------------------------------------------------------------ the whole run
@pytest.mark.slow
def test_run_on_a_network_that_falls_apart_fails_with_the_figures(tmp_path):
    """The workflow refuses a street network whose largest part keeps < 90 % of the nodes."""
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    repo = Path(__file__).resolve().parents[2]

    def snakemake(*args, config):
        cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(repo / "Snakefile"), "--directory",
               str(tmp_path), "--configfile", str(config), "--replace-workflow-config", "--cores", "2", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=900)

    cfg = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    cfg_path = tmp_path / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    proc = snakemake("data/raw/demo/osm/demostad.osm", config=cfg_path)  # the demo inputs
    assert proc.returncode == 0, proc.stderr[-3000:]
    cut_osm(tmp_path / "data/raw/demo/osm/demostad.osm", tmp_path / "data/raw/demo/osm/cut.osm", 0.6)
    cfg["inputs"]["osm"] = {"file": "data/raw/demo/osm/cut.osm"}
    cfg_path.write_text(yaml.safe_dump(cfg))
    proc = snakemake("data/processed/demo/buurt/network.parquet", config=cfg_path)
    assert proc.returncode != 0
    log = (tmp_path / "logs/demo/network/accessibility.log").read_text()
    assert "below network.min_component_share = 0.9" in log
    assert "largest connected component keeps" in log
    assert not (tmp_path / "data/processed/demo/buurt/network.parquet").exists()
