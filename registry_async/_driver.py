"""The async driver: performs a flow's effects with anyio and `httpx.AsyncClient`.

The same code runs under asyncio and trio. `Parallel` children run in a task group behind a
capacity limiter; when one fails, the task group cancels the others. Cancellation is never
thrown into a flow: the flow is closed, and its `finally` blocks run. A call's deadline is a
cancel scope around it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import httpx

from registry_io.deadline import exceeded
from registry_io.files import CHUNK_SIZE, SinkWriter, read_range, remove_quietly
from registry_io.local_effects import perform_local
from registry_io.logs import report
from registry_io.stepping import Stepper
from registry_io.transport import (
    Answer,
    ByteProgress,
    download_progress,
    exchange,
    outgoing,
    upload_progress,
)
from registry_proto import (
    Effect,
    Emit,
    FileSink,
    FileSlice,
    Flow,
    Parallel,
    Request,
    Response,
    ResponseTooLarge,
    Sleep,
    TarReadError,
    TransportFailure,
)

__all__ = ["AsyncDriver"]

T = TypeVar("T")


class AsyncDriver:
    """Runs flows to completion on the current event loop (asyncio or trio)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        on_event: Callable[[Any], object] | None = None,
    ) -> None:
        self._client = client
        self._on_event = on_event

    async def run(self, flow: Flow[T], *, deadline: float | None = None) -> T:
        """Drive `flow` to its result; errors it raises propagate unchanged. With `deadline`
        seconds, the flow is cancelled once they have passed, with `DeadlineExceeded`.

        Temporary files the flow asked for (decompressed archives) are removed at the end.
        """
        temporary: list[str] = []
        try:
            if deadline is None:
                return await self._run(flow, temporary)
            with anyio.move_on_after(deadline) as scope:
                return await self._run(flow, temporary)
            assert scope.cancelled_caught
            raise exceeded(deadline)
        finally:
            remove_quietly(temporary)

    async def _run(self, flow: Flow[T], temporary: list[str]) -> T:
        stepper = Stepper(flow)
        try:
            while (effect := stepper.next_effect()) is not None:
                try:
                    stepper.answer(await self._perform(effect, temporary))
                except Exception as exc:  # thrown into the flow; cancellation is not
                    stepper.fail(exc)
            return stepper.result
        finally:
            stepper.close()

    async def _perform(self, effect: Effect, temporary: list[str]) -> Any:
        if isinstance(effect, Request):
            return await self._send(effect)
        if isinstance(effect, Parallel):
            return await self._parallel(effect, temporary)
        if isinstance(effect, Sleep):
            await anyio.sleep(effect.seconds)
            return None
        if isinstance(effect, Emit):
            report(effect.event, self._on_event)
            return None
        # What is left touches only local files: blocking work, for a worker thread.
        return await anyio.to_thread.run_sync(perform_local, effect, temporary)

    async def _send(self, request: Request) -> Response:
        def stream(body: FileSlice) -> AsyncIterator[bytes]:
            return self._counted(request, _aiter_slice(body))

        writer: SinkWriter | None = None
        try:
            with exchange(request) as sent:
                built = outgoing(self._client, request, stream)
                response = await self._client.send(built, stream=True)
                try:
                    answer = sent.answer(response)
                    if answer.sink is not None:
                        writer = opened = await _open_writer(answer.sink)
                        progress = download_progress(self._on_event, request, answer.sink)
                        try:
                            await _stream_into(response.aiter_bytes(), opened, progress)
                        finally:  # shielded too: a cancellation must not skip the closing
                            with anyio.CancelScope(shield=True):
                                digest = await anyio.to_thread.run_sync(opened.close)
                        return answer.written(opened, digest)
                    if answer.keep_body:
                        await _read_into(answer, response)
                    return answer.response()
                finally:
                    await response.aclose()
        except TransportFailure as exc:
            # What is already in the sink, so that a flow can resume after it.
            exc.received = exc.received or (writer.written if writer is not None else 0)
            raise

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

    def _counted(self, request: Request, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        progress = upload_progress(self._on_event, request)
        return chunks if progress is None else _counting(chunks, progress.add)


async def _counting(
    chunks: AsyncIterator[bytes], sent: Callable[[bytes], None]
) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield chunk
        sent(chunk)


async def _open_writer(sink: FileSink) -> SinkWriter:
    """A writer for `sink`, opened in a worker thread, shielded from cancellation (a deadline)
    so that the open file is never lost: the caller's `finally` closes it."""
    with anyio.CancelScope(shield=True):
        writer = await anyio.to_thread.run_sync(SinkWriter, sink)
    return writer  # noqa: RET504 - returned outside the scope, which mypy cannot see through


async def _read_into(answer: Answer, response: httpx.Response) -> None:
    """Read the body into `answer`, stopping at once when `answer` refuses more.

    Stopped by cancelling the read: the cancellation ends httpx's own nested readers from
    the inside, where closing the outer one would leave the inner ones to the garbage
    collector (which trio reports).
    """
    refused: ResponseTooLarge | None = None
    with anyio.CancelScope() as reading:
        async for chunk in response.aiter_bytes():
            try:
                answer.add(chunk)
            except ResponseTooLarge as exc:
                refused = refused or exc
                reading.cancel()
    if refused is not None:
        raise refused


async def _stream_into(
    chunks: AsyncIterator[bytes], writer: SinkWriter, progress: ByteProgress | None
) -> None:
    """Write `chunks` through `writer` in a worker thread while the next ones arrive.

    Network reads are gathered into pieces of about a MiB; up to two pieces wait while one is
    written and hashed, so the network and the disk work at the same time. Each piece written
    is counted for `progress` here, on the event loop, never in the worker thread. When the
    network breaks, what arrived before is still written, so that a resumed download need not
    fetch it again.
    """
    send, receive = anyio.create_memory_object_stream[bytes](2)
    broken: Exception | None = None

    async def write_all() -> None:
        async with receive:
            async for piece in receive:
                await anyio.to_thread.run_sync(writer.write, piece)
                if progress is not None:
                    progress.add(piece)

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(write_all)
            async with send:
                pending = bytearray()
                try:
                    async for chunk in chunks:
                        pending += chunk
                        if len(pending) >= CHUNK_SIZE:
                            await send.send(bytes(pending))
                            pending.clear()
                except Exception as exc:  # raised once the writer is done
                    broken = exc
                if pending:
                    await send.send(bytes(pending))
    except ExceptionGroup as failures:
        # One side failed (the network or the disk) and the other was cancelled: report the
        # failure itself, so the caller maps it like any other.
        first: BaseException = failures
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    if broken is not None:
        raise broken


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
