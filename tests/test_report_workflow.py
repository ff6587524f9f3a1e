"""The report of a real workflow run that lacks inputs: no noise rasters and no health table.

The run is assembled by the real rules (a second run name in the session's demo folder, reusing
the generated demo files), so the GeoPackage is what such a run really writes. Its report still
builds, names the missing inputs and draws no empty maps for them.
"""

from __future__ import annotations

import re

import pyogrio
import pytest
import yaml

from conftest import DEMO_CONFIG, in_demo_folder, run_workflow

#: its runs are made in the session's demo-run folder
pytestmark = [pytest.mark.slow, in_demo_folder]

RUN = "demo_subset"
DROPPED = ("noise_lden", "noise_lnight", "health", "heat")


@pytest.fixture(scope="module")
def subset_run(demo_run, tmp_path_factory):
    cfg = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    cfg["run"] = RUN
    for name in DROPPED:
        del cfg["inputs"][name]
    # lighter than the demo where the report does not look: no wheelchair network, one year
    cfg["network"]["modes"] = ["walk", "bike"]
    cfg.pop("years", None)
    cfg["inputs"]["no2"]["file"] = cfg["inputs"]["no2"]["file"].replace("{year}", "2023")
    # a Lden scenario without a noise raster changes nothing: the report must say so, not map zeros
    cfg["scenarios"] = [s for s in cfg["scenarios"] if s["type"] in ("no2_reduction", "lden_reduction")]
    path = tmp_path_factory.mktemp("subset") / "subset.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    run = run_workflow(demo_run, config=path)
    assert run.returncode == 0, run.console[-4000:]
    return demo_run / "data" / "processed" / RUN


def test_report_of_a_run_without_noise_and_health_says_so(subset_run):
    gpkg = subset_run / "healthgeo.gpkg"
    fields = [c for c in pyogrio.read_info(gpkg, layer="buurt")["fields"] if c.startswith(("lden_", "health_"))]
    if fields:  # the columns may exist, but without a single value
        assert pyogrio.read_dataframe(gpkg, layer="buurt", read_geometry=False, columns=fields).isna().all().all()
    text = (subset_run / "report" / "index.html").read_text(encoding="utf-8")  # report.language: nl (default)
    maps = text[text.index('<section id="maps">'):text.index('<section id="inequality">')]

    def family(key):
        return re.search(rf'<h3 id="fam-{key}">.*?(?=<h3 id="fam-|</section>)', maps, re.S).group(0)

    for key, inputs in (("noise", "noise_lden, noise_lnight"), ("health", "health"), ("heat", "heat")):
        part = family(key)
        assert f"Niet in deze run: de invoer {inputs} ontbreekt" in part, part
        assert "hg-map" not in part  # no empty map
    assert "hg-map" in family("air") and "hg-map" in family("green")
    inputs = re.search(r'<table class="inputs">.*?</table>', text, re.S).group(0)
    state = dict(re.findall(r"<tr[^>]*><td[^>]*><code>(\w+)</code></td><td>([^<]*)</td>", inputs))
    assert all(state[name] == "niet in deze run" for name in DROPPED)
    assert state["no2"] == state["osm"] == "ja"
    scen = text[text.index('<section id="scenarios">'):text.index('<section id="quality">')]
    ring = re.search(r'<h3 id="scen-ring_road_lden_minus_3db">.*?(?=<h3 id="scen-|</section>)', scen, re.S).group(0)
    assert "Niet in deze run: de invoer noise_lden ontbreekt" in ring and "hg-map" not in ring
    no2 = re.search(r'<h3 id="scen-no2_minus_20pct_wijk01">.*?(?=<h3 id="scen-|</section>)', scen, re.S).group(0)
    assert "hg-map" in no2
    assert "SYNTHETISCHE DEMODATA" in text


def test_demo_report_builds_without_warnings(demo_run, tmp_path):
    """No Python warnings (pandas deprecations included) while the report of the demo run is built,
    in English and in Dutch; the double-burden list is the GeoPackage's."""
    import warnings

    import pandas as pd

    from healthgeo.report import build_report

    gpkg = demo_run / "data" / "processed" / "demo" / "healthgeo.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for lang in ("en", "nl"):
            text = build_report(gpkg, tmp_path / lang / "index.html", language=lang).read_text(encoding="utf-8")
    b = pyogrio.read_dataframe(gpkg, layer="buurt", read_geometry=False, columns=["buurtcode", "double_burden"])
    expected = set(b.loc[pd.to_numeric(b["double_burden"]).fillna(0).astype(bool), "buurtcode"])
    summary = text[text.index('<section id="summary">'):text.index('<section id="maps">')]
    assert expected and set(re.findall(r"<td>(BU\d{8})</td>", summary)) == expected
