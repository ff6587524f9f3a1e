"""Rule residents_exposure: exposure at every residents point."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import residents_exposure

log_to_rule(snakemake.log[0])
rasters = {k: v for k, v in snakemake.input.items() if k != "residents"}
residents_exposure(snakemake.input.residents, rasters, snakemake.params.municipality, snakemake.output[0])
