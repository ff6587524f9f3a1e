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


def _semantic_problems(cfg: dict[str, Any]) -> list[str]:
    problems = []
    code, year = cfg["area"]["municipality"], cfg["area"]["year"]
    known = known_municipalities()
    if code in known and code not in known_municipalities(year):
        problems.append(
            f"area.municipality: {code} ({known[code]}) is not a municipality in {year} (merged or not yet "
            "formed); use the code valid in area.year, or change area.year"
        )
    if code not in known:
        close = difflib.get_close_matches(code, list(known), n=3)
        problems.append(
            f"area.municipality: unknown CBS municipality code {code!r}"
            + (f"; close known codes: {close}" if close else "")
            + f"; allowed: one of the {len(known)} codes in healthgeo/data/gemeenten.csv "
            "(e.g. GM0344 Utrecht), or GM9999 for the synthetic demo"
        )
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
    if code in known:
        problems += _scenario_code_problems(cfg, code)
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


def input_spec(cfg: dict, name: str) -> dict | None:
    """The config entry of input ``name`` with ``year`` defaulted to ``area.year``; None if absent."""
    spec = cfg["inputs"].get(name)
    if spec is None:
        return None
    spec = dict(spec)
    if "provider" in spec:
        spec.setdefault("year", cfg["area"]["year"])
    return spec
