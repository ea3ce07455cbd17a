"""Pulled archives get the mode any new file of the process gets: 0666 less the umask (not
the 0600 of the temporary file they are written as)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from registry_async._driver import AsyncDriver
from registry_io import files
from registry_proto import operations as ops
from registry_proto.testing import FakeRegistry, PureDriver
from registry_sync._driver import SyncDriver
from tests.adapters.mock_registry import MockRegistry
from tests.proto.pure_support import make_image_archive

REGISTRY = "http://registry.test:5000"
ARCHIVE = "image.tar"
FILES = {ARCHIVE: make_image_archive([b"a layer " * 100])}


@pytest.fixture
def mock() -> MockRegistry:
    fake = FakeRegistry(files=FILES)
    PureDriver(fake.handle, files=FILES).run(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1"))
    return MockRegistry(fake)


@pytest.fixture(params=[0o022, 0o027, 0o077])
def umask(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The process umask for one test, read afresh by the library."""
    mask: int = request.param
    previous = os.umask(mask)
    monkeypatch.setattr(files, "_umask", None)
    try:
        yield mask
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_umask_is_read_without_changing_it(umask: int) -> None:
    assert files.umask() == umask
    assert os.umask(umask) == umask  # still what it was


def test_a_pulled_archive_follows_the_umask_sync(
    mock: MockRegistry, umask: int, tmp_path: Path
) -> None:
    destination = tmp_path / "pulled.tar"
    with httpx.Client(transport=mock.transport()) as client:
        SyncDriver(client).run(ops.pull_image(REGISTRY, "app", "1", destination))
    assert _mode(destination) == 0o666 & ~umask


@pytest.mark.anyio
async def test_a_pulled_archive_follows_the_umask_async(
    mock: MockRegistry, umask: int, tmp_path: Path
) -> None:
    destination = tmp_path / "pulled.tar"
    async with httpx.AsyncClient(transport=mock.async_transport()) as client:
        await AsyncDriver(client).run(ops.pull_image(REGISTRY, "app", "1", destination))
    assert _mode(destination) == 0o666 & ~umask
