"""Blobs and upload sessions as distribution 2.8 serves them (docs/protocol.md §3, §5)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from urllib.parse import urlencode

from .._errors import ValidationError
from .._models import Headers, Response
from .._reference import validate_repository
from ._answers import OCTET_STREAM, blob_created, digest_invalid, error, with_error
from ._requests import Context, parse_digest, valid_digest
from ._store import Store, Upload, sha256

__all__ = ["blob", "start_upload", "upload_session"]

_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_RANGE_RE = re.compile(r"bytes=(\d+)-(\d*)")
_CONTENT_RANGE_RE = re.compile(r"(\d+)-(\d+)")


def blob(store: Store, context: Context, name: str, digest: str) -> Response:
    """`HEAD`, `GET` (with `Range: bytes=a-b`) or `DELETE` of a blob."""
    parse_digest(digest, route=True)
    repo = store.repositories.get(name)
    data = repo.blobs.get(digest) if repo else None
    if context.request.method == "DELETE":
        if not store.options.delete_enabled:
            return error(405, "UNSUPPORTED", "The operation is unsupported.")
        if repo is None or data is None:
            return error(404, "BLOB_UNKNOWN", "blob unknown to registry", digest)
        del repo.blobs[digest]
        return Response(status=202, headers=Headers.of({"Content-Length": "0"}))
    if data is None:
        return error(404, "BLOB_UNKNOWN", "blob unknown to registry", digest)
    headers = {
        "Content-Type": OCTET_STREAM,
        "Docker-Content-Digest": digest,
        "Accept-Ranges": "bytes",
        "Etag": f'"{digest}"',
        "Cache-Control": "max-age=31536000",
    }
    ranged = _RANGE_RE.fullmatch((context.request.headers.get("Range") or "").strip())
    if ranged is None:
        return Response(status=200, headers=Headers.of(headers), body=data)
    start = int(ranged.group(1))
    end = int(ranged.group(2)) if ranged.group(2) else len(data) - 1
    if start >= len(data) or end < start:
        headers["Content-Range"] = f"bytes */{len(data)}"
        return Response(status=416, headers=Headers.of(headers))
    end = min(end, len(data) - 1)
    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
    return Response(status=206, headers=Headers.of(headers), body=data[start : end + 1])


def start_upload(store: Store, context: Context, name: str) -> Response:
    """`POST`: mount a blob from another repository (201), or open a session (202)."""
    mount, source = context.query.get("mount"), context.query.get("from")
    if mount is not None and source is not None and valid_digest(mount):
        try:
            validate_repository(source)
        except ValidationError:
            source_repo = None
        else:
            source_repo = store.repositories.get(source)
        if source_repo is not None and mount in source_repo.blobs:
            store.repo(name).blobs[mount] = source_repo.blobs[mount]
            return blob_created(context.origin, name, mount, mount)
    # A body and `?digest=` on the POST are ignored, as distribution does (docs/protocol.md §3.2).
    number = store.next_number()
    uuid = f"{number:08x}-0000-4000-8000-{number:012x}"
    upload = Upload(name=name, uuid=uuid)
    store.uploads[uuid] = upload
    _rotate(store, upload)
    response = _progress(context, upload, 202)
    if store.options.chunk_min_length is not None:
        length = str(store.options.chunk_min_length)
        response = dataclasses.replace(
            response, headers=response.headers.with_("OCI-Chunk-Min-Length", length)
        )
    return response


def upload_session(store: Store, context: Context, name: str, uuid: str) -> Response:
    """A request to an open session: progress, cancel, append or commit."""
    upload = store.uploads.get(uuid)
    if upload is None or upload.name != name:
        return error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
    if context.query.get("_state") != upload.state:
        return error(
            404, "BLOB_UPLOAD_INVALID", "blob upload invalid", "upload resumed at wrong offset"
        )
    method = context.request.method
    if method in ("GET", "HEAD"):
        return _progress(context, upload, 204)
    if method == "DELETE":
        del store.uploads[uuid]
        return Response(
            status=204, headers=Headers.of({"Docker-Upload-UUID": uuid, "Content-Length": "0"})
        )
    if method == "PATCH":
        return _patch(store, context, upload)
    return _commit(store, context, upload)


def _patch(store: Store, context: Context, upload: Upload) -> Response:
    request = context.request
    content_type = (request.headers.get("Content-Type") or "").strip()
    if content_type not in ("", OCTET_STREAM):
        return error(500, "UNKNOWN", "unknown error", "bad Content-Type")
    data = store.body(request.body)
    content_range = request.headers.get("Content-Range")
    if store.options.strict_ranges and content_range is not None:
        match = _CONTENT_RANGE_RE.fullmatch(content_range.strip())
        if match is None or int(match.group(1)) != len(upload.data):
            response = _progress(context, upload, 416)
            return with_error(response, "RANGE_INVALID", "invalid content range")
        if int(match.group(2)) - int(match.group(1)) + 1 != len(data):
            return error(400, "SIZE_INVALID", "provided length did not match content length")
    upload.data += data
    _rotate(store, upload)
    return _progress(context, upload, 202)


def _commit(store: Store, context: Context, upload: Upload) -> Response:
    digest = context.query.get("digest")
    if not digest:
        return digest_invalid("digest missing")
    algorithm = parse_digest(digest, route=False)
    hasher = _HASHES.get(algorithm)
    if hasher is None:
        return digest_invalid(f"unsupported digest algorithm {algorithm}")
    upload.data += store.body(context.request.body)
    content = bytes(upload.data)
    if f"{algorithm}:{hasher(content).hexdigest()}" != digest:
        return digest_invalid()
    del store.uploads[upload.uuid]
    canonical = sha256(content)
    repo = store.repo(upload.name)
    repo.blobs[canonical] = content
    repo.blobs[digest] = content
    return blob_created(context.origin, upload.name, digest, canonical)


def _rotate(store: Store, upload: Upload) -> None:
    """A new `_state` token: distribution's records the offset, so an old one stops working."""
    document = {
        "name": upload.name,
        "uuid": upload.uuid,
        "offset": len(upload.data),
        "n": store.next_number(),
    }
    upload.state = base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


def _progress(context: Context, upload: Upload, status: int) -> Response:
    query = urlencode({"_state": upload.state})
    end = max(len(upload.data) - 1, 0)
    headers = {
        "Location": f"{context.origin}/v2/{upload.name}/blobs/uploads/{upload.uuid}?{query}",
        "Range": f"0-{end}",
        "Docker-Upload-UUID": upload.uuid,
    }
    return Response(status=status, headers=Headers.of(headers))
