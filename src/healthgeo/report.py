"""The offline HTML report of a run: ``data/processed/{run}/report/index.html``.

One self-contained page built from the run's GeoPackage alone (nothing is fetched when it is
opened: no CDN, no tiles, no fonts). Maps are inline SVG: the buurt geometries, simplified and
moved from RD New metres into SVG space, are defined once and drawn by every map with ``<use>``
(one shape per ward), with the wijk outlines on top. A small inline script shows a tooltip on
hover or tap (ward name, value, unit, 95 % interval) and, when the page is opened with
``#selfcheck``, writes a JSON self-check into the page (used by the browser test).

Sections: summary (headline figures with 95 % intervals, double-burden priority list,
attributable burden), one map per indicator family present, inequality (quintile gradient,
concentration curve, SII/RII), one per scenario, data quality (coverage, withheld wards,
provenance, software versions). A banner on top says when the inputs are synthetic. Labels come
from ``indicator_catalog`` (``label_nl``/``label_en``) and :data:`TEXT`. Map classes:
docs/methods.md#report-classes; the concentration curve: docs/methods.md#concentration-index.
"""

from __future__ import annotations

import html
import json
import logging
import platform
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from ._errors import InputDataError
from .catalog import CATALOG_COLUMNS, entry
from .classes import NO_DATA_COLOUR, WITHHELD_COLOUR, Classes, classify
from .dictionary import ColumnDoc
from .io import atomic_write

log = logging.getLogger(__name__)

LANGUAGES = ("nl", "en")

#: Report families: (key, catalog theme or column test, candidate headline columns in order)
FAMILIES = [
    ("air", "air", ["no2_ugm3_popw", "pm25_ugm3_popw", "pm10_ugm3_popw"]),
    ("noise", "noise", ["lden_db_popw", "pop_share_lden_ge_53", "lnight_db_popw"]),
    ("green", "green", ["pop_share_green_1ha_300m", "green_share_pct", "green_m2_per_resident"]),
    ("heat", "heat", ["pet_degc_popw", "pop_share_pet_ge_41", "pop_share_cool_place_walk_300m"]),
    ("access", "access", ["supermarket_walk_m_median", "walkability_index", "pop_share_walk15_complete"]),
    # the wheelchair columns only: "wheelchair" is no column theme, so nothing else stands in for
    # them in a run without network.modes wheelchair (the family then says it is absent)
    ("wheelchair", "wheelchair", ["pop_share_wheelchair_lost_any_15min", "park_wheelchair_extra_m_mean"]),
    ("health", "health", ["health_good_health_pct", "health_overweight_pct", "health_lonely_pct"]),
    ("burden", "burden", ["burden_score_pctl", "pollution_burden_pctl"]),
    ("lisa", "lisa", ["no2_ugm3_popw_lisa", "health_good_health_pct_lisa"]),
    ("typology", "typology", ["typology"]),
    ("requirements", "requirements", ["requirements_met_share", "requirements_met_n"]),
    ("impact", "impact", ["dalys_total_per_year_central", "deaths_attr_no2_per_year_central"]),
]

TEXT = {
    "nl": {
        "title": "Gezondheid en leefomgeving per buurt", "summary": "Samenvatting", "maps": "Kaarten",
        "inequality": "Ongelijkheid", "scenarios": "Scenario's", "quality": "Datakwaliteit",
        "synthetic": "SYNTHETISCHE DEMODATA — geen echte gegevens; niet gebruiken voor beleid.",
        "withheld": "achtergehouden (onthullingscontrole)", "nodata": "geen gegevens",
        "absent": "Niet in deze run: de invoer hiervoor ontbreekt.",
        "absent_inputs": "Niet in deze run: de invoer {inputs} ontbreekt (zie Datakwaliteit).",
        "absent_values": "Niet in deze run: geen waarden voor deze kaarten (zie Datakwaliteit).",
        "not_in_run": "niet in deze run", "in_run": "ja", "inputs": "Invoer van deze run",
        "given": "In deze run", "figures": "Dekking in het GeoPackage", "file": "Bestand / URL",
        "synthetic_col": "Synthetisch", "yes": "ja", "no": "nee", "count": "Aantal",
        "cov_frac": "{label}: gemiddeld {mean}, minimum {min}; {n} van {N} buurten niet volledig gedekt",
        "cov_island": "{label}: {sum} inwoners ({share} van alle inwoners)",
        "cov_homes": "{label}: {sum} woningen",
        "cov_reason": "{label}: {n} buurten zonder waarde — {top}",
        "cov_counts": "{label}: {counts}",
        "cov_values": "buurten met waarden: {n} van {N}",
        "cov_wards": "{n} objecten in de laag {level}",
        "cov_no_sites": "0 meetpunten in de tabel air_monitoring (geen bruikbaar meetpunt: zie logs/{run}/exposure/air_monitoring_*.log)",
        "derived": "(afgeleid)",
        "cov_sites": "{n} meetpunten ({pollutants}) in de tabel air_monitoring; gemiddeld verschil met het rooster {diff} µg/m³",
        "no_figures": "geen dekkingscijfers in het GeoPackage",
        "withheld_none": "Geen buurten achtergehouden.",
        "schema_note": "Invoer volgens het configuratieschema; niet opgegeven invoer staat als “niet in deze run”.",
        "air": "Lucht", "noise": "Geluid", "green": "Groen", "access": "Bereikbaarheid (lopen/fietsen)",
        "wheelchair": "Bereikbaarheid per rolstoel (verschil met lopen)",
        "health": "Gezondheid", "burden": "Cumulatieve belasting", "lisa": "Ruimtelijke clusters (LISA)",
        "typology": "Gebiedstypologie", "impact": "Gezondheidseffecten",
        "heat": "Hitte (gevoelstemperatuur, koele plek)", "requirements": "Gezondheidseisen (PvE)",
        "req_summary": "Eisen gehaald per gebiedstype (buurten)", "req_note": "Per eis en gebiedstype: buurten "
        "gehaald / niet gehaald / onbekend (geen waarde of niet berekend; nooit als 'niet gehaald' geteld). "
        "Achtergehouden buurten tellen niet mee.", "requirement": "Eis", "area_type": "Gebiedstype",
        "met": "gehaald", "not_met": "niet gehaald", "unknown": "onbekend", "threshold": "Norm",
        "target_group": "Doelgroep", "source": "Bron",
        "headline": "Kerncijfers gemeente", "compare": "Gemeenten vergeleken (landelijke percentielen: _nl)",
        "municipality": "Gemeente", "double_burden": "Buurten met dubbele belasting (prioriteit)",
        "none_double": "Geen buurten met dubbele belasting.", "ward": "Buurt", "code": "Code",
        "residents": "Inwoners", "score": "Belastingspercentiel", "gradient": "Gradiënt naar SES-kwintiel",
        "gradient_note": "Gemiddelde per kwintiel (1 = meest achtergesteld) met 95 %-interval.",
        "concentration": "Concentratiecurve", "conc_note": "Cumulatief aandeel van de waarde tegen het cumulatief "
        "aandeel inwoners, gerangschikt van meest achtergesteld naar meest welgesteld; onder de diagonaal: "
        "geconcentreerd bij welgestelden.",
        "sii": "Slope en relative index of inequality (SII/RII)", "indicator": "Indicator", "value": "Waarde",
        "interval": "95 %-interval", "coverage": "Dekking per invoer", "withheld_wards": "Achtergehouden buurten",
        "reason": "Reden", "provenance": "Herkomst van de invoer", "versions": "Softwareversies",
        "input": "Invoer", "provider": "Bron", "retrieved": "Opgehaald", "licence": "Licentie",
        "mean_cov": "gemiddelde dekking", "min_cov": "minimum", "delta_map": "Verandering per buurt",
        "comparison": "Totalen tegen de uitgangssituatie", "baseline": "Uitgangssituatie",
        "scenario_value": "Scenario", "delta": "Verschil", "no_scen": "Niet in deze run: geen scenario's.",
        "generated": "Gemaakt met healthgeo", "run": "Run", "legend": "Legenda",
        "attributable": "Toe te schrijven ziektelast per jaar",
        "trends": "Trends", "no_trend": "Niet in deze run: één jaar (geef `years:` en een invoer per jaar).",
        "trend_note": "Jaren {years}, alle op de buurtgrenzen van dit jaar. Helling: lineaire trend per jaar "
        "met 95 %-interval (vanaf 3 jaren).", "change": "Verandering", "slope": "Helling per jaar",
        "validation": "Afstanden getoetst aan CBS Nabijheid voorzieningen",
        "validation_note": "healthgeo meet over het loop- of fietsnetwerk, CBS over de weg (auto); beide zijn het "
        "gemiddelde over de inwoners van de buurt. Een verhouding onder 1 is te verwachten waar paden afsnijden.",
        "destination": "Voorziening", "mode": "Netwerk", "n_buurten": "Buurten", "pearson_r": "Correlatie (r)",
        "median_ratio": "Mediane verhouding healthgeo / CBS", "share_within": "Aandeel binnen ±25 %",
        "no_validation": "Niet in deze run: de invoer nabijheid (CBS Nabijheid voorzieningen) ontbreekt.",
    },
    "en": {
        "title": "Health and environment per neighbourhood", "summary": "Summary", "maps": "Maps",
        "inequality": "Inequality", "scenarios": "Scenarios", "quality": "Data quality",
        "synthetic": "SYNTHETIC DEMO DATA — not real; do not use for policy.",
        "withheld": "withheld (disclosure control)", "nodata": "no data",
        "absent": "Not in this run: its input is missing.",
        "absent_inputs": "Not in this run: input {inputs} is missing (see Data quality).",
        "absent_values": "Not in this run: no values for these maps (see Data quality).",
        "not_in_run": "not in this run", "in_run": "yes", "inputs": "Inputs of this run",
        "given": "In this run", "figures": "Coverage in the GeoPackage", "file": "File / URL",
        "synthetic_col": "Synthetic", "yes": "yes", "no": "no", "count": "Count",
        "cov_frac": "{label}: mean {mean}, minimum {min}; {n} of {N} wards not fully covered",
        "cov_island": "{label}: {sum} residents ({share} of all residents)",
        "cov_homes": "{label}: {sum} homes",
        "cov_reason": "{label}: {n} wards without a value — {top}",
        "cov_counts": "{label}: {counts}",
        "cov_values": "wards with values: {n} of {N}",
        "cov_wards": "{n} features in the layer {level}",
        "cov_no_sites": "0 sites in the table air_monitoring (none usable: see logs/{run}/exposure/air_monitoring_*.log)",
        "derived": "(derived)",
        "cov_sites": "{n} sites ({pollutants}) in the table air_monitoring; mean absolute difference from the grid {diff} µg/m³",
        "no_figures": "no coverage figures in the GeoPackage",
        "withheld_none": "No wards withheld.",
        "schema_note": "Inputs as in the configuration schema; inputs the run was not given are marked “not in this run”.",
        "air": "Air", "noise": "Noise", "green": "Green", "access": "Access (walk/cycle)",
        "wheelchair": "Access by wheelchair (gap versus walking)",
        "health": "Health", "burden": "Cumulative burden", "lisa": "Spatial clusters (LISA)",
        "typology": "Area typology", "impact": "Health impact",
        "heat": "Heat (felt temperature, cool place)", "requirements": "Health requirements (PvE)",
        "req_summary": "Requirements met per area type (wards)", "req_note": "Per requirement and area type: wards "
        "met / not met / unknown (no value or not computed; never counted as not met). Withheld wards are left "
        "out.", "requirement": "Requirement", "area_type": "Area type", "met": "met", "not_met": "not met",
        "unknown": "unknown", "threshold": "Threshold", "target_group": "Target group", "source": "Source",
        "headline": "Municipal headline figures", "compare": "Municipalities compared (national percentiles: _nl)",
        "municipality": "Municipality", "double_burden": "Wards with a double burden (priority list)",
        "none_double": "No wards with a double burden.", "ward": "Ward", "code": "Code",
        "residents": "Residents", "score": "Burden percentile", "gradient": "Gradient by SES quintile",
        "gradient_note": "Mean per quintile (1 = most disadvantaged) with 95 % interval.",
        "concentration": "Concentration curve", "conc_note": "Cumulative share of the value against the "
        "cumulative share of residents, ranked from most disadvantaged to most advantaged; below the "
        "diagonal: concentrated among the advantaged.",
        "sii": "Slope and relative index of inequality (SII/RII)", "indicator": "Indicator", "value": "Value",
        "interval": "95 % interval", "coverage": "Coverage per input", "withheld_wards": "Withheld wards",
        "reason": "Reason", "provenance": "Provenance of the inputs", "versions": "Software versions",
        "input": "Input", "provider": "Provider", "retrieved": "Retrieved", "licence": "Licence",
        "mean_cov": "mean coverage", "min_cov": "minimum", "delta_map": "Change per ward",
        "comparison": "Totals against the baseline", "baseline": "Baseline",
        "scenario_value": "Scenario", "delta": "Delta", "no_scen": "Not in this run: no scenarios.",
        "generated": "Made with healthgeo", "run": "Run", "legend": "Legend",
        "attributable": "Attributable burden per year",
        "trends": "Trends", "no_trend": "Not in this run: one year (give `years:` and an input per year).",
        "trend_note": "Years {years}, all on this year's buurt boundaries. Slope: linear trend per year with "
        "95 % interval (from 3 years).", "change": "Change", "slope": "Slope per year",
        "validation": "Distances checked against CBS Nabijheid voorzieningen",
        "validation_note": "healthgeo measures over the walk or cycle network, CBS over the road (car) network; both "
        "are the mean over the buurt's residents. Ratios below 1 are expected where paths cut corners.",
        "destination": "Destination", "mode": "Network", "n_buurten": "Buurten", "pearson_r": "Correlation (r)",
        "median_ratio": "Median ratio healthgeo / CBS", "share_within": "Share within ±25 %",
        "no_validation": "Not in this run: the input nabijheid (CBS Nabijheid voorzieningen) is missing.",
    },
}

