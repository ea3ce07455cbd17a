"""Pulling into an archive, with no I/O: layout, checks, and nothing left behind on failure."""

from __future__ import annotations

import io
import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_proto import (
    BlobDownloaded,
    DigestMismatch,
    ManifestPulled,
    Request,
    Response,
    TransferStarted,
)
from registry_proto import operations as ops
from registry_proto._archive import read_archive
from registry_proto.testing import FakeRegistry, PureDriver
from registry_proto.testing._faults import Faults
from tests.proto.pure_support import REGISTRY, make_image_archive, sha256

ARCHIVE = "image.tar"
LAYERS = [b"first " * 700, b"second " * 300, b"first " * 700]  # one layer listed twice
FILES = {ARCHIVE: make_image_archive(LAYERS, repo_tags=["app:1"])}
OUT = "out/pulled.tar"


def pushed(faults: Faults | None = None) -> tuple[FakeRegistry, PureDriver, str]:
    fake = FakeRegistry(files=FILES, faults=faults)
    driver = PureDriver(fake.handle, files=FILES)
    digest = driver.run(ops.push_docker_tar(ARCHIVE, REGISTRY, "app", "1"))
    return fake, driver, digest


def test_pulled_archive_reads_back_and_pushes_to_the_same_digest() -> None:
    _, driver, digest = pushed()
    result = driver.run(ops.pull_image(REGISTRY, "app", "1", OUT, max_concurrency=2))

    assert result.digest == digest
    assert result.size == len(driver.files[OUT])
    with tarfile.open(fileobj=io.BytesIO(driver.files[OUT])) as tar:
        names = tar.getnames()
    assert names[:3] == ["oci-layout", "index.json", "manifest.json"]
    assert len([n for n in names if n.startswith("blobs/")]) == 4  # manifest, config, 2 layers
    archive = driver.run(read_archive(OUT))
    assert archive.repo_tags == ("registry.test:5000/app:1",)
    (image,) = archive.images
    assert [layer.diff_id for layer in image.layers] == [sha256(data) for data in LAYERS]
    again = driver.run(ops.push_docker_tar(OUT, REGISTRY, "copy", "1"))
    assert again == digest
    assert [path for path in driver.files if "/.tmp-" in path] == []


@settings(max_examples=30)
@given(data=st.data())
def test_any_interleaving_of_downloads_writes_the_same_archive(data: st.DataObject) -> None:
    fake, _, _ = pushed()
    reference = PureDriver(fake.handle)
    reference.run(ops.pull_image(REGISTRY, "app", "1", OUT))
    shuffled = PureDriver(fake.handle, scheduler=lambda n: data.draw(st.integers(0, n - 1)))
    shuffled.run(ops.pull_image(REGISTRY, "app", "1", OUT))
    assert shuffled.files[OUT] == reference.files[OUT]


def test_a_corrupt_blob_leaves_no_file() -> None:
    faults = Faults()
    fake, _, _ = pushed(faults)

    def corrupt(request: Request) -> Response | None:
        if request.method == "GET" and request.url.endswith(sha256(LAYERS[1])):
            return Response(status=200, body=b"x" * len(LAYERS[1]))
        return None

    faults.on_request = corrupt
    driver = PureDriver(fake.handle)
    with pytest.raises(DigestMismatch, match=sha256(LAYERS[1])):
        driver.run(ops.pull_image(REGISTRY, "app", "1", OUT))
    assert driver.files == {}


def test_a_pull_reports_its_progress() -> None:
    _, driver, digest = pushed()
    driver.events.clear()
    driver.run(ops.pull_image(REGISTRY, "app", "1", OUT, max_concurrency=1))
    events = driver.events
    start = events[0]
    assert isinstance(start, TransferStarted)
    assert (start.what, start.repository, start.total_blobs) == ("pull", "app", 3)
    downloaded = [e for e in events if isinstance(e, BlobDownloaded)]
    assert {e.digest for e in downloaded[1:]} == {sha256(LAYERS[0]), sha256(LAYERS[1])}
    assert sum(e.size for e in downloaded) == start.total_bytes  # a layer listed twice counts once
    assert events[-1] == ManifestPulled("app", "1", digest, OUT)
    assert len(events) == 5
