"""Provider adapters against a local replay server (no internet).

Each test also checks the exact path + query the real provider would receive: adapters only swap
scheme+host for ``base_url``, so the replay server sees the production path and parameters.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import numpy as np
import pytest

from healthgeo._errors import ConfigError, DownloadError, InputDataError
from healthgeo.sources import (PROVIDERS, fetch_input, read_boundaries, read_gcn_ascii, read_health,
                               read_kerncijfers, read_luchtmeetnet, read_samenmeten_csv)

AREA = {"municipality": "GM0344", "year": 2023, "crs": "EPSG:28992"}
CRS = "http://www.opengis.net/def/crs/EPSG/0/28992"


pytestmark = pytest.mark.usefixtures("fast_http")


def q(req):
    """Query of a recorded request as a flat dict (single values)."""
    return {k: v[0] if len(v) == 1 else v for k, v in req.query.items()}


def feature(code, x0, **props):
    return {"type": "Feature", "properties": {"buurtcode": code, "buurtnaam": code[-2:], "wijkcode": code[:8].replace("BU", "WK"),
                                              "gemeentecode": "GM0344", "aantal_inwoners": 100, **props},
            "geometry": {"type": "Polygon", "coordinates": [[[x0, 450000], [x0 + 100, 450000], [x0 + 100, 450100],
                                                             [x0, 450100], [x0, 450000]]]}}


# ----------------------------------------------------------------------------- PDOK
def test_pdok_ogc_paging_real_url_and_reader(srv, tmp_path):
    path = "/cbs/wijken-en-buurten-2023/ogc/v1/collections/buurten/items"
    srv.add(path, query={"offset": "2"}, json={"type": "FeatureCollection", "features": [feature("BU03440003", 300)],
                                               "links": [{"rel": "self", "href": "x"}]})
    srv.add(path, json={"type": "FeatureCollection",
                        "features": [feature("BU03440001", 100), feature("BU03440002", 200)],
                        "links": [{"rel": "next", "type": "application/geo+json",
                                   "href": srv.url(path + "?gemeentecode=GM0344&f=json&limit=1000&offset=2")}]})
    spec = {"provider": "pdok", "year": 2023, "level": "buurt", "base_url": srv.base}
    out, prov = fetch_input("boundaries_buurt", spec, area=AREA, cache_dir=tmp_path)
    first = srv.requests[0]
    assert first.path == path  # = https://api.pdok.nl/cbs/wijken-en-buurten-2023/ogc/v1/collections/buurten/items
    assert q(first) == {"gemeentecode": "GM0344", "f": "json", "limit": "1000", "crs": CRS}
    assert len(srv.requests) == 2
    b = read_boundaries(out, "buurt")
    assert list(b.index) == ["BU03440001", "BU03440002", "BU03440003"]
    assert b.crs.equals("EPSG:28992") and b["area_m2"].iloc[0] == pytest.approx(10000)
    assert prov[0].licence.startswith("CC BY 4.0") and prov[0].sha256 and "wijken-en-buurten-2023" in prov[0].url
    # cache: the same fetch makes no request
    fetch_input("boundaries_buurt", spec, area=AREA, cache_dir=tmp_path)
    assert len(srv.requests) == 2


def test_pdok_answer_in_lonlat_is_refused_and_not_cached(srv, tmp_path):
    """A service ignoring `crs=` (CRS84 degrees) must not become wards in the sea, nor stay cached."""
    path = "/cbs/wijken-en-buurten-2023/ogc/v1/collections/buurten/items"
    lonlat = {"type": "Feature", "properties": {"buurtcode": "BU03440001", "gemeentecode": "GM0344"},
              "geometry": {"type": "Polygon", "coordinates": [[[5.10, 52.09], [5.11, 52.09], [5.11, 52.10],
                                                               [5.10, 52.09]]]}}
    srv.add(path, json={"type": "FeatureCollection", "features": [lonlat], "links": []})
    spec = {"provider": "pdok", "year": 2023, "level": "buurt", "base_url": srv.base}
    with pytest.raises(InputDataError, match="lon/lat"):
        fetch_input("boundaries_buurt", spec, area=AREA, cache_dir=tmp_path)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    with pytest.raises(InputDataError, match="lon/lat"):  # asked again, not served from a cache
        fetch_input("boundaries_buurt", spec, area=AREA, cache_dir=tmp_path)
    assert len(srv.requests) == 2


def test_pdok_empty_result_is_clear_error(srv, tmp_path):
    srv.add("/cbs/wijken-en-buurten-2021/ogc/v1/collections/wijken/items",
            json={"type": "FeatureCollection", "features": [], "links": []})
    with pytest.raises(InputDataError, match="no wijken returned"):
        fetch_input("w", {"provider": "pdok", "year": 2021, "level": "wijk", "base_url": srv.base},
                    area=AREA, cache_dir=tmp_path)


def test_pdok_wfs(srv, tmp_path):
    srv.add("/cbs/wijkenbuurten/2022/wfs/v1_0", json={"type": "FeatureCollection",
                                                      "features": [feature("BU03440001", 0)]})
    out, _ = fetch_input("b", {"provider": "pdok", "year": 2022, "service": "wfs", "base_url": srv.base},
                         area=AREA, cache_dir=tmp_path)
    r = q(srv.requests[0])
    assert srv.requests[0].path == "/cbs/wijkenbuurten/2022/wfs/v1_0"
    assert {k: r[k] for k in ("service", "version", "request", "typeNames", "outputFormat")} == {
        "service": "WFS", "version": "2.0.0", "request": "GetFeature", "typeNames": "wijkenbuurten:buurten",
        "outputFormat": "application/json"}
    assert "GM0344" in r["filter"] and r["count"] == "1000" and r["startIndex"] == "0"
    assert len(read_boundaries(out, "buurt")) == 1


def test_pdok_500_forever_download_error(srv, tmp_path):
    srv.add("/cbs/wijken-en-buurten-2023/ogc/v1/collections/buurten/items", status=503, body="down")
    with pytest.raises(DownloadError) as ei:
        fetch_input("b", {"provider": "pdok", "year": 2023, "base_url": srv.base, "max_retries": 2},
                    area=AREA, cache_dir=tmp_path)
    assert ei.value.provider == "pdok" and "503" in ei.value.cause and len(srv.requests) == 3
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


# ----------------------------------------------------------------------------- CBS OData
KWB_ROW = {"WijkenEnBuurten": "BU03440111", "SoortRegio_2": "Buurt     ", "AantalInwoners_5": 1810,
           "k_0Tot15Jaar_8": 200, "k_15Tot25Jaar_9": 235, "k_25Tot45Jaar_10": 780, "k_45Tot65Jaar_11": 235,
           "k_65JaarOfOuder_12": 360, "HuishoudensTotaal_28": 1070, "GemiddeldInkomenPerInwoner_72": None,
           "HuishoudensMetEenLaagInkomen_80": None, "OppervlakteLand_113": 36}


def test_cbs_odata_kwb(srv, tmp_path):
    path = "/ODataApi/odata/85618NED/TypedDataSet"
    srv.add(path, query={"$skip": "1"}, json={"odata.metadata": "x", "value": [{**KWB_ROW, "WijkenEnBuurten": "GM0344    ",
                                                                              "SoortRegio_2": "Gemeente  ",
                                                                              "AantalInwoners_5": 367947}]})
    srv.add(path, json={"odata.metadata": "x", "value": [KWB_ROW],
                        "odata.nextLink": srv.url(path + "?$skip=1")})
    srv.add("/ODataApi/odata/85618NED/WijkenEnBuurten", json={"value": [
        {"Key": "GM0344    ", "Title": "Utrecht"}, {"Key": "BU03440111", "Title": "Welgelegen, Den Hommel"}]})
    out, prov = fetch_input("kerncijfers", {"provider": "cbs_odata", "year": 2023, "base_url": srv.base},
                            area=AREA, cache_dir=tmp_path)
    assert srv.requests[-1].path == "/ODataApi/odata/85618NED/WijkenEnBuurten"
    assert "startswith(Key,'BU0344')" in q(srv.requests[-1])["$filter"]
    r = srv.requests[0]
    assert r.path == path  # https://opendata.cbs.nl/ODataApi/odata/85618NED/TypedDataSet
    assert q(r) == {"$format": "json", "$filter": "(startswith(WijkenEnBuurten,'GM0344') or "
                    "startswith(WijkenEnBuurten,'WK0344') or startswith(WijkenEnBuurten,'BU0344'))"}
    k = read_kerncijfers(out)
    assert k.loc["GM0344", "residents"] == 367947 and k.loc["BU03440111", "level"] == "buurt"
    assert np.isnan(k.loc["BU03440111", "income_keur_per_resident"])
    assert k.loc["BU03440111", "name"] == "Welgelegen, Den Hommel"


def test_health_odata_filter_and_margins(srv, tmp_path):
    path = "/ODataApi/OData/50120NED/TypedDataSet"
    rows = []
    for m, v in (("MW00000", 80.8), ("MOG0095", 79.9), ("MBG0095", 81.6)):
        row = {"Leeftijd": "20300", "Marges": m, "WijkenEnBuurten": "GM0344    ", "Perioden": "2022JJ00"}
        for i, s in enumerate(["ErvarenGezondheidGoedZeerGoed", "VoldoetAanBeweegrichtlijn", "Overgewicht", "Roker",
                               "EenOfMeerLangdurigeAandoeningen", "HoogRisicoOpAngstOfDepressie",
                               "HeelVeelStressInAfgelopen4Weken", "Eenzaam", "ErnstigZeerErnstigEenzaam",
                               "MoeiteMetRondkomen"]):
            row[f"{s}_{i + 5}"] = v
        rows.append(row)
    srv.add(path, json={"value": rows})
    out, _ = fetch_input("health", {"provider": "rivm_gezondheid", "year": 2022, "base_url": srv.base},
                         area=AREA, cache_dir=tmp_path)
    r = srv.requests[0]
    assert r.path == path  # https://dataderden.cbs.nl/ODataApi/OData/50120NED/TypedDataSet
    assert q(r)["$filter"] == (
        "Leeftijd eq '20300' and (Marges eq 'MW00000' or Marges eq 'MOG0095' or Marges eq 'MBG0095') and "
        "Perioden eq '2022JJ00' and (startswith(WijkenEnBuurten,'GM0344') or startswith(WijkenEnBuurten,'WK0344') "
        "or startswith(WijkenEnBuurten,'BU0344'))")
    h = read_health(out)
    assert h.loc["GM0344", ["health_good_health_pct", "health_good_health_pct_lo95",
                            "health_good_health_pct_hi95"]].tolist() == [80.8, 79.9, 81.6]
    with pytest.raises(InputDataError, match="age"):
        fetch_input("h", {"provider": "rivm_gezondheid", "year": 2022, "age": "999"}, area=AREA, cache_dir=tmp_path)


# ----------------------------------------------------------------------------- GCN / ALO
ASC = ("NCOLS 3\nNROWS 2\nXLLCORNER 0\nYLLCORNER 300000\nCELLSIZE 1000\nNODATA_VALUE -0.9990E+03\n"
       "1 2 3\n4 -0.9990E+03 6\n")


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    return buf.getvalue()


def test_gcn_zip_extract_and_read(srv, tmp_path):
    srv.add("/data/gcn/conc_no2_2023.zip", body=_zip({"conc_no2_2023/conc_no2_2023.asc": ASC, "Factsheet.pdf": "x"}),
            headers={"Content-Type": "application/zip"})
    out, prov = fetch_input("no2_gcn", {"provider": "rivm_gcn", "year": 2023, "pollutant": "no2",
                                        "base_url": srv.base}, area=AREA, cache_dir=tmp_path)
    assert srv.requests[0].raw == "/data/gcn/conc_no2_2023.zip"  # https://data.rivm.nl/data/gcn/conc_no2_2023.zip
    arr, profile = read_gcn_ascii(out)
    assert np.isnan(arr[1, 1]) and np.nansum(arr) == 16 and profile["crs"].to_epsg() == 28992
    assert prov[0].provider == "rivm_gcn"


def test_gcn_zip_slip_and_corrupted(srv, tmp_path):
    srv.add("/data/gcn/conc_pm25_2023.zip", body=_zip({"../../evil.asc": ASC}))
    with pytest.raises(DownloadError, match="zip-slip"):
        fetch_input("x", {"provider": "rivm_gcn", "year": 2023, "pollutant": "pm25", "base_url": srv.base},
                    area=AREA, cache_dir=tmp_path)
    assert not (tmp_path.parent / "evil.asc").exists()
    srv.add("/data/gcn/conc_pm10_2023.zip", body=b"PK\x03\x04garbage" * 10)
    with pytest.raises(DownloadError, match="zip"):
        fetch_input("x", {"provider": "rivm_gcn", "year": 2023, "pollutant": "pm10", "base_url": srv.base},
                    area=AREA, cache_dir=tmp_path)


def _tiff_bytes() -> bytes:
    from rasterio.io import MemoryFile
    from rasterio.transform import from_origin
    with MemoryFile() as mf:
        with mf.open(driver="GTiff", width=2, height=2, count=1, dtype="float32", crs="EPSG:28992",
                     transform=from_origin(126000, 462000, 10, 10), nodata=-9999) as ds:
            ds.write(np.full((1, 2, 2), 55.0, dtype="float32"))
        return mf.read()


def test_alo_wcs_getcoverage(srv, tmp_path):
    srv.add("/geo/alo/wcs", body=_tiff_bytes(), headers={"Content-Type": "image/tiff"})
    out, prov = fetch_input("lden", {"provider": "rivm_alo", "layer": "lden", "year": 2022, "source": "wegverkeer",
                                     "base_url": srv.base}, area=AREA, cache_dir=tmp_path)
    r = srv.requests[0]
    assert r.path == "/geo/alo/wcs"  # https://data.rivm.nl/geo/alo/wcs
    assert r.query == {"service": ["WCS"], "version": ["2.0.1"], "request": ["GetCoverage"],
                       "coverageId": ["alo__rivm_20250101_Geluid_lden_wegverkeer_2022"],
                       "subset": ["X(126000,142000)", "Y(448000,462000)"], "format": ["image/tiff"]}
    import rasterio
    with rasterio.open(out) as ds:
        assert ds.read(1)[0, 0] == 55.0
    assert "bbox" in prov[0].note


def test_alo_wcs_exception_xml_is_download_error(srv, tmp_path):
    srv.add("/geo/alo/wcs", body="<ows:ExceptionReport>NoSuchCoverage</ows:ExceptionReport>",
            headers={"Content-Type": "application/xml"})
    with pytest.raises(DownloadError, match="not a GeoTIFF"):
        fetch_input("no2", {"provider": "rivm_alo", "layer": "no2", "year": 2024, "base_url": srv.base},
                    area=AREA, cache_dir=tmp_path)
    assert q(srv.requests[0])["coverageId"] == "alo__rivm_nsl_20260401_gm_NO22024"


def test_alo_never_serves_another_pollutant(srv, tmp_path):
    """A PM input from rivm_alo must not silently download the NO2 map (no PM coverage is known)."""
    from healthgeo.sources import resolve_spec

    assert resolve_spec("pm25", {"provider": "rivm_alo", "year": 2022})["layer"] == "pm25"
    with pytest.raises(InputDataError, match="rivm_gcn"):
        fetch_input("pm25", {"provider": "rivm_alo", "year": 2022, "base_url": srv.base}, area=AREA,
                    cache_dir=tmp_path)
    with pytest.raises(ConfigError, match="which map"):
        fetch_input("air_grid", {"provider": "rivm_alo", "year": 2022, "base_url": srv.base}, area=AREA,
                    cache_dir=tmp_path)
    assert srv.requests == []


# ----------------------------------------------------------------------------- Luchtmeetnet
def _measurements(req):
    start = dt.datetime.fromisoformat(req.param("start").replace("Z", "+00:00"))
    end = dt.datetime.fromisoformat(req.param("end").replace("Z", "+00:00"))
    hours = []
    t = start
    while t <= end:
        hours.append(t)
        t += dt.timedelta(hours=1)
    per_page = 100
    page = int(req.param("page") or 1)
    last = max(1, -(-len(hours) // per_page))
    chunk = hours[(page - 1) * per_page: page * per_page]
    data = [{"station_number": req.param("station_number"), "formula": req.param("formula"), "value": 10.0,
             "timestamp_measured": h.isoformat()} for h in chunk]
    body = json.dumps({"pagination": {"current_page": page, "first_page": 1, "last_page": last,
                                      "next_page": min(page + 1, last), "prev_page": max(page - 1, 1),
                                      "page_list": list(range(1, last + 1))}, "data": data}).encode()
    return 200, {"Content-Type": "application/json"}, body


def test_luchtmeetnet_api_annual_mean(srv, tmp_path):
    srv.add("/open_api/stations", query={"page": "1"}, json={
        "pagination": {"current_page": 1, "last_page": 2}, "data": [{"number": "NL10636", "location": "Utrecht"}]})
    srv.add("/open_api/stations", query={"page": "2"}, json={
        "pagination": {"current_page": 2, "last_page": 2}, "data": [{"number": "NL49014", "location": "Amsterdam"}]})
    srv.add("/open_api/stations/NL10636", json={"data": {"location": "Utrecht-Kardinaal de Jongweg", "type": "traffic",
                                                         "components": ["NO2", "PM10"],
                                                         "geometry": {"type": "point", "coordinates": [5.1079, 52.1052]}}})
    srv.add("/open_api/stations/NL49014", json={"data": {"location": "Amsterdam", "components": ["NO2"],
                                                         "geometry": {"type": "point", "coordinates": [4.86, 52.39]}}})
    srv.add("/open_api/measurements", callback=_measurements)
    out, prov = fetch_input("no2_stations", {"provider": "luchtmeetnet", "year": 2023, "formula": "NO2",
                                             "base_url": srv.base}, area=AREA, cache_dir=tmp_path)
    paths = [r.path for r in srv.requests]
    assert paths[:2] == ["/open_api/stations", "/open_api/stations"]
    meas = [r for r in srv.requests if r.path == "/open_api/measurements"]
    assert {r.param("station_number") for r in meas} == {"NL10636"}  # Amsterdam is outside the area
    assert meas[0].query["formula"] == ["NO2"] and meas[0].param("start") == "2023-01-01T01:00:00Z"
    stations, annual = read_luchtmeetnet(out)
    assert annual.loc["NL10636", "mean_ugm3"] == 10.0
    assert annual.loc["NL10636", "hours_with_data"] == 8760 and annual.loc["NL10636", "completeness"] == 1.0
    assert stations.crs.equals("EPSG:28992")


def test_luchtmeetnet_pollutant_key_selects_the_formula(srv, tmp_path):
    """`pollutant:` (the schema's key for stations inputs) decides the component requested."""
    srv.add("/open_api/stations", json={"pagination": {"current_page": 1, "last_page": 1},
                                        "data": [{"number": "NL10636", "location": "Utrecht"}]})
    srv.add("/open_api/stations/NL10636", json={"data": {"location": "Utrecht-Kardinaal de Jongweg",
                                                         "components": ["NO2", "PM10"],
                                                         "geometry": {"type": "point", "coordinates": [5.1079, 52.1052]}}})
    srv.add("/open_api/measurements", callback=_measurements)
    out, _ = fetch_input("stations", {"provider": "luchtmeetnet", "year": 2023, "pollutant": "pm10",
                                      "base_url": srv.base}, area=AREA, cache_dir=tmp_path)
    meas = [r for r in srv.requests if r.path == "/open_api/measurements"]
    assert meas and {r.param("formula") for r in meas} == {"PM10"}
    assert read_luchtmeetnet(out)[1]["formula"].eq("PM10").all()


# ----------------------------------------------------------------------------- Samen Meten
def test_samenmeten_sensorthings(srv, tmp_path):
    thing = {"@iot.id": 1, "name": "LTD_1", "Locations": [{"location": {"type": "Point", "coordinates": [5.1, 52.09]}}],
             "Datastreams": [{"@iot.id": 11, "name": "LTD_1-pm25", "ObservedProperty": {"name": "pm25"}},
                             {"@iot.id": 12, "name": "LTD_1-pm25_kal", "ObservedProperty": {"name": "pm25_kal"}}]}
    srv.add("/v1.0/Things", json={"value": [thing]})
    t = dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc)
    obs = [{"phenomenonTime": (t + dt.timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "result": (-999 if i == 0 else 8.0)} for i in range(8760)]
    base = "/v1.0/Datastreams(12)/Observations"
    srv.add(base, query={"$skip": "200"}, json={"value": obs[200:]})
    srv.add(base, json={"value": obs[:200], "@iot.nextLink": srv.url(base + "?$skip=200")})
    out, prov = fetch_input("pm25_sensors", {"provider": "samenmeten", "year": 2023, "pollutant": "pm25",
                                             "base_url": srv.base}, area=AREA, cache_dir=tmp_path)
    r0 = srv.requests[0]
    assert r0.path == "/v1.0/Things" and q(r0)["$filter"] == "properties/codegemeente eq '344'"
    r1 = srv.requests[1]
    assert r1.path == base and q(r1)["$top"] == "200"  # the calibrated stream was chosen
    sensors, annual = read_samenmeten_csv(out)
    assert annual.loc["LTD_1", "mean_ugm3"] == 8.0 and annual.loc["LTD_1", "n_masked"] == 1
    assert "LTD_1" in sensors.index


# ----------------------------------------------------------------------------- BAG
def test_bag_ogc_bbox(srv, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box
    from healthgeo.sources import read_dwellings
    path = "/lv/bag/ogc/v1/collections/verblijfsobject/items"
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [130000 + i, 455000]},
              "properties": {"identificatie": f"0344010000{i}", "gebruiksdoel": g, "oppervlakte": 70,
                             "status": "Verblijfsobject in gebruik"}}
             for i, g in enumerate(["woonfunctie", "kantoorfunctie", "woonfunctie,winkelfunctie"])]
    srv.add(path, json={"type": "FeatureCollection", "features": feats, "links": []})
    boundary = gpd.GeoDataFrame(geometry=[box(130000, 455000, 131000, 456000)], crs="EPSG:28992")
    out, _ = fetch_input("dwellings", {"provider": "bag", "base_url": srv.base}, area=AREA, cache_dir=tmp_path,
                         boundary=boundary)
    r = q(srv.requests[0])
    assert srv.requests[0].path == path and r["bbox"] == "130000,455000,131000,456000"
    assert r["bbox-crs"] == CRS and r["crs"] == CRS and r["limit"] == "1000"
    d = read_dwellings(out)
    assert len(d) == 2 and d.crs.equals("EPSG:28992")


