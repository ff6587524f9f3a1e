"""Statistical disclosure control: one owner, every layer and table, whichever stages ran.

:func:`leaks` is the generic check: it reads *every* layer and table of a GeoPackage (so tables a
later issue adds are covered without editing it) and reports

* withheld wards (from ``residents`` on the ward layers) with a resident-derived value on any
  layer or table keyed by a ward code;
* values only a withheld ward has (taken from the run's per-ward tables before withholding)
  that appear anywhere - e.g. in a reference distribution or a long table;
* withheld wards that can be recovered from a published parent total by subtraction.
"""

from __future__ import annotations

import random
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import yaml
from conftest import REPO, in_demo_folder, snakemake_or_fail

from healthgeo.assemble import assemble
from healthgeo.config import validate
from healthgeo.dictionary import doc
from healthgeo.disclosure import (disclosure_reasons, hierarchical_suppression, is_published, primary_reasons,
                                  protect_table)
from healthgeo.io import read_table
from healthgeo.wards import CODE_COLUMN, LEVELS, ward_docs

KEYS = ("buurtcode", "wijkcode", "gemeentecode", "code")
NAMES = ("indicator", "variable", "column")


# --------------------------------------------------------------------------------------------
# The generic check
# --------------------------------------------------------------------------------------------

def _published_columns(dd: pd.DataFrame, layer: str) -> set[str]:
    """Columns of ``layer`` that describe the area or identity (published for every ward)."""
    rows = dd[dd["layer"] == layer]
    if "about" in rows:
        return set(rows.loc[rows["about"].fillna("residents") != "residents", "column"])
    return {c for c in rows["column"] if is_published(c, {})}


def _hidden(gpkg) -> dict[str, set[str]]:
    out = {}
    for level in LEVELS:
        lay = pyogrio.read_dataframe(gpkg, layer=level, read_geometry=False)
        out[level] = set(lay.loc[lay["disclosure_reason"].notna(), CODE_COLUMN[level]])
    return out


def _fingerprints(raw: dict[str, pd.DataFrame], hidden: dict[str, set[str]], allowed: set[float],
                  docs: dict) -> dict[str, set[float]]:
    """Per level: non-integer values that only withheld wards of that level have in the run's
    tables before withholding (``allowed``: values published legitimately, e.g. CBS's own key
    figures, and every value a published ward of any level has)."""
    secret: dict[str, set[float]] = {}
    allowed = set(allowed)
    for level, frame in raw.items():
        base = set(ward_docs(level))
        secret[level] = set()
        for col in frame.columns:
            x = pd.to_numeric(frame[col], errors="coerce") if frame[col].dtype != bool else None
            if x is None:
                continue
            x = x.astype(float)
            out = frame.index.isin(list(hidden[level]))
            vals_hidden = {v for v in x[out] if np.isfinite(v) and v != round(v)}
            if col in base or is_published(col, docs):
                allowed |= vals_hidden
            else:
                secret[level] |= vals_hidden
            allowed |= {v for v in x[~out] if np.isfinite(v)}
    return {level: values - allowed for level, values in secret.items()}


def _recoverable(gpkg, min_residents: float) -> list[str]:
    """Withheld groups a reader can isolate by subtracting published wards from a published total."""
    b = pyogrio.read_dataframe(gpkg, layer="buurt", read_geometry=False).set_index("buurtcode")
    w = pyogrio.read_dataframe(gpkg, layer="wijk", read_geometry=False).set_index("wijkcode")
    g = pyogrio.read_dataframe(gpkg, layer="gemeente", read_geometry=False)
    bh = b["disclosure_reason"].notna()
    wh = w["disclosure_reason"].notna()

    def weak(res: pd.Series) -> bool:
        people = res[~(res == 0)]
        return len(people) > 0 and (len(people) < 2 or people.fillna(0).sum() < min_residents)

    problems = []
    for wk, grp in b.groupby("wijkcode"):
        if wk in wh.index and not wh[wk] and weak(grp.loc[bh[grp.index], "residents"]):
            problems.append(f"wijk {wk} total minus its published buurten gives {sorted(grp.index[bh[grp.index]])}")
    in_hidden_wijken = b["wijkcode"].isin(list(wh.index[wh]))
    if weak(b.loc[in_hidden_wijken & bh, "residents"]):
        problems.append("withheld wijken's total minus their published buurten isolates a small group")
    if g["disclosure_reason"].isna().all():
        if weak(b.loc[bh, "residents"]):
            problems.append(f"gemeente total minus the published buurten gives {sorted(b.index[bh])}")
        if weak(w.loc[wh, "residents"]):
            problems.append(f"gemeente total minus the published wijken gives {sorted(w.index[wh])}")
    return problems


