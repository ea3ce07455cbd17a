"""Archives a registry accepts though they hold no complete image (configs without rootfs,
layers that are not tar streams), and tags read from the archive's indexes alone."""

from __future__ import annotations

import gzip
import io
import json
import lzma
from typing import Any

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from registry_proto import (
    DigestInvalid,
    ImageArchive,
    Platform,
    TarReadError,
    ValidationError,
    read_archive,
    read_archive_tags,
)
from registry_proto._manifest import (
    OCI_CONFIG,
    OCI_LAYER_GZIP,
    OCI_LAYER_TAR,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
    OPAQUE_BLOB,
    Descriptor,
)
from registry_proto._tar import is_tar_header
from registry_proto.operations import extract_original_tags, get_primary_tag, push_docker_tar
from registry_proto.testing import FakeRegistry, PureDriver
from tests.proto.pure_support import (
    COMPRESSED,
    OCI_ONLY,
    PLAIN,
    REGISTRY,
    fixture_files,
    fixture_path,
    make_blob_archive,
    make_tar,
    sha256,
)

PATH = "image.tar"
# What hand-written test archives hold: a config with a platform only, a few arbitrary bytes.
MINIMAL_CONFIG = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
DUMMY_LAYER = b"dummy layer data"
A_TAR = make_tar({"hello.txt": b"hello\n"})


def run(data: bytes, flow_of: Any, fake: FakeRegistry | None = None) -> Any:
    driver = PureDriver((fake or FakeRegistry()).handle, files={PATH: data})
    return driver.run(flow_of(PATH))


def read(data: bytes) -> ImageArchive:
    archive: ImageArchive = run(data, read_archive)
    return archive


def push(data: bytes, fake: FakeRegistry, **options: Any) -> dict[str, Any]:
    """Push `data` as app:1; return the stored manifest, after checking every blob in it."""
    digest = run(data, lambda p: push_docker_tar(p, REGISTRY, "app", "1", **options), fake)
    stored = fake.manifest("app", "1")
    assert stored is not None
    assert sha256(stored[1]) == digest
    document: dict[str, Any] = json.loads(stored[1])
    blobs = fake.blobs("app")
    for descriptor in [document["config"], *document["layers"]]:
        assert sha256(blobs[descriptor["digest"]]) == descriptor["digest"]
        assert len(blobs[descriptor["digest"]]) == descriptor["size"]
    return document


# -- configs without rootfs, layers of any kind ----------------------------------------------


def test_a_hand_written_test_archive_is_read_as_stored() -> None:
    data = make_blob_archive(MINIMAL_CONFIG, [DUMMY_LAYER], repo_tags=["test:minimal"])
    archive = read(data)
    (image,) = archive.images
    assert archive.repo_tags == ("test:minimal",)
    assert image.config == MINIMAL_CONFIG
    assert image.platform == Platform("linux", "amd64")
    (layer,) = image.layers
    assert layer.descriptor == Descriptor(OPAQUE_BLOB, sha256(DUMMY_LAYER), len(DUMMY_LAYER))
    assert layer.diff_id is None


@pytest.mark.parametrize(
    ("layer", "media_type", "is_own_diff_id"),
    [
        (gzip.compress(A_TAR, mtime=0), OCI_LAYER_GZIP, False),
        (zstandard.ZstdCompressor().compress(A_TAR), OCI_LAYER_ZSTD, False),
        (A_TAR, OCI_LAYER_TAR, True),
        (bytes(1024), OCI_LAYER_TAR, True),  # an empty tar: docker's empty layers
        (lzma.compress(A_TAR), OPAQUE_BLOB, False),
        (b"x" * 600, OPAQUE_BLOB, False),
        (b"", OPAQUE_BLOB, False),
    ],
    ids=["gzip", "zstd", "tar", "empty-tar", "xz", "bytes", "nothing"],
)
def test_media_types_are_chosen_from_the_bytes(
    layer: bytes, media_type: str, is_own_diff_id: bool
) -> None:
    (image,) = read(make_blob_archive(MINIMAL_CONFIG, [layer])).images
    (read_layer,) = image.layers
    assert read_layer.descriptor == Descriptor(media_type, sha256(layer), len(layer))
    assert read_layer.diff_id == (sha256(layer) if is_own_diff_id else None)


def test_a_layer_recorded_nowhere_is_hashed() -> None:
    # Legacy layout: `<id>/layer.tar` names record no digest, and the config records none.
    data = make_tar(
        {
            "cfg.json": MINIMAL_CONFIG,
            "id/layer.tar": DUMMY_LAYER,
            "manifest.json": b'[{"Config": "cfg.json", "Layers": ["id/layer.tar"]}]',
        }
    )
    (image,) = read(data).images
    assert image.layers[0].descriptor.digest == sha256(DUMMY_LAYER)


