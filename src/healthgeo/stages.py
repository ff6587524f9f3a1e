"""What each workflow rule does, as one function per rule.

Rule scripts in ``workflow/scripts`` map ``snakemake.input/params/output`` onto one of these
functions. Each reads the prepared inputs, calls the tested library (``sources``, ``rasters``,
``population``, ``exposure``, ...) and writes its output atomically through :mod:`healthgeo.io`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from . import network as nw
from . import population, sources
from ._errors import CRSError, InputDataError, NoStreetsError
from ._vocab import CODE_COLUMN, RASTER_NODATA_SENTINELS, TARGET_CRS, code_prefix
from .dictionary import ColumnDoc, doc
from .assemble import merge_tables
from .burden import BURDEN_REFERENCE_DOCS, read_burden_reference
from .disclosure import DEFAULT_MIN_RESIDENTS, REASON_COLUMN, read_reasons
from .disparity import DISPARITY_TABLE_DOCS, compute_disparities, concentration_summary
from .exposure import RESIDENTS_EXPOSURE_DOCS, air_exposure, green_exposure, noise_exposure
from .exposure import residents_exposure as _rx
from .impact import aggregate_impact, params_from_config
from .impact import health_impact as _impact
from .io import read_table, write_gdf, write_table
from .network import osm_extent, walkability_reference_docs
from .plausibility import RASTER_QUANTITY, check_grid_vs_monitoring
from .provenance import ProvenanceRecord, read_manifest, write_provenance
from .rasters import is_netcdf, netcdf_to_geotiff
from .rasters import prepare_raster as _prepare
from .scenario_effects import scenario_effects
from .scenarios import run_scenario, summary_docs
from .sources import read_health, read_luchtmeetnet, read_osm_amenities, read_osm_green, read_samenmeten_csv
from .sources.health import health_docs
from .sources.nabijheid import read_nabijheid
from .sources.ses import check_regio_year, read_ses, ses_docs
from .trend import trend as _trend
from .surface import agreement_summary, build_surface, grid_vs_monitoring, monitoring_points, surface_note
from .typology import area_typology
from .validation import summary_docs as validation_summary_docs
from .validation import validation_access as _validation
from .validation import validation_docs
from .wards import read_wards

log = logging.getLogger(__name__)



def study_boundary(wards_path) -> gpd.GeoDataFrame | None:
    """The municipality polygon (for downloads that query by area); None without wards."""
    return read_wards(wards_path, "gemeente") if wards_path else None


def study_bounds(wards_path) -> tuple[float, float, float, float]:
    """Bounding box of the municipality (EPSG:28992)."""
    return tuple(read_wards(wards_path, "gemeente").total_bounds)


def prepare_raster(manifest_path, wards_path, out_path, *, margin_m: float, crs: str) -> Path:
    """Clip one raster input to the study area (+ margin), assigning a configured CRS if it has none.

    A NetCDF input is first reduced over time (``variable``, ``reduce`` of its spec) into
    ``<out>.from_netcdf.tif`` next to the output - the full-extent grid, rebuilt whenever this
    rule runs and kept for inspection - which is then clipped like any other raster.
    """

    m = read_manifest(manifest_path)
    src = m.path
    if is_netcdf(src):
        src = netcdf_to_geotiff(
            src, Path(out_path).with_suffix(".from_netcdf.tif"), variable=m.spec.get("variable"),
            reduce=m.spec.get("reduce", "mean"), crs=m.spec.get("crs"),
        )
    return _prepare(
        src, out_path, bounds=study_bounds(wards_path), margin_m=margin_m,
        assume_crs=m.spec.get("crs"), target_crs=crs, nodata=list(RASTER_NODATA_SENTINELS),
        quantity=None if m.spec.get("units") in ("class", "none") else RASTER_QUANTITY.get(m.input),
    )


def prepare_residents(population_manifest, wards_path, out_path) -> gpd.GeoDataFrame:
    """Residents' locations as weighted points: BAG dwellings, else the 100 m grid, else ward areas."""
    buurten = read_wards(wards_path, "buurt")
    if population_manifest is None:
        log.warning("no dwellings or population grid configured: residents placed at ward "
                    "representative points (popw_method = area)")
        points = population.residents_from_area(buurten)
    else:
        m = read_manifest(population_manifest)
        if m.input == "dwellings":
            dwellings = sources.read_dwellings(m.path, layer=m.spec.get("layer"), crs=m.spec.get("crs"))
            points = population.residents_from_dwellings(dwellings, buurten)
        else:
            grid = sources.read_population_grid(m.path, layer=m.spec.get("layer"), secret_as="zero")
            points = population.residents_from_grid(grid, buurten, count_column="residents")
    if points.empty:
        raise InputDataError("no residents' locations could be derived; check the dwellings/population input")
    write_gdf(points, out_path, layer="residents")
    log.info("residents: %d points, %.0f residents, sources %s", len(points), points["residents"].sum(),
             points["source"].value_counts().to_dict())
    return points


def prepare_health(manifest_path, wards_path, out_paths: dict, out_crosswalk=None, out_quality=None, *,
                   year: int | None = None, target_year: int | None = None, municipality: str = "",
                   residents_path=None, boundary_manifests: dict | None = None) -> dict[str, pd.DataFrame]:
    """The health tables of each ward level in ``out_paths`` (estimates and 95 % bounds).

    The health input of the single-year stages; with survey waves it is the base wave, read on its
    own year's boundaries when given (``boundary_manifests``) and mapped through the crosswalk, as
    :func:`health_wave` does for the other waves. ``out_crosswalk``/``out_quality``: that crosswalk
    (empty tables when the health input is on area.year's boundaries)."""
    if out_crosswalk is None:
        m = read_manifest(manifest_path)
        health = read_health(m.path, age=m.spec.get("age", "20300"))
        return {level: _health_level(health, wards_path, level, out) for level, out in out_paths.items()}
    return health_wave(manifest_path, wards_path, residents_path, out_paths, out_crosswalk, out_quality, year=year,
                       target_year=target_year, municipality=municipality, boundary_manifests=boundary_manifests)