#: the config inputs each map family is computed from (to name the missing one when a family is absent)
FAMILY_INPUTS = {"air": ["no2", "pm25", "pm10"], "noise": ["noise_lden", "noise_lnight"],
                 "green": ["osm", "trees", "landcover", "ndvi"], "access": ["osm"], "health": ["health"],
                 "heat": ["heat"]}

#: the config inputs a scenario type changes (any one of them suffices); without them its deltas are 0
SCENARIO_INPUTS = {"no2_reduction": ["no2", "stations", "sensors"], "lden_reduction": ["noise_lden"],
                   "new_park": ["osm"], "new_path": ["osm"]}

#: data-quality columns of the ward layers and the input whose coverage they describe (first match)
QUALITY_COLUMNS = r"(?:_covered_frac|_reason|_source)$|^residents_island_|^homes_off_network_\w+_n$|^popw_method$"
QUALITY_INPUT = [(r"^no2_", "no2"), (r"^pm25_", "pm25"), (r"^pm10_", "pm10"), (r"^lden_", "noise_lden"),
                 (r"^lnight_", "noise_lnight"), (r"^popw_method$", "dwellings"), (r"^tree_canopy_", "trees"),
                 (r"^ndvi_", "ndvi"), (r"^(?:pet|cool_place)_", "heat"), (r"^(?:residents|ses)_source$", "kerncijfers"), (r"^health_", "health"),
                 (r"^(?:green|street_network|access|residents_island|homes_off_network|walkability|cycleway"
                  r"|food_access|\w+_access_nan_reason)", "osm")]

#: the input that stands in for another one (population weighting, tree canopy): its figures go there
QUALITY_ALTERNATIVE = {"dwellings": "population_grid", "trees": "landcover"}

#: gemeente-level headline figures: (column, bounds columns or None)
HEADLINES = ["residents", "no2_ugm3_popw", "pm25_ugm3_popw", "lden_db_popw", "pop_share_lden_ge_53",
             "pop_share_green_1ha_300m", "health_good_health_pct"]
ATTRIBUTABLE = ["deaths_attr_no2_per_year_central", "deaths_attr_pm25_per_year_central",
                "ihd_cases_attr_road_noise_per_year_central", "dalys_total_per_year_central",
                "eur_total_per_year_central"]

CSS = """
*{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1d3557;color:#fff;padding:.6em 1.2em}header h1{margin:0;font-size:1.3em}
nav{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid #ccc;padding:.4em 1.2em}
nav a{margin-right:1em;color:#1d3557;text-decoration:none;font-weight:600}
.banner{position:sticky;top:2.3em;z-index:4;background:#fff3cd;border:2px solid #b8860b;color:#5c4400;padding:.4em 1.2em;font-weight:700}
main{max-width:1200px;margin:0 auto;padding:0 1.2em 3em}section{margin-top:1.5em}h2{border-bottom:2px solid #1d3557;padding-bottom:.2em}
.cards{display:flex;flex-wrap:wrap;gap:.8em}.card{overflow-wrap:anywhere;background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em .9em;min-width:14em;flex:1}
.card .v{font-size:1.5em;font-weight:700}.card .ci{color:#555;font-size:.85em}
.maps{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1em}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em}figcaption{font-weight:600;margin-bottom:.3em}
svg.hg-map{width:100%;height:auto;display:block}svg.hg-map use{stroke:#8c8c8c;stroke-width:.5;vector-effect:non-scaling-stroke}
svg.hg-map.delta use{stroke:#c8c8c8}svg.hg-map use:hover,svg.hg-map use.hi{stroke:#000;stroke-width:2}svg.hg-map use.wijk{fill:none;stroke:#222;stroke-width:1.6;vector-effect:non-scaling-stroke;pointer-events:none}
.legend{display:flex;flex-wrap:wrap;gap:.3em .9em;font-size:.82em;margin-top:.3em}.legend span{display:inline-flex;align-items:center;gap:.3em}
.legend i{display:inline-block;width:1.1em;height:.9em;border:1px solid #999}
table{border-collapse:collapse;background:#fff;font-size:.88em;margin:.4em 0}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}.note{color:#555;font-size:.88em}.absent{color:#7a4b00;background:#fff8e6;padding:.5em;border-left:4px solid #e0a000}
#hg-tip{position:fixed;pointer-events:none;background:#fff;border:1px solid #333;border-radius:4px;padding:.3em .5em;font-size:.85em;display:none;z-index:10;max-width:22em;box-shadow:0 2px 6px rgba(0,0,0,.3)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:1em}svg.chart{width:100%;height:auto;font-size:11px}
footer{color:#666;font-size:.8em;padding:1em 1.2em}
table.inputs ul{margin:0;padding-left:1.1em}tr.absent-row td{color:#7a4b00;background:#fff8e6}td.wrap{overflow-wrap:anywhere;max-width:28em}
td.syn{color:#7a4b00;font-weight:700}details summary{cursor:pointer;margin:.3em 0}
"""

