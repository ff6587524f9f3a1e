"""Annual air-quality surfaces from monitoring sites, and checks of a grid against measurements.

When no concentration grid is configured but Luchtmeetnet stations and/or Samen Meten sensors are,
:func:`build_surface` interpolates their annual means to a GeoTIFF the exposure stage can use like
any other raster, and reports the method's leave-one-out (LOO) cross-validation error so the
provenance table can say how good the surface is (:func:`surface_note`). When a grid *is* given,
:func:`grid_vs_monitoring` compares it with the measurements (a monitoring check).

Method
------
**Sites** (:func:`monitoring_points`). Luchtmeetnet reference stations and Samen Meten sensors are
combined into one table of annual means with their completeness (share of the year's hours with a
valid value, as computed by the readers). Sites below ``min_completeness`` (default 0.75, the
readers' own threshold), without an annual mean or without a location are dropped, and each drop
is logged with its reason. Every site carries a ``weight``: 1 for reference stations and
``sensor_weight`` (default 0.5) for low-cost sensors, whose annual means are less accurate
(uncalibrated drift, humidity effects), so a station counts as much as two sensors at the same
distance.

**Inverse-distance weighting (IDW)** (:func:`idw_surface`). The value at a target point ``x`` is

    z(x) = sum_i w_i d_i^-p z_i / sum_i w_i d_i^-p

over the ``k`` nearest sites (default 12; only sites within ``max_distance`` when given), with
``d_i`` the distance to site ``i``, ``p`` the power (default 2) and ``w_i`` the site weight. IDW
is an exact interpolator: at a site (``d = 0``) the surface equals the site's value (the
weight-averaged value when several sites share the location). Cells farther than
``max_distance`` from every site are nodata.

**IDW on the RIVM background** (``background=`` a raster such as the RIVM GCN 1 km grid). The
measured values are first expressed as *residuals* against the background sampled at each site
(``r_i = z_i - B(s_i)``); the residuals are interpolated by IDW and added back to the background
sampled at each output cell centre: ``z(x) = B(x) + IDW(r)(x)``. The spatial pattern between
sites then comes from the dispersion-model background, the level near sites from the
measurements. Cells farther than ``max_distance`` from every site keep the background
(residual 0). This is "residual interpolation" / "IDW with external drift"; it is not kriging,
and residual IDW keeps the background's 1 km resolution: street-level gradients are not
resolved. The background may be from a different year than the measurements (e.g. GCN 2021 with
2023 stations); the residuals then also absorb the change between the years.

**Leave-one-out cross-validation** (:func:`loo_cv`). Each site is predicted with the same method
from all other sites, excluding sites within ``exclude_radius`` (default 10 m) of it, so that
co-located instruments (a sensor on a station's roof, paired "in/out" sensors) do not predict each
other perfectly (leave-*location*-out). Reported: ``rmse``, ``mae``, ``bias`` (mean of
predicted - measured; positive = the surface over-predicts), Pearson ``r`` between predicted and
measured, and ``n`` (sites predicted). Metrics are unweighted: a sensor's error counts as much as
a station's.

Sources and which values are modelling choices: docs/methods.md#monitoring-sites,
docs/methods.md#station-surfaces, docs/methods.md#leave-one-out-cross-validation and
docs/methods.md#grid-against-measurements.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import CRSError, InputDataError
from ._vocab import RASTER_NODATA_SENTINELS, TARGET_CRS
from .dictionary import ColumnDoc, doc
from .io import atomic_write

log = logging.getLogger(__name__)

__all__ = [
    "NETWORKS",
    "SITE_TYPES",
    "POINT_COLUMNS",
    "MIN_SITES",
    "SurfaceResult",
    "monitoring_points",
    "idw_surface",
    "loo_predictions",
    "loo_cv",
    "build_surface",
    "surface_note",
    "grid_vs_monitoring",
    "agreement_summary",
]

#: Values of the ``network`` column.
NETWORKS = ("luchtmeetnet", "samenmeten")
#: Values of the ``site_type`` column.
SITE_TYPES = ("traffic", "background", "industry", "unknown")
#: Columns of :func:`monitoring_points` (besides ``geometry``).
POINT_COLUMNS = ["site_id", "name", "network", "site_type", "annual_mean_ugm3", "completeness", "weight"]
#: Fewest usable sites :func:`build_surface` interpolates from.
MIN_SITES = 3

_NODATA = -9999.0
_LUCHTMEETNET = "RIVM Luchtmeetnet (reference stations)"
_SAMENMETEN = "RIVM Samen Meten (low-cost sensors)"
# Luchtmeetnet StationsType (bulk CSV, Dutch) and API `type` values -> site_type
_TYPE_WORDS = (
    ("traffic", ("verkeer", "traffic", "straat", "street")),
    ("industry", ("industrie", "industrial", "industry")),
    ("background", ("achtergrond", "background", "regional", "regionaal", "urban", "stad", "suburban")),
)


# ------------------------------------------------------------------------------------------------
# sites
# ------------------------------------------------------------------------------------------------


def _site_type(value) -> str:
    s = str(value or "").strip().lower()
    for kind, words in _TYPE_WORDS:
        if any(w in s for w in words):
            return kind
    return "unknown"


def _to_target(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        if len(gdf) == 0:
            return gdf.set_crs(TARGET_CRS)
        raise CRSError(f"{what}: the site points have no CRS. Read them with healthgeo.sources "
                       "(which sets EPSG:28992) or call `.set_crs(...)` first.")
    from pyproj import CRS

    if not CRS.from_user_input(gdf.crs).equals(CRS.from_user_input(TARGET_CRS), ignore_axis_order=True):
        log.info("%s: site points %s -> %s", what, gdf.crs, TARGET_CRS)
        gdf = gdf.to_crs(TARGET_CRS)
    return gdf


def _unpack(pair, what: str, index_name: str):
    if pair is None:
        return None
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
        raise InputDataError(
            f"monitoring_points: `{what}` must be the (points, annual) pair returned by "
            f"healthgeo.sources.read_{'luchtmeetnet_csv' if what == 'stations' else 'samenmeten_csv'}; "
            f"got {type(pair).__name__}.")
    pts, annual = pair
    if not isinstance(pts, gpd.GeoDataFrame):
        raise InputDataError(f"monitoring_points: the first item of `{what}` must be a GeoDataFrame of points.")
    missing = [c for c in ("mean_ugm3", "completeness") if c not in annual.columns]
    if missing:
        from ._errors import SchemaDriftError

        raise SchemaDriftError(f"monitoring_points({what})", ["mean_ugm3", "completeness"], list(annual.columns))
    pts = _to_target(pts, f"monitoring_points({what})")
    pts = pts.copy()
    annual = annual.copy()
    pts.index = pts.index.astype(str).str.strip()
    annual.index = annual.index.astype(str).str.strip()
    pts.index.name = annual.index.name = index_name
    return pts, annual


def monitoring_points(stations=None, sensors=None, *, pollutant: str = "no2", min_completeness: float = 0.75,
                      sensor_weight: float = 0.5, max_annual_ugm3: float | None = None) -> gpd.GeoDataFrame:
    """Luchtmeetnet station and Samen Meten sensor annual means as one table of sites (EPSG:28992).

    Parameters
    ----------
    stations
        ``(stations, annual)`` as returned by :func:`healthgeo.sources.read_luchtmeetnet_csv` /
        :func:`~healthgeo.sources.read_luchtmeetnet` (points indexed by ``station`` with
        ``name``, ``station_type``; annual frame indexed by ``station`` with ``formula``,
        ``mean_ugm3``, ``completeness``). ``None`` for no stations.
    sensors
        ``(sensors, annual)`` as returned by :func:`healthgeo.sources.read_samenmeten_csv`
        (points indexed by ``sensor``; annual frame with ``mean_ugm3`` - NaN when the reader's
        QC failed - and ``completeness``). ``None`` for no sensors. Read the sensors with a
        ``min_completeness`` no higher than this function's, or their means are already NaN.
    pollutant
        ``no2``, ``pm25`` or ``pm10``; checked against the stations' ``formula``.
    min_completeness
        Share of the year's hours with a valid value a site needs (0-1; default 0.75).
    sensor_weight
        IDW weight of a sensor relative to a reference station (weight 1). Default 0.5.
    max_annual_ugm3
        Drop sites whose annual mean exceeds this (implausible, e.g. an uncalibrated sensor);
        ``None`` (default) keeps all.

    Returns
    -------
    GeoDataFrame with :data:`POINT_COLUMNS` and ``geometry`` (one row per usable site,
    stations first). ``attrs["dropped"]`` maps each dropped site to its reason.
    """
    if not 0.0 <= min_completeness <= 1.0:
        raise InputDataError(f"min_completeness must be a share in [0, 1], got {min_completeness}.")
    if not sensor_weight > 0:
        raise InputDataError(f"sensor_weight must be > 0 (a relative IDW weight), got {sensor_weight}.")
    pol = pollutant.lower().replace(".", "").replace("_", "")
    frames, dropped = [], {}

    st = _unpack(stations, "stations", "station")
    if st is not None:
        pts, annual = st
        if "formula" in annual.columns and len(annual):
            formulas = {str(f).lower().replace(".", "") for f in annual["formula"].dropna().unique()}
            if formulas and formulas != {pol}:
                raise InputDataError(
                    f"monitoring_points: the stations measured {sorted(formulas)} but pollutant={pollutant!r}. "
                    "Read the Luchtmeetnet files of that component, or pass the matching pollutant.")
        df = annual[["mean_ugm3", "completeness"]].join(
            pts[[c for c in ("name", "station_type", "geometry") if c in pts.columns]], how="left")
        frames.append(pd.DataFrame({
            "site_id": df.index, "name": df["name"].fillna("").astype(str) if "name" in df else "",
            "network": "luchtmeetnet",
            "site_type": [_site_type(v) for v in (df["station_type"] if "station_type" in df else [None] * len(df))],
            "annual_mean_ugm3": df["mean_ugm3"].astype(float), "completeness": df["completeness"].astype(float),
            "weight": 1.0, "geometry": df["geometry"]}))

    se = _unpack(sensors, "sensors", "sensor")
    if se is not None:
        pts, annual = se
        df = annual[["mean_ugm3", "completeness"]].join(pts[["geometry"]], how="left")
        frames.append(pd.DataFrame({
            "site_id": df.index, "name": df.index, "network": "samenmeten", "site_type": "unknown",
            "annual_mean_ugm3": df["mean_ugm3"].astype(float), "completeness": df["completeness"].astype(float),
            "weight": float(sensor_weight), "geometry": df["geometry"]}))

    if not frames:
        out = gpd.GeoDataFrame({c: pd.Series(dtype=object if c in ("site_id", "name", "network", "site_type")
                                             else float) for c in POINT_COLUMNS},
                               geometry=gpd.GeoSeries([], crs=TARGET_CRS), crs=TARGET_CRS)
        out.attrs["dropped"] = {}
        return out
    df = pd.concat(frames, ignore_index=True)
    dup = df["site_id"].duplicated(keep="first")
    if dup.any():
        raise InputDataError(f"monitoring_points: site ids {sorted(df.loc[dup, 'site_id'])} occur twice "
                             "(in both networks?); site ids must be unique.")
    import shapely

    raw = [g if isinstance(g, shapely.Geometry) else None for g in df["geometry"]]
    geom = gpd.GeoSeries(raw, crs=TARGET_CRS)
    gx, gy = shapely.get_x(np.asarray(geom.values)), shapely.get_y(np.asarray(geom.values))
    no_loc = ~(np.isfinite(gx) & np.isfinite(gy))
    mean = df["annual_mean_ugm3"].to_numpy(dtype=float)
    comp = df["completeness"].to_numpy(dtype=float)
    reasons = np.full(len(df), "", dtype=object)
    if max_annual_ugm3 is not None:
        reasons[np.isfinite(mean) & (mean > max_annual_ugm3)] = f"annual mean above {max_annual_ugm3:g} ug/m3"
    reasons[~np.isfinite(mean)] = "no annual mean (reader QC: too few valid hours)"
    reasons[~(comp >= min_completeness)] = f"completeness below {min_completeness:.0%}"
    reasons[no_loc] = "no location"
    bad = reasons != ""
    for sid, net, c, why in zip(df["site_id"][bad], df["network"][bad], comp[bad], reasons[bad]):
        dropped[str(sid)] = why
        log.info("monitoring_points: dropped %s site %s (completeness %.2f): %s", net, sid, c, why)
    if bad.any():
        log.warning("monitoring_points: dropped %d of %d site(s) (%s)", int(bad.sum()), len(df),
                    ", ".join(f"{k}: {v}" for k, v in list(dropped.items())[:8])
                    + (" ..." if len(dropped) > 8 else ""))
    keep = ~bad
    out = gpd.GeoDataFrame(df.loc[keep, POINT_COLUMNS].reset_index(drop=True),
                           geometry=geom[keep].reset_index(drop=True), crs=TARGET_CRS)
    out["site_id"] = out["site_id"].astype(str)
    out.attrs["dropped"] = dropped
    log.info("monitoring_points: %d site(s) for %s (%d station(s), %d sensor(s))", len(out), pollutant,
             int((out["network"] == "luchtmeetnet").sum()), int((out["network"] == "samenmeten").sum()))
    return out


# ------------------------------------------------------------------------------------------------
# IDW core
# ------------------------------------------------------------------------------------------------


def _points_arrays(points) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xy, values, weights) of a monitoring-points GeoDataFrame."""
    if not isinstance(points, gpd.GeoDataFrame):
        raise InputDataError("expected the GeoDataFrame of sites from healthgeo.surface.monitoring_points.")
    if "annual_mean_ugm3" not in points.columns:
        raise InputDataError("the sites lack `annual_mean_ugm3`; build them with "
                             "healthgeo.surface.monitoring_points.")
    pts = _to_target(points, "surface")
    xy = np.column_stack([pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()]) if len(pts) else np.zeros((0, 2))
    z = pts["annual_mean_ugm3"].to_numpy(dtype=float)
    w = pts["weight"].to_numpy(dtype=float) if "weight" in pts.columns else np.ones(len(pts))
    ok = np.isfinite(xy).all(axis=1) & np.isfinite(z) & np.isfinite(w) & (w > 0)
    if not ok.all():
        log.warning("surface: ignoring %d site(s) without a finite location, value or positive weight",
                    int((~ok).sum()))
    return xy[ok], z[ok], w[ok]


