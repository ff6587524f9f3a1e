"""Change over years per ward: values per year, change, slope and survey changes with intervals
(docs/methods.md#trends).

Input: one frame per year of the same ward level, already on the target geometry
(:mod:`healthgeo.crosswalk`), with the column docs of the indicators. Output: a wide ``trend``
frame per ward:

``{col}_{year}``
    the value of each year;
``{col}_change``
    last year minus first year (in the column's unit);
``{col}_slope_per_year``, ``{col}_slope_lo95``, ``{col}_slope_hi95``
    with three or more years: the ordinary least-squares slope over the years and its 95 %
    interval (Student t with n - 2 degrees of freedom, as ``scipy.stats.linregress``'s stderr);
``{col}_change_lo95``, ``{col}_change_hi95``, ``{col}_change_significant``
    for survey estimates published with 95 % bounds (``{col}_lo95``/``{col}_hi95``): the standard
    error of each wave from its bounds, SE = (hi - lo) / (2 × 1.96), the change's
    SE = √(SE₁² + SE₂²) (independent samples) and its normal 95 % interval; the change is flagged
    when the interval excludes zero - not "the bounds do not overlap", which is far too strict.

Disparity measures (concentration index, SII, quintile gap) get the same treatment from their
bootstrap intervals: :func:`gap_change`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._errors import InputDataError
from .dictionary import ColumnDoc, doc

log = logging.getLogger(__name__)

Z95 = 1.959963984540054  # scipy.stats.norm.ppf(0.975); scipy.stats is imported where t is needed (~1 s)
METHOD = "docs/methods.md#trends"


def se_from_bounds(lo, hi) -> np.ndarray:
    """Standard error of an estimate from its symmetric normal 95 % interval."""
    return (np.asarray(hi, float) - np.asarray(lo, float)) / (2 * Z95)


def survey_change(v1, lo1, hi1, v2, lo2, hi2) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Change v2 - v1 of two independent survey estimates with its 95 % interval and flag.

    Returns ``(change, lo95, hi95, significant)``; significant is True where the interval
    excludes zero, False where it includes it, NaN where a bound is missing.
    """
    change = np.asarray(v2, float) - np.asarray(v1, float)
    se = np.sqrt(se_from_bounds(lo1, hi1) ** 2 + se_from_bounds(lo2, hi2) ** 2)
    lo, hi = change - Z95 * se, change + Z95 * se
    sig = np.where(np.isfinite(lo) & np.isfinite(hi), (lo > 0) | (hi < 0), np.nan)
    return change, lo, hi, sig


