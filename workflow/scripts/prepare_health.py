"""Rule prepare_health: health estimates with 95 % bounds per ward level (with survey waves: the
base wave, through the boundary crosswalk when its year's boundaries differ from area.year's)."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import prepare_health

log_to_rule(snakemake.log[0])
boundaries = {k: v for k, v in snakemake.input.items() if k in ("buurten", "wijken")}
prepare_health(
    snakemake.input.manifest,
    snakemake.input.wards,
    {level: snakemake.output[level] for level in ("buurt", "wijk", "gemeente")},
    snakemake.output.crosswalk,
    snakemake.output.quality,
    year=snakemake.params.year,
    target_year=int(snakemake.params.target_year),
    municipality=snakemake.params.municipality,
    residents_path=snakemake.input.get("residents"),
    boundary_manifests=boundaries or None,
)
