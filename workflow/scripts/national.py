"""Rule national: publish a country run's national GeoPackage (atomically), then its receipt."""

from healthgeo.io import write_receipt
from healthgeo.logs import log_to_rule, summary
from healthgeo.national import national

log_to_rule(snakemake.log[0])
gpkg = national(snakemake.params.gpkg, runs=snakemake.params.runs, workdir=snakemake.params.workdir,
                run=snakemake.params.run, year=snakemake.params.year, params=snakemake.params.disparity,
                min_residents=snakemake.params.min_residents)
receipt = write_receipt(gpkg, snakemake.output[0])
summary(f"published {gpkg} ({receipt['size'] / 1e6:.1f} MB, {len(snakemake.params.runs)} municipalities)")
