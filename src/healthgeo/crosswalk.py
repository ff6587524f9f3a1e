"""Ward crosswalks between two boundary sets (docs/methods.md#boundary-crosswalks).

CBS renumbers, splits, merges and redraws buurten almost every year, so results of two years can
only be compared ward by ward after mapping one year's wards onto the other's. A crosswalk holds,
for every pair of a *source* ward (the year being mapped) and a *target* ward (the target
geometry, ``area.year``'s wards) that share residents or area, the **weight**: the share of the
source ward's residents (or, without residents points, of its area) that lies in the target
ward. Weights of a source ward sum to one when it lies wholly inside the target boundaries.

Values move through the crosswalk as residents-weighted means (rates, shares, concentrations) or
weighted sums (counts): a value constant in space stays constant.

Per target ward, two quality figures:

``explained_frac``
    Share of the target ward's residents accounted for by source wards (Σ weight × source
    residents / target residents); below one where the target reaches outside the source
    boundaries (e.g. land moved in from another municipality) - less than
    :data:`MIN_EXPLAINED` stops the run, naming the wards.
``unambiguous_frac``
    Share of those residents whose source ward maps onto this target ward as a whole (weight
    ≥ :data:`WHOLE`): identical, renamed and merged wards give 1; a split source ward's
    residents are placed by weight, which assumes its value holds in each part.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import InputDataError
from .dictionary import ColumnDoc, doc

log = logging.getLogger(__name__)

#: a source ward whose weight to one target is at least this maps onto it as a whole
WHOLE = 0.99
#: geometries whose symmetric difference is below this share of their area count as the same
SAME_GEOMETRY = 0.01
#: a target ward with less than this share of its residents explained by source wards stops the run
MIN_EXPLAINED = 0.5
METHOD = "docs/methods.md#boundary-crosswalks"

#: two-sided 95 % normal quantile (survey bounds -> standard errors)
Z95 = 1.959963984540054

#: the ``method`` values of a crosswalk row
METHODS = ("identical", "renamed", "residents", "area")


def crosswalk_docs() -> dict[str, ColumnDoc]:
    ident = dict(about="identity", scale="text")
    return {
        "from_code": doc("code", "ward code in the source boundaries (the year being mapped)", theme="identity", **ident),
        "to_code": doc("code", "ward code in the target boundaries (area.year)", theme="identity", **ident),
        "weight": doc("fraction (0-1)", "share of the source ward's residents (method 'residents') or area "
                      "(method 'area') that lies in the target ward", METHOD, theme="quality", about="area",
                      scale="fraction"),
        "method": doc("category", "identical (same code and geometry), renamed (same geometry, other code), "
                      "residents (weight by residents points), area (weight by area: no residents points)",
                      METHOD, theme="quality", about="identity", scale="category"),
    }


def quality_docs() -> dict[str, ColumnDoc]:
    return {
        "explained_frac": doc("fraction (0-1)", "share of the target ward's residents accounted for by source wards",
                              METHOD, theme="quality", about="area", scale="fraction",
                              label_en="residents explained by the crosswalk",
                              label_nl="inwoners verklaard door de omzetting"),
        "unambiguous_frac": doc("fraction (0-1)", "share of the target ward's residents whose source ward maps onto "
                                "it as a whole (identical, renamed or merged)", METHOD, theme="quality",
                                about="area", scale="fraction", label_en="residents with an unambiguous origin",
                                label_nl="inwoners met eenduidige herkomst"),
    }


def _residents_in(points: gpd.GeoDataFrame | None, polys: gpd.GeoSeries) -> pd.Series | None:
    """Residents of the points inside each polygon (index of ``polys``); None without points."""
    if points is None or points.empty:
        return None
    tree = gpd.GeoSeries(np.asarray(polys.values, dtype=object))
    pt, poly = tree.sindex.query(points.geometry.values, predicate="within")
    w = points["residents"].to_numpy(float)
    return pd.Series(np.bincount(poly, weights=np.nan_to_num(w[pt]), minlength=len(polys)), index=polys.index)


def build_crosswalk(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame, *,
                    residents: gpd.GeoDataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Crosswalk from ``source`` wards onto ``target`` wards (both indexed by ward code, RD New).

    Parameters
    ----------
    source, target
        Ward polygons of two boundary years, indexed by code.
    residents
        Residents points (column ``residents``), e.g. BAG dwellings or the 100 m grid of the target
        year; weights are then shares of residents, else shares of area.

    Returns
    -------
    (table, quality)
        ``table``: from_code, to_code, weight, method (:func:`crosswalk_docs`); ``quality``: per
        target code explained_frac and unambiguous_frac (:func:`quality_docs`).

    Raises
    ------
    InputDataError
        Duplicate codes, or no CRS / different CRS in the two sets.
    """
    for name, g in (("source", source), ("target", target)):
        if g.index.has_duplicates:
            dup = sorted(set(g.index[g.index.duplicated()]))
            raise InputDataError(f"crosswalk: {name} boundaries have duplicate ward codes {dup[:5]}; fix the file.")
        if g.crs is None:
            raise InputDataError(f"crosswalk: {name} boundaries have no CRS; give the layer's CRS.")
    if source.crs != target.crs:
        raise InputDataError(f"crosswalk: source CRS {source.crs} differs from target CRS {target.crs}; "
                             "reproject both to EPSG:28992 first.")
    src_geom, tgt_geom = source.geometry, target.geometry
    # pieces: every non-empty intersection of a source and a target ward
    inter = gpd.overlay(gpd.GeoDataFrame({"from_code": source.index.astype(str)}, geometry=src_geom.values,
                                         crs=source.crs),
                        gpd.GeoDataFrame({"to_code": target.index.astype(str)}, geometry=tgt_geom.values,
                                         crs=target.crs),
                        how="intersection", keep_geom_type=True)
    inter = inter[inter.area > 0].reset_index(drop=True)
    src_area = pd.Series(src_geom.area.to_numpy(), index=source.index.astype(str))
    inter["area_w"] = inter.area.to_numpy() / src_area.reindex(inter["from_code"]).to_numpy()
    res_piece = _residents_in(residents, inter.geometry)
    res_src = None if res_piece is None else res_piece.groupby(inter["from_code"]).sum()
    rows = []
    tgt_area = pd.Series(tgt_geom.area.to_numpy(), index=target.index.astype(str))
    for i, r in inter.iterrows():
        f, t = r["from_code"], r["to_code"]
        a_w = float(r["area_w"])
        same = a_w >= 1 - SAME_GEOMETRY and r.geometry.area >= (1 - SAME_GEOMETRY) * tgt_area[t]
        if same:
            rows.append((f, t, 1.0, "identical" if f == t else "renamed"))
        elif res_src is not None and res_src.get(f, 0.0) > 0:
            rows.append((f, t, float(res_piece.iloc[i]) / float(res_src[f]), "residents"))
        else:
            rows.append((f, t, a_w, "area"))
    table = pd.DataFrame(rows, columns=list(crosswalk_docs()))
    # a ward matched as a whole (identical or renamed) keeps no other pieces: what is left of it, or
    # what its neighbours seem to put into it, are slivers of coordinate noise (< 1 % of its area)
    whole = table["method"].isin(["identical", "renamed"])
    matched_from, matched_to = set(table.loc[whole, "from_code"]), set(table.loc[whole, "to_code"])
    sliver = ~whole & (table["from_code"].isin(matched_from) | table["to_code"].isin(matched_to))
    if sliver.any():
        log.info("crosswalk: %d sliver piece(s) beside whole matches dropped (largest weight %.4f)",
                 int(sliver.sum()), float(table.loc[sliver, "weight"].max()))
    table = table[~sliver & (table["weight"] > 0)].sort_values(["from_code", "to_code"]).reset_index(drop=True)
    tgt_codes = target.index.astype(str)
    quality = crosswalk_quality(table, source_residents=_source_residents(source, residents, res_src),
                                target_codes=tgt_codes,
                                target_residents=_residents_in(residents, pd.Series(tgt_geom.values, index=tgt_codes)))
    if residents is None or residents.empty:  # explained by area: the share of the target covered by source wards
        covered = pd.Series(inter.area.to_numpy()).groupby(inter["to_code"].to_numpy()).sum()
        quality["explained_frac"] = (covered.reindex(tgt_codes, fill_value=0.0) / tgt_area.reindex(tgt_codes)) \
            .clip(upper=1.0).to_numpy()
    n = table["method"].value_counts().to_dict()
    log.info("crosswalk: %d source -> %d target wards; %s", len(source), len(target),
             ", ".join(f"{k} {v}" for k, v in sorted(n.items())))
    return table, quality


