"""Describing an image: its manifest, layers and config (image-spec manifest.md,
image-index.md, config.md; Docker image manifest v2 schema 2 and manifest list)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._archive import Platform
from .._effects import Flow
from .._errors import RemoteProtocolError, ValidationError
from .._manifest import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST
from .._reference import RegistryEndpoint, validate_digest
from .blobs import get_blob
from .manifests import FetchedManifest, get_manifest

__all__ = [
    "ImageInfo",
    "LayerInfo",
    "PlatformManifest",
    "choose_platform",
    "get_image_info",
    "parse_platform",
    "platform_entries",
]

_INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
_IMAGE_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
_MAX_CONFIG_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LayerInfo:
    """One layer of an image manifest."""

    digest: str
    size: int
    media_type: str


@dataclass(frozen=True, slots=True)
class PlatformManifest:
    """One entry of an index or manifest list."""

    digest: str
    size: int
    media_type: str
    platform: Platform | None


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What a registry holds under a reference.

    For an image manifest, `layers` and the config fields are set and `platforms` is empty.
    For an index or manifest list, `platforms` lists its entries; `total_size` is then the sum
    of the listed manifests' sizes, and the config fields are empty.
    """

    repository: str
    reference: str
    digest: str
    media_type: str
    total_size: int
    layers: tuple[LayerInfo, ...] = ()
    platforms: tuple[PlatformManifest, ...] = ()
    config_digest: str | None = None
    os: str | None = None
    architecture: str | None = None
    variant: str | None = None
    created: str | None = None
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    env: tuple[str, ...] = ()
    working_dir: str | None = None
    user: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    exposed_ports: tuple[str, ...] = ()

    @property
    def is_index(self) -> bool:
        return bool(self.platforms) or self.media_type in _INDEX_TYPES

    @property
    def platform(self) -> Platform | None:
        if self.os is None or self.architecture is None:
            return None
        return Platform(self.os, self.architecture, self.variant)


def parse_platform(text: object) -> Platform:
    """`os/architecture[/variant]`, e.g. `linux/arm64` or `linux/arm/v7`."""
    if not isinstance(text, str):
        raise ValidationError("platform must be a string such as 'linux/arm64'")
    parts = text.split("/")
    if not 2 <= len(parts) <= 3 or not all(part and part.strip() == part for part in parts):
        raise ValidationError(
            f"invalid platform {text!r}: expected os/architecture[/variant], e.g. linux/arm/v7"
        )
    return Platform(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def get_image_info(
    endpoint: RegistryEndpoint,
    repository: str,
    reference: str,
    *,
    platform: Platform | None = None,
) -> Flow[ImageInfo]:
    """Describe `repository:reference` (a tag or a digest).

    With `platform`, an index is resolved to that platform's image, which is described instead.
    """
    manifest = yield from get_manifest(endpoint, repository, reference)
    document = _json_object(manifest.data, "manifest")
    media_type = manifest.media_type or _str(document.get("mediaType")) or ""
    if media_type in _INDEX_TYPES or "manifests" in document:
        entries = platform_entries(document)
        if platform is None:
            return ImageInfo(
                repository=repository,
                reference=reference,
                digest=manifest.digest,
                media_type=media_type,
                total_size=sum(entry.size for entry in entries),
                platforms=entries,
            )
        chosen = choose_platform(entries, platform, f"{repository}:{reference}")
        manifest = yield from get_manifest(endpoint, repository, chosen.digest)
        document = _json_object(manifest.data, "manifest")
        media_type = manifest.media_type or _str(document.get("mediaType")) or ""
    return (
        yield from _describe_image(endpoint, repository, reference, manifest, document, media_type)
    )


def _describe_image(
    endpoint: RegistryEndpoint,
    repository: str,
    reference: str,
    manifest: FetchedManifest,
    document: dict[str, Any],
    media_type: str,
) -> Flow[ImageInfo]:
    if document.get("schemaVersion") != 2 or not isinstance(document.get("config"), dict):
        raise RemoteProtocolError(
            f"{repository}:{reference} is not an image manifest this client reads ({media_type})"
        )
    config_descriptor = _descriptor(document["config"], "config")
    layers = tuple(
        LayerInfo(*_descriptor(layer, "layer")) for layer in _list(document.get("layers"))
    )
    config_bytes = yield from get_blob(
        endpoint, repository, config_descriptor[0], max_bytes=_MAX_CONFIG_BYTES
    )
    config = _json_object(config_bytes, "image config")
    inner = _dict(config.get("config"))
    labels = _dict(inner.get("Labels"))
    ports = _dict(inner.get("ExposedPorts"))
    return ImageInfo(
        repository=repository,
        reference=reference,
        digest=manifest.digest,
        media_type=media_type,
        total_size=config_descriptor[1] + sum(layer.size for layer in layers),
        layers=layers,
        config_digest=config_descriptor[0],
        os=_str(config.get("os")),
        architecture=_str(config.get("architecture")),
        variant=_str(config.get("variant")),
        created=_str(config.get("created")),
        entrypoint=_strings(inner.get("Entrypoint")),
        cmd=_strings(inner.get("Cmd")),
        env=_strings(inner.get("Env")) or (),
        working_dir=_str(inner.get("WorkingDir")) or None,
        user=_str(inner.get("User")) or None,
        labels={str(k): str(v) for k, v in labels.items()},
        exposed_ports=tuple(sorted(str(port) for port in ports)),
    )


def platform_entries(document: dict[str, Any]) -> tuple[PlatformManifest, ...]:
    entries = []
    for raw in _list(document.get("manifests")):
        digest, size, media_type = _descriptor(raw, "index entry")
        platform = raw.get("platform")
        found = None
        if isinstance(platform, dict):
            os_name, arch = _str(platform.get("os")), _str(platform.get("architecture"))
            if os_name and arch:
                found = Platform(os_name, arch, _str(platform.get("variant")) or None)
        entries.append(PlatformManifest(digest, size, media_type, found))
    return tuple(entries)


def choose_platform(
    entries: tuple[PlatformManifest, ...], wanted: Platform, where: str
) -> PlatformManifest:
    for entry in entries:
        if entry.platform is None or entry.media_type not in _IMAGE_TYPES:
            continue
        found = entry.platform
        if (found.os, found.architecture) != (wanted.os, wanted.architecture):
            continue
        if wanted.variant is None or found.variant == wanted.variant:
            return entry
    available = sorted({str(e.platform) for e in entries if e.platform is not None})
    raise ValidationError(f"{where} has no {wanted} image; it has {available}")


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise RemoteProtocolError(f"the registry's {what} is not JSON") from None
    if not isinstance(document, dict):
        raise RemoteProtocolError(f"the registry's {what} is not a JSON object")
    return document


def _descriptor(raw: object, what: str) -> tuple[str, int, str]:
    if not isinstance(raw, dict):
        raise RemoteProtocolError(f"malformed {what} descriptor in the manifest")
    digest, size, media_type = raw.get("digest"), raw.get("size"), raw.get("mediaType")
    if not isinstance(digest, str) or isinstance(size, bool) or not isinstance(size, int):
        raise RemoteProtocolError(f"malformed {what} descriptor in the manifest")
    try:
        validate_digest(digest)
    except ValidationError:
        raise RemoteProtocolError(f"malformed {what} digest {digest!r} in the manifest") from None
    return digest, size, media_type if isinstance(media_type, str) else ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value: object) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None
