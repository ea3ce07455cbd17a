"""The blocking driver: performs a flow's effects with `httpx.Client` and a thread pool.

It holds no registry knowledge: it sends the requests it is given, reads files it is pointed
at, and runs `Parallel` children on threads.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, TypeVar, assert_never

import httpx

from registry_proto import (
    BlobProgress,
    BytesBody,
    ConnectFailure,
    Decompress,
    Effect,
    Emit,
    EmptyBody,
    FileSink,
    FileSlice,
    Flow,
    Headers,
    MoveFile,
    Offload,
    Parallel,
    ReadFile,
    RemoveFile,
    Request,
    Response,
    ResponseTooLarge,
    Sleep,
    TempFile,
    TransportFailure,
    WriteFile,
)

from ._files import (
    SinkWriter,
    create_temp,
    iter_slice,
    move_into_place,
    read_range,
    remove_quietly,
    spool_decompressed,
    write_at,
)

__all__ = ["SyncDriver", "map_transport_errors"]

T = TypeVar("T")


@contextmanager
def map_transport_errors(request: Request) -> Iterator[None]:
    """Translate the HTTP stack's failures into the core's `TransportFailure`, in one place.

    TLS failures (an untrusted certificate, a refused client certificate) and connections that
    cannot be made are `ConnectFailure`s: trying again would meet the same refusal.
    """
    try:
        yield
    except (httpx.TransportError, ssl.SSLError, OSError) as exc:
        tls = _find(exc, ssl.SSLError)
        kind = ConnectFailure if tls is not None or _connect_error(exc) else TransportFailure
        reason = _describe(tls or exc)
        raise kind(f"{request!r}: {'TLS: ' if tls is not None else ''}{reason}") from exc


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


class SyncDriver:
    """Runs flows to completion, blocking the calling thread.

    `Parallel` children run on up to `max_workers` threads each; a thread cannot be
    interrupted, so when one child fails the others still running are waited for, and the
    ones not yet started are skipped.
    """

    def __init__(
        self,
        client: httpx.Client | None,
        *,
        max_workers: int = 8,
        on_event: Callable[[Any], object] | None = None,
    ) -> None:
        self._client = client
        self._max_workers = max_workers
        self._on_event = on_event

    def run(self, flow: Flow[T]) -> T:
        """Drive `flow` to its result; errors it raises propagate unchanged.

        Temporary files the flow asked for (decompressed archives) are removed at the end.
        """
        temporary: list[str] = []
        try:
            return self._run(flow, temporary)
        finally:
            remove_quietly(temporary)

    def _run(self, flow: Flow[T], temporary: list[str]) -> T:
        value: Any = None
        error: BaseException | None = None
        try:
            while True:
                try:
                    effect = flow.throw(error) if error is not None else flow.send(value)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                value, error = None, None
                try:
                    value = self._perform(effect, temporary)
                except Exception as exc:  # thrown into the flow, which decides
                    error = exc
        finally:
            flow.close()

    def _perform(self, effect: Effect, temporary: list[str]) -> Any:
        if isinstance(effect, Request):
            return self._send(effect)
        if isinstance(effect, ReadFile):
            return read_range(effect.path, effect.offset, effect.length)
        if isinstance(effect, Offload):
            return effect.function(*effect.args)
        if isinstance(effect, Decompress):
            path = spool_decompressed(effect.path, effect.codec)
            temporary.append(path)
            return path
        if isinstance(effect, TempFile):
            path = create_temp(effect.directory, effect.suffix)
            temporary.append(path)
            return path
        if isinstance(effect, WriteFile):
            write_at(effect.path, effect.offset, effect.data)
            return None
        if isinstance(effect, MoveFile):
            move_into_place(effect.source, effect.destination)
            return None
        if isinstance(effect, RemoveFile):
            remove_quietly([effect.path])
            return None
        if isinstance(effect, Parallel):
            return self._parallel(effect, temporary)
        if isinstance(effect, Sleep):
            time.sleep(effect.seconds)
            return None
        if isinstance(effect, Emit):
            if self._on_event is not None:
                self._on_event(effect.event)
            return None
        assert_never(effect)

    def _send(self, request: Request) -> Response:
        if self._client is None:
            raise TransportFailure("this driver has no HTTP client")
        content: bytes | Iterator[bytes] | None
        body = request.body
        if isinstance(body, EmptyBody):
            content = None
        elif isinstance(body, BytesBody):
            content = body.data
        elif isinstance(body, FileSlice):
            content = iter_slice(body)
            if self._on_event is not None and request.progress_key is not None:
                content = self._reporting(content, request.progress_key, body.length)
        else:
            assert_never(body)
        with map_transport_errors(request):
            outgoing = self._client.build_request(
                request.method, request.url, headers=list(request.headers), content=content
            )
            response = self._client.send(outgoing, stream=True, follow_redirects=False)
            try:
                received_at = time.monotonic()
                headers = Headers(tuple(response.headers.multi_items()))
                sink = request.response_body
                if isinstance(sink, FileSink) and response.status_code in sink.statuses:
                    writer = SinkWriter(sink)
                    try:
                        for chunk in response.iter_bytes():
                            writer.write(chunk)
                    finally:
                        digest = writer.close()
                    return Response(
                        status=response.status_code,
                        headers=headers,
                        received_at=received_at,
                        written=writer.written,
                        written_sha256=digest,
                    )
                data = b""
                if request.response_body != "discard":
                    data = _read_capped(response.iter_bytes(), request.max_response_bytes)
                return Response(
                    status=response.status_code,
                    headers=headers,
                    body=data,
                    received_at=received_at,
                )
            finally:
                response.close()

    def _reporting(self, chunks: Iterator[bytes], key: str, total: int) -> Iterator[bytes]:
        """Pass `chunks` on, telling the listener how many bytes went out."""
        assert self._on_event is not None
        sent = 0
        for chunk in chunks:
            yield chunk
            sent += len(chunk)
            self._on_event(BlobProgress(key, sent, total))

    def _parallel(self, effect: Parallel, temporary: list[str]) -> list[Any]:
        workers = max(1, min(effect.limit, len(effect.flows), self._max_workers))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="registry") as pool:
            futures: list[Future[Any]] = [
                pool.submit(self._run, child, temporary) for child in effect.flows
            ]
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                future.cancel()  # children not started yet are skipped after a failure
            wait(futures)
        errors: list[Exception] = []
        for future in futures:
            exc = None if future.cancelled() else future.exception()
            if isinstance(exc, Exception):
                errors.append(exc)
            elif exc is not None:
                raise exc  # not an error to report but an interruption: let it through
        if errors:
            raise ExceptionGroup("parallel registry operations failed", errors)
        return [future.result() for future in futures]


def _read_capped(chunks: Iterator[bytes], limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge(f"response body larger than {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)
