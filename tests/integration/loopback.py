"""A tiny threaded HTTP(S) server on a free 127.0.0.1 port, answering through a callback.

Tests use it to stand in for token servers, odd registries and redirect targets. Every request
is recorded, with the status it was answered with, before the answer goes out, so a client that
has its response can rely on the record being there.
"""

from __future__ import annotations

import dataclasses
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

from tests.integration.lifecycle import Serving, Started

# An idle connection is dropped after this many seconds, so stopping never waits long.
_SOCKET_TIMEOUT = 10.0


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it, and the status it answered with."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    status: int = 0

    @property
    def authorized(self) -> bool:
        """Whether the request carried an ``Authorization`` header."""
        return "authorization" in self.headers

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name``, if any."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Reply:
    """What to answer."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[RecordedRequest], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True
    owner: LoopbackServer

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up (or fails the TLS handshake) is not the server's problem.
        return


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    timeout = _SOCKET_TIMEOUT
    # HTTP/1.0: one request per connection, so no handler thread lingers on an idle socket.
    protocol_version = "HTTP/1.0"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        owner = self.server.owner
        try:
            reply = owner.handler(request)
        except Exception as exc:  # shown to the test through `errors`
            owner.record_error(exc)
            reply = Reply(500, b"handler failed")
        owner.record(dataclasses.replace(request, status=reply.status))
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: object) -> None:
        return


class LoopbackServer(Started):
    """Serve ``handler`` on 127.0.0.1 (over TLS with ``ssl_context``) in a background thread."""

    def __init__(self, handler: Handler, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self._ssl_context = ssl_context
        self._serving: Serving | None = None
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._errors: list[BaseException] = []

    @property
    def port(self) -> int:
        if self._serving is None:
            raise RuntimeError("loopback server is not running")
        return self._serving.port

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{self.host}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request answered so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions the handler raised (each was answered with a 500)."""
        with self._lock:
            return list(self._errors)

    def clear(self) -> None:
        """Forget the requests recorded so far."""
        with self._lock:
            self._requests.clear()

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def record_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    def start(self) -> Self:
        server = _Server(("127.0.0.1", 0), _RequestHandler)
        server.owner = self
        if self._ssl_context is not None:
            # The handshake happens in the handler thread, on the first read.
            server.socket = self._ssl_context.wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._serving = Serving(server)
        return self

    def stop(self) -> None:
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.shut()
