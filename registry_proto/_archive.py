"""Reading image archives: `docker save`, `podman save`, `skopeo copy`, `oci-archive`.

An archive is indexed, never extracted: every blob becomes a `FileSlice` of the tar file.
Formats, detected from content (protocol.md §10):

- legacy `docker save` (docker <= 24): `manifest.json`, `<config>.json`, `<id>/layer.tar`
  (a repeated layer is a symlink to its first copy);
- podman / skopeo / buildah `docker-archive`: `manifest.json`, layers as `<diff-id>.tar`;
- docker 25+ `docker save`: an OCI layout (`index.json`, `blobs/`) beside `manifest.json`;
- docker with the containerd image store: the same, holding the registry's original
  (compressed) blobs, nested indexes, attestation manifests and only some platforms' blobs;
- `oci-archive`: a bare OCI layout with no `manifest.json`;
- any of these compressed as a whole (gzip, xz, zstd, bzip2): the driver decompresses it to a
  temporary file first, since a compressed stream cannot be sliced.

Where `manifest.json` exists it decides which images there are and their layer order (some
docker 25.0 releases wrote the embedded OCI manifest's layers in a random order); an OCI
manifest stored in the archive is pushed byte for byte whenever it describes exactly the same
config and layers, so containerd exports keep their registry digests.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ._effects import Flow, decompressed, offload, read_file
from ._errors import TarReadError, ValidationError
from ._manifest import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_LAYER_TAR,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
    Descriptor,
    ImageManifest,
    sha256_digest,
)
from ._models import FileSlice
from ._reference import split_recorded_tag, validate_digest
from ._tar import TarIndex, TarMember, index_tar

__all__ = [
    "ArchiveEntry",
    "ArchiveImage",
    "ArchiveIndex",
    "BlobSource",
    "ImageArchive",
    "LayerSource",
    "Platform",
    "StoredManifest",
    "compression_of",
    "read_archive",
]

_MAX_JSON_MEMBER = 32 * 1024 * 1024
_HASH_READ = 1024 * 1024
_BLOB_PATH = re.compile(r"blobs/(?P<alg>[a-z0-9]+)/(?P<hex>[a-zA-Z0-9=_-]+)")
_IMAGE_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
_INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
_CONTAINERD_NAME = "io.containerd.image.name"
_OCI_REF_NAME = "org.opencontainers.image.ref.name"
_REFERENCE_TYPE = "vnd.docker.reference.type"

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
class Platform:
    """The platform an image runs on: `os/architecture[/variant]`."""

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text

    def matches(self, wanted: Platform) -> bool:
        """Same os and architecture, and the same variant when `wanted` names one."""
        if (self.os, self.architecture) != (wanted.os, wanted.architecture):
            return False
        return wanted.variant is None or self.variant == wanted.variant


@dataclass(frozen=True, slots=True)
class BlobSource:
    """A blob stored in the archive, and what a manifest says of it."""

    descriptor: Descriptor
    source: FileSlice


@dataclass(frozen=True, slots=True)
class LayerSource:
    """One layer: its descriptor, its diff_id (the digest of its uncompressed tar) and bytes."""

    descriptor: Descriptor
    diff_id: str
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

    @property
    def complete(self) -> bool:
        return all(child is not None for child in self.children)


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


def read_archive(path: str) -> Flow[ImageArchive]:
    """Index the archive at `path` and describe everything in it."""
    head = yield from read_file(path, 0, 8)
    compression = compression_of(head)
    tar_path = path
    if compression is not None:
        tar_path = yield from decompressed(path, compression)
    index = yield from index_tar(tar_path)
    layout: list[_LayoutEntry] = []
    if "index.json" in index:
        layout = yield from _read_layout(index)
    if "manifest.json" in index:
        entries = yield from _read_manifest_json(index, layout)
        kind = "docker-archive" if "index.json" not in index else "docker-oci-archive"
    elif layout or ("index.json" in index and "oci-layout" in index):
        entries = [entry.entry() for entry in layout]
        kind = "oci-archive"
    else:
        raise ValidationError(
            f"{path} is not an image archive: it has neither manifest.json nor an OCI "
            "index.json (is it docker save, podman save or skopeo copy output?)"
        )
    if not any(entry.images for entry in entries):
        raise ValidationError(f"{path} holds no image whose blobs are all present")
    return ImageArchive(tar_path, kind, tuple(entries), compression)


# -- reading members ------------------------------------------------------------------------


def _read_member(index: TarIndex, member: TarMember) -> Flow[bytes]:
    data = yield from read_file(index.path, member.offset, member.size)
    if len(data) != member.size:
        raise TarReadError(f"{index.path}: truncated archive (member {member.name!r} is cut short)")
    return data


def _read_json(index: TarIndex, name: str, what: str) -> Flow[Any]:
    member = index.resolve(name)
    if member.size > _MAX_JSON_MEMBER:
        raise ValidationError(f"{what} ({name}) is too large to be JSON metadata")
    data = yield from _read_member(index, member)
    return _parse_json(data, f"{what} ({name})")


def _parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: deep nesting
        raise ValidationError(f"{what} is not valid JSON: {exc}") from None


def _blob_name(digest: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    return f"blobs/{algorithm}/{encoded}"


def _blob_member(index: TarIndex, descriptor: Descriptor) -> TarMember | None:
    """The archive member holding `descriptor`'s blob, or None when it is not there."""
    name = _blob_name(descriptor.digest)
    if name not in index:
        return None
    member = index.resolve(name)
    if member.size != descriptor.size:
        raise ValidationError(
            f"blob {descriptor.digest} is {member.size} bytes in the archive, "
            f"but its descriptor says {descriptor.size}"
        )
    return member


