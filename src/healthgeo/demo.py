"""Deterministic synthetic demo city ("Demostad", GM9999) in the real providers' file formats.

``generate(outdir, seed=42)`` writes one file (or folder) per pipeline input, each shaped like
the real provider's download, so the same readers run on demo and real data:

================  ==========================================  ===============================
input name        path under ``outdir``                        imitates
================  ==========================================  ===============================
buurten           ``pdok/buurten_2023.geojson``               PDOK WFS wijkenbuurten GeoJSON
buurten 2016-22   ``pdok/buurten_{2016,2020,2022}.geojson``   the buurten before 2023: one buurt later
                                                          split, two later merged, one renamed
wijken            ``pdok/wijken.geojson``                     (EPSG:28992 declared, camelCase)
gemeente          ``pdok/gemeenten.geojson``
kerncijfers       ``cbs/kwb-2023.xlsx``                       CBS KWB download, sheet kwb-2023
health            ``rivm/gezondheid_2022.csv``                CBS/RIVM 50120NED TypedDataSet
health 2016, 2020 ``rivm/gezondheid_{2016,2020}.csv``         earlier waves (each on its year's buurten)
ses               ``cbs/ses_woa_85900NED.csv``                CBS SES-WOA 85900NED TypedDataSet
nabijheid         ``cbs/nabijheid_2023.csv``                  CBS Nabijheid voorzieningen per buurt
no2/pm25/pm10     ``rivm_gcn/conc_{no2,pm25,pm10}_2023.asc``  RIVM GCN 1 km ASCII grid, no .prj
no2 2021, 2022    ``rivm_gcn/conc_no2_{2021,2022}.asc``      the same grid in earlier years (NO2 falling
                                                          ~1 ug/m3 a year along the main roads)
noise_lden        ``rivm_alo/lden_wegverkeer_2022.tif``       RIVM ALO 10 m road noise GeoTIFF
noise_lnight      ``rivm_alo/lnight_wegverkeer_2022.tif``
osm               ``osm/demostad.osm``                        OSM XML 0.6 extract
dwellings         ``bag/verblijfsobjecten.gpkg``              BAG verblijfsobject points
population_grid   ``cbs/vk100_2022.gpkg``                     CBS 100 m grid, secrecy -99997
stations          ``luchtmeetnet/`` (``2023_0{1,2}_NO2.csv``)  RIVM Luchtmeetnet bulk CSV
sensors           ``samenmeten/no2_2023.csv``                 Samen Meten pivot (-999.0 kept)
sensor_locations  ``samenmeten/things.csv``                   Samen Meten things (name,lon,lat)
readme            ``README.txt``                              "SYNTHETIC ... not real" label
================  ==========================================  ===============================

Format choices that copy the real providers (and their quirks), on purpose:

* health CSV: ``;``-separated, every field double-quoted, CRLF line ends, UTF-8 (CBS StatLine's
  "CSV onbewerkt" export); region codes right-padded (``WijkenEnBuurten`` to 10,
  ``Codering_3`` to 20, ``SoortRegio_2`` to 10, ``Gemeentenaam_1`` to 40 characters); values
  right-aligned in 8 characters (``"    78.4"``); empty = suppressed (the zero-resident and the
  park buurt); columns ``_34``–``_36`` empty for every row, as in RIVM's 2020 table. Rows per
  region in CBS key order: MBG0095 (upper), MOG0095 (lower), MW00000 (estimate).
* SES-WOA CSV: the health CSV's layout (padded codes, ``;``, quoted, CRLF), keys
  ``GemiddeldeScore_5/_7/_8/_9`` (total, welvaart, opleiding, arbeid in table order),
  ``Spreiding_6``; "." for regions with fewer than 50 private households, "-" for none. Scores
  follow the incomes (also of the buurten whose KWB income is "."), so the demo ranks by SES-WOA.
* Nabijheid CSV: same layout; km with one decimal, "." for childcare (no demo amenity) and tiny
  buurten. The distances are the residents' mean over the demo's own car roads (its OSM ways without
  footways, cycleways and paths) with +-5 % noise, as CBS measures over roads: healthgeo's walk and
  cycle distances can then be checked against them (validation_access).
* KWB xlsx: "." for missing; counts of wijken and buurten rounded to 5 (gemeente exact, so
  buurt sums differ from it); ``a_woning`` exact; a few count columns stored as text, as CBS does.
* PDOK GeoJSON: 2022 figures (slightly lower population than KWB 2023); ``-99997`` in
  percentages/density of buurten with fewer than 10 residents.
* GCN ``.asc``: Fortran ``E13.4`` numbers, ``NODATA_VALUE -0.9990E+03``, three nodata cells in the
  north-west corner of the margin, no ``.prj``.
* Luchtmeetnet: latin-1, ``;``, 9 metadata rows, header with ``" Begindatumtijd"`` (leading space).
* Samen Meten: hours where no sensor reported are absent; ``things.csv`` names start with a
  space; one sensor column has no ``things`` row and ``things`` lists sensors with no column.

Demo country: ``generate_country(outdir, seed=42, municipalities=6)`` writes N small municipalities
(codes ``GM9901``.. ``GM99NN``, names from :func:`country_municipalities`, N <= 98; GM9999 is the demo city) as NATIONAL
files, one per provider download, as the real providers publish them for the whole country; the
workflow cuts each municipality out of them (``country_output_files`` lists them):

================  ==========================================  ===============================
input name        path under ``outdir``                        national file it stands for
================  ==========================================  ===============================
buurten/wijken/   ``pdok/*.geojson`` (the three levels)       every municipality's wards in
gemeente                                                      one PDOK collection per level
kerncijfers       ``cbs/kwb-2023.xlsx``                       KWB: each gemeente row, then its
                                                              wijken each followed by buurten
health, ses,      ``rivm/gezondheid_2022.csv``,               the national tables (regions of
nabijheid         ``cbs/ses_woa_85900NED.csv``,               every municipality, each row
                  ``cbs/nabijheid_2023.csv``                  with its own ``Gemeentenaam_1``)
no2, pm25, pm10,  ``rivm_gcn/conc_*.asc``                     one 1 km grid per pollutant and
no2_2021/2022                                                 year over all municipalities +
                                                              3 km, RD km-aligned
noise_lden/       ``rivm_alo/l*_wegverkeer_2022.tif``          national 10 m rasters (all
noise_lnight,     ``klimaateffectatlas/...hete_dag.tif``      municipalities + 500 m)
heat
osm               ``osm/demoland.osm``                        the national extract (Geofabrik
                                                              ``netherlands-latest.osm.pbf``),
                                                              OSM XML with unique ids
dwellings         ``bag/bag-light.gpkg``                      PDOK's national BAG GeoPackage
                                                              (layer ``verblijfsobject``; ids
                                                              start with the gemeentecode)
population_grid   ``cbs/vk100_2022.gpkg``                     the national CBS 100 m grid
stations          ``luchtmeetnet/`` (same two months)         one station per municipality
                                                              (background / traffic
                                                              alternately) + one regional
sensors,          ``samenmeten/{no2_2023,things}.csv``         two sensors per municipality
sensor_locations
readme            ``README.txt``                              lists the municipalities
================  ==========================================  ===============================

Each municipality is a small town built like the demo city (``_demo_city.build`` with ``town``
0.36-0.55, i.e. radii 36-55 % of Demostad's): 2-3 wijken, about 15-25 buurten, 5 000-14 000
residents, 2 500-7 000 verblijfsobjecten, 400-700 street ways. The first (``GM9901``) is the
regional centre: largest, most NO2 (higher background in the west, its own urban increment and
busier roads), lower incomes; the others vary in size, shape (stretched outlines), density, NO2
and income. Towns sit in rows from ``origin`` (default ``(120000, 420000)``, lower-left), their
footprints (outline plus the roads beyond it) 0.4-1.2 km apart, so buurten of different
municipalities never overlap and each town's roads stay within ~2 km of its own outline.
``no_osm=["GM9906"]`` leaves a municipality out of the OSM extract (its other files stay), to test
a municipality without OSM coverage. Same seed and arguments -> byte-identical files.

Everything is synthetic (``SYNTHETIC = True``) and free to reuse (``DEMO_LICENCE``). One seed
(and one ``origin``/``size_m``) gives byte-identical files (GeoPackages get a fixed ``last_change``).

Placement: by default the city fills x 150 000-160 000, y 440 000-450 000 (EPSG:28992).
``origin=(x, y)`` (lower-left corner) and ``size_m`` (side of the square) move and scale the
whole city there, e.g. over a real municipality to stand in for inputs that are not available
offline (noise, GCN grids, OSM network). The city keeps its shape and counts (same buurten,
dwellings, nodes; a larger extent is a sparser city); its outline is a rounded blob filling
about 60 % of the square, so the square's corners hold only background noise/air quality and a
few arterial roads. The GCN 1 km grids are snapped to the RD km grid (extent + 3 km margin), the
10 m noise grids to the 10 m grid (extent + 500 m), the vk100 cells to the 100 m grid.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

import numpy as np

from ._demo_parts import aggregate, grid_value, hourly, station_xy, to_wgs84, write_air, write_station_series

log = logging.getLogger(__name__)

SYNTHETIC = True
DEMO_LICENCE = "CC0 (synthetic)"

FILES: dict[str, str] = {
    "buurten": "pdok/buurten_2023.geojson",
    "buurten_2016": "pdok/buurten_2016.geojson",
    "buurten_2020": "pdok/buurten_2020.geojson",
    "buurten_2022": "pdok/buurten_2022.geojson",
    "wijken": "pdok/wijken.geojson",
    "gemeente": "pdok/gemeenten.geojson",
    "kerncijfers": "cbs/kwb-2023.xlsx",
    "health": "rivm/gezondheid_2022.csv",
    "health_2016": "rivm/gezondheid_2016.csv",
    "health_2020": "rivm/gezondheid_2020.csv",
    "ses": "cbs/ses_woa_85900NED.csv",
    "nabijheid": "cbs/nabijheid_2023.csv",
    "no2": "rivm_gcn/conc_no2_2023.asc",
    "no2_2021": "rivm_gcn/conc_no2_2021.asc",
    "no2_2022": "rivm_gcn/conc_no2_2022.asc",
    "pm25": "rivm_gcn/conc_pm25_2023.asc",
    "pm10": "rivm_gcn/conc_pm10_2023.asc",
    "noise_lden": "rivm_alo/lden_wegverkeer_2022.tif",
    "noise_lnight": "rivm_alo/lnight_wegverkeer_2022.tif",
    "heat": "klimaateffectatlas/gevoelstemperatuur_hete_dag.tif",
    "osm": "osm/demostad.osm",
    "dwellings": "bag/verblijfsobjecten.gpkg",
    "population_grid": "cbs/vk100_2022.gpkg",
    "stations": "luchtmeetnet",
    "sensors": "samenmeten/no2_2023.csv",
    "sensor_locations": "samenmeten/things.csv",
    "readme": "README.txt",
}
"""Input name -> path relative to ``outdir`` (``stations`` is a folder; see ``STATION_FILES``)."""

STATION_FILES: tuple[str, ...] = ("luchtmeetnet/2023_01_NO2.csv", "luchtmeetnet/2023_02_NO2.csv")
"""The Luchtmeetnet monthly files inside ``FILES['stations']``."""

ALL_FILES: tuple[str, ...] = tuple(v for k, v in FILES.items() if k != "stations") + STATION_FILES
"""Every file ``generate`` writes, relative to ``outdir`` (for Snakemake ``output:``)."""


def output_files(outdir: str | Path = "data/raw/demo") -> list[str]:
    """Every file :func:`generate` writes under ``outdir``, as strings (Snakemake ``output:``)."""
    from .provenance import SIDECAR_SUFFIX

    base = Path(outdir).as_posix().rstrip("/")
    sidecars = [rel + SIDECAR_SUFFIX for rel in ALL_FILES if rel != FILES["readme"]]
    return [f"{base}/{rel}" for rel in (*ALL_FILES, *sidecars)]


COUNTRY_FILES: dict[str, str] = {
    # the city's earlier boundaries and health waves (docs/methods.md#trends) are not part of the country
    **{k: v for k, v in FILES.items() if not (k.startswith(("buurten_", "health_")) and k[-4:].isdigit())},
    "osm": "osm/demoland.osm",  # the national extract (stands for Geofabrik's netherlands-latest.osm.pbf)
    "dwellings": "bag/bag-light.gpkg",  # PDOK's national BAG GeoPackage (layer verblijfsobject)
}
"""Input name -> path relative to ``outdir`` of :func:`generate_country` (every file national)."""

COUNTRY_ALL_FILES: tuple[str, ...] = tuple(v for k, v in COUNTRY_FILES.items() if k != "stations") + STATION_FILES
"""Every file :func:`generate_country` writes, relative to ``outdir``."""

COUNTRY_ORIGIN = (120_000.0, 420_000.0)  # default lower-left of the demo country (EPSG:28992)


def country_output_files(outdir: str | Path = "data/raw/demo_country") -> list[str]:
    """Every file :func:`generate_country` writes under ``outdir`` (Snakemake ``output:``); the
    same for any number of municipalities (all files are national)."""
    from .provenance import SIDECAR_SUFFIX

    base = Path(outdir).as_posix().rstrip("/")
    sidecars = [rel + SIDECAR_SUFFIX for rel in COUNTRY_ALL_FILES if rel != FILES["readme"]]
    return [f"{base}/{rel}" for rel in (*COUNTRY_ALL_FILES, *sidecars)]


def country_municipalities(municipalities: int = 6) -> dict[str, str]:
    """Code -> name of the demo country's municipalities (``GM9901`` ...; fixed, seed-independent)."""
    from . import _demo_country as dct

    return dct.names(_check_count(municipalities))


