"""The shared vocabulary (healthgeo._vocab), the shared reader helpers and the package's import layering."""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import GeometryCollection, LineString, MultiPolygon, box

from healthgeo._errors import DownloadError, InputDataError
from healthgeo._vocab import (CODE_COLUMN, LEVEL_OF_COLUMN, apply_prefix, code_prefix, is_code, level_name,
                              level_of, mask_sentinels, municipality_number, parent_code, polygonal)
from healthgeo.sources._common import (extract_zip_member, input_file, read_vector, reading, rebase_url,
                                       study_bbox)

PKG = Path(__file__).resolve().parents[1] / "src" / "healthgeo"


# --------------------------------------------------------------------------- codes
def test_codes_levels_and_parents():
    assert level_of("BU03440112 ") == "buurt" and level_of("WK034401") == "wijk" and level_of("GM0344") == "gemeente"
    assert level_of("NL01") == "land" and level_of("XX") is None
    assert parent_code("BU03440112", "wijk") == "WK034401"
    assert parent_code("BU03440112", "gemeente") == parent_code("WK034401", "gemeente") == "GM0344"
    assert is_code("BU03440112", "buurt") and not is_code("BU0344011", "buurt") and not is_code("WK034401", "buurt")
    assert level_name("Buurten") == "buurt" and level_name("gemeenten") == "gemeente"
    with pytest.raises(InputDataError, match="unknown"):
        level_name("provincie")
    assert municipality_number(" gm0344") == "0344" and code_prefix("wijk", "GM0344") == "WK0344"
    with pytest.raises(InputDataError, match="GM0344"):
        municipality_number("0344")
    assert LEVEL_OF_COLUMN[CODE_COLUMN["wijk"]] == "wijk"


def test_apply_prefix_pads_local_codes_and_keeps_complete_ones():
    out = apply_prefix(pd.Series(["0111", " 0112 ", "BU03440113"]), "BU0344", 10)
    assert out.tolist() == ["BU03440111", "BU03440112", "BU03440113"]


# --------------------------------------------------------------------------- sentinels
@pytest.mark.parametrize("token", [".", "x", "X", "-", "?", "-99995", "-99997", "-99998", "-99999", "-99999999",
                                   "null", "None"])
def test_every_known_sentinel_is_masked(token):
    values, n = mask_sentinels(pd.Series(["12,5", token, "7"]))
    assert values.iloc[0] == 12.5 and values.iloc[2] == 7.0
    assert np.isnan(values.iloc[1]) and n == 1


@pytest.mark.parametrize("sentinel", [-99995, -99997, -99998, -99999999])
def test_numeric_sentinels_are_masked(sentinel):
    values, n = mask_sentinels(pd.Series([3.0, float(sentinel), 0.0]))
    assert values.tolist()[0] == 3.0 and values.tolist()[2] == 0.0 and np.isnan(values.iloc[1]) and n == 1


def test_extra_and_negative_sentinels():
    values, n = mask_sentinels(pd.Series(["-999", "-0.5", "4", ""]), negative=True)
    assert values.iloc[2] == 4.0 and values.isna().tolist() == [True, True, False, True]
    assert n == 2  # the empty cell is missing, not a sentinel
    values, n = mask_sentinels(np.array([-999.0, 5.0]), extra=(-999.0,))
    assert np.isnan(values[0]) and values[1] == 5.0 and n == 1
    # a legitimate negative value survives without negative=True
    assert mask_sentinels(pd.Series([-3.0]))[0].iloc[0] == -3.0


# --------------------------------------------------------------------------- polygon repair
def test_polygonal_keeps_only_polygon_parts():
    sq = box(0, 0, 1, 1)
    gc = GeometryCollection([sq, LineString([(0, 0), (5, 5)]), MultiPolygon([box(2, 2, 3, 3)])])
    out = polygonal(gc)
    assert out.geom_type == "MultiPolygon" and len(out.geoms) == 2 and out.area == 2.0
    assert polygonal(sq) is sq


# --------------------------------------------------------------------------- reader helpers
def _zip(path: Path, name: str, data: bytes = b"ncols 1\n") -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo(name), data)
    return path


@pytest.mark.parametrize("member", ["../evil.asc", "..\\evil.asc", "/abs/evil.asc", "C:\\evil.asc",
                                    "a\\..\\..\\evil.asc"])
def test_zip_slip_is_refused_also_with_backslashes(tmp_path, member):
    z = _zip(tmp_path / "x.zip", member)
    with pytest.raises(DownloadError, match="zip-slip"):
        extract_zip_member(z, tmp_path / "out.asc", suffixes=(".asc",), provider="p", url="u")
    assert not (tmp_path / "out.asc").exists() and not (tmp_path.parent / "evil.asc").exists()


def test_zip_member_extracted_and_missing_member_or_corrupt_zip_refused(tmp_path):
    z = _zip(tmp_path / "x.zip", "dir/grid.ASC", b"hello")
    assert extract_zip_member(z, tmp_path / "o.asc", suffixes=(".asc",), provider="p", url="u").read_bytes() == b"hello"
    with pytest.raises(DownloadError, match=r"no \.tif"):
        extract_zip_member(z, tmp_path / "o.tif", suffixes=(".tif",), provider="p", url="u")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(DownloadError, match="corrupted zip"):
        extract_zip_member(bad, tmp_path / "o.asc", suffixes=(".asc",), provider="p", url="u")