JS = r"""
(function(){
var tip=document.getElementById('hg-tip');var names=window.HG_NAMES||{};
function text(el){var c=el.getAttribute('data-c');return '<b>'+(names[c]||c)+'</b> ('+c+')<br>'+el.getAttribute('data-t');}
function show(e){var el=e.target;if(!el.getAttribute||!el.getAttribute('data-c'))return;
 tip.innerHTML=text(el);tip.style.display='block';
 var x=(e.clientX||0)+12,y=(e.clientY||0)+12;tip.style.left=Math.min(x,window.innerWidth-260)+'px';tip.style.top=y+'px';
 var prev=document.querySelector('use.hi');if(prev)prev.classList.remove('hi');el.classList.add('hi');}
function hide(e){if(e.target.getAttribute&&e.target.getAttribute('data-c')){tip.style.display='none';e.target.classList.remove('hi');}}
document.addEventListener('mouseover',show);document.addEventListener('mouseout',hide);
document.addEventListener('touchstart',function(e){if(e.target.getAttribute&&e.target.getAttribute('data-c')){show({target:e.target,clientX:e.touches[0].clientX,clientY:e.touches[0].clientY});}},{passive:true});
function selfcheck(){var out={maps:[],errors:window.HG_ERRORS||[],requests:[]};
 document.querySelectorAll('svg.hg-map').forEach(function(svg){
  var shapes=svg.querySelectorAll('use[data-c]');var n=0,tips=0,withValue=0;
  shapes.forEach(function(u){n++;var t=u.getAttribute('data-t')||'';if(t.indexOf(': ')>0)withValue++;});
  var first=null;shapes.forEach(function(u){if(!first&&(u.getAttribute('data-t')||'').indexOf(': ')>0)first=u;});
  var tipText='';if(first){var r=first.getBoundingClientRect();show({target:first,clientX:r.left+1,clientY:r.top+1});tipText=tip.textContent;hide({target:first});}
  var href=0;shapes.forEach(function(u){var h=u.getAttribute('href');if(h&&document.getElementById(h.slice(1)))href++;});
  out.maps.push({id:svg.id,shapes:n,expected:+svg.getAttribute('data-n'),resolved:href,with_value:withValue,tooltip:tipText});});
 (performance.getEntriesByType('resource')||[]).forEach(function(r){out.requests.push(r.name);});
 var pre=document.createElement('pre');pre.id='hg-selfcheck';pre.textContent=JSON.stringify(out);document.body.appendChild(pre);}
if(location.hash==='#selfcheck'){selfcheck();}
})();
"""


class ReportError(InputDataError):
    """The GeoPackage given to the report is missing or unreadable."""


#: the English words of the catalog's units, in Dutch (display only; the catalog keeps its units)
UNIT_WORDS_NL = [(r"\((\d{4}) prices\)", r"(prijspeil \1)"), (r"\bper resident\b", "per inwoner"),
                 (r"\bpersons\b", "personen"), (r"\bperson\b", "persoon"), (r"\bhouseholds\b", "huishoudens"),
                 (r"\bdeaths\b", "sterfgevallen"), (r"\bcases\b", "gevallen"), (r"\byear\b", "jaar"),
                 (r"\bcount\b", "aantal")]


def unit_text(unit: str, language: str) -> str:
    """A unit as shown in the report's language (``deaths/year`` -> ``sterfgevallen/jaar``)."""
    if language == "nl":
        for pattern, repl in UNIT_WORDS_NL:
            unit = re.sub(pattern, repl, unit)
    return unit


def is_synthetic(provider, note) -> bool:
    """A provenance record of generated (not real) data: the rule of ``assemble_run``'s synthetic flag."""
    return str(provider or "").startswith("healthgeo demo") or "SYNTHETIC" in str(note or "").upper()


def config_inputs() -> dict[str, str]:
    """Every input the configuration knows (``inputs`` of the config schema), with its description."""
    from .config import schema

    props = schema()["properties"]["inputs"]["properties"]
    return {k: str(v.get("description", "")) for k, v in props.items()}


def quality_input(column: str) -> str:
    """The input whose coverage a data-quality column describes ('' when none)."""
    for pattern, name in QUALITY_INPUT:
        if re.search(pattern, column):
            return name
    return ""


def _val(v):
    """None for NULL/NaN/empty, else the value."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) or v == "":
        return None
    return v


def _unit_note(info: dict) -> str:
    """' (unit)' after a map or chart title: % for shares, none for categories."""
    if info["scale"] in ("fraction", "percent"):
        return " (%)"
    if info["unit"] and info["scale"] not in ("category", "flag", "text"):
        return f" ({_esc(info['unit'])})"
    return ""


def _esc(v) -> str:
    return html.escape("" if _val(v) is None else str(v))


def fmt(v, scale: str = "") -> str:
    """A value for people: percent/fraction scaled, thousands separated, NULL as an en dash."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "ja/yes" if v else "nee/no"
    if not isinstance(v, (int, float, np.integer, np.floating)):
        return str(v)
    v = float(v)
    if scale == "fraction":
        return f"{100 * v:.1f} %"
    if scale == "percent":
        return f"{v:.1f} %"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}".replace(",", " ")
    if a >= 100 or (v == int(v) and scale == "count"):
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def open_geopackage(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to a GeoPackage, or a one-line :class:`ReportError` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ReportError(f"{path}: GeoPackage not found; run the workflow first (make run) or give the right path")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    except sqlite3.DatabaseError as e:
        raise _unreadable(path, e) from None
    if "buurt" not in tables:
        raise ReportError(f"{path}: GeoPackage has no 'buurt' layer, so it was not written by healthgeo's assemble "
                          "step; give the run's healthgeo.gpkg or rebuild it with the workflow (make run)")
    return con


def _cause(e: Exception) -> str:
    """A reader's error on one short line (GDAL quotes its whole SQL; the end says what failed)."""
    msg = " ".join(str(e).split())
    return msg if len(msg) <= 160 else "…" + msg[-120:]


def _unreadable(path, e: Exception) -> ReportError:
    msg = _cause(e)
    return ReportError(f"{path}: not a readable GeoPackage ({type(e).__name__}: {msg}); "
                       "rebuild it with the workflow (make run)")


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}


def _read(con, name: str) -> pd.DataFrame:
    return pd.read_sql_query(f'SELECT * FROM "{name}"', con).drop(columns=["fid"], errors="ignore")


def _disparity_rows(con) -> pd.DataFrame:
    """The buurt rows of the disparity table; of a country run's national GeoPackage (a ``scope``
    column) the national ones (docs/methods.md#country-runs)."""
    d = _read(con, "disparity")
    d = d[d["level"] == "buurt"] if "level" in d else d
    return d[d["scope"] == "national"] if "scope" in d else d


def load_catalog(con) -> pd.DataFrame:
    """The run's ``indicator_catalog``, or one derived from ``data_dictionary`` for older files."""
    if "indicator_catalog" in _tables(con):
        cat = _read(con, "indicator_catalog")
    else:
        dd = _read(con, "data_dictionary")
        dd = dd[dd["layer"].isin(["buurt", "wijk", "gemeente"])].drop_duplicates("column")
        cat = pd.DataFrame([
            {**entry(r["column"], ColumnDoc(unit=r["unit"] or "", description=r["description"] or "")), "levels": r["layer"]}
            for _, r in dd.iterrows()], columns=CATALOG_COLUMNS)
    return cat.set_index("indicator", drop=False)


