"""The HTML report and the export on a tiny hand-made GeoPackage (4 buurten in 2 wijken).

The end-to-end checks on the demo run (real browser on every map, QGIS styles) are in
test_workflow.py; here: what a missing optional input does, broken files, language, export.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from browser import check_page, chromium
from healthgeo.report import ReportError, build_report

B = [("BU00010001", "Noord", "WK000101", 300, 12.3456), ("BU00010002", "Oost", "WK000101", 20, 25.0),
     ("BU00010003", "Zuid", "WK000102", 400, 31.0), ("BU00010004", "West", "WK000102", 250, np.nan)]


@pytest.fixture()
def tiny_gpkg(tmp_path):
    """4 buurten of 1 km², the second withheld, the fourth without NO2; no disparity, no scenarios."""
    path = tmp_path / "healthgeo.gpkg"
    x0, y0 = 150_000, 440_000
    buurt = gpd.GeoDataFrame({
        "buurtcode": [b[0] for b in B], "name": [b[1] for b in B], "wijkcode": [b[2] for b in B],
        "residents": [float(b[3]) for b in B], "no2_ugm3_popw": [b[4] for b in B],
        "no2_ugm3_popw_lo95": [b[4] - 1 for b in B], "no2_ugm3_popw_hi95": [b[4] + 1 for b in B],
        "disclosure_reason": [None, "fewer than 50 residents", None, None],
        "no2_covered_frac": [1.0, 1.0, 0.5, 0.0], "no2_reason": [None, None, None, "outside the raster"],
        "popw_method": ["bag", None, "bag", "area"],
    }, geometry=[box(x0 + 1000 * i, y0, x0 + 1000 * (i + 1), y0 + 1000) for i in range(4)], crs="EPSG:28992")
    buurt.loc[1, ["residents", "no2_ugm3_popw", "no2_ugm3_popw_lo95", "no2_ugm3_popw_hi95"]] = np.nan
    wijk = gpd.GeoDataFrame({"wijkcode": ["WK000101", "WK000102"], "name": ["W1", "W2"]},
                            geometry=[box(x0, y0, x0 + 2000, y0 + 1000), box(x0 + 2000, y0, x0 + 4000, y0 + 1000)],
                            crs="EPSG:28992")
    gem = gpd.GeoDataFrame({"gemeentecode": ["GM0001"], "name": ["Teststad"], "residents": [970.0],
                            "no2_ugm3_popw": [22.5]}, geometry=[box(x0, y0, x0 + 4000, y0 + 1000)], crs="EPSG:28992")
    for name, layer in (("buurt", buurt), ("wijk", wijk), ("gemeente", gem)):
        pyogrio.write_dataframe(layer, path, layer=name, driver="GPKG", append=path.exists())
    meta = pd.DataFrame({"key": ["run", "synthetic", "municipality"], "value": ["tiny", "true", "GM0001"]})
    pyogrio.write_dataframe(meta, path, layer="metadata", driver="GPKG", append=True)
    dd = pd.DataFrame({"layer": "buurt", "column": list(buurt.columns.drop("geometry")),
                       "unit": ["code", "text", "code", "persons", "µg/m³", "µg/m³", "µg/m³", "text", "fraction (0-1)",
                                "text", "category"],
                       "description": ["code", "name", "wijk", "residents", "Annual-mean NO2 at home", "lo", "hi", "why",
                                       "NO2 raster coverage", "why no NO2", "population weighting"],
                       "method": "", "source": ""})
    pyogrio.write_dataframe(dd, path, layer="data_dictionary", driver="GPKG", append=True)
    return path


def test_report_with_missing_optional_inputs_says_so(tiny_gpkg, tmp_path):
    out = build_report(tiny_gpkg, tmp_path / "report" / "index.html", language="en")
    text = out.read_text()
    assert "http://" not in text and "https://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "SYNTHETIC DEMO DATA" in text  # banner from metadata.synthetic
    # the air map: one shape per buurt; withheld hatched, the one without value 'no data'
    air = re.search(r'<svg class="hg-map"[^>]*data-col="no2_ugm3_popw".*?</svg>', text, re.S).group(0)
    uses = re.findall(r'<use href="#g-(\w+)" fill="([^"]+)" data-c="\w+" data-t="([^"]*)"', air)
    assert [u[0] for u in uses] == [b[0] for b in B]
    assert uses[1][1] == "url(#hatch)" and "withheld" in uses[1][2]
    assert uses[3][2] == "no data"
    assert "12.3 µg/m³" in uses[0][2] and "[95 %: 11.3 – 13.3]" in uses[0][2]
    # absent families and sections say so instead of drawing empty maps
    assert text.count("Not in this run") >= 5
    assert "Not in this run: no scenarios." in text
    assert "SII" in text or "Inequality" in text


def _add_provenance(path, inputs):
    prov = pd.DataFrame({"input": inputs, "provider": ["healthgeo demo (synthetic)"] * len(inputs),
                         "file": [f"data/raw/demo/{i}.dat" for i in inputs], "url": None, "params": "",
                         "retrieved_at": "2026-01-02T03:04:05Z", "sha256": "ab" * 32, "licence": "CC0",
                         "note": "SYNTHETIC: generated"})
    pyogrio.write_dataframe(prov, path, layer="provenance", driver="GPKG", append=True)


def test_data_quality_lists_every_input_given_or_not(tiny_gpkg, tmp_path):
    """Given: buurten and no2. Every other input of the config schema is listed as not in this run,
    and the noise and health sections name their missing inputs instead of drawing empty maps."""
    from healthgeo.report import config_inputs

    _add_provenance(tiny_gpkg, ["buurten", "no2", "stations", "sensors"])
    sites = pd.DataFrame({"site_id": ["NL1"], "pollutant": ["no2"], "network": ["luchtmeetnet"],
                          "measured_ugm3": [20.0], "grid_ugm3": [18.5], "diff_ugm3": [1.5]})
    pyogrio.write_dataframe(sites, tiny_gpkg, layer="air_monitoring", driver="GPKG", append=True)
    text = build_report(tiny_gpkg, tmp_path / "index.html", language="en").read_text()
    quality = text[text.index('<section id="quality">'):]
    inputs = re.search(r'<table class="inputs">.*?</table>', quality, re.S).group(0)
    rows = dict(re.findall(r"<tr[^>]*><td[^>]*><code>(\w+)</code></td><td>([^<]*)</td>", inputs))
    assert set(config_inputs()) <= set(rows) and len(config_inputs()) >= 15
    assert rows["buurten"] == rows["no2"] == "yes"
    assert rows["noise_lden"] == rows["health"] == rows["osm"] == "not in this run"
    # per-input coverage figures from the buurt layer: coverage fraction, reasons, population weighting
    no2 = re.search(r"<code>no2</code>.*?</tr>", inputs, re.S).group(0)
    assert "mean 62.5 %, minimum 0.0 %; 2 of 4 wards not fully covered" in no2
    assert "1 wards without a value — “outside the raster” (1)" in no2
    assert "bag: 2 · area: 1" in quality
    # withheld wards: counts per reason and the list
    assert "Withheld wards (1 / 4)" in quality and "<td>fewer than 50 residents</td><td class=\"n\">1</td>" in quality
    # provenance with the synthetic flag per record
    assert "data/raw/demo/no2.dat" in quality and quality.count('<td class=syn>yes</td>') == 4
    # monitoring sites per network; a given input without a usable site says so
    assert "1 sites (no2) in the table air_monitoring; mean absolute difference from the grid 1.50" in inputs
    assert "0 sites in the table air_monitoring (none usable: see logs/tiny/exposure/air_monitoring_*.log)" in inputs
    versions = quality[quality.index('id="versions"'):]
    assert all(f"<td>{k}</td>" in versions for k in ("healthgeo (run)", "Python", "GDAL", "PROJ", "pandas", "numpy"))
    # sections whose inputs are absent say so by name instead of drawing empty maps
    maps = text[text.index('<section id="maps">'):text.index('<section id="inequality">')]
    assert "Not in this run: input noise_lden, noise_lnight is missing" in maps
    assert "Not in this run: input health is missing" in maps
    assert maps.count('class="hg-map') == 1  # the air map only
    nl = build_report(tiny_gpkg, tmp_path / "nl.html").read_text()
    assert "Niet in deze run: de invoer noise_lden, noise_lnight ontbreekt" in nl and "niet in deze run" in nl


def test_key_figures_carry_the_synthetic_banner(tiny_gpkg, tmp_path):
    figs = {"map": tmp_path / "key_map.svg", "gradient": tmp_path / "gradient.svg"}
    build_report(tiny_gpkg, tmp_path / "index.html", language="en", figures=figs)
    for path in figs.values():
        svg = path.read_text()
        assert "SYNTHETIC DEMO DATA" in svg
        import xml.etree.ElementTree as ET

        ET.fromstring(svg)  # still well-formed


def test_report_language_nl_is_default(tiny_gpkg, tmp_path):
    text = build_report(tiny_gpkg, tmp_path / "index.html").read_text()
    assert '<html lang="nl">' in text and "Samenvatting" in text and "SYNTHETISCHE DEMODATA" in text


def test_missing_or_corrupt_geopackage_gives_one_line_error(tmp_path):
    missing = tmp_path / "nope" / "healthgeo.gpkg"
    with pytest.raises(ReportError, match=r"nope/healthgeo.gpkg: GeoPackage not found") as e:
        build_report(missing, tmp_path / "index.html")
    assert "\n" not in str(e.value)
    corrupt = tmp_path / "corrupt.gpkg"
    corrupt.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ReportError, match=r"corrupt.gpkg: not a readable GeoPackage") as e:
        build_report(corrupt, tmp_path / "index.html")
    assert "\n" not in str(e.value)
    proc = subprocess.run([sys.executable, "-m", "healthgeo", "report", str(corrupt)], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "corrupt.gpkg" in proc.stderr
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize("where", [0.25, 0.5, 0.75])
def test_damaged_geopackage_gives_one_line_error_or_a_report(tiny_gpkg, tmp_path, where):
    """Pages overwritten in the middle of the file: a report when the damage misses what it reads,
    otherwise a one-line ReportError naming the file - never a traceback."""
    data = bytearray(tiny_gpkg.read_bytes())
    start = int(len(data) * where) // 4096 * 4096
    data[start:start + 8192] = b"\xff" * len(data[start:start + 8192])
    bad = tmp_path / "damaged.gpkg"
    bad.write_bytes(bytes(data))
    proc = subprocess.run([sys.executable, "-m", "healthgeo", "report", str(bad), "-o", str(tmp_path / "r" / "index.html")],
                          capture_output=True, text=True)
    assert "Traceback" not in proc.stderr
    if proc.returncode:
        assert proc.stderr.count("\n") == 1 and "damaged.gpkg: " in proc.stderr and "make run" in proc.stderr, proc.stderr
        assert len(proc.stderr) < 400 + len(str(bad))
        assert not (tmp_path / "r" / "index.html").exists()
    else:
        assert (tmp_path / "r" / "index.html").is_file()


def test_sqlite_file_that_is_not_a_geopackage(tmp_path):
    path = tmp_path / "plain.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(ReportError, match=r"plain.sqlite: not a readable GeoPackage .*no such table: gpkg_contents.*make run"):
        build_report(path, tmp_path / "index.html")


def test_tiny_report_in_a_real_browser(tiny_gpkg, tmp_path):
    if chromium() is None:
        pytest.skip("no Chromium here (.ci/run installs the Debian package chromium)")
    out = build_report(tiny_gpkg, tmp_path / "report" / "index.html")
    result, console = check_page(out, tmp_path / "profile")
    assert console == [] and result["errors"] == []
    assert [m["shapes"] for m in result["maps"]] == [4] and result["maps"][0]["resolved"] == 4
    assert "Noord" in result["maps"][0]["tooltip"] and "12.3" in result["maps"][0]["tooltip"]
    assert all(u.startswith("file://") for u in result["requests"])


@pytest.mark.parametrize("fmt", ["geojson", "flatgeobuf", "geoparquet"])
def test_export_round_trip(tiny_gpkg, tmp_path, fmt):
    from healthgeo.export import export_layer

    out = export_layer(tiny_gpkg, tmp_path / f"buurt.{fmt}", fmt=fmt, columns=["no2_ugm3_popw", "residents"])
    got = gpd.read_parquet(out) if fmt == "geoparquet" else gpd.read_file(out)
    got = got.sort_values("buurtcode", ignore_index=True)  # FlatGeobuf stores features in spatial-index order
    assert got.crs.to_epsg() == 4326
    assert list(got.columns) == ["buurtcode", "name", "no2_ugm3_popw", "residents", "geometry"]
    src = gpd.read_file(tiny_gpkg, layer="buurt")
    np.testing.assert_allclose(got["no2_ugm3_popw"], [12.35, np.nan, 31.0, np.nan])  # 4 significant digits
    assert got["buurtcode"].tolist() == src["buurtcode"].tolist()
    # RD New's origin (155 000, 463 000) is Amersfoort (5.387° E, 52.155° N); 5 km west and 23 km south
    # of it is about 5.387 - 5/68.5 = 5.314° E and 52.155 - 23/111 = 51.948° N
    assert got.total_bounds[0] == pytest.approx(5.314, abs=0.005) and got.total_bounds[1] == pytest.approx(51.948, abs=0.005)
    back = got.to_crs("EPSG:28992")
    np.testing.assert_allclose(back.area, src.area, rtol=1e-3)


def test_export_cli_errors_and_help(tiny_gpkg, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "healthgeo", "export", str(tiny_gpkg), "--columns", "bogus"],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "bogus" in proc.stderr and proc.stderr.count("\n") == 1
    proc = subprocess.run([sys.executable, "-m", "healthgeo", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("healthgeo ")
    proc = subprocess.run([sys.executable, "-m", "healthgeo", "export", "--help"], capture_output=True, text=True)
    assert "EPSG:4326" in proc.stdout and "--columns" in proc.stdout



def test_gradient_axis_of_a_share_does_not_go_below_zero(tiny_gpkg):
    from healthgeo.report import Report

    rep = Report(tiny_gpkg, language="en")
    rows = pd.DataFrame({"metric": [f"q{i}_mean" for i in range(1, 6)], "value": [0.1, 1.0, 2.0, 3.0, 4.0],
                         "ci_low": [0.0, 0.5, 1.0, 2.0, 3.0], "ci_high": [0.3, 1.5, 3.0, 4.0, 5.0]})
    svg = rep._gradient_chart(rows, "no2_ugm3_popw")
    labels = re.findall(r'text-anchor="end">([^<]+)<', svg)
    assert labels[1] == "0", labels  # the axis starts at 0, not at -0.25
    rows["ci_low"] = rows["ci_low"] - 1  # an interval below zero keeps its (padded) negative axis
    assert re.findall(r'text-anchor="end">([^<]+)<', rep._gradient_chart(rows, "no2_ugm3_popw"))[1].startswith("-")
    rep.con.close()


def test_units_in_dutch():
    from healthgeo.report import unit_text

    assert unit_text("deaths/year", "nl") == "sterfgevallen/jaar" and unit_text("deaths/year", "en") == "deaths/year"
    assert unit_text("EUR/year (2016 prices)", "nl") == "EUR/jaar (prijspeil 2016)"
    assert unit_text("persons", "nl") == "personen" and unit_text("µg/m³", "nl") == "µg/m³"


def test_population_weighting_figures_go_to_the_input_that_was_used(tiny_gpkg, tmp_path):
    """No BAG dwellings but the CBS grid: popw_method's counts are shown on the population_grid row."""
    _add_provenance(tiny_gpkg, ["buurten", "population_grid"])
    text = build_report(tiny_gpkg, tmp_path / "index.html", language="en").read_text()
    inputs = re.search(r'<table class="inputs">.*?</table>', text, re.S).group(0)
    row = re.search(r"<code>population_grid</code>.*?</tr>", inputs, re.S).group(0)
    assert "bag: 2 · area: 1" in row and "<td>yes</td>" in row
    assert "bag: 2" not in re.search(r"<code>dwellings</code>.*?</tr>", inputs, re.S).group(0)


