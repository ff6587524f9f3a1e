"""CBS Kerncijfers wijken en buurten (KWB): OData v3 download and the reader; municipality list."""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputDataError, SchemaDriftError
from .._http import get_all_items
from ..plausibility import check_columns
from .._vocab import PREFIX, level_of, mask_sentinels, municipality_number, strip_code
from ._common import load_table, prov_for_responses, rebase_url, stem, write_records_json

log = logging.getLogger(__name__)

ODATA_URL = "https://opendata.cbs.nl/ODataApi/odata/{table}/TypedDataSet"
KWB_TABLES = {2019: "84583NED", 2020: "84799NED", 2021: "85039NED", 2022: "85318NED",
              2023: "85618NED", 2024: "85984NED", 2025: "86165NED"}

#: work and income key figures (docs/methods.md#work-and-income): CBS net labour participation and
#: benefit recipients per 100 residents aged 15-64 (made from the KWB counts by :func:`read_kerncijfers`)
WORK_INCOME_COLUMNS = ["labour_participation_pct", "social_assistance_pct_15_64", "disability_benefit_pct_15_64",
                       "unemployment_benefit_pct_15_64"]
KERNCIJFER_COLUMNS = ["level", "name", "residents", "age_0_14", "age_15_24", "age_25_44", "age_45_64",
                      "age_65_plus", "households", "income_keur_per_resident", "low_income_hh_pct",
                      *WORK_INCOME_COLUMNS, "area_land_ha"]
#: benefit rates are NULL where fewer residents aged 15-64 live in the ward: CBS rounds the
#: recipient counts to tens, so a smaller denominator puts the rate off by more than 5 points
MIN_WORKING_AGE_FOR_RATES = 100
#: benefit count (standardised) -> rate column per 100 residents aged 15-64
_BENEFITS = {"social_assistance_n": "social_assistance_pct_15_64", "disability_benefit_n": "disability_benefit_pct_15_64",
             "unemployment_benefit_n": "unemployment_benefit_pct_15_64"}

# standardised -> (KWB short name, OData long-name stem)
_MAP = {
    "residents": ("a_inw", "AantalInwoners"),
    "age_0_14": ("a_00_14", "k_0Tot15Jaar"),
    "age_15_24": ("a_15_24", "k_15Tot25Jaar"),
    "age_25_44": ("a_25_44", "k_25Tot45Jaar"),
    "age_45_64": ("a_45_64", "k_45Tot65Jaar"),
    "age_65_plus": ("a_65_oo", "k_65JaarOfOuder"),
    "households": ("a_hh", "HuishoudensTotaal"),
    "income_keur_per_resident": ("g_ink_pi", "GemiddeldInkomenPerInwoner"),
    "low_income_hh_pct": ("p_hh_li", "HuishoudensMetEenLaagInkomen"),
    "labour_participation_pct": ("p_arb_pp", "Nettoarbeidsparticipatie"),
    "social_assistance_n": ("a_soz_wb", "PersonenPerSoortUitkeringBijstand"),
    "disability_benefit_n": ("a_soz_ao", "PersonenPerSoortUitkeringAO"),
    "unemployment_benefit_n": ("a_soz_ww", "PersonenPerSoortUitkeringWW"),
    "area_land_ha": ("a_lan_ha", "OppervlakteLand"),
}
#: standardised column -> quantity of healthgeo.plausibility.RANGES (checked on read)
KEY_FIGURE_QUANTITIES = {"residents": "count", "age_0_14": "count", "age_15_24": "count", "age_25_44": "count",
                   "age_45_64": "count", "age_65_plus": "count", "households": "count",
                   "income_keur_per_resident": "income_keur", "low_income_hh_pct": "pct", "area_land_ha": "area_ha",
                   "labour_participation_pct": "pct", "social_assistance_n": "count", "disability_benefit_n": "count",
                   "unemployment_benefit_n": "count"}
_REQUIRED = ["residents", "age_0_14", "age_15_24", "age_25_44", "age_45_64", "age_65_plus", "households"]
_LEVEL_WORDS = {"gemeente": "gemeente", "wijk": "wijk", "buurt": "buurt", "land": "land"}


