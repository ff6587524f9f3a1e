"""Years as a dimension in the workflow (config ``years:``; docs/methods.md#trends).

The demo config reads its NO2 grid for 2021, 2022 and 2023 (``conc_no2_{year}.asc``); the
``trend_{level}`` layers hold each year's values on the 2023 wards, the change and the slope.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import yaml
from conftest import DEMO_CONFIG, REPO

from healthgeo._errors import ConfigError
from healthgeo.config import base_year, input_spec, load_config, validate, year_instances

YEARS = (2021, 2022, 2023)


def _cfg(**changes) -> dict:
    cfg = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    cfg.update(changes)
    return cfg


def test_years_without_a_per_year_input_is_one_year(caplog):
    """The demo config with its NO2 grid replaced by one file: one year, no trend stage, said once."""
    from healthgeo.config import trend_years

    cfg = _cfg()
    cfg["inputs"]["no2"] = {"file": "a.asc", "units": "ugm3"}
    with caplog.at_level("WARNING"):
        out = validate(cfg)
    assert trend_years(out) == [] and not [k for k in year_instances(out) if k.startswith("no2")]
    assert "no raster input varies by year" in caplog.text


def test_year_instances_and_specs():
    cfg = load_config(DEMO_CONFIG)
    assert base_year(cfg) == 2023
    assert {k: v for k, v in year_instances(cfg).items() if k.startswith("no2")} == {
        "no2_2021": ("no2", 2021), "no2_2022": ("no2", 2022)}
    assert input_spec(cfg, "no2")["file"].endswith("conc_no2_2023.asc")
    assert input_spec(cfg, "no2_2021")["file"].endswith("conc_no2_2021.asc") and input_spec(cfg, "no2_2021")["year"] == 2021
    assert input_spec(cfg, "pm25")["file"].endswith("conc_pm25_2023.asc")  # one file: every year reuses it
    # years after area.year: the single-year stages take the last year up to area.year
    assert base_year(validate(_cfg(years=[2019, 2021, 2025]))) == 2021
    assert base_year(validate(_cfg(years=[2024, 2025]))) == 2024


@pytest.mark.parametrize("change, message", [
    ({"years": [2023]}, "years"),
    ({"years": None}, "no `years:` is given"),
    ({"inputs": {"kerncijfers": {"file": "k_{year}.xlsx"}}}, "only the air and noise rasters"),
    ({"inputs": {"health": {"file": "h_{year}.csv"}}}, "needs the waves"),
    ({"inputs": {"health": {"file": "h.csv", "years": [2020, 2022]}}}, "need `{year}` in `file:`"),
    ({"inputs": {"no2": {"file": "n_{year}.asc", "years": [2020, 2022]}}}, "only a survey input"),
])
def test_bad_years_config_is_refused(change, message):
    cfg = _cfg()
    if "years" in change:
        if change["years"] is None:
            del cfg["years"]
        else:
            cfg["years"] = change["years"]
    for name, spec in change.get("inputs", {}).items():
        cfg["inputs"][name] = spec
    with pytest.raises(ConfigError, match=message):
        validate(cfg)


def test_health_waves_and_per_year_boundaries_in_the_config():
    cfg = load_config(DEMO_CONFIG)
    from healthgeo.config import base_wave, boundary_years, trend_periods, wave_years

    assert wave_years(cfg) == [2016, 2020, 2022] and base_wave(cfg) == 2022
    assert boundary_years(cfg) == [2016, 2020, 2022] and trend_periods(cfg) == [2016, 2020, 2021, 2022, 2023]
    inst = year_instances(cfg)
    assert {k: v for k, v in inst.items() if not k.startswith("no2")} == {
        "buurten_2016": ("buurten", 2016), "buurten_2020": ("buurten", 2020), "buurten_2022": ("buurten", 2022),
        "health_2016": ("health", 2016), "health_2020": ("health", 2020)}
    # the run's own boundaries are area.year's; the base wave is the health input itself
    assert input_spec(cfg, "buurten")["file"].endswith("buurten_2023.geojson")
    assert input_spec(cfg, "buurten_2016")["file"].endswith("buurten_2016.geojson")
    assert input_spec(cfg, "health")["file"].endswith("gezondheid_2022.csv") and input_spec(cfg, "health")["year"] == 2022
    assert "years" not in input_spec(cfg, "health_2016")
    # boundaries not per year: the waves are joined by code, no crosswalk years
    c = _cfg()
    c["inputs"]["buurten"] = {"file": "b.geojson"}
    assert boundary_years(validate(c)) == [] and "buurten_2016" not in year_instances(validate(c))


@pytest.fixture(scope="module")
def layers(demo_run):
    gpkg = demo_run / "data" / "processed" / "demo" / "healthgeo.gpkg"
    return {n: gpd.read_file(gpkg, layer=n) for n in ("buurt", "trend_buurt", "trend_wijk", "trend_gemeente",
                                                       "data_dictionary", "provenance", "crosswalk",
                                                       "crosswalk_quality", "disparity_trend")}


def test_trend_layers_on_the_demo(layers):
    buurt = layers["buurt"].set_index("buurtcode")
    trend = layers["trend_buurt"].set_index("buurtcode")
    assert list(trend.index) == list(buurt.index)
    for y in YEARS:
        assert f"no2_ugm3_popw_{y}" in trend and f"no2_ugm3_mean_{y}" in trend
    # the base year's values are the buurt layer's (same grid, same wards, same residents)
    np.testing.assert_allclose(trend["no2_ugm3_mean_2023"], buurt["no2_ugm3_mean"], rtol=1e-12)
    np.testing.assert_allclose(trend["no2_ugm3_popw_2023"].dropna(), buurt["no2_ugm3_popw"].dropna(), rtol=1e-12)
    # the demo's NO2 falls by 0.3-1.3 ug/m3 a year (most next to the main roads): so does every buurt's
    slope = trend["no2_ugm3_mean_slope_per_year"]
    assert slope.between(-1.31, -0.29).all(), slope.describe()
    assert (trend["no2_ugm3_mean_slope_lo95"] <= slope).all() and (slope <= trend["no2_ugm3_mean_slope_hi95"]).all()
    np.testing.assert_allclose(trend["no2_ugm3_mean_change"], trend["no2_ugm3_mean_2023"] - trend["no2_ugm3_mean_2021"])
    # small buurten: resident values withheld here as in the buurt layer; area values stay
    withheld = buurt["disclosure_reason"].notna()
    assert withheld.any() and trend.loc[withheld, "no2_ugm3_popw_change"].isna().all()
    assert trend.loc[withheld, "no2_ugm3_mean_change"].notna().all()
    assert trend.loc[~withheld, "no2_ugm3_popw_change"].notna().all()
    for level in ("trend_wijk", "trend_gemeente"):
        assert (layers[level]["no2_ugm3_mean_change"] < 0).all()


def test_trend_columns_documented_and_inputs_per_year_in_provenance(layers):
    dd = layers["data_dictionary"]
    rows = dd[dd["layer"] == "trend_buurt"].set_index("column")
    assert set(layers["trend_buurt"].columns) - {"geometry"} <= set(rows.index)
    r = rows.loc["no2_ugm3_popw_slope_per_year"]
    assert r["unit"] == rows.loc["no2_ugm3_popw_2021", "unit"] + " per year"
    assert "docs/methods.md#trends" in r["method"] and r["theme"] == "trend"
    prov = layers["provenance"]
    files = dict(zip(prov["input"], prov["file"]))
    assert files["no2"].endswith("conc_no2_2023.asc") and files["no2_2021"].endswith("conc_no2_2021.asc")
    assert files["no2_2022"].endswith("conc_no2_2022.asc")


def test_adding_a_year_reruns_only_that_year_and_the_trend(demo_run, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(demo_run, work, symlinks=True, ignore=shutil.ignore_patterns("console*.txt"))
    grids = work / "data" / "raw" / "demo" / "rivm_gcn"
    shutil.copy(grids / "conc_no2_2021.asc", grids / "conc_no2_2020.asc")
    cfg = _cfg(years=[2020, *YEARS])
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))  # key order as written (Snakemake compares params)
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
           "--configfile", str(path), "--replace-workflow-config", "--cores", "1", "--dry-run", "--quiet", "rules"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = proc.stdout.split("job count")[-1] if "job count" in proc.stdout else proc.stdout
    planned = {ln.split()[0]: int(ln.split()[1]) for ln in table.splitlines()
               if len(ln.split()) == 2 and ln.split()[1].isdigit()}
    assert planned == {"fetch_input": 1, "prepare_raster": 1, "exposure_year": 1, "trend": 1, "disparity_trend": 1,
                       "assemble": 1, "report": 1, "all": 1, "total": 8}, proc.stdout


def _planned(work: Path, cfg: dict, tmp_path: Path) -> dict:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))  # key order as written (Snakemake compares params)
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
           "--configfile", str(path), "--replace-workflow-config", "--cores", "1", "--dry-run", "--quiet", "rules"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = proc.stdout.split("job count")[-1] if "job count" in proc.stdout else proc.stdout
    return {ln.split()[0]: int(ln.split()[1]) for ln in table.splitlines()
            if len(ln.split()) == 2 and ln.split()[1].isdigit()}


def test_adding_a_health_wave_reruns_only_that_wave_and_the_trends(demo_run, tmp_path):
    """A 2018 wave (its health file and its year's buurten): fetched, mapped through its crosswalk,
    then the trend, the disparity trend and the GeoPackage - nothing of the other waves or years."""
    work = tmp_path / "work"
    shutil.copytree(demo_run, work, symlinks=True, ignore=shutil.ignore_patterns("console*.txt"))
    raw = work / "data" / "raw" / "demo"
    shutil.copy(raw / "pdok" / "buurten_2016.geojson", raw / "pdok" / "buurten_2018.geojson")
    shutil.copy(raw / "rivm" / "gezondheid_2016.csv", raw / "rivm" / "gezondheid_2018.csv")
    cfg = _cfg()
    cfg["inputs"]["health"]["years"] = [2016, 2018, 2020, 2022]
    assert _planned(work, cfg, tmp_path) == {
        "fetch_input": 2, "health_wave": 1, "trend": 1, "disparity_trend": 1, "assemble": 1, "report": 1, "all": 1,
        "total": 8}


def test_the_demo_crosswalk_table_and_its_quality(layers):
    """The demo's 2016-2022 buurten differ from 2023's in a split, a merge and a renamed code."""
    from healthgeo import demo

    xw = layers["crosswalk"]
    assert list(xw.columns[:6]) == ["year", "level", "from_code", "to_code", "weight", "method"]
    assert set(xw["year"]) == {2016, 2020, 2022}
    b = xw[(xw["year"] == 2022) & (xw["level"] == "buurt")]
    assert set(b["method"]) == {"identical", "renamed", "residents"}
    # weights sum to one per source ward (the demo's boundaries cover the same city)
    np.testing.assert_allclose(b.groupby("from_code")["weight"].sum(), 1.0, atol=1e-9)
    city = demo.boundary_history.__doc__  # the kinds of change, documented where they are made
    assert "split" in city and "merged" in city and "renamed" in city
    split = b.groupby("from_code").filter(lambda g: len(g) == 2)  # the buurt split in 2023: two targets
    merged = b.groupby("to_code").filter(lambda g: len(g) == 2)  # the buurt merged in 2023: two sources
    assert len(split) == 2 and len(merged) == 2 and (merged["weight"] == 1.0).all()
    assert len(b[b["method"] == "renamed"]) == 1
    q = layers["crosswalk_quality"]
    qb = q[(q["year"] == 2022) & (q["level"] == "buurt")].set_index("code")
    assert (qb["explained_frac"].dropna() >= 0.99).all()
    assert (qb.loc[split["to_code"], "unambiguous_frac"] == 0).all()
    assert (qb.drop(index=split["to_code"])["unambiguous_frac"].dropna() == 1).all()
    dd = layers["data_dictionary"]
    for table in ("crosswalk", "crosswalk_quality", "disparity_trend"):
        assert set(layers[table].columns) - {"geometry"} <= set(dd.loc[dd["layer"] == table, "column"])


def test_health_wave_changes_with_intervals_on_the_demo(layers):
    trend = layers["trend_gemeente"].iloc[0]
    col = "health_good_health_pct"
    for y in (2016, 2020, 2022):
        assert np.isfinite(trend[f"{col}_{y}"])
    assert f"{col}_2021" not in layers["trend_gemeente"]
    lo, hi, change = trend[f"{col}_change_lo95"], trend[f"{col}_change_hi95"], trend[f"{col}_change"]
    assert lo < change < hi and change == pytest.approx(trend[f"{col}_2022"] - trend[f"{col}_2016"])
    assert bool(trend[f"{col}_change_significant"]) == (lo > 0 or hi < 0)
    buurt = layers["trend_buurt"].set_index("buurtcode")
    shown = buurt[f"{col}_change"].notna()
    assert shown.sum() > 50
    assert (buurt.loc[shown, f"{col}_change_lo95"] < buurt.loc[shown, f"{col}_change"]).all()
    # the demo's estimates drift more in poorer buurten: a share of the buurt changes are significant
    flags = buurt.loc[shown, f"{col}_change_significant"].astype(bool)
    assert 0 < flags.sum() < len(flags)


def test_disparity_trend_table_on_the_demo(layers):
    t = layers["disparity_trend"]
    assert set(t["metric"]) == {"ci_relative", "sii", "quintile_difference"}
    assert set(t["kind"]) == {"year", "change"} and set(t["level"]) == {"buurt", "wijk"}
    no2 = t[(t["indicator"] == "no2_ugm3_popw") & (t["level"] == "buurt")]
    assert set(no2.loc[no2["kind"] == "year", "year_first"]) == set(YEARS)
    ch = no2[no2["kind"] == "change"].set_index("metric")
    assert (ch["year_first"] == 2021).all() and (ch["year_last"] == 2023).all()
    years = no2[no2["kind"] == "year"].set_index(["metric", "year_first"])["value"]
    assert ch.loc["sii", "value"] == pytest.approx(years[("sii", 2023)] - years[("sii", 2021)])
    assert (ch["ci_low"] < ch["value"]).all() and (ch["value"] < ch["ci_high"]).all()
    health = t[t["indicator"].str.startswith("health_") & (t["kind"] == "change")]
    assert len(health) and (health["year_first"] == 2016).all() and (health["year_last"] == 2022).all()
