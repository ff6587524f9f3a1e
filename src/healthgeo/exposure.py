"""Air, noise and green exposure per ward (any level: buurt, wijk, gemeente).

Each indicator function takes wards (a GeoDataFrame indexed by its CBS code, EPSG:28992) and
returns ``(DataFrame, docs)``: a frame aligned to the ward index and a ``dict[column, ColumnDoc]``
documenting every column (``docs/design.md``).

Area means use the exact coverage-fraction engine of :mod:`healthgeo.zonal` (weights computed once
per raster grid and reused: pass one ``weights`` dict to several calls to share them).
Population-weighted values use the residents' points of :mod:`healthgeo.population`: the raster
value of the cell under each point (BAG dwellings, area fallback), or for grid-based residents the
coverage-weighted mean over their 100 m population cell. Each point counts for the ward its point
lies in; ``popw_method`` says which residents' source was used per ward (``bag``, ``grid``,
``area``, or a ``+``-joined mix), so a fallback is never silent.

Thresholds: WHO Global Air Quality Guidelines 2021 annual-mean guideline levels and interim
targets (docs/methods.md#who-air-quality-guideline-levels); WHO Environmental Noise Guidelines 2018
road-traffic levels (docs/methods.md#who-noise-guideline-levels); WHO Europe's 2017 urban green
space brief, ≥ 0.5-1 ha within 300 m (docs/methods.md#green-space); the 3-30-300 rule,
Konijnendijk 2023 (docs/methods.md#tree-canopy-and-the-3-30-300-rule). Aggregation:
docs/methods.md#coverage-fraction-zonal-statistics, docs/methods.md#population-weighted-exposure.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from ._errors import ConfigError, CRSError, InputDataError, SchemaDriftError
from ._green import public_green_parts
from ._green import union_parts as _union_parts
from .dictionary import (
    EXACTEXTRACT,
    KONIJNENDIJK_2023,
    WHO_AQG_2021,
    WHO_ENG_2018,
    WHO_GREEN_2017,
    ColumnDoc,
    doc,
)
from .network import extent_covered_frac
from .zonal import CoverageWeights, GridSpec, coverage_weights, sample_points

log = logging.getLogger(__name__)

__all__ = [
    "air_exposure",
    "noise_exposure",
    "green_exposure",
    "residents_exposure",
    "AIR_THRESHOLDS",
    "LDEN_BANDS",
    "RESIDENTS_EXPOSURE_DOCS",
    "RasterExposure",
    "raster_exposure",
]

#: WHO AQG 2021 annual-mean levels per pollutant, µg/m³: the guideline level and the interim
#: targets (NO2: AQG 10, IT 40/30/20; PM2.5: AQG 5, IT 35/25/15/10; PM10: AQG 15, IT 70/50/30/20).
#: 45 µg/m³ is PM10's *24-hour* guideline, not an annual level, so it is not used here.
AIR_THRESHOLDS: dict[str, tuple[float, ...]] = {
    "no2": (10, 20, 30, 40),
    "pm25": (5, 10, 15, 25, 35),
    "pm10": (15, 20, 30, 50, 70),
}
_AQG_LEVEL = {"no2": 10, "pm25": 5, "pm10": 15}
_POLLUTANT_NAME = {"no2": "NO2", "pm25": "PM2.5", "pm10": "PM10"}

#: 5 dB Lden bands (lower bound inclusive): < 45, 45-50, ..., 70-75, >= 75.
LDEN_BANDS: tuple[float, ...] = (45, 50, 55, 60, 65, 70, 75)
#: WHO ENG 2018 road-traffic guideline levels, dB.
WHO_ROAD_LDEN_DB = 53.0
WHO_ROAD_LNIGHT_DB = 45.0

_POPW_ORDER = ("bag", "grid", "area")
_REASON_NO_RESIDENTS = "no residents"
_REASON_POP_NODATA = "residents' locations outside raster or on nodata"

_POPW_METHOD_DOC = doc(
    "category",
    "Residents' locations used for the population-weighted values: bag (BAG dwellings), grid (CBS "
    "100 m grid), area (one point per buurt - coarse fallback), or a '+'-joined mix",
    "Taken from the residents points' `source`; see healthgeo.population",
    "BAG; CBS vierkantstatistieken 100 m; CBS Kerncijfers wijken en buurten",
    theme="quality", scale="category",
    label_en="residents' locations used", label_nl="gebruikte woonlocaties",
)


def air_thresholds(pollutant: str) -> tuple:
    """WHO AQG 2021 guideline level and interim targets of a pollutant as ``ColumnDoc.thresholds``."""
    level = _AQG_LEVEL[pollutant]
    targets = sorted((t for t in AIR_THRESHOLDS[pollutant] if t != level), reverse=True)  # IT-1 is the highest
    out = [(float(level), "AQG", WHO_AQG_2021)]
    out += [(float(t), f"IT-{k}", WHO_AQG_2021) for k, t in enumerate(targets, start=1)]
    return tuple(sorted(out))


def noise_thresholds(key: str) -> tuple:
    """WHO ENG 2018 road-traffic guideline level of Lden or Lnight as ``ColumnDoc.thresholds``."""
    return ((WHO_ROAD_LDEN_DB if key == "lden" else WHO_ROAD_LNIGHT_DB, "WHO", WHO_ENG_2018),)


# --------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------


def _check_wards(wards) -> None:
    import geopandas as gpd

    if not isinstance(wards, gpd.GeoDataFrame):
        raise InputDataError("wards must be a GeoDataFrame indexed by the ward code")
    if not wards.index.is_unique:
        dup = list(wards.index[wards.index.duplicated()][:10])
        raise InputDataError(f"ward codes are not unique: {dup}. Dissolve or drop duplicates first.")
    if wards.crs is not None and wards.crs.is_geographic:
        raise CRSError(f"wards are in a geographic CRS ({wards.crs.name}); areas and distances need metres: "
                       "reproject with `.to_crs(28992)` (healthgeo.wards does this).")


def _check_same_crs(wards, layer, name: str) -> None:
    """Vector layers measured against the wards must share their CRS (no silent degree/metre mix)."""
    if layer is None or wards.crs is None:
        return
    if layer.crs is None:
        raise CRSError(f"{name} has no CRS while the wards are in {wards.crs.name}; set it "
                       "(`.set_crs(...)`) or reproject it to the wards' CRS.")
    if not layer.crs.equals(wards.crs):
        raise CRSError(f"{name} is in {layer.crs.name} but the wards are in {wards.crs.name}; reproject it "
                       "(`.to_crs(wards.crs)`).")


def _weights(wards, raster, cache, assume_crs=None) -> CoverageWeights:
    """Coverage weights of ``wards`` on ``raster``'s grid, reused through ``cache``."""
    if isinstance(cache, CoverageWeights):
        grid = GridSpec.from_raster(raster, assume_crs=assume_crs)
        if cache.grid.same_grid(grid) and cache.index.equals(wards.index):
            return cache
        cache = None
    grid = GridSpec.from_raster(raster, assume_crs=assume_crs)
    key = ("wards", grid.key())
    if cache is not None and key in cache and cache[key].index.equals(wards.index):
        log.info("reusing coverage weights of grid %sx%s for %s", grid.height, grid.width, raster)
        return cache[key]
    cw = coverage_weights(wards, grid)
    log.info("coverage weights for %d wards on grid %sx%s: %d runs", len(wards), grid.height,
             grid.width, len(cw.w))
    if cache is not None:
        cache[key] = cw
    return cw


