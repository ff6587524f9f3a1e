"""Statistical disclosure control: the one place that decides what is published about small wards.

Every value healthgeo derives about a ward's residents (population-weighted exposure, health
impact, disparity ranks, burden percentiles, scenario deltas, ...) is withheld for wards with
fewer than ``min_residents`` residents (config ``disclosure.min_residents``), as CBS does for its
own key figures. Published totals are sums of their buurten, so some further wards are withheld
too (secondary suppression, :func:`hierarchical_suppression`): no withheld value follows from a
parent total by subtraction.

The decision rests on the ``residents`` column of the ward layers alone - never on which stages
of the pipeline ran - and :func:`protect_layer` / :func:`protect_table` apply it to every ward
and scenario layer and to every non-spatial table written by :mod:`healthgeo.assemble`. What a
column describes comes from its :class:`~healthgeo.dictionary.ColumnDoc` (``about``): values about
``residents`` are withheld, ``area`` and ``identity`` values stay. Reference distributions and
inequality measures are built only from disclosed wards (:func:`disclosed`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .dictionary import ColumnDoc, doc

log = logging.getLogger(__name__)

#: Wards with fewer residents are withheld. CBS does not publish many key figures for small
#: buurten ('.' in KWB, "om redenen van betrouwbaarheid en geheimhouding"); its thresholds differ
#: per variable, so this is configurable (``disclosure.min_residents``).
DEFAULT_MIN_RESIDENTS = 50

REASON_COLUMN = "disclosure_reason"

CBS_DISCLOSURE = (
    "CBS Kerncijfers wijken en buurten, toelichting: figures missing ('.') for small areas "
    "'om redenen van betrouwbaarheid en geheimhouding' (thresholds per variable; verify)"
)

SECONDARY_REASON = ("withheld with a small ward nearby (secondary suppression: otherwise its values "
                    "follow from the {what})")

_CODE_PREFIX = {"BU": "buurt", "WK": "wijk", "GM": "gemeente"}
_CODE_COLUMNS = {"buurtcode": "buurt", "wijkcode": "wijk", "gemeentecode": "gemeente"}
#: columns of a long table naming the indicator of its row
_NAME_COLUMNS = ("indicator", "variable", "column")



class DisclosureError(ValueError):
    """A table would publish a withheld ward's value and cannot be protected (a bug in healthgeo)."""


# --------------------------------------------------------------------------------------------
# Which wards are withheld
# --------------------------------------------------------------------------------------------

def primary_reasons(residents: pd.Series, min_residents: float = DEFAULT_MIN_RESIDENTS) -> pd.Series:
    """Reason per ward its values are withheld (NA when published): few or unknown residents."""
    pop = pd.to_numeric(residents, errors="coerce").to_numpy(dtype=float)
    reason = np.full(len(pop), None, dtype=object)
    reason[~np.isfinite(pop)] = "residents unknown"
    reason[np.isfinite(pop) & (pop < min_residents)] = (
        f"fewer than {min_residents:g} residents (statistical disclosure control)")
    return pd.Series(pd.array(reason, dtype="string"), index=residents.index, name=REASON_COLUMN)


