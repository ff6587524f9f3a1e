"""Rule assemble: publish data/processed/{run}/healthgeo.gpkg (atomically), then its receipt."""

from pathlib import Path

from healthgeo.assemble import assemble_run
from healthgeo.io import write_receipt
from healthgeo.logs import log_to_rule, summary

log_to_rule(snakemake.log[0])
gpkg = assemble_run(
    snakemake.params.gpkg,
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
        "validation_access": [p for p in snakemake.input.validation_access if not p.endswith("_summary.parquet")],
        "validation_access_summary": [p for p in snakemake.input.validation_access if p.endswith("_summary.parquet")],
        "requirements": list(snakemake.input.requirements_tables),
        "requirements_summary": list(snakemake.input.requirements_summaries),
        "crosswalk": list(snakemake.input.crosswalk),
        "crosswalk_quality": list(snakemake.input.crosswalk_quality),
        "disparity_trend": list(snakemake.input.disparity_trend),
    },
    scenario_layers={Path(p).parent.name: p for p in snakemake.input.scenario_deltas},
    trend_layers={Path(p).parent.name: p for p in snakemake.input.trend},
    min_residents=snakemake.params.min_residents,
    impact=snakemake.params.impact,
)
receipt = write_receipt(gpkg, snakemake.output[0])
summary(f"published {gpkg} ({receipt['size'] / 1e6:.1f} MB)")
