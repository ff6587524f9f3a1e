"""Wards (CBS buurten, wijken, gemeente): validation, code hierarchy, key figures.

Wards are GeoDataFrames in EPSG:28992 indexed by their CBS code; the index name is the level's
code column (``buurtcode``, ``wijkcode``, ``gemeentecode``). CBS codes nest: buurt
``BU03440112`` lies in wijk ``WK034401`` in gemeente ``GM0344``. See
docs/methods.md#wards-and-key-figures.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import CRSError, InputDataError
from ._vocab import CODE_COLUMN, LEVELS, TARGET_CRS, code_prefix, is_code, parent_code, polygonal
from .dictionary import CBS_KWB, ColumnDoc, doc
from .io import atomic_write
from .sources import read_boundaries, read_kerncijfers

log = logging.getLogger(__name__)

__all__ = ["LEVELS", "CODE_COLUMN", "KEY_FIGURES", "parent_code", "validate_wards", "build_levels", "ward_docs",
           "prepare_wards", "read_wards"]

#: Key-figure columns carried on every ward layer (counts are residents).
KEY_FIGURES = [
    "residents", "age_0_14", "age_15_24", "age_25_44", "age_45_64", "age_65_plus",
    "households", "income_keur_per_resident", "low_income_hh_pct",
    "labour_participation_pct", "social_assistance_pct_15_64", "disability_benefit_pct_15_64",
    "unemployment_benefit_pct_15_64",
]
_SUM_COLUMNS = ["residents", "age_0_14", "age_15_24", "age_25_44", "age_45_64", "age_65_plus", "households"]


def validate_wards(wards: gpd.GeoDataFrame, level: str, *, source: str = "", repair: bool = False) -> gpd.GeoDataFrame:
    """Check a ward layer and return it in EPSG:28992.

    Collects every problem (missing CRS, malformed or duplicate codes, empty or invalid
    geometries) and raises one :class:`InputDataError`. With ``repair=True`` invalid
    geometries are fixed with ``make_valid`` and each repaired code is logged instead.
    """
    what = f"{level} wards" + (f" from {source}" if source else "")
    if wards.crs is None:
        raise CRSError(
            f"{what} have no CRS. Give the file a CRS (e.g. a .prj or a GeoJSON in WGS84) or "
            "convert it to EPSG:28992 first (ogr2ogr -a_srs EPSG:28992 ...)."
        )
    problems: list[str] = []
    codes = pd.Index(wards.index.astype(str))
    bad = [c for c in codes if not is_code(c, level)]
    if bad:
        problems.append(f"{len(bad)} code(s) do not look like CBS {level} codes: {bad[:10]}")
    dup = codes[codes.duplicated()].unique().tolist()
    if dup:
        problems.append(f"duplicate codes {dup[:10]} - each ward must appear once (dissolve or drop duplicates)")
    empty = codes[(wards.geometry.isna() | wards.geometry.is_empty).to_numpy()].tolist()
    if empty:
        problems.append(f"empty or missing geometry for {empty[:10]}")
    invalid_mask = (~wards.geometry.is_valid).to_numpy() & ~np.isin(codes, empty)
    invalid = codes[invalid_mask].tolist()
    if invalid and not repair:
        problems.append(
            f"invalid geometry for {invalid[:10]} (self-intersections?). Fix them in a GIS or set "
            "`repair: true` on the boundary input to apply shapely.make_valid"
        )
    if problems:
        raise InputDataError(f"{what} are unusable:\n  - " + "\n  - ".join(problems))
    out = wards.copy()
    out.index = codes.rename(CODE_COLUMN[level])
    if invalid:
        log.warning("%s: repaired invalid geometries of %s with make_valid", what, invalid)
        out.geometry = out.geometry.make_valid()
    if out.crs.to_epsg() != 28992:
        log.info("%s: reprojecting from %s to %s", what, out.crs.to_string(), TARGET_CRS)
        out = out.to_crs(TARGET_CRS)
    out["geometry"] = out.geometry.apply(polygonal)
    return out


def build_levels(
    buurten: gpd.GeoDataFrame,
    *,
    municipality: str,
    wijken: gpd.GeoDataFrame | None = None,
    gemeente: gpd.GeoDataFrame | None = None,
    kerncijfers: pd.DataFrame | None = None,
    repair: bool = False,
) -> dict[str, gpd.GeoDataFrame]:
    """Assemble the three ward levels of one municipality with their key figures.

    Buurten outside ``municipality`` are dropped (logged). Wijken and gemeente are dissolved from
    the buurten when not given. Key figures from ``kerncijfers`` (indexed by CBS code) take
    precedence over attributes already on the boundaries. Residents of a wijk/gemeente without
    key figures are the sum over their buurten (stated in the ``residents_source`` column).
    """
    buurten = validate_wards(buurten, "buurt", repair=repair)
    prefix = code_prefix("buurt", municipality)
    outside = ~buurten.index.str.startswith(prefix)
    if outside.all():
        raise InputDataError(
            f"none of the {len(buurten)} buurten belongs to {municipality} (codes start with "
            f"{buurten.index[:3].tolist()}). Check area.municipality or the buurten input."
        )
    if outside.any():
        log.info("dropping %d buurten outside %s", int(outside.sum()), municipality)
        buurten = buurten[~outside]
    buurten["wijkcode"] = [parent_code(c, "wijk") for c in buurten.index]
    buurten["gemeentecode"] = municipality

    if wijken is None:
        log.info("no wijk boundaries given: dissolving buurten by wijkcode")
        wijken = buurten[["wijkcode", "geometry"]].dissolve(by="wijkcode")
        wijken["name"] = wijken.index
    wijken = validate_wards(wijken, "wijk", repair=repair)
    wijken = wijken[wijken.index.str.startswith(code_prefix("wijk", municipality))].copy()
    wijken["gemeentecode"] = municipality
    missing = sorted(set(buurten["wijkcode"]) - set(wijken.index))
    if missing:
        raise InputDataError(
            f"buurten refer to wijken {missing} that the wijk boundaries lack; use boundaries of "
            "the same year, or drop the wijken input so they are dissolved from the buurten"
        )
    if gemeente is None:
        log.info("no gemeente boundary given: dissolving buurten")
        gemeente = buurten[["gemeentecode", "geometry"]].dissolve(by="gemeentecode")
        gemeente["name"] = municipality
    gemeente = validate_wards(gemeente, "gemeente", repair=repair)
    gemeente = gemeente.loc[[municipality]].copy() if municipality in gemeente.index else gemeente.iloc[:0]
    if gemeente.empty:
        raise InputDataError(f"the gemeente boundaries do not contain {municipality}")

    levels = {"buurt": buurten, "wijk": wijken, "gemeente": gemeente}
    for level, gdf in levels.items():
        levels[level] = _attach_key_figures(gdf, kerncijfers, level)
    # fill missing residents of higher levels from buurt sums, saying so
    for level in ("wijk", "gemeente"):
        gdf = levels[level]
        key = CODE_COLUMN[level]
        sums = levels["buurt"].groupby(key)[_SUM_COLUMNS].sum(min_count=1)
        for col in _SUM_COLUMNS:
            fill = gdf[col].isna() & gdf.index.isin(sums.index)
            if fill.any():
                gdf.loc[fill, col] = sums.loc[gdf.index[fill], col].to_numpy()
                if col == "residents":
                    gdf.loc[fill, "residents_source"] = "sum of buurten"
    for level, gdf in levels.items():
        gdf["area_m2"] = gdf.geometry.area
        gdf["name"] = gdf["name"].astype("string")
        ordered = [c for c in ["name", "wijkcode", "gemeentecode"] if c in gdf and c != CODE_COLUMN[level]]
        levels[level] = gdf[ordered + KEY_FIGURES + ["residents_source", "area_m2", "geometry"]]
    return levels


def _attach_key_figures(gdf: gpd.GeoDataFrame, kerncijfers: pd.DataFrame | None, level: str) -> gpd.GeoDataFrame:
    gdf = gdf.copy()
    if "name" not in gdf:
        gdf["name"] = pd.Series(gdf.index, index=gdf.index)
    for col in KEY_FIGURES:
        if col not in gdf:
            gdf[col] = np.nan
        gdf[col] = pd.to_numeric(gdf[col], errors="coerce").astype("float64")
    gdf["residents_source"] = np.where(gdf["residents"].notna(), "boundaries", None)
    if kerncijfers is not None:
        kc = kerncijfers.reindex(gdf.index)
        for col in KEY_FIGURES:
            if col in kc:
                vals = pd.to_numeric(kc[col], errors="coerce")
                have = vals.notna()
                gdf.loc[have, col] = vals[have].astype("float64")
                if col == "residents":
                    gdf.loc[have, "residents_source"] = "kerncijfers"
        if "name" in kc:
            have = kc["name"].notna()
            gdf.loc[have, "name"] = kc.loc[have, "name"].astype(str).str.strip()
    gdf["residents_source"] = gdf["residents_source"].astype("string")
    return gdf


def ward_docs(level: str) -> dict[str, ColumnDoc]:
    """Documentation of the base columns of a ward layer."""
    code = CODE_COLUMN[level]
    ident = {"theme": "identity", "about": "identity"}
    kf = {"theme": "keyfigures"}  # CBS's own figures: published for every ward (CBS suppresses itself)
    d = {
        code: doc("code", f"CBS {level} code (key of this layer)", "as published by CBS; stable across runs of the same year", CBS_KWB,
                  scale="text", label_en=f"{level} code", label_nl=f"{level}code", **ident),
        "name": doc("text", f"{level} name", "", CBS_KWB, scale="text", label_en="name", label_nl="naam", **ident),
        "geometry": doc("EPSG:28992", f"{level} boundary polygon", "validated; reprojected to RD New", "CBS/PDOK Wijk- en Buurtkaart or the configured file",
                        scale="text", label_en="boundary", label_nl="grens", **ident),
        "residents": doc("persons", "number of residents", "CBS a_inw / aantalInwoners (rounded to 5 by CBS); sum of buurten when missing (see residents_source)", CBS_KWB,
                         scale="count", label_en="residents", label_nl="inwoners", **kf),
        "households": doc("households", "number of private households", "CBS a_hh", CBS_KWB,
                          scale="count", label_en="households", label_nl="huishoudens", **kf),
        "income_keur_per_resident": doc("1000 EUR per resident per year", "mean income per resident", "CBS g_ink_pi; NULL where CBS publishes '.'", CBS_KWB,
                                        scale="money", higher_is_worse=False, burden_group="socioeconomic",
                                        label_en="income per resident", label_nl="inkomen per inwoner", **kf),
        "low_income_hh_pct": doc("%", "share of households with a low income", "CBS p_hh_li; NULL where CBS publishes '.'", CBS_KWB,
                                 scale="percent", higher_is_worse=True, burden_group="socioeconomic",
                                 label_en="low-income households", label_nl="huishoudens met laag inkomen", **kf),
        "labour_participation_pct": doc(
            "%", "net labour participation: share of residents aged 15-74 in paid work (employees and "
            "self-employed)", "CBS p_arb_pp (Nettoarbeidsparticipatie); NULL where CBS publishes '.' "
            "(docs/methods.md#work-and-income)", CBS_KWB, scale="percent", higher_is_worse=False,
            burden_group="socioeconomic", label_en="labour participation", label_nl="nettoarbeidsparticipatie", **kf),
        "social_assistance_pct_15_64": doc(
            "per 100 residents aged 15-64", "residents receiving social assistance (bijstand, Participatiewet) "
            "per 100 residents aged 15-64", "100 x CBS a_soz_wb / (a_15_24 + a_25_44 + a_45_64); NULL where CBS "
            "publishes '.' or fewer than 100 residents are aged 15-64 (counts rounded to tens by CBS; "
            "docs/methods.md#work-and-income)", CBS_KWB, scale="percent", higher_is_worse=True,
            burden_group="socioeconomic", label_en="social assistance (bijstand)", label_nl="bijstandsuitkeringen", **kf),
        "disability_benefit_pct_15_64": doc(
            "per 100 residents aged 15-64", "residents receiving an occupational disability benefit (AO: WIA, WAO, "
            "Wajong, WAZ) per 100 residents aged 15-64", "100 x CBS a_soz_ao / (a_15_24 + a_25_44 + a_45_64); as "
            "social_assistance_pct_15_64 (docs/methods.md#work-and-income)", CBS_KWB, scale="percent",
            higher_is_worse=True, burden_group="socioeconomic", label_en="disability benefits (AO)",
            label_nl="arbeidsongeschiktheidsuitkeringen", **kf),
        "unemployment_benefit_pct_15_64": doc(
            "per 100 residents aged 15-64", "residents receiving an unemployment benefit (WW) per 100 residents "
            "aged 15-64", "100 x CBS a_soz_ww / (a_15_24 + a_25_44 + a_45_64); as social_assistance_pct_15_64 "
            "(docs/methods.md#work-and-income)", CBS_KWB, scale="percent", higher_is_worse=True,
            burden_group="socioeconomic", label_en="unemployment benefits (WW)", label_nl="WW-uitkeringen", **kf),
        "residents_source": doc("text", "where the residents count comes from", "kerncijfers | boundaries | sum of buurten", "",
                                theme="quality", about="identity", scale="category",
                                label_en="source of residents count", label_nl="bron inwonertal"),
        "area_m2": doc("m2", "ward area", "planar area in EPSG:28992", "", theme="keyfigures", about="area", scale="area",
                       label_en="area", label_nl="oppervlakte"),
    }
    for band, cbs, en in (("0_14", "a_00_14", "0-14"), ("15_24", "a_15_24", "15-24"), ("25_44", "a_25_44", "25-44"),
                          ("45_64", "a_45_64", "45-64"), ("65_plus", "a_65_oo", "65+")):
        d[f"age_{band}"] = doc("persons", f"residents aged {en.replace('+', ' or older')}", f"CBS {cbs}", CBS_KWB,
                               scale="count", label_en=f"residents aged {en}", label_nl=f"inwoners {en} jaar", **kf)
    # keep the historical column order (age bands after residents)
    order = [code, "name", "geometry", "residents", *(f"age_{b}" for b in ("0_14", "15_24", "25_44", "45_64", "65_plus")),
             "households", "income_keur_per_resident", "low_income_hh_pct", "labour_participation_pct",
             "social_assistance_pct_15_64", "disability_benefit_pct_15_64", "unemployment_benefit_pct_15_64",
             "residents_source", "area_m2"]
    d = {k: d[k] for k in order}
    if level == "buurt":
        d["wijkcode"] = doc("code", "CBS code of the wijk containing this buurt", "derived from the buurt code", CBS_KWB,
                            scale="text", label_en="wijk code", label_nl="wijkcode", **ident)
    if level in ("buurt", "wijk"):
        d["gemeentecode"] = doc("code", "CBS code of the municipality", "", CBS_KWB,
                                scale="text", label_en="municipality code", label_nl="gemeentecode", **ident)
    return d


BOUNDARY_LEVEL = {"buurten": "buurt", "wijken": "wijk", "gemeente": "gemeente"}
READER_OPTIONS = ("code_prefix", "layer", "crs", "repair")


def prepare_wards(manifests: dict, *, municipality: str, out_path, repair: bool = False) -> dict[str, gpd.GeoDataFrame]:
    """Read the fetched boundary/key-figure inputs and write ``buurt``/``wijk``/``gemeente`` layers.

    ``manifests`` maps input names (``buurten``, ``wijken``, ``gemeente``, ``kerncijfers``) to
    :class:`healthgeo.provenance.Manifest` objects.
    """
    layers = {}
    for name, level in BOUNDARY_LEVEL.items():
        if name in manifests:
            m = manifests[name]
            opts = {k: m.spec[k] for k in READER_OPTIONS if k in m.spec}
            layers[level] = read_boundaries(m.path, level, **opts)
    kerncijfers = read_kerncijfers(manifests["kerncijfers"].path) if "kerncijfers" in manifests else None
    levels = build_levels(
        layers["buurt"], municipality=municipality, wijken=layers.get("wijk"),
        gemeente=layers.get("gemeente"), kerncijfers=kerncijfers, repair=repair,
    )
    with atomic_write(out_path) as tmp:
        for level, gdf in levels.items():
            gdf.to_file(tmp, layer=level, driver="GPKG", engine="pyogrio")
    for level, gdf in levels.items():
        log.info("%s: %d wards, %.0f residents", level, len(gdf), gdf["residents"].sum())
    return levels


def read_wards(path, level: str) -> gpd.GeoDataFrame:
    """Read one level of a prepared ``wards.gpkg``, indexed by its code column."""
    return gpd.read_file(path, layer=level, engine="pyogrio").set_index(CODE_COLUMN[level])
