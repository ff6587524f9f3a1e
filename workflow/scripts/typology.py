"""Rule typology: area type per ward with the rule that fired."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import typology

log_to_rule(snakemake.log[0])
typology(snakemake.input.wards, list(snakemake.input.tables), snakemake.input.get("amenities"),
         snakemake.wildcards.level, snakemake.output[0], params=snakemake.params.typology)