def _idw(dist: np.ndarray, idx: np.ndarray, values: np.ndarray, weights: np.ndarray, power: float) -> np.ndarray:
    """IDW from neighbour tables ``dist``/``idx`` (n_targets x k; missing = inf / any index).

    Targets with a zero-distance neighbour get the weight-averaged value of those neighbours only.
    Targets without any neighbour get NaN.
    """
    n = len(values)
    valid = np.isfinite(dist) & (idx < n)
    idx_c = np.where(valid, idx, 0)
    v = values[idx_c] if n else np.zeros(dist.shape)
    sw = weights[idx_c] if n else np.zeros(dist.shape)
    exact = valid & (dist <= 1e-9)
    has_exact = exact.any(axis=1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = np.where(valid & ~exact, sw / np.where(valid & ~exact, dist, 1.0) ** power, 0.0)
    w = np.where(has_exact[:, None], np.where(exact, sw, 0.0), w)
    num = (w * v).sum(axis=1)
    den = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _query(tree, xy: np.ndarray, k: int, max_distance: float | None):
    k = max(1, min(k, tree.n))
    dist, idx = tree.query(xy, k=k, distance_upper_bound=np.inf if max_distance is None else float(max_distance))
    if k == 1:
        dist, idx = dist[:, None], idx[:, None]
    return dist, idx


@contextlib.contextmanager
def _open_background(background, background_crs):
    """Open a background raster; check (or assume) its CRS is EPSG:28992."""
    from pyproj import CRS

    if isinstance(background, (str, os.PathLike)):
        if not Path(background).exists():
            raise InputDataError(f"background raster {background} does not exist; fix the path or leave "
                                 "background=None for plain IDW.")
        from .rasters import open_raster

        ctx = open_raster(background, "background raster")
    else:
        ctx = contextlib.nullcontext(background)
    with ctx as ds:
        crs = ds.crs or (CRS.from_user_input(background_crs) if background_crs is not None else None)
        if crs is None:
            raise CRSError(
                f"background raster {getattr(ds, 'name', ds)} declares no CRS. Pass background_crs="
                "'EPSG:28992' (RIVM GCN .asc grids are RD New without a .prj) or prepare it with "
                "healthgeo.rasters.prepare_raster.")
        if not CRS.from_user_input(crs).equals(CRS.from_user_input(TARGET_CRS), ignore_axis_order=True):
            raise CRSError(f"background raster {getattr(ds, 'name', ds)} is in {crs}, not {TARGET_CRS}; "
                           "reproject it with healthgeo.rasters.prepare_raster first.")
        yield ds


def _sample(ds, xy: np.ndarray) -> np.ndarray:
    from .zonal import sample_points

    v = sample_points(ds, xy)
    # GCN .asc nodata is -999 (declared); guard against undeclared RIVM sentinels too
    for s in RASTER_NODATA_SENTINELS:
        v = np.where(np.isclose(v, s, rtol=1e-6, atol=0.0), np.nan, v)
    return v


def _site_residuals(xy, z, w, background, background_crs):
    """Values to interpolate: the measurements, or measured - background at the sites."""
    if background is None:
        return xy, z, w, None
    with _open_background(background, background_crs) as ds:
        bg = _sample(ds, xy)
    ok = np.isfinite(bg)
    if not ok.all():
        log.warning("surface: %d site(s) lie outside the background raster or on nodata; ignored",
                    int((~ok).sum()))
    return xy[ok], (z - bg)[ok], w[ok], bg[ok]


def _grid(bounds: Sequence[float], cell_size: float):
    from rasterio.transform import from_origin

    if len(bounds) != 4:
        raise InputDataError(f"bounds must be (xmin, ymin, xmax, ymax), got {bounds!r}.")
    x0, y0, x1, y1 = (float(b) for b in bounds)
    if not (x1 > x0 and y1 > y0):
        raise InputDataError(f"bounds {bounds!r} are empty; give (xmin, ymin, xmax, ymax) with xmax > xmin, "
                             "ymax > ymin.")
    if not cell_size > 0:
        raise InputDataError(f"cell_size must be > 0, got {cell_size}.")
    # snap outwards to multiples of the cell size, so surfaces of one area share a grid
    gx0 = math.floor(x0 / cell_size) * cell_size
    gy1 = math.ceil(y1 / cell_size) * cell_size
    width = max(1, math.ceil(round((x1 - gx0) / cell_size, 9)))
    height = max(1, math.ceil(round((gy1 - y0) / cell_size, 9)))
    return from_origin(gx0, gy1, cell_size, cell_size), width, height


def idw_surface(points, *, bounds: Sequence[float], cell_size: float = 100.0, power: float = 2.0,
                background=None, max_distance: float | None = None, k: int = 12,
                crs="EPSG:28992", background_crs=None, block_cells: int = 1_000_000):
    """Inverse-distance-weighted surface of the sites' annual means on a grid covering ``bounds``.

    Parameters
    ----------
    points
        Sites from :func:`monitoring_points` (``annual_mean_ugm3``, optional ``weight``), in
        EPSG:28992 (reprojected with a log line otherwise).
    bounds
        ``(xmin, ymin, xmax, ymax)`` in metres; the grid's origin is snapped outwards to a
        multiple of ``cell_size``.
    cell_size
        Cell size in metres.
    power
        IDW power ``p`` (weights ``w_i / d^p``).
    background
        Path (or open ``rasterio`` dataset) of a background raster in EPSG:28992, e.g. the RIVM
        GCN grid: interpolate residuals and add them to the background (see module docstring).
    max_distance
        Use only sites within this distance (m). Cells without one are nodata (plain IDW) or
        keep the background.
    k
        Number of nearest sites used per cell.
    crs
        CRS of the output grid; only EPSG:28992 is supported (the sites' CRS).
    background_crs
        CRS to assume when the background raster declares none (RIVM GCN ``.asc``).
    block_cells
        Cells per vectorised block (bounds memory at ``block_cells * k``).

    Returns
    -------
    ``(array, transform)``: float64 array ``(height, width)`` with NaN where no value, and the
    ``affine.Affine`` transform of the grid.
    """
    from pyproj import CRS
    from scipy.spatial import cKDTree

    if not CRS.from_user_input(crs).equals(CRS.from_user_input(TARGET_CRS), ignore_axis_order=True):
        raise CRSError(f"idw_surface: crs={crs!r} is not supported; surfaces are built in {TARGET_CRS} "
                       "(metres). Reproject the result afterwards if needed.")
    if not power > 0:
        raise InputDataError(f"power must be > 0, got {power}.")
    transform, width, height = _grid(bounds, cell_size)
    xy, z, w = _points_arrays(points)
    xy, r, w, _ = _site_residuals(xy, z, w, background, background_crs)
    if len(r) == 0:
        raise InputDataError("idw_surface: no usable site (after dropping those without a value, location "
                             "or background value); give sites inside the background raster.")
    tree = cKDTree(xy)
    out = np.empty(height * width)
    cols = np.arange(width)
    rows_per_block = max(1, block_cells // width)
    bg_ctx = _open_background(background, background_crs) if background is not None else contextlib.nullcontext()
    with bg_ctx as ds:
        for r0 in range(0, height, rows_per_block):  # blocks of rows, vectorised within
            r1 = min(height, r0 + rows_per_block)
            rr, cc = np.meshgrid(np.arange(r0, r1), cols, indexing="ij")
            cx = transform.c + (cc.ravel() + 0.5) * transform.a
            cy = transform.f + (rr.ravel() + 0.5) * transform.e
            cxy = np.column_stack([cx, cy])
            dist, idx = _query(tree, cxy, k, max_distance)
            est = _idw(dist, idx, r, w, power)
            if ds is not None:
                est = _sample(ds, cxy) + np.where(np.isfinite(est), est, 0.0)
            out[r0 * width:r1 * width] = est
    arr = out.reshape(height, width)
    log.info("idw_surface: %d site(s), power %g, k %d%s -> %d x %d cells of %g m", len(r), power, k,
             ", on background" if background is not None else "", height, width, cell_size)
    return arr, transform


# ------------------------------------------------------------------------------------------------
# cross-validation
# ------------------------------------------------------------------------------------------------


def loo_predictions(points, *, power: float = 2.0, background=None, max_distance: float | None = None,
                    k: int = 12, exclude_radius: float = 10.0, background_crs=None) -> pd.DataFrame:
    """Leave-one-out predictions: each site predicted from the others with the IDW method.

    Sites within ``exclude_radius`` metres of the predicted site are left out too
    (leave-location-out; co-located instruments would otherwise predict each other exactly).
    Returns a frame indexed like ``points`` with ``site_id`` (if present), ``measured_ugm3``,
    ``predicted_ugm3`` (NaN when no other site is within reach) and ``error_ugm3``
    (predicted - measured).
    """
    from scipy.spatial import cKDTree

    xy_all, z_all, w_all = _points_arrays(points)
    keep = _kept_mask(points)
    if background is not None:
        with _open_background(background, background_crs) as ds:
            bg_all = _sample(ds, xy_all)
        has_bg = np.isfinite(bg_all)
        if not has_bg.all():
            log.warning("loo: %d site(s) outside the background raster or on nodata; ignored",
                        int((~has_bg).sum()))
        bg = bg_all[has_bg]
        r = (z_all - bg_all)[has_bg]
    else:
        has_bg = np.ones(len(xy_all), dtype=bool)
        bg, r = None, z_all
    xy, w = xy_all[has_bg], w_all[has_bg]
    n = len(r)
    pred = np.full(n, np.nan)
    if n >= 2:
        tree = cKDTree(xy)
        near = tree.query_ball_point(xy, r=max(exclude_radius, 0.0) + 1e-9, return_length=True)
        kq = int(min(n, k + int(np.max(near))))
        dist, idx = _query(tree, xy, kq, max_distance)
        excl = (dist <= exclude_radius + 1e-9) | (idx == np.arange(n)[:, None])
        dist = np.where(excl, np.inf, dist)
        # keep the k nearest remaining neighbours
        rank = np.cumsum(np.isfinite(dist), axis=1)
        dist = np.where(rank <= k, dist, np.inf)
        pred = _idw(dist, idx, r, w, power)
        if bg is not None:
            pred = pred + bg
    measured = z_all[has_bg]
    pts = points.loc[keep].loc[has_bg] if len(points) else points
    out = pd.DataFrame({"measured_ugm3": measured, "predicted_ugm3": pred}, index=pts.index)
    out["error_ugm3"] = out["predicted_ugm3"] - out["measured_ugm3"]
    if "site_id" in pts.columns:
        out.insert(0, "site_id", pts["site_id"].to_numpy())
    return out


def _kept_mask(points) -> np.ndarray:
    if len(points) == 0:
        return np.zeros(0, dtype=bool)
    x, y = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    z = points["annual_mean_ugm3"].to_numpy(dtype=float)
    w = points["weight"].to_numpy(dtype=float) if "weight" in points.columns else np.ones(len(points))
    return np.isfinite(x) & np.isfinite(y) & np.isfinite(z) & np.isfinite(w) & (w > 0)


def _metrics(pred: np.ndarray, obs: np.ndarray) -> dict:
    ok = np.isfinite(pred) & np.isfinite(obs)
    p, o = pred[ok], obs[ok]
    n = int(ok.sum())
    if n == 0:
        return {"rmse": math.nan, "mae": math.nan, "bias": math.nan, "r": math.nan, "n": 0}
    e = p - o
    r = math.nan
    if n >= 3 and np.std(p) > 0 and np.std(o) > 0:
        r = float(np.corrcoef(p, o)[0, 1])
    return {"rmse": float(np.sqrt(np.mean(e**2))), "mae": float(np.mean(np.abs(e))), "bias": float(np.mean(e)),
            "r": r, "n": n}


def loo_cv(points, *, power: float = 2.0, background=None, max_distance: float | None = None, k: int = 12,
           exclude_radius: float = 10.0, background_crs=None) -> dict:
    """Leave-one-out cross-validation of :func:`idw_surface` (same method and options).

    Returns ``{"rmse", "mae", "bias", "r", "n"}`` in µg/m³ (``bias`` = mean of predicted -
    measured; ``r`` Pearson correlation of predicted and measured, NaN with fewer than 3 sites;
    ``n`` sites that could be predicted). See :func:`loo_predictions` for the per-site values.
    """
    pr = loo_predictions(points, power=power, background=background, max_distance=max_distance, k=k,
                         exclude_radius=exclude_radius, background_crs=background_crs)
    return _metrics(pr["predicted_ugm3"].to_numpy(dtype=float), pr["measured_ugm3"].to_numpy(dtype=float))


# ------------------------------------------------------------------------------------------------
# build + note
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurfaceResult:
    """Outcome of :func:`build_surface`.

    ``path`` GeoTIFF written; ``loo`` LOO metrics (:func:`loo_cv`); ``n_sites`` sites used;
    ``method`` short description; ``power``; ``n_stations``/``n_sensors``; ``background``
    (path or ``None``) and its label; ``sites`` the sites used; ``dropped`` site -> reason.
    """

    path: Path
    loo: dict
    n_sites: int
    method: str
    power: float = 2.0
    n_stations: int = 0
    n_sensors: int = 0
    background: str | None = None
    background_label: str = ""
    sites: gpd.GeoDataFrame | None = field(default=None, repr=False, compare=False)
    dropped: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)


def _read_stations(stations, year):
    if stations is None or isinstance(stations, (tuple, list)) and len(stations) == 2 and \
            isinstance(stations[0], gpd.GeoDataFrame):
        return stations
    from .sources import read_luchtmeetnet

    if isinstance(stations, (list, tuple)):
        from .sources import read_luchtmeetnet_csv

        return read_luchtmeetnet_csv([Path(p) for p in stations], year=year)
    return read_luchtmeetnet(stations, year=year)


def _read_sensors(sensors, year, min_completeness):
    if sensors is None or isinstance(sensors, (tuple, list)) and len(sensors) == 2 and \
            isinstance(sensors[0], gpd.GeoDataFrame):
        return sensors
    from .sources import read_samenmeten_csv

    if isinstance(sensors, (tuple, list)):
        values, things = sensors
        return read_samenmeten_csv(values, things, year=year, min_completeness=min_completeness)
    return read_samenmeten_csv(sensors, year=year, min_completeness=min_completeness)


def build_surface(stations=None, sensors=None, *, bounds: Sequence[float], out_path: str | os.PathLike,
                  background=None, points: gpd.GeoDataFrame | None = None, pollutant: str = "no2",
                  year: int | None = None, cell_size: float = 100.0, power: float = 2.0, k: int = 12,
                  max_distance: float | None = None, min_completeness: float = 0.75, sensor_weight: float = 0.5,
                  max_annual_ugm3: float | None = None, search_buffer: float = 10_000.0,
                  exclude_radius: float = 10.0, background_crs=None,
                  background_label: str = "RIVM background") -> SurfaceResult:
    """Build an annual surface from monitoring sites, write it as a GeoTIFF, cross-validate it.

    Parameters
    ----------
    stations
        Luchtmeetnet input: a bulk CSV, a folder of them, a list of CSVs, the API adapter's
        GeoJSON, or the ``(stations, annual)`` pair from the readers; ``None`` for none.
    sensors
        Samen Meten input: the pivoted values CSV (``things.csv`` beside it), a
        ``(values_csv, things_csv)`` pair of paths, or the ``(sensors, annual)`` pair; ``None``.
    bounds
        Study-area ``(xmin, ymin, xmax, ymax)`` in EPSG:28992.
    out_path
        GeoTIFF to write (EPSG:28992, float32, nodata -9999, DEFLATE, 256 x 256 tiles),
        atomically, with the method and LOO metrics as GeoTIFF tags.
    background
        Background raster (e.g. RIVM GCN grid) for "IDW on the background"; ``None`` for IDW.
    points
        Ready sites from :func:`monitoring_points` instead of ``stations``/``sensors``.
    search_buffer
        Sites within ``bounds`` expanded by this many metres are used (stations just outside the
        municipality inform its edges); others are ignored.
    pollutant, year, min_completeness, sensor_weight, max_annual_ugm3
        Passed to the readers and :func:`monitoring_points`.
    cell_size, power, k, max_distance, background_crs
        Passed to :func:`idw_surface`; ``exclude_radius`` to :func:`loo_cv`.
    background_label
        How :func:`surface_note` names the background.

    Raises
    ------
    InputDataError
        Fewer than :data:`MIN_SITES` usable sites remain.
    """
    import rasterio

    if points is not None and (stations is not None or sensors is not None):
        raise InputDataError("build_surface: give either `points` or `stations`/`sensors`, not both.")
    if points is None:
        points = monitoring_points(_read_stations(stations, year),
                                   _read_sensors(sensors, year, min_completeness),
                                   pollutant=pollutant, min_completeness=min_completeness,
                                   sensor_weight=sensor_weight, max_annual_ugm3=max_annual_ugm3)
    dropped = dict(points.attrs.get("dropped", {}))
    points = _to_target(points, "build_surface")
    x0, y0, x1, y1 = (float(b) for b in bounds)
    b = float(search_buffer)
    if len(points):
        inside = points.geometry.x.between(x0 - b, x1 + b) & points.geometry.y.between(y0 - b, y1 + b)
        for sid in points.loc[~inside, "site_id"] if "site_id" in points else []:
            dropped[str(sid)] = f"farther than search_buffer={b:g} m from the bounds"
        if (~inside).any():
            log.info("build_surface: %d site(s) farther than %g m from the bounds ignored", int((~inside).sum()), b)
        points = points.loc[inside]
    if background is not None:
        with _open_background(background, background_crs) as ds:
            bg = _sample(ds, np.column_stack([points.geometry.x, points.geometry.y])) if len(points) \
                else np.zeros(0)
        for sid in points.loc[~np.isfinite(bg), "site_id"] if "site_id" in points else []:
            dropped[str(sid)] = "outside the background raster or on nodata"
        points = points.loc[np.isfinite(bg)]
    points = points.loc[_kept_mask(points)] if len(points) else points
    n = len(points)
    if n < MIN_SITES:
        why = "; ".join(f"{k_}: {v}" for k_, v in list(dropped.items())[:10])
        raise InputDataError(
            f"build_surface: only {n} usable monitoring site(s) for {pollutant} within {b:g} m of the study "
            f"area; at least {MIN_SITES} are needed to interpolate and cross-validate a surface"
            + (f" (dropped: {why}{' ...' if len(dropped) > 10 else ''})" if dropped else "")
            + ". Fix: configure a concentration grid input (e.g. `provider: rivm_gcn` or a local raster), add "
            "more Luchtmeetnet stations (a larger search_buffer) or sensors, or lower min_completeness "
            "if the data cover only part of the year.")
    arr, transform = idw_surface(points, bounds=bounds, cell_size=cell_size, power=power, background=background,
                                 max_distance=max_distance, k=k, background_crs=background_crs)
    loo = loo_cv(points, power=power, background=background, max_distance=max_distance, k=k,
                 exclude_radius=exclude_radius, background_crs=background_crs)
    n_st = int((points["network"] == "luchtmeetnet").sum()) if "network" in points else n
    n_se = int((points["network"] == "samenmeten").sum()) if "network" in points else 0
    sw = points.loc[points["network"] == "samenmeten", "weight"].unique() if n_se and "weight" in points else []
    method = (f"IDW (power {power:g}, k {k}"
              + (f", max {max_distance:g} m" if max_distance else "") + ")"
              + (f" of residuals on {background_label}" if background is not None else "")
              + (f", sensor weight {', '.join(f'{v:g}' for v in sw)}" if len(sw) else ""))
    data = np.where(np.isfinite(arr), arr, _NODATA).astype(np.float32)
    h, w = data.shape
    profile = dict(driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=TARGET_CRS,
                   transform=transform, nodata=_NODATA, compress="deflate", predictor=3,
                   tiled=True, blockxsize=256, blockysize=256)
    out_path = Path(out_path)
    with atomic_write(out_path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data, 1)
            dst.update_tags(method=method, pollutant=pollutant, unit="ug/m3", n_sites=str(n),
                            n_stations=str(n_st), n_sensors=str(n_se),
                            background=str(background) if background is not None else "",
                            **{f"loo_{key}": f"{val:.4g}" if isinstance(val, float) else str(val)
                               for key, val in loo.items()})
            dst.set_band_description(1, f"{pollutant} annual mean (ug/m3), {method}")
    result = SurfaceResult(path=out_path, loo=loo, n_sites=n, method=method, power=power, n_stations=n_st,
                           n_sensors=n_se, background=str(background) if background is not None else None,
                           background_label=background_label if background is not None else "",
                           sites=points, dropped=dropped)
    log.info("build_surface: %s -> %s", surface_note(result), out_path)
    return result


def surface_note(result: SurfaceResult) -> str:
    """One line for the provenance table's ``note``, e.g.
    ``IDW (power 2) of 7 sites on RIVM background; LOO RMSE 2.31 ug/m3, bias 0.12, r 0.83``."""
    loo = result.loo
    sites = f"{result.n_sites} site{'s' if result.n_sites != 1 else ''}"
    if result.n_sensors:
        sites += f" ({result.n_stations} stations, {result.n_sensors} sensors)"
    bg = f" on {result.background_label}" if result.background else ""

    def f(v, nd=2):
        return "nan" if v is None or not np.isfinite(v) else f"{v:.{nd}f}"

    return (f"IDW (power {result.power:g}) of {sites}{bg}; LOO RMSE {f(loo.get('rmse'))} ug/m3, "
            f"bias {f(loo.get('bias'))}, r {f(loo.get('r'))}")


# ------------------------------------------------------------------------------------------------
# grid vs measurements
# ------------------------------------------------------------------------------------------------


def grid_vs_monitoring(points, raster_path, *, raster_crs=None, source: str = "") \
        -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """The grid's value at each monitoring site next to the measured annual mean.

    Parameters
    ----------
    points
        Sites from :func:`monitoring_points`.
    raster_path
        Concentration grid (path or open dataset) in EPSG:28992.
    raster_crs
        CRS to assume when the raster declares none (e.g. ``"EPSG:28992"`` for RIVM GCN ``.asc``);
        a raster without CRS and without ``raster_crs`` raises :class:`CRSError`.
    source
        Name of the grid for the column docs (default: the file name).

    Returns
    -------
    ``(frame, docs)``: indexed by ``site_id``; columns ``name``, ``network``, ``site_type``,
    ``measured_ugm3``, ``grid_ugm3`` (cell value under the site; NaN outside the grid or on
    nodata), ``diff_ugm3`` (measured - grid), ``grid_reason`` (why ``grid_ugm3`` is NaN, else "").
    """
    xy_pts = _to_target(points, "grid_vs_monitoring")
    xy = np.column_stack([xy_pts.geometry.x.to_numpy(), xy_pts.geometry.y.to_numpy()]) if len(xy_pts) \
        else np.zeros((0, 2))
    with _open_background(raster_path, raster_crs) as ds:
        grid = _sample(ds, xy)
        b = ds.bounds
        gname = source or Path(str(getattr(ds, "name", raster_path))).name
    inside = (xy[:, 0] >= b.left) & (xy[:, 0] < b.right) & (xy[:, 1] > b.bottom) & (xy[:, 1] <= b.top)
    measured = xy_pts["annual_mean_ugm3"].to_numpy(dtype=float)
    ids = xy_pts["site_id"].astype(str).to_numpy() if "site_id" in xy_pts else xy_pts.index.astype(str)
    df = pd.DataFrame({
        "name": xy_pts["name"].to_numpy() if "name" in xy_pts else "",
        "network": xy_pts["network"].to_numpy() if "network" in xy_pts else "",
        "site_type": xy_pts["site_type"].to_numpy() if "site_type" in xy_pts else "unknown",
        "measured_ugm3": measured, "grid_ugm3": grid, "diff_ugm3": measured - grid,
        "grid_reason": np.where(np.isfinite(grid), "", np.where(inside, "nodata cell", "outside raster")),
    }, index=pd.Index(ids, name="site_id"))
    src_m = f"{_LUCHTMEETNET}; {_SAMENMETEN}"
    docs = {
        "name": doc("text", "Site name (Luchtmeetnet StationsNaam; the sensor id for Samen Meten)", source=src_m),
        "network": doc("text", "Measuring network: luchtmeetnet (reference station) or samenmeten (low-cost sensor)",
                       source=src_m),
        "site_type": doc("text", "Site classification: traffic, background, industry or unknown (sensors)",
                         "Luchtmeetnet StationsType verkeer/achtergrond/industrie mapped to English", src_m),
        "measured_ugm3": doc("ug/m3", "Measured annual mean concentration at the site",
                             "Mean of the year's valid hourly values; sites below the completeness threshold "
                             "dropped (healthgeo.surface.monitoring_points)", src_m),
        "grid_ugm3": doc("ug/m3", "Grid value in the cell containing the site",
                         "Value of the raster cell under the site point (no interpolation); NaN outside the "
                         "raster or on nodata", gname),
        "diff_ugm3": doc("ug/m3", "Measured minus grid value at the site (positive: the grid under-estimates)",
                         "measured_ugm3 - grid_ugm3; a 1 km background grid is expected below traffic sites",
                         f"{src_m}; {gname}"),
        "grid_reason": doc("text", "Why grid_ugm3 is missing ('outside raster', 'nodata cell'); NULL when it is given",
                           source=gname),
    }
    n_bad = int((~np.isfinite(grid)).sum())
    if n_bad:
        log.warning("grid_vs_monitoring: %d site(s) without a grid value (outside %s or nodata)", n_bad, gname)
    return df, docs


def agreement_summary(df: pd.DataFrame) -> dict:
    """Agreement of grid and measurements from :func:`grid_vs_monitoring`'s frame.

    Returns ``{"n", "mean_diff", "rmse", "r"}`` over sites with both values: ``mean_diff`` the mean
    of ``diff_ugm3`` (measured - grid), ``rmse`` its root mean square, ``r`` the Pearson
    correlation of measured and grid values (NaN with fewer than 3 sites or no spread).
    """
    m = df["measured_ugm3"].to_numpy(dtype=float)
    g = df["grid_ugm3"].to_numpy(dtype=float)
    ok = np.isfinite(m) & np.isfinite(g)
    n = int(ok.sum())
    if n == 0:
        return {"n": 0, "mean_diff": math.nan, "rmse": math.nan, "r": math.nan}
    d = m[ok] - g[ok]
    r = math.nan
    if n >= 3 and np.std(m[ok]) > 0 and np.std(g[ok]) > 0:
        r = float(np.corrcoef(m[ok], g[ok])[0, 1])
    return {"n": n, "mean_diff": float(d.mean()), "rmse": float(np.sqrt(np.mean(d**2))), "r": r}
