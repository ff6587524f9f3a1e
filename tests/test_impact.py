"""Health impact: hand-computed RR, PAF, noise curves, DALYs, euros and present values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from healthgeo._errors import ConfigError, InputDataError, SchemaDriftError
from healthgeo.impact import (
    HealthImpactParams,
    additive_columns,
    banded_pct,
    describe_params,
    health_impact,
    heat_risk_reduction,
    impact_totals,
    paf,
    params_from_config,
    pct_highly_annoyed_road,
    pct_highly_sleep_disturbed_road,
    present_value,
    relative_risk,
)


def table(**overrides) -> pd.DataFrame:
    """Two buurten in one wijk: B1 has two points (100 and 300 residents), B2 one point (50)."""
    t = pd.DataFrame({
        "buurtcode": ["B1", "B1", "B2"],
        "wijkcode": ["W1", "W1", "W1"],
        "residents": [100.0, 300.0, 50.0],
        "residents_65_plus": [10.0, 30.0, 5.0],
        "no2_ugm3": [20.0, 30.0, 8.0],
        "pm25_ugm3": [10.0, 8.0, 5.0],
        "pm10_ugm3": [np.nan] * 3,
        "lden_db": [55.3, 63.0, 50.0],
        "lnight_db": [45.1, 54.0, 42.0],
    })
    for k, v in overrides.items():
        t[k] = v
    return t


# ---------------------------------------------------------------- relative risk and PAF


def test_rr_is_one_at_and_below_counterfactual():
    assert relative_risk(10.0, 1.02, 10.0) == 1.0
    assert relative_risk(3.0, 1.02, 10.0) == 1.0
    # 10 ug/m3 above c0 gives exactly RR10; 20 above gives RR10^2
    assert relative_risk(20.0, 1.02, 10.0) == pytest.approx(1.02)
    assert relative_risk(30.0, 1.02, 10.0) == pytest.approx(1.02**2)
    assert np.isnan(relative_risk(np.nan, 1.02, 10.0))


def test_paf_one_group_is_rr_minus_one_over_rr():
    rr = 1.0404  # NO2 30 ug/m3: 1.02^2
    assert paf([rr]) == pytest.approx((rr - 1) / rr)  # 0.0388312...
    assert paf([rr]) == pytest.approx(0.0388312188, rel=1e-9)


def test_paf_multiple_groups_by_hand():
    # weights 100 at RR 1.02 and 300 at RR 1.0404:  X = 0.25*0.02 + 0.75*0.0404 = 0.0353
    # PAF = 0.0353 / 1.0353 = 0.0340963972
    assert paf([1.02, 1.0404], [100, 300]) == pytest.approx(0.0353 / 1.0353, rel=1e-12)
    assert paf([1.0, 1.0], [1, 1]) == 0.0
    assert math.isnan(paf([np.nan], [10]))


def test_attributable_deaths_by_hand():
    df, _ = health_impact(table())
    # B1: baseline deaths = 400 x 890 / 100 000 = 3.56; PAF_NO2 = 0.0353/1.0353
    assert df.loc["B1", "baseline_deaths_per_year"] == pytest.approx(3.56)
    assert df.loc["B1", "deaths_attr_no2_per_year_central"] == pytest.approx(3.56 * 0.0353 / 1.0353)
    # B2: one group at 8 ug/m3 NO2 (< c0 = 10) -> 0; PM2.5 = 5 = c0 -> 0
    assert df.loc["B2", "deaths_attr_no2_per_year_central"] == 0.0
    part, _ = health_impact(table(lden_db=[55.3, np.nan, 50.0]))
    assert "lden_db missing for 75 % of residents" in part.loc["B1", "impact_reason"]
    assert df.loc["B2", "deaths_attr_pm25_per_year_central"] == 0.0
    # B1 PM2.5 low bound: RR 1.06; 10 ug/m3 -> 1.06^0.5, 8 -> 1.06^0.3
    x = 0.25 * (1.06**0.5 - 1) + 0.75 * (1.06**0.3 - 1)
    assert df.loc["B1", "deaths_attr_pm25_per_year_low"] == pytest.approx(3.56 * x / (1 + x))
    assert (df["deaths_attr_no2_per_year_low"] <= df["deaths_attr_no2_per_year_central"]).all()
    assert (df["deaths_attr_no2_per_year_central"] <= df["deaths_attr_no2_per_year_high"]).all()
    # YLL = deaths x 10 years
    assert df.loc["B1", "dalys_no2_per_year_central"] == pytest.approx(10 * df.loc["B1", "deaths_attr_no2_per_year_central"])


def test_age_split_baseline():
    p = HealthImpactParams(mortality_per_100k_65_plus=4000.0, mortality_per_100k_under_65=200.0)
    df, _ = health_impact(table(), params=p)
    # B1: 40 residents 65+ x 4000/1e5 + 360 x 200/1e5 = 1.6 + 0.72
    assert df.loc["B1", "baseline_deaths_per_year"] == pytest.approx(2.32)


# ---------------------------------------------------------------- noise


@pytest.mark.parametrize("lden, expected", [
    (55.0, 78.9270 - 3.1162 * 55 + 0.0342 * 55**2),   # = 10.991
    (60.0, 78.9270 - 3.1162 * 60 + 0.0342 * 60**2),   # = 15.075
    (65.0, 78.9270 - 3.1162 * 65 + 0.0342 * 65**2),   # = 20.869
])
def test_pct_highly_annoyed_published_curve(lden, expected):
    assert pct_highly_annoyed_road(lden) == pytest.approx(expected, abs=1e-9)


def test_pct_highly_annoyed_stated_numbers():
    assert pct_highly_annoyed_road([55, 60, 65]) == pytest.approx([10.991, 15.075, 20.869], abs=1e-9)


def test_pct_highly_sleep_disturbed_stated_numbers():
    # 19.4312 - 0.9336 L + 0.0126 L^2 at 45, 50, 55 dB Lnight
    assert pct_highly_sleep_disturbed_road([45, 50, 55]) == pytest.approx([2.9342, 4.2512, 6.1982], abs=1e-9)


def test_banding_uses_band_centre_and_limits():
    # 55.3 dB falls in band [55, 56) -> evaluated at 55.5; 44.9 is below the 45 dB limit -> 0
    got = banded_pct([55.3, 44.9, 95.0, np.nan], pct_highly_annoyed_road, min_db=45, max_db=80, band_db=1)
    assert got[0] == pytest.approx(pct_highly_annoyed_road(55.5))
    assert got[1] == 0.0
    assert got[2] == pytest.approx(pct_highly_annoyed_road(80.0))  # band centre 95.5 capped at 80
    assert np.isnan(got[3])


def test_noise_counts_by_hand():
    df, _ = health_impact(table())
    # B1 adults: 80 and 240 (adult share 0.8); Lden bands centres 55.5 and 63.5
    ha = 80 * pct_highly_annoyed_road(55.5) / 100 + 240 * pct_highly_annoyed_road(63.5) / 100
    assert df.loc["B1", "adults_highly_annoyed_road"] == pytest.approx(ha)
    hsd = 80 * pct_highly_sleep_disturbed_road(45.5) / 100 + 240 * pct_highly_sleep_disturbed_road(54.5) / 100
    assert df.loc["B1", "adults_highly_sleep_disturbed_road"] == pytest.approx(hsd)
    assert df.loc["B1", "dalys_ha_road_per_year"] == pytest.approx(0.02 * ha)
    assert df.loc["B1", "dalys_hsd_road_per_year"] == pytest.approx(0.07 * hsd)
    # IHD: RR at 55.3 = exp(ln 1.08 x 0.23), at 63 = 1.08; baseline 400 x 600/1e5 = 2.4
    x = 0.25 * (1.08**0.23 - 1) + 0.75 * 0.08
    assert df.loc["B1", "ihd_cases_attr_road_noise_per_year_central"] == pytest.approx(2.4 * x / (1 + x))
    # B2 at 50 dB Lden: no IHD (<= 53)
    assert df.loc["B2", "ihd_cases_attr_road_noise_per_year_central"] == 0.0


def test_dalys_and_euros_add_up():
    p = HealthImpactParams(voly_eur=50_000.0, voly_price_year=2016, price_year=2023,
                           price_index={2016: 100.0, 2023: 125.0}, eur_per_case_ihd=1000.0)
    df, docs = health_impact(table(), params=p)
    r = df.loc["B1"]
    total = (r["dalys_no2_per_year_central"] + r["dalys_pm25_per_year_central"] + r["dalys_ihd_road_per_year_central"]
             + r["dalys_ha_road_per_year"] + r["dalys_hsd_road_per_year"])
    assert r["dalys_total_per_year_central"] == pytest.approx(total)
    eur = total * 50_000 * 1.25 + r["ihd_cases_attr_road_noise_per_year_central"] * 1000 * 1.25
    assert r["eur_total_per_year_central"] == pytest.approx(eur)
    assert r["dalys_ihd_road_per_year_central"] == pytest.approx(0.405 * r["ihd_cases_attr_road_noise_per_year_central"])
    # every column documented
    assert set(df.columns) == set(docs)
    assert all(d.unit for d in docs.values())


def test_air_in_total_pm25_only():
    df, _ = health_impact(table(), params=HealthImpactParams(air_in_total=("pm25",)))
    r = df.loc["B1"]
    assert r["dalys_total_per_year_central"] == pytest.approx(
        r["dalys_pm25_per_year_central"] + r["dalys_ihd_road_per_year_central"] + r["dalys_ha_road_per_year"]
        + r["dalys_hsd_road_per_year"])


def test_totals_equal_sum_over_wards_and_levels():
    df, _ = health_impact(table(), wards=["B1", "B2", "B3"])
    tot = impact_totals(df)
    for c in additive_columns(df):
        assert tot[c] == pytest.approx(df[c].sum())
    assert tot["eur_total_per_year_central"] == pytest.approx(df["eur_total_per_year_central"].sum())
    # ward without points: zero burden, reason given
    assert df.loc["B3", "eur_total_per_year_central"] == 0.0
    assert df.loc["B3", "impact_reason"] == "no residents"
    wijk, _ = health_impact(table(), level="wijkcode")
    assert list(wijk.index) == ["W1"]
    assert wijk.loc["W1", "residents"] == 450.0
    # noise counts are additive across levels (per-point sums)
    assert wijk.loc["W1", "adults_highly_annoyed_road"] == pytest.approx(df["adults_highly_annoyed_road"].sum())


def test_missing_exposure_gives_nan_with_reason():
    df, _ = health_impact(table(no2_ugm3=[np.nan, np.nan, 8.0]))
    assert np.isnan(df.loc["B1", "deaths_attr_no2_per_year_central"])
    assert "no no2_ugm3 data" in df.loc["B1", "impact_reason"]
    assert df.loc["B2", "deaths_attr_no2_per_year_central"] == 0.0
    part, _ = health_impact(table(lden_db=[55.3, np.nan, 50.0]))
    assert "lden_db missing for 75 % of residents" in part.loc["B1", "impact_reason"]


def test_monotonic_random():
    """Less exposure never gives more burden (random tables, every outcome column)."""
    rng = np.random.default_rng(42)
    outcome_cols = None
    for _ in range(40):
        n = 30
        t = pd.DataFrame({
            "buurtcode": rng.choice(["B1", "B2", "B3"], n),
            "wijkcode": "W1",
            "residents": rng.uniform(0, 200, n),
            "residents_65_plus": 0.0,
            "no2_ugm3": rng.uniform(0, 60, n),
            "pm25_ugm3": rng.uniform(0, 25, n),
            "lden_db": rng.uniform(30, 85, n),
            "lnight_db": rng.uniform(25, 75, n),
        })
        lower = t.copy()
        for c, hi in (("no2_ugm3", 30), ("pm25_ugm3", 10), ("lden_db", 15), ("lnight_db", 15)):
            lower[c] = t[c] - rng.uniform(0, hi, n) * rng.integers(0, 2, n)
        wards = ["B1", "B2", "B3"]
        a, _ = health_impact(t, wards=wards)
        b, _ = health_impact(lower, wards=wards)
        outcome_cols = outcome_cols or [c for c in additive_columns(a)
                                        if c.startswith(("deaths_", "adults_", "ihd_", "dalys_", "eur_"))]
        diff = (b[outcome_cols] - a[outcome_cols]).to_numpy()
        assert (diff <= 1e-12).all()


# ---------------------------------------------------------------- money and config


def test_present_value_by_hand():
    # 100/1.1 + 100/1.1^2 + 100/1.1^3 = 90.909 + 82.645 + 75.131 = 248.685
    assert present_value(100.0, 3, 0.10) == pytest.approx(248.6851991, rel=1e-9)
    assert present_value(100.0, 3, 0.0) == 300.0
    assert present_value(100.0, 2, 0.10, start=0) == pytest.approx(100 + 100 / 1.1)
    assert present_value(np.array([1.0, 2.0]), 1, 0.0225) == pytest.approx([1 / 1.0225, 2 / 1.0225])


def test_params_from_config_and_validation():
    p = params_from_config({"no2_rr10": [1.03, 1.01, 1.05], "price_index": {"2016": 100, "2024": 130},
                            "price_year": 2024})
    assert p.no2_rr10 == (1.03, 1.01, 1.05)
    assert p.price_factor == pytest.approx(1.3)
    with pytest.raises(ConfigError, match="unknown parameter"):
        params_from_config({"no2_rr": [1.02, 1.01, 1.04]})
    with pytest.raises(ConfigError, match="low <= central <= high"):
        params_from_config({"pm25_rr10": [1.08, 1.09, 1.06]})
    with pytest.raises(ConfigError, match="rises again"):
        params_from_config({"ha_lden_min_db": 40})
    with pytest.raises(ConfigError, match="price_index has no value for 2030"):
        params_from_config({"price_year": 2030})
    desc = describe_params()
    assert desc.loc["discount_rate", "value"] == "0.0225"
    assert desc["source"].str.len().gt(0).all()


def test_missing_columns_raise_schema_error():
    with pytest.raises(SchemaDriftError):
        health_impact(table().drop(columns=["residents"]))


def test_schema_impact_section_matches_the_parameter_dataclass():
    """Config defaults (schema) and library defaults (HealthImpactParams) cannot drift apart."""
    import dataclasses

    from healthgeo.config import schema

    props = schema()["properties"]["impact"]["properties"]
    fields = {f.name: f for f in dataclasses.fields(HealthImpactParams)}
    assert set(props) == set(fields)
    for name, f in fields.items():
        m = f.metadata
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if isinstance(default, tuple):
            default = list(default)
        if not isinstance(default, dict):
            assert props[name].get("default") == default, name
        desc = props[name]["description"]
        assert desc.startswith(m["description"]) and f"[{m['unit']}] Source: {m['source']}." in desc, name
        assert desc.endswith("(verify)") == bool(m["verify"]), name


def test_totals_never_silently_drop_a_component():
    """A pollutant missing in one ward makes that ward's totals NaN; one missing everywhere is named."""
    df, docs = health_impact(table(pm25_ugm3=[10.0, 8.0, np.nan]))
    assert df["dalys_pm25_per_year_central"].isna().tolist() == [False, True]
    assert df["dalys_total_per_year_central"].isna().tolist() == [False, True]
    assert df["eur_total_per_year_central"].isna().tolist() == [False, True]
    assert "Left out" not in docs["dalys_total_per_year_central"].method
    # no PM2.5 in the whole run: the total is the sum of the rest and its docs say so
    df, docs = health_impact(table(pm25_ugm3=[np.nan] * 3))
    parts = ["dalys_no2_per_year_central", "dalys_ihd_road_per_year_central", "dalys_ha_road_per_year",
             "dalys_hsd_road_per_year"]
    assert df["dalys_total_per_year_central"].to_numpy() == pytest.approx(df[parts].sum(axis=1).to_numpy())
    assert "Left out (no data in this run): pm25" in docs["dalys_total_per_year_central"].method
    assert "pm25" in docs["eur_total_per_year_high"].method