def _check_residents(wards, residents) -> None:
    if residents is None:
        return
    missing = [c for c in ("residents", "source") if c not in residents.columns]
    if missing:
        raise SchemaDriftError("residents", ["residents", "source", "geometry"], list(residents.columns),
                               hint="Build residents with healthgeo.population.")
    if len(residents) and np.any(shapely.get_type_id(np.asarray(residents.geometry.values, dtype=object)) != 0):
        raise InputDataError("residents must be Points (healthgeo.population returns points).")
    if residents.crs is not None and wards.crs is not None and not residents.crs.equals(wards.crs):
        raise CRSError(f"residents are in {residents.crs} but wards in {wards.crs}; reproject one "
                       "(`.to_crs(28992)`).")


def _ward_of_points(wards, residents) -> np.ndarray:
    """Position of the ward each residents point lies in (-1 when none)."""
    _check_residents(wards, residents)
    if residents is None or len(residents) == 0:
        return np.zeros(0, dtype=np.int64)
    pts = np.asarray(residents.geometry.values, dtype=object)
    tree = shapely.STRtree(np.asarray(wards.geometry.values, dtype=object))
    pi, wi = tree.query(pts, predicate="intersects")
    out = np.full(len(pts), -1, dtype=np.int64)
    first = np.unique(pi, return_index=True)[1]
    out[pi[first]] = wi[first]
    n_out = int((out < 0).sum())
    if n_out:
        log.info("%d of %d residents points lie in no ward and are ignored", n_out, len(pts))
    return out


def _popw_method(n_wards: int, residents, pos: np.ndarray) -> np.ndarray:
    out = np.full(n_wards, None, dtype=object)
    if residents is None or len(pos) == 0:
        return out
    src = residents["source"].astype(str).to_numpy()
    w = pd.to_numeric(residents["residents"], errors="coerce").to_numpy(dtype=float)
    ok = (pos >= 0) & (w > 0)
    frame = pd.DataFrame({"ward": pos[ok], "source": src[ok]}).drop_duplicates()
    for ward, grp in frame.groupby("ward"):
        present = set(grp["source"])
        order = [s for s in _POPW_ORDER if s in present] + sorted(present - set(_POPW_ORDER))
        out[ward] = "+".join(order)
    return out


def _exposure_at_residents(residents, raster, *, energy=False, cache=None, assume_crs=None,
                           transform=None) -> np.ndarray:
    """Raster value per residents point (grid points: coverage-weighted mean over their cell)."""
    n = len(residents)
    out = np.full(n, np.nan)
    if n == 0:
        return out
    is_grid = residents["source"].astype(str).to_numpy() == "grid"
    if "cell_x" in residents.columns:
        is_grid &= residents["cell_x"].notna().to_numpy()
    else:
        is_grid[:] = False
    pts = ~is_grid
    if pts.any():
        xy = shapely.get_coordinates(np.asarray(residents.geometry.values, dtype=object)[pts])
        vals = sample_points(raster, xy, assume_crs=assume_crs)
        if transform is not None:
            vals = transform(vals)
        out[pts] = vals
    if is_grid.any():
        cells = residents.loc[is_grid, ["cell_x", "cell_y", "cell_size_m"]].astype(float)
        uniq, inv = np.unique(cells.to_numpy(), axis=0, return_inverse=True)
        h = uniq[:, 2] / 2
        squares = shapely.box(uniq[:, 0] - h, uniq[:, 1] - h, uniq[:, 0] + h, uniq[:, 1] + h)
        grid = GridSpec.from_raster(raster, assume_crs=assume_crs)
        key = ("cells", grid.key(), uniq.tobytes().__hash__())
        if cache is not None and not isinstance(cache, CoverageWeights) and key in cache:
            cw = cache[key]
        else:
            cw = coverage_weights(list(squares), grid)
            if cache is not None and not isinstance(cache, CoverageWeights):
                cache[key] = cw
        st = cw.stats(raster, energy=energy, transform=transform, assume_crs=assume_crs)
        out[is_grid] = st["mean"].to_numpy()[inv.ravel()]
    return out


def _setup(wards, residents, weights):
    """Shared start of the ward indicators: weights cache, ward count, residents' wards and weights."""
    cache = weights if weights is not None else {}
    pos = _ward_of_points(wards, residents)
    wgt = _residents_weight(residents) if residents is not None else np.zeros(0)
    return cache, len(wards), pos, wgt


