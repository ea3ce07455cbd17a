"""What an image archive holds: images, their layers as slices of the tar, indexes, tags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._manifest import OCI_CONFIG, OCI_MANIFEST, Descriptor, ImageManifest, sha256_digest
from ._models import FileSlice
from ._platform import Platform

__all__ = [
    "ArchiveEntry",
    "ArchiveImage",
    "ArchiveIndex",
    "ArchiveTags",
    "BlobSource",
    "ImageArchive",
    "LayerSource",
    "StoredManifest",
    "compression_of",
]

# Magic numbers (RFC 1952 gzip, RFC 8878 zstd, xz file format, bzip2).
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"BZh", "bzip2"),
)


def compression_of(head: bytes) -> str | None:
    """The compression the first bytes of a stream show, or None for plain data."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


@dataclass(frozen=True, slots=True)
class BlobSource:
    """A blob stored in the archive, and what a manifest says of it."""

    descriptor: Descriptor
    source: FileSlice


@dataclass(frozen=True, slots=True)
class LayerSource:
    """One layer: its descriptor, its diff_id (the digest of its uncompressed tar) and bytes.

    `diff_id` is None when neither the config records it nor the layer implies it (a
    compressed or opaque layer of an image whose config has no rootfs).
    """

    descriptor: Descriptor
    diff_id: str | None
    source: FileSlice


@dataclass(frozen=True, slots=True)
class ArchiveImage:
    """One single-platform image: config bytes exactly as stored, layers, recorded tags.

    `stored_manifest` holds the bytes of a manifest found in the archive that describes exactly
    this config and these layers; pushing those bytes keeps the image's registry digest.
    """

    config: bytes
    layers: tuple[LayerSource, ...]
    repo_tags: tuple[str, ...]
    platform: Platform | None
    stored_manifest: bytes | None = None
    stored_media_type: str | None = None
    config_media_type: str = OCI_CONFIG

    @property
    def config_descriptor(self) -> Descriptor:
        return Descriptor(self.config_media_type, sha256_digest(self.config), len(self.config))

    def manifest(self) -> ImageManifest:
        """The manifest that pushes this image.

        The stored one when there is one; otherwise an OCI manifest with OCI layer types
        (registries such as Quay refuse Docker's uncompressed layer type). Either way the config
        bytes, and so the image ID, are unchanged.
        """
        layers = tuple(layer.descriptor for layer in self.layers)
        if self.stored_manifest is not None and self.stored_media_type is not None:
            return ImageManifest(
                media_type=self.stored_media_type,
                config=self.config_descriptor,
                layers=layers,
                data=self.stored_manifest,
            )
        config = Descriptor(OCI_CONFIG, sha256_digest(self.config), len(self.config))
        return ImageManifest.build(OCI_MANIFEST, config, layers)


@dataclass(frozen=True, slots=True)
class StoredManifest:
    """A manifest stored in the archive with the blobs it references (all present)."""

    digest: str
    media_type: str
    data: bytes
    blobs: tuple[BlobSource, ...]


@dataclass(frozen=True, slots=True)
class ArchiveIndex:
    """A multi-platform index stored in the archive, with its child manifests.

    A child is None when the archive does not hold it (or not all of its blobs): such an index
    can only be pushed one platform at a time.
    """

    digest: str
    media_type: str
    data: bytes
    children: tuple[StoredManifest | None, ...]


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    """One named thing in the archive: an image, or an index of per-platform images.

    `images` are the platforms whose blobs are all present; `platforms` every platform the
    entry lists, present or not.
    """

    repo_tags: tuple[str, ...]
    images: tuple[ArchiveImage, ...]
    platforms: tuple[Platform, ...] = ()
    index: ArchiveIndex | None = None


@dataclass(frozen=True, slots=True)
class ArchiveTags:
    """The tags an archive records, read from its indexes alone (no config, no layer).

    `manifest_json` is the archive's manifest.json as stored, None when it has none (a bare
    OCI layout).
    """

    repo_tags: tuple[str, ...]
    manifest_json: tuple[Any, ...] | None = None


@dataclass(frozen=True, slots=True)
class ImageArchive:
    """Everything in an archive, in the order the archive lists it.

    `path` is the tar file the blobs are slices of: the archive itself, or its decompressed
    copy when the whole archive was compressed.
    """

    path: str
    format: str
    entries: tuple[ArchiveEntry, ...]
    compression: str | None = None

    @property
    def images(self) -> tuple[ArchiveImage, ...]:
        return tuple(image for entry in self.entries for image in entry.images)

    @property
    def repo_tags(self) -> tuple[str, ...]:
        """Every tag recorded in the archive, as recorded, without repeats."""
        return tuple(dict.fromkeys(tag for entry in self.entries for tag in entry.repo_tags))