def ols_slope(years, values) -> tuple[float, float, float]:
    """OLS slope per year and its 95 % interval (t with n - 2 df); NaN with fewer than 3 finite values."""
    x = np.asarray(years, float)
    y = np.asarray(values, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = len(x)
    if n < 3 or np.ptp(x) == 0:
        return np.nan, np.nan, np.nan
    xm = x - x.mean()
    sxx = float((xm ** 2).sum())
    slope = float((xm * (y - y.mean())).sum() / sxx)
    resid = y - (y.mean() + slope * xm)
    se = float(np.sqrt((resid ** 2).sum() / (n - 2) / sxx))
    from scipy import stats

    t = float(stats.t.ppf(0.975, n - 2))
    return slope, slope - t * se, slope + t * se


def _slopes(years: list[int], matrix: np.ndarray) -> np.ndarray:
    """Row-wise :func:`ols_slope` of a wards × years matrix -> wards × 3."""
    return np.array([ols_slope(years, row) for row in matrix]).reshape(len(matrix), 3)


def trend(per_year: Mapping[int, pd.DataFrame], docs: Mapping[str, ColumnDoc], *,
          columns: list[str] | None = None) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """The wide trend frame of the module docstring (index: the wards of any year's frame).

    ``columns`` defaults to the documented numeric indicator columns (not bounds, reasons or
    identity columns) present in at least two years.
    """
    years = sorted(int(y) for y in per_year)
    if len(years) < 2:
        raise InputDataError(f"trend: needs at least two years, got {years}; list them under `years:`.")
    frames = {y: per_year[y] for y in years}
    index = frames[years[-1]].index
    for y in years[:-1]:
        index = index.union(frames[y].index)
    if columns is None:
        columns = [c for c, d in docs.items()
                   if d.about not in ("identity",) and d.theme != "quality"
                   and d.scale not in ("text", "category", "flag", "")
                   and not c.endswith(("_lo95", "_hi95", "_low", "_high"))
                   and sum(c in frames[y] for y in years) >= 2]
    out: dict[str, pd.Series | np.ndarray] = {}
    out_docs: dict[str, ColumnDoc] = {}
    for col in columns:
        base = docs.get(col)
        if base is None:
            raise InputDataError(f"trend: column {col!r} has no documentation; document it where it is made.")
        # the years this column has (a survey's waves need not be the rasters' years)
        cyears = [y for y in years if col in frames[y]]
        if len(cyears) < 2:
            continue
        mat = np.column_stack([pd.to_numeric(frames[y][col], errors="coerce").reindex(index).to_numpy(float)
                               for y in cyears])
        for j, y in enumerate(cyears):
            out[f"{col}_{y}"] = mat[:, j]
            out_docs[f"{col}_{y}"] = _derived(base, base.unit, f"{base.description} ({y})", "value of the year")
        first, last = cyears[0], cyears[-1]
        out[f"{col}_change"] = mat[:, -1] - mat[:, 0]
        out_docs[f"{col}_change"] = _derived(base, base.unit, f"change {first}->{last} of: {base.description}",
                                             f"value {last} - value {first}", change=True)
        lo_c, hi_c = f"{col}_lo95", f"{col}_hi95"
        if all(lo_c in frames[y] and hi_c in frames[y] for y in (first, last)):
            b = [pd.to_numeric(frames[y][c], errors="coerce").reindex(index).to_numpy(float)
                 for y in (first, last) for c in (lo_c, hi_c)]
            _, lo, hi, sig = survey_change(mat[:, 0], b[0], b[1], mat[:, -1], b[2], b[3])
            out[f"{col}_change_lo95"], out[f"{col}_change_hi95"] = lo, hi
            out[f"{col}_change_significant"] = pd.array(
                [pd.NA if np.isnan(s) else bool(s) for s in sig], dtype="boolean")
            how = ("normal 95 % interval of the change; SE of each wave from its published 95 % bounds, "
                   "(hi - lo) / (2 x 1.96), combined as sqrt(SE1^2 + SE2^2)")
            out_docs[f"{col}_change_lo95"] = _derived(base, base.unit, f"lower 95 % bound of {col}_change", how,
                                                      change=True)
            out_docs[f"{col}_change_hi95"] = _derived(base, base.unit, f"upper 95 % bound of {col}_change", how,
                                                      change=True)
            out_docs[f"{col}_change_significant"] = doc(
                "flag", f"the 95 % interval of {col}_change excludes zero", how, base.source, theme="trend",
                about=base.about, scale="flag", label_en=f"significant change in {base.label_en or col}",
                label_nl=f"significante verandering {base.label_nl or col}")
        if len(cyears) >= 3:
            s = _slopes(cyears, mat)
            for k, suffix in enumerate(("slope_per_year", "slope_lo95", "slope_hi95")):
                out[f"{col}_{suffix}"] = s[:, k]
                what = {"slope_per_year": "annual OLS slope", "slope_lo95": "lower 95 % bound of the annual slope",
                        "slope_hi95": "upper 95 % bound of the annual slope"}[suffix]
                out_docs[f"{col}_{suffix}"] = _derived(
                    base, f"{base.unit} per year", f"{what} of: {base.description} ({first}-{last})",
                    "ordinary least squares over the years with a value; 95 % interval from Student t with n - 2 "
                    "degrees of freedom (NULL with fewer than 3 years)", change=True)
    frame = pd.DataFrame(out, index=index)
    return frame, out_docs


def _derived(base: ColumnDoc, unit: str, description: str, method: str, *, change: bool = False) -> ColumnDoc:
    """Doc of a trend column: about, scale, direction and labels follow the indicator's doc."""
    return doc(unit, description, f"{method} ({METHOD})", base.source, theme="trend", about=base.about,
               scale=base.scale,
               higher_is_worse=base.higher_is_worse,
               label_en=(f"change in {base.label_en}" if change else base.label_en) if base.label_en else "",
               label_nl=(f"verandering {base.label_nl}" if change else base.label_nl) if base.label_nl else "")


def gap_change(per_year: Mapping[int, pd.DataFrame], *, keys=("indicator", "measure", "scope")) -> pd.DataFrame:
    """Change of each disparity measure between the first and last year, with a 95 % interval.

    ``per_year``: the ``disparity`` rows of each year (columns ``value``, ``lo95``, ``hi95`` and the
    ``keys`` present). The bootstrap intervals are read as normal: SE = (hi - lo) / (2 × 1.96); the
    years are independent samples. Returns one row per key with value_first, value_last, change,
    change_lo95, change_hi95, change_significant.
    """
    years = sorted(per_year)
    if len(years) < 2:
        raise InputDataError(f"gap_change: needs at least two years, got {years}.")
    first, last = per_year[years[0]], per_year[years[-1]]
    k = [c for c in keys if c in first.columns and c in last.columns]
    m = first.merge(last, on=k, suffixes=("_first", "_last"))
    change, lo, hi, sig = survey_change(m["value_first"], m["lo95_first"], m["hi95_first"],
                                        m["value_last"], m["lo95_last"], m["hi95_last"])
    return pd.DataFrame({**{c: m[c] for c in k}, "year_first": years[0], "year_last": years[-1],
                         "value_first": m["value_first"], "value_last": m["value_last"], "change": change,
                         "change_lo95": lo, "change_hi95": hi,
                         "change_significant": pd.array([pd.NA if np.isnan(s) else bool(s) for s in sig],
                                                        dtype="boolean")})


#: metrics of the disparity table compared over the years: the concentration index, the slope index
#: of inequality and the quintile gap (Q5 - Q1 mean)
GAP_METRICS = ("ci_relative", "sii", "quintile_difference")


def disparity_trend_docs() -> dict[str, ColumnDoc]:
    """Column docs of the ``disparity_trend`` table (:func:`disparity_trend`)."""
    how = ("per year: healthgeo.disparity.inequality_table on that year's values (wards ranked by the run's SES, "
           "95 % bootstrap interval); change: last - first year, SE of each year from its bootstrap interval "
           f"read as normal, (hi - lo) / (2 x 1.96), combined as sqrt(SE1^2 + SE2^2) ({METHOD})")
    return {
        "level": doc("text", "Ward level (buurt, wijk)", theme="identity", about="identity", scale="text"),
        "indicator": doc("text", "Indicator column the row describes", theme="identity", about="identity",
                         scale="text"),
        "metric": doc("text", "ci_relative (concentration index), sii (slope index of inequality), "
                      "quintile_difference (quintile gap, most deprived minus least deprived fifth)",
                      "docs/methods.md#concentration-index", theme="disparity", about="identity", scale="category"),
        "kind": doc("category", "year: the measure in year_first (= year_last); change: year_last minus year_first",
                    METHOD, theme="trend", about="identity", scale="category"),
        "year_first": doc("year", "first year of the row (the year itself for kind 'year')", theme="trend",
                          about="identity", scale="text"),
        "year_last": doc("year", "last year of the row (the year itself for kind 'year')", theme="trend",
                         about="identity", scale="text"),
        "value": doc("indicator unit (sii, quintile_difference); 1 (ci_relative)",
                     "the measure (kind 'year') or its change (kind 'change')", how, theme="trend", about="area",
                     scale="index"),
        "ci_low": doc("as value", "lower bound of the 95 % interval (bootstrap for a year, normal for a change)", how,
                      theme="trend", about="area", scale="index"),
        "ci_high": doc("as value", "upper bound of the 95 % interval (bootstrap for a year, normal for a change)", how,
                       theme="trend", about="area", scale="index"),
        "change_significant": doc("flag", "kind 'change': the 95 % interval of the change excludes zero (NULL for a "
                                  "year or without an interval)", how, theme="trend", about="area", scale="flag"),
        "n_wards": doc("count", "wards entering the measure (kind 'year'; published wards with a value and an SES "
                       "rank)", theme="trend", about="area", scale="count"),
        "ranking_variable": doc("text", "SES variable the wards were ranked by", theme="identity", about="identity",
                                scale="text"),
        "note": doc("text", "caveat of the row (undefined bootstrap draws), empty when none", theme="quality",
                    about="identity", scale="text"),
    }


def disparity_trend(per_year: Mapping[int, pd.DataFrame]) -> pd.DataFrame:
    """The ``disparity_trend`` table from each year's disparity rows.

    ``per_year``: year -> rows of :func:`healthgeo.disparity.inequality_table` (columns level,
    indicator, metric, value, ci_low, ci_high, n_wards, ranking_variable, note). Keeps the
    :data:`GAP_METRICS`; one ``year`` row per year and, per indicator with two or more years, one
    ``change`` row from its first to its last year with the interval of :func:`gap_change`.
    """
    cols = list(disparity_trend_docs())
    rows = []
    for y in sorted(per_year):
        t = per_year[y]
        t = t[t["metric"].isin(GAP_METRICS)].copy()
        t["kind"], t["year_first"], t["year_last"] = "year", int(y), int(y)
        rows.append(t)
    years_tab = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    changes = []
    keys = ["level", "indicator", "metric"]
    for (level, ind), part in years_tab.groupby(["level", "indicator"], sort=True):
        ys = sorted(part["year_first"].unique())
        if len(ys) < 2:
            continue
        by = {y: part[part["year_first"] == y].rename(columns={"ci_low": "lo95", "ci_high": "hi95"})[
            [*keys, "value", "lo95", "hi95"]] for y in ys}
        g = gap_change(by, keys=tuple(keys))
        changes.append(pd.DataFrame({
            "level": g["level"], "indicator": g["indicator"], "metric": g["metric"], "kind": "change",
            "year_first": g["year_first"], "year_last": g["year_last"], "value": g["change"],
            "ci_low": g["change_lo95"], "ci_high": g["change_hi95"], "change_significant": g["change_significant"],
            "n_wards": pd.NA, "ranking_variable": part["ranking_variable"].iloc[-1], "note": ""}))
    out = pd.concat([years_tab.assign(change_significant=pd.NA), *changes], ignore_index=True)
    out["change_significant"] = out["change_significant"].astype("boolean")
    out["n_wards"] = pd.to_numeric(out["n_wards"], errors="coerce").astype("Int64")
    return out.reindex(columns=cols).sort_values(["level", "indicator", "metric", "kind", "year_first"],
                                                  ignore_index=True)
