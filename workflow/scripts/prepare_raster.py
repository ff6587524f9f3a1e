"""Rule prepare_raster: clip one raster input to the study area, CRS assigned or reprojected."""

from healthgeo.logs import log_to_rule
from healthgeo.stages import prepare_raster

log_to_rule(snakemake.log[0])
prepare_raster(snakemake.input.manifest, snakemake.input.wards, snakemake.output[0],
               margin_m=snakemake.params.margin_m, crs=snakemake.params.crs)
