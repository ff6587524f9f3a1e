"""Tests of healthgeo.disparity: SES ranking, inequality measures, clustering, burden, disclosure."""

from __future__ import annotations

import functools
import time
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from healthgeo import _inequality as ineq
from healthgeo._errors import ConfigError, InputDataError
from healthgeo.disclosure import primary_reasons
from healthgeo.burden import (
    BURDEN_REFERENCE_COLUMNS,
    BURDEN_REFERENCE_DOCS,
    burden_percentile,
    burden_reference,
    cumulative_burden,
    read_burden_reference,
)
from healthgeo.disparity import (
    DEFAULT_PROXY,
    DISPARITY_TABLE_DOCS,
    MAX_COLUMN_NAME_LENGTH,
    _bootstrap_interval,
    compute_disparities,
    inequality_table,
    lisa_clusters,
    morans_i,
    ses_rank,
)

# Directions of the exposure columns used here, as their producers' ColumnDocs give them
# (healthgeo.exposure); the SES variables' directions the library knows itself.
DIRECTIONS = {"no2_ugm3_popw": True, "pm25_ugm3_popw": True, "lden_db_popw": True, "green_share_pct": False,
              "pop_share_green_1ha_300m": False, "no2_ugm3_mean": True}
burden_reference = functools.partial(burden_reference, higher_is_worse=DIRECTIONS)
cumulative_burden = functools.partial(cumulative_burden, higher_is_worse=DIRECTIONS)
compute_disparities = functools.partial(compute_disparities, higher_is_worse=DIRECTIONS)

# ---------------------------------------------------------------------------- fixtures


