"""The synthetic city behind :mod:`healthgeo.demo`: geometry and attributes, no file formats.

Everything here is a pure function of a :class:`numpy.random.Generator`, so one seed gives one
city. Coordinates are EPSG:28992 metres. The city is built in this order (later steps use the
earlier ones): outline -> wijken -> buurten -> main roads -> green areas -> street grid ->
amenities -> residents per buurt -> dwellings.

The city is always built in the canonical frame (centre ``CX, CY``, extent ``CANON_ORIGIN`` +
``CANON_SIZE``), so one seed gives one city shape wherever it is put; :func:`place` then moves and
scales it (one similarity transform of every coordinate) to another extent, e.g. over a real
municipality. The default extent is left untouched (no arithmetic), so its files do not change.

Spatial sense built in on purpose (tests check it):

* main roads (ring, radials, a trunk road) carry the loudest noise and add NO2/PM;
* parks are placed away from main roads and are quiet;
* buurten close to the ring road are poorer (lower income, more low-income households) and
  less healthy, with noise so the relations are not perfect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon

CX, CY = 155_000.0, 445_000.0  # city centre (canonical frame)
CANON_ORIGIN = (150_000.0, 440_000.0)  # lower-left of the canonical 10 x 10 km extent (EPSG:28992)
CANON_SIZE = 10_000.0
RING_RADIUS = 2400.0
SINGEL_RADIUS = 900.0
TRUNK_X = CX + 3900.0
WIJK_NAMES = (
    "Binnenstad", "Noordoost", "Oost", "Zuidoost", "Zuid",
    "Zuidwest", "West", "Noordwest", "Noord", "Buitenveld",
)
_STREET_PREFIX = (
    "Linden", "Eiken", "Beuken", "Iepen", "Wilgen", "Populieren", "Kastanje", "Berken", "Esdoorn",
    "Hazelaar", "Vlier", "Meidoorn", "Rozen", "Tulpen", "Narcis", "Lelie", "Dahlia", "Jasmijn",
    "Klaver", "Distel", "Merel", "Lijster", "Spreeuwen", "Vinken", "Mezen", "Reiger", "Zwaluw",
    "Kievit", "Specht", "Uilen", "Molen", "Kerk", "School", "Haven", "Sluis", "Dijk", "Polder",
    "Akker", "Weide", "Veld", "Bosch", "Heide", "Zon", "Maan", "Ster", "Regenboog", "Koren",
)
_STREET_SUFFIX = ("straat", "laan", "weg", "plein", "hof", "kade", "dreef", "pad", "singel", "gracht")
_BUURT_WORDS = (
    "Centrum", "Kerkbuurt", "Molenwijk", "Havenkwartier", "Lindenhof", "Eikenrode", "Beukenhorst",
    "Vogelbuurt", "Bloemenbuurt", "Schildersbuurt", "Componistenbuurt", "Rivierenbuurt",
    "Bomenbuurt", "Sterrenwijk", "Zonnehof", "Weidebuurt", "Polderzicht", "Dijkzicht", "Akkerveld",
    "Heidebuurt", "Kastanjehof", "Parkwijk", "Spoorzicht", "Stationsbuurt", "Singelbuurt",
    "Marktkwartier", "Slotbuurt", "Torenbuurt", "Waterrijk", "Veldhoven", "Kloosterbuurt",
    "Hofstede", "Zuiderhof", "Noorderhof", "Oosterhof", "Westerhof", "Rozendaal", "Tuindorp",
)


@dataclass
class Road:
    """A mapped road or path: polyline (n, 2) plus OSM tags; ``cls`` is the noise class."""

    coords: np.ndarray
    tags: dict[str, str]
    cls: str


@dataclass
class Green:
    geom: Polygon
    tags: dict[str, str]
    kind: str
    inner: Polygon | None = None  # one hole (written as a multipolygon relation)


@dataclass
class Amenity:
    x: float
    y: float
    tags: dict[str, str]
    category: str


@dataclass
class City:
    outline: Polygon
    wijken: list[dict]
    buurten: list[dict]
    main_roads: list[Road]
    streets: list[Road]
    fragments: list[Road]
    greens: list[Green]
    amenities: list[Amenity]
    dwellings: dict[str, np.ndarray] = field(default_factory=dict)
    #: centre (EPSG:28992) and scale factor of the city's frame; set by :func:`place`
    cx: float = CX
    cy: float = CY
    scale: float = 1.0
    #: raised kerbs as (index into ``streets``, vertex 0 or -1): that end node gets kerb=raised
    kerbs: list[tuple[int, int]] = field(default_factory=list)
    #: linear size of the town relative to the default city (see :func:`build`); attributes that
    #: depend on the distance to the centre use ``distance / town`` (the town's own proportions)
    town: float = 1.0
    #: residents per km2 relative to the default city (see :func:`populate`)
    density: float = 1.0
    #: k EUR added to every buurt's income per resident (see :func:`populate`)
    income_shift: float = 0.0


# --------------------------------------------------------------------------------------------
# geometry helpers
def _wobbly_ring(rng, cx, cy, radius, amp, n=96, harmonics=(2, 3, 5)) -> np.ndarray:
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.full(n, radius)
    for k, h in enumerate(harmonics):
        r += amp / (k + 1) * np.sin(h * theta + rng.uniform(0, 2 * np.pi))
    return np.column_stack([cx + r * np.cos(theta), cy + r * np.sin(theta)])


def _blob(rng, cx, cy, area_m2, n=18, aspect=1.4) -> Polygon:
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = 1 + 0.15 * rng.standard_normal(n).clip(-2, 2)
    ang = rng.uniform(0, np.pi)
    x, y = r * np.cos(theta) * aspect, r * np.sin(theta) / aspect
    xr = x * math.cos(ang) - y * math.sin(ang)
    yr = x * math.sin(ang) + y * math.cos(ang)
    poly = Polygon(np.column_stack([xr, yr]))
    s = math.sqrt(area_m2 / poly.area)
    return Polygon(np.column_stack([cx + xr * s, cy + yr * s]))


def _polygons(geom) -> list[Polygon]:
    if geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    return [g for part in getattr(geom, "geoms", []) for g in _polygons(part)]


def _voronoi_cells(seeds: np.ndarray, clip: Polygon) -> list[shapely.Geometry]:
    """Voronoi cells of ``seeds`` clipped to ``clip``, in seed order (cells tile ``clip``)."""
    vor = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=clip.buffer(2000))
    cells = list(vor.geoms)
    tree = shapely.STRtree(cells)
    out = []
    for x, y in seeds:
        idx = tree.query(Point(x, y), predicate="intersects")
        cell = cells[int(idx[0])]
        piece = shapely.intersection(cell, clip)
        out.append(shapely.MultiPolygon(_polygons(piece)))
    return out


def _split_strip(poly, width: float):
    """Cut a ``width`` m strip along the longest side of ``poly``'s minimum rotated rectangle."""
    rect = np.asarray(poly.minimum_rotated_rectangle.exterior.coords)[:4]
    sides = [(rect[i], rect[(i + 1) % 4]) for i in range(4)]
    a, b = max(sides, key=lambda s: np.hypot(*(s[1] - s[0])))
    t = (b - a) / np.hypot(*(b - a))
    n = np.array([-t[1], t[0]])
    c = np.asarray(poly.centroid.coords[0])
    if np.dot(c - a, n) < 0:
        n = -n
    a2, b2 = a - 500 * t, b + 500 * t
    band = Polygon([a2 - 10 * n, b2 - 10 * n, b2 + width * n, a2 + width * n])
    strip = shapely.intersection(poly, band)
    rest = shapely.difference(poly, band)
    return shapely.MultiPolygon(_polygons(strip)), shapely.MultiPolygon(_polygons(rest))


