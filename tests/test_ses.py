"""CBS SES-WOA (Sociaal-economische status; scores per wijk en buurt): adapter, reader, ranking.

The OData answer is replayed in the TypedDataSet layout (region codes right-padded to 10
characters, "." where CBS publishes nothing) with its DataProperties, whose group titles tell
the repeated "Gemiddelde score" keys apart.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from healthgeo._errors import InputDataError, SchemaDriftError
from healthgeo.disparity import compute_disparities, ses_rank
from healthgeo.sources import fetch_input, read_ses
from healthgeo.sources.ses import check_regio_year, ses_docs

AREA = {"municipality": "GM0344", "year": 2023, "crs": "EPSG:28992"}

#: DataProperties of the SES-WOA table: topic groups with repeated leaf titles (as StatLine has them)
PROPERTIES = [
    {"ID": 0, "ParentID": None, "Type": "Dimension", "Key": "WijkenEnBuurten", "Title": "Wijken en buurten"},
    {"ID": 1, "ParentID": None, "Type": "TimeDimension", "Key": "Perioden", "Title": "Perioden"},
    {"ID": 2, "ParentID": None, "Type": "Topic", "Key": "ParticuliereHuishoudens_1", "Title": "Particuliere huishoudens"},
    {"ID": 3, "ParentID": None, "Type": "TopicGroup", "Key": "", "Title": "SES-WOA"},
    {"ID": 4, "ParentID": 3, "Type": "TopicGroup", "Key": "", "Title": "Totaalscore"},
    {"ID": 5, "ParentID": 4, "Type": "Topic", "Key": "GemiddeldeScore_2", "Title": "Gemiddelde score"},
    {"ID": 6, "ParentID": 4, "Type": "Topic", "Key": "Spreiding_3", "Title": "Spreiding"},
    {"ID": 7, "ParentID": 3, "Type": "TopicGroup", "Key": "", "Title": "Deelscore financiële welvaart"},
    {"ID": 8, "ParentID": 7, "Type": "Topic", "Key": "GemiddeldeScore_4", "Title": "Gemiddelde score"},
    {"ID": 9, "ParentID": 3, "Type": "TopicGroup", "Key": "", "Title": "Deelscore recent arbeidsverleden"},
    {"ID": 10, "ParentID": 9, "Type": "Topic", "Key": "GemiddeldeScore_5", "Title": "Gemiddelde score"},
    {"ID": 11, "ParentID": 3, "Type": "TopicGroup", "Key": "", "Title": "Deelscore opleidingsniveau"},
    {"ID": 12, "ParentID": 11, "Type": "Topic", "Key": "GemiddeldeScore_6", "Title": "Gemiddelde score"},
]


def _row(code, hh, total, spread, welvaart, arbeid, opleiding, period="2022JJ00"):
    return {"ID": 0, "WijkenEnBuurten": code.ljust(10), "Perioden": period, "ParticuliereHuishoudens_1": hh,
            "GemiddeldeScore_2": total, "Spreiding_3": spread, "GemiddeldeScore_4": welvaart,
            "GemiddeldeScore_5": arbeid, "GemiddeldeScore_6": opleiding}


ROWS = [_row("GM0344", 180000, 0.05, 0.41, 0.02, 0.03, 0.12),
        _row("WK034401", 9000, -0.12, 0.45, -0.2, -0.05, 0.01),
        _row("BU03440101", 900, 0.21, 0.33, 0.25, 0.10, 0.31),
        _row("BU03440102", 15, None, None, None, None, None)]  # too few households: null ('.')


def test_replay_odata_with_dataproperties_and_reader(srv, fast_http, tmp_path):
    path = "/ODataApi/odata/85900NED/TypedDataSet"
    srv.add(path, json={"odata.metadata": "x", "value": ROWS})
    srv.add("/ODataApi/odata/85900NED/DataProperties", json={"value": PROPERTIES})
    out, prov = fetch_input("ses", {"provider": "cbs_odata", "year": 2023, "base_url": srv.base},
                            area=AREA, cache_dir=tmp_path)
    assert srv.requests[0].path == path  # https://opendata.cbs.nl/ODataApi/odata/85900NED/TypedDataSet
    assert "startswith(WijkenEnBuurten,'BU0344')" in srv.requests[0].query["$filter"][0]
    assert srv.requests[1].path == "/ODataApi/odata/85900NED/DataProperties"
    assert "85900NED" in prov[0].note
    ses, year = read_ses(out)
    assert year == 2023
    # the repeated "Gemiddelde score" keys are told apart by their group titles, whatever their order
    assert ses.loc["BU03440101"].to_dict() == pytest.approx({
        "ses_woa_households": 900, "ses_woa_score": 0.21, "ses_woa_spread": 0.33, "ses_woa_welvaart_score": 0.25,
        "ses_woa_opleiding_score": 0.31, "ses_woa_arbeid_score": 0.10})
    assert np.isnan(ses.loc["BU03440102", "ses_woa_score"]) and ses.loc["BU03440102", "ses_woa_households"] == 15
    assert ses.loc["GM0344", "ses_woa_score"] == pytest.approx(0.05)
    # regio-indeling 2022 -> table 85539NED
    srv.add("/ODataApi/odata/85539NED/TypedDataSet", json={"value": ROWS[:1]})
    srv.add("/ODataApi/odata/85539NED/DataProperties", json={"value": PROPERTIES})
    out22, _ = fetch_input("ses", {"provider": "cbs_odata", "year": 2022, "base_url": srv.base},
                           area=AREA, cache_dir=tmp_path)
    assert read_ses(out22)[1] == 2022


CSV_TYPED = (
    '"ID";"WijkenEnBuurten";"Perioden";"Gemeentenaam_1";"SoortRegio_2";"Codering_3";"ParticuliereHuishoudens_4";'
    '"GemiddeldeScore_5";"Spreiding_6";"GemiddeldeScore_7";"GemiddeldeScore_8";"GemiddeldeScore_9"\r\n'
    '"0";"GM0344    ";"2022JJ00";"Utrecht                                 ";"Gemeente  ";"GM0344              ";'
    '"180000";"0,05";"0,41";"0,02";"0,12";"0,03"\r\n'
    '"1";"BU03440101";"2022JJ00";"Utrecht                                 ";"Buurt     ";"BU03440101          ";'
    '"900";"0,21";"0,33";"0,25";"0,31";"0,10"\r\n'
    '"2";"BU03440102";"2022JJ00";"Utrecht                                 ";"Buurt     ";"BU03440102          ";'
    '"15";".";".";".";".";"."\r\n'
    '"3";"BU03440103";"2022JJ00";"Utrecht                                 ";"Buurt     ";"BU03440103          ";'
    '"-";"x";"x";"x";"x";"x"\r\n'
)


def test_local_csv_typeddataset_layout_symbols_and_padding(tmp_path):
    p = tmp_path / "ses.csv"
    p.write_text(CSV_TYPED, encoding="utf-8")
    ses, year = read_ses(p, spec={"table": "85900NED"})
    assert year == 2023
    assert list(ses.index) == ["GM0344", "BU03440101", "BU03440102", "BU03440103"]  # padding stripped
    # without DataProperties: GemiddeldeScore keys in table order = total, welvaart, opleiding, arbeid
    assert ses.loc["BU03440101", ["ses_woa_score", "ses_woa_welvaart_score", "ses_woa_opleiding_score",
                                  "ses_woa_arbeid_score", "ses_woa_spread"]].tolist() == pytest.approx(
        [0.21, 0.25, 0.31, 0.10, 0.33])
    assert ses.loc["BU03440102"].isna().sum() == 5  # '.'
    assert ses.loc["BU03440103", "ses_woa_households"] == 0 and np.isnan(ses.loc["BU03440103", "ses_woa_score"])
    assert read_ses(p)[1] is None and read_ses(p, spec={"regio_year": 2022})[1] == 2022


def test_statline_titled_csv(tmp_path):
    p = tmp_path / "ses_titles.csv"
    p.write_text('"Wijken en buurten";"Regiocode (gemeente)";"Particuliere huishoudens (aantal)";'
                 '"SES-WOA/Totaalscore/Gemiddelde score (getal)";"SES-WOA/Totaalscore/Spreiding (getal)"\n'
                 '"Binnenstad";"BU03440101";"900";"0,21";"0,33"\n', encoding="utf-8")
    ses, _ = read_ses(p)
    assert ses.loc["BU03440101", ["ses_woa_score", "ses_woa_spread", "ses_woa_households"]].tolist() == [0.21, 0.33, 900]
    assert np.isnan(ses.loc["BU03440101", "ses_woa_welvaart_score"])  # not in this download


def test_schema_drift_names_the_columns(tmp_path):
    p = tmp_path / "renamed.json"
    p.write_text(json.dumps({"value": [{"WijkenEnBuurten": "BU03440101", "SESScore_2": 0.1, "Spreid_3": 0.3}]}))
    with pytest.raises(SchemaDriftError) as e:
        read_ses(p)
    msg = str(e.value)
    assert "SESScore_2" in msg and "Spreid_3" in msg and "GemiddeldeScore" in msg and "columns:" in msg
    ses, _ = read_ses(p, columns={"ses_woa_score": "SESScore_2"})  # the fix the message names
    assert ses.loc["BU03440101", "ses_woa_score"] == 0.1


def test_other_regio_year_is_refused_naming_both_years_and_unmatched_codes():
    ses = pd.DataFrame({"ses_woa_score": [0.1, 0.2]}, index=pd.Index(["BU03440101", "BU03440199"], name="code"))
    codes = pd.Index(["BU03440101", "BU03440102", "BU03440103"])
    with pytest.raises(InputDataError) as e:
        check_regio_year(ses, 2022, codes, 2023)
    msg = str(e.value)
    assert "regio-indeling 2022" in msg and "of 2023" in msg and "2 of 3 ward codes" in msg and "85900NED" in msg
    assert check_regio_year(ses, 2023, codes, 2023) == 2


def _wards(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"residents": rng.integers(500, 3000, n).astype(float),
                         "ses_woa_score": np.linspace(-0.5, 0.5, n),
                         "income_keur_per_resident": np.linspace(40, 20, n),  # opposite order on purpose
                         "no2_ugm3_popw": np.linspace(30, 15, n)},
                        index=pd.Index([f"BU9999{i:04d}" for i in range(n)], name="buurtcode"))


def test_ses_woa_is_the_default_ranking_and_named_per_ward_and_row():
    w = _wards()
    res = compute_disparities(w, ["no2_ugm3_popw"], n_boot=0, spatial=False, column_docs=ses_docs())
    assert set(res.per_ward["ses_source"]) == {"ses_woa_score"}
    assert res.per_ward["ses_quintile"].iloc[0] == 1  # lowest SES-WOA score = most disadvantaged
    rows = res.table[res.table["metric"] == "ci_relative"]
    assert rows["ranking_variable"].tolist() == ["ses_woa_score"]
    # NO2 falls with the SES score: concentrated among the disadvantaged (C < 0)
    assert rows["value"].iloc[0] < 0
    # without SES-WOA the same call ranks by income (whose order is reversed here: C > 0)
    res2 = compute_disparities(w.drop(columns="ses_woa_score"), ["no2_ugm3_popw"], n_boot=0, spatial=False)
    r2 = res2.table[res2.table["metric"] == "ci_relative"]
    assert r2["ranking_variable"].tolist() == ["income_keur_per_resident"] and r2["value"].iloc[0] > 0


def test_wards_without_a_score_fall_back_in_the_configured_order():
    w = _wards()
    w.loc[w.index[:2], "ses_woa_score"] = np.nan
    w.loc[w.index[0], "income_keur_per_resident"] = np.nan
    w["health_difficulty_making_ends_meet_pct"] = np.linspace(30, 10, len(w))
    out, docs = ses_rank(w, ranking=["ses_woa_score", "income_keur_per_resident"])
    assert out["ses_source"].tolist()[:3] == ["proxy:health_difficulty_making_ends_meet_pct",
                                              "income_keur_per_resident", "ses_woa_score"]
    assert "ses_woa_score / income_keur_per_resident" in docs["ses_rank_frac"].description
    res = compute_disparities(w, ["no2_ugm3_popw"], ranking=["ses_woa_score", "income_keur_per_resident"],
                              n_boot=0, spatial=False)
    label = res.table.loc[res.table["metric"] == "ci_relative", "ranking_variable"].iloc[0]
    assert label == ("ses_woa_score+income_keur_per_resident (1/10)"
                     "+proxy:health_difficulty_making_ends_meet_pct (1/10)")
    # the order is configurable: income first
    w.loc[w.index[3], "income_keur_per_resident"] = np.nan
    out2, _ = ses_rank(w, ranking=["income_keur_per_resident", "ses_woa_score"])
    assert out2["ses_source"].tolist()[1:5] == ["income_keur_per_resident", "income_keur_per_resident",
                                                "ses_woa_score", "income_keur_per_resident"]


def test_config_ranking_order_and_ses_input():
    import yaml

    from healthgeo.config import validate

    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    base = {"run": "t", "area": {"municipality": "GM9999"}, "inputs": {"buurten": {"file": "b.geojson"}}}
    cfg = validate(base)
    assert cfg["disparity"]["ranking"] == ["ses_woa_score", "income_keur_per_resident"]
    assert cfg["disparity"]["proxy"] == "health_difficulty_making_ends_meet_pct"
    one = validate({**base, "disparity": {"ranking": "income_keur_per_resident"}})
    assert one["disparity"]["ranking"] == "income_keur_per_resident"  # a single column still works
    given = validate({**base, "inputs": {**base["inputs"], "ses": {"provider": "cbs_odata", "year": 2023},
                                         "nabijheid": {"file": "n.csv", "table": "85560NED"}}})
    assert given["inputs"]["ses"]["provider"] == "cbs_odata"
    demo = yaml.safe_load(open(repo / "config" / "config.yaml"))
    assert demo["disparity"]["ranking"][0] == "ses_woa_score" and "ses" in demo["inputs"]
    utrecht = yaml.safe_load(open(repo / "config" / "utrecht_offline.yaml"))
    assert utrecht["disparity"]["ranking"] == ["ses_woa_score", "income_keur_per_resident"]
