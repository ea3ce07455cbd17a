"""Shared data for the pure tests: the real fixture archives and small archive builders."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass

from tests import fixture_archives

REGISTRY = "http://registry.test:5000"


@dataclass(frozen=True)
class Expected:
    """What tests/fixtures/README.md says about one image of an archive."""

    repo_tags: tuple[str, ...]
    layers: int
    platform: str


# Every fixture that is a plain (uncompressed) tar with a manifest.json.
PLAIN: dict[str, list[Expected]] = {
    "a-legacy-docker-save-almostempty.tar": [Expected(("emptyimage:latest",), 1, "linux/amd64")],
    "a-legacy-docker-save-2layers.tar": [Expected(("extraction.test:latest",), 2, "linux/amd64")],
    "b-docker25-save-hello-world.tar": [Expected(("hello-world:latest",), 1, "linux/amd64")],
    "b-docker25-save-hello-world-untagged-nullindex.tar": [Expected((), 1, "linux/arm64")],
    "c-containerd-store-busybox-arm64-attestation.tar": [
        Expected(("foo/bar:v3",), 1, "linux/arm64")
    ],
    "c-containerd-store-busybox-multiplatform-index-armv7-only.tar": [
        Expected(("busybox:latest",), 1, "linux/arm/v7")
    ],
    "e-docker-save-two-images-symlinked-layer.tar": [
        Expected(("bazel/v1/tarball:test_image_1",), 1, "linux/amd64"),
        Expected(("bazel/v1/tarball:test_image_3",), 2, "linux/amd64"),
    ],
    "e-skopeo-docker-archive-untagged.tar": [Expected((), 2, "linux/amd64")],
}
# `oci-archive` files: an OCI layout with no manifest.json, and no recorded tag.
OCI_ONLY: dict[str, Expected] = {
    "d-oci-archive-buildah-devnull.tar": Expected((), 1, "linux/amd64"),
    "d-oci-archive-buildkit-gzip.tar": Expected((), 1, "linux/arm64"),
    "d-oci-archive-buildkit-zstd.tar": Expected((), 1, "linux/arm64"),
}
# Whole archives compressed: the compression, and the images inside.
COMPRESSED: dict[str, tuple[str, list[Expected]]] = {
    "e-docker-save-gzip-alpine310.tar.gz": ("gzip", [Expected(("alpine:3.10",), 1, "linux/amd64")]),
    "e-docker-save-two-images.tar.xz": (
        "xz",
        [
            Expected(("example.com/empty:latest",), 1, "linux/amd64"),
            Expected(("example.com/empty/but:different",), 1, "linux/amd64"),
        ],
    ),
}


def fixture_path(name: str) -> str:
    """The archive's path as the pure driver's file key."""
    return str(fixture_archives.fixture_path(name))


@functools.cache
def fixture_bytes(name: str) -> bytes:
    return fixture_archives.fixture_path(name).read_bytes()


def fixture_files(name: str) -> dict[str, bytes]:
    """The `files` mapping for a driver: the fixture's path to its bytes."""
    return {fixture_path(name): fixture_bytes(name)}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_tar(members: dict[str, bytes]) -> bytes:
    """A plain tar holding `members` (name -> bytes), in order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def make_image_archive(
    layers: list[bytes],
    *,
    repo_tags: list[str] | None = None,
    diff_ids: list[str] | None = None,
) -> bytes:
    """A legacy `docker save` archive of one image with the given layer bytes.

    `diff_ids` overrides the config's list, e.g. to make a layer's bytes disagree with it.
    """
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {
                "type": "layers",
                "diff_ids": diff_ids if diff_ids is not None else [sha256(d) for d in layers],
            },
        }
    ).encode()
    config_name = sha256(config).removeprefix("sha256:") + ".json"
    members = {config_name: config}
    layer_names = []
    for number, data in enumerate(layers):
        name = f"layer{number}/layer.tar"
        members[name] = data
        layer_names.append(name)
    manifest = [{"Config": config_name, "RepoTags": repo_tags, "Layers": layer_names}]
    members["manifest.json"] = json.dumps(manifest).encode()
    return make_tar(members)


def make_blob_archive(
    config: bytes,
    layers: list[bytes],
    *,
    repo_tags: list[str] | None = None,
    repositories: dict[str, dict[str, str]] | None = None,
) -> bytes:
    """An archive as hand-written tests write one: manifest.json naming `blobs/sha256/<hex>`
    members (as docker 25 does) but no OCI index, and optionally a `repositories` file.

    The config and layers are stored exactly as given, whatever they hold.
    """

    def blob_name(data: bytes) -> str:
        return "blobs/" + sha256(data).replace(":", "/")

    manifest = [
        {
            "Config": blob_name(config),
            "RepoTags": repo_tags,
            "Layers": [blob_name(layer) for layer in layers],
        }
    ]
    members = {"manifest.json": json.dumps(manifest).encode()}
    if repositories is not None:
        members["repositories"] = json.dumps(repositories).encode()
    members[blob_name(config)] = config
    for layer in layers:
        members[blob_name(layer)] = layer
    return make_tar(members)
