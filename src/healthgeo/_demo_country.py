"""The synthetic demo country behind :func:`healthgeo.demo.generate_country`: towns, placement,
national grids. File formats come from :mod:`healthgeo._demo_write`, one town from
:mod:`healthgeo._demo_city`; this module only combines many towns into national files.

Each town is built in the canonical frame (:func:`healthgeo._demo_city.build` with ``town`` < 1,
2-3 wijken, 15-25 buurten), populated, and moved (translated, not scaled) to its place.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _demo_city as dc
from . import _demo_write as dw

log = logging.getLogger(__name__)

#: name stems and prefixes of the demo country's municipalities (fictional; ``names()`` combines them)
_STEMS = ("Proefstad", "Demodorp", "Testerveen", "Voorbeeldam", "Modelhoven", "Schetsbroek", "Oefenwoude",
          "Steekproefzijl", "Fictiehuizen", "Ontwerpdijk", "Kladmeer")
_PREFIXES = ("", "Nieuw-", "Oud-", "Groot-", "Klein-", "Hoog-", "Laag-", "Sint-", "Ter ")

MAX_MUNICIPALITIES = 98  # codes GM9901..GM9998 (GM9999 is the demo city Demostad)
FIRST_CODE = 9901
#: gap between the footprints (outline plus the roads beyond it) of neighbouring towns, m
GAP_M = (400.0, 1200.0)
ROW_JITTER_M = 400.0


def names(n: int) -> dict[str, str]:
    """Code -> name of the first ``n`` municipalities (fixed, independent of the seed)."""
    out = {}
    for i in range(n):
        prefix, stem = _PREFIXES[i // len(_STEMS)], _STEMS[i % len(_STEMS)]
        out[f"GM{FIRST_CODE + i}"] = f"{prefix}{stem}"
    return out


@dataclass
class Town:
    code: str
    name: str
    town: float  # linear size relative to the demo city
    wijken: int
    buurten: int
    aspect: float
    density: float
    income_shift: float
    no2_urban: float  # ug/m3 the town adds to the background at its centre
    city: dc.City | None = None
    agg: dict | None = None
    regions: list | None = None


def town_specs(rng: np.random.Generator, n: int) -> list[Town]:
    """Sizes and characters of ``n`` towns: the first is the regional centre (largest, most NO2,
    lower incomes); the others vary in size, shape, density, NO2 and income."""
    out = []
    for i, (code, name) in enumerate(names(n).items()):
        if i == 0:
            out.append(Town(code, name, 0.55, 3, 25, 1.0, 0.55, -2.5, 10.0))
            continue
        town = float(rng.uniform(0.36, 0.5))
        wijken = 2 if town < 0.42 else 3
        buurten = int(round(15 + (town - 0.36) / 0.14 * 7)) + int(rng.integers(-1, 2))
        aspect = float(rng.uniform(1.0, 1.3))
        aspect = aspect if rng.uniform() < 0.5 else 1 / aspect
        out.append(Town(code, name, town, wijken, buurten, aspect, float(rng.uniform(0.4, 0.65)),
                        float(rng.uniform(-2.0, 6.0)), float(rng.uniform(1.0, 6.0))))
    return out


def build_towns(seed: int, specs: list[Town]) -> None:
    """Build and populate every town (each with its own generators) in the canonical frame."""
    for i, t in enumerate(specs):
        r_build, r_pop, r_wc = (np.random.default_rng([seed, 100 + i, j]) for j in range(3))
        city = dc.build(r_build, t.code, town=t.town, wijken=t.wijken, buurten=t.buurten, aspect=t.aspect)
        city.density, city.income_shift = t.density, t.income_shift
        dc.populate(r_pop, city)
        dc.wheelchair_tags(r_wc, city)
        t.city = city


def footprint(city: dc.City) -> float:
    """Largest distance (m) of any mapped geometry of a town from its centre (canonical frame)."""
    pts = [np.asarray(city.outline.exterior.coords)]
    pts += [r.coords for r in (*city.main_roads, *city.streets, *city.fragments)]
    pts += [np.asarray(g.geom.exterior.coords) for g in city.greens]
    xy = np.vstack(pts)
    return float(np.hypot(xy[:, 0] - city.cx, xy[:, 1] - city.cy).max())


def place_towns(rng: np.random.Generator, specs: list[Town], origin: tuple[float, float]) -> None:
    """Place the towns in rows (west to east, rows south to north) from ``origin`` (lower-left),
    neighbours' footprints ``GAP_M`` apart, rows shifted by half a town, with a little jitter."""
    n = len(specs)
    per_row = max(1, math.ceil(math.sqrt(n * 1.5)))
    rows = [specs[k:k + per_row] for k in range(0, n, per_row)]
    feet = {t.code: footprint(t.city) for t in specs}
    y_base = origin[1] + ROW_JITTER_M
    prev_max = None
    for r, row in enumerate(rows):
        row_max = max(feet[t.code] for t in row)
        if prev_max is not None:
            y_base += prev_max + row_max + 2 * ROW_JITTER_M + float(rng.uniform(*GAP_M))
        else:
            y_base += row_max
        x = origin[0] + (0.0 if r % 2 == 0 else 0.5 * row_max)
        prev_f = None
        for t in row:
            f = feet[t.code]
            x += f if prev_f is None else prev_f + float(rng.uniform(*GAP_M)) + f
            y = y_base + float(rng.uniform(-ROW_JITTER_M, ROW_JITTER_M))
            cx, cy = round(x), round(y)
            dc.place(t.city, (cx - (dc.CX - dc.CANON_ORIGIN[0]), cy - (dc.CY - dc.CANON_ORIGIN[1])),
                     dc.CANON_SIZE)
            prev_f = f
        prev_max = row_max


