"""Rule exposure_year: air and noise exposure of one run year on area.year's wards, per level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import exposure_year

log_to_rule(snakemake.log[0])
rasters = {k: v for k, v in snakemake.input.items() if k not in ("wards", "residents")}
for level, out in snakemake.output.items():
    exposure_year(rasters, snakemake.input.wards, snakemake.input.residents, level, int(snakemake.wildcards.year), out)
