"""Transparent, rule-based area typology per ward (with an optional k-means comparison).

Rules are an ordered list; the first rule whose conditions all hold gives the ward its type::

    - type: herontwikkeling
      all: ["redevelopment_share_pct >= 25"]
    - type: aandachtswijk
      all: ["income_rank_pct <= 20", "residents >= 100"]
    - type: woonwijk          # no conditions: always fires (fallback)
      all: []

Each rule is a mapping with ``type`` (str), ``all`` (list of conditions that must all hold,
optional), ``any`` (list of which at least one must hold, optional) and ``description``
(optional). A condition is ``"<column> <op> <number>"`` with op one of ``>= <= > < == !=``;
it is parsed, never evaluated as code. A rule that names a column the table does not have
raises :class:`ConfigError` naming the rule and the available columns.

Missing inputs: a condition on a missing value (NaN) is *unknown* (three-valued logic: ``all``
fails on a false condition and is unknown when the others hold but one is unknown; ``any``
holds on a true condition and is unknown when none holds but one is unknown). A rule only fires
when it certainly holds, so a rule with a missing input does not fire. When it *could* have
fired had the input been present, the ward falls through to a later rule and the stored
``typology_rule`` names what was missing, e.g.
``"woonwijk: always (fallback; missing income_rank_pct for aandachtswijk)"`` or
``"centrum: residents_per_km2 >= 8000 and ... (missing income_rank_pct for aandachtswijk)"``;
rules ruled out by a known value are not mentioned. Wards that no rule matches get type NaN,
with ``typology_rule`` NaN, or ``"no rule (missing ...)"`` when a missing input was the reason.

Derived columns available to rules (computed from the wards table, see :func:`area_typology`):
``residents``, ``area_km2``, ``residents_per_km2``, ``income_rank_pct`` (0-100 percentile rank of
``income_keur_per_resident`` among the wards, 0 = lowest income; NaN at gemeente level and
whenever fewer than two wards have an income, where a rank among the wards means nothing),
``low_income_hh_pct``,
``redevelopment_share_pct`` (share of ward area inside planned-redevelopment polygons),
``transit_stops_within_400m`` and ``amenities_within_400m`` (amenity points within 400 m of the
ward; NaN when no amenities layer is given), plus every numeric column of ``indicators``.

The default rules are planning defaults, not literature values: docs/methods.md#area-typology.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import ConfigError, InputDataError
from ._vocab import LEVEL_OF_COLUMN
from .dictionary import CBS_KWB, ColumnDoc, doc

log = logging.getLogger(__name__)

# Planning defaults, not taken from the literature: tune them per municipality in the config.
DEFAULT_RULES: list[dict] = [
    {"type": "herontwikkeling", "all": ["redevelopment_share_pct >= 25"],
     "description": "at least a quarter of the ward lies in a planned redevelopment area"},
    {"type": "overig", "all": ["residents < 1"],
     "description": "no residents: industrial estate (bedrijventerrein), park, water or infrastructure"},
    {"type": "aandachtswijk", "all": ["income_rank_pct <= 20", "residents >= 100"],
     "description": "among the 20 % lowest-income wards of the municipality"},
    {"type": "mobiliteitsknooppunt", "all": ["transit_stops_within_400m >= 10", "residents_per_km2 >= 4000"],
     "description": "many public-transport stops within 400 m and urban density"},
    {"type": "centrum", "all": ["residents_per_km2 >= 8000", "amenities_within_400m >= 20"],
     "description": "high density with many daily amenities"},
    {"type": "woonwijk", "all": [], "description": "residential neighbourhood (fallback)"},
]

_OPS = {
    ">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less,
    "==": np.equal, "!=": np.not_equal,
}
_COND = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


@dataclass(frozen=True)
class Condition:
    column: str
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.column} {self.op} {self.value:g}"

    def evaluate(self, table: pd.DataFrame) -> np.ndarray:
        """True where the condition holds (False where it fails or the value is NaN)."""
        x = pd.to_numeric(table[self.column], errors="coerce").to_numpy(float)
        with np.errstate(invalid="ignore"):
            return _OPS[self.op](x, self.value) & ~np.isnan(x)

    def known(self, table: pd.DataFrame) -> np.ndarray:
        """True where the input value is present (the condition can be decided)."""
        return ~np.isnan(pd.to_numeric(table[self.column], errors="coerce").to_numpy(float))


@dataclass(frozen=True)
class Rule:
    type: str
    all: tuple[Condition, ...]
    any: tuple[Condition, ...]
    description: str = ""

    @property
    def text(self) -> str:
        """The rule as stored in ``typology_rule``."""
        parts = []
        if self.all:
            parts.append(" and ".join(str(c) for c in self.all))
        if self.any:
            parts.append("(" + " or ".join(str(c) for c in self.any) + ")")
        return f"{self.type}: " + (" and ".join(parts) if parts else "always (fallback)")

    @property
    def columns(self) -> list[str]:
        return [c.column for c in (*self.all, *self.any)]

    def evaluate(self, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Three-valued result per row: (holds, unknown, known mask per condition)."""
        n = len(table)
        conds = (*self.all, *self.any)
        val = [c.evaluate(table) for c in conds]
        kno = [c.known(table) for c in conds]
        k_all = len(self.all)
        all_false = np.zeros(n, dtype=bool)
        all_unknown = np.zeros(n, dtype=bool)
        for v, k in zip(val[:k_all], kno[:k_all]):
            all_false |= k & ~v
            all_unknown |= ~k
        all_true = ~all_false & ~all_unknown
        all_unknown &= ~all_false
        if self.any:
            any_true = np.zeros(n, dtype=bool)
            any_unknown = np.zeros(n, dtype=bool)
            for v, k in zip(val[k_all:], kno[k_all:]):
                any_true |= v
                any_unknown |= ~k
            any_unknown &= ~any_true
        else:
            any_true, any_unknown = np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
        holds = all_true & any_true
        unknown = (all_true | all_unknown) & (any_true | any_unknown) & ~holds
        return holds, unknown, kno


