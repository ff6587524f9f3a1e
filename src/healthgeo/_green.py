"""One definition of a public green area, shared by :mod:`healthgeo.exposure` (straight-line
access) and :mod:`healthgeo.network` (walking distance), so both count the same parks.

Rule: polygons whose ``public`` is true (NaN/NA = not public) are unioned, so touching or
overlapping public polygons form one area; an area's size is the geometry area of that union
(the ``area_m2`` column is not used: it is the area of a single row, and rows added later, e.g.
by a ``new_park`` scenario, may lack it). Size thresholds (1 ha "park", WHO Europe 2017) are
applied by the caller to :func:`public_green_parts`' areas. See docs/methods.md#green-space.
"""

from __future__ import annotations

import numpy as np
import shapely

from ._errors import SchemaDriftError

__all__ = ["union_parts", "public_green_parts"]


def union_parts(geoms) -> np.ndarray:
    """(Multi)Polygon parts of the union of ``geoms`` (missing/empty geometries skipped)."""
    geoms = np.asarray([g for g in geoms if g is not None and not g.is_empty], dtype=object)
    if len(geoms) == 0:
        return np.zeros(0, dtype=object)
    geoms = shapely.make_valid(geoms)
    u = shapely.union_all(geoms)
    parts = shapely.get_parts(u)
    return parts[np.isin(shapely.get_type_id(parts), [3, 6])]


def public_green_parts(green) -> np.ndarray:
    """Public green areas: the union of the polygons with ``public`` true, split into parts.

    Raises :class:`~healthgeo._errors.SchemaDriftError` when ``green`` has no ``public`` column
    (treating everything as public would count private gardens as parks).
    """
    if "public" not in green.columns:
        raise SchemaDriftError("green", ["kind", "public", "area_m2"], list(green.columns),
                               hint="Green polygons need a boolean `public` column (docs/design.md).")
    public = green[green["public"].fillna(False).astype(bool).to_numpy()]
    return union_parts(public.geometry.values) if len(public) else np.zeros(0, dtype=object)
