"""Pushing one image: every blob in parallel, then the manifest (protocol.md §3.8, §10.9).

The manifest goes out only after every blob it names is confirmed, so a failed push never
leaves a tag pointing at missing content.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._effects import Flow, parallel
from .._manifest import ImageManifest
from .._models import Body
from .._reference import RegistryEndpoint
from .blobs import ensure_blob
from .manifests import put_manifest

__all__ = ["BlobUpload", "ImageToPush", "push_image"]

DEFAULT_MAX_CONCURRENCY = 6


@dataclass(frozen=True, slots=True)
class BlobUpload:
    """A blob to push: its digest and size, and where its bytes come from."""

    digest: str
    size: int
    body: Body


@dataclass(frozen=True, slots=True)
class ImageToPush:
    """A manifest and the blobs it references."""

    manifest: ImageManifest
    blobs: tuple[BlobUpload, ...]


def push_image(
    endpoint: RegistryEndpoint,
    repository: str,
    tag: str,
    image: ImageToPush,
    *,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> Flow[str]:
    """Push `image` to `repository:tag`; return the manifest digest."""
    unique = {blob.digest: blob for blob in image.blobs}  # a layer listed twice goes up once
    yield from parallel(
        [ensure_blob(endpoint, repository, b.digest, b.size, b.body) for b in unique.values()],
        limit=max_concurrency,
    )
    manifest = image.manifest
    return (yield from put_manifest(endpoint, repository, tag, manifest.media_type, manifest.data))
