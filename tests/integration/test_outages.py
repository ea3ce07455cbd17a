"""A registry restarting in the middle of a push is waited for; one that never answered fails
at once (the retry policy's outage allowance, registry_proto/_retry.py).

The real registry is stopped in the middle of a push, from the push's own progress callback,
and started again on the same port, configuration and storage about two seconds later.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from registry_proto import BlobProgress, BlobUploaded, ConnectFailure, PushEvent
from tests.integration.adapters import ADAPTERS, call
from tests.integration.images import verify_pushed_image
from tests.integration.registry_server import RegistryConfig, RegistryFactory, free_port

DOWN_FOR = 2.0


@pytest.mark.parametrize(
    ("adapter", "chunk_size"),
    [("sync", None), ("asyncio", 4096), ("trio", None), ("sync", 4096)],
)
def test_a_push_survives_a_registry_restart(
    adapter: str, chunk_size: int | None, registry_factory: RegistryFactory, docker_archive: Path
) -> None:
    server = registry_factory(RegistryConfig())
    timers: list[threading.Timer] = []

    def due(event: PushEvent) -> bool:
        if chunk_size is None:
            return isinstance(event, BlobUploaded)  # between two blobs
        # Between two chunks of a blob, once the registry acknowledged the first.
        return isinstance(event, BlobProgress) and 0 < event.sent < event.total

    def progress(event: PushEvent) -> None:
        if not timers and due(event):
            server.pause()
            timers.append(threading.Timer(DOWN_FOR, server.resume))
            timers[0].start()

    try:
        digest = call(
            adapter,
            "push_docker_tar",
            docker_archive,
            server.url,
            "restart/app",
            "1",
            chunk_size=chunk_size,
            max_concurrency=1,
            progress=progress,
            docker_config=False,
        )
    finally:
        for timer in timers:
            timer.join()
    assert timers, "the registry was never stopped"
    assert verify_pushed_image(server.host, "restart/app", "1").manifest_digest == digest


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_registry_that_never_answered_fails_at_once(adapter: str, docker_archive: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ConnectFailure):
        call(
            adapter,
            "push_docker_tar",
            docker_archive,
            f"http://127.0.0.1:{free_port()}",
            "nothing/here",
            "1",
            docker_config=False,
        )
    assert time.monotonic() - started < 2.0
