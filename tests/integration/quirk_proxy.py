"""A proxy in front of a real registry that answers the way other registries do.

Each `Profile` reproduces the documented quirks of one registry (GHCR, Google Artifact
Registry, ACR, ECR, GCR, Quay, Harbor, Docker Hub, Nexus, and object storage behind
redirects; each cites where its quirks are reported), on top of the reference registry's own
answers. A request
is answered by the profile when it has a quirk for it, else forwarded to the registry
unchanged (its `Host` too, so that the registry's `Location`s point back at the proxy), and
the registry's answer passes through the profile on its way back.

The limits are scaled down so that small test images meet them: request bodies are capped at
1 MiB where the real registries cap them at 4 or 20 MB, and Quay's tag pages hold 2 names,
not 50.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar, Self
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.integration.lifecycle import Serving, Started
from tests.integration.loopback import LoopbackServer, RecordedRequest
from tests.integration.loopback import Reply as StorageReply

CAP = 1024 * 1024
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}
)
_BLOB = re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<digest>[a-z0-9]+:[a-zA-Z0-9=_-]+)$")
_UPLOADS = re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/(?P<uuid>[^/]*)$")
_MANIFEST = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)$")
_TAGS = re.compile(r"^/v2/(?P<name>.+)/tags/list$")
_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_DOCKER_TAR_LAYER = "application/vnd.docker.image.rootfs.diff.tar"


@dataclass(frozen=True)
class Exchange:
    """A request as the proxy received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def param(self, name: str) -> str | None:
        values = parse_qs(self.query, keep_blank_values=True).get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Reply:
    """An answer: `cut_after` breaks the connection after that many bytes of the body."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    cut_after: int | None = None

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def with_header(self, name: str, value: str) -> Reply:
        kept = tuple((k, v) for k, v in self.headers if k.lower() != name.lower())
        return replace(self, headers=(*kept, (name, value)))


def error(status: int, code: str, message: str) -> Reply:
    """A spec error document (distribution-spec "Error Codes")."""
    body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
    return Reply(status, (("Content-Type", "application/json"),), body)


def plain(status: int, text: str) -> Reply:
    return Reply(status, (("Content-Type", "text/plain; charset=utf-8"),), text.encode())


@dataclass(frozen=True)
class Seen:
    """A request the proxy answered, and how."""

    method: str
    target: str
    status: int
    body_length: int


class Profile:
    """A registry's quirks: `before` may answer a request itself, `after` may change the
    registry's answer. The base class changes nothing (the reference registry as it is).

    `catalog` and `deletes` say whether the registry offers `_catalog` and manifest deletes.
    """

    name: ClassVar[str] = "distribution"
    catalog: ClassVar[bool] = True
    deletes: ClassVar[bool] = True

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def before(self, request: Exchange, proxy: QuirkProxy) -> Reply | None:
        return None

    def after(self, request: Exchange, reply: Reply, proxy: QuirkProxy) -> Reply:
        return reply


def _is_upload(request: Exchange) -> bool:
    return _UPLOADS.match(request.path) is not None


class Ghcr(Profile):
    """GHCR: request bodies over 4 MiB refused with 416 "request body is too large"
    (rust-oci-client #35, #37); registry-API deletes refused with 405 UNSUPPORTED
    (skopeo #1880); manifests asked for without the OCI index type in `Accept` refused
    (cloudfoundry/dockerapplifecycle #13)."""

    name = "ghcr"
    deletes = False

    def before(self, request: Exchange, proxy: QuirkProxy) -> Reply | None:
        if request.method in ("PATCH", "PUT") and _is_upload(request) and len(request.body) > CAP:
            return plain(416, "request body is too large")
        if request.method == "DELETE" and _MANIFEST.match(request.path):
            return error(405, "UNSUPPORTED", "The operation is unsupported.")
        fetched = request.method in ("GET", "HEAD") and _MANIFEST.match(request.path)
        if fetched and _OCI_INDEX not in request.headers.get("accept", ""):
            return error(404, "MANIFEST_UNKNOWN", "OCI index not accepted")
        return None


class SingleUseLocations:
    """Upload `Location`s moved under `/artifacts-uploads/`, each good for one request
    (GCR and GAR: containerd #1318, rust-oci-client #175)."""

    def __init__(self, relative: bool) -> None:
        self._relative = relative
        self._targets: dict[str, str] = {}
        self._next = 0

    def issue(self, location: str, proxy: QuirkProxy) -> str:
        split = urlsplit(location)
        target = f"{split.path}?{split.query}" if split.query else split.path
        self._next += 1
        token = f"u{self._next}"
        self._targets[token] = target
        path = f"/artifacts-uploads/uploads/{token}"
        return path if self._relative else f"{proxy.url}{path}"

    def redeem(self, request: Exchange) -> Exchange | None:
        """The request aimed at the registry's own `Location`, or None once it was used."""
        token = request.path.rpartition("/")[2]
        target = self._targets.pop(token, None)
        if target is None:
            return None
        path, _, query = target.partition("?")
        extra = request.query
        return replace(request, path=path, query="&".join(q for q in (query, extra) if q))


class _MovedUploads(Profile):
    """Shared by GAR and GCR: upload sessions live under another path, single-use."""

    relative: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        self.locations = SingleUseLocations(self.relative)

    def before(self, request: Exchange, proxy: QuirkProxy) -> Reply | None:
        if not request.path.startswith("/artifacts-uploads/"):
            return None
        with self.lock:
            real = self.locations.redeem(request)
        if real is None:
            return error(404, "BLOB_UPLOAD_UNKNOWN", "upload location already used")
        return self.after(real, proxy.forward(real), proxy)

    def after(self, request: Exchange, reply: Reply, proxy: QuirkProxy) -> Reply:
        location = reply.header("Location")
        if location is None or "/blobs/uploads/" not in location:
            return reply
        with self.lock:
            return reply.with_header("Location", self.locations.issue(location, proxy))


class Gar(_MovedUploads):
    """Google Artifact Registry: no chunked uploads, `PATCH` refused (skopeo #1101,
    kitops #777); a mount answered with an upload session (ggcr #1846); upload locations
    elsewhere and single-use."""

    name = "gar"

    def before(self, request: Exchange, proxy: QuirkProxy) -> Reply | None:
        if request.method == "PATCH":
            return error(405, "UNSUPPORTED", "chunked uploads are not supported")
        if request.method == "POST" and request.param("mount") is not None:
            fresh = replace(request, query="")
            return self.after(fresh, proxy.forward(fresh), proxy)
        return super().before(request, proxy)


class Gcr(_MovedUploads):
    """GCR: `PATCH` answered 204, not 202 (containerd #1318); upload locations relative,
    elsewhere and single-use (oras-py #78)."""

    name = "gcr"
    relative = True

    def after(self, request: Exchange, reply: Reply, proxy: QuirkProxy) -> Reply:
        if request.method == "PATCH" and reply.status == 202:
            reply = replace(reply, status=204)
        return super().after(request, reply, proxy)


class Acr(Profile):
    """ACR (Basic tier): monolithic bodies over about 20 MB refused with 413, chunks sent
    without `Content-Length` refused (dotnet/sdk-container-builds #287, harbor #23015)."""

    name = "acr"

    def before(self, request: Exchange, proxy: QuirkProxy) -> Reply | None:
        if not _is_upload(request):
            return None
        if request.method == "PUT" and len(request.body) > CAP:
            return plain(413, "request entity too large")
        if request.method == "PATCH" and "content-length" not in request.headers:
            return error(400, "CONTENT_LENGTH_INVALID", "Content-Length required")
        return None


class Ecr(Profile):
    """ECR: `n` over 1000 refused (ggcr #1091); `PATCH` answered 201 with a `Range` that stops
    advancing after the first chunk (regclient, aws/containers-roadmap #2831); manifests
    without a top-level `mediaType` refused (containers/image #584)."""

    name = "ecr"

    def __init__(self) -> None:
        super().__init__()
        self._first_range: dict[str, str] = {}

    def before(self, request: Exchange, proxy: QuirkProxy) -> Reply | None:
        number = request.param("n")
        if number is not None and number.isdigit() and int(number) > 1000:
            return error(400, "INVALID_PARAMETER", "n must be at most 1000")
        if request.method == "PUT" and _MANIFEST.match(request.path):
            with contextlib.suppress(ValueError):
                if "mediaType" not in json.loads(request.body):
                    return error(400, "MANIFEST_INVALID", "mediaType missing")
        return None

    def after(self, request: Exchange, reply: Reply, proxy: QuirkProxy) -> Reply:
        match = _UPLOADS.match(request.path)
        if request.method != "PATCH" or match is None or reply.status != 202:
            return reply
        with self.lock:
            stuck = self._first_range.setdefault(match["uuid"], reply.header("Range") or "0-0")
        return replace(reply, status=201).with_header("Range", stuck)


class Quay(Profile):
    """Quay: tags paged (at 50) with an opaque `next_page` token, `last` and `n` ignored
    (regclient #272, #274); Docker's uncompressed layer type refused in Docker manifests
    (containers/image #1270); an upload closed with no content at all fails with 5xx
    (quay #2005)."""

    name = "quay"
    page = 2

    def __init__(self) -> None:
        super().__init__()
        self._filled: set[str] = set()

    def before(self, request: Exchange, proxy: QuirkProxy) -> Reply | None:
        tags = _TAGS.match(request.path)
        if tags is not None and request.method == "GET":
            return self._tags_page(request, tags["name"], proxy)
        manifest = _MANIFEST.match(request.path)
        if request.method == "PUT" and manifest is not None and _docker_tar_layers(request.body):
            return error(400, "MANIFEST_INVALID", "manifest invalid")
        upload = _UPLOADS.match(request.path)
        if upload is not None and request.method in ("PATCH", "PUT"):
            with self.lock:
                if request.body:
                    self._filled.add(upload["uuid"])
                elif request.method == "PUT" and upload["uuid"] not in self._filled:
                    return error(500, "UNKNOWN", "no chunks to complete the upload with")
        return None

    def _tags_page(self, request: Exchange, name: str, proxy: QuirkProxy) -> Reply:
        everything = proxy.forward(replace(request, query=""))
        if everything.status != 200:
            return everything
        tags = sorted(json.loads(everything.body).get("tags") or [])
        token = request.param("next_page")
        start = int(base64.urlsafe_b64decode(token)) if token else 0
        page = {"name": name, "tags": tags[start : start + self.page]}
        reply = Reply(200, (("Content-Type", "application/json"),), json.dumps(page).encode())
        if start + self.page < len(tags):
            following = base64.urlsafe_b64encode(str(start + self.page).encode()).decode()
            query = urlencode({"n": self.page, "next_page": following})
            reply = reply.with_header("Link", f'</v2/{name}/tags/list?{query}>; rel="next"')
        return reply


def _docker_tar_layers(body: bytes) -> bool:
    """Whether a manifest is a Docker one naming Docker's uncompressed layer type."""
    try:
        document = json.loads(body)
    except ValueError:
        return False
    if not isinstance(document, dict) or document.get("mediaType") != _DOCKER_MANIFEST:
        return False
    return any(layer.get("mediaType") == _DOCKER_TAR_LAYER for layer in document.get("layers", []))


class Harbor(Profile):
    """Harbor: a mount from a repository that does not hold the blob answered 401 instead of
    an upload session (goharbor/harbor #17097)."""

    name = "harbor"

    def before(self, request: Exchange, proxy: QuirkProxy) -> Reply | None:
        upload = _UPLOADS.match(request.path)
        digest, source = request.param("mount"), request.param("from")
        if request.method != "POST" or upload is None or digest is None or source is None:
            return None
        held = proxy.forward(Exchange("HEAD", f"/v2/{source}/blobs/{digest}", "", {}))
        if held.status != 200:
            return error(401, "UNAUTHORIZED", "authentication required")
        return None


class DockerHub(Profile):
    """Docker Hub: `_catalog` refused (skopeo #1167); registry-API deletes refused with 405
    UNSUPPORTED (genuinetools/reg #143); the anti-abuse 429 in plain text with bare newlines
    (docker/hub-feedback #1907), here on the first manifest fetched."""

    name = "dockerhub"
    catalog = False
    deletes = False

    def __init__(self) -> None:
        super().__init__()
        self._limited = False

    def before(self, request: Exchange, proxy: QuirkProxy) -> Reply | None:
        if request.path == "/v2/_catalog":
            return error(401, "UNAUTHORIZED", "authentication required")
        manifest = _MANIFEST.match(request.path)
        if manifest is not None and request.method == "DELETE":
            return error(405, "UNSUPPORTED", "The operation is unsupported.")
        if manifest is not None and request.method == "GET":
            with self.lock:
                limited, self._limited = self._limited, True
            if not limited:
                return plain(429, "Too Many Requests (HAP429).\n")
        return None


class Nexus(Profile):
    """Nexus: the first upload completed in an empty hosted repository fails with 400
    `BLOB_UPLOAD_INVALID`, and trying again succeeds (sonatype/nexus-public #967)."""

    name = "nexus"

    def __init__(self) -> None:
        super().__init__()
        self._warmed: set[str] = set()

    def before(self, request: Exchange, proxy: QuirkProxy) -> Reply | None:
        upload = _UPLOADS.match(request.path)
        if request.method != "PUT" or upload is None or request.param("digest") is None:
            return None
        with self.lock:
            if upload["name"] in self._warmed:
                return None
            self._warmed.add(upload["name"])
        return error(400, "BLOB_UPLOAD_INVALID", "blob upload invalid")


class ObjectStorage(Profile):
    """Blobs in object storage (S3, GCS, a CDN): blob `GET` and `HEAD` redirected with 307 to
    a signed URL on another host, which refuses a second kind of authentication
    (renovate #3877, distribution #2055)."""

    name = "s3"

    def before(self, request: Exchange, proxy: QuirkProxy) -> Reply | None:
        blob = _BLOB.match(request.path)
        if blob is None or request.method not in ("GET", "HEAD"):
            return None
        held = proxy.forward(replace(request, method="HEAD", body=b""))
        if held.status != 200:
            return held
        location = f"{proxy.storage_url}/bucket/{blob['name']}/{blob['digest']}?X-Amz-Signature=x1"
        return Reply(307, (("Location", location),))


PROFILES: dict[str, type[Profile]] = {
    profile.name: profile
    for profile in (
        Profile,
        Ghcr,
        Gar,
        Acr,
        Ecr,
        Gcr,
        Quay,
        Harbor,
        DockerHub,
        Nexus,
        ObjectStorage,
    )
}


@dataclass
class _Log:
    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: list[Seen] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


class QuirkProxy(Started):
    """Serve `profile` on 127.0.0.1 in front of the registry at `upstream` (`host:port`)."""

    def __init__(self, upstream: str, profile: Profile) -> None:
        self.upstream = upstream
        self.profile = profile
        self._serving: Serving | None = None
        self._storage = LoopbackServer(self._serve_storage)
        self._log = _Log()

    @property
    def host(self) -> str:
        assert self._serving is not None, "the proxy is not running"
        return f"127.0.0.1:{self._serving.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def storage_url(self) -> str:
        return self._storage.url

    @property
    def seen(self) -> list[Seen]:
        with self._log.lock:
            return list(self._log.seen)

    @property
    def errors(self) -> list[BaseException]:
        with self._log.lock:
            return list(self._log.errors)

    def start(self) -> Self:
        self._storage.start()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.owner = self
        self._serving = Serving(server)
        return self

    def stop(self) -> None:
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.shut()
        self._storage.stop()

    def answer(self, request: Exchange) -> Reply:
        """The profile's answer to `request`, or the registry's as the profile changes it."""
        try:
            reply = self.profile.before(request, self)
            if reply is None:
                reply = self.profile.after(request, self.forward(request), self)
        except Exception as exc:  # shown to the test through `errors`
            with self._log.lock:
                self._log.errors.append(exc)
            reply = plain(500, "proxy failed")
        seen = Seen(request.method, request.target, reply.status, len(request.body))
        with self._log.lock:
            self._log.seen.append(seen)
        return reply

    def forward(self, request: Exchange) -> Reply:
        """Send `request` to the registry as it is; its answer, body and all."""
        connection = http.client.HTTPConnection(self.upstream, timeout=60)
        try:
            headers = {k: v for k, v in request.headers.items() if k not in _HOP_BY_HOP}
            headers["content-length"] = str(len(request.body))
            connection.request(request.method, request.target, body=request.body, headers=headers)
            response = connection.getresponse()
            body = response.read()
            kept = tuple(
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in _HOP_BY_HOP
                and (k.lower() != "content-length" or request.method == "HEAD")
            )
            return Reply(response.status, kept, body)
        finally:
            connection.close()

    def _serve_storage(self, request: RecordedRequest) -> StorageReply:
        """The object store's side of `ObjectStorage`: signed URLs only, one kind of auth."""
        name, _, digest = request.path.removeprefix("/bucket/").rpartition("/")
        if request.authorized:
            return StorageReply(400, b"<Error><Code>InvalidArgument</Code></Error>")
        if not request.param("X-Amz-Signature"):
            return StorageReply(403, b"<Error><Code>AccessDenied</Code></Error>")
        blob = self.forward(Exchange("GET", f"/v2/{name}/blobs/{digest}", "", {}))
        headers = {"Content-Type": "application/octet-stream"}
        if "range" in request.headers:  # as S3 does
            return _ranged(blob.body, request.headers["range"], headers)
        return StorageReply(blob.status, blob.body, headers)


def _ranged(data: bytes, asked: str, headers: dict[str, str]) -> StorageReply:
    match = re.fullmatch(r"bytes=(\d+)-", asked.strip())
    if match is None or int(match[1]) >= len(data):
        return StorageReply(416, b"", {**headers, "Content-Range": f"bytes */{len(data)}"})
    start = int(match[1])
    content_range = f"bytes {start}-{len(data) - 1}/{len(data)}"
    return StorageReply(206, data[start:], {**headers, "Content-Range": content_range})


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True
    owner: QuirkProxy

    def handle_error(self, request: object, client_address: object) -> None:
        return  # a client that hangs up is not the proxy's problem


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10.0
    protocol_version = "HTTP/1.0"  # one request per connection: no lingering handler threads

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        request = Exchange(
            method=self.command,
            path=split.path,
            query=split.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        reply = self.server.owner.answer(request)
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if self.command != "HEAD" or reply.header("Content-Length") is None:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        for piece in _pieces(reply):
            self.wfile.write(piece)
        if reply.cut_after is not None:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: object) -> None:
        return


def _pieces(reply: Reply) -> Iterator[bytes]:
    body = reply.body if reply.cut_after is None else reply.body[: reply.cut_after]
    for start in range(0, len(body), 65536):
        yield body[start : start + 65536]