def leaks(gpkg, raw: dict[str, pd.DataFrame], min_residents: float) -> list[str]:
    """``raw``: the run's per-ward tables before withholding (:func:`raw_tables`)."""
    """Every way ``gpkg`` publishes something about a ward under ``min_residents`` (empty: none)."""
    problems = []
    hidden = _hidden(gpkg)
    for level in LEVELS:  # the threshold is applied from residents, whichever stages ran
        lay = pyogrio.read_dataframe(gpkg, layer=level, read_geometry=False).set_index(CODE_COLUMN[level])
        small = set(lay.index[primary_reasons(lay["residents"], min_residents).notna()])
        if small - hidden[level]:
            problems.append(f"{level}: wards under the threshold not withheld: {sorted(small - hidden[level])}")
    all_hidden = set().union(*hidden.values())
    dd = pyogrio.read_dataframe(gpkg, layer="data_dictionary")
    cbs = set()  # the ward layers' own columns (identity, CBS key figures) are published for every ward
    for level in LEVELS:
        lay = pyogrio.read_dataframe(gpkg, layer=level, read_geometry=False)
        for col in set(ward_docs(level)) & set(lay.select_dtypes("number").columns):
            cbs |= set(lay[col].dropna().astype(float))
    docs = {c: d for frame in raw.values() for c, d in frame.attrs.get("docs", {}).items()}
    secret = _fingerprints(raw, hidden, cbs, docs)
    # columns published for every ward: CBS's own (ward_docs) and those the dictionary calls area/identity
    everywhere = {c for level in LEVELS for c in ward_docs(level)}
    for level in LEVELS:
        everywhere |= _published_columns(dd, level)
    for name, _geom in pyogrio.list_layers(gpkg):
        t = pyogrio.read_dataframe(gpkg, layer=name, read_geometry=False)
        key = next((k for k in KEYS if k in t.columns), None)
        if key is not None and name != "data_dictionary":
            level = name if name in CODE_COLUMN else next((lv for lv, c in CODE_COLUMN.items() if c == key), None)
            base = set(ward_docs(level)) if name in CODE_COLUMN and level else {key, "name"}
            ok = base | _published_columns(dd, name) | {"disclosure_reason", *NAMES, "level", "kind", "label"}
            rows = t[t[key].astype(str).isin(all_hidden)]
            named = next((c for c in NAMES if c in t.columns), None)
            if named is not None:  # a long table: a row of an area indicator or key figure may keep its value
                area = rows[named].astype(str).map(lambda c: is_published(c, docs) or c in ok or c in everywhere)
                rows = rows.loc[~area.to_numpy(dtype=bool)]  # a boolean array: an empty Series would select columns
            for col in (c for c in t.columns if c not in ok):
                shown = rows[col].notna()
                if shown.any():
                    problems.append(f"{name}.{col}: values of withheld wards {sorted(rows.loc[shown, key])[:5]}")
        numeric = t.select_dtypes("number")
        # a table with a level column is compared level by level (a wijk's 48.8 % is not a buurt's)
        row_level = t["level"].astype(str) if "level" in t.columns else pd.Series("", index=t.index)
        # a permutation p value ((k + 1) / (permutations + 1)) is made from ranks, never from a ward's
        # value: a three-decimal score (SES-WOA) of a withheld ward can equal it by coincidence
        for col in (c for c in numeric.columns if c != "p_value"):
            found = set()
            for lv, rows_lv in numeric[col].groupby(row_level):
                values = set(rows_lv.dropna().astype(float))
                found |= values & (secret.get(lv, set()) if lv in secret else set().union(*secret.values()))
            if found:
                problems.append(f"{name}.{col}: holds {len(found)} value(s) only a withheld ward has, e.g. {sorted(found)[:3]}")
    problems += _recoverable(gpkg, min_residents)
    return problems