def test_partial_noise_coverage_scales_counts_like_the_paf_outcomes():
    """B1's 300 residents at 63 dB are split into two points, one without Lden: counts are unchanged."""
    full = table(buurtcode=["B1", "B1", "B2"], residents=[150.0, 150.0, 50.0], lden_db=[63.0, 63.0, 50.0])
    half = table(buurtcode=["B1", "B1", "B2"], residents=[150.0, 150.0, 50.0], lden_db=[63.0, np.nan, 50.0])
    a, _ = health_impact(full)
    b, _ = health_impact(half)
    assert b.loc["B1", "adults_highly_annoyed_road"] == pytest.approx(a.loc["B1", "adults_highly_annoyed_road"])
    assert b.loc["B1", "ihd_cases_attr_road_noise_per_year_central"] == pytest.approx(
        a.loc["B1", "ihd_cases_attr_road_noise_per_year_central"])
    assert "lden_db missing for 50 % of residents" in b.loc["B1", "impact_reason"]


# ---------------------------------------------------------------- physical activity (WHO HEAT)


@pytest.mark.parametrize(("mode", "minutes", "expected"), [
    # bike: (1 - 0.90) x minutes / 100, capped at 0.45 (reached at 450 min/week)
    ("bike", 50, 0.05), ("bike", 100, 0.10), ("bike", 300, 0.30), ("bike", 450, 0.45), ("bike", 600, 0.45),
    # walk: (1 - 0.89) x minutes / 168, capped at 0.30 (reached at 0.30 / 0.11 x 168 = 458.2 min/week)
    ("walk", 50, 0.11 * 50 / 168), ("walk", 100, 0.11 * 100 / 168), ("walk", 300, 0.11 * 300 / 168),
    ("walk", 168, 0.11), ("walk", 460, 0.30), ("walk", 1000, 0.30),
    ("bike", 0, 0.0), ("walk", 0, 0.0),
])
def test_heat_risk_reduction_by_hand(mode, minutes, expected):
    p = HealthImpactParams()
    rr, ref, cap = getattr(p, f"heat_{mode}_rr")[0], getattr(p, f"heat_{mode}_ref_min_per_week"), getattr(p, f"heat_{mode}_cap")
    assert heat_risk_reduction(minutes, rr, ref, cap) == pytest.approx(expected, abs=1e-12)


