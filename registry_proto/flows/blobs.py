"""Blobs: existence checks, small downloads, abandoned sessions (docs/protocol.md §3.7, §5).

Uploads live in `upload.py`.
"""

from __future__ import annotations

import contextlib
from typing import Literal

from .._effects import Flow, http
from .._errors import (
    DigestMismatch,
    RemoteProtocolError,
    TransportFailure,
    ValidationError,
)
from .._headers import resolve_location
from .._manifest import sha256_digest
from .._models import FileSink, Request, Response
from .._reference import RegistryEndpoint
from ._common import expect

__all__ = ["blob_exists", "cancel_upload", "download_blob", "get_blob"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5

_OCTET_STREAM = "application/octet-stream"


def blob_exists(endpoint: RegistryEndpoint, repository: str, digest: str) -> Flow[bool]:
    """`HEAD /v2/<name>/blobs/<digest>`: whether this repository already has the blob.

    A registry whose blobs live in object storage (S3, or distribution's `redirect` storage
    middleware) answers with a redirect to where the bytes are: it has the blob
    (docs/protocol.md §5.1).
    """
    request = Request(
        method="HEAD",
        url=endpoint.url(f"/v2/{repository}/blobs/{digest}"),
        response_body="discard",
    )
    response = yield from http(request)
    if response.status == 404:
        return False
    expect(response, request, 200, *_REDIRECTS, context=f"checking blob {digest}")
    return True


def cancel_upload(location: str) -> Flow[None]:
    """`DELETE <location>`: abandon an upload session, best effort (docs/protocol.md §3.7)."""
    request = Request(method="DELETE", url=location, response_body="discard")
    # Best effort: the registry expires abandoned sessions by itself anyway.
    with contextlib.suppress(TransportFailure):
        yield from http(request)


def get_blob(
    endpoint: RegistryEndpoint, repository: str, digest: str, *, max_bytes: int
) -> Flow[bytes]:
    """`GET /v2/<name>/blobs/<digest>` of a small blob (a config), checked against its digest."""
    response = yield from _fetch(endpoint, repository, digest, max_bytes, "bytes")
    actual = sha256_digest(response.body)
    if digest.startswith("sha256:") and actual != digest:
        raise DigestMismatch(f"blob {digest} downloaded with digest {actual}")
    return response.body


def download_blob(
    endpoint: RegistryEndpoint, repository: str, digest: str, size: int, sink: FileSink
) -> Flow[None]:
    """`GET /v2/<name>/blobs/<digest>` straight into `sink`, checked against digest and size."""
    if not digest.startswith("sha256:"):
        raise ValidationError(f"blob {digest}: only sha256 content can be checked on download")
    response = yield from _fetch(endpoint, repository, digest, 0, sink)
    actual = f"sha256:{response.written_sha256}"
    if response.written != size or actual != digest:
        raise DigestMismatch(
            f"blob {digest} downloaded as {response.written} bytes with digest {actual} "
            f"(expected {size} bytes)"
        )


def _fetch(
    endpoint: RegistryEndpoint,
    repository: str,
    digest: str,
    max_bytes: int,
    body: Literal["bytes"] | FileSink,
) -> Flow[Response]:
    """The 200 answer to a blob `GET`, following redirects (docs/protocol.md §5.2).

    Registries often redirect blob downloads to object storage. Redirects are followed here,
    never from https to http, and a request to another host carries none of the registry's
    credentials (the auth wrapper only ever adds them for the registry's own origin).
    """
    url = endpoint.url(f"/v2/{repository}/blobs/{digest}")
    for _ in range(_MAX_REDIRECTS + 1):
        request = Request(
            method="GET", url=url, max_response_bytes=max_bytes or 64 * 1024, response_body=body
        )
        response = yield from http(request)
        if response.status not in _REDIRECTS:
            return expect(response, request, 200, context=f"getting blob {digest}")
        target = resolve_location(url, response.headers.get("Location"), what="redirect Location")
        if url.startswith("https:") and target.startswith("http:"):
            raise RemoteProtocolError(f"refusing a redirect from https to http for blob {digest}")
        url = target
    raise RemoteProtocolError(f"too many redirects while getting blob {digest}")