def _pop_stats(n_wards, pos, weight, values, *, energy=False, thresholds=(), ge=False):
    """Population-weighted mean (or energy mean) and shares above thresholds per ward.

    See docs/methods.md#population-weighted-exposure and docs/methods.md#energy-averaging-of-sound-levels.
    """
    ok = (pos >= 0) & np.isfinite(weight) & (weight > 0)
    tot = np.bincount(pos[ok], weights=weight[ok], minlength=n_wards)
    valid = ok & np.isfinite(values)
    p, w, v = pos[valid], weight[valid], values[valid]
    den = np.bincount(p, weights=w, minlength=n_wards)
    with np.errstate(all="ignore"):
        if energy:
            mean = 10 * np.log10(np.bincount(p, weights=w * np.power(10.0, v / 10.0), minlength=n_wards) / den)
        else:
            mean = np.bincount(p, weights=w * v, minlength=n_wards) / den
        shares = {}
        for t in thresholds:
            hit = v >= t if ge else v > t
            shares[t] = np.bincount(p[hit], weights=w[hit], minlength=n_wards) / den
    reason = np.full(n_wards, None, dtype=object)
    # some (not all) residents on nodata cells: the weighted values cover the rest only - say so
    partial = np.flatnonzero((den > 0) & (den < tot * (1 - 1e-9)))
    for j in partial:
        reason[j] = f"{100 * (1 - den[j] / tot[j]):.1f} % of residents on nodata cells (values over the rest)"
    reason[den <= 0] = _REASON_POP_NODATA
    reason[tot <= 0] = _REASON_NO_RESIDENTS
    mean = np.where(den > 0, mean, np.nan)
    shares = {t: np.where(den > 0, s, np.nan) for t, s in shares.items()}
    return mean, shares, reason, (p, w, v)


def _join_reasons(**parts) -> np.ndarray:
    arrays = {k: np.asarray(v, dtype=object) for k, v in parts.items() if v is not None}
    n = len(next(iter(arrays.values())))
    out = np.full(n, None, dtype=object)
    for i in range(n):
        txt = [f"{k}: {a[i]}" for k, a in arrays.items() if a[i] is not None and not pd.isna(a[i])]
        out[i] = "; ".join(txt) if txt else None
    return out


def _fmt(t) -> str:
    return f"{t:g}".replace(".", "")


def _residents_weight(residents) -> np.ndarray:
    return pd.to_numeric(residents["residents"], errors="coerce").to_numpy(dtype=float)


@dataclass(frozen=True)
class RasterExposure:
    """Area and residents' values of one raster per ward (:func:`raster_exposure`).

    ``mean``, ``covered_frac``, ``mean_reason``: coverage-weighted area statistics per ward;
    ``popw``, ``popw_reason``: population-weighted mean per ward; ``ward``, ``weight``, ``value``:
    the residents points with a valid value (ward position, residents, raster value), for
    shares or classes computed by the caller. ``reason``: both reasons joined (``*_reason`` column).
    """

    mean: np.ndarray
    covered_frac: np.ndarray
    mean_reason: np.ndarray
    popw: np.ndarray
    popw_reason: np.ndarray
    ward: np.ndarray
    weight: np.ndarray
    value: np.ndarray

    @property
    def reason(self) -> np.ndarray:
        return _join_reasons(mean=self.mean_reason, popw=self.popw_reason)


def raster_exposure(wards, raster, residents=None, *, weights=None, assume_crs=None) -> RasterExposure:
    """One raster's area mean and population-weighted mean per ward, with the residents' values.

    The engine of the air indicators for any other raster quantity (e.g. felt temperature,
    :mod:`healthgeo.heat`): docs/methods.md#coverage-fraction-zonal-statistics and
    docs/methods.md#population-weighted-exposure.
    """
    _check_wards(wards)
    cache, n, pos, wgt = _setup(wards, residents, weights)
    cw = _weights(wards, raster, cache, assume_crs)
    st = cw.stats(raster, assume_crs=assume_crs)
    vals = (_exposure_at_residents(residents, raster, cache=cache, assume_crs=assume_crs)
            if residents is not None else np.zeros(0))
    popw, _, preason, (p, w, v) = _pop_stats(n, pos, wgt, vals)
    return RasterExposure(st["mean"].to_numpy(), st["covered_frac"].to_numpy(), st["reason"].to_numpy(),
                          popw, preason, p, w, v)


# --------------------------------------------------------------------------------------------
# air
# --------------------------------------------------------------------------------------------


