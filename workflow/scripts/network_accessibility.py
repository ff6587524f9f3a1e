"""Rule network_accessibility: walk/cycle accessibility, walkability and cycleway share per ward level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import network_accessibility

log_to_rule(snakemake.log[0])
outputs = {level: snakemake.output[level] for level in ("buurt", "wijk", "gemeente")}
network_accessibility(snakemake.input.osm, snakemake.input.residents, snakemake.input.amenities,
                      snakemake.input.green, snakemake.input.wards, outputs, snakemake.output.reference,
                      params=snakemake.params.network, margin_m=snakemake.params.margin_m,
                      out_means=snakemake.output.means)
