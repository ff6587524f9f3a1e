"""Rule report: data/processed/{run}/report/index.html and its key figures, from the run's GeoPackage."""

from healthgeo.logs import log_to_rule
from healthgeo.report import build_report

log_to_rule(snakemake.log[0])
build_report(
    snakemake.params.gpkg,
    snakemake.output.html,
    language=snakemake.params.language,
    figures={"map": snakemake.output.map, "gradient": snakemake.output.gradient},
)
