"""The vocabulary every module shares: CRS, ward levels and CBS codes, sentinels, polygon repair.

This is the bottom layer of the package: it imports nothing from healthgeo but
:mod:`healthgeo._errors`, and everything else imports its names from here instead of retyping them.

CBS codes nest: buurt ``BU03440112`` (``BU`` + 4-digit municipality + 2-digit wijk + 2-digit
buurt) lies in wijk ``WK034401`` in gemeente ``GM0344``. Sentinel conventions of the providers
are listed in docs/methods.md#input-checks.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from shapely.geometry import MultiPolygon

from ._errors import InputDataError

# --------------------------------------------------------------------------- CRS
#: The working CRS: RD New (Amersfoort / RD New), metres.
TARGET_CRS = "EPSG:28992"
#: RD New as an OGC URI (``crs=`` / ``bbox-crs=`` of OGC API Features).
CRS_28992_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
#: RD New as an OGC URN (the ``crs`` member of a GeoJSON file).
CRS_28992_URN = "urn:ogc:def:crs:EPSG::28992"
#: WGS 84 longitude/latitude.
WGS84 = "EPSG:4326"
#: Extent of RD New over the Netherlands incl. a margin, metres (EPSG area of use
#: x -7 000..300 000, y 289 000..629 000, widened by ~10-20 km).
RD_NEW_BOUNDS = (-10_000.0, 266_000.0, 320_000.0, 647_000.0)

# --------------------------------------------------------------------------- levels and codes
#: Ward levels, finest first.
LEVELS = ("buurt", "wijk", "gemeente")
#: Level -> name of its code column (the index name of a ward layer).
CODE_COLUMN = {"buurt": "buurtcode", "wijk": "wijkcode", "gemeente": "gemeentecode"}
#: Code column -> level.
LEVEL_OF_COLUMN = {v: k for k, v in CODE_COLUMN.items()}
#: Level -> two-letter prefix of its CBS codes.
PREFIX = {"buurt": "BU", "wijk": "WK", "gemeente": "GM"}
#: Level -> length of a complete CBS code (prefix included).
CODE_WIDTH = {"buurt": 10, "wijk": 8, "gemeente": 6}
#: Level -> regular expression of a complete CBS code.
CODE_PATTERN = {"buurt": r"^BU\d{8}$", "wijk": r"^WK\d{6}$", "gemeente": r"^GM\d{4}$"}
#: Level -> plural (PDOK collection names).
PLURAL = {"buurt": "buurten", "wijk": "wijken", "gemeente": "gemeenten"}
_CODE_RE = {lv: re.compile(p) for lv, p in CODE_PATTERN.items()}
_LEVEL_OF_PREFIX = {"GM": "gemeente", "WK": "wijk", "BU": "buurt", "NL": "land"}
_LEVEL_WORDS = {"buurt": "buurt", "buurten": "buurt", "wijk": "wijk", "wijken": "wijk",
                "gemeente": "gemeente", "gemeenten": "gemeente"}


def level_name(level: str) -> str:
    """``"buurten"`` -> ``"buurt"`` (singular or plural, any case); InputDataError otherwise."""
    lv = _LEVEL_WORDS.get(str(level).strip().lower())
    if lv is None:
        raise InputDataError(f"level {level!r} is unknown: use 'buurt', 'wijk' or 'gemeente'.")
    return lv


def level_of(code) -> str | None:
    """Level of a CBS region code from its prefix (``"land"`` for ``NL01``); None if unknown."""
    return _LEVEL_OF_PREFIX.get(str(code).strip().upper()[:2])


def is_code(code, level: str) -> bool:
    """True when ``code`` is a complete CBS code of ``level`` (``BU03440112`` for buurt)."""
    return isinstance(code, str) and bool(_CODE_RE[level].match(code))


def strip_code(v):
    """CBS region codes come right-padded with spaces; strip them (keep NaN)."""
    return v.strip() if isinstance(v, str) else v


def parent_code(code: str, level: str) -> str:
    """CBS code of the ward containing ``code`` at ``level`` (``wijk`` or ``gemeente``)."""
    digits = code[2:]
    if level == "wijk":
        return "WK" + digits[:6]
    if level == "gemeente":
        return "GM" + digits[:4]
    raise ValueError(f"no parent level {level!r}; use 'wijk' or 'gemeente'")


def municipality_number(code: str) -> str:
    """``'GM0344'`` -> ``'0344'``; InputDataError for anything not ``GM`` + 4 digits."""
    code = str(code).strip().upper()
    if not re.fullmatch(r"GM\d{4}", code):
        raise InputDataError(f"municipality code {code!r} is not of the form GM0344 (GM + 4 digits).")
    return code[2:]


def code_prefix(level: str, municipality: str) -> str:
    """Prefix every code of ``level`` in ``municipality`` starts with: (``buurt``, GM0344) -> ``BU0344``."""
    return PREFIX[level] + municipality_number(municipality)


def apply_prefix(values: pd.Series, prefix: str, width: int) -> pd.Series:
    """Local codes to CBS codes: ``'0111'`` + prefix ``'BU0344'`` -> ``'BU03440111'``.

    Values already complete (``width`` long and starting with the prefix's two letters) are kept.
    """
    s = values.astype("string").str.strip()
    full = s.str.len() == width
    return s.where(full & s.str[:2].eq(prefix[:2]), prefix + s)


# --------------------------------------------------------------------------- sentinels
#: Text CBS and RIVM tables use for "no value": ``.`` not available, ``x`` secret, ``-`` nil /
#: not applicable, ``?`` unreliable, plus empty cells and spelled-out nulls.
MISSING_TEXT = (".", "", "x", "X", "-", "?", "NA", "nan", "NaN", "None", "null")
#: Numeric CBS secrecy / missing codes: -99995 .. -99999 (vk100 and KWB: -99997 secret, -99998
#: and -99995 "too few", ...) and -99999999 (PDOK wijk- en buurtkaart). Every value at or below
#: :data:`CBS_SENTINEL_MAX` is one of them: no real count, share or mean is that negative.
CBS_SENTINELS = (-99995.0, -99996.0, -99997.0, -99998.0, -99999.0, -99999999.0)
CBS_SENTINEL_MAX = -99990.0
#: Raster nodata sentinels of RIVM products: -999 (GCN Esri ASCII grids, ``-0.9990E+03``) and the
#: float32 minimum (-3.4e38, older Atlas Leefomgeving coverages).
RASTER_NODATA_SENTINELS = (-999.0, -3.4028234663852886e38)
#: The -999 sentinel of RIVM measurement series (Samen Meten pivots).
MEASUREMENT_SENTINEL = -999.0


def mask_sentinels(values, *, extra=(), negative: bool = False):
    """Numbers from a provider column with every known sentinel as NaN.

    The one function all readers use. Masks the missing-value text of :data:`MISSING_TEXT`, the
    CBS numeric codes (anything <= -99990, e.g. -99997 and -99999999), values in ``extra`` and,
    with ``negative=True``, every negative value (measurements that cannot be negative). A decimal
    comma is accepted. Text that is no number at all is left for the caller's plausibility check
    to report, so it is returned as NaN too.

    Parameters
    ----------
    values
        Series, array or scalar-like sequence (text or numbers).

    Returns
    -------
    ``(numbers, n_masked)``: float values (a Series aligned to ``values`` when given a Series,
    else an ndarray) and the number of cells masked as sentinels (not counting empty cells).
    """
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object).ravel())
    n_text = 0
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        num = s.astype(float)
    else:
        t = s.astype("string").str.strip()
        text_missing = t.isin(MISSING_TEXT)
        n_text = int((text_missing & t.ne("")).sum())
        t = t.mask(text_missing).str.replace(",", ".", regex=False)
        num = pd.to_numeric(t, errors="coerce").astype(float)
    arr = num.to_numpy(dtype=float, copy=True)
    with np.errstate(invalid="ignore"):
        bad = arr <= CBS_SENTINEL_MAX
        for e in extra:
            bad |= np.isclose(arr, float(e), rtol=1e-9, atol=0.0)
        if negative:
            bad |= arr < 0
    n = int(bad.sum()) + n_text
    arr[bad] = np.nan
    if isinstance(values, pd.Series):
        return pd.Series(arr, index=values.index, name=values.name), n
    return arr.reshape(np.shape(values)) if np.ndim(values) else arr, n


def to_number(values) -> pd.Series:
    """Numbers from a CBS/RIVM column, every sentinel NaN (:func:`mask_sentinels` without the count)."""
    return mask_sentinels(values if isinstance(values, pd.Series) else pd.Series(values))[0]


# --------------------------------------------------------------------------- polygon repair
def polygonal(geom):
    """Only the polygonal parts of ``geom`` (``make_valid`` may return GeometryCollections)."""
    if geom is None or geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    polys = [p for g in parts for p in (g.geoms if g.geom_type == "MultiPolygon" else [g])]
    return MultiPolygon(polys)


def repair_polygons(geoms):
    """``make_valid`` on a GeoSeries, keeping the polygonal parts (:func:`polygonal`)."""
    return geoms.make_valid().apply(polygonal)
