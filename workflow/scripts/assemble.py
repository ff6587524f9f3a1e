"""Rule assemble: write data/processed/{run}/healthgeo.gpkg."""

from pathlib import Path

from healthgeo.assemble import assemble_run
from healthgeo.logs import log_to_rule

log_to_rule(snakemake.log[0])
assemble_run(
    snakemake.output[0],
    wards_path=snakemake.input.wards,
    tables={level: list(snakemake.input[level]) for level in ("buurt", "wijk", "gemeente")},
    manifests=list(snakemake.input.manifests),
    extra_provenance=list(snakemake.input.surface_provenance),
    run=snakemake.params.run,
    municipality=snakemake.params.municipality,
    year=snakemake.params.year,
    extra_tables={
        "disparity": list(snakemake.input.disparity_tables),
        "burden_reference": list(snakemake.input.burden_reference),
        "scenario_comparison": list(snakemake.input.scenario_summaries),
        "air_monitoring": list(snakemake.input.monitoring),
        "walkability_reference": list(snakemake.input.walkability_reference),
    },
    scenario_layers={Path(p).parent.name: p for p in snakemake.input.scenario_deltas},
    min_residents=snakemake.params.min_residents,
)