def make_wards(n=40, seed=0, geometry=False, side=None):
    """Synthetic wards: income drives an exposure (worse for the poor) and good health."""
    rng = np.random.default_rng(seed)
    idx = pd.Index([f"BU9999{i:04d}" for i in range(n)], name="buurtcode")
    income = rng.normal(30, 8, n).clip(10, None)
    df = pd.DataFrame({
        "residents": rng.integers(200, 6000, n).astype(float),
        "income_keur_per_resident": income,
        "health_difficulty_making_ends_meet_pct": (45 - income + rng.normal(0, 3, n)).clip(1, 99),
        "no2_ugm3_popw": 40 - 0.5 * income + rng.normal(0, 2, n),
        "health_good_health_pct": (60 + 0.7 * income + rng.normal(0, 3, n)).clip(0, 100),
        "green_share_pct": rng.uniform(5, 60, n),
    }, index=idx)
    if geometry:
        side = side or int(np.ceil(np.sqrt(n)))
        geoms = [box(i % side * 100, i // side * 100, i % side * 100 + 100, i // side * 100 + 100)
                 for i in range(n)]
        df = gpd.GeoDataFrame(df, geometry=geoms, crs=28992)
    return df


def metric(table, indicator, name, col="value"):
    row = table[(table["indicator"] == indicator) & (table["metric"] == name)]
    assert len(row) == 1, (indicator, name, len(row))
    return float(row[col].iloc[0])


def grid(values_2d):
    """GeoDataFrame of unit squares carrying ``values_2d`` (rows x cols) as column 'v'."""
    a = np.asarray(values_2d, dtype=float)
    rows, cols = a.shape
    recs, geoms, idx = [], [], []
    for r in range(rows):
        for c in range(cols):
            geoms.append(box(c * 100, r * 100, c * 100 + 100, r * 100 + 100))
            recs.append(a[r, c])
            idx.append(f"BU9999{r:02d}{c:02d}")
    return gpd.GeoDataFrame({"v": recs, "residents": 1000.0}, geometry=geoms,
                            index=pd.Index(idx, name="buurtcode"), crs=28992)


# ---------------------------------------------------------------------------- measures


def test_equal_exposure_gives_zero_concentration_and_slope():
    w = make_wards()
    w["no2_ugm3_popw"] = 17.5
    t, _ = inequality_table(w, ["no2_ugm3_popw"], n_boot=200)
    assert metric(t, "no2_ugm3_popw", "ci_relative") == pytest.approx(0, abs=1e-12)
    assert metric(t, "no2_ugm3_popw", "sii") == pytest.approx(0, abs=1e-9)
    assert metric(t, "no2_ugm3_popw", "rii") == pytest.approx(1, abs=1e-12)
    assert metric(t, "no2_ugm3_popw", "quintile_ratio") == pytest.approx(1)
    assert metric(t, "no2_ugm3_popw", "gini") == pytest.approx(0, abs=1e-12)
    assert metric(t, "no2_ugm3_popw", "theil_t") == pytest.approx(0, abs=1e-12)


def test_worked_example_by_hand():
    """Worked example whose digits are derived by hand (the published example is the next test).

    Five equal-population groups, most disadvantaged first, y = 5, 4, 3, 2, 1 (mu = 3):
    R = 0.1, 0.3, 0.5, 0.7, 0.9 and sum p y R = 0.2 (0.5 + 1.2 + 1.5 + 1.4 + 0.9) = 1.1, so
    C = (2/3) 1.1 - 1 = -4/15 = -0.26667 (O'Donnell et al. 2008, eq. 8.3/8.4). The grouped-data
    formula C = sum_t (p_t L_{t+1} - p_{t+1} L_t) of Kakwani, Wagstaff & van Doorslaer (1997),
    as printed in the World Bank "Quantitative Techniques for Health Equity Analysis" Technical
    Note #7, gives -0.01333 - 0.04 - 0.08 - 0.13333 = -0.26667 too. The points lie on
    y = 5.5 - 5 R exactly: SII = -5, RII = (5.5 - 5)/5.5 = 1/11, Q1/Q5 = 5, Q1 - Q5 = 4, and
    for bounds [0, 10] Erreygers E = 4*3/10*(-4/15) = -0.32.
    """
    w = pd.DataFrame({
        "residents": [100.0] * 5,
        "income_keur_per_resident": [10.0, 20, 30, 40, 50],
        "y": [5.0, 4, 3, 2, 1],
    }, index=pd.Index([f"BU999900{i}" for i in range(5)], name="buurtcode"))
    t, _ = inequality_table(w, ["y"], bounded={"y": (0, 10)}, n_boot=0)
    assert metric(t, "y", "ci_relative") == pytest.approx(-4 / 15, abs=1e-12)
    assert round(metric(t, "y", "ci_relative"), 5) == -0.26667
    assert metric(t, "y", "ci_absolute") == pytest.approx(3 * -4 / 15)
    assert metric(t, "y", "ci_erreygers") == pytest.approx(-0.32)
    assert metric(t, "y", "sii") == pytest.approx(-5)
    assert metric(t, "y", "rii") == pytest.approx(1 / 11)
    assert metric(t, "y", "quintile_ratio") == pytest.approx(5)
    assert metric(t, "y", "quintile_difference") == pytest.approx(4)
    assert metric(t, "y", "q3_mean") == pytest.approx(3)
    # grouped-data curve formula, computed independently
    p = np.cumsum([0.2] * 5)
    L = np.cumsum([5, 4, 3, 2, 1]) / 15
    grouped = sum(p[t_] * L[t_ + 1] - p[t_ + 1] * L[t_] for t_ in range(4))
    assert grouped == pytest.approx(-4 / 15)


# WHO healthequal (Antiporta, Menendez, Kirkby & Hosseinpoor; R package 1.0.x, CRAN), data set
# ``OrderedSample``: births attended by skilled health personnel (%) by wealth quintile,
# poorest first, with subgroup population. Printed in the package's reference pages
# (https://whoequity.github.io/healthequal/reference/rci.html and .../aci.html; GitHub
# WHOequity/healthequal, reference/rci.html at commit 13ac74b0) as
#   setting_average 91.59669 | rci 0.0469506 | aci 4.30052
# The method is that of WHO's Health Equity Assessment Toolkit (Schlotheuber & Hosseinpoor
# 2022, IJERPH 19:3697), the same as docs/methods.md#concentration-index.
WHO_ORDERED_SAMPLE = pd.DataFrame({
    "estimate": [75.60530, 91.01997, 96.03959, 97.04223, 99.22405],
    "population": [2072.436, 2112.204, 1983.059, 2052.124, 1884.510],
})


def test_published_who_healthequal_example_to_printed_digits():
    """RCI, ACI and the weighted mean reproduce the WHO healthequal example to every printed digit."""
    s = WHO_ORDERED_SAMPLE
    w = pd.DataFrame({
        "residents": s["population"].to_numpy(),
        # quintile 1 (poorest) has the lowest SES value; ranking is most disadvantaged first
        "income_keur_per_resident": [1.0, 2.0, 3.0, 4.0, 5.0],
        "sba_pct": s["estimate"].to_numpy(),
    }, index=pd.Index([f"BU999900{i}" for i in range(5)], name="buurtcode"))
    t, _ = inequality_table(w, ["sba_pct"], bounded={"sba_pct": (0, 100)}, n_boot=0)
    assert round(metric(t, "sba_pct", "mean"), 5) == 91.59669
    assert round(metric(t, "sba_pct", "ci_relative"), 7) == 0.0469506
    assert round(metric(t, "sba_pct", "ci_absolute"), 5) == 4.30052
    # Erreygers is not printed there; it must equal 4 mu / (b - a) * C by definition
    assert metric(t, "sba_pct", "ci_erreygers") == pytest.approx(
        4 * 91.596691 / 100 * 0.04695060, rel=1e-6)
    # Kakwani et al. (1997) grouped formula on the printed table, computed independently
    p = np.cumsum(s["population"]) / s["population"].sum()
    d = s["population"] * s["estimate"]
    L = np.cumsum(d) / d.sum()
    grouped = sum(p.iloc[i] * L.iloc[i + 1] - p.iloc[i + 1] * L.iloc[i] for i in range(4))
    assert round(grouped, 7) == 0.0469506
    # listing the quintiles in another order changes nothing
    t2, _ = inequality_table(w.iloc[[3, 0, 4, 2, 1]], ["sba_pct"], n_boot=0)
    assert metric(t2, "sba_pct", "ci_relative") == pytest.approx(
        metric(t, "sba_pct", "ci_relative"), rel=1e-14)


def test_concentration_index_matches_covariance_formula():
    """C = 2 cov_w(y, R) / mu (O'Donnell et al. 2008, eq. 8.5), computed independently."""
    rng = np.random.default_rng(3)
    n = 60
    pop = rng.integers(50, 5000, n).astype(float)
    ses = rng.normal(size=n)
    y = rng.gamma(3, 2, n)
    order = np.argsort(ses)
    p = pop[order] / pop.sum()
    R = np.cumsum(p) - p / 2
    ys = y[order]
    mu = np.sum(p * ys)
    cov = np.sum(p * (ys - mu) * (R - np.sum(p * R)))
    expected = 2 * cov / mu
    got = ineq.ordered_measures(y, pop, ses, np.ones((1, n)))["ci_relative"][0]
    assert got == pytest.approx(expected, rel=1e-12)
    # SII is the WLS slope; compare with numpy's weighted polyfit (weights sqrt(p))
    slope = np.polyfit(R, ys, 1, w=np.sqrt(p))[0]
    assert ineq.ordered_measures(y, pop, ses, np.ones((1, n)))["sii"][0] == pytest.approx(slope)


def test_ties_share_rank_and_order_does_not_matter():
    p = np.array([0.25, 0.25, 0.5])
    r = ineq.fractional_rank(p, ineq.tie_groups(np.array([1.0, 1.0, 2.0])))
    assert r.tolist() == [0.25, 0.25, 0.75]


def test_theil_and_gini_equal_pysal_inequality():
    from inequality.gini import Gini
    from inequality.theil import Theil

    rng = np.random.default_rng(11)
    for _ in range(5):
        y = rng.lognormal(2, 0.7, 73)
        out = ineq.spread_measures(y, np.ones_like(y), np.ones((1, y.size)))
        assert out["gini"][0] == pytest.approx(Gini(y).g, rel=1e-10)
        assert out["theil_t"][0] == pytest.approx(float(np.ravel(Theil(y).T)[0]), rel=1e-10)
    w = make_wards(n=50)
    t, _ = inequality_table(w, ["no2_ugm3_popw"], n_boot=0)
    y = w["no2_ugm3_popw"].to_numpy()
    assert metric(t, "no2_ugm3_popw", "gini_unweighted") == pytest.approx(Gini(y).g)
    # population-weighted Gini = pairwise definition sum p_i p_j |y_i - y_j| / (2 mu)
    p = w["residents"].to_numpy() / w["residents"].sum()
    mu = np.sum(p * y)
    pair = np.sum(p[:, None] * p[None, :] * np.abs(y[:, None] - y[None, :])) / (2 * mu)
    assert metric(t, "no2_ugm3_popw", "gini") == pytest.approx(pair)
    theil_w = np.sum(p * y / mu * np.log(y / mu))
    assert metric(t, "no2_ugm3_popw", "theil_t") == pytest.approx(theil_w)


def test_invariant_to_ward_order():
    w = make_wards(n=45)
    inds = ["no2_ugm3_popw", "health_good_health_pct"]
    a, _ = inequality_table(w, inds, n_boot=300, seed=5)
    b, _ = inequality_table(w.sample(frac=1, random_state=2), inds, n_boot=300, seed=5)
    pd.testing.assert_frame_equal(a, b)
    ra, _ = ses_rank(w)
    rb, _ = ses_rank(w.iloc[::-1])
    pd.testing.assert_frame_equal(ra, rb.loc[ra.index])


def test_relative_measures_invariant_to_scaling():
    w = make_wards(n=50)
    w2 = w.copy()
    w2["no2_ugm3_popw"] *= 7.3
    a, _ = inequality_table(w, ["no2_ugm3_popw"], n_boot=0)
    b, _ = inequality_table(w2, ["no2_ugm3_popw"], n_boot=0)
    for m in ("ci_relative", "rii", "quintile_ratio", "gini", "theil_t", "gini_unweighted"):
        assert metric(b, "no2_ugm3_popw", m) == pytest.approx(metric(a, "no2_ugm3_popw", m)), m
    for m in ("sii", "ci_absolute", "quintile_difference", "mean"):
        assert metric(b, "no2_ugm3_popw", m) == pytest.approx(7.3 * metric(a, "no2_ugm3_popw", m)), m


def test_erreygers_bounds():
    # extreme: disadvantaged half all at the lower bound, advantaged half at the upper -> E = 1
    w = pd.DataFrame({"residents": [10.0, 10.0] * 2, "income_keur_per_resident": [1.0, 2, 3, 4],
                      "share_pct": [0.0, 0.0, 100.0, 100.0]},
                     index=pd.Index(list("abcd"), name="buurtcode"))
    t, _ = inequality_table(w, ["share_pct"], n_boot=0, min_residents=0)
    assert metric(t, "share_pct", "ci_erreygers") == pytest.approx(1.0)
    w["share_pct"] = [100.0, 100, 0, 0]
    t, _ = inequality_table(w, ["share_pct"], n_boot=0, min_residents=0)
    assert metric(t, "share_pct", "ci_erreygers") == pytest.approx(-1.0)
    rng = np.random.default_rng(0)
    for s in range(20):
        v = make_wards(n=30, seed=s)
        v["pop_share_green_1ha_300m"] = rng.uniform(0, 1, 30)
        t, _ = inequality_table(v, ["pop_share_green_1ha_300m", "green_share_pct"], n_boot=0)
        assert abs(metric(t, "pop_share_green_1ha_300m", "ci_erreygers")) <= 1
        assert abs(metric(t, "green_share_pct", "ci_erreygers")) <= 1
    v["green_share_pct"] = v["green_share_pct"] * 3  # > 100 %: not a percentage
    # bounds given explicitly and violated: an input error
    with pytest.raises(InputDataError, match=r"outside bounds \[0, 100\].*given in bounded"):
        inequality_table(v, ["green_share_pct"], n_boot=0, bounded={"green_share_pct": (0, 100)})
    t, _ = inequality_table(v, ["green_share_pct"], n_boot=0, bounded={"green_share_pct": None})
    assert "ci_erreygers" not in set(t["metric"])


def test_erreygers_out_of_assumed_bounds_skips_only_that_metric(caplog):
    """One *_pct value above 100 (e.g. overlapping green polygons) must not abort the stage."""
    v = make_wards(n=30)
    v.loc[v.index[4], "green_share_pct"] = 104.0
    with caplog.at_level("WARNING", logger="healthgeo.disparity"):
        t, _ = inequality_table(v, ["green_share_pct", "no2_ugm3_popw"], n_boot=200)
    assert "ci_erreygers skipped" in caplog.text and "green_share_pct" in caplog.text
    g = t[t["indicator"] == "green_share_pct"]
    full = inequality_table(v.assign(green_share_pct=v["green_share_pct"].clip(upper=100)),
                            ["green_share_pct"], n_boot=200)[0]
    assert g["metric"].tolist() == full["metric"].tolist()  # same rows, same order
    row = g[g["metric"] == "ci_erreygers"].iloc[0]
    assert np.isnan(row["value"]) and np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])
    assert "1 value(s) outside bounds [0, 100]" in row["note"] and "bounded=" in row["note"]
    others = g[g["metric"] != "ci_erreygers"]
    assert others["value"].notna().all()
    assert np.isfinite(metric(t, "green_share_pct", "ci_relative"))
    assert np.isfinite(metric(t, "no2_ugm3_popw", "ci_relative"))


