"""Reading the members of an indexed archive: JSON documents, blobs by digest, descriptors,
configs (image-spec descriptor.md, config.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ._archive_model import compression_of
from ._effects import Flow, read_file
from ._errors import TarReadError, ValidationError
from ._manifest import (
    OCI_LAYER_GZIP,
    OCI_LAYER_TAR,
    OCI_LAYER_ZSTD,
    OPAQUE_BLOB,
    UNCOMPRESSED_LAYERS,
    Descriptor,
)
from ._models import FileSlice
from ._reference import split_recorded_tag, validate_digest
from ._tar import TarIndex, TarMember, is_tar_header

MAX_JSON_MEMBER = 32 * 1024 * 1024


def read_member(index: TarIndex, member: TarMember) -> Flow[bytes]:
    data = yield from read_file(index.path, member.offset, member.size)
    if len(data) != member.size:
        raise TarReadError(f"{index.path}: truncated archive (member {member.name!r} is cut short)")
    return data


def read_json(index: TarIndex, name: str, what: str) -> Flow[Any]:
    member = index.resolve(name)
    if member.size > MAX_JSON_MEMBER:
        raise ValidationError(f"{what} ({name}) is too large to be JSON metadata")
    data = yield from read_member(index, member)
    return parse_json(data, f"{what} ({name})")


def parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: deep nesting
        raise ValidationError(f"{what} is not valid JSON: {exc}") from None


def blob_name(digest: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    return f"blobs/{algorithm}/{encoded}"


def find_blob(index: TarIndex, descriptor: Descriptor) -> TarMember | None:
    """The archive member holding `descriptor`'s blob, or None when it is not there."""
    name = blob_name(descriptor.digest)
    if name not in index:
        return None
    member = index.resolve(name)
    if member.size != descriptor.size:
        raise ValidationError(
            f"blob {descriptor.digest} is {member.size} bytes in the archive, "
            f"but its descriptor says {descriptor.size}"
        )
    return member


def file_slice(index: TarIndex, member: TarMember) -> FileSlice:
    return FileSlice(index.path, member.offset, member.size)


def read_descriptor(raw: object, what: str) -> Descriptor:
    try:
        return Descriptor.from_json(raw)
    except ValueError as exc:
        raise ValidationError(f"{what}: {exc}") from None


def config_diff_ids(config: object, what: str) -> list[str] | None:
    """The config's `rootfs.diff_ids`, or None when it records none.

    Registries never read configs, so an image whose config has no rootfs (a test image, an
    artifact) is pushed as it is; a `rootfs.diff_ids` that is there but malformed is an error.
    """
    rootfs = config.get("rootfs") if isinstance(config, dict) else None
    if rootfs is None:
        return None
    if not isinstance(rootfs, dict):
        raise ValidationError(f"{what} has a rootfs that is not an object")
    diff_ids = rootfs.get("diff_ids")
    if diff_ids is None:
        return None
    if not isinstance(diff_ids, list):
        raise ValidationError(f"{what}: rootfs.diff_ids is not a list")
    for diff_id in diff_ids:
        try:
            validate_digest(diff_id)
        except ValidationError as exc:
            raise ValidationError(f"{what}: {exc}") from None
    return diff_ids


def layer_media_type(head: bytes, *, has_diff_id: bool) -> str:
    """The media type of a layer whose first bytes (at least one tar block) are `head`.

    gzip and zstd streams are compressed layers, a tar stream an uncompressed one; anything
    else goes up as an opaque blob, as registries allow. An xz or bzip2 layer of an image whose
    config records diff_ids is refused: no layer media type carries those compressions, and
    pushing it opaque would give an image nobody can run.
    """
    compression = compression_of(head)
    if compression == "gzip":
        return OCI_LAYER_GZIP
    if compression == "zstd":
        return OCI_LAYER_ZSTD
    if compression is not None and has_diff_id:
        raise ValidationError(
            f"a layer is {compression}-compressed, which no image media type allows; "
            "recompress it with gzip or zstd"
        )
    if compression is None and is_tar_header(head):
        return OCI_LAYER_TAR
    return OPAQUE_BLOB


def uncompressed_diff_id(media_type: str, digest: str) -> str | None:
    """The diff_id a layer implies by itself: an uncompressed tar is its own diff_id."""
    return digest if media_type in UNCOMPRESSED_LAYERS else None


def distinct_tags(recorded: Iterable[str]) -> tuple[str, ...]:
    """Recorded tags without repeats, two spellings of one name counting as one."""
    seen: set[object] = set()
    distinct = []
    for text in recorded:
        key: object = split_recorded_tag(text) or text
        if key not in seen:
            seen.add(key)
            distinct.append(text)
    return tuple(distinct)
