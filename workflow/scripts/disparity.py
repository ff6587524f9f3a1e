"""Rule disparity: inequality measures, LISA clusters and cumulative burden for one ward level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import disparity

log_to_rule(snakemake.log[0])
disparity(snakemake.input.wards, list(snakemake.input.tables), snakemake.wildcards.dlevel,
          snakemake.output.wards, snakemake.output.table, snakemake.output.reference,
          params=snakemake.params.disparity, min_residents=snakemake.params.min_residents)
