"""Rule demo_city: write the synthetic demo city's provider-shaped files."""

import os

from healthgeo.demo import generate
from healthgeo.logs import log_to_rule

log_to_rule(snakemake.log[0])
generate(os.path.commonpath(snakemake.output), seed=snakemake.params.seed)