def _health_level(health: pd.DataFrame, wards_path, level: str, out_path) -> pd.DataFrame:
    wards = read_wards(wards_path, level)
    table = health.reindex(wards.index)
    table.index.name = CODE_COLUMN[level]
    missing = table.index[table.isna().all(axis=1)].tolist()
    if len(missing) == len(table):
        raise InputDataError(
            f"the health table has no rows for any {level} of this run (e.g. {wards.index[:3].tolist()}); "
            "check that its year's ward codes match the boundaries"
        )
    if missing:
        log.warning("no health figures for %d %s wards: %s", len(missing), level, missing[:10])
    write_table(table, out_path, health_docs(table.columns))
    return table


def prepare_ses(manifest_path, wards_path, out_paths: dict, *, boundaries_year: int | None) -> dict[str, pd.DataFrame]:
    """SES-WOA scores of each ward level in ``out_paths``; a table of another regio-indeling
    than the boundaries is refused (both years and the unmatched ward codes named)."""
    m = read_manifest(manifest_path)
    ses, regio_year = read_ses(m.path, spec=m.spec, period=m.spec.get("period"))
    buurten = read_wards(wards_path, "buurt")
    unmatched = check_regio_year(ses, regio_year, buurten.index, boundaries_year, source=f"ses ({m.path})")
    if regio_year is None:
        log.warning("ses: regio-indeling year unknown (give `table:` or `regio_year:`); %d of %d buurt codes "
                    "are not in the table", unmatched, len(buurten))
    out = {}
    for level, path in out_paths.items():
        wards = buurten if level == "buurt" else read_wards(wards_path, level)
        table = ses.reindex(wards.index)
        table.index.name = CODE_COLUMN[level]
        n_missing = int(table["ses_woa_score"].isna().sum())
        if n_missing:
            log.info("ses: %d of %d %s wards without an SES-WOA score (CBS '.'/'x' or not in the table)",
                     n_missing, len(table), level)
        write_table(table, path, ses_docs(table.columns))
        out[level] = table
    return out


def prepare_osm_layers(manifest_path, wards_path, green_path, amenities_path, *, margin_m: float):
    """Green areas and amenities from the OSM input, within the study area plus margin."""
    m = read_manifest(manifest_path)
    area = read_wards(wards_path, "gemeente").geometry.buffer(margin_m).union_all()
    green = read_osm_green(m.path, polygon=area)
    amenities = read_osm_amenities(m.path, polygon=area)
    write_gdf(green, green_path, layer="green")
    write_gdf(amenities, amenities_path, layer="amenities")
    log.info("green: %d areas (%.1f ha); amenities: %s", len(green), green["area_m2"].sum() / 1e4,
             amenities["category"].value_counts().to_dict())
    return green, amenities


def _residents(path) -> gpd.GeoDataFrame:
    return gpd.read_file(path, layer="residents", engine="pyogrio")


def exposure_air(rasters: dict, wards_path, residents_path, level: str, out_path) -> pd.DataFrame:

    table, docs = air_exposure(read_wards(wards_path, level), rasters, _residents(residents_path))
    write_table(table, out_path, docs)
    return table


def exposure_noise(rasters: dict, wards_path, residents_path, level: str, out_path) -> pd.DataFrame:

    table, docs = noise_exposure(read_wards(wards_path, level), rasters["lden"], rasters.get("lnight"),
                                 _residents(residents_path))
    write_table(table, out_path, docs)
    return table


def exposure_year(rasters: dict, wards_path, residents_path, level: str, year: int, out_path) -> pd.DataFrame:
    """Air and noise exposure of one run year (``rasters``: no2/pm25/pm10/lden/lnight -> that
    year's prepared raster) on the run's wards; the input of :func:`trend_table`."""
    wards, residents = read_wards(wards_path, level), _residents(residents_path)
    air = {k: v for k, v in rasters.items() if k in ("no2", "pm25", "pm10")}
    parts, docs = [], {}
    if air:
        t, d = air_exposure(wards, air, residents)
        parts.append(t)
        docs.update(d)
    if "lden" in rasters:
        t, d = noise_exposure(wards, rasters["lden"], rasters.get("lnight"), residents)
        parts.append(t.drop(columns=[c for c in t.columns if c in docs]))
        docs.update(d)
    if not parts:
        raise InputDataError(f"exposure_year {year}: no per-year air or noise raster; check `years:` and the inputs.")
    table = pd.concat(parts, axis=1)
    log.info("%s %d: %d wards, %d columns from %s", level, year, len(table), table.shape[1], sorted(rasters))
    write_table(table, out_path, {c: docs[c] for c in table.columns})
    return table


def trend_table(paths_by_year: dict, out_path) -> pd.DataFrame:
    """The trend frame of one level (healthgeo.trend.trend) from each year's tables on the target
    wards (``paths_by_year``: year -> a path or a list of paths: exposure of a run year, a survey wave)."""
    per_year, docs = {}, {}
    for year, paths in paths_by_year.items():
        parts = []
        for path in [paths] if isinstance(paths, (str, Path)) else paths:
            frame, d = read_table(path)
            parts.append(frame.drop(columns=[c for p in parts for c in p.columns if c in frame.columns]))
            docs.update(d)
        per_year[int(year)] = pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]
    table, tdocs = _trend(per_year, docs)
    log.info("trend %s: %d wards, %d indicators over %s", Path(str(out_path)).parent.name, len(table),
             sum(c.endswith("_change") for c in table.columns), sorted(per_year))
    write_table(table, out_path, tdocs)
    return table


