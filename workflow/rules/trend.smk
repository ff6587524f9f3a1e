# Years and trends (config `years:`, the health waves `inputs.health.years`): each per-year raster
# input aggregated onto area.year's wards per year, each wave mapped onto them; then per level the
# values of each year, the change (with its 95 % interval for survey estimates) and the annual slope
# (healthgeo.trend; docs/methods.md#trends). Adding a year reruns only that year's jobs and the trend.


rule exposure_year:
    input:
        unpack(get_year_rasters),
        wards="data/processed/{run}/wards.gpkg",
        residents="data/processed/{run}/residents.gpkg",
    output:
        **{
            level: f"data/processed/{{run}}/years/{{year}}/{level}_exposure.parquet"
            for level in LEVELS
        },
    log:
        "logs/{run}/trend/exposure_{year}.log",
    benchmark:
        "logs/{run}/benchmarks/exposure_year_{year}.tsv"
    conda:
        "../envs/healthgeo.yaml"
    script:
        "../scripts/exposure_year.py"


rule trend:
    input:
        unpack(get_trend_tables),
    output:
        **{level: f"data/processed/{{run}}/{level}/trend.parquet" for level in LEVELS},
    log:
        "logs/{run}/trend/trend.log",
    benchmark:
        "logs/{run}/benchmarks/trend.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        years=get_trend_file_years,
    script:
        "../scripts/trend.py"


# A health-monitor wave other than the base wave (that one is rule prepare_health's) on area.year's wards: read on its own year's boundaries and mapped through
# the crosswalk onto the run's wards (healthgeo.crosswalk; docs/methods.md#boundary-crosswalks),
# or joined by code when the boundaries are not given per year. The crosswalk and its quality per
# target ward go into the GeoPackage; a target ward less than half explained stops the run.
rule health_wave:
    input:
        unpack(get_wave_inputs),
    output:
        **{
            level: f"data/processed/{{run}}/years/{{wave}}/{level}_health.parquet"
            for level in LEVELS
        },
        crosswalk="data/processed/{run}/years/{wave}/crosswalk.parquet",
        quality="data/processed/{run}/years/{wave}/crosswalk_quality.parquet",
    log:
        "logs/{run}/trend/health_{wave}.log",
    benchmark:
        "logs/{run}/benchmarks/health_wave_{wave}.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        target_year=config["area"]["year"],
        municipality=get_municipality,
    script:
        "../scripts/health_wave.py"


# Concentration index, SII and quintile gap per year (bootstrap intervals) and the change in the
# gap first -> last year (healthgeo.trend.disparity_trend): the disparity_trend table.
rule disparity_trend:
    input:
        unpack(get_disparity_trend_inputs),
    output:
        "data/processed/{run}/disparity_trend.parquet",
    log:
        "logs/{run}/trend/disparity_trend.log",
    benchmark:
        "logs/{run}/benchmarks/disparity_trend.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        years=get_trend_file_years,
        disparity=config["disparity"],
        min_residents=config["disclosure"]["min_residents"],
    script:
        "../scripts/disparity_trend.py"
