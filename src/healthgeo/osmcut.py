"""Cut a national OpenStreetMap extract to one municipality's box (docs/methods.md#country-runs).

A country run reads one national extract (Geofabrik's ``netherlands-latest.osm.pbf``, or an OSM
XML file) and gives each municipality only its part: every node inside the box (the wards'
bounding box plus ``area.margin_m``), every way with at least one such node - whole, with all its
nodes, so a street leaving the box keeps its geometry - and every relation with a kept member.
This is ``osmium extract --strategy complete_ways``; OSM XML is cut here in two streaming passes
(memory grows with the kept part, not the national file), ``.osm.pbf`` by the ``osmium`` command
(Debian/Ubuntu package ``osmium-tool``).

The cut file's ``<bounds>`` is the box of the nodes it holds, so the graph builder's coverage
check (:func:`healthgeo.network.osm_extent`) sees where the extract ends: wards outside it get NULL
street and green values with a reason. A box with no OSM data at all gives an extract without
nodes (a municipality the national file does not cover); the stages then report it instead of
failing.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from pyproj import Transformer

from ._errors import InputDataError
from .io import atomic_write

log = logging.getLogger(__name__)

#: OSM file suffixes this module cuts
XML_SUFFIXES = (".osm", ".xml")
PBF_SUFFIXES = (".osm.pbf", ".pbf")


def rd_box_to_wgs84(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) in EPSG:28992 -> (minlon, minlat, maxlon, maxlat) enclosing it."""
    t = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
    x0, y0, x1, y1 = box
    lons, lats = t.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
    return min(lons), min(lats), max(lons), max(lats)


def extract_suffix(path: str | Path) -> str:
    """The suffix the cut file keeps (``.osm`` or ``.osm.pbf``); anything else is refused."""
    name = Path(path).name.lower()
    if name.endswith(PBF_SUFFIXES):
        return ".osm.pbf"
    if name.endswith(XML_SUFFIXES):
        return ".osm"
    raise InputDataError(f"osm: a country run cuts the national extract per municipality; {path} is neither "
                         "OSM XML (.osm) nor .osm.pbf. Give the national extract, e.g. Geofabrik's "
                         "netherlands-latest.osm.pbf.")


def cut(src: str | Path, dst: str | Path, box_rd: tuple[float, float, float, float]) -> dict[str, int]:
    """Write the part of OSM file ``src`` inside ``box_rd`` (EPSG:28992) to ``dst`` (atomically).

    Returns counts of kept nodes, ways and relations. ``dst`` must have ``src``'s suffix kind.
    """
    bbox = rd_box_to_wgs84(box_rd)
    if extract_suffix(src) == ".osm.pbf":
        return _cut_pbf(Path(src), Path(dst), bbox)
    return _cut_xml(Path(src), Path(dst), bbox)


def _cut_pbf(src: Path, dst: Path, bbox) -> dict[str, int]:
    exe = shutil.which("osmium")
    if exe is None:
        raise InputDataError("osm: cutting a national .osm.pbf per municipality needs the osmium command "
                             "(apt-get install osmium-tool, or conda install -c conda-forge osmium-tool).")
    with atomic_write(dst) as tmp:
        proc = subprocess.run([exe, "extract", "--strategy", "complete_ways", "--overwrite", "-f", "pbf", "-b",
                               ",".join(f"{v:.7f}" for v in bbox), "-o", str(tmp), str(src)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise InputDataError(f"osm: osmium extract of {src} failed: {proc.stderr.strip()[-500:]}")
    return {}


def _iter(src: Path):
    try:
        for _, el in ET.iterparse(src, events=("end",)):
            if el.tag in ("node", "way", "relation", "bounds"):
                yield el
    except ET.ParseError as e:
        raise InputDataError(f"{src}: not a readable OSM XML file ({e}); is the download truncated? "
                             "Fetch it again.") from e


def _cut_xml(src: Path, dst: Path, bbox) -> dict[str, int]:
    x0, y0, x1, y1 = bbox
    inside: set[str] = set()
    ways: set[str] = set()
    needed: set[str] = set()
    # pass 1: nodes in the box, ways touching them (and all their nodes), relations with kept members
    relations: set[str] = set()
    for el in _iter(src):
        if el.tag == "node":
            lon, lat = float(el.get("lon")), float(el.get("lat"))
            if x0 <= lon <= x1 and y0 <= lat <= y1:
                inside.add(el.get("id"))
        elif el.tag == "way":
            refs = [nd.get("ref") for nd in el.iter("nd")]
            if any(r in inside for r in refs):
                ways.add(el.get("id"))
                needed.update(refs)
        elif el.tag == "relation":
            for m in el.iter("member"):
                kind, ref = m.get("type"), m.get("ref")
                if (kind == "way" and ref in ways) or (kind == "node" and ref in inside):
                    relations.add(el.get("id"))
                    break
        el.clear()
    needed |= inside
    # pass 2: copy what is kept; <bounds> = the box of the kept nodes
    lons, lats = [], []
    with atomic_write(dst) as tmp:
        with open(tmp, "w", encoding="utf-8") as out:
            out.write("<?xml version='1.0' encoding='UTF-8'?>\n")
            out.write(f'<osm version="0.6" generator="healthgeo.osmcut from {src.name}">\n')
            body = []
            for el in _iter(src):
                keep = ((el.tag == "node" and el.get("id") in needed) or (el.tag == "way" and el.get("id") in ways)
                        or (el.tag == "relation" and el.get("id") in relations))
                if keep:
                    if el.tag == "node":
                        lons.append(float(el.get("lon")))
                        lats.append(float(el.get("lat")))
                    el.tail = "\n"
                    body.append(ET.tostring(el, encoding="unicode"))
                    if len(body) >= 5000:
                        out.write("".join(body))
                        body = []
                if el.tag in ("node", "way", "relation"):
                    el.clear()
            out.write("".join(body))
            out.write("</osm>\n")
        if lons:
            _insert_bounds(Path(tmp), min(lons), min(lats), max(lons), max(lats))
    counts = {"nodes": len(needed), "ways": len(ways), "relations": len(relations)}
    log.info("OSM cut of %s to lon %.5f..%.5f, lat %.5f..%.5f: %s", src.name, x0, x1, y0, y1, counts)
    if not inside:
        log.warning("OSM cut of %s: no node lies in the municipality's box; its street and green indicators "
                    "will be NULL (no OSM coverage)", src.name)
    return counts


def _insert_bounds(path: Path, minlon, minlat, maxlon, maxlat) -> None:
    """Put ``<bounds>`` after the ``<osm>`` line (OSM XML wants it first)."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split("\n", 2)[:2], text.split("\n", 2)[2]
    bounds = (f'  <bounds minlat="{minlat:.7f}" minlon="{minlon:.7f}" maxlat="{maxlat:.7f}" '
              f'maxlon="{maxlon:.7f}"/>')
    path.write_text("\n".join([*head, bounds, rest]), encoding="utf-8")