def _boundary_levels(manifests: dict, municipality: str) -> dict[str, gpd.GeoDataFrame]:
    """The ward polygons of one boundary year per level (``manifests``: ``buurten`` and optionally
    ``wijken`` of that year): wijken and gemeente dissolved from the buurten when not given."""
    from .wards import BOUNDARY_LEVEL, READER_OPTIONS
    from .sources import read_boundaries
    from ._vocab import parent_code

    layers = {}
    for name, level in BOUNDARY_LEVEL.items():
        if name in manifests:
            m = read_manifest(manifests[name])
            opts = {k: m.spec[k] for k in READER_OPTIONS if k in m.spec}
            g = read_boundaries(m.path, level, **opts)
            layers[level] = g[g.index.astype(str).str.startswith(code_prefix(level, municipality))][["geometry"]]
    b = layers["buurt"]
    if b.empty:
        raise InputDataError(f"the boundaries {read_manifest(manifests['buurten']).path} hold no buurt of "
                             f"{municipality}; check the file of that year")
    if "wijk" not in layers:
        w = b.assign(wijkcode=[parent_code(c, "wijk") for c in b.index]).dissolve(by="wijkcode")
        layers["wijk"] = w[["geometry"]]
    g = b.assign(gemeentecode=municipality).dissolve(by="gemeentecode")
    layers["gemeente"] = g[["geometry"]]
    return layers


def health_wave(health_manifest, wards_path, residents_path, out_paths: dict, out_crosswalk, out_quality, *,
                year: int | None, target_year: int, municipality: str, boundary_manifests: dict | None = None,
                ) -> dict[str, pd.DataFrame]:
    """One health-monitor wave on the run's wards (area.year's), per level in ``out_paths``.

    With ``boundary_manifests`` (the buurten, optionally wijken, of the wave's year) the wave's
    estimates are mapped through the crosswalk from those boundaries onto the run's wards
    (:mod:`healthgeo.crosswalk`; estimates as residents-weighted means, 95 % bounds combined), the
    crosswalk and its quality per target ward are written, and a target ward with less than half
    its residents explained stops the run (named, with its figure). Without them the codes are
    joined directly (the wave is on area.year's boundaries; empty crosswalk tables). ``year`` None:
    a health input without waves (the latest period in its file).
    """
    from .crosswalk import apply_crosswalk, build_crosswalk, crosswalk_docs, quality_docs, quality_problem
    from .crosswalk import source_residents as _source_res

    m = read_manifest(health_manifest)
    health = read_health(m.path, age=m.spec.get("age", "20300"), period=f"{year}JJ00" if year else None)
    ident = {"year": doc("year", "year of the source boundaries (the survey wave) mapped onto area.year's wards",
                         theme="identity", about="identity", scale="text"),
             "level": doc("text", "ward level (buurt, wijk, gemeente)", theme="identity", about="identity",
                          scale="text")}
    qdocs = {**ident, "code": doc("code", "target ward code (area.year)", theme="identity", about="identity",
                                  scale="text"), **quality_docs()}
    xdocs = {**ident, **crosswalk_docs()}
    out = {}
    if not boundary_manifests:
        for level, path in out_paths.items():
            out[level] = _health_level(health, wards_path, level, path)
        write_table(pd.DataFrame(columns=list(xdocs)), out_crosswalk, xdocs)
        write_table(pd.DataFrame(columns=list(qdocs)), out_quality, qdocs)
        return out
    source = _boundary_levels(boundary_manifests, municipality)
    points = _residents(residents_path)
    tables, qualities, problems, mapped = [], [], [], {}
    for level in out_paths:
        target = read_wards(wards_path, level)[["geometry"]]
        table, quality = build_crosswalk(source[level], target, residents=points)
        problem = quality_problem(quality, year=year, level=level, target_year=target_year)
        if problem:
            problems.append(problem)
            continue
        values = health.reindex(source[level].index.astype(str))
        lacking = values.index[values.isna().all(axis=1)].tolist()
        if len(lacking) == len(values):
            raise InputDataError(
                f"the health wave {year} has no rows for any {level} of the {year} boundaries (e.g. "
                f"{values.index[:3].tolist()}); check that the wave's file and the boundary file are of the same year")
        if lacking:
            log.warning("wave %d: no health figures for %d %s wards of %d: %s", year, len(lacking), level, year,
                        lacking[:10])
        prefix = code_prefix(level, municipality)
        foreign = sorted(c for c in health.index.astype(str) if c.startswith(prefix) and c not in values.index)
        if foreign:
            log.warning("wave %d: %d %s code(s) of the health file are not in the %d boundaries (not mapped): %s",
                        year, len(foreign), level, year, foreign[:10])
        res = apply_crosswalk(values, table, source_residents=_source_res(source[level], points))
        res = res.reindex(target.index.astype(str))[list(health.columns)]
        res.index.name = CODE_COLUMN[level]
        mapped[level] = res
        tables.append(table.assign(year=year, level=level))
        qualities.append(quality.rename_axis("code").reset_index().assign(year=year, level=level))
        n = table["method"].value_counts().to_dict()
        log.info("wave %d %s: crosswalk %d -> %d wards (%s); unambiguous origin for %.0f %% of the target wards",
                 year, level, len(source[level]), len(target), n,
                 100 * (quality["unambiguous_frac"].dropna() >= 0.99).mean())
    if problems:
        raise InputDataError(" ".join(problems))
    for level, path in out_paths.items():
        write_table(mapped[level], path, health_docs(mapped[level].columns))
        out[level] = mapped[level]
    write_table(pd.concat(tables, ignore_index=True)[list(xdocs)], out_crosswalk, xdocs)
    write_table(pd.concat(qualities, ignore_index=True)[list(qdocs)], out_quality, qdocs)
    return out


