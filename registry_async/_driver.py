"""The async driver: performs a flow's effects with anyio and `httpx.AsyncClient`.

The same code runs under asyncio and trio. `Parallel` children run in a task group behind a
capacity limiter; when one fails, the task group cancels the others. Cancellation is never
thrown into a flow: the flow is closed, and its `finally` blocks run.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar, assert_never

import anyio
import anyio.to_thread
import httpx

from registry_proto import (
    BlobProgress,
    BytesBody,
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
    TarReadError,
    TempFile,
    TransportFailure,
    WriteFile,
)
from registry_sync._driver import map_transport_errors
from registry_sync._files import (
    CHUNK_SIZE,
    SinkWriter,
    create_temp,
    move_into_place,
    read_range,
    remove_quietly,
    spool_decompressed,
    write_at,
)

__all__ = ["AsyncDriver"]

T = TypeVar("T")


class AsyncDriver:
    """Runs flows to completion on the current event loop (asyncio or trio)."""

    def __init__(
        self,
        client: httpx.AsyncClient | None,
        *,
        on_event: Callable[[Any], object] | None = None,
    ) -> None:
        self._client = client
        self._on_event = on_event

    async def run(self, flow: Flow[T]) -> T:
        """Drive `flow` to its result; errors it raises propagate unchanged.

        Temporary files the flow asked for (decompressed archives) are removed at the end.
        """
        temporary: list[str] = []
        try:
            return await self._run(flow, temporary)
        finally:
            remove_quietly(temporary)

    async def _run(self, flow: Flow[T], temporary: list[str]) -> T:
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
                    value = await self._perform(effect, temporary)
                except Exception as exc:  # thrown into the flow; cancellation is not
                    error = exc
        finally:
            flow.close()

    async def _perform(self, effect: Effect, temporary: list[str]) -> Any:
        if isinstance(effect, Request):
            return await self._send(effect)
        if isinstance(effect, ReadFile):
            return await anyio.to_thread.run_sync(
                read_range, effect.path, effect.offset, effect.length
            )
        if isinstance(effect, Offload):
            return await anyio.to_thread.run_sync(effect.function, *effect.args)
        if isinstance(effect, Decompress):
            path = await anyio.to_thread.run_sync(spool_decompressed, effect.path, effect.codec)
            temporary.append(path)
            return path
        if isinstance(effect, TempFile):
            path = await anyio.to_thread.run_sync(create_temp, effect.directory, effect.suffix)
            temporary.append(path)
            return path
        if isinstance(effect, WriteFile):
            await anyio.to_thread.run_sync(write_at, effect.path, effect.offset, effect.data)
            return None
        if isinstance(effect, MoveFile):
            await anyio.to_thread.run_sync(move_into_place, effect.source, effect.destination)
            return None
        if isinstance(effect, RemoveFile):
            await anyio.to_thread.run_sync(remove_quietly, [effect.path])
            return None
        if isinstance(effect, Parallel):
            return await self._parallel(effect, temporary)
        if isinstance(effect, Sleep):
            await anyio.sleep(effect.seconds)
            return None
        if isinstance(effect, Emit):
            if self._on_event is not None:
                self._on_event(effect.event)
            return None
        assert_never(effect)

    async def _send(self, request: Request) -> Response:
        if self._client is None:
            raise TransportFailure("this driver has no HTTP client")
        content: bytes | AsyncIterator[bytes] | None
        body = request.body
        if isinstance(body, EmptyBody):
            content = None
        elif isinstance(body, BytesBody):
            content = body.data
        elif isinstance(body, FileSlice):
            content = _aiter_slice(body)
            if self._on_event is not None and request.progress_key is not None:
                content = self._reporting(content, request.progress_key, body.length)
        else:
            assert_never(body)
        with map_transport_errors(request):
            outgoing = self._client.build_request(
                request.method, request.url, headers=list(request.headers), content=content
            )
            response = await self._client.send(outgoing, stream=True, follow_redirects=False)
            try:
                received_at = time.monotonic()
                headers = Headers(tuple(response.headers.multi_items()))
                sink = request.response_body
                if isinstance(sink, FileSink) and response.status_code in sink.statuses:
                    writer = await anyio.to_thread.run_sync(SinkWriter, sink)
                    try:
                        await _stream_into(response.aiter_bytes(), writer)
                    finally:
                        digest = await anyio.to_thread.run_sync(writer.close)
                    return Response(
                        status=response.status_code,
                        headers=headers,
                        received_at=received_at,
                        written=writer.written,
                        written_sha256=digest,
                    )
                data = b""
                if request.response_body != "discard":
                    data = await _read_capped(response.aiter_bytes(), request.max_response_bytes)
                return Response(
                    status=response.status_code,
                    headers=headers,
                    body=data,
                    received_at=received_at,
                )
            finally:
                await response.aclose()

    async def _reporting(
        self, chunks: AsyncIterator[bytes], key: str, total: int
    ) -> AsyncIterator[bytes]:
        """Pass `chunks` on, telling the listener how many bytes went out."""
        assert self._on_event is not None
        sent = 0
        async for chunk in chunks:
            yield chunk
            sent += len(chunk)
            self._on_event(BlobProgress(key, sent, total))

    async def _parallel(self, effect: Parallel, temporary: list[str]) -> list[Any]:
        results: list[Any] = [None] * len(effect.flows)
        limiter = anyio.CapacityLimiter(effect.limit)

        async def run_child(index: int, child: Flow[Any]) -> None:
            async with limiter:
                results[index] = await self._run(child, temporary)

        try:
            async with anyio.create_task_group() as group:
                for index, child in enumerate(effect.flows):
                    group.start_soon(run_child, index, child)
        finally:
            for child in effect.flows:
                child.close()  # children that never started still hold a generator
        return results


async def _stream_into(chunks: AsyncIterator[bytes], writer: SinkWriter) -> None:
    """Write `chunks` through `writer` in a worker thread while the next ones arrive.

    Network reads are gathered into pieces of about a MiB; up to two pieces wait while one is
    written and hashed, so the network and the disk work at the same time.
    """
    send, receive = anyio.create_memory_object_stream[bytes](2)

    async def write_all() -> None:
        async with receive:
            async for piece in receive:
                await anyio.to_thread.run_sync(writer.write, piece)

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(write_all)
            async with send:
                pending = bytearray()
                async for chunk in chunks:
                    pending += chunk
                    if len(pending) >= CHUNK_SIZE:
                        await send.send(bytes(pending))
                        pending.clear()
                if pending:
                    await send.send(bytes(pending))
    except ExceptionGroup as failures:
        # One side failed (the network or the disk) and the other was cancelled: report the
        # failure itself, so the caller maps it like any other.
        first: BaseException = failures
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None


async def _aiter_slice(body: FileSlice) -> AsyncIterator[bytes]:
    """The bytes of `body`, read in a worker thread chunk by chunk."""
    offset, remaining = body.offset, body.length
    while remaining:
        chunk = await anyio.to_thread.run_sync(
            read_range, body.path, offset, min(CHUNK_SIZE, remaining)
        )
        if not chunk:
            raise TarReadError(f"{body.path} ended early: it changed while being read")
        offset += len(chunk)
        remaining -= len(chunk)
        yield chunk


async def _read_capped(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge(f"response body larger than {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)
