"""Reading image archives: every real fixture, and archives broken on purpose
(docs/protocol.md §10)."""

from __future__ import annotations

import gzip
import json
import lzma

import pytest

from registry_proto import TarReadError, ValidationError
from registry_proto._archive import ArchiveImage, ImageArchive, read_archive
from registry_proto._manifest import (
    OCI_CONFIG,
    OCI_LAYER_GZIP,
    OCI_LAYER_TAR,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
)
from registry_proto.flows import split_original_tag
from registry_proto.operations import extract_original_tags, get_primary_tag
from registry_proto.testing import FakeRegistry, PureDriver
from tests.proto.pure_support import (
    COMPRESSED,
    OCI_ONLY,
    PLAIN,
    Expected,
    fixture_files,
    fixture_path,
    make_image_archive,
    make_tar,
    sha256,
)

PATH = "image.tar"


def read(files: dict[str, bytes], path: str) -> tuple[ImageArchive, PureDriver]:
    driver = PureDriver(FakeRegistry().handle, files=files)
    return driver.run(read_archive(path)), driver


def read_bytes(data: bytes) -> ImageArchive:
    return read({PATH: data}, PATH)[0]


def check_image(image: ArchiveImage, want: Expected, data: bytes, path: str) -> None:
    """Layers are the right slices of the tar, and the manifest describes exactly them."""
    assert image.repo_tags == want.repo_tags
    assert len(image.layers) == want.layers
    assert str(image.platform) == want.platform
    config = json.loads(image.config)
    assert [layer.diff_id for layer in image.layers] == config["rootfs"]["diff_ids"]
    assert image.config_descriptor.digest == sha256(image.config)
    assert image.config_descriptor.size == len(image.config)
    for layer in image.layers:
        blob = data[layer.source.offset : layer.source.offset + layer.source.length]
        assert layer.source.path == path
        assert layer.descriptor.size == layer.source.length == len(blob)
        assert layer.descriptor.digest == sha256(blob)
        if layer.descriptor.media_type == OCI_LAYER_TAR:
            assert layer.descriptor.digest == layer.diff_id
        elif layer.descriptor.media_type == OCI_LAYER_GZIP:
            assert sha256(gzip.decompress(blob)) == layer.diff_id
        else:
            assert layer.descriptor.media_type == OCI_LAYER_ZSTD
            assert blob.startswith(b"\x28\xb5\x2f\xfd")

    manifest = image.manifest()
    document = json.loads(manifest.data)
    assert document["schemaVersion"] == 2
    assert document["mediaType"] == manifest.media_type == OCI_MANIFEST
    assert document["config"]["digest"] == image.config_descriptor.digest
    assert document["config"]["size"] == image.config_descriptor.size
    assert [(d["mediaType"], d["digest"], d["size"]) for d in document["layers"]] == [
        (layer.descriptor.media_type, layer.descriptor.digest, layer.descriptor.size)
        for layer in image.layers
    ]
    if image.stored_manifest is None:
        assert document["config"]["mediaType"] == OCI_CONFIG
    else:
        # A manifest stored in the archive goes out byte for byte, keeping its digest.
        assert manifest.data == image.stored_manifest


@pytest.mark.parametrize("name", PLAIN)
def test_plain_fixture(name: str) -> None:
    files = fixture_files(name)
    path = fixture_path(name)
    archive, _ = read(files, path)
    expected = PLAIN[name]
    assert archive.path == path
    assert archive.compression is None
    assert archive.format == ("docker-archive" if name[0] in "ae" else "docker-oci-archive")
    assert archive.repo_tags == tuple(t for e in expected for t in e.repo_tags)
    assert len(archive.images) == len(expected)
    for image, want in zip(archive.images, expected, strict=True):
        check_image(image, want, files[path], path)


def test_containerd_layers_are_gzip() -> None:
    for name in PLAIN:
        if name.startswith("c-"):
            archive, _ = read(fixture_files(name), fixture_path(name))
            assert {layer.descriptor.media_type for layer in archive.images[0].layers} == {
                OCI_LAYER_GZIP
            }


def test_legacy_config_file_name_is_its_digest() -> None:
    name = "a-legacy-docker-save-2layers.tar"
    (image,) = read(fixture_files(name), fixture_path(name))[0].images
    data = fixture_files(name)[fixture_path(name)]
    assert image.config_descriptor.digest.removeprefix("sha256:").encode() + b".json" in data


