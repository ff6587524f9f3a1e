"""Cumulative burden: percentiles of burden indicators, components, scores and the double burden.

CalEnviroScreen-style (docs/methods.md#cumulative-burden): each indicator becomes a burden
percentile against a reference distribution (this run's published wards, or a fixed reference of
an earlier run, :func:`read_burden_reference`), percentiles are averaged into the exposures,
effects, sensitivity and socioeconomic components, and those into a pollution burden and
population characteristics score whose product is ``burden_score``. Which column enters which
component and which end is worse come from the columns' documentation where they are made
(``ColumnDoc.burden_group`` and ``higher_is_worse``, see :func:`directions`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import _inequality as ineq
from ._errors import ConfigError, InputDataError
from ._vocab import LEVEL_OF_COLUMN
from .dictionary import CALENVIROSCREEN_4, ColumnDoc, doc
from .disclosure import DEFAULT_MIN_RESIDENTS, reason_doc, ward_reasons
from .sources.health import HEALTH_KEYS, health_docs
from .sources.ses import ses_docs
from .wards import ward_docs

log = logging.getLogger(__name__)

__all__ = [
    "BURDEN_REFERENCE_COLUMNS",
    "BURDEN_REFERENCE_DOCS",
    "burden_percentile",
    "burden_reference",
    "cumulative_burden",
    "direction_of",
    "directions",
    "read_burden_reference",
    "reference_for_level",
]

BURDEN_REFERENCE_DOCS: dict[str, ColumnDoc] = {
    "variable": doc("text", "Indicator or burden component the reference value belongs to."),
    "kind": doc("text", "'distribution' (one row per reference value) or 'max' (0-10 scaling maximum)."),
    "value": doc("indicator unit (raw values); percentile 0-100 (components); score 0-100 (burden_score)",
                 "Reference value; pass this table back in (config disparity.burden_reference) to "
                 "score later runs on a fixed scale.", "", CALENVIROSCREEN_4),
    "label": doc("text", "Where the reference comes from: 'current run' (built from this run's "
                 "disclosed wards) or the file it was read from (a previous run's healthgeo.gpkg "
                 "or a CSV)."),
    "level": doc("text", "Ward level the reference belongs to (buurt, wijk); a run uses only the "
                 "rows of its own level."),
}

#: Columns of a burden reference table (:func:`burden_reference`, GeoPackage layer ``burden_reference``).
BURDEN_REFERENCE_COLUMNS = list(BURDEN_REFERENCE_DOCS)


def directions(docs: Mapping[str, ColumnDoc]) -> dict[str, bool]:
    """Which end of each documented column is the worse one (``ColumnDoc.higher_is_worse``)."""
    return {c: bool(d.higher_is_worse) for c, d in docs.items() if d.higher_is_worse is not None}


@lru_cache(maxsize=1)
def _ses_directions() -> dict[str, bool]:
    """Directions of the SES ranking variables and proxies: CBS key figures, SES-WOA and health items,
    from the docs of the modules that make those columns."""
    return directions({**ward_docs("buurt"), **health_docs([f"health_{k}_pct" for k in HEALTH_KEYS]), **ses_docs()})


def direction_of(col: str, given: Mapping[str, bool] | None) -> bool | None:
    """Direction of ``col``: as given, else that of an SES variable (key figures, health items)."""
    if given and col in given:
        return bool(given[col])
    return _ses_directions().get(col)


def _level_of(wards: pd.DataFrame, level: str | None) -> str:
    return level or LEVEL_OF_COLUMN.get(wards.index.name or "", "ward")


def _numeric(wards: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(wards[col], errors="coerce").to_numpy(dtype=float)


# --------------------------------------------------------------------------------------------
# 4. Cumulative burden (CalEnviroScreen 4.0 style)
# --------------------------------------------------------------------------------------------

_GROUPS = ("exposures", "effects", "sensitivity", "socioeconomic")


def _burden_spec(groups: Mapping[str, Sequence[str]], wards: pd.DataFrame,
                 higher_is_worse: Mapping[str, bool] | None):
    unknown = [g for g in groups if g not in _GROUPS]
    problems = [f"unknown group(s) {unknown}; use {list(_GROUPS)}"] if unknown else []
    spec = {g: list(groups.get(g, ())) for g in _GROUPS}
    if not (spec["exposures"] or spec["effects"]):
        problems.append("give at least one column under 'exposures' or 'effects'")
    if not (spec["sensitivity"] or spec["socioeconomic"]):
        problems.append("give at least one column under 'sensitivity' or 'socioeconomic'")
    cols = [c for g in _GROUPS for c in spec[g]]
    miss = [c for c in cols if c not in wards.columns]
    if miss:
        problems.append(f"missing column(s) {miss}")
    nodir = [c for c in cols if direction_of(c, higher_is_worse) is None]
    if nodir:
        problems.append(f"unknown direction for {nodir}: pass higher_is_worse={{column: bool}}")
    if problems:
        raise ConfigError("cumulative_burden: " + "; ".join(problems))
    return spec, cols


def burden_percentile(values, reference, higher_is_worse: bool = True) -> np.ndarray:
    """Burden percentile (0-100, 100 = worst) of ``values`` within ``reference``.

    Mid-rank percentile (:func:`healthgeo._inequality.percentile_rank`), oriented so that high =
    more burden, with the **worst-tie rule**: wards tied on a value (within floating-point
    tolerance) all get the percentile of the worst position of their tie block, i.e. the mid-rank
    of its last member counted from the least burdened end. All wards at the worst value are
    equally worst-off, so a large block of ties (e.g. many wards without any green) is not pulled
    down to the middle of the block and below the flag cut-off. Untied values keep their
    mid-rank (i + 0.5)/n, so the range stays inside (0, 100).
    """
    if higher_is_worse:
        return ineq.percentile_rank(values, reference, ties="upper")
    return 100.0 - ineq.percentile_rank(values, reference, ties="lower")


def _indicator_percentiles(wards, cols, ref_values: Mapping[str, np.ndarray], disclosed,
                           higher_is_worse):
    pct = {}
    for c in cols:
        x = _numeric(wards, c)
        x = np.where(disclosed, x, np.nan)
        pct[c] = burden_percentile(x, ref_values[c], bool(direction_of(c, higher_is_worse)))
    return pct


def _burden_scores(pb, pc, pb_max: float, pc_max: float):
    """0-10 scores of both components and their product, the 0-100 burden score.

    The one expression used both for the reference distribution and for every ward, so a ward
    scored against its own run's reference finds its score in it bit for bit.
    """
    pb_s = pb / float(pb_max) * 10.0
    pc_s = pc / float(pc_max) * 10.0
    return pb_s, pc_s, pb_s * pc_s


def _wmean(parts, n):
    """Weighted mean per ward over the parts that are finite there (NaN where none is)."""
    num = np.zeros(n)
    den = np.zeros(n)
    for vals, wt in parts:
        ok = np.isfinite(vals)
        num += np.where(ok, vals * wt, 0.0)
        den += np.where(ok, wt, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _components(spec, pct, n):
    """Pollution burden and population characteristics, CalEnviroScreen 4.0 weighting.

    The percentiles are first averaged *within* each of the four components (over the
    indicators available for the ward; NaN when none is), then
    pollution burden = (exposures + 0.5 effects) / 1.5 and
    population characteristics = (sensitivity + socioeconomic) / 2, each over the components
    available (a missing component leaves the other alone, as a missing indicator does).
    """
    comp = {g: _wmean([(pct[c], 1.0) for c in spec[g]], n) for g in _GROUPS}
    pb = _wmean([(comp["exposures"], 1.0), (comp["effects"], 0.5)], n)
    pc = _wmean([(comp["sensitivity"], 1.0), (comp["socioeconomic"], 1.0)], n)
    return pb, pc


def _finite_max(values: np.ndarray) -> float:
    v = values[np.isfinite(values)]
    return float(v.max()) if v.size else np.nan


def _check_burden_values(wards, cols, disclosed) -> None:
    """Every burden indicator needs a value in at least one disclosed ward."""
    empty = [c for c in cols if not np.isfinite(_numeric(wards, c)[disclosed]).any()]
    if empty:
        raise InputDataError(
            f"cumulative burden: indicator(s) {empty} have no values among the "
            f"{int(disclosed.sum())} disclosed ward(s) of {len(wards)} (all missing, or every ward "
            "with a value withheld by min_residents); drop them from the burden groups or supply "
            "their data")


def read_burden_reference(path) -> pd.DataFrame:
    """A fixed burden reference from a file: a previous run's ``healthgeo.gpkg`` (its
    ``burden_reference`` layer) or a CSV with the columns of :data:`BURDEN_REFERENCE_COLUMNS`.

    All levels are returned; :func:`cumulative_burden` keeps those of its level. ``label`` is
    set to the file, so the reference written by this run says where it came from.
    """
    path = Path(path)
    hint = ("give the healthgeo.gpkg of a previous run (its burden_reference layer) or a CSV with "
            f"columns {BURDEN_REFERENCE_COLUMNS} (disparity.burden_reference in the config)")
    if not path.is_file():
        raise ConfigError(f"burden reference {path} does not exist; {hint}")
    suffix = path.suffix.lower()
    if suffix == ".gpkg":
        import pyogrio

        layers = [name for name, _ in pyogrio.list_layers(path)]
        if "burden_reference" not in layers:
            raise InputDataError(f"{path} has no burden_reference layer (layers: {layers}); {hint}")
        ref = pyogrio.read_dataframe(path, layer="burden_reference", read_geometry=False)
    elif suffix == ".csv":
        ref = pd.read_csv(path)
    else:
        raise ConfigError(f"burden reference {path}: unknown file type {suffix!r}; {hint}")
    need = ["variable", "kind", "value", "level"]
    miss = [c for c in need if c not in ref.columns]
    if miss:
        raise InputDataError(f"burden reference {path} lacks column(s) {miss} (found "
                             f"{list(ref.columns)}); {hint} - a run made before the level column "
                             "existed has to be rerun")
    ref = pd.DataFrame(ref)[need].copy()
    ref["value"] = pd.to_numeric(ref["value"], errors="coerce")
    ref["label"] = str(path)
    return ref[BURDEN_REFERENCE_COLUMNS].reset_index(drop=True)


def reference_for_level(reference: pd.DataFrame, level: str) -> pd.DataFrame:
    """The rows of ``reference`` for ``level``, checked: one maximum per component."""
    need = {"variable", "kind", "value"}
    if not need <= set(reference.columns):
        raise InputDataError(f"reference table lacks columns {sorted(need - set(reference.columns))}; "
                             "pass the output of burden_reference() or read_burden_reference()")
    if "level" in reference.columns:
        lv = reference["level"].astype("string")
        ref = reference[(lv == level).fillna(False).to_numpy()]
        if ref.empty:
            raise InputDataError(
                f"reference table has no rows for level {level!r} (levels: "
                f"{sorted(lv.dropna().unique().tolist())}); use a reference built at the same ward "
                "level (a previous run's healthgeo.gpkg has buurt and wijk)")
    else:  # a single reference made in memory; mixed levels are caught below
        ref = reference
    maxima = ref.loc[ref["kind"] == "max", "variable"]
    dup = sorted(maxima[maxima.duplicated()].unique().tolist())
    if dup:
        raise InputDataError(
            f"reference table has more than one 'max' row for {dup} at level {level!r}: it mixes "
            "several references (e.g. buurt and wijk, or two runs, without a level column); "
            "keep one run's rows of one level")
    return ref


def _burden_label(reference: pd.DataFrame) -> str:
    labels = sorted(set(reference["label"].dropna().astype(str))) if "label" in reference else []
    return labels[0] if len(labels) == 1 else "; ".join(labels)


def burden_reference(wards: pd.DataFrame, groups: Mapping[str, Sequence[str]], *,
                     residents: str = "residents",
                     higher_is_worse: Mapping[str, bool] | None = None,
                     min_residents: float = DEFAULT_MIN_RESIDENTS, label: str = "",
                     level: str | None = None) -> pd.DataFrame:
    """Reference distributions for :func:`cumulative_burden`, from this set of wards.

    Long table, columns :data:`BURDEN_REFERENCE_COLUMNS` (``variable``, ``kind``
    ('distribution' or 'max'), ``value``, ``label``, ``level``): the disclosed wards' raw
    values of every indicator, their ``pollution_burden`` / ``population_characteristics``
    and ``burden_score``, and the maxima used for the 0-10 scaling. ``level`` defaults to the
    index name (``buurtcode`` -> buurt). Store it and pass it back in for later years so
    percentiles stay comparable (global-indicators issue #136).

    Raises :class:`InputDataError` when an indicator has no value in any disclosed ward.
    """
    spec, cols = _burden_spec(groups, wards, higher_is_worse)
    disclosed = ward_reasons(wards, residents, min_residents).isna().to_numpy()
    _check_burden_values(wards, cols, disclosed)
    ref_values = {c: _numeric(wards, c)[disclosed] for c in cols}
    pct = _indicator_percentiles(wards, cols, ref_values, disclosed, higher_is_worse)
    pb, pc = _components(spec, pct, len(wards))
    pb_max, pc_max = _finite_max(pb[disclosed]), _finite_max(pc[disclosed])
    _, _, score = _burden_scores(pb, pc, pb_max, pc_max)
    rows = []
    for c in cols:
        rows += [(c, "distribution", v) for v in ref_values[c] if np.isfinite(v)]
    for name, vals in (("pollution_burden", pb), ("population_characteristics", pc),
                       ("burden_score", score)):
        rows += [(name, "distribution", v) for v in vals[disclosed] if np.isfinite(v)]
    rows += [("pollution_burden", "max", pb_max), ("population_characteristics", "max", pc_max)]
    ref = pd.DataFrame(rows, columns=["variable", "kind", "value"])
    ref["label"] = label
    ref["level"] = _level_of(wards, level)
    return ref[BURDEN_REFERENCE_COLUMNS]


def cumulative_burden(wards: pd.DataFrame, groups: Mapping[str, Sequence[str]], *,
                      reference: pd.DataFrame | None = None, residents: str = "residents",
                      higher_is_worse: Mapping[str, bool] | None = None,
                      flag_pctl: float = 75.0, double_burden_pctl: float = 75.0,
                      min_residents: float = DEFAULT_MIN_RESIDENTS, level: str | None = None,
                      ) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """CalEnviroScreen-4.0-style cumulative burden per ward.

    Parameters
    ----------
    groups
        ``{'exposures': [...], 'effects': [...], 'sensitivity': [...], 'socioeconomic': [...]}``
        (columns; exposures/effects form the pollution burden, sensitivity (health) and
        socioeconomic the population characteristics).
    reference
        Output of :func:`burden_reference` (or :func:`read_burden_reference`) from a fixed base
        year; default: this run's wards. Only its rows of ``level`` are used; more than one
        'max' row per component in that level, or a missing variable, raises
        :class:`InputDataError`.
    level
        Ward level of ``wards`` (default from the index name: ``buurtcode`` -> buurt).
    higher_is_worse
        Direction per column (``ColumnDoc.higher_is_worse``, see :func:`directions`); needed for
        every column but the SES variables.
    flag_pctl, double_burden_pctl
        Percentile at or above which an indicator is flagged, and both components must be
        for ``double_burden``.

    Returns
    -------
    (frame, docs): ``{col}_pctl`` and ``{col}_flag`` per indicator, ``pollution_burden``,
    ``pollution_burden_score``, ``pollution_burden_pctl``, ``population_characteristics``,
    ``population_characteristics_score``, ``population_characteristics_pctl``,
    ``burden_score``, ``burden_score_pctl``, ``double_burden``, ``burden_n_indicators``,
    ``disclosure_reason``.
    """
    spec, cols = _burden_spec(groups, wards, higher_is_worse)
    lvl = _level_of(wards, level)
    reason = ward_reasons(wards, residents, min_residents)
    disclosed = reason.isna().to_numpy()
    _check_burden_values(wards, cols, disclosed)
    if reference is None:
        reference = burden_reference(wards, groups, residents=residents,
                                     higher_is_worse=higher_is_worse, min_residents=min_residents,
                                     label="current run", level=lvl)
    reference = reference_for_level(reference, lvl)
    values = pd.to_numeric(reference["value"], errors="coerce")
    dist = reference["kind"] == "distribution"
    ref_values = {v: g.to_numpy(dtype=float) for v, g in values[dist].groupby(reference.loc[dist, "variable"])}
    ref_values = {v: a[np.isfinite(a)] for v, a in ref_values.items()}
    is_max = reference["kind"] == "max"
    maxima = dict(zip(reference.loc[is_max, "variable"], values[is_max]))
    absent = [c for c in cols + ["pollution_burden", "population_characteristics", "burden_score"]
              if not ref_values.get(c, np.empty(0)).size] + [
        m for m in ("pollution_burden", "population_characteristics")
        if not (np.isfinite(maxima.get(m, np.nan)) and maxima[m] > 0)]
    if absent:
        raise InputDataError(
            f"the burden reference ({_burden_label(reference) or 'given table'}, level {lvl}) has no "
            f"values for {sorted(set(absent))}; use a reference built with the same burden groups "
            "(burden_reference() or a previous run's healthgeo.gpkg), or drop those indicators")
    n = len(wards)
    pct = _indicator_percentiles(wards, cols, ref_values, disclosed, higher_is_worse)
    pb, pc = _components(spec, pct, n)
    pb_s, pc_s, score = _burden_scores(pb, pc, maxima["pollution_burden"],
                                       maxima["population_characteristics"])
    pb_p = burden_percentile(pb, ref_values["pollution_burden"])
    pc_p = burden_percentile(pc, ref_values["population_characteristics"])
    sc_p = burden_percentile(score, ref_values["burden_score"])
    out = pd.DataFrame(index=wards.index)
    docs: dict[str, ColumnDoc] = {}
    ref_note = ("percentile within the fixed reference distribution "
                f"({_burden_label(reference) or 'given table'}, level {lvl}; default: disclosed "
                "wards of this run), see the burden_reference table: mid-rank 100 (i + 0.5)/n, "
                "except that wards tied on a value (within a relative tolerance of 1e-10) all get "
                "the percentile of the worst position of their tie block (worst-tie rule: every "
                "ward at the worst value is equally worst-off)")
    for g in _GROUPS:
        for c in spec[g]:
            worse = "higher" if direction_of(c, higher_is_worse) else "lower"
            out[f"{c}_pctl"] = pct[c]
            flag = pd.array(np.where(np.isfinite(pct[c]), pct[c] >= flag_pctl, False), dtype="boolean")
            flag[~np.isfinite(pct[c])] = pd.NA
            out[f"{c}_flag"] = flag
            docs[f"{c}_pctl"] = doc(
                "percentile 0-100", f"Burden percentile of {c} ({g}); 100 = worst ({worse} raw value is worse).",
                f"{ref_note}; oriented so that high = more burden.", CALENVIROSCREEN_4)
            docs[f"{c}_flag"] = doc("bool", f"{c} burden percentile >= {flag_pctl:g}.",
                                    "Raw value kept in the input column; percentile and flag here.",
                                    CALENVIROSCREEN_4)
    used = np.zeros(n, dtype=int)
    for c in cols:
        used += np.isfinite(pct[c]).astype(int)
    dbl = pd.array((pb_p >= double_burden_pctl) & (pc_p >= double_burden_pctl), dtype="boolean")
    dbl[~(np.isfinite(pb_p) & np.isfinite(pc_p))] = pd.NA
    out["pollution_burden"] = pb
    out["pollution_burden_score"] = pb_s
    out["pollution_burden_pctl"] = pb_p
    out["population_characteristics"] = pc
    out["population_characteristics_score"] = pc_s
    out["population_characteristics_pctl"] = pc_p
    out["burden_score"] = score
    out["burden_score_pctl"] = sc_p
    out["double_burden"] = dbl
    out["burden_n_indicators"] = pd.array(np.where(disclosed, used, 0), dtype="Int64")
    out.loc[~disclosed, "burden_n_indicators"] = pd.NA
    out["disclosure_reason"] = reason
    docs.update({
        "pollution_burden": doc(
            "percentile 0-100", "Pollution burden: exposures component and environmental-effects "
            "component (weighted 1/2) averaged.",
            "(mean(exposure pctl) + 0.5 mean(effect pctl)) / 1.5: percentiles averaged within each "
            "component first (over the indicators available for the ward), then the components; "
            "a component without any available indicator is left out (the other one alone).",
            CALENVIROSCREEN_4),
        "pollution_burden_score": doc("score 0-10", "Pollution burden scaled to 0-10.",
                                      "pollution_burden / reference maximum * 10.", CALENVIROSCREEN_4),
        "pollution_burden_pctl": doc("percentile 0-100", "Percentile of pollution_burden.", ref_note,
                                     CALENVIROSCREEN_4),
        "population_characteristics": doc(
            "percentile 0-100", "Population characteristics: sensitive-population (health) component "
            "and socioeconomic component averaged.",
            "(mean(sensitivity pctl) + mean(socioeconomic pctl)) / 2: percentiles averaged within "
            "each component first (over the indicators available for the ward), then the two "
            "components with equal weight; a component without any available indicator is left "
            "out.", CALENVIROSCREEN_4),
        "population_characteristics_score": doc("score 0-10", "Population characteristics scaled to 0-10.",
                                                "value / reference maximum * 10.", CALENVIROSCREEN_4),
        "population_characteristics_pctl": doc("percentile 0-100", "Percentile of population_characteristics.",
                                               ref_note, CALENVIROSCREEN_4),
        "burden_score": doc("score 0-100", "Cumulative burden score = pollution_burden_score x "
                            "population_characteristics_score.", "Product of the two 0-10 scores.",
                            CALENVIROSCREEN_4),
        "burden_score_pctl": doc("percentile 0-100", "Percentile of burden_score.", ref_note, CALENVIROSCREEN_4),
        "double_burden": doc(
            "bool", f"Pollution-burden percentile >= {double_burden_pctl:g} AND population-characteristics "
            f"percentile >= {double_burden_pctl:g} (high burden and low SES / poor health).",
            "NA when either percentile is missing.", CALENVIROSCREEN_4),
        "burden_n_indicators": doc("count", "Indicators with a percentile for this ward."),
        "disclosure_reason": reason_doc(min_residents),
    })
    return out, docs
