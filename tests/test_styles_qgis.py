"""QGIS itself opens the demo run's GeoPackage: the default style from layer_styles is applied,
the column titles are shown, and the layer renders headless to an image of more than one colour.

QGIS's Python bindings (Debian ``python3-qgis``; .ci/run installs them) belong to the system
Python, not to the test venv, so the check runs tests/qgis_render.py with ``/usr/bin/python3``.
Skipped only when that Python cannot import ``qgis.core``; in CI (``CI`` set) that is a failure.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pyogrio
import pytest

pytestmark = pytest.mark.slow

SYSTEM_PYTHON = os.environ.get("HEALTHGEO_QGIS_PYTHON", "/usr/bin/python3")
SCRIPT = Path(__file__).with_name("qgis_render.py")


def _qgis_python() -> str:
    try:
        ok = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{SYSTEM_PYTHON} cannot import qgis.core in CI: .ci/run installs the Debian package python3-qgis")
        pytest.skip(f"{SYSTEM_PYTHON} cannot import qgis.core (apt-get install python3-qgis)")
    return SYSTEM_PYTHON


def render(gpkg: Path, layer: str, png: Path, field: str) -> dict:
    proc = subprocess.run([_qgis_python(), str(SCRIPT), str(gpkg), layer, str(png), field], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                                                       # QGIS's profile folder in the test's tmp, not in ~
                                                       "QGIS_CUSTOM_CONFIG_PATH": str(png.parent)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_qgis_opens_the_buurt_layer_with_its_default_style(demo_run, tmp_path):
    gpkg = demo_run / "data" / "processed" / "demo" / "healthgeo.gpkg"
    png = tmp_path / "qgis_buurt.png"
    got = render(gpkg, "buurt", png, "no2_ugm3_popw")
    assert got["valid"]
    n_buurt = len(pyogrio.read_dataframe(gpkg, layer="buurt", read_geometry=False, columns=["buurtcode"]))
    assert got["features"] == n_buurt
    # the stored default style, applied by QGIS on opening - not QGIS's random single-colour fill
    assert got["stored_styles"][0] == "buurt: no2_ugm3_popw" and len(got["stored_styles"]) >= 5
    assert got["renderer"] == "RuleRenderer"
    assert got["rules"][:2] == ["withheld (disclosure control)", "no data"] and len(got["rules"]) >= 4
    # ... and it is the one marked useAsDefault: its rules, in order
    con = sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)
    (default_qml,) = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'buurt' AND useAsDefault").fetchone()
    con.close()
    root = ET.fromstring(default_qml.split(">", 1)[1])
    assert got["rules"] == [r.get("label") for r in root.iter("rule")]
    # column titles: the alias (from the default style; GDAL >= 3.7 also reads gpkg_data_columns)
    assert got["alias"] and "NO2" in got["alias"], got
    assert got["errors"] == []
    assert got["colours"] > 3, "the rendered map is (nearly) one colour"
    assert png.stat().st_size > 5_000


def test_qgis_applies_the_default_style_of_a_scenario_layer(demo_run, tmp_path):
    gpkg = demo_run / "data" / "processed" / "demo" / "healthgeo.gpkg"
    got = render(gpkg, "scenario_new_park_wijk05", tmp_path / "scen.png", "delta_dalys_total_per_year_central")
    assert got["valid"] and got["renderer"] == "RuleRenderer" and got["colours"] > 2