def test_heat_risk_reduction_nan_and_bounds():
    assert np.isnan(heat_risk_reduction(np.nan, 0.90, 100, 0.45))
    # the low RR bound (0.87) gives the larger reduction: 0.13 at 100 min/week, 0.06 at the high bound (0.94)
    assert heat_risk_reduction(100, 0.87, 100, 0.45) == pytest.approx(0.13)
    assert heat_risk_reduction(100, 0.94, 100, 0.45) == pytest.approx(0.06)


def active_table(**overrides) -> pd.DataFrame:
    """B1: 1000 residents, 10 % new cyclists at 100 min/week; B2: 500 residents, 5 % at 300 min/week and
    10 % new walkers at 168 min/week. Exposure at the counterfactuals, so the baseline burden is 0."""
    t = pd.DataFrame({
        "buurtcode": ["B1", "B2"], "wijkcode": ["W1", "W1"], "residents": [1000.0, 500.0],
        "no2_ugm3": [10.0, 10.0], "pm25_ugm3": [5.0, 5.0], "lden_db": [40.0, 40.0], "lnight_db": [30.0, 30.0],
        "active_bike_users_share": [0.10, 0.05], "active_bike_min_per_week": [100.0, 300.0],
        "active_walk_users_share": [0.0, 0.10], "active_walk_min_per_week": [0.0, 168.0],
    })
    for k, v in overrides.items():
        t[k] = v
    return t


