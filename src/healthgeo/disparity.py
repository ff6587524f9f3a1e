"""Health-disparity indicators across wards: who carries the burden, with uncertainty.

Steps (formulas and sources: ``docs/methods.md``, disparity stage; anchors below):

1. :func:`ses_rank` ranks wards by socioeconomic position, **most disadvantaged first**, into a
   population-weighted fractional rank ``R`` (0 = most disadvantaged end, 1 = most advantaged)
   and quintiles (1 = most disadvantaged). Where the ranking variable is missing a documented
   proxy is used and named per ward in ``ses_source``. See docs/methods.md#socioeconomic-ranking.
2. :func:`inequality_table` computes, per indicator, quintile means, Q1/Q5 ratio and difference,
   relative/absolute/Erreygers concentration indices, SII, RII, population-weighted Theil T and
   Gini (+ unweighted PySAL ones), each with a seeded, vectorised bootstrap 95 % interval
   (docs/methods.md#concentration-index, docs/methods.md#corrected-concentration-index,
   docs/methods.md#slope-and-relative-index-of-inequality, docs/methods.md#quintile-gap,
   docs/methods.md#gini-and-theil, docs/methods.md#bootstrap-intervals).
3. :func:`lisa_clusters` and :func:`morans_i` measure spatial clustering (PySAL esda/libpysal;
   docs/methods.md#spatial-clustering).
4. :func:`healthgeo.burden.cumulative_burden` builds a CalEnviroScreen-4.0-style score against
   fixed reference distributions (:func:`healthgeo.burden.burden_reference`, one ``level`` per ward
   level; a previous run's reference is read back with :func:`healthgeo.burden.read_burden_reference`).
   Burden percentiles (:func:`healthgeo.burden.burden_percentile`) are mid-ranks oriented so that 100 = worst, with a **worst-tie
   rule**: wards tied on a value all get the percentile of the worst position of their tie block
   (all wards at the worst value are equally worst-off, so e.g. the many wards without any green
   are flagged rather than sitting at the middle of their block). This applies to every
   ``*_pctl`` column of the burden (indicators, components, score); the SES fractional rank
   (``ses_rank_frac``, used by the concentration indices) keeps the ordinary mid-rank
   (docs/methods.md#burden-percentiles; the score itself: docs/methods.md#cumulative-burden).
   Values within a relative 1e-10 of each other count as tied, so floating-point noise cannot
   split a tie, and the burden score is computed by one shared expression for the reference
   and the wards.
5. Wards withheld by disclosure control (:mod:`healthgeo.disclosure`,
   docs/methods.md#disclosure-control) enter no measure.

:func:`compute_disparities` runs all of them and returns a :class:`DisparityResult`.

Sign conventions (the same for every rank-based measure, because R runs from the most
disadvantaged to the most advantaged, as in WHO HEAT):

* concentration index C < 0: the indicator is concentrated among the **disadvantaged**;
  C > 0: among the advantaged. (O'Donnell et al. 2008 rank "poorest first" too.)
* SII = value predicted at the most advantaged end minus the most disadvantaged end;
  RII = (b0 + b1)/b0 = advantaged end / disadvantaged end (the definition in
  docs/methods.md#slope-and-relative-index-of-inequality). So an
  adverse exposure that burdens disadvantaged wards has C < 0, SII < 0, RII < 1.
* The quintile gap is oriented the other way round, as asked of it: ratio Q1/Q5 and
  difference Q1 - Q5 (most disadvantaged fifth relative to the most advantaged fifth).
"""

from __future__ import annotations

import logging
import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _inequality as ineq
from ._errors import ConfigError, InputDataError
from ._vocab import LEVEL_OF_COLUMN
from .dictionary import (
    CBS_KWB,
    ERREYGERS_2009,
    ODONNELL_2008,
    RIVM_GEZONDHEID,
    WHO_HEAT_NOTES,
    ColumnDoc,
    doc,
)
from .burden import (
    BURDEN_REFERENCE_COLUMNS,
    burden_reference,
    cumulative_burden,
    direction_of,
    directions,
    reference_for_level,
)
from .disclosure import DEFAULT_MIN_RESIDENTS, reason_doc, ward_reasons
from .sources.ses import CBS_SES_WOA

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MIN_RESIDENTS",
    "DEFAULT_PROXY",
    "DISPARITY_TABLE_DOCS",
    "MAX_COLUMN_NAME_LENGTH",
    "MAX_UNDEFINED_DRAW_SHARE",
    "DisparityResult",
    "compute_disparities",
    "concentration_summary",
    "inequality_table",
    "lisa_clusters",
    "morans_i",
    "ses_rank",
]

# --------------------------------------------------------------------------------------------
# Settings and citations
# --------------------------------------------------------------------------------------------

#: Proxy ranking variable used where the ranking variable is missing (CBS suppresses income at
#: buurt level in early KWB releases). Share of adults with difficulty making ends meet (RIVM).
DEFAULT_PROXY = "health_difficulty_making_ends_meet_pct"
#: Ranking variables in order of preference (config disparity.ranking): CBS SES-WOA total score
#: (input ses), then CBS income per resident; then :data:`DEFAULT_PROXY`.
DEFAULT_RANKING = ("ses_woa_score", "income_keur_per_resident")

#: A bootstrap interval is withheld (NaN, with a ``note``) when more than this share of the draws
#: is undefined (e.g. an empty quintile or a zero mean in a resample): percentiles of the
#: remaining draws would describe a conditional, not the sampling, distribution.
MAX_UNDEFINED_DRAW_SHARE = 0.05

#: Longest column name derived from an indicator name that dashboards reading the GeoPackage
#: accept (63 = PostgreSQL/PostGIS identifier limit, NAMEDATALEN - 1); the longest derived name
#: is the gemeente layer's ``conc_index_{indicator}_lo95``.
MAX_COLUMN_NAME_LENGTH = 63

