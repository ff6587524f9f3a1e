"""Retrying, throttled, caching HTTP client used by :mod:`healthgeo.sources`.

Every provider adapter downloads through :func:`get`. A response is written to the cache only when
it is complete (byte count equals ``Content-Length``) and valid (JSON parses when JSON is
expected, a zip opens when a zip is expected, ...); the write is atomic (temporary file + rename),
so the cache never holds a partial file. A cache hit makes no network request.

Cache layout: ``{cache_dir}/{provider}/{sha256(url + sorted params)[:16]}{ext}``.

Settings (module-level, change them in tests or for slow links)
---------------------------------------------------------------
BACKOFF
    Base of the exponential backoff in seconds: waits are ``BACKOFF * 2**attempt`` (capped at
    ``BACKOFF_MAX``), unless the server sent ``Retry-After``.
BACKOFF_MAX
    Upper bound of one computed backoff wait, seconds.
RETRY_AFTER_MAX
    Upper bound of a server-sent ``Retry-After`` wait, seconds (a hostile or buggy header cannot
    stall the pipeline for hours).
USER_AGENT
    Sent with every request (providers ask callers to identify themselves).
THROTTLES
    Fair-use token buckets per provider name (see :func:`set_throttle`).
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlparse

from ._errors import DownloadError
from ._lazy import lazy_module
from .io import atomic_write

log = logging.getLogger(__name__)
requests = lazy_module("requests")  # loaded by the first download, not by every job that imports healthgeo

BACKOFF: float = 1.0
BACKOFF_MAX: float = 60.0
RETRY_AFTER_MAX: float = 300.0
USER_AGENT: str = "healthgeo/0.1 (+https://github.com/; neighbourhood health indicators)"

RETRY_STATUS = {429, 500, 502, 503, 504}


# --------------------------------------------------------------------------- throttle
class TokenBucket:
    """Allow at most ``requests`` requests per ``per_seconds`` (bursts up to ``requests``)."""

    def __init__(self, requests: int, per_seconds: float) -> None:
        if requests <= 0 or per_seconds <= 0:
            raise ValueError("a throttle needs requests > 0 and per_seconds > 0")
        self.capacity = float(requests)
        self.rate = requests / per_seconds  # tokens per second
        self.tokens = float(requests)
        self.stamp = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; return the seconds waited."""
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            wait = (1 - self.tokens) / self.rate
            time.sleep(wait)
            self.tokens = 0.0
            self.stamp = time.monotonic()
            return wait


#: provider name -> bucket. Luchtmeetnet asks for at most ~100 requests per 5 minutes.
THROTTLES: dict[str, TokenBucket] = {
    "luchtmeetnet": TokenBucket(100, 300),
    "samenmeten": TokenBucket(300, 60),
    "pdok": TokenBucket(600, 60),
    "bag": TokenBucket(600, 60),
}


def set_throttle(provider: str, requests: int | None, per_seconds: float = 60.0) -> None:
    """Configure (or with ``requests=None`` remove) the fair-use throttle of ``provider``."""
    if requests is None:
        THROTTLES.pop(provider, None)
    else:
        THROTTLES[provider] = TokenBucket(requests, per_seconds)


# --------------------------------------------------------------------------- cache
@dataclass(frozen=True)
class CachedResponse:
    """A complete, validated response body stored on disk."""

    path: Path
    url: str
    status: int
    from_cache: bool

    def json(self):
        return json.loads(self.path.read_bytes())

    def text(self, encoding: str = "utf-8") -> str:
        return self.path.read_text(encoding=encoding)


def full_url(url: str, params: Mapping | None = None) -> str:
    """``url`` with ``params`` appended in sorted order (the form used for keys and provenance)."""
    if not params:
        return url
    sep = "&" if "?" in url else "?"
    return url + sep + urlencode(sorted((str(k), str(v)) for k, v in params.items()))


def cache_key(url: str, params: Mapping | None = None) -> str:
    """First 16 hex digits of sha256(url + sorted params)."""
    return hashlib.sha256(full_url(url, params).encode("utf-8")).hexdigest()[:16]


def cache_path(cache_dir: str | Path, provider: str, url: str, params: Mapping | None = None,
               ext: str | None = None) -> Path:
    """Where :func:`get` stores the response of ``url`` + ``params``."""
    if ext is None:
        ext = _guess_ext(url)
    return Path(cache_dir) / provider / f"{cache_key(url, params)}{ext}"


def _guess_ext(url: str) -> str:
    name = urlparse(url).path.rsplit("/", 1)[-1]
    for ext in (".zip", ".tif", ".tiff", ".gpkg", ".csv", ".json", ".geojson", ".asc", ".pbf", ".osm", ".xml"):
        if name.lower().endswith(ext):
            return ext
    return ".bin"