def parse_condition(text: str) -> Condition:
    """Parse ``"column op number"``; raise :class:`ConfigError` otherwise."""
    if not isinstance(text, str):
        raise ConfigError(f"condition must be a string like 'residents_per_km2 >= 8000'; got {text!r}")
    m = _COND.match(text)
    if not m:
        raise ConfigError(f"cannot parse condition {text!r}: write '<column> <op> <number>' with op one of "
                          f"{list(_OPS)}, e.g. 'residents_per_km2 >= 8000'")
    return Condition(m.group(1), m.group(2), float(m.group(3)))


def rules_from_config(rules: Sequence[Mapping] | None) -> list[Rule]:
    """Parse and validate an ordered rule list (``None`` = :data:`DEFAULT_RULES`); one error lists all problems."""
    rules = DEFAULT_RULES if rules is None else rules
    problems: list[str] = []
    parsed: list[Rule] = []
    if not isinstance(rules, Sequence) or isinstance(rules, (str, bytes)) or not rules:
        raise ConfigError("typology rules must be a non-empty list of {type, all, any} mappings")
    for i, r in enumerate(rules):
        label = f"rule {i + 1}"
        if not isinstance(r, Mapping):
            problems.append(f"{label}: must be a mapping with 'type' and 'all'/'any'")
            continue
        label = f"rule {i + 1} ({r.get('type', '?')})"
        unknown = sorted(set(r) - {"type", "all", "any", "description"})
        if unknown:
            problems.append(f"{label}: unknown key(s) {unknown}; allowed: type, all, any, description")
        if not isinstance(r.get("type"), str) or not r.get("type"):
            problems.append(f"{label}: 'type' must be a non-empty string")
        conds: dict[str, list[Condition]] = {"all": [], "any": []}
        for key in ("all", "any"):
            items = r.get(key, [])
            if isinstance(items, str) or not isinstance(items, Sequence):
                problems.append(f"{label}: '{key}' must be a list of conditions")
                continue
            for c in items:
                try:
                    conds[key].append(parse_condition(c))
                except ConfigError as e:
                    problems.append(f"{label}: {e}")
        parsed.append(Rule(str(r.get("type")), tuple(conds["all"]), tuple(conds["any"]),
                           str(r.get("description", ""))))
    if problems:
        raise ConfigError("invalid typology rules:\n  - " + "\n  - ".join(problems))
    return parsed


