"""The async driver: performs a flow's effects with anyio and `httpx.AsyncClient`.

The same code runs under asyncio and trio. `Parallel` children run in a task group behind a
capacity limiter; when one fails, the others finish the request they are sending and stop
(a body cut off in the middle leaves an upload session distribution cannot cancel), or are
cancelled after `FAILURE_GRACE`. Cancellation is never thrown into a flow: the flow is
closed, and its `finally` blocks run. A call's deadline is a cancel scope around it.

Blocking work (files, hashing) runs on worker threads, and a worker never outlives the task
that started it (`_in_worker`): a cancelled task tells its worker to stop and waits for it, so
that the run's cleanup never races its own workers, and nothing they open or create is left.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread

from registry_io.deadline import exceeded
from registry_io.files import CHUNK_SIZE, SinkWriter, Streamed, read_range
from registry_io.interrupts import FAILURE_GRACE, StopFlag, Stopped
from registry_io.jobs import Job
from registry_io.leftovers import CLEANUP_SECONDS, Leftovers
from registry_io.local_effects import BOOKKEEPING, keep_books, perform_local
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
    BytesBody,
    Effect,
    Flow,
    Parallel,
    Request,
    Response,
    ResponseTooLarge,
    Sleep,
    TarReadError,
    TransportFailure,
)

if TYPE_CHECKING:
    import httpx

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

    async def run(self, work: Flow[T] | Job[T]) -> T:
        """Drive `work` to its result on the current event loop, on the terms of `Job`; a
        deadline is a cancel scope around the run."""
        job = Job.of(work)
        leftovers = Leftovers()
        try:
            if job.deadline is None:
                return await self._run(job.flow, leftovers, StopFlag())
            with anyio.move_on_after(job.deadline) as scope:
                return await self._run(job.flow, leftovers, StopFlag())
            assert scope.cancelled_caught
            raise exceeded(job.deadline)
        finally:
            if undo := leftovers.end():
                await self._undo(job.cleanup(undo))

    async def _undo(self, flow: Flow[None]) -> None:
        """Run a cleanup flow, shielded from a cancellation under way, for `CLEANUP_SECONDS`
        at most; a failure of its own is ignored (it is best effort, and must not hide the
        run's)."""
        with anyio.move_on_after(CLEANUP_SECONDS, shield=True), contextlib.suppress(Exception):
            await self._run(flow, Leftovers(), StopFlag())

    async def _run(self, flow: Flow[T], leftovers: Leftovers, stop: StopFlag) -> T:
        stepper = Stepper(flow)
        try:
            while (effect := stepper.next_effect()) is not None:
                try:
                    stepper.answer(await self._perform(effect, leftovers, stop))
                except Exception as exc:  # thrown into the flow; cancellation is not
                    stepper.fail(exc)
            return stepper.result
        finally:
            stepper.close()

    async def _perform(self, effect: Effect, leftovers: Leftovers, stop: StopFlag) -> Any:
        if isinstance(effect, BOOKKEEPING):
            keep_books(effect, leftovers, self._on_event)
            return None
        stop.check()  # a sibling failed: no further step is taken
        if isinstance(effect, Request):
            # A cancelled run starts no request: not a byte of it may reach the registry.
            await anyio.lowlevel.checkpoint_if_cancelled()
            return await self._send(effect)
        if isinstance(effect, Parallel):
            return await self._parallel(effect, leftovers, stop)
        if isinstance(effect, Sleep):
            await anyio.sleep(effect.seconds)
            return None
        # What is left touches only local files: blocking work, for a worker thread.
        return await _in_worker(functools.partial(perform_local, effect, leftovers))

    async def _send(self, request: Request) -> Response:
        def stream(body: Streamed) -> AsyncIterator[bytes]:
            return self._counted(request, _aiter_body(body))

        writer: SinkWriter | None = None
        try:
            with exchange(request) as sent:
                built = outgoing(self._client, request, stream)
                response = await self._client.send(built, stream=True)
                try:
                    answer = sent.answer(response)
                    if (sink := answer.sink) is not None:
                        writer = opened = await _in_worker(
                            _call(SinkWriter, sink), discard=SinkWriter.close
                        )
                        progress = download_progress(self._on_event, request, sink)
                        try:
                            await _stream_into(response.aiter_bytes(), opened, progress)
                        finally:
                            # Closed even when cancelled: the file must not stay open (the
                            # partial archive is deleted, but an open handle keeps its space).
                            with anyio.CancelScope(shield=True):
                                digest = await _in_worker(_call(opened.close))
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

    async def _parallel(self, effect: Parallel, leftovers: Leftovers, stop: StopFlag) -> list[Any]:
        """The children's results in order; after one fails, the others finish the request
        they are sending (for `FAILURE_GRACE` at most, then they are cancelled) and stop, and
        an `ExceptionGroup` of the failures is raised."""
        results: list[Any] = [None] * len(effect.flows)
        failures: list[Exception] = []
        limiter = anyio.CapacityLimiter(effect.limit)
        group = stop.child()

        async def run_child(index: int, child: Flow[Any], scope: anyio.CancelScope) -> None:
            async with limiter:
                try:
                    results[index] = await self._run(child, leftovers, group)
                except Stopped:
                    pass
                except Exception as exc:
                    failures.append(exc)
                    group.set()
                    scope.deadline = min(scope.deadline, anyio.current_time() + FAILURE_GRACE)

        try:
            async with anyio.create_task_group() as tasks:
                for index, child in enumerate(effect.flows):
                    tasks.start_soon(run_child, index, child, tasks.cancel_scope)
        finally:
            for child in effect.flows:
                child.close()  # children that never started still hold a generator
        if failures:
            raise ExceptionGroup("parallel registry operations failed", failures)
        stop.check()  # the children stopped because this run was told to
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

    Network reads are gathered, uncopied, into batches of about a MiB; up to two batches wait
    while one is written and hashed, so the network and the disk work at the same time and
    the event loop only hands pieces on. Each batch written is counted for `progress` here, on
    the event loop, never in the worker thread. When the network breaks, what arrived before
    is still written, so that a resumed download need not fetch it again.
    """
    send, receive = anyio.create_memory_object_stream[list[bytes]](2)
    broken: Exception | None = None

    async def write_all() -> None:
        async with receive:
            async for batch in receive:
                await _in_worker(_call(_write_batch, writer, batch))
                if progress is not None:
                    for piece in batch:
                        progress.add(piece)

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(write_all)
            async with send:
                batch: list[bytes] = []
                size = 0
                try:
                    async for chunk in chunks:
                        batch.append(chunk)
                        size += len(chunk)
                        if size >= CHUNK_SIZE:
                            await send.send(batch)
                            batch, size = [], 0
                except Exception as exc:  # raised once the writer is done
                    broken = exc
                if batch:
                    await send.send(batch)
    except ExceptionGroup as failures:
        # One side failed (the network or the disk) and the other was cancelled: report the
        # failure itself, so the caller maps it like any other.
        first: BaseException = failures
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    if broken is not None:
        raise broken


def _write_batch(writer: SinkWriter, batch: list[bytes]) -> None:
    for piece in batch:
        writer.write(piece)


async def _aiter_body(body: Streamed) -> AsyncIterator[bytes]:
    """The bytes of `body`: in-memory bytes in one piece, released once taken (see
    `registry_io.transport.outgoing`); a file slice read in a worker thread chunk by chunk."""
    if isinstance(body, BytesBody):
        yield body.data
        return
    offset, remaining = body.offset, body.length
    while remaining:
        length = min(CHUNK_SIZE, remaining)
        chunk = await _in_worker(_call(read_range, body.path, offset, length))
        if not chunk:
            raise TarReadError(f"{body.path} ended early: it changed while being read")
        offset += len(chunk)
        remaining -= len(chunk)
        yield chunk


async def _in_worker(
    work: Callable[[StopFlag], T], *, discard: Callable[[T], object] | None = None
) -> T:
    """`work(stop)` on a worker thread that never outlives the task that started it.

    Cancelled, by anyio or natively by asyncio (which pierces anyio's shields), the task sets
    `stop` (long work checks it between chunks), waits for the worker to finish, shielded, and
    hands what the worker made too late to `discard`; only then does the cancellation go on.
    """
    stop = StopFlag()
    finished = threading.Event()
    made: list[T] = []

    def run() -> T:
        try:
            made.append(result := work(stop))
            return result
        finally:
            finished.set()

    try:
        return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
    except BaseException:
        if not finished.is_set():
            stop.set(now=True)
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(finished.wait)
            if made and discard is not None:
                discard(made[0])
        raise


def _call(function: Callable[..., T], *args: Any) -> Callable[[StopFlag], T]:
    """`function(*args)` as work for `_in_worker`: short work, with no use for the flag."""
    return lambda _stop: function(*args)
