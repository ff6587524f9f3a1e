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
    assert trend_years(out) == [] and year_instances(out) == {}
    assert "no input varies by year" in caplog.text


def test_year_instances_and_specs():
    cfg = load_config(DEMO_CONFIG)
    assert base_year(cfg) == 2023
    assert year_instances(cfg) == {"no2_2021": ("no2", 2021), "no2_2022": ("no2", 2022)}
    assert input_spec(cfg, "no2")["file"].endswith("conc_no2_2023.asc")
    assert input_spec(cfg, "no2_2021")["file"].endswith("conc_no2_2021.asc") and input_spec(cfg, "no2_2021")["year"] == 2021
    assert input_spec(cfg, "pm25")["file"].endswith("conc_pm25_2023.asc")  # one file: every year reuses it
    # years after area.year: the single-year stages take the last year up to area.year
    assert base_year(validate(_cfg(years=[2019, 2021, 2025]))) == 2021
    assert base_year(validate(_cfg(years=[2024, 2025]))) == 2024


@pytest.mark.parametrize("change, message", [
    ({"years": [2023]}, "years"),
    ({"years": None}, "no `years:` is given"),
    ({"inputs": {"health": {"file": "h_{year}.csv"}}}, "only the air and noise rasters"),
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


@pytest.fixture(scope="module")
def layers(demo_run):
    gpkg = demo_run / "data" / "processed" / "demo" / "healthgeo.gpkg"
    return {n: gpd.read_file(gpkg, layer=n) for n in ("buurt", "trend_buurt", "trend_wijk", "trend_gemeente",
                                                       "data_dictionary", "provenance")}


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
    assert planned == {"fetch_input": 1, "prepare_raster": 1, "exposure_year": 1, "trend": 1, "assemble": 1,
                       "report": 1, "all": 1, "total": 7}, proc.stdout
