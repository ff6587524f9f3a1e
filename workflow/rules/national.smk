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