def disparity_trend(wards_path, base_tables: dict, year_tables: dict, out_path, *, params: dict,
                    min_residents: float = DEFAULT_MIN_RESIDENTS) -> pd.DataFrame:
    """Concentration index, SII and quintile gap per year with their bootstrap intervals, and the
    change first -> last year (:func:`healthgeo.trend.disparity_trend`).

    ``base_tables``: level -> the run's tables the SES ranking comes from (the same ranking every
    year, so a change is a change in the indicator); ``year_tables``: level -> {year: [tables]} of
    that year's values on the run's wards (exposure of a run year, a health wave). Wards withheld
    by disclosure control do not enter.
    """
    from .disparity import inequality_table
    from .trend import disparity_trend as _dtrend
    from .trend import disparity_trend_docs

    reasons = read_reasons(wards_path, min_residents=min_residents)
    per_year: dict[int, list[pd.DataFrame]] = {}
    for level, by_year in year_tables.items():
        frame0, _ = ward_frame(wards_path, level, base_tables.get(level, []))
        shown = reasons[level].reindex(frame0.index).isna()
        # the ranking variables keep the run's values; a year's value of one of them (the survey
        # proxy) enters as an indicator under another name, so every year is ranked alike
        ranking_vars = {*([params["ranking"]] if isinstance(params["ranking"], str) else params["ranking"]),
                        params.get("proxy")}
        for year, paths in sorted(by_year.items()):
            frame = frame0.copy()
            names = {}
            for path in paths:
                t, _ = read_table(path)
                for c in t.columns:
                    name = f"{c}__year" if c in ranking_vars else c
                    frame[name] = t[c].reindex(frame.index)
                    names[name] = c
            indicators = usable_indicators(frame, [n for n, c in names.items() if c in params["indicators"]], shown)
            if not indicators:
                log.info("disparity_trend %s %s: no disparity indicator with values", level, year)
                continue
            frame.loc[~shown, indicators] = float("nan")
            table, _ = inequality_table(frame, indicators, ranking=params["ranking"], proxy=params["proxy"],
                                        n_boot=params["n_boot"], seed=params["seed"], min_residents=min_residents,
                                        level=level)
            table["indicator"] = table["indicator"].map(names)
            per_year.setdefault(int(year), []).append(table)
            log.info("disparity_trend %s %s: %s", level, year, indicators)
    result = _dtrend({y: pd.concat(t, ignore_index=True) for y, t in per_year.items()})
    write_table(result, out_path, disparity_trend_docs())
    return result


def _read_trees(trees_manifest) -> tuple[gpd.GeoDataFrame, float]:
    """The trees input in RD New and its crown radius (spec ``crown_radius_m``, default 4 m);
    used alike by the canopy (exposure_green) and the cool places (heat_cool_access)."""
    m = read_manifest(trees_manifest)
    trees = gpd.read_file(m.path, layer=m.spec.get("layer"))
    if trees.crs is None:
        if not m.spec.get("crs"):
            raise CRSError(f"trees input {m.path} has no CRS; give `crs:` for it in the config")
        trees = trees.set_crs(m.spec["crs"])
    return trees.to_crs(TARGET_CRS), float(m.spec.get("crown_radius_m", 4.0))


def exposure_green(green_path, wards_path, residents_path, level: str, out_path, *, trees_manifest=None,
                   landcover=None, landcover_manifest=None, ndvi=None, osm_manifest=None) -> pd.DataFrame:
    """Green share, green per resident, access to green within 300 m, canopy and NDVI per ward.

    ``osm_manifest``: the OSM input the green layer came from; wards outside its extent get NULL
    green values with a reason (:func:`healthgeo.network.osm_extent`).
    """

    green = gpd.read_file(green_path, layer="green", engine="pyogrio")
    kw = {}
    if osm_manifest:
        kw["extent"] = osm_extent(read_manifest(osm_manifest).path)
    if trees_manifest:
        kw["trees"], kw["crown_radius_m"] = _read_trees(trees_manifest)
    if landcover:
        kw["landcover"] = landcover
        kw["tree_classes"] = read_manifest(landcover_manifest).spec.get("classes", [10])
    if ndvi:
        kw["ndvi"] = ndvi
    table, docs = green_exposure(read_wards(wards_path, level), green, _residents(residents_path), **kw)
    write_table(table, out_path, docs)
    return table


# --- disparity ---------------------------------------------------------------------------------

#: components of the cumulative burden (CalEnviroScreen-style), in order
BURDEN_GROUPS = ("exposures", "effects", "sensitivity", "socioeconomic")


def burden_groups(docs) -> dict[str, list[str]]:
    """The burden components and their columns, from ``ColumnDoc.burden_group`` of each column."""
    groups: dict[str, list[str]] = {g: [] for g in BURDEN_GROUPS}
    for col, d in docs.items():
        if d.burden_group:
            groups.setdefault(d.burden_group, []).append(col)
    return groups


def ward_frame(wards_path, level: str, tables) -> tuple[gpd.GeoDataFrame, dict[str, ColumnDoc]]:
    """A ward layer with every indicator table of the run joined onto it."""
    return merge_tables(read_wards(wards_path, level), level, tables)


