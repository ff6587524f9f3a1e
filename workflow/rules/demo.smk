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