def apply_rules(table: pd.DataFrame, rules: Sequence[Mapping] | Sequence[Rule] | None = None) -> pd.DataFrame:
    """First matching rule per row: columns ``typology`` and ``typology_rule``.

    Raises :class:`ConfigError` when a rule names a column ``table`` lacks.
    """
    parsed = list(rules) if rules and all(isinstance(r, Rule) for r in rules) else rules_from_config(rules)
    available = sorted(map(str, table.columns))
    for i, rule in enumerate(parsed):
        missing = [c for c in rule.columns if c not in table.columns]
        if missing:
            raise ConfigError(
                f"typology rule {i + 1} '{rule.text}' uses unknown column(s) {missing}. "
                f"Available columns: {available}")
    n = len(table)
    typ = pd.Series(pd.NA, index=table.index, dtype="object")
    txt = pd.Series(pd.NA, index=table.index, dtype="object")
    open_ = np.ones(n, dtype=bool)
    # per row: rules passed over only because an input was missing, with those inputs
    undecided: list[list[str]] = [[] for _ in range(n)]
    for rule in parsed:
        holds, unknown, known = rule.evaluate(table)
        fire = holds & open_
        for i in np.flatnonzero(fire):
            typ.iat[i] = rule.type
            txt.iat[i] = _rule_text(rule, undecided[i])
        for i in np.flatnonzero(unknown & open_):
            cols = list(dict.fromkeys(c.column for c, k in zip((*rule.all, *rule.any), known) if not k[i]))
            undecided[i].append(f"{', '.join(cols)} for {rule.type}")
        open_ &= ~fire
    for i in np.flatnonzero(open_):
        if undecided[i]:
            txt.iat[i] = f"no rule (missing {'; '.join(undecided[i])})"
    return pd.DataFrame({"typology": typ, "typology_rule": txt}, index=table.index)


def _rule_text(rule: Rule, missing: list[str]) -> str:
    """``typology_rule``: the rule text, plus the inputs that kept earlier rules undecided."""
    if not missing:
        return rule.text
    note = "missing " + "; ".join(missing)
    if not (rule.all or rule.any):
        return f"{rule.type}: always (fallback; {note})"
    return f"{rule.text} ({note})"