def test_bootstrap_interval_contains_point_and_is_seeded():
    w = make_wards(n=60)
    inds = ["no2_ugm3_popw", "health_good_health_pct"]
    a, _ = inequality_table(w, inds, n_boot=1000, seed=42)
    b, _ = inequality_table(w, inds, n_boot=1000, seed=42)
    c, _ = inequality_table(w, inds, n_boot=1000, seed=43)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["ci_low"], c["ci_low"])
    main = a[a["metric"].isin(["mean", "ci_relative", "sii", "rii", "gini", "theil_t", "ci_erreygers"])]
    assert (main["ci_low"] <= main["value"]).all() and (main["value"] <= main["ci_high"]).all()
    assert (a["ci_high"] > a["ci_low"]).all()
    # only the indicator's own name seeds its draws: adding indicators changes nothing
    d, _ = inequality_table(w, ["no2_ugm3_popw"], n_boot=1000, seed=42)
    pd.testing.assert_frame_equal(d, a[a["indicator"] == "no2_ugm3_popw"].reset_index(drop=True))


def test_bootstrap_is_fast():
    w = make_wards(n=111)
    inds = []
    rng = np.random.default_rng(1)
    for k in range(20):
        w[f"x{k}_pct"] = rng.uniform(0, 100, 111)
        inds.append(f"x{k}_pct")
    t0 = time.perf_counter()
    t, _ = inequality_table(w, inds, n_boot=1000)
    assert time.perf_counter() - t0 < 10
    assert t["indicator"].nunique() == 20


def test_signs_follow_disadvantaged_first_convention():
    w = make_wards(n=80)
    t, _ = inequality_table(w, ["no2_ugm3_popw", "health_good_health_pct"], n_boot=0)
    # NO2 higher among the poor: concentrated among the disadvantaged
    assert metric(t, "no2_ugm3_popw", "ci_relative") < 0
    assert metric(t, "no2_ugm3_popw", "sii") < 0 < metric(t, "no2_ugm3_popw", "quintile_difference")
    assert metric(t, "no2_ugm3_popw", "rii") < 1 < metric(t, "no2_ugm3_popw", "quintile_ratio")
    # good health higher among the rich
    assert metric(t, "health_good_health_pct", "ci_relative") > 0
    assert metric(t, "health_good_health_pct", "sii") > 0
    # ranking by low-income share (high = disadvantaged) gives the same direction
    w["low_income_hh_pct"] = 60 - w["income_keur_per_resident"]
    t2, _ = inequality_table(w, ["no2_ugm3_popw"], ranking="low_income_hh_pct", n_boot=0)
    assert metric(t2, "no2_ugm3_popw", "ci_relative") == pytest.approx(
        metric(t, "no2_ugm3_popw", "ci_relative"))


# ---------------------------------------------------------------------------- SES ranking


def test_ses_rank_quintiles_and_order():
    w = make_wards(n=50)
    r, docs = ses_rank(w)
    assert set(docs) == set(r.columns)
    poorest = w["income_keur_per_resident"].idxmin()
    richest = w["income_keur_per_resident"].idxmax()
    assert r.loc[poorest, "ses_quintile"] == 1 and r.loc[richest, "ses_quintile"] == 5
    assert r["ses_rank_frac"].between(0, 1).all()
    share = w["residents"].groupby(r["ses_quintile"]).sum() / w["residents"].sum()
    assert share.between(0.1, 0.3).all()  # roughly a fifth of residents each
    assert (r["ses_source"] == "income_keur_per_resident").all()


def test_proxy_ranking_is_flagged_per_ward():
    w = make_wards(n=40)
    w.loc[w.index[:7], "income_keur_per_resident"] = np.nan
    w.loc[w.index[0], "health_difficulty_making_ends_meet_pct"] = np.nan  # neither -> missing
    r, _ = ses_rank(w)
    assert r.loc[w.index[0], "ses_source"] == "missing"
    assert np.isnan(r.loc[w.index[0], "ses_rank_frac"])
    assert (r.loc[w.index[1:7], "ses_source"] == "proxy:health_difficulty_making_ends_meet_pct").all()
    assert (r.loc[w.index[7:], "ses_source"] == "income_keur_per_resident").all()
    t, _ = inequality_table(w, ["no2_ugm3_popw"], n_boot=0)
    assert metric(t, "no2_ugm3_popw", "ci_relative") < 0
    lab = t.loc[t["metric"] == "ci_relative", "ranking_variable"].iloc[0]
    assert lab == "income_keur_per_resident+proxy:health_difficulty_making_ends_meet_pct (6/39)"
    w["income_keur_per_resident"] = np.nan
    t, _ = inequality_table(w, ["no2_ugm3_popw"], n_boot=0)
    assert t.loc[t["metric"] == "sii", "ranking_variable"].iloc[0] == (
        "proxy:health_difficulty_making_ends_meet_pct")
    with pytest.raises(ConfigError, match="unknown direction"):
        ses_rank(w.assign(wealth=1.0), ranking="wealth", proxy=None)


