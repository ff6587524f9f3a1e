"""Work and income key figures (docs/methods.md#work-and-income): read from the CBS KWB, carried
on the ward layers, in the socioeconomic burden component and selectable as SES ranking variable."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from healthgeo import stages
from healthgeo.burden import direction_of
from healthgeo.dictionary import doc
from healthgeo.disparity import ses_rank
from healthgeo.io import read_table, write_table
from healthgeo.sources import read_kerncijfers
from healthgeo.sources.cbs import WORK_INCOME_COLUMNS
from healthgeo.wards import KEY_FIGURES, ward_docs

WORK = ["labour_participation_pct", "social_assistance_pct_15_64", "disability_benefit_pct_15_64",
        "unemployment_benefit_pct_15_64"]


def _kwb_rows():
    base = {"regio": "X", "gm_naam": "X", "a_00_14": 100, "a_65_oo": 100, "a_hh": 400}
    return [
        # 15-64: 100 + 300 + 200 = 600 -> bijstand 30/600 = 5 %, AO 60/600 = 10 %, WW 12/600 = 2 %
        dict(base, gwb_code_10="GM0001", recs="Gemeente", a_inw=800, a_15_24=100, a_25_44=300, a_45_64=200,
             p_arb_pp=70, a_soz_wb="30", a_soz_ao="60", a_soz_ww="12"),
        # CBS '.': NULL, not 0
        dict(base, gwb_code_10="BU00010001", recs="Buurt", a_inw=800, a_15_24=100, a_25_44=300, a_45_64=200,
             p_arb_pp=".", a_soz_wb=".", a_soz_ao="0", a_soz_ww="."),
        # only 90 residents aged 15-64 (< 100): the rounded counts give no rate; participation stays
        dict(base, gwb_code_10="BU00010002", recs="Buurt", a_inw=290, a_15_24=20, a_25_44=40, a_45_64=30,
             p_arb_pp=61, a_soz_wb="10", a_soz_ao="10", a_soz_ww="0"),
    ]


def test_kwb_short_names_give_rates_per_100_working_age(tmp_path):
    p = tmp_path / "kwb.csv"
    pd.DataFrame(_kwb_rows()).to_csv(p, index=False)
    k = read_kerncijfers(p)
    assert WORK_INCOME_COLUMNS == WORK and set(WORK) <= set(KEY_FIGURES)
    g = k.loc["GM0001"]
    assert g["labour_participation_pct"] == 70
    assert g["social_assistance_pct_15_64"] == pytest.approx(5.0)
    assert g["disability_benefit_pct_15_64"] == pytest.approx(10.0)
    assert g["unemployment_benefit_pct_15_64"] == pytest.approx(2.0)
    b1, b2 = k.loc["BU00010001"], k.loc["BU00010002"]
    assert np.isnan(b1["labour_participation_pct"]) and np.isnan(b1["social_assistance_pct_15_64"])
    assert b1["disability_benefit_pct_15_64"] == 0 and np.isnan(b1["unemployment_benefit_pct_15_64"])
    assert b2["labour_participation_pct"] == 61
    assert b2[["social_assistance_pct_15_64", "disability_benefit_pct_15_64",
               "unemployment_benefit_pct_15_64"]].isna().all()


def test_kwb_odata_long_names_and_release_without_them():
    row = {"WijkenEnBuurten": "GM0001    ", "SoortRegio_2": "Gemeente  ", "AantalInwoners_5": 1000,
           "k_0Tot15Jaar_8": 100, "k_15Tot25Jaar_9": 200, "k_25Tot45Jaar_10": 300, "k_45Tot65Jaar_11": 300,
           "k_65JaarOfOuder_12": 100, "HuishoudensTotaal_28": 500}
    full = dict(row, Nettoarbeidsparticipatie_67=68.2, PersonenPerSoortUitkeringBijstand_83=40,
                PersonenPerSoortUitkeringAO_84=80, PersonenPerSoortUitkeringWW_85=-99997)
    k = read_kerncijfers({"value": [full]}).loc["GM0001"]
    assert k["labour_participation_pct"] == pytest.approx(68.2)
    assert k["social_assistance_pct_15_64"] == pytest.approx(5.0)  # 40 / 800
    assert k["disability_benefit_pct_15_64"] == pytest.approx(10.0)
    assert np.isnan(k["unemployment_benefit_pct_15_64"])  # CBS secrecy code
    k = read_kerncijfers({"value": [row]}).loc["GM0001"]  # an early release: NULL, no error
    assert k[WORK].isna().all()


def test_docs_directions_and_burden_group():
    docs = ward_docs("buurt")
    for c in WORK:
        d = docs[c]
        assert d.burden_group == "socioeconomic" and d.theme == "keyfigures" and d.label_nl and d.source
        assert "docs/methods.md#work-and-income" in d.method
    assert direction_of("labour_participation_pct", None) is False
    assert direction_of("social_assistance_pct_15_64", None) is True
    groups = stages.burden_groups(docs)
    assert set(WORK) <= set(groups["socioeconomic"])


def test_ses_rank_by_social_assistance_names_the_variable_per_ward():
    # income for two wards only; the others are ranked by the social assistance rate
    w = pd.DataFrame({"residents": [100.0] * 4, "income_keur_per_resident": [20.0, 40.0, np.nan, np.nan],
                      "social_assistance_pct_15_64": [9.0, 1.0, 12.0, 2.0]},
                     index=pd.Index(["BU1", "BU2", "BU3", "BU4"], name="buurtcode"))
    out, _ = ses_rank(w, ranking=["income_keur_per_resident", "social_assistance_pct_15_64"], proxy=None)
    assert list(out["ses_source"]) == ["income_keur_per_resident", "income_keur_per_resident",
                                       "social_assistance_pct_15_64", "social_assistance_pct_15_64"]
    out, _ = ses_rank(w, ranking="social_assistance_pct_15_64", proxy=None)
    # highest rate = most disadvantaged: BU3 (12) < BU1 (9) < BU4 (2) < BU2 (1), 25 % each
    assert out["ses_rank_frac"].to_dict() == pytest.approx({"BU3": 0.125, "BU1": 0.375, "BU4": 0.625, "BU2": 0.875})
    out, _ = ses_rank(w.rename(columns={"social_assistance_pct_15_64": "labour_participation_pct"}),
                      ranking="labour_participation_pct", proxy=None)
    assert out["ses_rank_frac"]["BU2"] == pytest.approx(0.125)  # lowest participation = most disadvantaged


def test_disparity_stage_ranks_by_labour_participation_and_says_so(tmp_path):
    n = 8
    codes = [f"BU0001000{i}" for i in range(n)]
    w = gpd.GeoDataFrame({"buurtcode": codes, "name": codes, "wijkcode": "WK000100", "gemeentecode": "GM0001",
                          "residents": 1000.0, "labour_participation_pct": np.linspace(55, 80, n)},
                         geometry=[box(100 * i, 0, 100 * i + 100, 100) for i in range(n)], crs=28992)
    w.to_file(tmp_path / "wards.gpkg", layer="buurt", engine="pyogrio")
    t = pd.DataFrame({"no2_ugm3_popw": np.linspace(30, 20, n)}, index=pd.Index(codes, name="buurtcode"))
    write_table(t, tmp_path / "t.parquet", {"no2_ugm3_popw": doc("ug/m3", "NO2", theme="air", higher_is_worse=True,
                                                                  burden_group="exposures")})
    params = dict(indicators=["no2_ugm3_popw"], ranking=["labour_participation_pct"], proxy=None, n_boot=0,
                  seed=0, min_residents=50, permutations=19, double_burden_pctl=75)
    out = [tmp_path / f"o{i}.parquet" for i in range(3)]
    stages.disparity(tmp_path / "wards.gpkg", [tmp_path / "t.parquet"], "buurt", *out, params=params)
    per_ward, _ = read_table(out[0])
    table, _ = read_table(out[1])
    assert (per_ward["ses_source"] == "labour_participation_pct").all()
    assert per_ward.loc[codes[0], "ses_quintile"] == 1  # the lowest participation
    rows = table[table["indicator"] == "no2_ugm3_popw"]
    assert len(rows) and set(rows.loc[rows["ranking_variable"] != "", "ranking_variable"]) == {"labour_participation_pct"}


@pytest.mark.shared
def test_utrecht_kwb_2023_benefit_rates(shared_dir):
    """Utrecht KWB 2023 (early release): benefit counts present, labour participation '.'."""
    path = shared_dir / "cbs_kerncijfers_kwb" / "CBS-Utrecht-kwb-2023.xlsx"
    raw = pd.read_excel(path, sheet_name="kwb-2023", dtype=object).set_index("gwb_code_10")
    k = read_kerncijfers(path)
    g = raw.loc["GM0344"]
    work_age = float(g["a_15_24"]) + float(g["a_25_44"]) + float(g["a_45_64"])
    assert k.loc["GM0344", "social_assistance_pct_15_64"] == pytest.approx(100 * float(g["a_soz_wb"]) / work_age)
    assert k.loc["GM0344", "social_assistance_pct_15_64"] == pytest.approx(100 * 10410 / work_age)
    assert k["labour_participation_pct"].isna().all()
    buurt = k[k["level"] == "buurt"]
    assert buurt["social_assistance_pct_15_64"].notna().sum() > 80
    assert buurt["social_assistance_pct_15_64"].max() < 40
