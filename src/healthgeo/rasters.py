"""Raster preparation: georeference, reproject, clip, set nodata, write a tiled GeoTIFF.

Every exposure raster (RIVM GCN 1 km Esri ASCII grids, RIVM Atlas Leefomgeving 10 m noise
GeoTIFFs, land cover, NDVI) passes through :func:`prepare_raster` so the indicator code can rely
on the contract in ``docs/design.md``: one band, EPSG:28992, nodata set, clipped to the study area
plus a margin.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._errors import CRSError, InputDataError
from .io import atomic_write

log = logging.getLogger(__name__)

__all__ = ["prepare_raster", "RIVM_NODATA_SENTINELS", "DEFAULT_NODATA"]

#: Nodata sentinels found in RIVM products: -999 (GCN ASCII grids, ``-0.9990E+03``) and the
#: float32 minimum written as -3.4e38 (Atlas Leefomgeving GeoTIFFs).
RIVM_NODATA_SENTINELS = (-999.0, -3.4e38)
#: Nodata value written into prepared floating-point rasters.
DEFAULT_NODATA = -9999.0


def open_raster(path, what: str = "raster"):
    """``rasterio.open`` that turns an unreadable file into an :class:`InputDataError` saying what to do."""
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path)
    if not path.exists():
        raise InputDataError(f"{what}: {path} does not exist; check the `file:` path in the config.")
    try:
        return rasterio.open(path)
    except RasterioIOError as err:
        raise InputDataError(
            f"{what}: {path} cannot be read as a raster ({err}). A truncated download or a file of another "
            "format? Delete it and rerun (provider inputs are fetched again), or give a GeoTIFF / Esri "
            "ASCII grid as `file:`.") from err


def _sentinel_mask(arr: np.ndarray, sentinels: Sequence[float]) -> np.ndarray:
    """True where ``arr`` equals one of ``sentinels`` (relative 1e-6, so -3.4e38 matches
    -3.4028235e38), or is NaN/inf for float rasters."""
    mask = np.zeros(arr.shape, dtype=bool)
    if np.issubdtype(arr.dtype, np.floating):
        mask |= ~np.isfinite(arr)
    for s in sentinels:
        if s is None or (isinstance(s, float) and math.isnan(s)):
            continue
        if np.issubdtype(arr.dtype, np.floating):
            with np.errstate(invalid="ignore", over="ignore"):
                mask |= np.isclose(arr, s, rtol=1e-6, atol=0.0)
                if abs(s) >= 1e38:  # "-3.4e38"-style sentinels: anything that extreme
                    mask |= np.abs(arr) >= 0.99 * abs(s)
        else:
            mask |= arr == s
    return mask


def prepare_raster(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    bounds: Sequence[float],
    margin_m: float = 0.0,
    assume_crs=None,
    target_crs="EPSG:28992",
    nodata: float | Sequence[float] | None = None,
    dst_nodata: float | None = None,
    resampling: str = "nearest",
    band: int = 1,
) -> Path:
    """Clip (and if needed reproject) one band of ``src`` to ``bounds`` + ``margin_m``.

    Parameters
    ----------
    src
        GeoTIFF or Esri ASCII grid (``.asc``), or anything else GDAL reads.
    dst
        Output GeoTIFF (tiled 256 x 256, DEFLATE), written atomically.
    bounds
        ``(xmin, ymin, xmax, ymax)`` of the study area in ``target_crs``.
    margin_m
        Extra margin around ``bounds`` in metres (keep at least one source cell so coverage
        fractions of edge wards are complete).
    assume_crs
        CRS of a source that declares none (RIVM GCN ASCII grids have no ``.prj``; they are RD New,
        EPSG:28992). Ignored when the file has a CRS.
    target_crs
        Output CRS; a source in another CRS is reprojected (logged with both CRSs).
    nodata
        Value(s) to treat as nodata in addition to the file's own nodata, e.g.
        :data:`RIVM_NODATA_SENTINELS` (-999 and -3.4e38).
    dst_nodata
        Nodata value written to ``dst``; default -9999 for float rasters, the source's nodata
        (or the dtype's maximum) for integer rasters such as land cover.
    resampling
        ``rasterio.enums.Resampling`` name used when reprojecting (``nearest``, ``bilinear``...).

    Returns
    -------
    Path of ``dst``.

    Raises
    ------
    CRSError
        The source has no CRS and ``assume_crs`` is not set.
    InputDataError
        ``bounds`` lie outside the raster, or the clipped area holds only nodata.
    """
    import rasterio
    from rasterio.crs import CRS
    from rasterio.enums import Resampling
    from rasterio.warp import calculate_default_transform, reproject, transform_bounds
    from rasterio.windows import Window, from_bounds

    src, dst = Path(src), Path(dst)
    target = CRS.from_user_input(target_crs)
    xmin, ymin, xmax, ymax = (float(b) for b in bounds)
    xmin, ymin, xmax, ymax = xmin - margin_m, ymin - margin_m, xmax + margin_m, ymax + margin_m
    sentinels = [] if nodata is None else ([nodata] if np.isscalar(nodata) else list(nodata))

    with open_raster(src, "prepare_raster") as ds:
        crs = ds.crs
        if crs is None:
            if assume_crs is None:
                raise CRSError(
                    f"{src.name} declares no CRS (an Esri ASCII grid without .prj?). Set `crs:` for "
                    "this input in the config (RIVM GCN grids are RD New: `crs: EPSG:28992`), which "
                    "is passed here as assume_crs."
                )
            crs = CRS.from_user_input(assume_crs)
            log.info("%s: no CRS in the file, using the configured %s", src.name, crs.to_string())
        src_nodata = ds.nodata
        all_sentinels = sentinels + ([src_nodata] if src_nodata is not None else [])
        src_dtype = np.dtype(ds.dtypes[band - 1])
        is_float = np.issubdtype(src_dtype, np.floating)
        if dst_nodata is None:
            if is_float:
                dst_nodata = DEFAULT_NODATA
            elif src_nodata is not None:
                dst_nodata = src_nodata
            else:
                dst_nodata = np.iinfo(src_dtype).max
        out_dtype = np.float32 if is_float else src_dtype

        reprojecting = crs != target
        if reprojecting:
            log.info("%s: reprojecting from %s to %s (%s resampling)", src.name, crs.to_string(),
                     target.to_string(), resampling)
            sx0, sy0, sx1, sy1 = transform_bounds(target, crs, xmin, ymin, xmax, ymax, densify_pts=21)
        else:
            sx0, sy0, sx1, sy1 = xmin, ymin, xmax, ymax
        l, b, r, t = ds.bounds
        if sx0 >= r or sx1 <= l or sy0 >= t or sy1 <= b:
            raise InputDataError(
                f"{src.name}: the study area {bounds} (+{margin_m} m) lies outside the raster "
                f"(bounds {tuple(ds.bounds)} in {crs.to_string()}). Check the raster's CRS "
                "(`crs:` in the config) and that it covers the municipality."
            )
        if sx0 < l or sx1 > r or sy0 < b or sy1 > t:
            log.warning("%s: the study area (+margin) extends beyond the raster; the part outside "
                        "is nodata", src.name)
        win = from_bounds(sx0, sy0, sx1, sy1, transform=ds.transform)
        c0 = max(int(math.floor(win.col_off + 1e-9)) - (1 if reprojecting else 0), 0)
        r0 = max(int(math.floor(win.row_off + 1e-9)) - (1 if reprojecting else 0), 0)
        c1 = min(int(math.ceil(win.col_off + win.width - 1e-9)) + (1 if reprojecting else 0), ds.width)
        r1 = min(int(math.ceil(win.row_off + win.height - 1e-9)) + (1 if reprojecting else 0), ds.height)
        window = Window(c0, r0, c1 - c0, r1 - r0)
        data = ds.read(band, window=window)
        win_transform = ds.window_transform(window)

    bad = _sentinel_mask(data, all_sentinels)
    if bad.all():
        raise InputDataError(
            f"{src.name}: the clipped area {bounds} (+{margin_m} m) holds only nodata "
            f"(sentinels {all_sentinels}). Check bounds, CRS and the `nodata:` setting."
        )
    data = data.astype(out_dtype, copy=False)
    data = np.where(bad, np.asarray(dst_nodata, dtype=out_dtype), data)

    if reprojecting:
        h, w = data.shape
        wl, wt = win_transform.c, win_transform.f
        wr, wb = wl + win_transform.a * w, wt + win_transform.e * h
        dt, dw, dh = calculate_default_transform(crs, target, w, h, left=wl, bottom=wb, right=wr, top=wt)
        res = abs(dt.a)
        # snap the output grid to the target bounds so prepared rasters align across runs
        from rasterio.transform import from_origin

        ox = math.floor(xmin / res) * res
        oy = math.ceil(ymax / res) * res
        dw = int(math.ceil((xmax - ox) / res))
        dh = int(math.ceil((oy - ymin) / res))
        dt = from_origin(ox, oy, res, res)
        out = np.full((dh, dw), dst_nodata, dtype=out_dtype)
        reproject(
            data, out, src_transform=win_transform, src_crs=crs, dst_transform=dt, dst_crs=target,
            src_nodata=dst_nodata, dst_nodata=dst_nodata, resampling=Resampling[resampling],
        )
        data, out_transform = out, dt
        if np.all(data == dst_nodata):
            raise InputDataError(f"{src.name}: after reprojection the study area holds only nodata.")
    else:
        out_transform = win_transform

    h, w = data.shape
    profile = dict(
        driver="GTiff", width=w, height=h, count=1, dtype=np.dtype(out_dtype).name, crs=target,
        transform=out_transform, nodata=dst_nodata, compress="deflate",
        predictor=3 if np.issubdtype(out_dtype, np.floating) else 2,
    )
    if w >= 256 and h >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with atomic_write(dst) as tmp:
        with rasterio.open(tmp, "w", **profile) as out_ds:
            out_ds.write(data, 1)
    log.info("%s -> %s: %d x %d cells, nodata %s, %.1f %% valid", src.name, dst.name, w, h,
             dst_nodata, 100.0 * float(np.mean(data != dst_nodata)))
    return dst
