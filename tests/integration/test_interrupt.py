"""Ctrl-C during a blocking push: the KeyboardInterrupt surfaces at once, the uploads still
queued are never started, and nothing is left behind.

The push runs in a child process against a real registry, through a proxy that slows uploads
down; the child says when the first bytes are out, and the test sends it SIGINT.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.registry_server import RegistryServer
from tests.integration.throttle import ThrottlingProxy
from tests.proto.pure_support import make_image_archive

LAYERS = 8
LAYER_SIZE = 4 * 1024 * 1024
RATE = 4 * 1024 * 1024  # bytes per second: the whole push would take about 8 seconds
# How long the interrupt may take to surface: the running uploads stop at their next chunk.
PROMPTLY = 2.0

CHILD = """
import sys
import registry_sync

announced = False

def progress(event):
    global announced
    if not announced:
        announced = True
        print("uploading", flush=True)

registry_sync.push_docker_tar(
    sys.argv[1], sys.argv[2], "interrupt/app", "1",
    progress=progress, docker_config=False, max_concurrency=2, retries=0,
)
print("finished", flush=True)
"""


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gzip-compressed archive (decompressed to a temporary file by the push) of 8 layers."""
    layers = [(f"layer {n} ".encode() * LAYER_SIZE)[:LAYER_SIZE] for n in range(LAYERS)]
    path = tmp_path_factory.mktemp("interrupt") / "big.tar.gz"
    path.write_bytes(gzip.compress(make_image_archive(layers, repo_tags=["app:1"]), 1))
    return path


def test_ctrl_c_stops_a_blocking_push_at_once(
    registry_server: RegistryServer, big_archive: Path, tmp_path: Path
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment = {**os.environ, "TMPDIR": str(temporary)}
    upstream = ("127.0.0.1", registry_server.port)
    with ThrottlingProxy(upstream, RATE) as proxy:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(big_archive), proxy.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            text=True,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "uploading\n"
            interrupted = time.monotonic()
            child.send_signal(signal.SIGINT)
            _, errors = child.communicate(timeout=30)
            took = time.monotonic() - interrupted
        finally:
            child.kill()
            child.wait()

    assert "KeyboardInterrupt" in errors.splitlines()[-1]
    assert took < PROMPTLY, f"the interrupt surfaced after {took:.1f} s"
    assert list(temporary.iterdir()) == []
    # Only the uploads running at the interrupt (two at a time) had begun; none after it.
    stored = registry_server.storage_dir / "docker/registry/v2/repositories/interrupt/app/_layers"
    assert len(list(stored.rglob("link"))) <= 2
