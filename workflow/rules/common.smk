# Helpers for the rules: config lookups only (logic lives in src/healthgeo).

import os
import re

import healthgeo.config as _hgconfig
from healthgeo.io import drop_stale_receipt as _drop_stale_receipt
from healthgeo.demo import output_files as _demo_output_files
from healthgeo.demo import country_output_files as _country_output_files
from healthgeo._vocab import LEVELS

# Validate at start-up (fills defaults; fails before any work with a message naming the key).
_validated = _hgconfig.validate(config)
config.clear()
config.update(_validated)

RUN = config["run"]
# run paths (docs/methods.md#country-runs): one municipality -> {RUN}; a country run ->
# {RUN}/gemeente/{code} per municipality, each with its own jobs and the single-run contract
RUN_PATHS = _hgconfig.run_paths(config)
COUNTRY = _hgconfig.is_country(config)
# years (docs/methods.md#trends): each per-year input also has an instance per other run year,
# `{input}_{year}` (e.g. no2_2021), fetched and prepared by the same rules as the input itself
YEARS = _hgconfig.trend_years(config)
YEAR_INSTANCES = _hgconfig.year_instances(config)
INPUTS = sorted([*config["inputs"], *YEAR_INSTANCES])
RASTERS = [r for r in _hgconfig.RASTER_INPUTS if r in config["inputs"]] + [
    i for i, (n, _) in YEAR_INSTANCES.items() if n in _hgconfig.RASTER_INPUTS
]
# survey waves (inputs.health.years) and the boundary years crosswalked onto area.year's wards
# (docs/methods.md#boundary-crosswalks); every year with values on the run's wards (the trend)
WAVES = _hgconfig.wave_years(config)
BASE_WAVE = _hgconfig.base_wave(config)
# the waves other than the base wave (that one is the health input of rule prepare_health)
OTHER_WAVES = [w for w in WAVES if w != BASE_WAVE]
BOUNDARY_YEARS = _hgconfig.boundary_years(config)
PERIODS = _hgconfig.trend_periods(config)
MONITORING = [n for n in ("stations", "sensors") if n in config["inputs"]]
MONITORED = sorted({config["inputs"][n].get("pollutant", "no2") for n in MONITORING})
# a pollutant with monitoring sites but no grid gets a station-based surface (see air_surface in exposure.smk)
SURFACES = [p for p in MONITORED if p not in config["inputs"]]
SURFACE_PATTERN = "|".join(SURFACES) or "__none__"
AIR = [p for p in ("no2", "pm25", "pm10") if p in config["inputs"] or p in SURFACES]
# a country run's `file:` inputs: registered once (data/raw/manifests/{RUN}/), read by every municipality
NATIONAL = _hgconfig.national_inputs(config, INPUTS)


wildcard_constraints:
    run="|".join(map(re.escape, RUN_PATHS)),
    input="|".join(INPUTS),
    raster="|".join(RASTERS) if RASTERS else "__none__",
    level="|".join(LEVELS),
    dlevel="buurt|wijk",
    pollutant="|".join(MONITORED) or "__none__",
    scenario="|".join(s["name"] for s in config["scenarios"]) or "__none__",
    year="|".join(map(str, YEARS)) or "__none__",
    wave="|".join(map(str, OTHER_WAVES)) or "__none__",


# The published GeoPackage is described by the assemble rule's receipt; a receipt whose
# GeoPackage is missing or changed is dropped here, so Snakemake plans assemble again.
for _run in RUN_PATHS:
    _drop_stale_receipt(f"data/processed/{_run}/healthgeo.gpkg.json")
if COUNTRY:
    _drop_stale_receipt(f"data/processed/{RUN}/healthgeo.gpkg.json")


def get_final_outputs(wildcards):
    """The receipt of each published GeoPackage (data/processed/{run}/healthgeo.gpkg) and its
    report; a country run adds the national GeoPackage's receipt."""
    outputs = []
    for run in RUN_PATHS:
        outputs += [
            f"data/processed/{run}/healthgeo.gpkg.json",
            f"data/processed/{run}/report/index.html",
        ]
    if COUNTRY:
        outputs += [
            f"data/processed/{RUN}/healthgeo.gpkg.json",
            f"data/processed/{RUN}/report/index.html",
        ]
    return outputs


