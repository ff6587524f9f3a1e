"""CBS "Sociaal-economische status; scores per wijk en buurt" (SES-WOA): OData download and reader.

SES-WOA (welvaart, opleiding, arbeid) is the Dutch standard for ranking neighbourhoods by
socioeconomic status (it replaced the SCP statusscores). StatLine publishes one table per
regio-indeling: ``85539NED`` (regio-indeling 2022, period 2021) and ``85900NED`` (regio-indeling
2023, period 2022, provisional). Per region: private households, the SES-WOA total score (mean
over households) and its spread, and the sub-scores financial welfare, education and recent
work history. "." where CBS publishes nothing (too few households), "x" secret, "-" nil.

Column keys of the TypedDataSet are matched by their titles in ``DataProperties`` (fetched with
the data; the group titles - "Totaalscore", "Financiële welvaart", "Opleidingsniveau",
"Recent arbeidsverleden" - tell the repeated "Gemiddelde score" columns apart), by a StatLine CSV
header ("SES-WOA/Totaalscore/Gemiddelde score (Getal)") or, without either, by key stems in table
order. ``columns:`` in the input spec maps standardised names to keys when CBS renames them.
See docs/methods.md#ses-woa-scores and docs/methods.md#socioeconomic-ranking.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputDataError, SchemaDriftError
from .._vocab import mask_sentinels, strip_code
from ..dictionary import ColumnDoc, doc
from ._common import load_with_meta, prov_for_responses, select_period, stem, title_paths, write_records_json
from .cbs import fetch_statline

log = logging.getLogger(__name__)

#: regio-indeling year -> StatLine table; the period is the year before
SES_TABLES = {2022: "85539NED", 2023: "85900NED"}
CBS_SES_WOA = ("CBS StatLine Sociaal-economische status; scores per wijk en buurt (SES-WOA), tables 85539NED "
               "(regio-indeling 2022) and 85900NED (regio-indeling 2023)")

#: standardised column -> words its title path must hold (all of them, lower case)
_TITLE_RULES = {
    "ses_woa_households": (("particuliere huishoudens",), ("score", "spreiding", "%")),
    "ses_woa_score": (("totaalscore", "gemiddelde"), ()),
    "ses_woa_spread": (("totaalscore", "spreiding"), ()),
    "ses_woa_welvaart_score": (("welvaart", "gemiddelde"), ()),
    "ses_woa_opleiding_score": (("opleiding", "gemiddelde"), ()),
    "ses_woa_arbeid_score": (("arbeid", "gemiddelde"), ()),
}
#: key stems used when the file has neither DataProperties nor titles: the repeated
#: "GemiddeldeScore" columns are total, welvaart, opleiding, arbeid in table order
_SCORE_ORDER = ("ses_woa_score", "ses_woa_welvaart_score", "ses_woa_opleiding_score", "ses_woa_arbeid_score")
SES_COLUMNS = list(_TITLE_RULES)
SES_SCORES = [c for c in SES_COLUMNS if c != "ses_woa_households"]

_META = {
    "ses_woa_households": ("households", "private households SES-WOA is computed over", "private households",
                           "particuliere huishoudens", "count", None),
    "ses_woa_score": ("score", "SES-WOA total score: mean over the ward's private households of the "
                      "socioeconomic score (welfare, education, work); 0 = national mean, higher = better off",
                      "SES-WOA score", "SES-WOA-score", "score", False),
    "ses_woa_spread": ("score", "spread (standard deviation) of the SES-WOA total score over the ward's households",
                       "SES-WOA spread", "SES-WOA-spreiding", "score", None),
    "ses_woa_welvaart_score": ("score", "SES-WOA sub-score financial welfare (income and wealth), mean over households",
                               "SES-WOA welfare", "SES-WOA welvaart", "score", False),
    "ses_woa_opleiding_score": ("score", "SES-WOA sub-score education level, mean over households",
                                "SES-WOA education", "SES-WOA opleiding", "score", False),
    "ses_woa_arbeid_score": ("score", "SES-WOA sub-score recent work history, mean over households",
                             "SES-WOA work", "SES-WOA arbeid", "score", False),
}


def ses_docs(columns=SES_COLUMNS) -> dict[str, ColumnDoc]:
    """Docs (with metadata) of the standardised SES-WOA columns."""
    out = {}
    for c in columns:
        unit, what, en, nl, scale, worse = _META[c]
        out[c] = doc(unit, what, "CBS value as published; NULL where CBS publishes '.' or 'x' (too few households)",
                     CBS_SES_WOA, theme="keyfigures", about="residents", scale=scale, higher_is_worse=worse,
                     label_en=en, label_nl=nl, burden_group="socioeconomic" if c == "ses_woa_score" else "")
    return out


def regio_year_of(spec: dict | None = None, meta: dict | None = None) -> int | None:
    """Regio-indeling year of an SES table: ``regio_year`` given, else from its StatLine table id."""
    for src in (spec or {}, meta or {}):
        if src.get("regio_year"):
            return int(src["regio_year"])
        table = str(src.get("table") or "").upper()
        for year, t in SES_TABLES.items():
            if t == table:
                return year
    return None


def _classify(names: dict[str, str]) -> dict[str, str]:
    """Standardised column -> source column, from title paths (first match in table order)."""
    found = {}
    for std, (need, avoid) in _TITLE_RULES.items():
        for col, path in names.items():
            norm = path.lower().replace("ë", "e")
            if all(w in norm for w in need) and not any(w in norm for w in avoid) and col not in found.values():
                found[std] = col
                break
    return found


def read_ses(path_or_json, *, columns: dict | None = None, period: str | None = None,
             spec: dict | None = None) -> tuple[pd.DataFrame, int | None]:
    """Read an SES-WOA table (OData JSON, TypedDataSet-layout CSV or StatLine titled CSV).

    Returns ``(frame, regio_year)``: the frame indexed by ``code`` (stripped GM/WK/BU codes)
    with :data:`SES_COLUMNS` (sub-scores and spread NaN when the table lacks them, logged) and
    the regio-indeling year (None when neither the file nor the spec tells it).

    Raises
    ------
    SchemaDriftError
        No region-code column or no total score column; the columns found are named.
    """
    src = str(path_or_json) if isinstance(path_or_json, (str, Path)) else "ses"
    raw, meta = load_with_meta(path_or_json, src)
    cols = list(raw.columns)
    code_col = next((c for c in ("WijkenEnBuurten", "Codering_3") if c in cols), None) or next(
        (c for c in cols if stem(c) == "Codering" or "regiocode" in c.lower()), None)
    if meta.get("properties"):
        found = _classify({k: v for k, v in title_paths(meta["properties"]).items() if k in cols})
    else:
        found = _classify({c: c for c in cols})  # titled CSV headers
        if "ses_woa_score" not in found:  # TypedDataSet keys without DataProperties: stems in table order
            scores = [c for c in cols if stem(c).lower().endswith("gemiddeldescore")]
            found = {std: c for std, c in zip(_SCORE_ORDER, scores)}
            spread = [c for c in cols if "spreiding" in stem(c).lower()]
            hh = [c for c in cols if stem(c).lower() == "particulierehuishoudens"]
            found.update({"ses_woa_spread": spread[0]} if spread else {})
            found.update({"ses_woa_households": hh[0]} if hh else {})
    found.update(columns or (spec or {}).get("columns") or {})
    if code_col is None or "ses_woa_score" not in found or found["ses_woa_score"] not in cols:
        raise SchemaDriftError(
            src, ["WijkenEnBuurten (region code)", "SES-WOA Totaalscore / Gemiddelde score"], cols,
            hint="SES-WOA columns are matched by their DataProperties titles, a StatLine CSV header "
                 "('SES-WOA/Totaalscore/Gemiddelde score') or the key stem GemiddeldeScore_<n>; if CBS renamed "
                 "them, map them with `columns: {ses_woa_score: <key>, ...}` in the ses input.")
    df = raw
    df, _ = select_period(df, period, src)
    codes = df[code_col].map(strip_code)
    out = pd.DataFrame(index=pd.Index(codes.to_numpy(), name="code"))
    for std in SES_COLUMNS:
        if std in found and found[std] in cols:
            values = df[found[std]]
            if std == "ses_woa_households":  # '-' is CBS's "nil": no households
                values = values.astype("string").str.strip().replace("-", "0")
            out[std] = mask_sentinels(values)[0].to_numpy(dtype=float)  # '.', 'x' (and '-' of a score) -> NaN
        else:
            out[std] = np.nan
    missing = [c for c in SES_SCORES if c not in found]
    if missing:
        log.info("%s: no %s in this table; NULL", src, missing)
    dup = out.index[out.index.duplicated()].unique()
    if len(dup):
        raise InputDataError(f"{src}: duplicate region codes {list(dup)[:10]}; give one period at a time (`period:`).")
    scores = out[SES_SCORES].to_numpy(dtype=float)
    if np.nanmax(np.abs(scores), initial=0.0) > 10:
        bad = out.index[(np.abs(out[SES_SCORES]) > 10).any(axis=1)].tolist()
        raise InputDataError(f"{src}: SES-WOA scores outside -10..10 for {bad[:10]} (scores are standardised around "
                             "0); check that the columns are the scores, or map them with `columns:`.")
    return out, regio_year_of(spec, meta)


def check_regio_year(ses: pd.DataFrame, ses_year: int | None, codes: pd.Index, boundaries_year: int | None,
                     *, source: str = "ses") -> int:
    """Refuse an SES table of another regio-indeling than the boundaries; return the unmatched count.

    The error names both years and how many ward codes of the boundaries the table lacks.
    """
    unmatched = int((~pd.Index(codes).isin(ses.index)).sum())
    if ses_year is not None and boundaries_year is not None and int(ses_year) != int(boundaries_year):
        have = {y: t for y, t in SES_TABLES.items() if y == int(boundaries_year)}
        raise InputDataError(
            f"{source}: the SES-WOA table is for regio-indeling {ses_year} but the boundaries are of "
            f"{boundaries_year}; {unmatched} of {len(codes)} ward codes of the boundaries are not in the table. "
            f"Use the SES table of regio-indeling {boundaries_year}"
            + (f" (StatLine {have[int(boundaries_year)]})" if have else "")
            + ", or boundaries of the table's year.")
    if len(codes) and unmatched == len(codes):
        raise InputDataError(f"{source}: none of the {len(codes)} ward codes (e.g. {list(codes[:3])}) is in the SES "
                             "table; check its municipality and regio-indeling year.")
    return unmatched


def download(name: str, spec: dict, *, area: dict, cache_dir: Path, boundary=None):
    """SES-WOA TypedDataSet rows of the municipality, with the table's DataProperties.

    spec keys: ``year`` (regio-indeling year, selects the table), ``table`` (override),
    ``base_url`` (tests).
    """
    rows, props, resps, table, year = fetch_statline(name, spec, area=area, cache_dir=cache_dir, tables=SES_TABLES,
                                                     what="SES-WOA")
    out = Path(cache_dir) / "cbs_odata" / f"{name}_{table}_{area['municipality']}.json"
    write_records_json(rows, out, table=table, regio_year=regio_year_of({"table": table}) or year,
                       properties=props)
    return out, prov_for_responses(name, "cbs_odata", resps, out,
                                   note=f"SES-WOA table {table} (regio-indeling {year}), {len(rows)} rows")

