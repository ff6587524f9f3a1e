"""Rule requirements: the health-requirements scorecard of every ward level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import requirements

log_to_rule(snakemake.log[0])
for level in ("buurt", "wijk", "gemeente"):  # one job for every level: inputs read once per process
    requirements(snakemake.input.wards, list(snakemake.input[level]), level,
                 snakemake.output[f"{level}_wards"], snakemake.output[f"{level}_table"],
                 snakemake.output[f"{level}_summary"],
                 requirements=snakemake.params.requirements, network=snakemake.params.network,
                 heat=snakemake.params.heat, min_residents=snakemake.params.min_residents)
