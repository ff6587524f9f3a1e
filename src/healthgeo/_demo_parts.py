"""Pieces of the synthetic demo shared by the demo city (healthgeo.demo) and the demo country
(healthgeo._demo_country): per-region aggregates, GCN grid writing and sampling, station and
sensor time series, RD -> WGS84."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def aggregate(city, gm: str, name: str, postcode_base: int | None = None):
    """Per-region true values for the writers (buurt, wijk, gemeente) and the health regions.

    Postcodes: ``9000 + 40 * (wijk - 1) + buurt`` by default; ``postcode_base + k`` for the k-th
    buurt when given (distinct postcodes for the municipalities of a demo country)."""
    from scipy.spatial import cKDTree

    d = city.dwellings
    woon = np.array(["woonfunctie" in u for u in d["use"]])
    dist = {}
    for col, cat in (("g_afs_hp", "gp"), ("g_afs_gs", "supermarket"), ("g_afs_sc", "primary_school")):
        pts = np.array([[a.x, a.y] for a in city.amenities if a.category == cat])
        dd, _ = cKDTree(pts).query(np.column_stack([d["x"], d["y"]]))
        dist[col] = dd * 1.3 / 1000  # crow-fly -> road km
    agg: dict[str, dict] = {}
    for k, b in enumerate(city.buurten):
        sel = d["buurt"] == k
        w = d["residents"][sel]
        s = {key: b[key] for key in ("residents", "residents_2022", "age_shares", "men_share", "hh_size",
                                     "households", "income", "low_income_hh_pct", "income_missing",
                                     "poverty", "area_m2", "water_m2")}
        s["r_rel"] = min(b["r_centre"] / 4500, 1.0)
        s["land_m2"] = b["area_m2"] - b["water_m2"]
        s["n_vbo"] = int(sel.sum())
        s["n_dwellings"] = int((sel & woon).sum())
        s["n_other"] = s["n_vbo"] - s["n_dwellings"]
        s["share_pre2000"] = float((d["year"][sel & woon] < 2000).mean()) if s["n_dwellings"] else 0.0
        w_num = int(b["code"][-4:-2])
        s["postcode"] = (9000 + 40 * (w_num - 1) + int(b["code"][-2:]) if postcode_base is None
                         else postcode_base + k)
        b["postcode"] = str(s["postcode"])
        b["n_vbo"] = s["n_vbo"]
        for col in dist:
            s[col] = float(np.average(dist[col][sel], weights=w)) if w.sum() else None
        agg[b["code"]] = s

    def combine(members: list[dict]) -> dict:
        res = np.array([m["residents"] for m in members], float)
        wres = res if res.sum() else np.ones_like(res)
        out = {"residents": int(res.sum()),
               "residents_2022": int(sum(m["residents_2022"] for m in members)),
               "households": int(sum(m["households"] for m in members)),
               "income_missing": False}
        for key in ("area_m2", "water_m2", "land_m2", "n_vbo", "n_dwellings", "n_other"):
            out[key] = sum(m[key] for m in members)
        out["age_shares"] = np.average([m["age_shares"] for m in members], axis=0, weights=wres)
        for key in ("men_share", "poverty", "r_rel", "share_pre2000"):
            out[key] = float(np.average([m[key] for m in members], weights=wres))
        out["hh_size"] = out["residents"] / max(out["households"], 1)
        inc = [(m["income"], m["low_income_hh_pct"], m["residents"]) for m in members if not m["income_missing"]]
        a = np.array(inc)
        out["income"] = float(np.average(a[:, 0], weights=a[:, 2]))
        out["low_income_hh_pct"] = float(np.average(a[:, 1], weights=a[:, 2]))
        for col in dist:
            vals = [(m[col], m["residents"]) for m in members if m[col] is not None]
            out[col] = float(np.average([v for v, _ in vals], weights=[r for _, r in vals]))
        return out

    def health_mean(bs: list[dict]) -> dict:
        hs = [(b["health"], b["residents"]) for b in bs if b["residents"] >= 50]
        keys = hs[0][0].keys()
        return {k: float(np.average([h[k] for h, _ in hs], weights=[r for _, r in hs])) for k in keys}

    regions = [{"code": gm, "level": "Gemeente", "residents": 0, "health": health_mean(city.buurten)}]
    for w in city.wijken:
        bs = [b for b in city.buurten if b["wijkcode"] == w["code"]]
        agg[w["code"]] = combine([agg[b["code"]] for b in bs])
        regions.append({"code": w["code"], "level": "Wijk", "residents": agg[w["code"]]["residents"],
                        "health": health_mean(bs)})
        for b in bs:
            regions.append({"code": b["code"], "level": "Buurt", "residents": b["residents"],
                            "health": b["health"] if b["residents"] >= 50 else None})
    agg[gm] = combine([agg[b["code"]] for b in city.buurten])
    regions[0]["residents"] = agg[gm]["residents"]
    return agg, regions


def write_air(rng, no2: np.ndarray, d_road: np.ndarray, paths, x0: int, y0: int, lo: float = 11.5) -> dict:
    """PM2.5, PM10 and the earlier NO2 years from the 2023 NO2 grid (and each cell's distance to
    the nearest main or trunk road; earlier years clipped to ``lo``..38); write all five grids;
    return them with ``transform``."""
    from . import _demo_write as dw

    nr = no2.shape[0]
    pm25 = np.clip(7.2 + 0.17 * (no2 - 12) + rng.normal(0, 0.15, no2.shape), 7.0, 11.0).round(2)
    pm10 = np.clip(14.2 + 0.3 * (no2 - 12) + rng.normal(0, 0.25, no2.shape), 14.0, 20.0).round(2)
    # earlier years (the run's `years:`): NO2 higher by 0.3 ug/m3 a year city-wide and by up to
    # 1.0 more a year next to the main roads and the trunk road (cleaner traffic), no extra noise
    # (no random draws: the 2023 files do not change)
    earlier = {f"no2_{y}": np.clip(no2 + (2023 - y) * (0.3 + 1.0 * np.exp(-d_road / 600)), lo, 38).round(2)
               for y in (2021, 2022)}
    out = {}
    for key, arr in (("no2", no2), ("pm25", pm25), ("pm10", pm10), *earlier.items()):
        a = arr.copy()
        a[0, 0] = a[0, 1] = a[1, 0] = -999.0  # nodata in the NW corner of the margin (like the sea)
        dw.write_asc(a, x0, y0, 1000, paths[key])
        out[key] = arr
    out["transform"] = (x0, y0 + 1000 * nr, 1000.0)
    return out


def grid_value(grid: dict, key: str, x: float, y: float) -> float:
    x0, ytop, cell = grid["transform"]
    return float(grid[key][int((ytop - y) // cell), int((x - x0) // cell)])


def station_xy(city, where) -> tuple[float, float]:
    if isinstance(where, tuple):
        return city.cx + city.scale * where[0], city.cy + city.scale * where[1]
    if where == "park":
        c = next(g for g in city.greens if g.tags.get("name") == "Stadspark").geom.centroid
        return c.x, c.y
    road = next(r for r in city.main_roads if (r.tags.get("name") == "Ringweg Noord" if where == "ring"
                                              else r.cls == "trunk"))
    x, y = road.coords[len(road.coords) // 2]
    return x + 12.0, y + 12.0


def to_wgs84(x, y):
    from pyproj import Transformer

    return Transformer.from_crs(28992, 4326, always_xy=True).transform(x, y)


def hourly(rng, times, means: np.ndarray, shared_sd=0.45, own_sd=0.3) -> np.ndarray:
    """Hourly NO2-like series (n_hours, n_series) whose long-run mean is ``means``."""
    import pandas as pd

    t = pd.DatetimeIndex(times)
    hour, wd = t.hour.to_numpy(), t.day_of_week.to_numpy()
    diurnal = 1 + 0.45 * np.exp(-((hour - 8) / 2.0) ** 2) + 0.35 * np.exp(-((hour - 18) / 2.5) ** 2) \
        - 0.25 * ((hour < 5) | (hour > 22))
    weekly = np.where(wd >= 5, 0.78, 1.06)
    n = len(t)
    weather = np.zeros(n)
    eps = rng.normal(0, shared_sd * math.sqrt(1 - 0.97**2), n)
    for i in range(1, n):
        weather[i] = 0.97 * weather[i - 1] + eps[i]
    own = rng.normal(0, own_sd, (n, len(means)))
    f = (diurnal * weekly * np.exp(weather))[:, None] * np.exp(own)
    f = f / f.mean(axis=0, keepdims=True)
    return f * means[None, :]


def write_station_series(rng, sites, grid, outdir: Path, files, *, outage: int) -> None:
    """Luchtmeetnet bulk CSVs (one per month, ``files``) of hourly NO2 at ``sites`` ((code, name,
    type, gebied, x, y) in EPSG:28992): the grid's value x 1.15 (winter months run higher), +9 at
    traffic stations, 1.2 % of hours missing and a two-day outage at site ``outage``."""
    import pandas as pd

    from . import _demo_write as dw

    st = []
    for code, sname, typ, gebied, x, y in sites:
        lon, lat = to_wgs84(x, y)
        inc = 9.0 if typ == "verkeer" else 0.0
        st.append({"code": code, "name": sname, "type": typ, "gebied": gebied, "lon": lon, "lat": lat,
                   "mean": grid_value(grid, "no2", x, y) * 1.15 + inc})
    times = pd.date_range("2023-01-01 00:00", "2023-03-01 00:00", freq="h", inclusive="left").to_numpy()
    vals = hourly(rng, times, np.array([s["mean"] for s in st]))
    vals[rng.uniform(size=vals.shape) < 0.012] = np.nan
    vals[300:350, outage] = np.nan
    vals = np.round(vals, 2)
    months = pd.DatetimeIndex(times).month
    for m, rel in zip((1, 2), files):
        sel = months == m
        dw.write_luchtmeetnet(st, times[sel], vals[sel], f"2023-{m:02d}", outdir / rel)
