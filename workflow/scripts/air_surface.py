"""Rule air_surface: an annual surface from monitoring sites (no grid configured)."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import air_surface

log_to_rule(snakemake.log[0])
air_surface(snakemake.input.get("stations"), snakemake.input.get("sensors"), snakemake.input.wards,
            snakemake.wildcards.pollutant, snakemake.output.raster, snakemake.output.provenance,
            params=snakemake.params.monitoring, margin_m=snakemake.params.margin_m)
