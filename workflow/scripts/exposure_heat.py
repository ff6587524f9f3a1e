"""Rule exposure_heat: felt-temperature (PET) indicators for every ward level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import exposure_heat

log_to_rule(snakemake.log[0])
for level in ("buurt", "wijk", "gemeente"):  # one job for every level: inputs read once per process
    exposure_heat(snakemake.input.raster, snakemake.input.wards, snakemake.input.residents, level,
                  snakemake.output[level])
