"""Benchmark: healthgeo.zonal (weights once per grid) vs exactextract vs rasterstats.

Not run in CI. Generates synthetic wards (Voronoi cells with densified boundaries, like CBS buurt
polygons) and three 10 m float32 rasters on one grid (tiled, DEFLATE GeoTIFFs written block by
block to a temporary folder), then times each engine in its own subprocess so its peak memory
(ru_maxrss) is measured separately.

    python benchmarks/exposure.py --case utrecht      # 20 x 20 km at 10 m, ~600 wards
    python benchmarks/exposure.py --case province     # 60 x 60 km at 10 m, ~5 000 wards
    python benchmarks/exposure.py --case national     # 280 x 320 km at 10 m, ~14 000 wards (ours only; slow)
    python benchmarks/exposure.py --case all          # utrecht + province

Targets: three rasters at least 2x faster than exactextract; each further raster on a seen grid
<= 0.25x exactextract's time for one raster; national case < 3 GB peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CASES = {
    # name: (width_km, height_km, cell_m, n_wards, engines, rasters)
    "utrecht": (20, 20, 10, 600, ("ours", "exactextract", "exactextract_multi", "rasterstats"),
                ("no2", "pm25", "pm10")),
    "province": (60, 60, 10, 5000, ("ours", "exactextract", "exactextract_multi"), ("no2", "pm25", "pm10")),
    # national: one raster, our engine only (memory check; exactextract would take tens of minutes)
    "national": (280, 320, 10, 14000, ("ours",), ("lden",)),
}
X0, Y0 = 0.0, 300000.0  # lower-left, RD New


# ------------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------------


def make_wards(path: Path, w_km: float, h_km: float, n: int, seed: int = 0) -> None:
    import geopandas as gpd
    import pandas as pd
    import shapely

    rng = np.random.default_rng(seed)
    w, h = w_km * 1000, h_km * 1000
    pts = shapely.points(np.c_[X0 + rng.uniform(0, w, n), Y0 + rng.uniform(0, h, n)])
    extent = shapely.box(X0 + 1, Y0 + 1, X0 + w - 1, Y0 + h - 1)  # keep wards inside the raster
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=extent))
    cells = shapely.intersection(cells, extent)
    cells = cells[shapely.area(cells) > 0]
    # densify like real buurt boundaries (vertices every ~15 m)
    cells = shapely.segmentize(cells, 15.0)
    codes = [f"BU{i:08d}" for i in range(len(cells))]
    gdf = gpd.GeoDataFrame(geometry=cells, index=pd.Index(codes, name="buurtcode"), crs=28992)
    gdf.reset_index().to_file(path, engine="pyogrio")


def make_raster(path: Path, w_km: float, h_km: float, cell: float, seed: int, block: int = 1024) -> None:
    import rasterio
    from rasterio.transform import from_origin

    width, height = int(w_km * 1000 / cell), int(h_km * 1000 / cell)
    rng = np.random.default_rng(seed)
    kx, ky, ph = rng.uniform(0.5, 3, 4), rng.uniform(0.5, 3, 4), rng.uniform(0, 6.3, 4)
    prof = dict(driver="GTiff", width=width, height=height, count=1, dtype="float32", crs="EPSG:28992",
                transform=from_origin(X0, Y0 + h_km * 1000, cell, cell), nodata=-9999.0, tiled=True,
                blockxsize=256, blockysize=256, compress="deflate", predictor=3, BIGTIFF="IF_SAFER")
    x = np.arange(width) / width
    with rasterio.open(path, "w", **prof) as ds:
        for r0 in range(0, height, block):
            r1 = min(r0 + block, height)
            y = (np.arange(r0, r1) / height)[:, None]
            v = 20 + sum(5 * np.sin(2 * np.pi * (kx[i] * x[None, :] + ky[i] * y) + ph[i]) for i in range(4))
            v = v + rng.normal(0, 1.0, v.shape)
            v[(v > 38)] = -9999.0  # some nodata patches
            ds.write(v.astype(np.float32), 1, window=rasterio.windows.Window(0, r0, width, r1 - r0))


# ------------------------------------------------------------------------------------------------
# engines (run in a subprocess each)
# ------------------------------------------------------------------------------------------------


def worker(engine: str, data: Path, out: Path) -> None:
    import geopandas as gpd

    wards = gpd.read_file(data / "wards.gpkg", engine="pyogrio").set_index("buurtcode")
    RASTERS = json.loads((data / "rasters.json").read_text())
    paths = [str(data / f"{p}.tif") for p in RASTERS]
    times: dict[str, float] = {}
    res = {}
    # imports are not what is timed
    import exactextract  # noqa: F401
    import pyproj  # noqa: F401
    import rasterio  # noqa: F401
    import rasterstats  # noqa: F401

    import healthgeo.zonal  # noqa: F401

    t0 = time.perf_counter()
    if engine == "ours":
        from healthgeo.zonal import GridSpec, coverage_weights

        cw = coverage_weights(wards, GridSpec.from_raster(paths[0]))
        times["weights"] = time.perf_counter() - t0
        for p, path in zip(RASTERS, paths):
            t = time.perf_counter()
            res[p] = cw.stats(path)["mean"].to_numpy()
            times[f"mean_{p}"] = time.perf_counter() - t
        times["runs"] = float(len(cw.w))
    elif engine == "exactextract":
        from exactextract import exact_extract

        for p, path in zip(RASTERS, paths):
            t = time.perf_counter()
            res[p] = exact_extract(path, wards, ["mean"], output="pandas")["mean"].to_numpy()
            times[f"mean_{p}"] = time.perf_counter() - t
    elif engine == "exactextract_multi":
        from exactextract import exact_extract

        df = exact_extract(paths, wards, ["mean"], output="pandas")
        for p, col in zip(RASTERS, [c for c in df.columns if c.endswith("mean")]):
            res[p] = df[col].to_numpy()
    elif engine == "rasterstats":
        from rasterstats import zonal_stats

        p, path = RASTERS[0], paths[0]
        zs = zonal_stats(wards.geometry, path, stats=["mean"], nodata=-9999.0)
        res[p] = np.array([z["mean"] if z["mean"] is not None else np.nan for z in zs], dtype=float)
    times["total"] = time.perf_counter() - t0
    np.savez(out / f"{engine}.npz", **res)
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(json.dumps({"engine": engine, "times": times, "peak_rss_gb": rss_gb}))


def run_engine(engine: str, data: Path) -> dict:
    cmd = [sys.executable, __file__, "--worker", engine, "--data", str(data)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{engine} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_case(name: str, keep: bool, tmpdir: str | None = None) -> None:
    w_km, h_km, cell, n, engines, RASTERS = CASES[name]
    if tmpdir:
        Path(tmpdir).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"healthgeo_bench_{name}_", dir=tmpdir))
    try:
        t = time.perf_counter()
        (tmp / "rasters.json").write_text(json.dumps(list(RASTERS)))
        make_wards(tmp / "wards.gpkg", w_km, h_km, n)
        for i, p in enumerate(RASTERS):
            make_raster(tmp / f"{p}.tif", w_km, h_km, cell, seed=i + 1)
        ncols, nrows = int(w_km * 1000 / cell), int(h_km * 1000 / cell)
        print(f"\n=== case {name}: {w_km} x {h_km} km at {cell} m ({ncols} x {nrows} cells), "
              f"~{n} wards, {len(RASTERS)} rasters on one grid (data made in {time.perf_counter() - t:.1f} s)")
        results = {e: run_engine(e, tmp) for e in engines}
        means = {e: np.load(tmp / f"{e}.npz") for e in engines}
        ours = results["ours"]["times"]
        print(f"ours: weights {ours['weights']:.2f} s ({int(ours['runs'])} runs), per raster "
              + ", ".join(f"{p} {ours['mean_' + p]:.2f} s" for p in RASTERS)
              + f"; total {ours['total']:.2f} s; peak RSS {results['ours']['peak_rss_gb']:.2f} GB")
        if "exactextract" in results:
            ee = results["exactextract"]["times"]
            ee_one = np.mean([ee["mean_" + p] for p in RASTERS])
            print("exactextract (one call per raster): " + ", ".join(f"{p} {ee['mean_' + p]:.2f} s" for p in RASTERS)
                  + f"; total {ee['total']:.2f} s; peak RSS {results['exactextract']['peak_rss_gb']:.2f} GB")
            if "exactextract_multi" in results:
                em = results["exactextract_multi"]["times"]["total"]
                print(f"exactextract (three rasters in one call): total {em:.2f} s; "
                      f"peak RSS {results['exactextract_multi']['peak_rss_gb']:.2f} GB")
            further = np.mean([ours["mean_" + p] for p in RASTERS[1:]])
            print(f"ratio three rasters, ours / exactextract per-raster calls: {ours['total'] / ee['total']:.3f} "
                  f"(speed-up {ee['total'] / ours['total']:.2f}x; target >= 2x)")
            if "exactextract_multi" in results:
                em = results["exactextract_multi"]["times"]["total"]
                print(f"ratio three rasters, ours / exactextract one call: {ours['total'] / em:.3f} "
                      f"(speed-up {em / ours['total']:.2f}x)")
            print(f"ratio further raster on a seen grid, ours / exactextract one raster: "
                  f"{further / ee_one:.3f} (target <= 0.25)")
            for e in ("exactextract", "exactextract_multi"):
                if e not in means:
                    continue
                for p in RASTERS:
                    a, b = means["ours"][p], means[e][p]
                    ok = np.isfinite(a) & np.isfinite(b)
                    print(f"  diff vs {e} {p}: max abs {np.max(np.abs(a[ok] - b[ok])):.3e}, max rel "
                          f"{np.max(np.abs(a[ok] - b[ok]) / np.abs(b[ok])):.3e} over {ok.sum()} wards; "
                          f"NaN mismatch {int((np.isnan(a) != np.isnan(b)).sum())}")
        if "rasterstats" in results:
            rs = results["rasterstats"]["times"]["total"]
            a, b = means["ours"][RASTERS[0]], means["rasterstats"][RASTERS[0]]
            ok = np.isfinite(a) & np.isfinite(b)
            print(f"rasterstats (one raster, cell-centre rule, not coverage-weighted): {rs:.2f} s; "
                  f"peak RSS {results['rasterstats']['peak_rss_gb']:.2f} GB; ratio ours-one-raster "
                  f"(weights+mean) / rasterstats {(ours['weights'] + ours['mean_' + RASTERS[0]]) / rs:.3f}; "
                  f"diff vs ours max abs {np.max(np.abs(a[ok] - b[ok])):.3e}, max rel "
                  f"{np.max(np.abs(a[ok] - b[ok]) / np.abs(a[ok])):.3e}")
    finally:
        if keep:
            print(f"data kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", choices=[*CASES, "all"], default="utrecht")
    ap.add_argument("--keep", action="store_true", help="keep the generated data")
    ap.add_argument("--tmpdir", help="folder for the generated rasters (national: ~4 GB free space)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, Path(args.data), Path(args.data))
        return
    for name in (["utrecht", "province"] if args.case == "all" else [args.case]):
        run_case(name, args.keep, args.tmpdir)


if __name__ == "__main__":
    main()