def _source_residents(source, residents, res_src) -> pd.Series:
    """Residents per source ward: from the points, else the ward's ``residents`` column, else its area."""
    codes = source.index.astype(str)
    if res_src is not None:
        return res_src.reindex(codes, fill_value=0.0)
    if "residents" in source:
        return pd.Series(source["residents"].to_numpy(float), index=codes).fillna(0.0)
    return pd.Series(source.geometry.area.to_numpy(), index=codes)


def crosswalk_quality(table: pd.DataFrame, *, source_residents: pd.Series, target_codes,
                      target_residents: pd.Series | None = None) -> pd.DataFrame:
    """explained_frac and unambiguous_frac per target ward (see the module docstring)."""
    t = table.assign(res=table["weight"] * source_residents.reindex(table["from_code"]).fillna(0.0).to_numpy())
    got = t.groupby("to_code")["res"].sum()
    whole = t[t["weight"] >= WHOLE].groupby("to_code")["res"].sum()
    idx = pd.Index(target_codes, name="to_code")
    got = got.reindex(idx, fill_value=0.0)
    denom = got if target_residents is None else target_residents.reindex(idx).fillna(0.0).clip(lower=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        explained = np.where(denom > 0, np.minimum(got / denom, 1.0), np.where(got > 0, 1.0, np.nan))
        unamb = np.where(got > 0, whole.reindex(idx, fill_value=0.0) / got, np.nan)
    return pd.DataFrame({"explained_frac": explained, "unambiguous_frac": unamb}, index=idx)


def check_quality(quality: pd.DataFrame, *, year, minimum: float = MIN_EXPLAINED, level: str = "ward",
                  target_year=None) -> None:
    """Refuse a crosswalk that leaves target wards with less than ``minimum`` of their residents
    explained: the wards are named with their figure (never silently averaged)."""
    msg = quality_problem(quality, year=year, minimum=minimum, level=level, target_year=target_year)
    if msg:
        raise InputDataError(msg)


def quality_problem(quality: pd.DataFrame, *, year, minimum: float = MIN_EXPLAINED, level: str = "ward",
                    target_year=None) -> str:
    """The message of :func:`check_quality`, or "" when every target ward is explained well enough."""
    bad = quality[quality["explained_frac"] < minimum]  # NaN: a ward without residents, nothing to explain
    if not len(bad):
        return ""
    listed = ", ".join(f"{c} ({100 * v:.0f} %)" for c, v in bad["explained_frac"].head(10).items())
    target = f"the {target_year} {level} boundaries" if target_year else "target boundaries"
    return (f"crosswalk {year} -> {target}: {len(bad)} target {level}(s) have less than {100 * minimum:.0f} % "
            f"of their residents explained by the {year} wards: {listed}{' ...' if len(bad) > 10 else ''}. "
            f"Check that the {year} boundaries cover the municipality (same municipality, complete file).")


def source_residents(source: gpd.GeoDataFrame, residents: gpd.GeoDataFrame | None) -> pd.Series:
    """Residents per source ward (index: its code) as :func:`build_crosswalk` counts them: from the
    residents points, else the ward's ``residents`` column, else its area."""
    pts = _residents_in(residents, pd.Series(source.geometry.values, index=source.index.astype(str)))
    return _source_residents(source, residents, pts)


def apply_crosswalk(values: pd.DataFrame, table: pd.DataFrame, *, source_residents: pd.Series,
                    counts: tuple[str, ...] = ()) -> pd.DataFrame:
    """Source-ward values mapped onto the target wards of ``table``.

    Columns in ``counts`` are summed by weight (Σ weight × value); all others are residents-weighted
    means (Σ weight × residents × value / Σ weight × residents over the sources with a value), so a
    constant stays constant. A target ward none of whose sources has a value gets NaN.

    An estimate ``c`` with 95 % bounds ``c_lo95``/``c_hi95`` (a survey): a target ward fed by one
    source keeps that source's bounds; one fed by several gets the normal interval of the weighted
    mean of independent estimates, c ± 1.96 × √(Σ w̃ᵢ² SEᵢ²) with w̃ the normalised residents
    weights and SEᵢ = (hiᵢ - loᵢ) / (2 × 1.96) (docs/methods.md#boundary-crosswalks).
    """
    vals = values.copy()
    vals.index = vals.index.astype(str)
    t = table.assign(res=table["weight"] * source_residents.reindex(table["from_code"]).fillna(0.0).to_numpy())
    out = {}
    for col in vals.columns:
        v = pd.to_numeric(vals[col], errors="coerce").reindex(t["from_code"]).to_numpy(float)
        ok = np.isfinite(v)
        if col in counts:
            s = pd.Series(np.where(ok, v * t["weight"].to_numpy(), 0.0)).groupby(t["to_code"].to_numpy()).sum()
            n = pd.Series(ok).groupby(t["to_code"].to_numpy()).sum()
            out[col] = s.where(n > 0)
        else:
            w = np.where(ok, t["res"].to_numpy(), 0.0)
            num = pd.Series(np.where(ok, v, 0.0) * w).groupby(t["to_code"].to_numpy()).sum()
            den = pd.Series(w).groupby(t["to_code"].to_numpy()).sum()
            out[col] = (num / den).where(den > 0)
    res = pd.DataFrame(out)
    to = t["to_code"].to_numpy()
    for col in [c for c in vals.columns if f"{c}_lo95" in vals.columns and f"{c}_hi95" in vals.columns
                and c not in counts]:
        v = pd.to_numeric(vals[col], errors="coerce").reindex(t["from_code"]).to_numpy(float)
        lo = pd.to_numeric(vals[f"{col}_lo95"], errors="coerce").reindex(t["from_code"]).to_numpy(float)
        hi = pd.to_numeric(vals[f"{col}_hi95"], errors="coerce").reindex(t["from_code"]).to_numpy(float)
        ok = np.isfinite(v)
        w = np.where(ok, t["res"].to_numpy(), 0.0)
        tot = pd.Series(w).groupby(to).transform("sum").to_numpy()
        wn = np.divide(w, tot, out=np.zeros_like(w), where=tot > 0)
        se = (hi - lo) / (2 * Z95)
        var = pd.Series(np.where(ok & (w > 0), wn ** 2 * se ** 2, 0.0)).groupby(to).sum(min_count=1)
        bad = pd.Series(ok & (w > 0) & ~np.isfinite(se)).groupby(to).any()
        n_src = pd.Series(ok & (w > 0)).groupby(to).sum()
        se_t = np.sqrt(var).where(~bad)
        est = res[col].reindex(se_t.index)
        several = (n_src > 1).reindex(se_t.index)
        res[f"{col}_lo95"] = res[f"{col}_lo95"].where(~several, est - Z95 * se_t)
        res[f"{col}_hi95"] = res[f"{col}_hi95"].where(~several, est + Z95 * se_t)
    res.index.name = "to_code"
    return res
