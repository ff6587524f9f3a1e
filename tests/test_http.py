"""healthgeo._http against a local replay server (no internet)."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from healthgeo import _http
from healthgeo._errors import DownloadError


pytestmark = pytest.mark.usefixtures("fast_http")


def test_get_caches_and_cache_hit_makes_no_request(srv, tmp_path):
    srv.add("/a", json={"x": 1})
    r1 = _http.get(srv.url("/a"), params={"b": 2, "a": 1}, provider="p", cache_dir=tmp_path, expect="json")
    assert not r1.from_cache and r1.json() == {"x": 1}
    assert r1.path == tmp_path / "p" / (_http.cache_key(srv.url("/a"), {"a": 1, "b": 2}) + ".json")
    assert srv.requests[0].raw == "/a?a=1&b=2"
    r2 = _http.get(srv.url("/a"), params={"a": 1, "b": 2}, provider="p", cache_dir=tmp_path, expect="json")
    assert r2.from_cache and r2.path == r1.path
    assert len(srv.requests) == 1


def test_429_with_retry_after_then_success(srv, tmp_path):
    srv.add("/r", status=429, headers={"Retry-After": "1"}, body="slow down", times=1)
    srv.add("/r", json={"ok": True})
    t0 = time.monotonic()
    r = _http.get(srv.url("/r"), provider="p", cache_dir=tmp_path, expect="json")
    assert r.json() == {"ok": True}
    assert len(srv.requests) == 2
    assert time.monotonic() - t0 >= 0.9  # honoured Retry-After: 1


def test_retry_after_http_date_is_capped(monkeypatch):
    monkeypatch.setattr(_http, "RETRY_AFTER_MAX", 5.0)
    assert _http._retry_after("Wed, 21 Oct 2099 07:28:00 GMT") == 5.0
    assert _http._retry_after("3") == 3.0
    assert _http._retry_after("garbage") is None


def test_500_forever_raises_after_retries(srv, tmp_path):
    srv.add("/boom", status=500, body="oops")
    with pytest.raises(DownloadError) as ei:
        _http.get(srv.url("/boom"), provider="prov", cache_dir=tmp_path, max_retries=3, expect="json")
    assert len(srv.requests) == 4
    e = ei.value
    assert e.provider == "prov" and "/boom" in e.url and "500" in e.cause
    assert not list(tmp_path.rglob("*.json"))


def test_404_fails_at_once(srv, tmp_path):
    srv.add("/missing", status=404, body="nope")
    with pytest.raises(DownloadError, match="404"):
        _http.get(srv.url("/missing"), provider="p", cache_dir=tmp_path, max_retries=3)
    assert len(srv.requests) == 1


def test_truncated_body_raises_and_leaves_no_file(srv, tmp_path):
    srv.add("/t", json={"features": list(range(1000))}, truncate=100)
    with pytest.raises(DownloadError) as ei:
        _http.get(srv.url("/t"), provider="p", cache_dir=tmp_path, max_retries=1, expect="json")
    assert "truncated" in ei.value.cause
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_invalid_json_raises_and_leaves_no_file(srv, tmp_path):
    srv.add("/html", body="<html>maintenance</html>")
    with pytest.raises(DownloadError, match="not valid JSON"):
        _http.get(srv.url("/html"), provider="p", cache_dir=tmp_path, expect="json")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_corrupted_zip_raises(srv, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.asc", "x" * 1000)
    data = bytearray(buf.getvalue())
    data[40:60] = b"\x00" * 20  # damage the member data
    srv.add("/f.zip", body=bytes(data), headers={"Content-Type": "application/zip"})
    with pytest.raises(DownloadError, match="zip"):
        _http.get(srv.url("/f.zip"), provider="p", cache_dir=tmp_path, expect="zip")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_token_bucket_throttles():
    b = _http.TokenBucket(2, 0.2)  # 10 / s
    t0 = time.monotonic()
    for _ in range(4):
        b.acquire()
    assert time.monotonic() - t0 >= 0.15


@pytest.mark.parametrize("style", ["ogc", "odata", "sensorthings"])
def test_paging_followed_to_the_end(srv, tmp_path, style):
    key = {"ogc": "features", "odata": "value", "sensorthings": "value"}[style]

    def page(n, nxt):
        doc = {key: [{"i": n * 10 + k} for k in range(2)]}
        if nxt:
            link = srv.url(f"/items?page={n + 1}")
            if style == "ogc":
                doc["links"] = [{"rel": "self", "href": srv.url("/items")},
                                {"rel": "next", "type": "application/geo+json", "href": link}]
            elif style == "odata":
                doc["odata.nextLink"] = link
            else:
                doc["@iot.nextLink"] = link
        return doc

    srv.add("/items", json=page(2, False), query={"page": "2"})
    srv.add("/items", json=page(1, True), query={"page": "1"})
    srv.add("/items", json=page(0, True))
    items, resps = _http.get_all_items(srv.url("/items"), style=style, params={"limit": 2},
                                       provider="p", cache_dir=tmp_path)
    assert [i["i"] for i in items] == [0, 1, 10, 11, 20, 21]
    assert len(resps) == 3 and len(srv.requests) == 3


def test_paging_empty_result(srv, tmp_path):
    srv.add("/items", json={"type": "FeatureCollection", "features": [], "links": []})
    items, resps = _http.get_all_items(srv.url("/items"), style="ogc", provider="p", cache_dir=tmp_path)
    assert items == [] and len(resps) == 1


def test_luchtmeetnet_pagination(srv, tmp_path):
    for n in (1, 2, 3):
        srv.add("/open_api/stations", query={"page": n},
                json={"pagination": {"current_page": n, "first_page": 1, "last_page": 3,
                                     "next_page": min(n + 1, 3), "prev_page": max(n - 1, 1),
                                     "page_list": [1, 2, 3]},
                      "data": [{"number": f"NL{n}", "location": "x"}]})
    items, _ = _http.get_all_items(srv.url("/open_api/stations"), style="luchtmeetnet",
                                   provider="luchtmeetnet", cache_dir=tmp_path)
    assert [i["number"] for i in items] == ["NL1", "NL2", "NL3"]
    assert [r.raw for r in srv.requests] == [f"/open_api/stations?page={n}" for n in (1, 2, 3)]