def get_municipality(wildcards):
    """The municipality code of a run path."""
    return RUN_PATHS[wildcards.run]


def get_area(wildcards):
    """config area of one run path: a country run's municipality set as area.municipality."""
    area = {k: v for k, v in config["area"].items() if k != "municipalities"}
    if wildcards.run in RUN_PATHS:
        area["municipality"] = RUN_PATHS[wildcards.run]
    return area


def get_cache_dir(wildcards):
    """Download cache shared by all runs: data/raw/{provider}/..."""
    return "data/raw"


def get_input_spec(wildcards):
    """The config entry of one input, year defaulted to area.year."""
    return _hgconfig.input_spec(config, wildcards.input)


WARD_INPUTS = ("buurten", "wijken", "gemeente", "kerncijfers")


def get_fetch_inputs(wildcards):
    """A local input file is an input of the fetch job (so edits rerun the DAG); a download
    that queries by area (OSM, BAG, ALO, Luchtmeetnet, ...) needs the prepared boundaries.
    """
    spec = _hgconfig.input_spec(config, wildcards.input)
    name = YEAR_INSTANCES.get(wildcards.input, (wildcards.input,))[0]
    inputs = {"local": []}
    if "file" in spec:
        folder = os.path.join(spec["file"], "")
        demo_files = [
            *_demo_output_files("data/raw/demo"),
            *_country_output_files("data/raw/demo_country"),
        ]
        produced = [f for f in demo_files if f.startswith(folder)]
        # a folder filled by demo_city: its files; a missing file of another year is left to the
        # fetch job, which names the year (a missing input here would stop Snakemake unexplained)
        if (
            produced
            or name == wildcards.input
            or os.path.exists(spec["file"])
            or os.path.normpath(spec["file"]) in demo_files
        ):
            inputs["local"] += produced or [spec["file"]]
        if "things_file" in spec:
            inputs["local"].append(spec["things_file"])
    elif name not in WARD_INPUTS:
        inputs["wards"] = f"data/processed/{wildcards.run}/wards.gpkg"
    return inputs


def manifest(name, wildcards):
    """The manifest of input ``name`` for a run path: a country run's national `file:` inputs
    have one manifest for all municipalities (data/raw/manifests/{run}/), except the OSM extract,
    which each municipality cuts from it (rule cut_osm)."""
    if name in NATIONAL and name != "osm":
        return f"data/raw/manifests/{RUN}/{name}.json"
    return f"data/raw/manifests/{wildcards.run}/{name}.json"


def get_all_manifests(wildcards):
    """Every input's manifest of every run path (a national one once)."""
    return sorted(
        {manifest(n, Wildcards(run=run)) for run in RUN_PATHS for n in INPUTS}
    )


class Wildcards(dict):
    """Wildcards of a job that is not being scheduled (for input functions called by hand)."""

    __getattr__ = dict.__getitem__


def get_ward_manifests(wildcards):
    names = [
        n
        for n in ("buurten", "wijken", "gemeente", "kerncijfers")
        if n in config["inputs"]
    ]
    return {n: manifest(n, wildcards) for n in names}


def get_population_manifest(wildcards):
    for name in ("dwellings", "population_grid"):
        if name in config["inputs"]:
            return {"population": manifest(name, wildcards)}
    return {}


def get_green_extras(wildcards):
    """Optional canopy/NDVI inputs of the green indicators."""
    extras = {}
    if "trees" in config["inputs"]:
        extras["trees"] = manifest("trees", wildcards)
    if "landcover" in config["inputs"]:
        extras["landcover"] = f"data/processed/{wildcards.run}/rasters/landcover.tif"
        extras["landcover_manifest"] = manifest("landcover", wildcards)
    if "ndvi" in config["inputs"]:
        extras["ndvi"] = f"data/processed/{wildcards.run}/rasters/ndvi.tif"
    return extras


def get_air_rasters(wildcards):
    return {p: f"data/processed/{wildcards.run}/rasters/{p}.tif" for p in AIR}


def get_noise_rasters(wildcards):
    names = {"noise_lden": "lden", "noise_lnight": "lnight"}
    return {
        v: f"data/processed/{wildcards.run}/rasters/{k}.tif"
        for k, v in names.items()
        if k in config["inputs"]
    }


DISPARITY = any(n in config["inputs"] for n in ("health", "kerncijfers", "ses"))


