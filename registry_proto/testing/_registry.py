"""`FakeRegistry`: an in-memory registry that answers like distribution 2.8."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from .._models import Request, Response
from . import _blobs, _listing, _manifests
from ._answers import Answer, finish, json_response, plain
from ._faults import Faults
from ._requests import Context, check_method, check_name, route
from ._store import Options, Store, sha256

__all__ = ["FakeRegistry"]

_ALLOWED = {
    "base": ("GET", "HEAD"),
    "catalog": ("GET",),
    "tags": ("GET",),
    "manifest": ("GET", "HEAD", "PUT", "DELETE"),
    "blob": ("GET", "HEAD", "DELETE"),
    "upload": ("POST",),
    "session": ("GET", "HEAD", "PATCH", "PUT", "DELETE"),
}


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

    `files` resolves `FileSlice` request bodies. `faults` holds the failures to inject, if any.
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
        faults: Faults | None = None,
    ) -> None:
        options = Options(
            delete_enabled=delete_enabled,
            relative_urls=relative_urls,
            strict_ranges=strict_ranges,
            paginate_tags=paginate_tags,
            catalog_default_page=catalog_default_page,
            catalog_max_entries=catalog_max_entries,
            chunk_min_length=chunk_min_length,
        )
        self._store = Store(options, files if files is not None else {})
        self._faults = faults if faults is not None else Faults()
        #: Every request handled and the answer it got, in order.
        self.exchanges: list[tuple[Request, Response]] = []

    # -- inspection and seeding -----------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        """Every request handled, in order."""
        return [request for request, _ in self.exchanges]

    def repositories(self) -> list[str]:
        """Repositories holding at least one blob or manifest, in catalog order."""
        return self._store.names()

    def blobs(self, repository: str) -> dict[str, bytes]:
        """The blobs of `repository` by digest (a copy)."""
        repo = self._store.repositories.get(repository)
        return dict(repo.blobs) if repo else {}

    def manifest(self, repository: str, reference: str) -> tuple[str, bytes] | None:
        """`(media_type, exact bytes)` of a manifest by tag or digest, or None."""
        repo = self._store.repositories.get(repository)
        if repo is None:
            return None
        digest = repo.tags.get(reference, reference)
        return repo.manifests.get(digest)

    def tags(self, repository: str) -> dict[str, str]:
        """The tags of `repository` and the manifest digest each points at (a copy)."""
        repo = self._store.repositories.get(repository)
        return dict(repo.tags) if repo else {}

    def upload_sessions(self) -> int:
        """How many upload sessions are open (neither committed nor cancelled)."""
        return len(self._store.uploads)

    def add_blob(self, repository: str, data: bytes, digest: str | None = None) -> str:
        """Store `data` as a blob of `repository` under `digest` (by default its sha256
        digest; any other is taken as given, even one that does not match); return it."""
        digest = digest if digest is not None else sha256(data)
        self._store.repo(repository).blobs[digest] = bytes(data)
        return digest

    def add_manifest(
        self, repository: str, media_type: str, data: bytes, tag: str | None = None
    ) -> str:
        """Store a manifest as is (no checks), optionally tagged; return its digest."""
        digest = sha256(data)
        repo = self._store.repo(repository)
        repo.manifests[digest] = (media_type, bytes(data))
        if tag is not None:
            repo.tag(tag, digest)
        return digest

    # -- request handling -----------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer `request` as the registry would. Never raises."""
        try:
            response = self._dispatch(request)
        except Answer as answer:
            response = answer.response
        response = finish(request, response)
        self.exchanges.append((request, response))
        return response

    def _dispatch(self, request: Request) -> Response:
        try:
            parts = urlsplit(request.url)
        except ValueError:
            return plain(400, "400 Bad Request")
        path = unquote(parts.path)
        injected = self._faults.answer(request, path)
        if injected is not None:
            return injected
        kind, params = route(path)
        name = params.get("name")
        if name is not None:
            check_name(name)
        if kind == "upload" and params["uuid"]:
            kind = "session"
        check_method(request, _ALLOWED[kind])
        origin = "" if self._store.options.relative_urls else f"{parts.scheme}://{parts.netloc}"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        context = Context(request, origin, query)
        store = self._store
        if kind == "base":
            return json_response(200, {})
        if kind == "catalog":
            return _listing.catalog(store, context)
        assert name is not None
        if kind == "tags":
            return _listing.tags(store, context, name)
        if kind == "manifest":
            return _manifests.manifest(store, context, name, params["reference"])
        if kind == "blob":
            return _blobs.blob(store, context, name, params["digest"])
        if kind == "upload":
            return _blobs.start_upload(store, context, name)
        return _blobs.upload_session(store, context, name, params["uuid"])