def _sample_in(rng, poly, n, min_dist=0.0, tries=4000) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    pts: list[tuple[float, float]] = []
    for _ in range(tries):
        if len(pts) == n:
            break
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not shapely.contains_xy(poly, x, y):
            continue
        if min_dist and any((x - a) ** 2 + (y - b) ** 2 < min_dist**2 for a, b in pts):
            continue
        pts.append((x, y))
    return np.array(pts)


def _compass(xy) -> str:
    """Name of a town wijk from its seed's direction from the centre (the centre wijk: Centrum)."""
    dx, dy = xy[0] - CX, xy[1] - CY
    if math.hypot(dx, dy) < 500:
        return "Centrum"
    names = ("Noord", "Noordoost", "Oost", "Zuidoost", "Zuid", "Zuidwest", "West", "Noordwest")
    return names[int(((math.degrees(math.atan2(dx, dy)) + 22.5) % 360) // 45)]


# --------------------------------------------------------------------------------------------
def build(rng: np.random.Generator, municipality: str, *, town: float = 1.0, wijken: int = 10,
          buurten: int | None = None, aspect: float = 1.0) -> City:
    """Build the city (geometry, roads, green, amenities; no residents yet) in the canonical frame.

    The default is the demo city: 10 wijken, 100 buurten (one thin strip and one small hemmed-in
    buurt among them) in a blob of about 4.5 km radius. ``town`` < 1 builds a smaller town with
    the same plan: every radius and extent (outline, ring road, singel, trunk road, green areas,
    street grid) is multiplied by ``town``, green areas by ``town**2`` in area, amenity counts by
    ``town**2``; the spacing of streets (135 m) and of buurt seeds (>= 330 m) stays, so street
    and dwelling counts shrink by about ``town**2``. ``wijken`` (2-9 with a town layout: a centre
    wijk and the others around it; 10: the demo city's layout) and ``buurten`` (total, split over
    the wijken; default the demo city's 100) set the ward counts; a town layout has no thin or
    small special buurten. ``aspect`` stretches the outline (x by ``aspect``, y by ``1/aspect``).
    """
    digits = municipality[2:]
    tw = float(town)
    full = wijken == 10
    if not (2 <= wijken <= 10) or (not full and buurten is None):
        msg = f"wijken must be 2..10 (and buurten given when wijken < 10), got {wijken!r}, {buurten!r}"
        raise ValueError(msg)
    ring_xy = _wobbly_ring(rng, CX, CY, 4450.0 * tw, 420.0 * tw, n=120)
    if aspect != 1.0:
        ring_xy = np.column_stack([CX + (ring_xy[:, 0] - CX) * aspect, CY + (ring_xy[:, 1] - CY) / aspect])
    outline = Polygon(ring_xy)
    outline = shapely.make_valid(outline)

    if full:  # wijken: centre + 9 around
        seeds = [(CX + rng.uniform(-150, 150) * tw, CY + rng.uniform(-150, 150) * tw)]
        for j in range(9):
            a = math.radians(10 + 40 * j + rng.uniform(-8, 8))
            r = (3000 + rng.uniform(-250, 250)) * tw
            seeds.append((CX + r * math.cos(a), CY + r * math.sin(a)))
        counts = [12, 10, 9, 11, 10, 8, 10, 11, 9, 10]
        if buurten is not None and buurten != 100:
            counts = [max(1, round(c * buurten / 100)) for c in counts]
    else:  # a town: a centre wijk and wijken - 1 around it
        seeds = [(CX + rng.uniform(-100, 100) * tw, CY + rng.uniform(-100, 100) * tw)]
        a0 = rng.uniform(0, 360)
        for j in range(wijken - 1):
            a = math.radians(a0 + 360 * j / (wijken - 1) + rng.uniform(-10, 10))
            r = (2900 + rng.uniform(-200, 200)) * tw
            seeds.append((CX + r * math.cos(a) * aspect, CY + r * math.sin(a) / aspect))
        counts = [buurten // wijken + (1 if j < buurten % wijken else 0) for j in range(wijken)]
    seeds = np.array(seeds)
    # wijk numbering: 01 centre, then clockwise from north
    order = [0] + sorted(range(1, len(seeds)),
                         key=lambda i: (math.atan2(seeds[i][0] - CX, seeds[i][1] - CY)) % (2 * math.pi))
    seeds = seeds[order]
    wijk_geoms = _voronoi_cells(seeds, outline)

    wijken_out, buurten_out = [], []
    for w, (wgeom, nb) in enumerate(zip(wijk_geoms, counts), start=1):
        wcode = f"WK{digits}{w:02d}"
        wname = WIJK_NAMES[w - 1] if full else _compass(seeds[w - 1])
        wijken_out.append({"code": wcode, "name": f"Wijk {w:02d} {wname}", "geometry": wgeom, "number": w})
        special = (3 if w == 5 else 1 if w == 3 else 0) if full else 0
        core = _sample_in(rng, wgeom, nb - special, min_dist=330.0)
        if len(core) < nb - special:  # pragma: no cover - fallback, relaxed spacing
            core = _sample_in(rng, wgeom, nb - special, min_dist=150.0)
        pts = list(map(tuple, core))
        if full and w == 5:  # a seed hemmed in by three close neighbours -> one small buurt
            depth = [wgeom.boundary.distance(Point(p)) for p in pts]
            x, y = pts.pop(int(np.argmax(depth)))
            pts.insert(0, (x, y))
            for k in range(3):
                a = math.radians(90 + 120 * k)
                pts.append((x + 140 * math.cos(a), y + 140 * math.sin(a)))
        cells = _voronoi_cells(np.array(pts), wgeom)
        if full and w == 3:  # split a 60 m strip off the largest buurt -> one long thin buurt
            big = int(np.argmax([c.area for c in cells]))
            strip, rest = _split_strip(cells[big], 60.0)
            cells[big] = rest
            cells.append(strip)
        flags = [("small" if (full and w == 5 and i == 0) else "thin" if (full and w == 3 and i == len(cells) - 1)
                  else "") for i in range(len(cells))]
        # number buurten north->south, west->east within the wijk
        idx = sorted(range(len(cells)), key=lambda i: (-round(cells[i].centroid.y, -2), cells[i].centroid.x))
        for b, i in enumerate(idx):
            buurten_out.append({"code": f"BU{digits}{w:02d}{b:02d}", "wijkcode": wcode, "geometry": cells[i],
                                "thin": flags[i] == "thin", "small": flags[i] == "small"})

    main_roads = _main_roads(rng, outline, tw)
    main_union = shapely.union_all([LineString(r.coords) for r in main_roads])
    greens = _greens(rng, outline, main_roads, tw, aspect)
    streets, fragments = _street_grid(rng, outline, main_roads, main_union, greens, tw * max(aspect, 1 / aspect))
    streets += _park_paths(greens, streets)
    city = City(outline, wijken_out, buurten_out, main_roads, streets, fragments, greens, [], town=tw)
    _name_buurten(rng, city)
    city.amenities = _amenities(rng, city)
    return city


def _main_roads(rng, outline, tw: float = 1.0) -> list[Road]:
    roads = []
    ring = _wobbly_ring(rng, CX, CY, RING_RADIUS * tw, 150.0 * tw, n=80, harmonics=(3,))
    ring = np.vstack([ring, ring[:1]])
    quarter = ("Noord", "West", "Zuid", "Oost")
    # split the ring in four named ways
    n = len(ring) - 1
    for q in range(4):
        seg = ring[q * n // 4: (q + 1) * n // 4 + 1]
        roads.append(Road(seg, {"highway": "primary", "name": f"Ringweg {quarter[q]}", "ref": "S10",
                                "maxspeed": "50", "cycleway": "track", "lanes": "2"}, "primary"))
    singel = _wobbly_ring(rng, CX, CY, SINGEL_RADIUS * tw, 60.0 * tw, n=40, harmonics=(2,))
    singel = np.vstack([singel, singel[:1]])
    roads.append(Road(singel, {"highway": "tertiary", "name": "Singel", "maxspeed": "30",
                               "cycleway": "lane"}, "tertiary"))
    names = ("Utrechtseweg", "Amersfoortseweg", "Stationsweg", "Rijksstraatweg", "Dorpsweg")
    for k, deg in enumerate((20, 95, 170, 250, 320)):
        a0 = math.radians(deg + rng.uniform(-6, 6))
        rmax = outline.exterior.distance(Point(CX, CY)) + 5200
        pts, r = [(CX, CY)], 150.0
        a = a0
        while r < rmax:
            a += rng.normal(0, 0.015)
            p = (CX + r * math.cos(a), CY + r * math.sin(a))
            pts.append(p)
            if not shapely.contains_xy(outline, *p) and r > 3000 * tw:
                pts.append((CX + (r + 400) * math.cos(a), CY + (r + 400) * math.sin(a)))
                break
            r += 150.0
        pts = np.array(pts)
        rr = np.hypot(pts[:, 0] - CX, pts[:, 1] - CY)
        k_split = int((rr <= RING_RADIUS * tw).sum())
        inner, outer = pts[: k_split + 1], pts[k_split:]
        roads.append(Road(inner, {"highway": "secondary", "name": names[k], "maxspeed": "50",
                                  "cycleway": "lane"}, "secondary"))
        roads.append(Road(outer, {"highway": "primary", "name": names[k], "maxspeed": "70",
                                  "cycleway": "track"}, "primary"))
    ys = np.arange(CY - 5600 * tw, CY + 5600 * tw + 1, 200.0)
    xs = CX + (TRUNK_X - CX) * tw + 120 * tw * np.sin((ys - CY) / (2500.0 * tw))
    roads.append(Road(np.column_stack([xs, ys]), {"highway": "trunk", "ref": "N999", "maxspeed": "100",
                                                   "bicycle": "no", "foot": "no", "lanes": "2"}, "trunk"))
    _node_crossings(roads)
    return roads


def _node_crossings(roads: list[Road]) -> None:
    """Insert the crossing points of main roads into both lines, so they share OSM nodes."""
    lines = [LineString(r.coords) for r in roads]
    extra: list[list[tuple[float, float]]] = [[] for _ in roads]
    for i in range(len(roads)):
        for j in range(i + 1, len(roads)):
            inter = lines[i].intersection(lines[j])
            pts = [g for g in getattr(inter, "geoms", [inter]) if g.geom_type == "Point" and not g.is_empty]
            for p in pts:
                extra[i].append((p.x, p.y))
                extra[j].append((p.x, p.y))
    for r, line, ex in zip(roads, lines, extra):
        if not ex:
            continue
        d_vert = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(r.coords, axis=0).T))])
        items = list(zip(d_vert, map(tuple, r.coords)))
        for x, y in ex:
            items.append((line.project(Point(x, y)), (x, y)))
        items.sort(key=lambda t: t[0])
        coords = [items[0][1]]
        for _, c in items[1:]:
            if math.hypot(c[0] - coords[-1][0], c[1] - coords[-1][1]) > 1.0:
                coords.append(c)
            elif c in {tuple(e) for e in ex}:
                coords[-1] = c  # prefer the exact crossing point
        r.coords = np.array(coords)


