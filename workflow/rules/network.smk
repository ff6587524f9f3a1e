# Network: walk and cycle accessibility from the OSM network (one graph build for all levels).


rule network_accessibility:
    input:
        osm="data/raw/manifests/{run}/osm.json",
        residents="data/processed/{run}/residents.gpkg",
        amenities="data/processed/{run}/amenities.gpkg",
        green="data/processed/{run}/green.gpkg",
        wards="data/processed/{run}/wards.gpkg",
    output:
        buurt="data/processed/{run}/buurt/network.parquet",
        wijk="data/processed/{run}/wijk/network.parquet",
        gemeente="data/processed/{run}/gemeente/network.parquet",
        reference="data/processed/{run}/walkability_reference.parquet",
    log:
        "logs/{run}/network/accessibility.log",
    benchmark:
        "logs/{run}/benchmarks/network_accessibility.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        network=config["network"],
        margin_m=config["area"]["margin_m"],
    script:
        "../scripts/network_accessibility.py"