def _slice(index: TarIndex, member: TarMember) -> FileSlice:
    return FileSlice(index.path, member.offset, member.size)


# -- config and descriptors -----------------------------------------------------------------


def _descriptor(raw: object, what: str) -> Descriptor:
    if not isinstance(raw, dict):
        raise ValidationError(f"{what} is not a descriptor object")
    media_type, digest, size = raw.get("mediaType"), raw.get("digest"), raw.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValidationError(f"{what} has no valid size")
    try:
        validate_digest(digest)
    except ValidationError as exc:
        raise ValidationError(f"{what}: {exc}") from None
    assert isinstance(digest, str)
    return Descriptor(media_type if isinstance(media_type, str) else "", digest, size)


def _diff_ids(config: object, what: str) -> list[str]:
    rootfs = config.get("rootfs") if isinstance(config, dict) else None
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list):
        raise ValidationError(f"{what} has no rootfs.diff_ids list")
    for diff_id in diff_ids:
        try:
            validate_digest(diff_id)
        except ValidationError as exc:
            raise ValidationError(f"{what}: {exc}") from None
    return diff_ids


def _platform(raw: object) -> Platform | None:
    if not isinstance(raw, dict):
        return None
    os_name, arch, variant = raw.get("os"), raw.get("architecture"), raw.get("variant")
    if isinstance(os_name, str) and isinstance(arch, str) and os_name and arch:
        return Platform(os_name, arch, variant if isinstance(variant, str) and variant else None)
    return None


def _layer_media_type(magic: bytes) -> str:
    compression = compression_of(magic)
    if compression == "gzip":
        return OCI_LAYER_GZIP
    if compression == "zstd":
        return OCI_LAYER_ZSTD
    if compression is None:
        return OCI_LAYER_TAR
    raise ValidationError(
        f"a layer is {compression}-compressed, which no image media type allows; "
        "recompress it with gzip or zstd"
    )


# -- the OCI layout (index.json, blobs/) ----------------------------------------------------


@dataclass
class _LayoutEntry:
    """A top-level entry of index.json while it is being read."""

    digest: str
    names: list[str]
    images: list[ArchiveImage] = field(default_factory=list)
    platforms: list[Platform] = field(default_factory=list)
    index: ArchiveIndex | None = None

    def entry(self, tags: Iterable[str] = ()) -> ArchiveEntry:
        repo_tags = _distinct_tags([*tags, *self.names])
        images = tuple(_with_tags(image, repo_tags) for image in self.images)
        return ArchiveEntry(repo_tags, images, tuple(self.platforms), self.index)


def _with_tags(image: ArchiveImage, tags: tuple[str, ...]) -> ArchiveImage:
    return ArchiveImage(
        config=image.config,
        layers=image.layers,
        repo_tags=tags,
        platform=image.platform,
        stored_manifest=image.stored_manifest,
        stored_media_type=image.stored_media_type,
        config_media_type=image.config_media_type,
    )