class _Geometry:
    """Buurt and wijk shapes as SVG path data in one shared coordinate space."""

    def __init__(self, buurt, wijk, width: float = 1000.0):
        minx, miny, maxx, maxy = buurt.total_bounds
        self.scale = width / max(maxx - minx, 1.0)
        self.minx, self.maxy = minx, maxy
        self.width, self.height = width, (maxy - miny) * self.scale
        tol = max(maxx - minx, maxy - miny) / 2000
        self.buurt = {code: self._path(g.simplify(tol, preserve_topology=True)) for code, g in buurt.geometry.items()}
        self.wijk = [self._path(g.simplify(tol, preserve_topology=True)) for g in wijk.geometry] if wijk is not None else []

    def _ring(self, coords) -> str:
        pts = [f"{(x - self.minx) * self.scale:.1f} {(self.maxy - y) * self.scale:.1f}" for x, y in coords]
        return "M" + "L".join(pts) + "Z"

    def _path(self, geom) -> str:
        if geom is None or geom.is_empty:
            return ""
        polys = getattr(geom, "geoms", [geom])
        parts = []
        for p in polys:
            if p.geom_type != "Polygon":
                continue
            parts.append(self._ring(p.exterior.coords))
            parts += [self._ring(r.coords) for r in p.interiors]
        return "".join(parts)

    def defs(self) -> str:
        paths = "".join(f'<path id="g-{_esc(c)}" d="{d}"/>' for c, d in self.buurt.items())
        wijk = "".join(f'<path d="{d}"/>' for d in self.wijk)
        return (f'<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>{paths}'
                f'<g id="wijk-outlines">{wijk}</g>'
                f'<pattern id="hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">'
                f'<rect width="6" height="6" fill="#f0f0f0"/><line x1="0" y1="0" x2="0" y2="6" stroke="{WITHHELD_COLOUR}" '
                f'stroke-width="2.5"/></pattern></defs></svg>')