def read_kerncijfers(path_or_json, *, sheet=None) -> pd.DataFrame:
    """Read CBS key figures (KWB xlsx/csv with short names, or OData TypedDataSet JSON).

    Returns a frame indexed by ``code`` (GM/WK/BU code, stripped) with ``level``, ``name`` and
    the standardised columns ``residents``, ``age_0_14`` ... ``age_65_plus``, ``households``,
    ``income_keur_per_resident``, ``low_income_hh_pct``, the work-and-income columns
    (:data:`WORK_INCOME_COLUMNS`: ``labour_participation_pct`` = CBS p_arb_pp, and the bijstand,
    AO and WW recipients a_soz_wb/a_soz_ao/a_soz_ww per 100 residents aged 15-64, NULL below
    :data:`MIN_WORKING_AGE_FOR_RATES` of them) and ``area_land_ha``. "." and null are NaN.
    Income and work columns that a (early) release lacks are NaN with a log line.

    Raises
    ------
    SchemaDriftError
        The code column or a population/household column is missing.
    """
    src = str(path_or_json) if isinstance(path_or_json, (str, Path)) else "kerncijfers"
    raw = load_table(path_or_json, source=src, sheet=sheet)
    cols = list(raw.columns)
    if "gwb_code_10" in cols or "gwb_code" in cols:
        code = raw["gwb_code_10" if "gwb_code_10" in cols else "gwb_code"].map(strip_code)
        kind, names = "short", {k: v[0] for k, v in _MAP.items()}
        name = raw["regio"].map(strip_code) if "regio" in cols else pd.Series(np.nan, index=raw.index)
        lvl = raw["recs"].map(strip_code).str.lower() if "recs" in cols else code.map(level_of)
    elif "WijkenEnBuurten" in cols or "Codering_3" in cols or any(stem(c) == "Codering" for c in cols):
        ccol = "WijkenEnBuurten" if "WijkenEnBuurten" in cols else next(c for c in cols if stem(c) == "Codering")
        code = raw[ccol].map(strip_code)
        by_stem = {stem(c): c for c in cols}
        kind, names = "odata", {k: by_stem.get(v[1], v[1]) for k, v in _MAP.items()}
        name = raw[by_stem["Title"]].map(strip_code) if "Title" in by_stem else pd.Series(np.nan, index=raw.index)
        lvl = code.map(level_of)
    else:
        raise SchemaDriftError(src, ["gwb_code_10 (KWB download) or WijkenEnBuurten (OData)"], cols)
    required = [names[k] for k in _REQUIRED]
    if any(c not in cols for c in required):
        raise SchemaDriftError(src, ["gwb_code_10" if kind == "short" else "WijkenEnBuurten", *required], cols)
    out = pd.DataFrame(index=pd.Index(code.to_numpy(), name="code"))
    out["level"] = lvl.map(lambda v: _LEVEL_WORDS.get(str(v).strip().lower(), v)).to_numpy()
    out["name"] = name.to_numpy()
    for std, c in names.items():
        if c in cols:
            out[std] = mask_sentinels(raw[c])[0].to_numpy()  # ".", "x" and CBS secrecy codes (-99997, ...)
        else:
            log.info("%s: no %s column (%s); %s is NaN", src, c, kind, std)
            out[std] = np.nan
    dup = out.index[out.index.duplicated()].unique()
    if len(dup):
        raise InputDataError(f"{src}: duplicate region codes {list(dup)[:10]}; give one period/table at a time.")
    check_columns(out, KEY_FIGURE_QUANTITIES, source=src)
    working_age = out[["age_15_24", "age_25_44", "age_45_64"]].sum(axis=1, min_count=3).to_numpy(float)
    enough = np.nan_to_num(working_age) >= MIN_WORKING_AGE_FOR_RATES
    for n_col, rate in _BENEFITS.items():
        with np.errstate(invalid="ignore", divide="ignore"):
            out[rate] = np.where(enough, 100.0 * out[n_col].to_numpy(float) / working_age, np.nan)
    empty = [c for c in ("income_keur_per_resident", "low_income_hh_pct", *WORK_INCOME_COLUMNS) if out[c].isna().all()]
    if empty:
        log.info("%s: %s entirely missing (early release?)", src, empty)
    check_columns(out, {c: "pct" for c in _BENEFITS.values()}, source=src)
    return out[KERNCIJFER_COLUMNS]