#: round numbers for the hand calculation
HEAT_P = HealthImpactParams(heat_age_share_bike=0.5, heat_mortality_per_100k_bike=200.0,
                            heat_age_share_walk=0.5, heat_mortality_per_100k_walk=400.0)


def test_deaths_averted_by_hand():
    # bike, B1: users' baseline deaths 1000 x 0.10 x 0.5 x 200/100 000 = 0.1/year; reduction at 100 min:
    #   central 0.10 -> 0.010; low (RR 0.87) 0.13 -> 0.013; high (RR 0.94) 0.06 -> 0.006
    # bike, B2: 500 x 0.05 x 0.5 x 200/100 000 = 0.025/year; at 300 min: 0.30 -> 0.0075; 0.39 -> 0.00975;
    #   0.18 -> 0.0045
    # walk, B2: 500 x 0.10 x 0.5 x 400/100 000 = 0.1/year; at 168 min: 0.11 -> 0.011; 0.17 -> 0.017; 0.04 -> 0.004
    # DALYs = deaths x 10 years; totals (no environmental burden here) = minus the averted DALYs;
    # euros = DALYs x 70 000 (VOLY, price factor 1): B1 central -0.1 x 70 000 = -7 000;
    #   B2 central -(0.075 + 0.11) x 70 000 = -12 950
    df, docs = health_impact(active_table(), params=HEAT_P)
    for bound, b1, b2 in (("central", 0.010, 0.0075), ("low", 0.013, 0.00975), ("high", 0.006, 0.0045)):
        assert df[f"deaths_averted_active_bike_per_year_{bound}"].tolist() == pytest.approx([b1, b2])
        assert df[f"dalys_averted_active_bike_per_year_{bound}"].tolist() == pytest.approx([10 * b1, 10 * b2])
    for bound, b2 in (("central", 0.011), ("low", 0.017), ("high", 0.004)):
        assert df[f"deaths_averted_active_walk_per_year_{bound}"].tolist() == pytest.approx([0.0, b2])
    assert df["dalys_total_per_year_central"].tolist() == pytest.approx([-0.1, -0.185])
    assert df["eur_total_per_year_central"].tolist() == pytest.approx([-7000.0, -12950.0])
    assert df["dalys_total_per_year_low"].tolist() == pytest.approx([-0.13, -(0.0975 + 0.17)])
    # every column documented; the totals say they are net of the averted burden
    assert set(df.columns) == set(docs)
    assert "net of the burden averted" in docs["dalys_total_per_year_central"].description
    assert "min((1 - 0.9) x active_bike_min_per_week / 100, 0.45)" in docs[
        "deaths_averted_active_bike_per_year_central"].method
    # the baseline (no active columns) has no averted columns and un-netted totals
    base, bdocs = health_impact(active_table().drop(columns=[c for c in active_table() if c.startswith("active_")]),
                                params=HEAT_P)
    assert not [c for c in base.columns if "averted" in c] and not [c for c in bdocs if "averted" in c]
    assert (base["dalys_total_per_year_central"] == 0).all()
    assert "net of" not in bdocs["dalys_total_per_year_central"].description