def raw_tables(tables: dict[str, list]) -> dict[str, pd.DataFrame]:
    """The per-ward values of a run before withholding (its Parquet tables joined per level)."""
    out = {}
    for level, paths in tables.items():
        parts = [read_table(p) for p in paths]
        frame = pd.concat([p.loc[:, ~p.columns.isin(["geometry"])] for p, _ in parts], axis=1) if parts else pd.DataFrame()
        out[level] = frame.loc[:, ~frame.columns.duplicated()]
        out[level].attrs["docs"] = {c: d for _, docs in parts for c, d in docs.items()}
    return out


# --------------------------------------------------------------------------------------------
# Hand-checkable pieces
# --------------------------------------------------------------------------------------------

def test_primary_reasons_threshold_and_unknown():
    r = primary_reasons(pd.Series([49.0, 50.0, np.nan, 0.0], index=list("abcd")), 50)
    assert r.notna().tolist() == [True, False, True, True]
    assert r["c"] == "residents unknown" and r["a"].startswith("fewer than 50 residents")


def test_reasons_from_residents_alone_with_secondary():
    """B1 (5 residents) is alone in W1 with B2 (900): W1 minus B2 would give B1, so B2 goes too;
    then the gemeente total minus the published wijk W2 gives W1: W1's wijk row goes as well."""
    buurt = pd.DataFrame({"residents": [5, 900, 600, 700], "wijkcode": ["W1", "W1", "W2", "W2"]},
                         index=["B1", "B2", "B3", "B4"])
    wijk = pd.DataFrame({"residents": [905, 1300]}, index=["W1", "W2"])
    gem = pd.DataFrame({"residents": [2205]}, index=["G"])
    r = disclosure_reasons({"buurt": buurt, "wijk": wijk, "gemeente": gem}, min_residents=50)
    assert r["buurt"].notna().tolist() == [True, True, False, False]
    assert "secondary" in r["buurt"]["B2"]
    assert r["wijk"].notna().tolist() == [False, False] and r["gemeente"].isna().all()
    # same answer as the hierarchical pass on its own
    eb, _ = hierarchical_suppression(buurt.assign(disclosure_reason=primary_reasons(buurt["residents"])), None,
                                     min_residents=50)
    assert eb.notna().tolist() == [False, True, False, False]


def test_protect_table_long_and_reference_tables():
    reasons = {"buurt": pd.Series([pd.NA, "small"], index=["B1", "B2"], dtype="string")}
    docs = {"code": doc("code", "ward"), "indicator": doc("text", "which"), "value": doc("", "value"),
            "no2_ugm3_mean": doc("ug/m3", "area mean", about="area")}
    long = pd.DataFrame({"code": ["B1", "B2", "B2"], "indicator": ["no2_ugm3_popw", "no2_ugm3_popw", "no2_ugm3_mean"],
                         "value": [20.5, 31.25, 22.0]})
    got = protect_table(long, docs, reasons)
    # the withheld buurt's resident value goes; its area mean stays; the published buurt is untouched
    assert got["value"].tolist()[0] == 20.5 and np.isnan(got["value"].tolist()[1]) and got["value"].tolist()[2] == 22.0
    assert got["code"].tolist() == ["B1", "B2", "B2"]
    # a reference distribution listing the secret value 31.25 loses it; a value also published stays
    values = {"buurt": pd.DataFrame({"no2_ugm3_popw": [20.5, 31.25]}, index=["B1", "B2"])}
    ref = pd.DataFrame({"variable": ["no2_ugm3_popw"] * 2, "kind": "distribution", "value": [20.5, 31.25],
                        "level": "buurt"})
    kept = protect_table(ref, {}, reasons, values=values)
    assert kept["value"].tolist() == [20.5]
    # the same value twice, but only one published ward has it: one row stays
    values2 = {"buurt": pd.DataFrame({"no2_ugm3_popw": [20.5, 20.5]}, index=["B1", "B2"])}
    ref2 = ref.assign(value=[20.5, 20.5])
    assert protect_table(ref2, {}, reasons, values=values2)["value"].tolist() == [20.5]


