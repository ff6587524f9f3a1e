"""File I/O with atomic writes, and tables that carry their column documentation.

Every writer goes through :func:`atomic_write`: data is written to a temporary file in the
destination folder and renamed into place only when complete, so a killed run never leaves a
half-written output that Snakemake would mistake for a finished one. The data is flushed to disk
before the rename, temporary files of killed writers are removed by the next write of the same
file, and a full disk is reported as :class:`~healthgeo._errors.OutOfSpaceError`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd

from ._errors import InputDataError, OutOfSpaceError
from .dictionary import ColumnDoc

log = logging.getLogger(__name__)

_DOCS_KEY = b"healthgeo.columns"


def _temp_pattern(path: Path) -> re.Pattern:
    """Names of :func:`atomic_write`'s temporary files for ``path`` (and their GDAL/SQLite side
    files): ``.{stem}.{pid}.{random}{suffix}``; the pid-less form is that of earlier versions."""
    return re.compile(rf"^\.{re.escape(path.stem)}\.(?:(\d+)\.)?[a-z0-9_]{{8}}{re.escape(path.suffix)}"
                      r"(?:-journal|-wal|-shm)?$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(path: str | Path) -> list[Path]:
    """Remove the temporary files a killed writer of ``path`` left behind; return them.

    A temporary file whose writing process is still alive is kept (two runs may download the same
    cache file at once); one whose process is gone, or of the pid-less format of earlier
    versions, is a leftover of a killed run.
    """
    path = Path(path)
    pattern = _temp_pattern(path)
    removed = []
    if not path.parent.is_dir():
        return removed
    for p in path.parent.iterdir():
        m = pattern.match(p.name)
        if m and not (m.group(1) and _alive(int(m.group(1)))):
            p.unlink(missing_ok=True)
            removed.append(p)
    if removed:
        log.info("removed %d temporary file(s) of an earlier interrupted write of %s", len(removed), path)
    return removed


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    except OSError:
        if not directory:  # some file systems cannot sync a directory; the rename is still atomic
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; flush it to disk and rename it onto ``path`` on success.

    The temporary file (``.{stem}.{pid}.{random}{suffix}``) keeps ``path``'s suffix (drivers pick
    formats by extension). Temporary files that killed writers of the same ``path`` left behind
    are removed first. On any exception the temporary file is removed and ``path`` is left
    untouched; a write that fails because the disk is full raises :class:`OutOfSpaceError`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path if suffix is None else path.with_suffix(suffix))
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.stem}.{os.getpid()}.", suffix=suffix if suffix is not None else path.suffix,
        dir=path.parent,
    )
    os.close(fd)
    tmp = Path(tmp)
    tmp.unlink()  # let the writer create it (GDAL drivers refuse existing empty files)
    try:
        try:
            yield tmp
            _fsync(tmp)  # the data is on disk before the name points at it (power loss)
        except Exception as err:
            # GDAL may only say "Failed to commit transaction": a nearly full disk decides it
            if is_out_of_space(err) or shutil.disk_usage(path.parent).free < (1 << 20):
                raise OutOfSpaceError(path, f"{shutil.disk_usage(path.parent).free / 1e6:.1f} MB free") from err
            raise
        os.replace(tmp, path)
        _fsync(path.parent, directory=True)
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


# ----------------------------------------------------------------------------------------------
# the published file of a run and its receipt
#
# Snakemake removes a job's outputs when the job starts, so a file it manages cannot survive a
# failed or killed rerun. The run's GeoPackage is therefore *not* a Snakemake output: the
# assemble rule's output is a small receipt (sha256, size, time of the published file), and the
# GeoPackage itself is replaced atomically (:func:`atomic_write`) only once the new one is
# complete. A receipt whose file is missing or differs is dropped when the workflow starts
# (:func:`drop_stale_receipt`), so Snakemake plans the assemble job again.


def write_receipt(published: str | Path, receipt: str | Path) -> dict:
    """Describe the published file ``published`` in the JSON file ``receipt``; return the record."""
    published = Path(published)
    st = published.stat()
    record = {
        "file": published.name,
        "sha256": sha256_file(published),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "written_at": _dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc).isoformat(timespec="seconds"),
    }
    write_json(record, receipt)
    return record


def receipt_problem(receipt: str | Path) -> str | None:
    """Why the file a receipt describes is not the one it describes (``None`` when it is, or when
    there is no receipt)."""
    receipt = Path(receipt)
    if not receipt.is_file():
        return None
    try:
        record = read_json(receipt)
        published = receipt.parent / record["file"]
        size, mtime_ns, digest = int(record["size"]), int(record["mtime_ns"]), str(record["sha256"])
    except (ValueError, KeyError, TypeError) as e:
        return f"the receipt is unreadable ({e})"
    if not published.is_file():
        return f"{published} is missing"
    st = published.stat()
    if st.st_size != size:
        return f"{published} has {st.st_size} bytes, the receipt says {size}"
    if st.st_mtime_ns != mtime_ns and sha256_file(published) != digest:  # a touch alone is no change
        return f"{published} differs from the file the receipt describes (sha256)"
    return None


def drop_stale_receipt(receipt: str | Path) -> str | None:
    """Remove ``receipt`` when its file is missing or changed (so the rule that publishes the file
    runs again); return the reason, or ``None`` when the receipt stands."""
    problem = receipt_problem(receipt)
    if problem:
        Path(receipt).unlink(missing_ok=True)
        log.warning("%s: %s; it will be written again", receipt, problem)
    return problem
