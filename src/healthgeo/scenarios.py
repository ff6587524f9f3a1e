"""Named interventions ("what if") on residents' exposure, and their health/money deltas per ward.

A scenario is a small mapping (from the config or a JSON file)::

    {
      "name": "no2_min20_centrum",             # free text, used in file names and logs
      "type": "no2_reduction",                  # no2_reduction | lden_reduction | new_park | new_path
                                                #   | active_travel
      "params": {"percent": 20},                # type-specific, see below
      "where": {"wijk": ["WK034401"]}           # one of: {"wijk": [codes]}, {"buurt": [codes]},
    }                                           #   {"polygon_file": path}, {"polygon_wkt": "POLYGON ((...))"}

``params`` per type:

- ``no2_reduction``: ``percent`` (0-100, required): NO2 at the selected residents points is
  multiplied by ``1 - percent/100``.
- ``lden_reduction``: ``db`` (>= 0, required): Lden at the selected points is lowered by ``db``;
  ``lnight`` (bool, default true) lowers Lnight by the same amount. Instead of ``where`` the points
  may be selected by a buffer around lines: ``lines_wkt`` (list of LINESTRING WKT) or
  ``lines_file`` (any vector file) with ``buffer_m`` (default 50).
- ``new_park``: ``where`` must be a polygon (``polygon_wkt``/``polygon_file``). Returns the green
  layer with the polygon added (``kind`` = ``params.kind`` default "park", ``public`` = true,
  ``name`` = ``params.name`` default the scenario name) for the exposure/network modules to
  recompute green indicators. ``lden_reduction_db`` (default 0) optionally lowers Lden (and
  Lnight) of residents points inside the polygon.
- ``new_path``: ``line_wkt`` (a LINESTRING WKT) or ``line_file``; ``highway`` (default
  "cycleway"), ``name``, and any extra OSM-style ``tags`` (mapping). Returns a one-edge
  GeoDataFrame the network module adds to its graph; exposure is unchanged. Optional
  ``activity``: ``{mode: bike|walk, users_share: 0..1, minutes_per_week: > 0, catchment_m:
  > 0 (default 500)}`` - the residents points within ``catchment_m`` (straight-line distance in
  EPSG:28992) of the path get that uptake of walking/cycling (see ``active_travel``), so the
  path also gains the WHO HEAT physical-activity benefit in the health-impact deltas.
- ``active_travel``: a programme that makes residents walk or cycle more (e.g. cycling
  promotion): ``mode`` (``bike`` or ``walk``), ``users_share`` (share of the residents in the
  HEAT age group - 20-74 walking, 20-64 cycling - who take it up, 0-1) and ``minutes_per_week``
  (> 0, the walking/cycling each user adds), all required, at the points selected by ``where``
  (required). The copy of ``residents_exposure`` gets ``active_{mode}_users_share`` and
  ``active_{mode}_min_per_week`` at every point (0 where unselected);
  :func:`healthgeo.impact.health_impact` turns them into ``deaths_averted_active_{mode}_*`` and
  ``dalys_averted_active_{mode}_*`` and nets the averted DALYs out of ``dalys_total`` and
  ``eur_total``. Baseline tables never carry these columns. A table that already has a mode's
  columns (one activity scenario applied on top of another) is refused.

Polygons and lines are read in EPSG:28992 (WKT is assumed to be RD New; files are reprojected,
or rejected with :class:`CRSError` when they carry no CRS); a ``new_path`` outside the
Netherlands in RD New (e.g. lon/lat WKT) is refused with :class:`ConfigError`. Codes in ``where`` must exist in
``wards``. Selecting points by polygon needs their location: pass ``residents_exposure`` as a
GeoDataFrame, or with ``x``/``y`` columns (EPSG:28992).

:func:`compare` turns a baseline and a scenario :func:`healthgeo.impact.health_impact` table into
per-ward deltas (scenario - baseline: negative = fewer cases / lower cost) and a summary whose
totals are the sums of the ward deltas. Averted columns (``deaths_averted_*``, ``dalys_averted_*``)
exist only in the scenario table; their baseline is 0, so their deltas are positive gains.
See docs/methods.md#scenarios and docs/methods.md#physical-activity-benefit.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon

from ._errors import ConfigError, CRSError, InputDataError
from ._vocab import RD_NEW_BOUNDS, TARGET_CRS
from .dictionary import ColumnDoc, delta_doc, doc
from .impact import HealthImpactParams, additive_columns, health_impact, is_averted_column, present_value

log = logging.getLogger(__name__)

SCENARIO_TYPES = ("no2_reduction", "lden_reduction", "new_park", "new_path", "active_travel")
WHERE_KEYS = ("wijk", "buurt", "polygon_file", "polygon_wkt")
_PARAMS = {
    "no2_reduction": {"percent"},
    "lden_reduction": {"db", "lnight", "lines_wkt", "lines_file", "buffer_m"},
    "new_park": {"kind", "name", "lden_reduction_db"},
    "new_path": {"line_wkt", "line_file", "highway", "name", "tags", "activity"},
    "active_travel": {"mode", "users_share", "minutes_per_week"},
}
#: active-travel modes (``healthgeo.impact.ACTIVE_MODES``) and the keys of ``new_path``'s ``activity``
ACTIVITY_MODES = ("bike", "walk")
ACTIVITY_KEYS = ("mode", "users_share", "minutes_per_week", "catchment_m")
#: default catchment of a new path's activity uptake (m, straight line)
DEFAULT_CATCHMENT_M = 500.0


@dataclass
class ScenarioResult:
    """What a scenario changed.

    Attributes
    ----------
    name, type, spec
        The scenario as given.
    residents_exposure
        A modified copy of the input table (same index; same columns, plus
        ``active_{mode}_users_share`` and ``active_{mode}_min_per_week`` for ``active_travel`` and a
        ``new_path`` with ``activity``).
    changed
        Boolean Series aligned to ``residents_exposure``: points whose exposure changed (or that
        got an active-travel uptake with ``users_share`` > 0).
    affected_wards
        Sorted ward codes (``buurtcode``) holding at least one changed point.
    green
        The green layer with the new park added (``new_park``), else the input layer (or None).
    new_edges
        GeoDataFrame of edges to add to the walk/cycle network (``new_path``), else None.
    notes
        Human-readable log of what was done.
    """

    name: str
    type: str
    spec: dict
    residents_exposure: pd.DataFrame
    changed: pd.Series
    affected_wards: list[str]
    green: gpd.GeoDataFrame | None = None
    new_edges: gpd.GeoDataFrame | None = None
    notes: list[str] = field(default_factory=list)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def _activity_problems(act, where: str, *, catchment: bool) -> list[str]:
    """Problems of an active-travel block (``new_path`` ``params.activity`` or ``active_travel`` params)."""
    if not isinstance(act, Mapping):
        return [f"{where} must be a mapping {{mode, users_share, minutes_per_week"
                f"{', catchment_m' if catchment else ''}}}; got {act!r}"]
    problems = []
    if catchment:
        bad = sorted(set(act) - set(ACTIVITY_KEYS))
        if bad:
            problems.append(f"{where}: unknown key(s) {bad}; allowed: {list(ACTIVITY_KEYS)}")
    mode = act.get("mode")
    if mode not in ACTIVITY_MODES:
        problems.append(f"{where}.mode must be one of {list(ACTIVITY_MODES)}; got {mode!r}")
    share = act.get("users_share")
    if not _number(share) or not 0 <= share <= 1:
        problems.append(f"{where}.users_share must be a share in [0, 1] (e.g. 0.05 = 5 % of the residents "
                        f"in the HEAT age group take it up); got {share!r}")
    minutes = act.get("minutes_per_week")
    if not _number(minutes) or minutes <= 0:
        problems.append(f"{where}.minutes_per_week must be a number > 0 (the walking/cycling each user adds, "
                        f"e.g. 60); got {minutes!r}")
    if catchment and "catchment_m" in act and (not _number(act["catchment_m"]) or act["catchment_m"] <= 0):
        problems.append(f"{where}.catchment_m must be > 0 metres; got {act['catchment_m']!r}")
    return problems


def validate_spec(spec: Mapping) -> dict:
    """Check a scenario spec's structure; collect every problem and raise one :class:`ConfigError`."""
    problems: list[str] = []
    if not isinstance(spec, Mapping):
        raise ConfigError(f"a scenario must be a mapping with name/type/params/where; got {type(spec).__name__}")
    spec = copy.deepcopy(dict(spec))
    label = spec.get("name", "<unnamed>")
    unknown = sorted(set(spec) - {"name", "type", "params", "where", "description"})
    if unknown:
        problems.append(f"unknown key(s) {unknown}; allowed: name, type, params, where, description")
    if not isinstance(spec.get("name"), str) or not spec.get("name"):
        problems.append("'name' must be a non-empty string")
    stype = spec.get("type")
    if stype not in SCENARIO_TYPES:
        problems.append(f"'type' must be one of {list(SCENARIO_TYPES)}; got {stype!r}")
    params = spec.get("params") or {}
    if not isinstance(params, Mapping):
        problems.append("'params' must be a mapping")
        params = {}
    spec["params"] = dict(params)
    where = spec.get("where")
    if where is not None:
        if not isinstance(where, Mapping) or len(where) != 1 or next(iter(where)) not in WHERE_KEYS:
            problems.append(f"'where' must have exactly one of {list(WHERE_KEYS)}; got {where!r}")
        else:
            key, value = next(iter(where.items()))
            if key in ("wijk", "buurt") and (not isinstance(value, (list, tuple)) or not value):
                problems.append(f"where.{key} must be a non-empty list of codes")
            if key in ("polygon_file", "polygon_wkt") and not isinstance(value, str):
                problems.append(f"where.{key} must be a string")
    if stype in _PARAMS:
        bad = sorted(set(params) - _PARAMS[stype])
        if bad:
            problems.append(f"params {bad} not used by {stype}; allowed: {sorted(_PARAMS[stype])}")
        if stype == "no2_reduction":
            pct = params.get("percent")
            if not isinstance(pct, (int, float)) or not 0 <= pct <= 100:
                problems.append(f"no2_reduction needs params.percent in [0, 100]; got {pct!r}")
            if where is None:
                problems.append("no2_reduction needs 'where' (wijk, buurt, polygon_file or polygon_wkt)")
        if stype == "lden_reduction":
            db = params.get("db")
            if not isinstance(db, (int, float)) or db < 0:
                problems.append(f"lden_reduction needs params.db >= 0; got {db!r}")
            has_lines = "lines_wkt" in params or "lines_file" in params
            if (where is None) == (not has_lines):
                problems.append("lden_reduction needs either 'where' or params.lines_wkt/lines_file (not both)")
            if "buffer_m" in params and (not isinstance(params["buffer_m"], (int, float)) or params["buffer_m"] <= 0):
                problems.append(f"params.buffer_m must be > 0; got {params['buffer_m']!r}")
        if stype == "new_park":
            if not isinstance(where, Mapping) or next(iter(where), None) not in ("polygon_file", "polygon_wkt"):
                problems.append("new_park needs where.polygon_wkt or where.polygon_file")
            red = params.get("lden_reduction_db", 0)
            if not isinstance(red, (int, float)) or red < 0:
                problems.append(f"params.lden_reduction_db must be >= 0; got {red!r}")
        if stype == "new_path":
            if ("line_wkt" in params) == ("line_file" in params):
                problems.append("new_path needs exactly one of params.line_wkt or params.line_file")
            if "tags" in params and not isinstance(params["tags"], Mapping):
                problems.append("params.tags must be a mapping of OSM tags")
            if "activity" in params:
                problems.extend(_activity_problems(params["activity"], "params.activity", catchment=True))
        if stype == "active_travel":
            problems.extend(_activity_problems(params, "params", catchment=False))
            if where is None:
                problems.append("active_travel needs 'where' (wijk, buurt, polygon_file or polygon_wkt)")
    if problems:
        raise ConfigError(f"scenario {label!r} is invalid:\n  - " + "\n  - ".join(problems))
    return spec


