"""Country runs at growing size: wall time, memory per rule, scaling and per-job start-up.

Runs the real workflow (``config/demo_country.yaml``, the synthetic demo country of
``healthgeo.demo.generate_country``) for 1, 2, 4, 8 ... municipalities on this machine and prints

* per size: municipalities, buurten, residents, jobs, wall clock, CPU, wall per municipality and
  its ratio to the single-municipality country (time per municipality must not grow with N);
* per rule: the largest peak memory (max RSS of any of its jobs, from the rules' benchmark files)
  and the summed wall time;
* the share of the jobs' wall time that is per-job start-up (a Python process importing
  healthgeo, measured here) - if it dominates, small jobs should be grouped;
* the peer: the same municipalities as a loop of single-municipality runs over the same national
  files (what one would do without the fan-out), and the ratio fan-out / loop.

    .venv/bin/python benchmarks/national.py                      # sizes 1 2 4 8, with the loop peer
    .venv/bin/python benchmarks/national.py --sizes 1 10 --no-peer --cores 2

The full-size target of issue #14 (342 municipalities, 14 000 buurten, 17.9 M residents, 10 m
national rasters, a 3 M node network) is printed as an extrapolation from the measured time per
municipality: the demo country has at most 98 municipalities (codes GM9901-GM9998) and its 10 m
national rasters grow with the area covered, so a real national run needs the national files.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from rule_resources import rule_patterns  # noqa: E402

NL_MUNICIPALITIES = 342  # 1 January 2023
TARGET_WALL_MIN = 60.0


def snakemake_cmd(workdir: Path, config: Path, cores: int) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--workflow-profile", str(REPO / "workflow" / "profiles" / "default"), "--configfile", str(config),
            "--replace-workflow-config", "--cores", str(cores)]


def timed(cmd: list[str], log: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds of the command and its children, exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with log.open("w") as out:
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, rc


def country_config(n: int, run: str, folder: str) -> dict:
    cfg = yaml.safe_load((REPO / "config" / "demo_country.yaml").read_text())
    cfg["run"] = run
    cfg["area"]["municipalities"] = [f"GM{9900 + i}" for i in range(1, n + 1)]
    # the demo's GM9906 stays outside the OSM extract (its town's own street network is only ~88 %
    # connected, below network.min_component_share): a municipality without coverage, as in the demo
    no_osm = [c for c in cfg["demo"].get("no_osm", []) if int(c[2:]) - 9900 <= n]
    cfg["demo"] = {"seed": 42, "municipalities": n, "no_osm": no_osm}
    for spec in cfg["inputs"].values():
        if "file" in spec:
            spec["file"] = spec["file"].replace("data/raw/demo_country", folder)
    return cfg


def single_config(cfg: dict, gm: str) -> dict:
    one = {**cfg, "run": f"single_{gm}", "area": {k: v for k, v in cfg["area"].items() if k != "municipalities"}}
    one["area"]["municipality"] = gm
    return one


def jobs_by_rule(workdir: Path) -> dict[str, dict]:
    """Per rule: jobs, summed wall seconds, largest max_rss (MB), from every benchmark file."""
    patterns = rule_patterns()
    out: dict[str, dict] = {}
    for tsv in workdir.glob("logs/**/benchmarks/*.tsv"):
        matches = sorted((rx.pattern.count("[^/]+"), r) for r, (rx, _) in patterns.items() if rx.match(tsv.name))
        if not matches:
            continue
        rule = matches[0][1]
        with tsv.open() as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        if not rows:
            continue
        row = rows[-1]
        cur = out.setdefault(rule, {"jobs": 0, "wall_s": 0.0, "max_rss_mb": 0.0})
        cur["jobs"] += 1
        cur["wall_s"] += float(row["s"])
        rss = row.get("max_rss")
        if rss not in (None, "", "NA", "-"):
            cur["max_rss_mb"] = max(cur["max_rss_mb"], float(rss))
    return out


def startup_seconds(repeats: int = 5) -> float:
    """Median wall time of a Python process that imports what a rule script imports."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import healthgeo.stages, healthgeo.logs, snakemake.script"], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def sizes_of(workdir: Path, run: str) -> tuple[int, int]:
    import pyogrio

    gpkg = workdir / "data" / "processed" / run / "healthgeo.gpkg"
    b = pyogrio.read_dataframe(gpkg, layer="buurt", read_geometry=False, columns=["residents"])
    return len(b), int(b["residents"].fillna(0).sum())


