"""Numerical kernels for socioeconomic inequality measures, vectorised over bootstrap draws.

Every kernel takes ward values ``y`` (n,), population weights ``pop`` (n,) and an integer
matrix ``counts`` (B, n) of how often each ward appears in each draw (row of ones = the
observed sample). A resampled ward that appears k times is treated as one tied group with
k times its population, which is exactly what the fractional rank of k identical copies is,
so no per-draw sorting is needed: wards are sorted once and every draw reuses the order.

Formulas and sources: docs/methods.md, disparity stage (O'Donnell et al. 2008; Erreygers 2009;
WHO HEAT technical notes): docs/methods.md#socioeconomic-ranking,
docs/methods.md#concentration-index, docs/methods.md#corrected-concentration-index,
docs/methods.md#slope-and-relative-index-of-inequality, docs/methods.md#quintile-gap,
docs/methods.md#gini-and-theil, docs/methods.md#bootstrap-intervals,
docs/methods.md#burden-percentiles.

Ranks run from the most disadvantaged (R near 0) to the most advantaged
(R near 1).
"""

from __future__ import annotations

import numpy as np

N_QUINTILES = 5


def tie_groups(sorted_keys: np.ndarray) -> np.ndarray:
    """Group index (0..G-1) of runs of equal values in an already sorted 1-D array."""
    sorted_keys = np.asarray(sorted_keys)
    if sorted_keys.size == 0:
        return np.zeros(0, dtype=np.intp)
    change = np.r_[False, sorted_keys[1:] != sorted_keys[:-1]]
    return np.cumsum(change).astype(np.intp)