_GREEN_SPECS = (
    # (kind, tags, area_ha, clearance_m)
    ("park", {"leisure": "park", "name": "Stadspark"}, 30.0, 150),
    ("park", {"leisure": "park", "name": "Oosterpark"}, 12.0, 120),
    ("park", {"leisure": "park", "name": "Westerpark"}, 8.0, 120),
    ("park", {"leisure": "park", "name": "Noorderplantsoen"}, 5.0, 100),
    ("park", {"leisure": "park", "name": "Park Zuidhoven"}, 3.0, 100),
    ("park", {"leisure": "park", "name": "Vijverpark"}, 2.0, 80),
    ("park", {"leisure": "park", "name": "Lindenpark"}, 1.5, 80),
    ("park", {"leisure": "park", "name": "Buurtpark De Linde"}, 1.0, 60),
    ("park", {"leisure": "park", "name": "Kerkplantsoen"}, 0.6, 40),
    ("park", {"leisure": "park", "name": "Hofje"}, 0.4, 40),
    ("park", {"leisure": "park"}, 0.2, 30),
    ("cemetery", {"landuse": "cemetery", "name": "Algemene Begraafplaats"}, 4.0, 80),
    ("forest", {"landuse": "forest", "name": "Demobos"}, 22.0, 120),
    ("wood", {"natural": "wood"}, 6.0, 80),
    *(("garden", {"leisure": "garden"}, a, 20) for a in (0.15, 0.25, 0.4, 0.1, 0.3, 0.2)),
    *(("grass", {"landuse": "grass"}, a, 20) for a in (0.05, 0.1, 0.3, 0.5, 0.08, 0.2, 0.12, 0.4,
                                                       0.06, 0.25, 0.15, 0.35)),
    *(("playground", {"leisure": "playground"}, a, 20) for a in (0.03, 0.05, 0.08, 0.04, 0.1, 0.06)),
)


