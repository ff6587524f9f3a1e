"""Plausible ranges per unit, the grid-vs-monitoring factor, sentinels masked by every table reader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin

from healthgeo._errors import InputDataError
from healthgeo.plausibility import RANGES, check_columns, check_grid_vs_monitoring, check_values
from healthgeo.rasters import prepare_raster
from healthgeo.sources import read_health, read_kerncijfers


# --------------------------------------------------------------------------- ranges per unit
@pytest.mark.parametrize("quantity, values, cause", [
    ("no2", [18_000.0, 23_770.0], "looks like ng/m3"),
    ("pm25", [0.009, 0.012], "looks like mg/m3"),
    ("no2", [-5.0, 20.0], "negative concentrations"),
    ("noise_lden", [450.0, 720.0], "tenths of dB"),
    ("noise_lden", [0.2, 0.9], "too quiet"),
    ("temperature", [283.0, 295.0], "kelvin"),
    ("pct", [12.0, 640.0], "not a percentage"),
    ("count", [-99997.0, 40.0], "unmasked sentinel"),
    ("count", [-3.0, 40.0], "negative values"),
])
def test_values_outside_the_plausible_range_fail_with_range_and_cause(quantity, values, cause):
    with pytest.raises(InputDataError) as e:
        check_values(values + [np.nan], quantity, source="in.tif")
    msg = str(e.value)
    lo, hi = min(values), max(values)
    assert msg.startswith("in.tif: ") and f"{lo:.4g} .. {hi:.4g}" in msg and RANGES[quantity].describe() in msg
    assert cause in msg and "\n" not in msg


@pytest.mark.parametrize("quantity, values", [("no2", [8.0, 61.0]), ("pm25", [4.5, 14.0]), ("pm10", [12, 40]),
                                              ("noise_lden", [38.0, 79.5]), ("pct", [0.0, 100.0]),
                                              ("count", [0, 5, 12_000]), ("temperature", [-12.0, 36.0]),
                                              ("ndvi", [-0.2, 0.9])])
def test_plausible_values_pass(quantity, values):
    assert check_values(values, quantity, source="x") == (min(values), max(values))
    assert check_values([np.nan], quantity, source="x") is None


def test_check_columns_lists_every_problem_once():
    df = pd.DataFrame({"a": [1.0, 250.0], "b": [-1.0, 3.0], "c": [5.0, 6.0]})
    with pytest.raises(InputDataError) as e:
        check_columns(df, {"a": "pct", "b": "count", "c": "pct", "missing": "pct"}, source="t.csv")
    msg = str(e.value)
    assert msg.count("t.csv") == 1 and "a values range 1 .. 250" in msg and "b values range -1 .. 3" in msg
    assert "c values" not in msg


# --------------------------------------------------------------------------- grid vs monitoring
def _table(grid, measured):
    return pd.DataFrame({"measured_ugm3": measured, "grid_ugm3": grid})


def test_grid_agreeing_with_sites_passes_and_returns_the_median_ratio():
    assert check_grid_vs_monitoring(_table([20.0, 30.0, 12.0], [25.0, 30.0, 10.0])) == pytest.approx(1.0)
    assert check_grid_vs_monitoring(_table([], [])) is None


def test_grid_in_ng_is_refused_with_the_comparison():
    # the demo's own table under an NO2 grid x 1000: grid 23 770 vs measured 27
    with pytest.raises(InputDataError) as e:
        check_grid_vs_monitoring(_table([23_770.0, 20_760.0, np.nan], [27.36, 32.96, 20.0]), source="no2 grid")
    msg = str(e.value)
    # ratios 23770 / 27.36 = 868.8 and 20760 / 32.96 = 629.9: median 749.3
    assert "factor 749.3" in msg and "median grid 2.226e+04 vs measured 30.16" in msg and "ng/m3" in msg


@pytest.mark.parametrize("factor, fails", [(3.0, True), (4.0, False)])
def test_monitoring_factor_is_configurable(factor, fails):
    t = _table([35.0, 70.0, 105.0], [10.0, 20.0, 30.0])  # ratio 3.5 everywhere
    if fails:
        with pytest.raises(InputDataError, match="factor 3.5"):
            check_grid_vs_monitoring(t, factor=factor)
    else:
        assert check_grid_vs_monitoring(t, factor=factor) == pytest.approx(3.5)


# --------------------------------------------------------------------------- rasters
def _tif(path, values, nodata=-9999.0):
    a = np.asarray(values, dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", width=a.shape[1], height=a.shape[0], count=1, dtype="float32",
                       crs="EPSG:28992", transform=from_origin(0, 300, 100, 100), nodata=nodata) as ds:
        ds.write(a, 1)
    return path


def test_prepare_raster_refuses_a_grid_in_ng_before_writing(tmp_path):
    src = _tif(tmp_path / "no2.tif", [[23770.0, 20760.0, -9999.0]] * 3)
    with pytest.raises(InputDataError, match=r"no2\.tif: no2 \(study area \+ margin\) values range 2\.076e\+04 .. 2\.377e\+04.*ng/m3"):
        prepare_raster(src, tmp_path / "out.tif", bounds=(0, 0, 300, 300), quantity="no2")
    assert not (tmp_path / "out.tif").exists()
    ok = _tif(tmp_path / "ok.tif", [[23.77, 20.76, -9999.0]] * 3)  # nodata is not a value
    prepare_raster(ok, tmp_path / "out.tif", bounds=(0, 0, 300, 300), quantity="no2")
    assert (tmp_path / "out.tif").exists()


# --------------------------------------------------------------------------- table readers
def _health_csv(path, value):
    path.write_text(
        "ID;Leeftijd;Marges;WijkenEnBuurten;Perioden;ErvarenGezondheidGoedZeerGoed_4\n"
        f"1;20300;MW00000;BU99990101  ;2022JJ00;{value}\n"
        "2;20300;MW00000;BU99990102  ;2022JJ00;71\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("sentinel", ["-99997", "-99995", ".", "x", "-", "?"])
def test_health_reader_masks_every_sentinel(tmp_path, sentinel):
    h = read_health(_health_csv(tmp_path / "h.csv", sentinel), keys=["good_health"])
    assert np.isnan(h.loc["BU99990101", "health_good_health_pct"])
    assert h.loc["BU99990102", "health_good_health_pct"] == 71.0


def test_health_reader_refuses_values_that_are_no_percentages(tmp_path):
    with pytest.raises(InputDataError, match=r"health_good_health_pct values range 71 .. 710"):
        read_health(_health_csv(tmp_path / "h.csv", "710"), keys=["good_health"])


def _kwb_csv(path, residents):
    cols = "gwb_code_10;regio;recs;a_inw;a_00_14;a_15_24;a_25_44;a_45_64;a_65_oo;a_hh;g_ink_pi;p_hh_li\n"
    path.write_text(cols + f"BU99990101;A;Buurt;{residents};10;10;10;10;10;25;31,2;12\n"
                    "BU99990102;B;Buurt;80;.;x;20;20;20;40;-99997;-99995\n", encoding="utf-8")
    return path


def test_kerncijfers_reader_masks_sentinels_and_checks_counts(tmp_path):
    k = read_kerncijfers(_kwb_csv(tmp_path / "k.csv", 50))
    assert k.loc["BU99990101", "income_keur_per_resident"] == 31.2
    assert k.loc["BU99990102", ["age_0_14", "age_15_24", "income_keur_per_resident", "low_income_hh_pct"]].isna().all()
    with pytest.raises(InputDataError, match=r"residents values range -5 .. 80"):
        read_kerncijfers(_kwb_csv(tmp_path / "k2.csv", -5))
