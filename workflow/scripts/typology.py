"""Rule typology: area type per ward with the rule that fired, for every level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import typology

log_to_rule(snakemake.log[0])
for level in ("buurt", "wijk", "gemeente"):  # one job for every level: inputs read once per process
    typology(snakemake.input.wards, list(snakemake.input[level]), snakemake.input.get("amenities"),
             level, snakemake.output[level], params=snakemake.params.typology)
