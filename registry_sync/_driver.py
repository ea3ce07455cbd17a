"""The blocking driver: performs a flow's effects with `httpx.Client` and a thread pool.

It holds no registry knowledge: it sends the requests it is given, reads files it is pointed
at, and runs `Parallel` children on threads.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

import httpx

from registry_io.files import SinkWriter, iter_slice
from registry_io.interrupts import FAILURE_GRACE, StopFlag, Stopped
from registry_io.leftovers import CLEANUP_SECONDS, Leftovers
from registry_io.local_effects import BOOKKEEPING, keep_books, perform_local
from registry_io.stepping import Stepper
from registry_io.transport import Answer, map_transport_errors, outgoing, upload_progress
from registry_proto import (
    Effect,
    FileSlice,
    Flow,
    Parallel,
    Request,
    Response,
    Sleep,
    send_cleanups,
)

__all__ = ["SyncDriver"]

T = TypeVar("T")

# How long an interrupted run waits for its running children to stop: they check between
# chunks of a MiB, so only one stuck in a network wait takes longer, and is not waited for.
_INTERRUPT_GRACE = 1.0


class SyncDriver:
    """Runs flows to completion, blocking the calling thread.

    `Parallel` children run on up to `max_workers` threads each. A thread cannot be
    interrupted, so children are told to stop through a `StopFlag`: after one child fails, its
    running siblings finish the request they are sending (for `FAILURE_GRACE` at most) and
    stop, and the ones not yet started are skipped. An interrupt (Ctrl-C) in the waiting thread
    stops them at once, between two chunks of a body, without waiting for anything queued.
    """

    def __init__(
        self,
        client: httpx.Client,
        *,
        max_workers: int = 8,
        on_event: Callable[[Any], object] | None = None,
    ) -> None:
        self._client = client
        self._max_workers = max_workers
        self._on_event = on_event
        self._timeout: httpx.Timeout | None = None  # the client's, unless cleaning up

    def run(
        self, flow: Flow[T], *, cleanup: Callable[[list[Request]], Flow[None]] = send_cleanups
    ) -> T:
        """Drive `flow` to its result; errors it raises propagate unchanged.

        Temporary files the flow asked for (decompressed archives) are removed at the end, and
        the requests of its `Cleanup` effects still kept are sent, by the flow that `cleanup`
        makes of them (the clients' authenticates them).
        """
        leftovers = Leftovers()
        try:
            return self._run(flow, leftovers, StopFlag())
        finally:
            undo = leftovers.end()
            if undo:
                self._undo(cleanup(undo))

    def _undo(self, flow: Flow[None]) -> None:
        """Run a cleanup flow for about `CLEANUP_SECONDS` at most: each request may take that
        long, and none starts later. A failure of its own is ignored (it is best effort, and
        must not hide the run's); a second Ctrl-C still interrupts it."""
        quick = SyncDriver(self._client, max_workers=1)
        quick._timeout = httpx.Timeout(CLEANUP_SECONDS)
        deadline = StopFlag()
        timer = threading.Timer(CLEANUP_SECONDS, deadline.set)
        timer.daemon = True
        timer.start()
        try:
            with contextlib.suppress(Exception, Stopped):
                quick._run(flow, Leftovers(), deadline)
        finally:
            timer.cancel()

    def _run(self, flow: Flow[T], leftovers: Leftovers, stop: StopFlag) -> T:
        stepper = Stepper(flow)
        try:
            while (effect := stepper.next_effect()) is not None:
                try:
                    stepper.answer(self._perform(effect, leftovers, stop))
                except Exception as exc:  # thrown into the flow, which decides
                    stepper.fail(exc)
            return stepper.result
        finally:
            stepper.close()

    def _perform(self, effect: Effect, leftovers: Leftovers, stop: StopFlag) -> Any:
        if isinstance(effect, BOOKKEEPING):
            keep_books(effect, leftovers, self._on_event)
            return None
        stop.check()  # told to stop: no further step is taken
        if isinstance(effect, Request):
            return self._send(effect, stop)
        if isinstance(effect, Parallel):
            return self._parallel(effect, leftovers, stop)
        if isinstance(effect, Sleep):
            stop.sleep(effect.seconds)
            return None
        return perform_local(effect, leftovers, stop)

    def _send(self, request: Request, stop: StopFlag) -> Response:
        def stream(body: FileSlice) -> Iterator[bytes]:
            return self._counted(request, _checked(iter_slice(body), stop))

        with map_transport_errors(request):
            built = outgoing(self._client, request, stream)
            if self._timeout is not None:
                built.extensions["timeout"] = self._timeout.as_dict()
            response = self._client.send(built, stream=True)
            try:
                answer = Answer(request, response)
                if answer.sink is not None:
                    writer = SinkWriter(answer.sink)
                    try:
                        for chunk in _checked(response.iter_bytes(), stop):
                            writer.write(chunk)
                    finally:
                        digest = writer.close()
                    return answer.written(writer, digest)
                if answer.keep_body:
                    for chunk in response.iter_bytes():
                        answer.add(chunk)
                return answer.response()
            finally:
                response.close()

    def _counted(self, request: Request, chunks: Iterator[bytes]) -> Iterator[bytes]:
        progress = upload_progress(self._on_event, request)
        return chunks if progress is None else _counting(chunks, progress.sent)

    def _parallel(self, effect: Parallel, leftovers: Leftovers, stop: StopFlag) -> list[Any]:
        group = stop.child()
        workers = max(1, min(effect.limit, len(effect.flows), self._max_workers))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="registry")
        futures: list[Future[Any]] = [
            pool.submit(self._run, child, leftovers, group) for child in effect.flows
        ]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
            # After a failure: no child is started any more, and the running ones finish the
            # request they are sending, then stop (at once if that takes too long).
            group.set()
            pool.shutdown(wait=False, cancel_futures=True)
            if wait(_started(futures), timeout=FAILURE_GRACE).not_done:
                group.set(now=True)
        except BaseException:
            # An interrupt (Ctrl-C) reached this thread: every child stops at once, and the
            # running ones get a moment to, at their next chunk.
            group.set(now=True)
            pool.shutdown(wait=False, cancel_futures=True)
            wait(_started(futures), timeout=_INTERRUPT_GRACE)
            raise
        pool.shutdown(wait=True)
        errors: list[Exception] = []
        for future in _started(futures):
            exc = future.exception()
            if isinstance(exc, Exception):
                errors.append(exc)
            elif exc is not None and not isinstance(exc, Stopped):
                raise exc  # not an error to report but an interruption: let it through
        if errors:
            raise ExceptionGroup("parallel registry operations failed", errors)
        stop.check()  # children stopped because this run was told to stop
        return [future.result() for future in futures]


def _started(futures: list[Future[Any]]) -> list[Future[Any]]:
    """The futures that ran or run: one cancelled before it started never counts as done."""
    return [future for future in futures if not future.cancelled()]


def _checked(chunks: Iterator[bytes], stop: StopFlag) -> Iterator[bytes]:
    """`chunks`, stopping between two of them once `stop` is set at once."""
    for chunk in chunks:
        stop.check_now()
        yield chunk


def _counting(chunks: Iterator[bytes], sent: Callable[[bytes], None]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk
        sent(chunk)
