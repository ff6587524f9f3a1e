# Assemble: one GeoPackage per run with ward layers, data dictionary, provenance and metadata.
#
# The GeoPackage (params.gpkg) is deliberately not a Snakemake output: Snakemake deletes a job's
# outputs when the job starts, which would lose the last good GeoPackage whenever a rerun fails or
# is killed. The script replaces it atomically once the new one is complete and then writes the
# receipt (the output: sha256, size and time of the published file). A receipt whose GeoPackage
# is missing or changed is dropped at start-up (common.smk), so this job runs again. Rules that
# read the GeoPackage take rules.assemble.output[0] as input and the path as a param.


rule assemble:
    input:
        unpack(get_assemble_inputs),
    output:
        "data/processed/{run}/healthgeo.gpkg.json",
    log:
        "logs/{run}/assemble.log",
    benchmark:
        "logs/{run}/benchmarks/assemble.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        gpkg="data/processed/{run}/healthgeo.gpkg",
        run=lambda w: w.run,
        municipality=get_municipality,
        year=config["area"]["year"],
        min_residents=config["disclosure"]["min_residents"],
        impact=config["impact"],
    script:
        "../scripts/assemble.py"
