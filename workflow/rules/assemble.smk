# Assemble: one GeoPackage per run with ward layers, data dictionary, provenance and metadata.


rule assemble:
    input:
        unpack(get_assemble_inputs),
    output:
        "data/processed/{run}/healthgeo.gpkg",
    params:
        run=RUN,
        municipality=config["area"]["municipality"],
        year=config["area"]["year"],
    log:
        "logs/{run}/assemble.log",
    benchmark:
        "logs/{run}/benchmarks/assemble.tsv"
    script:
        "../scripts/assemble.py"