def air_exposure(
    wards,
    rasters: Mapping[str, str | os.PathLike],
    residents=None,
    *,
    weights: dict | CoverageWeights | None = None,
    min_covered_frac: float = 0.0,
    thresholds: Mapping[str, Sequence[float]] | None = None,
    assume_crs=None,
) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Annual-mean air pollution per ward: area mean, population-weighted mean, shares above WHO levels.

    See docs/methods.md#air-exposure and docs/methods.md#who-air-quality-guideline-levels.

    Parameters
    ----------
    wards
        Wards GeoDataFrame indexed by code (EPSG:28992).
    rasters
        ``{"no2": path, "pm25": path, "pm10": path}`` (any subset), prepared rasters in µg/m³.
    residents
        Residents points (:mod:`healthgeo.population`); ``None`` gives NaN population columns with
        reason "no residents".
    weights
        A dict used as cache of coverage weights per grid (pass the same dict to several calls
        to reuse weights), or one :class:`~healthgeo.zonal.CoverageWeights` for these wards.
    min_covered_frac
        Area means of wards with a smaller share of their area on valid cells become NaN.
    thresholds
        Override :data:`AIR_THRESHOLDS` (µg/m³) per pollutant.

    Returns
    -------
    ``(frame, docs)`` with, per pollutant ``p``: ``{p}_ugm3_mean``, ``{p}_ugm3_popw``,
    ``pop_share_{p}_gt_{t}`` per threshold ``t``, ``{p}_covered_frac``, ``{p}_reason``; and
    ``popw_method``.
    """
    _check_wards(wards)
    unknown = set(rasters) - set(AIR_THRESHOLDS)
    if unknown:
        raise ConfigError(f"unknown air raster keys {sorted(unknown)}; use no2, pm25, pm10")
    thr = dict(AIR_THRESHOLDS)
    thr.update({k: tuple(v) for k, v in (thresholds or {}).items()})
    cache, n, pos, wgt = _setup(wards, residents, weights)
    cols: dict[str, np.ndarray] = {}
    docs: dict[str, ColumnDoc] = {}
    for p in ("no2", "pm25", "pm10"):
        if p not in rasters:
            continue
        name = _POLLUTANT_NAME[p]
        path = rasters[p]
        cw = _weights(wards, path, cache, assume_crs)
        st = cw.stats(path, min_covered_frac=min_covered_frac, assume_crs=assume_crs)
        vals = (_exposure_at_residents(residents, path, cache=cache, assume_crs=assume_crs)
                if residents is not None else np.zeros(0))
        popw, shares, preason, _ = _pop_stats(n, pos, wgt, vals, thresholds=thr[p])
        cols[f"{p}_ugm3_mean"] = st["mean"].to_numpy()
        cols[f"{p}_ugm3_popw"] = popw
        for t in thr[p]:
            cols[f"pop_share_{p}_gt_{_fmt(t)}"] = shares[t]
        cols[f"{p}_covered_frac"] = st["covered_frac"].to_numpy()
        cols[f"{p}_reason"] = _join_reasons(mean=st["reason"].to_numpy(), popw=preason)
        docs[f"{p}_ugm3_mean"] = doc(
            "µg/m³", f"Annual-mean {name} concentration, area mean over the ward",
            "Coverage-weighted mean of raster cells (weight = fraction of the cell inside the ward, "
            "exact); nodata cells excluded from numerator and denominator",
            f"{EXACTEXTRACT}; concentration raster (e.g. RIVM GCN)",
            theme="air", about="area", scale="concentration", higher_is_worse=True, thresholds=air_thresholds(p),
            label_en=f"{name} (area mean)", label_nl=f"{name} (gebiedsgemiddelde)",
        )
        docs[f"{p}_ugm3_popw"] = doc(
            "µg/m³", f"Annual-mean {name} concentration, population-weighted mean over the ward's residents",
            "Σ wᵢcᵢ/Σ wᵢ over residents' points (value of the cell under the point; for grid-based "
            "residents the coverage-weighted mean over their 100 m cell); points on nodata excluded",
            "docs/methods.md#population-weighted-exposure",
            theme="air", scale="concentration", higher_is_worse=True, thresholds=air_thresholds(p),
            burden_group="exposures" if p in ("no2", "pm25") else "",
            label_en=f"{name} at home", label_nl=f"{name} bij de woning",
        )
        level = _AQG_LEVEL[p]
        for t in thr[p]:
            kind = "WHO AQG 2021 guideline level" if t == level else "WHO AQG 2021 interim target"
            if t not in AIR_THRESHOLDS[p]:
                kind = "configured threshold"
            docs[f"pop_share_{p}_gt_{_fmt(t)}"] = doc(
                "fraction (0-1)", f"Share of residents with annual-mean {name} above {t:g} µg/m³ ({kind})",
                "Σ wᵢ[cᵢ > t]/Σ wᵢ over residents' points with a valid value", WHO_AQG_2021,
                theme="air", scale="fraction", higher_is_worse=True,
                label_en=f"residents above {t:g} µg/m³ {name}", label_nl=f"inwoners boven {t:g} µg/m³ {name}",
            )
        docs[f"{p}_covered_frac"] = doc(
            "fraction (0-1)", f"Share of the ward's area on valid (not nodata) {name} raster cells",
            "Σ coverage of valid cells / ward area in cells", EXACTEXTRACT,
            theme="quality", about="area", scale="fraction",
            label_en=f"{name} grid coverage", label_nl=f"dekking {name}-kaart",
        )
        docs[f"{p}_reason"] = doc(
            "text", f"Why a {name} value is missing (mean: outside raster / all nodata / covered "
            "fraction below minimum; popw: no residents / residents on nodata), or the share of "
            "residents on nodata cells when the popw values cover the rest only; empty when complete",
            theme="quality", scale="text", label_en=f"{name}: reason missing", label_nl=f"{name}: reden ontbreken",
        )
    cols["popw_method"] = _popw_method(n, residents, pos)
    docs["popw_method"] = _POPW_METHOD_DOC
    return pd.DataFrame(cols, index=wards.index), docs


# --------------------------------------------------------------------------------------------
# noise
# --------------------------------------------------------------------------------------------


def _band_names():
    names = [f"pop_lden_lt_{LDEN_BANDS[0]}"]
    for lo, hi in zip(LDEN_BANDS[:-1], LDEN_BANDS[1:]):
        names.append(f"pop_lden_{lo}_{hi}")
    names.append(f"pop_lden_ge_{LDEN_BANDS[-1]}")
    return names


def noise_exposure(
    wards,
    lden_path: str | os.PathLike,
    lnight_path: str | os.PathLike | None = None,
    residents=None,
    *,
    weights: dict | CoverageWeights | None = None,
    min_covered_frac: float = 0.0,
    lden_threshold_db: float = WHO_ROAD_LDEN_DB,
    lnight_threshold_db: float = WHO_ROAD_LNIGHT_DB,
    assume_crs=None,
) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Road-traffic noise per ward: energy means, residents per 5 dB band, shares above WHO levels.

    Sound levels are averaged as energy, 10·log10(Σw·10^(L/10)/Σw), never as a plain mean of dB
    (docs/methods.md#energy-averaging-of-sound-levels). Thresholds default to the WHO ENG 2018
    road-traffic levels (Lden 53 dB, Lnight 45 dB); pass others for rail/aircraft maps.

    Returns
    -------
    ``(frame, docs)`` with ``lden_db_mean``, ``lden_db_popw``, ``lden_covered_frac``,
    ``lden_reason``, ``pop_lden_lt_45``, ``pop_lden_45_50`` ... ``pop_lden_70_75``,
    ``pop_lden_ge_75``, ``pop_share_lden_ge_53``, ``lnight_db_mean``, ``lnight_db_popw``,
    ``lnight_covered_frac``, ``lnight_reason``, ``pop_share_lnight_ge_45``, ``popw_method``
    (Lnight columns NaN with a reason when no Lnight raster is given).
    """
    _check_wards(wards)
    cache, n, pos, wgt = _setup(wards, residents, weights)
    cols: dict[str, np.ndarray] = {}
    docs: dict[str, ColumnDoc] = {}
    src = f"{WHO_ENG_2018}; {EXACTEXTRACT}"
    for key, path, thr in (("lden", lden_path, lden_threshold_db), ("lnight", lnight_path, lnight_threshold_db)):
        label = "Lden (day-evening-night)" if key == "lden" else "Lnight (23-07 h)"
        short = "Lden" if key == "lden" else "Lnight"
        share_col = f"pop_share_{key}_ge_{_fmt(thr)}"
        if path is None:
            cols[f"{key}_db_mean"] = np.full(n, np.nan)
            cols[f"{key}_db_popw"] = np.full(n, np.nan)
            cols[f"{key}_covered_frac"] = np.full(n, np.nan)
            cols[share_col] = np.full(n, np.nan)
            cols[f"{key}_reason"] = np.full(n, f"no {key} raster given", dtype=object)
        else:
            cw = _weights(wards, path, cache, assume_crs)
            st = cw.stats(path, energy=True, min_covered_frac=min_covered_frac, assume_crs=assume_crs)
            vals = (_exposure_at_residents(residents, path, energy=True, cache=cache, assume_crs=assume_crs)
                    if residents is not None else np.zeros(0))
            popw, shares, preason, (p, w, v) = _pop_stats(n, pos, wgt, vals, energy=True,
                                                          thresholds=(thr,), ge=True)
            cols[f"{key}_db_mean"] = st["mean"].to_numpy()
            cols[f"{key}_db_popw"] = popw
            cols[f"{key}_covered_frac"] = st["covered_frac"].to_numpy()
            cols[share_col] = shares[thr]
            cols[f"{key}_reason"] = _join_reasons(mean=st["reason"].to_numpy(), popw=preason)
            if key == "lden":
                edges = np.array(LDEN_BANDS, dtype=float)
                band = np.searchsorted(edges, v, side="right")  # 0: < 45, ..., len: >= 75
                has = (pos >= 0) & (wgt > 0)
                no_pop = np.bincount(pos[has], minlength=n) == 0
                for b, name in enumerate(_band_names()):
                    sel = band == b
                    counts = np.bincount(p[sel], weights=w[sel], minlength=n)
                    cols[name] = np.where(no_pop, np.nan, counts)
        docs[f"{key}_db_mean"] = doc(
            "dB", f"Road-traffic {label}, energy mean over the ward's area",
            "10·log10(Σ cᵢ·10^(Lᵢ/10)/Σ cᵢ), cᵢ = exact coverage fraction of cell i; nodata excluded", src,
            theme="noise", about="area", scale="db", higher_is_worse=True, thresholds=noise_thresholds(key),
            label_en=f"{short} road traffic (area mean)", label_nl=f"{short} wegverkeer (gebiedsgemiddelde)",
        )
        docs[f"{key}_db_popw"] = doc(
            "dB", f"Road-traffic {label}, population-weighted energy mean over the ward's residents",
            "10·log10(Σ wᵢ·10^(Lᵢ/10)/Σ wᵢ) over residents' points (value of the cell under the point; "
            "grid residents: energy mean over their 100 m cell)",
            f"{WHO_ENG_2018}; docs/methods.md#energy-averaging-of-sound-levels",
            theme="noise", scale="db", higher_is_worse=True, thresholds=noise_thresholds(key),
            burden_group="exposures" if key == "lden" else "",
            label_en=f"{short} road traffic at home", label_nl=f"{short} wegverkeer bij de woning",
        )
        docs[f"{key}_covered_frac"] = doc(
            "fraction (0-1)", f"Share of the ward's area on valid {label} raster cells",
            "Σ coverage of valid cells / ward area in cells", EXACTEXTRACT,
            theme="quality", about="area", scale="fraction",
            label_en=f"{short} map coverage", label_nl=f"dekking {short}-kaart",
        )
        docs[share_col] = doc(
            "fraction (0-1)", f"Share of residents with road-traffic {label} ≥ {thr:g} dB",
            "Σ wᵢ[Lᵢ ≥ t]/Σ wᵢ over residents' points with a valid value; default t = WHO ENG 2018 "
            "road-traffic guideline level", WHO_ENG_2018,
            theme="noise", scale="fraction", higher_is_worse=True,
            label_en=f"residents at {short} ≥ {thr:g} dB", label_nl=f"inwoners bij {short} ≥ {thr:g} dB",
        )
        docs[f"{key}_reason"] = doc("text", f"Why a {label} value is missing, or the share of residents on "
                                    "nodata cells when the values cover the rest only; empty when complete",
                                    theme="quality", scale="text", label_en=f"{short}: reason missing",
                                    label_nl=f"{short}: reden ontbreken")
    bands = _band_names()
    bounds = [(None, LDEN_BANDS[0])] + list(zip(LDEN_BANDS[:-1], LDEN_BANDS[1:])) + [(LDEN_BANDS[-1], None)]
    for name, (lo, hi) in zip(bands, bounds):
        if name not in cols:
            cols[name] = np.full(n, np.nan)
        rng = f"< {hi} dB" if lo is None else (f"≥ {lo} dB" if hi is None else f"{lo}-{hi} dB (≥ {lo}, < {hi})")
        docs[name] = doc(
            "persons", f"Residents with road-traffic Lden {rng} at their location",
            "Sum of residents' point weights per 5 dB band (points on nodata counted in no band); "
            "NaN when the ward has no residents", WHO_ENG_2018,
            theme="noise", scale="count", label_en=f"residents at Lden {rng}", label_nl=f"inwoners bij Lden {rng}",
        )
    cols["popw_method"] = _popw_method(n, residents, pos)
    docs["popw_method"] = _POPW_METHOD_DOC
    order = (["lden_db_mean", "lden_db_popw", "lden_covered_frac", "lden_reason"] + bands
             + [f"pop_share_lden_ge_{_fmt(lden_threshold_db)}", "lnight_db_mean", "lnight_db_popw",
                "lnight_covered_frac", "lnight_reason", f"pop_share_lnight_ge_{_fmt(lnight_threshold_db)}",
                "popw_method"])
    return pd.DataFrame(cols, index=wards.index)[order], docs


