"""Rule scenario: one named intervention against the baseline (per-buurt deltas + summary)."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import scenario

log_to_rule(snakemake.log[0])
scenario(snakemake.input.exposure, snakemake.input.wards, snakemake.input.get("green"), snakemake.params.spec,
         snakemake.output.deltas, snakemake.output.summary, params=snakemake.params.impact,
         residents_path=snakemake.input.residents, amenities_path=snakemake.input.get("amenities"),
         osm_manifest=snakemake.input.get("osm"), network_params=snakemake.params.network,
         margin_m=snakemake.params.margin_m)
