"""The blocking driver: performs a flow's effects with `httpx.Client` and a thread pool.

It holds no registry knowledge: it sends the requests it is given, reads files it is pointed
at, and runs `Parallel` children on threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

import httpx

from registry_io.files import SinkWriter, iter_slice
from registry_io.interrupts import StopFlag
from registry_io.leftovers import Leftovers
from registry_io.local_effects import perform_local
from registry_io.stepping import Stepper
from registry_io.transport import Answer, map_transport_errors, outgoing, upload_progress
from registry_proto import Effect, Emit, FileSlice, Flow, Parallel, Request, Response, Sleep

__all__ = ["SyncDriver"]

T = TypeVar("T")


class SyncDriver:
    """Runs flows to completion, blocking the calling thread.

    `Parallel` children run on up to `max_workers` threads each; a thread cannot be
    interrupted, so when one child fails the others still running are waited for, and the
    ones not yet started are skipped.
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
            return self._run(flow, leftovers)
        finally:
            leftovers.end()

    def _run(self, flow: Flow[T], leftovers: Leftovers) -> T:
        stepper = Stepper(flow)
        try:
            while (effect := stepper.next_effect()) is not None:
                try:
                    stepper.answer(self._perform(effect, leftovers))
                except Exception as exc:  # thrown into the flow, which decides
                    stepper.fail(exc)
            return stepper.result
        finally:
            stepper.close()

    def _perform(self, effect: Effect, leftovers: Leftovers) -> Any:
        if isinstance(effect, Request):
            return self._send(effect)
        if isinstance(effect, Parallel):
            return self._parallel(effect, leftovers)
        if isinstance(effect, Sleep):
            time.sleep(effect.seconds)
            return None
        if isinstance(effect, Emit):
            if self._on_event is not None:
                self._on_event(effect.event)
            return None
        return perform_local(effect, leftovers, StopFlag())

    def _send(self, request: Request) -> Response:
        def stream(body: FileSlice) -> Iterator[bytes]:
            return self._counted(request, iter_slice(body))

        with map_transport_errors(request):
            response = self._client.send(outgoing(self._client, request, stream), stream=True)
            try:
                answer = Answer(request, response)
                if answer.sink is not None:
                    writer = SinkWriter(answer.sink)
                    try:
                        for chunk in response.iter_bytes():
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

    def _parallel(self, effect: Parallel, leftovers: Leftovers) -> list[Any]:
        workers = max(1, min(effect.limit, len(effect.flows), self._max_workers))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="registry") as pool:
            futures: list[Future[Any]] = [
                pool.submit(self._run, child, leftovers) for child in effect.flows
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


def _counting(chunks: Iterator[bytes], sent: Callable[[bytes], None]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk
        sent(chunk)
