"""Reading the JSON documents registries serve: manifests, indexes, descriptors, platforms
(image-spec manifest.md, image-index.md, descriptor.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .._errors import RemoteProtocolError, ValidationError
from .._manifest import IMAGE_TYPES, INDEX_TYPES, Descriptor
from .._platform import Platform

__all__ = [
    "IMAGE_TYPES",
    "INDEX_TYPES",
    "MAX_CONFIG_BYTES",
    "PlatformManifest",
    "choose_platform",
    "descriptor",
    "image_blobs",
    "is_index",
    "json_object",
    "pick_platform",
    "platform_entries",
]

# The largest image config read into memory: configs are small JSON documents, and a registry
# sending more is refused rather than buffered.
MAX_CONFIG_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PlatformManifest:
    """One entry of an index or manifest list."""

    digest: str
    size: int
    media_type: str
    platform: Platform | None


def json_object(data: bytes, what: str = "manifest") -> dict[str, Any]:
    """A JSON object the registry sent, or `RemoteProtocolError`."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise RemoteProtocolError(f"the registry's {what} is not JSON") from None
    if not isinstance(document, dict):
        raise RemoteProtocolError(f"the registry's {what} is not a JSON object")
    return document


def is_index(media_type: str, document: dict[str, Any]) -> bool:
    return media_type in INDEX_TYPES or "manifests" in document


def descriptor(raw: object, what: str = "blob") -> Descriptor:
    """A content descriptor the registry sent, its digest checked."""
    try:
        return Descriptor.from_json(raw)
    except ValueError as exc:
        raise RemoteProtocolError(f"malformed {what} descriptor in the manifest: {exc}") from None


def image_blobs(document: dict[str, Any], what: str) -> tuple[Descriptor, list[Descriptor]]:
    """The config and the layers an image manifest names."""
    if not isinstance(document.get("config"), dict):
        raise RemoteProtocolError(f"{what} is not an image manifest this client reads")
    layers = document.get("layers") or []
    if not isinstance(layers, list):
        raise RemoteProtocolError(f"{what} has no list of layers")
    return descriptor(document["config"], "config"), [descriptor(raw, "layer") for raw in layers]


def platform_entries(document: dict[str, Any]) -> tuple[PlatformManifest, ...]:
    """The entries of an index or manifest list."""
    raw_entries = document.get("manifests")
    entries = []
    for raw in raw_entries if isinstance(raw_entries, list) else []:
        found = descriptor(raw, "index entry")
        platform = Platform.from_json(raw.get("platform")) if isinstance(raw, dict) else None
        entries.append(PlatformManifest(found.digest, found.size, found.media_type, platform))
    return tuple(entries)


def choose_platform(
    entries: tuple[PlatformManifest, ...], wanted: Platform, where: str
) -> PlatformManifest:
    """The image entry for `wanted` (its variant only checked when `wanted` names one)."""
    for entry in entries:
        in_index = entry.platform is not None and entry.media_type in IMAGE_TYPES
        if in_index and entry.platform is not None and entry.platform.matches(wanted):
            return entry
    available = sorted({str(e.platform) for e in entries if e.platform is not None})
    raise ValidationError(f"{where} has no {wanted} image; it has {available}")


def pick_platform(
    entries: tuple[PlatformManifest, ...],
    platform: Platform | None,
    host: Platform | None,
    where: str,
) -> PlatformManifest:
    """The platform asked for; else the only image (attestations are no platform); else the
    host's; else a `ValidationError` listing what there is."""
    if platform is not None:
        return choose_platform(entries, platform, where)
    images = [
        e
        for e in entries
        if e.media_type in IMAGE_TYPES
        and e.platform is not None
        and (e.platform.os, e.platform.architecture) != ("unknown", "unknown")
    ]
    if len(images) == 1:
        return images[0]
    if host is not None:
        for entry in images:
            if entry.platform is not None and entry.platform.matches(host):
                return entry
    raise ValidationError(
        f"{where} holds several platforms {sorted(str(e.platform) for e in images)}; "
        "choose one with platform="
    )