def usable_indicators(frame, columns, shown) -> list[str]:
    """Indicators with values for at least 3 published wards (``shown``: disclosure mask)."""
    return [c for c in columns if c in frame and (pd.to_numeric(frame[c], errors="coerce").notna() & shown).sum() >= 3]


def disparity(wards_path, tables, level: str, out_wards, out_table, out_reference, *, params: dict,
              min_residents: float = DEFAULT_MIN_RESIDENTS):
    """Disparity indicators of one ward level: per-ward columns, tidy table, burden reference.

    Only wards that disclosure control publishes (:func:`healthgeo.disclosure.read_reasons`,
    primary and secondary suppression) enter the measures and the burden reference.
    """

    frame, docs = ward_frame(wards_path, level, tables)
    frame[REASON_COLUMN] = read_reasons(wards_path, min_residents=min_residents)[level].reindex(frame.index)
    shown = frame[REASON_COLUMN].isna()
    # a level of one or two wards (a small municipality's wijken) has nothing to compare: keep the
    # per-ward columns (disclosure control) but no inequality measures, clusters or burden ranks
    few = len(frame) < 3
    if few:
        log.warning("disparity: only %d %s ward(s); no inequality measures at this level", len(frame), level)
    mr = min_residents
    indicators = [c for c in params["indicators"] if c in frame] if few else usable_indicators(frame, params["indicators"], shown)
    if not indicators:
        raise InputDataError(
            f"none of the disparity indicators {params['indicators']} has values at {level} level; "
            "check the exposure/health inputs or disparity.indicators in the config"
        )
    skipped = sorted(set(params["indicators"]) - set(indicators))
    if skipped:
        log.info("disparity: indicators without data in this run, skipped: %s", skipped)
    groups = {} if few else {k: usable_indicators(frame, v, shown) for k, v in burden_groups(docs).items()}
    # the burden combines pollution (exposures or effects) with population characteristics
    # (sensitivity or socioeconomic): a run without either side has no burden, said in the log
    if groups and not ((groups.get("exposures") or groups.get("effects"))
                       and (groups.get("sensitivity") or groups.get("socioeconomic"))):
        log.info("disparity %s: no cumulative burden - it needs an exposure or effect column and a sensitivity "
                 "or socioeconomic column with values; this run has %s", level,
                 {k: v for k, v in groups.items() if v} or "neither")
        groups = {}

    # fixed reference of a previous run (config disparity.burden_reference); None = this run
    ref_path = params.get("burden_reference")
    reference = read_burden_reference(ref_path) if ref_path else None
    result = compute_disparities(
        frame, indicators, ranking=params["ranking"], proxy=params["proxy"],
        n_boot=params["n_boot"], seed=params["seed"], min_residents=mr,
        permutations=params["permutations"], burden_groups=groups,
        burden_reference_table=reference,
        double_burden_pctl=params["double_burden_pctl"], level=level, column_docs=docs,
        **({"spatial": False} if few else {}),
    )
    write_table(result.per_ward, out_wards, result.docs)
    write_table(result.table, out_table, DISPARITY_TABLE_DOCS)
    write_table(result.reference, out_reference, BURDEN_REFERENCE_DOCS)
    return result


def gemeente_summary(buurt_table_path, wards_path, out_path) -> pd.DataFrame:
    """One-row municipal summary of the buurt-level disparity analysis (concentration indices)."""
    table, _ = read_table(buurt_table_path)
    gm = read_wards(wards_path, "gemeente")
    out, docs = concentration_summary(table, gm.index)
    write_table(out, out_path, docs)
    return out


# --- health impact, scenarios, typology ---------------------------------------------------------



def residents_exposure(residents_path, rasters: dict, municipality: str, out_path) -> pd.DataFrame:
    """Exposure at every residents point (input of the health-impact model and its scenarios)."""
    res = _residents(residents_path)
    values = _rx(res, rasters)
    table = values.copy()
    table["gemeentecode"] = municipality
    table["x"], table["y"] = res.geometry.x.to_numpy(), res.geometry.y.to_numpy()
    docs = {c: RESIDENTS_EXPOSURE_DOCS[c] for c in table.columns}  # every column documented by its producer (KeyError: a bug)
    write_table(table, out_path, docs)
    return table


def _impact_params(cfg: dict):

    return params_from_config(cfg)


def health_impact(rx_path, wards_path, level: str, out_path, *, params: dict) -> pd.DataFrame:
    """Attributable burden, DALYs and euros per ward of one level."""
    rx, _ = read_table(rx_path)
    wards = read_wards(wards_path, level)
    buurten = read_wards(wards_path, "buurt")
    table, docs = _impact(rx, level="buurtcode", params=_impact_params(params), wards=buurten.index)
    if level != "buurt":  # wijk = sum of its buurten, gemeente = sum of all: every level adds up
        parent = buurten["wijkcode"] if level == "wijk" else buurten["gemeentecode"]
        if parent.isna().any():
            raise InputDataError(f"buurten without a {parent.name}: {list(parent.index[parent.isna()][:5])}; "
                                 "the ward layers are inconsistent (rebuild wards.gpkg)")
        table, docs = aggregate_impact(table, parent.astype(str), wards.index, docs)
    table = table.drop(columns=[c for c in ("residents",) if c in table])  # already on the ward layer
    write_table(table, out_path, {k: v for k, v in docs.items() if k in table.columns})
    return table