def _names(annotations: object) -> list[str]:
    """The name an index.json entry records (protocol.md §10.6).

    containerd's full name wins; `ref.name` alone may be a full reference or a bare tag.
    """
    if not isinstance(annotations, dict):
        return []
    for key in (_CONTAINERD_NAME, _OCI_REF_NAME):
        value = annotations.get(key)
        if isinstance(value, str) and value:
            return [value]
    return []


def _distinct_tags(recorded: Iterable[str]) -> tuple[str, ...]:
    """Recorded tags without repeats, two spellings of one name counting as one."""
    seen: set[object] = set()
    distinct = []
    for text in recorded:
        key: object = split_recorded_tag(text) or text
        if key not in seen:
            seen.add(key)
            distinct.append(text)
    return tuple(distinct)


def _read_layout(index: TarIndex) -> Flow[list[_LayoutEntry]]:
    document = yield from _read_json(index, "index.json", "the OCI index")
    if not isinstance(document, dict):
        raise ValidationError("index.json is not a JSON object")
    manifests = document.get("manifests") or []  # docker 25.0 wrote `"manifests": null`
    if not isinstance(manifests, list):
        raise ValidationError("index.json has no manifests list")
    entries: list[_LayoutEntry] = []
    for number, raw in enumerate(manifests):
        descriptor = _descriptor(raw, f"index.json entry {number}")
        entry = _LayoutEntry(descriptor.digest, _names(raw.get("annotations")))
        yield from _read_node(index, descriptor, _platform(raw.get("platform")), entry)
        entries.append(entry)
    return _merge_same_manifest(entries)


def _merge_same_manifest(entries: list[_LayoutEntry]) -> list[_LayoutEntry]:
    """Docker writes one index.json entry per tag of the same image: merge their names."""
    merged: dict[str, _LayoutEntry] = {}
    for entry in entries:
        if entry.digest in merged:
            first = merged[entry.digest]
            first.names.extend(name for name in entry.names if name not in first.names)
        else:
            merged[entry.digest] = entry
    return list(merged.values())


def _read_node(
    index: TarIndex,
    descriptor: Descriptor,
    platform: Platform | None,
    entry: _LayoutEntry,
) -> Flow[None]:
    """Read the manifest or index `descriptor` names into `entry`.

    An index's children are read one level down; an index nested deeper is kept only as part
    of its parent for whole-index pushes.
    """
    member = _blob_member(index, descriptor)
    if member is None:
        return  # named but not exported: nothing of it to push
    data = yield from _read_member(index, member)
    document = _parse_json(data, f"manifest {descriptor.digest}")
    if not isinstance(document, dict):
        raise ValidationError(f"manifest {descriptor.digest} is not a JSON object")
    media_type = descriptor.media_type or str(document.get("mediaType") or "")
    if media_type in _INDEX_TYPES or "manifests" in document:
        yield from _read_index(index, descriptor, media_type or OCI_INDEX, data, document, entry)
        return
    image = yield from _read_image_manifest(index, descriptor, data, document, platform)
    if image is not None:
        entry.images.append(image)
        if image.platform is not None:
            entry.platforms.append(image.platform)


def _is_attestation(raw: dict[str, Any], platform: Platform | None) -> bool:
    annotations = raw.get("annotations")
    if isinstance(annotations, dict) and annotations.get(_REFERENCE_TYPE) == "attestation-manifest":
        return True
    return platform is not None and (platform.os, platform.architecture) == ("unknown", "unknown")


def _read_index(
    index: TarIndex,
    descriptor: Descriptor,
    media_type: str,
    data: bytes,
    document: dict[str, Any],
    entry: _LayoutEntry,
) -> Flow[None]:
    children: list[StoredManifest | None] = []
    raw_children = document.get("manifests") or []
    if not isinstance(raw_children, list):
        raise ValidationError(f"index {descriptor.digest} has no manifests list")
    for number, raw in enumerate(raw_children):
        child = _descriptor(raw, f"entry {number} of index {descriptor.digest}")
        platform = _platform(raw.get("platform"))
        if child.media_type in _INDEX_TYPES:
            children.append(None)  # an index within an index: pushed only as part of its own
            continue
        stored = yield from _stored_manifest(index, child)
        children.append(stored)
        if _is_attestation(raw, platform):
            continue
        if platform is not None:
            entry.platforms.append(platform)
        if stored is None:
            continue
        image = yield from _read_image_manifest(
            index, child, stored.data, _parse_json(stored.data, "manifest"), platform
        )
        if image is not None:
            entry.images.append(image)
    entry.index = ArchiveIndex(descriptor.digest, media_type, data, tuple(children))


