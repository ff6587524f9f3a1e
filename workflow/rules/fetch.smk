# Fetch: download each provider input (cached under data/raw/{provider}/) or register a local
# file; write a manifest with the local path and a provenance record per input.


rule fetch_input:
    input:
        unpack(get_fetch_inputs),
    output:
        "data/raw/manifests/{run}/{input}.json",
    log:
        "logs/{run}/fetch/{input}.log",
    benchmark:
        "logs/{run}/benchmarks/fetch_{input}.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        spec=get_input_spec,
        area=config["area"],
        cache_dir=get_cache_dir,
    script:
        "../scripts/fetch_input.py"


rule fetch:
    input:
        expand("data/raw/manifests/{run}/{input}.json", run=RUN, input=INPUTS),
    output:
        touch(f"data/raw/manifests/{RUN}/fetched.done"),
    log:
        f"logs/{RUN}/fetch/all.log",
    benchmark:
        f"logs/{RUN}/benchmarks/fetch_all.tsv"
    conda:
        "../envs/healthgeo.yaml"
    shell:
        "echo 'all inputs fetched; later runs of this config read them from data/raw' > {log}"
