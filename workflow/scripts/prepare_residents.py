"""Rule prepare_residents: residents' locations as weighted points."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import prepare_residents

log_to_rule(snakemake.log[0])
prepare_residents(snakemake.input.get("population"), snakemake.input.wards, snakemake.output[0])
