"""Years on real Utrecht data: RIVM GCN NO2 2019-2021 per buurt and the trend over them, and the
crosswalk of the municipality's 2013 wijken onto CBS's 2022 wijken.

Independent references: exactextract for each year's buurt means, scipy for the slope. Skipped
when ../shared/data/utrecht is absent; nothing from it is copied into the repository.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import requires_shared, SHARED
from scipy import stats

from healthgeo.crosswalk import build_crosswalk, check_quality
from healthgeo.dictionary import doc
from healthgeo.trend import trend
from healthgeo.zonal import zonal_mean

pytestmark = [requires_shared, pytest.mark.shared]
YEARS = (2019, 2020, 2021)


@pytest.fixture(scope="module")
def buurten() -> gpd.GeoDataFrame:
    b = gpd.read_file(SHARED / "boundaries_gemeente_utrecht_2013" / "buurt.geojson").to_crs(28992)
    b.index = pd.Index("BU0344" + b["KODE"].astype(str).str.zfill(4), name="buurtcode")
    return b


@pytest.fixture(scope="module")
def yearly(buurten) -> dict[int, pd.DataFrame]:
    out = {}
    for y in YEARS:
        z = zonal_mean(buurten, SHARED / "air_rivm_gcn_no2" / f"conc_no2_{y}.asc", assume_crs="EPSG:28992")
        out[y] = pd.DataFrame({"no2_ugm3_mean": z["mean"].to_numpy()}, index=buurten.index)
    return out


def test_each_years_buurt_means_agree_with_exactextract(buurten, yearly, tmp_path):
    from test_realdata import exactextract_mean

    for y in YEARS:
        ref = exactextract_mean(SHARED / "air_rivm_gcn_no2" / f"conc_no2_{y}.asc", buurten.reset_index(),
                                tmp_path / f"no2_{y}.tif")
        # exactextract's coverage fractions are single precision (see tests/test_realdata.py)
        np.testing.assert_allclose(yearly[y]["no2_ugm3_mean"].to_numpy(), ref, rtol=1e-7)


def test_trend_2019_2021_per_buurt_and_city_wide(buurten, yearly):
    docs = {"no2_ugm3_mean": doc("ug/m3", "area-mean NO2", theme="air", about="area", scale="concentration",
                                 higher_is_worse=True, label_en="NO2", label_nl="NO2")}
    t, tdocs = trend(yearly, docs)
    assert len(t) == 111 and t["no2_ugm3_mean_change"].notna().all()
    # the slope of every buurt equals scipy's on its three values
    for code in t.index[::17]:
        ys = [yearly[y].loc[code, "no2_ugm3_mean"] for y in YEARS]
        ref = stats.linregress(YEARS, ys)
        assert t.loc[code, "no2_ugm3_mean_slope_per_year"] == pytest.approx(ref.slope, rel=1e-9)
        lo, hi = t.loc[code, ["no2_ugm3_mean_slope_lo95", "no2_ugm3_mean_slope_hi95"]]
        assert (lo, hi) == pytest.approx((ref.slope - stats.t.ppf(0.975, 1) * ref.stderr,
                                          ref.slope + stats.t.ppf(0.975, 1) * ref.stderr), rel=1e-9)
    # city-wide (area-weighted over the buurten): NO2 fell from 2019 to 2021 (RIVM GCN factsheets:
    # lower traffic emissions; 2020 the COVID year)
    area = buurten.geometry.area
    city = {y: float(np.average(yearly[y]["no2_ugm3_mean"], weights=area)) for y in YEARS}
    change = city[2021] - city[2019]
    assert -6.0 < change < -0.5, city
    assert (t["no2_ugm3_mean_change"] < 0).mean() > 0.9  # nearly every buurt got cleaner air
    print(f"\nUtrecht NO2 (area mean over buurten): {', '.join(f'{y}: {v:.2f}' for y, v in city.items())} ug/m3; "
          f"change 2019->2021 {change:+.2f}; per buurt {t['no2_ugm3_mean_change'].min():+.2f} .. "
          f"{t['no2_ugm3_mean_change'].max():+.2f}")


def test_crosswalk_of_the_2013_wijken_onto_cbs_2022():
    old = gpd.read_file(SHARED / "boundaries_gemeente_utrecht_2013" / "wijk.geojson").to_crs(28992)
    old.index = pd.Index("WK0344" + old["KODE"].astype(str).str.zfill(2), name="wijkcode")
    new = gpd.read_file(SHARED / "boundaries_cbs_pdok_2022" / "utrecht_wijken_2022.geojson").to_crs(28992)
    new = new.set_index(new["wijkcode"].str.strip()).rename_axis("wijkcode")
    table, quality = build_crosswalk(old, new)
    # same ten wijken: each 2013 wijk lands (nearly) wholly in the 2022 wijk of its code
    main = table.sort_values("weight").groupby("from_code").tail(1).set_index("from_code")
    assert (main["to_code"] == main.index).all(), main
    assert (main["weight"] > 0.97).all(), main["weight"].min()
    # the slivers of reprojection noise beside those whole matches are dropped: one row per wijk
    assert len(table) == 10 and set(table["method"]) == {"identical"}
    assert (quality["explained_frac"] > 0.99).all(), quality
    check_quality(quality, year=2013)
    print(f"\n2013 -> 2022 wijken: {len(table)} pieces; methods {table['method'].value_counts().to_dict()}; "
          f"smallest main weight {main['weight'].min():.4f}; explained {quality['explained_frac'].min():.4f}")
