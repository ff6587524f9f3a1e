"""Rule exposure_heat: felt-temperature (PET) indicators for one ward level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import exposure_heat

log_to_rule(snakemake.log[0])
exposure_heat(snakemake.input.raster, snakemake.input.wards, snakemake.input.residents, snakemake.wildcards.level,
              snakemake.output[0])
