"""Readers on the real offline copies (../shared/data/utrecht) and on tiny hand-made inputs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from healthgeo._errors import CRSError, InputDataError, SchemaDriftError
from healthgeo.sources import (known_municipalities, read_boundaries, read_gcn_ascii, read_health,
                               read_kerncijfers, read_luchtmeetnet_csv, read_population_grid,
                               read_samenmeten_csv)


# ----------------------------------------------------------------------------- real data
def test_boundaries_utrecht_2013_buurten(shared_dir, caplog):
    caplog.set_level("INFO")
    b = read_boundaries(shared_dir / "boundaries_gemeente_utrecht_2013" / "buurt.geojson", "buurt",
                        code_prefix="BU0344")
    raw = gpd.read_file(shared_dir / "boundaries_gemeente_utrecht_2013" / "buurt.geojson")
    assert len(b) == 111 and b.index.name == "buurtcode"
    assert set(b.index) == {"BU0344" + k for k in raw["KODE"]}
    assert b.crs.equals("EPSG:28992")
    assert "reprojecting" in caplog.text
    assert set(b["gemeentecode"]) == {"GM0344"}
    assert b.loc["BU03440111", "wijkcode"] == "WK034401"
    assert b["area_m2"].sum() / 1e6 == pytest.approx(99.21, abs=0.05)
    assert b["residents"].isna().all()


def test_boundaries_pdok_2022_wijken_camelcase(shared_dir):
    w = read_boundaries(shared_dir / "boundaries_cbs_pdok_2022" / "utrecht_wijken_2022.geojson", "wijk")
    assert len(w) == 10 and w.index.name == "wijkcode"
    assert sorted(w.index) == [f"WK0344{i:02d}" for i in range(1, 11)]
    assert w["residents"].sum() == 361570
    assert (w["gemeentecode"] == "GM0344").all()
    assert w.loc["WK034407", "age_0_14"] == pytest.approx(27525 * 0.16, abs=1)
    assert w["income_keur_per_resident"].isna().all()


def test_kerncijfers_kwb_2023(shared_dir):
    k = read_kerncijfers(shared_dir / "cbs_kerncijfers_kwb" / "CBS-Utrecht-kwb-2023.xlsx")
    assert k.index.name == "code" and len(k) == 122
    assert k.loc["GM0344", "residents"] == 367947
    assert k.loc["GM0344", "level"] == "gemeente"
    buurt = k[k["level"] == "buurt"]
    assert len(buurt) == 111 and buurt["income_keur_per_resident"].isna().all()
    assert buurt["residents"].sum() == 367715


def test_health_2020_xlsx(shared_dir):
    h = read_health(shared_dir / "health_rivm_gezondheid_2020" / "RIVM_gezondheid2020_18+.xlsx")
    g = h.loc["GM0344"]
    assert g["health_good_health_pct"] == pytest.approx(80.8)
    assert g["health_lonely_pct"] == pytest.approx(48.9)
    assert g["health_difficulty_making_ends_meet_pct"] == pytest.approx(17.2)
    b = h.loc["BU03440112"]
    assert (b["health_good_health_pct"], b["health_lonely_pct"],
            b["health_difficulty_making_ends_meet_pct"]) == pytest.approx((88.1, 38.7, 5.7))
    assert np.isnan(g["health_good_health_pct_lo95"])  # file has no bounds
    assert h.index.str.len().max() <= 10  # padded codes stripped


def test_luchtmeetnet_2023_no2(shared_dir):
    stations, annual = read_luchtmeetnet_csv(shared_dir / "air_luchtmeetnet_2023" / "no2")
    for st, v in {"NL10636": 15.5, "NL10639": 17.8, "NL10643": 12.8}.items():
        assert annual.loc[st, "mean_ugm3"] == pytest.approx(v, abs=0.1)
    assert annual.loc["NL10636", "hours_with_data"] == 8694
    assert annual.loc["NL10636", "completeness"] == pytest.approx(8694 / 8760)
    assert stations.crs.equals("EPSG:28992")
    x, y = stations.loc["NL10643"].geometry.coords[0]
    assert 126000 < x < 142000 and 448000 < y < 462000


def test_samenmeten_qc(shared_dir):
    d = shared_dir / "air_samenmeten_2023"
    sensors, annual = read_samenmeten_csv(d / "no2_2023_new.csv", d / "things_loc_portal.csv")
    raw = pd.read_csv(d / "no2_2023_new.csv").drop(columns="phenomenonTime")
    assert annual["n_masked"].sum() == int((raw < 0).sum().sum()) == 33344
    assert (annual.loc[~annual["valid"], "mean_ugm3"].isna()).all()
    assert (annual["completeness"] <= 1).all()
    assert not annual.loc["SSK_LH023", "has_location"]
    assert len(sensors) == 57 and sensors.crs.equals("EPSG:28992")


def test_vk100_2018(shared_dir):
    g = read_population_grid(shared_dir / "population_cbs_vk100_2018" / "Utrecht CBS VK100.shp")
    assert g["residents"].sum() == 250130
    assert len(g) == 2479
    assert g["residents_65_plus"].isna().any()  # -99997 -> NaN
    assert (g[["residents", "households"]].fillna(0) >= 0).all().all()


def test_gcn_ascii(shared_dir):
    arr, prof = read_gcn_ascii(shared_dir / "air_rivm_gcn_no2" / "conc_no2_2019.asc")
    assert arr.shape == (320, 280) and prof["crs"].to_epsg() == 28992
    assert np.nanmean(arr) == pytest.approx(12.91, abs=0.01)


# ----------------------------------------------------------------------------- synthetic
def _squares(n=3):
    return [box(i * 100, 0, i * 100 + 100, 100) for i in range(n)]


def test_boundaries_problems_listed_at_once(tmp_path):
    bow = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    gdf = gpd.GeoDataFrame({"buurtcode": ["BU00010001", "BU00010001", "BU00010002"]},
                           geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), bow], crs="EPSG:28992")
    with pytest.raises(InputDataError) as ei:
        read_boundaries(gdf, "buurt")
    msg = str(ei.value)
    assert "duplicate" in msg and "BU00010001" in msg and "invalid" in msg and "BU00010002" in msg
    assert "repair: true" in msg


def test_boundaries_repair_option(caplog):
    """`repair: true` fixes a bow-tie with make_valid (two triangles, 50 m²) and logs the code."""
    bow = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    gdf = gpd.GeoDataFrame({"buurtcode": ["BU00010001", "BU00010002"]}, geometry=[box(20, 0, 30, 10), bow],
                           crs="EPSG:28992")
    with caplog.at_level("WARNING"):
        w = read_boundaries(gdf, "buurt", repair=True)
    assert w.geometry.is_valid.all() and w.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert w.loc["BU00010002", "area_m2"] == pytest.approx(50.0)
    assert w.loc["BU00010001", "area_m2"] == pytest.approx(100.0)
    assert "BU00010002" in caplog.text and "BU00010001" not in caplog.text


def test_boundaries_no_crs(tmp_path):
    gdf = gpd.GeoDataFrame({"wijkcode": ["WK000101"]}, geometry=[box(0, 0, 1, 1)])
    with pytest.raises(CRSError):
        read_boundaries(gdf, "wijk")
    assert read_boundaries(gdf, "wijk", crs="EPSG:28992").index[0] == "WK000101"


def test_boundaries_snake_case_ogc(tmp_path):
    gdf = gpd.GeoDataFrame({"buurtcode": ["BU00010001"], "buurtnaam": ["A"], "wijkcode": ["WK000100"],
                            "gemeentecode": ["GM0001"], "aantal_inwoners": [100],
                            "percentage_personen_0_tot_15_jaar": [20], "aantal_huishoudens": [-99999999]},
                           geometry=[box(0, 0, 1, 1)], crs="EPSG:28992")
    b = read_boundaries(gdf, "buurten")
    assert b.loc["BU00010001", "age_0_14"] == 20 and np.isnan(b.loc["BU00010001", "households"])


def test_boundaries_missing_code_column():
    gdf = gpd.GeoDataFrame({"foo": ["x"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:28992")
    with pytest.raises(SchemaDriftError) as ei:
        read_boundaries(gdf, "buurt")
    assert "foo" in str(ei.value)


def test_kerncijfers_odata_long_names_and_dot():
    doc = {"value": [
        {"ID": 1, "WijkenEnBuurten": "GM0001    ", "Gemeentenaam_1": "X", "SoortRegio_2": "Gemeente  ",
         "AantalInwoners_5": 100, "k_0Tot15Jaar_8": 10, "k_15Tot25Jaar_9": 10, "k_25Tot45Jaar_10": 30,
         "k_45Tot65Jaar_11": 30, "k_65JaarOfOuder_12": 20, "HuishoudensTotaal_28": 50,
         "GemiddeldInkomenPerInwoner_66": None, "HuishoudensMetEenLaagInkomen_70": ".", "OppervlakteLand_111": 10},
        {"ID": 2, "WijkenEnBuurten": "BU00010001", "Gemeentenaam_1": "X", "SoortRegio_2": "Buurt     ",
         "AantalInwoners_5": 100, "k_0Tot15Jaar_8": 10, "k_15Tot25Jaar_9": 10, "k_25Tot45Jaar_10": 30,
         "k_45Tot65Jaar_11": 30, "k_65JaarOfOuder_12": 20, "HuishoudensTotaal_28": 50,
         "GemiddeldInkomenPerInwoner_66": 31.2, "HuishoudensMetEenLaagInkomen_70": 7.5, "OppervlakteLand_111": 10}]}
    k = read_kerncijfers(doc)
    assert list(k.index) == ["GM0001", "BU00010001"]
    assert np.isnan(k.loc["GM0001", "low_income_hh_pct"]) and k.loc["BU00010001", "income_keur_per_resident"] == 31.2
    assert k.loc["BU00010001", "level"] == "buurt"
    # CBS secrecy sentinels are missing values in every column, the low-income share included
    doc["value"][1]["HuishoudensMetEenLaagInkomen_70"] = -99999999
    doc["value"][1]["GemiddeldInkomenPerInwoner_66"] = -99997
    k = read_kerncijfers(doc)
    assert np.isnan(k.loc["BU00010001", "low_income_hh_pct"])
    assert np.isnan(k.loc["BU00010001", "income_keur_per_resident"])


def test_kerncijfers_renamed_column_schema_drift(tmp_path):
    df = pd.DataFrame({"gwb_code_10": ["GM0001"], "regio": ["X"], "recs": ["Gemeente"], "inwoners": [1],
                       "a_00_14": [1], "a_15_24": [1], "a_25_44": [1], "a_45_64": [1], "a_65_oo": [1], "a_hh": [1]})
    p = tmp_path / "kwb.csv"
    df.to_csv(p, index=False)
    with pytest.raises(SchemaDriftError) as ei:
        read_kerncijfers(p)
    assert ei.value.missing == ["a_inw"] and "inwoners" in ei.value.found


def _health_rows():
    rows = []
    for marge, delta in (("MW00000", 0), ("MOG0095", -2), ("MBG0095", 2)):
        for code in ("GM0001    ", "BU00010001"):
            r = {"ID": len(rows), "Leeftijd": "20300", "Marges": marge, "WijkenEnBuurten": code,
                 "Perioden": "2022JJ00"}
            for i, s in enumerate(["ErvarenGezondheidGoedZeerGoed", "VoldoetAanBeweegrichtlijn", "Overgewicht",
                                   "Roker", "EenOfMeerLangdurigeAandoeningen", "HoogRisicoOpAngstOfDepressie",
                                   "HeelVeelStressInAfgelopen4Weken", "Eenzaam", "ErnstigZeerErnstigEenzaam",
                                   "MoeiteMetRondkomen"]):
                r[f"{s}_{i + 10}"] = 50.0 + delta if code.startswith("GM") else "."
            rows.append(r)
    rows.append({**rows[0], "Leeftijd": "80200", "ErvarenGezondheidGoedZeerGoed_10": 1.0})
    return rows


def test_health_odata_margins_and_stems():
    h = read_health({"value": _health_rows()})
    assert h.loc["GM0001", "health_good_health_pct"] == 50
    assert h.loc["GM0001", "health_good_health_pct_lo95"] == 48
    assert h.loc["GM0001", "health_lonely_pct_hi95"] == 52
    assert np.isnan(h.loc["BU00010001", "health_smoker_pct"])
    assert read_health({"value": _health_rows()}, age="80200").loc["GM0001", "health_good_health_pct"] == 1.0


def test_health_renamed_column_schema_drift():
    rows = _health_rows()
    for r in rows:
        r["Eenzaamheid_17"] = r.pop("Eenzaam_17")
    with pytest.raises(SchemaDriftError) as ei:
        read_health({"value": rows})
    assert "Eenzaam_<n>" in ei.value.expected and "Eenzaamheid_<n>" in ei.value.found


def test_samenmeten_prefers_kal_and_completeness(tmp_path):
    t = pd.date_range("2023-01-01", "2023-12-31 23:00", freq="h", tz="UTC")
    df = pd.DataFrame({"phenomenonTime": t.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                       "A": 100.0, "A_kal": 10.0, "B": 5.0})
    df.loc[: len(t) // 2, "B"] = -999.0  # half masked -> < 75 %
    df.loc[0, "A_kal"] = -1.0
    df.to_csv(tmp_path / "v.csv", index=False)
    pd.DataFrame({"name": [" A", "B"], "lon": [5.1, 5.1], "lat": [52.1, 52.09]}).to_csv(tmp_path / "things.csv", index=False)
    sensors, annual = read_samenmeten_csv(tmp_path / "v.csv")
    assert annual.loc["A", "mean_ugm3"] == 10.0 and annual.loc["A", "n_masked"] == 1
    assert not annual.loc["B", "valid"] and np.isnan(annual.loc["B", "mean_ugm3"])
    assert set(sensors.index) == {"A", "B"}


def test_population_grid_new_schema_secret_zero():
    gdf = gpd.GeoDataFrame({"crs28992res100m": ["a", "b"], "aantal_inwoners": [10, -99997]},
                           geometry=_squares(2), crs="EPSG:28992")
    g = read_population_grid(gdf, secret_as="zero")
    assert list(g["residents"]) == [10, 0]
    assert np.isnan(read_population_grid(gdf).loc[1, "residents"])
    with pytest.raises(SchemaDriftError):
        read_population_grid(gdf.rename(columns={"aantal_inwoners": "inw"}))


def test_known_municipalities():
    m = known_municipalities()
    assert m["GM0344"] == "Utrecht" and m["GM9999"].startswith("Demostad")
    assert m["GM1992"] == "Voorne aan Zee"
    assert "GM0501" not in known_municipalities(2023) and "GM0501" in known_municipalities(2020)
    # CBS Gemeentelijke indeling op 1 januari: 355 (2020), 352 (2021), 345 (2022), 342 (2023), + the demo
    assert [len(known_municipalities(y)) - 1 for y in (2020, 2021, 2022, 2023, 2024)] == [355, 352, 345, 342, 342]
    assert "GM1740" in known_municipalities(2023)  # Neder-Betuwe continues
    assert "GM0370" not in known_municipalities(2022) and "GM0856" not in known_municipalities(2022)  # Beemster, Uden
    assert "GM0788" in known_municipalities(2020) and "GM0788" not in known_municipalities(2021)  # Haaren divided


def test_read_dwellings_gpkg(tmp_path):
    from shapely.geometry import Point

    from healthgeo.sources import read_dwellings
    gdf = gpd.GeoDataFrame({"identificatie": ["a", "b", "c", "d"],
                            "gebruiksdoel": ["woonfunctie", "kantoorfunctie", "woonfunctie", "woonfunctie,winkelfunctie"],
                            "oppervlakte": [50, 100, 60, 80],
                            "status": ["Verblijfsobject in gebruik", "Verblijfsobject in gebruik",
                                       "Verblijfsobject ingetrokken", "Verblijfsobject gevormd"]},
                           geometry=[Point(i, 0) for i in range(4)], crs="EPSG:28992")
    p = tmp_path / "bag.gpkg"
    gdf.to_file(p, layer="verblijfsobject")
    d = read_dwellings(p)
    assert list(d["identificatie"]) == ["a", "d"]
    with pytest.raises(SchemaDriftError):
        read_dwellings(gdf.rename(columns={"gebruiksdoel": "doel"}))


def test_health_csv_padded_codes(tmp_path):
    p = tmp_path / "gezondheid.csv"
    pd.DataFrame(_health_rows()).to_csv(p, index=False, sep=";")
    h = read_health(p)
    assert "GM0001" in h.index and h.loc["GM0001", "health_high_stress_pct_lo95"] == 48
