"""Tests of the exact coverage-fraction zonal engine (healthgeo.zonal)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from healthgeo._errors import CRSError, InputDataError
from healthgeo.zonal import (
    REASON_NODATA,
    REASON_OUTSIDE,
    GridSpec,
    coverage_weights,
    sample_points,
    zonal_mean,
)


# 3 x 3 grid of 10 m cells, x 0..30, y 0..30; values 1..9 row by row from the top
VALUES = np.arange(1, 10, dtype=float).reshape(3, 3)
TRANSFORM = from_origin(0, 30, 10, 10)
GRID = GridSpec(TRANSFORM, 3, 3, rasterio.crs.CRS.from_epsg(28992))
# square x 5..20, y 5..25: coverage 0.25/0.5/1.0 (see test_coverage_fractions_by_hand)
SQUARE = shapely.box(5, 5, 20, 25)


def write_tif(path, arr, transform=TRANSFORM, nodata=-999.0, crs="EPSG:28992"):
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                       dtype="float64", crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(arr, 1)
    return path


def wards_of(*geoms, codes=None):
    codes = codes or [f"BU{i:08d}" for i in range(len(geoms))]
    return gpd.GeoDataFrame(geometry=list(geoms), index=gpd.pd.Index(codes, name="buurtcode"), crs=28992)


@pytest.fixture
def tif(tmp_path):
    return write_tif(tmp_path / "v.tif", VALUES)


def test_coverage_fractions_by_hand():
    w = coverage_weights(wards_of(SQUARE), GRID).to_sparse().toarray().reshape(3, 3)
    np.testing.assert_allclose(w, [[0.25, 0.5, 0], [0.5, 1.0, 0], [0.25, 0.5, 0]], atol=1e-12)


@pytest.mark.parametrize("kind", ["path", "dataset", "array"])
def test_mean_by_hand(tif, kind):
    # (0.25*1 + 0.5*2 + 0.5*4 + 1*5 + 0.25*7 + 0.5*8) / 3 = 14/3
    cw = coverage_weights(wards_of(SQUARE), GRID)
    if kind == "path":
        st = cw.stats(tif)
    elif kind == "dataset":
        with rasterio.open(tif) as ds:
            st = cw.stats(ds)
    else:
        st = cw.stats(VALUES.copy())
    assert st["mean"].iloc[0] == pytest.approx(14 / 3, rel=1e-12)
    assert st["covered_frac"].iloc[0] == pytest.approx(1.0)
    assert st["reason"].iloc[0] is None


def test_edge_inside_cell_outside_and_nodata(tif, tmp_path):
    wards = wards_of(
        shapely.box(-10, 0, 10, 30),     # half outside: column 0 only -> (1+4+7)/3
        shapely.box(12, 12, 14, 15),     # inside the centre cell
        shapely.box(100, 100, 110, 110),  # outside
        codes=["edge", "inside", "outside"],
    )
    st = coverage_weights(wards, GRID).stats(tif)
    assert st.loc["edge", "mean"] == pytest.approx(4.0)
    assert st.loc["edge", "covered_frac"] == pytest.approx(0.5)
    assert st.loc["inside", "mean"] == pytest.approx(5.0)
    assert st.loc["inside", "covered_frac"] == pytest.approx(1.0)
    assert math.isnan(st.loc["outside", "mean"])
    assert st.loc["outside", "reason"] == REASON_OUTSIDE

    # the centre cell is nodata: excluded from numerator and denominator
    arr = VALUES.copy()
    arr[1, 1] = -999.0
    nd = write_tif(tmp_path / "nd.tif", arr)
    st = coverage_weights(wards_of(SQUARE, shapely.box(12, 12, 14, 15)), GRID).stats(nd)
    assert st["mean"].iloc[0] == pytest.approx((14 - 5) / 2)
    assert st["covered_frac"].iloc[0] == pytest.approx(2 / 3)
    assert math.isnan(st["mean"].iloc[1]) and st["reason"].iloc[1] == REASON_NODATA
    # min_covered_frac turns a poorly covered ward into NaN with a reason
    st = coverage_weights(wards_of(SQUARE), GRID).stats(nd, min_covered_frac=0.9)
    assert math.isnan(st["mean"].iloc[0]) and "min_covered_frac" in st["reason"].iloc[0]


def test_holes_and_multipolygons(tif):
    ring = shapely.box(0, 0, 30, 30).difference(shapely.box(10, 10, 20, 20))  # all but the centre
    multi = shapely.MultiPolygon([shapely.box(0, 20, 10, 30), shapely.box(20, 0, 25, 10)])
    st = coverage_weights(wards_of(ring, multi), GRID).stats(tif)
    assert st["mean"].iloc[0] == pytest.approx((45 - 5) / 8)
    assert st["mean"].iloc[1] == pytest.approx((1 * 1 + 0.5 * 9) / 1.5)


def test_energy_mean_of_60_and_70_db(tmp_path):
    arr = np.array([[60.0, 70.0]])
    path = write_tif(tmp_path / "db.tif", arr, transform=from_origin(0, 10, 10, 10))
    wards = wards_of(shapely.box(0, 0, 20, 10))
    cw = coverage_weights(wards, GridSpec.from_raster(path))
    lden = cw.mean_db(path).iloc[0]
    assert lden == pytest.approx(10 * math.log10((10**6 + 10**7) / 2), abs=1e-9)
    assert lden == pytest.approx(67.4, abs=0.01) and lden != pytest.approx(65.0, abs=0.1)
    assert cw.mean(path).iloc[0] == pytest.approx(65.0)


def test_weights_reuse_and_block_streaming_identical(tmp_path):
    rng = np.random.default_rng(1)
    t = from_origin(0, 400, 10, 10)
    paths = [write_tif(tmp_path / f"r{i}.tif", rng.random((40, 40)) * 50, transform=t) for i in range(3)]
    wards = wards_of(*[shapely.Point(rng.uniform(0, 400, 2)).buffer(rng.uniform(5, 80)) for _ in range(30)])
    shared = coverage_weights(wards, GridSpec.from_raster(paths[0]))
    for p in paths:
        fresh = coverage_weights(wards, GridSpec.from_raster(p)).stats(p)
        reused = shared.stats(p)
        np.testing.assert_array_equal(reused["mean"].to_numpy(), fresh["mean"].to_numpy())
        np.testing.assert_allclose(shared.stats(p, block_rows=1)["mean"], fresh["mean"], rtol=1e-12)
    # weights sum to the ward area (in cells) for wards inside the grid
    total = shared.to_sparse().sum(axis=1)
    inside = [shapely.box(0, 0, 400, 400).contains(g) for g in wards.geometry]
    np.testing.assert_allclose(total[inside], (wards.area / 100).to_numpy()[inside], rtol=1e-12)


def _random_polygons(rng, n, xmin, ymin, xmax, ymax):
    geoms = []
    for i in range(n):
        cx, cy = rng.uniform(xmin - 50, xmax + 50), rng.uniform(ymin - 50, ymax + 50)
        r = rng.uniform(3, 120)
        k = int(rng.integers(3, 30))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = r * rng.uniform(0.3, 1, k)
        p = shapely.Polygon(np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)]).buffer(0)
        if i % 4 == 0:  # hole
            p = p.difference(shapely.Point(cx, cy).buffer(r * 0.2))
        if i % 5 == 0:  # second part
            p = shapely.union(p, shapely.box(cx + r * 1.5, cy, cx + r * 2, cy + r * 0.7))
        geoms.append(p)
    return geoms


def test_agrees_with_exactextract_and_brute_force(tmp_path):
    """>= 200 random polygons (with holes and multipolygons) on a random raster with nodata.

    exactextract stores coverage fractions as float32 (isciences/exactextract#101: "single-precision
    floats for the coverage fractions"), so agreement with it is at float32 level (~1e-7
    relative); agreement with an exact float64 reference (shapely cell clipping) is checked to 1e-9.
    """
    from exactextract import exact_extract

    rng = np.random.default_rng(42)
    arr = rng.random((50, 60)) * 100 + 1
    arr[rng.random(arr.shape) < 0.1] = -999.0
    t = from_origin(1000, 2000, 10, 10)
    path = write_tif(tmp_path / "rand.tif", arr, transform=t)
    geoms = _random_polygons(rng, 240, 1000, 1500, 1600, 2000)
    wards = wards_of(*geoms)
    assert (wards.geom_type == "MultiPolygon").sum() >= 30
    assert sum(len(list(getattr(g, "geoms", [g])[0].interiors)) > 0 for g in geoms) >= 30
    ours = coverage_weights(wards, GridSpec.from_raster(path)).stats(path)["mean"].to_numpy()
    ee = exact_extract(path, wards, ["mean"], output="pandas")["mean"].to_numpy()
    both = ~np.isnan(ee)
    assert both.sum() >= 200
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ee))
    np.testing.assert_allclose(ours[both], ee[both], rtol=1e-6)

    # exact float64 reference: clip every cell with shapely
    worst = 0.0
    for i in range(0, len(geoms), 6):
        g = geoms[i]
        x0, y0, x1, y1 = g.bounds
        num = den = 0.0
        for r in range(max(0, int((2000 - y1) // 10)), min(50, int((2000 - y0) // 10) + 1)):
            for c in range(max(0, int((x0 - 1000) // 10)), min(60, int((x1 - 1000) // 10) + 1)):
                cell = shapely.box(1000 + 10 * c, 2000 - 10 * (r + 1), 1000 + 10 * (c + 1), 2000 - 10 * r)
                a = cell.intersection(g).area / 100
                if a > 0 and arr[r, c] != -999.0:
                    num, den = num + a * arr[r, c], den + a
        if den > 0:
            worst = max(worst, abs(ours[i] - num / den) / abs(num / den))
    assert worst < 1e-9


def test_sample_points(tmp_path):
    arr = VALUES.copy()
    arr[0, 0] = -999.0
    path = write_tif(tmp_path / "s.tif", arr)
    pts = gpd.GeoSeries([shapely.Point(15, 15), shapely.Point(29, 1), shapely.Point(5, 25),
                         shapely.Point(-5, 5), shapely.Point(10, 20)], crs=28992)
    got = sample_points(path, pts)
    np.testing.assert_array_equal(got[:2], [5.0, 9.0])
    assert np.isnan(got[2]) and np.isnan(got[3])  # nodata, outside
    assert got[4] == 5.0  # on a cell corner: the cell right/below
    np.testing.assert_array_equal(sample_points(path, np.array([[15.0, 15.0]]), block_rows=1), [5.0])


def test_errors(tif):
    with pytest.raises(CRSError, match="EPSG"):
        coverage_weights(wards_of(SQUARE).set_crs(4326, allow_override=True), GRID)
    bow = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    with pytest.raises(InputDataError, match="invalid geometry"):
        coverage_weights(wards_of(bow), GRID)
    with pytest.raises(InputDataError, match="different grid"):
        coverage_weights(wards_of(SQUARE), GridSpec(from_origin(0, 40, 10, 10), 3, 3, GRID.crs)).stats(tif)


def test_zonal_mean_one_off(tif):
    assert zonal_mean(wards_of(SQUARE), tif)["mean"].iloc[0] == pytest.approx(14 / 3)


@pytest.mark.shared
def test_real_rivm_no2_grid_on_utrecht_wijken(shared_dir):
    """RIVM GCN NO2 2021 (1 km ASCII grid, no CRS) over the 10 Utrecht wijken (PROVENANCE.md:
    means over touching cells 17.1-22.7 µg/m³)."""
    from exactextract import exact_extract

    asc = shared_dir / "air_rivm_gcn_no2" / "conc_no2_2021.asc"
    wijken = gpd.read_file(shared_dir / "boundaries_cbs_pdok_2022" / "utrecht_wijken_2022.geojson")
    wijken = wijken.set_index("wijkcode")[["geometry"]]
    with pytest.raises(CRSError, match="assume_crs"):
        coverage_weights(wijken, asc)
    grid = GridSpec.from_raster(asc, assume_crs="EPSG:28992")
    st = coverage_weights(wijken, grid).stats(asc, assume_crs="EPSG:28992")
    assert st["reason"].isna().all() and (st["covered_frac"] > 0.999).all()
    assert st["mean"].between(16.5, 23.5).all(), st["mean"]
    ee = exact_extract(str(asc), wijken.reset_index(), ["mean"], include_cols=["wijkcode"], output="pandas")
    ee = ee.set_index("wijkcode")["mean"]
    # float32 coverage in exactextract; on these large polygons the errors average out (5e-10 seen)
    np.testing.assert_allclose(st["mean"].to_numpy(), ee.loc[st.index].to_numpy(), rtol=1e-9)


def test_edge_pieces_through_cell_corners(monkeypatch):
    """Edges through lattice corners: every piece stays in one cell and runs forwards, including
    the edges whose crossings collide by rounding (ordered by the lexsort fallback)."""
    import healthgeo.zonal as z

    rng = np.random.default_rng(5)
    n = 40_000
    u0 = rng.integers(0, 50, n) + rng.choice([0, 0.5, 1 / 3, 0.1], n)
    v0 = rng.integers(0, 50, n) + rng.choice([0, 0.5, 1 / 3, 0.1], n)
    d = rng.integers(-7, 8, (n, 2)) * rng.choice([1, 1 / 3, 0.1, 0.7], (n, 1))
    u1, v1 = u0 + d[:, 0], v0 + d[:, 1]
    keep = v0 != v1
    u0, v0, u1, v1 = u0[keep], v0[keep], u1[keep], v1[keep]
    calls = []
    real = np.lexsort
    monkeypatch.setattr(np, "lexsort", lambda keys: calls.append(len(keys[0])) or real(keys))
    ua, va, ub, vb, pid = z._edge_pieces(u0, v0, u1, v1, np.arange(len(u0)))
    assert calls, "expected some rounding collisions at corners"
    cu, cv = np.floor((ua + ub) / 2), np.floor((va + vb) / 2)
    tol = 1e-9
    assert np.all((np.minimum(ua, ub) >= cu - tol) & (np.maximum(ua, ub) <= cu + 1 + tol))
    assert np.all((np.minimum(va, vb) >= cv - tol) & (np.maximum(va, vb) <= cv + 1 + tol))
    assert np.all((ub - ua) * np.sign(u1 - u0)[pid] >= -1e-12)
    assert np.all((vb - va) * np.sign(v1 - v0)[pid] >= -1e-12)
    # pieces of each edge add up to the edge
    np.testing.assert_allclose(np.bincount(pid, weights=vb - va), v1 - v0, atol=1e-9)


def test_lattice_polygons_vs_shapely():
    rng = np.random.default_rng(3)
    grid = GridSpec(from_origin(0, 100, 1, 1), 100, 100, None)
    geoms = []
    while len(geoms) < 60:
        p = shapely.Polygon(rng.integers(0, 100, (int(rng.integers(3, 8)), 2)).astype(float)).buffer(0)
        if p.area > 0:
            geoms.append(p)
    m = coverage_weights(geoms, grid).to_sparse().toarray()
    for i, g in enumerate(geoms[:25]):
        x0, y0, x1, y1 = (int(b) for b in g.bounds)
        for r in range(100 - y1, 100 - y0):
            for c in range(x0, x1):
                ref = shapely.box(c, 99 - r, c + 1, 100 - r).intersection(g).area
                assert abs(m[i, r * 100 + c] - ref) < 1e-12
        assert m[i].sum() == pytest.approx(g.area, rel=1e-12)
