"""Manifests: put, get, resolve and delete (distribution-spec "Pulling manifests", "Pushing
Manifests", "Deleting Manifests"; docs/protocol.md §6)."""

from __future__ import annotations

from dataclasses import dataclass

from .._effects import Flow, http
from .._errors import (
    DeletesDisabled,
    DigestMismatch,
    ManifestUnknown,
    RemoteProtocolError,
    Unsupported,
    ValidationError,
)
from .._manifest import MANIFEST_ACCEPT, digest_like, sha256_digest
from .._models import BytesBody, Headers, Request, Response
from .._reference import RegistryEndpoint, validate_digest
from ._common import expect

__all__ = ["FetchedManifest", "delete_manifest", "get_manifest", "put_manifest", "resolve_digest"]


@dataclass(frozen=True, slots=True)
class FetchedManifest:
    """A manifest as the registry stores it: exact bytes, media type and digest."""

    media_type: str
    digest: str
    data: bytes


def _is_digest(reference: str) -> bool:
    return ":" in reference


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip()


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


def get_manifest(
    endpoint: RegistryEndpoint, repository: str, reference: str
) -> Flow[FetchedManifest]:
    """`GET /v2/<name>/manifests/<reference>`, accepting every manifest type.

    The content is checked: by digest, the bytes must hash to it; by tag, they must hash to the
    `Docker-Content-Digest` the registry announces (when it announces one).
    """
    request = Request(
        method="GET",
        url=endpoint.url(f"/v2/{repository}/manifests/{reference}"),
        headers=Headers.of({"Accept": MANIFEST_ACCEPT}),
        max_response_bytes=4 * 1024 * 1024 + 1,
    )
    response = yield from http(request)
    expect(response, request, 200, context=f"getting manifest {repository}:{reference}")
    data = response.body
    by_digest = _is_digest(reference)
    expected = reference if by_digest else _announced(response, f"{repository}:{reference}")
    if expected is not None and (actual := digest_like(data, expected)) != expected:
        raise DigestMismatch(
            f"manifest {repository}:{reference} hashes to {actual}, not {expected}"
        )
    digest = reference if by_digest else sha256_digest(data)
    media_type = _media_type(response.headers.get("Content-Type"))
    return FetchedManifest(media_type=media_type, digest=digest, data=data)


def _announced(response: Response, what: str) -> str | None:
    """The `Docker-Content-Digest` the registry announced, if any; one of an algorithm that
    cannot be verified (or no digest at all) is refused."""
    announced = (response.headers.get("Docker-Content-Digest") or "").strip()
    if not announced:
        return None
    try:
        return validate_digest(announced)
    except ValidationError as exc:
        raise RemoteProtocolError(f"the registry announced {what} as {exc}") from None


def resolve_digest(endpoint: RegistryEndpoint, repository: str, reference: str) -> Flow[str]:
    """The digest `reference` points at, from a `HEAD` accepting every manifest type.

    Accepting lists and indexes matters: without them a registry may answer with one
    platform's child, whose deletion would break the index (docs/protocol.md §6.3). A registry that
    sends no `Docker-Content-Digest` costs a `GET` instead. A reference that does not exist
    raises `ManifestUnknown`.
    """
    request = Request(
        method="HEAD",
        url=endpoint.url(f"/v2/{repository}/manifests/{reference}"),
        headers=Headers.of({"Accept": MANIFEST_ACCEPT}),
        response_body="discard",
    )
    response = yield from http(request)
    if response.status == 404:
        raise ManifestUnknown(
            f"{repository}:{reference} does not exist"
            if not _is_digest(reference)
            else f"{repository}@{reference} does not exist",
            status=404,
            method="HEAD",
            url=request.url,
        )
    expect(response, request, 200, context=f"resolving {repository}:{reference}")
    if _is_digest(reference):
        return reference
    announced = _announced(response, f"{repository}:{reference}")
    if announced:
        return announced
    return (yield from get_manifest(endpoint, repository, reference)).digest


def delete_manifest(endpoint: RegistryEndpoint, repository: str, digest: str) -> Flow[bool]:
    """`DELETE /v2/<name>/manifests/<digest>`: True when deleted, False when already gone.

    The registry removes every tag that points at this digest.
    """
    if not _is_digest(digest):
        raise RemoteProtocolError(f"manifests are deleted by digest, not by tag ({digest!r})")
    request = Request(
        method="DELETE",
        url=endpoint.url(f"/v2/{repository}/manifests/{digest}"),
        response_body="bytes",
    )
    response = yield from http(request)
    if response.status == 404:
        return False  # gone already, e.g. deleted by someone else since it was resolved
    try:
        expect(response, request, 202, context=f"deleting {repository}@{digest}")
    except Unsupported as exc:
        raise DeletesDisabled(
            f"the registry does not allow deleting images (HTTP {exc.status}); on distribution "
            "this is storage.delete.enabled",
            status=exc.status,
            errors=exc.errors,
            method=exc.method,
            url=exc.url,
        ) from exc
    return True