def _stored_manifest(index: TarIndex, descriptor: Descriptor) -> Flow[StoredManifest | None]:
    """A manifest and all the blobs it names, or None when any of them is missing."""
    member = _blob_member(index, descriptor)
    if member is None:
        return None
    data = yield from _read_member(index, member)
    document = _parse_json(data, f"manifest {descriptor.digest}")
    if not isinstance(document, dict):
        raise ValidationError(f"manifest {descriptor.digest} is not a JSON object")
    blobs = []
    raw_blobs = [document.get("config"), *(document.get("layers") or [])]
    for number, raw in enumerate(raw_blobs):
        blob = _descriptor(raw, f"blob {number} of manifest {descriptor.digest}")
        blob_member = _blob_member(index, blob)
        if blob_member is None:
            return None
        blobs.append(BlobSource(blob, _slice(index, blob_member)))
    media_type = descriptor.media_type or str(document.get("mediaType") or OCI_MANIFEST)
    return StoredManifest(descriptor.digest, media_type, data, tuple(blobs))


def _read_image_manifest(
    index: TarIndex,
    descriptor: Descriptor,
    data: bytes,
    document: object,
    platform: Platform | None,
) -> Flow[ArchiveImage | None]:
    """The image an OCI or Docker manifest describes, or None when a blob is missing."""
    where = f"manifest {descriptor.digest}"
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ValidationError(f"{where} is not an image manifest")
    config_descriptor = _descriptor(document["config"], f"the config of {where}")
    raw_layers = document.get("layers") or []
    if not isinstance(raw_layers, list):
        raise ValidationError(f"{where} has no layers list")
    layer_descriptors = [
        _descriptor(raw, f"layer {number} of {where}") for number, raw in enumerate(raw_layers)
    ]
    config_member = _blob_member(index, config_descriptor)
    layer_members = [_blob_member(index, layer) for layer in layer_descriptors]
    if config_member is None or any(member is None for member in layer_members):
        return None  # a platform the archive does not hold
    config = yield from _read_member(index, config_member)
    config_json = _parse_json(config, f"the config of {where}")
    diff_ids = _diff_ids(config_json, f"the config of {where}")
    if len(diff_ids) != len(layer_descriptors):
        raise ValidationError(
            f"{where} lists {len(layer_descriptors)} layers but its config has "
            f"{len(diff_ids)} diff_ids"
        )
    layers = tuple(
        LayerSource(layer, diff_id, _slice(index, member))
        for layer, diff_id, member in zip(layer_descriptors, diff_ids, layer_members, strict=True)
        if member is not None
    )
    media_type = descriptor.media_type or str(document.get("mediaType") or OCI_MANIFEST)
    if media_type not in _IMAGE_TYPES:
        raise ValidationError(f"{where} has media type {media_type!r}, not an image manifest")
    return ArchiveImage(
        config=config,
        layers=layers,
        repo_tags=(),
        platform=_platform(config_json) or platform,
        stored_manifest=data,
        stored_media_type=media_type,
        config_media_type=config_descriptor.media_type or OCI_CONFIG,
    )


# -- manifest.json --------------------------------------------------------------------------


