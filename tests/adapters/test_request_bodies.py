"""Request bodies on the wire: an in-memory body of any size arrives byte for byte with its
`Content-Length` (never chunked), and a large one is handed to httpx as a stream, so that httpx,
which keeps a request in a reference cycle with its response until the garbage collector runs,
does not hold its bytes once sent (a compressed upload sends many such chunks)."""

from __future__ import annotations

import gc
import hashlib
import random
import sys

import anyio
import httpx
import pytest

from registry_async._driver import AsyncDriver
from registry_proto import BytesBody, Flow, Headers, Request, Response, http
from registry_sync._driver import SyncDriver

URL = "http://registry.test:5000/v2/app/blobs/uploads/1"
SIZES = [0, 10, 64 * 1024, 3 * 1024 * 1024 + 7]


class Wire(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Takes each request's body as a server would, keeping only its headers and digest."""

    def __init__(self) -> None:
        self.seen: list[tuple[httpx.Headers, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        digest = hashlib.sha256()
        for part in request.stream:  # type: ignore[union-attr]
            digest.update(part)
        self.seen.append((request.headers, digest.hexdigest()))
        return httpx.Response(202)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        digest = hashlib.sha256()
        async for part in request.stream:  # type: ignore[union-attr]
            digest.update(part)
        self.seen.append((request.headers, digest.hexdigest()))
        return httpx.Response(202)


def patch(size: int) -> Request:
    data = random.Random(size).randbytes(size)
    headers = Headers.of({"Content-Length": str(size)})
    return Request(method="PATCH", url=URL, headers=headers, body=BytesBody(data))


def one(request: Request) -> Flow[Response]:
    return (yield from http(request))


def check(request: Request, wire: Wire, response: Response) -> None:
    assert response.status == 202
    ((headers, digest),) = wire.seen
    assert isinstance(request.body, BytesBody)
    assert digest == hashlib.sha256(request.body.data).hexdigest()
    assert headers["Content-Length"] == str(request.body.length)
    assert "Transfer-Encoding" not in headers


@pytest.mark.parametrize("size", SIZES)
def test_blocking_driver_sends_bodies_whole(size: int) -> None:
    request, wire = patch(size), Wire()
    with httpx.Client(transport=wire) as client:
        check(request, wire, SyncDriver(client).run(one(request)))


@pytest.mark.parametrize("size", SIZES)
def test_async_driver_sends_bodies_whole(size: int) -> None:
    async def main() -> None:
        request, wire = patch(size), Wire()
        async with httpx.AsyncClient(transport=wire) as client:
            check(request, wire, await AsyncDriver(client).run(one(request)))

    anyio.run(main)


def test_a_large_body_is_not_held_once_sent() -> None:
    gc.disable()  # as between two of the collector's rare runs during a transfer
    try:
        request = patch(SIZES[-1])
        assert isinstance(request.body, BytesBody)
        data = request.body.data
        with httpx.Client(transport=Wire()) as client:
            SyncDriver(client).run(one(request))
            del request
            assert sys.getrefcount(data) == 2  # `data`, and getrefcount's own argument
    finally:
        gc.enable()
