"""Provider adapters (download with the real URLs) and readers (real formats -> standardised data).

Entry point for the workflow: :func:`fetch_input`. The registry :data:`PROVIDERS` maps a provider
name to ``(adapter, licence, description)``; the config schema enumerates its keys.

Readers (see docs/design.md "Standardised intermediate data"):
:func:`read_boundaries`, :func:`read_kerncijfers`, :func:`read_health`, :func:`read_gcn_ascii`,
:func:`read_luchtmeetnet_csv` / :func:`read_luchtmeetnet`, :func:`read_samenmeten_csv`,
:func:`read_osm_green`, :func:`read_osm_amenities`, :func:`read_dwellings`,
:func:`read_population_grid`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from .._errors import ConfigError, InputDataError
from ..provenance import SIDECAR_SUFFIX, ProvenanceRecord, apply_sidecar
from ..rasters import describe_netcdf, is_netcdf
from . import bag, cbs, health, luchtmeetnet, osm, pdok, population_grid, rivm_alo, rivm_gcn, samenmeten, ses, nabijheid
from ._common import LICENCES
from .bag import read_dwellings
from .cbs import known_municipalities, read_kerncijfers
from .health import read_health
from .luchtmeetnet import read_luchtmeetnet, read_luchtmeetnet_csv
from .osm import read_osm_amenities, read_osm_green
from .pdok import read_boundaries
from .population_grid import read_population_grid
from .rivm_gcn import read_gcn_ascii
from .samenmeten import read_samenmeten_csv
from .ses import read_ses
from .nabijheid import read_nabijheid

log = logging.getLogger(__name__)

__all__ = [
    "PROVIDERS", "fetch_input", "resolve_spec", "known_municipalities", "read_boundaries", "read_kerncijfers", "read_health",
    "read_gcn_ascii", "read_luchtmeetnet_csv", "read_luchtmeetnet", "read_samenmeten_csv", "read_osm_green",
    "read_osm_amenities", "read_dwellings", "read_population_grid", "read_ses", "read_nabijheid",
]

Adapter = Callable[..., "tuple[Path, list[ProvenanceRecord]]"]

#: CBS OData datasets besides the key figures, chosen by ``dataset:`` (default: the input's name)
CBS_DATASETS = {"kerncijfers": cbs.download, "ses": ses.download, "nabijheid": nabijheid.download}


def _cbs_odata(name: str, spec: dict, **kw):
    """CBS OData v3: key figures (default), SES-WOA scores (``dataset: ses``), Nabijheid (``dataset: nabijheid``)."""
    dataset = spec.get("dataset", "kerncijfers")
    if dataset not in CBS_DATASETS:
        raise ConfigError(f"input {name!r}: cbs_odata dataset {dataset!r} unknown; use one of {sorted(CBS_DATASETS)}.")
    return CBS_DATASETS[dataset](name, spec, **kw)

#: provider name -> (adapter, licence, description)
PROVIDERS: dict[str, tuple[Adapter, str, str]] = {
    "pdok": (pdok.download, LICENCES["pdok"],
             "CBS wijk- en buurtkaart boundaries + key figures via PDOK OGC API Features (or WFS)"),
    "cbs_odata": (_cbs_odata, LICENCES["cbs_odata"],
                  "CBS OData v3 TypedDataSet: Kerncijfers wijken en buurten; SES-WOA scores (input `ses`)"),
    "rivm_gezondheid": (health.download, LICENCES["rivm_gezondheid"],
                        "RIVM/CBS Gezondheid per wijk en buurt (dataderden.cbs.nl OData), estimate + 95 % bounds"),
    "rivm_gcn": (rivm_gcn.download, LICENCES["rivm_gcn"], "RIVM GCN 1 km annual concentration grids (zip -> .asc)"),
    "rivm_alo": (rivm_alo.download, LICENCES["rivm_alo"],
                 "RIVM Atlas Leefomgeving WCS GetCoverage (NO2, noise Lden) or bulk GeoTIFF zip"),
    "luchtmeetnet": (luchtmeetnet.download, LICENCES["luchtmeetnet"],
                     "Luchtmeetnet open API stations + hourly measurements -> annual means with completeness"),
    "samenmeten": (samenmeten.download, LICENCES["samenmeten"],
                   "RIVM Samen Meten SensorThings Things/Datastreams/Observations -> pivoted hourly CSV"),
    "osm": (osm.download, LICENCES["osm"], "OpenStreetMap green areas / amenities via osmnx features_from_polygon"),
    "bag": (bag.download, LICENCES["bag"], "PDOK BAG OGC API verblijfsobjecten in the study-area bbox"),
    "cbs_vk100": (population_grid.download, LICENCES["cbs_vk100"], "CBS 100 m population grid release (zip -> gpkg)"),
}

#: spec keys every provider accepts besides its own
COMMON_SPEC_KEYS = ("provider", "year", "base_url", "max_retries", "timeout")


_POLLUTANTS = ("no2", "pm25", "pm10")


def resolve_spec(name: str, spec: dict) -> dict:
    """Flatten ``options`` into the spec and fill provider defaults implied by the input's name.

    ``buurten``/``wijken``/``gemeente`` -> ``level`` for pdok; ``no2``/``pm25``/``pm10`` ->
    ``pollutant`` (rivm_gcn, samenmeten) or ``formula`` (luchtmeetnet) or ``layer`` (rivm_alo), an
    explicit ``pollutant:`` key taking precedence over the name;
    ``noise_lden``/``noise_lnight`` -> ``layer`` for rivm_alo. Explicit keys always win.
    """
    out = {**(spec.get("options") or {}), **{k: v for k, v in spec.items() if k != "options"}}
    provider, low = out.get("provider"), name.lower()
    # an explicit `pollutant:` (schema key of stations/sensors inputs) wins over the input's name
    pol = str(out["pollutant"]).lower() if out.get("pollutant") else next((p for p in _POLLUTANTS if p in low), None)
    if provider == "pdok" and "level" not in out:
        for key, lv in (("buurt", "buurt"), ("wijk", "wijk"), ("gemeente", "gemeente")):
            if key in low:
                out["level"] = lv
                break
    elif provider in ("rivm_gcn", "samenmeten") and pol and "pollutant" not in out:
        out["pollutant"] = pol
    elif provider == "luchtmeetnet" and pol and "formula" not in out:
        out["formula"] = pol.upper()
    elif provider == "rivm_alo" and "layer" not in out:
        if "lnight" in low:
            out["layer"] = "lnight"
        elif "lden" in low or "noise" in low:
            out["layer"] = "lden"
        elif pol:
            out["layer"] = pol
    elif provider == "cbs_odata" and "dataset" not in out:
        out["dataset"] = next((d for d in CBS_DATASETS if d in low), "kerncijfers")
    elif provider == "osm" and "theme" not in out:
        out["theme"] = "green" if "green" in low else "amenities" if "amenit" in low else "all"
    return out


def fetch_input(name: str, spec: dict, *, area: dict, cache_dir: Path,
                boundary=None) -> tuple[Path, list[ProvenanceRecord]]:
    """Resolve one configured input to a local file and its provenance.

    Parameters
    ----------
    name
        The input's name in the config (``boundaries_buurt``, ``health``, ...); used in provenance.
    spec
        Either ``{"file": path, ...reader options}`` (a local file; must exist) or
        ``{"provider": <name in PROVIDERS>, "year": YYYY, ...}`` (downloaded, cached).
        Provider options may sit at the top level or under ``options``; defaults implied by
        the input name are filled in by :func:`resolve_spec`.
    area
        ``{"municipality": "GM0344", "year": 2023, "crs": "EPSG:28992"}``.
    cache_dir
        Raw-response cache root (``{cache_dir}/{provider}/...``); assembled files land there too.
    boundary
        Study-area polygons (for bbox/polygon queries: ALO, BAG, OSM, Luchtmeetnet).

    Raises
    ------
    ConfigError
        Neither ``file`` nor a known ``provider``.
    InputDataError
        The local file does not exist.
    DownloadError
        A provider failed after retries.
    """
    if not isinstance(spec, dict):
        raise ConfigError(f"input {name!r}: expected a mapping with `file:` or `provider:`, got {spec!r}.")
    if "file" in spec and "provider" in spec:
        raise ConfigError(f"input {name!r}: give either `file:` or `provider:`, not both.")
    if "file" in spec:
        return _local_input(name, spec)
    provider = spec.get("provider")
    spec = resolve_spec(name, spec)
    if provider not in PROVIDERS:
        raise ConfigError(f"input {name!r}: unknown provider {provider!r}; use one of {sorted(PROVIDERS)} "
                          "or `file:`.")
    if not area.get("municipality"):
        raise ConfigError("area.municipality is required to download inputs (e.g. GM0344).")
    adapter = PROVIDERS[provider][0]
    cache_dir = Path(cache_dir)
    log.info("input %s: fetching from %s", name, provider)
    path, recs = adapter(name, spec, area=area, cache_dir=cache_dir, boundary=boundary)
    return Path(path), recs


def _local_input(name: str, spec: dict) -> tuple[Path, list[ProvenanceRecord]]:
    """A local file or folder input: existence check, one provenance record per file.

    A ``<file>.provenance.json`` sidecar next to a file fills its provider/URL/licence/note
    (:func:`healthgeo.provenance.apply_sidecar`); the sidecars themselves are not inputs.
    """
    p = Path(spec["file"])
    if not p.exists():
        base, _, year = name.rpartition("_")
        if base and year.isdigit() and spec.get("year") == int(year):  # a year instance of a per-year input
            raise InputDataError(
                f"input {name!r}: no {base} file for {year}: {p} does not exist (resolved: {p.resolve()}). "
                f"Every year the run reads needs its own file (boundaries: area.year and each survey wave); "
                f"add it, or remove {year} from `years:` / the survey's waves."
            )
        raise InputDataError(
            f"input {name!r}: file {p} does not exist (resolved: {p.resolve()}). Fix the path in the "
            "config, or use `provider:` to download it."
        )
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    if spec.get("things_file"):
        files.append(Path(spec["things_file"]))
    missing = [f for f in files if not f.exists()]
    if missing:
        raise InputDataError(f"input {name!r}: file(s) {[str(f) for f in missing]} do not exist; fix the config.")
    records = [
        apply_sidecar(ProvenanceRecord.for_file(name, f, provider="local file", note=spec.get("note", "")), f)
        for f in files if not f.name.endswith(SIDECAR_SUFFIX)
    ]
    if is_netcdf(p) and p.is_file():  # say which variable and reduction the prepared raster holds
        derived = describe_netcdf(p, variable=spec.get("variable"), reduce=spec.get("reduce", "mean"),
                                  crs=spec.get("crs"))
        records[0].note = "; ".join(n for n in (records[0].note, derived) if n)
    return p, records