# --------------------------------------------------------------------------------------------
# per-point table for the health-impact module
# --------------------------------------------------------------------------------------------

_RESIDENTS_EXPOSURE_COLS = {
    "no2": ("no2_ugm3", "µg/m³", "Annual-mean NO2", WHO_AQG_2021),
    "pm25": ("pm25_ugm3", "µg/m³", "Annual-mean PM2.5", WHO_AQG_2021),
    "pm10": ("pm10_ugm3", "µg/m³", "Annual-mean PM10", WHO_AQG_2021),
    "lden": ("lden_db", "dB", "Road-traffic Lden", WHO_ENG_2018),
    "lnight": ("lnight_db", "dB", "Road-traffic Lnight", WHO_ENG_2018),
}

#: Column documentation of :func:`residents_exposure`'s table.
RESIDENTS_EXPOSURE_DOCS: dict[str, ColumnDoc] = {
    "buurtcode": doc("code", "CBS buurt code of the residents point", theme="identity", about="identity", scale="text"),
    "wijkcode": doc("code", "CBS wijk code of the residents point", theme="identity", about="identity", scale="text"),
    "residents": doc("persons", "Residents represented by the point (weight)", theme="keyfigures", scale="count"),
    "residents_65_plus": doc("persons", "Residents aged 65+ represented by the point", theme="keyfigures", scale="count"),
    **{f"residents_{b}": doc("persons", f"Residents aged {b.replace('_', '-')} represented by the point (the buurt's "
                                        "CBS age band share x the point's residents)", theme="keyfigures", scale="count")
       for b in ("0_14", "15_24", "25_44", "45_64")},
    "gemeentecode": doc("code", "CBS municipality code", theme="identity", about="identity", scale="text"),
    "source": doc("category", "Residents' location source: bag, grid or area", theme="quality", about="identity",
                  scale="category"),
    "x": doc("m (EPSG:28992)", "easting of the point", theme="identity", about="identity", scale="distance"),
    "y": doc("m (EPSG:28992)", "northing of the point", theme="identity", about="identity", scale="distance"),
    **{
        col: doc(unit, f"{label} at the residents point",
                 "Value of the raster cell under the point; for grid-based residents the coverage-"
                 "weighted (dB: energy) mean over their 100 m population cell; NaN where not given "
                 "or on nodata", src, theme="noise" if unit == "dB" else "air",
                 scale="db" if unit == "dB" else "concentration", higher_is_worse=True)
        for col, unit, label, src in _RESIDENTS_EXPOSURE_COLS.values()
    },
}


