"""A download cut in the middle of a blob resumes where it broke (`Range: bytes=N-`), falls
back to the whole blob when the registry ignores ranges, and is checked whole at the end
(docs/protocol.md §5.2)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import tarfile

import pytest

from registry_proto import (
    DigestMismatch,
    FileSink,
    RegistryEndpoint,
    Request,
    Response,
    TransportFailure,
)
from registry_proto import operations as ops
from registry_proto._retry import with_retries
from registry_proto.flows.blobs import download_blob
from registry_proto.testing import FakeRegistry, PureDriver
from registry_proto.testing._faults import CutBody
from tests.proto.pure_support import REGISTRY, make_image_archive, sha256

ARCHIVE = "image.tar"
# 200 KiB that differ throughout, so that a misplaced byte shows.
LAYER = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(6400))
FILES = {ARCHIVE: make_image_archive([LAYER])}
OUT = "pulled.tar"
CUT = 70_000


class Cutting:
    """The registry, with the first `cuts` downloads of the layer broken after `CUT` bytes
    (of what was asked for); `ranges` records the `Range` each layer download asked for."""

    def __init__(self, *, cuts: int = 1, honour_ranges: bool = True) -> None:
        self.fake = FakeRegistry(files=FILES)
        PureDriver(self.fake.handle, files=FILES).run(
            ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1")
        )
        self.cuts = cuts
        self.honour_ranges = honour_ranges
        self.ranges: list[str | None] = []
        self.sent = 0

    def handle(self, request: Request) -> Response:
        if not (request.method == "GET" and request.url.endswith(sha256(LAYER))):
            return self.fake.handle(request)
        self.ranges.append(request.headers.get("Range"))
        if not self.honour_ranges:
            request = request.with_headers(request.headers.with_("Range", ""))
        response = self.fake.handle(request)
        if self.cuts:
            self.cuts -= 1
            self.sent += CUT
            raise CutBody(response, CUT)
        self.sent += len(response.body)
        return response


def _pull(registry: Cutting, *, retried: bool = True) -> PureDriver:
    driver = PureDriver(registry.handle)
    flow = ops.pull_image(REGISTRY, "app", "1", OUT)
    driver.run(with_retries(flow) if retried else flow)
    return driver


def _layer_in(archive: bytes) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.extractfile("blobs/sha256/" + sha256(LAYER).removeprefix("sha256:"))
        assert member is not None
        return member.read()


def test_a_download_cut_mid_blob_resumes_where_it_broke() -> None:
    registry = Cutting()
    driver = _pull(registry)
    assert registry.ranges == [None, f"bytes={CUT}-"]
    assert registry.sent == len(LAYER)  # not a byte twice
    assert _layer_in(driver.files[OUT]) == LAYER
    assert driver.sleeps == [0.5]


def test_a_download_cut_again_and_again_resumes_each_time() -> None:
    registry = Cutting(cuts=2)
    driver = _pull(registry)
    assert registry.ranges == [None, f"bytes={CUT}-", f"bytes={2 * CUT}-"]
    assert _layer_in(driver.files[OUT]) == LAYER


def test_a_registry_ignoring_ranges_sends_the_whole_blob_again() -> None:
    registry = Cutting(honour_ranges=False)
    driver = _pull(registry)
    assert registry.ranges == [None, f"bytes={CUT}-", None]
    assert _layer_in(driver.files[OUT]) == LAYER


def test_a_resumed_blob_is_checked_whole() -> None:
    """The rest of the blob must continue what was received: here it does not."""
    registry = Cutting()
    handle = registry.handle

    def wrong_rest(request: Request) -> Response:
        response = handle(request)
        if request.headers.get("Range"):
            return dataclasses.replace(response, body=response.body[::-1])
        return response

    driver = PureDriver(wrong_rest)
    with pytest.raises(DigestMismatch, match=sha256(LAYER)):
        driver.run(with_retries(ops.pull_image(REGISTRY, "app", "1", OUT)))
    assert driver.files == {}


def test_without_retries_a_cut_download_fails() -> None:
    registry = Cutting()
    with pytest.raises(TransportFailure):
        _pull(registry, retried=False)
    assert registry.ranges == [None]


@pytest.mark.parametrize("rest_matches", [True, False])
def test_a_resumed_sha512_blob_is_checked_by_sha512(rest_matches: bool) -> None:
    """The whole-blob check of a resumed download hashes by the digest's own algorithm."""
    fake = FakeRegistry()
    digest = fake.add_blob("app", LAYER, "sha512:" + hashlib.sha512(LAYER).hexdigest())
    cuts = [CUT]

    def handle(request: Request) -> Response:
        response = fake.handle(request)
        if cuts:
            raise CutBody(response, cuts.pop())
        if not rest_matches:
            return dataclasses.replace(response, body=response.body[::-1])
        return response

    driver = PureDriver(handle, files={OUT: b""})
    sink = FileSink(OUT, 0, len(LAYER))
    flow = download_blob(RegistryEndpoint.parse(REGISTRY), "app", digest, len(LAYER), sink)
    if rest_matches:
        driver.run(with_retries(flow))
        assert driver.files[OUT] == LAYER
    else:
        with pytest.raises(DigestMismatch, match="downloaded with digest sha512:"):
            driver.run(with_retries(flow))
