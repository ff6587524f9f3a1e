"""Provenance of every input: where it came from, when, its checksum and licence."""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .io import read_json, sha256_file, write_json

COLUMNS = ["input", "provider", "file", "url", "params", "retrieved_at", "sha256", "licence", "note"]


@dataclass
class ProvenanceRecord:
    """One row of the output's ``provenance`` table."""

    input: str
    provider: str
    file: str = ""
    url: str = ""
    params: str = ""
    retrieved_at: str = field(default_factory=lambda: now_utc())
    sha256: str = ""
    licence: str = ""
    note: str = ""

    @classmethod
    def for_file(cls, input: str, path: str | Path, **kw) -> "ProvenanceRecord":
        """Record for a local file, with its sha256 filled in."""
        return cls(input=input, file=str(path), sha256=sha256_file(path), **kw)


def now_utc() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def write_provenance(records: list[ProvenanceRecord], path: str | Path) -> None:
    """Write a list of records as JSON (atomically)."""
    write_json([asdict(r) for r in records], path)


def read_provenance(path: str | Path) -> list[ProvenanceRecord]:
    return [ProvenanceRecord(**r) for r in read_json(path)]


# --- manifests: what the fetch stage hands to the prepare stage -------------------------------

def write_manifest(path: str | Path, *, input: str, local_path: str | Path, spec: dict,
                   records: list[ProvenanceRecord]) -> None:
    """Write the manifest of one fetched input: its local path, config spec and provenance."""
    write_json(
        {"input": input, "path": str(local_path), "spec": spec, "provenance": [asdict(r) for r in records]},
        path,
    )


@dataclass
class Manifest:
    """A fetched input: where it is on disk, how it was configured, where it came from."""

    input: str
    path: Path
    spec: dict
    provenance: list[ProvenanceRecord]


def read_manifest(path: str | Path) -> Manifest:
    data = read_json(path)
    return Manifest(
        input=data["input"], path=Path(data["path"]), spec=data.get("spec", {}),
        provenance=[ProvenanceRecord(**r) for r in data.get("provenance", [])],
    )


SIDECAR_SUFFIX = ".provenance.json"
_SIDECAR_FIELDS = ("provider", "url", "params", "retrieved_at", "licence", "note")


def apply_sidecar(record: ProvenanceRecord, path: str | Path) -> ProvenanceRecord:
    """Fill a local file's provenance from ``<file>.provenance.json`` when it exists.

    A GIS analyst handing in a local file can document where it came from in that sidecar
    (``provider``, ``url``, ``retrieved_at``, ``licence``, ``note``); the generated demo city
    writes one for every file so its outputs are labelled synthetic.
    """
    side = Path(str(path) + SIDECAR_SUFFIX)
    if not side.is_file():
        return record
    data = read_json(side)
    for key in _SIDECAR_FIELDS:
        if data.get(key):
            setattr(record, key, str(data[key]))
    return record
