"""The blocking driver: performs a flow's effects with `httpx.Client` and a thread pool.

It holds no registry knowledge: it sends the requests it is given, reads files it is pointed
at, and runs `Parallel` children on threads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

import httpx

from registry_io.files import SinkWriter, iter_slice
from registry_io.interrupts import StopFlag, Stopped
from registry_io.leftovers import Leftovers
from registry_io.local_effects import perform_local
from registry_io.stepping import Stepper
from registry_io.transport import Answer, map_transport_errors, outgoing, upload_progress
from registry_proto import Effect, Emit, FileSlice, Flow, Parallel, Request, Response, Sleep

__all__ = ["SyncDriver"]

T = TypeVar("T")

# How long an interrupted run waits for its running children to stop: they check between
# chunks of a MiB, so only one stuck in a network wait takes longer, and is not waited for.
_GRACE = 1.0


class SyncDriver:
    """Runs flows to completion, blocking the calling thread.

    `Parallel` children run on up to `max_workers` threads each. A thread cannot be
    interrupted, so children are told to stop through a `StopFlag`, which they check between
    effects and between the chunks of a body: after one child fails its running siblings stop,
    and the ones not yet started are skipped. An interrupt (Ctrl-C) in the waiting thread does
    the same, without waiting for anything queued.
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

    def run(self, flow: Flow[T]) -> T:
        """Drive `flow` to its result; errors it raises propagate unchanged.

        Temporary files the flow asked for (decompressed archives) are removed at the end.
        """
        leftovers = Leftovers()
        try:
            return self._run(flow, leftovers, StopFlag())
        finally:
            leftovers.end()

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
        if isinstance(effect, Emit):
            if self._on_event is not None:
                self._on_event(effect.event)
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
            response = self._client.send(outgoing(self._client, request, stream), stream=True)
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
        except BaseException:
            # An interrupt (Ctrl-C) reached this thread: no child is started any more, the
            # running ones are told to stop and given a moment to, at their next chunk or step.
            group.set()
            pool.shutdown(wait=False, cancel_futures=True)
            # (A future cancelled before it ran never counts as done: wait for the others.)
            wait([future for future in futures if not future.cancelled()], timeout=_GRACE)
            raise
        group.set()  # after a failure the running siblings stop too (all done otherwise)
        pool.shutdown(wait=True, cancel_futures=True)
        errors: list[Exception] = []
        for future in futures:
            exc = None if future.cancelled() else future.exception()
            if isinstance(exc, Exception):
                errors.append(exc)
            elif exc is not None and not isinstance(exc, Stopped):
                raise exc  # not an error to report but an interruption: let it through
        if errors:
            raise ExceptionGroup("parallel registry operations failed", errors)
        stop.check()  # children stopped because this run was told to stop
        return [future.result() for future in futures]


def _checked(chunks: Iterator[bytes], stop: StopFlag) -> Iterator[bytes]:
    """`chunks`, stopping between two of them once `stop` is set."""
    for chunk in chunks:
        stop.check()
        yield chunk


def _counting(chunks: Iterator[bytes], sent: Callable[[bytes], None]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk
        sent(chunk)
