"""Luchtmeetnet station measurements: open API download and the RIVM bulk CSV reader.

Both give annual means per station with their completeness (hours with data / hours in year).
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from shapely.geometry import Point, box

from .._errors import InputDataError, SchemaDriftError
from .._http import get, get_all_items
from .._vocab import MEASUREMENT_SENTINEL, TARGET_CRS, WGS84, mask_sentinels
from ..plausibility import RANGES, check_values
from ._common import input_file, prov_for_responses, read_vector, reading, rebase_url, study_bbox, write_geojson

log = logging.getLogger(__name__)

API_URL = "https://api.luchtmeetnet.nl/open_api"
ANNUAL_COLUMNS = ["formula", "year", "mean_ugm3", "hours_with_data", "hours_in_year", "completeness"]


def hours_in_year(year: int) -> int:
    return 8784 if calendar.isleap(year) else 8760


def _parse_bulk(path: Path) -> tuple[dict, pd.DataFrame, str]:
    path = input_file(path, "luchtmeetnet")
    with reading(path, "luchtmeetnet", "a Luchtmeetnet bulk CSV"):
        return _parse_bulk_text(path)


def _parse_bulk_text(path: Path) -> tuple[dict, pd.DataFrame, str]:
    text = Path(path).read_bytes().decode("latin-1")
    lines = text.splitlines()
    header_i = next((i for i, ln in enumerate(lines[:40]) if ln.split(";")[0].strip() == "Component"), None)
    if header_i is None:
        raise SchemaDriftError(str(path), ["Component;Bep.periode;Eenheid;Begindatumtijd;Einddatumtijd;<stations>"],
                               lines[0].split(";")[:6] if lines else [],
                               hint="Expected the RIVM Luchtmeetnet bulk CSV (data.rivm.nl/data/luchtmeetnet).")
    meta = {}
    for ln in lines[:header_i]:
        parts = ln.split(";")
        if len(parts) > 5 and parts[4].strip():
            meta[parts[4].strip()] = [p.strip() for p in parts[5:]]
    df = pd.read_csv(io.StringIO("\n".join(lines[header_i:])), sep=";", dtype=str, keep_default_na=False,
                     header=None)
    head = [c.strip() for c in df.iloc[0].tolist()]
    df = df.iloc[1:]
    need = ["Component", "Begindatumtijd"]
    if any(n not in head for n in need):
        raise SchemaDriftError(str(path), need, head)
    stations = head[5:]
    comp = df.iloc[:, head.index("Component")].str.strip()
    formula = comp.iloc[0] if len(comp) else ""
    start = pd.to_datetime(df.iloc[:, head.index("Begindatumtijd")].str.strip(), format="%Y%m%d %H:%M")
    vals = df.iloc[:, 5:].apply(lambda s: mask_sentinels(s, extra=(MEASUREMENT_SENTINEL,))[0])
    vals.columns = range(vals.shape[1])
    # duplicated station columns (e.g. NL10807 twice): coalesce to the first non-missing value
    wide = {}
    for j, st in enumerate(stations):
        col = vals[j].to_numpy(dtype=float)
        wide[st] = col if st not in wide else np.where(np.isnan(wide[st]), col, wide[st])
    out = pd.DataFrame(wide, index=pd.DatetimeIndex(start.to_numpy(), name="start"))
    return {"meta": meta, "stations": stations}, out, formula


def read_luchtmeetnet_csv(paths, *, year: int | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read RIVM Luchtmeetnet bulk CSVs (monthly or yearly; ``;``, latin-1, 9 metadata rows).

    Parameters
    ----------
    paths
        One path, a folder (all ``*.csv`` in it) or a list of paths, all of one component.
    year
        Year for the annual mean; default the most common year of the hour starts.

    Returns
    -------
    ``(stations, annual)``: stations as points (EPSG:28992) indexed by ``station`` with ``name``,
    ``station_type``, ``area_type``; annual means indexed by ``station`` with ``formula``, ``year``,
    ``mean_ugm3``, ``hours_with_data``, ``hours_in_year`` and ``completeness`` (0-1).
    """
    if isinstance(paths, (str, Path)):
        p = Path(paths)
        paths = sorted(p.glob("*.csv")) if p.is_dir() else [p]
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputDataError("luchtmeetnet: no CSV files given.")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise InputDataError(f"luchtmeetnet: {', '.join(missing)} does not exist. Check the `file:` path in the config.")
    frames, meta_rows, formulas = [], {}, set()
    for p in paths:
        info, df, formula = _parse_bulk(p)
        formulas.add(formula)
        frames.append(df)
        m = info["meta"]
        for j, st in enumerate(info["stations"]):
            if st in meta_rows:
                continue
            get_ = (lambda k: m.get(k, [])[j] if j < len(m.get(k, [])) else "")
            meta_rows[st] = {"name": get_("StationsNaam"), "station_type": get_("StationsType"),
                             "area_type": get_("StationsGebied"), "latlon": get_("Latitude,Longitude")}
    if len(formulas) > 1:
        raise InputDataError(f"luchtmeetnet: the files mix components {sorted(formulas)}; read one at a time.")
    hourly = pd.concat(frames).sort_index()
    hourly = hourly[~hourly.index.duplicated(keep="first")]
    if year is None:
        year = int(pd.Series(hourly.index.year).mode().iloc[0])
    hourly = hourly[hourly.index.year == year]
    formula = formulas.pop()
    n_hours = hours_in_year(year)
    annual = pd.DataFrame({
        "formula": formula, "year": year,
        "mean_ugm3": hourly.mean(),
        "hours_with_data": hourly.notna().sum().astype(int),
        "hours_in_year": n_hours,
    })
    annual["completeness"] = annual["hours_with_data"] / n_hours
    annual.index.name = "station"
    st = pd.DataFrame.from_dict(meta_rows, orient="index")
    ll = st["latlon"].str.strip("() ").str.split(",", expand=True)
    geom = gpd.points_from_xy(pd.to_numeric(ll[1], errors="coerce"), pd.to_numeric(ll[0], errors="coerce"))
    stations = gpd.GeoDataFrame(st.drop(columns="latlon"), geometry=geom, crs=WGS84)
    stations.index.name = "station"
    log.info("luchtmeetnet: station coordinates WGS84 -> %s", TARGET_CRS)
    stations = stations.to_crs(TARGET_CRS)
    _check_annual(annual, formula, str(paths[0]) if len(paths) == 1 else f"{len(paths)} Luchtmeetnet files")
    return stations, annual[ANNUAL_COLUMNS]