def test_averted_low_central_high_ordering():
    """More reduction at the low RR bound: low > central > high below the cap; equal at the cap."""
    df, _ = health_impact(active_table(), params=HEAT_P)
    for mode in ("bike", "walk"):
        low, mid, high = (df[f"deaths_averted_active_{mode}_per_year_{b}"] for b in ("low", "central", "high"))
        used = mid > 0
        assert (low[used] > mid[used]).all() and (mid[used] > high[used]).all()
    capped, _ = health_impact(active_table(active_bike_min_per_week=[1000.0, 1000.0]), params=HEAT_P)
    values = [capped[f"deaths_averted_active_bike_per_year_{b}"].tolist() for b in ("low", "central", "high")]
    assert values[0] == pytest.approx(values[1]) and values[1] == pytest.approx(values[2])


def test_zero_users_give_zero_benefit():
    t = active_table(active_bike_users_share=0.0, active_walk_users_share=0.0)
    df, _ = health_impact(t, params=HEAT_P)
    base, _ = health_impact(t.drop(columns=[c for c in t if c.startswith("active_")]), params=HEAT_P)
    averted = [c for c in df.columns if "averted" in c]
    assert len(averted) == 12 and (df[averted] == 0.0).all().all()
    pd.testing.assert_frame_equal(df[base.columns], base)


