"""Command line: ``python -m healthgeo outputs CONFIG`` prints where a run writes its outputs;
``python -m healthgeo demo OUTDIR [--seed N]`` writes the synthetic demo city."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m healthgeo")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_out = sub.add_parser("outputs", help="print the output paths of a config")
    p_out.add_argument("config", type=Path)
    p_demo = sub.add_parser("demo", help="write the synthetic demo city")
    p_demo.add_argument("outdir", type=Path)
    p_demo.add_argument("--seed", type=int, default=42)
    p_demo.add_argument("--origin", type=float, nargs=2, metavar=("X", "Y"), default=None,
                        help="lower-left corner of the demo extent in EPSG:28992 (default 150000 440000)")
    p_demo.add_argument("--size-m", type=float, default=10_000, help="side of the square extent in metres")
    args = parser.parse_args(argv)

    if args.cmd == "outputs":
        from .config import load_config

        cfg = load_config(args.config)
        out = Path("data/processed") / cfg["run"] / "healthgeo.gpkg"
        if not out.exists():
            print(f"healthgeo run '{cfg['run']}' ({cfg['area']['municipality']}): {out} NOT written; "
                  f"see logs/{cfg['run']}/")
            return 1
        import datetime as dt

        import pyogrio

        layers = [name for name, _ in pyogrio.list_layers(out)]
        stamp = dt.datetime.fromtimestamp(out.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        print(f"healthgeo run '{cfg['run']}' ({cfg['area']['municipality']}): {out} (last written {stamp})")
        print(f"  {len(layers)} layers: {', '.join(layers)}")
        print(f"  logs in logs/{cfg['run']}/; column meanings in the data_dictionary layer")
        return 0
    if args.cmd == "demo":
        from .demo import generate

        origin = tuple(args.origin) if args.origin else None
        for name, path in generate(args.outdir, seed=args.seed, origin=origin, size_m=args.size_m).items():
            print(f"{name}: {path}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
