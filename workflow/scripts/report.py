"""Rule report: write data/processed/{run}/report/index.html from the run's GeoPackage."""

from healthgeo.logs import log_to_rule
from healthgeo.report import build_report

log_to_rule(snakemake.log[0])
build_report(snakemake.params.gpkg, snakemake.output[0], language=snakemake.params.language)