def hierarchical_suppression(buurt: pd.DataFrame, wijk: pd.DataFrame | None, *,
                             min_residents: float) -> tuple[pd.Series, pd.Series]:
    """Extra buurten and wijken to withhold so that no withheld ward can be recovered by subtraction.

    ``buurt`` has ``residents``, ``wijkcode`` and the primary ``disclosure_reason``; ``wijk``
    (optional) ``residents`` and ``disclosure_reason``. Every published total is the sum of its
    buurten (wijk, gemeente; :func:`healthgeo.impact.aggregate_impact`), so subtracting the
    published buurten from it gives the withheld ones together. CBS-style secondary suppression
    therefore makes every such remainder cover at least two wards with ``min_residents``
    residents together (or nobody):

    * within each published wijk, the withheld buurten;
    * within the withheld wijken taken together, their withheld buurten (a withheld wijk whose
      buurten were all published would be known again);
    * within the gemeente, all withheld buurten; and among the wijken, the withheld ones.

    A failing group takes the published ward with the fewest residents of its scope (a wijk whose
    buurten are all withheld is withheld itself); repeated until nothing changes. Wards with
    unknown residents count as populated, with 0 towards the sum. Returns the secondary reasons
    of buurten and wijken (NA where unchanged).
    """
    res = pd.to_numeric(buurt["residents"], errors="coerce")
    in_wijk = buurt["wijkcode"].astype(str)
    hidden_b = set(buurt.index[buurt[REASON_COLUMN].notna()])
    reason_b = pd.Series(pd.NA, index=buurt.index, dtype="string")
    if wijk is not None:
        res_w = pd.to_numeric(wijk["residents"], errors="coerce")
        hidden_w = set(wijk.index[wijk[REASON_COLUMN].notna()])
    else:
        res_w, hidden_w = pd.Series(dtype=float), set()
    reason_w = pd.Series(pd.NA, index=wijk.index if wijk is not None else [], dtype="string")

    def fine(ids, r) -> bool:
        people = [i for i in ids if not (r[i] == 0)]  # NaN residents: count as people
        return not people or (len(people) >= 2 and np.nansum(r[people]) >= min_residents)

    def hide_buurt(scope, what) -> bool:
        shown = [i for i in scope if i not in hidden_b and res[i] > 0]
        if not shown:
            return False
        pick = min(shown, key=lambda i: (res[i], str(i)))
        hidden_b.add(pick)
        reason_b[pick] = SECONDARY_REASON.format(what=what)
        return True

    def hide_wijk(code, what) -> None:
        hidden_w.add(code)
        reason_w[code] = SECONDARY_REASON.format(what=what)

    members = {w: list(idx) for w, idx in buurt.groupby(in_wijk).groups.items()}
    for _ in range(len(buurt) + len(res_w) + 1):
        changed = False
        if wijk is not None and not fine(hidden_w, res_w):
            shown = [w for w in wijk.index if w not in hidden_w and res_w[w] > 0]
            if shown:
                hide_wijk(min(shown, key=lambda w: (res_w[w], str(w))), "gemeente total minus the other wijken")
                changed = True
        for w, ids in members.items():
            if w in hidden_w:
                continue
            if not fine([i for i in ids if i in hidden_b], res):
                if not hide_buurt(ids, "wijk total minus its other buurten"):
                    if wijk is not None and w in res_w.index:
                        hide_wijk(w, "wijk total, all of whose buurten are withheld")
                changed = True
        in_hidden_wijken = [i for w, ids in members.items() if w in hidden_w for i in ids]
        if not fine([i for i in in_hidden_wijken if i in hidden_b], res):
            changed |= hide_buurt(in_hidden_wijken, "withheld wijken's total minus their published buurten")
        if not fine(list(hidden_b), res):
            changed |= hide_buurt(list(buurt.index), "gemeente total minus the published buurten")
        if not changed:
            break
    return reason_b, reason_w


def disclosure_reasons(layers: Mapping[str, pd.DataFrame], *,
                       min_residents: float = DEFAULT_MIN_RESIDENTS) -> dict[str, pd.Series]:
    """Primary and secondary suppression of every ward level, from ``residents`` alone.

    ``layers`` maps levels (``buurt``, ``wijk``, ``gemeente``) to frames indexed by the ward code
    with a ``residents`` column (and ``wijkcode`` on the buurt layer). Returns, per level, the
    reason each ward is withheld (NA when published).
    """
    out = {}
    for level, frame in layers.items():
        res = frame["residents"] if "residents" in frame else pd.Series(np.nan, index=frame.index)
        if "residents" not in frame:
            log.warning("%s layer has no residents column: every %s is withheld (disclosure control)", level, level)
        out[level] = primary_reasons(res, min_residents)
    buurt = layers.get("buurt")
    if buurt is not None and "wijkcode" in buurt and len(buurt):
        wijk = layers.get("wijk")
        b = pd.DataFrame({"residents": pd.to_numeric(buurt.get("residents"), errors="coerce"),
                          "wijkcode": buurt["wijkcode"], REASON_COLUMN: out["buurt"]}, index=buurt.index)
        w = None
        if wijk is not None:
            w = pd.DataFrame({"residents": pd.to_numeric(wijk.get("residents"), errors="coerce"),
                              REASON_COLUMN: out["wijk"]}, index=wijk.index)
        extra_b, extra_w = hierarchical_suppression(b, w, min_residents=min_residents)
        for level, extra in (("buurt", extra_b), ("wijk", extra_w)):
            if level in out and extra.notna().any():
                log.info("%s: %d ward(s) withheld by secondary suppression", level, int(extra.notna().sum()))
                out[level] = out[level].fillna(extra.reindex(out[level].index))
    return out


