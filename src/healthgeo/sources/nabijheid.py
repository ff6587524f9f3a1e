"""CBS "Nabijheid voorzieningen" per buurt: OData download and reader.

CBS publishes, per region and year, the mean road distance (km) from residents' addresses to the
nearest facility of each type, computed over the road network and averaged over all residents
(StatLine per-year tables, e.g. 85560NED for 2022, 84718NED for 2019). healthgeo compares it with
its own network distances (:mod:`healthgeo.validation`, docs/methods.md#validation-against-cbs-nabijheid).

Columns are matched like the SES-WOA table (:mod:`healthgeo.sources.ses`): by ``DataProperties``
titles when the downloaded file holds them, by a StatLine CSV header, or by the TypedDataSet key
stem (``AfstandTotHuisartsenpraktijk_5``); the first "Afstand tot school" is basisonderwijs.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputDataError, SchemaDriftError
from .._vocab import mask_sentinels, strip_code
from ._common import load_with_meta, prov_for_responses, select_period, stem, title_paths, write_records_json
from .cbs import fetch_statline

log = logging.getLogger(__name__)

#: year -> StatLine table; other years: give ``table:``
NABIJHEID_TABLES = {2019: "84718NED", 2022: "85560NED"}
CBS_NABIJHEID = "CBS StatLine Nabijheid voorzieningen; afstand locatie, wijk- en buurtcijfers (e.g. 85560NED, 2022)"

#: healthgeo destination category -> (key stem, words of the DataProperties / CSV title path)
DESTINATIONS = {
    "gp": ("AfstandTotHuisartsenpraktijk", ("huisartsenpraktijk",)),
    "supermarket": ("AfstandTotGroteSupermarkt", ("grote supermarkt",)),
    "pharmacy": ("AfstandTotApotheek", ("apotheek",)),
    "primary_school": ("AfstandTotSchool", ("basisonderwijs", "afstand tot school")),
}


def nabijheid_column(dest: str) -> str:
    return f"nabijheid_{dest}_km"


def _match(cols: list[str], properties: list | None, columns: dict | None) -> dict[str, str]:
    found: dict[str, str] = {}
    if properties:
        paths = {k: v for k, v in title_paths(properties).items() if k in cols}
        for dest, (_, words) in DESTINATIONS.items():
            hit = next((k for k, p in paths.items() if all(w in p for w in words) and "afstand" in p), None)
            if hit:
                found[dest] = hit
    else:
        low = {c: c.lower() for c in cols}
        for dest, (key, words) in DESTINATIONS.items():
            by_title = next((c for c, p in low.items() if all(w in p for w in words) and "afstand" in p), None)
            by_stem = next((c for c in cols if stem(c) == key), None)  # first = basisonderwijs for schools
            if by_title or by_stem:
                found[dest] = by_title or by_stem
    found.update(columns or {})
    return found


def read_nabijheid(path_or_json, *, columns: dict | None = None, period: str | None = None,
                   spec: dict | None = None) -> tuple[pd.DataFrame, int | None]:
    """Read a Nabijheid voorzieningen table (OData JSON, TypedDataSet CSV or StatLine titled CSV).

    Returns ``(frame, year)``: indexed by ``code`` (stripped region codes) with
    ``nabijheid_{destination}_km`` for each destination of :data:`DESTINATIONS` the table has
    ("." / "x" -> NaN), and the table's year when known (``regio_year``/``table`` of the spec or file).

    Raises
    ------
    SchemaDriftError
        No region code column or none of the distance columns (the columns found are named).
    """
    src = str(path_or_json) if isinstance(path_or_json, (str, Path)) else "nabijheid"
    raw, meta = load_with_meta(path_or_json, src)
    cols = list(raw.columns)
    spec = spec or {}
    code_col = next((c for c in ("WijkenEnBuurten", "Codering_3") if c in cols), None) or next(
        (c for c in cols if stem(c) == "Codering" or "regiocode" in c.lower()), None)
    found = _match(cols, meta.get("properties"), columns or spec.get("columns"))
    found = {d: c for d, c in found.items() if c in cols}
    if code_col is None or not found:
        raise SchemaDriftError(
            src, ["WijkenEnBuurten (region code)", *[f"{k}_<n>" for k, _ in DESTINATIONS.values()]], cols,
            hint="Distances are matched by DataProperties titles, a StatLine CSV header or the key stem; if CBS "
                 "renamed them, map them with `columns: {supermarket: <key>, ...}` in the nabijheid input.")
    df = raw
    df, _ = select_period(df, period, src)
    out = pd.DataFrame(index=pd.Index(df[code_col].map(strip_code).to_numpy(), name="code"))
    for dest, col in found.items():
        out[nabijheid_column(dest)] = mask_sentinels(df[col], negative=True)[0].to_numpy(dtype=float)
    dup = out.index[out.index.duplicated()].unique()
    if len(dup):
        raise InputDataError(f"{src}: duplicate region codes {list(dup)[:10]}; give one period at a time (`period:`).")
    km = out.to_numpy(dtype=float)
    if np.nanmax(km, initial=0.0) > 100:
        raise InputDataError(f"{src}: distances above 100 km; CBS publishes km - check the columns "
                             "(or map them with `columns:`).")
    year = spec.get("regio_year") or meta.get("regio_year")
    table = str(spec.get("table") or meta.get("table") or "").upper()
    year = year or next((y for y, t in NABIJHEID_TABLES.items() if t == table), None)
    missing = sorted(set(DESTINATIONS) - set(found))
    if missing:
        log.info("%s: no distance column for %s", src, missing)
    return out, (int(year) if year else None)


def download(name: str, spec: dict, *, area: dict, cache_dir: Path, boundary=None):
    """Nabijheid voorzieningen rows of the municipality's buurten (and wijken, gemeente) with DataProperties."""
    rows, props, resps, table, year = fetch_statline(name, spec, area=area, cache_dir=cache_dir,
                                                     tables=NABIJHEID_TABLES, what="Nabijheid voorzieningen")
    out = Path(cache_dir) / "cbs_odata" / f"{name}_{table}_{area['municipality']}.json"
    write_records_json(rows, out, table=table, regio_year=year, properties=props)
    return out, prov_for_responses(name, "cbs_odata", resps, out,
                                   note=f"Nabijheid voorzieningen table {table} ({year}), {len(rows)} rows")
