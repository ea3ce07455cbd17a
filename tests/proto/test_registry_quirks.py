"""Registries as they really are, with no I/O: answers outside distribution's own that the
push, pull and copy flows must take in their stride (docs/protocol.md §3, §5)."""

from __future__ import annotations

import hashlib

import pytest

from registry_proto import Headers, RegistryError, Request, Response
from registry_proto import operations as ops
from registry_proto.flows import PushState
from registry_proto.testing import FakeRegistry, PureDriver
from registry_proto.testing._answers import error
from registry_proto.testing._faults import Faults
from tests.proto.pure_support import REGISTRY, make_image_archive, sha256

ARCHIVE = "image.tar"
LAYERS = [b"one " * 500, b"two " * 300]
FILES = {ARCHIVE: make_image_archive(LAYERS)}
UPLOADS = "/blobs/uploads/"


def _sent(driver: PureDriver, method: str, path: str = UPLOADS) -> int:
    return len([r for r in driver.requests if r.method == method and path in r.url])


# -- blob HEAD answered with a redirect (object storage behind the registry) -------------------


def test_a_blob_head_redirected_to_storage_means_the_blob_exists() -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    PureDriver(fake.handle, files=FILES).run(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1"))

    def redirect(request: Request) -> Response | None:
        if request.method == "HEAD" and "/blobs/sha256:" in request.url:
            location = "https://bucket.s3.test/docker/blobs/data?X-Amz-Signature=abc"
            return Response(status=307, headers=Headers.of({"Location": location}))
        return None

    faults.on_request = redirect
    driver = PureDriver(fake.handle, files=FILES)
    driver.run(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "2"))
    assert fake.manifest("app", "2") is not None
    assert _sent(driver, "POST") == 0  # nothing uploaded again


# -- a registry that takes no chunks (Google Artifact Registry) ---------------------------------

# 96 KiB that gzip cannot shrink much: more than one 16 KiB chunk once compressed.
NOISE = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(3 * 1024))
BIG = "big.tar"
BIG_FILES = {BIG: make_image_archive([NOISE])}


def _refusing_patch(faults: Faults, status: int) -> None:
    def refuse(request: Request) -> Response | None:
        if request.method != "PATCH":
            return None
        return error(status, "UNSUPPORTED", "chunked uploads are not supported")

    faults.on_request = refuse


@pytest.mark.parametrize("status", [405, 404, 400])
@pytest.mark.parametrize("compression", [None, "gzip"])
def test_a_registry_refusing_chunks_gets_whole_blobs(status: int, compression: str | None) -> None:
    faults = Faults()
    fake = FakeRegistry(files=BIG_FILES, faults=faults)
    _refusing_patch(faults, status)
    state = PushState()

    def push(repository: str) -> PureDriver:
        driver = PureDriver(fake.handle, files=BIG_FILES)
        flow = ops.push_docker_tar(
            BIG,
            REGISTRY,
            repository,
            "1",
            chunk_size=16 * 1024,
            compression=compression,
            max_concurrency=1,
            state=state,
        )
        driver.run(flow)
        assert fake.manifest(repository, "1") is not None
        return driver

    driver = push("app")
    assert _sent(driver, "PATCH") == 1  # refused once,
    assert _sent(driver, "POST") == 2  # through one session per blob,
    assert list(driver.files) == [BIG]  # any spooled output removed
    if compression is None:
        assert sha256(NOISE) in fake.blobs("app")
    # and remembered: the next push to this registry sends no chunk at all.
    assert _sent(push("other"), "PATCH") == 0


def test_a_blob_too_large_for_a_registry_refusing_chunks_fails() -> None:
    faults = Faults()
    fake = FakeRegistry(files=BIG_FILES, faults=faults)

    def refuse(request: Request) -> Response | None:
        if request.method == "PATCH":
            return error(405, "UNSUPPORTED", "chunked uploads are not supported")
        if request.method == "PUT" and request.body.length > 1024:
            return Response(status=413)
        return None

    faults.on_request = refuse
    driver = PureDriver(fake.handle, files=BIG_FILES)
    with pytest.raises(RegistryError):
        driver.run(ops.push_docker_tar(BIG, REGISTRY, "app", "1"))
    assert fake.manifest("app", "1") is None


def test_a_blob_smaller_than_one_chunk_goes_in_one_put() -> None:
    fake = FakeRegistry(files=FILES)
    driver = PureDriver(fake.handle, files=FILES)
    driver.run(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1", chunk_size=1024 * 1024))
    assert fake.manifest("app", "1") is not None
    assert _sent(driver, "PATCH") == 0
    puts = [r for r in driver.requests if r.method == "PUT" and UPLOADS in r.url]
    assert len(puts) == 3  # the config and the layers, each whole
    assert all(put.body.length > 0 for put in puts)
