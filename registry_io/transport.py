"""What both drivers do around an HTTP exchange, apart from awaiting or blocking on it.

Building the httpx request from a core `Request`, turning the httpx response into a core
`Response` (a capped body, or a count and digest of what went into a `FileSink`), counting the
bytes of an upload for progress, and translating the HTTP stack's failures into the error tree.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from registry_proto import (
    BlobProgress,
    BytesBody,
    ConnectFailure,
    EmptyBody,
    FileSink,
    FileSlice,
    Headers,
    Request,
    Response,
    ResponseTooLarge,
    TimedOut,
    TransportFailure,
)

from .files import SinkWriter

__all__ = [
    "Answer",
    "UploadProgress",
    "map_transport_errors",
    "outgoing",
    "upload_progress",
]

Listener = Callable[[Any], object]


def outgoing(
    client: httpx.Client | httpx.AsyncClient,
    request: Request,
    stream: Callable[[FileSlice], Iterator[bytes] | AsyncIterator[bytes]],
    timeout: httpx.Timeout | None = None,
) -> httpx.Request:
    """The httpx request for `request`, a file slice's bytes coming from `stream`, with the
    client's timeouts unless `timeout` is given.

    Redirects are the flows' business, never httpx's: the driver sends with them off.
    """
    body = request.body
    content: bytes | Iterator[bytes] | AsyncIterator[bytes] | None
    if isinstance(body, EmptyBody):
        content = None
    elif isinstance(body, BytesBody):
        content = body.data
    else:
        content = stream(body)
    return client.build_request(
        request.method,
        request.url,
        headers=list(request.headers),
        content=content,
        timeout=timeout if timeout is not None else client.timeout,
    )


class Answer:
    """A core `Response` being built from an httpx response, whichever way it is read.

    The driver reads the body and hands each piece to `add` (capped at the request's
    `max_response_bytes`), or, when `sink` is set, writes it through a `SinkWriter`.
    """

    def __init__(self, request: Request, response: httpx.Response) -> None:
        self.received_at = time.monotonic()
        self._status = response.status_code
        self._headers = Headers(tuple(response.headers.multi_items()))
        wanted = request.response_body
        self.sink = (
            wanted if isinstance(wanted, FileSink) and self._status in wanted.statuses else None
        )
        self.keep_body = self.sink is None and wanted != "discard"
        self._limit = request.max_response_bytes
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            raise ResponseTooLarge(f"response body larger than {self._limit} bytes")
        self._parts.append(chunk)

    def response(self) -> Response:
        return Response(
            status=self._status,
            headers=self._headers,
            body=b"".join(self._parts),
            received_at=self.received_at,
        )

    def written(self, writer: SinkWriter, digest: str) -> Response:
        return Response(
            status=self._status,
            headers=self._headers,
            received_at=self.received_at,
            written=writer.written,
            written_sha256=digest,
        )


class UploadProgress:
    """Counts the bytes of one upload body as they go out, telling `listener`."""

    def __init__(self, listener: Listener, key: str, total: int) -> None:
        self._listener = listener
        self._key = key
        self._total = total
        self._sent = 0

    def sent(self, chunk: bytes) -> None:
        self._sent += len(chunk)
        self._listener(BlobProgress(self._key, self._sent, self._total))


def upload_progress(listener: Listener | None, request: Request) -> UploadProgress | None:
    """A counter for `request`'s body when someone listens and the core asked for one."""
    if listener is None or request.progress_key is None or not isinstance(request.body, FileSlice):
        return None
    return UploadProgress(listener, request.progress_key, request.body.length)


@contextmanager
def map_transport_errors(request: Request) -> Iterator[None]:
    """Translate the HTTP stack's failures into the core's `TransportFailure`, in one place.

    TLS failures (an untrusted certificate, a refused client certificate) and connections that
    cannot be made are `ConnectFailure`s; a read, write or wait for a pooled connection that
    ran out of time is `TimedOut`. Each failure says when it happened, on the clock of
    `Response.received_at`.
    """
    try:
        yield
    except (httpx.TransportError, ssl.SSLError, OSError) as exc:
        tls = _find(exc, ssl.SSLError)
        kind: type[TransportFailure] = TransportFailure
        if tls is not None or _connect_error(exc):
            kind = ConnectFailure
        elif isinstance(exc, httpx.TimeoutException):
            kind = TimedOut
        reason = _describe(tls or exc)
        raise kind(
            f"{request!r}: {'TLS: ' if tls is not None else ''}{reason}",
            failed_at=time.monotonic(),
        ) from exc


def _find(exc: BaseException, kind: type[ssl.SSLError]) -> ssl.SSLError | None:
    """The first `kind` in `exc`'s chain of causes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _connect_error(exc: BaseException) -> bool:
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.UnsupportedProtocol)


def _describe(exc: BaseException) -> str:
    """`Type: message`, taking the message from the causes when the error itself has none
    (trio's connection errors come empty)."""
    current: BaseException | None = exc
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        text = str(current).strip()
        if text:
            return f"{type(exc).__name__}: {text}"
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return type(exc).__name__