def test_symlinked_layer_resolves_to_the_first_copy() -> None:
    name = "e-docker-save-two-images-symlinked-layer.tar"
    first, second = read(fixture_files(name), fixture_path(name))[0].images
    # test_image_3's first layer.tar is a symlink to test_image_1's only layer.
    assert second.layers[0].source == first.layers[0].source
    assert second.layers[0].diff_id == first.layers[0].diff_id
    assert second.layers[1].source != first.layers[0].source


def test_skopeo_layers_are_read_from_the_top_level_files() -> None:
    name = "e-skopeo-docker-archive-untagged.tar"
    (image,) = read(fixture_files(name), fixture_path(name))[0].images
    assert [layer.source.length for layer in image.layers] == [109568, 5632]


@pytest.mark.parametrize("name", OCI_ONLY)
def test_oci_layout_archives(name: str) -> None:
    files = fixture_files(name)
    path = fixture_path(name)
    archive, _ = read(files, path)
    assert archive.format == "oci-archive"
    assert archive.repo_tags == ()
    (image,) = archive.images
    check_image(image, OCI_ONLY[name], files[path], path)
    compression = name.rsplit("-", 1)[-1].removesuffix(".tar")
    media_type = {"gzip": OCI_LAYER_GZIP, "zstd": OCI_LAYER_ZSTD}.get(compression, OCI_LAYER_TAR)
    assert image.layers[0].descriptor.media_type == media_type


@pytest.mark.parametrize("name", COMPRESSED)
def test_compressed_archives_are_read_through_a_decompressed_copy(name: str) -> None:
    compression, expected = COMPRESSED[name]
    archive, driver = read(fixture_files(name), fixture_path(name))
    assert archive.compression == compression
    assert archive.path != fixture_path(name)
    plain = driver.files[archive.path]
    assert len(archive.images) == len(expected)
    for image, want in zip(archive.images, expected, strict=True):
        check_image(image, want, plain, archive.path)


def test_corrupt_compressed_archive() -> None:
    data = lzma.compress(make_image_archive([b"layer"]))
    with pytest.raises(TarReadError, match="xz"):
        read_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("head", "compression"),
    [(b"\x1f\x8b\x08\x00", "gzip"), (b"BZh91AY&SY", "bzip2")],
)
def test_garbage_after_a_compression_magic(head: bytes, compression: str) -> None:
    with pytest.raises(TarReadError, match=compression):
        read_bytes(head + bytes(600))


def test_missing_file() -> None:
    with pytest.raises(TarReadError, match="cannot read"):
        read({}, "nowhere.tar")


def test_not_an_image_archive() -> None:
    with pytest.raises(ValidationError, match="not an image archive"):
        read_bytes(make_tar({"hello.txt": b"hi"}))


def test_oci_layout_without_images() -> None:
    data = make_tar(
        {
            "oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
            "index.json": b'{"schemaVersion": 2, "manifests": null}',
        }
    )
    with pytest.raises(ValidationError, match="no image"):
        read_bytes(data)


def test_not_a_tar_at_all() -> None:
    with pytest.raises(TarReadError):
        read_bytes(b"PK\x03\x04 this is a zip file" + bytes(600))


def test_synthetic_archive_round_trip() -> None:
    layers = [b"layer one", b"layer two" * 100]
    archive = read_bytes(make_image_archive(layers, repo_tags=["example.com/app:1"]))
    (image,) = archive.images
    assert image.repo_tags == ("example.com/app:1",)
    assert [layer.descriptor.digest for layer in image.layers] == [sha256(d) for d in layers]


def test_layer_listed_twice() -> None:
    config = json.dumps({"rootfs": {"diff_ids": [sha256(b"L"), sha256(b"L")]}}).encode()
    data = make_tar(
        {
            "cfg.json": config,
            "l/layer.tar": b"L",
            "manifest.json": b'[{"Config": "cfg.json", "Layers": ["l/layer.tar", "l/layer.tar"]}]',
        }
    )
    (image,) = read_bytes(data).images
    assert image.layers[0] == image.layers[1]
    assert image.platform is None