def _overlap_share_pct(wards: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> pd.Series:
    if polygons.crs is None or wards.crs is None:
        raise InputDataError("redevelopment polygons and wards need a CRS (EPSG:28992)")
    polygons = polygons.to_crs(wards.crs)
    zone = polygons.geometry.union_all()
    inter = wards.geometry.intersection(zone).area
    area = wards.geometry.area
    return (100.0 * inter / area.where(area > 0)).fillna(0.0)


def _count_within(wards: gpd.GeoDataFrame, points: gpd.GeoDataFrame, distance: float) -> pd.Series:
    if len(points) == 0:
        return pd.Series(0.0, index=wards.index)
    points = points.to_crs(wards.crs) if points.crs is not None and points.crs != wards.crs else points
    zones = gpd.GeoDataFrame({"_ward": wards.index.to_numpy()}, geometry=wards.geometry.buffer(distance).to_numpy(),
                             crs=wards.crs)
    hits = gpd.sjoin(points[[points.geometry.name]], zones, predicate="within", how="inner")
    return hits.groupby("_ward").size().reindex(wards.index).fillna(0).astype(float)


def cluster_typology(table: pd.DataFrame, columns: Sequence[str], k: int, *, seed: int = 0) -> pd.Series:
    """k-means on z-scored ``columns`` (scipy ``kmeans2``, seeded); rows with NaN get <NA>.

    Clusters are numbered 1..k by increasing mean of the first column, so labels are stable.
    """
    from scipy.cluster.vq import kmeans2

    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ConfigError(f"typology clustering: unknown column(s) {missing}. Available: {sorted(table.columns)}")
    X = table[list(columns)].apply(pd.to_numeric, errors="coerce")
    ok = X.notna().all(axis=1).to_numpy()
    out = pd.Series(pd.NA, index=table.index, dtype="Int64")
    if k < 1 or ok.sum() < k:
        log.warning("typology clustering skipped: %d complete wards for k=%d", ok.sum(), k)
        return out
    Z = X[ok].to_numpy(float)
    sd = Z.std(axis=0)
    Z = (Z - Z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    _, labels = kmeans2(Z, k, minit="++", seed=seed)
    order = pd.Series(Z[:, 0]).groupby(labels).mean().sort_values().index
    relabel = {old: new + 1 for new, old in enumerate(order)}
    out[ok] = [relabel[v] for v in labels]
    return out


def area_typology(
    wards: gpd.GeoDataFrame | pd.DataFrame,
    *,
    indicators: pd.DataFrame | None = None,
    rules: Sequence[Mapping] | None = None,
    redevelopment: gpd.GeoDataFrame | None = None,
    amenities: gpd.GeoDataFrame | None = None,
    cluster_columns: Sequence[str] | None = None,
    n_clusters: int = 0,
    seed: int = 0,
    access_distance_m: float = 400.0,
    level: str | None = None,
) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Rule-based typology per ward, with the derived inputs and an optional k-means label.

    Parameters
    ----------
    wards
        Ward table indexed by its code (design.md); uses ``residents``, ``area_m2`` (or geometry),
        ``income_keur_per_resident``, ``low_income_hh_pct`` when present.
    indicators
        Extra per-ward columns (same index) that rules may use.
    rules
        Ordered rule list (see module docstring); ``None`` = :data:`DEFAULT_RULES`.
    redevelopment
        Planned redevelopment polygons; gives ``redevelopment_share_pct`` (0 when omitted).
    amenities
        Amenity points (design.md, ``category``); gives ``transit_stops_within_400m`` and
        ``amenities_within_400m`` (NaN when omitted, so rules on them do not fire).
    cluster_columns, n_clusters, seed
        Optional k-means comparison (``typology_cluster``), off when ``n_clusters`` is 0.
    level
        Ward level (default from the index name: ``gemeentecode`` -> gemeente). At gemeente
        level ``income_rank_pct`` is NaN: the income rules rank wards *within* the municipality.

    Returns
    -------
    (DataFrame indexed like ``wards``, docs)
    """
    idx = wards.index
    t = pd.DataFrame(index=idx)
    t["residents"] = pd.to_numeric(wards["residents"], errors="coerce") if "residents" in wards else np.nan
    if "area_m2" in wards:
        area = pd.to_numeric(wards["area_m2"], errors="coerce")
    elif isinstance(wards, gpd.GeoDataFrame):
        area = wards.geometry.area
    else:
        area = pd.Series(np.nan, index=idx)
    t["area_km2"] = area / 1e6
    t["residents_per_km2"] = t["residents"] / t["area_km2"].where(t["area_km2"] > 0)
    level = level or LEVEL_OF_COLUMN.get(idx.name or "", "ward")
    t["income_rank_pct"] = np.nan
    if "income_keur_per_resident" in wards and level != "gemeente":
        inc = pd.to_numeric(wards["income_keur_per_resident"], errors="coerce")
        if inc.notna().sum() >= 2:  # a rank among fewer than two wards means nothing
            t["income_rank_pct"] = 100.0 * (inc.rank(method="average") - 0.5) / inc.notna().sum()
    t["low_income_hh_pct"] = (pd.to_numeric(wards["low_income_hh_pct"], errors="coerce")
                              if "low_income_hh_pct" in wards else np.nan)
    geo = isinstance(wards, gpd.GeoDataFrame)
    if redevelopment is not None and len(redevelopment):
        if not geo:
            raise InputDataError("redevelopment polygons need ward geometries: pass wards as a GeoDataFrame")
        t["redevelopment_share_pct"] = _overlap_share_pct(wards, redevelopment)
    else:
        t["redevelopment_share_pct"] = 0.0
    if amenities is not None:
        if not geo:
            raise InputDataError("amenity counts need ward geometries: pass wards as a GeoDataFrame")
        cat = amenities["category"].astype(str) if "category" in amenities else pd.Series("", index=amenities.index)
        t["transit_stops_within_400m"] = _count_within(wards, amenities[cat == "transit_stop"], access_distance_m)
        t["amenities_within_400m"] = _count_within(wards, amenities[cat != "transit_stop"], access_distance_m)
    else:
        t["transit_stops_within_400m"] = np.nan
        t["amenities_within_400m"] = np.nan
    if indicators is not None:
        extra = indicators.reindex(idx)
        keep = [c for c in extra.columns if c not in t.columns and pd.api.types.is_numeric_dtype(extra[c])]
        t = pd.concat([t, extra[keep]], axis=1)  # all at once: hundreds of single inserts fragment the frame
    typ = apply_rules(t, rules)
    t["typology"] = typ["typology"]
    t["typology_rule"] = typ["typology_rule"]
    d = _docs(access_distance_m)
    if n_clusters:
        cols = list(cluster_columns or ["residents_per_km2", "income_rank_pct", "low_income_hh_pct"])
        t["typology_cluster"] = cluster_typology(t, cols, n_clusters, seed=seed)
        d["typology_cluster"] = doc(
            "cluster number", "Data-driven comparison typology (k-means), for comparison with the rule-based one",
            f"k-means (scipy kmeans2, k-means++ init, seed {seed}) with k={n_clusters} on z-scored {cols}; "
            "clusters numbered by increasing mean of the first column", "",
            theme="typology", scale="category", label_en="cluster (k-means)", label_nl="cluster (k-means)")
    extra_docs = [c for c in t.columns if c not in d]
    for c in extra_docs:
        d[c] = doc("", f"Indicator {c} passed in for the typology rules", "copied from the indicators table", "")
    return t, d


def _docs(distance: float) -> dict[str, ColumnDoc]:
    return {
        "residents": doc("persons", "Residents", "", CBS_KWB, theme="keyfigures", scale="count",
                         label_en="residents", label_nl="inwoners"),
        "area_km2": doc("km2", "Ward area", "area_m2 / 1e6 (or geometry area)", CBS_KWB, theme="typology",
                        about="area", scale="area", label_en="area", label_nl="oppervlakte"),
        "residents_per_km2": doc("persons/km2", "Residential density", "residents / area_km2", CBS_KWB,
                                 theme="typology", scale="density", label_en="residential density",
                                 label_nl="woondichtheid"),
        "income_rank_pct": doc("percentile (0-100)", "Rank of average income per resident among the wards",
                               "100 x (rank - 0.5) / n (ties: average rank), 0 = lowest income; NaN "
                               "income unranked; NaN for every ward at gemeente level and when fewer "
                               "than two wards have an income (a rank among the wards means nothing "
                               "there, so rules on it do not fire)", CBS_KWB, theme="typology", scale="rank",
                               higher_is_worse=False, label_en="income rank", label_nl="inkomensrang"),
        "low_income_hh_pct": doc("%", "Households with a low income (CBS p_hh_li)", "", CBS_KWB, theme="keyfigures",
                                 scale="percent", higher_is_worse=True, label_en="low-income households",
                                 label_nl="huishoudens met laag inkomen"),
        "redevelopment_share_pct": doc("%", "Share of the ward's area inside planned redevelopment polygons",
                                       "area(ward ∩ union of polygons) / area(ward) x 100", "municipal plans (config)",
                                       theme="typology", about="area", scale="percent",
                                       label_en="planned redevelopment", label_nl="geplande herontwikkeling"),
        "transit_stops_within_400m": doc("count", f"Public-transport stops within {distance:g} m of the ward",
                                         "amenity points of category transit_stop within a buffer of the ward "
                                         "polygon; NaN when no amenities layer was given", "OpenStreetMap",
                                         theme="typology", about="area", scale="count",
                                         label_en=f"transit stops within {distance:g} m",
                                         label_nl=f"ov-haltes binnen {distance:g} m"),
        "amenities_within_400m": doc("count", f"Other daily amenities within {distance:g} m of the ward",
                                     "amenity points (not transit_stop) within a buffer of the ward polygon",
                                     "OpenStreetMap", theme="typology", about="area", scale="count",
                                     label_en=f"amenities within {distance:g} m", label_nl=f"voorzieningen binnen {distance:g} m"),
        "typology": doc("category", "Area type (centrum, woonwijk, aandachtswijk, herontwikkeling, "
                        "mobiliteitsknooppunt, overig)",
                        "first rule of the ordered rule list whose conditions hold (rules in the config)",
                        "healthgeo rule-based typology (planning defaults, tune per municipality)",
                        theme="typology", scale="category", label_en="area type", label_nl="gebiedstype"),
        "typology_rule": doc("text", "The rule that assigned the type",
                             "rule text: 'type: conditions'; a condition on a missing input is "
                             "unknown and its rule does not fire: when an earlier rule was passed "
                             "over only for that reason, the text ends in '(missing <columns> for "
                             "<type>)', e.g. 'woonwijk: always (fallback; missing income_rank_pct "
                             "for aandachtswijk)'; 'no rule (missing ...)' when no rule fired", "",
                             theme="typology", scale="text", label_en="typology rule", label_nl="typologieregel"),
    }
