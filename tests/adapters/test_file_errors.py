"""The pure driver fails every file effect the way the real drivers do: the same error class
with the same message, so a flow tested under the pure driver meets the real drivers' errors.

Each case runs under the pure driver (files in a mapping) and under the blocking and async
drivers (the same files on disk, answers from the in-memory registry).
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from registry_async._driver import AsyncDriver
from registry_proto import (
    ArchiveWriteError,
    FileSink,
    FileSlice,
    Flow,
    RegistryProtoError,
    Request,
    TarReadError,
    TransportFailure,
    http,
)
from registry_proto._effects import decompressed, move_file, read_file, temp_file, write_file
from registry_proto.testing import FakeRegistry, PureDriver
from registry_sync._driver import SyncDriver
from tests.adapters.mock_registry import MockRegistry

REGISTRY = "http://registry.test:5000"
# Present in every case: a small file, and a file other paths pretend is a directory.
BLOB = b"abc"
FILES = {"present": b"0123456789", "afile": b"x", "packed.gz": gzip.compress(b"plain")}

Case = Callable[[str], Flow[object]]


def _receive(sink: FileSink) -> Flow[object]:
    """Fetch the registry's one blob into `sink`."""
    url = f"{REGISTRY}/v2/app/blobs/sha256:{hashlib.sha256(BLOB).hexdigest()}"
    response = yield from http(Request(method="GET", url=url, response_body=sink))
    return response.written


def _send(body: FileSlice) -> Flow[object]:
    response = yield from http(Request(method="PUT", url=f"{REGISTRY}/v2/", body=body))
    return response.status


CASES: dict[str, tuple[type[RegistryProtoError], Case]] = {
    "read a missing file": (TarReadError, lambda d: read_file(f"{d}/missing", 0, 4)),
    "read below a file": (TarReadError, lambda d: read_file(f"{d}/afile/x", 0, 4)),
    "read before the start": (TarReadError, lambda d: read_file(f"{d}/present", -1, 4)),
    "send a missing file": (TarReadError, lambda d: _send(FileSlice(f"{d}/missing", 0, 4))),
    "send past the end": (TarReadError, lambda d: _send(FileSlice(f"{d}/present", 5, 10))),
    "decompress a missing file": (TarReadError, lambda d: decompressed(f"{d}/missing", "gzip")),
    "decompress an unknown codec": (TarReadError, lambda d: decompressed(f"{d}/packed.gz", "lz")),
    "decompress garbage": (TarReadError, lambda d: decompressed(f"{d}/present", "xz")),
    "write a missing file": (ArchiveWriteError, lambda d: write_file(f"{d}/missing", 0, b"x")),
    "write below a file": (ArchiveWriteError, lambda d: write_file(f"{d}/afile/x", 0, b"x")),
    "write before the start": (ArchiveWriteError, lambda d: write_file(f"{d}/present", -1, b"x")),
    "move a missing file": (
        ArchiveWriteError,
        lambda d: move_file(f"{d}/missing", f"{d}/moved"),
    ),
    "move below a file": (ArchiveWriteError, lambda d: move_file(f"{d}/present", f"{d}/afile/x")),
    "temporary file in a file": (ArchiveWriteError, lambda d: temp_file(f"{d}/afile")),
    "temporary file below a file": (ArchiveWriteError, lambda d: temp_file(f"{d}/afile/sub")),
    "receive into a missing file": (
        ArchiveWriteError,
        lambda d: _receive(FileSink(f"{d}/missing", 0, 3)),
    ),
    "receive more than expected": (
        TransportFailure,
        lambda d: _receive(FileSink(f"{d}/present", 0, 2)),
    ),
}


def _registry() -> FakeRegistry:
    fake = FakeRegistry()
    fake.add_blob("app", BLOB)
    return fake


def _on_disk(tmp_path: Path) -> str:
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    return str(tmp_path)


def _failure(run: Callable[[], object], directory: str) -> tuple[type[BaseException], str]:
    """The class of the error `run` raised, and its message with `directory` left out."""
    with pytest.raises(RegistryProtoError) as caught:
        run()
    return _neutral(caught.value, directory)


def _neutral(error: BaseException, directory: str) -> tuple[type[BaseException], str]:
    return type(error), str(error).replace(directory, "<dir>")


def _pure(case: Case) -> tuple[type[BaseException], str]:
    directory = "/data"
    files = {f"{directory}/{name}": data for name, data in FILES.items()}
    driver = PureDriver(_registry().handle, files=files)
    return _failure(lambda: driver.run(case(directory)), directory)


@pytest.mark.parametrize(("expected", "case"), CASES.values(), ids=CASES.keys())
def test_the_blocking_driver_fails_like_the_pure_driver(
    tmp_path: Path, expected: type[RegistryProtoError], case: Case
) -> None:
    directory = _on_disk(tmp_path)
    with httpx.Client(transport=MockRegistry(_registry()).transport()) as client:
        real = _failure(lambda: SyncDriver(client).run(case(directory)), directory)
    assert real == _pure(case)
    assert real[0] is expected


@pytest.mark.anyio
@pytest.mark.parametrize(("expected", "case"), CASES.values(), ids=CASES.keys())
async def test_the_async_driver_fails_like_the_pure_driver(
    tmp_path: Path, expected: type[RegistryProtoError], case: Case
) -> None:
    directory = _on_disk(tmp_path)
    transport = MockRegistry(_registry()).async_transport()
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(RegistryProtoError) as caught:
            await AsyncDriver(client).run(case(directory))
    real = _neutral(caught.value, directory)
    assert real == _pure(case)
    assert real[0] is expected
