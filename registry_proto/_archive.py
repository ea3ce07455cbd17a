"""Reading image archives (`docker save`, `podman save`, `skopeo copy docker-archive:`).

An archive is indexed, never extracted: each layer becomes a `FileSlice` of the tar file.
Formats (protocol.md §10):

- legacy `docker save` (docker <= 24): `manifest.json`, `<config-hex>.json`, `<id>/layer.tar`
  (a repeated layer is a symlink to its first copy);
- podman / skopeo / buildah `docker-archive`: layers at the top as `<diff-id-hex>.tar`, with
  `<id>/layer.tar` symlinks to them;
- docker 25+ `docker save` and the containerd image store, read through their `manifest.json`,
  which lists layers in the right order (some docker 25.0 releases wrote the embedded OCI
  manifest's layers in a random order).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ._effects import Flow, read_file
from ._errors import TarReadError, ValidationError
from ._manifest import (
    OCI_CONFIG,
    OCI_LAYER_GZIP,
    OCI_LAYER_TAR,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
    Descriptor,
    ImageManifest,
    sha256_digest,
)
from ._models import FileSlice
from ._reference import validate_digest
from ._tar import TarIndex, TarMember, index_tar

__all__ = ["ArchiveImage", "ImageArchive", "LayerSource", "Platform", "read_archive"]

_MAX_JSON_MEMBER = 32 * 1024 * 1024
_BLOB_PATH = re.compile(r"blobs/(?P<alg>[a-z0-9]+)/(?P<hex>[a-zA-Z0-9=_-]+)")

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_BZIP2_MAGIC = b"BZh"


@dataclass(frozen=True, slots=True)
class Platform:
    """The platform an image runs on, from its config (`os`, `architecture`, `variant`)."""

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text


@dataclass(frozen=True, slots=True)
class LayerSource:
    """One layer: where its bytes are in the archive, and what the manifest says of it."""

    descriptor: Descriptor
    diff_id: str
    source: FileSlice


@dataclass(frozen=True, slots=True)
class ArchiveImage:
    """One image in an archive: its config bytes (exactly as stored), its layers, its tags."""

    config: bytes
    layers: tuple[LayerSource, ...]
    repo_tags: tuple[str, ...]
    platform: Platform | None

    @property
    def config_descriptor(self) -> Descriptor:
        return Descriptor(OCI_CONFIG, sha256_digest(self.config), len(self.config))

    def manifest(self) -> ImageManifest:
        """The OCI manifest for pushing this image as it is stored.

        OCI types throughout: registries such as Quay refuse Docker's uncompressed layer type,
        and the config bytes (so the image ID) are unchanged.
        """
        return ImageManifest.build(
            OCI_MANIFEST, self.config_descriptor, tuple(layer.descriptor for layer in self.layers)
        )


@dataclass(frozen=True, slots=True)
class ImageArchive:
    """Every image in an archive, in the order the archive lists them."""

    path: str
    format: str
    images: tuple[ArchiveImage, ...]

    @property
    def repo_tags(self) -> tuple[str, ...]:
        """Every tag recorded in the archive, as recorded, without repeats."""
        return tuple(dict.fromkeys(tag for image in self.images for tag in image.repo_tags))


def read_archive(path: str) -> Flow[ImageArchive]:
    """Index the archive at `path` and describe the images in it."""
    head = yield from read_file(path, 0, 8)
    for magic, name in (
        (_GZIP_MAGIC, "gzip"),
        (_ZSTD_MAGIC, "zstd"),
        (_XZ_MAGIC, "xz"),
        (_BZIP2_MAGIC, "bzip2"),
    ):
        if head.startswith(magic):
            raise TarReadError(
                f"{path} is a {name}-compressed file; decompress it to a plain tar archive first"
            )
    index = yield from index_tar(path)
    if "manifest.json" in index:
        return (yield from _read_manifest_json(index))
    if "index.json" in index and "oci-layout" in index:
        raise ValidationError(
            f"{path} is an OCI image layout archive without manifest.json, "
            "which is not supported yet"
        )
    raise ValidationError(
        f"{path} is not an image archive: it has no manifest.json (is it a docker save, "
        "podman save or skopeo docker-archive output?)"
    )


def _read_json(index: TarIndex, name: str) -> Flow[Any]:
    member = index.resolve(name)
    if member.size > _MAX_JSON_MEMBER:
        raise ValidationError(f"archive member {name!r} is too large to be JSON metadata")
    data = yield from _read_member(index, member)
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"archive member {name!r} is not valid JSON: {exc}") from None


def _read_member(index: TarIndex, member: TarMember) -> Flow[bytes]:
    data = yield from read_file(index.path, member.offset, member.size)
    if len(data) != member.size:
        raise TarReadError(f"{index.path}: truncated archive (member {member.name!r} is cut short)")
    return data


def _read_manifest_json(index: TarIndex) -> Flow[ImageArchive]:
    entries = yield from _read_json(index, "manifest.json")
    if not isinstance(entries, list) or not entries:
        raise ValidationError("manifest.json must be a non-empty list of images")
    images = []
    for number, entry in enumerate(entries):
        images.append((yield from _read_manifest_entry(index, entry, number)))
    layout = "docker-archive"
    if any(
        isinstance(e, dict)
        and isinstance(e.get("Config"), str)
        and e["Config"].startswith("blobs/")
        for e in entries
    ):
        layout = "docker-oci-archive"
    return ImageArchive(path=index.path, format=layout, images=tuple(images))


def _read_manifest_entry(index: TarIndex, entry: object, number: int) -> Flow[ArchiveImage]:
    where = f"manifest.json entry {number}"
    if not isinstance(entry, dict):
        raise ValidationError(f"{where} is not an object")
    config_name = entry.get("Config")
    layer_names = entry.get("Layers")
    repo_tags = entry.get("RepoTags") or []
    if not isinstance(config_name, str):
        raise ValidationError(f"{where} has no Config")
    if not isinstance(layer_names, list) or not all(isinstance(n, str) for n in layer_names):
        raise ValidationError(f"{where} has no valid Layers list")
    if not isinstance(repo_tags, list) or not all(isinstance(t, str) for t in repo_tags):
        raise ValidationError(f"{where} has an invalid RepoTags list")

    config = yield from _read_member(index, index.resolve(config_name))
    try:
        config_json = json.loads(config)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"image config {config_name!r} is not valid JSON: {exc}") from None
    diff_ids = _diff_ids(config_json, config_name)
    if len(diff_ids) != len(layer_names):
        raise ValidationError(
            f"{where} lists {len(layer_names)} layers but its config has {len(diff_ids)} diff_ids"
        )

    layers = []
    for name, diff_id in zip(layer_names, diff_ids, strict=True):
        layers.append((yield from _layer_source(index, name, diff_id)))
    return ArchiveImage(
        config=config,
        layers=tuple(layers),
        repo_tags=tuple(repo_tags),
        platform=_platform(config_json),
    )


def _diff_ids(config: object, name: str) -> list[str]:
    rootfs = config.get("rootfs") if isinstance(config, dict) else None
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list):
        raise ValidationError(f"image config {name!r} has no rootfs.diff_ids list")
    for diff_id in diff_ids:
        try:
            validate_digest(diff_id)
        except ValidationError as exc:
            raise ValidationError(f"image config {name!r}: {exc}") from None
    return diff_ids


def _platform(config: object) -> Platform | None:
    if not isinstance(config, dict):
        return None
    os_name, arch, variant = config.get("os"), config.get("architecture"), config.get("variant")
    if isinstance(os_name, str) and isinstance(arch, str):
        return Platform(os_name, arch, variant if isinstance(variant, str) and variant else None)
    return None


def _layer_source(index: TarIndex, name: str, diff_id: str) -> Flow[LayerSource]:
    member = index.resolve(name)
    magic = yield from read_file(index.path, member.offset, min(8, member.size))
    source = FileSlice(index.path, member.offset, member.size)
    if magic.startswith(_GZIP_MAGIC):
        media_type = OCI_LAYER_GZIP
    elif magic.startswith(_ZSTD_MAGIC):
        media_type = OCI_LAYER_ZSTD
    else:
        # Uncompressed: the bytes hash to the diff_id, so there is nothing to compute.
        return LayerSource(Descriptor(OCI_LAYER_TAR, diff_id, member.size), diff_id, source)
    # A compressed layer stored as a content-addressed blob is named by its digest.
    blob = _BLOB_PATH.fullmatch(member.name)
    if blob is None:
        raise ValidationError(
            f"layer {name!r} is compressed but not stored under its digest; "
            "such archives are not supported yet"
        )
    digest = validate_digest(f"{blob['alg']}:{blob['hex']}")
    return LayerSource(Descriptor(media_type, digest, member.size), diff_id, source)
