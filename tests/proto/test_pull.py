"""Pulling into an archive, with no I/O: layout, checks, and nothing left behind on failure."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_proto import (
    BlobDownloaded,
    DigestMismatch,
    ManifestPulled,
    RemoteProtocolError,
    Request,
    Response,
    TransferStarted,
)
from registry_proto import operations as ops
from registry_proto._archive import read_archive
from registry_proto._manifest import OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST
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


@pytest.mark.parametrize("config", [b"[]", b"not json", b'"a string"'])
def test_a_config_that_is_no_json_object_leaves_the_destination_alone(config: bytes) -> None:
    """Everything the pull checks is checked before the archive is renamed into place."""
    fake = FakeRegistry()
    layer = fake.add_blob("bad", b"layer")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER_TAR, "digest": layer, "size": 5}],
        }
    ).encode()
    fake.add_blob("bad", config)
    fake.add_manifest("bad", OCI_MANIFEST, manifest, tag="1")
    driver = PureDriver(fake.handle, files={OUT: b"the user's own file"})

    with pytest.raises(RemoteProtocolError, match="image config"):
        driver.run(ops.pull_image(REGISTRY, "bad", "1", OUT))

    assert driver.files == {OUT: b"the user's own file"}


def _image(fake: FakeRegistry, blobs: list[tuple[bytes, str]]) -> None:
    """Tag `app:1` as an image of `blobs` (config first), each stored under its digest."""
    descriptors = [
        {
            "mediaType": OCI_LAYER_TAR,
            "digest": fake.add_blob("app", data, digest),
            "size": len(data),
        }
        for data, digest in blobs
    ]
    descriptors[0]["mediaType"] = OCI_CONFIG
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptors[0],
        "layers": descriptors[1:],
    }
    fake.add_manifest("app", OCI_MANIFEST, json.dumps(manifest).encode(), tag="1")


def sha512(data: bytes) -> str:
    return "sha512:" + hashlib.sha512(data).hexdigest()


CONFIG = b'{"os": "linux", "architecture": "arm64", "rootfs": {"type": "layers"}}'
LAYER = b"a layer " * 300


def test_sha512_blobs_are_pulled_under_their_long_names() -> None:
    fake = FakeRegistry()
    _image(fake, [(CONFIG, sha512(CONFIG)), (LAYER, sha512(LAYER))])
    driver = PureDriver(fake.handle)

    result = driver.run(ops.pull_image(REGISTRY, "app", "1", OUT))

    assert str(result.platform) == "linux/arm64"
    with tarfile.open(fileobj=io.BytesIO(driver.files[OUT])) as tar:
        contents = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    for data in (CONFIG, LAYER):
        assert contents["blobs/" + sha512(data).replace(":", "/")] == data


@pytest.mark.parametrize("corrupt", ["config", "layer"])
def test_sha512_blobs_are_verified(corrupt: str) -> None:
    fake = FakeRegistry()
    config_digest = sha512(b"not the config" if corrupt == "config" else CONFIG)
    layer_digest = sha512(b"not the layer!" * 150 if corrupt == "layer" else LAYER)
    _image(fake, [(CONFIG, config_digest), (LAYER, layer_digest)])
    driver = PureDriver(fake.handle, files={OUT: b"mine"})

    with pytest.raises(DigestMismatch):
        driver.run(ops.pull_image(REGISTRY, "app", "1", OUT))
    assert driver.files == {OUT: b"mine"}


@pytest.mark.parametrize("digest", ["foo:bar", "sha384:" + "0" * 96, "md5:" + "0" * 32])
def test_digests_of_other_algorithms_are_refused(digest: str) -> None:
    fake = FakeRegistry()
    _image(fake, [(CONFIG, digest), (LAYER, sha512(LAYER))])
    driver = PureDriver(fake.handle, files={OUT: b"mine"})

    with pytest.raises(RemoteProtocolError, match="sha256 or sha512") as caught:
        driver.run(ops.pull_image(REGISTRY, "app", "1", OUT))
    assert digest.partition(":")[0] in str(caught.value)
    assert driver.files == {OUT: b"mine"}
    with pytest.raises(RemoteProtocolError, match="sha256 or sha512"):
        driver.run(ops.get_image_info(REGISTRY, "app", "1"))


@pytest.mark.parametrize("size", [10**30, 2**63, -1])
def test_a_blob_size_no_int64_holds_is_refused(size: int) -> None:
    """A descriptor's size is an int64 (image-spec descriptor.md): anything else is refused
    before a byte is written, not met as an OverflowError while laying out the archive."""
    fake = FakeRegistry()
    config_digest = fake.add_blob("app", CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(CONFIG)},
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": sha256(LAYER), "size": size}],
    }
    fake.add_manifest("app", OCI_MANIFEST, json.dumps(manifest).encode(), tag="1")
    driver = PureDriver(fake.handle, files={OUT: b"mine"})

    with pytest.raises(RemoteProtocolError, match="size"):
        driver.run(ops.pull_image(REGISTRY, "app", "1", OUT))
    assert driver.files == {OUT: b"mine"}


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