def read_luchtmeetnet(path, *, year: int | None = None):
    """Dispatch: bulk CSV(s)/folder -> :func:`read_luchtmeetnet_csv`; GeoJSON from the API adapter."""
    p = Path(path) if isinstance(path, (str, Path)) else None
    if p is not None and p.suffix.lower() in (".geojson", ".gpkg"):
        gdf = read_vector(p, source="luchtmeetnet")
        missing = [c for c in ["station", "name", "station_type", "area_type", *ANNUAL_COLUMNS] if c not in gdf.columns]
        if missing:
            raise SchemaDriftError(str(p), ["station", "name", "station_type", "area_type", *ANNUAL_COLUMNS],
                                   [c for c in gdf.columns if c != "geometry"])
        gdf = gdf.set_index("station").to_crs(TARGET_CRS)
        formula = str(gdf["formula"].iloc[0]) if len(gdf) else ""
        _check_annual(gdf, formula, str(p))
        return gdf[["name", "station_type", "area_type", "geometry"]], pd.DataFrame(gdf[ANNUAL_COLUMNS])
    return read_luchtmeetnet_csv(path, year=year)


def _check_annual(annual: pd.DataFrame, formula: str, source: str) -> None:
    """Annual means must be plausible for their pollutant (e.g. not ng/m3)."""
    quantity = str(formula).lower().replace(".", "")
    if quantity in RANGES:
        check_values(annual["mean_ugm3"], quantity, source=source, what=f"{formula} station annual mean")


# --------------------------------------------------------------------------- API
def annual_from_measurements(records: list[dict], year: int) -> pd.DataFrame:
    """Annual mean per station from API measurement records (``timestamp_measured`` = end of hour)."""
    if not records:
        return pd.DataFrame(columns=["mean_ugm3", "hours_with_data"])
    df = pd.DataFrame.from_records(records)
    need = ["station_number", "value", "timestamp_measured"]
    if any(c not in df.columns for c in need):
        raise SchemaDriftError("luchtmeetnet measurements", need, list(df.columns))
    end = pd.to_datetime(df["timestamp_measured"], utc=True)
    df["start"] = end - pd.Timedelta(hours=1)
    df = df[df["start"].dt.year == year].drop_duplicates(["station_number", "start"])
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    g = df.groupby("station_number")["value"]
    return pd.DataFrame({"mean_ugm3": g.mean(), "hours_with_data": g.count()})