def scenario(rx_path, wards_path, green_path, spec: dict, out_deltas, out_summary, *, params: dict,
             residents_path=None, amenities_path=None, osm_manifest=None, network_params: dict | None = None,
             margin_m: float = 0.0):
    """One named intervention: per-buurt deltas against the baseline and a summary table.

    Health-impact deltas for every type (with deaths/DALYs averted by walking or cycling for
    ``active_travel`` and a ``new_path`` with ``activity``); ``new_park`` and ``new_path`` also
    recompute what they change - green exposure and walk/cycle accessibility
    (:mod:`healthgeo.scenario_effects`).
    """

    rx, _ = read_table(rx_path)
    buurten = read_wards(wards_path, "buurt")
    green = gpd.read_file(green_path, layer="green", engine="pyogrio") if green_path else None
    result, deltas, ddocs, summary = run_scenario(
        spec, rx, wards=buurten, level="buurtcode", params=_impact_params(params), green=green,
    )
    for note in result.notes:
        log.info("scenario %s: %s", spec["name"], note)
    deltas = deltas.reindex(buurten.index)
    if spec["type"] in ("new_park", "new_path") and residents_path:
        source = boundary = None
        if osm_manifest:
            m = read_manifest(osm_manifest)
            boundary = read_wards(wards_path, "gemeente").geometry.buffer(margin_m).union_all()
            source = _network_source(m, boundary)  # as in network_accessibility
        amenities = gpd.read_file(amenities_path, layer="amenities", engine="pyogrio") if amenities_path else None
        effects, edocs = scenario_effects(result, wards=buurten, residents=_residents(residents_path), green=green,
                                          amenities=amenities, osm_path=source, network_params=network_params,
                                          boundary=boundary)
        deltas = deltas.join(effects.drop(columns=[c for c in effects if c in deltas]))
        ddocs = {**ddocs, **edocs}
    write_table(deltas, out_deltas, ddocs)
    summary = summary.rename(columns={"scenario": "scenario_value"}).reset_index()
    summary.insert(0, "scenario", spec["name"])
    summary.insert(1, "scenario_type", spec["type"])
    summary.insert(2, "scenario_description", spec.get("description", ""))
    write_table(summary, out_summary, summary_docs(summary.columns))
    return deltas, summary


def typology(wards_path, tables, amenities_path, level: str, out_path, *, params: dict) -> pd.DataFrame:
    """Area typology per ward with the rule that fired (and optional k-means clusters)."""
    frame, _ = ward_frame(wards_path, level, tables)
    amenities = gpd.read_file(amenities_path, layer="amenities", engine="pyogrio") if amenities_path else None
    redevelopment = gpd.read_file(params["redevelopment_file"]) if params.get("redevelopment_file") else None
    numeric = frame.drop(columns="geometry").select_dtypes("number")
    table, docs = area_typology(
        frame, indicators=numeric.drop(columns=[c for c in numeric if c in ("residents", "area_m2", "income_keur_per_resident", "low_income_hh_pct")]),
        rules=params.get("rules"), redevelopment=redevelopment, amenities=amenities,
        n_clusters=params.get("n_clusters", 0), seed=params.get("seed", 0),
    )
    keep = [c for c in table.columns if c not in frame.columns or c in ("typology", "typology_rule")]
    table = table[keep]
    write_table(table, out_path, {c: docs[c] for c in keep})
    return table


# --- monitoring sites: grid check and station-based surfaces -----------------------------------

def _monitoring_sources(stations_manifest, sensors_manifest):
    """Reader outputs for the Luchtmeetnet and Samen Meten inputs (None where not configured)."""
    stations = sensors = None
    if stations_manifest:
        m = read_manifest(stations_manifest)
        stations = read_luchtmeetnet(m.path)
    if sensors_manifest:
        m = read_manifest(sensors_manifest)  # the API adapter writes the same pivoted CSV + things.csv
        sensors = read_samenmeten_csv(m.path, m.spec.get("things_file"), min_completeness=0.0)
    return stations, sensors


def air_monitoring(stations_manifest, sensors_manifest, raster_path, wards_path, pollutant: str, out_path, *,
                   params: dict, margin_m: float) -> pd.DataFrame:
    """Measured annual means at monitoring sites against the air-quality grid at the same place."""
    stations, sensors = _monitoring_sources(stations_manifest, sensors_manifest)
    points = monitoring_points(stations, sensors, pollutant=pollutant,
                               min_completeness=params["min_completeness"],
                               max_annual_ugm3=params["max_annual_ugm3"])
    xmin, ymin, xmax, ymax = study_bounds(wards_path)
    m = margin_m
    points = points.cx[xmin - m:xmax + m, ymin - m:ymax + m]  # national files hold every station
    if points.empty:
        log.warning("air monitoring: no site passes the completeness threshold %.2f; the table is empty",
                    params["min_completeness"])
    table, docs = grid_vs_monitoring(points, raster_path, source=pollutant)
    check_grid_vs_monitoring(table, factor=params.get("max_grid_factor", 3.0), source=f"{pollutant} grid {raster_path}")
    table = table.reset_index()
    table.insert(1, "pollutant", pollutant)
    docs = {"site_id": doc("text", "Luchtmeetnet station code or Samen Meten sensor name"),
            "pollutant": doc("text", "pollutant of the measurement and grid"), **docs}
    write_table(table, out_path, docs)
    if len(table):
        log.info("grid vs monitoring (%s): %s", pollutant, agreement_summary(table.set_index("site_id")))
    return table