def get_boundaries_year(wildcards):
    """Year of the buurt boundaries (their own `year:`, else area.year): the regio-indeling an
    SES or Nabijheid table must match."""
    return config["inputs"]["buurten"].get("year") or config["area"]["year"]


def get_level_tables(wildcards):
    """Indicator tables of one ward level ({level} left as a placeholder), by what the config provides."""
    base = f"data/processed/{wildcards.run}/{{level}}"
    tables = []
    if AIR:
        tables.append(f"{base}/exposure_air.parquet")
    if "noise_lden" in config["inputs"]:
        tables.append(f"{base}/exposure_noise.parquet")
    if "osm" in config["inputs"]:
        tables.append(f"{base}/exposure_green.parquet")
        tables.append(f"{base}/network.parquet")
    if "health" in config["inputs"]:
        tables.append(f"{base}/health.parquet")
    if "ses" in config["inputs"]:
        tables.append(f"{base}/ses.parquet")
    if "heat" in config["inputs"]:
        tables.append(f"{base}/exposure_heat.parquet")
        if "osm" in config["inputs"]:
            tables.append(f"{base}/heat_access.parquet")
    return tables


def get_heat_trees(wildcards):
    """Tree points (optional): their crowns' shade counts as cool-place candidates."""
    return (
        {"trees": manifest("trees", wildcards)} if "trees" in config["inputs"] else {}
    )


def get_requirements_inputs(wildcards):
    """Per level, every table the requirements may name: indicators, disparity, impact, typology."""
    inputs = {}
    for level in LEVELS:
        tables = [t.format(level=level) for t in get_level_tables(wildcards)]
        if DISPARITY:
            tables.append(f"data/processed/{wildcards.run}/{level}/disparity.parquet")
        if IMPACT:
            tables.append(f"data/processed/{wildcards.run}/{level}/impact.parquet")
        tables.append(f"data/processed/{wildcards.run}/{level}/typology.parquet")
        inputs[level] = tables
    return inputs


IMPACT = bool(AIR) or "noise_lden" in config["inputs"]
SCENARIOS = [s["name"] for s in config["scenarios"]]


def get_impact_rasters(wildcards):
    names = {
        "no2": "no2",
        "pm25": "pm25",
        "pm10": "pm10",
        "noise_lden": "lden",
        "noise_lnight": "lnight",
    }
    return {
        v: f"data/processed/{wildcards.run}/rasters/{k}.tif"
        for k, v in names.items()
        if k in config["inputs"]
    }


def get_scenario_spec(wildcards):
    return next(s for s in config["scenarios"] if s["name"] == wildcards.scenario)


def get_scenario_inputs(wildcards):
    inputs = {"residents": f"data/processed/{wildcards.run}/residents.gpkg"}
    if "osm" in config["inputs"]:
        inputs["green"] = f"data/processed/{wildcards.run}/green.gpkg"
        inputs["amenities"] = f"data/processed/{wildcards.run}/amenities.gpkg"
        inputs["osm"] = manifest("osm", wildcards)
    return inputs


def get_typology_inputs(wildcards):
    """Per level, the indicator tables the typology rules read; the amenities when OSM is given."""
    inputs = {
        level: [t.format(level=level) for t in get_level_tables(wildcards)]
        for level in LEVELS
    }
    if "osm" in config["inputs"]:
        inputs["amenities"] = f"data/processed/{wildcards.run}/amenities.gpkg"
    return inputs


def get_monitoring_manifests(wildcards):
    return {
        n: manifest(n, wildcards)
        for n in MONITORING
        if config["inputs"][n].get("pollutant", "no2") == wildcards.pollutant
    }


def get_monitoring_inputs(wildcards):
    return {
        **get_monitoring_manifests(wildcards),
        "raster": f"data/processed/{wildcards.run}/rasters/{wildcards.pollutant}.tif",
        "wards": f"data/processed/{wildcards.run}/wards.gpkg",
    }


def get_disparity_inputs(wildcards):
    inputs = {
        "wards": f"data/processed/{wildcards.run}/wards.gpkg",
        "tables": [
            t.format(level=wildcards.dlevel) for t in get_level_tables(wildcards)
        ],
    }
    # a fixed burden reference of an earlier run: a changed file reruns the disparity stage
    if config["disparity"].get("burden_reference"):
        inputs["burden_reference"] = config["disparity"]["burden_reference"]
    return inputs