def download(name: str, spec: dict, *, area: dict, cache_dir: Path, boundary=None):
    """Stations around the study area and their hourly measurements -> annual means (GeoJSON).

    spec keys: ``year``, ``formula`` (``NO2``, ``PM25``, ``PM10``), ``stations`` (list of station
    numbers; default: all stations within ``buffer_m`` of the study area), ``buffer_m`` (5000),
    ``base_url`` (tests). Fair use: ~100 requests / 5 min (throttled in healthgeo._http).
    """
    year = int(spec.get("year") or area.get("year"))
    formula = str(spec.get("formula") or spec.get("pollutant") or "NO2").upper()
    base = rebase_url(API_URL, spec.get("base_url"))
    common = dict(provider="luchtmeetnet", cache_dir=cache_dir, max_retries=spec.get("max_retries", 5))
    resps = []
    wanted = spec.get("stations")
    if not wanted:
        listing, r = get_all_items(f"{base}/stations", style="luchtmeetnet", **common)
        resps += r
        wanted = [s["number"] for s in listing]
    x0, y0, x1, y1 = study_bbox(area, boundary, spec.get("bbox"), buffer=float(spec.get("buffer_m", 5000)))
    study = gpd.GeoSeries([box(x0, y0, x1, y1)], crs=TARGET_CRS).to_crs(WGS84).iloc[0]
    feats_meta = {}
    for number in wanted:
        r = get(f"{base}/stations/{number}", expect="json", **common)
        resps.append(r)
        d = r.json().get("data", {})
        coords = (d.get("geometry") or {}).get("coordinates")
        comps = [c.upper() for c in d.get("components", [])]
        if not coords:
            log.warning("luchtmeetnet: station %s has no coordinates; skipped", number)
            continue
        pt = Point(float(coords[0]), float(coords[1]))
        if spec.get("stations") or (study.contains(pt) and (not comps or formula in comps)):
            feats_meta[number] = {"name": d.get("location", ""), "station_type": d.get("type", ""),
                                  # the API has no stad/regionaal (StationsGebied of the bulk CSV)
                                  "area_type": "", "lon": pt.x, "lat": pt.y}
    if not feats_meta:
        raise InputDataError(f"luchtmeetnet: no station measuring {formula} within the study area (+buffer).")
    log.info("luchtmeetnet: %d station(s) x 53 weeks of %s measurements (fair-use throttled)", len(feats_meta), formula)
    records = []
    t = dt.datetime(year, 1, 1, 1, tzinfo=dt.timezone.utc)
    end_year = dt.datetime(year + 1, 1, 1, 0, tzinfo=dt.timezone.utc)
    for number in feats_meta:
        t0 = t
        while t0 <= end_year:
            t1 = min(t0 + dt.timedelta(days=7) - dt.timedelta(hours=1), end_year)
            params = {"station_number": number, "formula": formula,
                      "start": t0.strftime("%Y-%m-%dT%H:%M:%SZ"), "end": t1.strftime("%Y-%m-%dT%H:%M:%SZ")}
            items, r = get_all_items(f"{base}/measurements", style="luchtmeetnet", params=params, **common)
            records += items
            resps += r
            t0 = t1 + dt.timedelta(hours=1)
    annual = annual_from_measurements(records, year)
    n = hours_in_year(year)
    feats = []
    for number, m in feats_meta.items():
        row = annual.loc[number] if number in annual.index else None
        hours = int(row["hours_with_data"]) if row is not None else 0
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [m["lon"], m["lat"]]},
                      "properties": {"station": number, "name": m["name"], "station_type": m["station_type"],
                                     "area_type": m["area_type"], "formula": formula, "year": year,
                                     "mean_ugm3": float(row["mean_ugm3"]) if row is not None else None,
                                     "hours_with_data": hours, "hours_in_year": n, "completeness": hours / n}})
    out = Path(cache_dir) / "luchtmeetnet" / f"{name}_{formula}_{year}.geojson"
    write_geojson(feats, out, crs_urn=None)
    return out, prov_for_responses(name, "luchtmeetnet", resps, out,
                                   note=f"{len(feats)} stations, {formula} {year}, annual means of hourly values")
