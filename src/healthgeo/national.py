"""The national GeoPackage of a country run (docs/methods.md#country-runs).

Each municipality of a country run has its own jobs and its own GeoPackage under
``data/processed/{run}/gemeente/{code}/``. :func:`national` joins them into
``data/processed/{run}/healthgeo.gpkg``:

* the ward layers ``buurt``, ``wijk`` and ``gemeente`` with every ward of every municipality
  (the same columns as a municipality's GeoPackage, written by :func:`healthgeo.assemble.assemble`
  with the same disclosure control), plus national columns ending in ``_nl``: the SES rank and
  quintile, indicator percentiles and cumulative burden computed over all wards of the level in
  the country (at ``gemeente`` level: the comparison between municipalities);
* the ``disparity`` table with a ``scope`` column: ``national`` rows (measures over all wards of
  the country) and one scope per municipality (its own run's measures);
* ``burden_reference`` and ``walkability_reference`` computed over all buurten of the run,
  replacing the provisional constants a single-municipality run uses;
* ``provenance`` of every input of every municipality (deduplicated), ``metadata`` and the
  ``data_dictionary``.

National measures use only the wards that disclosure control publishes, as each municipality's do.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from ._errors import InputDataError
from ._vocab import CODE_COLUMN, LEVELS
from .assemble import assemble
from .burden import BURDEN_REFERENCE_DOCS
from .dictionary import ColumnDoc, doc
from .disclosure import DEFAULT_MIN_RESIDENTS, REASON_COLUMN, read_reasons
from .disparity import DISPARITY_TABLE_DOCS, compute_disparities
from .io import atomic_write, read_table, write_table
from .network import DEFAULT_WALKABILITY_REFERENCE, walkability_reference_docs
from .provenance import ProvenanceRecord, read_manifest, read_provenance
from .stages import usable_indicators, burden_groups, ward_frame

log = logging.getLogger(__name__)

#: suffix of the columns computed over the whole country run
NL = "_nl"
SCOPE_DOC = doc("text", "Where the measure was computed: 'national' (all wards of the level in every municipality of "
                "the run) or a municipality code (that municipality's own run)", about="identity")
WALK_COMPONENTS = tuple(DEFAULT_WALKABILITY_REFERENCE)


def national_wards(ward_paths: Mapping[str, str | Path], out_path: str | Path) -> Path:
    """One wards GeoPackage with every municipality's ``buurt``, ``wijk`` and ``gemeente`` layers.

    A code that two municipalities both hold (overlapping inputs, a wrong code_prefix) is refused,
    naming the codes and the municipalities."""
    out_path = Path(out_path)
    with atomic_write(out_path) as tmp:
        for level in LEVELS:
            parts = []
            for gm, path in ward_paths.items():
                layer = gpd.read_file(path, layer=level, engine="pyogrio")
                layer["_from"] = gm
                parts.append(layer)
            frame = pd.concat(parts, ignore_index=True)
            code = CODE_COLUMN[level]
            dup = frame[frame[code].duplicated(keep=False)]
            if len(dup):
                pairs = dup.groupby(code)["_from"].apply(lambda s: sorted(set(s))).head(10).to_dict()
                raise InputDataError(f"country run: {level} codes held by more than one municipality: {pairs}; "
                                     "each ward must belong to one municipality (check the inputs' code_prefix "
                                     "and that each municipality's boundaries are its own)")
            frame = gpd.GeoDataFrame(frame.drop(columns="_from"), geometry="geometry", crs=parts[0].crs)
            pyogrio.write_dataframe(frame, tmp, layer=level, driver="GPKG", append=tmp.exists())
    return out_path


def national_tables(tables: Mapping[str, Sequence[str | Path]], out_dir: str | Path) -> list[Path]:
    """Concatenate the same per-level table of every municipality (``tables``: municipality ->
    its paths of one level) into ``out_dir/{name}``; returns the written paths."""
    out_dir = Path(out_dir)
    by_name: dict[str, list[Path]] = {}
    for paths in tables.values():
        for p in paths:
            by_name.setdefault(Path(p).name, []).append(Path(p))
    n = len(tables)
    written = []
    for name, paths in by_name.items():
        if len(paths) != n:
            raise InputDataError(f"country run: {name} exists for {len(paths)} of {n} municipalities; "
                                 "every municipality runs the same stages")
        parts = [read_table(p) for p in paths]
        docs = {k: v for _, d in parts for k, v in d.items()}
        frame = pd.concat([f for f, _ in parts])
        out = out_dir / name
        write_table(frame, out, docs)
        written.append(out)
    return written


def _national_doc(d: ColumnDoc | None, column: str, level: str) -> ColumnDoc:
    base = d or doc("", column.replace("_", " "))
    return base.replace(description=f"Across all {level} wards of the country run: {base.description}",
                        label_en=f"{base.label_en} (national)" if base.label_en else "",
                        label_nl=f"{base.label_nl} (landelijk)" if base.label_nl else "")


def walkability_reference(buurt: pd.DataFrame, shown: pd.Series, *, n_municipalities: int,
                          ) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Mean and standard deviation of each walkability component over the published buurten."""
    rows = []
    for comp in WALK_COMPONENTS:
        v = pd.to_numeric(buurt.get(comp), errors="coerce")[shown] if comp in buurt else pd.Series(dtype=float)
        v = v.dropna()
        if len(v) >= 2:
            rows.append({"component": comp, "mean": float(v.mean()), "sd": float(v.std(ddof=1)),
                         "source": f"national: {len(v)} buurten of {n_municipalities} municipalities of this run "
                                   "(unweighted mean and sample SD)"})
    ref = pd.DataFrame(rows, columns=["component", "mean", "sd", "source"])
    return ref, walkability_reference_docs(ref)