def stored_as(config: tuple[str, bytes], layer: tuple[str, bytes]) -> bytes:
    """A manifest.json archive with the config and one layer stored under the given names."""
    manifest = [{"Config": config[0], "Layers": [layer[0]]}]
    return make_tar({"manifest.json": json.dumps(manifest).encode(), **dict([config, layer])})


def blob_name(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/")


def test_a_layer_is_pushed_under_the_digest_its_name_records() -> None:
    # The registry checks the bytes against the recorded digest: a mismatch is refused there.
    data = stored_as(
        (blob_name(sha256(MINIMAL_CONFIG)), MINIMAL_CONFIG),
        (blob_name(sha256(b"other")), DUMMY_LAYER),
    )
    (image,) = read(data).images
    assert image.layers[0].descriptor.digest == sha256(b"other")
    with pytest.raises(DigestInvalid):
        push(data, FakeRegistry())


def test_a_config_stored_under_another_digest_is_refused() -> None:
    data = stored_as(
        (blob_name(sha256(b"other")), MINIMAL_CONFIG),
        (blob_name(sha256(DUMMY_LAYER)), DUMMY_LAYER),
    )
    with pytest.raises(ValidationError, match="content hashes to"):
        read(data)


def test_an_opaque_layer_of_a_complete_config_goes_up_under_its_diff_id() -> None:
    def config(diff_id: str) -> tuple[str, bytes]:
        return ("cfg.json", json.dumps({"rootfs": {"diff_ids": [diff_id]}}).encode())

    (image,) = read(stored_as(config(sha256(b"L")), ("l", b"L"))).images
    assert image.layers[0].descriptor == Descriptor(OPAQUE_BLOB, sha256(b"L"), 1)
    with pytest.raises(DigestInvalid):
        push(stored_as(config(sha256(b"M")), ("l", b"L")), FakeRegistry())


def test_xz_layers_of_images_with_diff_ids_are_still_refused() -> None:
    layer = lzma.compress(A_TAR)
    config = json.dumps({"rootfs": {"diff_ids": [sha256(A_TAR)]}}).encode()
    with pytest.raises(ValidationError, match="recompress it with gzip or zstd"):
        read(make_blob_archive(config, [layer]))


def test_push_sends_exactly_what_the_archive_holds() -> None:
    fake = FakeRegistry()
    layers = [DUMMY_LAYER, A_TAR, gzip.compress(A_TAR, mtime=0)]
    document = push(make_blob_archive(MINIMAL_CONFIG, layers), fake)
    assert document["mediaType"] == OCI_MANIFEST
    assert document["config"] == {
        "mediaType": OCI_CONFIG,
        "digest": sha256(MINIMAL_CONFIG),
        "size": len(MINIMAL_CONFIG),
    }
    assert [layer["mediaType"] for layer in document["layers"]] == [
        OPAQUE_BLOB,
        OCI_LAYER_TAR,
        OCI_LAYER_GZIP,
    ]
    assert [layer["digest"] for layer in document["layers"]] == [sha256(d) for d in layers]


def test_compression_on_the_way_leaves_opaque_layers_alone() -> None:
    fake = FakeRegistry()
    document = push(
        make_blob_archive(MINIMAL_CONFIG, [DUMMY_LAYER, A_TAR]), fake, compression="gzip"
    )
    opaque, compressed = document["layers"]
    assert opaque == {"mediaType": OPAQUE_BLOB, "digest": sha256(DUMMY_LAYER), "size": 16}
    assert compressed["mediaType"] == OCI_LAYER_GZIP
    assert gzip.decompress(fake.blobs("app")[compressed["digest"]]) == A_TAR


def oci_layout(config: bytes, layers: list[tuple[str, bytes]]) -> bytes:
    """A bare OCI layout whose one manifest names `config` and `layers` (media type, bytes)."""
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [
                {"mediaType": media_type, "digest": sha256(data), "size": len(data)}
                for media_type, data in layers
            ],
        }
    ).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": sha256(manifest), "size": len(manifest)}
        ],
    }
    members = {
        "oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
        "index.json": json.dumps(index).encode(),
    }
    for data in [manifest, config, *(data for _, data in layers)]:
        members["blobs/" + sha256(data).replace(":", "/")] = data
    return make_tar(members)