def extent(specs: list[Town]) -> tuple[float, float, float, float]:
    """Bounds (x0, y0, x1, y1) of every town's footprint."""
    b = np.array([[t.city.cx - f, t.city.cy - f, t.city.cx + f, t.city.cy + f]
                  for t in specs for f in [footprint(t.city)]])
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def merged(specs: list[Town]) -> dc.City:
    """One City holding every town's geometry and dwellings (buurt indices offset), for the
    national rasters, BAG and grid."""
    import shapely

    c0 = specs[0].city
    d = {k: [] for k in c0.dwellings}
    off = 0
    out = dc.City(shapely.union_all([t.city.outline for t in specs]), [], [], [], [], [], [], [])
    for t in specs:
        c = t.city
        out.wijken += c.wijken
        out.buurten += c.buurten
        out.main_roads += c.main_roads
        out.streets += c.streets
        out.fragments += c.fragments
        out.greens += c.greens
        out.amenities += c.amenities
        for k, v in c.dwellings.items():
            d[k].append(v + off if k == "buurt" else v)
        off += len(c.buurten)
    out.dwellings = {k: np.concatenate(v) for k, v in d.items()}
    return out


def dwelling_codes(specs: list[Town]) -> np.ndarray:
    """The municipality code of every dwelling of :func:`merged`."""
    return np.concatenate([np.full(len(t.city.dwellings["x"]), t.code) for t in specs])


def national_air(rng, specs: list[Town], paths, origin, shape) -> dict:
    """The national GCN grids: a background falling from west to east, each town's urban
    increment (``no2_urban`` at its centre, fading over its own size), its main roads (traffic in
    proportion to the town's size) and the trunk roads."""
    import shapely
    from shapely.geometry import LineString

    from ._demo_parts import write_air

    x0, y0 = origin
    nr, nc = shape
    xs = x0 + 500 + 1000 * np.arange(nc)
    ys = y0 + 500 + 1000 * np.arange(nr)[::-1]
    X, Y = np.meshgrid(xs, ys)
    trunk = shapely.union_all([LineString(r.coords) for t in specs for r in t.city.main_roads if r.cls == "trunk"])
    d_trunk = dw.line_distance(X.ravel(), Y.ravel(), trunk).reshape(X.shape)
    d_road = d_trunk
    # background higher in the west (as towards the Randstad and the sea ports)
    no2 = 10.0 + 3.5 * (X.max() - X) / max(float(X.max() - X.min()), 1.0) + 6.0 * np.exp(-d_trunk / 700)
    biggest = max(t.town for t in specs)
    for t in specs:
        main = shapely.union_all([LineString(r.coords) for r in t.city.main_roads if r.cls != "trunk"])
        d_main = dw.line_distance(X.ravel(), Y.ravel(), main).reshape(X.shape)
        d_road = np.minimum(d_road, d_main)
        r = np.hypot(X - t.city.cx, Y - t.city.cy) / t.city.town
        no2 = no2 + t.no2_urban * np.exp(-r / 2500) + 5.5 * t.town / biggest * np.exp(-d_main / 500)
    no2 = np.clip(no2 + rng.normal(0, 0.5, no2.shape), 8.0, 35).round(2)
    return write_air(rng, no2, d_road, paths, x0, y0, lo=8.0)


def national_stations(rng, specs: list[Town], grid, outdir: Path, station_files) -> None:
    """Luchtmeetnet: one station per town (background at the market square, or traffic on the
    northern ring road, alternately) and one regional background station in the countryside."""
    from ._demo_parts import station_xy, write_station_series

    st = []
    for i, t in enumerate(specs):
        traffic = i % 2 == 1
        x, y = station_xy(t.city, "ring" if traffic else (120.0, 80.0))
        typ = "verkeer" if traffic else "achtergrond"
        sname = f"{t.name}-{'Ringweg Noord' if traffic else 'Marktplein'}"
        st.append((f"NL99{i + 1:03d}", sname, typ, "stad", x, y))
    x0, y0, x1, y1 = extent(specs)
    st.append(("NL99000", "Demoland-Polderweg", "achtergrond", "regionaal", x0 + 400.0, y0 + 400.0))
    write_station_series(rng, st, grid, outdir, station_files, outage=0)  # a two-day outage at the first station


