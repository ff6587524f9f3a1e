"""CBS wijk- en buurtkaart boundaries: PDOK OGC API Features / WFS download and the reader.

The reader accepts every shape the boundaries come in:

* PDOK WFS ``wijkenbuurten`` GeoJSON (camelCase: ``buurtcode``, ``aantalInwoners``,
  ``percentagePersonen0Tot15Jaar``, ...),
* PDOK OGC API Features GeoJSON (snake_case: ``aantal_inwoners``, ...),
* CBS wijkbuurtkaart GPKG/SHP (short names: ``bu_code``, ``a_inw``, ``a_00_14``, ...),
* municipal shapes with local codes, e.g. Gemeente Utrecht 2013 (``KODE``, ``WIJKKODE``, ``NAAM``,
  EPSG:4326): give ``code_prefix="BU0344"`` (or an explicit ``columns`` mapping).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import InputDataError, SchemaDriftError
from .._http import get, get_all_items
from .._vocab import (CODE_COLUMN, CODE_PATTERN, CODE_WIDTH, CRS_28992_URI, LEVEL_OF_COLUMN, PLURAL, PREFIX,
                      TARGET_CRS, apply_prefix, level_name, mask_sentinels, municipality_number, repair_polygons)
from ..plausibility import check_columns
from .cbs import KEY_FIGURE_QUANTITIES
from ._common import check_in_rd_new, check_rd_new, prov_for_responses, read_vector, rebase_url, to_target_crs, write_geojson

log = logging.getLogger(__name__)

OGC_URL = "https://api.pdok.nl/cbs/wijken-en-buurten-{year}/ogc/v1/collections/{collection}/items"
WFS_URL = "https://service.pdok.nl/cbs/wijkenbuurten/{year}/wfs/v1_0"

# standardised column -> candidate source columns (first found wins)
_CODE = {
    "buurt": ["buurtcode", "bu_code", "BU_CODE", "buurt_code", "statcode", "code"],
    "wijk": ["wijkcode", "wk_code", "WK_CODE", "wijk_code", "statcode", "code"],
    "gemeente": ["gemeentecode", "gm_code", "GM_CODE", "gemeente_code", "statcode", "code"],
}
_NAME = {
    "buurt": ["buurtnaam", "bu_naam", "BU_NAAM", "NAAM", "naam", "statnaam", "regio", "name"],
    "wijk": ["wijknaam", "wk_naam", "WK_NAAM", "NAAM", "naam", "statnaam", "regio", "name"],
    "gemeente": ["gemeentenaam", "gm_naam", "GM_NAAM", "NAAM", "naam", "statnaam", "regio", "name"],
}
_PARENT = {
    "wijkcode": ["wijkcode", "wk_code", "WK_CODE"],
    "gemeentecode": ["gemeentecode", "gm_code", "GM_CODE"],
}
_COUNTS = {
    "residents": ["aantalInwoners", "aantal_inwoners", "a_inw", "AANT_INW"],
    "age_0_14": ["a_00_14", "aantal_personen_0_tot_15_jaar", "P_00_14_JR_count"],
    "age_15_24": ["a_15_24", "aantal_personen_15_tot_25_jaar"],
    "age_25_44": ["a_25_44", "aantal_personen_25_tot_45_jaar"],
    "age_45_64": ["a_45_64", "aantal_personen_45_tot_65_jaar"],
    "age_65_plus": ["a_65_oo", "aantal_personen_65_jaar_en_ouder"],
    "households": ["aantalHuishoudens", "aantal_huishoudens", "a_hh", "AANTAL_HH"],
    "income_keur_per_resident": ["gemiddeldInkomenPerInwoner", "gemiddeld_inkomen_per_inwoner", "g_ink_pi"],
    "low_income_hh_pct": ["percentageHuishoudensMetEenLaagInkomen", "percentage_huishoudens_met_een_laag_inkomen",
                          "percentageHuishoudensMetLaagInkomen", "percentage_huishoudens_met_laag_inkomen", "p_hh_li"],
}
# age shares given as percentages (PDOK camelCase / snake_case): converted to counts
_AGE_PCT = {
    "age_0_14": ["percentagePersonen0Tot15Jaar", "percentage_personen_0_tot_15_jaar", "p_00_14_jr", "P_00_14_JR"],
    "age_15_24": ["percentagePersonen15Tot25Jaar", "percentage_personen_15_tot_25_jaar", "p_15_24_jr", "P_15_24_JR"],
    "age_25_44": ["percentagePersonen25Tot45Jaar", "percentage_personen_25_tot_45_jaar", "p_25_44_jr", "P_25_44_JR"],
    "age_45_64": ["percentagePersonen45Tot65Jaar", "percentage_personen_45_tot_65_jaar", "p_45_64_jr", "P_45_64_JR"],
    "age_65_plus": ["percentagePersonen65JaarEnOuder", "percentage_personen_65_jaar_en_ouder", "p_65_eo_jr", "P_65_EO_JR"],
}
STANDARD_COLUMNS = ["name", "wijkcode", "gemeentecode", "residents", "age_0_14", "age_15_24", "age_25_44",
                    "age_45_64", "age_65_plus", "households", "income_keur_per_resident", "low_income_hh_pct",
                    "area_m2"]


def _first(cols, candidates):
    for c in candidates:
        if c in cols:
            return c
    lower = {str(c).lower(): c for c in cols}
    for c in candidates:
        if c.lower() in lower:
            return lower[c.lower()]
    return None


def read_boundaries(
    path,
    level: str,
    *,
    code_prefix: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs=None,
    layer: str | None = None,
    municipality: str | None = None,
    repair: bool = False,
) -> gpd.GeoDataFrame:
    """Read ward polygons into the standardised ``wards`` frame (design.md).

    Parameters
    ----------
    path
        GeoJSON / GPKG / SHP path, or a GeoDataFrame.
    level
        ``"buurt"``, ``"wijk"`` or ``"gemeente"`` (plural accepted).
    code_prefix
        Prefix that turns local codes into CBS codes, e.g. ``"BU0344"`` for ``KODE`` ``0111``
        (``"WK0344"`` for wijken, ``"GM"`` for the gemeente). Parent codes are derived likewise.
    columns
        Explicit mapping standardised name -> source column (``code``, ``name``, ``wijkcode``,
        ``gemeentecode``, ``residents``, ...). Overrides the automatic detection.
    crs
        CRS to assume when the file declares none (otherwise a layer without CRS raises CRSError).
    municipality
        Keep only wards of this municipality (``GM0344``), e.g. after a national download.
    repair
        Fix invalid geometries with ``shapely.make_valid`` (keeping the polygonal parts) and log
        each repaired code, instead of stopping. Config: ``repair: true`` on the boundary input.

    Returns
    -------
    GeoDataFrame indexed by ``buurtcode``/``wijkcode``/``gemeentecode`` in EPSG:28992 with
    ``name``, parent codes, the key-figure columns (NaN when the file has none) and ``area_m2``.

    Raises
    ------
    SchemaDriftError
        No code column can be found.
    CRSError
        The layer has no CRS and ``crs`` is not given.
    InputDataError
        Duplicate codes, invalid or empty geometries (all problems listed at once).
    """
    lv = level_name(level)
    src = str(path) if not isinstance(path, gpd.GeoDataFrame) else "boundaries"
    if isinstance(path, gpd.GeoDataFrame):
        gdf = path.copy()
    else:
        gdf = read_vector(path, source="boundaries", layer=layer)
    reprojected = gdf.crs is not None and not gdf.crs.equals(TARGET_CRS)
    gdf = to_target_crs(gdf, source=src, crs=crs)
    if reprojected:  # a wrong declared CRS shows as coordinates far outside the country
        check_in_rd_new(gdf, src)
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    mapping = dict(columns or {})

    width = CODE_WIDTH[lv]
    code_col = mapping.get("code") or (_first(cols, ["KODE", "kode"]) if code_prefix else None) \
        or _first(cols, _CODE[lv])
    if code_col is None or code_col not in gdf.columns:
        raise SchemaDriftError(src, [f"one of {_CODE[lv]}"], cols,
                               hint="Map the code column with `columns: {code: <name>}` (and `code_prefix` "
                                    "for local codes such as Gemeente Utrecht's KODE).")
    codes = gdf[code_col].astype("string").str.strip()
    if code_prefix:
        codes = apply_prefix(codes, code_prefix, width)
    out = pd.DataFrame(index=pd.Index(codes.to_numpy(), name=CODE_COLUMN[lv]))

    name_col = mapping.get("name") or _first(cols, _NAME[lv])
    out["name"] = gdf[name_col].astype("string").str.strip().to_numpy() if name_col else pd.NA

    mun = municipality_number(code_prefix[:6].replace(PREFIX[lv], "GM", 1)) if (
        code_prefix and len(code_prefix) >= 6) else None
    # parent codes
    parents = {"buurt": ["wijkcode", "gemeentecode"], "wijk": ["gemeentecode"], "gemeente": []}[lv]
    for parent in parents:
        pcol = mapping.get(parent) or _first(cols, _PARENT[parent])
        if pcol is None and parent == "wijkcode" and code_prefix:
            pcol = _first(cols, ["WIJKKODE", "wijkkode"])
        pwidth = CODE_WIDTH[LEVEL_OF_COLUMN[parent]]
        if pcol is not None:
            vals = gdf[pcol].astype("string").str.strip()
            if mun is not None:
                vals = apply_prefix(vals, ("WK" if parent == "wijkcode" else "GM") + mun, pwidth)
            elif parent == "gemeentecode":  # some layers hold '0363' instead of 'GM0363'
                vals = vals.where(~vals.str.fullmatch(r"\d{4}").fillna(False), "GM" + vals)
            out[parent] = vals.to_numpy()
        else:  # derive from the CBS code itself: BU03440111 -> WK034401 -> GM0344
            idx = out.index.to_series().astype("string")
            out[parent] = (("WK" + idx.str[2:8]) if parent == "wijkcode" else ("GM" + idx.str[2:6])).to_numpy()
            out.loc[~idx.str.match(r"^(BU|WK)\d").to_numpy(), parent] = pd.NA

    residents_col = mapping.get("residents") or _first(cols, _COUNTS["residents"])
    for std, cands in _COUNTS.items():
        c = mapping.get(std) or _first(cols, cands)
        if c is not None:
            out[std] = mask_sentinels(gdf[c])[0].to_numpy()  # "." and CBS -99999999 secrecy codes
        elif std in _AGE_PCT and residents_col is not None and _first(cols, _AGE_PCT[std]):
            pct = mask_sentinels(gdf[_first(cols, _AGE_PCT[std])])[0].to_numpy()
            res = out["residents"].to_numpy(dtype=float)
            out[std] = np.round(res * pct / 100.0)
        else:
            out[std] = np.nan

    geom = gdf.geometry.to_numpy()
    res = gpd.GeoDataFrame(out, geometry=geom, crs=TARGET_CRS)
    if municipality:
        m = municipality.strip().upper()
        keep = (res.index.to_series().str[2:6] == m[2:6]).to_numpy()
        res = res[keep]
    if repair:
        bad = ~(res.geometry.isna() | res.geometry.is_empty) & ~res.geometry.is_valid
        if bad.any():
            log.warning("%s: repaired invalid geometries of %s with make_valid", src,
                        sorted(map(str, res.index[bad]))[:50])
            res.loc[bad, "geometry"] = repair_polygons(res.geometry[bad])
    res["area_m2"] = res.geometry.area
    _validate(res, src, CODE_COLUMN[lv])
    check_columns(res, KEY_FIGURE_QUANTITIES, source=src)
    keep = [c for c in STANDARD_COLUMNS if c in res.columns]
    return res[keep + ["geometry"]]


def _validate(gdf: gpd.GeoDataFrame, src: str, code_name: str) -> None:
    problems = []
    idx = gdf.index.to_series()
    if idx.isna().any():
        problems.append(f"{int(idx.isna().sum())} feature(s) without a {code_name}")
    pattern = CODE_PATTERN[LEVEL_OF_COLUMN[code_name]]
    bad = idx[~idx.fillna("").str.match(pattern)]
    if len(bad):
        problems.append(f"malformed {code_name}(s) {sorted(map(str, bad.unique()))[:10]} (expected {pattern}; "
                        "use `code_prefix` for local codes)")
    dup = idx[idx.duplicated(keep=False)].dropna().unique()
    if len(dup):
        problems.append(f"duplicate {code_name}(s) {sorted(map(str, dup))[:20]} (dissolve them or fix the file)")
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    if empty.any():
        problems.append(f"empty geometries for {sorted(map(str, gdf.index[empty]))[:20]}")
    invalid = ~empty & ~gdf.geometry.is_valid
    if invalid.any():
        problems.append(f"invalid geometries for {sorted(map(str, gdf.index[invalid]))[:20]} "
                        "(fix them in a GIS, or set `repair: true` on this input to apply shapely.make_valid)")
    if problems:
        raise InputDataError(f"{src}: {len(problems)} problem(s): " + "; ".join(problems))


# --------------------------------------------------------------------------- download
def download(name: str, spec: dict, *, area: dict, cache_dir: Path, boundary=None):
    """PDOK wijken-en-buurten boundaries for ``area['municipality']`` (OGC API or WFS).

    spec keys: ``year``, ``level`` (buurt/wijk/gemeente), ``service`` (``ogc`` default, or ``wfs``;
    ``page_size`` for WFS paging, default 1000),
    ``base_url`` (tests only).
    """
    year = int(spec.get("year") or area.get("year"))
    lv = level_name(spec.get("level", "buurt"))
    gm = str(area["municipality"]).upper()
    municipality_number(gm)
    service = spec.get("service", "ogc")
    provider = "pdok"
    out = Path(cache_dir) / provider / f"{name}_{PLURAL[lv]}_{gm}_{year}_{service}.geojson"
    common = dict(provider=provider, cache_dir=cache_dir, timeout=spec.get("timeout", 60),
                  max_retries=spec.get("max_retries", 5))
    if service == "ogc":
        url = rebase_url(OGC_URL.format(year=year, collection=PLURAL[lv]), spec.get("base_url"))
        params = {"gemeentecode": gm, "f": "json", "limit": 1000, "crs": CRS_28992_URI}
        features, resps = get_all_items(url, style="ogc", params=params, **common)
    elif service == "wfs":
        url = rebase_url(WFS_URL.format(year=year), spec.get("base_url"))
        params = {"service": "WFS", "version": "2.0.0", "request": "GetFeature",
                  "typeNames": f"wijkenbuurten:{PLURAL[lv]}", "outputFormat": "application/json",
                  "srsName": "EPSG:28992",
                  "filter": ("<fes:Filter xmlns:fes=\"http://www.opengis.net/fes/2.0\"><fes:PropertyIsEqualTo>"
                             "<fes:ValueReference>gemeentecode</fes:ValueReference>"
                             f"<fes:Literal>{gm}</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>")}
        page = int(spec.get("page_size", 1000))
        features, resps = [], []
        while True:  # WFS 2.0 paging: count + startIndex until a short page
            r = get(url, params={**params, "count": page, "startIndex": len(features)}, expect="json", **common)
            batch = r.json().get("features", [])
            features += batch
            resps.append(r)
            if len(batch) < page:
                break
    else:
        raise InputDataError(f"pdok: service {service!r} is unknown; use 'ogc' or 'wfs'.")
    if not features:
        raise InputDataError(f"pdok: no {PLURAL[lv]} returned for {gm} in {year} ({resps[0].url}). "
                             "Check the year (PDOK serves 2022 onwards) and the municipality code.")
    check_rd_new(features, f"pdok {PLURAL[lv]} {gm} {year}", resps)
    write_geojson(features, out)
    return out, prov_for_responses(name, provider, resps, out, note=f"{len(features)} {PLURAL[lv]}")
