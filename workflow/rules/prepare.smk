# Prepare: validate and standardise inputs into EPSG:28992 working data.


rule prepare_wards:
    input:
        unpack(get_ward_manifests),
    output:
        "data/processed/{run}/wards.gpkg",
    log:
        "logs/{run}/prepare/wards.log",
    benchmark:
        "logs/{run}/benchmarks/prepare_wards.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        municipality=get_municipality,
    script:
        "../scripts/prepare_wards.py"


rule prepare_raster:
    input:
        manifest=lambda w: manifest(w.raster, w),
        wards="data/processed/{run}/wards.gpkg",
    output:
        "data/processed/{run}/rasters/{raster}.tif",
    log:
        "logs/{run}/prepare/raster_{raster}.log",
    benchmark:
        "logs/{run}/benchmarks/prepare_raster_{raster}.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        margin_m=config["area"]["margin_m"],
        crs=config["area"]["crs"],
    script:
        "../scripts/prepare_raster.py"


rule prepare_residents:
    input:
        unpack(get_population_manifest),
        wards="data/processed/{run}/wards.gpkg",
    output:
        "data/processed/{run}/residents.gpkg",
    log:
        "logs/{run}/prepare/residents.log",
    benchmark:
        "logs/{run}/benchmarks/prepare_residents.tsv"
    conda:
        "../envs/healthgeo.yaml"
    script:
        "../scripts/prepare_residents.py"


# With survey waves (inputs.health.years) the health input is the base wave: read on its own
# year's boundaries when they are given per year and mapped through the crosswalk (written beside).
rule prepare_health:
    input:
        unpack(get_health_inputs),
    output:
        buurt="data/processed/{run}/buurt/health.parquet",
        wijk="data/processed/{run}/wijk/health.parquet",
        gemeente="data/processed/{run}/gemeente/health.parquet",
        crosswalk="data/processed/{run}/health_crosswalk.parquet",
        quality="data/processed/{run}/health_crosswalk_quality.parquet",
    log:
        "logs/{run}/prepare/health.log",
    benchmark:
        "logs/{run}/benchmarks/prepare_health.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        year=BASE_WAVE,
        target_year=config["area"]["year"],
        municipality=get_municipality,
    script:
        "../scripts/prepare_health.py"


rule prepare_ses:
    input:
        manifest=lambda w: manifest("ses", w),
        wards="data/processed/{run}/wards.gpkg",
    output:
        buurt="data/processed/{run}/buurt/ses.parquet",
        wijk="data/processed/{run}/wijk/ses.parquet",
        gemeente="data/processed/{run}/gemeente/ses.parquet",
    log:
        "logs/{run}/prepare/ses.log",
    benchmark:
        "logs/{run}/benchmarks/prepare_ses.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        boundaries_year=get_boundaries_year,
    script:
        "../scripts/prepare_ses.py"


rule prepare_osm_layers:
    input:
        manifest=lambda w: manifest("osm", w),
        wards="data/processed/{run}/wards.gpkg",
    output:
        green="data/processed/{run}/green.gpkg",
        amenities="data/processed/{run}/amenities.gpkg",
    log:
        "logs/{run}/prepare/osm_layers.log",
    benchmark:
        "logs/{run}/benchmarks/prepare_osm_layers.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        margin_m=config["area"]["margin_m"],
    script:
        "../scripts/prepare_osm_layers.py"