def residents_exposure(residents, rasters: Mapping[str, str | os.PathLike], *,
                       weights: dict | None = None, assume_crs=None) -> pd.DataFrame:
    """Exposure at every residents point (``residents_exposure`` table in ``docs/design.md``).

    ``rasters`` maps any of ``no2``, ``pm25``, ``pm10``, ``lden``, ``lnight`` to a prepared raster;
    columns of rasters not given are NaN. Index: the residents' index. Column docs:
    :data:`RESIDENTS_EXPOSURE_DOCS`.
    """
    unknown = set(rasters) - set(_RESIDENTS_EXPOSURE_COLS)
    if unknown:
        raise ConfigError(f"unknown raster keys {sorted(unknown)}; use {sorted(_RESIDENTS_EXPOSURE_COLS)}")
    cache = weights if weights is not None else {}
    out = pd.DataFrame(index=residents.index)
    for c in ("buurtcode", "wijkcode", "residents", "residents_65_plus", "residents_0_14", "residents_15_24",
              "residents_25_44", "residents_45_64", "source"):
        if c in residents.columns:  # the age bands: age-specific baselines (healthgeo.impact)
            out[c] = residents[c]
        elif not c.startswith("residents_") or c == "residents_65_plus":
            out[c] = np.nan
    for key, (col, *_rest) in _RESIDENTS_EXPOSURE_COLS.items():
        if key in rasters:
            out[col] = _exposure_at_residents(residents, rasters[key], energy=key in ("lden", "lnight"),
                                              cache=cache, assume_crs=assume_crs)
        else:
            out[col] = np.nan
    return out


# --------------------------------------------------------------------------------------------
# green
# --------------------------------------------------------------------------------------------


def _area_in_wards(wards_geoms, polys) -> np.ndarray:
    """Area of the union of ``polys`` inside each ward (polys assumed non-overlapping)."""
    out = np.zeros(len(wards_geoms))
    if len(polys) == 0:
        return out
    tree = shapely.STRtree(polys)
    wi, gi = tree.query(wards_geoms, predicate="intersects")
    if len(wi):
        a = shapely.area(shapely.intersection(wards_geoms[wi], polys[gi]))
        out += np.bincount(wi, weights=a, minlength=len(wards_geoms))
    return out