def national_sensors(rng, specs: list[Town], grid, paths) -> None:
    """Samen Meten: two sensors per town, with the real pivot's quirks (a -999 stretch, a sensor
    started late, one sensor without a ``things`` row, a PM-only thing without a column)."""
    import pandas as pd

    from ._demo_parts import grid_value, hourly, to_wgs84

    names_, xy = [], []
    for i, t in enumerate(specs):
        c = t.city
        for j in range(2):
            a = 2 * math.pi * (j / 2 + 0.1 * i) + 0.3
            rr = (700 + 900 * j) * c.town
            names_.append(f"DMS_ns{i + 1:02d}{j + 1}")
            xy.append((c.cx + rr * math.cos(a), c.cy + rr * math.sin(a)))
    means = np.array([grid_value(grid, "no2", x, y) * rng.uniform(1.05, 1.35) for x, y in xy])
    times = pd.date_range("2023-01-01 00:00", "2023-04-01 00:00", freq="h", inclusive="left").to_numpy()
    vals = hourly(rng, times, means, own_sd=0.45)
    n = len(times)
    vals[rng.uniform(size=vals.shape) < 0.03] = np.nan
    vals[500:740, 0] = -999.0  # a stretch of sentinel values, as in the real pivot
    if vals.shape[1] > 2:
        vals[: n // 2, 2] = np.nan  # started mid-February: < 75 % complete
    vals[:3, :] = np.nan  # the first hours of the year have no data at all (absent rows)
    dw.write_samenmeten(names_, times, vals, paths["sensors"])
    things = [(nm, *to_wgs84(x, y)) for nm, (x, y) in zip(names_[:-1], xy[:-1])]  # last sensor has no row
    c = specs[0].city
    things.append(("LTD_90001", *to_wgs84(c.cx - 300 * c.town, c.cy + 900 * c.town)))  # PM only, no column
    dw.write_things(things, paths["sensor_locations"])


#: towns whose main roads come closer than this are joined by a regional road (as real towns are)
CONNECT_WITHIN_M = 3_000.0


def connector_roads(specs: list[Town], skip=()) -> list[np.ndarray]:
    """Straight regional roads joining every two towns whose main roads come within
    :data:`CONNECT_WITHIN_M` of each other, and the shortest links that connect all towns: from the closest
    pair of main-road vertices, one vertex every ~100 m. Both ends are existing vertices, so the
    OSM extract shares their nodes and the towns' street networks are joined (a municipality's cut
    plus margin then holds its neighbours' streets joined to its own, not as islands). Towns in
    ``skip`` (left out of the OSM extract) get none."""
    ends = {t.code: np.vstack([r.coords for r in t.city.main_roads]) for t in specs if t.code not in skip}
    codes = list(ends)
    closest = {}
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            pa, pb = ends[a], ends[b]
            d = np.hypot(pa[:, None, 0] - pb[None, :, 0], pa[:, None, 1] - pb[None, :, 1])
            k = np.unravel_index(int(np.argmin(d)), d.shape)
            closest[(a, b)] = (float(d[k]), pa[k[0]], pb[k[1]])
    # no road through a town left out of the extract (a real extract without it has none there either)
    from shapely.geometry import LineString

    holes = [t.city.outline.buffer(500.0) for t in specs if t.code in skip]
    closest = {p: v for p, v in closest.items()
               if not any(LineString([v[1], v[2]]).intersects(h) for h in holes)}
    pairs = {p for p, (dist, _, _) in closest.items() if dist <= CONNECT_WITHIN_M}
    group = {c: c for c in codes}  # and a minimum spanning tree: every town reachable from every other

    def root(c):
        while group[c] != c:
            c = group[c]
        return c

    for p in sorted(closest, key=lambda p: closest[p][0]):
        ra, rb = root(p[0]), root(p[1])
        if ra != rb:
            group[ra] = rb
            pairs.add(p)
    out = []
    for p in sorted(pairs, key=lambda p: (codes.index(p[0]), codes.index(p[1]))):
        dist, xa, xb = closest[p]
        n = max(1, int(np.ceil(dist / 100.0)))
        line = xa + np.linspace(0.0, 1.0, n + 1)[:, None] * (xb - xa)
        line[0], line[-1] = xa, xb  # exactly the existing vertices (shared nodes)
        out.append(line)
    return out
