"""Map classes shared by the HTML report and the QGIS styles, so both show the same picture.

* Thresholds (``indicator_catalog.thresholds``, e.g. the WHO guideline and interim targets)
  make the class breaks where an indicator has them; otherwise quintiles of the values
  (as ``mapclassify.Quantiles``: :func:`quantile_bins`).
* Categories (LISA clusters, typology, flags) get one class per value.
* Palettes are ColorBrewer schemes marked colour-blind safe: YlOrRd for higher-is-worse (and
  reversed for higher-is-better, so worse is always darker red), YlGnBu when there is no
  direction, PuOr for scenario changes (diverging around zero).
* Two extra classes that are not values: *withheld* (disclosure control; hatched) and *no data*.

See docs/methods.md#report-classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

YLORRD = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026", "#800026"]
YLGNBU = ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"]
PUOR = ["#b35806", "#f1a340", "#fee0b6", "#f7f7f7", "#d8daeb", "#998ec3", "#542788"]
#: Okabe-Ito: qualitative and colour-blind safe
QUALITATIVE = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999", "#000000"]
LISA_COLOURS = {"HH": "#d7191c", "LL": "#2c7bb6", "HL": "#fdae61", "LH": "#abd9e9", "ns": "#eeeeee",
                "island": "#bbbbbb"}
NO_DATA_COLOUR = "#d9d9d9"
WITHHELD_COLOUR = "#9e9e9e"  # drawn hatched


@dataclass
class Classes:
    """Classes of one indicator: numeric (``breaks``: upper bounds of all but the last class)
    or categorical (``categories``)."""

    kind: str  # "threshold" | "quantile" | "category" | "diverging" | "empty"
    colours: list[str]
    labels: list[str]
    breaks: list[float] = field(default_factory=list)
    categories: list = field(default_factory=list)

    def index(self, value) -> int | None:
        """Class number of a value (None for NULL or an unknown category)."""
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            return None
        if self.kind == "category":
            try:
                return self.categories.index(value)
            except ValueError:
                return None
        return int(np.searchsorted(np.asarray(self.breaks, dtype=float), float(value), side="right"))

    def colour(self, value) -> str:
        i = self.index(value)
        return NO_DATA_COLOUR if i is None else self.colours[i]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}".replace(",", " ")
    if a >= 10:
        return f"{v:.1f}".rstrip("0").rstrip(".")
    if a >= 1:
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return f"{v:.3g}"


def _range_labels(breaks: list[float], scale: str = "") -> list[str]:
    if scale in ("fraction", "percent"):  # shown as percent, like the values
        f = 100 if scale == "fraction" else 1
        return [lab.replace(" – ", " % – ") + " %" for lab in _range_labels([f * b for b in breaks])]
    if not breaks:
        return ["all values"]
    labels = [f"< {_fmt(breaks[0])}"]
    labels += [f"{_fmt(a)} – < {_fmt(b)}" for a, b in zip(breaks[:-1], breaks[1:])]
    return labels + [f"≥ {_fmt(breaks[-1])}"]


def _ramp(n: int, higher_is_worse) -> list[str]:
    base = YLGNBU if higher_is_worse is None or pd.isna(higher_is_worse) else YLORRD
    idx = np.linspace(0, len(base) - 1, n).round().astype(int) if n > 1 else [len(base) // 2]
    colours = [base[i] for i in idx]
    if higher_is_worse is not None and not pd.isna(higher_is_worse) and not bool(higher_is_worse):
        colours = colours[::-1]
    return colours


def quantile_bins(x: np.ndarray, k: int = 5) -> np.ndarray:
    """Upper bounds of ``k`` quantile classes, as ``mapclassify.Quantiles(x, k).bins``.

    The same computation (percentiles 100/k, 200/k, ... 100 with linear interpolation, ties
    merged) without importing mapclassify, whose import (scipy.stats, matplotlib) costs seconds
    in every report and assemble job; ``tests/test_catalog.py`` checks the two agree.
    """
    pct = np.linspace(100 / k, 100, k)
    return np.unique(np.percentile(np.asarray(x, dtype=float), pct))


def classify(values, *, thresholds=(), scale: str = "", higher_is_worse=None, diverging: bool = False,
             k: int = 5) -> Classes:
    """Classes of an indicator's values.

    ``thresholds`` are catalog thresholds (dicts with ``value`` or ``(value, label, source)``
    tuples); ``scale`` ``category``/``flag``/``text`` (or non-numeric values) gives categories.
    """
    s = pd.Series(values)
    is_num = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if scale in ("category", "flag", "text") or not is_num:
        cats = sorted({v for v in s.dropna().tolist()}, key=lambda v: (str(type(v)), v))
        if cats and all(str(c) in LISA_COLOURS for c in cats):
            order = [c for c in LISA_COLOURS if c in {str(x) for x in cats}]
            return Classes("category", [LISA_COLOURS[c] for c in order], order, categories=order)
        return Classes("category", [QUALITATIVE[i % len(QUALITATIVE)] for i in range(len(cats))],
                       [str(c) for c in cats], categories=cats)
    x = pd.to_numeric(s, errors="coerce").dropna().to_numpy(dtype=float)
    if len(x) == 0:
        return Classes("empty", [], [])
    if thresholds:
        named = {}
        for t in thresholds:
            value, name = (t["value"], t.get("label", "")) if isinstance(t, dict) else (t[0], t[1] if len(t) > 1 else "")
            named.setdefault(float(value), str(name or ""))
        breaks = sorted(named)
        labels = _range_labels(breaks, scale)
        # a class starting at a reference value says which one (e.g. "10 – < 20 (WHO AQG 2021)")
        labels = [lab if k == 0 or not named[breaks[k - 1]] else f"{lab} ({named[breaks[k - 1]]})"
                  for k, lab in enumerate(labels)]
        return Classes("threshold", _ramp(len(breaks) + 1, higher_is_worse), labels, breaks=breaks)
    if diverging:
        m = float(np.nanmax(np.abs(x)))
        if m == 0:
            return Classes("diverging", [PUOR[3]], ["0 (no change)"], breaks=[])
        edges = [-m / 2, -m / 20, m / 20, m / 2]
        labels = _range_labels(edges, scale)
        labels[2] = f"{_fmt(edges[1])} – {_fmt(edges[2])} (≈ 0)"
        return Classes("diverging", [PUOR[0], PUOR[1], PUOR[3], PUOR[5], PUOR[6]], labels, breaks=edges)
    uniq = np.unique(x)
    if len(uniq) <= k:
        breaks = [float((a + b) / 2) for a, b in zip(uniq[:-1], uniq[1:])]
        labels = [f"{_fmt(100 * u)} %" if scale == "fraction" else _fmt(u) for u in uniq]
        return Classes("quantile", _ramp(len(uniq), higher_is_worse), labels, breaks=breaks)
    breaks = sorted(set(float(b) for b in quantile_bins(x, k)[:-1]))
    low = float(uniq[0])
    if breaks and breaks[0] <= low:
        # the lowest quantile(s) are all the minimum (e.g. many wards with 0 % green): mapclassify's
        # first class is "<= min"; with lower-inclusive classes that is the class "= min", which
        # ends at the next value present (nothing lies between), not an empty "< min"
        nxt = float(uniq[1])
        breaks = [nxt] + [b for b in breaks[1:] if b > nxt]
        labels = _range_labels(breaks, scale)
        labels[0] = f"{_fmt(100 * low)} %" if scale == "fraction" else f"{_fmt(low)} %" if scale == "percent" else _fmt(low)
        return Classes("quantile", _ramp(len(breaks) + 1, higher_is_worse), labels, breaks=breaks)
    return Classes("quantile", _ramp(len(breaks) + 1, higher_is_worse), _range_labels(breaks, scale), breaks=breaks)
