"""Manifests (distribution-spec "Pushing Manifests", protocol.md §6.2)."""

from __future__ import annotations

from .._effects import Flow, http
from .._errors import DigestMismatch
from .._manifest import sha256_digest
from .._models import BytesBody, Headers, Request
from .._reference import RegistryEndpoint
from ._common import expect

__all__ = ["put_manifest"]


def put_manifest(
    endpoint: RegistryEndpoint, repository: str, reference: str, media_type: str, data: bytes
) -> Flow[str]:
    """`PUT /v2/<name>/manifests/<reference>` with exactly `data`; return its digest.

    The digest is the sha256 of the bytes sent, and the registry must agree.
    """
    digest = sha256_digest(data)
    request = Request(
        method="PUT",
        url=endpoint.url(f"/v2/{repository}/manifests/{reference}"),
        headers=Headers.of({"Content-Type": media_type, "Content-Length": str(len(data))}),
        body=BytesBody(data),
    )
    response = yield from http(request)
    expect(response, request, 201, context=f"putting manifest {repository}:{reference}")
    stored = response.headers.get("Docker-Content-Digest")
    if stored is not None and stored.strip() != digest:
        raise DigestMismatch(f"the registry stored manifest {digest} as {stored.strip()}")
    return digest
