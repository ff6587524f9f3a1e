"""Threads, memory and runtime per rule for a cluster profile, measured from a run's benchmark files.

Every rule writes ``logs/{run}/benchmarks/<name>.tsv`` (Snakemake's ``benchmark:``: wall seconds,
peak resident memory ``max_rss`` in MB, CPU time). This script matches those files to the rules
(from the ``benchmark:`` patterns in ``workflow/rules/*.smk``), takes per rule the largest
memory and wall time seen, and turns them into requests with headroom:

* ``mem_mb`` = 1.5 x peak RSS, rounded up to 256 MB, at least 512 MB;
* ``runtime`` (minutes) = 3 x the longest wall time, at least 5 minutes;
* ``threads``: the rule's own ``threads:`` (1 where it declares none).

    python benchmarks/rule_resources.py logs/demo/benchmarks                 # print the table
    python benchmarks/rule_resources.py logs/*/benchmarks --write            # update the slurm profile

``--write`` replaces the ``set-resources``/``set-threads`` block of
``workflow/profiles/slurm/config.yaml``. Measure on a run of the scale you will submit (a demo
run gives demo-sized requests; a national run needs its own benchmark files).
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "workflow" / "profiles" / "slurm" / "config.yaml"
BEGIN = "# --- measured resources: written by benchmarks/rule_resources.py --write ---"
END = "# --- end of measured resources ---"


def rule_patterns(rules_dir: Path = REPO / "workflow" / "rules") -> dict[str, tuple[re.Pattern, int]]:
    """Rule name -> (regex of its benchmark file name, declared threads) from the .smk files."""
    out = {}
    for smk in sorted(rules_dir.glob("*.smk")):
        text = smk.read_text()
        # rules of a country run sit indented under `if COUNTRY:`
        for m in re.finditer(r"^\s*rule (\w+):\n(.*?)(?=^\s*rule |\Z)", text, re.S | re.M):
            name, body = m.group(1), m.group(2)
            bench = re.search(r"benchmark:\s*\n\s*f?\"([^\"]+)\"", body)
            if not bench:
                continue
            stem = Path(bench.group(1)).name
            regex = re.escape(stem)
            regex = re.sub(r"\\\{\w+\\\}", r"[^/]+", regex)
            threads = re.search(r"threads:\s*(\d+)", body)
            out[name] = (re.compile(f"^{regex}$"), int(threads.group(1)) if threads else 1)
    return out


def measure(bench_dirs) -> dict[str, dict]:
    """Per rule: the largest max_rss (MB) and wall time (s) over its benchmark files."""
    patterns = rule_patterns()
    seen: dict[str, dict] = {}
    for tsv in sorted(p for d in bench_dirs for p in Path(d).glob("*.tsv")):
        # the most specific pattern wins (disparity_gemeente.tsv is rule disparity_gemeente, not disparity)
        matches = sorted((rx.pattern.count("[^/]+"), r) for r, (rx, _) in patterns.items() if rx.match(tsv.name))
        rule = matches[0][1] if matches else None
        if rule is None:
            print(f"{tsv.name}: no rule writes this benchmark file; skipped", file=sys.stderr)
            continue
        with tsv.open() as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        for row in rows:
            rss = float(row["max_rss"]) if row.get("max_rss") not in (None, "", "NA", "-") else 0.0
            s = float(row["s"])
            cur = seen.setdefault(rule, {"max_rss_mb": 0.0, "wall_s": 0.0, "files": 0, "threads": patterns[rule][1]})
            cur["max_rss_mb"] = max(cur["max_rss_mb"], rss)
            cur["wall_s"] = max(cur["wall_s"], s)
        seen[rule]["files"] += 1
    return seen


def requests(measured: dict[str, dict]) -> dict[str, dict]:
    return {rule: {"mem_mb": max(512, math.ceil(1.5 * m["max_rss_mb"] / 256) * 256),
                   "runtime": max(5, math.ceil(3 * m["wall_s"] / 60)), "threads": m["threads"]}
            for rule, m in sorted(measured.items())}


def profile_block(req: dict[str, dict], source: str) -> str:
    lines = [BEGIN, f"# from {source}: mem_mb = 1.5 x peak RSS (>= 512), runtime = 3 x wall time in minutes (>= 5)",
             "set-resources:"]
    for rule, r in req.items():
        lines.append(f"  {rule}: {{mem_mb: {r['mem_mb']}, runtime: {r['runtime']}}}")
    lines.append("set-threads:")
    for rule, r in req.items():
        lines.append(f"  {rule}: {r['threads']}")
    lines.append(END)
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench_dirs", type=Path, nargs="+", help="benchmark folders of runs, e.g. logs/demo/benchmarks")
    ap.add_argument("--write", action="store_true", help=f"update {PROFILE.relative_to(REPO)}")
    args = ap.parse_args(argv)
    measured = measure(args.bench_dirs)
    if not measured:
        print(f"no benchmark files of known rules in {[str(d) for d in args.bench_dirs]}", file=sys.stderr)
        return 1
    req = requests(measured)
    missing = sorted(set(rule_patterns()) - set(req))
    print(f"{'rule':28s} {'files':>5s} {'peak RSS MB':>11s} {'wall s':>8s} -> {'mem_mb':>6s} {'runtime':>7s} threads")
    for rule, r in req.items():
        m = measured[rule]
        print(f"{rule:28s} {m['files']:5d} {m['max_rss_mb']:11.0f} {m['wall_s']:8.1f} -> {r['mem_mb']:6d} {r['runtime']:7d} {r['threads']}")
    if missing:
        print(f"rules without benchmark files in this run (keep the profile's defaults): {missing}")
    if args.write:
        text = PROFILE.read_text()
        block = profile_block(req, ", ".join(str(d) for d in args.bench_dirs))
        if BEGIN in text:
            text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END) + 1:]
        else:
            text = text.rstrip("\n") + "\n\n" + block
        PROFILE.write_text(text)
        print(f"written to {PROFILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
