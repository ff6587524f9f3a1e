# Exposure: air, noise and green indicators per ward level (coverage- and population-weighted).


rule exposure_air:
    input:
        unpack(get_air_rasters),
        wards="data/processed/{run}/wards.gpkg",
        residents="data/processed/{run}/residents.gpkg",
    output:
        **{
            level: f"data/processed/{{run}}/{level}/exposure_air.parquet"
            for level in LEVELS
        },
    log:
        "logs/{run}/exposure/air.log",
    benchmark:
        "logs/{run}/benchmarks/exposure_air.tsv"
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
        **{
            level: f"data/processed/{{run}}/{level}/exposure_noise.parquet"
            for level in LEVELS
        },
    log:
        "logs/{run}/exposure/noise.log",
    benchmark:
        "logs/{run}/benchmarks/exposure_noise.tsv"
    conda:
        "../envs/healthgeo.yaml"
    script:
        "../scripts/exposure_noise.py"


rule exposure_green:
    input:
        unpack(get_green_extras),
        green="data/processed/{run}/green.gpkg",
        osm=lambda w: manifest("osm", w),
        wards="data/processed/{run}/wards.gpkg",
        residents="data/processed/{run}/residents.gpkg",
    output:
        **{
            level: f"data/processed/{{run}}/{level}/exposure_green.parquet"
            for level in LEVELS
        },
    log:
        "logs/{run}/exposure/green.log",
    benchmark:
        "logs/{run}/benchmarks/exposure_green.tsv"
    conda:
        "../envs/healthgeo.yaml"
    script:
        "../scripts/exposure_green.py"


rule air_monitoring:
    input:
        unpack(get_monitoring_inputs),
    output:
        "data/processed/{run}/air_monitoring_{pollutant}.parquet",
    log:
        "logs/{run}/exposure/air_monitoring_{pollutant}.log",
    benchmark:
        "logs/{run}/benchmarks/air_monitoring_{pollutant}.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        monitoring=config["air_monitoring"],
        margin_m=config["area"]["margin_m"],
    script:
        "../scripts/air_monitoring.py"


rule air_surface:
    input:
        unpack(get_monitoring_manifests),
        wards="data/processed/{run}/wards.gpkg",
    output:
        raster="data/processed/{run}/rasters/{pollutant}.tif",
        provenance="data/processed/{run}/rasters/{pollutant}_surface.json",
    log:
        "logs/{run}/exposure/air_surface_{pollutant}.log",
    benchmark:
        "logs/{run}/benchmarks/air_surface_{pollutant}.tsv"
    wildcard_constraints:
        pollutant=SURFACE_PATTERN,
    conda:
        "../envs/healthgeo.yaml"
    params:
        monitoring=config["air_monitoring"],
        margin_m=config["area"]["margin_m"],
    script:
        "../scripts/air_surface.py"


rule exposure_heat:
    input:
        raster="data/processed/{run}/rasters/heat.tif",
        wards="data/processed/{run}/wards.gpkg",
        residents="data/processed/{run}/residents.gpkg",
    output:
        **{
            level: f"data/processed/{{run}}/{level}/exposure_heat.parquet"
            for level in LEVELS
        },
    log:
        "logs/{run}/exposure/heat.log",
    benchmark:
        "logs/{run}/benchmarks/exposure_heat.tsv"
    conda:
        "../envs/healthgeo.yaml"
    script:
        "../scripts/exposure_heat.py"
