"""`PureDriver`: runs any flow with no I/O, the pure counterpart of the real drivers."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, assert_never

from .._effects import (
    Cleanup,
    Decompress,
    Effect,
    Emit,
    Flow,
    MoveFile,
    Offload,
    Parallel,
    ReadFile,
    RemoveFile,
    Sleep,
    TempFile,
    WriteFile,
    send_cleanups,
)
from .._errors import ResponseTooLarge, TransportFailure
from .._models import BytesBody, FileSink, FileSlice, Request, Response, _redact_url
from . import _files
from ._faults import CutBody

__all__ = ["Handler", "PureDriver", "RoundRobin", "Scheduler"]

T = TypeVar("T")

Handler = Callable[[Request], Response]
Scheduler = Callable[[int], int]


class RoundRobin:
    """The default scheduler: each `Parallel` step goes to the next active child in turn."""

    def __init__(self) -> None:
        self._turn = 0

    def __call__(self, active: int) -> int:
        choice = self._turn % active
        self._turn += 1
        return choice


class _Stopped(BaseException):
    """A child told to stop (a sibling failed) reached its next step."""


class _Task:
    """A flow being driven: what to resume it with next, its children while it waits, and
    whether it is to stop at its next step."""

    __slots__ = ("error", "flow", "group", "result", "stopping", "value")

    def __init__(self, flow: Flow[Any]) -> None:
        self.flow = flow
        self.value: Any = None
        self.error: BaseException | None = None
        self.group: _Group | None = None
        self.result: Any = None
        self.stopping = False


class _Group:
    """The children of one `Parallel` effect."""

    __slots__ = ("active", "children", "finished", "limit", "started")

    def __init__(self, effect: Parallel) -> None:
        self.children = [_Task(child) for child in effect.flows]
        self.limit = effect.limit
        self.started = 0
        self.active: list[int] = []
        self.finished = 0


class PureDriver:
    """Runs flows with no I/O: the pure counterpart of the asyncio/trio and blocking drivers.

    - `Request` goes to `handler` (usually `FakeRegistry.handle`). A `FileSlice` body is read
      from `files` first. Exceptions the handler raises (say `TransportFailure`) are thrown into
      the flow, as the real drivers throw their translated transport errors, stamped with the
      request's URL and the time (`failed_at`). A handler raising `_faults.CutBody` breaks
      the connection part-way through an answer's body, after writing that part into the
      request's `FileSink` (`received`). `received_at` comes from a fake clock that advances
      `tick` per request and by every `Sleep`.
    - File effects work on `files`, a `{path: bytes}` mapping, and fail with the errors the
      real drivers raise for the same case (`TarReadError` for reading, `ArchiveWriteError`
      for writing). `Decompress` decompresses in memory into a new entry of the driver's own
      copy of `files`; temporary files not moved into place are gone once `run` returns.
    - `Offload` calls the function in place; `Sleep` adds to `sleeps` (and `slept`); `Emit`
      appends to `events`. The requests of `Cleanup` effects still kept when `run` ends are
      sent then, as the real drivers send them.
    - `Parallel` runs at most `limit` children at once, interleaved one effect at a time: at
      each step `scheduler(number_of_active_children)` picks which child goes next (default:
      round-robin). Results come back in input order; when a child fails, the others that
      started finish the step they are in (the answer to the request they sent), stop before
      their next, and an `ExceptionGroup` of the failures is thrown into the parent, as with
      the real drivers.

    `requests` logs every request as the flow yielded it; `max_active` is the largest number of
    `Parallel` children seen active at once.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        files: Mapping[str, bytes] | None = None,
        scheduler: Scheduler | None = None,
        tick: float = 0.001,
    ) -> None:
        self.handler = handler
        self.files: dict[str, bytes] = dict(files or {})
        self._temporary: list[str] = []
        self._undo: dict[str, Request] = {}
        self.scheduler: Scheduler = scheduler if scheduler is not None else RoundRobin()
        self.tick = tick
        self.clock = 0.0
        self.sleeps: list[float] = []
        self.events: list[object] = []
        self.requests: list[Request] = []
        self.max_active = 0

    @property
    def slept(self) -> float:
        """Total seconds the flows asked to sleep."""
        return sum(self.sleeps)

    def run(self, flow: Flow[T]) -> T:
        """Drive `flow` to its result; errors it raises propagate unchanged."""
        task = _Task(flow)
        try:
            while not self._step(task):
                pass
            result: T = task.result
            return result
        finally:
            self._close(task)
            for path in self._temporary:  # as the real drivers do with unmoved temp files
                self.files.pop(path, None)
            self._temporary.clear()
            undo, self._undo = list(self._undo.values()), {}
            if undo:  # sent as the real drivers send them: every one, failures ignored
                self.run(send_cleanups(undo))

    def _step(self, task: _Task) -> bool:
        """Advance `task` by one effect; True once its flow has returned."""
        group = task.group
        if group is not None:
            try:
                results = self._step_group(group)
            except Exception as exc:  # the ExceptionGroup, thrown into the parent
                task.group = None
                task.error = exc
                return False
            if results is None:
                return False
            task.group = None
            task.value = results
            return False
        value, error = task.value, task.error
        task.value, task.error = None, None
        try:
            effect = task.flow.throw(error) if error is not None else task.flow.send(value)
        except StopIteration as stop:
            task.result = stop.value
            return True
        if task.stopping and not isinstance(effect, Cleanup | Emit):
            raise _Stopped
        if isinstance(effect, Parallel):
            task.group = _Group(effect)
            return False
        try:
            task.value = self._perform(effect)
        except Exception as exc:  # thrown into the flow, which decides
            task.error = exc
        return False

    def _step_group(self, group: _Group) -> list[Any] | None:
        """Advance one child chosen by the scheduler; the results once all have returned."""
        if not group.children:
            return []
        while len(group.active) < group.limit and group.started < len(group.children):
            group.active.append(group.started)
            group.started += 1
        self.max_active = max(self.max_active, len(group.active))
        choice = self.scheduler(len(group.active))
        if not 0 <= choice < len(group.active):
            raise ValueError(f"scheduler chose {choice} among {len(group.active)} children")
        index = group.active[choice]
        child = group.children[index]
        try:
            done = self._step(child)
        except Exception as exc:
            failures = [exc, *self._finish_siblings(group, index)]
            self._close_group(group, index)
            raise ExceptionGroup("parallel registry operations failed", failures) from None
        except BaseException:
            self._close_group(group, index)
            raise
        if done:
            group.active.remove(index)
            group.finished += 1
            if group.finished == len(group.children):
                return [c.result for c in group.children]
        return None

    def _finish_siblings(self, group: _Group, failed: int) -> list[Exception]:
        """After a child failed, the others that started finish the step they are in and
        stop, as with the real drivers; return their own failures meanwhile."""
        failures: list[Exception] = []
        for index in group.active:
            if index == failed:
                continue
            child = group.children[index]
            _mark_stopping(child)
            try:
                while not self._step(child):
                    pass
            except _Stopped:
                continue
            except Exception as exc:
                failures.append(exc)
        return failures

    def _close_group(self, group: _Group, failed: int) -> None:
        for index, child in enumerate(group.children):
            if index != failed:
                self._close(child)

    def _close(self, task: _Task) -> None:
        if task.group is not None:
            for child in task.group.children:
                self._close(child)
            task.group = None
        task.flow.close()

    def _perform(self, effect: Effect) -> Any:
        if isinstance(effect, Request):
            return self._send(effect)
        if isinstance(effect, ReadFile):
            return _files.read(self.files, effect.path, effect.offset, effect.length)
        if isinstance(effect, Offload):
            return effect.function(*effect.args)
        if isinstance(effect, Decompress):
            return _files.decompress(self.files, effect.path, effect.codec)
        if isinstance(effect, Sleep):
            self.sleeps.append(effect.seconds)
            self.clock += max(effect.seconds, 0.0)
            return None
        if isinstance(effect, Emit):
            self.events.append(effect.event)
            return None
        if isinstance(effect, TempFile):
            path = _files.create_temp(self.files, effect.directory, effect.suffix)
            self._temporary.append(path)
            return path
        if isinstance(effect, WriteFile):
            _files.write_at(self.files, effect.path, effect.offset, effect.data)
            return None
        if isinstance(effect, RemoveFile):
            self.files.pop(effect.path, None)
            return None
        if isinstance(effect, MoveFile):
            _files.move(self.files, effect.source, effect.destination)
            return None
        if isinstance(effect, Cleanup):
            if effect.request is None:
                self._undo.pop(effect.key, None)
            else:
                self._undo[effect.key] = effect.request
            return None
        if isinstance(effect, Parallel):  # handled by `_step`; here only for exhaustiveness
            raise TypeError("Parallel is not a leaf effect")
        assert_never(effect)

    def _send(self, request: Request) -> Response:
        self.requests.append(request)
        outgoing = request
        if isinstance(request.body, FileSlice):
            data = _files.read_slice(self.files, request.body)
            outgoing = dataclasses.replace(request, body=BytesBody(data))
        cut: int | None = None
        try:
            try:
                response = self.handler(outgoing)
            except CutBody as exc:
                response, cut = exc.response, exc.after
        except TransportFailure as exc:
            raise self._stamped(exc, request) from None
        finally:
            self.clock += self.tick
        body = response.body
        sink = request.response_body
        if isinstance(sink, FileSink) and response.status in sink.statuses:
            # In the real drivers' order: open the file, then count what arrives.
            _files.writable(self.files, sink.path, sink.offset)
            if len(body) > sink.length:
                raise TransportFailure(
                    f"the answer is larger than the {sink.length} bytes expected"
                )
            if cut is not None:
                _files.write_at(self.files, sink.path, sink.offset, body[:cut])
                raise self._stamped(_cut_off(received=min(cut, len(body))), request)
            _files.write_at(self.files, sink.path, sink.offset, body)
            return dataclasses.replace(
                response,
                body=b"",
                received_at=self.clock,
                written=len(body),
                written_digest=f"{sink.algorithm}:{hashlib.new(sink.algorithm, body).hexdigest()}",
            )
        if cut is not None:
            raise self._stamped(_cut_off(received=0), request)
        if request.response_body == "discard":
            body = b""
        elif len(body) > request.max_response_bytes:
            raise ResponseTooLarge(f"response body larger than {request.max_response_bytes} bytes")
        return dataclasses.replace(response, body=body, received_at=self.clock)

    def _stamped(self, failure: TransportFailure, request: Request) -> TransportFailure:
        """`failure`, saying which request failed and when, as the real drivers do."""
        failure.url = failure.url or _redact_url(request.url)
        failure.failed_at = self.clock if failure.failed_at is None else failure.failed_at
        return failure


def _cut_off(*, received: int) -> TransportFailure:
    return TransportFailure("connection reset in the middle of the body", received=received)


def _mark_stopping(task: _Task) -> None:
    task.stopping = True
    if task.group is not None:
        for child in task.group.children:
            _mark_stopping(child)
