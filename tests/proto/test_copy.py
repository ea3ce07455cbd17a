"""Copying, with no I/O: byte-for-byte manifests, mounts within a registry, temporary files
across registries that are always removed."""

from __future__ import annotations

import dataclasses

import pytest

from registry_proto import (
    BlobDownloaded,
    BlobMounted,
    BlobUploaded,
    DigestMismatch,
    ManifestPushed,
    ProgressEvent,
    Request,
    Response,
    TransferStarted,
)
from registry_proto import operations as ops
from registry_proto.testing import FakeRegistry, PureDriver
from registry_proto.testing._faults import Faults
from tests.proto.pure_support import REGISTRY, make_image_archive

OTHER = "http://other.test:5000"
ARCHIVE = "image.tar"
LAYERS = [b"one " * 500, b"two " * 300]
FILES = {ARCHIVE: make_image_archive(LAYERS)}


def two_registries(faults: Faults | None = None) -> tuple[FakeRegistry, FakeRegistry, PureDriver]:
    here, there = FakeRegistry(files=FILES, faults=faults), FakeRegistry()

    def handle(request: Request) -> Response:
        return (there if request.url.startswith(OTHER) else here).handle(request)

    driver = PureDriver(handle, files=FILES)
    driver.run(ops.push_docker_tar(ARCHIVE, REGISTRY, "src", "1"))
    return here, there, driver


def test_copy_across_registries_is_byte_for_byte() -> None:
    here, there, driver = two_registries()
    digest = driver.run(ops.copy_image(REGISTRY, "src", "1", OTHER, "dst"))
    assert there.manifest("dst", "1") == here.manifest("src", "1")
    assert there.manifest("dst", digest) is not None
    assert set(there.blobs("dst")) == set(here.blobs("src"))
    assert [path for path in driver.files if path != ARCHIVE] == []  # temporary files gone


def test_a_copy_reports_its_progress() -> None:
    _, _, driver = two_registries()
    driver.events.clear()
    digest = driver.run(ops.copy_image(REGISTRY, "src", "1", OTHER, "dst", max_concurrency=1))
    events = [e for e in driver.events if isinstance(e, ProgressEvent)]
    kinds = [type(e) for e in events]
    # Each blob (config, two layers) comes down, then goes up; the manifest follows them.
    assert kinds == [TransferStarted, *[BlobDownloaded, BlobUploaded] * 3, ManifestPushed]
    start = events[0]
    assert isinstance(start, TransferStarted)
    assert (start.what, start.repository, start.total_blobs) == ("copy", "dst", 3)
    assert events[-1] == ManifestPushed("dst", "1", digest)


def test_copy_within_a_registry_mounts_every_blob() -> None:
    here, _, driver = two_registries()
    driver.events.clear()
    driver.requests.clear()
    driver.run(ops.copy_image(REGISTRY, "src", "1", REGISTRY, "dst", "2"))
    assert here.manifest("dst", "2") == here.manifest("src", "1")
    assert len([e for e in driver.events if isinstance(e, BlobMounted)]) == 3
    assert not [r for r in driver.requests if r.method in ("PUT", "PATCH") and "/blobs/" in r.url]


def test_a_corrupt_source_blob_stops_the_copy_and_cleans_up() -> None:
    faults = Faults()
    here, there, driver = two_registries(faults)
    layer_digest = next(d for d in here.blobs("src") if here.blobs("src")[d] == LAYERS[0])

    def corrupt(request: Request) -> Response | None:
        if request.method == "GET" and request.url.endswith(layer_digest):
            return Response(status=200, body=b"x" * len(LAYERS[0]))
        return None

    faults.on_request = corrupt
    with pytest.raises(DigestMismatch):
        driver.run(ops.copy_image(REGISTRY, "src", "1", OTHER, "dst"))
    assert there.manifest("dst", "1") is None
    assert [path for path in driver.files if path != ARCHIVE] == []


def _heads(driver: PureDriver) -> int:
    return len([r for r in driver.requests if r.method == "HEAD" and "/blobs/" in r.url])


def test_copy_across_registries_asks_once_per_blob() -> None:
    _, there, driver = two_registries()
    driver.requests.clear()
    driver.run(ops.copy_image(REGISTRY, "src", "1", OTHER, "dst"))
    assert len(there.blobs("dst")) == 3
    assert _heads(driver) == 3


def test_copy_within_a_registry_that_declines_mounts_asks_once_per_blob() -> None:
    """A registry that answers a mount with an upload session (GAR did) gets the blob through
    that very session."""
    faults = Faults()
    here, _, driver = two_registries(faults)

    def decline(request: Request) -> Response | None:
        if request.method == "POST" and "mount=" in request.url:
            faults.on_request = None
            response = here.handle(dataclasses.replace(request, url=request.url.split("?")[0]))
            faults.on_request = decline
            return response
        return None

    faults.on_request = decline
    driver.requests.clear()
    driver.run(ops.copy_image(REGISTRY, "src", "1", REGISTRY, "dst", "2"))
    assert here.manifest("dst", "2") == here.manifest("src", "1")
    assert _heads(driver) == 3
    posts = [r for r in driver.requests if r.method == "POST"]
    assert len(posts) == 3  # the declined mounts' sessions carried the uploads
    assert not [r for r in driver.requests if r.method == "DELETE"]