def test_benefit_monotonic_in_minutes_and_users_share():
    rng = np.random.default_rng(7)
    for _ in range(30):
        n = 20
        t = pd.DataFrame({
            "buurtcode": rng.choice(["B1", "B2", "B3"], n), "wijkcode": "W1", "residents": rng.uniform(0, 300, n),
            "no2_ugm3": rng.uniform(5, 40, n), "pm25_ugm3": rng.uniform(3, 15, n),
            "lden_db": rng.uniform(40, 75, n), "lnight_db": rng.uniform(30, 65, n),
            "active_bike_users_share": rng.uniform(0, 1, n), "active_bike_min_per_week": rng.uniform(0, 600, n),
        })
        more = t.copy()
        more["active_bike_min_per_week"] += rng.uniform(0, 200, n) * rng.integers(0, 2, n)
        more["active_bike_users_share"] = np.minimum(1.0, t["active_bike_users_share"] + rng.uniform(0, 0.3, n))
        wards = ["B1", "B2", "B3"]
        a, _ = health_impact(t, wards=wards)
        b, _ = health_impact(more, wards=wards)
        for bound in ("low", "central", "high"):
            gain = b[f"deaths_averted_active_bike_per_year_{bound}"] - a[f"deaths_averted_active_bike_per_year_{bound}"]
            assert (gain >= -1e-15).all()
            for total in ("dalys_total", "eur_total"):
                assert (b[f"{total}_per_year_{bound}"] - a[f"{total}_per_year_{bound}"] <= 1e-9).all()


def test_invalid_active_columns_raise():
    with pytest.raises(InputDataError, match="go together"):
        health_impact(active_table().drop(columns=["active_bike_min_per_week"]))
    with pytest.raises(InputDataError, match=r"share in \[0, 1\]"):
        health_impact(active_table(active_bike_users_share=[1.5, 0.0]))
    with pytest.raises(InputDataError, match=">= 0 minutes"):
        health_impact(active_table(active_walk_min_per_week=[np.nan, 10.0]))


