"""What both drivers do around an HTTP exchange, apart from awaiting or blocking on it.

Building the httpx request from a core `Request`, turning the httpx response into a core
`Response` (a capped body, or a count and digest of what went into a `FileSink`), counting the
bytes of a blob sent or received for progress, translating the HTTP stack's failures into the
error tree, and logging each exchange (`exchange`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

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

from .files import CHUNK_SIZE, SinkWriter, Streamed
from .logs import logger

# Imported where used: by then a client has imported them (docs/performance.md).
if TYPE_CHECKING:
    import ssl

    import httpx

__all__ = [
    "Answer",
    "ByteProgress",
    "Exchange",
    "download_progress",
    "exchange",
    "map_transport_errors",
    "outgoing",
    "upload_progress",
]

_log = logger("http")
# Request bodies up to this size are handed to httpx as they are; larger ones as a stream.
_INLINE_BODY = 64 * 1024

Listener = Callable[[Any], object]


def outgoing(
    client: httpx.Client | httpx.AsyncClient,
    request: Request,
    stream: Callable[[Streamed], Iterator[bytes] | AsyncIterator[bytes]],
    timeout: httpx.Timeout | None = None,
) -> httpx.Request:
    """The httpx request for `request`, a file slice's bytes or a large body coming from
    `stream`, with the client's timeouts unless `timeout` is given.

    httpx keeps each response in a reference cycle, with its request and so the request's
    content, until the garbage collector runs, which a transfer of a few large objects seldom
    triggers: a large in-memory body (a compressed chunk) goes as a one-piece stream, which
    lets go of its bytes once they are sent, so memory stays flat over many chunks.

    Redirects are the flows' business, never httpx's: the driver sends with them off.
    """
    body = request.body
    content: bytes | Iterator[bytes] | AsyncIterator[bytes] | None
    if isinstance(body, EmptyBody):
        content = None
    elif isinstance(body, BytesBody) and body.length <= _INLINE_BODY:
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
            written_digest=digest,
        )


class ByteProgress:
    """Counts the bytes of one blob's body as they go out or come in, telling `listener`
    about once a MiB and when the last byte is counted."""

    def __init__(
        self,
        listener: Listener,
        key: str,
        total: int,
        direction: Literal["upload", "download"],
    ) -> None:
        self._listener = listener
        self._key = key
        self._total = total
        self._direction = direction
        self._done = 0
        self._told = 0

    def add(self, chunk: bytes) -> None:
        self._done += len(chunk)
        if self._done - self._told >= CHUNK_SIZE or self._done >= self._total:
            self._told = self._done
            self._listener(BlobProgress(self._key, self._done, self._total, self._direction))


def upload_progress(listener: Listener | None, request: Request) -> ByteProgress | None:
    """A counter for `request`'s body when someone listens and the core asked for one."""
    if listener is None or request.progress_key is None or not isinstance(request.body, FileSlice):
        return None
    return ByteProgress(listener, request.progress_key, request.body.length, "upload")


def download_progress(
    listener: Listener | None, request: Request, sink: FileSink
) -> ByteProgress | None:
    """A counter for the body being written into `sink`, when someone listens and the core
    asked for one."""
    if listener is None or request.progress_key is None:
        return None
    return ByteProgress(listener, request.progress_key, sink.length, "download")


class Exchange:
    """One request on its way: when it started, and the status it got."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.started = time.monotonic()
        self.status: int | None = None

    def answer(self, response: httpx.Response) -> Answer:
        """The `Answer` being built from `response`."""
        self.status = response.status_code
        return Answer(self.request, response)

    def log(self, failure: BaseException | None = None) -> None:
        """One DEBUG line: method, URL without secrets, status (or failure), elapsed time."""
        if not _log.isEnabledFor(logging.DEBUG):
            return
        request = self.request
        elapsed = time.monotonic() - self.started
        details = {"method": request.method, "url": request.display_url, "elapsed": elapsed}
        if failure is None or self.status is not None:
            outcome = "" if failure is None else f" ({type(failure).__name__})"
            _log.debug(
                "%s %s -> %s in %.3fs%s",
                request.method,
                request.display_url,
                self.status,
                elapsed,
                outcome,
                extra={**details, "status": self.status},
            )
        else:
            _log.debug(
                "%s %s failed after %.3fs: %s",
                request.method,
                request.display_url,
                elapsed,
                failure,
                extra=details,
            )


@contextmanager
def exchange(request: Request) -> Iterator[Exchange]:
    """Around one request: its transport failures translated (`map_transport_errors`), and a
    DEBUG line logged under `registry_api_v2_client.http` when it ends, in both drivers."""
    sent = Exchange(request)
    try:
        with map_transport_errors(request):
            yield sent
    except Exception as exc:
        sent.log(exc)
        raise
    sent.log()


# What OpenSSL says when the answer to a TLS handshake is plain HTTP (OpenSSL 3.2 and later
# name it a record layer failure).
_PLAIN_HTTP_REASONS = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE"})


@contextmanager
def map_transport_errors(request: Request) -> Iterator[None]:
    """Translate the HTTP stack's failures into the core's `TransportFailure`, in one place.

    TLS failures (an untrusted certificate, a refused client certificate), connections that
    cannot be made and URLs that cannot be sent (a host the resolver refuses; the core lets
    none through that it knows to be invalid) are `ConnectFailure`s: trying again would meet
    the same refusal. A TLS handshake answered in plain HTTP says which URL to use instead. A
    read, write or wait for a pooled connection that ran out of time is `TimedOut`. Each
    failure says when it happened, on the clock of `Response.received_at`.
    """
    import ssl

    import httpx

    try:
        yield
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise ConnectFailure(f"{request!r}: cannot be sent: {exc}") from exc
    except (httpx.TransportError, ssl.SSLError, OSError) as exc:
        tls = _find(exc, ssl.SSLError)
        kind: type[TransportFailure] = TransportFailure
        if tls is not None or _connect_error(exc):
            kind = ConnectFailure
        elif isinstance(exc, httpx.TimeoutException):
            kind = TimedOut
        reason = _describe(tls or exc)
        if tls is not None and getattr(tls, "reason", None) in _PLAIN_HTTP_REASONS:
            host = urlsplit(request.url).netloc.rpartition("@")[2]
            raise kind(
                f"{request!r}: TLS handshake failed: is this a plain-HTTP registry? "
                f"use http://{host} ({reason})",
                failed_at=time.monotonic(),
            ) from exc
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
    import httpx

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
