"""Tests of healthgeo.disparity: SES ranking, inequality measures, clustering, burden, disclosure."""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from healthgeo import _inequality as ineq
from healthgeo._errors import ConfigError, InputDataError
from healthgeo.disparity import (
    DISPARITY_TABLE_DOCS,
    apply_disclosure_control,
    burden_reference,
    compute_disparities,
    cumulative_burden,
    inequality_table,
    lisa_clusters,
    morans_i,
    ses_rank,
)

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
# 2022, IJERPH 19:3697), the same as ../shared/METHODS.md.
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
    with pytest.raises(InputDataError, match="outside assumed bounds"):
        inequality_table(v, ["green_share_pct"], n_boot=0)
    t, _ = inequality_table(v, ["green_share_pct"], n_boot=0, bounded={"green_share_pct": None})
    assert "ci_erreygers" not in set(t["metric"])


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
    masked, docs = apply_disclosure_control(w[["no2_ugm3_popw"]], w["residents"], min_residents=50)
    assert np.isnan(masked.loc[w.index[3], "no2_ugm3_popw"]) and "disclosure_reason" in docs
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


# ---------------------------------------------------------------------------- burden


def test_cumulative_burden_by_hand_and_fixed_reference():
    idx = pd.Index(list("abcd"), name="buurtcode")
    w = pd.DataFrame({
        "residents": 1000.0,
        "no2_ugm3_popw": [10.0, 20, 30, 40],          # exposure, higher worse
        "lden_db_popw": [50.0, 60, 55, 65],           # environmental effect (weight 1/2)
        "green_share_pct": [40.0, 30, 20, 10],        # exposure, lower worse
        "health_lonely_pct": [30.0, 40, 50, 60],      # sensitivity
        "income_keur_per_resident": [40.0, 30, 20, 10],  # socioeconomic, lower worse
    }, index=idx)
    groups = {"exposures": ["no2_ugm3_popw", "green_share_pct"], "effects": ["lden_db_popw"],
              "sensitivity": ["health_lonely_pct"], "socioeconomic": ["income_keur_per_resident"]}
    out, docs = cumulative_burden(w, groups)
    assert set(out.columns) <= set(docs)
    # mid-rank percentiles among 4 wards: 12.5, 37.5, 62.5, 87.5
    assert out["no2_ugm3_popw_pctl"].tolist() == [12.5, 37.5, 62.5, 87.5]
    assert out["green_share_pct_pctl"].tolist() == [12.5, 37.5, 62.5, 87.5]
    assert out["lden_db_popw_pctl"].tolist() == [12.5, 62.5, 37.5, 87.5]
    # ward b: (37.5 + 37.5 + 0.5*62.5) / 2.5 = 42.5
    assert out.loc["b", "pollution_burden"] == pytest.approx(42.5)
    assert out.loc["d", "pollution_burden"] == pytest.approx(87.5)
    assert out["pollution_burden_score"].max() == pytest.approx(10)
    assert out.loc["d", "burden_score"] == pytest.approx(100)
    assert out.loc["b", "burden_score"] == pytest.approx(42.5 / 87.5 * 10 * 37.5 / 87.5 * 10)
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


# ---------------------------------------------------------------------------- orchestration


def test_compute_disparities_docs_and_schema():
    w = make_wards(n=36, geometry=True)
    groups = {"exposures": ["no2_ugm3_popw"], "sensitivity": ["health_good_health_pct"],
              "socioeconomic": ["income_keur_per_resident"]}
    res = compute_disparities(w, ["no2_ugm3_popw", "health_good_health_pct"], n_boot=200,
                              permutations=99, burden_groups=groups)
    assert list(res.table.columns) == list(DISPARITY_TABLE_DOCS)
    assert set(res.per_ward.columns) <= set(res.docs)
    for d in res.docs.values():
        assert d.unit is not None and d.description
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