def test_unrankable_wards_raise_instead_of_empty_output():
    """Newest KWB year: income not yet published (all NaN) and no health table with the proxy."""
    w = make_wards(n=30, geometry=True).drop(columns=DEFAULT_PROXY)
    w["income_keur_per_resident"] = np.nan
    for call in (lambda: compute_disparities(w, ["no2_ugm3_popw"], n_boot=0, permutations=9),
                 lambda: ses_rank(w),
                 lambda: inequality_table(w, ["no2_ugm3_popw"], n_boot=0)):
        with pytest.raises(InputDataError) as e:
            call()
        msg = str(e.value)
        assert "only 0 ward(s) can be ranked" in msg
        assert "'income_keur_per_resident' (0 disclosed ward(s) with a value)" in msg
        assert f"proxy {DEFAULT_PROXY!r} (not a column)" in msg
        assert "older KWB year" in msg and "inputs.health" in msg
    # one ward with income is still not a ranking
    w.loc[w.index[0], "income_keur_per_resident"] = 20.0
    with pytest.raises(InputDataError, match="only 1 ward"):
        ses_rank(w, proxy=None)


# ---------------------------------------------------------------------------- disclosure


def test_disclosure_withholds_small_wards_and_excludes_them():
    w = make_wards(n=30, geometry=True)
    w.loc[w.index[3], "residents"] = 12.0
    w.loc[w.index[3], "no2_ugm3_popw"] = 500.0  # would dominate if it were used
    res = compute_disparities(w, ["no2_ugm3_popw"], n_boot=100, permutations=99)
    pw = res.per_ward
    assert pw.loc[w.index[3], "disclosure_reason"].startswith("fewer than 50 residents")
    assert pw["disclosure_reason"].notna().sum() == 1
    assert np.isnan(pw.loc[w.index[3], "ses_rank_frac"])
    assert pd.isna(pw.loc[w.index[3], "ses_quintile"])
    assert pw.loc[w.index[3], "ses_source"] == "withheld"
    assert pd.isna(pw.loc[w.index[3], "no2_ugm3_popw_lisa"])
    assert (res.table["n_wards"] == 29).all()
    ref, _ = inequality_table(w.drop(index=w.index[3]), ["no2_ugm3_popw"], n_boot=0)
    assert metric(res.table, "no2_ugm3_popw", "ci_relative") == pytest.approx(
        metric(ref, "no2_ugm3_popw", "ci_relative"))
    # threshold is configurable
    res2 = compute_disparities(w, ["no2_ugm3_popw"], n_boot=0, permutations=9, min_residents=10)
    assert res2.per_ward["disclosure_reason"].isna().all()


# ---------------------------------------------------------------------------- spatial


def test_morans_i_checkerboard_negative_and_gradient_positive():
    rr, cc = np.mgrid[0:8, 0:8]
    checker = grid((rr + cc) % 2)
    t, _ = morans_i(checker, ["v"], contiguity="rook", permutations=499)
    assert metric(t, "v", "morans_i") < -0.9
    assert metric(t, "v", "morans_i", "p_value") < 0.01
    # with queen contiguity diagonal neighbours share the colour: no longer negative
    tq, _ = morans_i(checker, ["v"], permutations=99)
    assert abs(metric(tq, "v", "morans_i")) < 0.2
    stripes = grid(cc % 2)  # alternating columns: strongly negative under queen contiguity
    ts, _ = morans_i(stripes, ["v"], permutations=499)
    assert metric(ts, "v", "morans_i") < -0.4
    gradient = grid(rr + cc)
    tg, _ = morans_i(gradient, ["v"], permutations=499)
    assert metric(tg, "v", "morans_i") > 0.8
    assert metric(tg, "v", "morans_i", "p_value") < 0.01
    a, _ = morans_i(gradient.assign(v=gradient["v"] + np.random.default_rng(0).normal(0, 3, 64)),
                    ["v"], seed=7)
    b, _ = morans_i(gradient.assign(v=gradient["v"] + np.random.default_rng(0).normal(0, 3, 64)),
                    ["v"], seed=7)
    pd.testing.assert_frame_equal(a, b)


def test_lisa_labels_and_islands():
    rr, cc = np.mgrid[0:8, 0:8]
    values = np.where((rr < 3) & (cc < 3), 10.0, 0.0) + np.where((rr > 4) & (cc > 4), -10.0, 0.0)
    g = grid(values + np.random.default_rng(1).normal(0, 0.1, values.shape))
    island = gpd.GeoDataFrame({"v": [3.0], "residents": [1000.0]}, geometry=[box(5000, 5000, 5100, 5100)],
                              index=pd.Index(["BU99990999"], name="buurtcode"), crs=28992)
    g = pd.concat([g, island])
    lab, docs = lisa_clusters(g, ["v"], seed=1)
    assert set(docs) == {"v_lisa"}
    assert lab.loc["BU99990101", "v_lisa"] == "HH"
    assert lab.loc["BU99990606", "v_lisa"] == "LL"
    assert lab.loc["BU99990999", "v_lisa"] == "island"
    assert set(lab["v_lisa"].dropna()) <= {"HH", "LL", "HL", "LH", "ns", "island"}
    lab2, _ = lisa_clusters(g, ["v"], seed=1)
    pd.testing.assert_frame_equal(lab, lab2)
    with pytest.raises(InputDataError, match="GeoDataFrame"):
        lisa_clusters(pd.DataFrame(g.drop(columns="geometry")), ["v"])
    with pytest.raises(ConfigError, match="permutations must be at least 1"):
        lisa_clusters(g, ["v"], permutations=0)


def test_spatial_measures_refuse_duplicate_ward_codes():
    g = grid(np.arange(16.0).reshape(4, 4))
    g = g.rename(index={"BU99990101": "BU99990100"})
    for call in (lambda: morans_i(g, ["v"], permutations=9), lambda: lisa_clusters(g, ["v"], permutations=9)):
        with pytest.raises(InputDataError, match=r"duplicate ward codes in the index: \['BU99990100'\]"):
            call()


