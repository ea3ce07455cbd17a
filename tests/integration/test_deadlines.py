"""Time limits against registries that misbehave: one that stalls fails after one timeout and is
not asked again; one that trickles a byte at a time, which no timeout catches, is stopped by the
call's deadline. Short timeouts keep the tests fast; the defaults are checked separately."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from registry_proto import DeadlineExceeded, TimedOut
from tests.integration.adapters import ADAPTERS, call
from tests.integration.slow_server import Answer, Behaviour, SlowServer, Stall, Trickle

OPTIONS = {"docker_config": False, "timeout": 0.5}


def _stalling(method: str, path: str) -> Behaviour:
    return Stall()


def _trickling(method: str, path: str) -> Behaviour:
    return Trickle(length=1024 * 1024)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_stalled_registry_fails_after_one_timeout_not_retried(adapter: str) -> None:
    with SlowServer(_stalling) as server:
        started = time.monotonic()
        with pytest.raises(TimedOut) as caught:
            call(adapter, "list_tags", server.url, "stalled/app", **OPTIONS)
        elapsed = time.monotonic() - started
        assert server.requests == [("GET", "/v2/stalled/app/tags/list?n=1000")]
    assert not isinstance(caught.value, DeadlineExceeded)
    assert 0.5 <= elapsed < 3.0


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_trickling_registry_is_stopped_by_the_deadline(adapter: str) -> None:
    with SlowServer(_trickling) as server:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded, match="deadline of 1 s"):
            call(adapter, "list_tags", server.url, "slow/app", deadline=1.0, **OPTIONS)
        elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 3.0


CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"diff_ids": []}}).encode()
LAYER_SIZE = 4096


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": _digest(CONFIG),
            "size": len(CONFIG),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": "sha256:" + "3" * 64,
                "size": LAYER_SIZE,
            }
        ],
    }
).encode()


def _slow_layer(method: str, path: str) -> Behaviour:
    """A registry serving an image whose layer trickles."""
    if path.endswith("/manifests/1"):
        media_type = ("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        return Answer(200, MANIFEST, (media_type, ("Docker-Content-Digest", _digest(MANIFEST))))
    if path.endswith(_digest(CONFIG)):
        return Answer(200, CONFIG)
    return Trickle(length=LAYER_SIZE)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_pull_past_its_deadline_leaves_nothing_behind(adapter: str, tmp_path: Path) -> None:
    destination = tmp_path / "image.tar"
    with SlowServer(_slow_layer) as server, pytest.raises(DeadlineExceeded):
        call(
            adapter, "pull_image", server.url, "slow/app", "1", destination, deadline=1.0, **OPTIONS
        )
    assert list(tmp_path.iterdir()) == []
