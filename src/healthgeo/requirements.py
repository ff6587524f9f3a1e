"""Health requirements of a programme of requirements (PvE) checked per ward: a scorecard.

A requirement names an indicator (a ward-layer column), an operator and a threshold, the target
group it protects and the area types (typology classes, :mod:`healthgeo.typology`) it applies
to. Each ward gets, per requirement, its value and ``met`` = true / false / NULL; NULL always
comes with a reason - the requirement does not apply to the ward's area type, the indicator was
not computed in this run, or the ward has no value for it (with the indicator's own reason
column, e.g. ``tree_canopy_reason``). An unknown value is never counted as "not met".

:data:`DEFAULT_REQUIREMENTS` is the default set, each with the source of its threshold;
:func:`requirement_problems` checks a configured set before any work (an unknown indicator is
refused with the closest valid names, :func:`difflib.get_close_matches`).
See docs/methods.md#health-requirements.
"""

from __future__ import annotations

import difflib
import logging
import operator
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from ._errors import ConfigError
from .dictionary import KONIJNENDIJK_2023, WHO_AQG_2021, WHO_ENG_2018, WHO_GREEN_2017, ColumnDoc, doc

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_REQUIREMENTS", "OPERATORS", "known_indicators", "requirement_problems",
           "resolve_requirements", "evaluate_requirements", "REQUIREMENT_TABLE_DOCS", "SUMMARY_DOCS"]

OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
             "==": operator.eq, "!=": operator.ne}

KLUCK_2020 = ("Kluck et al. (2020), De hittebestendige stad, Hogeschool van Amsterdam / Tauw / WUR / Hanzehogeschool: "
              "a cool place of >= 200 m2 within 300 m of every home")
_RESIDENTIAL = ["woonwijk", "aandachtswijk", "centrum", "mobiliteitsknooppunt", "herontwikkeling"]
_SHARE_NOTE = ("0.95 of the residents: the guideline asks for every home; 5 % tolerance for geocoding and "
               "network-edge effects is a healthgeo planning choice")