def test_bootstrap_undefined_draws_are_counted_and_withhold_the_interval():
    # 6 wards: a resample often leaves a quintile empty -> its mean is undefined in that draw
    w = make_wards(n=6, seed=2)
    t, _ = inequality_table(w, ["no2_ugm3_popw"], n_boot=1000, min_residents=0)
    assert "note" in t.columns and list(t.columns) == list(DISPARITY_TABLE_DOCS)
    for m in ("q3_mean", "quintile_ratio"):  # undefined in far more than 5 % of the draws
        r = t[t["metric"] == m].iloc[0]
        assert np.isnan(r["ci_low"]) and np.isnan(r["ci_high"]) and np.isfinite(r["value"]), m
        assert "bootstrap draws undefined" in r["note"] and "interval withheld" in r["note"], m
    q1 = t[t["metric"] == "q1_mean"].iloc[0]  # 44 of 1000 undefined: kept, and said
    assert np.isfinite(q1["ci_low"]) and q1["note"].startswith("44 of 1000 bootstrap draws undefined")
    mean = t[t["metric"] == "mean"].iloc[0]  # always defined
    assert mean["note"] == "" and mean["ci_low"] < mean["value"] < mean["ci_high"]
    # the 5 % rule itself
    draws = np.linspace(0, 1, 1000)
    few, many = draws.copy(), draws.copy()
    few[:50] = np.nan     # exactly 5 %: kept
    many[:51] = np.nan    # 5.1 %: withheld
    lo, hi, note = _bootstrap_interval(few)
    assert np.isfinite(lo) and note.startswith("50 of 1000 bootstrap draws undefined")
    assert "left out" in note
    lo, hi, note = _bootstrap_interval(many)
    assert np.isnan(lo) and np.isnan(hi) and "51 of 1000" in note and "withheld" in note
    assert _bootstrap_interval(draws)[2] == ""


def test_indicator_names_that_make_too_long_columns_are_refused():
    w = make_wards(n=20)
    ok_name = "x" * (MAX_COLUMN_NAME_LENGTH - len("conc_index__lo95"))
    w[ok_name] = w["no2_ugm3_popw"]
    w[ok_name + "y"] = w["no2_ugm3_popw"]
    assert len(f"conc_index_{ok_name}_lo95") == 63
    compute_disparities(w, [ok_name], n_boot=0, higher_is_worse={ok_name: True})
    with pytest.raises(ConfigError, match=r"longer than 47 characters.*63"):
        compute_disparities(w, [ok_name + "y"], n_boot=0)


# ---------------------------------------------------------------------------- burden


def _burden_wards():
    idx = pd.Index(list("abcd"), name="buurtcode")
    w = pd.DataFrame({
        "residents": 1000.0,
        "no2_ugm3_popw": [10.0, 20, 30, 40],          # exposure, higher worse
        "lden_db_popw": [50.0, 60, 55, 65],           # environmental effect (weight 1/2)
        "green_share_pct": [40.0, 30, 20, 10],        # exposure, lower worse
        "health_lonely_pct": [30.0, 40, 50, 60],      # sensitivity
        "health_overweight_pct": [20.0, 50, 40, 60],  # sensitivity
        "income_keur_per_resident": [40.0, 30, 20, 10],  # socioeconomic, lower worse
    }, index=idx)
    groups = {"exposures": ["no2_ugm3_popw", "green_share_pct"], "effects": ["lden_db_popw"],
              "sensitivity": ["health_lonely_pct", "health_overweight_pct"],
              "socioeconomic": ["income_keur_per_resident"]}
    return w, groups


def test_cumulative_burden_by_hand_and_fixed_reference():
    """CalEnviroScreen 4.0: percentiles averaged within each component, then the components.

    Mid-rank percentiles among 4 wards are 12.5, 37.5, 62.5, 87.5. Ward b:
    exposures (no2 37.5, green 37.5) -> 37.5; effects (lden 62.5) -> 62.5;
    pollution burden = (37.5 + 0.5*62.5) / 1.5 = 68.75/1.5 = 45.8333
    (pooling the indicators instead, (37.5+37.5+0.5*62.5)/2.5 = 42.5, is the CES 2.0 rule);
    sensitivity (lonely 37.5, overweight 62.5) -> 50; socioeconomic (income 37.5) -> 37.5;
    population characteristics = (50 + 37.5)/2 = 43.75 (pooled: 137.5/3 = 45.8333).
    Ward c: PB = (62.5 + 0.5*37.5)/1.5 = 54.1667; PC = ((62.5+37.5)/2 + 62.5)/2 = 56.25.
    Ward d is the maximum of both (87.5): scores 10 and 10, burden 100.
    Ward b's burden score = (45.8333/87.5*10) * (43.75/87.5*10) = 5.2381 * 5 = 26.190.
    """
    w, groups = _burden_wards()
    out, docs = cumulative_burden(w, groups)
    assert set(out.columns) <= set(docs)
    assert out["no2_ugm3_popw_pctl"].tolist() == [12.5, 37.5, 62.5, 87.5]
    assert out["green_share_pct_pctl"].tolist() == [12.5, 37.5, 62.5, 87.5]
    assert out["lden_db_popw_pctl"].tolist() == [12.5, 62.5, 37.5, 87.5]
    assert out["health_overweight_pct_pctl"].tolist() == [12.5, 62.5, 37.5, 87.5]
    assert out["pollution_burden"].tolist() == pytest.approx([12.5, 68.75 / 1.5, 81.25 / 1.5, 87.5])
    assert out.loc["b", "pollution_burden"] == pytest.approx(45.833333, abs=1e-6)
    assert out["population_characteristics"].tolist() == pytest.approx([12.5, 43.75, 56.25, 87.5])
    assert out.loc["d", "pollution_burden"] == pytest.approx(87.5)
    assert out["pollution_burden_score"].max() == pytest.approx(10)
    assert out.loc["d", "burden_score"] == pytest.approx(100)
    assert out.loc["b", "burden_score"] == pytest.approx(26.190476, abs=1e-6)
    assert out["double_burden"].tolist() == [False, False, False, True]
    assert out["no2_ugm3_popw_flag"].tolist() == [False, False, False, True]
    # fixed reference: a later year with everyone cleaner is scored against the base year
    ref = burden_reference(w, groups)
    assert set(ref["kind"]) == {"distribution", "max"}
    later = w.assign(no2_ugm3_popw=w["no2_ugm3_popw"] - 15)
    fixed, _ = cumulative_burden(later, groups, reference=ref)
    relative, _ = cumulative_burden(later, groups)
    assert fixed["no2_ugm3_popw_pctl"].tolist() == [0.0, 0.0, 25.0, 50.0]  # -5, 5, 15, 25 vs 10..40
    assert relative["no2_ugm3_popw_pctl"].tolist() == [12.5, 37.5, 62.5, 87.5]
    with pytest.raises(ConfigError, match="unknown direction"):
        cumulative_burden(w.assign(foo=1.0), {"exposures": ["foo"], "sensitivity": ["health_lonely_pct"]})


def test_burden_components_average_available_indicators():
    """Within a component, the mean runs over the indicators a ward has; a component with none
    is left out of its pair (not counted as 0)."""
    w, groups = _burden_wards()
    w.loc["b", "green_share_pct"] = np.nan        # exposures of b: no2 only
    w.loc["c", "lden_db_popw"] = np.nan           # c has no effect indicator
    w.loc["c", ["health_lonely_pct", "health_overweight_pct"]] = np.nan  # nor sensitivity
    out, _ = cumulative_burden(w, groups)
    pct = {c: out[f"{c}_pctl"] for c in ("no2_ugm3_popw", "green_share_pct", "lden_db_popw")}
    # b: exposures = no2 pctl, effects = lden pctl
    assert out.loc["b", "pollution_burden"] == pytest.approx(
        (pct["no2_ugm3_popw"]["b"] + 0.5 * pct["lden_db_popw"]["b"]) / 1.5)
    # c: the exposures component alone (mean of no2 and green), population = income alone
    assert out.loc["c", "pollution_burden"] == pytest.approx(
        (pct["no2_ugm3_popw"]["c"] + pct["green_share_pct"]["c"]) / 2)
    assert out.loc["c", "population_characteristics"] == pytest.approx(
        out.loc["c", "income_keur_per_resident_pctl"])
    assert out.loc["c", "burden_n_indicators"] == 3


