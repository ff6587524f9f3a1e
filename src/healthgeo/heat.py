"""Heat stress per ward: felt temperature (PET) at home and a cool place within walking distance.

Input: a raster of the physiological equivalent temperature (PET, "gevoelstemperatuur") in °C on
a hot summer afternoon, e.g. the Klimaateffectatlas national heat map; any CRS (reprojected by
:mod:`healthgeo.rasters`), checked against -30..60 °C (:mod:`healthgeo.plausibility`: a map in
kelvin is refused).

* :func:`heat_exposure` - area mean and population-weighted mean PET per ward, and the share of
  residents in each PET heat-stress class (:data:`PET_CLASSES`, Matzarakis & Mayer 1996;
  docs/methods.md#heat-stress).
* :func:`cool_places` - public green or shaded areas where PET stays below a threshold, of at
  least 200 m² (Kluck et al. 2020; docs/methods.md#cool-places).
* :func:`cool_place_access` - share of residents with such a place within 300 m over the walk
  network, from the per-home network distances of :func:`healthgeo.network.home_distances`.

Each ward function returns ``(DataFrame, docs)`` aligned to the wards' index (``docs/design.md``).
"""

from __future__ import annotations

import logging
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import ConfigError, InputDataError
from ._green import public_green_parts
from ._green import union_parts as _union_parts
from ._vocab import TARGET_CRS
from .dictionary import EXACTEXTRACT, ColumnDoc, doc
from .exposure import raster_exposure
from .network import weighted_quantile

log = logging.getLogger(__name__)

__all__ = ["PET_CLASSES", "COOL_PLACE_DEFAULTS", "heat_exposure", "cool_places", "cool_place_access",
           "heat_params"]

MATZARAKIS_1996 = ("Matzarakis & Mayer (1996), Another kind of environmental stress: thermal stress, WHO "
                   "Collaborating Centre for Air Quality Management and Air Pollution Control, Newsletter 18:7-10; "
                   "Matzarakis, Mayer & Iziomon (1999), Int. J. Biometeorol. 43:76-84 (PET classes for Western and "
                   "Central Europe)")
KLUCK_2020 = ("Kluck et al. (2020), De hittebestendige stad - een koele kijk op de inrichting van de buitenruimte, "
              "Hogeschool van Amsterdam / Tauw / WUR / Hanzehogeschool (guideline: a cool place of >= 200 m2 within "
              "300 m of every home)")
KLIMAATEFFECTATLAS_PET = ("Klimaateffectatlas (Stichting CAS), Hittekaart gevoelstemperatuur: PET in °C, mean of "
                          "12-18 h on a hot summer day (WUR method, Witteveen+Bos 2020)")

#: PET heat-stress classes (lower bound inclusive, °C) of Matzarakis & Mayer (1996) for Western
#: and Central Europe: < 23 no heat stress, 23-29 slight, 29-35 moderate, 35-41 strong, >= 41
#: extreme. ``(column suffix, lower, upper, label_en, label_nl)``.
PET_CLASSES: tuple[tuple[str, float | None, float | None, str, str], ...] = (
    ("lt_23", None, 23.0, "no heat stress (PET < 23 °C)", "geen hittestress (PET < 23 °C)"),
    ("23_29", 23.0, 29.0, "slight heat stress (PET 23-29 °C)", "zwakke hittestress (PET 23-29 °C)"),
    ("29_35", 29.0, 35.0, "moderate heat stress (PET 29-35 °C)", "matige hittestress (PET 29-35 °C)"),
    ("35_41", 35.0, 41.0, "strong heat stress (PET 35-41 °C)", "sterke hittestress (PET 35-41 °C)"),
    ("ge_41", 41.0, None, "extreme heat stress (PET >= 41 °C)", "extreme hittestress (PET >= 41 °C)"),
)
_THRESHOLDS = tuple((b, label.split(" (")[0], MATZARAKIS_1996) for _, b, _u, label, _n in PET_CLASSES if b is not None)

#: Defaults of the config's ``heat`` section (config.schema.yaml documents each with its source).
COOL_PLACE_DEFAULTS = {"cool_threshold_degc": 35.0, "cool_min_area_m2": 200.0, "cool_distance_m": 300.0}