def _read_geometries(path: str | Path, what: str) -> gpd.GeoSeries:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{what}: file {path} does not exist")
    gdf = gpd.read_file(path)
    if gdf.crs is None:
        raise CRSError(f"{what}: {path} has no CRS. Save it with a CRS (EPSG:28992 preferred).")
    if gdf.crs != TARGET_CRS:
        log.info("%s: reprojecting %s from %s to %s", what, path, gdf.crs, TARGET_CRS)
        gdf = gdf.to_crs(TARGET_CRS)
    return gdf.geometry


def _from_wkt(text: str, what: str):
    try:
        return shapely.from_wkt(text)
    except Exception as e:  # shapely raises GEOSException / ShapelyError
        raise ConfigError(f"{what}: not valid WKT ({e}); give e.g. 'POLYGON ((x y, ...))' in EPSG:28992") from e


def _polygon(where: Mapping, what: str):
    key, value = next(iter(where.items()))
    geom = _from_wkt(value, what) if key == "polygon_wkt" else shapely.union_all(_read_geometries(value, what).values)
    if not isinstance(geom, (Polygon, MultiPolygon)) or geom.is_empty:
        raise ConfigError(f"{what}: expected a (multi)polygon; got {geom.geom_type}")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom


def _point_geometry(table: pd.DataFrame) -> gpd.GeoSeries:
    if isinstance(table, gpd.GeoDataFrame) and table.geometry is not None:
        g = table.geometry
        if g.crs is not None and g.crs != TARGET_CRS:
            g = g.to_crs(TARGET_CRS)
        return g
    if {"x", "y"} <= set(table.columns):
        return gpd.GeoSeries(gpd.points_from_xy(table["x"], table["y"]), index=table.index, crs=TARGET_CRS)
    raise InputDataError(
        "a polygon/line scenario needs the residents points' locations: pass residents_exposure as a "
        "GeoDataFrame (EPSG:28992) or with x/y columns, or select by where.wijk / where.buurt instead.")