# ----------------------------------------------------------------------------- fetch_input
def test_fetch_input_local_file(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("x\n1\n")
    path, prov = fetch_input("a", {"file": str(p)}, area=AREA, cache_dir=tmp_path)
    assert path == p and prov[0].provider == "local file" and len(prov[0].sha256) == 64
    with pytest.raises(InputDataError, match="does not exist"):
        fetch_input("a", {"file": str(tmp_path / "missing.csv")}, area=AREA, cache_dir=tmp_path)
    with pytest.raises(ConfigError, match="unknown provider"):
        fetch_input("a", {"provider": "nope"}, area=AREA, cache_dir=tmp_path)


def test_providers_registry():
    assert set(PROVIDERS) == {"pdok", "cbs_odata", "rivm_gezondheid", "rivm_gcn", "rivm_alo", "luchtmeetnet",
                              "samenmeten", "osm", "bag", "cbs_vk100"}
    for fn, licence, desc in PROVIDERS.values():
        assert callable(fn) and licence and desc


# ----------------------------------------------------------------------------- live (skipped by default)
@pytest.mark.network
def test_live_pdok_wijken(tmp_path):
    out, prov = fetch_input("w", {"provider": "pdok", "year": 2023, "level": "wijk"}, area=AREA, cache_dir=tmp_path)
    assert len(read_boundaries(out, "wijk")) == 10


@pytest.mark.network
def test_live_cbs_kwb(tmp_path):
    out, _ = fetch_input("k", {"provider": "cbs_odata", "year": 2023}, area=AREA, cache_dir=tmp_path)
    k = read_kerncijfers(out)
    assert k.loc["GM0344", "residents"] > 350_000


def test_cbs_vk100_zip_gpkg(srv, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    from healthgeo.sources import read_population_grid
    g = gpd.GeoDataFrame({"crs28992res100m": ["E1300N4550"], "aantal_inwoners": [25]},
                         geometry=[box(130000, 455000, 130100, 455100)], crs="EPSG:28992")
    g.to_file(tmp_path / "cbs_vk100_2024.gpkg")
    body = _zip({"cbs_vk100_2024.gpkg": (tmp_path / "cbs_vk100_2024.gpkg").read_bytes()})
    srv.add("/vierkant/100/2025-cbs_vk100_2024_v1.zip", body=body, headers={"Content-Type": "application/zip"})
    out, prov = fetch_input("grid", {"provider": "cbs_vk100", "year": 2024, "base_url": srv.base},
                            area=AREA, cache_dir=tmp_path / "cache")
    assert srv.requests[0].raw == "/vierkant/100/2025-cbs_vk100_2024_v1.zip"
    assert read_population_grid(out)["residents"].sum() == 25 and prov[0].licence.startswith("CC BY")


def test_osm_provider_stores_the_street_network_for_offline_runs(tmp_path, monkeypatch):
    """theme all: green, amenities and the walk/cycle network in one GeoPackage (Overpass stubbed)."""
    import geopandas as gpd
    import osmnx as ox
    import pandas as pd
    from shapely.geometry import Point, box

    import healthgeo.sources.osm_network as osm_network
    from healthgeo.network import build_graphs

    def features(poly, tags):
        park = box(5.10, 52.08, 5.11, 52.09) if "leisure" in tags else Point(5.105, 52.085)
        row = {"element": "way", "id": 7, "leisure": "park", "name": "Park"} if "leisure" in tags else \
            {"element": "node", "id": 8, "shop": "supermarket", "name": "AH"}
        return gpd.GeoDataFrame([row], geometry=[park], crs=4326).set_index(["element", "id"])

    nodes = pd.DataFrame({"x": [5.100, 5.101, 5.102], "y": [52.08, 52.08, 52.08]}, index=[1, 2, 3])
    edges = pd.DataFrame({"u": [1, 2], "v": [2, 3], "osmid": [10, 10], "highway": ["residential"] * 2})
    monkeypatch.setattr(ox, "features_from_polygon", features)
    monkeypatch.setattr(osm_network, "read_overpass", lambda poly: (nodes, edges))
    boundary = gpd.GeoDataFrame(geometry=[box(136000, 455000, 137000, 456000)], crs=28992)
    out, prov = fetch_input("osm", {"provider": "osm"}, area=AREA, cache_dir=tmp_path, boundary=boundary)
    import pyogrio

    assert {"green", "amenities", "network_nodes", "network_edges"} <= {n for n, _ in pyogrio.list_layers(out)}
    assert "street network: 3 nodes, 2 way segments" in prov[0].note
    walk = build_graphs(out, ("walk",), densify_m=None)["walk"]
    assert walk.n_base == 3 and walk.segments["length_m"].sum() == pytest.approx(2 * 68.5, rel=0.02)
