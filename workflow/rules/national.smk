# National: a country run's GeoPackage of every ward of every municipality, with national ranks,
# disparity at national and municipal scope, national references and the gemeente comparison
# (healthgeo.national; docs/methods.md#country-runs). Only in a country run (area.municipalities).
# Like assemble, the GeoPackage is published atomically by the script; the output is its receipt.


if COUNTRY:

    rule national:
        input:
            unpack(get_national_inputs),
        output:
            f"data/processed/{RUN}/healthgeo.gpkg.json",
        log:
            f"logs/{RUN}/national.log",
        benchmark:
            f"logs/{RUN}/benchmarks/national.tsv"
        conda:
            "../envs/healthgeo.yaml"
        params:
            gpkg=f"data/processed/{RUN}/healthgeo.gpkg",
            workdir=f"data/processed/{RUN}/national",
            runs=get_national_runs,
            run=RUN,
            year=config["area"]["year"],
            disparity=config["disparity"],
            min_residents=config["disclosure"]["min_residents"],
        script:
            "../scripts/national.py"

    # the HTML report of the national GeoPackage (its disparity charts: the national scope)
    rule national_report:
        input:
            rules.national.output[0],
        output:
            html=f"data/processed/{RUN}/report/index.html",
            map=f"data/processed/{RUN}/report/figures/key_map.svg",
            gradient=f"data/processed/{RUN}/report/figures/gradient.svg",
        log:
            f"logs/{RUN}/national_report.log",
        benchmark:
            f"logs/{RUN}/benchmarks/national_report.tsv"
        conda:
            "../envs/healthgeo.yaml"
        params:
            gpkg=lambda w, input: input[0].removesuffix(".json"),
            language=config["report"]["language"],
        script:
            "../scripts/report.py"
