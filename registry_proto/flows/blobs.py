"""Blobs: existence checks and uploads (distribution-spec "Pushing blobs", protocol.md §3, §5).

The upload is the one the spec recommends for speed: an empty `POST` opens a session, then one
streamed `PUT <location>&digest=` carries the whole blob. (Some registries take the body on the
`POST` itself, but distribution ignores it and throws the bytes away, so this never relies on it.)
"""

from __future__ import annotations

import contextlib

from .._effects import Flow, http
from .._errors import (
    DigestInvalid,
    DigestMismatch,
    RegistryError,
    RemoteProtocolError,
    TransportFailure,
)
from .._headers import add_query, resolve_location
from .._manifest import sha256_digest
from .._models import Body, Headers, Request
from .._reference import RegistryEndpoint
from ._common import expect

__all__ = ["blob_exists", "cancel_upload", "ensure_blob", "get_blob", "upload_blob"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5

_OCTET_STREAM = "application/octet-stream"


def blob_exists(endpoint: RegistryEndpoint, repository: str, digest: str) -> Flow[bool]:
    """`HEAD /v2/<name>/blobs/<digest>`: whether this repository already has the blob."""
    request = Request(
        method="HEAD",
        url=endpoint.url(f"/v2/{repository}/blobs/{digest}"),
        response_body="discard",
    )
    response = yield from http(request)
    if response.status == 404:
        return False
    expect(response, request, 200, context=f"checking blob {digest}")
    return True


def upload_blob(
    endpoint: RegistryEndpoint, repository: str, digest: str, size: int, body: Body
) -> Flow[str]:
    """Upload one blob in a single streamed `PUT`; return the digest the registry stored.

    On a digest mismatch the session is cancelled (it already holds the bytes, so a retry
    through it could never succeed) and `DigestInvalid` names the blob.
    """
    start = Request(
        method="POST",
        url=endpoint.url(f"/v2/{repository}/blobs/uploads/"),
        headers=Headers.of({"Content-Length": "0"}),
    )
    started = yield from http(start)
    expect(started, start, 202, context=f"starting the upload of blob {digest}")
    location = resolve_location(start.url, started.headers.get("Location"))

    finish = Request(
        method="PUT",
        url=add_query(location, [("digest", digest)]),
        headers=Headers.of({"Content-Type": _OCTET_STREAM, "Content-Length": str(size)}),
        body=body,
    )
    try:
        done = yield from http(finish)
        expect(done, finish, 201, context=f"uploading blob {digest} ({size} bytes)")
    except (RegistryError, TransportFailure) as exc:
        yield from cancel_upload(location)
        if isinstance(exc, DigestInvalid):
            raise DigestInvalid(
                f"the registry refused blob {digest}: its content does not match that digest "
                f"(HTTP {exc.status})",
                status=exc.status,
                errors=exc.errors,
                method=exc.method,
                url=exc.url,
            ) from exc
        raise
    stored = done.headers.get("Docker-Content-Digest")
    if stored is not None and stored.strip() != digest:
        raise RemoteProtocolError(f"the registry stored blob {digest} as {stored.strip()}")
    return digest


def cancel_upload(location: str) -> Flow[None]:
    """`DELETE <location>`: abandon an upload session, best effort (protocol.md §3.7)."""
    request = Request(method="DELETE", url=location, response_body="discard")
    # Best effort: the registry expires abandoned sessions by itself anyway.
    with contextlib.suppress(TransportFailure):
        yield from http(request)


def ensure_blob(
    endpoint: RegistryEndpoint, repository: str, digest: str, size: int, body: Body
) -> Flow[bool]:
    """Upload the blob unless the repository has it; return True when bytes were sent."""
    if (yield from blob_exists(endpoint, repository, digest)):
        return False
    yield from upload_blob(endpoint, repository, digest, size, body)
    return True


def get_blob(
    endpoint: RegistryEndpoint, repository: str, digest: str, *, max_bytes: int
) -> Flow[bytes]:
    """`GET /v2/<name>/blobs/<digest>` of a small blob (a config), checked against its digest.

    Registries often redirect blob downloads to object storage (protocol.md §5.2); redirects
    are followed here, never from https to http, and a request to another host is a fresh
    request that carries none of the registry's credentials.
    """
    url = endpoint.url(f"/v2/{repository}/blobs/{digest}")
    for _ in range(_MAX_REDIRECTS + 1):
        request = Request(method="GET", url=url, max_response_bytes=max_bytes)
        response = yield from http(request)
        if response.status not in _REDIRECTS:
            expect(response, request, 200, context=f"getting blob {digest}")
            actual = sha256_digest(response.body)
            if digest.startswith("sha256:") and actual != digest:
                raise DigestMismatch(f"blob {digest} downloaded with digest {actual}")
            return response.body
        target = resolve_location(url, response.headers.get("Location"), what="redirect Location")
        if url.startswith("https:") and target.startswith("http:"):
            raise RemoteProtocolError(f"refusing a redirect from https to http for blob {digest}")
        url = target
    raise RemoteProtocolError(f"too many redirects while getting blob {digest}")
