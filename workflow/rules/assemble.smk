# Assemble: one GeoPackage per run with ward layers, data dictionary, provenance and metadata.


rule assemble:
    input:
        unpack(get_assemble_inputs),
    output:
        "data/processed/{run}/healthgeo.gpkg",
    log:
        "logs/{run}/assemble.log",
    benchmark:
        "logs/{run}/benchmarks/assemble.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        run=RUN,
        municipality=config["area"]["municipality"],
        year=config["area"]["year"],
        min_residents=config["disparity"]["min_residents"],
    script:
        "../scripts/assemble.py"
