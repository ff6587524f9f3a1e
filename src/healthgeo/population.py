"""Where residents live: weighted points for population-weighted exposure.

Three sources, best first (contract "residents" in ``docs/design.md``):

* ``bag``  - BAG verblijfsobjecten with a *woonfunctie*: the buurt's residents are spread equally
  over its dwellings (:func:`residents_from_dwellings`);
* ``grid`` - the CBS 100 m population grid, split over buurten by area share and rescaled to the
  buurt totals (:func:`residents_from_grid`);
* ``area`` - one point per buurt at its representative point (:func:`residents_from_area`), the
  stated fallback for buurten with residents but no dwellings/grid population.

Every point carries ``source`` so the exposure functions can report ``popw_method`` per ward; a
fallback is never silent (it is logged and listed in ``result.attrs["warnings"]``).
See docs/methods.md#residents-points.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely

from ._errors import InputDataError, SchemaDriftError
from ._vocab import mask_sentinels
from .plausibility import check_values

log = logging.getLogger(__name__)

__all__ = ["residents_from_dwellings", "residents_from_grid", "residents_from_area", "RESIDENT_COLUMNS"]

#: Columns of every residents GeoDataFrame (plus ``geometry``). Grid-based points also carry
#: ``cell_x``, ``cell_y``, ``cell_size_m`` (centre and size of their population cell).
RESIDENT_COLUMNS = ["residents", "residents_65_plus", "residents_0_14", "residents_15_24", "residents_25_44",
                    "residents_45_64", "buurtcode", "wijkcode", "source"]
#: CBS age bands besides 65+ and 0-14 carried by each point (age-specific baselines, healthgeo.impact)
_MID_BANDS = ("15_24", "25_44", "45_64")


def _buurt_frame(buurten):
    """Check buurten and return (buurten, code index name)."""
    import geopandas as gpd

    if not isinstance(buurten, gpd.GeoDataFrame):
        raise InputDataError("buurten must be a GeoDataFrame indexed by buurtcode")
    if "residents" not in buurten.columns:
        raise SchemaDriftError("buurten", ["residents"], list(buurten.columns),
                               hint="Standardise the wards with healthgeo.wards first.")
    return buurten


def _col(frame, name):
    return frame[name] if name in frame.columns else pd.Series(np.nan, index=frame.index)


def _finish(points, crs, warnings):
    import geopandas as gpd

    cols = RESIDENT_COLUMNS + [c for c in ("cell_x", "cell_y", "cell_size_m") if c in points]
    gdf = gpd.GeoDataFrame(points[cols], geometry=points["geometry"].values, crs=crs)
    gdf = gdf.reset_index(drop=True)
    gdf.attrs["warnings"] = list(warnings)
    return gdf


def residents_from_area(buurten, *, codes=None):
    """One point per buurt (its representative point) carrying the buurt's residents.

    ``codes`` restricts to some buurten. ``source`` is ``"area"``: every resident of the buurt
    gets the exposure at that single point - a coarse fallback, reported as ``popw_method``.
    """

    buurten = _buurt_frame(buurten)
    b = buurten if codes is None else buurten.loc[list(codes)]
    res = pd.to_numeric(b["residents"], errors="coerce")
    b = b[res > 0]
    res = res[res > 0]
    pts = pd.DataFrame(
        {
            "residents": res.astype(float).values,
            "residents_65_plus": pd.to_numeric(_col(b, "age_65_plus"), errors="coerce").values,
            "residents_0_14": pd.to_numeric(_col(b, "age_0_14"), errors="coerce").values,
            **{f"residents_{k}": pd.to_numeric(_col(b, f"age_{k}"), errors="coerce").values for k in _MID_BANDS},
            "buurtcode": b.index.astype(str),
            "wijkcode": _col(b, "wijkcode").values,
            "source": "area",
            "geometry": b.geometry.representative_point().values,
        }
    )
    return _finish(pts, buurten.crs, [])


def _assign_to_buurt(points, buurten):
    """Index position of the buurt each point lies in (-1 when none); first match on ties."""
    tree = shapely.STRtree(buurten.geometry.values)
    pi, bi = tree.query(points, predicate="intersects")
    out = np.full(len(points), -1, dtype=np.int64)
    # first match per point (points on a shared edge go to the first buurt)
    first = np.unique(pi, return_index=True)[1]
    out[pi[first]] = bi[first]
    return out


def residents_from_dwellings(dwellings, buurten):
    """Residents spread equally over each buurt's dwellings (BAG verblijfsobjecten).

    Parameters
    ----------
    dwellings
        Points with ``gebruiksdoel`` (BAG: comma-separated uses; kept when it contains
        ``woonfunctie``), in the CRS of ``buurten``.
    buurten
        Buurt wards indexed by ``buurtcode`` with ``residents`` (and optionally ``age_65_plus``,
        ``age_0_14``, ``wijkcode``).

    Returns
    -------
    GeoDataFrame of points with :data:`RESIDENT_COLUMNS`; ``source`` is ``"bag"``, or ``"area"``
    for buurten with residents but no dwellings (logged; listed in ``.attrs["warnings"]``).
    """
    buurten = _buurt_frame(buurten)
    if "gebruiksdoel" not in dwellings.columns:
        raise SchemaDriftError("BAG verblijfsobjecten", ["gebruiksdoel"], list(dwellings.columns))
    if dwellings.crs is not None and buurten.crs is not None and not dwellings.crs.equals(buurten.crs):
        dwellings = dwellings.to_crs(buurten.crs)
        log.info("dwellings reprojected to %s", buurten.crs)
    doel = dwellings["gebruiksdoel"].astype("string").str.lower()
    woon = dwellings[doel.str.contains("woonfunctie", na=False).to_numpy()]
    log.info("%d of %d verblijfsobjecten have a woonfunctie", len(woon), len(dwellings))
    geoms = np.asarray(woon.geometry.values, dtype=object)
    if len(geoms) and np.any(shapely.get_type_id(geoms) != 0):
        geoms = shapely.centroid(geoms)  # BAG panden/verblijfsobject polygons -> points
    pos = _assign_to_buurt(geoms, buurten)
    inside = pos >= 0
    if (~inside).any():
        log.info("%d dwellings lie outside every buurt and are dropped", int((~inside).sum()))
    geoms, pos = geoms[inside], pos[inside]
    n_per = np.bincount(pos, minlength=len(buurten))
    res = pd.to_numeric(buurten["residents"], errors="coerce").to_numpy(dtype=float)
    a65 = pd.to_numeric(_col(buurten, "age_65_plus"), errors="coerce").to_numpy(dtype=float)
    a014 = pd.to_numeric(_col(buurten, "age_0_14"), errors="coerce").to_numpy(dtype=float)
    with np.errstate(all="ignore"):
        share = 1.0 / n_per[pos]
    pts = pd.DataFrame(
        {
            "residents": res[pos] * share,
            "residents_65_plus": a65[pos] * share,
            "residents_0_14": a014[pos] * share,
            **{f"residents_{k}": pd.to_numeric(_col(buurten, f"age_{k}"), errors="coerce").to_numpy(dtype=float)[pos]
               * share for k in _MID_BANDS},
            "buurtcode": buurten.index.astype(str)[pos],
            "wijkcode": _col(buurten, "wijkcode").to_numpy()[pos],
            "source": "bag",
            "geometry": geoms,
        }
    )
    warnings = []
    nan_res = np.isnan(res) & (n_per > 0)
    if nan_res.any():
        msg = (f"{int(nan_res.sum())} buurten have dwellings but no residents count; their "
               f"dwellings get NaN weight: {list(buurten.index[nan_res][:10])}")
        log.warning(msg)
        warnings.append(msg)
    missing = (res > 0) & (n_per == 0)
    if missing.any():
        codes = list(buurten.index[missing])
        msg = (f"{len(codes)} buurten have residents but no BAG dwelling; using one point at the "
               f"buurt's representative point (source 'area'): {codes[:20]}"
               + (" ..." if len(codes) > 20 else ""))
        log.warning(msg)
        warnings.append(msg)
        area = residents_from_area(buurten, codes=codes)
        pts = pd.concat([pts, pd.DataFrame(area).assign(geometry=area.geometry.values)],
                        ignore_index=True)
    return _finish(pts, buurten.crs, warnings)


def residents_from_grid(grid, buurten, *, count_column: str = "aantal_inwoners",
                        cell_size_m: float = 100.0, rescale: bool = True):
    """Residents from the CBS 100 m population grid, split over buurten by area share.

    Parameters
    ----------
    grid
        CBS ``vk100`` cells: polygons (or cell-centre points, squared with ``cell_size_m``) with
        ``count_column``. CBS secrecy codes (-99997 "geheim", -99998 ...) become 0 (logged with
        their count); any other negative count is refused as implausible.
    buurten
        Buurt wards indexed by ``buurtcode`` with ``residents``.
    count_column
        Column holding the residents per cell.
    rescale
        Rescale each buurt's points to the buurt's ``residents`` total when that is known
        (the grid is rounded and suppressed; the buurt count is the reference).

    Returns
    -------
    GeoDataFrame of points (representative point of each cell ∩ buurt piece), ``source``
    ``"grid"`` and the population cell in ``cell_x``, ``cell_y``, ``cell_size_m`` (the exposure
    functions average rasters over that cell). Buurten with residents but no grid population get
    an ``"area"`` point (warning).
    """
    buurten = _buurt_frame(buurten)
    if count_column not in grid.columns:
        raise SchemaDriftError("CBS 100 m grid", [count_column], list(grid.columns),
                               hint="Pass count_column= for the grid's residents column.")
    if grid.crs is not None and buurten.crs is not None and not grid.crs.equals(buurten.crs):
        grid = grid.to_crs(buurten.crs)
        log.info("population grid reprojected to %s", buurten.crs)
    counts, n_secret = mask_sentinels(grid[count_column])
    counts = counts.to_numpy(dtype=float)
    check_values(counts, "count", source="CBS 100 m grid", what=count_column)
    if n_secret:
        raw = pd.to_numeric(grid[count_column], errors="coerce").to_numpy(dtype=float)
        codes = sorted({int(v) for v in raw[np.isnan(counts) & ~np.isnan(raw)]})
        log.info("CBS grid: %d cells with secrecy codes %s set to 0 residents", n_secret, codes)
    counts = np.where(np.isnan(counts), 0.0, counts)
    cells = np.asarray(grid.geometry.values, dtype=object)
    if len(cells) and np.all(shapely.get_type_id(cells) == 0):
        h = cell_size_m / 2
        x, y = shapely.get_x(cells), shapely.get_y(cells)
        cells = shapely.box(x - h, y - h, x + h, y + h)
    keep = counts > 0
    cells, counts = cells[keep], counts[keep]
    cx0, cy0, cx1, cy1 = shapely.bounds(cells).T if len(cells) else (np.zeros(0),) * 4
    size = np.sqrt(shapely.area(cells))
    # split each cell over the buurten it overlaps, by area share
    tree = shapely.STRtree(buurten.geometry.values)
    ci, bi = tree.query(cells, predicate="intersects")
    pieces = shapely.intersection(cells[ci], buurten.geometry.values[bi])
    share = shapely.area(pieces) / shapely.area(cells[ci])
    ok = share > 1e-9
    ci, bi, pieces, share = ci[ok], bi[ok], pieces[ok], share[ok]
    w = counts[ci] * share
    n_b = len(buurten)
    grid_sum = np.bincount(bi, weights=w, minlength=n_b)
    res = pd.to_numeric(buurten["residents"], errors="coerce").to_numpy(dtype=float)
    if rescale:
        with np.errstate(all="ignore"):
            factor = np.where((res >= 0) & (grid_sum > 0), res / grid_sum, 1.0)
        w = w * factor[bi]
        log.info("grid residents rescaled to buurt totals (factor median %.3f)",
                 float(np.median(factor[grid_sum > 0])) if (grid_sum > 0).any() else float("nan"))
    total = np.bincount(bi, weights=w, minlength=n_b)
    a65 = pd.to_numeric(_col(buurten, "age_65_plus"), errors="coerce").to_numpy(dtype=float)
    a014 = pd.to_numeric(_col(buurten, "age_0_14"), errors="coerce").to_numpy(dtype=float)
    with np.errstate(all="ignore"):
        f65 = np.where(res > 0, a65 / res, np.nan)
        f014 = np.where(res > 0, a014 / res, np.nan)
    pts = pd.DataFrame(
        {
            "residents": w,
            "residents_65_plus": w * f65[bi],
            "residents_0_14": w * f014[bi],
            **{f"residents_{k}": w * np.where(res > 0, pd.to_numeric(_col(buurten, f"age_{k}"), errors="coerce")
                                              .to_numpy(dtype=float) / np.where(res > 0, res, 1.0), np.nan)[bi]
               for k in _MID_BANDS},
            "buurtcode": buurten.index.astype(str)[bi],
            "wijkcode": _col(buurten, "wijkcode").to_numpy()[bi],
            "source": "grid",
            "geometry": shapely.point_on_surface(pieces),
            "cell_x": ((cx0 + cx1) / 2)[ci],
            "cell_y": ((cy0 + cy1) / 2)[ci],
            "cell_size_m": size[ci],
        }
    )
    warnings = []
    missing = (res > 0) & (total <= 0)
    if missing.any():
        codes = list(buurten.index[missing])
        msg = (f"{len(codes)} buurten have residents but no population-grid residents (secrecy or "
               f"outside the grid); using one point at the buurt's representative point "
               f"(source 'area'): {codes[:20]}" + (" ..." if len(codes) > 20 else ""))
        log.warning(msg)
        warnings.append(msg)
        area = residents_from_area(buurten, codes=codes)
        pts = pd.concat([pts, pd.DataFrame(area).assign(geometry=area.geometry.values)], ignore_index=True)
    return _finish(pts, buurten.crs, warnings)
