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
    # a country run registers its national files once, under the run's own name
    wildcard_constraints:
        run="|".join(map(re.escape, [*RUN_PATHS, *([RUN] if COUNTRY else [])])),
    conda:
        "../envs/healthgeo.yaml"
    params:
        spec=get_input_spec,
        area=get_area,
        cache_dir=get_cache_dir,
    script:
        "../scripts/fetch_input.py"


rule fetch:
    input:
        get_all_manifests,
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


# A country run's national OSM extract (one `file:`, e.g. netherlands-latest.osm.pbf) is cut per
# municipality to its wards' bounding box plus area.margin_m before any graph is built: each
# municipality's jobs then read only their part (healthgeo.osmcut; docs/methods.md#country-runs).
if COUNTRY and "osm" in NATIONAL:

    ruleorder: cut_osm > fetch_input

    rule cut_osm:
        input:
            national=f"data/raw/manifests/{RUN}/osm.json",
            wards="data/processed/{run}/wards.gpkg",
        output:
            manifest="data/raw/manifests/{run}/osm.json",
        log:
            "logs/{run}/fetch/cut_osm.log",
        benchmark:
            "logs/{run}/benchmarks/cut_osm.tsv"
        wildcard_constraints:
            run="|".join(map(re.escape, RUN_PATHS)),
        conda:
            "../envs/healthgeo.yaml"
        params:
            margin_m=config["area"]["margin_m"],
            extract="data/processed/{run}/osm_extract",
        script:
            "../scripts/cut_osm.py"
