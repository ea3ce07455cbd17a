"""The in-memory registry behind `httpx.MockTransport`, for the real drivers.

The blocking driver sends `Parallel` children from worker threads, so one lock serialises
access to the registry model (which is plain, single-threaded Python).
"""

from __future__ import annotations

import socket
import threading

import httpx

from registry_proto import BytesBody, EmptyBody, Headers, Request, Response
from registry_proto.testing import FakeRegistry


class MockRegistry:
    """Adapts `FakeRegistry.handle` to httpx's sync and async mock transport handlers."""

    def __init__(self, fake: FakeRegistry | None = None) -> None:
        self.fake = fake if fake is not None else FakeRegistry()
        self._lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        return self._answer(request, request.read())

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        return self._answer(request, await request.aread())

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def async_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.ahandle)

    def _answer(self, request: httpx.Request, content: bytes) -> httpx.Response:
        converted = Request(
            method=request.method,
            url=str(request.url),
            headers=Headers(tuple(request.headers.multi_items())),
            body=BytesBody(content) if content else EmptyBody(),
        )
        with self._lock:
            response: Response = self.fake.handle(converted)
        return httpx.Response(
            response.status, headers=list(response.headers.items), content=response.body
        )


def closed_port() -> int:
    """A loopback port nothing listens on: the kernel gave it out, and it was closed again."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