def _select(table: pd.DataFrame, where: Mapping, wards, what: str) -> pd.Series:
    key, value = next(iter(where.items()))
    if key in ("wijk", "buurt"):
        column = f"{key}code"
        if column not in table.columns:
            raise InputDataError(f"{what}: residents_exposure has no {column} column")
        codes = [str(c) for c in value]
        known = _known_codes(wards, column, table)
        unknown = sorted(set(codes) - known)
        if unknown:
            raise ConfigError(f"{what}: unknown {key} code(s) {unknown}; known codes include "
                              f"{sorted(known)[:10]}{' ...' if len(known) > 10 else ''}")
        return table[column].astype(str).isin(codes)
    poly = _polygon(where, what)
    pts = _point_geometry(table)
    return pd.Series(shapely.intersects(poly, pts.values), index=table.index)


def _known_codes(wards, column: str, table: pd.DataFrame) -> set[str]:
    if wards is None:
        return set(table[column].astype(str))
    if isinstance(wards, pd.DataFrame):
        if wards.index.name == column:
            return set(wards.index.astype(str))
        if column in wards.columns:
            return set(wards[column].astype(str))
    return set(table[column].astype(str))


def _lines(params: Mapping, what: str):
    if "lines_wkt" in params:
        texts = params["lines_wkt"]
        texts = [texts] if isinstance(texts, str) else list(texts)
        geoms = [_from_wkt(t, what) for t in texts]
    else:
        geoms = list(_read_geometries(params["lines_file"], what).values)
    for g in geoms:
        if not isinstance(g, (LineString, MultiLineString)):
            raise ConfigError(f"{what}: expected LINESTRING geometries; got {g.geom_type}")
    return shapely.union_all(geoms)


