"""End to end: the whole workflow on the generated demo city, in a temporary directory.

Runs the real Snakefile (every rule the real run uses) once per test session, then checks the
GeoPackage contract: layers, codes, value ranges, data dictionary, provenance, rerun = no work.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
import yaml
from conftest import in_demo_folder

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]

pytestmark = pytest.mark.slow


def _snakemake(workdir: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess:
    cmd = [*SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(config or REPO / "config" / "config.yaml"), "--replace-workflow-config",
           "--cores", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


# demo_run (the one end-to-end demo run of the session, shared with tests/faults) is in conftest.py


@pytest.fixture(scope="session")
def gpkg(demo_run) -> Path:
    return demo_run / "data" / "processed" / "demo" / "healthgeo.gpkg"


def test_layers_and_codes(gpkg):
    layers = dict(pyogrio.list_layers(gpkg))
    for name in ("buurt", "wijk", "gemeente"):
        assert layers[name] in ("Polygon", "MultiPolygon")
    for name in ("data_dictionary", "provenance", "metadata"):
        assert layers[name] is None
    b = gpd.read_file(gpkg, layer="buurt")
    w = gpd.read_file(gpkg, layer="wijk")
    g = gpd.read_file(gpkg, layer="gemeente")
    assert b.crs.to_epsg() == 28992
    assert 80 <= len(b) <= 130 and len(w) == 10 and list(g["gemeentecode"]) == ["GM9999"]
    assert b["buurtcode"].str.match(r"^BU9999\d{4}$").all() and b["buurtcode"].is_unique
    assert set(b["wijkcode"]) == set(w["wijkcode"])
    assert b.area.sum() == pytest.approx(g.area.sum(), rel=1e-6)


def test_no2_values_in_range(gpkg):
    b = gpd.read_file(gpkg, layer="buurt")
    g = gpd.read_file(gpkg, layer="gemeente")
    mean = b["no2_ugm3_mean"]
    assert mean.notna().all(), "coverage fractions give every ward a value on the 1 km grid"
    assert mean.between(5, 60).all()
    shown = b["disclosure_reason"].isna()
    assert b.loc[shown, "no2_ugm3_popw"].between(5, 60).all()
    # the municipal area mean is the area-weighted mean of the buurt means (same grid, exact weights)
    expect = np.average(mean, weights=b.area)
    assert g["no2_ugm3_mean"].iloc[0] == pytest.approx(expect, rel=1e-6)


def test_indicator_families_present_and_plausible(gpkg):
    b = gpd.read_file(gpkg, layer="buurt")
    inhabited = b["disclosure_reason"].isna()  # published wards (small ones and their companions withheld)
    assert b.loc[inhabited, "lden_db_popw"].between(35, 80).all()
    assert b["green_share_pct"].between(0, 100).all() and b["green_share_pct"].max() > 5
    assert b.loc[inhabited, "pop_share_green_1ha_300m"].between(0, 1).all()
    assert b.loc[inhabited, "health_good_health_pct"].between(40, 100).all()
    h = b[["health_good_health_pct_lo95", "health_good_health_pct", "health_good_health_pct_hi95"]].dropna()
    assert len(h) >= 95 and (h.iloc[:, 0] <= h.iloc[:, 1]).all() and (h.iloc[:, 1] <= h.iloc[:, 2]).all()
    assert set(b["popw_method"].dropna()) <= {"bag", "grid", "area"}
    assert b["ses_quintile"].dropna().between(1, 5).all()
    withheld = b["residents"].fillna(0) < 50  # primary suppression (secondary ones come on top)
    assert b.loc[withheld, "no2_ugm3_popw_lisa"].isna().all() and b.loc[withheld, "disclosure_reason"].notna().all()
    # disclosure control on the published layer: nothing about the residents, the area values stay
    assert withheld.any()
    for col in ("no2_ugm3_popw", "pop_lden_45_50", "adults_highly_annoyed_road", "health_lonely_pct",
                "supermarket_walk_m_median", "dalys_total_per_year_central", "typology"):
        assert b.loc[withheld, col].isna().all(), col
    assert b.loc[withheld, "no2_ugm3_mean"].notna().all() and b.loc[withheld, "residents"].notna().all()
    # secondary suppression: no total minus the published buurten reveals fewer than 50 residents
    w = gpd.read_file(gpkg, layer="wijk")
    hidden = b[b["disclosure_reason"].notna() & (b["residents"] > 0)]
    hidden_wijken = set(w.loc[w["disclosure_reason"].notna(), "wijkcode"])

    def safe(grp):
        return grp.empty or (len(grp) >= 2 and grp["residents"].sum() >= 50)

    for wk, grp in hidden.groupby("wijkcode"):
        assert wk in hidden_wijken or safe(grp), grp[["buurtcode", "residents"]]
    assert safe(hidden[hidden["wijkcode"].isin(hidden_wijken)]) and safe(hidden)
    assert b["disclosure_reason"].str.contains("secondary suppression").any()
    text = b.select_dtypes(include=["object", "string"])
    assert not (text == "<NA>").any().any() and not (text == "").any().any()
    dis = pyogrio.read_dataframe(gpkg, layer="disparity")
    ci = dis[(dis.metric == "ci_relative") & (dis.level == "buurt")].set_index("indicator")
    # the demo city is built so that poorer buurten near the ring road have worse health
    assert ci.loc["health_good_health_pct", "ci_low"] > 0
    g = gpd.read_file(gpkg, layer="gemeente")
    assert g["conc_index_health_good_health_pct"].iloc[0] == pytest.approx(ci.loc["health_good_health_pct", "value"])


def test_impact_levels_add_up(demo_run):
    """wijk = sum of its buurten, gemeente = sum of all (one count everywhere, as dashboards expect)."""
    from healthgeo.io import read_table

    base = demo_run / "data" / "processed" / "demo"
    b, _ = read_table(base / "buurt" / "impact.parquet")
    w, _ = read_table(base / "wijk" / "impact.parquet")
    g, _ = read_table(base / "gemeente" / "impact.parquet")
    for col in ("deaths_attr_no2_per_year_central", "ihd_cases_attr_road_noise_per_year_central",
                "dalys_total_per_year_central", "eur_total_per_year_central"):
        assert w[col].sum() == pytest.approx(b[col].sum(), rel=1e-12), col
        assert g[col].iloc[0] == pytest.approx(b[col].sum(), rel=1e-12), col
        by_wijk = b[col].groupby(b.index.str[:8].str.replace("BU", "WK")).sum()
        assert np.allclose(w[col].reindex(by_wijk.index), by_wijk, rtol=1e-12), col


def test_impact_scenarios_typology(gpkg):
    g = gpd.read_file(gpkg, layer="gemeente")
    b = gpd.read_file(gpkg, layer="buurt")
    low, mid, high = (g[f"deaths_attr_no2_per_year_{k}"].iloc[0] for k in ("low", "central", "high"))
    assert 0 < low < mid < high
    assert b["eur_total_per_year_central"].sum() == pytest.approx(g["eur_total_per_year_central"].iloc[0], rel=0.01)
    zero = gpd.read_file(gpkg, layer="scenario_no_change")
    deltas = zero.filter(like="delta_")
    assert len(deltas.columns) > 5 and (deltas.fillna(0) == 0).all().all()
    lez = gpd.read_file(gpkg, layer="scenario_no2_minus_20pct_wijk01").set_index("buurtcode")
    changed = lez["delta_deaths_attr_no2_per_year_central"].fillna(0) < 0
    assert changed.any() and set(lez.index[changed].str[:8].str.replace("BU", "WK")) == {"WK999901"}
    comp = pyogrio.read_dataframe(gpkg, layer="scenario_comparison")
    eur = comp[(comp.scenario == "no2_minus_20pct_wijk01") & (comp.column == "eur_total_per_year_central")]
    assert eur["delta"].iloc[0] == pytest.approx(lez["delta_eur_total_per_year_central"].sum())
    shown = b["disclosure_reason"].isna()
    assert b.loc[shown, "typology"].notna().all() and b.loc[~shown, "typology"].isna().all()
    assert b.loc[shown, "typology_rule"].str.startswith(tuple(b["typology"].dropna().unique())).all()
    park = gpd.read_file(gpkg, layer="scenario_new_park_wijk05")
    assert park["delta_green_share_pct"].max() > 0 and park["delta_green_share_pct"].min() >= 0
    path = gpd.read_file(gpkg, layer="scenario_new_cycle_path")
    dist = path.filter(regex=r"^delta_.*_m_median$")
    assert (dist.fillna(0) <= 1e-9).all().all() and (dist.fillna(0) < -10).any().any()  # shorter, never longer
    # the path's cycling uptake (config: 5 % of 20-64 year-olds within 500 m, +60 min/week): a health and euro gain
    averted = path["delta_deaths_averted_active_bike_per_year_central"]
    assert averted.max() > 0 and (averted.fillna(0) >= 0).all()
    path_eur = path["delta_eur_total_per_year_central"]
    assert path_eur.min() < 0 and (path_eur.fillna(0) <= 0).all()
    assert "deaths_averted_active_bike_per_year_central" not in b.columns  # baseline layers: no averted columns
    # the comparison total is the sum over all buurten; the layer withholds buurten below the
    # disclosure threshold (NULL). Only residents points within the catchment gain, so when no
    # withheld buurt lies within it the total equals the sum over the shown buurten exactly;
    # otherwise the shown buurten add up to at most the total's magnitude
    row = comp[(comp.scenario == "new_cycle_path") & (comp.column == "eur_total_per_year_central")]
    total, shown_sum = row["delta"].iloc[0], path_eur.sum()
    assert total < 0 and total <= shown_sum + 1e-6
    spec = next(s for s in yaml.safe_load((REPO / "config" / "config.yaml").read_text())["scenarios"]
                if s["name"] == "new_cycle_path")
    line = shapely.from_wkt(spec["params"]["line_wkt"])
    withheld = path[path["disclosure_reason"].notna()] if "disclosure_reason" in path else path.iloc[:0]
    if (withheld.geometry.distance(line) > spec["params"]["activity"]["catchment_m"]).all():
        assert total == pytest.approx(shown_sum, rel=1e-9)
    gain = comp[(comp.scenario == "new_cycle_path") & (comp.column == "deaths_averted_active_bike_per_year_central")]
    assert gain["baseline"].iloc[0] == 0 and gain["delta"].iloc[0] >= averted.sum() > 0


def test_every_column_documented(gpkg):
    dd = pyogrio.read_dataframe(gpkg, layer="data_dictionary")
    assert not dd[["layer", "column", "unit", "description"]].isna().any().any()
    for layer, _ in pyogrio.list_layers(gpkg):
        cols = set(pyogrio.read_info(gpkg, layer=layer)["fields"])
        missing = cols - set(dd.loc[dd["layer"] == layer, "column"])
        assert not missing, f"{layer}: undocumented {missing}"


def test_provenance_and_synthetic_label(gpkg):
    prov = pyogrio.read_dataframe(gpkg, layer="provenance")
    assert {"buurten", "kerncijfers", "health", "no2", "osm", "dwellings"} <= set(prov["input"])
    assert prov["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert prov["provider"].str.contains("demo").all() and prov["note"].str.contains("SYNTHETIC").all()
    assert "things.csv" in " ".join(prov["file"]) and not prov["file"].str.endswith(".provenance.json").any()
    meta = dict(pyogrio.read_dataframe(gpkg, layer="metadata")[["key", "value"]].values)
    assert meta["synthetic"] == "true" and meta["municipality"] == "GM9999"


@in_demo_folder
def test_rerun_does_no_work(demo_run):
    proc = _snakemake(demo_run, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_every_rule_has_log_and_benchmark(demo_run):
    bench = {p.stem for p in (demo_run / "logs" / "demo" / "benchmarks").glob("*.tsv")}
    assert any(b.startswith("fetch_") for b in bench) and "assemble" in bench
    assert (demo_run / "logs" / "demo_city" / "benchmark.tsv").is_file()


@in_demo_folder
def test_station_surface_when_no_grid(demo_run, tmp_path):
    """Without an NO2 grid, stations and sensors are interpolated; the LOO error lands in provenance."""
    cfg = tmp_path / "surface.yaml"
    text = (REPO / "config" / "config.yaml").read_text().replace("run: demo", "run: demo_surface")
    cfg.write_text("\n".join(line for line in text.splitlines() if not line.startswith("  no2:")))
    target = "data/processed/demo_surface/buurt/exposure_air.parquet"
    proc = _snakemake(demo_run, target, config=cfg)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    prov = json.loads((demo_run / "data/processed/demo_surface/rasters/no2_surface.json").read_text())
    assert "LOO RMSE" in prov[0]["note"] and prov[0]["provider"].startswith("healthgeo.surface")
    from healthgeo.io import read_table

    table, _ = read_table(demo_run / target)
    assert table["no2_ugm3_mean"].between(5, 60).all()


@in_demo_folder
def test_netcdf_no2_grid_matches_the_ascii_grid(demo_run, tmp_path):
    """The demo's NO2 grid as 4 time steps in a NetCDF file: its time mean gives the same exposure."""
    import json

    import rasterio
    import xarray as xr
    from rasterio.crs import CRS

    from healthgeo.io import read_table

    with rasterio.open(demo_run / "data/raw/demo/rivm_gcn/conc_no2_2023.asc") as ds:
        grid, t = ds.read(1).astype(np.float64), ds.transform
    grid[grid == -999] = np.nan
    offsets = np.array([-2.0, -1.0, 1.0, 2.0])  # zero mean: the time mean is the grid itself
    nc = xr.Dataset(
        {"no2": (("time", "y", "x"), grid[None] + offsets[:, None, None],
                 {"grid_mapping": "crs", "units": "ug m-3"})},
        coords={"time": np.arange(4.0), "y": t.f + t.e * (np.arange(grid.shape[0]) + 0.5),
                "x": t.c + t.a * (np.arange(grid.shape[1]) + 0.5)},
    )
    nc["time"].attrs["standard_name"] = "time"
    nc["crs"] = xr.DataArray(0, attrs={"crs_wkt": CRS.from_epsg(28992).to_wkt()})
    nc.to_netcdf(tmp_path / "no2_model.nc", engine="h5netcdf", encoding={"no2": {"_FillValue": -999.0}})
    text = (REPO / "config" / "config.yaml").read_text().replace("run: demo", "run: demo_nc")
    lines = [f"  no2: {{file: {tmp_path / 'no2_model.nc'}, variable: no2, units: ugm3}}"
             if line.startswith("  no2:") else line for line in text.splitlines()]
    cfg = tmp_path / "netcdf.yaml"
    cfg.write_text("\n".join(lines))
    target = "data/processed/demo_nc/buurt/exposure_air.parquet"
    proc = _snakemake(demo_run, target, config=cfg)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nc_table, _ = read_table(demo_run / target)
    asc_table, _ = read_table(demo_run / "data/processed/demo/buurt/exposure_air.parquet")
    assert len(nc_table) == len(asc_table) and nc_table["no2_ugm3_mean"].notna().any()
    np.testing.assert_allclose(nc_table["no2_ugm3_mean"], asc_table.loc[nc_table.index, "no2_ugm3_mean"],
                               rtol=1e-6)
    manifest = json.loads((demo_run / "data/raw/manifests/demo_nc/no2.json").read_text())
    assert "variable 'no2'" in manifest["provenance"][0]["note"]
    assert "mean over 4 time steps" in manifest["provenance"][0]["note"]


