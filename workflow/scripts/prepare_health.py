"""Rule prepare_health: health estimates with 95 % bounds for one ward level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import prepare_health

log_to_rule(snakemake.log[0])
prepare_health(snakemake.input.manifest, snakemake.input.wards, dict(snakemake.output.items()))
