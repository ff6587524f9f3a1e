# Demo: generate the synthetic demo city (healthgeo.demo) in the real providers' file formats.
# Only runs when a config points its inputs into data/raw/demo/ (the default config does).


rule demo_city:
    output:
        _demo_output_files("data/raw/demo"),
    log:
        "logs/demo_city/demo_city.log",
    benchmark:
        "logs/demo_city/benchmark.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        seed=config["demo"]["seed"],
    script:
        "../scripts/demo_city.py"


# The synthetic demo country (healthgeo.demo.generate_country): national files of
# demo.municipalities small municipalities GM9901..; config/demo_country.yaml runs it.
rule demo_country:
    output:
        _country_output_files("data/raw/demo_country"),
    log:
        "logs/demo_country/demo_country.log",
    benchmark:
        "logs/demo_country/benchmark.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        seed=config["demo"]["seed"],
        municipalities=config["demo"]["municipalities"],
        no_osm=config["demo"]["no_osm"],
    script:
        "../scripts/demo_country.py"