def test_heat_parameters_are_validated():
    with pytest.raises(ConfigError, match=r"heat_bike_rr must be three relative risks in \(0, 1\]"):
        params_from_config({"heat_bike_rr": [1.1, 0.87, 1.2]})
    with pytest.raises(ConfigError, match="heat_walk_rr must satisfy low <= central <= high"):
        params_from_config({"heat_walk_rr": [0.89, 0.96, 0.83]})
    with pytest.raises(ConfigError, match="heat_bike_cap must be within"):
        params_from_config({"heat_bike_cap": 1.5})
    with pytest.raises(ConfigError, match="heat_walk_ref_min_per_week must be > 0"):
        params_from_config({"heat_walk_ref_min_per_week": 0})
    desc = describe_params()
    assert desc.loc["heat_bike_cap", "verify"] and not desc.loc["heat_bike_rr", "verify"]


def test_wijk_burden_is_the_sum_of_its_buurten():
    from healthgeo.impact import aggregate_impact

    t = table(buurtcode=["B1", "B1", "B2"])
    b, docs = health_impact(t)
    parent = pd.Series({"B1": "W1", "B2": "W1"})
    w, wdocs = aggregate_impact(b, parent, pd.Index(["W1", "W2"], name="wijkcode"), docs)
    for c in ("baseline_deaths_per_year", "deaths_attr_no2_per_year_central", "adults_highly_annoyed_road",
              "dalys_total_per_year_central", "eur_total_per_year_high"):
        assert w.loc["W1", c] == pytest.approx(b[c].sum(), rel=1e-12), c
    assert w.loc["W1", "paf_no2_central"] == pytest.approx(
        b["deaths_attr_no2_per_year_central"].sum() / b["baseline_deaths_per_year"].sum())
    assert w.loc["W2"].drop("impact_reason").isna().all()  # a wijk without buurten: no data, not zero
    assert "sum of its buurten" in wdocs["dalys_total_per_year_central"].method
    # a populated buurt without NO2 data makes the wijk's NO2 deaths NaN, not silently smaller
    b2, docs2 = health_impact(table(no2_ugm3=[20.0, 30.0, np.nan]))
    w2, _ = aggregate_impact(b2, parent, pd.Index(["W1"], name="wijkcode"), docs2)
    assert np.isnan(w2.loc["W1", "deaths_attr_no2_per_year_central"])
    assert "1 buurt(en)" in w2.loc["W1", "impact_reason"]


# ---------------------------------------------------------------- age-specific baselines (issue 17)

def _young_old() -> pd.DataFrame:
    """Two buurten of 1000 residents: Y young (20 aged 65+), O old (300 aged 65+); NO2 30 ug/m3."""
    bands = {"Y": (200, 300, 400, 80, 20), "O": (100, 100, 200, 300, 300)}
    t = pd.DataFrame({"buurtcode": ["Y", "O"], "wijkcode": ["W", "W"], "residents": [1000.0, 1000.0],
                      "no2_ugm3": [30.0, 30.0]})
    for i, b in enumerate(("0_14", "15_24", "25_44", "45_64", "65_plus")):
        t[f"residents_{b}"] = [float(bands["Y"][i]), float(bands["O"][i])]
    return t


def test_age_specific_baseline_two_wards_by_hand():
    """Default rates 28, 12, 35, 325, 4000 per 100 000 (0-14 ... 65+):
    Y = (200*28 + 300*12 + 400*35 + 80*325 + 20*4000)/1e5 = 1.292 deaths/year,
    O = (100*28 + 100*12 + 200*35 + 300*325 + 300*4000)/1e5 = 13.085; crude 890/100 000 gives 8.9 each."""
    p = HealthImpactParams()
    assert p.baseline == "age_specific"
    df, docs = health_impact(_young_old(), params=p)
    assert df.loc["Y", "baseline_deaths_per_year"] == pytest.approx(1.292)
    assert df.loc["O", "baseline_deaths_per_year"] == pytest.approx(13.085)
    paf = 1 - 1 / math.exp(math.log(1.02) * (30 - 10) / 10)  # one exposure group: (RR-1)/RR
    assert df.loc["Y", "deaths_attr_no2_per_year_central"] == pytest.approx(paf * 1.292)
    assert df.loc["O", "deaths_attr_no2_per_year_central"] == pytest.approx(paf * 13.085)
    # IHD: (300*2 + 400*40 + 80*600 + 20*2100)/1e5 = 1.066; (100*2 + 200*40 + 300*600 + 300*2100)/1e5 = 8.182
    assert df.loc["Y", "baseline_ihd_cases_per_year"] == pytest.approx(1.066)
    assert df.loc["O", "baseline_ihd_cases_per_year"] == pytest.approx(8.182)
    assert "age-specific" in docs["baseline_deaths_per_year"].method
    crude, cdocs = health_impact(_young_old(), params=HealthImpactParams(baseline="crude"))
    assert crude["baseline_deaths_per_year"].tolist() == pytest.approx([8.9, 8.9])
    assert cdocs["baseline_deaths_per_year"].method.startswith("crude")