def _greens(rng, outline, main_roads, tw: float = 1.0, aspect: float = 1.0) -> list[Green]:
    non_trunk = shapely.union_all([LineString(r.coords) for r in main_roads if r.cls != "trunk"])
    trunk = shapely.union_all([LineString(r.coords) for r in main_roads if r.cls == "trunk"])
    placed: list[Green] = []
    inner_outline = outline.buffer(-150 * tw)
    for kind, tags, ha, clear in _GREEN_SPECS:
        clear = clear * tw
        area = ha * 10_000 * tw * tw
        radius = math.sqrt(area / math.pi)
        for attempt in range(3000):
            relax = 1.0 if attempt < 2000 else 0.5
            if kind in ("forest", "wood"):  # edge of town, outside the ring
                a = rng.uniform(0, 2 * np.pi)
                r = rng.uniform(3300 * tw, 4100 * tw)
                x, y = CX + r * math.cos(a) * aspect, CY + r * math.sin(a) / aspect
            else:
                x, y = rng.uniform(CX - 4300 * tw * aspect, CX + 4300 * tw * aspect), \
                    rng.uniform(CY - 4300 * tw / aspect, CY + 4300 * tw / aspect)
            if not shapely.contains_xy(inner_outline, x, y):
                continue
            p = Point(x, y)
            if p.distance(non_trunk) < (radius * 1.5 + clear) * relax or p.distance(trunk) < radius * 1.5 + 300 * tw:
                continue
            geom = _blob(rng, x, y, area, n=24 if ha >= 1 else 12)
            if not outline.contains(geom) or any(geom.distance(g.geom) < 40 for g in placed):
                continue
            inner = None
            if kind == "forest":
                inner = _blob(rng, x, y, area * 0.06, n=10, aspect=1.0)
            placed.append(Green(geom, dict(tags), kind, inner))
            break
    return placed