ANSELIN_1995 = "Anselin (1995), Local Indicators of Spatial Association - LISA, Geogr. Anal. 27:93-115"
PYSAL_ESDA = "PySAL esda (Moran, Moran_Local) and libpysal (Queen/Rook contiguity)"
PYSAL_INEQUALITY = "PySAL inequality (inequality.theil.Theil, inequality.gini.Gini)"

# --------------------------------------------------------------------------------------------
# Documentation of the disparity table
# --------------------------------------------------------------------------------------------

_MEASURE_METHOD = (
    "Wards ranked by SES, most disadvantaged first; p_j = ward population share; fractional rank "
    "R_j = sum_{k<j} p_k + p_j/2 (tied wards share their joint midpoint). Quintile means: "
    "population-weighted means of wards with 5R in [k-1, k). C = (2/mu) sum p_j y_j R_j - 1 "
    "(C<0: concentrated among the disadvantaged); ci_absolute = mu C; ci_erreygers = 4 mu/(b-a) C "
    "for indicators bounded in [a, b]; sii = WLS slope of y on R, weights p (advantaged minus "
    "disadvantaged end); rii = (b0+b1)/b0 (advantaged / disadvantaged end); quintile_ratio = Q1/Q5 "
    "and quintile_difference = Q1-Q5 (Q1 most disadvantaged); gini/theil_t population-weighted, "
    "*_unweighted = PySAL inequality on ward values; morans_i: global Moran's I, row-standardised "
    "contiguity weights, permutation p in p_value."
)

DISPARITY_TABLE_DOCS: dict[str, ColumnDoc] = {
    "indicator": doc("text", "Indicator column the row describes (a per-ward input column)."),
    "metric": doc(
        "text",
        "Measure: mean, q1_mean..q5_mean, quintile_ratio, quintile_difference, ci_relative, "
        "ci_absolute, ci_erreygers, sii, rii, gini, theil_t, gini_unweighted, "
        "theil_t_unweighted, morans_i.",
        _MEASURE_METHOD,
        f"{ODONNELL_2008}; {ERREYGERS_2009}; {WHO_HEAT_NOTES}; {PYSAL_INEQUALITY}; {PYSAL_ESDA}",
    ),
    "value": doc(
        "indicator unit (means, differences, sii, ci_absolute); 1 (ratios and indices)",
        "Point estimate on all included wards.",
        _MEASURE_METHOD,
        f"{ODONNELL_2008}; {WHO_HEAT_NOTES}",
    ),
    "ci_low": doc(
        "as value", "Lower bound of the 95 % bootstrap interval (2.5th percentile).",
        "Wards resampled with replacement (n_boot draws, numpy Generator seeded with seed and "
        "the indicator name); ranks and quintiles recomputed in every draw; percentile interval "
        "of the defined draws. NaN (with a note) when more than 5 % of the draws are undefined, "
        "and for morans_i (see p_value).",
        ODONNELL_2008,
    ),
    "ci_high": doc("as value", "Upper bound of the 95 % bootstrap interval (97.5th percentile).",
                   "See ci_low.", ODONNELL_2008),
    "p_value": doc(
        "1", "Pseudo p-value of global Moran's I from seeded permutations (NaN for other metrics).",
        "(k+1)/(P+1), k = permutations at least as extreme on the observed side (esda convention).",
        PYSAL_ESDA,
    ),
    "n_wards": doc("count", "Wards entering the measure (disclosed, with value and SES rank)."),
    "ranking_variable": doc(
        "text",
        "SES variable wards were ranked by; 'X+proxy:Y (k/n)' when proxy Y replaced X for k of n "
        "wards; 'proxy:Y' when no ward had X. Empty for measures that ignore SES.",
    ),
    "level": doc("text", "Ward level (buurt, wijk, gemeente)."),
    "note": doc(
        "text",
        "Caveat of this row, empty when there is none: bootstrap draws that were undefined "
        "('k of n bootstrap draws undefined ...'; interval withheld when more than 5 %), or why "
        "a metric was skipped (ci_erreygers of an indicator with values outside its assumed "
        "bounds: value NaN).",
    ),
}

_TABLE_COLUMNS = list(DISPARITY_TABLE_DOCS)



@dataclass(frozen=True)
class DisparityResult:
    """Everything :func:`compute_disparities` produces.

    Attributes
    ----------
    per_ward
        Frame aligned to the input ward index: ``ses_rank_frac``, ``ses_quintile``,
        ``ses_source``, ``disclosure_reason``, ``{indicator}_lisa`` and the burden columns.
    table
        Tidy disparity table, columns documented in :data:`DISPARITY_TABLE_DOCS`.
    docs
        ColumnDoc for every ``per_ward`` column.
    reference
        Reference distributions used for burden percentiles (pass back in for later years);
        empty when no burden was computed.
    """

    per_ward: pd.DataFrame
    table: pd.DataFrame
    docs: dict[str, ColumnDoc] = field(default_factory=dict)
    reference: pd.DataFrame = field(default_factory=pd.DataFrame)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _level(wards: pd.DataFrame, level: str | None) -> str:
    if level:
        return level
    return LEVEL_OF_COLUMN.get(wards.index.name or "", "ward")