def fractional_rank(shares: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Fractional rank R_j = sum_{k<j} p_k + p_j/2, ties sharing their group's midpoint.

    ``shares`` is (n,) or (B, n), sorted by the ranking variable; ``groups`` from
    :func:`tie_groups`. Tied wards all get the rank of the middle of their joint population
    interval (O'Donnell et al. 2008, ch. 8), which makes the result independent of the order
    in which tied wards happen to be listed. See docs/methods.md#socioeconomic-ranking.
    """
    p = np.atleast_2d(shares)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    group_total = np.add.reduceat(p, starts, axis=1)
    mid = np.cumsum(group_total, axis=1) - group_total / 2.0
    out = mid[:, groups]
    return out if np.ndim(shares) == 2 else out[0]


def _shares(pop: np.ndarray, counts: np.ndarray) -> np.ndarray:
    w = counts * pop[None, :]
    tot = w.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return w / tot


def ordered_measures(y: np.ndarray, pop: np.ndarray, key: np.ndarray, counts: np.ndarray,
                     bounds: tuple[float, float] | None = None) -> dict[str, np.ndarray]:
    """Rank-based measures for each draw (row of ``counts``).

    ``key`` orders wards from most disadvantaged (smallest key) to most advantaged.
    Returns arrays of shape (B,) keyed by metric name:

    mean, q1_mean..q5_mean, quintile_ratio (Q1/Q5), quintile_difference (Q1-Q5),
    ci_relative C = (2/mu) sum p y R - 1, ci_absolute mu*C, ci_erreygers 4 mu/(b-a) C
    (only with ``bounds``), sii (WLS slope of y on R with weights p), rii (b0+b1)/b0.
    See docs/methods.md#concentration-index, docs/methods.md#corrected-concentration-index,
    docs/methods.md#slope-and-relative-index-of-inequality and docs/methods.md#quintile-gap.
    """
    order = np.lexsort((np.arange(len(key)), key))
    y, pop, key = y[order], pop[order], key[order]
    counts = counts[:, order]
    groups = tie_groups(key)
    p = _shares(pop, counts)
    R = fractional_rank(p, groups)
    py = p * y[None, :]
    mu = py.sum(axis=1)
    out: dict[str, np.ndarray] = {"mean": mu}
    with np.errstate(invalid="ignore", divide="ignore"):
        c = 2.0 / mu * (py * R).sum(axis=1) - 1.0
        r_bar = (p * R).sum(axis=1)
        d_r = R - r_bar[:, None]
        sxx = (p * d_r**2).sum(axis=1)
        b1 = (p * d_r * (y[None, :] - mu[:, None])).sum(axis=1) / sxx
        b1 = np.where(sxx > 0, b1, np.nan)
        b0 = mu - b1 * r_bar
        quint = np.minimum(np.floor(R * N_QUINTILES).astype(np.intp), N_QUINTILES - 1)
        qmeans = []
        for k in range(N_QUINTILES):
            m = quint == k
            den = (p * m).sum(axis=1)
            qmeans.append(np.where(den > 0, (py * m).sum(axis=1) / den, np.nan))
        for k, qm in enumerate(qmeans, start=1):
            out[f"q{k}_mean"] = qm
        q1, q5 = qmeans[0], qmeans[-1]
        out["quintile_ratio"] = np.where(q5 != 0, q1 / q5, np.nan)
        out["quintile_difference"] = q1 - q5
        out["ci_relative"] = np.where(mu != 0, c, np.nan)
        out["ci_absolute"] = mu * c
        if bounds is not None:
            a, b = bounds
            out["ci_erreygers"] = 4.0 * mu / (b - a) * c
        out["sii"] = b1
        out["rii"] = np.where(b0 != 0, (b0 + b1) / b0, np.nan)
    return out


def spread_measures(y: np.ndarray, pop: np.ndarray, counts: np.ndarray) -> dict[str, np.ndarray]:
    """Population-weighted Gini and Theil T of ``y`` across wards, for each draw.

    Gini G = sum_i sum_j p_i p_j |y_i - y_j| / (2 mu), computed as the concentration index
    of y ranked by itself (identical, ties included). Theil T = sum_j p_j (y_j/mu) ln(y_j/mu)
    with 0 ln 0 = 0; NaN when any value is negative. With equal weights both equal PySAL
    ``inequality.gini.Gini`` and ``inequality.theil.Theil``. See docs/methods.md#gini-and-theil.
    """
    order = np.argsort(y, kind="stable")
    y = y[order]
    pop = pop[order]
    counts = counts[:, order]
    p = _shares(pop, counts)
    R = fractional_rank(p, tie_groups(y))
    py = p * y[None, :]
    mu = py.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        gini = 2.0 / mu * (py * R).sum(axis=1) - 1.0
        s = y[None, :] / mu[:, None]
        term = np.where(s > 0, p * s * np.log(np.where(s > 0, s, 1.0)), 0.0)
        theil = term.sum(axis=1)
    if np.any(y < 0):
        theil = np.full_like(theil, np.nan)
        gini = np.full_like(gini, np.nan)
    return {"gini": np.where(mu > 0, gini, np.nan), "theil_t": np.where(mu > 0, theil, np.nan)}


def concentration_index(y, key, pop=None) -> float:
    """Relative concentration index of ``y`` with wards ordered by ``key`` (ascending).

    Convenience wrapper (no bootstrap). ``pop`` defaults to equal weights.
    """
    y = np.asarray(y, dtype=float)
    key = np.asarray(key, dtype=float)
    pop = np.ones_like(y) if pop is None else np.asarray(pop, dtype=float)
    return float(ordered_measures(y, pop, key, np.ones((1, len(y))))["ci_relative"][0])


def bootstrap_counts(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n) resampling counts: wards drawn with replacement, n per draw.

    See docs/methods.md#bootstrap-intervals.
    """
    if n_boot <= 0 or n == 0:
        return np.zeros((0, n), dtype=np.int64)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)


#: Relative tolerance under which :func:`percentile_rank` treats a value and a reference value as
#: equal: |x - r| <= PERCENTILE_RTOL * max(|x|, max |reference|). Scores computed twice (once for
#: the reference, once per ward) can differ in the last bits; real data never differ this little.
PERCENTILE_RTOL = 1e-10

_TIES = ("mid", "upper", "lower")


def percentile_rank(values: np.ndarray, reference: np.ndarray, *, ties: str = "mid",
                    rtol: float = PERCENTILE_RTOL) -> np.ndarray:
    """Mid-rank percentile (0-100) of each value within a fixed reference distribution.

    With ``lo`` = #ref < x and ``hi`` = #ref <= x (a reference value within the tolerance
    ``rtol * max(|x|, max|ref|)`` of x counts as equal to it, so floating-point noise does not
    break ties), the reference wards equal to x form the tie block at sorted positions
    lo..hi-1, and a reference ward at position i has the mid-rank (i + 0.5)/n. ``ties`` says
    which position of the block x gets:

    * ``"mid"``: the middle of the block, pct = 100 (lo + hi)/2 / n;
    * ``"upper"``: the highest position, pct = 100 (hi - 0.5) / n (the mid-rank of the largest
      member of the block);
    * ``"lower"``: the lowest position, pct = 100 (lo + 0.5) / n.

    Without ties (hi - lo = 1) all three equal the mid-rank; a value that is not in the
    reference (hi = lo) gets 100 lo / n under every rule. NaN values stay NaN.
    See docs/methods.md#burden-percentiles.
    """
    if ties not in _TIES:
        raise ValueError(f"ties must be one of {_TIES}, got {ties!r}")
    ref = np.asarray(reference, dtype=float)
    ref = np.sort(ref[np.isfinite(ref)])
    x = np.asarray(values, dtype=float)
    out = np.full(x.shape, np.nan)
    if ref.size == 0:
        return out
    ok = np.isfinite(x)
    xv = x[ok]
    tol = rtol * np.maximum(np.abs(xv), np.abs(ref).max())
    lo = np.searchsorted(ref, xv - tol, side="left").astype(float)
    hi = np.searchsorted(ref, xv + tol, side="right").astype(float)
    extra = np.maximum(hi - lo - 1.0, 0.0) / 2.0   # half the block minus the own half position
    pos = (lo + hi) / 2.0
    if ties == "upper":
        pos = pos + extra
    elif ties == "lower":
        pos = pos - extra
    out[ok] = 100.0 * pos / ref.size
    return out
