"""The data types of the 1.x API, as frozen dataclasses with 1.x's field names and defaults.

`RegistryConfig`, `BlobInfo` and `ManifestInfo` are built positionally or by keyword, as in
1.x; the inspection models (`ImageInspect`, `ImageConfig`, `LayerInfo`) by keyword only, as
1.x's models were. Timeouts are in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "BlobInfo",
    "ImageConfig",
    "ImageInspect",
    "LayerInfo",
    "ManifestInfo",
    "RegistryConfig",
]


@dataclass(frozen=True)
class RegistryConfig:
    """A registry's URL and the timeout of its requests, in seconds."""

    url: str
    timeout: int = 30

    @property
    def base_url(self) -> str:
        """The URL without a trailing slash."""
        return self.url.rstrip("/")


@dataclass(frozen=True)
class BlobInfo:
    """A blob: its digest, size in bytes and media type."""

    digest: str
    size: int
    media_type: str = "application/octet-stream"

    @property
    def digest_short(self) -> str:
        """The first 12 characters of the encoded digest, as docker shows image IDs."""
        return self.digest.partition(":")[2][:12] if ":" in self.digest else self.digest[:12]


@dataclass(frozen=True)
class ManifestInfo:
    """An image manifest's config and layers."""

    schema_version: int
    media_type: str
    config: BlobInfo
    layers: tuple[BlobInfo, ...]
    digest: str | None = None

    @property
    def total_size(self) -> int:
        """The size of the config and every layer, in bytes."""
        return self.config.size + sum(layer.size for layer in self.layers)


@dataclass(frozen=True, kw_only=True)
class ImageConfig:
    """An image config's platform, creation time, runtime settings and diff_ids."""

    architecture: str
    os: str
    created: datetime
    cmd: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    user: str = ""
    working_dir: str | None = None
    exposed_ports: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    diff_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class LayerInfo:
    """One layer as it is pushed, and the history entry that made it (when the config says)."""

    digest: str
    size: int
    media_type: str
    created: datetime | None = None
    created_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class ImageInspect:
    """An image in an archive, in the shape of `docker inspect`. `id` is the config digest."""

    id: str
    repo_tags: list[str] = field(default_factory=list)
    repo_digests: list[str] = field(default_factory=list)
    parent: str | None = None
    comment: str = ""
    created: datetime
    config: ImageConfig
    layers: list[LayerInfo] = field(default_factory=list)
    size: int = 0
    virtual_size: int = 0
    architecture: str
    os: str
    author: str = ""
    rootfs_type: str = "layers"
    rootfs_layers: list[str] = field(default_factory=list)