def ward_reasons(wards: pd.DataFrame, residents: str, min_residents: float) -> pd.Series:
    """Reason per ward of a frame that its values are withheld (NA when disclosed): few residents
    (:func:`primary_reasons`), or a ``disclosure_reason`` the frame already carries (the full
    primary and secondary suppression of :func:`disclosure_reasons`, which the workflow joins on
    so that measures and references use only published wards)."""
    pop = wards[residents] if residents in wards else pd.Series(np.nan, index=wards.index)
    reason = primary_reasons(pop, min_residents)
    if REASON_COLUMN in wards:
        reason = reason.fillna(wards[REASON_COLUMN].astype("string"))
    return reason


def read_reasons(wards_path, *, min_residents: float = DEFAULT_MIN_RESIDENTS) -> dict[str, pd.Series]:
    """:func:`disclosure_reasons` of the ward layers in ``wards_path`` (``wards.gpkg``)."""
    import pyogrio

    from .wards import LEVELS, read_wards

    present = {name for name, _ in pyogrio.list_layers(wards_path)}
    return disclosure_reasons({lv: read_wards(wards_path, lv) for lv in LEVELS if lv in present},
                              min_residents=min_residents)


def disclosed(reasons: pd.Series) -> np.ndarray:
    """Boolean mask of the published wards (for measures and reference distributions)."""
    return reasons.isna().to_numpy()


def reason_doc(min_residents: float = DEFAULT_MIN_RESIDENTS) -> ColumnDoc:
    """Documentation of the ``disclosure_reason`` column."""
    return doc(
        "text", "Why this ward's values are withheld (NA = published).",
        f"Wards with fewer than {min_residents:g} residents (or unknown residents) get NULL in every "
        "column about their residents on every layer and table (area-based columns such as "
        "area means of NO2 and green shares stay), and so do the wards withheld with them so that "
        "no value follows from a published total (secondary suppression); all are excluded from "
        "inequality, clustering and burden inputs and reference distributions. Threshold: config "
        "disclosure.min_residents.",
        CBS_DISCLOSURE, theme="quality", about="identity", scale="text",
        label_en="disclosure", label_nl="geheimhouding",
    )


# --------------------------------------------------------------------------------------------
# What is withheld of them
# --------------------------------------------------------------------------------------------

def is_published(column: str, docs: Mapping[str, ColumnDoc]) -> bool:
    """True when ``column`` describes the area or the ward's identity (published for every ward).

    Decided by the column's :class:`~healthgeo.dictionary.ColumnDoc` ``about`` alone, set where the
    column is made; a column without a doc counts as about residents (withheld).
    """
    d = docs.get(column)
    return d is not None and d.about != "residents"


def withhold(frame: pd.DataFrame, mask, keep: Sequence[str]) -> pd.DataFrame:
    """NULL every column but ``keep`` (and the geometry) in the rows of ``mask``, keeping dtypes usable."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return frame.copy()
    geom = getattr(frame, "geometry", None)
    geom_name = geom.name if geom is not None else None
    nulled = {}
    for c in frame.columns:
        if c in keep or c == geom_name:
            continue
        col = frame[c]
        if pd.api.types.is_bool_dtype(col) or str(col.dtype) == "boolean":
            col = col.astype("boolean")
            col[mask] = pd.NA
        elif pd.api.types.is_numeric_dtype(col):
            col = col.astype(float)
            col[mask] = np.nan
        else:
            col = col.astype(object).where(col.notna(), None)  # NULL, never the text "<NA>"
            col[mask] = None
        nulled[c] = col
    # the changed columns replace the old ones at once (one per column would fragment the frame
    # into hundreds of blocks, which pandas warns about on the next insert)
    out = pd.concat([frame.drop(columns=list(nulled)), pd.DataFrame(nulled, index=frame.index)], axis=1)
    return out[list(frame.columns)]


def protect_layer(layer: pd.DataFrame, reasons: pd.Series, docs: Mapping[str, ColumnDoc], *,
                  keep: Sequence[str] = (), min_residents: float = DEFAULT_MIN_RESIDENTS,
                  ) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Withhold the resident-derived values of withheld wards on a layer indexed by ward code.

    Columns in ``keep`` (the ward's identity and CBS's own key figures) and columns whose doc says
    ``about`` area/identity stay; the ``disclosure_reason`` column is (re)written from ``reasons``.
    """
    reason = reasons.reindex(layer.index).astype("string")
    stay = [*keep, *(c for c in layer.columns if is_published(c, docs))]
    out = withhold(layer, reason.notna().to_numpy(), keep=[*stay, REASON_COLUMN])
    out[REASON_COLUMN] = reason  # in place when a stage already wrote one, else appended
    return out, {**docs, REASON_COLUMN: reason_doc(min_residents)}