def _street_grid(rng, outline, main_roads, main_union, greens, tw: float = 1.0):
    """Jittered street grid, cut where it crosses main roads and reconnected to them (the grid
    spans ``CX, CY`` +- 4950 m times ``tw``)."""
    from scipy.spatial import cKDTree

    step = 135.0
    gx = np.arange(CX - 4950 * tw, CX + 4950 * tw + 1, step)
    gy = np.arange(CY - 4950 * tw, CY + 4950 * tw + 1, step)
    nx_, ny_ = len(gx), len(gy)
    X = gx[None, :] + rng.uniform(-22, 22, (ny_, nx_))
    Y = gy[:, None] + rng.uniform(-22, 22, (ny_, nx_))
    inside = shapely.contains_xy(outline, X, Y)
    dist = shapely.distance(shapely.points(X, Y), main_union)
    keep = inside & (dist > 40)
    edges = []
    for j in range(ny_):
        for i in range(nx_):
            if not keep[j, i]:
                continue
            if i + 1 < nx_ and keep[j, i + 1]:
                edges.append(((j, i), (j, i + 1), "h"))
            if j + 1 < ny_ and keep[j + 1, i]:
                edges.append(((j, i), (j + 1, i), "v"))
    lines = shapely.linestrings([[[X[a], Y[a]], [X[b], Y[b]]] for a, b, _ in edges])
    ok = ~shapely.intersects(lines, main_union) & (rng.uniform(size=len(edges)) > 0.07)
    edges = [e for e, k in zip(edges, ok) if k]

    park_union = shapely.union_all([g.geom for g in greens if g.kind in ("park", "forest", "wood", "cemetery")])
    shapely.prepare(park_union)
    centre_dist = lambda x, y: math.hypot(x - CX, y - CY)  # noqa: E731

    # chain edges into ways: runs along rows (h) and columns (v), cut every 3-6 edges
    by_start = {(e[0], e[2]): e for e in edges}
    streets: list[Road] = []
    used = set()
    for e in edges:
        if (e[0], e[2]) in used:
            continue
        # only start at the beginning of a run
        a, _, d = e
        prev = (a[0], a[1] - 1) if d == "h" else (a[0] - 1, a[1])
        if (prev, d) in by_start:
            continue
        run = [a]
        cur = a
        while (cur, d) in by_start:
            used.add((cur, d))
            cur = by_start[(cur, d)][1]
            run.append(cur)
        k = 0
        while k < len(run) - 1:
            n = int(rng.integers(3, 7))
            piece = run[k: k + n + 1]
            k += n
            coords = np.array([[X[p], Y[p]] for p in piece])
            streets.append(Road(coords, {}, "minor"))
    # tag the ways
    for r in streets:
        mx, my = r.coords.mean(axis=0)
        rc = centre_dist(mx, my)
        in_green = park_union.contains(LineString(r.coords).interpolate(0.5, normalized=True))
        u = rng.uniform()
        if in_green:
            if u < 0.6:
                r.tags = {"highway": "footway"}
            elif u < 0.85:
                r.tags = {"highway": "path", "bicycle": "designated", "foot": "designated"}
            else:
                r.tags = {"highway": "cycleway", "foot": "designated", "bicycle": "designated"}
            r.cls = "path"
        elif u < 0.58:
            r.tags = {"highway": "residential", "maxspeed": "30"}
            if rc < 1500 and rng.uniform() < 0.4:
                r.tags["oneway"] = "yes"
        elif u < 0.66:
            r.tags = {"highway": "living_street"}
            if rng.uniform() < 0.3:
                r.tags["oneway"] = "yes"
        elif u < 0.73:
            r.tags = {"highway": "service"}
            if rng.uniform() < 0.35:
                r.tags["access"] = "private"
        elif u < 0.82:
            r.tags = {"highway": "footway"}
            if rng.uniform() < 0.5:
                r.tags["footway"] = "sidewalk"
            r.cls = "path"
        elif u < 0.93:
            r.tags = {"highway": "cycleway", "bicycle": "designated", "foot": "designated"}
            if rng.uniform() < 0.15:
                r.tags["foot"] = "no"
            if rng.uniform() < 0.1:
                r.tags["oneway"] = "yes"
            r.cls = "path"
        else:
            r.tags = {"highway": "path", "bicycle": "designated", "foot": "designated"}
            r.cls = "path"
        if r.tags["highway"] in ("residential", "living_street"):
            r.tags["name"] = rng.choice(_STREET_PREFIX) + rng.choice(_STREET_SUFFIX[:7])

    # connectors from main-road vertices (not the trunk) to the nearest grid node
    pts_idx = np.argwhere(keep)
    tree = cKDTree(np.column_stack([X[keep], Y[keep]]))
    for road in main_roads:
        if road.cls == "trunk":
            continue
        for x, y in road.coords[1:-1]:
            if not shapely.contains_xy(outline, x, y):
                continue
            d, i = tree.query([x, y])
            if d > 130:
                continue
            j, ii = pts_idx[i]
            seg = LineString([(x, y), (X[j, ii], Y[j, ii])])
            if seg.crosses(main_union):
                continue
            streets.append(Road(np.array([[x, y], [X[j, ii], Y[j, ii]]]),
                                {"highway": "residential", "maxspeed": "30"}, "minor"))

    # a few disconnected fragments (paths on the edge of town, a private yard)
    fragments = []
    for k in range(4):
        a = math.radians(35 + 90 * k)
        r0 = outline.exterior.distance(Point(CX, CY)) + 350
        x0, y0 = CX + r0 * math.cos(a), CY + r0 * math.sin(a)
        coords = np.array([[x0, y0], [x0 + 80, y0 + 30], [x0 + 150, y0 + 20], [x0 + 210, y0 + 70]])
        tags = ({"highway": "track", "tracktype": "grade2"} if k % 2 else
                {"highway": "footway", "name": f"Wandelpad {k + 1}"})
        fragments.append(Road(coords, tags, "path"))
    return streets, fragments


def _park_paths(greens, streets) -> list[Road]:
    """Footways from the nearest street node outside each larger green area to its middle."""
    verts = np.vstack([r.coords for r in streets if r.tags.get("highway") in ("residential", "living_street")])
    out = []
    for g in greens:
        if g.kind not in ("park", "forest", "wood") or g.geom.area < 10_000:
            continue
        c = g.geom.centroid
        outside = ~shapely.contains_xy(g.geom.buffer(5), verts[:, 0], verts[:, 1])
        cand = verts[outside]
        x, y = cand[int(np.argmin(np.hypot(cand[:, 0] - c.x, cand[:, 1] - c.y)))]
        edge = g.geom.exterior.interpolate(g.geom.exterior.project(Point(x, y)))
        coords = np.array([[x, y], [edge.x, edge.y], [c.x, c.y]])
        name = g.tags.get("name")
        out.append(Road(coords, {"highway": "footway", **({"name": f"{name}pad"} if name else {})}, "path"))
    return out


def wheelchair_tags(rng: np.random.Generator, city: City) -> dict[str, int]:
    """Tags that matter to wheelchair users (docs/methods.md#wheelchair-network), with their own
    generator so nothing else in the city changes (walking and cycling read none of them).

    * a quarter of the footways outside green areas become steps (a footbridge, a dike stair);
    * a third of the remaining footways get a raised kerb (kerb=raised) where they meet a street;
    * paths in green areas: 40 % gravel or fine gravel, the rest asphalt; tracks unpaved;
    * one path in five in green areas has an 8 % incline (steeper than the 5 % limit), one in
      five a 4 % incline (within it); a few footways are tagged smoothness=bad.

    Returns counts per kind (logged by :func:`healthgeo.demo.generate`).
    """
    n = {"steps": 0, "kerb_raised": 0, "unpaved": 0, "incline_steep": 0, "rough": 0}
    park_union = shapely.union_all([g.geom for g in city.greens if g.kind in ("park", "forest", "wood", "cemetery")])
    shapely.prepare(park_union)
    for i, r in enumerate(city.streets):
        hw = r.tags.get("highway")
        if hw not in ("footway", "path", "cycleway") or r.cls != "path":
            continue
        in_green = "name" in r.tags or park_union.contains(LineString(r.coords).interpolate(0.5, normalized=True))
        if not in_green:
            if hw != "footway" or r.tags.get("footway") == "sidewalk":
                continue
            u = rng.uniform()
            if u < 0.25:
                r.tags = {"highway": "steps", **({"incline": "up"} if rng.uniform() < 0.5 else {})}
                n["steps"] += 1
            elif u < 0.50:
                city.kerbs.append((i, 0 if rng.uniform() < 0.5 else -1))
                n["kerb_raised"] += 1
            elif u < 0.55:
                r.tags["smoothness"] = "bad"
                n["rough"] += 1
            continue
        if hw != "cycleway" and rng.uniform() < 0.4:
            r.tags["surface"] = "gravel" if rng.uniform() < 0.5 else "fine_gravel"
            n["unpaved"] += 1
        else:
            r.tags["surface"] = "asphalt" if hw != "footway" else "paving_stones"
        u = rng.uniform()
        if hw == "path" and u < 0.2:
            r.tags["incline"] = "8%"
            n["incline_steep"] += 1
        elif hw == "path" and u < 0.4:
            r.tags["incline"] = "4%"
    for r in city.fragments:
        if r.tags.get("highway") == "track":
            r.tags["surface"] = "unpaved"
    return n


