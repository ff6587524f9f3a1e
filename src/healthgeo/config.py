"""Configuration: load, validate against the JSON Schema, fill defaults, check semantics.

The schema (``schemas/config.schema.yaml``) documents every key. :func:`load_config` collects
*all* problems and raises one :class:`~healthgeo._errors.ConfigError` that names each key and
what is allowed, before the workflow does any work.
"""

from __future__ import annotations

import copy
import datetime
import difflib
import logging
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from jsonschema import Draft202012Validator, validators

from ._errors import ConfigError
from ._vocab import code_prefix, is_code
from .heat import heat_params
from .impact import params_from_config
from .rasters import NETCDF_SUFFIXES, is_netcdf
from .scenarios import validate_spec
from .sources import PROVIDERS, known_municipalities
from .sources.cbs import KWB_TABLES
from .sources.health import HEALTH_TABLES
from .requirements import known_indicators, requirement_problems
from .typology import DEFAULT_RULES, rules_from_config

log = logging.getLogger(__name__)

#: Inputs that are rasters (prepared by healthgeo.rasters) and their units.
RASTER_INPUTS = {
    "no2": "ugm3",
    "pm25": "ugm3",
    "pm10": "ugm3",
    "noise_lden": "db",
    "noise_lnight": "db",
    "landcover": "class",
    "ndvi": "ratio",
    "heat": "degc",
}


@lru_cache(maxsize=1)
def schema() -> dict:
    """The configuration JSON Schema as a dict."""
    text = resources.files("healthgeo").joinpath("schemas/config.schema.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _validator_class():
    base = Draft202012Validator
    validate_props = base.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema_):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from validate_props(validator, properties, instance, schema_)

    return validators.extend(base, {"properties": set_defaults})


def _key_path(err) -> str:
    return ".".join(str(p) for p in err.absolute_path) or "(top level)"


def _describe(err) -> str:
    """A message naming the key and what is allowed."""
    where = _key_path(err)
    v = err.validator
    if v == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed))
        hints = []
        for key in extra:
            close = difflib.get_close_matches(key, allowed, n=1)
            full = f"{where}.{key}" if where != "(top level)" else key
            hints.append(f"'{full}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        return f"unknown key(s) {', '.join(hints)}; allowed keys under {where}: {allowed}"
    if v == "type":
        return f"{where}: expected {err.validator_value}, got {type(err.instance).__name__} {err.instance!r}"
    if v == "enum":
        return f"{where}: {err.instance!r} is not allowed; allowed values: {err.validator_value}"
    if v == "const":
        return f"{where}: must be {err.validator_value!r}, got {err.instance!r}"
    if v == "required":
        return f"{where}: {err.message}"
    if v == "pattern":
        return f"{where}: {err.instance!r} does not match the pattern {err.validator_value!r}"
    if v == "oneOf" and isinstance(err.instance, dict):
        return f"{where}: give exactly one of `provider` or `file` (got keys {sorted(err.instance)})"
    return f"{where}: {err.message}"


def validate(config: dict[str, Any]) -> dict[str, Any]:
    """Validate ``config`` against the schema, fill defaults and check semantics.

    Returns a new dict; raises :class:`ConfigError` listing every problem.
    """
    cfg = _renamed_keys(copy.deepcopy(dict(config)))
    validator = _validator_class()(schema())
    errors = sorted(validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path)))
    problems = [_describe(e) for e in errors]
    if not problems:
        problems = _semantic_problems(cfg)
    if problems:
        raise ConfigError(
            "invalid configuration:\n  - " + "\n  - ".join(problems)
            + "\nSee config/config.yaml and the schema src/healthgeo/schemas/config.schema.yaml "
            "(every key is described there)."
        )
    return cfg


def _renamed_keys(cfg: dict[str, Any]) -> dict[str, Any]:
    """Accept deprecated keys under their new name, with a message saying what to change."""
    old = cfg.get("disparity", {}).get("min_residents") if isinstance(cfg.get("disparity"), dict) else None
    if old is not None:
        disclosure = cfg.setdefault("disclosure", {})
        if isinstance(disclosure, dict) and "min_residents" not in disclosure:
            disclosure["min_residents"] = old
            log.warning("config key disparity.min_residents is deprecated: the threshold now applies to every "
                        "layer and table; write it as disclosure: {min_residents: %s}", old)
        elif isinstance(disclosure, dict):
            log.warning("config key disparity.min_residents is deprecated and ignored: "
                        "disclosure.min_residents (%s) applies; remove disparity.min_residents",
                        disclosure["min_residents"])
        del cfg["disparity"]["min_residents"]
    return cfg