def _wijk_version(w):
    v = w.iloc[:3].copy()
    v.index = pd.Index(["WK999901", "WK999902", "WK999903"], name="wijkcode")
    return v * [1, 1.5, 1.1, 0.7, 1.2, 0.9, 1.3]


def test_burden_reference_carries_level_and_is_filtered_per_level():
    w, groups = _burden_wards()
    ref_b = burden_reference(w, groups, label="current run")
    assert list(ref_b.columns) == BURDEN_REFERENCE_COLUMNS
    assert set(ref_b["level"]) == {"buurt"}
    ref_w = burden_reference(_wijk_version(w), groups, label="current run")
    assert set(ref_w["level"]) == {"wijk"}
    # the GeoPackage layer holds both levels, concatenated
    both = pd.concat([ref_b, ref_w], ignore_index=True)
    later = w.assign(no2_ugm3_popw=w["no2_ugm3_popw"] - 15)
    alone, _ = cumulative_burden(later, groups, reference=ref_b)
    mixed, _ = cumulative_burden(later, groups, reference=both)
    pd.testing.assert_frame_equal(mixed, alone)  # the wijk maximum (not the buurt one) used to win
    assert mixed["pollution_burden_score"].max() <= 10
    # the wijk level reads its own rows
    wk, _ = cumulative_burden(_wijk_version(w), groups, reference=both)
    wk_own, _ = cumulative_burden(_wijk_version(w), groups)
    pd.testing.assert_frame_equal(wk, wk_own)
    # two references of one level, or levels mixed without a level column: refused
    with pytest.raises(InputDataError, match=r"more than one 'max' row.*buurt"):
        cumulative_burden(later, groups, reference=pd.concat([ref_b, ref_b]))
    with pytest.raises(InputDataError, match="more than one 'max' row"):
        cumulative_burden(later, groups, reference=both.drop(columns="level"))
    with pytest.raises(InputDataError, match=r"no values for \['no2_ugm3_popw'\]"):
        cumulative_burden(later, groups, reference=ref_b[ref_b["variable"] != "no2_ugm3_popw"])
    with pytest.raises(InputDataError, match="no rows for level 'wijk'"):
        cumulative_burden(_wijk_version(w), groups, reference=ref_b)


def test_burden_reference_read_back_from_gpkg_and_csv(tmp_path):
    import pyogrio

    w, groups = _burden_wards()
    both = pd.concat([burden_reference(w, groups, label="current run"),
                      burden_reference(_wijk_version(w), groups, label="current run")],
                     ignore_index=True)
    gpkg = tmp_path / "healthgeo.gpkg"
    pyogrio.write_dataframe(both.astype({"variable": "string", "kind": "string", "label": "string",
                                         "level": "string"}), gpkg, layer="burden_reference",
                            driver="GPKG")
    csv = tmp_path / "reference.csv"
    both.drop(columns="label").to_csv(csv, index=False)
    later = w.assign(no2_ugm3_popw=w["no2_ugm3_popw"] - 15)
    expected, _ = cumulative_burden(later, groups, reference=both[both["level"] == "buurt"])
    for path in (gpkg, csv):
        ref = read_burden_reference(path)
        assert list(ref.columns) == BURDEN_REFERENCE_COLUMNS
        assert set(ref["label"]) == {str(path)} and set(ref["level"]) == {"buurt", "wijk"}
        got, docs = cumulative_burden(later, groups, reference=ref)
        pd.testing.assert_frame_equal(got, expected)
        assert str(path) in docs["burden_score_pctl"].method
        res = compute_disparities(later, ["no2_ugm3_popw"], n_boot=0, burden_groups=groups,
                                  burden_reference_table=ref, min_residents=0)
        assert set(res.reference["label"]) == {str(path)} and set(res.reference["level"]) == {"buurt"}
        assert res.per_ward["burden_score"].tolist() == pytest.approx(expected["burden_score"].tolist())
    # default unchanged: the run is its own reference and says so
    res = compute_disparities(later, ["no2_ugm3_popw"], n_boot=0, burden_groups=groups)
    assert set(res.reference["label"]) == {"current run"} and set(res.reference["level"]) == {"buurt"}
    with pytest.raises(ConfigError, match="does not exist"):
        read_burden_reference(tmp_path / "nope.gpkg")
    pyogrio.write_dataframe(pd.DataFrame({"a": [1]}), tmp_path / "other.gpkg", layer="x", driver="GPKG")
    with pytest.raises(InputDataError, match="no burden_reference layer"):
        read_burden_reference(tmp_path / "other.gpkg")
    both.drop(columns="level").to_csv(tmp_path / "old.csv", index=False)
    with pytest.raises(InputDataError, match=r"lacks column\(s\) \['level'\]"):
        read_burden_reference(tmp_path / "old.csv")


def test_stage_passes_configured_burden_reference(tmp_path, monkeypatch):
    from healthgeo import stages
    from healthgeo.io import read_table

    w = make_wards(n=36, geometry=True)
    from healthgeo.dictionary import doc
    from healthgeo.sources.health import health_docs
    from healthgeo.wards import ward_docs

    # the burden components come from the columns' docs, as the producers write them
    col_docs = {**ward_docs("buurt"), **health_docs(["health_good_health_pct", "health_difficulty_making_ends_meet_pct"]),
            "no2_ugm3_popw": doc("µg/m³", "NO2", higher_is_worse=True, burden_group="exposures"),
            "green_share_pct": doc("%", "green", higher_is_worse=False, burden_group="exposures", about="area")}
    monkeypatch.setattr(stages, "ward_frame", lambda *a, **k: (w.copy(), col_docs))
    monkeypatch.setattr(stages, "read_reasons", lambda *a, **k: {"buurt": primary_reasons(w["residents"])})
    params = {"indicators": ["no2_ugm3_popw"], "ranking": "income_keur_per_resident",
              "proxy": DEFAULT_PROXY, "n_boot": 100, "seed": 0, "min_residents": 50,
              "permutations": 99, "double_burden_pctl": 75, "burden_reference": None}
    out = {k: tmp_path / f"{k}.parquet" for k in ("wards", "table", "ref")}
    stages.disparity("unused", [], "buurt", out["wards"], out["table"], out["ref"], params=params)
    ref, docs = read_table(out["ref"])
    assert set(ref["label"]) == {"current run"} and set(ref["level"]) == {"buurt"}
    assert set(ref.columns) <= set(docs) and "level" in docs
    base = ref.copy()
    base.loc[base["kind"] == "max", "value"] *= 2  # a different fixed scale
    csv = tmp_path / "base.csv"
    base.to_csv(csv, index=False)
    stages.disparity("unused", [], "buurt", out["wards"], out["table"], out["ref"],
                     params={**params, "burden_reference": str(csv)})
    ref2, _ = read_table(out["ref"])
    assert set(ref2["label"]) == {str(csv)}
    per_ward, _ = read_table(out["wards"])
    assert per_ward["pollution_burden_score"].max() == pytest.approx(5)


