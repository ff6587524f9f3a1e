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
