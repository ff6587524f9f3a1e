"""Rule demo_country: write the synthetic demo country's national provider-shaped files."""

import os

from healthgeo.demo import generate_country
from healthgeo.logs import log_to_rule

log_to_rule(snakemake.log[0])
generate_country(os.path.commonpath(snakemake.output), seed=snakemake.params.seed,
                 municipalities=snakemake.params.municipalities, no_osm=snakemake.params.no_osm)
