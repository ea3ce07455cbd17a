"""Upload sessions never outlive a push on a real registry: a failed or interrupted push
cancels every session it opened.

distribution keeps an open session as `_uploads/<uuid>/` with a `startedat` file in the
repository's storage; cancelling one removes that file (and leaves an empty `hashstates`
behind).

distribution refuses any request to a session whose `_state` does not match the bytes it
holds, and sends no new `_state` with an error. So a session whose request was cut off in the
middle can no longer be cancelled (which is why a failed child's siblings finish the request
they are sending before they stop), and neither can one whose closing `PUT` carried a body it
refused: a monolithic upload that fails leaves its own session to distribution's purge.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import anyio
import pytest

import registry_async
import registry_sync
from registry_proto import BlobProgress, DigestInvalid
from tests.integration.adapters import ADAPTERS, call
from tests.integration.registry_server import RegistryServer
from tests.integration.throttle import ThrottlingProxy
from tests.proto.pure_support import make_image_archive

KiB = 1024
MiB = 1024 * KiB
NO_CONFIG: dict[str, Any] = {"docker_config": False, "retries": 0}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def open_sessions(server: RegistryServer, repository: str) -> list[str]:
    uploads = server.storage_dir / f"docker/registry/v2/repositories/{repository}/_uploads"
    return sorted(path.parent.name for path in uploads.glob("*/startedat"))


def layer(number: int, size: int) -> bytes:
    return (f"layer {number} ".encode() * size)[:size]


@pytest.mark.parametrize("chunk_size", [None, 64 * KiB], ids=["monolithic", "chunked"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_failed_push_leaves_no_upload_session(
    adapter: str, chunk_size: int | None, registry_server: RegistryServer, tmp_path: Path
) -> None:
    """A small layer fails (its bytes do not match its diff_id) while three big ones are on
    their way through a slow link: none of theirs is left open, nor the failed one's when it
    was sent in chunks (it is larger than one chunk: a blob that fits in one goes in one
    `PUT`)."""
    layers = [layer(8, 96 * KiB), *(layer(n, 2 * MiB) for n in range(3))]
    diff_ids = [sha256(b"something else"), *(sha256(data) for data in layers[1:])]
    archive = tmp_path / "corrupt.tar"
    archive.write_bytes(make_image_archive(layers, repo_tags=["app:1"], diff_ids=diff_ids))
    repository = f"sessions/failed-{adapter}-{chunk_size or 0}"
    upstream = ("127.0.0.1", registry_server.port)

    with ThrottlingProxy(upstream, 4 * MiB) as proxy, pytest.raises(DigestInvalid):
        call(
            adapter,
            "push_docker_tar",
            archive,
            proxy.url,
            repository,
            "1",
            max_concurrency=5,
            chunk_size=chunk_size,
            **NO_CONFIG,
        )

    # A refused monolithic PUT's session cannot be cancelled on distribution (see above).
    assert len(open_sessions(registry_server, repository)) == (1 if chunk_size is None else 0)


class Interrupted(BaseException):
    """What a Ctrl-C is to a worker thread: not an error, an interruption."""


def _between_chunks(event: object, size: int) -> bool:
    """A chunk of the layer was acknowledged and the next is not sent yet (the flow's own
    progress event, counting the whole layer; the driver's count one request's body)."""
    return isinstance(event, BlobProgress) and event.total == size and 0 < event.sent < size


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_interrupted_push_leaves_no_upload_session(
    adapter: str, registry_server: RegistryServer, tmp_path: Path
) -> None:
    size = 3 * MiB
    archive = tmp_path / "image.tar"
    archive.write_bytes(make_image_archive([layer(9, size)], repo_tags=["app:1"]))
    repository = f"sessions/interrupted-{adapter}"
    args = (archive, registry_server.url, repository, "1")
    options: dict[str, Any] = {"chunk_size": MiB, "max_concurrency": 1, **NO_CONFIG}

    if adapter == "sync":

        def interrupt(event: object) -> None:
            if _between_chunks(event, size):
                raise Interrupted

        with pytest.raises(Interrupted):
            registry_sync.push_docker_tar(*args, progress=interrupt, **options)
    else:

        async def push() -> bool:
            with anyio.CancelScope() as scope:

                def cancel(event: object) -> None:
                    if _between_chunks(event, size):
                        scope.cancel()

                await registry_async.push_docker_tar(*args, progress=cancel, **options)
            return scope.cancelled_caught

        assert anyio.run(push, backend=adapter)

    assert open_sessions(registry_server, repository) == []