def test_old_key_still_accepted_with_a_message(caplog):
    base = {"run": "x", "area": {"municipality": "GM9999"}, "inputs": {"buurten": {"file": "b.geojson"}}}
    cfg = validate({**base, "disparity": {"min_residents": 80}})
    assert cfg["disclosure"]["min_residents"] == 80 and "min_residents" not in cfg["disparity"]
    assert "deprecated" in caplog.text and "disclosure: {min_residents: 80}" in caplog.text
    assert validate(base)["disclosure"]["min_residents"] == 50
    assert validate({**base, "disclosure": {"min_residents": 20}})["disclosure"]["min_residents"] == 20


def test_leak_check_can_fail(tmp_path):
    """The generic check finds a small ward's value in any table - it is not vacuous."""
    from shapely.geometry import box

    from healthgeo.io import write_table
    from healthgeo.wards import build_levels

    b = gpd.GeoDataFrame({"residents": [10.0, 500.0, 600.0], "wijkcode": ["WK999901"] * 3},
                         geometry=[box(i * 100, 0, i * 100 + 100, 100) for i in range(3)], crs=28992,
                         index=pd.Index(["BU99990101", "BU99990102", "BU99990103"], name="buurtcode"))
    wards = tmp_path / "wards.gpkg"
    for level, gdf in build_levels(b.drop(columns="wijkcode"), municipality="GM9999").items():
        gdf.to_file(wards, layer=level, engine="pyogrio")
    t = pd.DataFrame({"no2_ugm3_popw": [31.25, 20.5, 21.5]}, index=b.index)
    write_table(t, tmp_path / "t.parquet", {"no2_ugm3_popw": doc("ug/m3", "popw")})
    leaky = pd.DataFrame({"variable": ["no2_ugm3_popw"], "value": [31.25]})  # no level: cannot be matched
    out = assemble(tmp_path / "o.gpkg", wards_path=wards, tables={"buurt": [tmp_path / "t.parquet"]}, provenance=[],
                   metadata={}, extra_tables={"leaky": (leaky, {"variable": doc("text", "v"), "value": doc("", "v")}, "x")})
    problems = leaks(out, raw_tables({"buurt": [tmp_path / "t.parquet"]}), 50)
    assert any(p.startswith("leaky.value") for p in problems), problems
    assert not [p for p in problems if not p.startswith("leaky")], problems


# --------------------------------------------------------------------------------------------
# Property: many input subsets, thresholds and table selections
# --------------------------------------------------------------------------------------------

MINIMAL = ["buurten", "wijken", "gemeente", "no2", "dwellings"]


def _subset_config(tmp_path: Path, run: str, inputs: list[str], **extra) -> Path:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg.update(run=run, inputs={k: v for k, v in cfg["inputs"].items() if k in inputs}, scenarios=[], **extra)
    cfg.pop("air_monitoring", None)
    path = tmp_path / f"{run}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _run_tables(base: Path) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    levels = {lv: sorted((base / lv).glob("*.parquet")) for lv in LEVELS}
    levels = {lv: [p for p in ps if not p.name.startswith(("disparity_table", "burden_reference"))]
              for lv, ps in levels.items()}
    extra = {"disparity": sorted(base.glob("*/disparity_table.parquet")),
             "burden_reference": sorted(base.glob("*/burden_reference.parquet")),
             "scenario_comparison": sorted(base.glob("scenarios/*/summary.parquet")),
             "crosswalk": sorted([*base.glob("years/*/crosswalk.parquet"), *base.glob("health_crosswalk.parquet")]),
             "crosswalk_quality": sorted([*base.glob("years/*/crosswalk_quality.parquet"),
                                          *base.glob("health_crosswalk_quality.parquet")]),
             "disparity_trend": sorted(base.glob("disparity_trend.parquet"))}
    return levels, {k: v for k, v in extra.items() if v}