class Report:
    def __init__(self, gpkg: str | Path, language: str = "nl"):
        import geopandas as gpd

        if language not in LANGUAGES:
            raise ValueError(f"report language must be one of {LANGUAGES}, not {language!r}")
        self.path = Path(gpkg)
        self.lang = language
        self.t = TEXT[language]
        self.con = open_geopackage(self.path)
        self.tables = _tables(self.con)
        try:
            self.buurt = gpd.read_file(self.path, layer="buurt", engine="pyogrio").set_index("buurtcode")
            self.wijk = gpd.read_file(self.path, layer="wijk", engine="pyogrio") if "wijk" in self.tables else None
            self.gemeente = _read(self.con, "gemeente").drop(columns=["geom"], errors="ignore") \
                if "gemeente" in self.tables else pd.DataFrame()
        except Exception as e:  # noqa: BLE001 - any reader failure is a broken file for the user
            msg = _cause(e)
            raise ReportError(f"{self.path}: cannot read the ward layers ({type(e).__name__}: {msg}); "
                              "rebuild it with the workflow (make run)") from None
        self.catalog = load_catalog(self.con)
        self._cat = {k: dict(v) for k, v in self.catalog.drop(columns="indicator").to_dict("index").items()}
        self.meta = dict(self.con.execute("SELECT key, value FROM metadata").fetchall()) if "metadata" in self.tables else {}
        self.synthetic = str(self.meta.get("synthetic", "")).lower() == "true"
        self.geo = _Geometry(self.buurt, self.wijk)
        self.withheld = self.buurt["disclosure_reason"].notna() if "disclosure_reason" in self.buurt else \
            pd.Series(False, index=self.buurt.index)
        self.provenance = _read(self.con, "provenance") if "provenance" in self.tables else None
        #: the inputs the run was given (None: unknown, a file without a provenance table)
        self.given = None if self.provenance is None else set(self.provenance["input"].dropna().astype(str))
        self.n_maps = 0

    # -- helpers ---------------------------------------------------------------------------
    def label(self, column: str) -> str:
        if column not in self._cat and column.startswith("delta_"):
            return "Δ " + self.label(column.removeprefix("delta_"))
        if column in self._cat:
            row = self._cat[column]
            lab = row.get(f"label_{self.lang}") or row.get("label_en")
            if isinstance(lab, str) and lab:
                return lab
        return column

    def info(self, column: str) -> dict:
        if column not in self._cat and column.startswith("delta_"):
            stem = self.info(column.removeprefix("delta_"))
            return {**stem, "thresholds": [], "higher_is_worse": None}
        if column in self._cat:
            r = self._cat[column]
            thr = r.get("thresholds")
            return {"unit": unit_text(r.get("unit") or "", self.lang), "scale": r.get("scale") or "",
                    "theme": r.get("theme") or "",
                    "higher_is_worse": None if pd.isna(r.get("higher_is_worse")) else bool(r.get("higher_is_worse")),
                    "thresholds": json.loads(thr) if isinstance(thr, str) and thr else []}
        return {"unit": "", "scale": "", "theme": "", "higher_is_worse": None, "thresholds": []}

    def theme_of(self, column: str) -> str:
        if column.endswith("_lisa"):
            return "lisa"
        return self.info(column)["theme"]

    def bounds(self, frame, column: str):
        for lo, hi in ((f"{column}_lo95", f"{column}_hi95"),
                       (column.removesuffix("_central") + "_low", column.removesuffix("_central") + "_high")):
            if lo in frame and hi in frame and lo != column:
                return frame[lo], frame[hi]
        return None, None

    # -- maps ------------------------------------------------------------------------------
    def _fills(self, frame, column: str, *, diverging: bool = False):
        """Classes, and per ward (code, fill, tooltip text), of one column; withheld wards hatched."""
        info = self.info(column)
        values = frame[column]
        withheld = self.withheld.reindex(frame.index).fillna(False).to_numpy(dtype=bool)
        if "disclosure_reason" in frame:
            withheld = withheld | frame["disclosure_reason"].notna().to_numpy()
        shown = values[~withheld]
        cls: Classes = classify(shown, thresholds=info["thresholds"], scale=info["scale"],
                                higher_is_worse=info["higher_is_worse"], diverging=diverging)
        lo, hi = self.bounds(frame, column)
        unit = info["unit"] if info["scale"] not in ("fraction", "percent", "category", "flag", "text") else ""
        label = self.label(column)
        lo = lo.to_numpy() if lo is not None else None
        hi = hi.to_numpy() if hi is not None else None
        wards = []
        for i, (code, v) in enumerate(values.items()):
            if withheld[i]:
                fill, t = "url(#hatch)", self.t["withheld"]
            elif v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                fill, t = NO_DATA_COLOUR, self.t["nodata"]
            else:
                fill = cls.colour(v)
                t = f"{label}: {fmt(v, info['scale'])} {unit}".strip()
                if lo is not None and pd.notna(lo[i]) and pd.notna(hi[i]):
                    t += f" [95 %: {fmt(lo[i], info['scale'])} – {fmt(hi[i], info['scale'])}]"
            wards.append((code, fill, t))
        return info, cls, withheld, wards

    def standalone_map(self, frame, column: str, *, diverging: bool = False) -> str:
        """One map as a self-contained SVG file (inline paths, legend, hatch): a key figure."""
        info, cls, withheld, wards = self._fills(frame, column, diverging=diverging)
        g = self.geo
        items = list(zip(cls.colours, cls.labels))
        if withheld.any():
            items.append(("url(#hatch)", self.t["withheld"]))
        items.append((NO_DATA_COLOUR, self.t["nodata"]))
        top, row = 40, 22
        height = g.height + top + row * len(items) + 20
        paths = "".join(f'<path d="{g.buurt[code]}" fill="{fill}" stroke="#fff" stroke-width="0.6"><title>'
                        f'{_esc(code)}: {_esc(t)}</title></path>' for code, fill, t in wards)
        wijk = "".join(f'<path d="{d}"/>' for d in g.wijk)
        legend = "".join(f'<rect x="10" y="{g.height + top + 10 + row * k}" width="18" height="14" fill="{c}" stroke="#999"/>'
                         f'<text x="36" y="{g.height + top + 22 + row * k}">{_esc(lab)}</text>'
                         for k, (c, lab) in enumerate(items))
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {g.width:.0f} {height:.0f}" '
                f'font-family="sans-serif" font-size="16"><defs><pattern id="hatch" patternUnits="userSpaceOnUse" '
                f'width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f0f0f0"/>'
                f'<line x1="0" y1="0" x2="0" y2="6" stroke="{WITHHELD_COLOUR}" stroke-width="2.5"/></pattern></defs>'
                f'<rect width="100%" height="100%" fill="#fff"/>'
                f'<text x="10" y="26" font-size="20" font-weight="bold">{_esc(self.label(column))}</text>'
                f'<g transform="translate(0 {top})">{paths}<g fill="none" stroke="#222" stroke-width="1.6">{wijk}</g></g>'
                f"{legend}</svg>")

    def key_map_column(self) -> str | None:
        """The first headline map present, by family order (burden first: who carries it)."""
        order = ["burden", "air", "noise", "green", "health", "access", "impact"]
        fams = {k: (theme, cands) for k, theme, cands in FAMILIES}
        for key in order:
            cols = self.family_columns(*fams[key])
            if cols:
                return cols[0]
        return None

    def map_svg(self, frame, column: str, *, diverging: bool = False, title: str | None = None) -> str:
        info, cls, withheld, wards = self._fills(frame, column, diverging=diverging)
        values = frame[column]
        self.n_maps += 1
        mid = f"map{self.n_maps}"
        uses = [f'<use href="#g-{_esc(code)}" fill="{fill}" data-c="{_esc(code)}" data-t="{_esc(t)}"/>'
                for code, fill, t in wards]
        legend = "".join(f'<span><i style="background:{c}"></i>{_esc(lab)}</span>' for c, lab in zip(cls.colours, cls.labels))
        if withheld.any():
            legend += f'<span><i style="background:url(#hatch) {WITHHELD_COLOUR}"><svg width="100%" height="100%"><rect width="100%" height="100%" fill="url(#hatch)"/></svg></i>{_esc(self.t["withheld"])}</span>'
        legend += f'<span><i style="background:{NO_DATA_COLOUR}"></i>{_esc(self.t["nodata"])}</span>'
        src = ""
        if info["thresholds"]:
            srcs = sorted({t.get("source", "") for t in info["thresholds"] if t.get("source")})
            src = f'<div class="note">{_esc("; ".join(srcs))}</div>'
        g = self.geo
        unit_note = _unit_note(info)
        return (f'<figure><figcaption>{_esc(title or self.label(column))}{unit_note}</figcaption>'
                f'<svg class="hg-map{" delta" if diverging else ""}" id="{mid}" data-n="{len(values)}" data-col="{_esc(column)}" '
                f'viewBox="0 0 {g.width:.0f} {g.height:.0f}" role="img" aria-label="{_esc(self.label(column))}">'
                f'{"".join(uses)}<use href="#wijk-outlines" class="wijk"/></svg>'
                f'<div class="legend">{legend}</div>{src}</figure>')

    def family_columns(self, theme: str, candidates: Sequence[str]) -> list[str]:
        have = [c for c in candidates if c in self.buurt and self.buurt[c].notna().any()]
        if have:
            return have[:2]
        for c in self.buurt.columns:
            if c != "geometry" and self.theme_of(c) == theme and self.buurt[c].notna().any() \
                    and not c.endswith(("_lo95", "_hi95", "_low", "_high", "_reason")):
                return [c]
        return []

    def absent_text(self, family: str) -> str:
        """Why a family has no maps: which of its inputs the run lacks, or that it has no values."""
        inputs = FAMILY_INPUTS.get(family, [])
        if self.given is None or not inputs:
            return self.t["absent"]
        missing = [i for i in inputs if i not in self.given]
        if len(missing) == len(inputs):
            return self.t["absent_inputs"].format(inputs=", ".join(missing))
        return self.t["absent_values"]

    # -- sections --------------------------------------------------------------------------
    def compare_municipalities(self) -> str:
        """A country run's national file: one row per municipality with the headline figures and
        their national percentiles (instead of one municipality's cards)."""
        t, g = self.t, self.gemeente
        cols = [c for c in HEADLINES + ATTRIBUTABLE[:1] + ["burden_score_nl"] if c in g and g[c].notna().any()]
        head = "".join(f"<th>{_esc(self.label(c))}</th>" for c in cols)
        rows = []
        for code, r in g.iterrows():
            cells = []
            for c in cols:
                info = self.info(c)
                pct = r.get(f"{c}_pctl_nl")
                extra = f' <small>(p{float(pct):.0f})</small>' if pct is not None and pd.notna(pct) else ""
                cells.append(f'<td class="n">{fmt(r[c], info["scale"])}{extra}</td>')
            rows.append(f'<tr><td>{_esc(r.get("name"))}</td><td>{_esc(r.get("gemeentecode", code))}</td>'
                        f'{"".join(cells)}</tr>')
        return (f'<h3>{t["compare"]}</h3><table><tr><th>{t["municipality"]}</th><th>{t["code"]}</th>{head}</tr>'
                + "".join(rows) + "</table>")

    def section_summary(self) -> str:
        t = self.t
        if len(self.gemeente) > 1:
            return self._summary_national()
        gm = self.gemeente.iloc[0] if len(self.gemeente) else pd.Series(dtype=object)
        cards = []
        for col in HEADLINES + ATTRIBUTABLE:
            if col not in gm or pd.isna(gm[col]):
                continue
            info = self.info(col)
            lo, hi = self.bounds(self.gemeente, col)
            ci = ""
            if lo is not None and pd.notna(lo.iloc[0]) and pd.notna(hi.iloc[0]):
                ci = f'<div class="ci">95 %: {fmt(lo.iloc[0], info["scale"])} – {fmt(hi.iloc[0], info["scale"])}</div>'
            unit = info["unit"] if info["scale"] not in ("fraction", "percent") else ""
            cards.append(f'<div class="card"><div>{_esc(self.label(col))}</div>'
                         f'<div class="v">{fmt(gm[col], info["scale"])} <small>{_esc(unit)}</small></div>{ci}</div>')
        out = [f'<section id="summary"><h2>{t["summary"]}</h2><h3>{t["headline"]}</h3>']
        out.append(f'<div class="cards">{"".join(cards)}</div>' if cards else f'<p class="absent">{t["absent"]}</p>')
        out += self._double_burden("")
        out.append("</section>")
        return "".join(out)

    def _summary_national(self) -> str:
        out = [f'<section id="summary"><h2>{self.t["summary"]}</h2>', self.compare_municipalities()]
        out += self._double_burden("_nl")
        out.append("</section>")
        return "".join(out)

    def _double_burden(self, suffix: str) -> list[str]:
        """The priority list: buurten with a double burden (``suffix`` "_nl": on the national scale)."""
        t, out = self.t, [f'<h3>{self.t["double_burden"]}</h3>']
        flag, score, pctl = f"double_burden{suffix}", f"burden_score{suffix}", f"burden_score_pctl{suffix}"
        if flag not in self.buurt:
            out.append(f'<p class="absent">{t["absent"]}</p>')
        else:
            db = self.buurt[pd.to_numeric(self.buurt[flag], errors="coerce").fillna(0).astype(bool)]
            if score in db:
                db = db.sort_values(score, ascending=False)
            if db.empty:
                out.append(f'<p>{t["none_double"]}</p>')
            else:
                rows = "".join(
                    f'<tr><td>{i + 1}</td><td>{_esc(r.get("name"))}</td><td>{_esc(code)}</td>'
                    f'<td class="n">{fmt(r.get("residents"), "count")}</td><td class="n">{fmt(r.get(pctl))}</td></tr>'
                    for i, (code, r) in enumerate(db.iterrows()))
                out.append(f'<table><tr><th>#</th><th>{t["ward"]}</th><th>{t["code"]}</th><th>{t["residents"]}</th>'
                           f'<th>{t["score"]}</th></tr>{rows}</table>')
        return out

    def section_maps(self) -> str:
        out = [f'<section id="maps"><h2>{self.t["maps"]}</h2>']
        for key, theme, candidates in FAMILIES:
            cols = self.family_columns(theme, candidates)
            out.append(f'<h3 id="fam-{key}">{self.t[key]}</h3>')
            if not cols:
                out.append(f'<p class="absent">{_esc(self.absent_text(key))}</p>')
                continue
            out.append('<div class="maps">' + "".join(self.map_svg(self.buurt, c) for c in cols) + "</div>")
            if key == "requirements":
                out.append(self.requirements_table())
        out.append("</section>")
        return "".join(out)

    def requirements_table(self) -> str:
        """The requirements scorecard per area type (table requirements_summary, buurt level)."""
        t = self.t
        if "requirements_summary" not in self.tables or "requirements" not in self.tables:
            return ""
        summary = _read(self.con, "requirements_summary")
        summary = summary[summary["level"] == "buurt"]
        reqs = _read(self.con, "requirements")
        reqs = reqs[reqs["level"] == "buurt"].drop_duplicates("requirement").set_index("requirement")
        label = f"label_{self.lang}"
        head = (f'<h4>{_esc(t["req_summary"])}</h4><p class="note">{_esc(t["req_note"])}</p><table><tr>'
                f'<th>{t["requirement"]}</th><th>{t["threshold"]}</th><th>{t["target_group"]}</th>'
                f'<th>{t["area_type"]}</th><th>{t["met"]}</th><th>{t["not_met"]}</th><th>{t["unknown"]}</th>'
                f'<th>{t["source"]}</th></tr>')
        rows = []
        for rid, grp in summary.groupby("requirement", sort=False):
            r = reqs.loc[rid] if rid in reqs.index else pd.Series(dtype=object)
            norm = f'{r.get("indicator", "")} {r.get("op", "")} {fmt(r.get("threshold"))}'
            for i, (_, row) in enumerate(grp.iterrows()):
                first = i == 0
                rows.append(
                    f'<tr><td>{_esc(r.get(label) or rid) if first else ""}</td><td>{_esc(norm) if first else ""}</td>'
                    f'<td>{_esc(r.get("target_group", "")) if first else ""}</td><td>{_esc(row["area_type"])}</td>'
                    f'<td class="n">{fmt(row["wards_met_n"], "count")}</td>'
                    f'<td class="n">{fmt(row["wards_not_met_n"], "count")}</td>'
                    f'<td class="n">{fmt(row["wards_unknown_n"], "count")}</td>'
                    f'<td class="src">{_esc(r.get("source", "")) if first else ""}</td></tr>')
        return head + "".join(rows) + "</table>"

    def _gradient_chart(self, rows: pd.DataFrame, indicator: str) -> str:
        w, h, pad = 340, 190, 40
        left = 62
        sc = self.info(indicator)["scale"]
        q = rows.set_index("metric")
        pts = [(i, q.loc[f"q{i}_mean"]) for i in range(1, 6) if f"q{i}_mean" in q.index]
        vals = [v for _, r in pts for v in (r["value"], r["ci_low"], r["ci_high"]) if pd.notna(v)]
        if not vals:
            return ""
        lo, hi = min(vals), max(vals)
        span = (hi - lo) or 1.0
        # padded, but a share or a distance whose intervals stay >= 0 gets no negative axis label
        lo, hi = (lo - 0.05 * span if lo - 0.05 * span >= 0 or lo < 0 else 0.0), hi + 0.05 * span

        def y(v):
            return h - pad + (pad - h + pad) * (v - lo) / (hi - lo) if hi > lo else h / 2

        def x(i):
            return left + (i - 1) * (w - left - 0.5 * pad) / 4
        marks = []
        for i, r in pts:
            if pd.notna(r["ci_low"]) and pd.notna(r["ci_high"]):
                marks.append(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{y(r["ci_low"]):.1f}" y2="{y(r["ci_high"]):.1f}" stroke="#1d3557" stroke-width="2"/>')
            marks.append(f'<circle cx="{x(i):.1f}" cy="{y(r["value"]):.1f}" r="4" fill="#e76f51"><title>Q{i}: {fmt(r["value"], sc)} [{fmt(r["ci_low"], sc)} – {fmt(r["ci_high"], sc)}]</title></circle>')
            marks.append(f'<text x="{x(i):.1f}" y="{h - pad + 15}" text-anchor="middle">Q{i}</text>')
        axis = (f'<line x1="{left - 12}" x2="{left - 12}" y1="{pad}" y2="{h - pad}" stroke="#888"/>'
                f'<text x="{left - 15}" y="{y(hi) + 4:.1f}" text-anchor="end">{fmt(hi, sc)}</text>'
                f'<text x="{left - 15}" y="{y(lo):.1f}" text-anchor="end">{fmt(lo, sc)}</text>')
        return (f'<figure><figcaption>{_esc(self.label(indicator))}{_unit_note(self.info(indicator))}</figcaption>'
                f'<svg class="chart" viewBox="0 0 {w} {h}">{axis}{"".join(marks)}</svg></figure>')

    def _concentration_chart(self, indicator: str) -> str:
        b = self.buurt[~self.withheld]
        if "ses_rank_frac" not in b or indicator not in b:
            return ""
        d = pd.DataFrame({"r": pd.to_numeric(b["ses_rank_frac"], errors="coerce"),
                          "w": pd.to_numeric(b.get("residents"), errors="coerce"),
                          "v": pd.to_numeric(b[indicator], errors="coerce")}).dropna()
        d = d[(d["w"] > 0)].sort_values("r")
        if len(d) < 3 or (d["v"] * d["w"]).sum() <= 0:
            return ""
        cx = np.concatenate([[0], np.cumsum(d["w"]) / d["w"].sum()])
        cy = np.concatenate([[0], np.cumsum(d["v"] * d["w"]) / (d["v"] * d["w"]).sum()])
        s, pad = 240, 30
        pts = " ".join(f"{pad + a * s:.1f},{pad + s - c * s:.1f}" for a, c in zip(cx, cy))
        return (f'<figure><figcaption>{_esc(self.label(indicator))}</figcaption>'
                f'<svg class="chart" viewBox="0 0 {s + 2 * pad} {s + 2 * pad}">'
                f'<rect x="{pad}" y="{pad}" width="{s}" height="{s}" fill="none" stroke="#888"/>'
                f'<line x1="{pad}" y1="{pad + s}" x2="{pad + s}" y2="{pad}" stroke="#888" stroke-dasharray="4 3"/>'
                f'<polyline points="{pts}" fill="none" stroke="#e76f51" stroke-width="2"/>'
                f'<text x="{pad + s / 2}" y="{s + 2 * pad - 6}" text-anchor="middle">{_esc(self.t["residents"])} (SES ↑)</text>'
                f'</svg></figure>')

    def section_inequality(self) -> str:
        t = self.t
        out = [f'<section id="inequality"><h2>{t["inequality"]}</h2>']
        if "disparity" not in self.tables:
            out.append(f'<p class="absent">{t["absent"]}</p></section>')
            return "".join(out)
        d = _disparity_rows(self.con)
        indicators = list(dict.fromkeys(d["indicator"]))
        out.append(f'<h3>{t["gradient"]}</h3><p class="note">{t["gradient_note"]}</p><div class="charts">')
        out += [self._gradient_chart(d[d["indicator"] == ind], ind) for ind in indicators]
        out.append(f'</div><h3>{t["concentration"]}</h3><p class="note">{t["conc_note"]}</p><div class="charts">')
        out += [self._concentration_chart(ind) for ind in indicators[:8]]
        out.append(f'</div><h3>{t["sii"]}</h3><table><tr><th>{t["indicator"]}</th><th>SII</th><th>{t["interval"]}</th>'
                   f'<th>RII</th><th>{t["interval"]}</th></tr>')
        for ind in indicators:
            r = d[d["indicator"] == ind].set_index("metric")
            cells = []
            for m in ("sii", "rii"):
                if m in r.index:
                    cells.append(f'<td class="n">{fmt(r.loc[m, "value"])}</td><td class="n">{fmt(r.loc[m, "ci_low"])} – {fmt(r.loc[m, "ci_high"])}</td>')
                else:
                    cells.append('<td>–</td><td>–</td>')
            out.append(f'<tr><td>{_esc(self.label(ind))}</td>{"".join(cells)}</tr>')
        out.append("</table></section>")
        return "".join(out)

    @staticmethod
    def _scenario_columns(layer) -> list[str]:
        cols = [c for c in ("delta_dalys_total_per_year_central", "delta_eur_total_per_year_central",
                            "delta_pop_share_green_1ha_300m", "delta_supermarket_walk_m_median")
                if c in layer and layer[c].notna().any()]
        if not cols:
            cols = [c for c in layer.columns if c.startswith("delta_") and c != "delta_residents"
                    and pd.api.types.is_numeric_dtype(layer[c]) and layer[c].notna().any()][:1]
        return cols

    def section_scenarios(self) -> str:
        import geopandas as gpd

        t = self.t
        out = [f'<section id="scenarios"><h2>{t["scenarios"]}</h2>']
        layers = sorted(n for n in self.tables if n.startswith("scenario_") and n != "scenario_comparison")
        if not layers:
            out.append(f'<p class="absent">{t["no_scen"]}</p></section>')
            return "".join(out)
        comp = _read(self.con, "scenario_comparison") if "scenario_comparison" in self.tables else pd.DataFrame()
        for name in layers:
            scen = name.removeprefix("scenario_")
            layer = gpd.read_file(self.path, layer=name, engine="pyogrio").set_index("buurtcode").reindex(self.buurt.index)
            rows = comp[comp["scenario"] == scen] if len(comp) else comp
            desc = rows["scenario_description"].iloc[0] if len(rows) and "scenario_description" in rows else ""
            out.append(f'<h3 id="scen-{_esc(scen)}">{_esc(scen)}</h3><p class="note">{_esc(desc)}</p>')
            kind = str(rows["scenario_type"].iloc[0]) if len(rows) and "scenario_type" in rows else ""
            needs = SCENARIO_INPUTS.get(kind, [])
            if self.given is not None and needs and not set(needs) & self.given:
                # what it changes is not in this run (e.g. Lden without a noise raster): no map of zeros
                out.append(f'<p class="absent">{_esc(t["absent_inputs"].format(inputs=", ".join(needs)))}</p>')
                cols = []
            else:
                cols = self._scenario_columns(layer)
                if not cols:  # nothing to map: say so, no empty map
                    out.append(f'<p class="absent">{_esc(t["absent_values"])}</p>')
            if cols:
                out.append('<div class="maps">' + "".join(
                    self.map_svg(layer, c, diverging=True, title=f'{t["delta_map"]}: {self.label(c)}') for c in cols[:2]) + "</div>")
            if len(rows):
                trs = "".join(
                    f'<tr><td>{_esc(self.label(r["column"]))}</td><td class="n">{fmt(r["baseline"])}</td>'
                    f'<td class="n">{fmt(r["scenario_value"])}</td><td class="n">{fmt(r["delta"])}</td></tr>'
                    for _, r in rows.iterrows() if not str(r["column"]).endswith(("_low", "_high")))
                out.append(f'<details><summary>{t["comparison"]}</summary><table><tr><th>{t["indicator"]}</th>'
                           f'<th>{t["baseline"]}</th><th>{t["scenario_value"]}</th><th>{t["delta"]}</th></tr>{trs}</table></details>')
        out.append("</section>")
        return "".join(out)

    def section_trends(self) -> str:
        """Change over the run's years: maps of the change per buurt and the municipality's values."""
        import geopandas as gpd

        t = self.t
        out = [f'<section id="trends"><h2>{t["trends"]}</h2>']
        if "trend_buurt" not in self.tables:
            return "".join(out) + f'<p class="absent">{t["no_trend"]}</p></section>'
        layer = gpd.read_file(self.path, layer="trend_buurt", engine="pyogrio").set_index("buurtcode") \
            .reindex(self.buurt.index)
        stems = [c.removesuffix("_change") for c in layer.columns if c.endswith("_change")]
        years = sorted({int(m.group(1)) for c in layer.columns for m in [re.search(r"_(\d{4})$", c)] if m})
        out.append(f'<p class="note">{_esc(t["trend_note"].format(years=", ".join(map(str, years))))}</p>')
        pick = sorted(stems, key=lambda c: (not c.endswith("_popw"), c))[:2]
        span = f"{years[0]}–{years[-1]}" if years else ""
        out.append('<div class="maps">' + "".join(
            self.map_svg(layer, f"{c}_change", diverging=True, title=f'{t["change"]} {span}: {self.label(c)}')
            for c in pick) + "</div>")
        if "trend_gemeente" in self.tables:
            g = _read(self.con, "trend_gemeente").iloc[0]
            head = "".join(f"<th>{y}</th>" for y in years)
            rows = []
            for c in stems:
                vals = "".join(f'<td class="n">{fmt(g.get(f"{c}_{y}"))}</td>' for y in years)
                slope = g.get(f"{c}_slope_per_year")
                interval = "" if _val(slope) is None else \
                    f' [{fmt(g.get(f"{c}_slope_lo95"))} – {fmt(g.get(f"{c}_slope_hi95"))}]'
                rows.append(f"<tr><td>{_esc(self.label(c))}</td>{vals}<td class=\"n\">{fmt(g.get(f'{c}_change'))}</td>"
                            f'<td class="n">{fmt(slope)}{interval}</td></tr>')
            out.append(f'<table class="trend"><tr><th>{t["indicator"]}</th>{head}<th>{t["change"]} {span}</th>'
                       f'<th>{t["slope"]}</th></tr>{"".join(rows)}</table>')
        out.append("</section>")
        return "".join(out)

    def coverage_figures(self) -> dict[str, list[str]]:
        """Per input, the coverage figures the buurt layer holds (lines of text)."""
        t, b, n_all = self.t, self.buurt, len(self.buurt)
        out: dict[str, list[str]] = {}
        residents = pd.to_numeric(b["residents"], errors="coerce").sum() if "residents" in b else np.nan
        for c in b.columns:
            if c == "disclosure_reason" or not re.search(QUALITY_COLUMNS, c):
                continue
            s, label = b[c], self.label(c)
            if c.endswith("_covered_frac"):
                v = pd.to_numeric(s, errors="coerce")
                if v.isna().all():
                    continue
                line = t["cov_frac"].format(label=label, mean=fmt(v.mean(), "fraction"), min=fmt(v.min(), "fraction"),
                                            n=int((v < 0.999).sum()), N=n_all)
            elif c.startswith("residents_island_"):
                total = pd.to_numeric(s, errors="coerce").sum()
                share = total / residents if residents and residents > 0 else np.nan
                line = t["cov_island"].format(label=label, sum=fmt(total, "count"), share=fmt(share, "fraction"))
            elif c.startswith("homes_off_network_"):
                line = t["cov_homes"].format(label=label, sum=fmt(pd.to_numeric(s, errors="coerce").sum(), "count"))
            elif c.endswith("_reason"):
                reasons = s.dropna().astype(str)
                reasons = reasons[reasons != ""]
                if reasons.empty:
                    continue
                top = "; ".join(f"“{r if len(r) <= 110 else r[:108] + '…'}” ({k})"
                                for r, k in reasons.value_counts().head(2).items())
                line = t["cov_reason"].format(label=label, n=len(reasons), top=top)
            else:  # popw_method, *_source: how many wards took which route
                counts = s.dropna().astype(str).value_counts()
                if counts.empty:
                    continue
                line = t["cov_counts"].format(label=label, counts=" · ".join(f"{k}: {v}" for k, v in counts.items()))
            out.setdefault(quality_input(c), []).append(line)
        for name, prefix in (("health", "health_"), ("kerncijfers", "residents")):
            cols = [c for c in b.columns if c.startswith(prefix) and not re.search(QUALITY_COLUMNS, c)
                    and pd.api.types.is_numeric_dtype(b[c])]
            if cols:
                n = int(b[cols].notna().any(axis=1).sum())
                out.setdefault(name, []).insert(0, t["cov_values"].format(n=n, N=n_all))
        for name, level in (("buurten", "buurt"), ("wijken", "wijk"), ("gemeente", "gemeente")):
            if level in self.tables:
                n = self.con.execute(f'SELECT count(*) FROM "{level}"').fetchone()[0]
                out.setdefault(name, []).append(t["cov_wards"].format(n=n, level=level))
        if "air_monitoring" in self.tables:  # stations and sensors: the sites compared with the grid
            am = _read(self.con, "air_monitoring")
            for network, name in (("luchtmeetnet", "stations"), ("samenmeten", "sensors")):
                sites = am[am["network"] == network] if "network" in am else am.iloc[0:0]
                if not len(sites) and (self.given is None or name in self.given):
                    out.setdefault(name, []).append(t["cov_no_sites"].format(run=self.meta.get("run", "RUN")))
                elif len(sites):
                    diff = pd.to_numeric(sites.get("diff_ugm3"), errors="coerce").abs().mean()
                    out.setdefault(name, []).append(t["cov_sites"].format(
                        n=len(sites), pollutants=", ".join(sorted(sites["pollutant"].dropna().astype(str).unique())),
                        diff=fmt(diff)))
        return out

    def _validation(self) -> str:
        """The agreement of healthgeo's network distances with CBS Nabijheid (validation_access_summary)."""
        t = self.t
        out = [f'<h3 id="validation">{t["validation"]}</h3>']
        if "validation_access_summary" not in self.tables:
            return out[0] + f'<p class="absent">{t["no_validation"]}</p>'
        s = _read(self.con, "validation_access_summary")
        out.append(f'<p class="note">{_esc(t["validation_note"])}</p><table class="validation"><tr>'
                   + "".join(f"<th>{t[k]}</th>" for k in ("destination", "mode", "n_buurten", "pearson_r",
                                                           "median_ratio", "share_within")) + "</tr>")
        for _, r in s.iterrows():
            out.append(f'<tr><td>{_esc(r["destination"])}</td><td>{_esc(r["mode"])}</td>'
                       f'<td class="n">{_esc(r["n_buurten"])}</td><td class="n">{fmt(r["pearson_r"], "index")}</td>'
                       f'<td class="n">{fmt(r["median_ratio"], "index")}</td>'
                       f'<td class="n">{fmt(r["share_within_25pct"], "fraction")}</td></tr>')
        out.append("</table>")
        return "".join(out)

    def section_quality(self) -> str:
        t = self.t
        out = [f'<section id="quality"><h2>{t["quality"]}</h2>']
        if self.synthetic:
            out.append(f'<p class="absent">{_esc(t["synthetic"])}</p>')
        # every input the configuration knows: given or not, and what the GeoPackage says of its coverage
        figures = self.coverage_figures()
        known = config_inputs()
        extra = sorted((self.given or set()) - set(known))
        out.append(f'<h3 id="coverage">{t["inputs"]} · {t["coverage"]}</h3><p class="note">{_esc(t["schema_note"])}</p>'
                   f'<table class="inputs"><tr><th>{t["input"]}</th><th>{t["given"]}</th><th>{t["figures"]}</th></tr>')
        for name in [*known, *extra]:
            given = None if self.given is None else name in self.given
            lines = figures.pop(name, [])
            alt = QUALITY_ALTERNATIVE.get(name)
            if alt and self.given is not None and name not in self.given and alt in self.given:
                figures.setdefault(alt, []).extend(lines)  # e.g. popw_method of a run with the grid, not BAG
                lines = []
            state = "?" if given is None else t["in_run"] if given else t["not_in_run"]
            cls = "" if given is not False else ' class="absent-row"'
            cell = "<ul>" + "".join(f"<li>{_esc(x)}</li>" for x in lines) + "</ul>" if lines else \
                ("" if given is False else f'<span class="note">{t["no_figures"]}</span>')
            out.append(f'<tr{cls}><td title="{_esc(known.get(name, ""))}"><code>{_esc(name)}</code></td>'
                       f"<td>{_esc(state)}</td><td>{cell}</td></tr>")
        for name, lines in figures.items():  # derived figures (e.g. impact_reason)
            out.append(f'<tr><td><code>{_esc(name or t["derived"])}</code></td><td></td><td><ul>'
                       + "".join(f"<li>{_esc(x)}</li>" for x in lines) + "</ul></td></tr>")
        out.append("</table>")
        # withheld wards: how many per reason, then the list
        out.append(f'<h3 id="withheld">{t["withheld_wards"]} ({int(self.withheld.sum())} / {len(self.buurt)})</h3>')
        if self.withheld.any():
            w = self.buurt[self.withheld]
            counts = w["disclosure_reason"].astype(str).value_counts()
            out.append(f'<table><tr><th>{t["reason"]}</th><th>{t["count"]}</th></tr>' + "".join(
                f'<tr><td>{_esc(r)}</td><td class="n">{k}</td></tr>' for r, k in counts.items()) + "</table>")
            rows = "".join(f'<tr><td>{_esc(c)}</td><td>{_esc(r.get("name"))}</td><td>{_esc(r["disclosure_reason"])}</td></tr>'
                           for c, r in w.iterrows())
            out.append(f'<details{" open" if len(w) <= 15 else ""}><summary>{t["withheld_wards"]}</summary>'
                       f'<table><tr><th>{t["code"]}</th><th>{t["ward"]}</th><th>{t["reason"]}</th></tr>{rows}</table></details>')
        else:
            out.append(f"<p>{t['withheld_none']}</p>")
        out.append(self._validation())
        out.append(f'<h3 id="provenance">{t["provenance"]}</h3>')
        if self.provenance is not None:
            p = self.provenance
            rows = []
            for _, r in p.iterrows():
                where = _val(r.get("url")) or _val(r.get("file")) or ""
                syn = is_synthetic(r.get("provider"), r.get("note"))
                rows.append(f'<tr><td><code>{_esc(r["input"])}</code></td><td>{_esc(r.get("provider"))}</td>'
                            f'<td class="wrap">{_esc(where)}</td><td>{_esc(r.get("retrieved_at"))}</td>'
                            f'<td{" class=syn" if syn else ""}>{t["yes"] if syn else t["no"]}</td>'
                            f'<td>{_esc(r.get("licence"))}</td><td><code>{_esc(str(r.get("sha256") or "")[:12])}</code></td></tr>')
            out.append(f'<table><tr><th>{t["input"]}</th><th>{t["provider"]}</th><th>{t["file"]}</th><th>{t["retrieved"]}</th>'
                       f'<th>{t["synthetic_col"]}</th><th>{t["licence"]}</th><th>sha256</th></tr>{"".join(rows)}</table>')
        else:
            out.append(f'<p class="absent">{t["absent"]}</p>')
        out.append(f'<h3 id="versions">{t["versions"]}</h3><table>')
        for k, v in versions(self.meta).items():
            out.append(f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>")
        out.append("</table></section>")
        return "".join(out)

    def html(self) -> str:
        t = self.t
        names = {str(c): str(n) for c, n in self.buurt.get("name", pd.Series(dtype=str)).items()}
        body = [self.section_summary(), self.section_maps(), self.section_inequality(), self.section_scenarios(),
                self.section_trends(), self.section_quality()]
        banner = f'<div class="banner" role="alert">{_esc(t["synthetic"])}</div>' if self.synthetic else ""
        run = self.meta.get("run", "")
        nav = "".join(f'<a href="#{k}">{t[k]}</a>' for k in ("summary", "maps", "inequality", "scenarios", "trends", "quality"))
        return (
            f'<!DOCTYPE html><html lang="{self.lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{_esc(t['title'])} – {_esc(run)}</title><style>{CSS}</style>"
            f"<script>window.HG_ERRORS=[];window.addEventListener('error',function(e){{window.HG_ERRORS.push(String(e.message))}});</script>"
            f"</head><body>{self.geo.defs()}"
            f'<header><h1>{_esc(t["title"])}</h1><div>{t["run"]}: {_esc(run)} · {_esc(self.meta.get("municipality", ""))}'
            f' · {_esc(self.meta.get("year", ""))}</div></header><nav>{nav}</nav>{banner}<main>{"".join(body)}</main>'
            f'<footer>{t["generated"]} {_esc(self.meta.get("healthgeo_version", __version__))} · {_esc(self.meta.get("created_at", ""))}</footer>'
            f'<div id="hg-tip"></div><script>window.HG_NAMES={json.dumps(names, ensure_ascii=False)};</script>'
            f"<script>{JS}</script></body></html>")


def _placeholder_svg(text: str) -> str:
    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 80" font-family="sans-serif" font-size="16">'
            f'<rect width="100%" height="100%" fill="#fff8e6"/><text x="12" y="45">{_esc(text)}</text></svg>')


def _with_banner(svg: str, text: str) -> str:
    """The standalone SVG under a banner line (the synthetic-data warning on every key figure)."""
    m = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    w, h = float(m.group(1)), float(m.group(2))
    inner = svg.replace('<svg xmlns="http://www.w3.org/2000/svg" ', f'<svg x="0" y="36" width="{w:.0f}" height="{h:.0f}" ', 1)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h + 36:.0f}" font-family="sans-serif">'
            f'<rect x="1" y="1" width="{w - 2:.0f}" height="32" fill="#fff3cd" stroke="#b8860b" stroke-width="2"/>'
            f'<text x="10" y="23" font-size="16" font-weight="bold" fill="#5c4400">{_esc(text)}</text>{inner}</svg>')