def _check_count(n) -> int:
    from . import _demo_country as dct
    from ._errors import ConfigError

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= dct.MAX_MUNICIPALITIES:
        msg = f"municipalities must be a whole number 1..{dct.MAX_MUNICIPALITIES} (codes GM9901..), got {n!r}"
        raise ConfigError(msg)
    return int(n)


DEFAULT_ORIGIN = (150_000.0, 440_000.0)  # lower-left of the default extent (EPSG:28992)
DEFAULT_SIZE_M = 10_000.0
SIZE_RANGE_M = (2_000.0, 30_000.0)  # allowed size_m (time and file size grow with size_m**2)
GCN_MARGIN_M = 3_000  # the 1 km grids cover the extent + this margin, snapped to whole km
NOISE_MARGIN_M = 500  # the 10 m noise grids cover the extent + this margin, snapped to 10 m

GCN_ORIGIN = (147_000, 437_000)  # lower-left of the 1 km grids for the default extent
GCN_SHAPE = (16, 16)
NOISE_ORIGIN = (149_500, 439_500)  # lower-left of the 10 m noise grids for the default extent
NOISE_SHAPE = (1100, 1100)


def _snapped_grid(origin: tuple[float, float], size_m: float, margin: float, cell: int):
    """Lower-left corner (ints, multiples of ``cell``) and (rows, cols) of a grid covering
    ``origin``..``origin + size_m`` plus ``margin`` on every side."""
    x0 = int(math.floor((origin[0] - margin) / cell)) * cell
    y0 = int(math.floor((origin[1] - margin) / cell)) * cell
    x1 = int(math.ceil((origin[0] + size_m + margin) / cell)) * cell
    y1 = int(math.ceil((origin[1] + size_m + margin) / cell)) * cell
    return (x0, y0), ((y1 - y0) // cell, (x1 - x0) // cell)


def gcn_grid(origin: tuple[float, float] | None = None, size_m: float = DEFAULT_SIZE_M):
    """``((xll, yll), (nrows, ncols))`` of the GCN 1 km grids for an extent (RD km-aligned)."""
    return _snapped_grid(origin or DEFAULT_ORIGIN, size_m, GCN_MARGIN_M, 1000)


def noise_grid(origin: tuple[float, float] | None = None, size_m: float = DEFAULT_SIZE_M):
    """``((xll, yll), (nrows, ncols))`` of the 10 m noise grids for an extent (10 m-aligned)."""
    return _snapped_grid(origin or DEFAULT_ORIGIN, size_m, NOISE_MARGIN_M, 10)


def _check_extent(origin, size_m) -> tuple[tuple[float, float], float]:
    from ._errors import ConfigError

    try:
        size = float(size_m)
        ox, oy = (float(v) for v in (DEFAULT_ORIGIN if origin is None else origin))
    except (TypeError, ValueError) as exc:
        msg = f"origin must be (x, y) in EPSG:28992 metres and size_m a number, got {origin!r}, {size_m!r}"
        raise ConfigError(msg) from exc
    lo, hi = SIZE_RANGE_M
    if not (math.isfinite(size) and lo <= size <= hi):
        msg = f"size_m must be between {lo:.0f} and {hi:.0f} m, got {size_m!r}"
        raise ConfigError(msg)
    # RD New (EPSG:28992) is defined over the Netherlands: roughly x -7 000..300 000, y 289 000..629 000
    if not (math.isfinite(ox) and math.isfinite(oy) and -7_000 <= ox and ox + size <= 300_000
            and 289_000 <= oy and oy + size <= 629_000):
        msg = (f"origin {origin!r} with size_m {size:.0f} lies outside the RD New (EPSG:28992) area "
               "x -7000..300000, y 289000..629000")
        raise ConfigError(msg)
    return (ox, oy), size


def generate(outdir: str | Path, *, seed: int = 42, municipality: str = "GM9999",
             name: str = "Demostad", origin: tuple[float, float] | None = None,
             size_m: float = DEFAULT_SIZE_M) -> dict[str, Path]:
    """Write the synthetic demo inputs under ``outdir``; return input name -> written path.

    Parameters
    ----------
    outdir
        Target folder (created). Existing files are replaced atomically.
    seed
        Seed of every random choice; the same seed gives byte-identical files.
    municipality
        CBS gemeente code ``GMdddd`` (default ``GM9999``, used by no real municipality).
    name
        Municipality name written into the files.
    origin
        Lower-left corner ``(x, y)`` of the city's square extent in EPSG:28992 metres; default
        ``(150000, 440000)``. The whole city (boundaries, rasters, OSM, BAG, vk100, stations,
        sensors) is moved there.
    size_m
        Side of the square extent in metres (default 10 000, allowed 2 000-30 000). The city is
        scaled to it; counts of buurten, dwellings and network nodes stay the same.
    """
    from . import _demo_city as dc
    from . import _demo_write as dw

    if not (len(municipality) == 6 and municipality.startswith("GM") and municipality[2:].isdigit()):
        from ._errors import ConfigError

        msg = f"municipality must look like 'GM9999' (GM + 4 digits), got {municipality!r}"
        raise ConfigError(msg)
    extent_origin, size_m = _check_extent(origin, size_m)
    default_extent = extent_origin == DEFAULT_ORIGIN and size_m == DEFAULT_SIZE_M
    outdir = Path(outdir)
    paths = {k: outdir / v for k, v in FILES.items()}
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    city = dc.build(rngs[0], municipality)
    dc.populate(rngs[1], city)
    dc.place(city, extent_origin, size_m)  # no-op for the default extent
    agg, regions = aggregate(city, municipality, name)
    log.info("demo city: %d buurten, %d residents, %d verblijfsobjecten, extent %s (EPSG:28992)",
             len(city.buurten), agg[municipality]["residents"], len(city.dwellings["x"]),
             _extent_text(extent_origin, size_m))

    dw.write_pdok(rngs[2], city, agg, municipality, name, paths)
    dw.write_kwb(rngs[2], city, agg, municipality, name, paths["kerncijfers"])
    history = boundary_history(city, municipality)
    for wave in HEALTH_WAVES:  # each wave on its year's buurten (those before the 2023 changes)
        dw.write_health(rngs[3] if wave == 2022 else np.random.default_rng([seed, 12, wave]),
                        _wave_regions(regions, history, wave), name,
                        paths["health" if wave == 2022 else f"health_{wave}"], period=f"{wave}JJ00")
    # own generators, so the files written before these did not change
    dw.write_ses(np.random.default_rng([seed, 9]), city, agg, municipality, name, paths["ses"])
    no2 = _air_grids(rngs[4], city, paths, *gcn_grid(extent_origin, size_m))
    _noise(city, paths, *noise_grid(extent_origin, size_m))
    n_wc = dc.wheelchair_tags(np.random.default_rng([seed, 11]), city)  # own generator: nothing else changes
    log.info("demo OSM: wheelchair barriers %s", n_wc)
    _heat(city, paths, *noise_grid(extent_origin, size_m))
    dw.write_osm(city, paths["osm"])
    dw.write_nabijheid(np.random.default_rng([seed, 10]), city, municipality, name, paths["nabijheid"])
    _bag_and_grid(rngs[5], city, municipality, paths)
    for year in BOUNDARY_YEARS:
        dw.write_boundaries(history["buurten"], municipality, name, year, paths[f"buurten_{year}"])
    _stations(rngs[6], city, no2, outdir)
    _sensors(rngs[7], city, no2, paths)
    from .io import atomic_write

    extent = "" if default_extent else _extent_text(extent_origin, size_m)
    with atomic_write(paths["readme"]) as tmp:
        tmp.write_text(
            f"SYNTHETIC demo data generated by healthgeo.demo (seed {seed}) — not real.\n"
            f"Municipality {municipality} '{name}' does not exist. Licence: {DEMO_LICENCE}.\n"
            "Files imitate the formats of PDOK, CBS, RIVM, Luchtmeetnet, Samen Meten, BAG and "
            "OpenStreetMap; no real rows were used.\n"
            + (f"Placed over EPSG:28992 extent {extent}: the roads, noise, air quality, buildings and "
               "people there are invented, not those of the real place.\n" if extent else ""),
            encoding="utf-8")
    _write_sidecars(outdir, seed, extent)
    return paths


def generate_country(outdir: str | Path, *, seed: int = 42, municipalities: int = 6,
                     origin: tuple[float, float] | None = None, no_osm=()) -> dict[str, Path]:
    """Write a synthetic country of small municipalities as national files; return input name -> path.

    Parameters
    ----------
    outdir
        Target folder (created). Existing files are replaced atomically.
    seed
        Seed of every random choice; the same seed gives byte-identical files.
    municipalities
        Number of municipalities, 1..98: codes ``GM9901``, ``GM9902``, ... with the names of
        :func:`country_municipalities`. Each is a small town (2-3 wijken, 15-25 buurten, a few
        thousand dwellings); the first is the largest, with the most NO2.
    origin
        Lower-left corner ``(x, y)`` (EPSG:28992 m) of the area the towns are placed in, in rows
        from west to east and south to north; default ``(120000, 420000)``.
    no_osm
        Codes of municipalities left out of the national OSM extract (no ways, nodes or relations
        of theirs), to test a municipality without OSM coverage. Default: all covered.
    """
    from . import _demo_country as dct
    from . import _demo_write as dw
    from ._errors import ConfigError
    from .io import atomic_write

    n = _check_count(municipalities)
    codes = dct.names(n)
    no_osm = [no_osm] if isinstance(no_osm, str) else list(no_osm or ())
    unknown = [c for c in no_osm if c not in codes]
    if unknown:
        msg = f"no_osm names {unknown}, not municipalities of this country ({next(iter(codes))}..{list(codes)[-1]})"
        raise ConfigError(msg)
    ox, oy = _check_extent(origin or COUNTRY_ORIGIN, SIZE_RANGE_M[0])[0]
    outdir = Path(outdir)
    paths = {k: outdir / v for k, v in COUNTRY_FILES.items()}
    rng_spec, rng_place, rng_pdok, rng_health, rng_ses, rng_air, rng_bag, rng_st, rng_sen, rng_nab = (
        np.random.default_rng(s) for s in np.random.SeedSequence([seed, 2]).spawn(10))
    towns = dct.town_specs(rng_spec, n)
    dct.build_towns(seed, towns)
    dct.place_towns(rng_place, towns, (ox, oy))
    x0, y0, x1, y1 = dct.extent(towns)
    if not (-7_000 <= x0 and x1 <= 300_000 and 289_000 <= y0 and y1 <= 629_000):
        msg = (f"the {n} municipalities from origin {(ox, oy)} reach {x0:.0f},{y0:.0f},{x1:.0f},{y1:.0f}, "
               "outside RD New (x -7000..300000, y 289000..629000); choose another origin")
        raise ConfigError(msg)
    feats = {"buurten": [], "wijken": [], "gemeente": []}
    kwb, health, ses, nab = [], [], [], []
    for i, t in enumerate(towns):
        t.agg, t.regions = aggregate(t.city, t.code, t.name, postcode_base=1000 + 80 * i)
        for reg in t.regions:
            reg["gm_name"] = t.name
        for key, fs in dw.pdok_features(rng_pdok, t.city, t.agg, t.code, t.name).items():
            feats[key] += fs
        kwb += dw.kwb_rows(rng_pdok, t.city, t.agg, t.code, t.name)
        health += t.regions
        ses += dw.ses_regions(t.city, t.agg, t.code, t.name)
        nab += dw.nabijheid_rows(rng_nab, t.city, t.name)
        log.info("demo country: %s %s: %d wijken, %d buurten, %d residents, %d verblijfsobjecten", t.code, t.name,
                 len(t.city.wijken), len(t.city.buurten), t.agg[t.code]["residents"], len(t.city.dwellings["x"]))
    dw.write_pdok_features(feats, paths)
    dw.write_kwb_rows(kwb, paths["kerncijfers"])
    dw.write_health(rng_health, health, "", paths["health"])
    dw.write_ses_regions(rng_ses, ses, paths["ses"])
    dw.write_nabijheid_rows(nab, paths["nabijheid"])

    nation = dct.merged(towns)
    gcn_origin, gcn_shape = _extent_grid((x0, y0, x1, y1), GCN_MARGIN_M, 1000)
    no2 = dct.national_air(rng_air, towns, paths, gcn_origin, gcn_shape)
    noise_origin, noise_shape = _extent_grid((x0, y0, x1, y1), NOISE_MARGIN_M, 10)
    centres = [(t.city.cx, t.city.cy, t.city.town) for t in towns]
    _noise(nation, paths, noise_origin, noise_shape, centres=centres)
    _heat(nation, paths, noise_origin, noise_shape)
    builder = dw.OsmBuilder()
    for t in towns:
        if t.code not in no_osm:
            dw.add_city_osm(builder, t.city)
    for k, line in enumerate(dct.connector_roads(towns, skip=no_osm), start=1):
        builder.way(line, {"highway": "tertiary", "name": f"Regionale weg {k}", "maxspeed": "60"})
    with atomic_write(paths["osm"]) as tmp:
        tmp.write_text(builder.xml(), encoding="utf-8")
    _bag_and_grid(rng_bag, nation, dct.dwelling_codes(towns), paths)
    dct.national_stations(rng_st, towns, no2, outdir, STATION_FILES)
    dct.national_sensors(rng_sen, towns, no2, paths)

    listing = "".join(f"  {t.code} {t.name}{' (not in the OSM extract)' if t.code in no_osm else ''}\n"
                      for t in towns)
    with atomic_write(paths["readme"]) as tmp:
        tmp.write_text(
            f"SYNTHETIC demo country generated by healthgeo.demo.generate_country (seed {seed}) — not real.\n"
            f"{n} municipalities that do not exist. Licence: {DEMO_LICENCE}.\n{listing}"
            "Files imitate the national downloads of PDOK, CBS, RIVM, Luchtmeetnet, Samen Meten, BAG and "
            "OpenStreetMap; no real rows were used.\n"
            f"Placed over EPSG:28992 extent {x0:.0f},{y0:.0f},{x1:.0f},{y1:.0f}: "
            "the roads, noise, air quality, buildings and people there are invented.\n",
            encoding="utf-8")
    params = f"seed={seed};municipalities={n}" + (f";no_osm={','.join(no_osm)}" if no_osm else "")
    _write_sidecars(outdir, seed, files=COUNTRY_ALL_FILES, params=params)
    return paths


def _extent_grid(bounds, margin: float, cell: int):
    """Lower-left corner and (rows, cols) of a ``cell``-aligned grid over ``bounds`` + ``margin``."""
    x0 = int(math.floor((bounds[0] - margin) / cell)) * cell
    y0 = int(math.floor((bounds[1] - margin) / cell)) * cell
    x1 = int(math.ceil((bounds[2] + margin) / cell)) * cell
    y1 = int(math.ceil((bounds[3] + margin) / cell)) * cell
    return (x0, y0), ((y1 - y0) // cell, (x1 - x0) // cell)


def _extent_text(origin: tuple[float, float], size_m: float) -> str:
    """``x0,y0,x1,y1`` of an extent, in whole metres where they are whole."""
    vals = (origin[0], origin[1], origin[0] + size_m, origin[1] + size_m)
    return ",".join(f"{v:.0f}" if v == int(v) else f"{v:.3f}" for v in vals)


#: which real provider each demo file imitates (recorded in its provenance sidecar)
_IMITATES = {
    "pdok": "PDOK WFS wijkenbuurten", "cbs": "CBS KWB / vierkantstatistieken / SES-WOA / Nabijheid", "rivm": "RIVM Gezondheid per wijk en buurt",
    "rivm_gcn": "RIVM GCN", "rivm_alo": "RIVM Atlas Leefomgeving", "osm": "OpenStreetMap", "bag": "BAG",
    "luchtmeetnet": "RIVM Luchtmeetnet", "samenmeten": "RIVM Samen Meten",
    "klimaateffectatlas": "Klimaateffectatlas Hittekaart gevoelstemperatuur (PET, GeoTIFF)",
}


def _write_sidecars(outdir: Path, seed: int, extent: str = "", *, files: tuple[str, ...] = ALL_FILES,
                    params: str = "") -> None:
    """A ``<file>.provenance.json`` per file, so every output built on it is labelled synthetic.

    ``extent`` (``x0,y0,x1,y1``, empty for the default extent) is added to ``params``; ``params``
    (if given) replaces the whole ``params`` text."""
    from .provenance import SIDECAR_SUFFIX
    from .io import write_json

    for rel in files:
        if rel == FILES["readme"]:
            continue
        write_json(
            {
                "provider": "healthgeo demo (synthetic)",
                "params": params or f"seed={seed}" + (f";extent={extent}" if extent else ""),
                "licence": DEMO_LICENCE,
                "note": f"SYNTHETIC: generated by healthgeo.demo in the format of {_IMITATES[rel.split('/')[0]]}; not real data",
            },
            Path(str(outdir / rel) + SIDECAR_SUFFIX),
        )


# --------------------------------------------------------------------------------------------
#: the demo's health-monitor waves and the years whose buurten (before the 2023 changes) it ships
HEALTH_WAVES = (2016, 2020, 2022)
BOUNDARY_YEARS = (2016, 2020, 2022)
#: relative change of a health estimate per year before 2022, plus this times the buurt's poverty
WAVE_DRIFT = (0.002, 0.02)


def boundary_history(city, gm: str) -> dict:
    """The buurten before 2023 (the same in 2016-2022) and how they became 2023's.

    Three changes in 2023, chosen deterministically from the city: two neighbouring buurten of one
    wijk were one buurt (``split``: the old buurt kept the first one's code), one buurt was two
    (``merged``: its western part kept the code, the eastern had a code of its own), and one buurt
    had another code (``renamed``). Returns ``buurten`` (list of dicts: code, name, wijkcode,
    residents, geometry, ``parts``: [(2023 buurt index, share of its health)]) and ``changes``.
    """
    import shapely

    bs = city.buurten
    d = city.dwellings
    big = [k for k, b in enumerate(bs) if b["residents"] >= 300]
    used: set[int] = set()
    split = None
    for i in big:
        for j in big:
            if j > i and bs[i]["wijkcode"] == bs[j]["wijkcode"] and bs[i]["geometry"].touches(bs[j]["geometry"]):
                split = (i, j)
                break
        if split:
            break
    used |= set(split)
    merged = next(k for k in big if k not in used and bs[k]["wijkcode"] != bs[split[0]]["wijkcode"])
    used.add(merged)
    renamed = next(k for k in big if k not in used and bs[k]["wijkcode"] not in
                   (bs[split[0]]["wijkcode"], bs[merged]["wijkcode"]))

    def free_code(wijkcode: str, taken: set) -> str:
        base = "BU" + wijkcode[2:]
        return next(f"{base}{n:02d}" for n in range(99, 0, -1) if f"{base}{n:02d}" not in taken)

    taken = {b["code"] for b in bs}
    out = []
    for k, b in enumerate(bs):
        if k == split[1]:
            continue
        if k == split[0]:
            other = bs[split[1]]
            out.append({"code": b["code"], "name": b["name"], "wijkcode": b["wijkcode"],
                        "residents": b["residents"] + other["residents"],
                        "geometry": shapely.union(b["geometry"], other["geometry"]),
                        "parts": [(split[0], None), (split[1], None)]})
        elif k == merged:
            g = b["geometry"]
            minx, miny, maxx, maxy = g.bounds
            # cut at the median x of its dwellings, so both parts have residents
            x = float(np.median(d["x"][d["buurt"] == k])) if (d["buurt"] == k).any() else (minx + maxx) / 2
            west = shapely.intersection(g, shapely.box(minx - 1, miny - 1, x, maxy + 1))
            east = shapely.intersection(g, shapely.box(x, miny - 1, maxx + 1, maxy + 1))
            sel = d["buurt"] == k
            res_w = int(d["residents"][sel & (d["x"] < x)].sum())
            code2 = free_code(b["wijkcode"], taken)
            taken.add(code2)
            out.append({"code": b["code"], "name": f"{b['name']}-West", "wijkcode": b["wijkcode"],
                        "residents": res_w, "geometry": west, "parts": [(k, 1.04)]})
            out.append({"code": code2, "name": f"{b['name']}-Oost", "wijkcode": b["wijkcode"],
                        "residents": b["residents"] - res_w, "geometry": east, "parts": [(k, 0.96)]})
        elif k == renamed:
            code2 = free_code(b["wijkcode"], taken)
            taken.add(code2)
            out.append({**{key: b[key] for key in ("name", "wijkcode", "residents", "geometry")},
                        "code": code2, "parts": [(k, 1.0)]})
        else:
            out.append({**{key: b[key] for key in ("code", "name", "wijkcode", "residents", "geometry")},
                        "parts": [(k, 1.0)]})
    changes = {"split": [bs[split[0]]["code"], bs[split[1]]["code"]], "merged": bs[merged]["code"],
               "merged_from": [o["code"] for o in out if o["parts"][0][0] == merged],
               "renamed": (next(o["code"] for o in out if o["parts"][0][0] == renamed), bs[renamed]["code"])}
    return {"buurten": out, "changes": changes, "city": city}


def _wave_regions(regions: list[dict], history: dict, wave: int) -> list[dict]:
    """The health regions of a wave: gemeente and wijken as in 2022, buurten of the wave's year
    (:func:`boundary_history`), every estimate drifted back from 2022 (more in poorer buurten)."""
    bs = history["city"].buurten
    years = 2022 - wave

    def drift(h: dict | None, poverty: float) -> dict | None:
        if h is None:
            return None
        f = 1 + (WAVE_DRIFT[0] + WAVE_DRIFT[1] * poverty) * years
        return {c: float(np.clip(v * f, 0.0, 99.0)) for c, v in h.items()}

    mean_pov = float(np.mean([b["poverty"] for b in bs]))
    out = [{**r, "health": drift(r["health"], mean_pov)} for r in regions if r["level"] != "Buurt"]
    for nb in history["buurten"]:
        members = [(bs[k], f) for k, f in nb["parts"]]
        hs = [(b["health"], b["residents"], f) for b, f in members if b["residents"] >= 50]
        if nb["residents"] < 50 or not hs:
            h = None
        else:
            keys = hs[0][0].keys()
            h = {c: float(np.average([x[c] * (f or 1.0) for x, _, f in hs], weights=[r for _, r, _ in hs]))
                 for c in keys}
        pov = float(np.average([b["poverty"] for b, _ in members], weights=[max(b["residents"], 1) for b, _ in members]))
        out.append({"code": nb["code"], "level": "Buurt", "residents": nb["residents"], "health": drift(h, pov)})
    return out


def _air_grids(rng, city, paths, origin=GCN_ORIGIN, shape=GCN_SHAPE) -> dict:
    from . import _demo_write as dw

    x0, y0 = origin
    nr, nc = shape
    xs = x0 + 500 + 1000 * np.arange(nc)
    ys = y0 + 500 + 1000 * np.arange(nr)[::-1]  # row 0 = north
    X, Y = np.meshgrid(xs, ys)
    main, trunk = _main_geoms(city)
    d_main = dw.line_distance(X.ravel(), Y.ravel(), main).reshape(X.shape)
    d_trunk = dw.line_distance(X.ravel(), Y.ravel(), trunk).reshape(X.shape)
    r = np.hypot(X - city.cx, Y - city.cy) / city.scale  # canonical metres from the centre
    no2 = 12.5 + 9.5 * np.exp(-r / 2500) + 5.5 * np.exp(-d_main / 500) + 6.0 * np.exp(-d_trunk / 700)
    no2 = np.clip(no2 + rng.normal(0, 0.5, no2.shape), 11.5, 35).round(2)
    return write_air(rng, no2, np.minimum(d_main, d_trunk), paths, x0, y0)


def _main_geoms(city):
    import shapely
    from shapely.geometry import LineString

    main = shapely.union_all([LineString(r.coords) for r in city.main_roads if r.cls != "trunk"])
    trunk = shapely.union_all([LineString(r.coords) for r in city.main_roads if r.cls == "trunk"])
    return main, trunk


_NOISE_CLASSES = (  # class, L at the road (dB), decay per decade of distance, night offset
    ("trunk", 78.0, 17.0, 8.0),
    ("primary", 73.0, 17.0, 8.0),
    ("secondary", 70.0, 17.0, 8.5),
    ("tertiary", 65.0, 16.0, 9.0),
    ("minor", 57.0, 14.0, 10.0),
)


def _noise(city, paths, origin=NOISE_ORIGIN, shape=NOISE_SHAPE, centres=None) -> None:
    """Road noise Lden/Lnight (10 m GeoTIFFs) from the city's main roads and minor streets over a
    background that rises towards the centre; ``centres`` ``[(x, y, scale), ...]`` (default the
    city's own) gives the background of many towns (the nearest centre counts)."""
    from rasterio import features
    from rasterio.transform import from_origin
    from scipy import ndimage
    from shapely.geometry import LineString

    from . import _demo_write as dw

    h, w = shape
    transform = from_origin(origin[0], origin[1] + 10 * h, 10, 10)
    roads = city.main_roads + [r for r in city.streets if r.cls == "minor"]
    day = np.zeros((h, w))
    night = np.zeros((h, w))
    for cls, l0, decay, night_off in _NOISE_CLASSES:
        lines = [LineString(r.coords) for r in roads if r.cls == cls]
        mask = features.rasterize(((g, 1) for g in lines), out_shape=(h, w), transform=transform,
                                  all_touched=True, dtype="uint8")
        dist = ndimage.distance_transform_edt(mask == 0, sampling=10.0)
        lvl = l0 - decay * np.log10(1 + dist / 8.0)
        day += 10 ** (lvl / 10)
        night += 10 ** ((lvl - night_off) / 10)
    cols = origin[0] + 5 + 10 * np.arange(w)
    rows = origin[1] + 10 * h - 5 - 10 * np.arange(h)
    if centres is None:
        r = np.hypot(cols[None, :] - city.cx, rows[:, None] - city.cy) / city.scale
    else:
        r = np.min([np.hypot(cols[None, :] - x, rows[:, None] - y) / sc for x, y, sc in centres], axis=0)
    bg = 36 + 6 * np.exp(-r / 3000)
    lden = 10 * np.log10(day + 10 ** (bg / 10))
    lnight = 10 * np.log10(night + 10 ** ((bg - 10) / 10))
    green = [g.geom for g in city.greens if g.kind in ("park", "forest", "wood", "cemetery", "garden")]
    gmask = features.rasterize(((g, 1) for g in green), out_shape=(h, w), transform=transform, dtype="uint8")
    lden = np.where(gmask == 1, lden - 3.0, lden).round(1)
    lnight = np.where(gmask == 1, lnight - 3.0, lnight).round(1)
    for arr in (lden, lnight):
        arr[-40:, :40] = dw.NOISE_NODATA  # SW corner without data (outside the map)
    dw.write_noise_tif(lden, transform, paths["noise_lden"])
    dw.write_noise_tif(lnight, transform, paths["noise_lnight"])


#: demo PET (°C) on a hot afternoon: open paved ground, what dense building and asphalt add, and
#: the cooling of green by kind (tree shade cools most, sunny grass little)
_PET_BASE, _PET_DENSE, _PET_ASPHALT = 38.0, 6.0, 2.5
_PET_GREEN = {"park": -9.0, "forest": -11.0, "wood": -11.0, "cemetery": -8.0, "garden": -5.0, "scrub": -5.0,
              "grass": -3.0, "meadow": -3.0, "recreation_ground": -3.0, "playground": -2.0}


def _heat(city, paths, origin=NOISE_ORIGIN, shape=NOISE_SHAPE) -> None:
    """A felt-temperature (PET, °C) map in the Klimaateffectatlas format: a float GeoTIFF, EPSG:28992.

    Hotter on paved, treeless blocks (dense dwellings, main roads), cooler in green - most under
    trees (parks, forest, cemeteries), little on sunny grass; a green area's cooling fades over
    about 20 m beyond its edge. Deterministic (no random draws), so the other files do not change.
    """
    from rasterio import features
    from rasterio.transform import from_origin
    from scipy import ndimage
    from shapely.geometry import LineString

    from . import _demo_write as dw

    h, w = shape
    transform = from_origin(origin[0], origin[1] + 10 * h, 10, 10)
    # built density: dwellings per 10 m cell, smoothed over ~50 m, scaled to 0..1
    col = np.floor((np.asarray(city.dwellings["x"]) - origin[0]) / 10).astype(int)
    row = np.floor((origin[1] + 10 * h - np.asarray(city.dwellings["y"])) / 10).astype(int)
    ok = (col >= 0) & (col < w) & (row >= 0) & (row < h)
    dens = np.zeros((h, w))
    np.add.at(dens, (row[ok], col[ok]), 1.0)
    dens = ndimage.gaussian_filter(dens, sigma=5)
    dens = np.clip(dens / max(np.quantile(dens[dens > 0], 0.95), 1e-9), 0, 1) if (dens > 0).any() else dens
    pet = _PET_BASE - 3.0 + _PET_DENSE * dens
    roads = [LineString(r.coords) for r in city.main_roads]
    if roads:
        asphalt = features.rasterize(((g.buffer(12), 1) for g in roads), out_shape=(h, w), transform=transform,
                                     dtype="uint8")
        pet += _PET_ASPHALT * asphalt
    cooling = np.zeros((h, w))
    for kind, dt in sorted(_PET_GREEN.items(), key=lambda kv: -kv[1]):  # strongest cooling written last
        geoms = [g.geom for g in city.greens if g.kind == kind]
        if geoms:
            m = features.rasterize(((g, 1) for g in geoms), out_shape=(h, w), transform=transform, dtype="uint8")
            cooling = np.where(m == 1, np.minimum(cooling, dt), cooling)
    inside = cooling < 0
    if inside.any():  # the cooling fades beyond the edge: e^(-d/20 m) of the nearest green cell's cooling
        dist, (ri, ci) = ndimage.distance_transform_edt(~inside, sampling=10.0, return_indices=True)
        cooling = np.where(inside, cooling, cooling[ri, ci] * np.exp(-dist / 20.0))
    pet = np.round(pet + cooling, 1)
    pet[-30:, -30:] = dw.NOISE_NODATA  # SE corner outside the map (nodata)
    dw.write_noise_tif(pet, transform, paths["heat"])


def _bag_and_grid(rng, city, gm, paths) -> None:
    """BAG verblijfsobjecten and the CBS 100 m grid; ``gm`` is the municipality code, or one code per
    dwelling (a country: BAG ids start with the municipality's four digits)."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    from . import _demo_write as dw

    d = city.dwellings
    n = len(d["x"])
    serial = np.cumsum(rng.integers(1, 40, n)) + 100_000
    status = rng.choice(["Verblijfsobject in gebruik", "Verblijfsobject in gebruik (niet ingemeten)",
                         "Verbouwing verblijfsobject"], size=n, p=[0.98, 0.015, 0.005])
    bag = gpd.GeoDataFrame({
        "identificatie": ([f"{gm[2:]}01{s:010d}" for s in serial] if isinstance(gm, str)
                          else [f"{g[2:]}01{s:010d}" for g, s in zip(gm, serial)]),
        "oppervlakte": d["area"].astype("int32"),
        "status": status,
        "gebruiksdoel": d["use"].astype(str),
        "bouwjaar": d["year"].astype("int32"),
    }, geometry=shapely.points(np.round(d["x"], 3), np.round(d["y"], 3)), crs="EPSG:28992")
    dw.write_gpkg(bag, paths["dwellings"], "verblijfsobject")

    # CBS 100 m grid from the dwellings (residents per dwelling were drawn per buurt)
    woon = np.array(["woonfunctie" in u for u in d["use"]])
    cx = (d["x"] // 100).astype(int) * 100
    cy = (d["y"] // 100).astype(int) * 100
    shares = np.array([b["age_shares"] for b in city.buurten])[d["buurt"]]
    men = np.array([b["men_share"] for b in city.buurten])[d["buurt"]]
    res = d["residents"].astype(float)
    df = pd.DataFrame({"cx": cx, "cy": cy, "res": res, "woon": woon.astype(int), "men": res * men,
                       **{f"a{k}": res * shares[:, k] for k in range(5)}})
    g = df.groupby(["cx", "cy"], sort=True).sum().reset_index()
    g = g[(g.res > 0) | (g.woon > 0)].reset_index(drop=True)
    secret = g.res < 5

    def rc(v):
        out = np.array([dw.round5(x) for x in v], dtype=np.int64)
        return np.where(secret, -99997, out)

    x0, y0 = g.cx.to_numpy(), g.cy.to_numpy()
    grid = gpd.GeoDataFrame({
        "crs28992res100m": [f"E{x // 100:04d}N{y // 100:04d}" for x, y in zip(x0, y0)],
        "aantal_inwoners": np.where(g.res == 0, 0, rc(g.res)),
        "aantal_mannen": rc(g.men), "aantal_vrouwen": rc(g.res - g.men),
        "aantal_inwoners_0_tot_15_jaar": rc(g.a0), "aantal_inwoners_15_tot_25_jaar": rc(g.a1),
        "aantal_inwoners_25_tot_45_jaar": rc(g.a2), "aantal_inwoners_45_tot_65_jaar": rc(g.a3),
        "aantal_inwoners_65_jaar_en_ouder": rc(g.a4),
        "aantal_woningen": np.where(secret & (g.woon < 5), -99997, [dw.round5(x) for x in g.woon]),
    }, geometry=shapely.box(x0, y0, x0 + 100, y0 + 100), crs="EPSG:28992")
    grid["aantal_inwoners"] = np.where((g.res > 0) & secret, -99997, grid["aantal_inwoners"])
    dw.write_gpkg(grid, paths["population_grid"], "vierkant_100m")


_STATIONS = (  # code, name, type, gebied, (dx, dy) from centre or "ring"/"trunk"/"park"
    ("NL99901", "Demostad-Marktplein", "achtergrond", "stad", (120.0, 80.0)),
    ("NL99902", "Demostad-Ringweg Noord", "verkeer", "stad", "ring"),
    ("NL99903", "Demostad-Stadspark", "achtergrond", "stad", "park"),
    ("NL99904", "Demostad-Rijksweg N999", "verkeer", "regionaal", "trunk"),
    ("NL99905", "Oud Demodorp-Polderweg", "achtergrond", "regionaal", (-6300.0, -5200.0)),
)


def _stations(rng, city, grid, outdir: Path) -> None:
    sites = [(code, sname, typ, gebied, *station_xy(city, where)) for code, sname, typ, gebied, where in _STATIONS]
    write_station_series(rng, sites, grid, outdir, STATION_FILES, outage=2)  # a two-day outage at the park station


def _sensors(rng, city, grid, paths) -> None:
    import pandas as pd

    from . import _demo_write as dw

    cx, cy, s = city.cx, city.cy, city.scale
    names = ["DMS_ns001", "DMS_ns002", "DMS_ns003", "DMS_ns004", "DMS_ns005", "DMS_pu101", "DMS_pu102",
             "DMS_pu103"]
    xy = []
    for k in range(len(names)):
        a = 2 * math.pi * k / len(names) + 0.3
        rr = 600 + 450 * k
        xy.append((cx + s * rr * math.cos(a), cy + s * rr * math.sin(a)))
    means = np.array([grid_value(grid, "no2", x, y) * rng.uniform(1.05, 1.35) for x, y in xy])
    times = pd.date_range("2023-01-01 00:00", "2023-04-01 00:00", freq="h", inclusive="left").to_numpy()
    vals = hourly(rng, times, means, own_sd=0.45)
    n = len(times)
    vals[rng.uniform(size=vals.shape) < 0.03] = np.nan
    vals[: n // 2, 5] = np.nan  # started mid-February: < 75 % complete
    gaps = rng.uniform(size=n) < 0.02
    vals[np.convolve(gaps, np.ones(48), "same") > 0, 6] = np.nan  # flaky sensor: many 2-day gaps
    vals[500:740, 4] = -999.0  # a stretch of sentinel values, as in the real pivot
    vals[rng.uniform(size=n) < 0.01, 3] = -999.0
    vals[:3, :] = np.nan  # the first hours of the year have no data at all (absent rows)
    dw.write_samenmeten(names, times, vals, paths["sensors"])
    things = [(nm, *to_wgs84(x, y)) for nm, (x, y) in zip(names[:-1], xy[:-1])]  # last sensor has no row
    for k, nm in enumerate(("LTD_90001", "LTD_90002", "MJS_pm901")):  # PM-only sensors, no NO2 column
        things.append((nm, *to_wgs84(cx + s * (-1500 + 900 * k), cy + s * (1200 - 500 * k))))
    dw.write_things(things, paths["sensor_locations"])


# --------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m healthgeo.demo OUTDIR [--seed N] [--origin X Y] [--size-m M]``, or a country:
    ``python -m healthgeo.demo OUTDIR --country N [--no-osm GM9906 ...] [--origin X Y]``."""
    p = argparse.ArgumentParser(prog="python -m healthgeo.demo", description=__doc__.splitlines()[0])
    p.add_argument("outdir", type=Path)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--municipality", default="GM9999")
    p.add_argument("--name", default="Demostad")
    p.add_argument("--origin", type=float, nargs=2, metavar=("X", "Y"), default=None,
                   help="lower-left corner of the square extent, EPSG:28992 metres "
                        "(default 150000 440000)")
    p.add_argument("--size-m", type=float, default=DEFAULT_SIZE_M,
                   help="side of the square extent in metres (default 10000)")
    p.add_argument("--country", type=int, metavar="N", default=None,
                   help="write a demo country of N small municipalities (GM9901..) as national files "
                        "instead of one city; --origin is then the country's lower-left corner")
    p.add_argument("--no-osm", action="append", default=[], metavar="CODE",
                   help="with --country: leave this municipality out of the national OSM extract (repeatable)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if a.country is not None:
        written = generate_country(a.outdir, seed=a.seed, municipalities=a.country,
                                   origin=tuple(a.origin) if a.origin else None, no_osm=a.no_osm)
        for key, path in written.items():
            log.info("%-16s %s", key, path)
        return 0
    if a.no_osm:
        p.error("--no-osm needs --country")
    written = generate(a.outdir, seed=a.seed, municipality=a.municipality, name=a.name,
                       origin=tuple(a.origin) if a.origin else None, size_m=a.size_m)
    for key, path in written.items():
        log.info("%-16s %s", key, path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