def _check_rd_new(geom, what: str) -> None:
    """Refuse geometry outside the Netherlands in RD New (e.g. lon/lat read as metres)."""
    xmin, ymin, xmax, ymax = geom.bounds
    bx0, by0, bx1, by1 = RD_NEW_BOUNDS
    if xmin < bx0 or ymin < by0 or xmax > bx1 or ymax > by1:
        raise ConfigError(
            f"{what}: coordinates ({xmin:g} {ymin:g} .. {xmax:g} {ymax:g}) lie outside the Netherlands "
            "in EPSG:28992 (RD New, metres). WKT must be EPSG:28992, e.g. 'LINESTRING (136000 455000, "
            "136300 455400)'; convert lon/lat first (e.g. pyproj Transformer.from_crs(4326, 28992, "
            "always_xy=True)) or give line_file with a CRS.")


def apply_scenario(
    spec: Mapping,
    residents_exposure: pd.DataFrame,
    *,
    wards: pd.DataFrame | None,
    green: gpd.GeoDataFrame | None = None,
) -> ScenarioResult:
    """Apply one scenario to the per-point exposure table (and green layer / network edges).

    The input is never modified; the result holds a changed copy. See the module docstring for
    the spec format.
    """
    spec = validate_spec(spec)
    name, stype, params = spec["name"], spec["type"], spec["params"]
    what = f"scenario {name!r} ({stype})"
    table = residents_exposure.copy()
    changed = pd.Series(False, index=table.index)
    notes: list[str] = []
    new_green, new_edges = green, None

    def uptake(mask: pd.Series, act: Mapping, how: str) -> None:
        mode = act["mode"]
        share_col, min_col = f"active_{mode}_users_share", f"active_{mode}_min_per_week"
        if share_col in table.columns or min_col in table.columns:
            raise InputDataError(f"{what}: residents_exposure already has {share_col}/{min_col} (another "
                                 "activity scenario applied to it); apply activity scenarios to the baseline table")
        share, minutes = float(act["users_share"]), float(act["minutes_per_week"])
        table[share_col] = np.where(mask.to_numpy(bool), share, 0.0)
        table[min_col] = np.where(mask.to_numpy(bool), minutes, 0.0)
        if share > 0:
            changed.loc[mask] = True
        notes.append(f"{mode} uptake: {share:.1%} of the HEAT age group, +{minutes:g} min/week at "
                     f"{int(mask.sum())} residents points {how}")

    def lower(mask: pd.Series, column: str, *, factor: float | None = None, minus: float | None = None) -> None:
        if column not in table.columns:
            raise InputDataError(f"{what}: residents_exposure has no {column} column")
        before = pd.to_numeric(table[column], errors="coerce")
        after = before.copy()
        if factor is not None:
            after[mask] = before[mask] * factor
        if minus is not None:
            after[mask] = before[mask] - minus
        table[column] = after
        diff = (after != before) & before.notna()
        changed.loc[diff] = True

    if stype == "no2_reduction":
        mask = _select(table, spec["where"], wards, what)
        lower(mask, "no2_ugm3", factor=1.0 - params["percent"] / 100.0)
        notes.append(f"NO2 x {1 - params['percent'] / 100:g} at {int(mask.sum())} residents points")
    elif stype == "lden_reduction":
        if "where" in spec and spec["where"] is not None:
            mask = _select(table, spec["where"], wards, what)
        else:
            area = _lines(params, what).buffer(float(params.get("buffer_m", 50.0)))
            mask = pd.Series(shapely.intersects(area, _point_geometry(table).values), index=table.index)
        lower(mask, "lden_db", minus=float(params["db"]))
        if params.get("lnight", True):
            lower(mask, "lnight_db", minus=float(params["db"]))
        notes.append(f"Lden{'/Lnight' if params.get('lnight', True) else ''} - {params['db']} dB at "
                     f"{int(mask.sum())} residents points")
    elif stype == "new_park":
        poly = _polygon(spec["where"], what)
        row = gpd.GeoDataFrame(
            {"kind": [params.get("kind", "park")], "public": [True], "name": [params.get("name", name)],
             "area_m2": [poly.area], "scenario": [name]}, geometry=[poly], crs=TARGET_CRS)
        if green is not None:
            base = green.to_crs(TARGET_CRS) if green.crs is not None and green.crs != TARGET_CRS else green
            base = base.copy()
            # the new row has area_m2: give every baseline row one too (NaN would read as "no size")
            area = base.geometry.area
            base["area_m2"] = base["area_m2"].fillna(area) if "area_m2" in base.columns else area
            new_green = pd.concat([base, row], ignore_index=True)
            new_green = gpd.GeoDataFrame(new_green, geometry="geometry", crs=TARGET_CRS)
        else:
            new_green = row
        notes.append(f"new public {row['kind'][0]} of {poly.area:,.0f} m2 added to the green layer")
        red = float(params.get("lden_reduction_db", 0.0))
        if red > 0:
            mask = _select(table, spec["where"], wards, what)
            lower(mask, "lden_db", minus=red)
            lower(mask, "lnight_db", minus=red)
            notes.append(f"Lden/Lnight - {red} dB at {int(mask.sum())} residents points inside the park")
    elif stype == "new_path":
        if "line_wkt" in params:
            geom = _from_wkt(params["line_wkt"], what)
        else:
            geom = shapely.union_all(_read_geometries(params["line_file"], what).values)
            geom = shapely.line_merge(geom) if isinstance(geom, MultiLineString) else geom
        if not isinstance(geom, (LineString, MultiLineString)) or geom.is_empty:
            raise ConfigError(f"{what}: the path must be a LINESTRING; got {geom.geom_type}")
        _check_rd_new(geom, what)
        highway = params.get("highway", "cycleway")
        tags = {"highway": highway, "name": params.get("name", name),
                "bicycle": "designated" if highway == "cycleway" else "yes", "foot": "yes",
                **{str(k): str(v) for k, v in dict(params.get("tags", {})).items()}}
        parts = list(geom.geoms) if isinstance(geom, MultiLineString) else [geom]
        new_edges = gpd.GeoDataFrame(
            [{**tags, "length_m": g.length, "scenario": name} for g in parts], geometry=parts, crs=TARGET_CRS)
        notes.append(f"new {highway} of {geom.length:,.0f} m for the network module")
        if "activity" in params:
            act = params["activity"]
            catchment = float(act.get("catchment_m", DEFAULT_CATCHMENT_M))
            near = shapely.dwithin(geom, _point_geometry(table).values, catchment)
            uptake(pd.Series(near, index=table.index), act, f"within {catchment:g} m of the path")
    elif stype == "active_travel":
        uptake(_select(table, spec["where"], wards, what), params, f"selected by where.{next(iter(spec['where']))}")

    ward_col = "buurtcode" if "buurtcode" in table.columns else None
    affected = sorted(table.loc[changed, ward_col].astype(str).unique()) if ward_col else []
    for n in notes:
        log.info("%s: %s", what, n)
    return ScenarioResult(name=name, type=stype, spec=spec, residents_exposure=table, changed=changed,
                          affected_wards=affected, green=new_green, new_edges=new_edges, notes=notes)