def _name_buurten(rng, city: City) -> None:
    """Names, the zero-resident industrial buurt and the park buurt."""
    cents = np.array([[b["geometry"].centroid.x, b["geometry"].centroid.y] for b in city.buurten])
    tw = city.town
    ind = int(np.argmin(np.hypot(cents[:, 0] - (CX + (TRUNK_X - CX) * tw - 500 * tw), cents[:, 1] - (CY - 1800 * tw))))
    park = next(g for g in city.greens if g.tags.get("name") == "Stadspark")
    pc = park.geom.centroid
    park_b = int(np.argmin([b["geometry"].distance(pc) for b in city.buurten]))
    if park_b == ind:  # pragma: no cover - extremely unlikely
        park_b = (ind + 1) % len(city.buurten)
    words = list(_BUURT_WORDS)
    rng.shuffle(words)
    used: dict[str, int] = {}
    for k, b in enumerate(city.buurten):
        b["kind"] = "normal"
        if k == ind:
            b["kind"], name = "industrial", "Bedrijventerrein Oost"
        elif k == park_b:
            b["kind"], name = "park", "Stadspark e.o."
        else:
            name = words[k % len(words)]
            used[name] = used.get(name, 0) + 1
            if used[name] > 1:
                name = f"{name}-{'Noord Zuid Oost West Midden'.split()[used[name] % 5]}"
        if b["thin"]:
            name += " (strook)"
        b["name"] = name


_AMENITY_COUNTS = (
    # category, n, tags, name pattern, centre weight
    ("supermarket", 12, {"shop": "supermarket"}, ("Albert Heijn", "Jumbo", "Lidl", "Plus", "Aldi"), 0.6),
    ("greengrocer", 6, {"shop": "greengrocer"}, ("Groentenhal", "De Verse Hoek", "Fruithuis"), 1.0),
    ("fast_food", 16, {"amenity": "fast_food"}, ("Snackbar", "Friettent", "Pizzeria", "Shoarma"), 1.5),
    ("gp", 10, {"amenity": "doctors"}, ("Huisartsenpraktijk", "Gezondheidscentrum"), 0.5),
    ("pharmacy", 6, {"amenity": "pharmacy"}, ("Apotheek",), 0.7),
    ("primary_school", 12, {"amenity": "school", "isced:level": "1"}, ("Basisschool", "OBS", "CBS"), 0.0),
    ("school", 3, {"amenity": "school", "isced:level": "2;3"}, ("College", "Lyceum"), 0.3),
    ("transit_stop", 40, {"highway": "bus_stop", "public_transport": "platform", "bus": "yes"},
     ("Halte",), 0.2),
    ("sports", 4, {"leisure": "sports_centre"}, ("Sporthal", "Sportcentrum"), 0.0),
    ("sports", 8, {"leisure": "pitch", "sport": "soccer"}, ("Sportpark",), -0.5),
    ("playground", 10, {"leisure": "playground"}, ("Speeltuin",), 0.0),
)


def _amenities(rng, city: City) -> list[Amenity]:
    out: list[Amenity] = []
    res_streets = [r for r in city.streets if r.tags.get("highway") in ("residential", "living_street")]
    mids = np.array([r.coords.mean(axis=0) for r in res_streets])
    rc = np.hypot(mids[:, 0] - CX, mids[:, 1] - CY)
    industrial = next(b for b in city.buurten if b["kind"] == "industrial")["geometry"]
    not_ind = ~shapely.contains_xy(industrial, mids[:, 0], mids[:, 1])
    town = city.town
    for cat, n, tags, names, centre_w in _AMENITY_COUNTS:
        n = n if town == 1.0 else max(1, round(n * town * town))
        w = np.exp(-centre_w * rc / (2000.0 * town)) * not_ind
        w = w / w.sum()
        idx = rng.choice(len(mids), size=n, replace=False, p=w)
        for k, i in enumerate(idx):
            x, y = mids[i] + rng.uniform(-15, 15, 2)
            t = dict(tags)
            t["name"] = f"{names[k % len(names)]} {res_streets[i].tags.get('name', 'Demostad')}".strip()
            if cat == "gp" and k % 2:
                t["healthcare"] = "doctor"
            if cat == "primary_school" and k % 3 == 0:
                t["school"] = "primary"
            out.append(Amenity(float(x), float(y), t, cat))
    # bus stops along main roads, tram stops along the western radial
    for road in city.main_roads:
        if road.cls not in ("primary", "secondary"):
            continue
        for x, y in road.coords[2:-1:4]:
            if shapely.contains_xy(city.outline, x, y):
                out.append(Amenity(float(x + 9), float(y + 9), {"highway": "bus_stop", "public_transport": "platform",
                                                               "bus": "yes", "name": f"{road.tags['name']}"},
                                   "transit_stop"))
    tram = next(r for r in city.main_roads if r.tags.get("name") == "Stationsweg" and r.cls == "secondary")
    for k, (x, y) in enumerate(tram.coords[1::3]):
        out.append(Amenity(float(x - 7), float(y - 7), {"railway": "tram_stop", "public_transport": "platform",
                                                        "tram": "yes", "name": f"Tramhalte Stationsweg {k + 1}"},
                           "transit_stop"))
    return out


