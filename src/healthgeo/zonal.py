"""Exact coverage-fraction zonal statistics, with weights built once per raster grid.

The zonal engine answers "what is the mean of this raster over this ward?" the way exactextract
does: every cell counts with the *fraction of its area that lies inside the ward* (its coverage
fraction), so small or thin wards on a coarse grid still get a value (see
docs/methods.md#coverage-fraction-zonal-statistics). Unlike calling exactextract once per raster,
the coverage fractions are computed **once per grid** and reused for every raster on that grid
(NO2, PM2.5 and PM10 share the RIVM 1 km grid; Lden and Lnight share the 10 m grid).

How the weights are computed
----------------------------
Coverage fractions come from an exact area-accumulation rasteriser (the "signed area" scheme of
analytic font rasterisers): every ring edge is split at the grid lines into pieces that each lie in
one cell; a piece with signed height ``dv`` whose mean column offset inside its cell is ``xm``
covers ``dv*(1-xm)`` of its own cell and ``dv`` of every cell to its right in the same row.
Summing these along a grid row gives exactly the area of the polygon inside each cell (holes
subtract because rings are oriented consistently; all arithmetic in float64). Between two
boundary cells the sum is constant, so a ward's weights come out directly as *runs* ``(row,
first column, last column + 1, weight)``: interior runs have weight 1, boundary cells are runs of
length 1 with their fractional coverage. This is the same ward x cell sparse matrix as exactextract's
coverage fractions, stored run-length encoded: a national 10 m grid (~28 000 x 32 000 cells) with
~14 000 buurten has ~3.5e8 covered cells (a CSR matrix of ~4 GB) but only ~2e7 runs.
:meth:`CoverageWeights.to_sparse` expands to a ``scipy.sparse.csr_array`` for small grids.

Applying the weights to a raster streams it by row blocks (``rasterio`` windowed reads): per
block a prefix sum along each row turns every run into two look-ups, so the cost per extra raster
is one read of the raster plus O(runs). Memory is bounded by ``block_rows`` x raster width.

Nodata cells (the raster's nodata value, NaN, or masked) are excluded from the numerator *and*
the denominator, as exactextract does; ``covered_frac`` reports the fraction of the ward's area
that lies on valid cells.

Accuracy: coverage fractions agree with exact float64 clipping (shapely) to ~1e-14. exactextract
stores coverage fractions as float32 (isciences/exactextract#101), so its means differ from ours by
up to ~1e-8 relative for polygons of a few cells and ~1e-10 for buurt-sized ones.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from ._errors import CRSError, InputDataError

log = logging.getLogger(__name__)

__all__ = [
    "GridSpec",
    "CoverageWeights",
    "coverage_weights",
    "zonal_mean",
    "sample_points",
    "REASON_OUTSIDE",
    "REASON_NODATA",
    "REASON_EMPTY",
    "REASON_LOW_COVER",
]

#: ``reason`` when a ward does not overlap the raster at all.
REASON_OUTSIDE = "outside raster"
#: ``reason`` when the ward overlaps the raster but only nodata cells.
REASON_NODATA = "all nodata"
#: ``reason`` when the ward geometry is empty or missing.
REASON_EMPTY = "empty geometry"
#: ``reason`` when less than ``min_covered_frac`` of the ward is on valid cells.
REASON_LOW_COVER = "covered fraction below min_covered_frac"

# Weights smaller than this (in cell units) are rounding noise of the running sum, not coverage.
_EPS_WEIGHT = 1e-12
# Target number of edge pieces held in memory at once while building weights.
_PIECES_PER_BATCH = 1_000_000
# GDAL block cache (MB) while streaming a raster from a path.
_GDAL_CACHE_MB = 128


@dataclass(frozen=True)
class GridSpec:
    """A north-up raster grid: ``transform`` (affine), ``width``, ``height``, ``crs``.

    Use :meth:`from_raster` to read it from a file. Two rasters with equal ``GridSpec`` (same
    origin, cell size and shape) share one :class:`CoverageWeights`.
    """

    transform: "affine.Affine"  # noqa: F821
    width: int
    height: int
    crs: "rasterio.crs.CRS | None" = None  # noqa: F821

    def __post_init__(self):
        t = self.transform
        if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
            raise InputDataError(
                f"grid with transform {tuple(t)[:6]} is rotated or not north-up; the zonal engine "
                "needs a north-up grid. Warp it first (e.g. `gdalwarp` or healthgeo.rasters.prepare_raster)."
            )

    @classmethod
    def from_raster(cls, raster, *, assume_crs=None) -> "GridSpec":
        """Grid of a raster file path or open ``rasterio`` dataset.

        ``assume_crs`` is used only when the file declares no CRS (e.g. an Esri ASCII grid
        without ``.prj``).
        """
        import rasterio

        if isinstance(raster, (str, os.PathLike)):
            from .rasters import open_raster

            with open_raster(raster) as ds:
                return cls.from_raster(ds, assume_crs=assume_crs)
        crs = raster.crs
        if crs is None and assume_crs is not None:
            crs = rasterio.crs.CRS.from_user_input(assume_crs)
        return cls(transform=raster.transform, width=raster.width, height=raster.height, crs=crs)

    @property
    def cell_area(self) -> float:
        return abs(self.transform.a * self.transform.e)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        t = self.transform
        return (t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f)

    def same_grid(self, other: "GridSpec", rtol: float = 1e-9) -> bool:
        """True when ``other`` has the same shape, origin and cell size (CRS not compared)."""
        if (self.width, self.height) != (other.width, other.height):
            return False
        a, b = np.array(tuple(self.transform)[:6]), np.array(tuple(other.transform)[:6])
        scale = max(abs(self.transform.a), abs(self.transform.e))
        return bool(np.all(np.abs(a - b) <= rtol * np.maximum(np.abs(a), scale)))

    def key(self) -> tuple:
        """Hashable identity of the grid (for caching weights per grid)."""
        return (tuple(round(v, 9) for v in tuple(self.transform)[:6]), self.width, self.height)


# --------------------------------------------------------------------------------------------
# building the weights
# --------------------------------------------------------------------------------------------


def _as_geoms(wards):
    """(geometry array, index, crs) from a GeoDataFrame, GeoSeries or sequence of shapely geoms."""
    import geopandas as gpd

    if isinstance(wards, gpd.GeoDataFrame):
        return np.asarray(wards.geometry.values, dtype=object), wards.index, wards.crs
    if isinstance(wards, gpd.GeoSeries):
        return np.asarray(wards.values, dtype=object), wards.index, wards.crs
    geoms = np.asarray(list(wards), dtype=object)
    return geoms, pd.RangeIndex(len(geoms)), None


def _check_crs(crs_a, crs_b, what: str) -> None:
    if crs_a is None or crs_b is None:
        return
    from pyproj import CRS

    if not CRS.from_user_input(crs_a).equals(CRS.from_user_input(crs_b), ignore_axis_order=True):
        raise CRSError(
            f"{what}: the polygons are in {crs_a} but the raster grid is in {crs_b}. Reproject the "
            "raster with healthgeo.rasters.prepare_raster (target EPSG:28992) or the polygons with "
            "`.to_crs()` first."
        )


def _edge_pieces(u0, v0, u1, v1, eid):
    """Split edges at integer grid lines. Returns (ua, va, ub, vb, eid) of the pieces.

    The points of each edge (start, crossings of vertical lines ``u = k``, crossings of
    horizontal lines ``v = k``, end) are placed in travel order without a global sort: each
    crossing's slot is its rank among its own kind plus the number of lines of the other kind
    passed before it. Near-ties at cell corners can collide by rounding; those few edges are
    ordered by an explicit sort.
    """
    n_e = len(u0)
    du, dv = u1 - u0, v1 - v0
    su = np.where(du >= 0, 1.0, -1.0)
    sv = np.where(dv >= 0, 1.0, -1.0)
    # number of integer lines strictly between the end points
    nu = np.maximum(np.ceil(np.maximum(u0, u1)) - np.floor(np.minimum(u0, u1)) - 1, 0).astype(np.int64)
    nv = np.maximum(np.ceil(np.maximum(v0, v1)) - np.floor(np.minimum(v0, v1)) - 1, 0).astype(np.int64)
    # first line crossed in the direction of travel
    ku0 = np.where(du >= 0, np.floor(u0) + 1.0, np.ceil(u0) - 1.0)
    kv0 = np.where(dv >= 0, np.floor(v0) + 1.0, np.ceil(v0) - 1.0)
    m = 2 + nu + nv
    off = np.cumsum(m) - m
    total = int(m.sum())

    e_u = np.repeat(np.arange(n_e), nu)
    j_u = np.arange(len(e_u)) - np.repeat(np.cumsum(nu) - nu, nu)
    k_u = ku0[e_u] + su[e_u] * j_u
    pv_u = v0[e_u] + (k_u - u0[e_u]) / du[e_u] * dv[e_u]
    e_v = np.repeat(np.arange(n_e), nv)
    j_v = np.arange(len(e_v)) - np.repeat(np.cumsum(nv) - nv, nv)
    k_v = kv0[e_v] + sv[e_v] * j_v
    pu_v = u0[e_v] + (k_v - v0[e_v]) / dv[e_v] * du[e_v]
    # horizontal lines passed strictly before each vertical-line crossing (and vice versa, inclusive)
    v0u, u0v = v0[e_u], u0[e_v]
    cv = np.where(sv[e_u] > 0, np.ceil(pv_u) - 1 - np.floor(v0u), np.ceil(v0u) - 1 - np.floor(pv_u))
    cv = np.clip(cv, 0, nv[e_u]).astype(np.int64)
    cu = np.where(su[e_v] > 0, np.floor(pu_v) - np.floor(u0v), np.ceil(u0v) - np.ceil(pu_v))
    cu = np.clip(cu, 0, nu[e_v]).astype(np.int64)
    slot_u = off[e_u] + 1 + j_u + cv
    slot_v = off[e_v] + 1 + j_v + cu

    pu = np.empty(total)
    pv = np.empty(total)
    pe = np.repeat(np.arange(n_e), m)
    pu[off], pv[off] = u0, v0
    pu[off + m - 1], pv[off + m - 1] = u1, v1
    pu[slot_u], pv[slot_u] = k_u, pv_u
    pu[slot_v], pv[slot_v] = pu_v, k_v
    # rounding collisions (two crossings in one slot) leave some slot unfilled: redo those edges
    filled = np.bincount(np.concatenate([off, off + m - 1, slot_u, slot_v]), minlength=total)
    bad_slots = filled != 1
    if bad_slots.any():
        bad = np.zeros(n_e, dtype=bool)
        bad[pe[bad_slots]] = True
        sel_u = bad[e_u]
        sel_v = bad[e_v]
        t_u = (k_u[sel_u] - u0[e_u[sel_u]]) / du[e_u[sel_u]]
        t_v = (k_v[sel_v] - v0[e_v[sel_v]]) / dv[e_v[sel_v]]
        ee = np.concatenate([e_u[sel_u], e_v[sel_v]])
        tt = np.concatenate([t_u, t_v])
        uu = np.concatenate([k_u[sel_u], pu_v[sel_v]])
        vv = np.concatenate([pv_u[sel_u], k_v[sel_v]])
        order = np.lexsort((tt, ee))
        ee, uu, vv = ee[order], uu[order], vv[order]
        # slots of bad edges' crossings in order: off[e] + 1 + rank within edge
        rank = np.arange(len(ee)) - np.searchsorted(ee, ee)
        slots = off[ee] + 1 + rank
        pu[slots], pv[slots] = uu, vv
    same = pe[1:] == pe[:-1]
    i = np.nonzero(same)[0]
    return pu[i], pv[i], pu[i + 1], pv[i + 1], eid[pe[i]]


def _runs_for_batch(geoms, grid: GridSpec):
    """Runs (ward, row, c0, c1, w) of a batch of oriented (multi)polygons, clipped to the grid."""
    t = grid.transform
    polys, poly_geom = shapely.get_parts(geoms, return_index=True)
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    ring_geom = poly_geom[ring_poly]
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    empty = (np.zeros(0, np.int64),) * 4 + (np.zeros(0),)
    if len(coords) < 2:
        return empty
    u = (coords[:, 0] - t.c) / t.a
    v = (coords[:, 1] - t.f) / t.e  # rows grow downwards
    i0 = np.nonzero(ring_idx[1:] == ring_idx[:-1])[0]
    u0, v0, u1, v1 = u[i0], v[i0], u[i0 + 1], v[i0 + 1]
    eid = ring_geom[ring_idx[i0]]
    # horizontal edges add nothing; edges entirely above/below the grid cannot affect its rows
    keep = (v0 != v1) & (np.maximum(v0, v1) > 0) & (np.minimum(v0, v1) < grid.height)
    u0, v0, u1, v1, eid = u0[keep], v0[keep], u1[keep], v1[keep], eid[keep]
    if len(u0) == 0:
        return empty
    ua, va, ub, vb, pid = _edge_pieces(u0, v0, u1, v1, eid)
    dv = vb - va
    um = 0.5 * (ua + ub)
    col = np.floor(um)
    row = np.floor(0.5 * (va + vb))
    xm = um - col
    ok = (dv != 0) & (row >= 0) & (row < grid.height)
    if not ok.any():
        return empty
    row, col, xm, dv, pid = row[ok].astype(np.int64), col[ok].astype(np.int64), xm[ok], dv[ok], pid[ok]
    # A piece in cell (row, col) covers dv*(1-xm) of its own cell and dv of every cell to its right
    # in the same row. Sort pieces by (ward, row, col); sum per cell; running sums along rows.
    cmin = col.min()
    ncol = int(col.max() - cmin + 2)
    nrow = grid.height
    key = (pid.astype(np.int64) * nrow + row) * ncol + (col - cmin)
    order = np.argsort(key)
    key = key[order]
    starts = np.concatenate([[0], np.nonzero(key[1:] != key[:-1])[0] + 1])
    own = np.add.reduceat((dv * (1.0 - xm))[order], starts)
    full = np.add.reduceat(dv[order], starts)
    key = key[starts]
    grp = key // ncol  # (ward, row) group
    cols = key % ncol + cmin
    cs = np.cumsum(full)
    gstart = np.concatenate([[True], grp[1:] != grp[:-1]])
    first = np.maximum.accumulate(np.where(gstart, np.arange(len(cs)), 0))
    after = cs - (cs[first] - full[first])  # running sum through this cell
    before = after - full
    nxt_same = np.concatenate([grp[1:] == grp[:-1], [False]])
    nxt_col = np.concatenate([cols[1:], [0]])
    # runs: each cell holding pieces, and the gap up to the next such cell in the row
    gap = nxt_same & (nxt_col > cols + 1)
    c0 = np.concatenate([cols, cols[gap] + 1])
    c1 = np.concatenate([cols + 1, nxt_col[gap]])
    w = np.concatenate([before + own, after[gap]])
    g = np.concatenate([grp, grp[gap]])
    keep = np.abs(w) > _EPS_WEIGHT
    c0, c1, w, g = c0[keep], c1[keep], w[keep], g[keep]
    # clip runs to the grid columns
    c0c = np.maximum(c0, 0)
    c1c = np.minimum(c1, grid.width)
    ok = c1c > c0c
    return g[ok] // nrow, g[ok] % nrow, c0c[ok], c1c[ok], w[ok]


class CoverageWeights:
    """Exact coverage fractions of a set of wards on one raster grid, run-length encoded.

    Build with :func:`coverage_weights`; apply to any raster on the same grid with
    :meth:`mean`, :meth:`mean_db` or :meth:`stats`. Attributes: ``index`` (the ward index),
    ``grid`` (:class:`GridSpec`), ``area_cells`` (ward area in cell units), ``inside_cells``
    (area inside the raster extent in cell units) and the run arrays ``ward``, ``row``, ``c0``,
    ``c1`` (exclusive), ``w`` sorted by row. See docs/methods.md#coverage-fraction-zonal-statistics.
    """

    def __init__(self, index, grid, area_cells, ward, row, c0, c1, w, *, presorted: bool = False):
        order = slice(None) if presorted else np.argsort(row, kind="stable")
        self.index = pd.Index(index)
        self.grid = grid
        self.area_cells = np.asarray(area_cells, dtype=float)
        self.row = np.asarray(row, dtype=np.int32)[order]
        self.ward = np.asarray(ward, dtype=np.int32)[order]
        self.c0 = np.asarray(c0, dtype=np.int32)[order]
        self.c1 = np.asarray(c1, dtype=np.int32)[order]
        self.w = np.asarray(w, dtype=np.float64)[order]
        self.row_ptr = np.searchsorted(self.row, np.arange(grid.height + 1))
        n = len(self.index)
        self.inside_cells = np.bincount(self.ward, weights=self.w * (self.c1 - self.c0), minlength=n)

    def __len__(self) -> int:
        return len(self.index)

    def __repr__(self) -> str:
        return (f"CoverageWeights({len(self)} wards, {len(self.w)} runs, grid "
                f"{self.grid.height}x{self.grid.width})")

    @property
    def nnz(self) -> int:
        """Number of (ward, cell) pairs with non-zero coverage."""
        return int(np.sum(self.c1 - self.c0, dtype=np.int64))

    def to_sparse(self, max_nnz: int = 50_000_000):
        """Expand to a ``scipy.sparse.csr_array`` (wards x cells, cell id = row*width + col)."""
        from scipy import sparse

        nnz = self.nnz
        if nnz > max_nnz:
            raise MemoryError(
                f"{nnz} covered cells exceed max_nnz={max_nnz}; use the run-length weights "
                "(mean/stats) or raise max_nnz."
            )
        length = (self.c1 - self.c0).astype(np.int64)
        start = np.repeat(self.row.astype(np.int64) * self.grid.width + self.c0, length)
        off = np.arange(nnz) - np.repeat(np.cumsum(length) - length, length)
        m = sparse.coo_array(
            (np.repeat(self.w, length), (np.repeat(self.ward, length), start + off)),
            shape=(len(self), self.grid.width * self.grid.height),
        )
        return m.tocsr()

    # ----------------------------------------------------------------------------------------
    def _blocks(self, raster, block_rows: int, nodata, assume_crs):
        """Yield (r0, c0, values in the raster's dtype, valid bool) row blocks holding runs."""
        if len(self.row) == 0:
            return
        rmin, rmax = int(self.row[0]), int(self.row[-1]) + 1
        rmin = (rmin // block_rows) * block_rows  # align blocks with the file's tiles
        cmin, cmax = int(self.c0.min()), int(self.c1.max())
        if isinstance(raster, np.ndarray):
            if raster.shape != (self.grid.height, self.grid.width):
                raise InputDataError(
                    f"array of shape {raster.shape} does not match the weights' grid "
                    f"{(self.grid.height, self.grid.width)}; build weights for this grid."
                )
            mask = np.ma.getmaskarray(raster) if np.ma.isMaskedArray(raster) else None
            data = np.ma.getdata(raster)
            for r0 in range(rmin, rmax, block_rows):
                r1 = min(r0 + block_rows, rmax)
                if self.row_ptr[r1] == self.row_ptr[r0]:
                    continue  # no runs in these rows
                vals = np.asarray(data[r0:r1, cmin:cmax])
                valid = _finite(vals)
                if mask is not None:
                    valid &= ~mask[r0:r1, cmin:cmax]
                if nodata is not None:
                    valid &= vals != nodata
                yield r0, cmin, vals, valid
            return
        import rasterio
        from rasterio.windows import Window

        if isinstance(raster, (str, os.PathLike)):
            # each window is read once: a small GDAL block cache keeps memory bounded
            from .rasters import open_raster

            with rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHE_MB), open_raster(raster) as ds:
                yield from self._blocks(ds, block_rows, nodata, assume_crs)
            return
        ds = raster
        other = GridSpec.from_raster(ds, assume_crs=assume_crs)
        if not self.grid.same_grid(other):
            raise InputDataError(
                f"raster {getattr(ds, 'name', ds)} is on a different grid ({other.height}x"
                f"{other.width}, {tuple(other.transform)[:6]}) than these weights "
                f"({self.grid.height}x{self.grid.width}, {tuple(self.grid.transform)[:6]}); "
                "build weights with GridSpec.from_raster(that raster)."
            )
        _check_crs(self.grid.crs, other.crs, f"raster {getattr(ds, 'name', ds)}")
        nd = ds.nodata if nodata is None else nodata
        for r0 in range(rmin, rmax, block_rows):
            r1 = min(r0 + block_rows, rmax)
            if self.row_ptr[r1] == self.row_ptr[r0]:
                continue  # no runs in these rows: skip the read
            win = Window(cmin, r0, cmax - cmin, r1 - r0)
            vals = ds.read(1, window=win)  # native dtype; sums are accumulated in float64
            valid = _finite(vals)
            if nd is not None and not (isinstance(nd, float) and math.isnan(nd)):
                valid &= vals != nd
            yield r0, cmin, vals, valid

    def _sums(self, raster, *, block_rows, nodata, transform, assume_crs):
        n = len(self)
        num = np.zeros(n)
        den = np.zeros(n)
        for r0, cmin, vals, valid in self._blocks(raster, block_rows, nodata, assume_crs):
            nb = vals.shape[0]
            if transform is not None:
                with np.errstate(all="ignore"):
                    vals = np.asarray(transform(vals.astype(np.float64)), dtype=np.float64)
                valid &= np.isfinite(vals)
            all_valid = bool(valid.all())
            if not all_valid:
                vals = np.where(valid, vals, np.zeros((), dtype=vals.dtype))
            lo, hi = self.row_ptr[r0], self.row_ptr[r0 + nb]
            if hi == lo:
                continue
            rr = self.row[lo:hi] - r0
            a = self.c0[lo:hi] - cmin
            b = self.c1[lo:hi] - cmin
            ww = self.w[lo:hi]
            wd = self.ward[lo:hi]
            single = (b - a) == 1
            # single cells (boundary): direct gather (exact); longer runs: prefix sums
            s = np.empty(hi - lo)
            c = np.empty(hi - lo)
            s[single] = vals[rr[single], a[single]]
            c[single] = valid[rr[single], a[single]]
            multi = ~single
            if multi.any():
                rm, am, bm = rr[multi], a[multi], b[multi]
                p = np.empty((nb, vals.shape[1] + 1))
                p[:, 0] = 0.0
                np.cumsum(vals, axis=1, dtype=np.float64, out=p[:, 1:])
                s[multi] = p[rm, bm] - p[rm, am]
                del p
                if all_valid:
                    c[multi] = bm - am
                else:
                    q = np.empty((nb, vals.shape[1] + 1), dtype=np.int32)
                    q[:, 0] = 0
                    np.cumsum(valid, axis=1, dtype=np.int32, out=q[:, 1:])
                    c[multi] = q[rm, bm] - q[rm, am]
            num += np.bincount(wd, weights=ww * s, minlength=n)
            den += np.bincount(wd, weights=ww * c, minlength=n)
        return num, den

    def stats(
        self,
        raster,
        *,
        energy: bool = False,
        min_covered_frac: float = 0.0,
        block_rows: int = 256,
        nodata: float | None = None,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
        assume_crs=None,
    ) -> pd.DataFrame:
        """Coverage-weighted statistics per ward.

        Parameters
        ----------
        raster
            Path, open ``rasterio`` dataset, or a 2-D array on this grid (NaN / masked = nodata).
        energy
            Average sound levels as energy: ``10*log10(sum w*10**(L/10) / sum w)``
            (docs/methods.md#energy-averaging-of-sound-levels) instead of arithmetic.
        min_covered_frac
            Wards with a smaller share of their area on valid cells get NaN and a reason.
        block_rows
            Rows read per block; memory is about ``24 * block_rows * width`` bytes.
        nodata
            Overrides the raster's nodata value.
        transform
            Function applied to each block of values before averaging (e.g. a class test
            ``lambda a: np.isin(a, [1, 2])`` gives the covered share of those classes).

        Returns
        -------
        DataFrame indexed like the wards with ``mean``, ``covered_frac`` (share of the ward's
        area on valid cells), ``valid_cells`` (coverage-weighted count of valid cells) and
        ``reason`` (None where ``mean`` is a number).
        """
        tf = transform
        if energy:
            if transform is not None:
                raise ValueError("give either energy=True or transform, not both")
            tf = _db_to_energy
        num, den = self._sums(raster, block_rows=block_rows, nodata=nodata, transform=tf,
                              assume_crs=assume_crs)
        with np.errstate(all="ignore"):
            mean = num / den
            covered = np.where(self.area_cells > 0, den / self.area_cells, np.nan)
        reason = np.full(len(self), None, dtype=object)
        reason[den <= 0] = REASON_NODATA
        reason[self.inside_cells <= _EPS_WEIGHT] = REASON_OUTSIDE
        reason[~(self.area_cells > 0)] = REASON_EMPTY
        if min_covered_frac > 0:
            low = (den > 0) & (covered < min_covered_frac)
            reason[low] = REASON_LOW_COVER + f" ({min_covered_frac:g})"
        mean = np.where(pd.isna(reason), mean, np.nan)
        if energy:
            with np.errstate(all="ignore"):
                mean = 10.0 * np.log10(mean)
        return pd.DataFrame(
            {"mean": mean, "covered_frac": covered, "valid_cells": den, "reason": reason},
            index=self.index,
        )

    def mean(self, raster, **kwargs) -> pd.Series:
        """Coverage-weighted mean per ward (NaN where :meth:`stats` gives a reason)."""
        return self.stats(raster, **kwargs)["mean"]

    def mean_db(self, raster, **kwargs) -> pd.Series:
        """Coverage-weighted energy mean of a dB raster per ward: 10*log10(Σw·10^(L/10)/Σw)."""
        return self.stats(raster, energy=True, **kwargs)["mean"]


def _db_to_energy(a: np.ndarray) -> np.ndarray:
    return np.power(10.0, np.asarray(a, dtype=np.float64) / 10.0)


def _finite(a: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.floating):
        return np.isfinite(a)
    return np.ones(a.shape, dtype=bool)


def coverage_weights(wards, grid: GridSpec | str | os.PathLike, *, assume_crs=None) -> CoverageWeights:
    """Exact coverage fractions of ``wards`` on ``grid`` (built once, reused for every raster).

    Parameters
    ----------
    wards
        ``GeoDataFrame``/``GeoSeries`` of (Multi)Polygons (holes allowed), in the grid's CRS; the
        index is kept. Other sequences of shapely geometries get a ``RangeIndex``.
    grid
        A :class:`GridSpec` or a raster path (its grid is read).
    assume_crs
        CRS for a raster path without one (Esri ASCII grid).

    Raises
    ------
    InputDataError
        Invalid or non-polygonal geometries (all listed at once).
    CRSError
        Wards and grid have different CRSs.
    """
    if not isinstance(grid, GridSpec):
        grid = GridSpec.from_raster(grid, assume_crs=assume_crs)
    geoms, index, crs = _as_geoms(wards)
    if grid.crs is None and crs is not None:
        raise CRSError(
            "coverage_weights: the raster grid has no CRS (an Esri ASCII grid without .prj?) while "
            f"the polygons are in {crs}. Pass assume_crs= (set `crs:` for that input in the config) "
            "or prepare the raster with healthgeo.rasters.prepare_raster."
        )
    _check_crs(crs, grid.crs, "coverage_weights")
    missing = pd.isna(geoms) | shapely.is_empty(geoms)
    geoms = np.where(missing, shapely.Polygon(), geoms)
    types = shapely.get_type_id(geoms)
    problems = []
    bad_type = ~np.isin(types, [3, 6]) & ~missing
    for i in np.nonzero(bad_type)[0][:20]:
        problems.append(f"{index[i]}: {shapely.get_type_id(geoms[i])} is not a (Multi)Polygon")
    invalid = ~shapely.is_valid(geoms) & ~missing
    for i in np.nonzero(invalid)[0][:20]:
        problems.append(f"{index[i]}: invalid geometry ({shapely.is_valid_reason(geoms[i])})")
    if problems:
        n = int(bad_type.sum() + invalid.sum())
        raise InputDataError(
            f"coverage_weights: {n} geometries cannot be used: " + "; ".join(problems)
            + ". Repair them first (shapely.make_valid, then keep the polygon parts; "
            "healthgeo.wards does this on reading)."
        )
    geoms = shapely.orient_polygons(geoms)
    area = shapely.area(geoms) / grid.cell_area
    # batch by the expected number of edge pieces to bound memory
    cell = min(abs(grid.transform.a), abs(grid.transform.e))
    est = shapely.get_num_coordinates(geoms) * 2 + 2.0 * shapely.length(geoms) / cell
    parts = []
    start = 0
    n = len(geoms)
    cum = np.cumsum(est)
    while start < n:
        stop = int(np.searchsorted(cum, (cum[start - 1] if start else 0) + _PIECES_PER_BATCH,
                                   side="right"))
        stop = max(stop, start + 1)
        g, r, c0, c1, w = _runs_for_batch(geoms[start:stop], grid)
        # orientation sign (rows grow downwards): make every ward's weights positive
        signed = np.bincount(g, weights=w * (c1 - c0), minlength=stop - start)
        w = w * np.where(signed < 0, -1.0, 1.0)[g]
        keep = w > _EPS_WEIGHT
        parts.append([(g[keep] + start).astype(np.int32), r[keep].astype(np.int32),
                      c0[keep].astype(np.int32), c1[keep].astype(np.int32), w[keep]])
        start = stop
        del g, r, c0, c1, w, keep
    if not parts:
        parts = [[np.zeros(0, np.int32)] * 4 + [np.zeros(0)]]
    fields = []
    for k in range(5):  # concatenate field by field, freeing the parts as we go (bounded memory)
        fields.append(np.concatenate([p[k] for p in parts]))
        for p in parts:
            p[k] = None
    del parts
    order = np.argsort(fields[1], kind="stable")  # by row, for streaming
    for k in range(5):
        fields[k] = fields[k][order]
    del order
    cw = CoverageWeights(index, grid, area, *fields, presorted=True)
    del fields
    log.debug("coverage weights: %s", cw)
    return cw


def zonal_mean(wards, raster, *, energy: bool = False, assume_crs=None, **kwargs) -> pd.DataFrame:
    """One-off :meth:`CoverageWeights.stats` of one raster (builds the weights for its grid)."""
    grid = GridSpec.from_raster(raster, assume_crs=assume_crs)
    return coverage_weights(wards, grid).stats(raster, energy=energy, assume_crs=assume_crs, **kwargs)


# --------------------------------------------------------------------------------------------
# point sampling
# --------------------------------------------------------------------------------------------


def _xy(points) -> np.ndarray:
    import geopandas as gpd

    if isinstance(points, gpd.GeoDataFrame):
        points = points.geometry
    if isinstance(points, gpd.GeoSeries):
        return shapely.get_coordinates(points.values)[:, :2] if len(points) else np.zeros((0, 2))
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError("points must be a GeoSeries/GeoDataFrame of points or an (n, 2) array")
    return arr[:, :2]


def sample_points(raster, points, *, block_rows: int = 1024, assume_crs=None,
                  nodata: float | None = None) -> np.ndarray:
    """Value of the cell under each point; NaN for nodata cells and points outside the raster.

    ``points`` is a GeoSeries/GeoDataFrame of Points (in the raster's CRS) or an ``(n, 2)``
    array of x, y. Reads only the row blocks that hold points. A point on a cell edge belongs
    to the cell right/below of it (``floor``), as ``rasterio.index`` does.
    """
    import geopandas as gpd
    from rasterio.windows import Window

    if isinstance(points, (gpd.GeoDataFrame, gpd.GeoSeries)) and len(points):
        gt = shapely.get_type_id(np.asarray(points.geometry.values if isinstance(points, gpd.GeoDataFrame)
                                            else points.values, dtype=object))
        if np.any(gt != 0):
            raise InputDataError("sample_points: all geometries must be Points (use "
                                 "`.representative_point()` for polygons).")
    xy = _xy(points)
    if isinstance(raster, (str, os.PathLike)):
        from .rasters import open_raster

        with open_raster(raster, "sample_points") as ds:
            if isinstance(points, (gpd.GeoDataFrame, gpd.GeoSeries)):
                _check_crs(points.crs, ds.crs or assume_crs, f"sample_points({raster})")
            return sample_points(ds, xy, block_rows=block_rows, assume_crs=assume_crs, nodata=nodata)
    ds = raster
    out = np.full(len(xy), np.nan)
    if len(xy) == 0:
        return out
    t = ds.transform
    if t.b != 0 or t.d != 0:
        raise InputDataError("sample_points: rotated rasters are not supported; warp first.")
    with np.errstate(invalid="ignore"):
        col = np.floor((xy[:, 0] - t.c) / t.a)
        row = np.floor((xy[:, 1] - t.f) / t.e)
    inside = (col >= 0) & (col < ds.width) & (row >= 0) & (row < ds.height)
    idx = np.nonzero(inside)[0]
    if len(idx) == 0:
        return out
    row_i = row[idx].astype(np.int64)
    col_i = col[idx].astype(np.int64)
    order = np.argsort(row_i, kind="stable")
    idx, row_i, col_i = idx[order], row_i[order], col_i[order]
    nd = ds.nodata if nodata is None else nodata
    r_lo = int(row_i[0])
    while r_lo <= row_i[-1]:
        lo = np.searchsorted(row_i, r_lo)
        hi = np.searchsorted(row_i, r_lo + block_rows)
        if hi > lo:
            c_lo, c_hi = int(col_i[lo:hi].min()), int(col_i[lo:hi].max()) + 1
            r_hi = int(row_i[hi - 1]) + 1
            r_start = int(row_i[lo])
            vals = ds.read(1, window=Window(c_lo, r_start, c_hi - c_lo, r_hi - r_start),
                           out_dtype="float64")
            v = vals[row_i[lo:hi] - r_start, col_i[lo:hi] - c_lo]
            if nd is not None and not (isinstance(nd, float) and math.isnan(nd)):
                v = np.where(v == nd, np.nan, v)
            out[idx[lo:hi]] = v
        r_lo = int(row_i[hi]) if hi < len(row_i) else int(row_i[-1]) + 1
    return out