def key_figures(rep: "Report") -> dict[str, str]:
    """Standalone SVG key figures for the Snakemake report: the headline map and the gradients
    (under the synthetic-data banner when the inputs are synthetic)."""
    out = _key_figures(rep)
    if rep.synthetic:
        out = {k: _with_banner(v, rep.t["synthetic"]) for k, v in out.items()}
    return out


def _key_figures(rep: "Report") -> dict[str, str]:
    col = rep.key_map_column()
    out = {"map": rep.standalone_map(rep.buurt, col) if col else _placeholder_svg(rep.t["absent"])}
    charts = []
    if "disparity" in rep.tables:
        d = _disparity_rows(rep.con)
        for ind in list(dict.fromkeys(d["indicator"]))[:9]:
            fig = rep._gradient_chart(d[d["indicator"] == ind], ind)
            if fig:
                charts.append((rep.label(ind), fig[fig.index("<svg"):fig.rindex("</svg>") + 6]))
    if not charts:
        out["gradient"] = _placeholder_svg(rep.t["absent"])
        return out
    w, h, cols = 340, 190, 3
    parts = []
    for k, (title, svg) in enumerate(charts):
        x, y = (k % cols) * w, (k // cols) * (h + 24)
        parts.append(f'<text x="{x + 8}" y="{y + 16}" font-size="12" font-weight="bold">{_esc(title if len(title) <= 48 else title[:46] + "…")}</text>'
                     + svg.replace('<svg class="chart" ', f'<svg x="{x}" y="{y + 20}" width="{w}" height="{h}" ', 1))
    rows = (len(charts) + cols - 1) // cols
    out["gradient"] = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {cols * w} {rows * (h + 24)}" '
                       f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="#fff"/>'
                       f'{"".join(parts)}</svg>')
    return out


