"""Rule validation_access: healthgeo's mean network distances per buurt against CBS Nabijheid voorzieningen."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import validation_access

log_to_rule(snakemake.log[0])
validation_access(snakemake.input.means, snakemake.input.nabijheid, snakemake.input.wards,
                  snakemake.output.table, snakemake.output.summary,
                  boundaries_year=snakemake.params.boundaries_year)