def run_size(n: int, base: Path, cores: int, peer: bool) -> dict:
    work = base / f"n{n:03d}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    folder = "data/raw/demo_country"
    cfg = country_config(n, f"country{n}", folder)
    config = work / "country.yaml"
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    # the demo files first (not part of the timed run: a real run starts from downloaded files)
    gen = subprocess.run(snakemake_cmd(work, config, cores) + ["demo_country"], capture_output=True, text=True)
    if gen.returncode:
        raise SystemExit(gen.stdout[-3000:] + gen.stderr[-3000:])
    wall, cpu, rc = timed(snakemake_cmd(work, config, cores), work / "console.txt")
    if rc:
        raise SystemExit(f"country run of {n} failed; see {work / 'console.txt'}")
    rules = jobs_by_rule(work)
    rules.pop("demo_country", None)
    buurten, residents = sizes_of(work, cfg["run"])
    result = {"n": n, "wall_s": wall, "cpu_s": cpu, "rules": rules, "buurten": buurten, "residents": residents,
              "jobs": sum(r["jobs"] for r in rules.values()), "job_wall_s": sum(r["wall_s"] for r in rules.values())}
    if peer:  # the same municipalities as separate single-municipality runs
        loop_wall = loop_cpu = 0.0
        for gm in cfg["area"]["municipalities"]:
            one = work / f"single_{gm}.yaml"
            one.write_text(yaml.safe_dump(single_config(cfg, gm), sort_keys=False))
            w, c, rc = timed(snakemake_cmd(work, one, cores), work / f"console_{gm}.txt")
            if rc:
                raise SystemExit(f"single run of {gm} failed; see {work / f'console_{gm}.txt'}")
            loop_wall, loop_cpu = loop_wall + w, loop_cpu + c
        result.update(loop_wall_s=loop_wall, loop_cpu_s=loop_cpu)
    return result


def report(results: list[dict], startup: float, cores: int) -> None:
    one = results[0]
    per_one = one["wall_s"] / one["n"]
    print(f"\nCountry runs on {cores} cores (config/demo_country.yaml at each size; demo files made beforehand)")
    head = (f"{'N':>4} {'buurten':>8} {'residents':>10} {'jobs':>5} {'wall s':>8} {'CPU s':>8} {'wall/N s':>9} "
            f"{'ratio':>6} {'start-up':>9} {'loop s':>8} {'fan-out/loop':>12}")
    print(head)
    for r in results:
        per = r["wall_s"] / r["n"]
        share = r["jobs"] * startup / r["job_wall_s"] if r["job_wall_s"] else float("nan")
        loop = r.get("loop_wall_s")
        print(f"{r['n']:>4} {r['buurten']:>8} {r['residents']:>10} {r['jobs']:>5} {r['wall_s']:>8.1f} "
              f"{r['cpu_s']:>8.1f} {per:>9.1f} {per / per_one:>6.2f} {100 * share:>8.0f}% "
              + (f"{loop:>8.1f} {r['wall_s'] / loop:>12.2f}" if loop else f"{'-':>8} {'-':>12}"))
    print(f"  ratio: wall per municipality / the 1-municipality country's (must not grow with N); start-up: "
          f"jobs x {startup:.2f} s (a Python process importing healthgeo) / the jobs' summed wall time")
    big = results[-1]
    print(f"\nPeak memory and time per rule at N = {big['n']} (largest max RSS of any job; summed wall):")
    for rule, r in sorted(big["rules"].items(), key=lambda kv: -kv[1]["max_rss_mb"]):
        print(f"  {rule:<24} {r['jobs']:>4} jobs  {r['max_rss_mb']:>7.0f} MB  {r['wall_s']:>8.1f} s")
    worst = max(r["max_rss_mb"] for r in big["rules"].values())
    print(f"  largest job: {worst:.0f} MB (target < 4096 MB)")
    per_big = big["wall_s"] / big["n"]
    est = per_big * NL_MUNICIPALITIES / 60
    print(f"\nExtrapolation: {NL_MUNICIPALITIES} municipalities of this size x {per_big:.1f} s = {est:.0f} min on "
          f"{cores} cores (target < {TARGET_WALL_MIN:.0f} min for the whole country). Demo towns average "
          f"{big['residents'] / big['n']:.0f} residents; the real mean is ~52 000, so a real national run "
          "scales with residents, buurten and network size, not with the count of municipalities alone.")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "healthgeo-national")
    ap.add_argument("--no-peer", dest="peer", action="store_false", help="skip the loop of single runs")
    args = ap.parse_args(argv)
    sizes = sorted(set(args.sizes))
    if max(sizes) > 98:
        ap.error("the demo country has at most 98 municipalities (GM9901-GM9998)")
    startup = startup_seconds()
    results = []
    for n in sizes:
        print(f"N = {n} ...", flush=True)
        results.append(run_size(n, args.workdir, args.cores, args.peer))
    report(results, startup, args.cores)
    return 0


if __name__ == "__main__":
    sys.exit(main())
