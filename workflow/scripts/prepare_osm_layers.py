"""Rule prepare_osm_layers: green areas and amenities from the OSM input."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import prepare_osm_layers

log_to_rule(snakemake.log[0])
prepare_osm_layers(snakemake.input.manifest, snakemake.input.wards, snakemake.output.green,
                   snakemake.output.amenities, margin_m=snakemake.params.margin_m)