def compare(
    baseline_impact: pd.DataFrame,
    scenario_impact: pd.DataFrame,
    *,
    docs: Mapping[str, ColumnDoc] | None = None,
    params: HealthImpactParams | None = None,
) -> tuple[pd.DataFrame, dict[str, ColumnDoc], pd.DataFrame]:
    """Per-ward deltas (scenario - baseline), their docs, and a summary table.

    Every additive column ``c`` of the impact tables gives ``delta_c``. The summary has one row per
    column with ``baseline``, ``scenario`` and ``delta`` totals (each the sum over wards, so the
    total delta equals the sum of ward deltas) and, for euro columns, ``delta_present_value``:
    the delta as an annual stream over ``params.horizon_years`` at ``params.discount_rate``.
    Negative deltas are gains (fewer cases, lower social cost), except for averted columns
    (``deaths_averted_*``, ``dalys_averted_*``): they exist only in the scenario table, count as 0
    in the baseline, and their positive deltas are gains. Wards missing from one table raise
    :class:`InputDataError`.
    """
    p = params or HealthImpactParams()
    if not baseline_impact.index.equals(scenario_impact.index):
        if set(baseline_impact.index) != set(scenario_impact.index):
            raise InputDataError("compare: baseline and scenario tables have different wards; compute both "
                                 "with the same wards= and level=")
        scenario_impact = scenario_impact.reindex(baseline_impact.index)
    cols = [c for c in additive_columns(baseline_impact) if c in scenario_impact.columns]
    # benefits only a scenario has (deaths/DALYs averted by active travel): 0 in the baseline
    only = [c for c in additive_columns(scenario_impact) if is_averted_column(c) and c not in baseline_impact.columns]
    base = baseline_impact.assign(**{c: 0.0 for c in only})
    cols += only
    deltas = pd.DataFrame(index=baseline_impact.index)
    out_docs: dict[str, ColumnDoc] = {}
    for c in cols:
        deltas[f"delta_{c}"] = scenario_impact[c].astype(float) - base[c].astype(float)
        src = (docs or {}).get(c)
        gain = "positive = gain" if is_averted_column(c) else "negative = gain"
        out_docs[f"delta_{c}"] = delta_doc(
            src,
            src.unit if src else "", f"Change in {c} under the scenario (scenario - baseline; {gain})",
            "scenario - baseline per ward" + ("; the baseline has none (0)" if c in only else "")
            + (f"; {c}: {src.method}" if src and src.method else ""),
            src.source if src else "")
    summary = pd.DataFrame({
        "baseline": base[cols].sum(axis=0, min_count=1),
        "scenario": scenario_impact[cols].sum(axis=0, min_count=1),
        "delta": deltas.sum(axis=0, min_count=1).set_axis(cols),
    })
    summary["delta_present_value"] = np.where(
        summary.index.str.startswith("eur_"),
        present_value(summary["delta"], p.horizon_years, p.discount_rate), np.nan)
    summary.index.name = "column"
    return deltas, out_docs, summary


