"""Blobs: existence checks, small downloads, abandoned sessions (docs/protocol.md §3.7, §5).

Uploads live in `upload.py`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Literal

from .._effects import Flow, emit, http
from .._errors import (
    DigestMismatch,
    RemoteProtocolError,
    ResponseTooLarge,
    TransportFailure,
)
from .._events import BlobDownloaded
from .._hashing import hash_slice
from .._headers import resolve_location
from .._manifest import digest_like
from .._models import FileSink, FileSlice, Headers, Request, Response
from .._reference import RegistryEndpoint, validate_digest
from .._retry import resendable
from ._common import expect

__all__ = ["blob_exists", "cancel_request", "cancel_upload", "download_blob", "get_blob"]

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
    # Best effort: the registry expires abandoned sessions by itself anyway.
    with contextlib.suppress(TransportFailure):
        yield from http(cancel_request(location))


def cancel_request(location: str) -> Request:
    """The request that abandons the upload session at `location`."""
    return Request(method="DELETE", url=location, response_body="discard")


def get_blob(
    endpoint: RegistryEndpoint, repository: str, digest: str, *, max_bytes: int
) -> Flow[bytes]:
    """`GET /v2/<name>/blobs/<digest>` of a small blob (a config), checked against its digest."""
    validate_digest(digest)  # sha256 or sha512: content that can be verified
    response = yield from _fetch(endpoint, repository, digest, max_bytes, "bytes")
    actual = digest_like(response.body, digest)
    if actual != digest:
        raise DigestMismatch(f"blob {digest} downloaded with digest {actual}")
    return response.body


def download_blob(
    endpoint: RegistryEndpoint, repository: str, digest: str, size: int, sink: FileSink
) -> Flow[None]:
    """`GET /v2/<name>/blobs/<digest>` straight into `sink`, checked against digest and size.

    One `resendable` whole for the retry policy: a connection cut in the middle of the body is
    resumed where it broke (`Range: bytes=<held>-`, docs/protocol.md §5.2), and a registry that
    ignores the range sends the whole blob again. Whatever the pieces, the whole blob is
    checked at the end, by the digest's own algorithm. The driver reports the bytes as they
    arrive (`BlobProgress`, direction "download"), and `BlobDownloaded` follows once they are
    checked.
    """
    validate_digest(digest)  # sha256 or sha512: content that can be verified
    sink = dataclasses.replace(sink, algorithm=digest.partition(":")[0])
    held = 0  # bytes in place from earlier tries

    def attempt(run: int) -> Flow[None]:
        nonlocal held
        try:
            response = yield from _fetch_from(endpoint, repository, digest, size, sink, held)
        except TransportFailure as exc:
            if 0 < exc.received <= size - held:  # a resume sends only the rest
                held += exc.received
            raise
        if held and response.status != 206:  # the range was ignored: all of it, from the start
            held = 0
            response = yield from _fetch_from(endpoint, repository, digest, size, sink, 0)
        if held + response.written != size:
            raise DigestMismatch(
                f"blob {digest} downloaded as {held + response.written} bytes "
                f"(expected {size} bytes)"
            )
        actual = response.written_digest
        if held:
            whole = FileSlice(sink.path, sink.offset, size)
            ended = f"{sink.path} ended early: it changed while being written"
            actual = yield from hash_slice(whole, sink.algorithm, cut_short=ended)
        if actual != digest:
            raise DigestMismatch(f"blob {digest} downloaded with digest {actual}")

    yield from resendable(attempt)
    yield from emit(BlobDownloaded(digest, size))


def _fetch_from(
    endpoint: RegistryEndpoint,
    repository: str,
    digest: str,
    size: int,
    sink: FileSink,
    start: int,
) -> Flow[Response]:
    """The blob's bytes from `start` on, into their place in `sink`: a 206 answer, or (when
    the registry ignores or refuses the range) a 200 or 416 whose body is not kept."""
    if not start:
        return (yield from _fetch(endpoint, repository, digest, 0, sink))
    rest = dataclasses.replace(
        sink, offset=sink.offset + start, length=size - start, statuses=(206,)
    )
    try:
        return (yield from _fetch(endpoint, repository, digest, 0, rest, start=start))
    except ResponseTooLarge:
        # A 200 with the whole blob, read into memory only up to the small cap: not kept.
        return Response(status=200)


def _fetch(
    endpoint: RegistryEndpoint,
    repository: str,
    digest: str,
    max_bytes: int,
    body: Literal["bytes"] | FileSink,
    *,
    start: int = 0,
) -> Flow[Response]:
    """The answer to a blob `GET` (from byte `start` on, if not 0), following redirects
    (docs/protocol.md §5.2): a 200, or with `start` a 206, or the 200 or 416 of a registry
    that ignores or refuses ranges.

    Registries often redirect blob downloads to object storage. Redirects are followed here,
    never from https to http, and a request to another host carries none of the registry's
    credentials (the auth wrapper only ever adds them for the registry's own origin).
    """
    url = endpoint.url(f"/v2/{repository}/blobs/{digest}")
    headers = Headers.of({"Range": f"bytes={start}-"} if start else {})
    wanted = (206, 200, 416) if start else (200,)
    for _ in range(_MAX_REDIRECTS + 1):
        request = Request(
            method="GET",
            url=url,
            headers=headers,
            max_response_bytes=max_bytes or 64 * 1024,
            response_body=body,
            progress_key=digest if isinstance(body, FileSink) else None,
        )
        response = yield from http(request)
        if response.status not in _REDIRECTS:
            return expect(response, request, *wanted, context=f"getting blob {digest}")
        # Never from https to http: `resolve_location` refuses that.
        url = resolve_location(url, response.headers.get("Location"), what="redirect")
    raise RemoteProtocolError(f"too many redirects while getting blob {digest}")