def versions(meta: dict) -> dict[str, str]:
    """Versions of the software that made the GeoPackage and the report."""
    import geopandas
    import pyogrio
    import shapely

    out = {"healthgeo (run)": meta.get("healthgeo_version", "?"), "healthgeo (report)": __version__,
           "Python": platform.python_version(), "geopandas": geopandas.__version__, "shapely": shapely.__version__,
           "pyogrio": pyogrio.__version__, "GDAL": pyogrio.__gdal_version_string__, "pandas": pd.__version__,
           "numpy": np.__version__}
    try:
        import pyproj

        out["pyproj"], out["PROJ"] = pyproj.__version__, pyproj.proj_version_str
    except ImportError:  # pragma: no cover - geopandas depends on it
        pass
    try:
        import snakemake

        out["snakemake"] = snakemake.__version__
    except Exception:  # noqa: BLE001 - optional
        pass
    return out


def build_report(gpkg: str | Path, out_html: str | Path, *, language: str = "nl",
                 figures: dict[str, str | Path] | None = None) -> Path:
    """Write the offline HTML report of a GeoPackage; returns the path of ``index.html``.

    ``figures`` maps ``map`` and/or ``gradient`` to paths of standalone SVG key figures (the
    headline map, the quintile gradients) for the Snakemake report.
    """
    import pyogrio.errors

    out_html = Path(out_html)
    # a file damaged beyond its first pages shows only when a table is read: one line, not a traceback
    unreadable = (sqlite3.DatabaseError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                  pyogrio.errors.FeatureError)
    try:
        rep = Report(gpkg, language=language)
    except unreadable as e:
        raise _unreadable(gpkg, e) from None
    try:
        text = rep.html()
        svgs = key_figures(rep) if figures else {}
    except unreadable as e:
        raise _unreadable(gpkg, e) from None
    finally:
        rep.con.close()
    for key, path in (figures or {}).items():
        with atomic_write(Path(path)) as tmp:
            tmp.write_text(svgs[key], encoding="utf-8")
    out_html.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out_html) as tmp:
        tmp.write_text(text, encoding="utf-8")
    log.info("wrote %s (%d maps, %.0f kB)", out_html, rep.n_maps, len(text) / 1024)
    return out_html
