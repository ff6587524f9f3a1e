"""Network distances against CBS *Nabijheid voorzieningen* (docs/methods.md#validation-against-cbs-nabijheid).

CBS publishes per buurt the mean road distance from residents' addresses to the nearest facility
of a type. healthgeo's population-weighted MEAN network distance (the same statistic,
:meth:`healthgeo.network.HomeAccess.mean_distances`) is compared with it per buurt and
destination type: both values, their ratio (healthgeo / CBS) and whether they agree within
+-25 %; per type and mode the Pearson correlation over buurten, the median ratio and the share of
buurten within +-25 %. CBS measures over the car road network, healthgeo over the walk or cycle
network, so ratios below 1 are expected where paths cut corners - a cross-check, not a truth.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ._errors import InputDataError
from .dictionary import ColumnDoc, doc
from .sources.nabijheid import CBS_NABIJHEID, DESTINATIONS, nabijheid_column

log = logging.getLogger(__name__)

#: agreement band of the share-within statistic: |healthgeo / CBS - 1| <= this
AGREEMENT_BAND = 0.25
#: fewest buurten with both values for a correlation
MIN_BUURTEN_FOR_CORRELATION = 3

_LABELS = {"gp": ("GP", "huisarts"), "supermarket": ("supermarket", "supermarkt"),
           "pharmacy": ("pharmacy", "apotheek"), "primary_school": ("primary school", "basisschool")}


def validation_docs() -> dict[str, ColumnDoc]:
    ident = dict(theme="identity", about="identity", scale="text")
    return {
        "buurtcode": doc("code", "CBS buurt code", **ident),
        "destination": doc("category", "destination type (healthgeo amenity category)", theme="access",
                           about="identity", scale="category"),
        "mode": doc("category", "healthgeo network the distance was measured on (walk or bike)", theme="access",
                    about="identity", scale="category"),
        "healthgeo_network_m": doc(
            "m", "healthgeo: population-weighted mean network distance to the nearest destination",
            "HomeAccess.mean_distances (docs/methods.md#network-distances)", "healthgeo.network; OpenStreetMap",
            theme="quality", about="residents", scale="distance", label_en="healthgeo mean distance",
            label_nl="healthgeo gemiddelde afstand"),
        "cbs_road_m": doc(
            "m", "CBS Nabijheid voorzieningen: mean road distance of the buurt's residents to the nearest facility",
            "CBS value (km) x 1000", CBS_NABIJHEID, theme="quality", about="area", scale="distance",
            label_en="CBS road distance", label_nl="CBS afstand over de weg"),
        "ratio": doc("ratio", "healthgeo_network_m / cbs_road_m", "NULL where either is missing or CBS is 0",
                     theme="quality", about="residents", scale="index", label_en="ratio healthgeo / CBS",
                     label_nl="verhouding healthgeo / CBS"),
        "within_25pct": doc("flag", f"|ratio - 1| <= {AGREEMENT_BAND:g}", theme="quality", about="residents",
                            scale="flag", label_en="within 25 %", label_nl="binnen 25 %"),
    }


def summary_docs() -> dict[str, ColumnDoc]:
    return {
        "destination": doc("category", "destination type", theme="access", about="identity", scale="category"),
        "mode": doc("category", "healthgeo network (walk or bike)", theme="access", about="identity", scale="category"),
        "n_buurten": doc("count", "buurten with both a healthgeo and a CBS distance", theme="quality",
                         about="area", scale="count"),
        "pearson_r": doc("1", "Pearson correlation of healthgeo and CBS distances over the buurten",
                         f"NULL with fewer than {MIN_BUURTEN_FOR_CORRELATION} buurten or no variation",
                         theme="quality", about="area", scale="index"),
        "median_ratio": doc("ratio", "median over buurten of healthgeo / CBS", theme="quality", about="area",
                            scale="index"),
        "share_within_25pct": doc("fraction (0-1)", f"share of buurten with |ratio - 1| <= {AGREEMENT_BAND:g}",
                                  theme="quality", about="area", scale="fraction"),
    }


def validation_access(means: pd.DataFrame, nabijheid: pd.DataFrame, *, code: str = "buurtcode",
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-buurt comparison and per-type summary of healthgeo and CBS distances.

    Parameters
    ----------
    means
        Long table of :meth:`HomeAccess.mean_distances` (``code``, ``mode``, ``destination``,
        ``network_m_popw_mean``).
    nabijheid
        :func:`healthgeo.sources.read_nabijheid` frame indexed by region code
        (``nabijheid_{destination}_km``).

    Returns
    -------
    (table, summary) documented by :func:`validation_docs` and :func:`summary_docs`.
    """
    dests = [d for d in DESTINATIONS if nabijheid_column(d) in nabijheid.columns]
    m = means[means["destination"].isin(dests)]
    if m.empty:
        raise InputDataError(
            f"validation_access: none of the CBS destination types {dests} has healthgeo distances "
            f"(healthgeo has {sorted(means['destination'].unique())}); check the OSM amenities.")
    cbs_km = _lookup(nabijheid, m, code)
    table = pd.DataFrame({
        "buurtcode": m[code].astype(str).to_numpy(),
        "destination": m["destination"].to_numpy(),
        "mode": m["mode"].to_numpy(),
        "healthgeo_network_m": m["network_m_popw_mean"].to_numpy(float),
        "cbs_road_m": cbs_km * 1000.0,
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        table["ratio"] = np.where(table["cbs_road_m"] > 0, table["healthgeo_network_m"] / table["cbs_road_m"], np.nan)
    table["within_25pct"] = pd.array(np.where(np.isfinite(table["ratio"]),
                                              np.abs(table["ratio"] - 1) <= AGREEMENT_BAND, pd.NA), dtype="boolean")
    if np.isnan(cbs_km).all():
        raise InputDataError("validation_access: no buurt of the run is in the Nabijheid table; check its year "
                             "(regio-indeling) and municipality.")
    rows = []
    for (dest, mode), g in table.groupby(["destination", "mode"], sort=True):
        ok = g[np.isfinite(g["ratio"])]
        n = len(ok)
        r = np.nan
        if n >= MIN_BUURTEN_FOR_CORRELATION and ok["healthgeo_network_m"].std() > 0 and ok["cbs_road_m"].std() > 0:
            r = float(np.corrcoef(ok["healthgeo_network_m"], ok["cbs_road_m"])[0, 1])
        rows.append({"destination": dest, "mode": mode, "n_buurten": n, "pearson_r": r,
                     "median_ratio": float(ok["ratio"].median()) if n else np.nan,
                     "share_within_25pct": float(ok["within_25pct"].astype(bool).mean()) if n else np.nan})
    summary = pd.DataFrame(rows, columns=list(summary_docs()))
    summary["n_buurten"] = summary["n_buurten"].astype("int64")
    for _, s in summary.iterrows():
        log.info("validation %s (%s): %d buurten, r = %.2f, median ratio %.2f, %.0f %% within +-25 %%",
                 s["destination"], s["mode"], s["n_buurten"], s["pearson_r"], s["median_ratio"],
                 100 * s["share_within_25pct"])
    return table, summary


def _lookup(nabijheid: pd.DataFrame, m: pd.DataFrame, code: str) -> np.ndarray:
    """CBS km of each row of ``m`` (its ward code and destination); NaN where CBS has none."""
    out = np.full(len(m), np.nan)
    codes = m[code].astype(str).to_numpy()
    for d in m["destination"].unique():
        sel = (m["destination"] == d).to_numpy()
        out[sel] = nabijheid[nabijheid_column(d)].reindex(codes[sel]).to_numpy(float)
    return out
