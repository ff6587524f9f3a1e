"""Rule health_wave: one health-monitor wave on area.year's wards (through the boundary crosswalk)."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import health_wave

log_to_rule(snakemake.log[0])
boundaries = {k: v for k, v in snakemake.input.items() if k in ("buurten", "wijken")}
health_wave(
    snakemake.input.health,
    snakemake.input.wards,
    snakemake.input.residents,
    {level: snakemake.output[level] for level in ("buurt", "wijk", "gemeente")},
    snakemake.output.crosswalk,
    snakemake.output.quality,
    year=int(snakemake.wildcards.wave),
    target_year=int(snakemake.params.target_year),
    municipality=snakemake.params.municipality,
    boundary_manifests=boundaries or None,
)
