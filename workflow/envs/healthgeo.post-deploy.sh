#!/usr/bin/env bash
# Install healthgeo from the checkout this workflow lives in into the new conda environment.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python -m pip install --no-deps -e "$repo"