_EXT_FOR_EXPECT = {"json": ".json", "zip": ".zip", "tiff": ".tif"}


# --------------------------------------------------------------------------- validation
def _validate(path: Path, expect: str | None) -> str | None:
    """Return a problem description, or None when the body at ``path`` is valid."""
    if expect == "json":
        try:
            json.loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError) as e:
            head = path.read_bytes()[:120].decode("utf-8", "replace")
            return f"response is not valid JSON ({e}); it starts with {head!r}"
    elif expect == "zip":
        if not zipfile.is_zipfile(path):
            return "response is not a zip archive (corrupted or an error page)"
        try:
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            return f"corrupted zip archive ({e})"
        if bad is not None:
            return f"corrupted zip archive (bad CRC in {bad})"
    elif expect == "tiff":
        head = path.read_bytes()[:4]
        if head not in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
            text = path.read_bytes()[:300].decode("utf-8", "replace")
            return f"response is not a GeoTIFF; it starts with {text!r}"
    return None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        secs = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        secs = when.timestamp() - time.time()
    return max(0.0, min(secs, RETRY_AFTER_MAX))


# --------------------------------------------------------------------------- get
def get(
    url: str,
    *,
    params: Mapping | None = None,
    provider: str,
    cache_dir: str | Path,
    timeout: float = 60,
    max_retries: int = 5,
    backoff: float | None = None,
    expect: str | None = None,
    ext: str | None = None,
    headers: Mapping[str, str] | None = None,
    validate: Callable[[Path], str | None] | None = None,
    session: requests.Session | None = None,
) -> CachedResponse:
    """GET ``url`` (with ``params``) through the on-disk cache.

    Parameters
    ----------
    provider
        Provider name: cache sub-folder, throttle key and the name in error messages.
    cache_dir
        Root of the raw-response cache.
    max_retries
        Retries after the first attempt on timeouts, connection errors, truncated bodies,
        429 and 5xx. Other 4xx fail at once.
    backoff
        Base of the exponential backoff in seconds (default :data:`BACKOFF`).
    expect
        ``"json"``, ``"zip"`` or ``"tiff"``: the body is checked before it is cached.
    ext
        File extension in the cache (default from ``expect`` or the URL).
    validate
        Extra check on the downloaded file; returns a problem description or None.

    Raises
    ------
    DownloadError
        After the retries are used up, at once on a 4xx other than 429, or when the body is
        invalid. Nothing is written to the cache then.
    """
    if ext is None:
        ext = _EXT_FOR_EXPECT.get(expect or "", None) or _guess_ext(url)
    target = cache_path(cache_dir, provider, url, params, ext)
    shown = full_url(url, params)
    if target.exists():
        log.debug("%s: cache hit %s -> %s", provider, shown, target)
        return CachedResponse(target, shown, 200, True)

    backoff = BACKOFF if backoff is None else backoff
    hdrs = {"User-Agent": USER_AGENT, **(headers or {})}
    sess = session or requests
    cause = "no attempt made"
    for attempt in range(max_retries + 1):
        bucket = THROTTLES.get(provider)
        if bucket is not None:
            waited = bucket.acquire()
            if waited > 0.5:
                log.info("%s: fair-use throttle waited %.1f s", provider, waited)
        wait = min(backoff * (2 ** attempt), BACKOFF_MAX)
        try:
            resp = sess.get(url, params=sorted((str(k), str(v)) for k, v in params.items()) if params else None, timeout=timeout,
                            headers=hdrs, stream=True)
        except (requests.Timeout, requests.ConnectionError) as e:
            cause = f"{type(e).__name__}: {e}"
        else:
            with resp:
                status = resp.status_code
                if status in RETRY_STATUS:
                    cause = f"HTTP {status} {resp.reason}"
                    ra = _retry_after(resp.headers.get("Retry-After"))
                    if ra is not None:
                        wait = ra
                elif 400 <= status < 600:
                    body = resp.text[:300] if resp.content else ""
                    raise DownloadError(provider, shown, f"HTTP {status} {resp.reason}: {body!r}")
                else:
                    try:
                        return _store(resp, target, shown, provider, expect, validate)
                    except _Truncated as e:
                        cause = str(e)
                    except (requests.RequestException, OSError) as e:
                        if isinstance(e, DownloadError):
                            raise
                        cause = f"{type(e).__name__} while reading the body: {e}"
        if attempt < max_retries:
            log.warning("%s: %s for %s; retry %d/%d in %.1f s", provider, cause, shown,
                        attempt + 1, max_retries, wait)
            time.sleep(wait)
    raise DownloadError(provider, shown, f"{cause} (after {max_retries + 1} attempts)")


class _Truncated(Exception):
    pass