def green_exposure(
    wards,
    green,
    residents=None,
    *,
    trees=None,
    landcover: str | os.PathLike | None = None,
    tree_classes: Sequence[int] | None = None,
    ndvi: str | os.PathLike | None = None,
    crown_radius_m: float = 4.0,
    access_distance_m: float = 300.0,
    canopy_target_pct: float = 30.0,
    weights: dict | CoverageWeights | None = None,
    assume_crs=None,
    extent=None,
) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Green space per ward: share of area, m² per resident, access within 300 m, canopy, NDVI.

    See docs/methods.md#green-space, docs/methods.md#tree-canopy-and-the-3-30-300-rule and
    docs/methods.md#ndvi.

    Parameters
    ----------
    green
        Green polygons (``kind``, ``public``, ``area_m2``; ``docs/design.md``).
    residents
        Residents points; ``None`` gives NaN access shares with a reason.
    trees
        Tree points; with no ``landcover``, canopy = union of discs of ``crown_radius_m``.
    landcover, tree_classes
        A land-cover raster and its tree/forest class codes; canopy = coverage-weighted share of
        tree-class cells (preferred over ``trees`` when both are given).
    ndvi
        NDVI raster; ``ndvi_mean`` is its coverage-weighted area mean.
    access_distance_m
        Straight-line distance for the access shares (WHO 2017: 300 m ≈ 5 min walk). The
        network-distance version is in the accessibility module (:mod:`healthgeo.network`).
    extent
        Area the green polygons were taken from (EPSG:28992; e.g.
        :func:`healthgeo.network.osm_extent` of the OSM input). A ward not wholly inside it gets
        NULL green values with a ``green_reason`` instead of a 0 % that only means "no data";
        ``None`` = the green layer covers every ward. Tree points carry no extent and are taken
        to cover every ward (a tree register of the municipality); land-cover and NDVI rasters
        give NULL with a reason outside their grid.

    Returns
    -------
    ``(frame, docs)`` with ``green_share_pct``, ``green_m2``, ``green_m2_per_resident``,
    ``green_covered_frac``, ``green_reason``,
    ``pop_share_green_1ha_300m``, ``pop_share_green_05ha_300m``, ``green_access_reason``,
    ``tree_canopy_pct``, ``tree_canopy_source``, ``meets_3_30_300_canopy``,
    ``tree_canopy_reason``, ``ndvi_mean``, ``ndvi_reason``, ``popw_method``.
    """
    _check_wards(wards)
    _check_same_crs(wards, green, "the green layer")
    _check_same_crs(wards, trees, "the trees layer")
    _check_residents(wards, residents)
    n = len(wards)
    cache = weights if weights is not None else {}
    wg = np.asarray(wards.geometry.values, dtype=object)
    ward_area = shapely.area(wg)
    cols: dict[str, np.ndarray] = {}
    docs: dict[str, ColumnDoc] = {}
    dist_txt = f"{access_distance_m:g}m"

    # --- share of area and m² per resident (all green, public or not) ---------------------
    green_parts = _union_parts(green.geometry.values) if len(green) else np.zeros(0, dtype=object)
    g_area = _area_in_wards(wg, green_parts)
    with np.errstate(all="ignore"):
        cols["green_share_pct"] = np.where(ward_area > 0, 100.0 * g_area / ward_area, np.nan)
    cols["green_m2"] = g_area
    pos = _ward_of_points(wards, residents)
    wgt = _residents_weight(residents) if residents is not None else np.zeros(0)
    if "residents" in wards.columns:
        ward_res = pd.to_numeric(wards["residents"], errors="coerce").to_numpy(dtype=float)
        res_src = "the ward's `residents` (CBS)"
    else:
        ok = pos >= 0
        ward_res = np.bincount(pos[ok], weights=np.nan_to_num(wgt[ok]), minlength=n)
        res_src = "the sum of residents' point weights"
    with np.errstate(all="ignore"):
        cols["green_m2_per_resident"] = np.where(ward_res > 0, g_area / ward_res, np.nan)
    # a ward (partly) outside the green input's extent: unknown, not 0 %
    covered = extent_covered_frac(wards, extent)
    outside = ~(covered >= 1 - 1e-6)
    cols["green_covered_frac"] = covered
    green_reason = np.full(n, None, dtype=object)
    green_reason[outside] = [f"ward outside the extent of the green input ({100 * f:.1f} % of its area "
                             "covered)" for f in covered[outside]]
    for col in ("green_share_pct", "green_m2", "green_m2_per_resident"):
        cols[col] = np.where(outside, np.nan, cols[col])
    cols["green_reason"] = green_reason

    # --- access: residents within 300 m of a public green area of >= 1 ha / 0.5 ha ---------
    # public = True (NaN = private), touching polygons unioned: the rule shared with network.py
    pub_parts = public_green_parts(green)
    pub_area = shapely.area(pub_parts)
    access_reason = np.full(n, None, dtype=object)
    for min_ha, col in ((1.0, f"pop_share_green_1ha_{dist_txt}"), (0.5, f"pop_share_green_05ha_{dist_txt}")):
        if residents is None or len(residents) == 0:
            cols[col] = np.full(n, np.nan)
            access_reason[:] = _REASON_NO_RESIDENTS
            continue
        big = pub_parts[pub_area >= min_ha * 10_000]
        near = np.zeros(len(residents), dtype=float)
        if len(big):
            tree = shapely.STRtree(big)
            pi, _ = tree.query(np.asarray(residents.geometry.values, dtype=object), predicate="dwithin",
                               distance=access_distance_m)
            near[np.unique(pi)] = 1.0
        share, _, reason, _ = _pop_stats(n, pos, wgt, near)
        cols[col] = np.where(outside, np.nan, share)
        access_reason = np.where(outside & (reason == None), green_reason, reason)  # noqa: E711
    cols["green_access_reason"] = access_reason

    # --- tree canopy ----------------------------------------------------------------------
    canopy = np.full(n, np.nan)
    canopy_src = np.full(n, None, dtype=object)
    canopy_reason = np.full(n, None, dtype=object)
    if landcover is not None:
        if not tree_classes:
            raise ConfigError("landcover given without tree_classes: list the land-cover class codes "
                              "that mean tree canopy (e.g. `tree_classes: [1, 2]` in the config).")
        classes = np.asarray(list(tree_classes))
        cw = _weights(wards, landcover, cache, assume_crs)
        st = cw.stats(landcover, transform=lambda a: np.isin(a, classes).astype(float), assume_crs=assume_crs)
        canopy = 100.0 * st["mean"].to_numpy()
        canopy_src[:] = "landcover"
        canopy_reason = st["reason"].to_numpy().astype(object)
    elif trees is not None:
        crowns = shapely.buffer(np.asarray(trees.geometry.values, dtype=object), crown_radius_m)
        c_area = _area_in_wards(wg, _union_parts(crowns)) if len(trees) else np.zeros(n)
        with np.errstate(all="ignore"):
            canopy = np.where(ward_area > 0, 100.0 * c_area / ward_area, np.nan)
        canopy_src[:] = "trees"
    else:
        canopy_reason[:] = "no land-cover raster or tree points given"
    cols["tree_canopy_pct"] = canopy
    cols["tree_canopy_source"] = canopy_src
    cols["meets_3_30_300_canopy"] = pd.array(
        [pd.NA if np.isnan(c) else bool(c >= canopy_target_pct) for c in canopy], dtype="boolean")
    cols["tree_canopy_reason"] = canopy_reason

    # --- NDVI -----------------------------------------------------------------------------
    if ndvi is not None:
        cw = _weights(wards, ndvi, cache, assume_crs)
        st = cw.stats(ndvi, assume_crs=assume_crs)
        cols["ndvi_mean"] = st["mean"].to_numpy()
        cols["ndvi_reason"] = st["reason"].to_numpy().astype(object)
    else:
        cols["ndvi_mean"] = np.full(n, np.nan)
        cols["ndvi_reason"] = np.full(n, "no NDVI raster given", dtype=object)
    cols["popw_method"] = _popw_method(n, residents, pos)

    docs["green_share_pct"] = doc(
        "%", "Share of the ward's area covered by green space (any kind, public or private)",
        "area(union of green polygons ∩ ward) / area(ward) × 100", f"{WHO_GREEN_2017}; OpenStreetMap green polygons",
        theme="green", about="area", scale="percent", higher_is_worse=False, burden_group="exposures",
        label_en="green space share", label_nl="aandeel groen")
    docs["green_m2"] = doc("m²", "Green-space area inside the ward", "area(union of green polygons ∩ ward)",
                           theme="green", about="area", scale="area", higher_is_worse=False,
                           label_en="green space area", label_nl="oppervlakte groen")
    docs["green_covered_frac"] = doc(
        "fraction (0-1)", "Share of the ward's area inside the extent of the green input (OSM)",
        "area(ward ∩ extent) / area(ward); extent = the OSM file's bounds (or its nodes' convex hull); "
        "1 when the extent is unknown. Green values are NULL unless the whole ward is covered",
        theme="quality", about="area", scale="fraction", higher_is_worse=None,
        label_en="green input coverage", label_nl="dekking groenbron")
    docs["green_reason"] = doc(
        "text", "Why green_share_pct, green_m2 and green_m2_per_resident are NULL (ward outside the "
        "green input's extent); empty when present", theme="quality", scale="text",
        label_en="Green: reason missing", label_nl="Groen: reden ontbreken")
    docs["green_m2_per_resident"] = doc(
        "m²/person", "Green-space area inside the ward per resident",
        f"green_m2 / residents, residents from {res_src}; NaN when the ward has none", WHO_GREEN_2017,
        theme="green", scale="area", higher_is_worse=False,
        label_en="green space per resident", label_nl="groen per inwoner")
    for min_ha, col in ((1.0, f"pop_share_green_1ha_{dist_txt}"), (0.5, f"pop_share_green_05ha_{dist_txt}")):
        docs[col] = doc(
            "fraction (0-1)",
            f"Share of residents within {access_distance_m:g} m (straight line) of a public green area of ≥ {min_ha:g} ha",
            "Public green polygons are unioned (touching parts form one area) and areas ≥ the size kept; "
            f"a residents point counts when its Euclidean distance to such an area is ≤ {access_distance_m:g} m. "
            "Euclidean distance overstates access; the network-distance version is in the accessibility "
            "module (healthgeo.network)", f"{WHO_GREEN_2017}; {KONIJNENDIJK_2023} (the '300')",
            theme="green", scale="fraction", higher_is_worse=False,
            burden_group="exposures" if min_ha == 1.0 and access_distance_m == 300 else "",
            label_en=f"residents ≤ {access_distance_m:g} m from a {min_ha:g} ha park",
            label_nl=f"inwoners ≤ {access_distance_m:g} m van {min_ha:g} ha groen".replace(".", ","))
    docs["green_access_reason"] = doc("text", "Why the green-access shares are missing (no residents, or the "
                                      "ward is outside the green input's extent); empty when present",
                                      theme="quality", scale="text", label_en="green access: reason missing",
                                      label_nl="groen bereikbaar: reden ontbreken")
    docs["tree_canopy_pct"] = doc(
        "%", "Tree canopy cover of the ward",
        "landcover: coverage-weighted share of cells in the tree classes (exact coverage fractions); "
        f"trees: union of discs of {crown_radius_m:g} m crown radius around tree points ∩ ward / ward area",
        f"{KONIJNENDIJK_2023}; {EXACTEXTRACT}",
        theme="green", about="area", scale="percent", higher_is_worse=False,
        thresholds=((float(canopy_target_pct), "3-30-300", KONIJNENDIJK_2023),),
        label_en="tree canopy", label_nl="bladerdek")
    docs["tree_canopy_source"] = doc("category", "Input used for tree_canopy_pct: landcover or trees",
                                     theme="quality", about="area", scale="category",
                                     label_en="tree canopy source", label_nl="bron bladerdek")
    docs["meets_3_30_300_canopy"] = doc(
        "boolean", f"Ward meets the '30' of the 3-30-300 rule (tree canopy ≥ {canopy_target_pct:g} %)",
        "tree_canopy_pct ≥ 30; NA where canopy is unknown", KONIJNENDIJK_2023,
        theme="green", about="area", scale="flag", higher_is_worse=False,
        label_en="meets 30 % canopy", label_nl="voldoet aan 30 % bladerdek")
    docs["tree_canopy_reason"] = doc("text", "Why tree_canopy_pct is missing; empty when present",
                                     theme="quality", scale="text",
                                     label_en="tree canopy: reason missing", label_nl="bladerdek: reden ontbreken")
    docs["ndvi_mean"] = doc("NDVI (-1..1)", "Mean NDVI over the ward's area",
                            "Coverage-weighted mean of NDVI cells; nodata excluded", EXACTEXTRACT,
                            theme="green", about="area", scale="index", higher_is_worse=False,
                            label_en="greenness (NDVI)", label_nl="groenheid (NDVI)")
    docs["ndvi_reason"] = doc("text", "Why ndvi_mean is missing; empty when present",
                              theme="quality", scale="text",
                              label_en="NDVI: reason missing", label_nl="NDVI: reden ontbreken")
    docs["popw_method"] = _POPW_METHOD_DOC
    return pd.DataFrame(cols, index=wards.index), docs