_CONFIG = json.dumps({"rootfs": {"diff_ids": [sha256(b"L")]}}).encode()


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (b"{not json", "manifest.*not valid JSON"),
        (b"\xff\xfe", "manifest.*not valid JSON"),
        (b"[" * 100_000, "manifest.*not valid JSON"),
        (b"{}", "non-empty list"),
        (b"[]", "non-empty list"),
        (b'["x"]', "entry 0 is not an object"),
        (b'[{"Layers": []}]', "has no Config"),
        (b'[{"Config": 5, "Layers": []}]', "has no Config"),
        (b'[{"Config": "cfg.json"}]', "no valid Layers"),
        (b'[{"Config": "cfg.json", "Layers": [1]}]', "no valid Layers"),
        (b'[{"Config": "cfg.json", "Layers": ["l"], "RepoTags": "a:b"}]', "invalid RepoTags"),
        (b'[{"Config": "cfg.json", "Layers": [], "RepoTags": []}]', "1 diff_ids"),
    ],
)
def test_corrupt_manifest_json(manifest: bytes, message: str) -> None:
    data = make_tar({"cfg.json": _CONFIG, "l": b"L", "manifest.json": manifest})
    with pytest.raises(ValidationError, match=message):
        read_bytes(data)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (b"not json", "config 'cfg.json' is not valid JSON"),
        (b"[" * 100_000, "config 'cfg.json' is not valid JSON"),
        (b'{"rootfs": "layers"}', "rootfs that is not an object"),
        (b'{"rootfs": {"diff_ids": "sha256:x"}}', "rootfs.diff_ids is not a list"),
        (b'{"rootfs": {"diff_ids": ["sha256:abc"]}}', "invalid sha256 digest"),
        (b'{"rootfs": {"diff_ids": [5]}}', "digest must be a string"),
        (b'{"rootfs": {"diff_ids": []}}', "lists 1 layers but its config has 0"),
    ],
)
def test_corrupt_config(config: bytes, message: str) -> None:
    manifest = b'[{"Config": "cfg.json", "Layers": ["l"]}]'
    data = make_tar({"cfg.json": config, "l": b"L", "manifest.json": manifest})
    with pytest.raises(ValidationError, match=message):
        read_bytes(data)


def test_member_named_in_manifest_json_is_missing() -> None:
    manifest = b'[{"Config": "cfg.json", "Layers": ["gone/layer.tar"]}]'
    data = make_tar({"cfg.json": _CONFIG, "manifest.json": manifest})
    with pytest.raises(TarReadError, match=r"gone/layer\.tar"):
        read_bytes(data)


def test_archive_cut_short() -> None:
    data = make_image_archive([b"x" * 5000])
    with pytest.raises(TarReadError, match="truncated"):
        read_bytes(data[: data.index(b'[{"Config"') + 10])


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        ("example.com/app:1", ("app", "1")),
        ("docker.io/library/busybox:1", ("busybox", "1")),
        ("busybox:1", ("busybox", "1")),
        ("docker.io/foo/bar:2", ("foo/bar", "2")),
        ("foo/bar:v3", ("foo/bar", "v3")),
        ("localhost:5000/x/y:z", ("x/y", "z")),
        ("bazel/v1/tarball:test_image_1", ("bazel/v1/tarball", "test_image_1")),
        ("docker.io/library/a/b:c", ("library/a/b", "c")),
    ],
)
def test_split_original_tag(recorded: str, expected: tuple[str, str]) -> None:
    assert split_original_tag(recorded) == expected


@pytest.mark.parametrize("recorded", ["", "latest", "app:bad tag", "docker.io/UP:1", "a" * 64])
def test_split_original_tag_refuses_what_names_no_repository(recorded: str) -> None:
    with pytest.raises(ValidationError):
        split_original_tag(recorded)


@pytest.mark.parametrize("name", PLAIN)
def test_extract_original_tags_and_primary_tag(name: str) -> None:
    driver = PureDriver(FakeRegistry().handle, files=fixture_files(name))
    tags = driver.run(extract_original_tags(fixture_path(name)))
    assert tags == [t for e in PLAIN[name] for t in e.repo_tags]
    if tags:
        assert driver.run(get_primary_tag(fixture_path(name))) == split_original_tag(tags[0])
    else:
        with pytest.raises(ValidationError, match="records no tag"):
            driver.run(get_primary_tag(fixture_path(name)))
