"""The threaded HTTP server under the fake forges: routing, request log, injected faults, ETags.

Faults are queued per path pattern and consumed in order, so a test can say "the next request for
the pull request list answers 502, then the real thing" and the client's own retry is exercised.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class HttpError(Exception):
    """Raised by a route to answer with an error status and a JSON body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    target: str = ""


@dataclass
class Response:
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


@dataclass
class Fault:
    """One injected failure: an HTTP status with headers/body, or a body cut short ('truncated')."""

    pattern: re.Pattern[str]
    kind: str
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass
class LoggedRequest:
    method: str
    path: str  # without the API prefix or query
    status: int
    target: str = ""  # as requested: prefix, path and query (to replay it)
    if_none_match: str | None = None
    body: bytes = b""  # what a POST sent (a GraphQL query), to replay it


Route = tuple[str, re.Pattern[str], Callable[..., Response]]


class FakeServer:
    """Base class: subclasses add routes with `self.route(method, regex, handler)` and check auth."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.faults: list[Fault] = []
        self.log: list[LoggedRequest] = []
        self.lock = threading.RLock()
        self.httpd: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.port = 0  # 0: an ephemeral port; the demo fixes one so its URLs stay the same across runs
        self.latency = 0.0  # seconds before each answer: a slow forge, so a fault test can kill a harvest mid-way

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> FakeServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read server.log
                pass

            def handle_one(self) -> None:
                server.dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_one

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        # A short poll interval: shutdown() waits for the next poll, and tests stop servers often.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        assert self.httpd is not None, "server not started"
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    # --- configuration --------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Callable[..., Response]) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def fail_next(
        self,
        pattern: str,
        status: int = 0,
        *,
        kind: str = "status",
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests whose path matches `pattern` with this failure."""
        with self.lock:
            for _ in range(times):
                self.faults.append(Fault(re.compile(pattern), kind, status, dict(headers or {}), body))

    def requests_to(self, pattern: str) -> list[LoggedRequest]:
        rx = re.compile(pattern)
        with self.lock:
            return [r for r in self.log if rx.search(r.path)]

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()

    # --- hooks for subclasses -------------------------------------------------------------
    def authenticate(self, request: Request) -> None:
        """Raise HttpError(401) when the request's credential is not accepted."""

    def prefix(self) -> str:
        return ""

    # --- dispatch -------------------------------------------------------------------------
    def dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        if self.latency:
            time.sleep(self.latency)
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = parts.path
        if self.prefix() and path.startswith(self.prefix()):
            path = path[len(self.prefix()) :] or "/"
        request = Request(
            method=handler.command,
            path=path,
            query={k: v[-1] for k, v in parse_qs(parts.query).items()},
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            target=handler.path,
        )
        fault = self._take_fault(path)
        if fault is not None and fault.kind == "truncated":
            self._send_truncated(handler, request)
            return
        try:
            if fault is not None:
                raise HttpError(fault.status, fault.body, fault.headers)
            self.authenticate(request)
            response = self._route(request)
        except HttpError as exc:
            response = Response(exc.body, exc.headers, exc.status)
        self._send(handler, request, response)

    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for i, fault in enumerate(self.faults):
                if fault.pattern.search(path):
                    return self.faults.pop(i)
        return None

    def _route(self, request: Request) -> Response:
        allowed = False
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            allowed = True
            if method == request.method:
                with self.lock:
                    return handler(request, *match.groups())
        if allowed:
            raise HttpError(405, {"message": "Method Not Allowed"})
        raise HttpError(404, self.not_found_body())

    def not_found_body(self) -> Any:
        return {"message": "Not Found"}

    def _send(self, handler: BaseHTTPRequestHandler, request: Request, response: Response) -> None:
        status = response.status
        headers = dict(response.headers)
        data = b"" if response.body is None else json.dumps(response.body).encode()
        if status == 200 and request.method == "GET" and response.body is not None:
            etag = 'W/"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            headers["ETag"] = etag
            if request.headers.get("if-none-match") == etag:
                status, data = 304, b""
        with self.lock:
            self.log.append(
                LoggedRequest(
                    request.method,
                    request.path,
                    status,
                    request.target,
                    request.headers.get("if-none-match"),
                    request.body if request.method == "POST" else b"",
                )
            )
        handler.send_response(status)
        if status != 304:
            handler.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _send_truncated(self, handler: BaseHTTPRequestHandler, request: Request) -> None:
        """Promise a long body, send half of it, then hang up (a proxy or server dying mid-answer)."""
        with self.lock:
            self.log.append(LoggedRequest(request.method, request.path, 200, request.target))
        data = b'{"message": "this body is cut short", "items": [1, 2, 3'
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data) * 2))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
        handler.close_connection = True


def paginate(items: list[Any], request: Request, default_per_page: int = 30) -> tuple[list[Any], int, int, int]:
    """Slice a list the way both forges do: page (1-based) and per_page (max 100)."""
    per_page = max(1, min(100, int(request.query.get("per_page", default_per_page))))
    page = max(1, int(request.query.get("page", 1)))
    pages = max(1, -(-len(items) // per_page))
    start = (page - 1) * per_page
    return items[start : start + per_page], page, pages, per_page


def page_url(base: str, request: Request, page: int) -> str:
    query = dict(request.query)
    query["page"] = str(page)
    return base + "?" + "&".join(f"{k}={v}" for k, v in sorted(query.items()))


def link_header(base: str, request: Request, page: int, pages: int) -> str:
    """RFC 8288 Link header with next/last/first/prev, as both forges send it."""
    links = []
    if page < pages:
        links.append(f'<{page_url(base, request, page + 1)}>; rel="next"')
        links.append(f'<{page_url(base, request, pages)}>; rel="last"')
    if page > 1:
        links.append(f'<{page_url(base, request, 1)}>; rel="first"')
        links.append(f'<{page_url(base, request, page - 1)}>; rel="prev"')
    return ", ".join(links)


def epoch_in(seconds: float) -> str:
    return str(int(time.time() + seconds))