# --------------------------------------------------------------------------------------------
# placement
def place(city: City, origin: tuple[float, float], size_m: float) -> None:
    """Move and scale ``city`` from the canonical extent to ``origin`` (lower-left) and ``size_m``.

    Every coordinate is mapped by ``x' = origin_x + (x - CANON_ORIGIN_x) * s`` (likewise y) with
    ``s = size_m / CANON_SIZE``; buurt ``area_m2``/``water_m2`` scale by ``s**2``. Counts (buurten,
    dwellings, residents, network nodes) stay the same, so a larger extent is a sparser city.
    ``r_centre`` and ``d_ring`` stay in canonical metres (they drive attributes, not geometry).
    The canonical extent itself is a no-op, so default output stays byte-identical.
    """
    if (city.cx, city.cy, city.scale) != (CX, CY, 1.0):
        raise RuntimeError("city already placed; place() maps from the canonical frame only once")
    ox, oy = float(origin[0]), float(origin[1])
    s = float(size_m) / CANON_SIZE
    if (ox, oy, s) == (*CANON_ORIGIN, 1.0):
        return
    x0, y0 = CANON_ORIGIN

    def tr(xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=float)
        return np.column_stack([ox + (xy[:, 0] - x0) * s, oy + (xy[:, 1] - y0) * s])

    city.outline = shapely.transform(city.outline, tr)
    for w in city.wijken:
        w["geometry"] = shapely.transform(w["geometry"], tr)
    for b in city.buurten:
        b["geometry"] = shapely.transform(b["geometry"], tr)
        for key in ("area_m2", "water_m2"):
            if key in b:
                b[key] = b[key] * s * s
    for road in (*city.main_roads, *city.streets, *city.fragments):
        road.coords = tr(road.coords)
    for g in city.greens:
        g.geom = shapely.transform(g.geom, tr)
        if g.inner is not None:
            g.inner = shapely.transform(g.inner, tr)
    for a in city.amenities:
        a.x, a.y = float(ox + (a.x - x0) * s), float(oy + (a.y - y0) * s)
    if city.dwellings:
        xy = tr(np.column_stack([city.dwellings["x"], city.dwellings["y"]]))
        city.dwellings["x"], city.dwellings["y"] = xy[:, 0].copy(), xy[:, 1].copy()
    city.cx, city.cy = ox + (CX - x0) * s, oy + (CY - y0) * s
    city.scale = s


# --------------------------------------------------------------------------------------------
# people
def populate(rng: np.random.Generator, city: City) -> None:
    """Add true (unrounded) attributes to each buurt and place dwellings.

    Buurt keys added: ``residents`` (true count), ``residents_2022``, ``age_shares`` (5),
    ``men_share``, ``hh_size``, ``households``, ``poverty`` (0..1), ``income`` (k EUR per
    resident), ``low_income_hh_pct``, ``health`` (dict of %), ``area_m2``, ``water_m2``,
    ``income_missing``; ``city.dwellings`` holds arrays ``x, y, buurt, use, area, year, residents``.
    Works in the canonical frame: call it before :func:`place`.
    """
    ring = shapely.union_all([LineString(r.coords) for r in city.main_roads if r.tags.get("ref") == "S10"])
    green = shapely.union_all([g.geom for g in city.greens if g.kind != "playground"])
    shapely.prepare(green)
    n_missing_income = 0
    for b in city.buurten:
        geom = b["geometry"]
        c = geom.centroid
        r = math.hypot(c.x - CX, c.y - CY) / city.town  # the town's own proportions
        d_ring = c.distance(ring) / city.town
        b["r_centre"], b["d_ring"] = r, d_ring
        b["area_m2"] = geom.area
        b["water_m2"] = geom.area * rng.uniform(0.0, 0.06)
        liveable = max(geom.area - geom.intersection(green).area - b["water_m2"], 0.0)
        dens = (2800 * math.exp(-r / 2200) + 400) * math.exp(rng.normal(0, 0.25)) * city.density  # per km2
        res = int(round(dens * liveable / 1e6))
        if b["kind"] == "industrial":
            res = 0
        elif b["kind"] == "park":
            res = int(rng.integers(3, 9))
        elif b.get("small") or b.get("thin"):
            res = max(res, 40)
        b["residents"] = res
        b["residents_2022"] = int(round(res * (1 - 0.012 + rng.normal(0, 0.005))))
        pov = math.exp(-((d_ring / 800.0) ** 2)) + rng.normal(0, 0.12)
        b["poverty"] = float(np.clip(pov, 0, 1))
        young = math.exp(-r / 1500)
        shares = np.array([0.14 + 0.05 * b["poverty"], 0.12 + 0.06 * young, 0.26 + 0.12 * young,
                           0.26 - 0.05 * young, 0.17 - 0.05 * young])
        shares = shares * np.exp(rng.normal(0, 0.08, 5))
        b["age_shares"] = shares / shares.sum()
        b["men_share"] = 0.49 + rng.normal(0, 0.01)
        b["hh_size"] = float(np.clip(1.55 + 0.9 * (r / 4500) + 0.3 * b["poverty"] + rng.normal(0, 0.1), 1.3, 2.9))
        b["households"] = int(round(res / b["hh_size"]))
        b["income"] = float(np.clip(36.0 - 13.0 * b["poverty"] + 4.0 * r / 4500 + rng.normal(0, 2.0)
                                    + city.income_shift, 17, 55))
        b["low_income_hh_pct"] = float(np.clip(5.0 + 18.0 * b["poverty"] + rng.normal(0, 2.5), 0.5, 45))
        missing = res < 50
        if not missing and n_missing_income < 3 and rng.uniform() < 0.06:
            missing = True
            n_missing_income += 1
        b["income_missing"] = missing
        p = b["poverty"]
        e = lambda s: rng.normal(0, s)  # noqa: E731
        a65 = b["age_shares"][4]
        b["health"] = {
            "ErvarenGezondheidGoedZeerGoed_4": 84 - 12 * p - 20 * (a65 - 0.15) + e(2.0),
            "VoldoetAanBeweegrichtlijn_5": 53 - 9 * p + e(2.5),
            "WekelijkseSporters_6": 55 - 14 * p + e(2.5),
            "Ondergewicht_7": 2.0 + e(0.3),
            "NormaalGewicht_8": 0.0,  # filled below: 100 - under - over
            "Overgewicht_9": 41 + 12 * p + 5 * r / 4500 + e(2.0),
            "ErnstigOvergewicht_10": 12 + 7 * p + e(1.2),
            "Roker_11": 15 + 9 * p + e(1.5),
            "VoldoetAanAlcoholRichtlijn_12": 44 - 4 * p + e(2.0),
            "Drinker_13": 80 - 10 * p + e(2.0),
            "ZwareDrinker_14": 8 - 2 * p + e(0.8),
            "OvermatigeDrinker_15": 7 - 1 * p + e(0.7),
            "EenOfMeerLangdurigeAandoeningen_16": 29 + 6 * p + 40 * (a65 - 0.15) + e(1.8),
            "BeperktVanwegeGezondheid_17": 27 + 8 * p + e(1.8),
            "ErnstigBeperktVanwegeGezondheid_18": 4.5 + 3 * p + e(0.5),
            "LangdurigeZiekteEnBeperkt_19": 26 + 7 * p + e(1.8),
            "EenOfMeerLichamelijkeBeperkingen_20": 12 + 8 * p + e(1.2),
            "BeperkingInHoren_21": 4 + 1.5 * p + e(0.4),
            "BeperkingInZien_22": 4 + 2.5 * p + e(0.4),
            "BeperkingInBewegen_23": 8 + 6 * p + e(0.8),
            "MatigHoogRisicoOpAngstOfDepressie_24": 44 + 10 * p + e(2.0),
            "HoogRisicoOpAngstOfDepressie_25": 6 + 6 * p + e(0.8),
            "HeelVeelStressInAfgelopen4Weken_26": 17 + 7 * p + e(1.5),
            "MatigVeelRegieOverEigenLeven_27": 91 - 5 * p + e(1.0),
            "Eenzaam_28": 45 + 10 * p + e(2.0),
            "ErnstigZeerErnstigEenzaam_29": 10 + 7 * p + e(1.0),
            "EmotioneelEenzaam_30": 30 + 6 * p + e(1.5),
            "SociaalEenzaam_31": 30 + 6 * p + e(1.5),
            "Mantelzorger_32": 13 - 2 * p + e(1.0),
            "Vrijwilligerswerk_33": 28 - 10 * p + e(2.0),
            "ErnstigeGeluidhinderDoorBuren_37": 7 + 5 * p + e(0.8),
            "MoeiteMetRondkomen_38": 9 + 20 * p + e(2.0),
        }
        h = b["health"]
        h["NormaalGewicht_8"] = 100 - h["Ondergewicht_7"] - h["Overgewicht_9"]
        for k in h:
            h[k] = float(np.clip(h[k], 0.5, 99.5))
    _dwellings(rng, city, green)


