# Exposure: air, noise and green indicators per ward level (coverage- and population-weighted).


rule exposure_air:
    input:
        unpack(get_air_rasters),
        wards="data/processed/{run}/wards.gpkg",
        residents="data/processed/{run}/residents.gpkg",
    output:
        "data/processed/{run}/{level}/exposure_air.parquet",
    log:
        "logs/{run}/exposure/air_{level}.log",
    benchmark:
        "logs/{run}/benchmarks/exposure_air_{level}.tsv"
    conda:
        "../envs/healthgeo.yaml"
    script:
        "../scripts/exposure_air.py"


rule exposure_noise:
    input:
        unpack(get_noise_rasters),
        wards="data/processed/{run}/wards.gpkg",
        residents="data/processed/{run}/residents.gpkg",
    output:
        "data/processed/{run}/{level}/exposure_noise.parquet",
    log:
        "logs/{run}/exposure/noise_{level}.log",
    benchmark:
        "logs/{run}/benchmarks/exposure_noise_{level}.tsv"
    conda:
        "../envs/healthgeo.yaml"
    script:
        "../scripts/exposure_noise.py"


rule exposure_green:
    input:
        green="data/processed/{run}/green.gpkg",
        wards="data/processed/{run}/wards.gpkg",
        residents="data/processed/{run}/residents.gpkg",
    output:
        "data/processed/{run}/{level}/exposure_green.parquet",
    log:
        "logs/{run}/exposure/green_{level}.log",
    benchmark:
        "logs/{run}/benchmarks/exposure_green_{level}.tsv"
    conda:
        "../envs/healthgeo.yaml"
    script:
        "../scripts/exposure_green.py"
