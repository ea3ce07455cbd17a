"""Registries as they really are, with no I/O: answers outside distribution's own that the
push, pull and copy flows must take in their stride (docs/protocol.md §3, §5)."""

from __future__ import annotations

from registry_proto import Headers, Request, Response
from registry_proto import operations as ops
from registry_proto.testing import FakeRegistry, PureDriver
from registry_proto.testing._faults import Faults
from tests.proto.pure_support import REGISTRY, make_image_archive

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