def heat_params(section) -> dict:
    """The config's ``heat`` section with defaults filled and checked (one ConfigError listing all)."""
    p = {**COOL_PLACE_DEFAULTS, **dict(section or {})}
    unknown = sorted(set(p) - set(COOL_PLACE_DEFAULTS))
    problems = [f"unknown key(s) {unknown}; allowed: {sorted(COOL_PLACE_DEFAULTS)}"] if unknown else []
    problems += [f"{k}={p[k]!r} must be > 0" for k in ("cool_min_area_m2", "cool_distance_m")
                 if k in p and not (isinstance(p[k], (int, float)) and p[k] > 0)]
    if not (isinstance(p["cool_threshold_degc"], (int, float)) and -30 <= p["cool_threshold_degc"] <= 60):
        problems.append(f"cool_threshold_degc={p['cool_threshold_degc']!r} must be a PET in °C within -30..60")
    if problems:
        raise ConfigError("heat parameters are invalid: " + "; ".join(problems))
    return p


def _class_col(suffix: str) -> str:
    return f"pop_share_pet_{suffix}"


def heat_exposure(wards, pet_raster: str | os.PathLike, residents=None, *, weights=None,
                  assume_crs=None) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Felt temperature (PET, °C) per ward: area mean, population-weighted mean, residents per class.

    See docs/methods.md#heat-stress.

    Parameters
    ----------
    wards
        Wards indexed by code (EPSG:28992).
    pet_raster
        Prepared PET raster in °C (``data/processed/{run}/rasters/heat.tif``).
    residents
        Residents points (:mod:`healthgeo.population`); ``None`` gives NaN population columns.

    Returns
    -------
    ``(frame, docs)`` with ``pet_degc_mean``, ``pet_degc_popw``, ``pop_share_pet_lt_23``,
    ``pop_share_pet_23_29``, ``pop_share_pet_29_35``, ``pop_share_pet_35_41``,
    ``pop_share_pet_ge_41``, ``pet_covered_frac`` and ``pet_reason``.
    """
    ex = raster_exposure(wards, pet_raster, residents, weights=weights, assume_crs=assume_crs)
    n, p, w, v = len(wards), ex.ward, ex.weight, ex.value
    cols: dict[str, np.ndarray] = {"pet_degc_mean": ex.mean, "pet_degc_popw": ex.popw}
    den = np.bincount(p, weights=w, minlength=n)
    for suffix, lo, hi, *_ in PET_CLASSES:
        sel = np.ones(len(v), bool)
        if lo is not None:
            sel &= v >= lo
        if hi is not None:
            sel &= v < hi
        with np.errstate(all="ignore"):
            cols[_class_col(suffix)] = np.where(den > 0, np.bincount(p[sel], weights=w[sel], minlength=n) / den,
                                                np.nan)
    cols["pet_covered_frac"] = ex.covered_frac
    cols["pet_reason"] = ex.reason
    return pd.DataFrame(cols, index=wards.index), heat_docs()


def heat_docs() -> dict[str, ColumnDoc]:
    """Documentation of the columns of :func:`heat_exposure`."""
    src = f"{KLIMAATEFFECTATLAS_PET}; {MATZARAKIS_1996}"
    docs = {
        "pet_degc_mean": doc(
            "°C", "Felt temperature (PET) on a hot summer afternoon, area mean over the ward",
            "Coverage-weighted mean of PET raster cells (weight = fraction of the cell inside the ward, exact); "
            "nodata excluded. docs/methods.md#heat-stress", f"{src}; {EXACTEXTRACT}",
            theme="heat", about="area", scale="temperature", higher_is_worse=True, thresholds=_THRESHOLDS,
            label_en="felt temperature (area mean)", label_nl="gevoelstemperatuur (gebiedsgemiddelde)"),
        "pet_degc_popw": doc(
            "°C", "Felt temperature (PET) on a hot summer afternoon, population-weighted mean over the ward's residents",
            "Σ wᵢTᵢ/Σ wᵢ over residents' points (value of the cell under the point; grid residents: the "
            "coverage-weighted mean over their 100 m cell); points on nodata excluded. "
            "docs/methods.md#heat-stress, docs/methods.md#population-weighted-exposure", src,
            theme="heat", scale="temperature", higher_is_worse=True, thresholds=_THRESHOLDS,
            label_en="felt temperature at home", label_nl="gevoelstemperatuur bij de woning"),
        "pet_covered_frac": doc(
            "fraction (0-1)", "Share of the ward's area on valid (not nodata) PET raster cells",
            "Σ coverage of valid cells / ward area in cells", EXACTEXTRACT,
            theme="quality", about="area", scale="fraction",
            label_en="heat map coverage", label_nl="dekking hittekaart"),
        "pet_reason": doc(
            "text", "Why a PET value is missing (mean: outside raster / all nodata; popw: no residents / residents "
            "on nodata), or the share of residents on nodata cells; empty when complete",
            theme="quality", scale="text", label_en="heat: reason missing", label_nl="hitte: reden ontbreken"),
    }
    for suffix, lo, hi, label_en, label_nl in PET_CLASSES:
        rng = f"< {hi:g} °C" if lo is None else (f"≥ {lo:g} °C" if hi is None else f"{lo:g}-{hi:g} °C (≥ {lo:g}, < {hi:g})")
        docs[_class_col(suffix)] = doc(
            "fraction (0-1)", f"Share of residents whose home lies where PET is {rng}: {label_en.split(' (')[0]}",
            "Σ wᵢ[lo ≤ Tᵢ < hi]/Σ wᵢ over residents' points with a valid PET; class bounds of Matzarakis & "
            "Mayer (1996). docs/methods.md#heat-stress", MATZARAKIS_1996,
            theme="heat", scale="fraction", higher_is_worse=True if (lo or 0) >= 35 else None,
            burden_group="", label_en=f"residents with {label_en}", label_nl=f"inwoners met {label_nl}")
    return docs


def cool_places(green: gpd.GeoDataFrame, pet_raster: str | os.PathLike, *, threshold_degc: float = 35.0,
                min_area_m2: float = 200.0, trees: gpd.GeoDataFrame | None = None,
                crown_radius_m: float = 4.0) -> gpd.GeoDataFrame:
    """Cool places: the parts of public green or shaded areas where PET < ``threshold_degc``, ≥ ``min_area_m2``.

    See docs/methods.md#cool-places. Candidates are the public green areas (touching polygons with
    ``public`` true unioned, the rule of :func:`healthgeo._green.public_green_parts`) and, when
    ``trees`` are given (e.g. a municipal tree register: public trees), the union of their crowns
    (discs of ``crown_radius_m``). The candidates are intersected with the raster cells whose PET
    is below the threshold; every connected piece of at least ``min_area_m2`` is one cool place.

    Returns a GeoDataFrame (EPSG:28992) with ``area_m2`` and ``pet_degc_mean`` (plain mean of the
    cool cells it covers), one row per cool place.
    """
    import rasterio
    from rasterio import features
    from rasterio.crs import CRS as RioCRS

    parts = [public_green_parts(green)] if green is not None and len(green) else []
    if trees is not None and len(trees):
        parts.append(shapely.buffer(np.asarray(trees.geometry.values, dtype=object), crown_radius_m))
    cand = _union_parts(np.concatenate(parts)) if parts else np.zeros(0, dtype=object)
    empty = gpd.GeoDataFrame({"area_m2": [], "pet_degc_mean": []}, geometry=gpd.GeoSeries([], crs=TARGET_CRS),
                             crs=TARGET_CRS)
    if len(cand) == 0:
        return empty
    with rasterio.open(pet_raster) as ds:
        if ds.crs is not None and ds.crs != RioCRS.from_user_input(TARGET_CRS):
            raise InputDataError(f"{pet_raster}: the PET raster is in {ds.crs}, expected {TARGET_CRS} "
                                 "(prepare it with healthgeo.rasters.prepare_raster)")
        arr = ds.read(1, masked=True).astype(float).filled(np.nan)
        transform = ds.transform
    # only cells that touch a candidate are polygonised (a 1 m national PET map has millions of cool cells)
    near = features.rasterize(((g, 1) for g in cand), out_shape=arr.shape, transform=transform, all_touched=True,
                              dtype="uint8").astype(bool)
    cool = np.isfinite(arr) & (arr < threshold_degc)
    if not (cool & near).any():
        return empty
    shapes = [shapely.geometry.shape(g) for g, val in features.shapes(cool.astype("uint8"), mask=cool & near,
                                                                        transform=transform) if val == 1]
    cool_area = shapely.union_all(np.asarray(shapes, dtype=object))
    pieces = shapely.get_parts(shapely.intersection(cand, cool_area))
    pieces = pieces[shapely.get_type_id(pieces) == 3] if len(pieces) else pieces  # polygons only
    merged = _union_parts(pieces) if len(pieces) else np.zeros(0, dtype=object)
    area = shapely.area(merged) if len(merged) else np.zeros(0)
    keep = merged[area >= min_area_m2]
    means = np.full(len(keep), np.nan)
    if len(keep):  # one rasterisation of all places (cells whose centre lies inside), means by bincount
        labels = features.rasterize(((g, i + 1) for i, g in enumerate(keep)), out_shape=arr.shape,
                                    transform=transform, dtype="int32")
        sel = (labels > 0) & cool
        num = np.bincount(labels[sel], weights=arr[sel], minlength=len(keep) + 1)[1:]
        den = np.bincount(labels[sel], minlength=len(keep) + 1)[1:]
        with np.errstate(all="ignore"):
            means = np.where(den > 0, num / den, np.nan)
    log.info("cool places (PET < %g °C, >= %g m²): %d of %d candidate areas, %.1f ha", threshold_degc,
             min_area_m2, len(keep), len(cand), float(shapely.area(keep).sum()) / 1e4 if len(keep) else 0.0)
    return gpd.GeoDataFrame({"area_m2": shapely.area(keep), "pet_degc_mean": means},
                            geometry=gpd.GeoSeries(keep, crs=TARGET_CRS), crs=TARGET_CRS)


def cool_place_access(distances, homes: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, *, within_m: float = 300.0,
                      threshold_degc: float = 35.0, min_area_m2: float = 200.0, n_places: int | None = None,
                      ) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Share of residents with a cool place within ``within_m`` walking, per ward.

    See docs/methods.md#cool-places. ``distances`` holds the walking network distance (m) from each
    home (row of ``homes``) to the nearest cool place: NaN for homes off the network or on an
    island (left out of the share, stated in ``cool_place_reason``), inf when none is reachable.

    Returns ``(frame, docs)`` with ``pop_share_cool_place_walk_{d}m``, the same for residents aged
    65+ (``..._65plus``), ``cool_place_walk_m_median`` (population-weighted median, NaN when more
    than half of the residents reach none) and ``cool_place_reason``.
    """
    d = np.asarray(distances, dtype=float)
    if len(d) != len(homes):
        raise InputDataError(f"cool_place_access: {len(d)} distances for {len(homes)} homes")
    if not within_m > 0:
        raise ConfigError(f"cool_place_access: within_m={within_m!r} must be > 0")
    n = len(wards)
    codes = _ward_of_homes(homes, wards)
    valid = codes >= 0
    c = np.where(valid, codes, 0)
    res = np.where(valid, np.nan_to_num(pd.to_numeric(homes["residents"], errors="coerce").to_numpy(float)), 0.0)
    res65 = (np.where(valid, np.nan_to_num(pd.to_numeric(homes["residents_65_plus"], errors="coerce")
                                           .to_numpy(float)), 0.0)
             if "residents_65_plus" in homes else np.zeros(len(homes)))
    known = np.isfinite(d) | np.isinf(d)
    near = (d <= within_m) & known
    tag = f"{within_m:g}m"
    cols, reason = {}, np.full(n, None, dtype=object)
    tot = np.bincount(c, weights=res, minlength=n)
    den = np.bincount(c, weights=np.where(known, res, 0.0), minlength=n)
    for suffix, w in (("", res), ("_65plus", res65)):
        num = np.bincount(c, weights=np.where(near, w, 0.0), minlength=n)
        dd = np.bincount(c, weights=np.where(known, w, 0.0), minlength=n)
        with np.errstate(all="ignore"):
            cols[f"pop_share_cool_place_walk_{tag}{suffix}"] = np.where(dd > 0, num / dd, np.nan)
    med = weighted_quantile(np.where(valid & known, codes, -1), np.where(known, d, np.nan), res, 0.5, n)
    cols["cool_place_walk_m_median"] = med
    for j in range(n):
        if tot[j] <= 0:
            reason[j] = "no residents"
        elif den[j] <= 0:
            reason[j] = "no resident within reach of the walk network (off network or on an island)"
        elif den[j] < tot[j] * (1 - 1e-9):
            reason[j] = (f"{100 * (1 - den[j] / tot[j]):.1f} % of residents off the walk network or on an island "
                         "(shares over the rest)")
    if n_places == 0:
        reason = np.where(tot > 0, "no cool place in the study area (PET map, green and shade inputs)", reason)
    cols["cool_place_reason"] = reason
    frame = pd.DataFrame(cols, index=wards.index)
    return frame, cool_place_docs(within_m=within_m, threshold_degc=threshold_degc, min_area_m2=min_area_m2)