def test_validation_against_cbs_nabijheid_is_shown(tiny_gpkg, tmp_path):
    """The validation_access_summary table, when present, is a table in Data quality with its figures
    (correlation, median ratio, share within 25 %); absent, the report says the input is missing."""
    out = build_report(tiny_gpkg, tmp_path / "a" / "index.html", language="en").read_text()
    assert "Not in this run: the input nabijheid" in out
    summary = pd.DataFrame({"destination": ["gp", "supermarket"], "mode": ["walk", "walk"], "n_buurten": [3, 2],
                            "pearson_r": [0.873, np.nan], "median_ratio": [0.912, 1.31],
                            "share_within_25pct": [2 / 3, 0.5]})
    pyogrio.write_dataframe(summary, tiny_gpkg, layer="validation_access_summary", driver="GPKG", append=True)
    out = build_report(tiny_gpkg, tmp_path / "b" / "index.html", language="en").read_text()
    table = re.search(r'<h3 id="validation">.*?</table>', out, re.S).group(0)
    rows = re.findall(r"<tr><td>(\w+)</td><td>walk</td><td class=\"n\">(\d)</td><td class=\"n\">([^<]+)</td>"
                      r"<td class=\"n\">([^<]+)</td><td class=\"n\">([^<]+)</td></tr>", table)
    assert rows == [("gp", "3", "0.873", "0.912", "66.7 %"), ("supermarket", "2", "–", "1.31", "50.0 %")], table
    assert "Not in this run: the input nabijheid" not in out