def odata_filter(municipality: str, levels=("gemeente", "wijk", "buurt"), field: str = "WijkenEnBuurten") -> str:
    num = municipality_number(municipality)
    parts = [f"startswith({field},'{PREFIX[lv]}{num}')" for lv in levels]
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def fetch_statline(name: str, spec: dict, *, area: dict, cache_dir: Path, tables: Mapping[int, str], what: str):
    """Rows and DataProperties of a CBS StatLine table (OData v3 TypedDataSet) for the municipality.

    The table comes from ``spec["table"]`` or from ``tables`` by the regio-indeling year
    (``spec["regio_year"]``, ``spec["year"]`` or the area's year); ``spec["base_url"]`` rebases the
    URL (tests). Returns ``(rows, properties, responses, table, year)``; no rows is an error.
    """
    year = int(spec.get("regio_year") or spec.get("year") or area.get("year"))
    table = spec.get("table") or tables.get(year)
    if table is None:
        raise InputDataError(f"cbs_odata ({name}): no {what} table known for regio-indeling {year}; give "
                             f"`table:` (StatLine id). Known: {dict(tables)}.")
    url = rebase_url(ODATA_URL.format(table=table), spec.get("base_url"))
    kw = dict(style="odata", provider="cbs_odata", cache_dir=cache_dir, max_retries=spec.get("max_retries", 5))
    rows, resps = get_all_items(url, params={"$filter": odata_filter(area["municipality"]), "$format": "json"}, **kw)
    if not rows:
        raise InputDataError(f"cbs_odata: {what} table {table} returned no rows for {area['municipality']}.")
    props, presps = get_all_items(url.rsplit("/", 1)[0] + "/DataProperties", params={"$format": "json"}, **kw)
    return rows, props, resps + presps, table, year


def download(name: str, spec: dict, *, area: dict, cache_dir: Path, boundary=None):
    """KWB TypedDataSet rows of the municipality (gemeente, wijken, buurten) via CBS OData v3.

    spec keys: ``year`` (table from the year), ``table`` (override, e.g. ``85618NED``),
    ``levels`` (default all three), ``base_url`` (tests).
    """
    year = int(spec.get("year") or area.get("year"))
    table = spec.get("table") or KWB_TABLES.get(year)
    if table is None:
        raise InputDataError(f"cbs_odata: no KWB table known for {year}; give `table:` (StatLine id, e.g. "
                             f"85618NED). Known: {KWB_TABLES}.")
    url = rebase_url(ODATA_URL.format(table=table), spec.get("base_url"))
    params = {"$filter": odata_filter(area["municipality"], spec.get("levels", ("gemeente", "wijk", "buurt"))),
              "$format": "json"}
    rows, resps = get_all_items(url, style="odata", params=params, provider="cbs_odata", cache_dir=cache_dir,
                                max_retries=spec.get("max_retries", 5))
    if not rows:
        raise InputDataError(f"cbs_odata: table {table} returned no rows for {area['municipality']}.")
    # region names live in the WijkenEnBuurten dimension, not in the TypedDataSet
    dim_url = url.rsplit("/", 1)[0] + "/WijkenEnBuurten"
    dims, dresps = get_all_items(dim_url, style="odata", params={
        "$filter": odata_filter(area["municipality"], spec.get("levels", ("gemeente", "wijk", "buurt")), field="Key"),
        "$format": "json"}, provider="cbs_odata", cache_dir=cache_dir, max_retries=spec.get("max_retries", 5))
    titles = {str(d.get("Key", "")).strip(): str(d.get("Title", "")).strip() for d in dims}
    for r in rows:
        r.setdefault("Title", titles.get(str(r.get("WijkenEnBuurten", "")).strip()))
    resps = resps + dresps
    out = Path(cache_dir) / "cbs_odata" / f"{name}_{table}_{area['municipality']}.json"
    write_records_json(rows, out, table=table)
    return out, prov_for_responses(name, "cbs_odata", resps, out, note=f"table {table}, {len(rows)} rows")


# --------------------------------------------------------------------------- municipalities
@lru_cache(maxsize=1)
def _gemeenten() -> tuple[tuple[str, str, str, str], ...]:
    text = resources.files("healthgeo").joinpath("data/gemeenten.csv").read_text(encoding="utf-8")
    rows = []
    for r in csv.DictReader(line for line in text.splitlines() if not line.startswith("#")):
        rows.append((r["code"], r["name"], r.get("valid_from", ""), r.get("valid_to", "")))
    return tuple(rows)


def known_municipalities(year: int | None = None) -> dict[str, str]:
    """CBS municipality codes -> names (``data/gemeenten.csv``), optionally valid in ``year``.

    Includes the synthetic demo code ``GM9999`` ("Demostad"). The 2020 codes and names come from
    the Gemeente rows of RIVM/CBS 50090NED (2020 geography); mergers since 2021 (Eemsdelta,
    Dijk en Waard, Land van Cuijk, Maashorst, Weesp -> Amsterdam, Voorne aan Zee) were added by
    hand with ``valid_from``/``valid_to`` and a ``note``.
    """
    out = {}
    for code, name, frm, to in _gemeenten():
        if year is not None:
            if frm and int(frm[:4]) > year:
                continue
            if to and int(to[:4]) < year:
                continue
        out[code] = name
    return out
