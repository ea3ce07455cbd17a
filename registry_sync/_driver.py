"""The blocking driver: performs a flow's effects with `httpx.Client` and a thread pool.

It holds no registry knowledge: it sends the requests it is given, reads files it is pointed
at, and runs `Parallel` children on threads. A call with a deadline is checked against it
between steps and while bytes move, since a blocked thread cannot be cancelled.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from registry_io.deadline import Deadline, Expired, exceeded
from registry_io.files import SinkWriter, Streamed, iter_body
from registry_io.interrupts import FAILURE_GRACE, StopFlag, Stopped
from registry_io.jobs import Job
from registry_io.leftovers import CLEANUP_SECONDS, Leftovers
from registry_io.local_effects import BOOKKEEPING, keep_books, perform_local
from registry_io.stepping import Stepper
from registry_io.transport import download_progress, exchange, outgoing, upload_progress
from registry_proto import (
    Effect,
    Flow,
    Parallel,
    Request,
    Response,
    Sleep,
    TimedOut,
    TransportFailure,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["SyncDriver"]

T = TypeVar("T")

# How long an interrupted run waits for its running children to stop: they check between
# chunks of a MiB, so only one stuck in a network wait takes longer, and is not waited for.
_INTERRUPT_GRACE = 1.0


@dataclass(frozen=True, slots=True)
class _Run:
    """One call being driven: its deadline, if any, what it leaves behind (temporary files,
    open upload sessions), and the flag that tells this part of it to stop."""

    deadline: Deadline | None
    leftovers: Leftovers = field(default_factory=Leftovers)
    stop: StopFlag = field(default_factory=StopFlag)

    def check(self) -> None:
        """Between steps: raise `Expired` past the deadline, `Stopped` once told to stop."""
        if self.deadline is not None:
            self.deadline.check()
        self.stop.check()

    def checked(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """`chunks`, stopping at the deadline (a registry trickling bytes never times out) or
        once told to stop at once."""
        for chunk in chunks:
            if self.deadline is not None:
                self.deadline.check()
            self.stop.check_now()
            yield chunk

    def child(self) -> _Run:
        """This run, for a part of it that is told to stop on its own (a `Parallel` group)."""
        return dataclasses.replace(self, stop=self.stop.child())


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

    def run(self, work: Flow[T] | Job[T]) -> T:
        """Drive `work` to its result in this thread, on the terms of `Job`; a deadline is
        checked between steps and while bytes move."""
        job = Job.of(work)
        run = _Run(None if job.deadline is None else Deadline.after(job.deadline))
        try:
            return self._run(job.flow, run)
        except Expired:
            assert job.deadline is not None
            raise exceeded(job.deadline) from None
        finally:
            if undo := run.leftovers.end():
                self._undo(job.cleanup(undo))

    def _undo(self, flow: Flow[None]) -> None:
        """Run a cleanup flow within `CLEANUP_SECONDS`, its requests' timeouts capped at the
        time left. A failure of its own is ignored (it is best effort, and must not hide the
        run's); a second Ctrl-C still interrupts it."""
        quick = SyncDriver(self._client, max_workers=1)
        with contextlib.suppress(Exception, Stopped, Expired):
            quick._run(flow, _Run(Deadline.after(CLEANUP_SECONDS)))

    def _run(self, flow: Flow[T], run: _Run) -> T:
        stepper = Stepper(flow)
        try:
            while (effect := stepper.next_effect()) is not None:
                try:
                    stepper.answer(self._perform(effect, run))
                except Exception as exc:  # thrown into the flow, which decides
                    stepper.fail(exc)
            return stepper.result
        finally:
            stepper.close()

    def _perform(self, effect: Effect, run: _Run) -> Any:
        if isinstance(effect, BOOKKEEPING):
            keep_books(effect, run.leftovers, self._on_event)
            return None
        # Past the deadline or told to stop: no further step is taken, and the flow is closed,
        # not told (`Expired` and `Stopped` are no `Exception`s).
        run.check()
        if isinstance(effect, Request):
            return self._send(effect, run)
        if isinstance(effect, Parallel):
            return self._parallel(effect, run)
        if isinstance(effect, Sleep):
            seconds = effect.seconds
            if run.deadline is not None:
                seconds = min(seconds, max(run.deadline.remaining(), 0.0))
            run.stop.sleep(seconds)
            run.check()
            return None
        return perform_local(effect, run.leftovers, run.stop)

    def _send(self, request: Request, run: _Run) -> Response:
        def stream(body: Streamed) -> Iterator[bytes]:
            return self._counted(request, run.checked(iter_body(body)))

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
            if isinstance(exc, TimedOut) and run.deadline is not None:
                run.deadline.check()  # a timeout cut short by the deadline is the deadline's
            exc.received = exc.received or (writer.written if writer is not None else 0)
            raise

    def _counted(self, request: Request, chunks: Iterator[bytes]) -> Iterator[bytes]:
        progress = upload_progress(self._on_event, request)
        return chunks if progress is None else _counting(chunks, progress.add)

    def _parallel(self, effect: Parallel, run: _Run) -> list[Any]:
        group = run.child()
        workers = max(1, min(effect.limit, len(effect.flows), self._max_workers))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="registry")
        futures: list[Future[Any]] = []
        try:
            # Submitted inside the `try`: an interrupt while threads start stops them too.
            for child in effect.flows:
                futures.append(pool.submit(self._run, child, group))
            wait(futures, return_when=FIRST_EXCEPTION)
            # After a failure: no child is started any more, and the running ones finish the
            # request they are sending, then stop (at once if that takes too long).
            group.stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            if wait(_started(futures), timeout=FAILURE_GRACE).not_done:
                group.stop.set(now=True)
        except BaseException:
            # An interrupt (Ctrl-C) reached this thread: every child stops at once, and the
            # running ones get a moment to, at their next chunk.
            group.stop.set(now=True)
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
        run.check()  # children stopped because this run was told to stop
        return [future.result() for future in futures]


def _started(futures: list[Future[Any]]) -> list[Future[Any]]:
    """The futures that ran or run: one cancelled before it started never counts as done."""
    return [future for future in futures if not future.cancelled()]


def _counting(chunks: Iterator[bytes], sent: Callable[[bytes], None]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk
        sent(chunk)