def test_trend_section_maps_the_change_and_lists_the_years(tiny_gpkg, tmp_path):
    out = build_report(tiny_gpkg, tmp_path / "a" / "index.html", language="en").read_text()
    assert "Not in this run: one year" in out
    buurt = gpd.read_file(tiny_gpkg, layer="buurt")
    trend = buurt[["buurtcode", "name", "geometry"]].copy()
    for y, shift in ((2019, 2.0), (2020, 1.0), (2021, 0.0)):
        trend[f"no2_ugm3_popw_{y}"] = buurt["no2_ugm3_popw"] + shift
    trend["no2_ugm3_popw_change"] = -2.0
    trend["no2_ugm3_popw_slope_per_year"] = -1.0
    pyogrio.write_dataframe(trend, tiny_gpkg, layer="trend_buurt", driver="GPKG", append=True)
    gem = pd.DataFrame({"gemeentecode": ["GM0001"], "no2_ugm3_popw_2019": [24.5], "no2_ugm3_popw_2020": [23.5],
                        "no2_ugm3_popw_2021": [22.5], "no2_ugm3_popw_change": [-2.0],
                        "no2_ugm3_popw_slope_per_year": [-1.0], "no2_ugm3_popw_slope_lo95": [-1.2],
                        "no2_ugm3_popw_slope_hi95": [-0.8]})
    pyogrio.write_dataframe(gem, tiny_gpkg, layer="trend_gemeente", driver="GPKG", append=True)
    out = build_report(tiny_gpkg, tmp_path / "b" / "index.html", language="en").read_text()
    sec = re.search(r'<section id="trends">.*?</section>', out, re.S).group(0)
    assert "Years 2019, 2020, 2021" in sec
    assert re.search(r'<svg class="hg-map[^"]*"[^>]*data-col="no2_ugm3_popw_change"', sec)
    row = re.search(r"<tr><td>[^<]*</td>(<td class=\"n\">[^<]*</td>){4}<td class=\"n\">[^<]*</td></tr>", sec).group(0)
    assert ">24.5<" in row and ">22.5<" in row and ">-2.00<" in row and "-1.00 [-1.20 – -0.8]" in row, row
    assert '<a href="#trends">' in out
