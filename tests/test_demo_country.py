"""Tests of the synthetic demo country (healthgeo.demo.generate_country): national files of several
small municipalities, read by the project's own readers and cut per municipality as the workflow does."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from healthgeo import demo
from healthgeo.io import sha256_file, write_json

# rasterio 1.4 itself multiplies Affine objects with `*` (PendingDeprecationWarning, not ours)
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

N = 6
CODES = [f"GM{9900 + i}" for i in range(1, N + 1)]
MARGIN_M = 2000.0  # a municipality's own roads stay within this distance of its outline


@pytest.fixture(scope="module")
def country(tmp_path_factory):
    out = tmp_path_factory.mktemp("country")
    t0 = time.perf_counter()
    paths = demo.generate_country(out, seed=42, municipalities=N)
    seconds = time.perf_counter() - t0
    print(f"\ngenerate_country({N} municipalities): {seconds:.1f} s")
    return paths, seconds


@pytest.fixture(scope="module")
def files(country) -> dict[str, Path]:
    return country[0]


@pytest.fixture(scope="module")
def gemeenten(files):
    return gpd.read_file(files["gemeente"]).set_index("gemeentecode")


@pytest.fixture(scope="module")
def buurten(files):
    return gpd.read_file(files["buurten"]).set_index("buurtcode")


@pytest.fixture(scope="module")
def osm_xml(files):
    return ET.parse(files["osm"]).getroot()


def _way_lines(root, crs=28992) -> gpd.GeoDataFrame:
    from shapely.geometry import LineString

    nodes = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    rows, geoms = [], []
    for w in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in w.iter("tag")}
        pts = [nodes[nd.get("ref")] for nd in w.iter("nd")]
        if len(pts) >= 2:
            rows.append({"id": w.get("id"), "highway": tags.get("highway"), "name": tags.get("name")})
            geoms.append(LineString(pts))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326).to_crs(crs)


def _manifest(tmp: Path, name: str, path: Path, spec: dict | None = None) -> Path:
    out = tmp / f"{name}.manifest.json"
    write_json({"input": name, "path": str(path), "spec": spec or {}, "provenance": []}, out)
    return out


# ------------------------------------------------------------------------------ API and files
def test_every_file_written_fast_and_listed(files, country):
    out = files["readme"].parent
    assert set(files) == set(demo.COUNTRY_FILES)
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert sorted(demo.country_output_files(out)) == sorted(f"{out.as_posix()}/{w}" for w in written)
    assert demo.COUNTRY_FILES["osm"] == "osm/demoland.osm"
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"demo country: {total / 1e6:.1f} MB")
    assert total < 40e6
    assert country[1] < 60  # aim: < 30 s on a 2-core machine
    readme = files["readme"].read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and all(c in readme for c in CODES)
    assert [p for p in out.rglob(".*") if p.is_file()] == []


def test_municipality_codes_and_names():
    names = demo.country_municipalities(N)
    assert list(names) == CODES
    assert len(set(names.values())) == N
    assert len(set(demo.country_municipalities(98).values())) == 98


def test_bad_arguments_are_refused(tmp_path):
    from healthgeo._errors import ConfigError

    for bad in (0, 100, 2.5, "6"):
        with pytest.raises(ConfigError, match="municipalities"):
            demo.generate_country(tmp_path, municipalities=bad)
    with pytest.raises(ConfigError, match="GM9907"):
        demo.generate_country(tmp_path, municipalities=N, no_osm=["GM9907"])
    with pytest.raises(ConfigError, match="outside"):
        demo.generate_country(tmp_path, municipalities=N, origin=(290_000, 620_000))
    assert not any(tmp_path.iterdir())


# ------------------------------------------------------------------------------ codes everywhere
def test_codes_consistent_across_files(files, gemeenten, buurten):
    from healthgeo.sources import read_health, read_kerncijfers, read_nabijheid, read_ses

    assert sorted(gemeenten.index) == CODES
    assert gemeenten["gemeentenaam"].nunique() == N
    wijken = gpd.read_file(files["wijken"]).set_index("wijkcode")
    assert sorted(set(wijken["gemeentecode"])) == CODES
    assert (buurten["gemeentecode"] == ["GM" + c[2:6] for c in buurten.index]).all()
    assert set(buurten["wijkcode"]) == set(wijken.index)
    per_gm = buurten.groupby("gemeentecode").size()
    assert per_gm.between(12, 30).all(), per_gm.to_dict()
    assert buurten.groupby("gemeentecode")["meestVoorkomendePostcode"].apply(set).map(len).sum() == len(buurten)

    kwb = read_kerncijfers(files["kerncijfers"])
    health = read_health(files["health"])
    ses, _ = read_ses(files["ses"])
    nab, _ = read_nabijheid(files["nabijheid"])
    every = set(buurten.index) | set(wijken.index) | set(gemeenten.index)
    assert every <= set(kwb.index)
    assert every <= set(health.index)
    assert every <= set(ses.index)
    assert set(buurten.index) <= set(nab.index)
    # each municipality's rows carry its own name
    raw = pd.read_csv(files["health"], sep=";", dtype=str)
    names = raw.assign(code=raw["WijkenEnBuurten"].str.strip(), gm=raw["Gemeentenaam_1"].str.strip())
    for code, name in demo.country_municipalities(N).items():
        assert set(names.loc[names["code"].str[2:6] == code[2:], "gm"]) == {name}


def test_municipalities_differ(files, gemeenten):
    from healthgeo.sources import read_kerncijfers

    kwb = read_kerncijfers(files["kerncijfers"])
    income = pd.to_numeric(kwb.loc[CODES, "income_per_resident_keur"]
                           if "income_per_resident_keur" in kwb else kwb.loc[CODES].filter(like="income").iloc[:, 0])
    assert income.max() - income.min() > 2.0, income.to_dict()
    residents = gemeenten["aantalInwoners"]
    assert residents.max() > 1.5 * residents.min()
    import rasterio
    from rasterio.mask import mask

    means = {}
    with rasterio.open(files["no2"]) as src:
        for code, geom in gemeenten.geometry.items():
            arr, _ = mask(src, [geom], crop=True, all_touched=True, nodata=np.nan, filled=True)
            means[code] = float(np.nanmean(np.where(arr == -999, np.nan, arr)))
    assert max(means.values()) - min(means.values()) > 2.0, means
    assert max(means, key=means.get) == "GM9901"  # the regional centre


# ------------------------------------------------------------------------------ geometry
def test_no_overlap_between_municipalities(buurten, gemeenten):
    pairs = gpd.sjoin(buurten.reset_index()[["buurtcode", "gemeentecode", "geometry"]],
                      buurten.reset_index()[["buurtcode", "gemeentecode", "geometry"]], predicate="intersects")
    other = pairs[pairs["gemeentecode_left"] != pairs["gemeentecode_right"]]
    assert other.empty, other[["buurtcode_left", "buurtcode_right"]].head()
    for a in CODES:
        for b in CODES:
            if a < b:
                assert gemeenten.geometry[a].distance(gemeenten.geometry[b]) > 500
    # buurten tile their gemeente
    for code, geom in gemeenten.geometry.items():
        union = buurten[buurten["gemeentecode"] == code].union_all()
        assert abs(union.area - geom.area) < 1e-6 * geom.area
    # inside the Netherlands' RD New extent
    x0, y0, x1, y1 = gemeenten.total_bounds
    assert -7000 <= x0 and x1 <= 300_000 and 289_000 <= y0 and y1 <= 629_000


def test_rasters_cover_every_municipality(files, gemeenten):
    import rasterio
    from rasterio.mask import mask

    for key, margin in (("no2", 1000), ("no2_2021", 1000), ("pm25", 1000), ("noise_lden", 400),
                        ("noise_lnight", 400), ("heat", 200)):
        with rasterio.open(files[key]) as src:
            l, b, r, t = src.bounds
            for code, geom in gemeenten.geometry.items():
                gx0, gy0, gx1, gy1 = geom.bounds
                assert l <= gx0 - margin and b <= gy0 - margin and r >= gx1 + margin and t >= gy1 + margin, (key, code)
                arr, _ = mask(src, [geom], crop=True, filled=False)
                valid = arr.compressed()
                valid = valid[(valid > -999) & np.isfinite(valid)]
                assert valid.size > 0.9 * arr.count(), (key, code)


def test_osm_ids_unique_and_streets_in_their_own_municipality(osm_xml, gemeenten):
    for kind in ("node", "way", "relation"):
        ids = [int(e.get("id")) for e in osm_xml.iter(kind)]
        assert len(ids) == len(set(ids)) and min(ids) > 0, kind
    node_ids = {e.get("id") for e in osm_xml.iter("node")}
    assert {nd.get("ref") for nd in osm_xml.iter("nd")} <= node_ids
    lines = _way_lines(osm_xml)
    regional = lines["name"].fillna("").str.startswith("Regionale weg")
    streets = lines[lines["highway"].notna() & ~regional]
    # regional roads join neighbouring towns: each starts and ends on a vertex of two towns' roads
    links = lines[regional]
    assert len(links) >= len(CODES) - 1
    for line in links.geometry:
        ends = [gemeenten.distance(line.interpolate(f, normalized=True)).idxmin() for f in (0.0, 1.0)]
        assert ends[0] != ends[1], ends
    # each street belongs to the nearest municipality: it lies within that one's area + margin and
    # enters no other municipality
    dist = pd.DataFrame({c: streets.distance(g) for c, g in gemeenten.geometry.items()})
    own = dist.idxmin(axis=1)
    for code, geom in gemeenten.geometry.items():
        mine = streets[own == code]
        assert mine.within(geom.buffer(MARGIN_M)).all(), code
        assert not streets[own != code].intersects(geom).any(), code
    per = own.value_counts()
    assert set(per.index) == set(CODES) and per.min() > 200, per.to_dict()
    print("OSM highway ways per municipality:", per.sort_index().to_dict())


# ------------------------------------------------------------------------------ the workflow's readers
def test_one_municipality_prepared_from_the_national_files(files, buurten, tmp_path):
    """As the workflow does for one municipality: its wards, rasters, residents, health, SES, OSM."""
    import rasterio

    from healthgeo import stages
    from healthgeo.provenance import Manifest
    from healthgeo.wards import prepare_wards, read_wards

    code = "GM9903"
    wards = tmp_path / "wards.gpkg"
    manifests = {k: Manifest(k, files[k], {}, []) for k in ("buurten", "wijken", "gemeente", "kerncijfers")}
    levels = prepare_wards(manifests, municipality=code, out_path=wards)
    mine = sorted(buurten.index[buurten["gemeentecode"] == code])
    assert sorted(levels["buurt"].index) == mine
    assert list(levels["gemeente"].index) == [code]
    assert levels["buurt"]["residents"].notna().all()

    for key in ("no2", "noise_lden"):
        out = tmp_path / f"{key}.tif"
        stages.prepare_raster(_manifest(tmp_path, key, files[key], {"crs": "EPSG:28992"}), wards, out,
                              margin_m=1000, crs="EPSG:28992")
        gb = read_wards(wards, "gemeente").total_bounds
        with rasterio.open(out) as src:
            assert src.bounds.left <= gb[0] and src.bounds.right >= gb[2]
            assert src.width < 0.7 * rasterio.open(files[key]).width  # a window, not the country

    res = stages.prepare_residents(_manifest(tmp_path, "dwellings", files["dwellings"]), wards, tmp_path / "res.gpkg")
    assert set(res["buurtcode"]) <= set(mine) if "buurtcode" in res else len(res) > 1000
    health = stages.prepare_health(_manifest(tmp_path, "health", files["health"]), wards,
                                   {"buurt": tmp_path / "health_buurt.parquet"})["buurt"]
    assert sorted(health.index) == mine and health.notna().any(axis=1).mean() > 0.8
    ses = stages.prepare_ses(_manifest(tmp_path, "ses", files["ses"]), wards,
                             {"buurt": tmp_path / "ses_buurt.parquet"}, boundaries_year=None)["buurt"]
    assert ses["ses_woa_score"].notna().mean() > 0.7
    green, amen = stages.prepare_osm_layers(_manifest(tmp_path, "osm", files["osm"]), wards, tmp_path / "green.gpkg",
                                            tmp_path / "amen.gpkg", margin_m=500)
    gem = read_wards(wards, "gemeente").geometry.iloc[0].buffer(500)
    assert len(green) > 5 and len(amen) > 10
    assert green.to_crs(28992).intersects(gem).all() and amen.to_crs(28992).intersects(gem).all()


def test_other_national_readers(files, gemeenten):
    from healthgeo.sources import (read_dwellings, read_gcn_ascii, read_luchtmeetnet, read_population_grid,
                                   read_samenmeten_csv)
    from healthgeo.sources.osm_network import read_osm_xml

    arr, profile = read_gcn_ascii(files["no2"])
    assert np.isnan(arr).sum() == 3 and np.nanmin(arr) >= 8
    dw = read_dwellings(files["dwellings"])
    assert dw["identificatie"].str[:4].isin([c[2:] for c in CODES]).all()
    assert dw["identificatie"].is_unique
    joined = gpd.sjoin(dw, gemeenten.reset_index()[["gemeentecode", "geometry"]], predicate="within")
    assert (joined["identificatie"].str[:4] == joined["gemeentecode"].str[2:]).all()
    grid = read_population_grid(files["population_grid"])
    assert len(grid) > 1000
    stations, annual = read_luchtmeetnet(files["stations"], year=2023)
    assert len(stations) == N + 1
    things = files["sensor_locations"]
    sensors = read_samenmeten_csv(files["sensors"], things, year=2023)
    assert sensors is not None
    nodes, edges = read_osm_xml(files["osm"])
    assert len(nodes) > 3000 and len(edges) > 3000


# ------------------------------------------------------------------------------ determinism, options
def test_same_seed_same_bytes(files, tmp_path):
    again = demo.generate_country(tmp_path / "again", seed=42, municipalities=N)
    for key, path in files.items():
        if key == "stations":
            continue
        assert sha256_file(path) == sha256_file(again[key]), key
    for rel in demo.STATION_FILES:
        assert sha256_file(files["readme"].parent / rel) == sha256_file(tmp_path / "again" / rel)


def test_no_osm_leaves_one_municipality_uncovered(tmp_path):
    paths = demo.generate_country(tmp_path / "c", seed=5, municipalities=3, no_osm=["GM9902"])
    gem = gpd.read_file(paths["gemeente"]).set_index("gemeentecode")
    lines = _way_lines(ET.parse(paths["osm"]).getroot())
    hit = {code: int(lines.intersects(geom).sum()) for code, geom in gem.geometry.items()}
    assert hit["GM9902"] == 0 and hit["GM9901"] > 100 and hit["GM9903"] > 100, hit
    root = ET.parse(paths["osm"]).getroot()
    pts = gpd.GeoSeries(gpd.points_from_xy([float(n.get("lon")) for n in root.iter("node")],
                                           [float(n.get("lat")) for n in root.iter("node")]), crs=4326).to_crs(28992)
    assert not pts.within(gem.geometry["GM9902"].buffer(300)).any()
    # the other files still hold it
    assert "GM9902" in set(gpd.read_file(paths["buurten"])["gemeentecode"])
    assert "GM9902 " in paths["readme"].read_text(encoding="utf-8")
    assert "no_osm=GM9902" in Path(str(paths["osm"]) + ".provenance.json").read_text(encoding="utf-8")


def test_cli_country(tmp_path):
    assert demo.main([str(tmp_path / "cli"), "--country", "2", "--seed", "3", "--no-osm", "GM9902"]) == 0
    assert (tmp_path / "cli" / demo.COUNTRY_FILES["osm"]).is_file()
