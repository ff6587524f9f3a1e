"""Fault injection on the inputs: wrong unit, sentinels, truncated, empty, garbage and wrong-CRS files.

Each case copies the demo city's provider-shaped inputs, breaks one file, runs the workflow up to
the rule that reads it, and checks the exit code, the one-line message on the console, and that
the previous GeoPackage of the run is untouched. Self-contained (no shared fault helpers yet).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from healthgeo import demo

REPO = Path(__file__).resolve().parents[2]
RUN = "fault"
pytestmark = pytest.mark.slow


def _snakemake(workdir: Path, *targets: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "config.yaml"), "--replace-workflow-config", "--cores", "1", *targets]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """Demo inputs under ``inputs/``, a config reading them, wards prepared, a previous GeoPackage."""
    work = tmp_path_factory.mktemp("faults_base")
    demo.generate(work / "inputs", seed=42)
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    cfg["run"] = RUN
    text = yaml.safe_dump(cfg).replace("data/raw/demo/", "inputs/")
    (work / "config.yaml").write_text(text, encoding="utf-8")
    proc = _snakemake(work, f"data/processed/{RUN}/wards.gpkg")
    assert proc.returncode == 0, proc.stderr[-4000:]
    # the run's previous output: any complete GeoPackage stands in for it
    shutil.copy(work / "data" / "processed" / RUN / "wards.gpkg", work / "data" / "processed" / RUN / "healthgeo.gpkg")
    return work


@pytest.fixture
def work(base, tmp_path) -> Path:
    dst = tmp_path / "work"
    shutil.copytree(base, dst, symlinks=True, ignore=shutil.ignore_patterns(".snakemake"))
    return dst


def _fails_with(work: Path, target: str, *expected: str) -> str:
    previous = work / "data" / "processed" / RUN / "healthgeo.gpkg"
    before = _sha(previous)
    proc = _snakemake(work, target)
    assert proc.returncode != 0, proc.stderr[-3000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("healthgeo: ")]
    assert len(lines) == 1, proc.stderr[-5000:]
    line = lines[0]
    for text in expected:
        assert text in line, line
    assert len(line) < 700, line
    assert _sha(previous) == before, "the previous GeoPackage was changed"
    return line


def _set_input(work: Path, name: str, path: str) -> None:
    cfg = yaml.safe_load((work / "config.yaml").read_text(encoding="utf-8"))
    cfg["inputs"][name]["file"] = path
    (work / "config.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")


def _scale_asc(asc: Path, factor: float) -> None:
    lines = asc.read_text().splitlines()
    n_header = next(i for i, ln in enumerate(lines) if not ln.split()[0][0].isalpha())
    body = [" ".join(f"{float(v) * factor:g}" if float(v) > -999 else v for v in ln.split())
            for ln in lines[n_header:]]
    asc.write_text("\n".join(lines[:n_header] + body) + "\n")


def test_no2_grid_in_ng_per_m3_fails_before_any_work(work):
    _scale_asc(work / "inputs" / "rivm_gcn" / "conc_no2_2023.asc", 1000)
    line = _fails_with(work, f"data/processed/{RUN}/rasters/no2.tif", "InputDataError", "conc_no2_2023.asc",
                       "outside the plausible 0..150 ug/m3", "looks like ng/m3")
    assert not (work / "data" / "processed" / RUN / "rasters" / "no2.tif").exists(), line


def test_no2_grid_disagreeing_with_the_monitoring_sites_fails_with_the_comparison(work):
    # x 4.5: every cell stays in the plausible range (max 24.2 -> 109 ug/m3), but the sites measure ~1/4 of it
    _scale_asc(work / "inputs" / "rivm_gcn" / "conc_no2_2023.asc", 4.5)
    _fails_with(work, f"data/processed/{RUN}/air_monitoring_no2.parquet", "InputDataError",
                "the grid disagrees with", "monitoring site(s) by a factor", "allowed 1/3..3")


def test_heat_map_in_kelvin_fails_before_any_work(work):
    import rasterio

    tif = work / "inputs" / demo.FILES["heat"]
    with rasterio.open(tif) as ds:
        profile, arr = ds.profile, ds.read(1, masked=True)
    with rasterio.open(tif, "w", **profile) as ds:
        ds.write((arr + 273.15).filled(profile["nodata"]).astype(profile["dtype"]), 1)
    line = _fails_with(work, f"data/processed/{RUN}/rasters/heat.tif", "InputDataError",
                       "gevoelstemperatuur_hete_dag.tif", "outside the plausible -30..60 degC", "looks like kelvin")
    assert "values range 29" in line, line  # what was found: the kelvin range, from ~297 K
    assert not (work / "data" / "processed" / RUN / "rasters" / "heat.tif").exists(), line


def test_noise_raster_truncated_after_its_header(work):
    tif = work / "inputs" / "rivm_alo" / "lden_wegverkeer_2022.tif"
    data = tif.read_bytes()
    tif.write_bytes(data[: max(1024, len(data) // 20)])
    _fails_with(work, f"data/processed/{RUN}/rasters/noise_lden.tif", "InputDataError", "lden_wegverkeer_2022.tif",
                "cannot be read")


def test_empty_osm_file(work):
    (work / "inputs" / "osm" / "demostad.osm").write_bytes(b"")
    _fails_with(work, f"data/processed/{RUN}/green.gpkg", "InputDataError", "demostad.osm", "is empty (0 bytes)")


def test_truncated_health_csv(work):
    csv = work / "inputs" / "rivm" / "gezondheid_2022.csv"
    text = csv.read_text(encoding="utf-8")
    csv.write_text(text[: len(text) // 2].rsplit(";", 3)[0], encoding="utf-8")
    _fails_with(work, f"data/processed/{RUN}/buurt/health.parquet", "InputDataError", "gezondheid_2022.csv",
                "looks truncated")


def test_garbage_key_figures(work):
    (work / "inputs" / "cbs" / "kwb-2023.xlsx").write_bytes(b"PK\x03\x04" + b"\x00garbage" * 200)
    _fails_with(work, f"data/processed/{RUN}/wards.gpkg", "InputDataError", "kwb-2023.xlsx", "cannot be read")


def test_boundaries_with_a_wrong_declared_crs(work):
    geojson = work / "inputs" / "pdok" / "buurten_2023.geojson"
    text = geojson.read_text(encoding="utf-8")
    assert "EPSG::28992" in text
    geojson.write_text(text.replace("urn:ogc:def:crs:EPSG::28992", "urn:ogc:def:crs:OGC:1.3:CRS84"), encoding="utf-8")
    _fails_with(work, f"data/processed/{RUN}/wards.gpkg", "CRSError", "buurten_2023.geojson", "outside the Netherlands")


def test_sentinel_laden_health_file_publishes_null_not_the_sentinel(work):
    csv = work / "inputs" / "rivm" / "gezondheid_2022.csv"
    df = pd.read_csv(csv, sep=";", dtype=str, keep_default_na=False)
    col = next(c for c in df.columns if c.startswith("ErvarenGezondheidGoedZeerGoed"))
    rows = df.index[df["WijkenEnBuurten"].str.strip().str.startswith("BU")][:3]
    codes = df.loc[rows, "WijkenEnBuurten"].str.strip().tolist()
    for r, s in zip(rows, ["-99997", "-99995", "."]):
        df.loc[r, col] = s
    df.to_csv(csv, sep=";", index=False)
    # the 2022 wave, mapped through the crosswalk onto the 2023 buurten
    proc = _snakemake(work, f"data/processed/{RUN}/buurt/health.parquet")
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_parquet(work / "data" / "processed" / RUN / "buurt" / "health.parquet")
    values = table.loc[codes, "health_good_health_pct"]
    assert values.isna().all(), values
    assert table["health_good_health_pct"].dropna().between(0, 100).all()
    assert np.isfinite(table["health_good_health_pct"].dropna()).all()


def test_ses_table_of_another_regio_indeling_fails_naming_both_years(work):
    """The demo's SES-WOA file declared as StatLine 85539NED (regio-indeling 2022) against 2023
    boundaries: refused before any ward gets a score, both years and the unmatched count named."""
    cfg = yaml.safe_load((work / "config.yaml").read_text(encoding="utf-8"))
    cfg["inputs"]["ses"]["table"] = "85539NED"
    (work / "config.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    line = _fails_with(work, f"data/processed/{RUN}/buurt/ses.parquet",
                       "regio-indeling 2022", "boundaries are of 2023", "85900NED")
    assert " of " in line and "ward codes of the boundaries are not in the table" in line, line
    assert not (work / "data" / "processed" / RUN / "buurt" / "ses.parquet").exists()


def test_a_wave_year_without_its_boundary_file_fails_naming_the_year(work):
    """The buurten are given per year; the 2016 file is missing: the health wave 2016 cannot be
    mapped onto the 2023 buurten, and the run says which year's file is missing."""
    (work / "inputs" / "pdok" / "buurten_2016.geojson").unlink()
    line = _fails_with(work, f"data/processed/{RUN}/years/2016/buurt_health.parquet", "InputDataError",
                       "buurten_2016", "no buurten file for 2016", "buurten_2016.geojson")
    assert "remove 2016" in line, line


def test_a_crosswalk_leaving_a_ward_unexplained_fails_naming_ward_and_figure(work):
    """A buurt missing from the 2016 boundaries (an incomplete file): its 2023 buurt has none of
    its residents explained by the 2016 wards - refused by name with the figure, never averaged."""
    import json

    path = work / "inputs" / "pdok" / "buurten_2016.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    codes_2023 = {f["properties"]["buurtcode"] for f in
                  json.loads((work / "inputs" / "pdok" / "buurten_2023.geojson").read_text(encoding="utf-8"))["features"]}
    gone = next(f for f in data["features"]
                if f["properties"]["buurtcode"] in codes_2023 and f["properties"]["aantalInwoners"] > 500)
    code = gone["properties"]["buurtcode"]
    data["features"].remove(gone)
    path.write_text(json.dumps(data), encoding="utf-8")
    line = _fails_with(work, f"data/processed/{RUN}/years/2016/buurt_health.parquet", "InputDataError",
                       "crosswalk 2016 -> the 2023 buurt boundaries", f"{code} (0 %)", "less than 50 %")
    assert not (work / "data" / "processed" / RUN / "years" / "2016" / "buurt_health.parquet").exists()
    assert "cover the municipality" in line, line