def run_scenario(
    spec: Mapping,
    residents_exposure: pd.DataFrame,
    *,
    wards: pd.DataFrame | None,
    level: str = "buurtcode",
    params: HealthImpactParams | None = None,
    green: gpd.GeoDataFrame | None = None,
):
    """Apply a scenario, compute baseline and scenario impacts at ``level`` and compare them.

    Returns ``(ScenarioResult, deltas, delta_docs, summary)``.
    """
    result = apply_scenario(spec, residents_exposure, wards=wards, green=green)
    ward_index = None
    if wards is not None and wards.index.name == level:
        ward_index = wards.index
    base, docs = health_impact(residents_exposure, level=level, params=params, wards=ward_index)
    scen, scen_docs = health_impact(result.residents_exposure, level=level, params=params, wards=ward_index)
    # the scenario's docs: they also cover the averted columns and say when totals are net of them
    deltas, ddocs, summary = compare(base, scen, docs={**docs, **scen_docs}, params=params)
    return result, deltas, ddocs, summary


#: Columns of a scenario's summary table (the rows of ``scenario_comparison``).
SUMMARY_DOCS = {
    "scenario": doc("text", "scenario name (config scenarios[].name)"),
    "scenario_type": doc("text", "kind of intervention"),
    "scenario_description": doc("text", "description from the config"),
    "column": doc("text", "impact column summed over all buurten"),
    "baseline": doc("column unit", "total in the baseline (sum over buurten)"),
    "scenario_value": doc("column unit", "total with the intervention"),
    "delta": doc("column unit", "scenario minus baseline (negative = gain; for *_averted_* rows, which are 0 in the "
                 "baseline, positive = gain); equals the sum of the buurt deltas"),
    "delta_present_value": doc("EUR", "for euro rows: the annual delta as a stream over impact.horizon_years discounted at impact.discount_rate"),
}


def summary_docs(columns) -> dict[str, ColumnDoc]:
    """Docs of the scenario summary table (``scenario_comparison`` rows of one scenario)."""
    return {c: SUMMARY_DOCS.get(c, doc("", c.replace("_", " "))) for c in columns}
