"""An owner's HTTP endpoint for webhook tools: records every request and answers by path —
`/echo` (JSON echo), `/text`, `/fail` (500), `/slow` (answers after 3 s), `/huge` (a body over
256 KiB), `/redirect` (307 to `/echo` on the same host), `/see-other` (303 to `/echo`), `/redirect-to/<host>` (302 to `/echo`
on another host of this port)."""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True, slots=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class WebhookTarget:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.received: list[Received] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def __enter__(self) -> Self:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        threading.Thread(
            target=functools.partial(server.serve_forever, poll_interval=0.05), daemon=True
        ).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _handler_for(target: WebhookTarget) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError):  # the caller gave up (timeout tests)
                self.wfile.write(body)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            received = Received(
                self.command,
                parts.path,
                dict(parse_qsl(parts.query)),
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length) if length else b"",
            )
            target.received.append(received)
            path = parts.path
            if path == "/echo":
                echo: dict[str, Any] = {"ok": True, "method": self.command}
                echo["arguments"] = json.loads(received.body) if received.body else received.query
                self._answer(200, json.dumps(echo).encode(), "application/json")
            elif path == "/text":
                self._answer(200, b"plain words", "text/plain")
            elif path == "/fail":
                self._answer(500, b'{"error":"boom"}', "application/json")
            elif path == "/slow":
                time.sleep(3)
                self._answer(200, b"{}", "application/json")
            elif path == "/huge":
                self._answer(200, json.dumps({"x": "a" * 300_000}).encode(), "application/json")
            elif path == "/redirect":
                self._answer(307, b"", "text/plain", Location="/echo")
            elif path == "/see-other":
                self._answer(303, b"", "text/plain", Location="/echo")
            elif path.startswith("/redirect-to/"):
                host = path.removeprefix("/redirect-to/")
                self._answer(302, b"", "text/plain", Location=f"http://{host}:{target.port}/echo")
            else:
                self._answer(404, b"{}", "application/json")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return _Handler
