"""Test helpers: an in-memory registry and a driver that runs flows without any I/O.

`FakeRegistry` is a pure model of a Docker Registry HTTP API v2 server that behaves like the
reference implementation (CNCF distribution 2.8, docs/protocol.md §11). Call `handle(request)`
with a `Request` and get the `Response` the registry would send. It is *total*: a malformed or
unknown request gets a 4xx answer, never an exception.

`PureDriver` runs any flow with no I/O at all: requests go to a handler (usually a
`FakeRegistry`), files come from a `{path: bytes}` mapping, sleeps only add to a counter, and the
children of a `Parallel` effect are interleaved one effect at a time in an order chosen by a
`scheduler`. Pass hypothesis' `data.draw(st.integers(0, n - 1))` as the scheduler and hypothesis
explores (and shrinks) interleavings of concurrent uploads, with no threads or event loop::

    fake = FakeRegistry()
    driver = PureDriver(fake.handle, files={"image.tar": archive_bytes})
    digest = driver.run(push_docker_tar("image.tar", "http://registry.test", "app", "1",
                                        max_concurrency=4))
    assert fake.manifest("app", "1") is not None

Both are ordinary values: a test builds as many as it likes, and nothing is shared.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, assert_never
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from ._effects import (
    Decompress,
    Effect,
    Emit,
    Flow,
    MoveFile,
    Offload,
    Parallel,
    ReadFile,
    RemoveFile,
    Sleep,
    TempFile,
    WriteFile,
)
from ._errors import ResponseTooLarge, TarReadError, TransportFailure, ValidationError
from ._manifest import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST
from ._models import (
    Body,
    BytesBody,
    EmptyBody,
    FileSink,
    FileSlice,
    Headers,
    Request,
    Response,
)
from ._reference import validate_digest, validate_repository, validate_tag

__all__ = ["FakeRegistry", "PureDriver", "RoundRobin", "Scheduler"]

T = TypeVar("T")

Handler = Callable[[Request], Response]
Scheduler = Callable[[int], int]

_API_VERSION = ("Docker-Distribution-API-Version", "registry/2.0")
_JSON = "application/json; charset=utf-8"
_OCTET_STREAM = "application/octet-stream"
# distribution's manifest size limit (docs/protocol.md §6.2).
_MAX_MANIFEST_BYTES = 4 * 1024 * 1024
_IMAGE_MANIFESTS = (DOCKER_MANIFEST, OCI_MANIFEST)
_INDEXES = (DOCKER_MANIFEST_LIST, OCI_INDEX)
# Docker's types must carry `mediaType` in the body; for OCI it is only recommended.
_MEDIA_TYPE_REQUIRED = (DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)
# distribution only serves OCI documents to clients that list their type in `Accept`.
_NEEDS_ACCEPT = (OCI_MANIFEST, OCI_INDEX)
_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}

_ROUTES = (
    ("base", re.compile(r"/v2/")),
    ("catalog", re.compile(r"/v2/_catalog")),
    ("tags", re.compile(r"/v2/(?P<name>.+)/tags/list")),
    ("manifest", re.compile(r"/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)")),
    ("upload", re.compile(r"/v2/(?P<name>.+)/blobs/uploads/(?P<uuid>[^/]*)")),
    ("blob", re.compile(r"/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)")),
)
_ALLOWED = {
    "base": ("GET", "HEAD"),
    "catalog": ("GET",),
    "tags": ("GET",),
    "manifest": ("GET", "HEAD", "PUT", "DELETE"),
    "blob": ("GET", "HEAD", "DELETE"),
}
_ALLOWED_UPLOAD = {
    "": ("POST",),
    "session": ("GET", "HEAD", "PATCH", "PUT", "DELETE"),
}
_RANGE_RE = re.compile(r"bytes=(\d+)-(\d*)")
_CONTENT_RANGE_RE = re.compile(r"(\d+)-(\d+)")


def _slice_bytes(files: Mapping[str, bytes], body: FileSlice) -> bytes:
    """The bytes a `FileSlice` names, or `TarReadError` as a real driver reading disk raises."""
    data = files.get(body.path)
    if data is None:
        raise TarReadError(f"cannot read {body.path}: no such file")
    chunk = data[body.offset : body.offset + body.length]
    if len(chunk) != body.length:
        raise TarReadError(f"{body.path} ended early: it changed while being read")
    return chunk


# --------------------------------------------------------------------------------------------
# FakeRegistry


@dataclass
class _Repository:
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # distribution answers `"tags": null` once a repository had tags and lost them all.
    had_tags: bool = False

    @property
    def has_content(self) -> bool:
        return bool(self.blobs or self.manifests)


@dataclass
class _Upload:
    name: str
    uuid: str
    data: bytearray = field(default_factory=bytearray)
    state: str = ""


@dataclass
class _Fault:
    status: int
    code: str | None
    method: str | None
    path_contains: str | None
    skip: int
    times: int
    headers: tuple[tuple[str, str], ...]

    def matches(self, request: Request, path: str) -> bool:
        if self.method is not None and request.method != self.method:
            return False
        return self.path_contains is None or self.path_contains in path


class _Answer(Exception):
    """Internal: ends request handling early with a response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class FakeRegistry:
    """An in-memory registry that answers like distribution 2.8 (docs/protocol.md §3, §5-§8, §11).

    What it models:

    - `GET /v2/` (200 `{}`), `Docker-Distribution-API-Version` on every answer;
    - blob `HEAD`/`GET` (with `Range: bytes=a-b`), `DELETE` (202, or 405 UNSUPPORTED when
      `delete_enabled` is false), existence per repository;
    - uploads: `POST` opens a session (202, absolute `Location` with an opaque `?_state=` token,
      `Range: 0-0`, `Docker-Upload-UUID`); a body or `?digest=` on the `POST` is ignored, as
      distribution does; `?mount=&from=` mounts (201) when the source has the blob;
      `PATCH` appends (distribution checks no `Content-Range`; `strict_ranges=True` checks it and
      answers 416 like distribution 3) and issues a new token, so an old `Location` gets 404
      BLOB_UPLOAD_INVALID; `PUT ?digest=` appends its body and commits (201 +
      `Docker-Content-Digest`), or answers 400 DIGEST_INVALID and keeps the session (which then
      holds the bytes); `GET` reports progress (204); `DELETE` cancels (204);
    - manifests: `PUT` checks that `Content-Type` equals the body's `mediaType` and that every
      referenced blob (or child manifest) exists in the repository (400 MANIFEST_BLOB_UNKNOWN,
      one error per missing digest), stores the exact bytes and tags them; `GET`/`HEAD` by tag or
      digest (OCI types only for clients that list them in `Accept`); `DELETE` by digest untags
      every tag on it, by tag answers 400 DIGEST_INVALID;
    - `GET /v2/<name>/tags/list` (404 NAME_UNKNOWN for unknown repositories, `"tags": null` once
      every tag is gone) and `GET /v2/_catalog` with `n`/`last` and a relative `Link`, as
      distribution pages its catalog. Tags are sorted and paged with `n`/`last` too (with a
      `Link` only while more remain) unless `paginate_tags` is false, which reproduces
      distribution 2.8: every tag, unsorted, `n` and `last` ignored.

    Simplifications: no authentication, a manifest is served as stored (no schema1 rewrite, no
    platform pick from a list), and no `Content-Length` checks.

    `files` resolves `FileSlice` request bodies. `fail_next` and `on_request` inject faults.
    """

    def __init__(
        self,
        *,
        files: Mapping[str, bytes] | None = None,
        delete_enabled: bool = True,
        relative_urls: bool = False,
        strict_ranges: bool = False,
        paginate_tags: bool = True,
        catalog_default_page: int = 100,
        catalog_max_entries: int = 1000,
        chunk_min_length: int | None = None,
    ) -> None:
        self.files: Mapping[str, bytes] = files if files is not None else {}
        self.delete_enabled = delete_enabled
        self.relative_urls = relative_urls
        self.strict_ranges = strict_ranges
        self.paginate_tags = paginate_tags
        self.catalog_default_page = catalog_default_page
        self.catalog_max_entries = catalog_max_entries
        self.chunk_min_length = chunk_min_length
        #: Called first with every request; a `Response` it returns is sent instead.
        self.on_request: Callable[[Request], Response | None] | None = None
        #: Every request handled and the answer it got, in order.
        self.exchanges: list[tuple[Request, Response]] = []
        self._repositories: dict[str, _Repository] = {}
        self._uploads: dict[str, _Upload] = {}
        self._faults: list[_Fault] = []
        self._counter = 0

    # -- inspection and seeding -----------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        """Every request handled, in order."""
        return [request for request, _ in self.exchanges]

    def repositories(self) -> list[str]:
        """Repositories holding at least one blob or manifest, in catalog order."""
        return sorted(
            (name for name, repo in self._repositories.items() if repo.has_content),
            key=_catalog_key,
        )

    def blobs(self, repository: str) -> dict[str, bytes]:
        """The blobs of `repository` by digest (a copy)."""
        repo = self._repositories.get(repository)
        return dict(repo.blobs) if repo else {}

    def manifest(self, repository: str, reference: str) -> tuple[str, bytes] | None:
        """`(media_type, exact bytes)` of a manifest by tag or digest, or None."""
        repo = self._repositories.get(repository)
        if repo is None:
            return None
        digest = repo.tags.get(reference, reference)
        return repo.manifests.get(digest)

    def tags(self, repository: str) -> dict[str, str]:
        """The tags of `repository` and the manifest digest each points at (a copy)."""
        repo = self._repositories.get(repository)
        return dict(repo.tags) if repo else {}

    def upload_sessions(self) -> int:
        """How many upload sessions are open (neither committed nor cancelled)."""
        return len(self._uploads)

    def add_blob(self, repository: str, data: bytes) -> str:
        """Store `data` as a blob of `repository`; return its digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self._repo(repository).blobs[digest] = bytes(data)
        return digest

    def add_manifest(
        self, repository: str, media_type: str, data: bytes, tag: str | None = None
    ) -> str:
        """Store a manifest as is (no checks), optionally tagged; return its digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        repo = self._repo(repository)
        repo.manifests[digest] = (media_type, bytes(data))
        if tag is not None:
            repo.tags[tag] = digest
            repo.had_tags = True
        return digest

    def fail_next(
        self,
        status: int = 503,
        *,
        method: str | None = None,
        path_contains: str | None = None,
        skip: int = 0,
        times: int = 1,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer `status` (with a spec error body) to matching requests instead of handling them.

        A request matches when its method is `method` and its URL path contains `path_contains`
        (either may be None for "any"). The first `skip` matches are handled normally, the
        next `times` fail. `fail_next(503, skip=4)` fails the fifth request, whatever it is.
        """
        self._faults.append(
            _Fault(
                status=status,
                code=code,
                method=method,
                path_contains=path_contains,
                skip=skip,
                times=times,
                headers=tuple((headers or {}).items()),
            )
        )

    # -- request handling -----------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer `request` as the registry would. Never raises."""
        try:
            response = self._dispatch(request)
        except _Answer as answer:
            response = answer.response
        headers = response.headers
        if _API_VERSION[0] not in headers:
            headers = Headers((*headers.items, _API_VERSION))
        if "Content-Length" not in headers:
            headers = headers.with_("Content-Length", str(len(response.body)))
        body = b"" if request.method == "HEAD" else response.body
        response = Response(status=response.status, headers=headers, body=body)
        self.exchanges.append((request, response))
        return response

    def _dispatch(self, request: Request) -> Response:
        try:
            parts = urlsplit(request.url)
        except ValueError:
            return _plain(400, "400 Bad Request")
        path = unquote(parts.path)
        query = parse_qsl(parts.query, keep_blank_values=True)

        if self.on_request is not None:
            injected = self.on_request(request)
            if injected is not None:
                return injected
        for fault in self._faults:
            if fault.times > 0 and fault.matches(request, path):
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.times -= 1
                return _fault_response(fault)

        route, match = _route(path)
        if match is None:
            return _plain(404, "404 page not found")
        params = match.groupdict()
        name = params.get("name")
        if name is not None:
            self._check_name(name)
        origin = "" if self.relative_urls else f"{parts.scheme}://{parts.netloc}"
        context = _Context(request, origin, dict(query))

        if route == "upload":
            kind = "session" if params["uuid"] else ""
            _check_method(request, _ALLOWED_UPLOAD[kind])
            assert name is not None
            if not params["uuid"]:
                return self._start_upload(context, name)
            return self._upload_session(context, name, params["uuid"])
        _check_method(request, _ALLOWED[route])
        if route == "base":
            return _json_response(200, {})
        if route == "catalog":
            return self._catalog(context)
        assert name is not None
        if route == "tags":
            return self._tags(context, name)
        if route == "manifest":
            return self._manifest(context, name, params["reference"])
        return self._blob(context, name, params["digest"])

    def _check_name(self, name: str) -> None:
        try:
            validate_repository(name)
        except ValidationError:
            if len(name) > 255 and name == name.lower():
                raise _Answer(_error(400, "NAME_INVALID", "invalid repository name")) from None
            raise _Answer(_plain(404, "404 page not found")) from None

    def _repo(self, name: str) -> _Repository:
        return self._repositories.setdefault(name, _Repository())

    def _body(self, body: Body) -> bytes:
        if isinstance(body, EmptyBody):
            return b""
        if isinstance(body, BytesBody):
            return body.data
        if isinstance(body, FileSlice):
            try:
                return _slice_bytes(self.files, body)
            except TarReadError as exc:
                raise _Answer(_error(400, "SIZE_INVALID", f"unreadable body: {exc}")) from None
        assert_never(body)

    # -- blobs ----------------------------------------------------------------------------

    def _blob(self, context: _Context, name: str, digest: str) -> Response:
        _parse_digest(digest, route=True)
        repo = self._repositories.get(name)
        data = repo.blobs.get(digest) if repo else None
        method = context.request.method
        if method == "DELETE":
            if not self.delete_enabled:
                return _error(405, "UNSUPPORTED", "The operation is unsupported.")
            if repo is None or data is None:
                return _error(404, "BLOB_UNKNOWN", "blob unknown to registry", digest)
            del repo.blobs[digest]
            return Response(status=202, headers=Headers.of({"Content-Length": "0"}))
        if data is None:
            return _error(404, "BLOB_UNKNOWN", "blob unknown to registry", digest)
        headers = {
            "Content-Type": _OCTET_STREAM,
            "Docker-Content-Digest": digest,
            "Accept-Ranges": "bytes",
            "Etag": f'"{digest}"',
            "Cache-Control": "max-age=31536000",
        }
        ranged = _RANGE_RE.fullmatch((context.request.headers.get("Range") or "").strip())
        if ranged is not None:
            start = int(ranged.group(1))
            end = int(ranged.group(2)) if ranged.group(2) else len(data) - 1
            if start >= len(data) or end < start:
                headers["Content-Range"] = f"bytes */{len(data)}"
                return Response(status=416, headers=Headers.of(headers))
            end = min(end, len(data) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return Response(status=206, headers=Headers.of(headers), body=data[start : end + 1])
        return Response(status=200, headers=Headers.of(headers), body=data)

    def _start_upload(self, context: _Context, name: str) -> Response:
        mount, source = context.query.get("mount"), context.query.get("from")
        if mount is not None and source is not None and _valid_digest(mount):
            try:
                validate_repository(source)
            except ValidationError:
                source_repo = None
            else:
                source_repo = self._repositories.get(source)
            if source_repo is not None and mount in source_repo.blobs:
                self._repo(name).blobs[mount] = source_repo.blobs[mount]
                return _blob_created(context.origin, name, mount, mount)
        # A body and `?digest=` on the POST are ignored, as distribution does
        # (docs/protocol.md §3.2).
        self._counter += 1
        uuid = f"{self._counter:08x}-0000-4000-8000-{self._counter:012x}"
        upload = _Upload(name=name, uuid=uuid)
        self._uploads[uuid] = upload
        self._rotate(upload)
        response = self._progress(context, upload, 202)
        if self.chunk_min_length is not None:
            headers = response.headers.with_("OCI-Chunk-Min-Length", str(self.chunk_min_length))
            response = dataclasses.replace(response, headers=headers)
        return response

    def _upload_session(self, context: _Context, name: str, uuid: str) -> Response:
        upload = self._uploads.get(uuid)
        if upload is None or upload.name != name:
            return _error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
        if context.query.get("_state") != upload.state:
            return _error(
                404, "BLOB_UPLOAD_INVALID", "blob upload invalid", "upload resumed at wrong offset"
            )
        method = context.request.method
        if method in ("GET", "HEAD"):
            return self._progress(context, upload, 204)
        if method == "DELETE":
            del self._uploads[uuid]
            return Response(
                status=204, headers=Headers.of({"Docker-Upload-UUID": uuid, "Content-Length": "0"})
            )
        if method == "PATCH":
            return self._patch(context, upload)
        return self._commit(context, upload)

    def _patch(self, context: _Context, upload: _Upload) -> Response:
        request = context.request
        content_type = (request.headers.get("Content-Type") or "").strip()
        if content_type not in ("", _OCTET_STREAM):
            return _error(500, "UNKNOWN", "unknown error", "bad Content-Type")
        data = self._body(request.body)
        content_range = request.headers.get("Content-Range")
        if self.strict_ranges and content_range is not None:
            match = _CONTENT_RANGE_RE.fullmatch(content_range.strip())
            if match is None or int(match.group(1)) != len(upload.data):
                response = self._progress(context, upload, 416)
                return _with_error(response, "RANGE_INVALID", "invalid content range")
            if int(match.group(2)) - int(match.group(1)) + 1 != len(data):
                return _error(400, "SIZE_INVALID", "provided length did not match content length")
        upload.data += data
        self._rotate(upload)
        return self._progress(context, upload, 202)

    def _commit(self, context: _Context, upload: _Upload) -> Response:
        digest = context.query.get("digest")
        if not digest:
            return _error(
                400,
                "DIGEST_INVALID",
                "provided digest did not match uploaded content",
                "digest missing",
            )
        algorithm = _parse_digest(digest, route=False)
        hasher = _HASHES.get(algorithm)
        if hasher is None:
            return _error(
                400,
                "DIGEST_INVALID",
                "provided digest did not match uploaded content",
                f"unsupported digest algorithm {algorithm}",
            )
        upload.data += self._body(context.request.body)
        content = bytes(upload.data)
        if f"{algorithm}:{hasher(content).hexdigest()}" != digest:
            return _error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
        del self._uploads[upload.uuid]
        canonical = "sha256:" + hashlib.sha256(content).hexdigest()
        repo = self._repo(upload.name)
        repo.blobs[canonical] = content
        repo.blobs[digest] = content
        return _blob_created(context.origin, upload.name, digest, canonical)

    def _rotate(self, upload: _Upload) -> None:
        self._counter += 1
        document = {
            "name": upload.name,
            "uuid": upload.uuid,
            "offset": len(upload.data),
            "n": self._counter,
        }
        upload.state = base64.urlsafe_b64encode(json.dumps(document).encode()).decode()

    def _progress(self, context: _Context, upload: _Upload, status: int) -> Response:
        location = f"{context.origin}/v2/{upload.name}/blobs/uploads/{upload.uuid}?" + urlencode(
            {"_state": upload.state}
        )
        end = max(len(upload.data) - 1, 0)
        return Response(
            status=status,
            headers=Headers.of(
                {
                    "Location": location,
                    "Range": f"0-{end}",
                    "Docker-Upload-UUID": upload.uuid,
                    "Content-Length": "0",
                }
            ),
        )

    # -- manifests ------------------------------------------------------------------------

    def _manifest(self, context: _Context, name: str, reference: str) -> Response:
        is_digest = ":" in reference
        if is_digest:
            _parse_digest(reference, route=True)
        else:
            try:
                validate_tag(reference)
            except ValidationError:
                return _plain(404, "404 page not found")
        method = context.request.method
        if method == "PUT":
            return self._put_manifest(context, name, reference, is_digest)
        repo = self._repositories.get(name)
        if method == "DELETE":
            if not self.delete_enabled:
                return _error(405, "UNSUPPORTED", "The operation is unsupported.")
            if not is_digest:
                return _error(
                    400,
                    "DIGEST_INVALID",
                    "provided digest did not match uploaded content",
                    "cannot delete a manifest by tag",
                )
            if repo is None or reference not in repo.manifests:
                return _error(404, "MANIFEST_UNKNOWN", "manifest unknown", reference)
            del repo.manifests[reference]
            for tag in [t for t, d in repo.tags.items() if d == reference]:
                del repo.tags[tag]
            return Response(status=202, headers=Headers.of({"Content-Length": "0"}))
        digest = reference if is_digest else (repo.tags.get(reference) if repo else None)
        stored = repo.manifests.get(digest) if repo and digest else None
        if stored is None or digest is None:
            return _error(404, "MANIFEST_UNKNOWN", "manifest unknown", reference)
        media_type, data = stored
        if media_type in _NEEDS_ACCEPT and media_type not in _accepted(context.request):
            return _error(
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

    def _put_manifest(
        self, context: _Context, name: str, reference: str, is_digest: bool
    ) -> Response:
        request = context.request
        data = self._body(request.body)
        if len(data) > _MAX_MANIFEST_BYTES:
            return _manifest_invalid("manifest too large")
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type not in _IMAGE_MANIFESTS + _INDEXES:
            return _manifest_invalid(f"unsupported manifest media type {content_type!r}")
        try:
            document = json.loads(data)
        except (ValueError, RecursionError):
            return _manifest_invalid("manifest is not valid JSON")
        if not isinstance(document, dict) or document.get("schemaVersion") != 2:
            return _manifest_invalid("manifest must be a schemaVersion 2 JSON object")
        body_type = document.get("mediaType")
        if body_type is None and content_type in _MEDIA_TYPE_REQUIRED:
            return _manifest_invalid("mediaType is missing")
        if body_type is not None and body_type != content_type:
            return _manifest_invalid(
                f"mediaType in manifest should be {content_type!r} not {body_type!r}"
            )
        if content_type in _IMAGE_MANIFESTS:
            descriptors = [document.get("config"), *_as_list(document.get("layers"))]
        else:
            descriptors = _as_list(document.get("manifests"))
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if is_digest and reference != digest:
            return _error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
        repo = self._repositories.get(name) or _Repository()
        known = repo.manifests if content_type in _INDEXES else repo.blobs
        missing: list[str] = []
        for descriptor in descriptors:
            child = _descriptor_digest(descriptor)
            if child is None:
                return _manifest_invalid("invalid descriptor")
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
            return _json_response(400, {"errors": errors})
        repo = self._repo(name)
        repo.manifests[digest] = (content_type, data)
        if not is_digest:
            repo.tags[reference] = digest
            repo.had_tags = True
        headers = {
            "Location": f"{context.origin}/v2/{name}/manifests/{digest}",
            "Docker-Content-Digest": digest,
            "Content-Length": "0",
        }
        return Response(status=201, headers=Headers.of(headers))

    # -- listing --------------------------------------------------------------------------

    def _tags(self, context: _Context, name: str) -> Response:
        repo = self._repositories.get(name)
        if repo is None or (not repo.tags and not repo.had_tags):
            return _error(
                404, "NAME_UNKNOWN", "repository name not known to registry", {"name": name}
            )
        if not repo.tags:
            return _json_response(200, {"name": name, "tags": None})
        tags = list(repo.tags)
        if not self.paginate_tags:
            return _json_response(200, {"name": name, "tags": tags})
        tags.sort()
        last = context.query.get("last")
        if last is not None:
            tags = [t for t in tags if t > last]
        size = _page_size(context.query.get("n"), default=len(tags))
        page = tags[:size]
        headers: dict[str, str] = {}
        if size and len(tags) > size:
            headers["Link"] = _next_link(f"/v2/{name}/tags/list", page[-1], size)
        return _json_response(200, {"name": name, "tags": page}, headers)

    def _catalog(self, context: _Context) -> Response:
        size = _page_size(context.query.get("n"), default=self.catalog_default_page)
        if size > self.catalog_max_entries:
            return _error(
                400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested", {"n": size}
            )
        names = self.repositories()
        last = context.query.get("last")
        if last is not None:
            names = [n for n in names if _catalog_key(n) > _catalog_key(last)]
        page = names[:size]
        headers: dict[str, str] = {}
        if size and len(page) == size:
            # distribution links to a next page whenever this one is full (docs/protocol.md §7.1).
            headers["Link"] = _next_link("/v2/_catalog", page[-1], size)
        return _json_response(200, {"repositories": page}, headers)


@dataclass(frozen=True, slots=True)
class _Context:
    request: Request
    origin: str
    query: dict[str, str]


def _route(path: str) -> tuple[str, re.Match[str] | None]:
    for name, pattern in _ROUTES:
        match = pattern.fullmatch(path)
        if match is not None:
            return name, match
    return "", None


def _check_method(request: Request, allowed: tuple[str, ...]) -> None:
    if request.method not in allowed:
        response = _plain(405, "405 method not allowed")
        raise _Answer(
            dataclasses.replace(
                response, headers=response.headers.with_("Allow", ", ".join(allowed))
            )
        )


def _valid_digest(digest: str) -> bool:
    try:
        validate_digest(digest)
    except ValidationError:
        return False
    return True


def _parse_digest(digest: str, *, route: bool) -> str:
    """The algorithm of a well-formed digest; else a 400 DIGEST_INVALID answer (404 when
    `route` and the text does not even look like a digest, as distribution's router does)."""
    if route and ":" not in digest:
        raise _Answer(_plain(404, "404 page not found"))
    if not _valid_digest(digest):
        raise _Answer(_error(400, "DIGEST_INVALID", "provided digest is invalid", digest))
    return digest.partition(":")[0]


def _descriptor_digest(descriptor: object) -> str | None:
    if not isinstance(descriptor, dict):
        return None
    digest, size = descriptor.get("digest"), descriptor.get("size")
    if not isinstance(digest, str) or not _valid_digest(digest):
        return None
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return None
    return digest


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def _accepted(request: Request) -> set[str]:
    accepted: set[str] = set()
    for value in request.headers.get_all("Accept"):
        accepted.update(item.split(";")[0].strip() for item in value.split(","))
    return accepted


def _page_size(raw: str | None, *, default: int) -> int:
    """distribution's `n`: absent, not a number or negative means the default."""
    if raw is None or not raw.isdigit() or not raw.isascii():
        return default
    return int(raw)


def _next_link(path: str, last: str, size: int) -> str:
    return f'<{path}?{urlencode({"last": last, "n": str(size)})}>; rel="next"'


def _catalog_key(name: str) -> tuple[str, ...]:
    return tuple(name.split("/"))


def _blob_created(origin: str, name: str, digest: str, canonical: str) -> Response:
    headers = {
        "Location": f"{origin}/v2/{name}/blobs/{digest}",
        "Docker-Content-Digest": canonical,
        "Content-Length": "0",
    }
    return Response(status=201, headers=Headers.of(headers))


def _json_response(
    status: int, document: object, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(document).encode()
    return Response(
        status=status,
        headers=Headers.of({"Content-Type": _JSON, **(headers or {})}),
        body=body,
    )


def _error(status: int, code: str, message: str, detail: object = None) -> Response:
    """A spec error body `{"errors": [{"code", "message", "detail"}]}` (spec §8)."""
    return _json_response(
        status, {"errors": [{"code": code, "message": message, "detail": detail}]}
    )


def _with_error(response: Response, code: str, message: str) -> Response:
    error = _error(response.status, code, message)
    headers = response.headers.with_("Content-Type", _JSON).without("Content-Length")
    return Response(status=response.status, headers=headers, body=error.body)


def _manifest_invalid(detail: str) -> Response:
    return _error(400, "MANIFEST_INVALID", "manifest invalid", detail)


def _plain(status: int, text: str) -> Response:
    return Response(
        status=status,
        headers=Headers.of({"Content-Type": "text/plain; charset=utf-8"}),
        body=text.encode() + b"\n",
    )


_FAULT_CODES = {
    401: "UNAUTHORIZED",
    403: "DENIED",
    404: "NAME_UNKNOWN",
    405: "UNSUPPORTED",
    429: "TOOMANYREQUESTS",
    503: "UNAVAILABLE",
}


def _fault_response(fault: _Fault) -> Response:
    code = fault.code or _FAULT_CODES.get(fault.status, "UNKNOWN")
    response = _error(fault.status, code, "injected failure")
    headers = response.headers
    for name, value in fault.headers:
        headers = headers.with_(name, value)
    return dataclasses.replace(response, headers=headers)


# --------------------------------------------------------------------------------------------
# PureDriver


def _decompressors() -> dict[str, Callable[[bytes], bytes]]:
    # Imported here: these modules pull in file and thread machinery the core never needs.
    import bz2
    import gzip
    import lzma

    codecs: dict[str, Callable[[bytes], bytes]] = {
        "gzip": gzip.decompress,
        "xz": lzma.decompress,
        "bzip2": bz2.decompress,
    }
    try:
        import zstandard
    except ImportError:  # an optional dependency, as for the real drivers
        return codecs
    codecs["zstd"] = lambda data: zstandard.ZstdDecompressor().stream_reader(data).read()
    return codecs


class RoundRobin:
    """The default scheduler: each `Parallel` step goes to the next active child in turn."""

    def __init__(self) -> None:
        self._turn = 0

    def __call__(self, active: int) -> int:
        choice = self._turn % active
        self._turn += 1
        return choice


class _Task:
    """A flow being driven: what to resume it with next, and its children while it waits."""

    __slots__ = ("error", "flow", "group", "result", "value")

    def __init__(self, flow: Flow[Any]) -> None:
        self.flow = flow
        self.value: Any = None
        self.error: BaseException | None = None
        self.group: _Group | None = None
        self.result: Any = None


class _Group:
    """The children of one `Parallel` effect."""

    __slots__ = ("active", "children", "finished", "limit", "started")

    def __init__(self, effect: Parallel) -> None:
        self.children = [_Task(child) for child in effect.flows]
        self.limit = effect.limit
        self.started = 0
        self.active: list[int] = []
        self.finished = 0


class PureDriver:
    """Runs flows with no I/O: the pure counterpart of the asyncio/trio and blocking drivers.

    - `Request` goes to `handler` (usually `FakeRegistry.handle`). A `FileSlice` body is read
      from `files` first (a missing file raises `TarReadError` into the flow, like a driver
      reading disk). Exceptions the handler raises (say `TransportFailure`) are thrown into the
      flow, as the real drivers throw their translated transport errors. `received_at` comes
      from a fake clock that advances `tick` per request and by every `Sleep`.
    - `ReadFile` slices `files[path]`; a missing path raises `TarReadError` into the flow.
    - `Decompress` decompresses `files[path]` in memory and answers with a new path (added to
      the driver's own copy of `files`); `Offload` calls the function in place.
    - `Sleep` adds to `sleeps` (and `slept`); `Emit` appends to `events`.
    - `Parallel` runs at most `limit` children at once, interleaved one effect at a time: at
      each step `scheduler(number_of_active_children)` picks which child goes next (default:
      round-robin). Results come back in input order; when a child fails, the others are
      closed and an `ExceptionGroup` of the failure is thrown into the parent, as the async
      driver's task group does.

    `requests` logs every request as the flow yielded it; `max_active` is the largest number of
    `Parallel` children seen active at once.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        files: Mapping[str, bytes] | None = None,
        scheduler: Scheduler | None = None,
        tick: float = 0.001,
    ) -> None:
        self.handler = handler
        self.files: dict[str, bytes] = dict(files or {})
        self._temporary: list[str] = []
        self.scheduler: Scheduler = scheduler if scheduler is not None else RoundRobin()
        self.tick = tick
        self.clock = 0.0
        self.sleeps: list[float] = []
        self.events: list[object] = []
        self.requests: list[Request] = []
        self.max_active = 0

    @property
    def slept(self) -> float:
        """Total seconds the flows asked to sleep."""
        return sum(self.sleeps)

    def run(self, flow: Flow[T]) -> T:
        """Drive `flow` to its result; errors it raises propagate unchanged."""
        task = _Task(flow)
        try:
            while not self._step(task):
                pass
            result: T = task.result
            return result
        finally:
            self._close(task)
            for path in self._temporary:  # as the real drivers do with unmoved temp files
                self.files.pop(path, None)
            self._temporary.clear()

    def _step(self, task: _Task) -> bool:
        """Advance `task` by one effect; True once its flow has returned."""
        group = task.group
        if group is not None:
            try:
                results = self._step_group(group)
            except Exception as exc:  # the ExceptionGroup, thrown into the parent
                task.group = None
                task.error = exc
                return False
            if results is None:
                return False
            task.group = None
            task.value = results
            return False
        value, error = task.value, task.error
        task.value, task.error = None, None
        try:
            effect = task.flow.throw(error) if error is not None else task.flow.send(value)
        except StopIteration as stop:
            task.result = stop.value
            return True
        if isinstance(effect, Parallel):
            task.group = _Group(effect)
            return False
        try:
            task.value = self._perform(effect)
        except Exception as exc:  # thrown into the flow, which decides
            task.error = exc
        return False

    def _step_group(self, group: _Group) -> list[Any] | None:
        """Advance one child chosen by the scheduler; the results once all have returned."""
        if not group.children:
            return []
        while len(group.active) < group.limit and group.started < len(group.children):
            group.active.append(group.started)
            group.started += 1
        self.max_active = max(self.max_active, len(group.active))
        choice = self.scheduler(len(group.active))
        if not 0 <= choice < len(group.active):
            raise ValueError(f"scheduler chose {choice} among {len(group.active)} children")
        index = group.active[choice]
        child = group.children[index]
        try:
            done = self._step(child)
        except Exception as exc:
            self._close_group(group, index)
            raise ExceptionGroup("parallel registry operations failed", [exc]) from None
        except BaseException:
            self._close_group(group, index)
            raise
        if done:
            group.active.remove(index)
            group.finished += 1
            if group.finished == len(group.children):
                return [c.result for c in group.children]
        return None

    def _close_group(self, group: _Group, failed: int) -> None:
        for index, child in enumerate(group.children):
            if index != failed:
                self._close(child)

    def _close(self, task: _Task) -> None:
        if task.group is not None:
            for child in task.group.children:
                self._close(child)
            task.group = None
        task.flow.close()

    def _perform(self, effect: Effect) -> Any:
        if isinstance(effect, Request):
            return self._send(effect)
        if isinstance(effect, ReadFile):
            data = self.files.get(effect.path)
            if data is None:
                raise TarReadError(f"cannot read {effect.path}: no such file")
            if effect.offset < 0:
                raise TarReadError(f"cannot read {effect.path}: negative offset")
            end = None if effect.length < 0 else effect.offset + effect.length
            return data[effect.offset : end]
        if isinstance(effect, Offload):
            return effect.function(*effect.args)
        if isinstance(effect, Decompress):
            return self._decompress(effect.path, effect.codec)
        if isinstance(effect, Sleep):
            self.sleeps.append(effect.seconds)
            self.clock += max(effect.seconds, 0.0)
            return None
        if isinstance(effect, Emit):
            self.events.append(effect.event)
            return None
        if isinstance(effect, TempFile):
            directory = effect.directory.rstrip("/") or "/tmp"
            path = f"{directory}/.tmp-{len(self.files)}{effect.suffix}"
            while path in self.files:
                path += "_"
            self.files[path] = b""
            self._temporary.append(path)
            return path
        if isinstance(effect, WriteFile):
            current = self.files.get(effect.path)
            if current is None:
                raise TarReadError(f"cannot write {effect.path}: no such file")
            self.files[effect.path] = _write_at(current, effect.offset, effect.data)
            return None
        if isinstance(effect, RemoveFile):
            self.files.pop(effect.path, None)
            return None
        if isinstance(effect, MoveFile):
            if effect.source not in self.files:
                raise TarReadError(f"cannot move {effect.source}: no such file")
            self.files[effect.destination] = self.files.pop(effect.source)
            return None
        if isinstance(effect, Parallel):  # handled by `_step`; here only for exhaustiveness
            raise TypeError("Parallel is not a leaf effect")
        assert_never(effect)

    def _decompress(self, path: str, codec: str) -> str:
        data = self.files.get(path)
        if data is None:
            raise TarReadError(f"cannot read {path}: no such file")
        try:
            plain = _decompressors()[codec](data)
        except KeyError:
            raise TarReadError(f"{path} is compressed with {codec}, which cannot be read") from None
        except Exception as exc:  # each codec has its own error types
            raise TarReadError(f"cannot decompress {path} ({codec}): {exc}") from exc
        target = f"{path}.decompressed-{len(self.files)}.tar"
        self.files[target] = plain
        return target

    def _send(self, request: Request) -> Response:
        self.requests.append(request)
        outgoing = request
        if isinstance(request.body, FileSlice):
            data = _slice_bytes(self.files, request.body)
            outgoing = dataclasses.replace(request, body=BytesBody(data))
        response = self.handler(outgoing)
        self.clock += self.tick
        body = response.body
        sink = request.response_body
        if isinstance(sink, FileSink) and response.status in sink.statuses:
            if len(body) > sink.length:
                raise TransportFailure(f"response body larger than {sink.length} bytes")
            current = self.files.get(sink.path)
            if current is None:
                raise TarReadError(f"cannot write {sink.path}: no such file")
            self.files[sink.path] = _write_at(current, sink.offset, body)
            return dataclasses.replace(
                response,
                body=b"",
                received_at=self.clock,
                written=len(body),
                written_sha256=hashlib.sha256(body).hexdigest(),
            )
        if request.response_body == "discard":
            body = b""
        elif len(body) > request.max_response_bytes:
            raise ResponseTooLarge(f"response body larger than {request.max_response_bytes} bytes")
        return dataclasses.replace(response, body=body, received_at=self.clock)


def _write_at(current: bytes, offset: int, data: bytes) -> bytes:
    """`current` with `data` written at `offset`, zero-filled in between, as a file would be."""
    if len(current) < offset:
        current += bytes(offset - len(current))
    return current[:offset] + data + current[offset + len(data) :]
