"""Rule health_impact: attributable burden, DALYs and euros for every ward level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import health_impact

log_to_rule(snakemake.log[0])
for level in ("buurt", "wijk", "gemeente"):  # one job for every level: inputs read once per process
    health_impact(snakemake.input.exposure, snakemake.input.wards, level, snakemake.output[level],
                  params=snakemake.params.impact)
