"""Rule trend: values per year, change (with intervals for survey waves) and annual slope per ward, per level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import trend_table

log_to_rule(snakemake.log[0])
years = snakemake.params.years
for level, out in snakemake.output.items():
    trend_table({y: [p for p, py in zip(snakemake.input[level], years) if py == y] for y in sorted(set(years))}, out)
