"""Command line (``python -m healthgeo`` or the installed ``healthgeo`` command).

* ``outputs CONFIG`` prints where a run writes its outputs;
* ``demo OUTDIR [--seed N]`` writes the synthetic demo city;
* ``report RUN_OR_GPKG`` (re)builds the offline HTML report of a run;
* ``export RUN_OR_GPKG --format geojson|geoparquet|flatgeobuf [--columns ...] [--level buurt]``
  writes a ward layer in WGS84 with rounded values for web maps and dashboards.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="healthgeo",
        description="Exposure and health-disparity indicators per Dutch ward. The workflow itself runs with "
                    "`make run` (Snakemake); these commands inspect and export a finished run.",
        epilog="Examples: healthgeo outputs config/config.yaml | healthgeo export demo --format geojson "
               "--columns no2_ugm3_popw lden_db_popw | healthgeo report demo --language en")
    parser.add_argument("--version", action="version", version=f"healthgeo {__version__}")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_out = sub.add_parser("outputs", help="print the output paths of a config")
    p_out.add_argument("config", type=Path)
    p_out.add_argument("--exit-code", type=int, default=0,
                       help="exit code of the workflow run just finished (make run passes it)")
    p_demo = sub.add_parser("demo", help="write the synthetic demo city")
    p_demo.add_argument("outdir", type=Path)
    p_demo.add_argument("--seed", type=int, default=42)
    p_demo.add_argument("--origin", type=float, nargs=2, metavar=("X", "Y"), default=None,
                        help="lower-left corner of the demo extent in EPSG:28992 (default 150000 440000)")
    p_demo.add_argument("--size-m", type=float, default=10_000, help="side of the square extent in metres")
    p_exp = sub.add_parser(
        "export", help="write a ward layer in WGS84 (EPSG:4326) with rounded values",
        description="Write one ward layer of a run's GeoPackage as GeoJSON, GeoParquet or FlatGeobuf in WGS84 "
                    "(EPSG:4326), coordinates rounded to 1e-6 degree and values to 4 significant digits. "
                    "Column meanings: the data_dictionary and indicator_catalog tables of the GeoPackage.")
    p_exp.add_argument("run", help="run name (reads data/processed/RUN/healthgeo.gpkg) or a path to a .gpkg")
    p_exp.add_argument("--format", dest="fmt", choices=["geojson", "geoparquet", "flatgeobuf"], default="geojson")
    p_exp.add_argument("--level", choices=["buurt", "wijk", "gemeente"], default="buurt")
    p_exp.add_argument("--columns", nargs="+", metavar="COLUMN",
                       help="columns to keep besides the code and name (default: all)")
    p_exp.add_argument("-o", "--output", type=Path,
                       help="output file (default data/processed/RUN/export/LEVEL.EXT next to the GeoPackage)")
    p_rep = sub.add_parser("report", help="(re)build the offline HTML report of a run",
                           description="Write report/index.html next to the run's GeoPackage (no internet needed to open it).")
    p_rep.add_argument("run", help="run name (reads data/processed/RUN/healthgeo.gpkg) or a path to a .gpkg")
    p_rep.add_argument("--language", choices=["nl", "en"], default="nl")
    p_rep.add_argument("-o", "--output", type=Path, help="output HTML (default: report/index.html beside the GeoPackage)")
    args = parser.parse_args(argv)

    if args.cmd in ("export", "report"):
        from ._errors import HealthgeoError

        gpkg = Path(args.run) if args.run.endswith(".gpkg") else Path("data/processed") / args.run / "healthgeo.gpkg"
        try:
            if args.cmd == "export":
                from .export import FORMATS, export_layer

                out = args.output or gpkg.parent / "export" / f"{args.level}{FORMATS[args.fmt][1]}"
                print(export_layer(gpkg, out, fmt=args.fmt, level=args.level, columns=args.columns))
            else:
                from .report import build_report

                print(build_report(gpkg, args.output or gpkg.parent / "report" / "index.html", language=args.language))
        except HealthgeoError as e:
            print(f"healthgeo {args.cmd}: {e}", file=sys.stderr)
            return 1
        return 0

    if args.cmd == "outputs":
        return _outputs(args.config, args.exit_code)
    if args.cmd == "demo":
        from .demo import generate

        origin = tuple(args.origin) if args.origin else None
        for name, path in generate(args.outdir, seed=args.seed, origin=origin, size_m=args.size_m).items():
            print(f"{name}: {path}")
        return 0
    return 2


def _warning_logs(logs: Path) -> dict[Path, int]:
    """Rule logs holding WARNING records, with their counts."""
    counts = {}
    for path in sorted(logs.rglob("*.log")) if logs.is_dir() else []:
        n = sum(" WARNING " in line for line in path.read_text(encoding="utf-8", errors="replace").splitlines())
        if n:
            counts[path] = n
    return counts


def _outputs(config: Path, exit_code: int = 0) -> int:
    """Where the run's GeoPackage and logs are; after a failed run, that the last good one is kept."""
    import datetime as dt

    from .config import is_country, load_config, run_paths

    cfg = load_config(config)
    run, logs = cfg["run"], Path("logs") / cfg["run"]
    out = Path("data/processed") / run / "healthgeo.gpkg"
    paths = run_paths(cfg)
    head = (f"healthgeo run '{run}' ({len(paths)} municipalit{'y' if len(paths) == 1 else 'ies'})" if is_country(cfg)
            else f"healthgeo run '{run}' ({cfg['area']['municipality']})")
    if is_country(cfg):  # each municipality's GeoPackage: which are there, which failed
        missing = [gm for p, gm in paths.items() if not (Path("data/processed") / p / "healthgeo.gpkg").exists()]
        print(f"{head}: {len(paths) - len(missing)} of {len(paths)} municipality GeoPackages in "
              f"data/processed/{run}/gemeente/<code>/healthgeo.gpkg"
              + (f"; none yet for {', '.join(missing[:20])}{' ...' if len(missing) > 20 else ''} (their logs: "
                 f"{logs}/gemeente/<code>/)" if missing else ""))
    stamp = (dt.datetime.fromtimestamp(out.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
             if out.exists() else None)
    if exit_code:
        print(f"{head} FAILED (exit {exit_code}): the error is above; details in {logs}/")
        print(f"  the last good GeoPackage is kept: {out} (written {stamp})" if stamp
              else f"  no GeoPackage has been written yet ({out})")
        return exit_code
    if stamp is None:
        print(f"{head}: {out} NOT written; see {logs}/")
        return 1
    import pyogrio

    layers = [name for name, _ in pyogrio.list_layers(out)]
    print(f"{head}: {out} (last written {stamp})")
    print(f"  {len(layers)} layers: {', '.join(layers)}")
    warned = _warning_logs(logs)
    if warned:
        print(f"  {sum(warned.values())} warning(s) in {len(warned)} log(s), e.g. "
              + ", ".join(str(p) for p in list(warned)[:3]) + ("" if len(warned) <= 3 else ", ..."))
    print(f"  logs (details, warnings) in {logs}/, one per job; column meanings in the data_dictionary layer")
    report = out.parent / "report" / "index.html"
    if report.exists():
        print(f"  report (opens offline in a browser): {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
