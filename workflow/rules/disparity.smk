# Disparity: who carries the burden - inequality measures, spatial clusters, cumulative burden.


rule disparity:
    input:
        unpack(get_disparity_inputs),
    output:
        wards="data/processed/{run}/{dlevel}/disparity.parquet",
        table="data/processed/{run}/{dlevel}/disparity_table.parquet",
        reference="data/processed/{run}/{dlevel}/burden_reference.parquet",
    log:
        "logs/{run}/disparity/{dlevel}.log",
    benchmark:
        "logs/{run}/benchmarks/disparity_{dlevel}.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        disparity=config["disparity"],
        min_residents=config["disclosure"]["min_residents"],
    script:
        "../scripts/disparity.py"


rule disparity_gemeente:
    input:
        table="data/processed/{run}/buurt/disparity_table.parquet",
        wards="data/processed/{run}/wards.gpkg",
    output:
        "data/processed/{run}/gemeente/disparity.parquet",
    log:
        "logs/{run}/disparity/gemeente.log",
    benchmark:
        "logs/{run}/benchmarks/disparity_gemeente.tsv"
    conda:
        "../envs/healthgeo.yaml"
    script:
        "../scripts/disparity_gemeente.py"
