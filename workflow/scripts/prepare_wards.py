"""Rule prepare_wards: read boundaries and key figures, validate, build the three ward levels."""

from healthgeo.logs import log_to_rule
from healthgeo.provenance import read_manifest
from healthgeo.wards import prepare_wards

log_to_rule(snakemake.log[0])
manifests = {name: read_manifest(path) for name, path in snakemake.input.items()}
prepare_wards(manifests, municipality=snakemake.params.municipality, out_path=snakemake.output[0])
