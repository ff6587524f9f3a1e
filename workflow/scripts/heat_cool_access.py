"""Rule heat_cool_access: share of residents with a cool place within walking distance, every ward level."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import heat_cool_access

log_to_rule(snakemake.log[0])
outputs = {level: snakemake.output[level] for level in ("buurt", "wijk", "gemeente")}
heat_cool_access(snakemake.input.osm, snakemake.input.residents, snakemake.input.green, snakemake.input.wards,
                 snakemake.input.heat, outputs, params=snakemake.params.heat, network_params=snakemake.params.network,
                 margin_m=snakemake.params.margin_m, trees_manifest=snakemake.input.get("trees"),
                 out_places=snakemake.output.places)