def test_online_config_plans_every_download(tmp_path):
    """The real Utrecht config: every input is fetched from its provider, nothing from the demo."""
    proc = _snakemake(tmp_path, "--dry-run", config=REPO / "config" / "utrecht.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    # 13 provider inputs + SES-WOA and Nabijheid (cbs_odata)
    assert out.count("rule fetch_input:") == 15 and "demo_city" not in out
    for rule in ("network_accessibility", "exposure_noise", "disparity", "health_impact", "prepare_ses",
                 "validation_access", "assemble"):
        assert f"rule {rule}:" in out
    # `snakemake fetch` (make fetch) downloads everything ahead for a later offline run
    proc = _snakemake(tmp_path, "--dry-run", "fetch", config=REPO / "config" / "utrecht.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("rule fetch_input:") == 15 and "rule assemble:" not in proc.stdout


def _planned_rules(workdir: Path, config: Path, *args: str) -> set[str]:
    import re

    proc = _snakemake(workdir, "--dry-run", "--forceall", *args, config=config)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return set(re.findall(r"^(?:local)?rule (\w+):", proc.stdout, flags=re.MULTILINE))


def test_demo_exercises_every_rule_of_the_real_run(tmp_path):
    """Every rule the real Utrecht runs plan (online and offline) is also in the demo's DAG."""
    demo = _planned_rules(tmp_path / "demo", REPO / "config" / "config.yaml")
    assert "demo_city" in demo and "assemble" in demo
    configs = ["utrecht.yaml"]
    from conftest import SHARED

    shared = SHARED.parents[1]  # the offline config reads ../shared/data/utrecht
    if SHARED.is_dir():
        (tmp_path / "shared").symlink_to(shared)
        configs.append("utrecht_offline.yaml")
    for cfg in configs:
        real = _planned_rules(tmp_path / cfg, REPO / "config" / cfg)
        assert len(real) > 10
        assert real <= demo, f"{cfg}: rules never run by the demo: {sorted(real - demo)}"


def _copy_demo_inputs(demo_run: Path, workdir: Path) -> None:
    shutil.copytree(demo_run / "data" / "raw" / "demo", workdir / "data" / "raw" / "demo")


def test_bad_input_clear_error_and_nothing_written(demo_run, tmp_path):
    """Duplicate ward codes in the input: the run stops with a message naming them; no output."""
    import json

    _copy_demo_inputs(demo_run, tmp_path)
    path = tmp_path / "data/raw/demo/pdok/buurten_2023.geojson"
    gj = json.loads(path.read_text())
    gj["features"].append(gj["features"][0])
    path.write_text(json.dumps(gj))
    proc = _snakemake(tmp_path, "data/processed/demo/wards.gpkg")
    assert proc.returncode != 0
    code = gj["features"][0]["properties"]["buurtcode"]
    log = (tmp_path / "logs/demo/prepare/wards.log").read_text()
    assert "duplicate buurtcode" in log and code in log
    assert not (tmp_path / "data/processed/demo/wards.gpkg").exists()
    assert not list((tmp_path / "data/processed/demo").glob(".wards*"))


def test_lint_clean(tmp_path):
    proc = _snakemake(tmp_path, "--lint")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert "Lints for" not in out, out


def test_snakefmt_clean():
    snakefmt = shutil.which("snakefmt", path=str(Path(sys.executable).parent))
    if snakefmt is None:
        pytest.skip("snakefmt not installed")
    proc = subprocess.run([snakefmt, "--check", "Snakefile", "workflow/rules"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bad_config_fails_before_any_work(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text((REPO / "config" / "config.yaml").read_text().replace("municipality: GM9999", "municipality: GM0001"))
    proc = _snakemake(tmp_path, config=cfg)
    assert proc.returncode != 0
    assert "area.municipality: unknown CBS municipality code 'GM0001'" in proc.stdout + proc.stderr
    assert not (tmp_path / "data").exists()


def test_unknown_requirement_indicator_fails_before_any_work(tmp_path):
    """A health requirement naming an indicator healthgeo does not make stops the run at start-up,
    naming the closest valid indicators; nothing is built."""
    import yaml

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["requirements"] = [{"id": "no2", "indicator": "no2_popw", "op": "<=", "threshold": 10}]
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(config))
    proc = _snakemake(tmp_path, config=cfg)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "requirements[0] (no2).indicator: 'no2_popw' is not a healthgeo indicator; closest valid indicators:" in out
    assert "no2_ugm3_popw" in out
    assert not (tmp_path / "data").exists()


def test_fixed_burden_reference_from_an_earlier_run(demo_run, tmp_path):
    """disparity.burden_reference: percentiles against a stored reference; the same one gives the same scores."""
    import yaml

    from healthgeo.io import read_table

    work = tmp_path / "work"
    shutil.copytree(demo_run, work, symlinks=True)
    earlier = demo_run / "data" / "processed" / "demo" / "healthgeo.gpkg"
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.setdefault("disparity", {})["burden_reference"] = str(earlier)
    cfg = tmp_path / "ref.yaml"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))  # keys as written: only the changed param reruns
    target = "data/processed/demo/buurt/disparity.parquet"
    proc = _snakemake(work, target, config=cfg)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert "rule disparity:" in out  # the changed setting reran the stage, and nothing before it
    assert "rule fetch_input:" not in out and "rule network_accessibility:" not in out, out[-3000:]
    ref, _ = read_table(work / "data/processed/demo/buurt/burden_reference.parquet")
    assert ref["label"].str.contains("healthgeo.gpkg").all() and set(ref["level"]) == {"buurt"}
    before, _ = read_table(demo_run / target)
    after, _ = read_table(work / target)
    np.testing.assert_allclose(after["burden_score"].to_numpy(float), before["burden_score"].to_numpy(float))


def test_report_in_a_real_browser(demo_run, gpkg, tmp_path):
    """The demo run's report, opened from file:// in headless Chromium with networking disabled:
    every map draws one shape per buurt, tooltips carry values, no console error, no request
    leaves file://."""
    import os
    import re

    from browser import check_page, chromium, screenshot

    if chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium in CI: .ci/run installs the Debian package chromium")
        pytest.skip("no Chromium here (apt-get install chromium)")
    html = demo_run / "data" / "processed" / "demo" / "report" / "index.html"
    n_buurt = len(pyogrio.read_dataframe(gpkg, layer="buurt", read_geometry=False))
    result, console = check_page(html, tmp_path / "profile")
    assert console == [] and result["errors"] == []
    assert len(result["maps"]) >= 9  # families and scenario deltas of the demo
    for m in result["maps"]:
        assert m["shapes"] == m["resolved"] == m["expected"] == n_buurt, m
        assert m["with_value"] > 0 and ": " in m["tooltip"], m  # "<ward> (<code>) <label>: <value> ..."
    assert any(re.search(r"\d+(\.\d+)? µg/m³ \[95 %", m["tooltip"]) or "µg/m³" in m["tooltip"] for m in result["maps"])
    assert all(u.startswith("file://") for u in result["requests"])
    text = html.read_text()
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", text) and "@import" not in text and "url(http" not in text
    png = screenshot(html, tmp_path / "report.png", tmp_path / "profile")
    assert png.stat().st_size > 50_000  # a drawn page, not a blank one


def test_catalog_and_long_table(gpkg):
    cat = pyogrio.read_dataframe(gpkg, layer="indicator_catalog").set_index("indicator")
    buurt_cols = set(pyogrio.read_info(gpkg, layer="buurt")["fields"])
    assert buurt_cols <= set(cat.index)
    assert cat.loc["no2_ugm3_popw", "theme"] == "air" and cat.loc["lden_db_popw", "theme"] == "noise"
    assert cat["label_en"].notna().all() and cat["label_nl"].notna().all()
    long = pyogrio.read_dataframe(gpkg, layer="indicators")
    b = pyogrio.read_dataframe(gpkg, layer="buurt", read_geometry=False).set_index("buurtcode")
    got = long[(long["level"] == "buurt") & (long["indicator"] == "health_good_health_pct")].set_index("code")
    shown = b["health_good_health_pct"].dropna()
    assert sorted(got.index) == sorted(shown.index)  # withheld buurten have no row
    np.testing.assert_allclose(got.loc[shown.index, "value"], shown)
    np.testing.assert_allclose(got.loc[shown.index, "lo95"], b.loc[shown.index, "health_good_health_pct_lo95"])
    assert not set(b.index[b["disclosure_reason"].notna()]) & set(
        long.loc[(long["level"] == "buurt") & (long["indicator"] == "no2_ugm3_popw"), "code"])


def test_qgis_layer_styles_cover_every_ward(gpkg):
    """layer_styles as QGIS reads it: one default per spatial layer; every QML parses and its rules,
    run as SQL on the layer itself, put each ward in exactly one class."""
    import sqlite3
    import xml.etree.ElementTree as ET

    con = sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)
    cols = [r[1] for r in con.execute("PRAGMA table_info(layer_styles)")]
    assert {"f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName", "styleQML",
            "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"} <= set(cols)
    types = {r[1]: r[2] for r in con.execute("PRAGMA table_info(layer_styles)")}
    assert types["update_time"] == "DATETIME" and types["useAsDefault"] == "BOOLEAN"
    spatial = {name for name, geom in pyogrio.list_layers(gpkg) if geom}
    defaults = dict(con.execute("SELECT f_table_name, sum(useAsDefault) FROM layer_styles GROUP BY f_table_name"))
    assert set(defaults) == spatial and set(defaults.values()) == {1}
    assert con.execute("SELECT count(*) FROM layer_styles WHERE f_table_name = 'buurt'").fetchone()[0] >= 5
    for table, name, text in con.execute("SELECT f_table_name, styleName, styleQML FROM layer_styles").fetchall():
        root = ET.fromstring(text.split(">", 1)[1])  # after the DOCTYPE
        filters = [r.get("filter") for r in root.iter("rule")]
        assert len(filters) == len(list(root.iter("symbol"))) >= 2, name  # no data + at least one class
        hits = con.execute(f'SELECT {", ".join(f"coalesce(({f}), 0)" for f in filters)} FROM "{table}"').fetchall()
        assert all(sum(h) == 1 for h in hits), name


def test_gpkg_data_columns_from_the_dictionary(gpkg):
    import sqlite3

    con = sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)
    ext = con.execute("SELECT table_name, extension_name FROM gpkg_extensions WHERE extension_name = 'gpkg_schema'").fetchall()
    assert {t for t, _ in ext} == {"gpkg_data_columns", "gpkg_data_column_constraints"}
    dc = {(t, c): (title, desc) for t, c, title, desc in
          con.execute("SELECT table_name, column_name, title, description FROM gpkg_data_columns")}
    buurt_cols = [r[1] for r in con.execute('PRAGMA table_info("buurt")') if r[1] != "fid"]
    assert all(("buurt", c) in dc for c in buurt_cols)
    title, desc = dc[("buurt", "no2_ugm3_popw")]
    assert title and "NO2" in desc and "[µg/m³]" in desc
    assert ("indicators", "lo95") in dc and ("layer_styles", "styleQML") in dc
    pyogrio.read_dataframe(gpkg, layer="buurt", max_features=1)  # GDAL still opens the file


def test_counts_are_integers_timestamps_datetime_and_no_empty_text(gpkg):
    import sqlite3

    con = sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)
    types = {r[1]: r[2] for r in con.execute('PRAGMA table_info("buurt")')}
    for c in ("residents", "age_0_14", "age_65_plus", "households", "homes_n", "ses_quintile"):
        assert types[c] in ("INTEGER", "MEDIUMINT", "SMALLINT", "TINYINT"), (c, types[c])
    assert {r[1]: r[2] for r in con.execute("PRAGMA table_info(provenance)")}["retrieved_at"] == "DATETIME"
    for (table,) in con.execute("SELECT table_name FROM gpkg_contents").fetchall():
        for _, col, typ, *_ in con.execute(f'PRAGMA table_info("{table}")').fetchall():
            if typ.startswith("TEXT") and not (table == "layer_styles" and col in ("f_table_catalog", "f_table_schema")):
                # (QGIS finds styles by f_table_schema = '' - its own convention - and ignores NULL)
                n = con.execute(f'SELECT count(*) FROM "{table}" WHERE "{col}" = \'\'').fetchone()[0]
                assert n == 0, (table, col)


@in_demo_folder
def test_snakemake_report_has_results(demo_run, tmp_path):
    """`snakemake --report` holds the workflow description and a Results section with the HTML
    report and the key figures (standalone SVG: one shape per buurt in the key map)."""
    import re

    out = tmp_path / "snakemake_report.html"
    proc = _snakemake(demo_run, "--report", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text(errors="replace")
    assert "Results" in text and "index.html" in text and "key_map.svg" in text and "gradient.svg" in text
    assert "healthgeo computes" in text  # workflow description
    key_map = (demo_run / "data/processed/demo/report/figures/key_map.svg").read_text()
    n_buurt = len(pyogrio.read_dataframe(demo_run / "data/processed/demo/healthgeo.gpkg", layer="buurt",
                                         read_geometry=False))
    assert len(re.findall(r"<path d=\"M[^\"]+\" fill=", key_map)) == n_buurt
