"""Rule demo_city: write the synthetic demo city's provider-shaped files."""

from healthgeo.demo import generate
from healthgeo.logs import log_to_rule

log_to_rule(snakemake.log[0])
generate(snakemake.params.outdir, seed=snakemake.params.seed)