def _read_manifest_json(index: TarIndex, layout: list[_LayoutEntry]) -> Flow[list[ArchiveEntry]]:
    entries = yield from _read_json(index, "manifest.json", "the archive's manifest")
    if not isinstance(entries, list) or not entries:
        raise ValidationError("manifest.json must be a non-empty list of images")
    result: list[ArchiveEntry] = []
    used: set[int] = set()
    for number, raw in enumerate(entries):
        image = yield from _read_manifest_entry(index, raw, number)
        match = _find_in_layout(layout, image)
        if match is None:
            tags = _distinct_tags(image.repo_tags)
            result.append(ArchiveEntry(tags, (_with_tags(image, tags),), _platforms_of(image)))
            continue
        position, stored = match
        used.add(position)
        entry = layout[position]
        # Prefer the stored manifest bytes (same digest as the registry had), and list the
        # entry's other complete platforms beside it.
        others = [
            other for other in entry.images if other.stored_manifest != stored.stored_manifest
        ]
        result.append(
            _LayoutEntry(
                digest=entry.digest,
                names=entry.names,
                images=[_with_order(stored, image), *others],
                platforms=entry.platforms or list(_platforms_of(image)),
                index=entry.index,
            ).entry(image.repo_tags)
        )
    result.extend(entry.entry() for i, entry in enumerate(layout) if i not in used and entry.images)
    return result


def _platforms_of(image: ArchiveImage) -> tuple[Platform, ...]:
    return (image.platform,) if image.platform is not None else ()


def _with_order(stored: ArchiveImage, image: ArchiveImage) -> ArchiveImage:
    return ArchiveImage(
        config=stored.config,
        layers=stored.layers,
        repo_tags=image.repo_tags,
        platform=stored.platform or image.platform,
        stored_manifest=stored.stored_manifest,
        stored_media_type=stored.stored_media_type,
        config_media_type=stored.config_media_type,
    )


def _find_in_layout(
    layout: list[_LayoutEntry], image: ArchiveImage
) -> tuple[int, ArchiveImage] | None:
    """The stored image describing exactly `image`'s config and layers, in the same order."""
    wanted = (image.config_descriptor.digest, [layer.descriptor.digest for layer in image.layers])
    for position, entry in enumerate(layout):
        for stored in entry.images:
            found = (
                stored.config_descriptor.digest,
                [layer.descriptor.digest for layer in stored.layers],
            )
            if found == wanted:
                return position, stored
    return None


def _read_manifest_entry(index: TarIndex, entry: object, number: int) -> Flow[ArchiveImage]:
    where = f"manifest.json entry {number}"
    if not isinstance(entry, dict):
        raise ValidationError(f"{where} is not an object")
    config_name = entry.get("Config")
    layer_names = entry.get("Layers")
    repo_tags = entry.get("RepoTags") or []  # null or [] for an image saved by ID
    if not isinstance(config_name, str):
        raise ValidationError(f"{where} has no Config")
    if not isinstance(layer_names, list) or not all(isinstance(n, str) for n in layer_names):
        raise ValidationError(f"{where} has no valid Layers list")
    if not isinstance(repo_tags, list) or not all(isinstance(t, str) for t in repo_tags):
        raise ValidationError(f"{where} has an invalid RepoTags list")

    config = yield from _read_member(index, index.resolve(config_name))
    config_json = _parse_json(config, f"image config {config_name!r}")
    diff_ids = _diff_ids(config_json, f"image config {config_name!r}")
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


def _layer_source(index: TarIndex, name: str, diff_id: str) -> Flow[LayerSource]:
    member = index.resolve(name)
    magic = yield from read_file(index.path, member.offset, min(8, member.size))
    media_type = _layer_media_type(magic)
    source = _slice(index, member)
    if media_type == OCI_LAYER_TAR:
        # Uncompressed: the bytes hash to the diff_id, so there is nothing to compute.
        return LayerSource(Descriptor(media_type, diff_id, member.size), diff_id, source)
    # A compressed layer is stored under its digest (containerd exports); elsewhere (a
    # hand-made or older docker archive) its digest is only known by hashing it.
    blob = _BLOB_PATH.fullmatch(member.name)
    if blob is not None:
        digest = validate_digest(f"{blob['alg']}:{blob['hex']}")
    else:
        digest = yield from _hash_slice(source)
    return LayerSource(Descriptor(media_type, digest, member.size), diff_id, source)


def _hash_slice(source: FileSlice) -> Flow[str]:
    """The sha256 digest of a slice, read a MiB at a time and hashed off the event loop."""
    hasher = hashlib.sha256()
    done = 0
    while done < source.length:
        data = yield from read_file(
            source.path, source.offset + done, min(_HASH_READ, source.length - done)
        )
        if not data:
            raise TarReadError(f"{source.path}: truncated archive (a layer is cut short)")
        yield from offload(hasher.update, data)
        done += len(data)
    return "sha256:" + hasher.hexdigest()