def air_surface(stations_manifest, sensors_manifest, wards_path, pollutant: str, out_raster, out_provenance, *,
                params: dict, margin_m: float):
    """An annual surface from monitoring sites when no grid is configured; LOO error in provenance."""
    stations, sensors = _monitoring_sources(stations_manifest, sensors_manifest)
    xmin, ymin, xmax, ymax = study_bounds(wards_path)
    result = build_surface(
        stations, sensors, bounds=(xmin - margin_m, ymin - margin_m, xmax + margin_m, ymax + margin_m),
        out_path=out_raster, pollutant=pollutant, cell_size=params["cell_size_m"], power=params["idw_power"],
        min_completeness=params["min_completeness"], max_annual_ugm3=params["max_annual_ugm3"],
    )
    note = surface_note(result)
    log.info("%s surface: %s", pollutant, note)
    write_provenance([ProvenanceRecord(
        input=f"{pollutant}_surface", provider="healthgeo.surface (derived)", file=str(out_raster),
        params=f"power={params['idw_power']}, cell={params['cell_size_m']} m", licence="derived from the station inputs",
        note=note,
    )], out_provenance)
    return result


# --- network accessibility ----------------------------------------------------------------------

def _network_source(m, boundary):
    """Where the street network comes from: a local .osm/.osm.pbf extract, or the osm provider's
    GeoPackage (theme all, fetched with the other inputs); an older features-only download falls
    back to Overpass for the study area."""
    if "file" in m.spec:
        return m.path
    import pyogrio

    if not {"network_nodes", "network_edges"} <= {n for n, _ in pyogrio.list_layers(m.path)}:
        log.warning("%s holds no street network: downloading it from Overpass now", m.path)
        return boundary
    return m.path


def network_accessibility(osm_manifest, residents_path, amenities_path, green_path, wards_path, out_paths: dict,
                          out_reference, *, params: dict, margin_m: float, out_means=None) -> dict[str, pd.DataFrame]:
    """Walk, cycle (and wheelchair, config network.modes) accessibility, walkability and cycleway share
    for every ward level.

    The OSM file is read, the walk and bike graphs are built and every home's network distances
    computed once (:func:`healthgeo.network.home_access`); each level only aggregates them.
    """

    m = read_manifest(osm_manifest)
    boundary = read_wards(wards_path, "gemeente").geometry.buffer(margin_m).union_all()
    source = _network_source(m, boundary)
    # wards outside the extract get NULL street measures, not 0 (None: Overpass = the study area)
    extent = nw.osm_extent(source) if isinstance(source, (str, Path)) else None
    kw = nw.config_kwargs(params)
    try:
        networks = nw.build_graphs(source, kw["modes"], boundary=boundary, **kw["graph"])
        _require_streets_inside(networks["walk"], wards_path)
    except NoStreetsError as e:  # a municipality the (national) extract does not cover
        _no_streets(e, wards_path, out_paths, ("access_nan_reason", "walkability_nan_reason", "cycleway_nan_reason"))
        ref = pd.DataFrame({"component": list(nw.DEFAULT_WALKABILITY_REFERENCE),
                            "mean": [v[0] for v in nw.DEFAULT_WALKABILITY_REFERENCE.values()],
                            "sd": [v[1] for v in nw.DEFAULT_WALKABILITY_REFERENCE.values()],
                            "source": "not used: no OSM coverage"})
        write_table(ref, out_reference, walkability_reference_docs(ref))
        if out_means:
            _no_streets(e, wards_path, {"buurt": out_means}, ("access_nan_reason",))
        return {}
    homes = _residents(residents_path)
    amenities = gpd.read_file(amenities_path, layer="amenities", engine="pyogrio")
    green = gpd.read_file(green_path, layer="green", engine="pyogrio")
    # one snapping and one set of Dijkstra passes per mode, aggregated to every level
    access = nw.home_access(networks, homes, amenities, green=green, **kw["home"])
    out, ref_table = {}, None
    for level, path in out_paths.items():
        wards = read_wards(wards_path, level)
        acc, docs = access.accessibility(wards, **kw["access"])
        walk, wdocs, ref_table = access.walkability(wards, extent=extent, **kw["walkability"])
        cyc, cdocs = nw.cycleway_share(networks["bike"], wards, extent=extent)
        table = acc.join(walk.drop(columns=[c for c in walk if c in acc]), how="left")
        table = table.join(cyc.drop(columns=[c for c in cyc if c in table]), how="left")
        docs = {**docs, **wdocs, **cdocs}
        write_table(table, path, {c: docs[c] for c in table.columns})
        out[level] = table
    write_table(ref_table.reset_index() if ref_table.index.name else ref_table, out_reference,
                walkability_reference_docs(ref_table))
    if out_means:  # population-weighted mean distances per buurt: the statistic of CBS Nabijheid
        means, mdocs = access.mean_distances(read_wards(wards_path, "buurt"))
        write_table(means, out_means, mdocs)
    return out


def _require_streets_inside(net, wards_path) -> None:
    """An extract with streets only in the margin (the neighbours') does not cover the municipality."""
    import shapely

    area = read_wards(wards_path, "gemeente").geometry.union_all()
    if not shapely.contains_xy(area, net.x, net.y).any():
        raise NoStreetsError("the OSM input has streets only outside the municipality (in its margin): no OSM "
                             "coverage of the municipality itself")


def _no_streets(error: NoStreetsError, wards_path, out_paths: dict, reason_columns) -> None:
    """Tables of a stage that needs streets, for an area without any: every ward, NULL indicators
    (the columns are absent; a country run's national layers hold them NULL) and the reason."""
    reason = f"no OSM coverage: {error}"
    log.warning("%s; the street-network indicators are NULL", reason)
    for level, path in out_paths.items():
        wards = read_wards(wards_path, level)
        table = pd.DataFrame({c: pd.array([reason] * len(wards), dtype="string") for c in reason_columns},
                             index=wards.index)
        docs = {c: doc("text", "Why the ward's street-network values are NULL (empty when they are computed)",
                       about="area") for c in reason_columns}
        write_table(table, path, docs)


