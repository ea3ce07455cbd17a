"""The blocking driver: performs a flow's effects with `httpx.Client` and a thread pool.

It holds no registry knowledge: it sends the requests it is given, reads files it is pointed
at, and runs `Parallel` children on threads. A call with a deadline is checked against it
between steps and while bytes move, since a blocked thread cannot be cancelled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from registry_io.deadline import Deadline, Expired, exceeded
from registry_io.files import SinkWriter, iter_slice, remove_quietly
from registry_io.local_effects import perform_local
from registry_io.logs import report
from registry_io.stepping import Stepper
from registry_io.transport import download_progress, exchange, outgoing, upload_progress
from registry_proto import (
    Effect,
    Emit,
    FileSlice,
    Flow,
    Parallel,
    Request,
    Response,
    Sleep,
    TimedOut,
    TransportFailure,
)

__all__ = ["SyncDriver"]

T = TypeVar("T")


@dataclass
class _Run:
    """One call being driven: its temporary files and its deadline, if any."""

    deadline: Deadline | None
    temporary: list[str] = field(default_factory=list)

    def check(self) -> None:
        if self.deadline is not None:
            self.deadline.check()

    def checked(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """`chunks`, stopping at the deadline (a registry trickling bytes never times out)."""
        for chunk in chunks:
            self.check()
            yield chunk


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

    def run(self, flow: Flow[T], *, deadline: float | None = None) -> T:
        """Drive `flow` to its result; errors it raises propagate unchanged. With `deadline`
        seconds, the flow is stopped once they have passed, with `DeadlineExceeded`.

        Temporary files the flow asked for (decompressed archives) are removed at the end.
        """
        run = _Run(Deadline.after(deadline) if deadline is not None else None)
        try:
            return self._run(flow, run)
        except Expired:
            assert deadline is not None
            raise exceeded(deadline) from None
        finally:
            remove_quietly(run.temporary)

    def _run(self, flow: Flow[T], run: _Run) -> T:
        stepper = Stepper(flow)
        try:
            while (effect := stepper.next_effect()) is not None:
                run.check()  # outside the try: the flow is closed, not told
                try:
                    stepper.answer(self._perform(effect, run))
                except Exception as exc:  # thrown into the flow, which decides
                    stepper.fail(exc)
            return stepper.result
        finally:
            stepper.close()

    def _perform(self, effect: Effect, run: _Run) -> Any:
        if isinstance(effect, Request):
            return self._send(effect, run)
        if isinstance(effect, Parallel):
            return self._parallel(effect, run)
        if isinstance(effect, Sleep):
            seconds = effect.seconds
            if run.deadline is not None:
                seconds = min(seconds, max(run.deadline.remaining(), 0.0))
            time.sleep(seconds)
            run.check()
            return None
        if isinstance(effect, Emit):
            report(effect.event, self._on_event)
            return None
        return perform_local(effect, run.temporary)

    def _send(self, request: Request, run: _Run) -> Response:
        def stream(body: FileSlice) -> Iterator[bytes]:
            return self._counted(request, run.checked(iter_slice(body)))

        timeout = None if run.deadline is None else run.deadline.capped(self._client.timeout)
        writer: SinkWriter | None = None
        try:
            with exchange(request) as sent:
                built = outgoing(self._client, request, stream, timeout)
                response = self._client.send(built, stream=True)
                try:
                    answer = sent.answer(response)
                    if answer.sink is not None:
                        writer = SinkWriter(answer.sink)
                        progress = download_progress(self._on_event, request, answer.sink)
                        try:
                            for chunk in run.checked(response.iter_bytes()):
                                writer.write(chunk)
                                if progress is not None:
                                    progress.add(chunk)
                        finally:
                            digest = writer.close()
                        return answer.written(writer, digest)
                    if answer.keep_body:
                        for chunk in run.checked(response.iter_bytes()):
                            answer.add(chunk)
                    return answer.response()
                finally:
                    response.close()
        except TransportFailure as exc:
            if isinstance(exc, TimedOut):
                run.check()  # a timeout cut short by the deadline is the deadline's
            exc.received = exc.received or (writer.written if writer is not None else 0)
            raise

    def _counted(self, request: Request, chunks: Iterator[bytes]) -> Iterator[bytes]:
        progress = upload_progress(self._on_event, request)
        return chunks if progress is None else _counting(chunks, progress.add)

    def _parallel(self, effect: Parallel, run: _Run) -> list[Any]:
        workers = max(1, min(effect.limit, len(effect.flows), self._max_workers))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="registry") as pool:
            futures: list[Future[Any]] = [
                pool.submit(self._run, child, run) for child in effect.flows
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
