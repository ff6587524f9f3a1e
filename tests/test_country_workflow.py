"""A country run end to end (config/demo_country.yaml; docs/methods.md#country-runs): six small
municipalities as their own runs, one national GeoPackage, failures kept to their municipality."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pyogrio
import pytest
import yaml

from conftest import COUNTRY_CONFIG, run_workflow, snakemake
from healthgeo.io import sha256_file

pytestmark = pytest.mark.slow

CODES = [f"GM990{i}" for i in range(1, 7)]
NO_OSM = "GM9906"  # left out of the demo country's OSM extract (config demo.no_osm)


def _layer(path, name) -> pd.DataFrame:
    return pyogrio.read_dataframe(path, layer=name, read_geometry=False)


@pytest.fixture(scope="module")
def country(country_run_result):
    return country_run_result.workdir


@pytest.fixture(scope="module")
def national(country):
    return country / "data" / "processed" / "demo_country" / "healthgeo.gpkg"


def test_every_municipality_has_its_own_geopackage_and_the_country_one(country, national, country_run_result):
    per_gm = {gm: country / "data" / "processed" / "demo_country" / "gemeente" / gm / "healthgeo.gpkg" for gm in CODES}
    assert all(p.is_file() for p in per_gm.values()), [gm for gm, p in per_gm.items() if not p.is_file()]
    assert national.is_file()
    buurten = {gm: _layer(p, "buurt") for gm, p in per_gm.items()}
    for gm, b in buurten.items():  # each municipality's file holds only its own wards
        assert set(b["gemeentecode"]) == {gm}
    nl = _layer(national, "buurt")
    assert sorted(nl["buurtcode"]) == sorted(c for b in buurten.values() for c in b["buurtcode"])
    assert nl["buurtcode"].is_unique
    # the municipal columns are the municipality's own, value for value
    gm1 = buurten["GM9901"].set_index("buurtcode")
    nl1 = nl.set_index("buurtcode").loc[gm1.index]
    for col in ("residents", "no2_ugm3_popw", "lden_db_popw", "ses_rank_frac", "burden_score"):
        pd.testing.assert_series_equal(nl1[col], gm1[col], check_dtype=False, obj=col)
    gemeente = _layer(national, "gemeente")
    assert sorted(gemeente["gemeentecode"]) == CODES
    meta = dict(_layer(national, "metadata")[["key", "value"]].to_numpy())
    assert meta["scope"] == "national" and meta["n_municipalities"] == "6"
    summary = subprocess.run([sys.executable, "-m", "healthgeo", "outputs", str(COUNTRY_CONFIG)], cwd=country,
                             capture_output=True, text=True, check=True).stdout
    assert "6 of 6 municipality GeoPackages" in summary and "data/processed/demo_country/healthgeo.gpkg" in summary
    # every municipality's report, and the national one comparing them
    html = (national.parent / "report" / "index.html").read_text(encoding="utf-8")
    assert "Gemeenten vergeleken" in html and all(f"<td>{gm}</td>" in html for gm in CODES)
    assert "national (6 municipalities)" in html
    assert all((p.parent / "report" / "index.html").is_file() for p in per_gm.values())


def test_national_ranks_are_over_all_buurten_of_the_country(national):
    nl = _layer(national, "buurt")
    shown = nl["disclosure_reason"].isna()
    ranked = nl[shown & nl["ses_rank_frac_nl"].notna() & (nl["ses_source_nl"] == "ses_woa_score")]
    # the national rank orders every buurt of every municipality by one SES scale ...
    assert set(ranked["gemeentecode"]) == set(CODES)
    score = ranked["ses_woa_score"].astype(float)
    order = np.argsort(score.to_numpy(), kind="stable")
    assert np.all(np.diff(ranked["ses_rank_frac_nl"].to_numpy()[order]) >= -1e-12)
    # ... so it differs from the municipal rank, which starts again in every municipality
    assert (ranked["ses_rank_frac_nl"] - ranked["ses_rank_frac"]).abs().max() > 0.05
    # a percentile of NO2 for the country: the highest national NO2 buurt is in the top percentile
    top = nl.loc[nl["no2_ugm3_popw"].idxmax()]
    assert top["no2_ugm3_popw_pctl_nl"] >= 99


def test_disparity_has_national_and_municipal_scope(national):
    d = _layer(national, "disparity")
    assert set(d["scope"]) == {"national", *CODES}
    nat = d[(d["scope"] == "national") & (d["level"] == "buurt")]
    assert {"no2_ugm3_popw", "lden_db_popw"} <= set(nat["indicator"])
    # national measures rest on every published buurt of the country
    b = _layer(national, "buurt")
    n_shown = int((b["disclosure_reason"].isna() & b["no2_ugm3_popw"].notna()).sum())
    ci = nat[(nat["indicator"] == "no2_ugm3_popw") & (nat["metric"] == "ci_relative")]
    assert len(ci) == 1 and ci["n_wards"].iloc[0] == n_shown
    assert ci["ci_low"].iloc[0] <= ci["value"].iloc[0] <= ci["ci_high"].iloc[0]
    # the gemeente level compares municipalities
    assert len(d[(d["scope"] == "national") & (d["level"] == "gemeente")]) > 0


def test_walkability_reference_is_computed_over_the_countrys_buurten(national):
    ref = _layer(national, "walkability_reference").set_index("component")
    nl = _layer(national, "buurt")
    shown = nl[nl["disclosure_reason"].isna()]
    for comp in ("daily_living_score", "pop_density_per_km2", "intersection_density_per_km2"):
        v = shown[comp].dropna().astype(float)
        assert ref.loc[comp, "mean"] == pytest.approx(v.mean(), rel=1e-9)
        assert ref.loc[comp, "sd"] == pytest.approx(v.std(ddof=1), rel=1e-9)
        assert ref.loc[comp, "source"].startswith("national")
    z = sum((shown[c].astype(float) - ref.loc[c, "mean"]) / ref.loc[c, "sd"] for c in ref.index)
    np.testing.assert_allclose(shown["walkability_index_nl"].astype(float), z, rtol=1e-9)
    assert _layer(national, "burden_reference")["label"].str.startswith("national").all()


def test_a_municipality_without_osm_coverage_has_null_street_values_with_the_reason(country, national):
    nl = _layer(national, "buurt")
    mine = nl[nl["gemeentecode"] == NO_OSM]
    others = nl[(nl["gemeentecode"] != NO_OSM) & nl["disclosure_reason"].isna()]
    assert mine["access_nan_reason"].str.contains("no OSM coverage").all()
    assert mine["supermarket_walk_m_median"].isna().all() and mine["walkability_index"].isna().all()
    assert others["supermarket_walk_m_median"].notna().mean() > 0.8
    # its air and noise values are there: only the street indicators are missing
    assert mine.loc[mine["disclosure_reason"].isna(), "no2_ugm3_popw"].notna().all()
    log = country / "logs" / "demo_country" / "gemeente" / NO_OSM / "network" / "accessibility.log"
    assert "no OSM coverage" in log.read_text()


def test_an_unknown_code_is_refused_before_any_work(tmp_path):
    cfg = yaml.safe_load(COUNTRY_CONFIG.read_text())
    cfg["area"]["municipalities"] = [*CODES[:2], "GM0999"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = snakemake(tmp_path, "-n", config=path)
    assert proc.returncode != 0
    assert "GM0999" in proc.stdout + proc.stderr
    assert not (tmp_path / "data").exists()


def test_a_failing_municipality_stops_only_its_own_jobs(country, tmp_path):
    """GM9907 is not in the national files: its wards cannot be prepared. The run names it and
    fails; the six others keep their GeoPackages byte for byte and nothing else is rebuilt."""
    work = tmp_path / "run"
    shutil.copytree(country, work, symlinks=True, ignore=shutil.ignore_patterns(".snakemake", "*.lock"))
    before = {p: sha256_file(p) for p in (work / "data" / "processed").rglob("healthgeo.gpkg")}
    cfg = yaml.safe_load(COUNTRY_CONFIG.read_text())
    cfg["area"]["municipalities"] = [*CODES, "GM9907"]
    path = tmp_path / "seven.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    run = run_workflow(work, config=path, timeout=600)
    assert run.returncode != 0
    assert "GM9907" in run.console
    # the error lines (healthgeo's one-line message and where its traceback is) name the municipality
    errors = [line for line in run.console.splitlines() if line.startswith("healthgeo:") or "(traceback in" in line]
    assert errors and all("GM9907" in line for line in errors), errors
    after = {p: sha256_file(p) for p in before}
    assert after == before  # the six municipalities and the national file are untouched
    assert not (work / "data" / "processed" / "demo_country" / "gemeente" / "GM9907" / "healthgeo.gpkg").exists()
