"""RIVM Samen Meten citizen sensors (OGC SensorThings): download and the pivoted-CSV reader.

Quality control: negative values (-999 and other sentinels) are masked, a sensor's annual mean is
reported only with >= 75 % hourly completeness, calibrated ``*_kal`` streams are preferred.
"""

from __future__ import annotations

import calendar
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import InputDataError, SchemaDriftError
from .._http import get_all_items
from .._vocab import TARGET_CRS, WGS84, mask_sentinels, municipality_number
from ..io import atomic_write
from ..provenance import ProvenanceRecord
from ._common import LICENCES, input_file, reading, rebase_url

log = logging.getLogger(__name__)

API_URL = "https://api-samenmeten.rivm.nl/v1.0"
MIN_COMPLETENESS = 0.75
SENSOR_COLUMNS = ["mean_ugm3", "hours_with_data", "hours_in_year", "completeness", "n_masked", "valid",
                  "reason", "has_location"]


def _things_path(values_csv: Path) -> Path | None:
    for n in ("things.csv", "things_loc_portal.csv"):
        if (values_csv.parent / n).exists():
            return values_csv.parent / n
    return None


def read_samenmeten_csv(values_csv, things_csv=None, *, year: int | None = None,
                        min_completeness: float = MIN_COMPLETENESS) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read a pivoted Samen Meten CSV (``phenomenonTime`` + one column per sensor) and its things.

    Parameters
    ----------
    values_csv
        Hourly values, one column per sensor (``*_kal`` columns win over their raw twin).
    things_csv
        ``name, lon, lat`` (WGS84); default ``things.csv`` / ``things_loc_portal.csv`` beside.
    min_completeness
        Share of the year's hours with a valid value needed for an annual mean.

    Returns
    -------
    ``(sensors, annual)``: sensor points (EPSG:28992, only sensors with a location) and a frame
    indexed by ``sensor`` with ``mean_ugm3`` (NaN unless ``valid``), ``hours_with_data``,
    ``hours_in_year``, ``completeness``, ``n_masked`` (negative sentinels removed), ``valid``,
    ``reason`` and ``has_location``.
    """
    values_csv = input_file(values_csv, "samenmeten")
    things_csv = Path(things_csv) if things_csv else _things_path(values_csv)
    with reading(values_csv, "samenmeten", "a Samen Meten CSV"):
        df = pd.read_csv(values_csv, dtype=str, keep_default_na=False)
    if "phenomenonTime" not in df.columns:
        raise SchemaDriftError(str(values_csv), ["phenomenonTime", "<sensor columns>"], list(df.columns))
    with reading(values_csv, "samenmeten", "a Samen Meten CSV"):
        t = pd.to_datetime(df["phenomenonTime"], utc=True, format="ISO8601")
    vals = df.drop(columns="phenomenonTime")
    vals.index = t
    vals = vals[~vals.index.duplicated(keep="first")]
    if year is None:
        year = int(pd.Series(vals.index.year).mode().iloc[0])
    vals = vals[vals.index.year == year]
    # prefer calibrated streams
    cols = list(vals.columns)
    drop = [c for c in cols if f"{c}_kal" in cols]
    if drop:
        log.info("samenmeten: using calibrated *_kal streams instead of %s", drop)
        vals = vals.drop(columns=drop)
    vals.columns = [c[:-4] if c.endswith("_kal") else c for c in vals.columns]
    # sentinels: -999 and any other negative value (a concentration cannot be negative)
    masked = {c: mask_sentinels(vals[c], negative=True) for c in vals.columns}
    vals = pd.DataFrame({c: m[0] for c, m in masked.items()}, index=vals.index, columns=vals.columns)
    n_masked = pd.Series({c: m[1] for c, m in masked.items()}, index=vals.columns, dtype=int)
    if int(n_masked.sum()):
        log.info("samenmeten: masked %d negative sentinel value(s) (e.g. -999)", int(n_masked.sum()))
    n = 8784 if calendar.isleap(year) else 8760
    annual = pd.DataFrame({"hours_with_data": vals.notna().sum().astype(int), "n_masked": n_masked.astype(int)})
    annual["hours_in_year"] = n
    annual["completeness"] = annual["hours_with_data"] / n
    annual["valid"] = annual["completeness"] >= min_completeness
    annual["mean_ugm3"] = vals.mean().where(annual["valid"])
    annual["reason"] = np.where(annual["valid"], "", f"completeness < {min_completeness:.0%}")
    annual.index.name = "sensor"
    if things_csv is not None and Path(things_csv).exists():
        with reading(things_csv, "samenmeten", "a things CSV (name, lon, lat)"):
            th = pd.read_csv(input_file(things_csv, "samenmeten"))
        need = ["name", "lon", "lat"]
        if any(c not in th.columns for c in need):
            raise SchemaDriftError(str(things_csv), need, list(th.columns))
        th["name"] = th["name"].astype(str).str.strip()
        th = th.drop_duplicates("name").set_index("name")
        sensors = gpd.GeoDataFrame(index=pd.Index(th.index, name="sensor"),
                                   geometry=gpd.points_from_xy(th["lon"], th["lat"]), crs=WGS84).to_crs(TARGET_CRS)
    else:
        log.warning("samenmeten: no things CSV; sensors have no locations")
        sensors = gpd.GeoDataFrame(index=pd.Index([], name="sensor"), geometry=[], crs=TARGET_CRS)
    annual["has_location"] = annual.index.isin(sensors.index)
    nolo = list(annual.index[~annual["has_location"]])
    if nolo:
        log.warning("samenmeten: %d sensor(s) without a location in the things file: %s", len(nolo), nolo[:10])
    return sensors, annual[SENSOR_COLUMNS]


def download(name: str, spec: dict, *, area: dict, cache_dir: Path, boundary=None):
    """Things of the municipality, their pollutant datastreams and a year of observations.

    Writes the pivoted values CSV and ``things.csv`` beside it (the shape
    :func:`read_samenmeten_csv` reads). spec keys: ``year``, ``pollutant`` (``no2``, ``pm25``,
    ``pm10``), ``codegemeente`` (Thing property value; default the municipality number without
    leading zeros, e.g. ``344`` — *check*), ``base_url`` (tests).
    """
    year = int(spec.get("year") or area.get("year"))
    pol = str(spec.get("pollutant", "no2")).lower()
    code = str(spec.get("codegemeente") or int(municipality_number(area["municipality"])))
    base = rebase_url(API_URL, spec.get("base_url"))
    common = dict(provider="samenmeten", cache_dir=cache_dir, max_retries=spec.get("max_retries", 5))
    things, resps = get_all_items(f"{base}/Things", style="sensorthings", params={
        "$filter": f"properties/codegemeente eq '{code}'",
        "$expand": "Locations,Datastreams($expand=ObservedProperty)", "$top": 200}, **common)
    if not things:
        raise InputDataError(f"samenmeten: no Things with codegemeente {code!r}; set `codegemeente:` in the spec.")
    series, locs = {}, []
    for th in things:
        tname = str(th.get("name", th.get("@iot.id"))).strip()
        streams = th.get("Datastreams", [])
        def prop(ds):
            return str((ds.get("ObservedProperty") or {}).get("name") or ds.get("name", "")).lower()
        chosen = [ds for ds in streams if prop(ds) == f"{pol}_kal"] or [ds for ds in streams if prop(ds) == pol]
        if not chosen:
            continue
        ds = chosen[0]
        loc = (th.get("Locations") or [{}])[0].get("location", {}).get("coordinates")
        if loc:
            locs.append({"name": tname, "lon": loc[0], "lat": loc[1]})
        obs, r = get_all_items(f"{base}/Datastreams({ds['@iot.id']})/Observations", style="sensorthings", params={
            "$filter": f"phenomenonTime ge {year}-01-01T00:00:00Z and phenomenonTime lt {year + 1}-01-01T00:00:00Z",
            "$select": "phenomenonTime,result", "$orderby": "phenomenonTime", "$top": 200}, **common)
        resps += r
        if obs:
            s = pd.Series([o.get("result") for o in obs],
                          index=pd.to_datetime([o["phenomenonTime"].split("/")[0] for o in obs], utc=True))
            series[tname + ("_kal" if prop(ds).endswith("_kal") else "")] = s[~s.index.duplicated()]
    folder = Path(cache_dir) / "samenmeten" / f"{name}_{pol}_{year}_{code}"
    values_csv, things_csv = folder / "values.csv", folder / "things.csv"
    wide = pd.DataFrame(series).sort_index()
    wide.index = wide.index.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    wide.index.name = "phenomenonTime"
    with atomic_write(values_csv) as tmp:
        wide.to_csv(tmp)
    with atomic_write(things_csv) as tmp:
        pd.DataFrame(locs, columns=["name", "lon", "lat"]).to_csv(tmp, index=False)
    url = resps[0].url if resps else ""
    return values_csv, [
        ProvenanceRecord.for_file(name, values_csv, provider="samenmeten", url=url, licence=LICENCES["samenmeten"],
                                  note=f"{len(series)} datastreams, {len(resps)} requests; things.csv beside"),
        ProvenanceRecord.for_file(name + ".things", things_csv, provider="samenmeten", url=url,
                                  licence=LICENCES["samenmeten"]),
    ]