def test_burden_indicator_without_values_is_named():
    w, groups = _burden_wards()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(InputDataError, match=r"\['health_lonely_pct'\] have no values") as e:
            cumulative_burden(w.assign(health_lonely_pct=np.nan), groups)
        assert "rebuild" not in str(e.value)
        with pytest.raises(InputDataError, match=r"have no values among the 0 disclosed"):
            cumulative_burden(w.assign(residents=10.0), groups)
        with pytest.raises(InputDataError, match=r"health_lonely_pct.*have no values"):
            burden_reference(w.assign(health_lonely_pct=np.nan), groups)


def test_percentile_rank_tie_rules_and_float_noise():
    """ref 1, 2, 2, 2, 3: the 2s fill positions 1..3 (mid-ranks 30, 50, 70)."""
    ref = np.array([3.0, 2.0, 1.0, 2.0, 2.0])
    x = np.array([1.0, 2.0, 3.0, 2.5, 0.0, 9.0, np.nan])
    assert ineq.percentile_rank(x, ref, ties="mid")[:6].tolist() == [10, 50, 90, 80, 0, 100]
    assert ineq.percentile_rank(x, ref, ties="upper")[:6].tolist() == [10, 70, 90, 80, 0, 100]
    assert ineq.percentile_rank(x, ref, ties="lower")[:6].tolist() == [10, 30, 90, 80, 0, 100]
    assert np.isnan(ineq.percentile_rank(x, ref)[-1])
    # a value one ulp off its reference copy (or the other way round) is still the same value
    up, down = np.nextafter(2.0, 3.0), np.nextafter(1.0, 0.0)
    assert ineq.percentile_rank([up, down], ref).tolist() == [50, 10]
    assert ineq.percentile_rank([2.0, 1.0], [1.0, up, up, up, 3.0], ties="upper").tolist() == [70, 10]
    with pytest.raises(ValueError, match="ties"):
        ineq.percentile_rank(x, ref, ties="max")


def test_burden_score_pctl_is_mid_rank_despite_last_bit_differences():
    """The reviewer's case: reference score pb/pb_max*10*pc/pc_max*10, ward score pb_s*pc_s.

    Wherever the two expressions round differently the old exact lookup gave i/n instead of
    (i + 0.5)/n. Scores for four wards that differ in the last bit: still mid-ranks.
    """
    rng = np.random.default_rng(1)
    pb, pc = rng.uniform(1, 100, 400), rng.uniform(1, 100, 400)
    old_ref = pb / pb.max() * 10 * pc / pc.max() * 10
    ward = (pb / pb.max() * 10) * (pc / pc.max() * 10)
    assert (old_ref != ward).sum() > 10  # the two expressions do differ in the last bits
    order = np.argsort(ward)
    expected = np.empty(400)
    expected[order] = 100 * (np.arange(400) + 0.5) / 400
    assert burden_percentile(ward, old_ref) == pytest.approx(expected, abs=1e-9)
    # before the fix: exact lookup gives i/n where the bits differ
    exact = ineq.percentile_rank(ward, old_ref, rtol=0)
    assert not np.allclose(exact, expected)


def test_burden_score_pctl_by_hand_and_against_perturbed_reference():
    """Scores of _burden_wards (see the test above): a 1.43^2 = 2.04, b 26.19, c 6.19 x 6.43 =
    39.80, d 100 -> all distinct, mid-ranks 12.5, 37.5, 62.5, 87.5 (within (0, 100))."""
    w, groups = _burden_wards()
    out, docs = cumulative_burden(w, groups)
    score = (out["pollution_burden"] / 87.5 * 10) * (out["population_characteristics"] / 87.5 * 10)
    assert out["burden_score"].tolist() == pytest.approx(score.tolist())
    assert out.loc["c", "burden_score"] == pytest.approx((81.25 / 1.5 / 87.5 * 10) * (56.25 / 87.5 * 10))
    assert out["burden_score_pctl"].tolist() == [12.5, 37.5, 62.5, 87.5]
    assert ((out["burden_score_pctl"] > 0) & (out["burden_score_pctl"] < 100)).all()
    assert "worst-tie rule" in docs["burden_score_pctl"].method
    # the reference's copies of the scores moved by one ulp: the same percentiles
    ref = burden_reference(w, groups)
    nudged = ref.copy()
    rows = (nudged["variable"] == "burden_score") & (nudged["kind"] == "distribution")
    nudged.loc[rows, "value"] = np.nextafter(nudged.loc[rows, "value"].to_numpy(float), np.inf)
    again, _ = cumulative_burden(w, groups, reference=nudged)
    assert again["burden_score_pctl"].tolist() == [12.5, 37.5, 62.5, 87.5]
    # wijk level (3 wards): mid-ranks 16.67, 50, 83.33, never 0 or 100
    wk, _ = cumulative_burden(_wijk_version(w), groups)
    assert sorted(wk["burden_score_pctl"]) == pytest.approx([100 / 6, 50, 500 / 6])


def test_burden_worst_tie_rule_by_hand():
    """Five wards; three without any green (lower is worse) and three tied at the worst NO2.

    green 0, 0, 0, 20, 40: sorted from least to most burden 40, 20, 0, 0, 0 -> positions 0..4;
    the 0s fill positions 2..4 and all get the worst one, (4 + 0.5)/5 = 90 (mid-rank would be
    70, below the flag cut-off 75). NO2 10, 30, 30, 30, 5: the 30s fill positions 2..4 -> 90.
    """
    idx = pd.Index(list("abcde"), name="buurtcode")
    w = pd.DataFrame({"residents": 1000.0,
                      "green_share_pct": [0.0, 0, 0, 20, 40],
                      "no2_ugm3_popw": [10.0, 30, 30, 30, 5],
                      "health_lonely_pct": [10.0, 20, 30, 40, 50]}, index=idx)
    groups = {"exposures": ["green_share_pct", "no2_ugm3_popw"], "sensitivity": ["health_lonely_pct"]}
    out, docs = cumulative_burden(w, groups)
    assert out["green_share_pct_pctl"].tolist() == [90, 90, 90, 30, 10]
    assert out["green_share_pct_flag"].tolist() == [True, True, True, False, False]
    assert out["no2_ugm3_popw_pctl"].tolist() == [30, 90, 90, 90, 10]
    assert out["health_lonely_pct_pctl"].tolist() == [10, 30, 50, 70, 90]  # untied: mid-ranks
    # pollution burden = mean of the two: a 60, b 90, c 90, d 60, e 10 -> ties again:
    # sorted 10 | 60 60 | 90 90 -> e 10, a/d (2 + 0.5)/5 = 50, b/c (4 + 0.5)/5 = 90
    assert out["pollution_burden"].tolist() == [60, 90, 90, 60, 10]
    assert out["pollution_burden_pctl"].tolist() == [50, 90, 90, 50, 10]
    assert "worst-tie rule" in docs["green_share_pct_pctl"].method
    # two identical wards at the top of the burden score share the upper position too
    w2 = pd.concat([_burden_wards()[0], _burden_wards()[0].loc[["d"]].rename(index={"d": "e"})])
    out2, _ = cumulative_burden(w2, _burden_wards()[1])
    assert out2.loc[["d", "e"], "burden_score_pctl"].tolist() == [90, 90]
    # lower is worse: from least burden 2 | 1 1 -> the 1s at positions 1..2 get (2 + 0.5)/3
    assert burden_percentile([1.0], [1.0, 1.0, 2.0], higher_is_worse=False) == pytest.approx([250 / 3])


