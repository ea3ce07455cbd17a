"""A cancelled or failed run under the async driver leaves nothing behind: no open file, no
temporary file, under asyncio and trio, whether cancelled through anyio or natively
(`asyncio.Task.cancel`, as `asyncio.wait_for` does).

The registry is the in-memory one behind `httpx.MockTransport`, so the only file descriptors
the process opens during a run are the driver's own.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import IO, Any

import anyio
import anyio.to_thread
import httpx
import pytest

from registry_async._driver import AsyncDriver
from registry_io import files
from registry_proto import Flow
from registry_proto import operations as ops
from registry_proto.testing import FakeRegistry, PureDriver
from tests.adapters.mock_registry import MockRegistry
from tests.fixture_archives import fixture_path
from tests.proto.pure_support import make_image_archive, sha256

REGISTRY = "http://registry.test:5000"
LAYERS = [f"layer {n} ".encode() * 20_000 for n in range(4)]
GZIPPED = "e-docker-save-gzip-alpine310.tar.gz"


def open_files(under: Path) -> list[str]:
    """What this process's open file descriptors point at below `under` (deleted or not)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed since it was listed
            continue
        if target.startswith(str(under)):
            found.append(target)
    return found


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def pushed_image() -> FakeRegistry:
    fake = FakeRegistry()
    archive = {"image.tar": make_image_archive(LAYERS, repo_tags=["app:1"])}
    PureDriver(fake.handle, files=archive).run(
        ops.push_docker_tar("image.tar", REGISTRY, "app", "1")
    )
    return fake


async def cancel_after(
    ready: Callable[[], Awaitable[None]],
    run: Callable[[], Awaitable[Any]],
    how: str,
    then: Callable[[], None] = lambda: None,
) -> BaseException | None:
    """Start `run()`, wait for `ready()`, then cancel it: through an anyio cancel scope, or
    natively (asyncio only), and call `then()`. Return what `run()` raised, once it is over."""
    outcome: list[BaseException] = []

    async def guarded() -> None:
        try:
            await run()
        except BaseException as exc:
            outcome.append(exc)
            raise

    if how == "native":
        task = asyncio.ensure_future(guarded())
        await ready()
        task.cancel()
        then()
        with pytest.raises(asyncio.CancelledError):
            await task
    else:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as group:
                group.start_soon(guarded)
                await ready()
                scope.cancel()
                then()
    return outcome[0] if outcome else None


def ways_to_stop(backend: str) -> list[str]:
    return ["scope", "native"] if backend == "asyncio" else ["scope"]


# -- pulls: the partial archive's file handles ------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["scope", "native", "failure"])
async def test_a_stopped_pull_keeps_no_file_open(
    how: str, anyio_backend: str, tmp_path: Path
) -> None:
    if how not in [*ways_to_stop(anyio_backend), "failure"]:
        pytest.skip("native cancellation is asyncio's")
    mock = MockRegistry(pushed_image())
    layer_paths = {f"/v2/app/blobs/{sha256(layer)}" for layer in LAYERS}
    streaming = 0
    all_streaming = anyio.Event()
    never = anyio.Event()

    async def stalled(data: bytes) -> AsyncIterator[bytes]:
        nonlocal streaming
        yield data[:1000]
        streaming += 1
        if streaming == len(LAYERS):
            all_streaming.set()
            if how == "failure":  # the last one breaks, while the others are mid-way
                raise httpx.ReadError("connection reset")
        await never.wait()

    async def handler(request: httpx.Request) -> httpx.Response:
        answer = await mock.ahandle(request)
        if request.method == "GET" and request.url.path in layer_paths:
            return httpx.Response(200, content=stalled(answer.content))
        return answer

    destination = tmp_path / "pulled.tar"
    before = fd_count()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        driver = AsyncDriver(client)

        def pull() -> Awaitable[Any]:
            return driver.run(ops.pull_image(REGISTRY, "app", "1", destination, max_concurrency=4))

        if how == "failure":
            with pytest.raises(Exception, match="connection reset"):
                await pull()
        else:
            await cancel_after(all_streaming.wait, pull, how)

    assert open_files(tmp_path) == []
    assert fd_count() == before
    assert list(tmp_path.iterdir()) == []


# -- pushes: the decompressed copy of a compressed archive ------------------------------------


class _GatedReader:
    """A decompressing reader that stops after its first read until `gate` opens, so a test
    can stop a run in the middle of a decompression."""

    def __init__(self, inner: IO[bytes], reading: anyio.Event, gate: threading.Event) -> None:
        self._inner = inner
        self._reading = reading
        self._gate = gate
        self._reads = 0
        self.closed = threading.Event()

    def read(self, size: int = -1) -> bytes:
        self._reads += 1
        if self._reads == 2:
            anyio.from_thread.run_sync(self._reading.set)
            self._gate.wait()
        return self._inner.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __enter__(self) -> _GatedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()
        self.closed.set()


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["scope", "native"])
async def test_a_push_stopped_while_decompressing_leaves_no_temporary_file(
    how: str, anyio_backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if how not in ways_to_stop(anyio_backend):
        pytest.skip("native cancellation is asyncio's")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temporary))
    archive = tmp_path / GZIPPED
    archive.write_bytes(fixture_path(GZIPPED).read_bytes())
    reading, gate = anyio.Event(), threading.Event()
    readers: list[_GatedReader] = []
    real_open = files._open_decompressing

    def gated(path: str, codec: str) -> Any:
        readers.append(_GatedReader(real_open(path, codec), reading, gate))  # type: ignore[arg-type]
        return readers[-1]

    monkeypatch.setattr(files, "_open_decompressing", gated)
    before = fd_count()
    async with httpx.AsyncClient(transport=MockRegistry().async_transport()) as client:
        driver = AsyncDriver(client)
        flow: Flow[str] = ops.push_docker_tar(str(archive), REGISTRY, "app", "1")
        try:
            await cancel_after(reading.wait, lambda: driver.run(flow), how, then=gate.set)
        finally:
            gate.set()
        # Whatever the driver did, the worker is done once its reader is closed.
        await anyio.to_thread.run_sync(readers[0].closed.wait)

    assert list(temporary.iterdir()) == []
    assert open_files(tmp_path) == []
    assert fd_count() == before
