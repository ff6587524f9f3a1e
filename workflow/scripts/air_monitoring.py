"""Rule air_monitoring: measured annual means at monitoring sites against the grid."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import air_monitoring

log_to_rule(snakemake.log[0])
air_monitoring(snakemake.input.get("stations"), snakemake.input.get("sensors"), snakemake.input.raster,
               snakemake.input.wards, snakemake.wildcards.pollutant, snakemake.output[0],
               params=snakemake.params.monitoring, margin_m=snakemake.params.margin_m)
