"""Rule cut_osm: a municipality's part of the national OSM extract, and its manifest."""

from dataclasses import replace
from pathlib import Path

from healthgeo.logs import log_to_rule
from healthgeo.osmcut import cut, extract_suffix
from healthgeo.provenance import read_manifest, write_manifest
from healthgeo.stages import study_boundary

log_to_rule(snakemake.log[0])
national = read_manifest(snakemake.input.national)
box = tuple(study_boundary(snakemake.input.wards).buffer(snakemake.params.margin_m).total_bounds)
out = Path(snakemake.params.extract + extract_suffix(national.path))
counts = cut(national.path, out, box)
write_manifest(snakemake.output.manifest, input="osm", local_path=out, spec={**national.spec, "file": str(out)},
               records=[replace(r, note="; ".join(filter(None, [r.note, f"cut to {box} (EPSG:28992) by healthgeo.osmcut: {counts}"])))
                        for r in national.provenance])