#: The default PvE set. ``source`` names where each threshold comes from; where the guideline
#: speaks of every home, the share threshold 0.95 is a planning choice (said in the source).
DEFAULT_REQUIREMENTS: list[dict] = [
    {"id": "air_no2_who2021", "label_nl": "NO2 bij de woning ≤ WHO-advieswaarde (10 µg/m³)",
     "label_en": "NO2 at home ≤ WHO guideline (10 µg/m³)", "indicator": "no2_ugm3_popw", "op": "<=",
     "threshold": 10.0, "target_group": "all residents", "area_types": [],
     "source": f"{WHO_AQG_2021}: annual-mean NO2 guideline level 10 µg/m³"},
    {"id": "air_pm25_who2021", "label_nl": "PM2,5 bij de woning ≤ WHO-advieswaarde (5 µg/m³)",
     "label_en": "PM2.5 at home ≤ WHO guideline (5 µg/m³)", "indicator": "pm25_ugm3_popw", "op": "<=",
     "threshold": 5.0, "target_group": "all residents", "area_types": [],
     "source": f"{WHO_AQG_2021}: annual-mean PM2.5 guideline level 5 µg/m³"},
    {"id": "noise_lden_who2018", "label_nl": "Wegverkeerslawaai Lden < 53 dB (WHO)",
     "label_en": "Road-traffic noise Lden < 53 dB (WHO)", "indicator": "lden_db_popw", "op": "<",
     "threshold": 53.0, "target_group": "all residents", "area_types": [],
     "source": f"{WHO_ENG_2018}: road traffic, Lden 53 dB"},
    {"id": "noise_lnight_who2018", "label_nl": "Wegverkeerslawaai 's nachts Lnight < 45 dB (WHO)",
     "label_en": "Road-traffic night noise Lnight < 45 dB (WHO)", "indicator": "lnight_db_popw", "op": "<",
     "threshold": 45.0, "target_group": "all residents", "area_types": [],
     "source": f"{WHO_ENG_2018}: road traffic, Lnight 45 dB"},
    {"id": "green_1ha_300m", "label_nl": "Groen van ≥ 1 ha binnen 300 m van (vrijwel) elke woning",
     "label_en": "Green space ≥ 1 ha within 300 m of (nearly) every home", "indicator": "pop_share_green_1ha_300m",
     "op": ">=", "threshold": 0.95, "target_group": "all residents", "area_types": _RESIDENTIAL,
     "source": f"{WHO_GREEN_2017} (green space of >= 0.5-1 ha within 300 m of every home); {_SHARE_NOTE}"},
    {"id": "canopy_30pct", "label_nl": "Bladerdek ≥ 30 % (3-30-300)", "label_en": "Tree canopy ≥ 30 % (3-30-300)",
     "indicator": "tree_canopy_pct", "op": ">=", "threshold": 30.0, "target_group": "all residents",
     "area_types": [], "source": f"{KONIJNENDIJK_2023}: 30 % tree canopy in every neighbourhood"},
    {"id": "playground_children_500m", "label_nl": "Speelplek binnen 500 m lopen voor (vrijwel) alle kinderen",
     "label_en": "Playground within 500 m walking for (nearly) all children",
     "indicator": "pop_share_playground_walk_500m_children", "op": ">=", "threshold": 0.95,
     "target_group": "children 0-14", "area_types": ["woonwijk", "aandachtswijk", "herontwikkeling"],
     "source": ("Jantje Beton / NUSO guidance on play space: play areas for older children within about 400-500 m "
                f"of home (verify); {_SHARE_NOTE}")},
    {"id": "gp_1km_65plus", "label_nl": "Huisarts binnen 1 km lopen voor (vrijwel) alle 65-plussers",
     "label_en": "GP within 1 km walking for (nearly) all residents aged 65+",
     "indicator": "pop_share_gp_walk_1000m_65plus", "op": ">=", "threshold": 0.95, "target_group": "65+",
     "area_types": _RESIDENTIAL,
     "source": ("planning target of the planners' brief (healthgeo issue 16: GP within 1 km for 65+), not a guideline "
                "value; the mean road distance to a GP in the "
                f"Netherlands is about 1 km (CBS Nabijheid voorzieningen); {_SHARE_NOTE}")},
    {"id": "cool_place_300m", "label_nl": "Koele plek binnen 300 m lopen van (vrijwel) elke woning",
     "label_en": "Cool place within 300 m walking of (nearly) every home",
     "indicator": "pop_share_cool_place_walk_300m", "op": ">=", "threshold": 0.95,
     "target_group": "all residents", "area_types": [], "source": f"{KLUCK_2020}; {_SHARE_NOTE}"},
    {"id": "fastfood_share_max_50pct", "label_nl": "Hoogstens de helft van de voedselverkooppunten is fastfood",
     "label_en": "At most half of the food outlets nearby are fast food", "indicator": "fastfood_share_pct_1km",
     "op": "<=", "threshold": 50.0, "target_group": "all residents", "area_types": _RESIDENTIAL,
     "source": ("planning choice: no guideline value exists; the share of fast food among food outlets within "
                "1 km walking is the food-environment measure of docs/methods.md#food-environment")},
]


