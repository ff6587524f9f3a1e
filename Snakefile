# healthgeo: exposure and health-disparity indicators per Dutch neighbourhood.
#
# Table of contents. Run `make run` (demo) or `make run CONFIG=config/utrecht.yaml`.
# Stages: demo (synthetic inputs) -> fetch (download or register inputs, provenance) ->
# prepare (wards, rasters, residents, health, OSM layers) -> exposure -> network ->
# disparity -> impact -> assemble (data/processed/{run}/healthgeo.gpkg).

from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/fetch.smk"
include: "workflow/rules/prepare.smk"
include: "workflow/rules/exposure.smk"
include: "workflow/rules/network.smk"
include: "workflow/rules/disparity.smk"
include: "workflow/rules/impact.smk"
include: "workflow/rules/trend.smk"
include: "workflow/rules/requirements.smk"
include: "workflow/rules/assemble.smk"
include: "workflow/rules/national.smk"
include: "workflow/rules/report.smk"


# On a cluster (workflow/profiles/slurm) these run on the submitting host: downloads need the
# internet, which compute nodes often lack; the demo generator and the target are instant.
localrules:
    all,
    fetch_input,
    fetch,
    demo_city,
    demo_country,


rule all:
    default_target: True
    input:
        get_final_outputs,
