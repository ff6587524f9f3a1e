"""Rule trend: values per year, change and annual slope per ward, per level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import trend_table

log_to_rule(snakemake.log[0])
for level, out in snakemake.output.items():
    trend_table(dict(zip(snakemake.params.years, snakemake.input[level])), out)
