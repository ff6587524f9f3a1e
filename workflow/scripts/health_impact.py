"""Rule health_impact: attributable burden, DALYs and euros for one ward level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import health_impact

log_to_rule(snakemake.log[0])
health_impact(snakemake.input.exposure, snakemake.input.wards, snakemake.wildcards.level, snakemake.output[0],
              params=snakemake.params.impact)