def _store(resp: requests.Response, target: Path, shown: str, provider: str,
           expect: str | None, validate) -> CachedResponse:
    expected_len = resp.headers.get("Content-Length")
    encoded = "Content-Encoding" in resp.headers and resp.headers["Content-Encoding"] != "identity"
    with atomic_write(target) as tmp:
        n = 0
        try:
            with open(tmp, "wb") as f:
                for chunk in resp.iter_content(chunk_size=1 << 16):
                    f.write(chunk)
                    n += len(chunk)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as e:
            raise _Truncated(f"truncated body ({type(e).__name__}: {e})") from e
        if expected_len is not None and not encoded:
            try:
                want = int(expected_len)
            except ValueError:
                want = None
            if want is not None and n != want:
                raise _Truncated(f"truncated body: got {n} of {want} bytes (Content-Length)")
        problem = _validate(tmp, expect)
        if problem is None and validate is not None:
            problem = validate(tmp)
        if problem is not None:
            raise DownloadError(provider, shown, problem)
    log.info("%s: downloaded %s (%d bytes) -> %s", provider, shown, n, target)
    return CachedResponse(target, shown, resp.status_code, False)


# --------------------------------------------------------------------------- paging
PAGING_STYLES = ("ogc", "odata", "sensorthings", "luchtmeetnet")
_ITEMS_KEY = {"ogc": "features", "odata": "value", "sensorthings": "value", "luchtmeetnet": "data"}


def page_items(doc: dict, style: str) -> list:
    """The records of one page of a paged JSON response."""
    items = doc.get(_ITEMS_KEY[style])
    if items is None and style == "odata":
        items = doc.get("d", {}).get("results") if isinstance(doc.get("d"), dict) else None
    return list(items or [])


def next_link(doc: dict, style: str) -> str | None:
    """URL of the next page (OGC ``links`` rel=next, ``odata.nextLink``, ``@iot.nextLink``)."""
    if style == "ogc":
        for link in doc.get("links", []) or []:
            if link.get("rel") == "next" and link.get("href"):
                t = link.get("type")
                if t is None or "json" in t:
                    return link["href"]
        return None
    if style == "odata":
        return doc.get("odata.nextLink") or doc.get("@odata.nextLink") or (
            doc.get("d", {}).get("__next") if isinstance(doc.get("d"), dict) else None)
    if style == "sensorthings":
        return doc.get("@iot.nextLink")
    raise ValueError(f"unknown paging style {style!r}; use one of {PAGING_STYLES}")


def get_json_paged(url: str, *, style: str, params: Mapping | None = None, provider: str,
                   cache_dir: str | Path, max_pages: int = 100_000, **kw) -> Iterator[tuple[CachedResponse, dict]]:
    """Yield ``(response, parsed page)`` for every page, following the provider's paging.

    ``style`` is ``"ogc"`` (OGC API Features ``links`` rel="next"), ``"odata"`` (OData v3
    ``odata.nextLink``), ``"sensorthings"`` (``@iot.nextLink``) or ``"luchtmeetnet"``
    (``pagination.current_page``/``last_page``, pages requested with ``page=N``).
    Every page is cached on its own; extra keywords go to :func:`get`.
    """
    if style not in PAGING_STYLES:
        raise ValueError(f"unknown paging style {style!r}; use one of {PAGING_STYLES}")
    kw.setdefault("expect", "json")
    if style == "luchtmeetnet":
        page = int((params or {}).get("page", 1))
        for _ in range(max_pages):
            p = {**(params or {}), "page": page}
            resp = get(url, params=p, provider=provider, cache_dir=cache_dir, **kw)
            doc = resp.json()
            yield resp, doc
            pag = doc.get("pagination") or {}
            last = pag.get("last_page")
            current = pag.get("current_page", page)
            if last is None or int(current) >= int(last):
                return
            page = int(current) + 1
        raise DownloadError(provider, url, f"more than {max_pages} pages; stopped")
    seen: set[str] = set()
    next_url, next_params = url, params
    for _ in range(max_pages):
        resp = get(next_url, params=next_params, provider=provider, cache_dir=cache_dir, **kw)
        doc = resp.json()
        yield resp, doc
        link = next_link(doc, style)
        if not link or not page_items(doc, style):
            return
        if link in seen:
            raise DownloadError(provider, link, "the next link repeats itself (paging loop)")
        seen.add(link)
        next_url, next_params = link, None
    raise DownloadError(provider, url, f"more than {max_pages} pages; stopped")


def get_all_items(url: str, *, style: str, **kw) -> tuple[list, list[CachedResponse]]:
    """All records over all pages, and the responses (for provenance)."""
    items: list = []
    responses: list[CachedResponse] = []
    for resp, doc in get_json_paged(url, style=style, **kw):
        items.extend(page_items(doc, style))
        responses.append(resp)
    return items, responses
