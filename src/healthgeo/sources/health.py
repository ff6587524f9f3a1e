"""RIVM/CBS "Gezondheid per wijk en buurt": dataderden OData download and the reader."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from .._errors import InputDataError, SchemaDriftError
from .._http import get_all_items
from .._vocab import mask_sentinels, strip_code
from ..dictionary import RIVM_GEZONDHEID, ColumnDoc, doc
from ..plausibility import check_columns
from ._common import load_table, prov_for_responses, rebase_url, select_period, stem, write_records_json
from .cbs import odata_filter

log = logging.getLogger(__name__)

ODATA_URL = "https://dataderden.cbs.nl/ODataApi/OData/{table}/TypedDataSet"
#: table per survey year (50090NED: 2012/2016/2020; 50120NED: + 2022; 50150NED: + 2024, 2024 boundaries)
HEALTH_TABLES = {2012: "50090NED", 2016: "50090NED", 2020: "50090NED", 2022: "50120NED", 2024: "50150NED"}
AGE_GROUPS = {"20300": "18 years and older", "53115": "18-65 years", "80200": "65 years and older"}
MARGINS = {"MW00000": "", "MOG0095": "_lo95", "MBG0095": "_hi95"}

#: standardised key -> stem of the CBS column name (numeric suffixes differ between tables)
HEALTH_KEYS = {
    "good_health": "ErvarenGezondheidGoedZeerGoed",
    "meets_activity_guideline": "VoldoetAanBeweegrichtlijn",
    "overweight": "Overgewicht",
    "smoker": "Roker",
    "chronic_condition": "EenOfMeerLangdurigeAandoeningen",
    "anxiety_depression_high": "HoogRisicoOpAngstOfDepressie",
    "high_stress": "HeelVeelStressInAfgelopen4Weken",
    "lonely": "Eenzaam",
    "severe_lonely": "ErnstigZeerErnstigEenzaam",
    "difficulty_making_ends_meet": "MoeiteMetRondkomen",
}


#: standardised key -> (description, label_en, label_nl, higher_is_worse, burden group)
HEALTH_META = {
    "good_health": ("adults rating their own health good or very good", "good self-rated health",
                    "ervaren gezondheid goed", False, "sensitivity"),
    "meets_activity_guideline": ("adults meeting the Dutch physical-activity guideline (beweegrichtlijn)",
                                 "meets activity guideline", "voldoet aan beweegrichtlijn", False, ""),
    "overweight": ("adults with overweight (BMI >= 25)", "overweight", "overgewicht", True, "sensitivity"),
    "smoker": ("adults who smoke", "smokers", "rokers", True, ""),
    "chronic_condition": ("adults with one or more long-term conditions", "long-term condition",
                          "langdurige aandoening", True, "sensitivity"),
    "anxiety_depression_high": ("adults at high risk of anxiety or depression (K10)", "high risk of anxiety/depression",
                                "hoog risico angst/depressie", True, ""),
    "high_stress": ("adults with very much stress in the past 4 weeks", "very much stress", "heel veel stress", True, ""),
    "lonely": ("adults who are lonely", "lonely", "eenzaam", True, ""),
    "severe_lonely": ("adults who are severely or very severely lonely", "severely lonely",
                      "ernstig eenzaam", True, ""),
    "difficulty_making_ends_meet": ("adults with difficulty making ends meet", "difficulty making ends meet",
                                    "moeite met rondkomen", True, "socioeconomic"),
}


def health_docs(columns) -> dict[str, ColumnDoc]:
    """Column docs of the standardised health columns ``health_{key}_pct[_lo95|_hi95]``."""
    docs = {}
    for col in columns:
        key = col.removeprefix("health_").removesuffix("_lo95").removesuffix("_hi95").removesuffix("_pct")
        text = key.replace("_", " ")
        what, en, nl, worse, group = HEALTH_META.get(key, (text, text, text, None, ""))
        meta = {"theme": "health", "scale": "percent", "higher_is_worse": worse}
        if col.endswith("_lo95"):
            docs[col] = doc("%", f"lower bound of the 95 % interval: {what}", "Marges MOG0095", RIVM_GEZONDHEID,
                            label_en=f"{en} (lower 95 %)", label_nl=f"{nl} (ondergrens 95 %)", **meta)
        elif col.endswith("_hi95"):
            docs[col] = doc("%", f"upper bound of the 95 % interval: {what}", "Marges MBG0095", RIVM_GEZONDHEID,
                            label_en=f"{en} (upper 95 %)", label_nl=f"{nl} (bovengrens 95 %)", **meta)
        else:
            docs[col] = doc("%", f"share of {what}", "small-area estimate (Marges MW00000); NULL where RIVM suppresses",
                            RIVM_GEZONDHEID, label_en=en, label_nl=nl, burden_group=group, **meta)
    return docs

def read_health(path_or_json, *, age: str = "20300", period: str | None = None,
                keys: list[str] | None = None, sheet=None) -> pd.DataFrame:
    """Read health small-area estimates (xlsx/csv/OData JSON) into the standardised ``health`` frame.

    Parameters
    ----------
    age
        ``Leeftijd`` code: ``"20300"`` 18+, ``"53115"`` 18-65, ``"80200"`` 65+.
    period
        ``Perioden`` value (``"2020JJ00"``); default the latest in the file (logged).
    keys
        Indicator keys to read (default all of ``HEALTH_KEYS``); all must be present.

    Returns
    -------
    Frame indexed by ``code`` (stripped GM/WK/BU codes) with ``health_{key}_pct``,
    ``health_{key}_pct_lo95`` and ``health_{key}_pct_hi95`` (bounds NaN when the source has none).
    Columns are matched by their stem (``Eenzaam_28`` -> ``Eenzaam``).
    """
    src = str(path_or_json) if isinstance(path_or_json, (str, Path)) else "health"
    raw = load_table(path_or_json, source=src, sheet=sheet)
    cols = list(raw.columns)
    by_stem = {}
    for c in cols:
        by_stem.setdefault(stem(c), c)
    keys = list(keys or HEALTH_KEYS)
    unknown = [k for k in keys if k not in HEALTH_KEYS]
    if unknown:
        raise InputDataError(f"health: unknown indicator key(s) {unknown}; use {list(HEALTH_KEYS)}.")
    code_col = "WijkenEnBuurten" if "WijkenEnBuurten" in cols else by_stem.get("Codering")
    expected = ["WijkenEnBuurten"] + [HEALTH_KEYS[k] + "_<n>" for k in keys]
    missing = [k for k in keys if HEALTH_KEYS[k] not in by_stem]
    if code_col is None or missing:
        raise SchemaDriftError(src, expected, [c if stem(c) == c else stem(c) + "_<n>" for c in cols],
                               hint="Columns are matched by stem (name without the _<n> suffix). If RIVM renamed "
                                    "an indicator, restrict `keys` or map it in healthgeo.sources.health.HEALTH_KEYS.")
    df = raw.copy()
    df["_code"] = df[code_col].map(strip_code)
    if "Leeftijd" in cols:
        ages = df["Leeftijd"].astype("string").str.strip()
        if not (ages == str(age)).any():
            raise InputDataError(f"{src}: no rows for Leeftijd {age!r}; the file has {sorted(ages.dropna().unique())}. "
                                 f"Codes: {AGE_GROUPS}.")
        df = df[(ages == str(age)).to_numpy()]
    elif str(age) != "20300":
        log.warning("%s: no Leeftijd column, so `age: %s` cannot be applied; the rows are used as they are "
                    "(check which age group the file holds)", src, age)
    df, periods = select_period(df, period, src)
    if len(periods) > 1 and period is None:
        log.info("%s: several periods %s; using the latest, %s", src, periods, periods[-1])
    marg = df["Marges"].astype("string").str.strip() if "Marges" in cols else pd.Series("MW00000", index=df.index)
    codes = pd.Index(pd.unique(df.loc[(marg == "MW00000").to_numpy(), "_code"]), name="code")
    if len(codes) == 0:
        raise InputDataError(f"{src}: no point-estimate rows (Marges MW00000) after filtering.")
    out = pd.DataFrame(index=codes)
    for k in keys:
        c = by_stem[HEALTH_KEYS[k]]
        for m, suffix in MARGINS.items():
            sub = df[(marg == m).to_numpy()]
            s = pd.Series(mask_sentinels(sub[c])[0].to_numpy(), index=sub["_code"].to_numpy())
            if s.index.duplicated().any():
                dup = list(s.index[s.index.duplicated()].unique()[:10])
                raise InputDataError(f"{src}: duplicate rows for {dup} (Marges {m}); filter age/period first.")
            out[f"health_{k}_pct{suffix}"] = s.reindex(codes).to_numpy(dtype=float)
    check_columns(out, {c: "pct" for c in out.columns}, source=src)
    if not (marg != "MW00000").any():
        log.info("%s: no confidence bounds (Marges MOG0095/MBG0095) in the source; *_lo95/_hi95 are NaN", src)
    return out


def download(name: str, spec: dict, *, area: dict, cache_dir: Path, boundary=None):
    """Health estimates of the municipality from dataderden.cbs.nl (estimate + 95 % bounds).

    spec keys: ``year`` (Perioden; selects the table), ``table`` (override), ``age`` (``20300``
    18+, ``53115`` 18-65, ``80200`` 65+), ``margins`` (default true: also MOG0095/MBG0095),
    ``base_url`` (tests).
    """
    year = int(spec.get("year") or area.get("year"))
    table = spec.get("table") or HEALTH_TABLES.get(year)
    if table is None:
        raise InputDataError(f"rivm_gezondheid: no health table for {year}; survey years are {sorted(HEALTH_TABLES)} "
                             "(give `table:` to override).")
    age = str(spec.get("age", "20300"))
    if age not in AGE_GROUPS:
        raise InputDataError(f"rivm_gezondheid: age {age!r} unknown; use one of {AGE_GROUPS}.")
    marges = ["MW00000", "MOG0095", "MBG0095"] if spec.get("margins", True) else ["MW00000"]
    mf = " or ".join(f"Marges eq '{m}'" for m in marges)
    flt = (f"Leeftijd eq '{age}' and " + (f"({mf})" if len(marges) > 1 else mf)
           + f" and Perioden eq '{year}JJ00' and " + odata_filter(area["municipality"]))
    url = rebase_url(ODATA_URL.format(table=table), spec.get("base_url"))
    rows, resps = get_all_items(url, style="odata", params={"$filter": flt, "$format": "json"},
                                provider="rivm_gezondheid", cache_dir=cache_dir,
                                max_retries=spec.get("max_retries", 5))
    if not rows:
        raise InputDataError(f"rivm_gezondheid: {table} returned no rows for {area['municipality']}, {year}, age {age}.")
    out = Path(cache_dir) / "rivm_gezondheid" / f"{name}_{table}_{year}_{age}_{area['municipality']}.json"
    write_records_json(rows, out, table=table)
    return out, prov_for_responses(name, "rivm_gezondheid", resps, out,
                                   note=f"table {table}, Leeftijd {age}, {len(rows)} rows")
