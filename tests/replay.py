"""A local HTTP server that replays canned responses and records the requests it received.

Usage::

    with ReplayServer() as srv:
        srv.add("/items", json={"features": []})                 # every GET /items
        srv.add("/flaky", status=429, headers={"Retry-After": "0"}, times=1)  # first call only
        srv.add("/flaky", json={"ok": True})
        url = srv.url("/items")
        ...
        assert srv.requests[0].path == "/items"

Routes are matched on the path (and, when given, on a subset of the query parameters); the first
matching route with calls left answers. ``truncate=N`` announces the full Content-Length but sends
only N bytes and closes the connection.
"""

from __future__ import annotations

import json as _json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Route:
    path: str
    body: bytes
    status: int = 200
    headers: dict = field(default_factory=dict)
    query: dict | None = None
    times: int | None = None  # None = unlimited
    truncate: int | None = None
    callback: object = None   # callable(request) -> (status, headers, body)


@dataclass
class Request:
    path: str
    query: dict
    raw: str  # path + "?" + query string as received

    def param(self, name):
        v = self.query.get(name)
        return v[0] if v else None


class ReplayServer:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # keep test output quiet
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                req = Request(parts.path, parse_qs(parts.query, keep_blank_values=True), self.path)
                with server._lock:
                    server.requests.append(req)
                    route = server._match(req)
                if route is None:
                    body = b'{"error": "no canned response"}'
                    self.send_response(404)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                status, headers, body = route.status, dict(route.headers), route.body
                if route.callback is not None:
                    status, headers, body = route.callback(req)
                self.send_response(status)
                headers.setdefault("Content-Type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                if route.truncate is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                if route.truncate is not None:
                    self.wfile.write(body[: route.truncate])
                    self.wfile.flush()
                    self.close_connection = True
                else:
                    self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # ------------------------------------------------------------------ routes
    def add(self, path: str, *, json=None, body: bytes | str | None = None, status: int = 200,
            headers: dict | None = None, query: dict | None = None, times: int | None = None,
            truncate: int | None = None, callback=None) -> Route:
        if json is not None:
            body = _json.dumps(json).encode()
        elif isinstance(body, str):
            body = body.encode()
        route = Route(path, body or b"", status, dict(headers or {}), query, times, truncate, callback)
        self.routes.append(route)
        return route

    def _match(self, req: Request) -> Route | None:
        for r in self.routes:
            if r.path != req.path:
                continue
            if r.query and any(req.param(k) != str(v) for k, v in r.query.items()):
                continue
            if r.times is not None:
                if r.times <= 0:
                    continue
                r.times -= 1
            return r
        return None

    def url(self, path: str = "") -> str:
        return self.base + path

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "ReplayServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
