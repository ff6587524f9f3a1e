"""CBS Nabijheid voorzieningen: reader (replayed OData and StatLine CSV layouts) and the
validation_access comparison on hand-made cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from healthgeo._errors import InputDataError, SchemaDriftError
from healthgeo.sources import fetch_input, read_nabijheid
from healthgeo.validation import summary_docs, validation_access, validation_docs

AREA = {"municipality": "GM0344", "year": 2022, "crs": "EPSG:28992"}

PROPERTIES = [
    {"ID": 0, "ParentID": None, "Key": "WijkenEnBuurten", "Title": "Wijken en buurten"},
    {"ID": 1, "ParentID": None, "Key": "", "Title": "Gezondheid en welzijn"},
    {"ID": 2, "ParentID": 1, "Key": "AfstandTotHuisartsenpraktijk_5", "Title": "Afstand tot huisartsenpraktijk"},
    {"ID": 3, "ParentID": None, "Key": "", "Title": "Detailhandel"},
    {"ID": 4, "ParentID": 3, "Key": "AfstandTotGroteSupermarkt_24", "Title": "Afstand tot grote supermarkt"},
    {"ID": 5, "ParentID": None, "Key": "", "Title": "Onderwijs"},
    {"ID": 6, "ParentID": 5, "Key": "", "Title": "Voortgezet onderwijs"},
    {"ID": 7, "ParentID": 6, "Key": "AfstandTotSchool_64", "Title": "Afstand tot school"},
    {"ID": 8, "ParentID": 5, "Key": "", "Title": "Basisonderwijs"},
    {"ID": 9, "ParentID": 8, "Key": "AfstandTotSchool_60", "Title": "Afstand tot school"},
]


def test_replay_odata_and_reader(srv, fast_http, tmp_path):
    path = "/ODataApi/odata/85560NED/TypedDataSet"
    srv.add(path, json={"value": [
        {"WijkenEnBuurten": "BU03440101", "Perioden": "2022JJ00", "AfstandTotHuisartsenpraktijk_5": 0.6,
         "AfstandTotGroteSupermarkt_24": 0.4, "AfstandTotSchool_64": 2.5, "AfstandTotSchool_60": 0.5},
        {"WijkenEnBuurten": "BU03440102", "Perioden": "2022JJ00", "AfstandTotHuisartsenpraktijk_5": None,
         "AfstandTotGroteSupermarkt_24": 1.1, "AfstandTotSchool_64": 3.0, "AfstandTotSchool_60": 0.9}]})
    srv.add("/ODataApi/odata/85560NED/DataProperties", json={"value": PROPERTIES})
    out, prov = fetch_input("nabijheid", {"provider": "cbs_odata", "year": 2022, "base_url": srv.base},
                            area=AREA, cache_dir=tmp_path)
    assert srv.requests[0].path == path and srv.requests[1].path.endswith("/85560NED/DataProperties")
    nab, year = read_nabijheid(out)
    assert year == 2022
    # basisonderwijs by its group title, although voortgezet onderwijs comes first in this table
    assert nab.loc["BU03440101"].to_dict() == {"nabijheid_gp_km": 0.6, "nabijheid_supermarket_km": 0.4,
                                               "nabijheid_primary_school_km": 0.5}
    assert np.isnan(nab.loc["BU03440102", "nabijheid_gp_km"])


def test_csv_layout_symbols_and_drift(tmp_path):
    p = tmp_path / "nab.csv"
    p.write_text('"ID";"WijkenEnBuurten";"Perioden";"AfstandTotHuisartsenpraktijk_5";"AfstandTotSchool_60";'
                 '"AfstandTotSchool_64"\r\n"0";"BU03440101";"2022JJ00";"0,6";"0,5";"2,5"\r\n'
                 '"1";"BU03440102";"2022JJ00";".";"x";"3,0"\r\n', encoding="utf-8")
    nab, year = read_nabijheid(p, spec={"table": "85560NED"})
    assert year == 2022 and list(nab.columns) == ["nabijheid_gp_km", "nabijheid_primary_school_km"]
    assert nab.loc["BU03440101", "nabijheid_primary_school_km"] == 0.5  # the first AfstandTotSchool
    assert nab.loc["BU03440102"].isna().all()
    bad = tmp_path / "bad.csv"
    bad.write_text('"WijkenEnBuurten";"DistanceGP_5"\n"BU03440101";"0,6"\n', encoding="utf-8")
    with pytest.raises(SchemaDriftError, match="DistanceGP_5"):
        read_nabijheid(bad)


def _means(rows):
    return pd.DataFrame(rows, columns=["buurtcode", "mode", "destination", "network_m_popw_mean",
                                       "residents_with_distance"])


def test_validation_table_by_hand():
    """Three buurten: healthgeo 500/1000/1500 m vs CBS 0.4/1.0/2.5 km -> ratios 1.25, 1.0, 0.6."""
    nab = pd.DataFrame({"nabijheid_supermarket_km": [0.4, 1.0, 2.5, 0.0]},
                       index=pd.Index(["B1", "B2", "B3", "B4"], name="code"))
    means = _means([("B1", "walk", "supermarket", 500.0, 10), ("B2", "walk", "supermarket", 1000.0, 10),
                    ("B3", "walk", "supermarket", 1500.0, 10), ("B4", "walk", "supermarket", 300.0, 10),
                    ("B5", "walk", "supermarket", 700.0, 10), ("B1", "walk", "park", 100.0, 10)])
    table, summary = validation_access(means, nab)
    assert set(table.columns) == set(validation_docs()) and set(summary.columns) == set(summary_docs())
    t = table.set_index("buurtcode")
    assert t["ratio"].loc[["B1", "B2", "B3"]].tolist() == pytest.approx([1.25, 1.0, 0.6])
    assert t["within_25pct"].loc[["B1", "B2", "B3"]].tolist() == [True, True, False]
    assert pd.isna(t.loc["B4", "ratio"]) and pd.isna(t.loc["B5", "cbs_road_m"])  # CBS 0 / not in the table
    s = summary.iloc[0]
    assert (s["destination"], s["mode"], s["n_buurten"]) == ("supermarket", "walk", 3)
    assert s["median_ratio"] == pytest.approx(1.0) and s["share_within_25pct"] == pytest.approx(2 / 3)
    assert s["pearson_r"] == pytest.approx(np.corrcoef([500, 1000, 1500], [400, 1000, 2500])[0, 1])
    with pytest.raises(InputDataError, match="no buurt"):
        validation_access(means, nab.rename(index=lambda c: c + "X"))