def test_rebase_url_and_study_bbox():
    assert rebase_url("https://api.pdok.nl/a/b?x=1", "http://127.0.0.1:8000/") == "http://127.0.0.1:8000/a/b?x=1"
    assert rebase_url("https://api.pdok.nl/a", None) == "https://api.pdok.nl/a"
    b = gpd.GeoDataFrame(geometry=[box(1050, 2050, 1950, 2950)], crs="EPSG:28992")
    assert study_bbox({}, b, buffer=100) == (900, 1900, 2100, 3100)
    assert study_bbox({}, bbox=(1, 2, 3, 4)) == (0, 0, 100, 100)
    assert study_bbox({"municipality": "GM0344"}) == (126000, 448000, 142000, 462000)
    with pytest.raises(InputDataError, match="bbox"):
        study_bbox({"municipality": "GM9999"})


def test_input_file_and_read_vector_name_the_file(tmp_path):
    with pytest.raises(InputDataError, match="does not exist"):
        input_file(tmp_path / "nope.gpkg", "x")
    empty = tmp_path / "empty.geojson"
    empty.write_bytes(b"")
    with pytest.raises(InputDataError, match=r"empty\.geojson is empty \(0 bytes\)"):
        read_vector(empty, source="boundaries")
    garbage = tmp_path / "garbage.gpkg"
    garbage.write_bytes(b"\x00\x01garbage" * 100)
    with pytest.raises(InputDataError, match=r"garbage\.gpkg cannot be read") as e:
        read_vector(garbage, source="boundaries")
    assert "\n" not in str(e.value)
    with pytest.raises(InputDataError, match="cannot be read as a table"):
        with reading(tmp_path / "t.csv", "health", "a table"):
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")


# --------------------------------------------------------------------------- layering
def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path):
    """(imported module, names, is_top_level) of every healthgeo import in ``path``."""
    mod = _module_name(path)
    pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "healthgeo":
                yield target, [a.name for a in node.names], id(node) in top
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "healthgeo":
                    yield a.name, [], id(node) in top


def _graph():
    files = sorted(PKG.rglob("*.py"))
    modules = {_module_name(f) for f in files}
    edges = {}
    for f in files:
        deps = set()
        for target, names, _ in _imports(f):
            for n in names or [None]:
                sub = f"{target}.{n}" if n else target
                deps.add(sub if sub in modules else target)
        edges[_module_name(f)] = {d for d in deps if d in modules and d != _module_name(f)}
    return edges


def test_no_import_cycle_between_modules():
    edges = _graph()
    # a package's __init__ importing its own submodules is not a cycle of the layering
    for m, deps in edges.items():
        edges[m] = {d for d in deps if not (d.startswith(m + ".") or m.startswith(d + "."))}
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(edges.get(m, ())):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    assert not cycles, f"import cycles: {cycles}"


def test_readers_and_vocabulary_import_no_domain_module():
    edges = _graph()
    allowed_low = {"healthgeo._errors", "healthgeo._vocab", "healthgeo._http", "healthgeo.io", "healthgeo.provenance",
                   "healthgeo.dictionary", "healthgeo.rasters", "healthgeo._graph", "healthgeo.plausibility", "healthgeo"}
    assert edges["healthgeo._vocab"] <= {"healthgeo._errors"}
    for m, deps in edges.items():
        if m.startswith("healthgeo.sources"):
            domain = {d for d in deps if not d.startswith("healthgeo.sources") and d not in allowed_low}
            assert not domain, f"{m} imports domain modules {domain}"


def test_no_private_name_is_imported_from_another_module():
    offenders = []
    for f in sorted(PKG.rglob("*.py")):
        for target, names, _ in _imports(f):
            offenders += [f"{_module_name(f)}: {target}.{n}" for n in names
                          if n.startswith("_") and not n.startswith("__") and f"{target}.{n}" not in
                          {_module_name(g) for g in PKG.rglob("*.py")}]
    assert not offenders, offenders


#: modules whose healthgeo imports all sit at the top (the readers and the bottom layers)
TOP_IMPORTS_ONLY = ["_vocab.py", "_errors.py", "_http.py", "io.py", "config.py", "wards.py", "rasters.py",
                    "population.py", "sources/*.py"]


def test_healthgeo_imports_in_library_modules_are_at_the_top():
    inside = []
    for f in sorted(p for pattern in TOP_IMPORTS_ONLY for p in PKG.glob(pattern)):
        inside += [f"{_module_name(f)}: {t}" for t, _, top in _imports(f) if not top]
    assert not inside, f"in-function imports hide the layering: {inside}"


def test_the_crs_and_sentinels_are_written_once():
    offenders = []
    for f in sorted(PKG.rglob("*.py")):
        if f.name == "_vocab.py":
            continue
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value == "EPSG:28992":
                offenders.append(f"{f.name}: {ast.unparse(node)}")
            if isinstance(node, ast.Assign) and "-999.0" in ast.unparse(node.value) and "3.4" in ast.unparse(node.value):
                offenders.append(f"{f.name}: {ast.unparse(node)}")
    assert not offenders, offenders
