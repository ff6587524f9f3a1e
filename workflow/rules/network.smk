# Network: walk and cycle accessibility from the OSM network (one graph build for all levels).


rule network_accessibility:
    input:
        osm=lambda w: manifest("osm", w),
        residents="data/processed/{run}/residents.gpkg",
        amenities="data/processed/{run}/amenities.gpkg",
        green="data/processed/{run}/green.gpkg",
        wards="data/processed/{run}/wards.gpkg",
    output:
        buurt="data/processed/{run}/buurt/network.parquet",
        wijk="data/processed/{run}/wijk/network.parquet",
        gemeente="data/processed/{run}/gemeente/network.parquet",
        reference="data/processed/{run}/walkability_reference.parquet",
        means="data/processed/{run}/access_mean_distance.parquet",
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


rule validation_access:
    input:
        means="data/processed/{run}/access_mean_distance.parquet",
        nabijheid=lambda w: manifest("nabijheid", w),
        wards="data/processed/{run}/wards.gpkg",
    output:
        table="data/processed/{run}/validation_access.parquet",
        summary="data/processed/{run}/validation_access_summary.parquet",
    log:
        "logs/{run}/network/validation_access.log",
    benchmark:
        "logs/{run}/benchmarks/validation_access.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        boundaries_year=get_boundaries_year,
    script:
        "../scripts/validation_access.py"


# Cool place within walking distance (heat input + osm): its own walk-graph build, so the
# accessibility rule above stays unchanged; the graph parameters are the same (config network).
rule heat_cool_access:
    input:
        unpack(get_heat_trees),
        osm=lambda w: manifest("osm", w),
        residents="data/processed/{run}/residents.gpkg",
        green="data/processed/{run}/green.gpkg",
        wards="data/processed/{run}/wards.gpkg",
        heat="data/processed/{run}/rasters/heat.tif",
    output:
        buurt="data/processed/{run}/buurt/heat_access.parquet",
        wijk="data/processed/{run}/wijk/heat_access.parquet",
        gemeente="data/processed/{run}/gemeente/heat_access.parquet",
        places="data/processed/{run}/cool_places.gpkg",
    log:
        "logs/{run}/network/heat_cool_access.log",
    benchmark:
        "logs/{run}/benchmarks/heat_cool_access.tsv"
    conda:
        "../envs/healthgeo.yaml"
    params:
        heat=config["heat"],
        network=config["network"],
        margin_m=config["area"]["margin_m"],
    script:
        "../scripts/heat_cool_access.py"
