"""Rule disparity_trend: disparity measures per year and the change in the gap (buurt, wijk)."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import disparity_trend

log_to_rule(snakemake.log[0])
levels = ("buurt", "wijk")
disparity_trend(
    snakemake.input.wards,
    {level: list(snakemake.input[f"ses_{level}"]) for level in levels},
    {
        level: {
            y: [p for p, py in zip(snakemake.input[level], snakemake.params.years) if py == y]
            for y in sorted(set(snakemake.params.years))
        }
        for level in levels
    },
    snakemake.output[0],
    params=snakemake.params.disparity,
    min_residents=snakemake.params.min_residents,
)
