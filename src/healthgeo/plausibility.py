"""Plausible value ranges per quantity and unit, checked on every input before any work.

A grid in ng/m³ instead of µg/m³, a noise map in tenths of dB or a table with an unmasked
sentinel runs through every formula without an error and publishes nonsense. Each raster and
table input is therefore checked against the documented range of its quantity (the table
:data:`RANGES`; docs/methods.md#input-checks) right after it is read. A value
outside fails with one line naming the file, the range found and the likely cause.

Where monitoring sites measure the same pollutant, :func:`check_grid_vs_monitoring` compares
the grid with the measurements and fails when they disagree by more than a configurable factor.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._errors import InputDataError

log = logging.getLogger(__name__)

__all__ = ["PlausibleRange", "RANGES", "check_values", "check_columns", "check_grid_vs_monitoring",
           "DEFAULT_MONITORING_FACTOR"]


@dataclass(frozen=True)
class PlausibleRange:
    """The values a quantity can take in the Netherlands, in the unit healthgeo expects.

    ``low``/``high`` bound every value; ``min_max``, when set, is the least plausible *largest*
    value of a whole input (an NO2 grid whose maximum is 0.03 is in mg/m³, not µg/m³).
    """

    what: str
    unit: str
    low: float
    high: float
    min_max: float | None = None

    def describe(self) -> str:
        return f"{self.low:g}..{self.high:g} {self.unit}"


#: quantity -> plausible range. Air: annual means (the highest Dutch street-level NO2 annual
#: means are ~60 µg/m³, PM10 ~40, PM2.5 ~25; the bounds leave room for hot spots and other
#: years). Noise: Lden/Lnight of the RIVM maps (0..~85 dB). Health and shares: percentages.
RANGES: dict[str, PlausibleRange] = {
    "no2": PlausibleRange("NO2 annual mean", "ug/m3", 0.0, 150.0, min_max=1.0),
    "pm25": PlausibleRange("PM2.5 annual mean", "ug/m3", 0.0, 80.0, min_max=1.0),
    "pm10": PlausibleRange("PM10 annual mean", "ug/m3", 0.0, 120.0, min_max=1.0),
    "noise_lden": PlausibleRange("Lden", "dB", 0.0, 120.0, min_max=20.0),
    "noise_lnight": PlausibleRange("Lnight", "dB", 0.0, 120.0, min_max=10.0),
    "temperature": PlausibleRange("air temperature", "degC", -40.0, 50.0),
    # felt temperature (PET) on a hot afternoon: Dutch heat maps reach ~50-55 degC in full sun
    "heat": PlausibleRange("felt temperature (PET)", "degC", -30.0, 60.0),
    "ndvi": PlausibleRange("NDVI", "ratio", -1.0, 1.0),
    "pct": PlausibleRange("percentage", "%", 0.0, 100.0),
    "count": PlausibleRange("count", "persons/households", 0.0, 20_000_000.0),
    "income_keur": PlausibleRange("mean income per resident", "1000 EUR", 0.0, 1000.0),
    "area_ha": PlausibleRange("area", "ha", 0.0, 300_000.0),
}
#: Raster inputs (config ``inputs``) and the quantity of their values.
RASTER_QUANTITY = {"no2": "no2", "pm25": "pm25", "pm10": "pm10", "noise_lden": "noise_lden",
                   "noise_lnight": "noise_lnight", "ndvi": "ndvi", "temperature": "temperature",
                   "heat": "heat"}
#: Default of ``air_monitoring.max_grid_factor``: the median ratio of grid to measured annual
#: means must lie within [1/factor, factor].
DEFAULT_MONITORING_FACTOR = 3.0


def _likely_cause(rng: PlausibleRange, lo: float, hi: float) -> str:
    """A guess at the unit mix-up behind values ``lo``..``hi`` outside ``rng``."""
    if rng.unit == "ug/m3":
        if hi > rng.high and rng.min_max <= hi / 1000 <= rng.high:
            return "looks like ng/m3 (1000 x too large); convert to ug/m3"
        if rng.min_max is not None and hi < rng.min_max:
            return "looks like mg/m3 (1000 x too small); convert to ug/m3"
        if lo < rng.low:
            return "negative concentrations: an unmasked nodata value? set `nodata:` for this input"
    if rng.unit == "dB":
        if hi > rng.high and hi / 10 <= rng.high:
            return "looks like tenths of dB; divide by 10"
        if rng.min_max is not None and hi < rng.min_max:
            return "too quiet for a noise map: a class map or a fraction? give Lden/Lnight in dB"
        if lo < rng.low:
            return "negative levels: an unmasked nodata value? set `nodata:` for this input"
    if rng.unit == "degC" and 200 < lo and hi < 340:
        return "looks like kelvin; subtract 273.15"
    if rng.unit == "degC" and lo > rng.high and hi / 10 <= rng.high:
        return "looks like tenths of a degree; divide by 10"
    if rng.unit == "%" and hi > rng.high:
        return "not a percentage (a count, or per mille?)"
    if lo <= -9999:
        return "an unmasked sentinel (e.g. CBS -99997 or nodata -9999)?"
    if lo < rng.low:
        return "negative values: an unmasked sentinel or a sign error?"
    return "check the unit of this input"


def check_values(values, quantity: str, *, source: str, what: str | None = None) -> tuple[float, float] | None:
    """Raise :class:`InputDataError` when finite ``values`` leave the range of ``quantity``.

    Parameters
    ----------
    values
        Array-like of numbers (NaN ignored).
    quantity
        Key of :data:`RANGES` (``no2``, ``noise_lden``, ``pct``, ``count``, ...).
    source
        File or input named in the message.
    what
        Column or layer named in the message (default the quantity's description).

    Returns
    -------
    ``(min, max)`` of the finite values, or None when there are none.
    """
    rng = RANGES[quantity]
    arr = np.asarray(values, dtype=float).ravel()
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return None
    lo, hi = float(arr.min()), float(arr.max())
    too_small_max = rng.min_max is not None and hi < rng.min_max
    if lo < rng.low or hi > rng.high or too_small_max:
        n_out = int(((arr < rng.low) | (arr > rng.high)).sum()) if not too_small_max else arr.size
        label = what or rng.what
        raise InputDataError(
            f"{source}: {label} values range {lo:.4g} .. {hi:.4g}, outside the plausible {rng.describe()} "
            f"({n_out} of {arr.size} values) - {_likely_cause(rng, lo, hi)}. Fix the file or its unit "
            "(plausible ranges: docs/methods.md#input-checks).")
    return lo, hi


def check_columns(frame: pd.DataFrame, quantities: Mapping[str, str], *, source: str) -> None:
    """:func:`check_values` for each ``column -> quantity`` present in ``frame``; all problems at once."""
    problems = []
    for col, quantity in quantities.items():
        if col not in frame.columns:
            continue
        try:
            check_values(pd.to_numeric(frame[col], errors="coerce"), quantity, source=source, what=col)
        except InputDataError as e:
            problems.append(str(e).removeprefix(f"{source}: "))
    if problems:
        raise InputDataError(f"{source}: " + "; ".join(problems))


def check_grid_vs_monitoring(table: pd.DataFrame, *, factor: float = DEFAULT_MONITORING_FACTOR,
                             source: str = "grid", measured: str = "measured_ugm3",
                             grid: str = "grid_ugm3") -> float | None:
    """Fail when a grid disagrees with the monitoring sites by more than ``factor``.

    The statistic is the median over sites of grid / measured annual mean (sites without a grid
    value or with a measured mean <= 0 are left out). Returns the median ratio (None without
    usable sites).
    """
    if table is None or len(table) == 0 or measured not in table or grid not in table:
        return None
    m = pd.to_numeric(table[measured], errors="coerce").to_numpy(float)
    g = pd.to_numeric(table[grid], errors="coerce").to_numpy(float)
    ok = np.isfinite(m) & np.isfinite(g) & (m > 0)
    if not ok.any():
        return None
    ratio = float(np.median(g[ok] / m[ok]))
    log.info("%s: median grid / measured ratio %.3g over %d site(s)", source, ratio, int(ok.sum()))
    if not (1.0 / factor <= ratio <= factor):
        cause = ("the grid looks like ng/m3 (1000 x too large)" if 300 <= ratio <= 3000 else
                 "the grid looks like mg/m3 (1000 x too small)" if 1 / 3000 <= ratio <= 1 / 300 else
                 "a grid of another pollutant, year or unit?")
        raise InputDataError(
            f"{source}: the grid disagrees with {int(ok.sum())} monitoring site(s) by a factor {ratio:.4g} "
            f"(median grid {float(np.median(g[ok])):.4g} vs measured {float(np.median(m[ok])):.4g} ug/m3; "
            f"allowed 1/{factor:g}..{factor:g}) - {cause}. Fix the grid, or raise "
            "`air_monitoring.max_grid_factor` if the disagreement is real.")
    return ratio