def _row_levels(frame: pd.DataFrame) -> tuple[str | None, pd.Series | None]:
    """The ward code of each row of a non-spatial table (None when it has none)."""
    for col in ("buurtcode", "wijkcode", "gemeentecode", "code"):
        if col in frame.columns:
            return col, frame[col].astype("string")
    if frame.index.name in _CODE_COLUMNS or frame.index.name == "code":
        return frame.index.name, pd.Series(frame.index.astype(str), index=frame.index, dtype="string")
    return None, None


def _withheld_rows(codes: pd.Series, reasons: Mapping[str, pd.Series]) -> np.ndarray:
    hidden = set()
    for r in reasons.values():
        hidden |= set(map(str, r.index[r.notna()]))
    return codes.isin(hidden).fillna(False).to_numpy(dtype=bool)


def protect_table(frame: pd.DataFrame, docs: Mapping[str, ColumnDoc], reasons: Mapping[str, pd.Series], *,
                  values: Mapping[str, pd.DataFrame] | None = None, name: str = "table") -> pd.DataFrame:
    """Withhold what a non-spatial table would reveal about withheld wards.

    * Rows keyed by a ward code (``buurtcode``/``wijkcode``/``gemeentecode``/``code``) of a
      withheld ward lose every resident-derived value; in a long table (a row per ward and
      ``indicator``/``variable``/``column``) the value stays only when that indicator is about
      the area.
    * Lists of ward values (``variable``, ``value`` and ``level`` columns, e.g. a reference
      distribution) lose every value that only a withheld ward has: ``values`` maps a level to
      its layer *before* withholding, and a value of variable v at that level is dropped when
      more rows carry it than published wards do, and a withheld ward has it.
    """
    out = frame.copy()
    code_col, codes = _row_levels(out)
    if codes is not None:
        mask = _withheld_rows(codes, reasons)
        if mask.any():
            named = next((c for c in _NAME_COLUMNS if c in out.columns), None)
            keep = [c for c in out.columns if c == code_col or is_published(c, docs)]
            if named is not None:
                area_rows = out[named].astype(str).map(lambda v: is_published(v, docs)).to_numpy(dtype=bool)
                structural = [c for c in out.columns if c in keep or c in (named, "level", "kind", "label")]
                protected = withhold(out, mask & ~area_rows, keep=structural)
                out = protected
            else:
                out = withhold(out, mask, keep=keep)
            log.info("%s: values of %d row(s) about withheld wards withheld (disclosure control)", name, int(mask.sum()))
    if values is not None and {"variable", "value", "level"} <= set(out.columns):
        out = _drop_withheld_values(out, reasons, values, name=name)
    return out


def _drop_withheld_values(frame: pd.DataFrame, reasons, values, *, name: str) -> pd.DataFrame:
    drop = np.zeros(len(frame), dtype=bool)
    value = pd.to_numeric(frame["value"], errors="coerce")
    for (level, var), idx in frame.groupby([frame["level"].astype(str), frame["variable"].astype(str)]).groups.items():
        layer = values.get(level)
        if level not in reasons or not reasons[level].notna().any():
            continue
        if layer is None or var not in layer.columns:  # cannot be checked against the wards: left out
            drop[frame.index.get_indexer(idx)] = True
            continue
        hidden = reasons[level].reindex(layer.index).notna().to_numpy()
        x = pd.to_numeric(layer[var], errors="coerce")
        shown_counts = x[~hidden].value_counts()
        hidden_values = set(x[hidden].dropna())
        rows = value.loc[idx]
        seen = rows.groupby(rows).cumcount()  # 0 for the first row with a value, 1 for the next, ...
        allowed = rows.map(shown_counts).fillna(0)
        bad = rows.isin(hidden_values) & (seen >= allowed)
        drop[frame.index.get_indexer(bad.index[bad])] = True
    if drop.any():
        log.warning("%s: %d value(s) of withheld wards left out (disclosure control)", name, int(drop.sum()))
    return frame.loc[~drop]


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------

def min_residents_from_config(cfg: Mapping) -> float:
    """The disclosure threshold of a validated config (``disclosure.min_residents``)."""
    return float(cfg.get("disclosure", {}).get("min_residents", DEFAULT_MIN_RESIDENTS))
