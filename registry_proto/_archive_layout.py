"""Reading the OCI image layout inside an archive: `index.json`, nested indexes, attestation
manifests, platforms whose blobs are missing (image-spec image-layout.md, image-index.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ._archive_members import (
    config_diff_ids,
    distinct_tags,
    file_slice,
    find_blob,
    parse_json,
    read_descriptor,
    read_json,
    read_member,
    uncompressed_diff_id,
)
from ._archive_model import (
    ArchiveEntry,
    ArchiveImage,
    ArchiveIndex,
    BlobSource,
    LayerSource,
    StoredManifest,
)
from ._effects import Flow
from ._errors import ValidationError
from ._manifest import (
    IMAGE_TYPES,
    INDEX_TYPES,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
)
from ._platform import Platform
from ._tar import TarIndex

_CONTAINERD_NAME = "io.containerd.image.name"
_OCI_REF_NAME = "org.opencontainers.image.ref.name"
_REFERENCE_TYPE = "vnd.docker.reference.type"


@dataclass
class LayoutEntry:
    """A top-level entry of index.json while it is being read."""

    digest: str
    names: list[str]
    images: list[ArchiveImage] = field(default_factory=list)
    platforms: list[Platform] = field(default_factory=list)
    index: ArchiveIndex | None = None

    def entry(self, tags: Iterable[str] = ()) -> ArchiveEntry:
        repo_tags = distinct_tags([*tags, *self.names])
        images = tuple(with_tags(image, repo_tags) for image in self.images)
        return ArchiveEntry(repo_tags, images, tuple(self.platforms), self.index)


def with_tags(image: ArchiveImage, tags: tuple[str, ...]) -> ArchiveImage:
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
    """The name an index.json entry records (docs/protocol.md §10.6).

    containerd's full name wins; `ref.name` alone may be a full reference or a bare tag.
    """
    if not isinstance(annotations, dict):
        return []
    for key in (_CONTAINERD_NAME, _OCI_REF_NAME):
        value = annotations.get(key)
        if isinstance(value, str) and value:
            return [value]
    return []


def _index_entries(index: TarIndex) -> Flow[list[Any]]:
    document = yield from read_json(index, "index.json", "the OCI index")
    if not isinstance(document, dict):
        raise ValidationError("index.json is not a JSON object")
    manifests = document.get("manifests") or []  # docker 25.0 wrote `"manifests": null`
    if not isinstance(manifests, list):
        raise ValidationError("index.json has no manifests list")
    return manifests


def read_layout_names(index: TarIndex) -> Flow[list[str]]:
    """The names index.json records for its entries, without reading what they point at."""
    manifests = yield from _index_entries(index)
    return [
        name
        for raw in manifests
        if isinstance(raw, dict)
        for name in _names(raw.get("annotations"))
    ]


def read_layout(index: TarIndex) -> Flow[list[LayoutEntry]]:
    manifests = yield from _index_entries(index)
    entries: list[LayoutEntry] = []
    for number, raw in enumerate(manifests):
        descriptor = read_descriptor(raw, f"index.json entry {number}")
        entry = LayoutEntry(descriptor.digest, _names(raw.get("annotations")))
        yield from _read_node(index, descriptor, Platform.from_json(raw.get("platform")), entry)
        entries.append(entry)
    return _merge_same_manifest(entries)


def _merge_same_manifest(entries: list[LayoutEntry]) -> list[LayoutEntry]:
    """Docker writes one index.json entry per tag of the same image: merge their names."""
    merged: dict[str, LayoutEntry] = {}
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
    entry: LayoutEntry,
) -> Flow[None]:
    """Read the manifest or index `descriptor` names into `entry`.

    An index's children are read one level down; an index nested deeper is kept only as part
    of its parent for whole-index pushes.
    """
    member = find_blob(index, descriptor)
    if member is None:
        return  # named but not exported: nothing of it to push
    data = yield from read_member(index, member)
    document = parse_json(data, f"manifest {descriptor.digest}")
    if not isinstance(document, dict):
        raise ValidationError(f"manifest {descriptor.digest} is not a JSON object")
    media_type = descriptor.media_type or str(document.get("mediaType") or "")
    if media_type in INDEX_TYPES or "manifests" in document:
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
    entry: LayoutEntry,
) -> Flow[None]:
    children: list[StoredManifest | None] = []
    raw_children = document.get("manifests") or []
    if not isinstance(raw_children, list):
        raise ValidationError(f"index {descriptor.digest} has no manifests list")
    for number, raw in enumerate(raw_children):
        child = read_descriptor(raw, f"entry {number} of index {descriptor.digest}")
        platform = Platform.from_json(raw.get("platform"))
        if child.media_type in INDEX_TYPES:
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
            index, child, stored.data, parse_json(stored.data, "manifest"), platform
        )
        if image is not None:
            entry.images.append(image)
    entry.index = ArchiveIndex(descriptor.digest, media_type, data, tuple(children))


def _stored_manifest(index: TarIndex, descriptor: Descriptor) -> Flow[StoredManifest | None]:
    """A manifest and all the blobs it names, or None when any of them is missing."""
    member = find_blob(index, descriptor)
    if member is None:
        return None
    data = yield from read_member(index, member)
    document = parse_json(data, f"manifest {descriptor.digest}")
    if not isinstance(document, dict):
        raise ValidationError(f"manifest {descriptor.digest} is not a JSON object")
    blobs = []
    raw_blobs = [document.get("config"), *(document.get("layers") or [])]
    for number, raw in enumerate(raw_blobs):
        blob = read_descriptor(raw, f"blob {number} of manifest {descriptor.digest}")
        blob_member = find_blob(index, blob)
        if blob_member is None:
            return None
        blobs.append(BlobSource(blob, file_slice(index, blob_member)))
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
    config_descriptor = read_descriptor(document["config"], f"the config of {where}")
    raw_layers = document.get("layers") or []
    if not isinstance(raw_layers, list):
        raise ValidationError(f"{where} has no layers list")
    layer_descriptors = [
        read_descriptor(raw, f"layer {number} of {where}") for number, raw in enumerate(raw_layers)
    ]
    config_member = find_blob(index, config_descriptor)
    layer_members = [find_blob(index, layer) for layer in layer_descriptors]
    if config_member is None or any(member is None for member in layer_members):
        return None  # a platform the archive does not hold
    config = yield from read_member(index, config_member)
    config_json = parse_json(config, f"the config of {where}")
    diff_ids = config_diff_ids(config_json, f"the config of {where}")
    if diff_ids is not None and len(diff_ids) != len(layer_descriptors):
        raise ValidationError(
            f"{where} lists {len(layer_descriptors)} layers but its config has "
            f"{len(diff_ids)} diff_ids"
        )
    # Without diff_ids, layers are pushed as stored, with what they imply of themselves.
    recorded: list[str | None] = (
        list(diff_ids)
        if diff_ids is not None
        else [uncompressed_diff_id(d.media_type, d.digest) for d in layer_descriptors]
    )
    layers = tuple(
        LayerSource(layer, diff_id, file_slice(index, member))
        for layer, diff_id, member in zip(layer_descriptors, recorded, layer_members, strict=True)
        if member is not None
    )
    media_type = descriptor.media_type or str(document.get("mediaType") or OCI_MANIFEST)
    if media_type not in IMAGE_TYPES:
        raise ValidationError(f"{where} has media type {media_type!r}, not an image manifest")
    return ArchiveImage(
        config=config,
        layers=layers,
        repo_tags=(),
        platform=Platform.from_json(config_json) or platform,
        stored_manifest=data,
        stored_media_type=media_type,
        config_media_type=config_descriptor.media_type or OCI_CONFIG,
    )
