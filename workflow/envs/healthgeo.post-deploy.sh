#!/usr/bin/env bash
# Install healthgeo from the checkout this workflow lives in into the new conda environment.
# Snakemake may run this script from a copy (e.g. under .snakemake/conda/), so the checkout is
# looked for in: $HEALTHGEO_REPO, this script's ../.., and the working directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for repo in "${HEALTHGEO_REPO:-}" "$here/../.." "$PWD"; do
  if [ -n "$repo" ] && [ -f "$repo/pyproject.toml" ] && grep -q '^name = "healthgeo"' "$repo/pyproject.toml"; then
    exec python -m pip install --no-deps -e "$repo"
  fi
done
echo "healthgeo post-deploy: cannot find the healthgeo checkout; set HEALTHGEO_REPO=/path/to/healthgeo" >&2
exit 1
