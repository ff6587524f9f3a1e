"""Tests of the synthetic demo city (healthgeo.demo): formats, determinism and spatial sense."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from healthgeo import demo
from healthgeo.io import sha256_file

# rasterio 1.4 itself multiplies Affine objects with `*` (PendingDeprecationWarning, not ours)
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

HASHED = ("no2", "pm25", "health", "osm", "sensors", "sensor_locations", "buurten", "kerncijfers",
          "noise_lden", "dwellings", "population_grid")


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo42")
    t0 = time.perf_counter()
    paths = demo.generate(out, seed=42)
    return paths, time.perf_counter() - t0


@pytest.fixture(scope="session")
def files(demo_run) -> dict[str, Path]:
    return demo_run[0]


@pytest.fixture(scope="session")
def buurten(files):
    import geopandas as gpd

    return gpd.read_file(files["buurten"])


@pytest.fixture(scope="session")
def kwb(files) -> pd.DataFrame:
    return pd.read_excel(files["kerncijfers"], sheet_name="kwb-2023", na_values=".")


@pytest.fixture(scope="session")
def osm_lines(files):
    import geopandas as gpd

    return gpd.read_file(files["osm"], layer="lines").to_crs(28992)


@pytest.fixture(scope="session")
def osm_areas(files):
    import geopandas as gpd

    return gpd.read_file(files["osm"], layer="multipolygons").to_crs(28992)


# ------------------------------------------------------------------------------ API and files
def test_every_file_written_and_small_and_fast(files, demo_run):
    assert set(files) == set(demo.FILES)
    for key, rel in demo.FILES.items():
        assert files[key] == files["readme"].parent / rel
        assert files[key].exists(), key
    for rel in demo.ALL_FILES:
        assert (files["readme"].parent / rel).is_file(), rel
    total = sum(p.stat().st_size for p in files["readme"].parent.rglob("*") if p.is_file())
    assert total < 30e6
    assert demo_run[1] < 30
    assert "SYNTHETIC" in files["readme"].read_text(encoding="utf-8")
    assert "seed 42" in files["readme"].read_text(encoding="utf-8")
    assert demo.SYNTHETIC is True and "CC0" in demo.DEMO_LICENCE


def test_output_files_lists_exactly_what_generate_writes(files):
    out = files["readme"].parent
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert sorted(demo.output_files(out)) == sorted(f"{out.as_posix()}/{w}" for w in written)
    assert demo.output_files("data/raw/demo")[0].startswith("data/raw/demo/")


def test_no_temporary_files_left(files):
    leftovers = [p for p in files["readme"].parent.rglob(".*") if p.is_file()]
    assert leftovers == []


def test_same_seed_same_bytes_other_seed_differs(files, tmp_path):
    # the default extent spelled out (ints) is the default: same bytes
    again = demo.generate(tmp_path / "a", seed=42, origin=(150_000, 440_000), size_m=10_000)
    for key in HASHED:
        assert sha256_file(files[key]) == sha256_file(again[key]), key
    for rel in demo.STATION_FILES:
        assert sha256_file(files["readme"].parent / rel) == sha256_file(tmp_path / "a" / rel)
    other = demo.generate(tmp_path / "b", seed=7)
    for key in ("no2", "health", "osm", "sensors", "buurten"):
        assert sha256_file(files[key]) != sha256_file(other[key]), key


def test_bad_municipality_code_is_refused(tmp_path):
    from healthgeo._errors import ConfigError

    with pytest.raises(ConfigError, match="GM"):
        demo.generate(tmp_path, municipality="9999")


def test_cli_writes_files(tmp_path):
    assert demo.main([str(tmp_path / "cli"), "--seed", "3"]) == 0
    assert (tmp_path / "cli" / demo.FILES["osm"]).is_file()


# ------------------------------------------------------------------------------ boundaries
def test_boundaries_tile_the_gemeente(files, buurten):
    import geopandas as gpd

    wijken = gpd.read_file(files["wijken"])
    gemeente = gpd.read_file(files["gemeente"])
    for gdf in (buurten, wijken, gemeente):
        assert gdf.crs.to_epsg() == 28992
        assert gdf.geometry.is_valid.all()
    area = gemeente.geometry.area.sum()
    assert abs(buurten.geometry.area.sum() - area) < 1.0
    assert abs(wijken.geometry.area.sum() - area) < 1.0
    # no overlaps: pairwise intersections of neighbours
    sj = gpd.sjoin(buurten[["buurtcode", "geometry"]], buurten[["buurtcode", "geometry"]],
                   predicate="intersects")
    sj = sj[sj.buurtcode_left < sj.buurtcode_right]
    geoms = buurten.set_index("buurtcode").geometry
    overlap = [geoms[a].intersection(geoms[b]).area for a, b in zip(sj.buurtcode_left, sj.buurtcode_right)]
    assert max(overlap) < 1.0
    # each buurt lies in its own wijk
    wg = wijken.set_index("wijkcode").geometry
    for code, geom, wk in zip(buurten.buurtcode, buurten.geometry, buurten.wijkcode):
        assert geom.difference(wg[wk]).area < 1.0, code


def test_codes_follow_cbs_patterns(files, buurten):
    import geopandas as gpd

    wijken = gpd.read_file(files["wijken"])
    assert 90 <= len(buurten) <= 110 and len(wijken) == 10
    assert buurten.buurtcode.str.fullmatch(r"BU9999(0[1-9]|10)\d\d").all()
    assert wijken.wijkcode.str.fullmatch(r"WK9999(0[1-9]|10)").all()
    assert (buurten.buurtcode.str[2:8] == buurten.wijkcode.str[2:]).all()
    assert buurten.buurtcode.is_unique
    assert (buurten.gemeentecode == "GM9999").all() and (buurten.gemeentenaam == "Demostad").all()


def test_pdok_geojson_layout_like_the_real_wfs(files, buurten):
    text = files["wijken"].read_text(encoding="utf-8")
    assert '"crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:EPSG::28992" } }' in text
    for col in ("buurtcode", "buurtnaam", "wijkcode", "gemeentecode", "gemeentenaam", "aantalInwoners",
                "mannen", "vrouwen", "percentagePersonen0Tot15Jaar", "percentagePersonen65JaarEnOuder",
                "aantalHuishoudens", "oppervlakteLandInHa", "jaar"):
        assert col in buurten.columns, col
    assert (buurten.jaar == 2022).all()
    assert (buurten.geometry.geom_type == "MultiPolygon").all()
    # edge cases: an empty buurt (with CBS's secrecy code in its percentages) and a tiny/thin one
    empty = buurten[buurten.aantalInwoners == 0]
    assert len(empty) >= 1 and (empty.percentagePersonen0Tot15Jaar == -99997).all()
    assert buurten.geometry.area.min() < 50_000
    assert (buurten.geometry.area / buurten.geometry.length).min() < 40


# ------------------------------------------------------------------------------ KWB
def test_kwb_layout_and_totals(kwb, buurten):
    for col in ("gwb_code_10", "gwb_code_8", "regio", "gm_naam", "recs", "gwb_code", "ind_wbi", "a_inw",
                "a_00_14", "a_65_oo", "a_hh", "g_hhgro", "bev_dich", "a_woning", "g_ink_pi", "p_hh_li",
                "a_opp_ha", "a_lan_ha", "ste_mvs"):
        assert col in kwb.columns, col
    assert kwb.recs.value_counts().to_dict() == {"Buurt": len(buurten), "Wijk": 10, "Gemeente": 1}
    gm = kwb[kwb.recs == "Gemeente"].iloc[0]
    bu = kwb[kwb.recs == "Buurt"]
    assert abs(bu.a_inw.sum() - gm.a_inw) <= 2.5 * len(bu)
    assert (bu.a_inw % 5 == 0).all()
    assert bu.g_ink_pi.isna().sum() in range(2, 12)
    assert bu.loc[bu.a_inw == 0, "g_ink_pi"].isna().all()
    assert bu.g_ink_pi.dropna().between(15, 60).all()
    assert bu.p_hh_li.dropna().between(0, 50).all()


def test_kwb_uses_dot_for_missing(files):
    import openpyxl

    ws = openpyxl.load_workbook(files["kerncijfers"], read_only=True)["kwb-2023"]
    rows = list(ws.iter_rows(values_only=True))
    hdr = rows[0]
    col = hdr.index("g_ele")
    assert all(r[col] == "." for r in rows[1:])
    assert isinstance(rows[1][hdr.index("a_inw")], int)


# ------------------------------------------------------------------------------ health
def test_health_csv_layout_and_bounds(files, buurten):
    raw = files["health"].read_bytes()
    assert raw.startswith(b'"ID";"Leeftijd";"Marges";"WijkenEnBuurten"')
    df = pd.read_csv(files["health"], sep=";", dtype={"WijkenEnBuurten": str})
    assert df.WijkenEnBuurten.str.len().eq(10).all()
    assert df.Perioden.eq("2022JJ00").all() and df.Leeftijd.eq(20300).all()
    assert df.groupby("WijkenEnBuurten").Marges.nunique().eq(3).all()
    assert df.groupby("WijkenEnBuurten").size().eq(3).all()
    assert len(df) == 3 * (len(buurten) + 11)
    wide = df.pivot(index="WijkenEnBuurten", columns="Marges", values="ErvarenGezondheidGoedZeerGoed_4")
    ok = wide.dropna()
    assert (ok.MOG0095 <= ok.MW00000).all() and (ok.MW00000 <= ok.MBG0095).all()
    # suppressed: the zero-resident buurt
    zero = buurten.loc[buurten.aantalInwoners == 0, "buurtcode"]
    assert wide.loc[wide.index.str.strip().isin(zero)].isna().all().all()


# ------------------------------------------------------------------------------ rasters
def test_gcn_asc_like_rivm(files):
    import rasterio

    path = files["no2"]
    assert not path.with_suffix(".prj").exists()
    head = path.read_text(encoding="ascii").splitlines()[:6]
    assert [h.split()[0] for h in head] == ["NCOLS", "NROWS", "XLLCORNER", "YLLCORNER", "CELLSIZE",
                                            "NODATA_VALUE"]
    assert head[5].split()[1] == "-0.9990E+03"
    with rasterio.open(path) as src:
        assert src.crs is None
        assert src.res == (1000.0, 1000.0)
        b = src.bounds
        assert b.left <= 147_000 and b.right >= 163_000 and b.bottom <= 437_000 and b.top >= 453_000
        assert b.left % 1000 == 0 and b.bottom % 1000 == 0
        a = src.read(1, masked=True)
    assert a.mask[0, 0] and a.mask.sum() >= 1
    assert 11 <= a.min() and a.max() <= 36
    with rasterio.open(files["pm25"]) as src:
        p = src.read(1, masked=True)
    assert 6.5 <= p.min() and p.max() <= 11.5


def test_noise_tif_like_rivm(files):
    import rasterio

    with rasterio.open(files["noise_lden"]) as src:
        assert src.crs.to_epsg() == 28992
        assert src.res == (10.0, 10.0) and src.width >= 1000 and src.height >= 1000
        assert src.dtypes[0] == "float32" and src.nodata == pytest.approx(-3.4028234663852886e38)
        assert src.compression.name.lower() == "deflate" and src.profile["tiled"]
        lden = src.read(1, masked=True)
    with rasterio.open(files["noise_lnight"]) as src:
        lnight = src.read(1, masked=True)
    assert lden.mask.any()
    assert 30 < lden.min() and lden.max() < 80
    diff = (lden - lnight).compressed()
    assert 7.5 <= diff.min() and diff.max() <= 10.5


def _raster_mean_in(path, geoms):
    import rasterio
    from rasterio.mask import mask

    with rasterio.open(path) as src:
        arr, _ = mask(src, geoms, crop=True, filled=False)
    return float(arr.mean())


def test_parks_quiet_and_main_roads_loud(files, osm_lines, osm_areas):
    parks = osm_areas[osm_areas.leisure == "park"]
    primary = osm_lines[osm_lines.highway == "primary"].buffer(10)
    assert len(parks) >= 8
    park_db = _raster_mean_in(files["noise_lden"], list(parks.geometry))
    road_db = _raster_mean_in(files["noise_lden"], list(primary))
    assert road_db - park_db > 10


def test_no2_higher_near_main_roads_and_centre(files, osm_lines):
    import rasterio
    import shapely

    with rasterio.open(files["no2"]) as src:
        a = src.read(1, masked=True)
        rows, cols = np.indices(a.shape)
        xs, ys = rasterio.transform.xy(src.transform, rows.ravel(), cols.ravel())
    main = shapely.union_all(osm_lines[osm_lines.highway.isin(["primary", "secondary", "trunk"])].geometry)
    d = shapely.distance(shapely.points(np.array(xs), np.array(ys)), main).reshape(a.shape)
    near = a[(d < 300) & ~a.mask].mean()
    far = a[(d > 1500) & ~a.mask].mean()
    assert near - far > 2


# ------------------------------------------------------------------------------ OSM
def test_osm_loads_in_osmnx_with_dutch_tagging(files):
    import osmnx as ox

    text = files["osm"].read_text(encoding="utf-8")
    assert 'generator="healthgeo-demo"' in text and 'version="0.6"' in text
    assert not re.search(r'id="-', text)
    G = ox.graph_from_xml(files["osm"], simplify=True, retain_all=True)
    assert len(G) > 1500
    hw = set()
    for _, _, d in G.edges(data=True):
        h = d.get("highway")
        hw.update(h if isinstance(h, list) else [h])
    assert {"primary", "secondary", "tertiary", "residential", "living_street", "service", "footway",
            "path", "cycleway", "trunk"} <= hw
    for tag in ('k="access" v="private"', 'k="footway" v="sidewalk"', 'k="cycleway" v="track"',
                'k="bicycle" v="no"', 'k="oneway" v="yes"', 'k="foot" v="designated"'):
        assert tag in text, tag


def test_osm_features_cover_every_amenity_category(files):
    import osmnx as ox

    f = ox.features_from_xml(files["osm"], tags={"leisure": True, "amenity": True, "shop": True,
                                                 "landuse": True, "natural": True, "highway": ["bus_stop"],
                                                 "railway": ["tram_stop"], "healthcare": True})
    col = lambda c: f[c].dropna() if c in f else pd.Series(dtype=object)  # noqa: E731
    assert {"supermarket", "greengrocer"} <= set(col("shop"))
    assert {"fast_food", "doctors", "pharmacy", "school"} <= set(col("amenity"))
    assert {"park", "garden", "playground", "sports_centre", "pitch"} <= set(col("leisure"))
    assert {"grass", "forest", "cemetery"} <= set(col("landuse")) and "wood" in set(col("natural"))
    assert "doctor" in set(col("healthcare")) and "1" in set(col("isced:level"))
    assert "bus_stop" in set(col("highway")) and "tram_stop" in set(col("railway"))
    parks = f[f.get("leisure").eq("park")].to_crs(28992)
    area_ha = parks.area / 1e4
    assert area_ha.max() >= 25 and area_ha.min() <= 0.3 and (area_ha >= 1).sum() >= 5
    assert parks["name"].notna().sum() >= 8


# ------------------------------------------------------------------------------ population
def test_bag_dwellings_match_residents(files, kwb, buurten):
    import geopandas as gpd
    import pyogrio

    assert pyogrio.list_layers(files["dwellings"])[0][0] == "verblijfsobject"
    vbo = gpd.read_file(files["dwellings"], layer="verblijfsobject")
    assert vbo.crs.to_epsg() == 28992
    assert vbo.identificatie.str.fullmatch(r"999901\d{10}").all() and vbo.identificatie.is_unique
    assert {"woonfunctie", "kantoorfunctie", "winkelfunctie", "woonfunctie,winkelfunctie"} <= set(vbo.gebruiksdoel)
    assert {"oppervlakte", "status", "bouwjaar"} <= set(vbo.columns)
    woon = vbo[vbo.gebruiksdoel.str.contains("woonfunctie")]
    joined = gpd.sjoin(woon, buurten[["buurtcode", "geometry"]], predicate="within")
    per_buurt = joined.groupby("buurtcode").size()
    bu = kwb[kwb.recs == "Buurt"].set_index("gwb_code_10")
    assert per_buurt.reindex(bu.index, fill_value=0).eq(bu.a_woning).all()
    zero = bu.index[bu.a_inw == 0]
    assert per_buurt.reindex(zero, fill_value=0).eq(0).all()
    ratio = bu.a_inw.sum() / len(woon)
    assert 1.7 < ratio < 2.6


def test_vk100_grid_consistent(files, kwb):
    import geopandas as gpd

    g = gpd.read_file(files["population_grid"], layer="vierkant_100m")
    assert g.crs.to_epsg() == 28992
    assert g.crs28992res100m.str.fullmatch(r"E\d{4}N\d{4}").all()
    assert np.allclose(g.geometry.area.to_numpy(), 10_000)
    x = g.geometry.bounds.minx.astype(int) // 100
    assert (g.crs28992res100m.str[1:5].astype(int) == x).all()
    inw = g.aantal_inwoners
    assert (inw == -99997).any()
    ok = inw[inw >= 0]
    assert (ok % 5 == 0).all()
    total = kwb.loc[kwb.recs == "Gemeente", "a_inw"].iloc[0]
    n_secret = int((inw == -99997).sum())  # each hides 1-4 residents
    assert abs(ok.sum() + 2.5 * n_secret - total) / total < 0.03
    for col in ("aantal_inwoners_0_tot_15_jaar", "aantal_inwoners_65_jaar_en_ouder", "aantal_woningen"):
        assert col in g.columns


# ------------------------------------------------------------------------------ air stations
def test_luchtmeetnet_bulk_format(files):
    path = files["readme"].parent / demo.STATION_FILES[0]
    lines = path.read_bytes().decode("latin-1").splitlines()
    assert lines[0].split(";")[4] == "StationsCode"
    assert lines[3].split(";")[4] == "Latitude,Longitude"
    assert lines[9].startswith("Component;Bep.periode;Eenheid; Begindatumtijd;Einddatumtijd;NL999")
    assert "µg/m³" in lines[10]
    df = pd.read_csv(path, sep=";", skiprows=9, encoding="latin-1")
    codes = [c for c in df.columns if c.startswith("NL")]
    assert 4 <= len(codes) <= 6
    assert len(df) == 31 * 24
    means = df[codes].mean()
    meta = dict(zip(lines[0].split(";")[5:], lines[5].split(";")[5:]))
    traffic = [c for c in codes if meta[c] == "verkeer"]
    background = [c for c in codes if meta[c] == "achtergrond"]
    assert means[traffic].min() > means[background].mean()
    assert df[codes].isna().any().any()


def test_samenmeten_pivot(files):
    df = pd.read_csv(files["sensors"])
    assert df.columns[0] == "phenomenonTime"
    assert df.phenomenonTime.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00\.000Z").all()
    vals = df.iloc[:, 1:]
    assert (vals == -999.0).any().any()
    hours = pd.date_range("2023-01-01", "2023-04-01", freq="h", inclusive="left").size
    completeness = vals.where(vals > -999).notna().sum() / hours
    assert (completeness < 0.75).sum() >= 2 and (completeness > 0.9).sum() >= 3
    things = pd.read_csv(files["sensor_locations"])
    assert list(things.columns) == ["name", "lon", "lat"]
    assert things.name.str.startswith(" ").all()
    names = set(things.name.str.strip())
    assert set(vals.columns) - names and names - set(vals.columns)
    assert things.lon.between(5.2, 5.6).all() and things.lat.between(51.9, 52.1).all()


# ------------------------------------------------------------------------------ social gradient
def test_poorer_and_less_healthy_near_the_ring_road(files, kwb, buurten, osm_lines):
    ring = osm_lines[osm_lines["name"].fillna("").str.startswith("Ringweg")].union_all()
    b = buurten.set_index("buurtcode")
    d_ring = b.geometry.centroid.distance(ring)
    bu = kwb[kwb.recs == "Buurt"].set_index("gwb_code_10")
    inc = bu.g_ink_pi.dropna()
    r = np.corrcoef(d_ring[inc.index], inc)[0, 1]
    assert r > 0.3  # income rises with distance from the ring road
    r_li = np.corrcoef(d_ring[inc.index], bu.loc[inc.index, "p_hh_li"])[0, 1]
    assert r_li < -0.3
    assert r < 0.98  # not a perfect relation
    h = pd.read_csv(files["health"], sep=";")
    h = h[(h.Marges == "MW00000") & (h.SoortRegio_2.str.strip() == "Buurt")]
    h = h.set_index(h.WijkenEnBuurten.str.strip()).ErvarenGezondheidGoedZeerGoed_4.dropna()
    common = h.index.intersection(inc.index)
    assert np.corrcoef(h[common], inc[common])[0, 1] > 0.3


# ------------------------------------------------------------------------------ placement (origin, size_m)
UTRECHT = (126_000.0, 448_000.0)  # lower-left of a 16 km square over the real municipality of Utrecht
UTRECHT_SIZE = 16_000.0
UTRECHT_EXTENT = (126_000.0, 448_000.0, 142_000.0, 464_000.0)


@pytest.fixture(scope="session")
def placed_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_utrecht")
    t0 = time.perf_counter()
    paths = demo.generate(out, seed=42, origin=UTRECHT, size_m=UTRECHT_SIZE)
    return paths, time.perf_counter() - t0


@pytest.fixture(scope="session")
def placed(placed_run) -> dict[str, Path]:
    return placed_run[0]


def _inside(bounds, extent, margin=0.0) -> bool:
    x0, y0, x1, y1 = extent
    return (bounds[0] >= x0 - margin and bounds[1] >= y0 - margin and bounds[2] <= x1 + margin
            and bounds[3] <= y1 + margin)


def test_placed_city_is_fast_small_and_complete(placed, placed_run):
    out = placed["readme"].parent
    assert placed_run[1] < 30
    assert sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) < 30e6
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert sorted(demo.output_files(out)) == sorted(f"{out.as_posix()}/{w}" for w in written)
    readme = placed["readme"].read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "126000,448000,142000,464000" in readme
    import json

    side = json.loads(Path(str(placed["osm"]) + ".provenance.json").read_text(encoding="utf-8"))
    assert side["params"] == "seed=42;extent=126000,448000,142000,464000" and "SYNTHETIC" in side["note"]


def test_placed_boundaries_fill_the_extent(placed, files, buurten):
    import geopandas as gpd

    b = gpd.read_file(placed["buurten"])
    gem = gpd.read_file(placed["gemeente"])
    assert b.crs.to_epsg() == 28992 and b.geometry.is_valid.all()
    assert len(b) == len(buurten)  # same city, moved and scaled
    assert _inside(b.total_bounds, UTRECHT_EXTENT)
    x0, y0, x1, y1 = b.total_bounds
    assert (x1 - x0) * (y1 - y0) > 0.8 * UTRECHT_SIZE**2  # the rounded outline spans the square
    assert b.geometry.area.sum() > 0.55 * UTRECHT_SIZE**2
    assert abs(b.geometry.area.sum() - gem.geometry.area.sum()) < 1.0
    scale2 = (UTRECHT_SIZE / 10_000) ** 2
    assert gem.geometry.area.sum() == pytest.approx(gpd.read_file(files["gemeente"]).area.sum() * scale2,
                                                   rel=1e-9)
    # recorded areas scale with the geometry
    assert gem.oppervlakteTotaalInHa.iloc[0] == pytest.approx(gem.geometry.area.iloc[0] / 1e4, abs=1)


def test_placed_gcn_grids_stay_on_the_rd_km_grid(placed):
    import rasterio

    for key in ("no2", "pm25", "pm10"):
        head = dict(line.split() for line in placed[key].read_text(encoding="ascii").splitlines()[:6])
        xll, yll = int(head["XLLCORNER"]), int(head["YLLCORNER"])
        assert xll % 1000 == 0 and yll % 1000 == 0 and int(head["CELLSIZE"]) == 1000
        with rasterio.open(placed[key]) as src:
            b = src.bounds
            a = src.read(1, masked=True)
        x0, y0, x1, y1 = UTRECHT_EXTENT
        assert b.left <= x0 - 3000 and b.bottom <= y0 - 3000 and b.right >= x1 + 3000 and b.top >= y1 + 3000
        assert b.left > x0 - 4000 and b.top < y1 + 4000  # a margin, not more
        assert a.mask[0, 0] and a.count() > 0.95 * a.size
    # snapping of an origin off the km grid: down to whole km, the far side up
    assert demo.gcn_grid((126_250.5, 448_730.0), 16_000) == ((123_000, 445_000), (23, 23))
    assert demo.gcn_grid() == (demo.GCN_ORIGIN, demo.GCN_SHAPE)
    assert demo.noise_grid((126_255.0, 448_731.0), 16_000) == ((125_750, 448_230), (1701, 1701))
    assert demo.noise_grid() == (demo.NOISE_ORIGIN, demo.NOISE_SHAPE)


def test_placed_noise_covers_the_extent(placed):
    import rasterio

    for key, low in (("noise_lden", 30), ("noise_lnight", 20)):
        with rasterio.open(placed[key]) as src:
            assert src.crs.to_epsg() == 28992 and src.res == (10.0, 10.0)
            b = src.bounds
            assert b.left % 10 == 0 and b.bottom % 10 == 0
            x0, y0, x1, y1 = UTRECHT_EXTENT
            assert b.left <= x0 and b.bottom <= y0 and b.right >= x1 and b.top >= y1
            assert b.left >= x0 - 1000 and b.top <= y1 + 1000
            a = src.read(1, masked=True)
        assert low < a.min() and a.max() < 80 and a.mask.any()


def test_placed_osm_loads_in_osmnx_within_the_extent(placed, osm_lines):
    import osmnx as ox

    G = ox.graph_from_xml(placed["osm"], simplify=True, retain_all=True)
    assert len(G) > 1500
    nodes = ox.graph_to_gdfs(ox.project_graph(G, to_crs="EPSG:28992"), edges=False)
    margin = 0.1 * UTRECHT_SIZE  # arterial roads run a little past the extent, as in the default
    assert _inside(nodes.total_bounds, UTRECHT_EXTENT, margin)
    x0, y0, x1, y1 = nodes.total_bounds
    assert (x1 - x0) > 0.8 * UTRECHT_SIZE and (y1 - y0) > 0.8 * UTRECHT_SIZE
    hw = set()
    for _, _, d in G.edges(data=True):
        h = d.get("highway")
        hw.update(h if isinstance(h, list) else [h])
    assert {"primary", "secondary", "residential", "trunk"} <= hw
    # the same road network, scaled: total length of the primary roads grows with size_m
    import geopandas as gpd

    lines = gpd.read_file(placed["osm"], layer="lines").to_crs(28992)
    ratio = lines[lines.highway == "primary"].length.sum() / osm_lines[osm_lines.highway == "primary"].length.sum()
    assert ratio == pytest.approx(UTRECHT_SIZE / 10_000, rel=0.01)


def test_placed_points_move_with_the_city(placed):
    import geopandas as gpd
    from pyproj import Transformer

    vbo = gpd.read_file(placed["dwellings"], layer="verblijfsobject")
    assert _inside(vbo.total_bounds, UTRECHT_EXTENT) and len(vbo) < 60_000
    g = gpd.read_file(placed["population_grid"], layer="vierkant_100m")
    mins = g.geometry.bounds
    assert (mins.minx % 100 == 0).all() and (mins.miny % 100 == 0).all()
    assert (g.crs28992res100m.str[1:5].astype(int) == mins.minx.astype(int) // 100).all()
    assert (g.crs28992res100m.str[6:10].astype(int) == mins.miny.astype(int) // 100).all()
    assert _inside(g.total_bounds, UTRECHT_EXTENT, 100)
    to_rd = Transformer.from_crs(4326, 28992, always_xy=True)
    things = pd.read_csv(placed["sensor_locations"])
    x, y = to_rd.transform(things.lon.to_numpy(), things.lat.to_numpy())
    assert _inside((x.min(), y.min(), x.max(), y.max()), UTRECHT_EXTENT)
    lines = (placed["readme"].parent / demo.STATION_FILES[0]).read_bytes().decode("latin-1").splitlines()
    latlon = [tuple(map(float, v.strip("()").split(","))) for v in lines[3].split(";")[5:]]
    gebied = lines[4].split(";")[5:]
    city = [(lon, lat) for (lat, lon), geb in zip(latlon, gebied) if geb == "stad"]
    assert len(city) >= 3
    x, y = to_rd.transform(*np.array(city).T)
    assert _inside((x.min(), y.min(), x.max(), y.max()), UTRECHT_EXTENT)


def test_cli_origin_and_size_give_the_same_bytes_as_the_api(placed, tmp_path):
    out = tmp_path / "cli_utrecht"
    assert demo.main([str(out), "--origin", "126000", "448000", "--size-m", "16000"]) == 0
    for key in HASHED:
        assert sha256_file(placed[key]) == sha256_file(out / demo.FILES[key]), key


@pytest.mark.parametrize("kwargs", [
    {"size_m": 500}, {"size_m": 100_000}, {"size_m": float("nan")},
    {"origin": (-50_000.0, 448_000.0)}, {"origin": (126_000.0, 700_000.0)}, {"origin": (126_000.0,)},
    {"origin": ("a", "b")},
])
def test_bad_extent_is_refused_before_writing(tmp_path, kwargs):
    from healthgeo._errors import ConfigError

    with pytest.raises(ConfigError, match="origin|size_m"):
        demo.generate(tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()
