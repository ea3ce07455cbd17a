"""Reading `manifest.json`, the index `docker save` and `podman save` write (docs/protocol.md
§10.1-10.4): which images, their configs, their layers in order, their tags."""

from __future__ import annotations

import re
from typing import Any

from ._archive_layout import LayoutEntry, with_tags
from ._archive_members import (
    config_diff_ids,
    distinct_tags,
    file_slice,
    layer_media_type,
    parse_json,
    read_json,
    read_member,
    uncompressed_diff_id,
)
from ._archive_model import ArchiveEntry, ArchiveImage, LayerSource
from ._effects import Flow, read_file
from ._errors import ValidationError
from ._hashing import hash_slice
from ._manifest import OCI_LAYER_GZIP, OCI_LAYER_ZSTD, Descriptor, sha256_digest
from ._models import FileSlice
from ._platform import Platform
from ._reference import validate_digest
from ._tar import BLOCK, TarIndex

_BLOB_PATH = re.compile(r"blobs/(?P<alg>[a-z0-9]+)/(?P<hex>[a-zA-Z0-9=_-]+)")


def read_manifest_json(index: TarIndex, layout: list[LayoutEntry]) -> Flow[list[ArchiveEntry]]:
    entries = yield from read_manifest_list(index)
    fallback = yield from fallback_tags(index, entries)
    result: list[ArchiveEntry] = []
    used: set[int] = set()
    for number, raw in enumerate(entries):
        image = yield from _read_manifest_entry(index, raw, number)
        if fallback:
            image = with_tags(image, fallback)
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


def fallback_tags(index: TarIndex, entries: list[Any]) -> Flow[tuple[str, ...]]:
    """The `repositories` file's tags, for a lone image whose manifest.json entry has none."""
    if len(entries) != 1 or recorded_tags(entries[0], 0):
        return ()
    return (yield from read_repositories(index))


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


def recorded_tags(entry: object, number: int) -> tuple[str, ...]:
    """The `RepoTags` of a manifest.json entry (null or [] for an image saved by ID)."""
    where = f"manifest.json entry {number}"
    if not isinstance(entry, dict):
        raise ValidationError(f"{where} is not an object")
    repo_tags = entry.get("RepoTags") or []
    if not isinstance(repo_tags, list) or not all(isinstance(t, str) for t in repo_tags):
        raise ValidationError(f"{where} has an invalid RepoTags list")
    return tuple(repo_tags)


def read_repositories(index: TarIndex) -> Flow[tuple[str, ...]]:
    """The tags the legacy `repositories` file records: `{"repo": {"tag": "<id>"}}`."""
    if "repositories" not in index:
        return ()
    document = yield from read_json(index, "repositories", "the archive's repositories file")
    if not isinstance(document, dict):
        raise ValidationError("the repositories file is not a JSON object")
    return tuple(
        f"{repository}:{tag}"
        for repository, tags in document.items()
        if isinstance(tags, dict)
        for tag in tags
    )


def read_manifest_list(index: TarIndex) -> Flow[list[Any]]:
    """manifest.json as stored: a non-empty list, one entry per image."""
    entries = yield from read_json(index, "manifest.json", "the archive's manifest")
    if not isinstance(entries, list) or not entries:
        raise ValidationError("manifest.json must be a non-empty list of images")
    return entries


def _read_manifest_entry(index: TarIndex, entry: object, number: int) -> Flow[ArchiveImage]:
    where = f"manifest.json entry {number}"
    repo_tags = recorded_tags(entry, number)
    assert isinstance(entry, dict)
    config_name = entry.get("Config")
    layer_names = entry.get("Layers")
    if not isinstance(config_name, str):
        raise ValidationError(f"{where} has no Config")
    if not isinstance(layer_names, list) or not all(isinstance(n, str) for n in layer_names):
        raise ValidationError(f"{where} has no valid Layers list")

    config_member = index.resolve(config_name)
    config = yield from read_member(index, config_member)
    _check_named_digest(config_member.name, sha256_digest(config), f"image config {config_name!r}")
    config_json = parse_json(config, f"image config {config_name!r}")
    diff_ids = config_diff_ids(config_json, f"image config {config_name!r}")
    if diff_ids is not None and len(diff_ids) != len(layer_names):
        raise ValidationError(
            f"{where} lists {len(layer_names)} layers but its config has {len(diff_ids)} diff_ids"
        )
    recorded: list[str | None] = (
        list(diff_ids) if diff_ids is not None else [None] * len(layer_names)
    )
    layers = []
    for name, diff_id in zip(layer_names, recorded, strict=True):
        layers.append((yield from _layer_source(index, name, diff_id)))
    return ArchiveImage(
        config=config,
        layers=tuple(layers),
        repo_tags=repo_tags,
        platform=Platform.from_json(config_json),
    )


def _named_digest(name: str) -> str | None:
    """The digest a member's name records (`blobs/<algorithm>/<encoded>`), if it records one."""
    blob = _BLOB_PATH.fullmatch(name)
    return validate_digest(f"{blob['alg']}:{blob['hex']}") if blob is not None else None


def _check_named_digest(name: str, actual: str, what: str) -> None:
    named = _named_digest(name)
    if named is not None and named.startswith("sha256:") and named != actual:
        raise ValidationError(f"{what} is stored as {named} but its content hashes to {actual}")


def _layer_source(index: TarIndex, name: str, diff_id: str | None) -> Flow[LayerSource]:
    """One layer as stored, its media type chosen from its first bytes.

    Its digest is the one the archive records, so that the registry checks the bytes against
    it on upload: the config's diff_id for a layer stored uncompressed, else the member's
    `blobs/<algorithm>/<encoded>` name. Only a layer recorded nowhere is hashed here.
    """
    member = index.resolve(name)
    head = yield from read_file(index.path, member.offset, min(BLOCK, member.size))
    media_type = layer_media_type(head, has_diff_id=diff_id is not None)
    source = file_slice(index, member)
    if diff_id is not None and media_type not in (OCI_LAYER_GZIP, OCI_LAYER_ZSTD):
        return LayerSource(Descriptor(media_type, diff_id, member.size), diff_id, source)
    digest = _named_digest(member.name)
    if digest is None:
        digest = yield from _hash_slice(source)
    implied = diff_id or uncompressed_diff_id(media_type, digest)
    return LayerSource(Descriptor(media_type, digest, member.size), implied, source)


def _hash_slice(source: FileSlice) -> Flow[str]:
    """The sha256 digest of a layer whose member name gives none."""
    return hash_slice(
        source, "sha256", cut_short=f"{source.path}: truncated archive (a layer is cut short)"
    )