def _code_problems(key: str, code: str, year: int) -> list[str]:
    """An unknown code, or one that did not exist in ``year``, named with what to use instead.
    The demo country's synthetic codes GM9901-GM9998 (healthgeo.demo.generate_country) are valid."""
    if code.startswith(SYNTHETIC_PREFIX) and 1 <= int(code[4:]) <= 98:
        return []
    known = known_municipalities()
    if code in known and code not in known_municipalities(year):
        return [f"{key}: {code} ({known[code]}) is not a municipality in {year} (merged or not yet "
                "formed); use the code valid in area.year, or change area.year"]
    if code not in known:
        close = difflib.get_close_matches(code, list(known), n=3)
        return [f"{key}: unknown CBS municipality code {code!r}"
                + (f"; close known codes: {close}" if close else "")
                + f"; allowed: one of the {len(known)} codes in healthgeo/data/gemeenten.csv "
                "(e.g. GM0344 Utrecht), GM9999 for the synthetic demo, GM9901-GM9998 for the demo country"]
    return []


def _semantic_problems(cfg: dict[str, Any]) -> list[str]:
    problems = []
    year = cfg["area"]["year"]
    codes = municipalities(cfg)
    if is_country(cfg) and isinstance(cfg["area"]["municipalities"], list):
        for code in codes:
            problems += _code_problems("area.municipalities", code, year)
    elif not is_country(cfg):
        problems += _code_problems("area.municipality", codes[0], year)
    known = known_municipalities()
    for name, spec in cfg["inputs"].items():
        if "provider" in spec and spec["provider"] not in PROVIDERS:
            problems.append(
                f"inputs.{name}.provider: unknown provider {spec['provider']!r}; allowed: {sorted(PROVIDERS)}"
            )
        netcdf_keys = [k for k in ("variable", "reduce") if k in spec]
        if netcdf_keys and not (name in RASTER_INPUTS and is_netcdf(spec.get("file", ""))):
            problems.append(
                f"inputs.{name}: {netcdf_keys} apply only to a NetCDF `file:` ({', '.join(NETCDF_SUFFIXES)}) "
                f"of a raster input ({sorted(RASTER_INPUTS)}); remove them or give a NetCDF file"
            )
    problems += _year_problems(cfg)
    problems += _years_problems(cfg)
    if not is_country(cfg) and codes[0] in known:
        problems += _scenario_code_problems(cfg, codes[0])
    elif is_country(cfg):
        problems += [p for p in (_country_scenario_problems(cfg, codes)) if p]
    problems += _model_problems(cfg)
    return problems


#: provider -> (years with a known table, spec key that overrides the table)
_PROVIDER_YEARS = {"cbs_odata": (KWB_TABLES, "table"), "rivm_gezondheid": (HEALTH_TABLES, "table")}


def _year_problems(cfg: dict[str, Any]) -> list[str]:
    """Years of downloaded inputs that no provider table covers, or that lie in the future."""
    problems = []
    this_year = datetime.date.today().year
    for name, spec in cfg["inputs"].items():
        if "provider" not in spec:
            continue
        year = spec.get("year", cfg["area"]["year"])
        if year > this_year:
            problems.append(f"inputs.{name}.year: {year} lies in the future; give a published year (<= {this_year})")
            continue
        known, override = _PROVIDER_YEARS.get(spec["provider"], (None, None))
        options = spec.get("options") or {}
        if known is not None and year not in known and override not in spec and override not in options:
            problems.append(f"inputs.{name}: provider {spec['provider']} has no table for {year}; published years: "
                            f"{sorted(known)} (set `year:`, or give `options: {{{override}: <StatLine id>}}`)")
    return problems


