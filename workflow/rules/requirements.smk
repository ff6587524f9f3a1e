# Health requirements (PvE scorecard): every requirement checked on every ward of every level.


rule requirements:
    input:
        unpack(get_requirements_inputs),
        wards="data/processed/{run}/wards.gpkg",
    output:
        **{
            f"{level}_{part}": path.format(level=level)
            for level in LEVELS
            for part, path in (
                ("wards", "data/processed/{{run}}/{level}/requirements.parquet"),
                ("table", "data/processed/{{run}}/requirements/{level}_table.parquet"),
                (
                    "summary",
                    "data/processed/{{run}}/requirements/{level}_summary.parquet",
                ),
            )
        },
    log:
        "logs/{run}/requirements/requirements.log",
    benchmark:
        "logs/{run}/benchmarks/requirements.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        requirements=config["requirements"],
        network=config["network"],
        heat=config["heat"],
        min_residents=config["disclosure"]["min_residents"],
    script:
        "../scripts/requirements.py"