def _national_walkability(buurt: pd.DataFrame, ref: pd.DataFrame) -> pd.Series | None:
    if len(ref) != len(WALK_COMPONENTS) or (ref["sd"] <= 0).any():
        return None
    z = [(pd.to_numeric(buurt[r.component], errors="coerce") - r.mean) / r.sd for r in ref.itertuples()]
    return sum(z)


def national(out_path: str | Path, *, runs: Mapping[str, Mapping], workdir: str | Path, run: str, year: int,
             params: Mapping, min_residents: float = DEFAULT_MIN_RESIDENTS) -> Path:
    """Write the national GeoPackage of a country run; return its path.

    ``runs`` maps a municipality code to its run's files: ``wards`` (its wards.gpkg), ``tables``
    (level -> the tables its GeoPackage joins), ``indicator_tables`` (level -> the tables its
    disparity stage reads), ``disparity_tables`` (its buurt and wijk disparity tables),
    ``manifests`` and ``extra_provenance``. ``params``: the config's ``disparity`` section.
    """
    workdir = Path(workdir)
    gms = list(runs)
    wards_path = national_wards({gm: r["wards"] for gm, r in runs.items()}, workdir / "wards.gpkg")
    reasons = read_reasons(wards_path, min_residents=min_residents)
    tables: dict[str, list[Path]] = {}
    frames: dict[str, pd.DataFrame] = {}
    nat_tables: list[pd.DataFrame] = []
    references: list[pd.DataFrame] = []
    walk_ref, walk_docs = None, None
    for level in LEVELS:
        tables[level] = national_tables({gm: r["tables"][level] for gm, r in runs.items()}, workdir / level)
        ind_names = {Path(p).name for r in runs.values() for p in r["indicator_tables"][level]}
        ind_paths = [p for p in tables[level] if p.name in ind_names]
        frame, docs = ward_frame(wards_path, level, ind_paths)
        frame[REASON_COLUMN] = reasons[level].reindex(frame.index)
        shown = frame[REASON_COLUMN].isna()
        frames[level] = frame
        indicators = usable_indicators(frame, params["indicators"], shown)
        extra = {}
        if len(frame) >= 3 and indicators:
            groups = {k: usable_indicators(frame, v, shown) for k, v in burden_groups(docs).items()}
            if not ((groups.get("exposures") or groups.get("effects"))
                    and (groups.get("sensitivity") or groups.get("socioeconomic"))):
                groups = {}
            result = compute_disparities(
                frame, indicators, ranking=params["ranking"], proxy=params["proxy"], n_boot=params["n_boot"],
                seed=params["seed"], min_residents=min_residents, permutations=params["permutations"],
                burden_groups=groups, double_burden_pctl=params["double_burden_pctl"], level=level,
                column_docs=docs, spatial=False)
            per_ward = result.per_ward.drop(columns=[REASON_COLUMN], errors="ignore")
            extra = {f"{c}{NL}": per_ward[c] for c in per_ward.columns}
            extra_docs = {f"{c}{NL}": _national_doc(result.docs.get(c), c, level) for c in per_ward.columns}
            t = result.table.copy()
            t.insert(0, "scope", "national")
            nat_tables.append(t)
            if level != "gemeente" and len(result.reference):
                ref = result.reference.copy()
                ref["label"] = f"national ({len(gms)} municipalities)"
                references.append(ref)
        else:
            extra_docs = {}
            log.info("national %s: %d ward(s) - no national measures at this level", level, len(frame))
        if level == "buurt":
            walk_ref, walk_docs = walkability_reference(frame, shown, n_municipalities=len(gms))
            index = _national_walkability(frame, walk_ref)
            if index is not None:
                extra["walkability_index_nl"] = index
                extra_docs["walkability_index_nl"] = doc(
                    "z-score sum", "Walkability index with the national reference (walkability_reference table): sum "
                    "of the z-scores of daily_living_score, pop_density_per_km2 and intersection_density_per_km2 "
                    "against their mean and SD over all buurten of the run", theme="access",
                    higher_is_worse=False, about="residents", label_en="walkability (national reference)",
                    label_nl="loopbaarheid (landelijke referentie)")
        if extra:
            out = workdir / level / "national.parquet"
            write_table(pd.DataFrame(extra, index=frame.index), out, extra_docs)
            tables[level].append(out)

    # disparity: each municipality's own measures, then the national ones
    parts, tdocs = [], dict(DISPARITY_TABLE_DOCS)
    for gm, r in runs.items():
        for p in r["disparity_tables"]:
            t, d = read_table(p)
            t = t.reset_index(drop=True)
            t.insert(0, "scope", gm)
            parts.append(t)
            tdocs.update(d)
    parts += nat_tables
    extra_tables = {}
    if parts:
        extra_tables["disparity"] = (pd.concat(parts, ignore_index=True), {**tdocs, "scope": SCOPE_DOC},
                                     "Inequality measures per indicator, level and scope (national, or one municipality)")
    if references:
        extra_tables["burden_reference"] = (pd.concat(references, ignore_index=True), BURDEN_REFERENCE_DOCS,
                                            "National reference distributions of the cumulative burden indicators")
    if walk_ref is not None and len(walk_ref):
        extra_tables["walkability_reference"] = (walk_ref, walk_docs,
                                                 "National walkability reference: mean and SD over all buurten")
    records = _provenance(runs)
    synthetic = any(r.provider.startswith("healthgeo demo") or "SYNTHETIC" in (r.note or "").upper() for r in records)
    metadata = {"run": run, "scope": "national", "municipality": f"national ({len(gms)} municipalities)",
                "municipalities": ",".join(gms), "n_municipalities": str(len(gms)),
                "year": str(year), "crs": "EPSG:28992", "synthetic": "true" if synthetic else "false"}
    return assemble(out_path, wards_path=wards_path, tables=tables, provenance=records, metadata=metadata,
                    extra_tables=extra_tables, min_residents=min_residents)


def _provenance(runs: Mapping[str, Mapping]) -> list[ProvenanceRecord]:
    seen, out = set(), []
    for r in runs.values():
        recs = [rec for m in r["manifests"] for rec in read_manifest(m).provenance]
        recs += [rec for p in r.get("extra_provenance", ()) for rec in read_provenance(p)]
        for rec in recs:
            key = tuple(sorted((k, str(v)) for k, v in vars(rec).items()))
            if key not in seen:
                seen.add(key)
                out.append(rec)
    return out


__all__ = ["national", "national_wards", "national_tables", "walkability_reference", "NL", "SCOPE_DOC"]
