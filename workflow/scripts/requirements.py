"""Rule requirements: the health-requirements scorecard of one ward level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import requirements

log_to_rule(snakemake.log[0])
requirements(snakemake.input.wards, list(snakemake.input.tables), snakemake.wildcards.level,
             snakemake.output.wards, snakemake.output.table, snakemake.output.summary,
             requirements=snakemake.params.requirements, network=snakemake.params.network,
             heat=snakemake.params.heat, min_residents=snakemake.params.min_residents)
