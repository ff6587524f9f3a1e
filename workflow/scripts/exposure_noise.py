"""Rule exposure_noise: noise exposure indicators for every ward level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import exposure_noise

log_to_rule(snakemake.log[0])
rasters = {k: v for k, v in snakemake.input.items() if k not in ("wards", "residents")}
for level in ("buurt", "wijk", "gemeente"):  # one job for every level: inputs read once per process
    exposure_noise(rasters, snakemake.input.wards, snakemake.input.residents, level, snakemake.output[level])