def _seed_for(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def _numeric(wards: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(wards[col], errors="coerce").to_numpy(dtype=float)


def _check_unique_index(wards: pd.DataFrame) -> list[str]:
    dup = wards.index[wards.index.duplicated()].unique().tolist()
    return [f"duplicate ward codes in the index: {dup[:5]} - drop or merge them first"] if dup else []


# --------------------------------------------------------------------------------------------
# 1. SES ranking
# --------------------------------------------------------------------------------------------


def _ranking_list(ranking) -> list[str]:
    """``ranking`` as a list of variables in order of preference (a string is one variable)."""
    return [ranking] if isinstance(ranking, str) else [str(r) for r in ranking]


def _ses_score(wards: pd.DataFrame, disclosed: np.ndarray, pop: np.ndarray, ranking,
               proxy: str | None, directions: Mapping[str, bool] | None):
    """Disadvantage score in [0, 100] (0 = most disadvantaged) and its source per ward.

    Each variable is turned into its population-weighted mid-rank percentile among the
    disclosed wards that have it, oriented so low = disadvantaged; per ward the first variable
    of ``ranking`` (a column or a list in order of preference) with a value is used, else the
    proxy's.
    """
    order = _ranking_list(ranking)
    problems: list[str] = []
    tried: list[str] = []
    score = np.full(len(wards), np.nan)
    source = np.full(len(wards), None, dtype=object)
    candidates = [(v, v) for v in order] + ([(proxy, f"proxy:{proxy}")] if proxy else [])
    if not any(v in wards.columns for v, _ in candidates):
        problems.append(f"ranking variable(s) {order} {'are' if len(order) > 1 else 'is'} not a column"
                        + (f" and neither is the proxy {proxy!r}" if proxy else ""))
    for var, label in candidates:
        is_proxy = label.startswith("proxy:")
        if var not in wards.columns:
            tried.append(f"{'proxy ' if is_proxy else ''}{var!r} (not a column)")
            continue
        n_have = int((disclosed & np.isfinite(_numeric(wards, var))).sum())
        tried.append(f"{'proxy ' if is_proxy else ''}{var!r} ({n_have} disclosed ward(s) "
                     "with a value)")
        worse_high = direction_of(var, directions)
        if worse_high is None:
            problems.append(
                f"unknown direction of {var!r}: pass higher_is_disadvantaged={{'{var}': True}} "
                "(True when a higher value means more disadvantaged)")
            continue
        x = _numeric(wards, var)
        ok = disclosed & np.isfinite(x) & np.isnan(score)
        have = disclosed & np.isfinite(x)
        if not have.any():
            continue
        # oriented so that ascending = more advantaged
        v = -x if worse_high else x
        order = np.argsort(v[have], kind="stable")
        vs = v[have][order]
        ps = pop[have][order] / pop[have].sum()
        r = ineq.fractional_rank(ps, ineq.tie_groups(vs))
        pct = np.empty(have.sum())
        pct[order] = 100.0 * r
        full = np.full(len(wards), np.nan)
        full[have] = pct
        score[ok] = full[ok]
        source[ok] = label
    if problems:
        raise ConfigError("SES ranking: " + "; ".join(problems))
    if not proxy:
        tried.append("no proxy (proxy=None)")
    n_ranked = int(np.isfinite(score).sum())
    n_disc = int(disclosed.sum())
    if n_ranked < 2 and n_disc < 2:
        # nothing to compare at this level (e.g. a municipality with a single wijk): not an error
        log.warning("SES ranking: only %d of %d ward(s) pass disclosure control (min_residents); no "
                    "inequality measures at this level", n_disc, len(wards))
        return score, source
    if n_ranked < 2:
        small = ""
        raise InputDataError(
            f"SES ranking: only {n_ranked} ward(s) can be ranked by socioeconomic position, at "
            f"least 2 are needed; tried {' and '.join(tried)}.{small} CBS publishes income "
            "(income_keur_per_resident) for the newest KWB year only later: use an older KWB year "
            "(inputs.kerncijfers.year) that has it, or give the health table (inputs.health, RIVM "
            f"Gezondheidsmonitor) that holds the proxy column {proxy or DEFAULT_PROXY!r}, or set "
            "disparity.ranking / disparity.proxy to columns with values.")
    return score, source


def _ranking_label(ranking, source: np.ndarray) -> str:
    """The variable(s) the wards of a measure were ranked by: 'X' when one; else the most used
    first and every other as '+Y (k/n)' (k of the n wards used Y)."""
    used = [str(s) for s in source[pd.notna(source)]]
    n = len(used)
    if n == 0:
        return _ranking_list(ranking)[0]
    counts = pd.Series(used).value_counts(sort=False)
    # preference order of the ranking list, then the proxy
    order = [v for v in _ranking_list(ranking) if v in counts.index] + [v for v in counts.index
                                                                         if v not in _ranking_list(ranking)]
    if len(order) == 1:
        return order[0]
    return order[0] + "".join(f"+{v} ({int(counts[v])}/{n})" for v in order[1:])


def ses_rank(wards: pd.DataFrame, *, ranking: str | Sequence[str] = DEFAULT_RANKING,
             proxy: str | None = DEFAULT_PROXY, residents: str = "residents",
             higher_is_disadvantaged: Mapping[str, bool] | None = None,
             min_residents: float = DEFAULT_MIN_RESIDENTS,
             ) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Rank wards by socioeconomic position, most disadvantaged first.

    Parameters
    ----------
    wards
        Frame indexed by ward code with ``residents`` and the ranking/proxy columns.
    ranking
        SES variable, or several in order of preference (each ward is ranked by the first it has
        a value for; default SES-WOA score, then income). Known directions: low ``income_keur_per_resident`` and high
        ``low_income_hh_pct`` are disadvantaged; others via ``higher_is_disadvantaged``.
    proxy
        Variable used, per ward, where ``ranking`` is missing (None: no proxy, rank NaN).
        Mixed rankings combine the two variables' population-weighted percentile positions.
    residents
        Population weight column.
    higher_is_disadvantaged
        Direction of variables other than the SES variables (CBS key figures, health items).
    min_residents
        Disclosure threshold; smaller wards get NaN.

    Returns
    -------
    (frame, docs) with ``ses_rank_frac`` (0-1), ``ses_quintile`` (1-5, 1 = most
    disadvantaged), ``ses_source`` and ``disclosure_reason``.
    """
    problems = _check_unique_index(wards)
    if residents not in wards.columns:
        problems.append(f"population column {residents!r} missing")
    if problems:
        raise InputDataError("ses_rank: " + "; ".join(problems))
    reason = ward_reasons(wards, residents, min_residents)
    disclosed = reason.isna().to_numpy()
    pop = _numeric(wards, residents)
    score, source = _ses_score(wards, disclosed, pop, ranking, proxy, higher_is_disadvantaged)
    ranked = np.isfinite(score)
    rank = np.full(len(wards), np.nan)
    if ranked.any():
        idx = np.flatnonzero(ranked)
        order = np.lexsort((wards.index.to_numpy()[idx].astype(str), score[idx]))
        s = score[idx][order]
        p = pop[idx][order] / pop[idx].sum()
        r = ineq.fractional_rank(p, ineq.tie_groups(s))
        rank[idx[order]] = r
    quint = np.where(np.isfinite(rank),
                     np.minimum(np.floor(np.nan_to_num(rank) * 5), 4) + 1, np.nan)
    src = np.where(~disclosed, "withheld", np.where(pd.isna(source), "missing", source))
    n_proxy = int(np.sum([isinstance(s, str) and s.startswith("proxy:") for s in source]))
    if n_proxy:
        log.warning("SES ranking: %d of %d ranked wards use proxy %r instead of %s",
                    n_proxy, int(ranked.sum()), proxy, " / ".join(_ranking_list(ranking)))
    out = pd.DataFrame({
        "ses_rank_frac": rank,
        "ses_quintile": pd.array(quint, dtype="Float64").astype("Int64"),
        "ses_source": pd.array(src, dtype="string"),
        "disclosure_reason": reason,
    }, index=wards.index)
    order = _ranking_list(ranking)
    src_text = f"{CBS_KWB} (income, low-income households, labour participation, benefit recipients)"
    if any(v.startswith("ses_woa_") for v in order):
        src_text = f"{CBS_SES_WOA}; {src_text}"
    if proxy:
        src_text += f"; proxy {proxy}: {RIVM_GEZONDHEID}"
    docs = {
        "ses_rank_frac": doc(
            "1 (0-1)",
            f"Population-weighted fractional SES rank, 0 = most disadvantaged end (ranked by {' / '.join(order)}, in that order of preference).",
            "R_j = sum_{k<j} p_k + p_j/2 over disclosed ranked wards, p = residents share, wards "
            "sorted most disadvantaged first; tied wards share their joint midpoint. Where the "
            "ranking variable is missing the proxy's population-weighted percentile position is "
            "used (see ses_source).",
            f"{ODONNELL_2008}; {src_text}",
        ),
        "ses_quintile": doc(
            "class 1-5", "Population-weighted SES quintile, 1 = most disadvantaged fifth of residents.",
            "quintile = floor(5 R) + 1 (capped at 5), i.e. by the ward's population midpoint.",
            f"{WHO_HEAT_NOTES}; {src_text}",
        ),
        "ses_source": doc(
            "text", "Variable this ward was ranked by: the first ranking variable it has a value for, 'proxy:<column>', "
            "'missing' (neither available: no rank) or 'withheld' (disclosure control).",
            "Never silent: every ward names its source.", src_text,
        ),
        "disclosure_reason": reason_doc(min_residents),
    }
    return out, docs


# --------------------------------------------------------------------------------------------
# 2. Inequality measures
# --------------------------------------------------------------------------------------------


def _infer_bounds(col: str, bounded: Mapping[str, tuple[float, float] | None] | None):
    if bounded is not None and col in bounded:
        return bounded[col]
    if col.endswith("_pct"):
        return (0.0, 100.0)
    if col.startswith("pop_share_") or col.endswith("_share"):
        return (0.0, 1.0)
    return None


def _bootstrap_interval(draws: np.ndarray) -> tuple[float, float, str]:
    """95 % percentile interval of the defined draws, and a note on the undefined ones.

    More than :data:`MAX_UNDEFINED_DRAW_SHARE` undefined draws: interval NaN.
    """
    n = draws.size
    good = draws[np.isfinite(draws)]
    n_bad = n - good.size
    if n == 0:
        return np.nan, np.nan, ""
    note = ""
    if n_bad:
        note = (f"{n_bad} of {n} bootstrap draws undefined (e.g. an empty quintile or zero mean "
                "in a resample)")
        if n_bad > MAX_UNDEFINED_DRAW_SHARE * n:
            return np.nan, np.nan, (f"{note}; interval withheld (more than "
                                    f"{MAX_UNDEFINED_DRAW_SHARE:.0%} undefined)")
        note += "; left out of the interval"
    lo, hi = np.percentile(good, [2.5, 97.5])
    return float(lo), float(hi), note


def inequality_table(wards: pd.DataFrame, indicators: Sequence[str], *,
                     ranking: str | Sequence[str] = DEFAULT_RANKING,
                     proxy: str | None = DEFAULT_PROXY, residents: str = "residents",
                     higher_is_disadvantaged: Mapping[str, bool] | None = None,
                     bounded: Mapping[str, tuple[float, float] | None] | None = None,
                     n_boot: int = 1000, seed: int = 0,
                     min_residents: float = DEFAULT_MIN_RESIDENTS, level: str | None = None,
                     ) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Socioeconomic inequality of each indicator across wards, with bootstrap 95 % intervals.

    Inputs of every measure are the disclosed wards (``residents >= min_residents``) with a
    finite indicator value and an SES rank; ranks and quintiles are recomputed on that set and
    in every bootstrap draw.

    Parameters
    ----------
    bounded
        ``{column: (a, b)}`` bounds for the Erreygers index; ``None`` as a value switches it
        off. Default: ``*_pct`` columns [0, 100], ``pop_share_*``/``*_share`` [0, 1].
        Values outside bounds given here raise :class:`InputDataError`; values outside the
        default (name-based) bounds skip ``ci_erreygers`` of that indicator only (value NaN,
        reason in ``note``, logged warning) and keep every other measure.
    n_boot, seed
        Bootstrap draws (0: no intervals) and seed. Each indicator's draws come from a
        generator seeded by (seed, indicator name), so results do not depend on which other
        indicators are requested or on the order of wards. Undefined draws (NaN) are counted
        in ``note``; above :data:`MAX_UNDEFINED_DRAW_SHARE` the interval is NaN.

    Returns
    -------
    (table, DISPARITY_TABLE_DOCS)
    """
    from inequality.gini import Gini
    from inequality.theil import Theil

    missing = [c for c in indicators if c not in wards.columns]
    problems = _check_unique_index(wards)
    if missing:
        problems.append(f"indicator column(s) {missing} missing; available: {list(wards.columns)}")
    if n_boot and n_boot < 1000:
        log.warning("n_boot=%d < 1000: intervals will be noisy (docs/methods.md#bootstrap-intervals "
                    "asks >= 1000)", n_boot)
    if problems:
        raise InputDataError("inequality_table: " + "; ".join(problems))
    wards = wards.sort_index()  # canonical order -> bootstrap draws independent of input order
    if residents not in wards.columns:
        raise InputDataError(f"inequality_table: population column {residents!r} missing")
    disclosed = ward_reasons(wards, residents, min_residents).isna().to_numpy()
    pop = _numeric(wards, residents)
    score, source = _ses_score(wards, disclosed, pop, ranking, proxy, higher_is_disadvantaged)
    lvl = _level(wards, level)
    rows: list[dict] = []
    bound_problems: list[str] = []
    for col in indicators:
        y_all = _numeric(wards, col)
        ok = disclosed & np.isfinite(y_all) & np.isfinite(score) & (pop > 0)
        bounds = _infer_bounds(col, bounded)
        erreygers_note = ""
        if bounds is not None and ok.any():
            a, b = bounds
            bad = (y_all[ok] < a) | (y_all[ok] > b)
            if bad.any():
                what = (f"{int(bad.sum())} value(s) outside bounds [{a:g}, {b:g}] (range "
                        f"{np.min(y_all[ok]):g} to {np.max(y_all[ok]):g})")
                if bounded is not None and col in bounded:
                    bound_problems.append(
                        f"{col}: {what} given in bounded - correct the bounds or the data, or pass "
                        f"bounded={{'{col}': None}} to skip the Erreygers index")
                    continue
                erreygers_note = (
                    f"ci_erreygers skipped: {what} assumed from the column name; the indicator is "
                    "not a bounded share as its name says (e.g. overlapping polygons counted "
                    f"twice) - fix the input, or pass bounded={{'{col}': (low, high)}}")
                log.warning("%s: %s; the other measures are kept", col, erreygers_note)
                bounds = None
        n = int(ok.sum())
        label = _ranking_label(ranking, source[ok]) if n else ranking
        if n < 2:
            log.warning("%s: only %d usable ward(s); measures are NaN", col, n)
            continue
        y, p, key = y_all[ok], pop[ok], score[ok]
        rng = _seed_for(seed, col)
        counts = np.vstack([np.ones((1, n), dtype=np.int64), ineq.bootstrap_counts(n, n_boot, rng)])
        ordered = ineq.ordered_measures(y, p, key, counts, bounds)
        spread = ineq.spread_measures(y, p, counts)
        spread_u = ineq.spread_measures(y, np.ones(n), counts)
        pysal_point = {
            "gini_unweighted": float(Gini(y).g) if np.all(y >= 0) and y.sum() > 0 else np.nan,
            "theil_t_unweighted": float(np.asarray(Theil(y).T).ravel()[0])
            if np.all(y >= 0) and y.sum() > 0 else np.nan,
        }
        if erreygers_note:  # keep the row, in its usual place after ci_absolute, with the reason
            items = list(ordered.items())
            at = [k for k, _ in items].index("ci_absolute") + 1
            ordered = dict(items[:at] + [("ci_erreygers", None)] + items[at:])
        metrics = {**ordered, **spread,
                   "gini_unweighted": spread_u["gini"], "theil_t_unweighted": spread_u["theil_t"]}
        for metric, arr in metrics.items():
            uses_ses = metric not in ("gini", "theil_t", "gini_unweighted", "theil_t_unweighted", "mean")
            row = {"indicator": col, "metric": metric, "value": np.nan, "ci_low": np.nan,
                   "ci_high": np.nan, "p_value": np.nan, "n_wards": n,
                   "ranking_variable": label if uses_ses else "", "level": lvl, "note": ""}
            if arr is None:
                row["note"] = erreygers_note
                rows.append(row)
                continue
            lo, hi, note = _bootstrap_interval(arr[1:])
            row.update(value=float(pysal_point.get(metric, arr[0])), ci_low=lo, ci_high=hi, note=note)
            rows.append(row)
    if bound_problems:
        raise InputDataError("inequality_table: " + "; ".join(bound_problems))
    table = pd.DataFrame(rows, columns=_TABLE_COLUMNS)
    table["n_wards"] = table["n_wards"].astype("int64")
    return table, dict(DISPARITY_TABLE_DOCS)


# --------------------------------------------------------------------------------------------
# 3. Spatial clustering
# --------------------------------------------------------------------------------------------


def _contiguity(gdf, contiguity: str):
    from libpysal.weights import Queen, Rook

    cls = {"queen": Queen, "rook": Rook}.get(contiguity)
    if cls is None:
        raise ConfigError(f"contiguity must be 'queen' or 'rook', got {contiguity!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls.from_dataframe(gdf, use_index=True)


def _subgraph(w_full, ids: list):
    """Weights restricted to ``ids``, islands (no neighbours within ids) removed iteratively."""
    from libpysal.weights import w_subset

    ids = list(ids)
    islands: list = []
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = w_subset(w_full, ids, silence_warnings=True)
        isl = [i for i in ids if w.cardinalities.get(i, 0) == 0]
        if not isl:
            break
        islands += isl
        ids = [i for i in ids if i not in set(isl)]
        if len(ids) < 3:
            return None, ids, islands
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w.transform = "r"
    return w, ids, islands


def _is_geo(wards) -> bool:
    try:
        import geopandas as gpd
    except ImportError:  # pragma: no cover - geopandas is a dependency
        return False
    return isinstance(wards, gpd.GeoDataFrame) and wards._geometry_column_name in wards.columns


def _require_geometry(wards, what: str) -> None:
    dup = _check_unique_index(wards)
    if dup:
        raise InputDataError(f"{what}: {dup[0]}")
    if not _is_geo(wards):
        raise InputDataError(
            "spatial clustering needs a GeoDataFrame with ward polygons (EPSG:28992); got a plain "
            "DataFrame - join the ward boundaries first (e.g. healthgeo.wards)")


def lisa_clusters(wards, indicators: Sequence[str], *, residents: str = "residents",
                  permutations: int = 999, seed: int = 0, alpha: float = 0.05,
                  contiguity: str = "queen", min_residents: float = DEFAULT_MIN_RESIDENTS,
                  ) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Local Moran (LISA) cluster label per ward and indicator: ``{indicator}_lisa``.

    Labels: HH, LL (high/low value among similar neighbours), HL, LH (spatial outliers) where
    the conditional-permutation pseudo p < ``alpha``; ``ns`` otherwise; ``island`` for wards
    without a contiguous neighbour among the wards with data (they are left out of the
    statistic rather than given a zero lag); NA for withheld or missing values.
    """
    from esda.moran import Moran_Local

    if permutations < 1:
        raise ConfigError(f"lisa_clusters: permutations must be at least 1 (the pseudo p-values come from them), "
                          f"got {permutations}; the config default is 999")
    _require_geometry(wards, "lisa_clusters")
    w_full = _contiguity(wards, contiguity)
    reason = ward_reasons(wards, residents, min_residents)
    disclosed = reason.isna().to_numpy()
    out = pd.DataFrame(index=wards.index)
    docs: dict[str, ColumnDoc] = {}
    for col in indicators:
        y_all = _numeric(wards, col)
        ok = disclosed & np.isfinite(y_all)
        labels = pd.Series(pd.NA, index=wards.index, dtype="string")
        w, ids, islands = _subgraph(w_full, wards.index[ok].tolist())
        labels.loc[islands] = "island"
        if w is not None:
            y = pd.Series(y_all, index=wards.index).loc[w.id_order].to_numpy()
            if np.nanstd(y) > 0:
                with warnings.catch_warnings():
                    # esda announces a future two-sided default; p_sim here is esda's folded
                    # pseudo p-value (observed tail), recomputed from the kept simulations
                    warnings.simplefilter("ignore", DeprecationWarning)
                    lm = Moran_Local(y, w, permutations=permutations, seed=seed)
                quad = np.array([_QUADRANTS[int(q)] for q in lm.q])
                lab = np.where(lm.p_sim < alpha, quad, "ns")
            else:
                lab = np.full(len(y), "ns")
            labels.loc[w.id_order] = lab
        if islands:
            log.info("%s: %d island ward(s) without neighbours: %s", col, len(islands), islands[:10])
        out[f"{col}_lisa"] = labels
        docs[f"{col}_lisa"] = doc(
            "class", f"LISA cluster of {col}: HH, LL, HL, LH (p < {alpha}), ns, island; NA = no data/withheld.",
            f"Local Moran's I, {contiguity} contiguity, row-standardised, over disclosed wards with a "
            f"value; {permutations} conditional permutations (seed {seed}); quadrant from the "
            "standardised value and its spatial lag. Wards without neighbours among those wards "
            "are labelled 'island' and excluded (repeated until none are left).",
            f"{ANSELIN_1995}; {PYSAL_ESDA}",
        )
    return out, docs


_QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}  # esda Moran_Local.q (geoda_quads=False)


def _global_moran(y: np.ndarray, w, permutations: int, rng: np.random.Generator):
    from esda.moran import Moran

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mi = Moran(y, w, permutations=0)
    i_obs = float(mi.I)
    if permutations <= 0:
        return i_obs, np.nan
    W = w.sparse.tocsr()
    z = y - y.mean()
    den = float(z @ z)
    s0 = float(W.sum())
    n = len(y)
    zp = rng.permuted(np.broadcast_to(z, (permutations, n)), axis=1)
    lag = (W @ zp.T).T
    sims = n / s0 * (zp * lag).sum(axis=1) / den
    larger = int(np.sum(sims >= i_obs))
    if permutations - larger < larger:
        larger = permutations - larger
    return i_obs, (larger + 1.0) / (permutations + 1.0)


def morans_i(wards, indicators: Sequence[str], *, residents: str = "residents",
             permutations: int = 999, seed: int = 0, contiguity: str = "queen",
             min_residents: float = DEFAULT_MIN_RESIDENTS, level: str | None = None,
             ) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Global Moran's I per indicator as disparity-table rows (metric ``morans_i``).

    I from :class:`esda.moran.Moran` (row-standardised weights, islands excluded as in
    :func:`lisa_clusters`); the pseudo p-value in ``p_value`` comes from ``permutations``
    random permutations drawn with a numpy Generator seeded by (seed, indicator), so it is
    reproducible without touching numpy's global random state.
    """
    _require_geometry(wards, "morans_i")
    w_full = _contiguity(wards, contiguity)
    reason = ward_reasons(wards, residents, min_residents)
    disclosed = reason.isna().to_numpy()
    rows = []
    for col in indicators:
        y_all = _numeric(wards, col)
        ok = disclosed & np.isfinite(y_all)
        w, ids, islands = _subgraph(w_full, wards.index[ok].tolist())
        if w is None:
            continue
        y = pd.Series(y_all, index=wards.index).loc[w.id_order].to_numpy()
        if np.std(y) == 0:
            i_val, p = np.nan, np.nan
        else:
            i_val, p = _global_moran(y, w, permutations, _seed_for(seed, "moran:" + col))
        rows.append({"indicator": col, "metric": "morans_i", "value": i_val, "ci_low": np.nan,
                     "ci_high": np.nan, "p_value": p, "n_wards": len(ids), "ranking_variable": "",
                     "level": _level(wards, level), "note": ""})
    table = pd.DataFrame(rows, columns=_TABLE_COLUMNS)
    table["n_wards"] = table["n_wards"].astype("int64")
    return table, dict(DISPARITY_TABLE_DOCS)


# --------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------


def _check_name_lengths(columns: Sequence[str]) -> None:
    """Derived column names must fit :data:`MAX_COLUMN_NAME_LENGTH` (dashboards, PostGIS)."""
    longest = len("conc_index_") + len("_lo95")  # gemeente summary: conc_index_{ind}_lo95
    limit = MAX_COLUMN_NAME_LENGTH - longest
    bad = sorted({c for c in columns if len(c) > limit})
    if bad:
        raise ConfigError(
            f"indicator name(s) {bad} are longer than {limit} characters: the derived column "
            f"conc_index_<indicator>_lo95 would exceed {MAX_COLUMN_NAME_LENGTH} characters, the "
            "limit of dashboards reading the GeoPackage (PostgreSQL/PostGIS identifiers). Rename "
            f"the column to at most {limit} characters (and in disparity.indicators).")


def compute_disparities(wards: pd.DataFrame, indicators: Sequence[str], *,
                        ranking: str | Sequence[str] = DEFAULT_RANKING,
                        proxy: str | None = DEFAULT_PROXY, residents: str = "residents",
                        higher_is_disadvantaged: Mapping[str, bool] | None = None,
                        bounded: Mapping[str, tuple[float, float] | None] | None = None,
                        n_boot: int = 1000, seed: int = 0,
                        min_residents: float = DEFAULT_MIN_RESIDENTS,
                        spatial: bool | None = None, spatial_indicators: Sequence[str] | None = None,
                        permutations: int = 999, alpha: float = 0.05, contiguity: str = "queen",
                        burden_groups: Mapping[str, Sequence[str]] | None = None,
                        burden_reference_table: pd.DataFrame | None = None,
                        higher_is_worse: Mapping[str, bool] | None = None,
                        double_burden_pctl: float = 75.0, level: str | None = None,
                        column_docs: Mapping[str, ColumnDoc] | None = None,
                        ) -> DisparityResult:
    """Run SES ranking, inequality measures, spatial clustering and cumulative burden.

    ``spatial`` defaults to True when ``wards`` has a geometry (GeoDataFrame); spatial
    statistics cover ``spatial_indicators`` (default: ``indicators``). The burden is computed
    when ``burden_groups`` is given (see :func:`cumulative_burden`), against the rows of
    ``level`` in ``burden_reference_table`` (e.g. :func:`read_burden_reference` of a previous
    run) or else this run's reference; ``reference`` returns the rows used, with ``label``
    ('current run' or the file) and ``level``. Wards under ``min_residents`` are withheld
    everywhere and excluded from all inputs. ``column_docs``: the docs of the input columns;
    their ``higher_is_worse`` gives the directions not in ``higher_is_worse`` and their labels
    name the derived columns (``*_pctl``, ``*_flag``, ``*_lisa``).

    Raises :class:`ConfigError` when an indicator name makes a derived column name longer than
    :data:`MAX_COLUMN_NAME_LENGTH`, :class:`InputDataError` when fewer than 2 wards can be
    ranked by SES.
    """
    _check_name_lengths(indicators)
    lvl = _level(wards, level)
    higher_is_worse = {**directions(column_docs or {}), **(higher_is_worse or {})}
    per_ward, docs = ses_rank(wards, ranking=ranking, proxy=proxy, residents=residents,
                              higher_is_disadvantaged=higher_is_disadvantaged,
                              min_residents=min_residents)
    table, _ = inequality_table(wards, indicators, ranking=ranking, proxy=proxy, residents=residents,
                                higher_is_disadvantaged=higher_is_disadvantaged, bounded=bounded,
                                n_boot=n_boot, seed=seed, min_residents=min_residents, level=level)
    if spatial is None:
        spatial = _is_geo(wards)
    if spatial:
        sp_ind = list(spatial_indicators) if spatial_indicators is not None else list(indicators)
        lisa, lisa_docs = lisa_clusters(wards, sp_ind, residents=residents, permutations=permutations,
                                        seed=seed, alpha=alpha, contiguity=contiguity,
                                        min_residents=min_residents)
        per_ward = per_ward.join(lisa)
        docs.update(lisa_docs)
        mt, _ = morans_i(wards, sp_ind, residents=residents, permutations=permutations, seed=seed,
                         contiguity=contiguity, min_residents=min_residents, level=level)
        table = pd.concat([table, mt], ignore_index=True) if len(mt) else table
    reference = pd.DataFrame(columns=BURDEN_REFERENCE_COLUMNS)
    if burden_groups:
        if burden_reference_table is not None:
            reference = reference_for_level(burden_reference_table, lvl).copy()
            if "label" not in reference:
                reference["label"] = "given table"
            reference["level"] = lvl
            reference = reference[BURDEN_REFERENCE_COLUMNS].reset_index(drop=True)
        else:
            reference = burden_reference(wards, burden_groups, residents=residents,
                                         higher_is_worse=higher_is_worse,
                                         min_residents=min_residents, label="current run",
                                         level=lvl)
        burden, bdocs = cumulative_burden(wards, burden_groups, reference=reference,
                                          residents=residents, higher_is_worse=higher_is_worse,
                                          double_burden_pctl=double_burden_pctl,
                                          min_residents=min_residents, level=lvl)
        per_ward = per_ward.join(burden.drop(columns="disclosure_reason"))
        docs.update(bdocs)
    table["n_wards"] = table["n_wards"].astype("int64")
    missing_docs = [c for c in per_ward.columns if c not in docs]
    assert not missing_docs, missing_docs  # internal invariant: every column documented
    docs = {c: _with_meta(c, d, column_docs or {}) for c, d in docs.items()}
    return DisparityResult(per_ward=per_ward, table=table, docs=docs, reference=reference)


#: labels (en, nl) and metadata of the fixed per-ward columns
_FIXED_META = {
    "ses_rank_frac": dict(theme="disparity", scale="fraction", label_en="SES rank", label_nl="SES-rang"),
    "ses_quintile": dict(theme="disparity", scale="category", label_en="SES quintile", label_nl="SES-kwintiel"),
    "ses_source": dict(theme="quality", scale="category", label_en="SES ranked by", label_nl="SES gerangschikt op"),
    "pollution_burden": dict(theme="burden", scale="rank", higher_is_worse=True,
                             label_en="pollution burden", label_nl="milieubelasting"),
    "pollution_burden_score": dict(theme="burden", scale="score", higher_is_worse=True,
                                   label_en="pollution burden score", label_nl="score milieubelasting"),
    "pollution_burden_pctl": dict(theme="burden", scale="rank", higher_is_worse=True,
                                  label_en="pollution burden percentile", label_nl="percentiel milieubelasting"),
    "population_characteristics": dict(theme="burden", scale="rank", higher_is_worse=True,
                                       label_en="population characteristics", label_nl="bevolkingskenmerken"),
    "population_characteristics_score": dict(theme="burden", scale="score", higher_is_worse=True,
                                             label_en="population characteristics score",
                                             label_nl="score bevolkingskenmerken"),
    "population_characteristics_pctl": dict(theme="burden", scale="rank", higher_is_worse=True,
                                            label_en="population characteristics percentile",
                                            label_nl="percentiel bevolkingskenmerken"),
    "burden_score": dict(theme="burden", scale="score", higher_is_worse=True,
                         label_en="cumulative burden score", label_nl="cumulatieve belasting"),
    "burden_score_pctl": dict(theme="burden", scale="rank", higher_is_worse=True,
                              label_en="cumulative burden percentile", label_nl="percentiel cumulatieve belasting"),
    "double_burden": dict(theme="burden", scale="flag", higher_is_worse=True,
                          label_en="double burden", label_nl="dubbele belasting"),
    "burden_n_indicators": dict(theme="quality", scale="count", label_en="burden indicators available",
                                label_nl="beschikbare belastingindicatoren"),
}


def _with_meta(column: str, d: ColumnDoc, source_docs: Mapping[str, ColumnDoc]) -> ColumnDoc:
    """Catalog metadata of a per-ward disparity/burden column (labels from its input column's doc)."""
    if column in _FIXED_META:
        return d.replace(**_FIXED_META[column])
    for suffix, meta, en, nl in (
        ("_lisa", dict(theme="disparity", scale="category"), "LISA cluster", "LISA-cluster"),
        ("_pctl", dict(theme="burden", scale="rank", higher_is_worse=True), "burden percentile", "lastpercentiel"),
        ("_flag", dict(theme="burden", scale="flag", higher_is_worse=True), "burden flag", "lastvlag"),
    ):
        if column.endswith(suffix):
            src = source_docs.get(column.removesuffix(suffix))
            stem = column.removesuffix(suffix)
            return d.replace(**meta, label_en=f"{(src.label_en if src and src.label_en else stem)}: {en}",
                             label_nl=f"{(src.label_nl if src and src.label_nl else stem)}: {nl}")
    return d


def concentration_summary(table: pd.DataFrame, codes: pd.Index) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """One row per municipality (``codes``) with the buurt-level relative concentration indices
    of the disparity ``table`` (``conc_index_{indicator}`` and its 95 % bounds) and their docs."""
    ci = table[table["metric"] == "ci_relative"].set_index("indicator")
    row, docs = {}, {}
    for ind, r in ci.iterrows():
        col = f"conc_index_{ind}"
        row[col], row[f"{col}_lo95"], row[f"{col}_hi95"] = r["value"], r["ci_low"], r["ci_high"]
        what = (f"relative concentration index of {ind} across buurten (ranked by SES, most "
                "disadvantaged first; < 0: concentrated among the disadvantaged)")
        method = "C = (2/mu) sum p_j y_j R_j - 1 over buurten; see the disparity table for all measures"
        meta = {"theme": "disparity", "scale": "index"}
        en, nl = f"concentration index: {ind}", f"concentratie-index: {ind}"
        docs[col] = doc("1", what, method, ODONNELL_2008, label_en=en, label_nl=nl, **meta)
        docs[f"{col}_lo95"] = doc("1", f"lower bound of the 95 % bootstrap interval: {what}", "bootstrap over buurten",
                                  ODONNELL_2008, label_en=f"{en} (lower 95 %)", label_nl=f"{nl} (ondergrens 95 %)", **meta)
        docs[f"{col}_hi95"] = doc("1", f"upper bound of the 95 % bootstrap interval: {what}", "bootstrap over buurten",
                                  ODONNELL_2008, label_en=f"{en} (upper 95 %)", label_nl=f"{nl} (bovengrens 95 %)", **meta)
    return pd.DataFrame([row], index=pd.Index(codes, name="gemeentecode")), docs