@lru_cache(maxsize=1)
def _listed_indicators() -> tuple[str, ...]:
    text = resources.files("healthgeo").joinpath("data/indicator_columns.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def known_indicators(cfg: Mapping | None = None) -> set[str]:
    """Every indicator column a run can make: the listed ones (``data/indicator_columns.txt``,
    the ward-layer indicators of the default demo run) plus the names that depend on the
    config - walking thresholds (``network.thresholds_m``) and the cool-place distance."""
    names = set(_listed_indicators())
    cfg = cfg or {}
    network = cfg.get("network") or {}
    for t in network.get("thresholds_m") or ():
        for dest in ("supermarket", "greengrocer", "fast_food", "gp", "pharmacy", "primary_school",
                     "transit_stop", "sports", "playground", "park", "green"):
            for sfx in ("", "_65plus", "_children"):
                names.add(f"pop_share_{dest}_walk_{float(t):g}m{sfx}")
    d = (cfg.get("heat") or {}).get("cool_distance_m")
    if d:
        names |= {f"pop_share_cool_place_walk_{float(d):g}m", f"pop_share_cool_place_walk_{float(d):g}m_65plus"}
    return names


def resolve_requirements(configured: Sequence[Mapping] | None) -> list[dict]:
    """The configured requirements (defaults filled), or :data:`DEFAULT_REQUIREMENTS` for None."""
    reqs = DEFAULT_REQUIREMENTS if configured is None else configured
    out = []
    for r in reqs:
        r = dict(r)
        r.setdefault("target_group", "all residents")
        r.setdefault("area_types", [])
        r.setdefault("label_en", r.get("id", ""))
        r.setdefault("label_nl", r.get("label_en", r.get("id", "")))
        r.setdefault("source", "")
        out.append(r)
    return out


def requirement_problems(configured: Sequence[Mapping] | None, *, known: Iterable[str],
                         area_types: Iterable[str] | None = None) -> list[str]:
    """Problems of a requirement set, all at once: unknown indicators (with the closest valid
    names), unknown operators, duplicate ids, area types no typology rule gives."""
    known = sorted(set(known))
    problems = []
    reqs = resolve_requirements(configured)
    ids = [r.get("id") for r in reqs]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        problems.append(f"requirements: duplicate ids {dup}; each requirement needs its own id")
    types = set(area_types) if area_types is not None else None
    for i, r in enumerate(reqs):
        where = f"requirements[{i}] ({r.get('id', '?')})"
        ind = r.get("indicator")
        if ind not in known:
            close = difflib.get_close_matches(str(ind), known, n=3, cutoff=0.5)
            problems.append(f"{where}.indicator: {ind!r} is not a healthgeo indicator"
                            + (f"; closest valid indicators: {close}" if close else "")
                            + " (the ward-layer columns are listed in the data dictionary)")
        if r.get("op") not in OPERATORS:
            problems.append(f"{where}.op: {r.get('op')!r} is not allowed; use one of {list(OPERATORS)}")
        if not isinstance(r.get("threshold"), (int, float)) or isinstance(r.get("threshold"), bool):
            problems.append(f"{where}.threshold: {r.get('threshold')!r} must be a number")
        if types is not None:
            bad = sorted(set(r.get("area_types") or []) - types)
            if bad:
                problems.append(f"{where}.area_types: {bad} are not area types of the typology rules; "
                                f"known types: {sorted(types)}")
    return problems


def check_requirements(configured, *, known, area_types=None) -> list[dict]:
    """:func:`resolve_requirements` after :func:`requirement_problems` (one ConfigError listing all)."""
    problems = requirement_problems(configured, known=known, area_types=area_types)
    if problems:
        raise ConfigError("invalid requirements:\n  - " + "\n  - ".join(problems))
    return resolve_requirements(configured)


#: indicator tokens whose reason column has another stem
_REASON_ALIASES = {"fastfood": "food"}


def _reason_of(frame: pd.DataFrame, indicator: str, code) -> str | None:
    """The indicator's own reason text for a ward: the longest run of its name's tokens that names
    a ``*_reason`` column (``no2_reason``, ``cool_place_reason``, ``gp_access_nan_reason``, ...)."""
    tokens = [_REASON_ALIASES.get(t, t) for t in indicator.split("_")]
    runs = sorted({"_".join(tokens[i:j]) for i in range(len(tokens)) for j in range(i + 1, len(tokens) + 1)},
                  key=lambda r: (-len(r), r))
    for stem in runs:
        for suffix in ("_reason", "_access_reason", "_access_nan_reason", "_nan_reason"):
            c = stem + suffix
            if c in frame.columns:
                v = frame.at[code, c]
                if isinstance(v, str) and v:
                    return f"{c}: {v}"
    return None


def evaluate_requirements(frame: pd.DataFrame, requirements: Sequence[Mapping], *, level: str,
                          typology: pd.Series | None = None, docs: Mapping[str, ColumnDoc] | None = None,
                          published: pd.Series | None = None):
    """Check every requirement on every ward of one level.

    Parameters
    ----------
    frame
        Ward layer with the run's indicator columns, indexed by ward code.
    requirements
        Resolved requirements (:func:`check_requirements`).
    level
        Ward level (buurt, wijk, gemeente), written into the long table.
    typology
        Area type per ward (``typology`` column of :mod:`healthgeo.typology`); a ward whose type is
        NaN counts as type unknown: a requirement with ``area_types`` is then NULL with a reason.
    docs
        Column docs of ``frame`` (units in the long table).
    published
        Boolean per ward (index: codes as text): False for wards withheld by disclosure control.
        Their area type is not used (a requirement limited to area types is NULL, "area type
        withheld") and they are left out of the per-type summary; the assembler withholds their
        resident-based values in the long table.

    Returns
    -------
    per_ward, per_ward_docs, long, summary
        ``per_ward``: ``requirements_applicable_n``, ``requirements_met_n``,
        ``requirements_unknown_n``, ``requirements_met_share`` (met / applicable with a value).
        ``long``: one row per ward x requirement (``code``, ``level``, ``requirement``,
        ``indicator``, ``value``, ``met``, ``reason``, ...). ``summary``: per area type and
        requirement, wards applicable / met / not met / unknown and the share met.
    """
    docs = docs or {}
    codes = frame.index

    def withheld_type(code) -> bool:
        return published is not None and not bool(published.get(str(code), True))

    types = (typology.reindex(codes) if typology is not None else pd.Series(np.nan, index=codes, dtype=object))
    rows = []
    for r in requirements:
        ind, op, thr = r["indicator"], r["op"], float(r["threshold"])
        applies_to = list(r.get("area_types") or [])
        has_col = ind in frame.columns
        vals = pd.to_numeric(frame[ind], errors="coerce") if has_col else pd.Series(np.nan, index=codes)
        for code in codes:
            t = types.get(code)
            v = vals.get(code)
            met, reason = pd.NA, None
            hidden = withheld_type(code)
            if hidden:
                t = None  # the typology of a withheld ward is withheld: it must not show through here
            if applies_to and hidden:
                reason = "not applicable: area type withheld (disclosure control)"
            elif applies_to and (t is None or pd.isna(t)):
                reason = f"not applicable: area type unknown (requirement applies to {applies_to})"
            elif applies_to and t not in applies_to:
                reason = f"not applicable to area type {t!r} (applies to {applies_to})"
            elif not has_col:
                reason = f"indicator {ind} not computed in this run (its input is not configured)"
            elif v is None or pd.isna(v):
                own = _reason_of(frame, ind, code)
                reason = f"no value for {ind}" + (f" ({own})" if own else "")
            else:
                met = bool(OPERATORS[op](float(v), thr))
            rows.append({"code": str(code), "level": level, "requirement": r["id"],
                         "label_nl": r.get("label_nl", ""), "label_en": r.get("label_en", ""),
                         "indicator": ind, "op": op, "threshold": thr,
                         "unit": docs[ind].unit if ind in docs else "",
                         "target_group": r.get("target_group", ""),
                         "area_type": None if t is None or pd.isna(t) else str(t),
                         "applies": not (reason or "").startswith("not applicable"),
                         "value": None if v is None or pd.isna(v) else float(v),
                         "met": met, "reason": reason, "source": r.get("source", "")})
    long = pd.DataFrame(rows, columns=list(REQUIREMENT_TABLE_DOCS))
    long["met"] = long["met"].astype("boolean")
    long["applies"] = long["applies"].astype("boolean")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    g = long.groupby("code", sort=False)
    applicable = g["applies"].sum().reindex(codes.astype(str)).to_numpy(float)
    met_n = g["met"].apply(lambda s: int(s.fillna(False).sum())).reindex(codes.astype(str)).to_numpy(float)
    known_n = g.apply(lambda d: int((d["applies"] & d["met"].notna()).sum()), include_groups=False) \
        .reindex(codes.astype(str)).to_numpy(float)
    with np.errstate(all="ignore"):
        share = np.where(known_n > 0, met_n / known_n, np.nan)
    per_ward = pd.DataFrame({"requirements_applicable_n": applicable, "requirements_met_n": met_n,
                             "requirements_unknown_n": applicable - known_n, "requirements_met_share": share},
                            index=codes)
    shown = long["code"].map(lambda c: True if published is None else bool(published.get(c, True)))
    summary = _summary(long[shown.to_numpy(dtype=bool)], level)
    return per_ward, per_ward_docs(len(requirements)), long, summary


def _summary(long: pd.DataFrame, level: str) -> pd.DataFrame:
    d = long[long["applies"].fillna(False).astype(bool)].copy()
    d["area_type"] = d["area_type"].fillna("(unknown)")
    out = []
    for (t, req), grp in d.groupby(["area_type", "requirement"], sort=True):
        met = int(grp["met"].fillna(False).sum())
        known = int(grp["met"].notna().sum())
        out.append({"level": level, "area_type": t, "requirement": req, "wards_applicable_n": len(grp),
                    "wards_met_n": met, "wards_not_met_n": known - met, "wards_unknown_n": len(grp) - known,
                    "met_share": met / known if known else np.nan})
    return pd.DataFrame(out, columns=list(SUMMARY_DOCS))


_SRC = "docs/methods.md#health-requirements; the requirement's own source (requirements table)"


def per_ward_docs(n_requirements: int) -> dict[str, ColumnDoc]:
    """Documentation of the per-ward columns of :func:`evaluate_requirements`."""
    return {
        "requirements_applicable_n": doc(
            "count", f"Health requirements (of {n_requirements} configured) that apply to the ward's area type",
            "Requirements whose area_types include the ward's typology class (or name none); withheld with "
            "the typology for small wards", _SRC,
            theme="requirements", scale="count",
            label_en="requirements applicable", label_nl="eisen van toepassing"),
        "requirements_met_n": doc(
            "count", "Applicable health requirements the ward meets",
            "Count of requirements with met = true (value op threshold)", _SRC,
            theme="requirements", scale="count", higher_is_worse=False,
            label_en="requirements met", label_nl="eisen gehaald"),
        "requirements_unknown_n": doc(
            "count", "Applicable health requirements that cannot be checked (indicator not computed or no value)",
            "Count of applicable requirements with met = NULL; the reason per requirement is in the "
            "requirements table", _SRC, theme="quality", scale="count",
            label_en="requirements unknown", label_nl="eisen onbekend"),
        "requirements_met_share": doc(
            "fraction (0-1)", "Share of the applicable, checkable health requirements the ward meets",
            "requirements_met_n / (requirements_applicable_n - requirements_unknown_n); NaN when none can be "
            "checked (an unknown requirement is never counted as not met)", _SRC,
            theme="requirements", scale="fraction", higher_is_worse=False,
            thresholds=((1.0, "all met", "PvE"),),
            label_en="share of requirements met", label_nl="aandeel eisen gehaald"),
    }


#: Docs of the long ``requirements`` table (one row per ward x requirement).
REQUIREMENT_TABLE_DOCS: dict[str, ColumnDoc] = {
    "code": doc("code", "CBS code of the ward", theme="identity", about="identity", scale="text"),
    "level": doc("category", "ward level (buurt, wijk, gemeente)", theme="identity", about="identity",
                 scale="category"),
    "requirement": doc("text", "id of the requirement (config requirements[].id)", theme="requirements",
                       about="identity", scale="text"),
    "label_nl": doc("text", "Dutch label of the requirement", theme="requirements", about="identity", scale="text"),
    "label_en": doc("text", "English label of the requirement", theme="requirements", about="identity", scale="text"),
    "indicator": doc("text", "ward-layer column the requirement is checked on (data dictionary)",
                     theme="requirements", about="identity", scale="text"),
    "op": doc("text", "comparison that means met: value op threshold", theme="requirements", about="identity",
              scale="text"),
    "threshold": doc("indicator unit", "threshold value of the requirement", theme="requirements",
                     about="identity", scale="index"),
    "unit": doc("text", "unit of the indicator and threshold", theme="requirements", about="identity", scale="text"),
    "target_group": doc("text", "who the requirement protects (all residents, children 0-14, 65+, ...)",
                        theme="requirements", about="identity", scale="text"),
    "area_type": doc("category", "area type (typology class) of the ward (withheld with the typology for small "
                     "wards)", theme="typology", scale="category"),
    "applies": doc("boolean", "whether the requirement applies to the ward's area type", theme="requirements",
                   scale="flag"),
    "value": doc("indicator unit", "the ward's value of the indicator (NULL when not computed or missing)",
                 _SRC, theme="requirements", scale="index"),
    "met": doc("boolean", "true = value op threshold holds; false = it does not; NULL = unknown or not applicable "
               "(see reason)", _SRC, theme="requirements", scale="flag", higher_is_worse=False),
    "reason": doc("text", "why met is NULL: not applicable to the area type, indicator not computed in this run, "
                  "or no value for the ward (with the indicator's own reason)", theme="quality", scale="text"),
    "source": doc("text", "source of the threshold", theme="requirements", about="identity", scale="text"),
}

#: Docs of the ``requirements_summary`` table (per area type and requirement).
SUMMARY_DOCS: dict[str, ColumnDoc] = {
    "level": REQUIREMENT_TABLE_DOCS["level"],
    "area_type": doc("category", "area type (typology class); '(unknown)' for wards without one",
                     theme="typology", about="identity", scale="category"),
    "requirement": REQUIREMENT_TABLE_DOCS["requirement"],
    "wards_applicable_n": doc("count", "published wards of the type the requirement applies to",
                              "wards withheld by disclosure control are left out", theme="requirements",
                              about="area", scale="count"),
    "wards_met_n": doc("count", "of those, wards that meet it", theme="requirements", about="area", scale="count"),
    "wards_not_met_n": doc("count", "of those, wards that do not meet it", theme="requirements", about="area",
                           scale="count"),
    "wards_unknown_n": doc("count", "of those, wards where it cannot be checked (met NULL)", theme="quality",
                           about="area", scale="count"),
    "met_share": doc("fraction (0-1)", "wards_met_n / (wards_met_n + wards_not_met_n)", _SRC,
                     theme="requirements", about="area", scale="fraction", higher_is_worse=False),
}
