"""Progress of pushes, pulls and copies against a real registry, through every adapter, from
the module-level functions and from the clients: a start with the totals, byte progress per
blob in both directions, an event per blob and per manifest."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import anyio
import pytest

import registry_async
import registry_sync
from registry_proto import (
    BlobDownloaded,
    BlobMounted,
    BlobProgress,
    BlobSkipped,
    BlobUploaded,
    ManifestPulled,
    ManifestPushed,
    ProgressEvent,
    TransferStarted,
)
from tests.integration.adapters import ADAPTERS, call
from tests.integration.registry_server import RegistryConfig, RegistryFactory, RegistryServer
from tests.proto.pure_support import make_image_archive, sha256

MIB = 1024 * 1024
# Incompressible and over 2 MiB, so its bytes are reported more than once on the way.
BIG_LAYER = random.Random(20240611).randbytes(2 * MIB + 12345)
SMALL_LAYER = b"a small layer " * 100


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "image.tar"
    path.write_bytes(make_image_archive([BIG_LAYER, SMALL_LAYER]))
    return path


def _with_client(adapter: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """Run the method `name` of a client made for the call."""
    if adapter == "sync":
        with registry_sync.RegistryClient() as client:
            return getattr(client, name)(*args, **kwargs)

    async def main() -> Any:
        async with registry_async.AsyncRegistryClient() as client:
            return await getattr(client, name)(*args, **kwargs)

    return anyio.run(main, backend=adapter)


def _observed(adapter: str, through: str, name: str, *args: Any) -> tuple[Any, list[ProgressEvent]]:
    """The result of the operation `name` run through `adapter`, by the module-level function
    or by a client's method, and the progress events it reported."""
    events: list[ProgressEvent] = []
    run = call if through == "function" else _with_client
    return run(adapter, name, *args, progress=events.append), events


def _progress(events: list[ProgressEvent], digest: str) -> list[BlobProgress]:
    return [e for e in events if isinstance(e, BlobProgress) and e.digest == digest]


def _check_bytes(events: list[ProgressEvent], direction: str) -> None:
    """The big layer's bytes are reported more than once, growing to its size, and before
    the event that says it is done."""
    big = sha256(BIG_LAYER)
    reported = [p for p in _progress(events, big) if p.direction == direction]
    assert len(reported) >= 2
    assert [p.sent for p in reported] == sorted(p.sent for p in reported)
    assert reported[-1].sent == reported[-1].total == len(BIG_LAYER)
    done = BlobDownloaded if direction == "download" else BlobUploaded
    finished = next(i for i, e in enumerate(events) if isinstance(e, done) and _digest(e) == big)
    assert events.index(reported[-1]) < finished


def _digest(event: ProgressEvent) -> str:
    return event.source_digest if isinstance(event, BlobUploaded) else getattr(event, "digest", "")


def _start(events: list[ProgressEvent], what: str) -> TransferStarted:
    first = events[0]
    assert isinstance(first, TransferStarted)
    assert first.what == what
    assert first.total_blobs == 3  # the config and two layers
    assert first.total_bytes > len(BIG_LAYER) + len(SMALL_LAYER)
    return first


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("through", ["function", "client"])
def test_push_progress(
    adapter: str, through: str, archive: Path, registry_server: RegistryServer
) -> None:
    repository = f"progress/push-{adapter}-{through}"
    digest, events = _observed(
        adapter, through, "push_docker_tar", archive, registry_server.url, repository, "1"
    )
    start = _start(events, "push")
    assert start.repository == repository
    _check_bytes(events, "upload")
    uploaded = [e for e in events if isinstance(e, BlobUploaded)]
    assert sum(e.size for e in uploaded) == start.total_bytes
    assert events[-1] == ManifestPushed(repository, "1", digest)


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("through", ["function", "client"])
def test_pull_progress(
    adapter: str, through: str, archive: Path, registry_server: RegistryServer, tmp_path: Path
) -> None:
    repository = f"progress/pull-{adapter}-{through}"
    digest = registry_sync.push_docker_tar(archive, registry_server.url, repository, "1")
    destination = tmp_path / "pulled.tar"
    result, events = _observed(
        adapter, through, "pull_image", registry_server.url, repository, "1", destination
    )
    assert result.digest == digest
    start = _start(events, "pull")
    assert start.repository == repository
    _check_bytes(events, "download")
    downloaded = [e for e in events if isinstance(e, BlobDownloaded)]
    assert len(downloaded) == 3
    assert sum(e.size for e in downloaded) == start.total_bytes
    assert {p.direction for p in events if isinstance(p, BlobProgress)} == {"download"}
    assert events[-1] == ManifestPulled(repository, "1", digest, str(destination))


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("through", ["function", "client"])
def test_copy_progress_between_registries(
    adapter: str,
    through: str,
    archive: Path,
    registry_server: RegistryServer,
    registry_factory: RegistryFactory,
) -> None:
    other = registry_factory(RegistryConfig())
    source = f"progress/copy-{adapter}-{through}"
    digest = registry_sync.push_docker_tar(archive, registry_server.url, source, "1")
    where = (registry_server.url, source, "1", other.url, "copied")
    copied, events = _observed(adapter, through, "copy_image", *where)
    assert copied == digest
    start = _start(events, "copy")
    assert start.repository == "copied"
    # Each blob comes down into a temporary file, then goes up.
    _check_bytes(events, "download")
    _check_bytes(events, "upload")
    big = sha256(BIG_LAYER)
    directions = [p.direction for p in _progress(events, big)]
    assert directions == sorted(directions)  # every download report before the uploads
    assert len([e for e in events if isinstance(e, BlobDownloaded)]) == 3
    assert len([e for e in events if isinstance(e, BlobUploaded)]) == 3
    assert events[-1] == ManifestPushed("copied", "1", digest)

    # Again: the destination has it all.
    _, again = _observed(adapter, through, "copy_image", *where, "2")
    assert [type(e) for e in again] == [
        TransferStarted,
        BlobSkipped,
        BlobSkipped,
        BlobSkipped,
        ManifestPushed,
    ]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_copy_progress_within_a_registry(
    adapter: str, archive: Path, registry_server: RegistryServer
) -> None:
    source = f"progress/here-{adapter}"
    digest = registry_sync.push_docker_tar(archive, registry_server.url, source, "1")
    where = (registry_server.url, source, "1", registry_server.url, f"progress/there-{adapter}")
    _, events = _observed(adapter, "function", "copy_image", *where)
    assert [type(e) for e in events] == [
        TransferStarted,
        BlobMounted,
        BlobMounted,
        BlobMounted,
        ManifestPushed,
    ]
    assert events[-1] == ManifestPushed(f"progress/there-{adapter}", "1", digest)