def get_assemble_inputs(wildcards):
    inputs = {
        "wards": f"data/processed/{wildcards.run}/wards.gpkg",
        "manifests": [manifest(n, wildcards) for n in INPUTS],
        "disparity_tables": [],
        "burden_reference": [],
        "monitoring": [
            f"data/processed/{wildcards.run}/air_monitoring_{p}.parquet"
            for p in MONITORED
        ],
        "surface_provenance": [
            f"data/processed/{wildcards.run}/rasters/{p}_surface.json" for p in SURFACES
        ],
        "walkability_reference": (
            [f"data/processed/{wildcards.run}/walkability_reference.parquet"]
            if "osm" in config["inputs"]
            else []
        ),
        "validation_access": (
            [
                f"data/processed/{wildcards.run}/validation_access.parquet",
                f"data/processed/{wildcards.run}/validation_access_summary.parquet",
            ]
            if "nabijheid" in config["inputs"] and "osm" in config["inputs"]
            else []
        ),
        "scenario_deltas": [
            f"data/processed/{wildcards.run}/scenarios/{s}/buurt_deltas.parquet"
            for s in SCENARIOS
        ],
        "scenario_summaries": [
            f"data/processed/{wildcards.run}/scenarios/{s}/summary.parquet"
            for s in SCENARIOS
        ],
        "trend": (
            [
                f"data/processed/{wildcards.run}/{level}/trend.parquet"
                for level in LEVELS
            ]
            if PERIODS
            else []
        ),
        "crosswalk": [
            _crosswalk_file(wildcards.run, y, "crosswalk") for y in BOUNDARY_YEARS
        ],
        "crosswalk_quality": [
            _crosswalk_file(wildcards.run, y, "crosswalk_quality")
            for y in BOUNDARY_YEARS
        ],
        "disparity_trend": (
            [f"data/processed/{wildcards.run}/disparity_trend.parquet"]
            if PERIODS and DISPARITY
            else []
        ),
        "requirements_tables": [
            f"data/processed/{wildcards.run}/requirements/{level}_table.parquet"
            for level in LEVELS
        ],
        "requirements_summaries": [
            f"data/processed/{wildcards.run}/requirements/{level}_summary.parquet"
            for level in LEVELS
        ],
    }
    for level in LEVELS:
        inputs[level] = [t.format(level=level) for t in get_level_tables(wildcards)]
        if DISPARITY:
            inputs[level].append(
                f"data/processed/{wildcards.run}/{level}/disparity.parquet"
            )
        if IMPACT:
            inputs[level].append(
                f"data/processed/{wildcards.run}/{level}/impact.parquet"
            )
        inputs[level].append(f"data/processed/{wildcards.run}/{level}/typology.parquet")
        inputs[level].append(
            f"data/processed/{wildcards.run}/{level}/requirements.parquet"
        )
    if DISPARITY:
        for level in ("buurt", "wijk"):
            inputs["disparity_tables"].append(
                f"data/processed/{wildcards.run}/{level}/disparity_table.parquet"
            )
            inputs["burden_reference"].append(
                f"data/processed/{wildcards.run}/{level}/burden_reference.parquet"
            )
    return inputs


def get_year_rasters(wildcards):
    """The prepared rasters of one run year, keyed by what the exposure functions take
    (no2, pm25, pm10, lden, lnight); the base year's (config.base_year) are the run's own rasters.
    """
    year = int(wildcards.year)
    return {
        _hgconfig.YEAR_RASTER_KINDS[n]: f"data/processed/{wildcards.run}/rasters/"
        + (n if year == _hgconfig.base_year(config) else f"{n}_{year}")
        + ".tif"
        for n in _hgconfig.per_year_inputs(config)
    }


def _crosswalk_file(run, year, name):
    """The crosswalk (or its quality) of a wave year: the base wave's is rule prepare_health's."""
    if year == BASE_WAVE:
        return f"data/processed/{run}/health_{name}.parquet"
    return f"data/processed/{run}/years/{year}/{name}.parquet"


def _wave_health(run, level, wave):
    """A wave's health table on the run's wards: the base wave's is the level's health table."""
    if wave == BASE_WAVE:
        return f"data/processed/{run}/{level}/health.parquet"
    return f"data/processed/{run}/years/{wave}/{level}_health.parquet"


