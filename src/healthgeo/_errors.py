"""Typed errors. Each message says what went wrong *and how to fix it*.

All subclass a builtin so callers can catch them generically, and all subclass
:class:`HealthgeoError` so the workflow can tell our errors from bugs.
"""

from __future__ import annotations

from pathlib import Path


class HealthgeoError(Exception):
    """Base class of every error healthgeo raises on purpose."""


class ConfigError(HealthgeoError, ValueError):
    """The configuration is invalid (unknown key, wrong type, unknown municipality...)."""


class InputDataError(HealthgeoError, ValueError):
    """An input file or table is unusable: invalid geometry, duplicate codes, nodata only..."""


class NoStreetsError(InputDataError):
    """The OSM input holds no street at all for the study area (no OSM coverage there): the network
    stages give the wards NULL values with this reason instead of failing."""


class CRSError(InputDataError):
    """A layer or raster has no CRS, or a CRS that cannot be used without reprojection."""


class SchemaDriftError(InputDataError):
    """A provider's table lacks expected columns (renamed or dropped upstream).

    Parameters
    ----------
    source
        Provider or file that was read.
    expected
        Column names that were required.
    found
        Column names that came.
    """

    def __init__(self, source: str, expected, found, hint: str = "") -> None:
        expected = list(expected)
        found = list(found)
        missing = [c for c in expected if c not in found]
        self.source, self.expected, self.found, self.missing = source, expected, found, missing
        msg = (
            f"{source}: the schema changed - missing column(s) {missing}. "
            f"Expected {expected}; got {found}. "
            + (hint or "If the provider renamed a column, map it in healthgeo.sources or give the "
               "input as a local file in the documented shape.")
        )
        super().__init__(msg)


class OutOfSpaceError(HealthgeoError, OSError):
    """The disk filled up while writing an output; the previous output (if any) is untouched."""

    def __init__(self, path, cause: str = "") -> None:
        self.path = Path(path)
        super().__init__(
            f"no space left on the device while writing {self.path}"
            + (f" ({cause})" if cause else "")
            + f". Free space on {self.path.parent} (check with `df -h`) and rerun; the previous "
            f"{self.path.name}, if any, is untouched and no partial file was kept.")


class DownloadError(HealthgeoError, OSError):
    """A provider could not be reached or answered wrongly (after retries).

    The message names provider, URL and cause; no partial file is left behind.
    """

    def __init__(self, provider: str, url: str, cause: str) -> None:
        self.provider, self.url, self.cause = provider, url, cause
        super().__init__(
            f"{provider}: download failed for {url}: {cause}. Nothing was written. "
            "Retry later, check the URL/parameters in the config, or give this input as a local "
            "file (`file:` in the config)."
        )