def test_an_oci_layout_without_rootfs_is_pushed_byte_for_byte() -> None:
    layers = [("application/vnd.example.data", DUMMY_LAYER), (OCI_LAYER_TAR, A_TAR)]
    data = oci_layout(MINIMAL_CONFIG, layers)
    (image,) = read(data).images
    assert [layer.diff_id for layer in image.layers] == [None, sha256(A_TAR)]
    fake = FakeRegistry()
    push(data, fake)
    stored = fake.manifest("app", "1")
    assert stored is not None
    assert stored[1] == image.stored_manifest


# -- tar detection ---------------------------------------------------------------------------

_NAMES = st.from_regex(r"[a-z][a-z0-9._-]{0,40}", fullmatch=True)


@given(st.dictionaries(_NAMES, st.binary(max_size=2000), min_size=1, max_size=4))
def test_every_tar_the_standard_library_writes_is_recognised(members: dict[str, bytes]) -> None:
    assert is_tar_header(make_tar(members))


@given(
    st.dictionaries(_NAMES, st.binary(max_size=100), min_size=1, max_size=2),
    st.integers(0, 99),
    st.integers(1, 255),
)
def test_a_header_whose_checksum_disagrees_is_no_tar(
    members: dict[str, bytes], position: int, change: int
) -> None:
    data = bytearray(make_tar(members))
    data[position] = (data[position] + change) % 256  # one byte of the first member's name
    assert not is_tar_header(bytes(data))


@pytest.mark.parametrize("data", [b"", b"\x1f\x8b" + bytes(600), A_TAR[:511], b"ustar" * 200])
def test_not_tar_headers(data: bytes) -> None:
    assert not is_tar_header(data)


# -- tags from the indexes alone -------------------------------------------------------------


@pytest.mark.parametrize("name", [*PLAIN, *OCI_ONLY, *COMPRESSED])
def test_tags_read_alone_agree_with_the_whole_archive(name: str) -> None:
    driver = PureDriver(FakeRegistry().handle, files=fixture_files(name))
    whole = driver.run(read_archive(fixture_path(name)))
    tags = driver.run(read_archive_tags(fixture_path(name)))
    assert tags.repo_tags == whole.repo_tags
    assert (tags.manifest_json is None) == (name in OCI_ONLY)


def test_tags_are_read_without_configs_or_layers() -> None:
    manifest = [{"Config": "gone.json", "RepoTags": ["app:1", "app:2"], "Layers": ["gone.tar"]}]
    data = make_tar({"manifest.json": json.dumps(manifest).encode()})
    with pytest.raises(TarReadError, match="gone"):
        read(data)
    tags = run(data, read_archive_tags)
    assert tags.repo_tags == ("app:1", "app:2")
    assert tags.manifest_json == tuple(manifest)
    assert run(data, extract_original_tags) == ["app:1", "app:2"]
    assert run(data, get_primary_tag) == ("app", "1")


def test_the_repositories_file_tags_a_lone_untagged_image() -> None:
    repositories = {"test": {"minimal": "0" * 64}}
    data = make_blob_archive(MINIMAL_CONFIG, [DUMMY_LAYER], repositories=repositories)
    assert run(data, read_archive_tags).repo_tags == ("test:minimal",)
    assert read(data).repo_tags == ("test:minimal",)


def test_the_repositories_file_yields_to_manifest_json() -> None:
    data = make_blob_archive(
        MINIMAL_CONFIG,
        [DUMMY_LAYER],
        repo_tags=["app:1"],
        repositories={"other": {"2": "0" * 64}},
    )
    assert run(data, read_archive_tags).repo_tags == ("app:1",)
    assert read(data).repo_tags == ("app:1",)


@pytest.mark.parametrize(
    ("members", "error", "message"),
    [
        ({"hello.txt": b"hi"}, ValidationError, "not an image archive"),
        ({"manifest.json": b"{}"}, ValidationError, "non-empty list"),
        ({"manifest.json": b'[{"RepoTags": "a:b"}]'}, ValidationError, "invalid RepoTags"),
        ({"index.json": b"[]"}, ValidationError, "not a JSON object"),
    ],
)
def test_tags_of_what_is_no_archive(
    members: dict[str, bytes], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        run(make_tar(members), read_archive_tags)


def test_tags_of_a_compressed_archive() -> None:
    data = make_blob_archive(MINIMAL_CONFIG, [DUMMY_LAYER], repo_tags=["app:gz"])
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as stream:
        stream.write(data)
    assert run(buffer.getvalue(), read_archive_tags).repo_tags == ("app:gz",)
