"""Rule fetch_input: download (cached) or register one input; write its manifest."""

from pathlib import Path

from healthgeo.logs import log_to_rule
from healthgeo.provenance import write_manifest
from healthgeo.sources import fetch_input
from healthgeo.stages import study_boundary

log_to_rule(snakemake.log[0])
name = snakemake.wildcards.input
path, records = fetch_input(
    name, snakemake.params.spec, area=snakemake.params.area, cache_dir=Path(snakemake.params.cache_dir),
    boundary=study_boundary(snakemake.input.get("wards")),
)
write_manifest(snakemake.output[0], input=name, local_path=path, spec=snakemake.params.spec, records=records)
