"""File I/O with atomic writes, and tables that carry their column documentation.

Every writer goes through :func:`atomic_write`: data is written to a temporary file in the
destination folder and renamed into place only when complete, so a killed run never leaves a
half-written output that Snakemake would mistake for a finished one.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd

from ._errors import InputDataError, OutOfSpaceError
from .dictionary import ColumnDoc

_DOCS_KEY = b"healthgeo.columns"


@contextlib.contextmanager
def atomic_write(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary file keeps ``path``'s suffix (drivers pick formats by extension). On any
    exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=suffix if suffix is not None else path.suffix, dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp)
    tmp.unlink()  # let the writer create it (GDAL drivers refuse existing empty files)
    try:
        yield tmp
        os.replace(tmp, path)
    except Exception as err:
        if is_out_of_space(err):
            raise OutOfSpaceError(path) from err
        raise
    finally:
        if tmp.exists():
            tmp.unlink()
        # GDAL side files (e.g. GeoPackage journals)
        for side in path.parent.glob(tmp.name + "-*"):
            side.unlink(missing_ok=True)


#: errno values and message fragments (OS, SQLite via GDAL, HDF5, Arrow) that mean "the disk is full"
_NO_SPACE_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NO_SPACE_TEXT = ("no space left on device", "database or disk is full", "disk quota exceeded", "disk is full",
                  "sqlite_full")


def is_out_of_space(err: BaseException) -> bool:
    """True when ``err`` (or an exception it was raised from) says the disk or quota is full."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OutOfSpaceError):
            return False  # already reported
        if isinstance(err, OSError) and err.errno in _NO_SPACE_ERRNOS:
            return True
        if any(t in str(err).lower() for t in _NO_SPACE_TEXT):
            return True
        err = err.__cause__ or err.__context__
    return False


def input_file(path: str | Path, source: str) -> Path:
    """``path`` as a Path; InputDataError when it does not exist or is empty (0 bytes)."""
    p = Path(path)
    if not p.exists():
        raise InputDataError(f"{source}: {p} does not exist. Check the `file:` path in the config.")
    if p.is_file() and p.stat().st_size == 0:
        raise InputDataError(f"{source}: {p} is empty (0 bytes). An interrupted download or copy? "
                             "Replace the file, or delete it and rerun so a provider input is fetched again.")
    return p


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def write_json(obj, path: str | Path) -> None:
    """Write ``obj`` as pretty JSON, atomically."""
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


def read_json(path: str | Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_table(df: pd.DataFrame, path: str | Path, docs: Mapping[str, ColumnDoc] | None = None) -> None:
    """Write a per-ward table to Parquet, with column documentation in the file's metadata.

    The index (the ward code) is kept. ``docs`` maps column names to :class:`ColumnDoc`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=True)
    meta = dict(table.schema.metadata or {})
    meta[_DOCS_KEY] = json.dumps({k: v.as_dict() for k, v in (docs or {}).items()}).encode()
    table = table.replace_schema_metadata(meta)
    with atomic_write(path) as tmp:
        pq.write_table(table, tmp)


def read_table(path: str | Path) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Read a table written by :func:`write_table`; return ``(frame, docs)``."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(_DOCS_KEY, b"{}")
    docs = {k: ColumnDoc(**v) for k, v in json.loads(raw).items()}
    return table.to_pandas(), docs


def write_gdf(gdf, path: str | Path, layer: str | None = None) -> None:
    """Write a GeoDataFrame atomically (GeoPackage by default)."""
    with atomic_write(path) as tmp:
        gdf.to_file(tmp, layer=layer, engine="pyogrio")
