"""Ward validation and level building on hand-made polygons."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from healthgeo._errors import CRSError, InputDataError
from healthgeo.wards import build_levels, parent_code, validate_wards


def _buurten(crs="EPSG:28992"):
    codes = ["BU99990101", "BU99990102", "BU99990201"]
    geoms = [box(0, 0, 100, 100), box(100, 0, 200, 100), box(0, 100, 200, 200)]
    return gpd.GeoDataFrame({"name": ["a", "b", "c"], "residents": [10, 20, np.nan]}, geometry=geoms, crs=crs,
                            index=pd.Index(codes, name="buurtcode"))


def test_parent_codes():
    assert parent_code("BU03440112", "wijk") == "WK034401"
    assert parent_code("BU03440112", "gemeente") == "GM0344"
    assert parent_code("WK034401", "gemeente") == "GM0344"


def test_build_levels_dissolves_and_sums():
    kc = pd.DataFrame({"residents": [30.0, 5.0], "name": ["Wijk een", "Buurt c"]}, index=["WK999901", "BU99990201"])
    levels = build_levels(_buurten(), municipality="GM9999", kerncijfers=kc)
    b, w, g = levels["buurt"], levels["wijk"], levels["gemeente"]
    assert list(w.index) == ["WK999901", "WK999902"]
    assert b.loc["BU99990201", "residents"] == 5 and b.loc["BU99990201", "residents_source"] == "kerncijfers"
    assert w.loc["WK999901", "residents"] == 30 and w.loc["WK999901", "name"] == "Wijk een"
    assert w.loc["WK999902", "residents"] == 5 and w.loc["WK999902", "residents_source"] == "sum of buurten"
    assert g.loc["GM9999", "residents"] == 35
    assert g.loc["GM9999", "area_m2"] == pytest.approx(40000)
    assert b.loc["BU99990102", "wijkcode"] == "WK999901"


def test_reprojects_wgs84():
    b = _buurten().to_crs(4326)
    levels = build_levels(b, municipality="GM9999")
    assert levels["buurt"].crs.to_epsg() == 28992
    assert levels["buurt"].area.sum() == pytest.approx(40000, rel=1e-6)


def test_all_problems_reported_once():
    b = _buurten()
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    b.loc["BU99990102", "geometry"] = bowtie
    b.index = pd.Index(["BU99990101", "BU99990101", "X1"], name="buurtcode")
    with pytest.raises(InputDataError) as e:
        validate_wards(b, "buurt")
    msg = str(e.value)
    assert "duplicate codes ['BU99990101']" in msg and "['X1']" in msg and "invalid geometry" in msg


def test_repair_invalid_geometry():
    b = _buurten()
    b.loc["BU99990102", "geometry"] = Polygon([(100, 0), (200, 100), (200, 0), (100, 100)])
    out = validate_wards(b, "buurt", repair=True)
    assert out.is_valid.all() and out.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_missing_crs():
    with pytest.raises(CRSError, match="no CRS"):
        validate_wards(_buurten(crs=None), "buurt")


def test_other_municipality_refused():
    with pytest.raises(InputDataError, match="none of the 3 buurten belongs to GM0344"):
        build_levels(_buurten(), municipality="GM0344")


def test_wijken_must_cover_buurt_codes():
    wijken = gpd.GeoDataFrame(geometry=[box(0, 0, 200, 100)], crs=28992, index=pd.Index(["WK999901"], name="wijkcode"))
    with pytest.raises(InputDataError, match=r"wijken \['WK999902'\]"):
        build_levels(_buurten(), municipality="GM9999", wijken=wijken)