def _dwellings(rng, city: City, green) -> None:
    xs, ys, bidx, use, area, year, residents = [], [], [], [], [], [], []
    for k, b in enumerate(city.buurten):
        geom = b["geometry"]
        n_res = int(round(b["households"] * 1.03)) if b["residents"] else 0
        if b["residents"] and n_res == 0:
            n_res = 1
        n_other = int(rng.integers(2, 12)) + (int(60 * math.exp(-b["r_centre"] / 1200)))
        if b["kind"] == "industrial":
            n_other += 60
        n = n_res + n_other
        minx, miny, maxx, maxy = geom.bounds
        got_x: list[np.ndarray] = []
        have = 0
        for _ in range(200):
            m = max(4 * (n - have), 64)
            px, py = rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)
            ok = shapely.contains_xy(geom, px, py) & ~shapely.contains_xy(green, px, py)
            got_x.append(np.column_stack([px[ok], py[ok]]))
            have += int(ok.sum())
            if have >= n:
                break
        pts = np.vstack(got_x)[:n]
        if len(pts) < n:  # tiny buurt fully green: fall back to any point in the buurt
            extra = _sample_in(rng, geom, n - len(pts))
            pts = np.vstack([pts, extra]) if len(extra) else pts
        n = len(pts)
        u = np.array(["woonfunctie"] * n_res + [""] * (n - n_res), dtype=object)
        other = rng.choice(["kantoorfunctie", "winkelfunctie", "bijeenkomstfunctie", "industriefunctie",
                            "gezondheidszorgfunctie", "onderwijsfunctie"], size=n - n_res,
                           p=[0.3, 0.3, 0.1, 0.15, 0.08, 0.07])
        if b["kind"] == "industrial":
            other = rng.choice(["industriefunctie", "kantoorfunctie", "overige gebruiksfunctie"], size=n - n_res,
                               p=[0.6, 0.3, 0.1])
        u[n_res:] = other
        mixed = (np.arange(n) < n_res) & (rng.uniform(size=n) < 0.08 * math.exp(-b["r_centre"] / 1500))
        u[mixed] = "woonfunctie,winkelfunctie"
        r = b["r_centre"]
        if r < 1100:
            yr = rng.integers(1600, 1930, n)
        elif b["d_ring"] < 900:
            yr = rng.integers(1950, 1976, n)
        else:
            yr = rng.integers(1975, 2023, n)
        yr = np.where(rng.uniform(size=n) < 0.1, rng.integers(1990, 2023, n), yr)
        size = np.exp(rng.normal(math.log(85 + 30 * r / 4500 - 20 * b["poverty"]), 0.35, n)).round()
        size[n_res:] = np.exp(rng.normal(math.log(250), 0.8, n - n_res)).round()
        res = np.zeros(n, dtype=np.int64)
        if n_res and b["residents"]:
            w = size[:n_res] / size[:n_res].sum()
            res[:n_res] = rng.multinomial(b["residents"], w)
        xs.append(pts[:, 0]); ys.append(pts[:, 1]); bidx.append(np.full(n, k)); use.append(u)
        area.append(np.clip(size, 12, 20000).astype(np.int64)); year.append(yr); residents.append(res)
    city.dwellings = {
        "x": np.concatenate(xs), "y": np.concatenate(ys), "buurt": np.concatenate(bidx),
        "use": np.concatenate(use), "area": np.concatenate(area), "year": np.concatenate(year),
        "residents": np.concatenate(residents),
    }
