"""The closed set of effects a flow may yield, and the typed helpers that yield them.

A flow is a generator `Flow[T]`: it yields effects, a driver performs them and sends the
result back, and the flow finally returns a `T`. Flows never write a bare `yield`; they call
the helpers below with `yield from`, which keeps every result precisely typed under mypy.

| effect        | the driver answers with                                   |
|---------------|-----------------------------------------------------------|
| `Request`     | a `Response` (or throws `TransportFailure` into the flow) |
| `Sleep`       | `None`, after waiting                                     |
| `Parallel`    | the children's results in input order                     |
| `Emit`        | `None`, after handing the event to the caller             |
| `ReadFile`    | the bytes read (fewer only at end of file)                |
| `Decompress`  | the path of a decompressed copy the driver owns           |
| `Offload`     | what the function returned, run off the event loop        |
| `TempFile`    | the path of a new empty file the driver owns              |
| `WriteFile`   | `None`, once `data` is written at `offset`                |
| `MoveFile`    | `None`, once the file is renamed into place               |
| `RemoveFile`  | `None`, once the file is gone (or was never there)        |
| `Cleanup`     | `None`, once the request is kept (or withdrawn)           |
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar, cast

from ._errors import RegistryProtoError
from ._models import Request, Response

__all__ = [
    "Cleanup",
    "Decompress",
    "Effect",
    "Emit",
    "Flow",
    "MoveFile",
    "Offload",
    "Parallel",
    "ReadFile",
    "RemoveFile",
    "Sleep",
    "TempFile",
    "WriteFile",
    "cleanup_done",
    "cleanup_later",
    "decompressed",
    "emit",
    "http",
    "move_file",
    "offload",
    "parallel",
    "read_file",
    "remove_file",
    "send_cleanups",
    "sleep",
    "temp_file",
    "write_file",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait `seconds` before going on (retry backoff)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Emit:
    """Hand `event` to the caller (progress), or to the logs (a `Notice`)."""

    event: object


@dataclass(frozen=True, slots=True)
class ReadFile:
    """Read up to `length` bytes of a local file from `offset` (archive indexes, JSON members)."""

    path: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Parallel:
    """Run independent sub-flows, at most `limit` at a time.

    The driver answers with their results in input order. If any child fails, the driver
    stops the others (as far as it can) and throws an `ExceptionGroup` of the failures into the
    parent flow.
    """

    flows: tuple[Flow[Any], ...]
    limit: int

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("parallel limit must be at least 1")


@dataclass(frozen=True, slots=True)
class Decompress:
    """Decompress the whole file at `path` (`codec`: gzip, xz, bzip2 or zstd).

    The driver writes the result to a temporary file that lives until the outermost flow it is
    running ends, and answers with that file's path. A compressed archive cannot be read at
    random offsets, so this is the one place where content is copied.
    """

    path: str
    codec: str


@dataclass(frozen=True, slots=True)
class Offload:
    """Call `function(*args)`, a pure CPU-bound step (hashing, compressing), off the event loop.

    The function must not do I/O; the async driver runs it in a worker thread so the event
    loop stays responsive, the blocking driver calls it in place.
    """

    function: Callable[..., Any]
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class TempFile:
    """Create an empty file in `directory` (the system's temporary directory when empty) and
    answer with its path.

    The driver removes it when the outermost flow ends, unless a `MoveFile` put it in place:
    an output that failed halfway never remains.
    """

    directory: str
    suffix: str = ""


@dataclass(frozen=True, slots=True)
class WriteFile:
    """Write `data` into the existing file at `path`, from `offset`."""

    path: str
    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class RemoveFile:
    """Delete the file at `path`, if it exists (a temporary file no longer needed)."""

    path: str


@dataclass(frozen=True, slots=True)
class MoveFile:
    """Rename `source` to `destination` (replacing it) in one step."""

    source: str
    destination: str


@dataclass(frozen=True, slots=True)
class Cleanup:
    """Keep `request` under `key`, to be sent when the outermost run ends; `request=None`
    withdraws whatever `key` held.

    It undoes a step that a flow can no longer undo itself once it is closed: an upload
    session left open when a cancellation, or a sibling's failure, closes the flow (flows never
    yield in `finally`). The driver sends what is left best effort, within a few seconds,
    shielded from the cancellation, and ignores the answers.
    """

    key: str
    request: Request | None


Effect: TypeAlias = (
    Request
    | Sleep
    | Parallel
    | Emit
    | ReadFile
    | Decompress
    | Offload
    | TempFile
    | WriteFile
    | MoveFile
    | RemoveFile
    | Cleanup
)
Flow: TypeAlias = Generator[Effect, Any, T]


def http(request: Request) -> Flow[Response]:
    """Send `request`; return the response."""
    response = yield request
    return cast(Response, response)


def sleep(seconds: float) -> Flow[None]:
    """Wait `seconds`."""
    yield Sleep(seconds)


def emit(event: object) -> Flow[None]:
    """Hand `event` to the caller."""
    yield Emit(event)


def read_file(path: str, offset: int, length: int) -> Flow[bytes]:
    """Read up to `length` bytes of `path` from `offset`."""
    data = yield ReadFile(path, offset, length)
    return cast(bytes, data)


def decompressed(path: str, codec: str) -> Flow[str]:
    """The path of a decompressed copy of `path`."""
    result = yield Decompress(path, codec)
    return cast(str, result)


def offload(function: Callable[..., T], *args: Any) -> Flow[T]:
    """`function(*args)`, computed off the event loop."""
    result = yield Offload(function, args)
    return cast(T, result)


def temp_file(directory: str, suffix: str = "") -> Flow[str]:
    """The path of a new empty file in `directory`, removed unless moved into place."""
    path = yield TempFile(directory, suffix)
    return cast(str, path)


def write_file(path: str, offset: int, data: bytes) -> Flow[None]:
    """Write `data` into `path` at `offset`."""
    yield WriteFile(path, offset, data)


def move_file(source: str, destination: str) -> Flow[None]:
    """Rename `source` to `destination`."""
    yield MoveFile(source, destination)


def remove_file(path: str) -> Flow[None]:
    """Delete `path` if it exists."""
    yield RemoveFile(path)


def cleanup_later(key: str, request: Request) -> Flow[None]:
    """Have `request` sent when the run ends, unless `cleanup_done(key)` comes first."""
    yield Cleanup(key, request)


def cleanup_done(key: str) -> Flow[None]:
    """Nothing is left to undo under `key`."""
    yield Cleanup(key, None)


def send_cleanups(requests: Sequence[Request]) -> Flow[None]:
    """Send what runs left to undo (`Cleanup`), each whatever became of the others; answers
    and failures are ignored: an undo is best effort."""
    for request in requests:
        try:
            yield from http(request)
        except RegistryProtoError:
            continue


def parallel(flows: Sequence[Flow[T]], *, limit: int) -> Flow[list[T]]:
    """Run `flows` concurrently, at most `limit` at once; return their results in order.

    When children fail, the first failure is raised here, with the driver's whole
    `ExceptionGroup` kept as its `__cause__`, so callers catch the same error types whether a
    step ran alone or among siblings.
    """
    if not flows:
        return []
    if len(flows) == 1:
        # Nothing to overlap: run it inline, which also keeps tracebacks short.
        return [(yield from flows[0])]
    try:
        results = yield Parallel(tuple(flows), max(1, limit))
    except BaseExceptionGroup as group:
        first = _first_leaf(group)
        raise first from group
    return cast(list[T], results)


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc
