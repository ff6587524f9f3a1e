"""The workflow on the real Utrecht copies in ../shared/data/utrecht, given as local files.

Runs config/utrecht_offline.yaml (buurten 2013 + wijken 2022 boundaries, KWB 2023, RIVM GCN NO2
2021, health 2020, Luchtmeetnet and Samen Meten 2023, CBS 100 m grid 2018) in a temporary
directory and checks the output against facts read off those files (their PROVENANCE.md) and
against exactextract. Skipped when ../shared is absent; nothing from ../shared is copied into the
repository.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import yaml

from conftest import SHARED, requires_shared

REPO = Path(__file__).resolve().parents[1]
pytestmark = [requires_shared, pytest.mark.slow, pytest.mark.shared]


def _synthetic_fill_ins(workdir: Path) -> dict:
    """Inputs ../shared lacks (noise, PM grids, OSM, land cover, NDVI): synthetic, over Utrecht.

    The demo generator places its city over Utrecht's extent, with a margin: the OSM extract must
    cover the whole gemeente, or green and street values of the gemeente are (honestly) NULL.
    A land-cover and an NDVI raster in WGS84 exercise reprojection. All are labelled synthetic in
    the output's provenance.
    """
    import rasterio
    from rasterio.transform import from_origin

    from healthgeo.demo import FILES, generate

    demo = workdir / "data" / "raw" / "synthetic_utrecht"
    generate(demo, seed=7, origin=(125000, 447000), size_m=18000)
    rng = np.random.default_rng(3)
    transform = from_origin(4.95, 52.15, 0.0005, 0.0003)  # ~35 m cells in EPSG:4326
    shape = (450, 560)
    for name, dtype, data in (
        ("landcover", "uint8", rng.choice(np.array([10, 30, 50, 80], dtype="uint8"), size=shape, p=[0.2, 0.2, 0.5, 0.1])),
        ("ndvi", "float32", rng.uniform(-0.1, 0.8, size=shape).astype("float32")),
    ):
        with rasterio.open(demo / f"{name}.tif", "w", driver="GTiff", width=shape[1], height=shape[0], count=1,
                           dtype=dtype, crs="EPSG:4326", transform=transform) as dst:
            dst.write(data, 1)
    return {
        "pm25": {"file": str(demo / FILES["pm25"]), "crs": "EPSG:28992", "units": "ugm3"},
        "pm10": {"file": str(demo / FILES["pm10"]), "crs": "EPSG:28992", "units": "ugm3"},
        "noise_lden": {"file": str(demo / FILES["noise_lden"]), "units": "db"},
        "noise_lnight": {"file": str(demo / FILES["noise_lnight"]), "units": "db"},
        "osm": {"file": str(demo / FILES["osm"])},
        "landcover": {"file": str(demo / "landcover.tif"), "classes": [10], "units": "class"},
        "ndvi": {"file": str(demo / "ndvi.tif"), "units": "ratio"},
    }


@pytest.fixture(scope="module")
def utrecht_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("utrecht")
    text = (REPO / "config" / "utrecht_offline.yaml").read_text().replace("../shared/data/utrecht", str(SHARED))
    config = yaml.safe_load(text)
    config["inputs"].update(_synthetic_fill_ins(workdir))
    cfg = workdir / "utrecht.yaml"
    cfg.write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
         "--configfile", str(cfg), "--replace-workflow-config", "--cores", "2"],
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    return workdir / "data" / "processed" / "utrecht_offline" / "healthgeo.gpkg", config


def test_wards_and_key_figures(utrecht_run):
    gpkg, _ = utrecht_run
    b = gpd.read_file(gpkg, layer="buurt").set_index("buurtcode")
    w = gpd.read_file(gpkg, layer="wijk")
    g = gpd.read_file(gpkg, layer="gemeente")
    src = gpd.read_file(SHARED / "boundaries_gemeente_utrecht_2013" / "buurt.geojson")
    assert set(b.index) == {"BU0344" + k for k in src["KODE"]}  # 111 buurten, codes = 'BU0344' + KODE
    assert sorted(w["wijkcode"]) == [f"WK0344{i:02d}" for i in range(1, 11)]
    assert g["residents"].iloc[0] == 367_947  # KWB 2023 gemeente a_inw
    assert b["residents"].sum() == 367_715  # KWB 2023 buurt sum (rounded to 5 by CBS)
    assert b.area.sum() / 1e6 == pytest.approx(99.21, abs=0.05)
    assert b["income_keur_per_resident"].isna().all()  # early KWB release: '.' at buurt level


def test_no2_agrees_with_exactextract(utrecht_run):
    exactextract = pytest.importorskip("exactextract")
    import rasterio

    gpkg, cfg = utrecht_run
    asc = cfg["inputs"]["no2"]["file"].replace("{year}", "2021")  # the single-year stages read 2021
    for level in ("buurt", "wijk"):
        layer = gpd.read_file(gpkg, layer=level)
        with rasterio.open(asc) as src:
            profile = src.profile
            data = src.read(1)
        tif = Path(gpkg).parent / f"no2_check_{level}.tif"
        profile.update(driver="GTiff", crs="EPSG:28992")
        with rasterio.open(tif, "w", **profile) as dst:
            dst.write(data, 1)
        ref = exactextract.exact_extract(str(tif), layer, ["mean"], output="pandas")["mean"].to_numpy()
        # exactextract keeps coverage fractions in single precision (float32), so on real
        # polygons its means differ from our double-precision fractions by up to ~1e-8
        # relative; tests/test_zonal.py compares at 1e-9 on polygons where both are exact.
        np.testing.assert_allclose(layer["no2_ugm3_mean"].to_numpy(), ref, rtol=1e-7)
        if level == "buurt":  # and exactly (1e-12) against shapely cell-by-cell intersections
            from shapely.geometry import box

            values = data.astype("float64")
            for i in range(0, len(layer), 11):
                geom = layer.geometry.iloc[i]
                num = den = 0.0
                for r in range(values.shape[0]):
                    y1 = profile["transform"].f + r * profile["transform"].e
                    if not (geom.bounds[1] < y1 and y1 + profile["transform"].e < geom.bounds[3]):
                        continue
                    for c in range(values.shape[1]):
                        x0 = profile["transform"].c + c * profile["transform"].a
                        a = geom.intersection(box(x0, y1 + profile["transform"].e, x0 + profile["transform"].a, y1)).area
                        if a > 0:
                            num, den = num + a * values[r, c], den + a
                assert layer["no2_ugm3_mean"].iloc[i] == pytest.approx(num / den, rel=1e-12)
    w = gpd.read_file(gpkg, layer="wijk")
    # PROVENANCE.md: mean over cells touching each wijk, 2021: 17.1-22.7 ug/m3
    assert w["no2_ugm3_mean"].between(16.0, 23.5).all()
    b = gpd.read_file(gpkg, layer="buurt")
    assert b["no2_ugm3_mean"].notna().all(), "coverage fractions give every buurt a value on the 1 km grid"


def test_population_weighting_uses_the_grid(utrecht_run):
    gpkg, _ = utrecht_run
    b = gpd.read_file(gpkg, layer="buurt")
    assert (b["popw_method"] == "grid").sum() >= 100
    inhabited = b["disclosure_reason"].isna()  # published wards
    assert b.loc[inhabited, "no2_ugm3_popw"].between(10, 35).all()


def test_health_joined(utrecht_run):
    gpkg, _ = utrecht_run
    b = gpd.read_file(gpkg, layer="buurt").set_index("buurtcode")
    g = gpd.read_file(gpkg, layer="gemeente")
    assert b.loc["BU03440112", "health_good_health_pct"] == pytest.approx(88.1)
    assert b.loc["BU03440112", "health_lonely_pct"] == pytest.approx(38.7)
    assert b.loc["BU03440112", "health_difficulty_making_ends_meet_pct"] == pytest.approx(5.7)
    assert g["health_good_health_pct"].iloc[0] == pytest.approx(80.8)
    assert g["health_lonely_pct"].iloc[0] == pytest.approx(48.9)


def test_monitoring_against_grid(utrecht_run):
    gpkg, _ = utrecht_run
    m = pyogrio.read_dataframe(gpkg, layer="air_monitoring").set_index("site_id")
    # PROVENANCE.md: 2023 means of hourly NO2 at the Utrecht stations
    assert m.loc["NL10636", "measured_ugm3"] == pytest.approx(15.5, abs=0.1)
    assert m.loc["NL10639", "measured_ugm3"] == pytest.approx(17.8, abs=0.1)
    assert m.loc["NL10643", "measured_ugm3"] == pytest.approx(12.8, abs=0.1)
    # GCN 2021 1 km cell under Griftpark (NL10643): 18.5 (PROVENANCE.md)
    assert m.loc["NL10643", "grid_ugm3"] == pytest.approx(18.5, abs=0.1)


def test_every_indicator_family_on_real_wards(utrecht_run):
    """Real wards and residents with the synthetic fill-ins: every family of columns is written."""
    gpkg, _ = utrecht_run
    for level in ("buurt", "wijk", "gemeente"):
        layer = gpd.read_file(gpkg, layer=level)
        for col in ("no2_ugm3_popw", "pm25_ugm3_popw", "lden_db_popw", "pop_share_lden_ge_53", "green_share_pct",
                    "tree_canopy_pct", "ndvi_mean", "supermarket_walk_m_median", "walkability_index",
                    "deaths_attr_pm25_per_year_central", "typology"):
            assert col in layer and layer[col].notna().any(), (level, col)
        assert (layer["green_covered_frac"] > 1 - 1e-6).all(), level  # the OSM fill-in covers every ward
    b = gpd.read_file(gpkg, layer="buurt")
    inhabited = b["residents"] >= 50
    assert b.loc[inhabited, "tree_canopy_pct"].between(5, 40).all()  # ~20 % class-10 cells
    assert b.loc[inhabited, "ndvi_mean"].between(0.25, 0.45).all()  # uniform(-0.1, 0.8): mean 0.35
    prov = pyogrio.read_dataframe(gpkg, layer="provenance").set_index("input")
    assert prov.loc["noise_lden", "note"].startswith("SYNTHETIC")


def test_disparity_table(utrecht_run):
    gpkg, _ = utrecht_run
    d = pyogrio.read_dataframe(gpkg, layer="disparity")
    ci = d[(d.metric == "ci_relative") & (d.level == "buurt")].set_index("indicator")
    # income is missing at buurt level: ranked by the documented proxy, and it says so
    assert ci["ranking_variable"].str.startswith("proxy:health_difficulty_making_ends_meet_pct").all()
    # good health is concentrated among the advantaged buurten of Utrecht, loneliness among the disadvantaged
    assert ci.loc["health_good_health_pct", "ci_low"] > 0
    assert ci.loc["health_lonely_pct", "ci_high"] < 0
    b = gpd.read_file(gpkg, layer="buurt")
    withheld = b["residents"].fillna(0) < 50
    assert withheld.sum() == 3 and b.loc[withheld, "disclosure_reason"].notna().all()


def test_report_on_real_wards(utrecht_run, tmp_path):
    """The real run builds its report: one shape per buurt in every map, checked in a real browser."""
    import os
    import re

    from browser import check_page, chromium

    gpkg, _ = utrecht_run
    html = gpkg.parent / "report" / "index.html"
    n_buurt = len(pyogrio.read_dataframe(gpkg, layer="buurt", read_geometry=False))
    text = html.read_text()
    maps = re.findall(r'<svg class="hg-map"[^>]*data-n="(\d+)"', text)
    assert maps and set(maps) == {str(n_buurt)}
    # data quality: the inputs this run lacks are named; real files and synthetic fill-ins told apart
    inputs = re.search(r'<table class="inputs">.*?</table>', text, re.S).group(0)
    state = dict(re.findall(r"<tr[^>]*><td[^>]*><code>(\w+)</code></td><td>([^<]*)</td>", inputs))
    assert state["dwellings"] == state["trees"] == "niet in deze run" and state["no2"] == state["health"] == "ja"
    prov = text[text.index('id="provenance"'):text.index('id="versions"')]
    synthetic = dict(re.findall(r"<tr><td><code>(\w+)</code></td>.*?<td(?: class=syn)?>(ja|nee)</td>", prov))
    assert synthetic["no2"] == synthetic["health"] == "nee" and synthetic["noise_lden"] == synthetic["osm"] == "ja"
    assert "SYNTHETISCHE DEMODATA" in text  # the fill-ins make the run synthetic: banner on top
    if chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium in CI: .ci/run installs the Debian package chromium")
        pytest.skip("no Chromium here")
    result, console = check_page(html, tmp_path / "profile")
    assert console == [] and result["errors"] == []
    assert all(m["shapes"] == m["resolved"] == n_buurt and m["with_value"] > 0 for m in result["maps"])


def test_no2_trend_2019_2021_per_buurt(utrecht_run, tmp_path):
    """The real GCN grids of 2019-2021 through the workflow (years: in utrecht_offline.yaml): each
    year's buurt mean in trend_buurt equals exactextract's on that year's grid; 2021 equals the
    buurt layer; NO2 fell city-wide."""

    gpkg, cfg = utrecht_run
    trend = gpd.read_file(gpkg, layer="trend_buurt").set_index("buurtcode")
    buurt = gpd.read_file(gpkg, layer="buurt").set_index("buurtcode")
    for y in (2019, 2020, 2021):
        asc = cfg["inputs"]["no2"]["file"].replace("{year}", str(y))
        ref = exactextract_mean(asc, buurt.reset_index(), tmp_path / f"no2_{y}.tif")
        np.testing.assert_allclose(trend[f"no2_ugm3_mean_{y}"].to_numpy(), ref, rtol=1e-7)
    np.testing.assert_allclose(trend["no2_ugm3_mean_2021"], buurt["no2_ugm3_mean"], rtol=1e-12)
    change = trend["no2_ugm3_mean_change"]
    assert (change < 0).mean() > 0.9 and change.between(-8, 0.5).all(), change.describe()
    assert trend["no2_ugm3_mean_slope_per_year"].notna().all()
    gem = gpd.read_file(gpkg, layer="trend_gemeente")
    assert -6 < float(gem["no2_ugm3_mean_change"].iloc[0]) < -0.5
    prov = gpd.read_file(gpkg, layer="provenance")
    assert {"no2", "no2_2019", "no2_2020"} <= set(prov["input"])


def exactextract_mean(asc, polygons, tif: Path) -> np.ndarray:
    """exactextract's mean of an RIVM GCN ASCII grid (no CRS: copied to a GeoTIFF in RD New first)."""
    exactextract = pytest.importorskip("exactextract")
    import rasterio

    with rasterio.open(asc) as src:
        profile, data = src.profile, src.read(1)
    profile.update(driver="GTiff", crs="EPSG:28992")
    with rasterio.open(tif, "w", **profile) as dst:
        dst.write(data, 1)
    return exactextract.exact_extract(str(tif), polygons, ["mean"], output="pandas")["mean"].to_numpy()