def _scenario_code_problems(cfg: dict[str, Any], municipality: str) -> list[str]:
    """Ward codes in ``scenarios[*].where.wijk|buurt`` must be codes of the configured municipality."""
    problems = []
    for i, spec in enumerate(cfg.get("scenarios", [])):
        where = spec.get("where") or {}
        if not isinstance(where, dict):
            continue
        for level in ("wijk", "buurt"):
            codes = where.get(level)
            if not isinstance(codes, (list, tuple)):
                continue
            prefix = code_prefix(level, municipality)
            bad = [c for c in codes if not (is_code(str(c), level) and str(c).startswith(prefix))]
            if bad:
                example = prefix + ("01" if level == "wijk" else "0101")
                problems.append(f"scenarios[{i}] ({spec.get('name', '?')}).where.{level}: {bad} are not {level} codes "
                                f"of {municipality}; use codes like {example}")
    return problems


def _country_scenario_problems(cfg: dict[str, Any], codes: list[str]) -> list[str]:
    """In a country run a scenario's ward codes must belong to one of the municipalities (the
    scenario runs in every municipality; where none of its wards lie it changes nothing)."""
    problems = []
    for i, spec in enumerate(cfg.get("scenarios", [])):
        where = spec.get("where") or {}
        for level in ("wijk", "buurt"):
            given = where.get(level) if isinstance(where, dict) else None
            if not isinstance(given, (list, tuple)):
                continue
            prefixes = tuple(code_prefix(level, gm) for gm in codes)
            bad = [c for c in given if not (is_code(str(c), level) and str(c).startswith(prefixes))]
            if bad:
                problems.append(f"scenarios[{i}] ({spec.get('name', '?')}).where.{level}: {bad} are not {level} "
                                f"codes of any of area.municipalities")
    return problems


# --------------------------------------------------------------------------- country runs
#: synthetic codes (the demo city GM9999 and the demo country GM9901-GM99xx): never part of `all`
SYNTHETIC_PREFIX = "GM99"


def is_country(cfg: dict) -> bool:
    """A country run: ``area.municipalities`` (a list or ``all``) instead of ``area.municipality``."""
    return "municipalities" in cfg["area"]


def municipalities(cfg: dict) -> list[str]:
    """The run's municipality codes: ``[area.municipality]``, the list, or for ``all`` every real
    municipality valid in area.year (healthgeo/data/gemeenten.csv), sorted."""
    area = cfg["area"]
    if not is_country(cfg):
        return [area["municipality"]]
    if area["municipalities"] == "all":
        return sorted(c for c in known_municipalities(area["year"]) if not c.startswith(SYNTHETIC_PREFIX))
    return list(area["municipalities"])


def run_paths(cfg: dict) -> dict[str, str]:
    """Run path (the ``{run}`` of every per-municipality output) -> municipality code.

    One municipality: ``{run: code}`` (outputs under data/processed/{run}/, as always). A country
    run: ``{run}/gemeente/{code}`` per municipality, so each keeps the single-municipality contract
    under data/processed/{run}/gemeente/{code}/ and the national outputs sit in data/processed/{run}/.
    """
    if not is_country(cfg):
        return {cfg["run"]: cfg["area"]["municipality"]}
    return {f"{cfg['run']}/gemeente/{gm}": gm for gm in municipalities(cfg)}


def national_inputs(cfg: dict, names) -> list[str]:
    """Inputs registered once for a country run: local files (a national file serves every
    municipality; each cuts its part). Downloads query per municipality (their own manifests)."""
    if not is_country(cfg):
        return []
    return [n for n in names if "file" in (input_spec(cfg, n) or {})]


def _model_problems(cfg: dict[str, Any]) -> list[str]:
    """Checks owned by the model modules (scenario specs, impact parameters, typology rules)."""
    problems = []
    checks = [("impact", lambda: params_from_config(cfg.get("impact")))]
    if cfg.get("typology", {}).get("rules") is not None:
        checks.append(("typology.rules", lambda: rules_from_config(cfg["typology"]["rules"])))
    for i, spec in enumerate(cfg.get("scenarios", [])):
        checks.append((f"scenarios[{i}]", lambda spec=spec: validate_spec(spec)))
    for where, check in checks:
        try:
            check()
        except ConfigError as e:
            problems.append(f"{where}: {e}")
    names = [s["name"] for s in cfg.get("scenarios", [])]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        problems.append(f"scenarios: duplicate names {dup}; each scenario needs its own name")
    try:
        heat_params(cfg.get("heat"))
    except ConfigError as e:
        problems.append(f"heat: {e}")
    # health requirements: an unknown indicator is refused here, before any work (closest names given)
    rules = cfg.get("typology", {}).get("rules") or DEFAULT_RULES
    types = {r.get("type") for r in rules if isinstance(r, dict)}
    problems += requirement_problems(cfg.get("requirements"), known=known_indicators(cfg), area_types=types)
    return problems


