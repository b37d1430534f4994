"""A small threaded HTTP server on 127.0.0.1 with an ephemeral port, for the sandboxes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# (method, path, query, headers) -> (status, JSON body)
Handler = Callable[[str, str, dict[str, list[str]], dict[str, str]], tuple[int, Any]]


class LoopbackServer:
    def __init__(self, handle: Handler, port: int = 0) -> None:
        self._handle = handle
        self.port = port  # 0: an ephemeral port; the demo fixes one so its URLs stay the same across runs
        self._server: ThreadingHTTPServer | None = None
        self.requests: list[tuple[str, str]] = []  # (method, path) as received, for tests to inspect

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LoopbackServer:
        owner = self

        class RequestHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                owner.requests.append(("GET", parts.path))
                status, body = owner._handle("GET", parts.path, parse_qs(parts.query), dict(self.headers))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), RequestHandler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