def test_registered_deaths_scale_the_wards_and_keep_the_total():
    """Given the municipality's registered deaths, the wards sum to them whatever the rates, and
    keep their age pattern (O/Y = 13.085/1.292)."""
    for rates in (None, {"0_14": 10, "15_24": 10, "25_44": 10, "45_64": 10, "65_plus": 10}):
        kw = {"mortality_per_100k_by_age": rates} if rates else {}
        df, docs = health_impact(_young_old(), params=HealthImpactParams(registered_deaths_per_year=20.0, **kw))
        assert df["baseline_deaths_per_year"].sum() == pytest.approx(20.0)
        assert "registered natural-cause deaths" in docs["baseline_deaths_per_year"].method
    df, _ = health_impact(_young_old(), params=HealthImpactParams(registered_deaths_per_year=20.0))
    assert df.loc["O", "baseline_deaths_per_year"] / df.loc["Y", "baseline_deaths_per_year"] == pytest.approx(13.085 / 1.292)
    # the wijk (sum of its buurten) holds the registered total too
    from healthgeo.impact import aggregate_impact

    wijk, _ = aggregate_impact(df, pd.Series({"Y": "W", "O": "W"}), pd.Index(["W"], name="wijkcode"),
                               health_impact(_young_old())[1])
    assert wijk.loc["W", "baseline_deaths_per_year"] == pytest.approx(20.0)


def test_points_without_age_bands_use_the_crude_rate():
    t = _young_old().drop(columns=["residents_15_24"])
    df, docs = health_impact(t)
    assert df["baseline_deaths_per_year"].tolist() == pytest.approx([8.9, 8.9])
    with pytest.raises(ConfigError, match="mortality_per_100k_by_age"):
        HealthImpactParams(mortality_per_100k_by_age={"65_plus": 4000.0})
    with pytest.raises(ConfigError, match="baseline must be one of"):
        HealthImpactParams(baseline="other")


def test_default_age_rates_reproduce_the_documented_national_totals():
    """The default band rates applied to the Dutch population of 1 January 2023 (CBS 85496NED, as
    cited in impact.CBS_DEATHS_AGE_2023) give the crude natural-cause rate the crude path uses
    (890 per 100 000, within 1 %), and the age rates of IHD give the VZinfo 2020 total of ~104 700
    new cases (within 5 %) with the 2020 age structure."""
    p = HealthImpactParams()
    nl_2023 = {"0_14": 2.78e6, "15_24": 2.20e6, "25_44": 4.53e6, "45_64": 4.79e6, "65_plus": 3.51e6}
    deaths = sum(nl_2023[b] * p.mortality_per_100k_by_age[b] / 1e5 for b in nl_2023)
    crude = deaths / sum(nl_2023.values()) * 1e5
    assert crude == pytest.approx(p.mortality_per_100k, rel=0.01)
    assert deaths == pytest.approx(169_000 * (1 - 0.062), rel=0.01)  # all-cause minus external causes
    # the rates rise with age, and 65+ holds most natural-cause deaths (CBS: 56 % of all deaths at 80+)
    rates = [p.mortality_per_100k_by_age[b] for b in ("15_24", "25_44", "45_64", "65_plus")]
    assert rates == sorted(rates)
    assert nl_2023["65_plus"] * p.mortality_per_100k_by_age["65_plus"] / 1e5 / deaths > 0.8
    nl_2020 = {"0_14": 2.74e6, "15_24": 2.13e6, "25_44": 4.32e6, "45_64": 4.88e6, "65_plus": 3.35e6}
    ihd = sum(nl_2020[b] * p.ihd_incidence_per_100k_by_age[b] / 1e5 for b in nl_2020)
    assert ihd == pytest.approx(104_700, rel=0.05)