def _boundary_manifests(run, year):
    """The per-year boundary inputs of a wave year whose boundaries are not area.year's."""
    if year not in BOUNDARY_YEARS:
        return {}
    return {
        name: manifest(f"{name}_{year}", Wildcards(run=run))
        for name in _hgconfig.per_year_boundaries(config)
    }


def get_health_inputs(wildcards):
    """The health input (with waves: the base wave), the run's wards and, when the wave is on
    other boundaries than area.year's, those boundaries and the residents that weight the crosswalk.
    """
    inputs = {
        "manifest": manifest("health", wildcards),
        "wards": f"data/processed/{wildcards.run}/wards.gpkg",
    }
    boundaries = _boundary_manifests(wildcards.run, BASE_WAVE)
    if boundaries:
        inputs["residents"] = f"data/processed/{wildcards.run}/residents.gpkg"
    return {**inputs, **boundaries}


def _period_tables(run, level):
    """year -> the tables of that year on the run's wards at ``level``: a run year's exposure
    (rule exposure_year), a survey wave's health (rule health_wave)."""
    tables = {}
    for y in YEARS:
        tables.setdefault(y, []).append(
            f"data/processed/{run}/years/{y}/{level}_exposure.parquet"
        )
    for y in WAVES:
        tables.setdefault(y, []).append(_wave_health(run, level, y))
    return dict(sorted(tables.items()))


def get_trend_tables(wildcards):
    """Each level's per-year tables, in the order of PERIODS (a year's tables in a row)."""
    return {
        level: [p for ps in _period_tables(wildcards.run, level).values() for p in ps]
        for level in LEVELS
    }


def get_trend_file_years(wildcards):
    """The year of each file of get_trend_tables (the same order at every level)."""
    return [y for y, ps in _period_tables(wildcards.run, "buurt").items() for _ in ps]


def get_wave_inputs(wildcards):
    """A survey wave: its health file, the boundaries of its year when they are per year (else
    none: the wave is joined onto the run's wards by code), the run's wards and residents.
    """
    wave = int(wildcards.wave)
    inputs = {
        "health": manifest(f"health_{wave}", wildcards),
        "wards": f"data/processed/{wildcards.run}/wards.gpkg",
        "residents": f"data/processed/{wildcards.run}/residents.gpkg",
    }
    return {**inputs, **_boundary_manifests(wildcards.run, wave)}


def get_disparity_trend_inputs(wildcards):
    """The run's wards, the tables the SES ranking comes from, and each year's tables (buurt, wijk)."""
    inputs = {"wards": f"data/processed/{wildcards.run}/wards.gpkg"}
    for level in ("buurt", "wijk"):
        # the SES ranking: SES-WOA and the base wave's survey proxy (key figures are on the wards)
        inputs[f"ses_{level}"] = [
            t.format(level=level)
            for t in get_level_tables(wildcards)
            if os.path.basename(t) in ("ses.parquet", "health.parquet")
        ]
        inputs[level] = [
            p for ps in _period_tables(wildcards.run, level).values() for p in ps
        ]
    return inputs


def get_national_runs(wildcards):
    """Per municipality of a country run: the files the national GeoPackage joins."""
    runs = {}
    for run, gm in RUN_PATHS.items():
        w = Wildcards(run=run)
        inputs = get_assemble_inputs(w)
        runs[gm] = {
            "wards": inputs["wards"],
            "tables": {level: list(inputs[level]) for level in LEVELS},
            "indicator_tables": {
                level: [t.format(level=level) for t in get_level_tables(w)]
                for level in LEVELS
            },
            "disparity_tables": list(inputs["disparity_tables"]),
            "manifests": list(inputs["manifests"]),
            "extra_provenance": list(inputs["surface_provenance"]),
        }
    return runs


def get_national_inputs(wildcards):
    """Every municipality's published GeoPackage (its receipt) and the files joined from its run."""
    files = [f"data/processed/{run}/healthgeo.gpkg.json" for run in RUN_PATHS]
    for r in get_national_runs(wildcards).values():
        files += [r["wards"], *r["disparity_tables"], *r["manifests"]]
        files += [p for paths in r["tables"].values() for p in paths]
        files += r["extra_provenance"]
    return {"files": sorted(set(files))}
