"""Rule exposure_green: green-space indicators for every ward level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import exposure_green

log_to_rule(snakemake.log[0])
for level in ("buurt", "wijk", "gemeente"):  # one job for every level: inputs read once per process
    exposure_green(snakemake.input.green, snakemake.input.wards, snakemake.input.residents,
                   level, snakemake.output[level], trees_manifest=snakemake.input.get("trees"),
                   landcover=snakemake.input.get("landcover"),
                   landcover_manifest=snakemake.input.get("landcover_manifest"), ndvi=snakemake.input.get("ndvi"),
                   osm_manifest=snakemake.input.osm)
