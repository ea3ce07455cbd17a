"""Progress events a push reports through `Emit` (and the drivers' streaming progress).

They cost nothing unless a caller passes a progress callback: the drivers drop emitted events
when nobody listens, and only count streamed bytes for a listener.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BlobMounted",
    "BlobProgress",
    "BlobSkipped",
    "BlobUploaded",
    "ManifestPushed",
    "PushEvent",
]


@dataclass(frozen=True, slots=True)
class BlobSkipped:
    """The repository already had this blob (found by `HEAD`)."""

    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class BlobMounted:
    """The blob was mounted from another repository of the same registry: no bytes sent."""

    digest: str
    size: int
    from_repository: str


@dataclass(frozen=True, slots=True)
class BlobProgress:
    """`sent` of `total` bytes of a blob are on the wire (`digest` is the source blob's)."""

    digest: str
    sent: int
    total: int


@dataclass(frozen=True, slots=True)
class BlobUploaded:
    """The registry confirmed the blob. `digest` differs from `source_digest` when compressed."""

    source_digest: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class ManifestPushed:
    """The manifest is stored under `reference` (a tag, or a digest for an index's child)."""

    repository: str
    reference: str
    digest: str


PushEvent = BlobSkipped | BlobMounted | BlobProgress | BlobUploaded | ManifestPushed