def validation_access(means_path, nabijheid_manifest, wards_path, out_table, out_summary, *,
                      boundaries_year: int | None):
    """healthgeo's mean network distances per buurt against CBS Nabijheid voorzieningen."""
    m = read_manifest(nabijheid_manifest)
    nab, year = read_nabijheid(m.path, spec=m.spec, period=m.spec.get("period"))
    buurten = read_wards(wards_path, "buurt")
    unmatched = int((~buurten.index.isin(nab.index)).sum())
    if year is not None and boundaries_year is not None and int(year) != int(boundaries_year):
        log.warning("nabijheid: table of %s, boundaries of %s; %d of %d buurt codes not in the table (compared "
                    "where the codes match)", year, boundaries_year, unmatched, len(buurten))
    means, _ = read_table(means_path)
    table, summary = _validation(means, nab)
    write_table(table, out_table, validation_docs())
    write_table(summary, out_summary, validation_summary_docs())
    return table, summary


# --- heat stress and health requirements ----------------------------------------------------------

def exposure_heat(raster, wards_path, residents_path, level: str, out_path) -> pd.DataFrame:
    """Felt temperature (PET) per ward: area and population-weighted means, residents per heat-stress class."""
    from .heat import heat_exposure

    table, docs = heat_exposure(read_wards(wards_path, level), raster, _residents(residents_path))
    write_table(table, out_path, docs)
    return table


def heat_cool_access(osm_manifest, residents_path, green_path, wards_path, heat_raster, out_paths: dict, *,
                     params: dict, network_params: dict, margin_m: float, trees_manifest=None,
                     out_places=None) -> dict[str, pd.DataFrame]:
    """Share of residents with a cool place within walking distance, for every ward level.

    Cool places (:func:`healthgeo.heat.cool_places`) are reached over the walk network built as in
    ``network_accessibility`` (same source, boundary and graph parameters); one Dijkstra pass gives
    every home's distance, aggregated per level.
    """
    from .heat import cool_place_access, cool_places, heat_params

    p = heat_params(params)
    m = read_manifest(osm_manifest)
    boundary = read_wards(wards_path, "gemeente").geometry.buffer(margin_m).union_all()
    source = _network_source(m, boundary)
    kw = nw.config_kwargs(network_params)
    try:
        net = nw.build_graph(source, "walk", boundary=boundary, **kw["graph"])
        _require_streets_inside(net, wards_path)
    except NoStreetsError as e:  # a municipality the (national) extract does not cover
        _no_streets(e, wards_path, out_paths, ("cool_place_access_nan_reason",))
        if out_places:
            write_gdf(gpd.GeoDataFrame({"kind": pd.Series(dtype=str)}, geometry=[], crs=TARGET_CRS), out_places,
                      layer="cool_places")
        return {}
    trees, crown_radius_m = _read_trees(trees_manifest) if trees_manifest else (None, 4.0)
    green = gpd.read_file(green_path, layer="green", engine="pyogrio")
    places = cool_places(green, heat_raster, threshold_degc=p["cool_threshold_degc"],
                         min_area_m2=p["cool_min_area_m2"], trees=trees, crown_radius_m=crown_radius_m)
    if out_places:
        write_gdf(places, out_places, layer="cool_places")
    homes = _residents(residents_path)
    home_kw = {k: v for k, v in kw["home"].items() if k == "max_snap_m"}
    dist, info = nw.home_distances(net, homes, {"cool_place": places}, **home_kw)
    log.info("cool places: %d, reached by the walk network: %s", len(places), info["cool_place"])
    out = {}
    for level, path in out_paths.items():
        table, docs = cool_place_access(dist["cool_place"].to_numpy(float), homes, read_wards(wards_path, level),
                                        within_m=p["cool_distance_m"], threshold_degc=p["cool_threshold_degc"],
                                        min_area_m2=p["cool_min_area_m2"], n_places=len(places))
        write_table(table, path, docs)
        out[level] = table
    return out


def requirements(wards_path, tables, level: str, out_wards, out_table, out_summary, *, requirements: list | None,
                 network: dict | None = None, heat: dict | None = None,
                 min_residents: float = DEFAULT_MIN_RESIDENTS):
    """The health-requirements scorecard of one ward level: per-ward counts, long table, summary per area type.

    ``tables``: every per-level table of the run (indicators, disparity, impact, typology);
    ``network``/``heat``: the config sections that name some indicator columns (walking
    thresholds, cool-place distance). Wards withheld by disclosure control are left out of the
    per-type summary.
    """
    from .requirements import REQUIREMENT_TABLE_DOCS, SUMMARY_DOCS, check_requirements, evaluate_requirements
    from .requirements import known_indicators

    reqs = check_requirements(requirements, known=known_indicators({"network": network, "heat": heat}))
    frame, docs = ward_frame(wards_path, level, tables)
    if "typology" not in frame:
        log.warning("requirements: no typology column at %s level; requirements limited to area types are NULL",
                    level)
    published = read_reasons(wards_path, min_residents=min_residents)[level].reindex(frame.index).isna()
    per_ward, wdocs, long, summary = evaluate_requirements(
        frame, reqs, level=level, typology=frame.get("typology"), docs=docs,
        published=pd.Series(published.to_numpy(), index=frame.index.astype(str)))
    write_table(per_ward, out_wards, wdocs)
    write_table(long, out_table, REQUIREMENT_TABLE_DOCS)
    write_table(summary, out_summary, SUMMARY_DOCS)
    log.info("requirements (%s): %d ward x requirement rows, %d met, %d not met, %d NULL", level, len(long),
             int(long["met"].fillna(False).sum()), int((long["met"] == False).sum()),  # noqa: E712
             int(long["met"].isna().sum()))
    return per_ward, long, summary
