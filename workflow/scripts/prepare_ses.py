"""Rule prepare_ses: CBS SES-WOA scores per ward level (regio-indeling checked against the boundaries)."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import prepare_ses

log_to_rule(snakemake.log[0])
prepare_ses(snakemake.input.manifest, snakemake.input.wards, dict(snakemake.output.items()),
            boundaries_year=snakemake.params.boundaries_year)
