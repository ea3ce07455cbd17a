"""Manifests as distribution 2.8 stores and serves them (docs/protocol.md §6)."""

from __future__ import annotations

import json

from .._errors import ValidationError
from .._manifest import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST
from .._models import Headers, Response
from .._reference import validate_tag
from ._answers import digest_invalid, error, json_response, manifest_invalid, plain
from ._requests import Context, accepted, parse_digest, valid_digest
from ._store import Repository, Store, sha256

__all__ = ["manifest"]

# distribution's manifest size limit (docs/protocol.md §6.2).
_MAX_MANIFEST_BYTES = 4 * 1024 * 1024
_IMAGE_MANIFESTS = (DOCKER_MANIFEST, OCI_MANIFEST)
_INDEXES = (DOCKER_MANIFEST_LIST, OCI_INDEX)
# Docker's types must carry `mediaType` in the body; for OCI it is only recommended.
_MEDIA_TYPE_REQUIRED = (DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)
# distribution only serves OCI documents to clients that list their type in `Accept`.
_NEEDS_ACCEPT = (OCI_MANIFEST, OCI_INDEX)


def manifest(store: Store, context: Context, name: str, reference: str) -> Response:
    """`GET`, `HEAD`, `PUT` or `DELETE` of a manifest by tag or digest."""
    is_digest = ":" in reference
    if is_digest:
        parse_digest(reference, route=True)
    else:
        try:
            validate_tag(reference)
        except ValidationError:
            return plain(404, "404 page not found")
    method = context.request.method
    if method == "PUT":
        return _put(store, context, name, reference, is_digest)
    repo = store.repositories.get(name)
    if method == "DELETE":
        return _delete(store, repo, reference, is_digest)
    digest = reference if is_digest else (repo.tags.get(reference) if repo else None)
    stored = repo.manifests.get(digest) if repo and digest else None
    if stored is None or digest is None:
        return error(404, "MANIFEST_UNKNOWN", "manifest unknown", reference)
    media_type, data = stored
    if media_type in _NEEDS_ACCEPT and media_type not in accepted(context.request):
        return error(
            404,
            "MANIFEST_UNKNOWN",
            "OCI manifest found, but accept header does not support OCI manifests",
        )
    headers = {
        "Content-Type": media_type,
        "Docker-Content-Digest": digest,
        "Etag": f'"{digest}"',
        "Content-Length": str(len(data)),
    }
    return Response(status=200, headers=Headers.of(headers), body=data)


def _delete(store: Store, repo: Repository | None, reference: str, is_digest: bool) -> Response:
    """Delete by digest, untagging every tag on it; by tag is refused."""
    if not store.options.delete_enabled:
        return error(405, "UNSUPPORTED", "The operation is unsupported.")
    if not is_digest:
        return digest_invalid("cannot delete a manifest by tag")
    if repo is None or reference not in repo.manifests:
        return error(404, "MANIFEST_UNKNOWN", "manifest unknown", reference)
    del repo.manifests[reference]
    for tag in [t for t, d in repo.tags.items() if d == reference]:
        del repo.tags[tag]
    return Response(status=202, headers=Headers.of({"Content-Length": "0"}))


def _put(store: Store, context: Context, name: str, reference: str, is_digest: bool) -> Response:
    """Check the document and that everything it references exists, then store it as sent."""
    request = context.request
    data = store.body(request.body)
    if len(data) > _MAX_MANIFEST_BYTES:
        return manifest_invalid("manifest too large")
    content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
    if content_type not in _IMAGE_MANIFESTS + _INDEXES:
        return manifest_invalid(f"unsupported manifest media type {content_type!r}")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return manifest_invalid("manifest is not valid JSON")
    if not isinstance(document, dict) or document.get("schemaVersion") != 2:
        return manifest_invalid("manifest must be a schemaVersion 2 JSON object")
    body_type = document.get("mediaType")
    if body_type is None and content_type in _MEDIA_TYPE_REQUIRED:
        return manifest_invalid("mediaType is missing")
    if body_type is not None and body_type != content_type:
        return manifest_invalid(
            f"mediaType in manifest should be {content_type!r} not {body_type!r}"
        )
    if content_type in _IMAGE_MANIFESTS:
        descriptors = [document.get("config"), *_as_list(document.get("layers"))]
    else:
        descriptors = _as_list(document.get("manifests"))
    digest = sha256(data)
    if is_digest and reference != digest:
        return digest_invalid()
    repo = store.repositories.get(name) or Repository()
    known = repo.manifests if content_type in _INDEXES else repo.blobs
    missing: list[str] = []
    for descriptor in descriptors:
        child = _descriptor_digest(descriptor)
        if child is None:
            return manifest_invalid("invalid descriptor")
        if isinstance(descriptor, dict) and descriptor.get("urls"):
            continue  # foreign layers are not in the registry (docs/protocol.md §6.2)
        if child not in known and child not in missing:
            missing.append(child)
    if missing:
        errors = [
            {
                "code": "MANIFEST_BLOB_UNKNOWN",
                "message": "blob unknown to registry",
                "detail": child,
            }
            for child in missing
        ]
        return json_response(400, {"errors": errors})
    repo = store.repo(name)
    repo.manifests[digest] = (content_type, data)
    if not is_digest:
        repo.tag(reference, digest)
    headers = {
        "Location": f"{context.origin}/v2/{name}/manifests/{digest}",
        "Docker-Content-Digest": digest,
        "Content-Length": "0",
    }
    return Response(status=201, headers=Headers.of(headers))


def _descriptor_digest(descriptor: object) -> str | None:
    """The digest of a well-formed descriptor (a valid digest and a size), else None."""
    if not isinstance(descriptor, dict):
        return None
    digest, size = descriptor.get("digest"), descriptor.get("size")
    if not isinstance(digest, str) or not valid_digest(digest):
        return None
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return None
    return digest


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]
