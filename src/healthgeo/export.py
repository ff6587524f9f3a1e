"""Export a run's ward layer for web maps and dashboards: WGS84 (EPSG:4326), rounded values.

``python -m healthgeo export RUN --format geojson|geoparquet|flatgeobuf [--columns ...]
[--level buurt]`` (also the ``healthgeo`` console command) reads
``data/processed/{RUN}/healthgeo.gpkg`` and writes ``data/processed/{RUN}/export/{level}.{ext}``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import InputDataError
from ._vocab import CODE_COLUMN
from .io import atomic_write

log = logging.getLogger(__name__)

FORMATS = {"geojson": ("GeoJSON", ".geojson"), "geoparquet": ("Parquet", ".parquet"),
           "flatgeobuf": ("FlatGeobuf", ".fgb")}
#: coordinates rounded to 6 decimals of a degree (~0.1 m)
COORD_DECIMALS = 6
#: values rounded to this many significant digits
SIGNIFICANT = 4


def round_significant(values: pd.Series, digits: int = SIGNIFICANT) -> pd.Series:
    """Round floats to ``digits`` significant digits (NaN stays NaN; integers untouched)."""
    if not pd.api.types.is_float_dtype(values):
        return values
    x = values.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where((x == 0) | ~np.isfinite(x), 0, np.floor(np.log10(np.abs(x))))
    dec = (digits - 1 - mag).astype(int)
    out = np.array([round(v, d) if np.isfinite(v) else v for v, d in zip(x, dec)])
    return pd.Series(out, index=values.index, name=values.name)


def gpkg_path(run: str, root: str | Path = "data/processed") -> Path:
    return Path(root) / run / "healthgeo.gpkg"


def export_layer(gpkg: str | Path, out: str | Path, *, fmt: str = "geojson", level: str = "buurt",
                 columns: Sequence[str] | None = None) -> Path:
    """Write one ward layer of a GeoPackage as WGS84 with rounded values; returns the path."""
    import geopandas as gpd
    import pyogrio
    from shapely import set_precision

    from .report import open_geopackage

    if fmt not in FORMATS:
        raise InputDataError(f"unknown export format {fmt!r}; use one of {sorted(FORMATS)}")
    con = open_geopackage(gpkg)  # one-line error for a missing or broken file
    con.close()
    if level not in CODE_COLUMN:
        raise InputDataError(f"unknown level {level!r}; use one of {list(CODE_COLUMN)}")
    if columns:
        info = pyogrio.read_info(gpkg, layer=level)
        unknown = sorted(set(columns) - set(info["fields"]))
        if unknown:
            raise InputDataError(f"{gpkg}: layer {level!r} has no column(s) {unknown}; see its data_dictionary")
        keep = list(dict.fromkeys([CODE_COLUMN[level], "name", *columns]))
        keep = [c for c in keep if c in info["fields"]]
        frame = gpd.read_file(gpkg, layer=level, columns=keep, engine="pyogrio")[[*keep, "geometry"]]
    else:
        frame = gpd.read_file(gpkg, layer=level, engine="pyogrio")
    frame = frame.to_crs("EPSG:4326")
    frame["geometry"] = set_precision(frame.geometry.values, 10 ** -COORD_DECIMALS)
    for c in frame.columns:
        if c != "geometry":
            frame[c] = round_significant(frame[c])
    driver, ext = FORMATS[fmt]
    out = Path(out)
    with atomic_write(out) as tmp:
        if fmt == "geoparquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_file(tmp, driver=driver, engine="pyogrio")
    log.info("wrote %s (%d wards, %d columns, EPSG:4326)", out, len(frame), frame.shape[1] - 1)
    return out


def default_output(run: str, level: str, fmt: str, root: str | Path = "data/processed") -> Path:
    return Path(root) / run / "export" / f"{level}{FORMATS[fmt][1]}"
