"""Rule disparity_gemeente: one-row municipal summary of the buurt-level disparity analysis."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import gemeente_summary

log_to_rule(snakemake.log[0])
gemeente_summary(snakemake.input.table, snakemake.input.wards, snakemake.output[0])
