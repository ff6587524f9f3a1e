# Impact: attributable burden, DALYs and euros per ward; named scenarios; area typology.


rule residents_exposure:
    input:
        unpack(get_impact_rasters),
        residents="data/processed/{run}/residents.gpkg",
    output:
        "data/processed/{run}/residents_exposure.parquet",
    log:
        "logs/{run}/impact/residents_exposure.log",
    benchmark:
        "logs/{run}/benchmarks/residents_exposure.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        municipality=get_municipality,
    script:
        "../scripts/residents_exposure.py"


rule health_impact:
    input:
        exposure="data/processed/{run}/residents_exposure.parquet",
        wards="data/processed/{run}/wards.gpkg",
    output:
        **{level: f"data/processed/{{run}}/{level}/impact.parquet" for level in LEVELS},
    log:
        "logs/{run}/impact/impact.log",
    benchmark:
        "logs/{run}/benchmarks/impact.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        impact=config["impact"],
    script:
        "../scripts/health_impact.py"


rule scenario:
    input:
        unpack(get_scenario_inputs),
        exposure="data/processed/{run}/residents_exposure.parquet",
        wards="data/processed/{run}/wards.gpkg",
    output:
        deltas="data/processed/{run}/scenarios/{scenario}/buurt_deltas.parquet",
        summary="data/processed/{run}/scenarios/{scenario}/summary.parquet",
    log:
        "logs/{run}/impact/scenario_{scenario}.log",
    benchmark:
        "logs/{run}/benchmarks/scenario_{scenario}.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        spec=get_scenario_spec,
        impact=config["impact"],
        network=config["network"],
        margin_m=config["area"]["margin_m"],
    script:
        "../scripts/scenario.py"


rule typology:
    input:
        unpack(get_typology_inputs),
        wards="data/processed/{run}/wards.gpkg",
    output:
        **{
            level: f"data/processed/{{run}}/{level}/typology.parquet"
            for level in LEVELS
        },
    log:
        "logs/{run}/impact/typology.log",
    benchmark:
        "logs/{run}/benchmarks/typology.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        typology=config["typology"],
    script:
        "../scripts/typology.py"
