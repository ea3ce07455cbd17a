"""What flows tell the outside world through `Emit`: progress, and decisions worth a log line.

Progress events (`ProgressEvent`) go to the caller's `progress=` callback, if any; they cost
nothing without one (the drivers only count streamed bytes for a listener). A `Notice` is a
decision the core made (a retry, a token fetch, a fallback): the core does no I/O and so cannot
log, so it describes the decision and the drivers log it, whether or not anyone listens to
progress. A `Notice` never reaches a progress callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._effects import Flow, emit

__all__ = [
    "BlobDownloaded",
    "BlobMounted",
    "BlobProgress",
    "BlobSkipped",
    "BlobUploaded",
    "ManifestPulled",
    "ManifestPushed",
    "Notice",
    "ProgressEvent",
    "PushEvent",
    "TransferStarted",
    "notice",
]


@dataclass(frozen=True, slots=True)
class TransferStarted:
    """A push, pull or copy (`what`) of `repository` is about to move `total_blobs` blobs of
    `total_bytes` bytes in all (each blob counted once, whether it is sent, skipped or
    mounted in the end)."""

    total_bytes: int
    total_blobs: int
    what: Literal["push", "pull", "copy"]
    repository: str


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
    """`sent` of `total` bytes of a blob have gone out (`direction` "upload") or come in
    ("download"); `digest` is the source blob's. Reported about once a MiB, and at the end."""

    digest: str
    sent: int
    total: int
    direction: Literal["upload", "download"] = "upload"


@dataclass(frozen=True, slots=True)
class BlobUploaded:
    """The registry confirmed the blob. `digest` differs from `source_digest` when compressed."""

    source_digest: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class BlobDownloaded:
    """The blob arrived whole and matched its digest."""

    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class ManifestPushed:
    """The manifest is stored under `reference` (a tag, or a digest for an index's child)."""

    repository: str
    reference: str
    digest: str


@dataclass(frozen=True, slots=True)
class ManifestPulled:
    """The image manifest `repository:reference` (resolved to `digest`) and everything it
    names are in the archive written at `path`."""

    repository: str
    reference: str
    digest: str
    path: str


ProgressEvent = (
    TransferStarted
    | BlobSkipped
    | BlobMounted
    | BlobProgress
    | BlobUploaded
    | BlobDownloaded
    | ManifestPushed
    | ManifestPulled
)
# The name progress callbacks were first typed with; pushes, pulls and copies share the set.
PushEvent = ProgressEvent


@dataclass(frozen=True, slots=True)
class Notice:
    """A decision worth a log line: the drivers log `message` at INFO under the logger
    `registry_api_v2_client.<topic>`, with `details` as attributes of the log record.

    `topic` is `retry`, `auth`, `push`, `pull` or `copy`. No secret is ever part of a notice.
    """

    topic: str
    message: str
    details: tuple[tuple[str, str | int | float], ...] = ()


def notice(topic: str, message: str, **details: str | int | float) -> Flow[None]:
    """Emit a `Notice` for the drivers to log."""
    yield from emit(Notice(topic, message, tuple(details.items())))