def load_config(path_or_dict: str | Path | dict) -> dict[str, Any]:
    """Read a YAML config file (or take a dict) and :func:`validate` it."""
    if isinstance(path_or_dict, dict):
        return validate(path_or_dict)
    path = Path(path_or_dict)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; pass CONFIG=path/to/config.yaml")
    with path.open(encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping of keys, got {type(data).__name__}")
    return validate(data)


#: per-year raster inputs: the kind their exposure function takes (air pollutant or noise indicator)
YEAR_RASTER_KINDS = {"no2": "no2", "pm25": "pm25", "pm10": "pm10", "noise_lden": "lden", "noise_lnight": "lnight"}
#: boundary inputs that may be given per year (``{year}`` in ``file:``): area.year's are the target
#: geometry, the other years' are crosswalked onto it (docs/methods.md#boundary-crosswalks)
BOUNDARY_INPUTS = ("buurten", "wijken")
#: survey inputs published in waves (``years:`` on the input): read on their own year's boundaries
WAVE_INPUTS = ("health",)


def is_per_year(spec: dict) -> bool:
    """A local file with ``{year}`` in its path, or a provider input with ``per_year: true``."""
    return "{year}" in str(spec.get("file", "")) or bool(spec.get("per_year"))


def run_years(cfg: dict) -> list[int]:
    """The run's years (top-level ``years``), sorted; [] for a single-year run."""
    return sorted(int(y) for y in cfg.get("years") or [])


def trend_years(cfg: dict) -> list[int]:
    """The run years when some raster input varies by year (rule exposure_year runs), else []."""
    return run_years(cfg) if per_year_inputs(cfg) else []


def per_year_inputs(cfg: dict) -> list[str]:
    """Names of the raster inputs read once per run year (empty for a single-year run)."""
    if not run_years(cfg):
        return []
    return sorted(n for n, spec in cfg["inputs"].items() if is_per_year(spec) and n in YEAR_RASTER_KINDS)


def wave_years(cfg: dict) -> list[int]:
    """The waves of the health survey (``inputs.health.years`` with ``{year}`` in its file), else []."""
    spec = cfg["inputs"].get("health") or {}
    return sorted(int(y) for y in spec.get("years") or []) if is_per_year(spec) else []


def base_wave(cfg: dict) -> int | None:
    """The wave the single-year stages use: the last up to area.year, else the first; None without waves."""
    waves = wave_years(cfg)
    if not waves:
        return None
    upto = [y for y in waves if y <= int(cfg["area"]["year"])]
    return upto[-1] if upto else waves[0]


def per_year_boundaries(cfg: dict) -> list[str]:
    """The boundary inputs given per year (``{year}`` in ``file:`` or ``per_year: true``)."""
    return [n for n in BOUNDARY_INPUTS if n in cfg["inputs"] and is_per_year(cfg["inputs"][n])]


def boundary_years(cfg: dict) -> list[int]:
    """Years whose own boundaries are read and crosswalked onto area.year's (the wave years other
    than area.year, when the boundaries are per year); [] otherwise."""
    if not per_year_boundaries(cfg):
        return []
    return [y for y in wave_years(cfg) if y != int(cfg["area"]["year"])]


def trend_periods(cfg: dict) -> list[int]:
    """Every year with values on the target geometry: run years of the per-year rasters and the
    survey waves; the trend stage runs when there are at least two."""
    years = sorted(set(trend_years(cfg)) | set(wave_years(cfg)))
    return years if len(years) >= 2 else []


def base_year(cfg: dict) -> int:
    """The run year a per-year input is read for in the single-year stages (exposure, impact,
    disparity): the last of ``years`` up to area.year, else the first of them."""
    years = run_years(cfg)
    if not years:
        return int(cfg["area"]["year"])
    upto = [y for y in years if y <= int(cfg["area"]["year"])]
    return upto[-1] if upto else years[0]


def _input_years(cfg: dict, name: str) -> tuple[list[int], int]:
    """(years, own year) of a per-year input: the input's instance under its own name is read for
    its own year; the others are ``{name}_{year}``."""
    if name in BOUNDARY_INPUTS:
        return boundary_years(cfg), int(cfg["area"]["year"])
    if name in WAVE_INPUTS:
        return wave_years(cfg), base_wave(cfg)
    return run_years(cfg), base_year(cfg)


def year_instances(cfg: dict) -> dict[str, tuple[str, int]]:
    """Input instance name (``{input}_{year}``) -> (input, year) for the years other than the
    input's own (:func:`base_year` for rasters, area.year for boundaries, :func:`base_wave` for
    survey waves; that year's instance is the input itself)."""
    out = {}
    names = per_year_inputs(cfg) + per_year_boundaries(cfg) + (["health"] if wave_years(cfg) else [])
    for n in names:
        years, own = _input_years(cfg, n)
        out.update({f"{n}_{y}": (n, y) for y in years if y != own})
    return out


def input_spec(cfg: dict, name: str) -> dict | None:
    """The config entry of input ``name`` with ``year`` defaulted to ``area.year``; None if absent.

    ``name`` may be a year instance ``{input}_{year}`` of a per-year input (:func:`year_instances`):
    its ``{year}`` is filled in and its ``year`` set. A per-year input by its own name is its own
    year's instance (:func:`base_year` for rasters, area.year for boundaries, the base wave).
    """
    year = None
    spec = cfg["inputs"].get(name)
    if spec is None:
        inst = year_instances(cfg).get(name)
        if inst is None:
            return None
        spec, year = cfg["inputs"][inst[0]], inst[1]
        name = inst[0]
    spec = dict(spec)
    if is_per_year(spec):
        year = year or _input_years(cfg, name)[1]
        spec.pop("per_year", None)
        spec.pop("years", None)
        if "file" in spec:
            spec["file"] = spec["file"].replace("{year}", str(year))
        spec["year"] = year
    if "provider" in spec:
        spec.setdefault("year", cfg["area"]["year"])
    return spec


def _years_problems(cfg: dict[str, Any]) -> list[str]:
    """``years`` holds area.year; per-year inputs need ``years`` and must be rasters of air or noise,
    boundaries, or a survey with its waves."""
    problems = []
    years = run_years(cfg)
    per_year = [n for n, spec in cfg["inputs"].items() if is_per_year(spec)]
    rasters = [n for n in per_year if n in YEAR_RASTER_KINDS]
    if rasters and not years:
        problems.append(f"inputs {rasters} are per-year ({{year}} in `file:` or `per_year: true`) but no `years:` "
                        "is given; add `years: [..]` (with area.year) or give one file")
    if years and not rasters:  # e.g. the demo config with its NO2 input replaced: one year, said once
        log.warning("years: %s given but no raster input varies by year ({year} in a raster input's `file:`, or "
                    "`per_year: true`): the rasters have one year (survey waves come from inputs.health.years)",
                    years)
    for n, spec in cfg["inputs"].items():
        if "years" in spec and n not in WAVE_INPUTS:
            problems.append(f"inputs.{n}.years: only a survey input ({', '.join(WAVE_INPUTS)}) has waves; "
                            "raster inputs take the top-level `years:`, remove it here")
        elif n in WAVE_INPUTS and is_per_year(spec) and not spec.get("years"):
            problems.append(f"inputs.{n}: `{{year}}` in `file:` needs the waves it is published for, e.g. "
                            f"`years: [2016, 2020, 2022]`")
        elif n in WAVE_INPUTS and spec.get("years") and not is_per_year(spec):
            problems.append(f"inputs.{n}.years: the waves need `{{year}}` in `file:` (one file per wave)")
    for n in per_year:
        if n not in YEAR_RASTER_KINDS and n not in BOUNDARY_INPUTS and n not in WAVE_INPUTS:
            problems.append(f"inputs.{n}: only the air and noise rasters {sorted(YEAR_RASTER_KINDS)}, the "
                            f"boundaries {list(BOUNDARY_INPUTS)} and the survey {list(WAVE_INPUTS)} can vary by "
                            "year so far; give this input one file")
        elif "provider" in cfg["inputs"][n] and "year" in cfg["inputs"][n]:
            problems.append(f"inputs.{n}: `per_year: true` sets the year from `years:`; remove `year:`")
    return problems
