"""Reading `manifest.json`, the index `docker save` and `podman save` write (docs/protocol.md
§10.1-10.4): which images, their configs, their layers in order, their tags."""

from __future__ import annotations

import hashlib
import re

from ._archive_layout import LayoutEntry, with_tags
from ._archive_members import (
    config_diff_ids,
    distinct_tags,
    file_slice,
    layer_media_type,
    parse_json,
    read_json,
    read_member,
)
from ._archive_model import ArchiveEntry, ArchiveImage, LayerSource
from ._effects import Flow, offload, read_file
from ._errors import TarReadError, ValidationError
from ._manifest import OCI_LAYER_TAR, Descriptor
from ._models import FileSlice
from ._platform import Platform
from ._reference import validate_digest
from ._tar import TarIndex

_HASH_READ = 1024 * 1024
_BLOB_PATH = re.compile(r"blobs/(?P<alg>[a-z0-9]+)/(?P<hex>[a-zA-Z0-9=_-]+)")


def read_manifest_json(index: TarIndex, layout: list[LayoutEntry]) -> Flow[list[ArchiveEntry]]:
    entries = yield from read_json(index, "manifest.json", "the archive's manifest")
    if not isinstance(entries, list) or not entries:
        raise ValidationError("manifest.json must be a non-empty list of images")
    result: list[ArchiveEntry] = []
    used: set[int] = set()
    for number, raw in enumerate(entries):
        image = yield from _read_manifest_entry(index, raw, number)
        match = _find_in_layout(layout, image)
        if match is None:
            tags = distinct_tags(image.repo_tags)
            result.append(ArchiveEntry(tags, (with_tags(image, tags),), _platforms_of(image)))
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
            LayoutEntry(
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
    layout: list[LayoutEntry], image: ArchiveImage
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

    config = yield from read_member(index, index.resolve(config_name))
    config_json = parse_json(config, f"image config {config_name!r}")
    diff_ids = config_diff_ids(config_json, f"image config {config_name!r}")
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
        platform=Platform.from_json(config_json),
    )


def _layer_source(index: TarIndex, name: str, diff_id: str) -> Flow[LayerSource]:
    member = index.resolve(name)
    magic = yield from read_file(index.path, member.offset, min(8, member.size))
    media_type = layer_media_type(magic)
    source = file_slice(index, member)
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