@pytest.mark.slow
@pytest.mark.parametrize("run, inputs", [
    ("minimal", MINIMAL),  # boundaries + NO2 + dwellings: no health, no key figures, no disparity stage
    ("keyfigures", [*MINIMAL, "kerncijfers", "noise_lden"]),
])
@in_demo_folder
def test_input_subsets_publish_nothing_about_small_wards(demo_workflow, tmp_path, run, inputs):
    snakemake_or_fail(demo_workflow, config=_subset_config(tmp_path, run, inputs))
    base = demo_workflow / "data" / "processed" / run
    gpkg = base / "healthgeo.gpkg"
    levels, _ = _run_tables(base)
    assert leaks(gpkg, raw_tables(levels), 50) == []
    b = gpd.read_file(gpkg, layer="buurt").set_index("buurtcode")
    if run == "minimal":  # the two small demo buurten of the issue
        assert b.loc[["BU99990506", "BU99991003"], "no2_ugm3_popw"].isna().all()
        assert b.loc[["BU99990506", "BU99991003"], "no2_ugm3_mean"].notna().all()  # area mean: published


@pytest.mark.slow
def test_demo_run_and_table_subsets_publish_nothing_about_small_wards(demo_workflow, tmp_path):
    """The full demo run, then assemble over random subsets of its tables and several thresholds."""
    base = demo_workflow / "data" / "processed" / "demo"
    levels, extra = _run_tables(base)
    raw = raw_tables({lv: ps for lv, ps in levels.items()})
    assert leaks(base / "healthgeo.gpkg", raw, 50) == []
    ref, _ = read_table(extra["burden_reference"][0])
    assert len(ref)  # the burden reference is there and checked by leaks()
    check_table_subsets(base, levels, extra, tmp_path)


def check_table_subsets(base: Path, levels, extra, out_dir: Path, n: int = 4) -> None:
    """Assemble random subsets of a run's tables at several thresholds; nothing may leak."""
    rng = random.Random(0)
    scen = sorted(base.glob("scenarios/*/buurt_deltas.parquet"))
    wards = base / "wards.gpkg"
    for i, min_residents in enumerate([50, 200, 1500, 0, 700, 50][:n]):
        tables = {lv: [p for p in ps if rng.random() < 0.6] for lv, ps in levels.items()}
        names = [n for n in extra if rng.random() < 0.7]
        ext = {}
        for n in names:
            parts = [read_table(p) for p in extra[n]]
            frame = pd.concat([df.reset_index(drop=True) for df, _ in parts], ignore_index=True)
            ext[n] = (frame, {k: v for _, d in parts for k, v in d.items()}, n)
        out = assemble(out_dir / f"o{i}.gpkg", wards_path=wards, tables=tables, provenance=[], metadata={},
                       extra_tables=ext, scenario_layers={p.parent.name: p for p in scen if rng.random() < 0.5},
                       min_residents=min_residents)
        scen_raw = raw_tables({"buurt": [p for p in scen]})["buurt"]
        raw_i = raw_tables(tables)
        docs_i = {**raw_i["buurt"].attrs["docs"], **scen_raw.attrs["docs"]}
        raw_i["buurt"] = raw_i["buurt"].join(scen_raw.drop(columns=[c for c in scen_raw if c in raw_i["buurt"]]),
                                             how="outer")
        raw_i["buurt"].attrs["docs"] = docs_i
        assert leaks(out, raw_i, min_residents) == [], (min_residents, sorted(ext), tables)


@pytest.mark.slow
def test_burden_reference_published_at_a_higher_threshold_than_it_was_made(demo_workflow, tmp_path):
    """A reference distribution made at threshold 50 (the run's) and assembled at 200 by hand."""
    base = demo_workflow / "data" / "processed" / "demo"
    levels, extra = _run_tables(base)
    parts = [read_table(p) for p in extra["burden_reference"]]
    frame = pd.concat([df.reset_index(drop=True) for df, _ in parts], ignore_index=True)
    ext = {"burden_reference": (frame, {k: v for _, d in parts for k, v in d.items()}, "burden_reference")}
    out = assemble(tmp_path / "o.gpkg", wards_path=base / "wards.gpkg", tables=levels, provenance=[], metadata={},
                   extra_tables=ext, scenario_layers={}, min_residents=200)
    assert leaks(out, raw_tables(levels), 200) == []
