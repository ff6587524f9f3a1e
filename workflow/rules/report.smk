# Report: the offline HTML report of a run (maps, inequality charts, scenarios, data quality).


rule report:
    input:
        rules.assemble.output[0],
    output:
        html=report(
            "data/processed/{run}/report/index.html",
            caption="../report/report.rst",
            category="Results",
        ),
        map=report(
            "data/processed/{run}/report/figures/key_map.svg",
            caption="../report/key_map.rst",
            category="Results",
        ),
        gradient=report(
            "data/processed/{run}/report/figures/gradient.svg",
            caption="../report/gradient.rst",
            category="Results",
        ),
    log:
        "logs/{run}/report.log",
    benchmark:
        "logs/{run}/benchmarks/report.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        gpkg=lambda w, input: input[0].removesuffix(".json"),
        language=config["report"]["language"],
    script:
        "../scripts/report.py"
