"""Describing an image: its manifest, layers and config (image-spec manifest.md,
image-index.md, config.md; Docker image manifest v2 schema 2 and manifest list)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._effects import Flow
from .._errors import RemoteProtocolError, ValidationError
from .._platform import Platform
from .._reference import RegistryEndpoint
from ._documents import (
    INDEX_TYPES,
    MAX_CONFIG_BYTES,
    PlatformManifest,
    choose_platform,
    image_blobs,
    json_object,
    platform_entries,
)
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


@dataclass(frozen=True, slots=True)
class LayerInfo:
    """One layer of an image manifest."""

    digest: str
    size: int
    media_type: str


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
        return bool(self.platforms) or self.media_type in INDEX_TYPES

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
    document = json_object(manifest.data, "manifest")
    media_type = manifest.media_type or _str(document.get("mediaType")) or ""
    if media_type in INDEX_TYPES or "manifests" in document:
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
        document = json_object(manifest.data, "manifest")
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
    where = f"{repository}:{reference} ({media_type})"
    if document.get("schemaVersion") != 2:
        raise RemoteProtocolError(f"{where} is not an image manifest this client reads")
    config_descriptor, layer_descriptors = image_blobs(document, where)
    layers = tuple(LayerInfo(d.digest, d.size, d.media_type) for d in layer_descriptors)
    config_bytes = yield from get_blob(
        endpoint, repository, config_descriptor.digest, max_bytes=MAX_CONFIG_BYTES
    )
    config = json_object(config_bytes, "image config")
    inner = _dict(config.get("config"))
    labels = _dict(inner.get("Labels"))
    ports = _dict(inner.get("ExposedPorts"))
    return ImageInfo(
        repository=repository,
        reference=reference,
        digest=manifest.digest,
        media_type=media_type,
        total_size=config_descriptor.size + sum(layer.size for layer in layers),
        layers=layers,
        config_digest=config_descriptor.digest,
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


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value: object) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None