def test_ses_rank_keeps_mid_ranks_for_ties():
    """The fractional rank of the concentration index stays the mid-rank (docs/methods.md#socioeconomic-ranking)."""
    idx = pd.Index([f"BU{i}" for i in range(4)], name="buurtcode")
    w = pd.DataFrame({"residents": 1000.0, "income_keur_per_resident": [10.0, 10.0, 20.0, 30.0]},
                     index=idx)
    ranked, _ = ses_rank(w, proxy=None)
    assert ranked["ses_rank_frac"].tolist() == pytest.approx([0.25, 0.25, 0.625, 0.875])


# ---------------------------------------------------------------------------- orchestration


def test_compute_disparities_docs_and_schema():
    w = make_wards(n=36, geometry=True)
    groups = {"exposures": ["no2_ugm3_popw"], "sensitivity": ["health_good_health_pct"],
              "socioeconomic": ["income_keur_per_resident"]}
    res = compute_disparities(w, ["no2_ugm3_popw", "health_good_health_pct"], n_boot=200,
                              permutations=99, burden_groups=groups)
    assert list(res.table.columns) == list(DISPARITY_TABLE_DOCS)
    assert set(res.per_ward.columns) <= set(res.docs)
    for name, d in {**res.docs, **DISPARITY_TABLE_DOCS, **BURDEN_REFERENCE_DOCS}.items():
        assert d.unit.strip() and d.description.strip(), name
    assert res.per_ward.index.equals(w.index)
    assert {"morans_i", "ci_relative", "sii", "rii", "ci_erreygers"} <= set(res.table["metric"])
    assert (res.table["level"] == "buurt").all()
    assert {"ses_rank_frac", "ses_quintile", "ses_source", "no2_ugm3_popw_lisa",
            "double_burden", "burden_score"} <= set(res.per_ward.columns)
    assert len(res.reference) > 0
    with pytest.raises(InputDataError, match="missing"):
        compute_disparities(w, ["nope"], n_boot=0)


# ---------------------------------------------------------------------------- real data


@pytest.mark.shared
def test_utrecht_buurten_real_data(shared_dir):
    """Utrecht 2020 RIVM health estimates by buurt, ranked by the proxy (no buurt income offline)."""
    health = pd.read_excel(shared_dir / "health_rivm_gezondheid_2020" / "RIVM_gezondheid2020_18+.xlsx")
    health["code"] = health["WijkenEnBuurten"].astype(str).str.strip()
    health = health[health["code"].str.startswith("BU0344")].set_index("code")
    cols = {"ErvarenGezondheidGoedZeerGoed_4": "health_good_health_pct",
            "MoeiteMetRondkomen_38": "health_difficulty_making_ends_meet_pct",
            "Overgewicht_9": "health_overweight_pct", "Eenzaam_28": "health_lonely_pct"}
    health = health[list(cols)].rename(columns=cols).apply(pd.to_numeric, errors="coerce")
    kwb = pd.read_excel(shared_dir / "cbs_kerncijfers_kwb" / "CBS-Utrecht-kwb-2023.xlsx")
    kwb["code"] = kwb["gwb_code_10"].astype(str).str.strip()
    kwb = kwb[kwb["code"].str.startswith("BU")].set_index("code")
    kwb = kwb[["a_inw", "g_ink_pi"]].replace(".", np.nan).apply(pd.to_numeric, errors="coerce")
    kwb.columns = ["residents", "income_keur_per_resident"]
    buurt = gpd.read_file(shared_dir / "boundaries_gemeente_utrecht_2013" / "buurt.geojson")
    buurt["code"] = "BU0344" + buurt["KODE"].astype(str)
    wards = buurt.set_index("code")[["geometry"]].to_crs(28992).join(kwb).join(health)
    wards.index.name = "buurtcode"
    assert len(wards) == 111 and kwb["income_keur_per_resident"].isna().all()

    inds = list(cols.values())
    t0 = time.perf_counter()
    res = compute_disparities(wards, inds, n_boot=1000, seed=0)
    elapsed = time.perf_counter() - t0
    t, pw = res.table, res.per_ward

    # income is '.' at buurt level -> every disclosed ward ranked by the proxy, and says so
    disclosed = pw["disclosure_reason"].isna()
    assert (pw.loc[disclosed, "ses_source"] == "proxy:health_difficulty_making_ends_meet_pct").all()
    assert (pw.loc[~disclosed, "ses_source"] == "withheld").all()
    assert (~disclosed).sum() == (wards["residents"] < 50).sum() >= 1
    n = int(metric(t, "health_good_health_pct", "ci_relative", "n_wards"))
    assert n == disclosed.sum() - wards.loc[disclosed, "health_good_health_pct"].isna().sum()

    # good health is concentrated among the advantaged: ranked most disadvantaged first, C > 0
    assert metric(t, "health_good_health_pct", "ci_relative", "ci_low") > 0
    assert metric(t, "health_good_health_pct", "sii") > 0
    assert metric(t, "health_good_health_pct", "rii") > 1
    assert metric(t, "health_good_health_pct", "quintile_ratio") < 1
    # loneliness burdens the disadvantaged
    assert metric(t, "health_lonely_pct", "ci_relative", "ci_high") < 0
    assert metric(t, "health_lonely_pct", "quintile_ratio") > 1
    # ranking a variable by itself: C = -Gini exactly
    assert metric(t, "health_difficulty_making_ends_meet_pct", "ci_relative") == pytest.approx(
        -metric(t, "health_difficulty_making_ends_meet_pct", "gini"))
    # health is spatially clustered
    assert metric(t, "health_good_health_pct", "morans_i") > 0.2
    assert metric(t, "health_good_health_pct", "morans_i", "p_value") < 0.05
    assert set(pw["health_good_health_pct_lisa"].dropna()) <= {"HH", "LL", "HL", "LH", "ns", "island"}

    show = t[t["metric"].isin(["mean", "q1_mean", "q5_mean", "quintile_ratio", "ci_relative",
                               "ci_erreygers", "sii", "rii", "gini", "morans_i"])]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"\nUtrecht buurten, {n} wards, {elapsed:.1f} s")
        print(show[["indicator", "metric", "value", "ci_low", "ci_high", "p_value"]]
              .round(4).to_string(index=False))
        print(pw.filter(like="_lisa").apply(lambda s: s.value_counts()).fillna(0).astype(int))


def test_single_ward_level_is_not_an_error():
    """A municipality with one wijk: nothing to compare at that level, so no measures and no error."""
    w = gpd.GeoDataFrame({"residents": [1000.0], "income_keur_per_resident": [30.0], "no2_ugm3_popw": [20.0]},
                         geometry=[box(0, 0, 100, 100)], crs=28992,
                         index=pd.Index(["WK999901"], name="wijkcode"))
    res = compute_disparities(w, ["no2_ugm3_popw"], n_boot=0, spatial=False)
    assert res.table.empty or res.table["value"].isna().all()
    assert res.per_ward["disclosure_reason"].isna().all()
