# Years and trends (config `years:`): each per-year raster input aggregated onto area.year's wards
# per year, then per level the values of each year, the change and the annual slope
# (healthgeo.trend; docs/methods.md#trends). Adding a year reruns only that year's job and the trend.


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
        years=YEARS,
    script:
        "../scripts/trend.py"