def _ward_of_homes(homes: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> np.ndarray:
    """Position of the ward each home lies in (-1 when none; the first ward when on a shared edge)."""
    out = np.full(len(homes), -1, dtype=np.int64)
    if len(homes) == 0:
        return out
    if homes.crs is not None and wards.crs is not None and not homes.crs.equals(wards.crs):
        raise InputDataError(f"homes are in {homes.crs} but wards in {wards.crs}; reproject one (`.to_crs(28992)`)")
    tree = shapely.STRtree(np.asarray(wards.geometry.values, dtype=object))
    pi, wi = tree.query(np.asarray(homes.geometry.values, dtype=object), predicate="intersects")
    order = np.lexsort((wi, pi))
    pi, wi = pi[order], wi[order]
    first = np.unique(pi, return_index=True)[1]
    out[pi[first]] = wi[first]
    if (out < 0).any():
        log.info("%d of %d homes lie in no ward and are left out", int((out < 0).sum()), len(out))
    return out


def cool_place_docs(*, within_m: float = 300.0, threshold_degc: float = 35.0,
                    min_area_m2: float = 200.0) -> dict[str, ColumnDoc]:
    """Documentation of the columns of :func:`cool_place_access`."""
    tag = f"{within_m:g}m"
    what = (f"a cool place (public green or shaded area of ≥ {min_area_m2:g} m² where PET < {threshold_degc:g} °C "
            "on a hot afternoon)")
    method = ("Walk-network distance from each home to the nearest entrance of a cool place (healthgeo.network "
              "home_distances; polygons reached at their entrances); homes off the network or on an island left "
              "out. docs/methods.md#cool-places")
    src = f"{KLUCK_2020}; {KLIMAATEFFECTATLAS_PET}"
    docs = {}
    for suffix, en, nl in (("", "", ""), ("_65plus", ", 65+", ", 65+")):
        docs[f"pop_share_cool_place_walk_{tag}{suffix}"] = doc(
            "fraction (0-1)", f"Share of residents{' aged 65+' if suffix else ''} with {what} within {within_m:g} m "
            "walking", method, src, theme="heat", scale="fraction", higher_is_worse=False,
            thresholds=((1.0, "every home", KLUCK_2020),),
            label_en=f"cool place ≤ {within_m:g} m walk{en}", label_nl=f"koele plek ≤ {within_m:g} m lopen{nl}")
    docs["cool_place_walk_m_median"] = doc(
        "m", f"Population-weighted median walking distance from home to {what}",
        method + "; NaN when more than half of the residents reach none", src,
        theme="heat", scale="distance", higher_is_worse=True,
        thresholds=((float(within_m), "cool place guideline", KLUCK_2020),),
        label_en="walk to a cool place (median)", label_nl="loopafstand naar koele plek (mediaan)")
    docs["cool_place_reason"] = doc(
        "text", "Why the cool-place values are missing or cover part of the residents; empty when complete",
        theme="quality", scale="text", label_en="cool place: reason missing", label_nl="koele plek: reden ontbreken")
    return docs
