"""Blob downloads redirected to storage elsewhere: credentials never follow the redirect to
another origin, and an https registry cannot redirect to plain http.

A loopback "registry" asks for Basic credentials and serves one image whose config blob answers
``307`` with a signed-URL-like ``Location``, the way registries backed by object storage do.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from registry_proto import RemoteProtocolError, Unauthorized
from tests.integration.adapters import ADAPTERS, call
from tests.integration.loopback import LoopbackServer, RecordedRequest, Reply

USER, PASSWORD = "redirect-user", "redirect-secret-pw"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


CONFIG = json.dumps(
    {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"org.example.redirected": "yes"}, "Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64]},
    },
    sort_keys=True,
).encode()
CONFIG_DIGEST = sha256(CONFIG)
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": CONFIG_DIGEST, "size": len(CONFIG)},
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": "sha256:" + "2" * 64,
                "size": 1234,
            }
        ],
    },
    sort_keys=True,
).encode()
MANIFEST_DIGEST = sha256(MANIFEST)


class FakeRegistry:
    """Answers like a registry with Basic auth holding ``<any repo>:v1``.

    The config blob redirects to ``storage_url`` (another server, given after both started);
    ``same_origin`` makes it redirect to a path on this server instead.
    """

    def __init__(self) -> None:
        self.storage_url = ""
        self.same_origin = False

    def __call__(self, request: RecordedRequest) -> Reply:
        if request.path == "/storage/" + CONFIG_DIGEST:
            # Same-origin storage still wants the registry's credentials.
            if request.headers.get("authorization") != BASIC:
                return _challenge()
            return Reply(200, CONFIG, {"Content-Type": "application/octet-stream"})
        if not request.path.startswith("/v2/"):
            return Reply(404, b"not found")
        if request.headers.get("authorization") != BASIC:
            return _challenge()
        if request.path == "/v2/":
            return Reply(200, b"{}", {"Content-Type": "application/json"})
        if request.path.endswith("/manifests/v1") and request.method in ("GET", "HEAD"):
            return Reply(
                200,
                MANIFEST,
                {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": MANIFEST_DIGEST},
            )
        if request.path.endswith("/blobs/" + CONFIG_DIGEST):
            if self.same_origin:
                location = "/storage/" + CONFIG_DIGEST
            else:
                location = f"{self.storage_url}/bucket/{CONFIG_DIGEST}?X-Amz-Signature=abc123"
            return Reply(307, b"", {"Location": location})
        return Reply(404, b'{"errors":[{"code":"NOT_FOUND","message":"unknown"}]}')


def _challenge() -> Reply:
    body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
    return Reply(
        401,
        body,
        {
            "WWW-Authenticate": 'Basic realm="x"',
            "Content-Type": "application/json",
            "Docker-Distribution-API-Version": "registry/2.0",
        },
    )


def _storage(request: RecordedRequest) -> Reply:
    if request.path == f"/bucket/{CONFIG_DIGEST}" and request.param("X-Amz-Signature"):
        if request.authorized:  # like S3: a second auth mechanism is an error
            return Reply(400, b"<Error><Code>InvalidArgument</Code></Error>")
        return Reply(200, CONFIG, {"Content-Type": "application/octet-stream"})
    return Reply(403, b"<Error><Code>AccessDenied</Code></Error>")


@pytest.fixture
def storage() -> Iterator[LoopbackServer]:
    with LoopbackServer(_storage) as server:
        yield server


@pytest.fixture
def fake_registry(storage: LoopbackServer) -> Iterator[tuple[LoopbackServer, FakeRegistry]]:
    handler = FakeRegistry()
    handler.storage_url = storage.url
    with LoopbackServer(handler) as server:
        yield server, handler
    assert server.errors == []


LOGIN = {"username": USER, "password": PASSWORD, "docker_config": False}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_redirect_to_another_origin_drops_credentials(
    adapter: str,
    fake_registry: tuple[LoopbackServer, FakeRegistry],
    storage: LoopbackServer,
) -> None:
    registry, _ = fake_registry

    info = call(adapter, "get_image_info", registry.url, "team/app", "v1", **LOGIN)

    assert (info.digest, info.config_digest) == (MANIFEST_DIGEST, CONFIG_DIGEST)
    assert info.labels == {"org.example.redirected": "yes"}
    assert info.cmd == ("/bin/true",)
    fetched = storage.requests
    assert [(r.method, r.path, r.status) for r in fetched] == [
        ("GET", f"/bucket/{CONFIG_DIGEST}", 200)
    ]
    assert not fetched[0].authorized
    assert "authorization" not in fetched[0].headers
    assert all(PASSWORD not in value for value in fetched[0].headers.values())
    # The registry itself did get the credentials, for the manifest and the blob.
    blob_requests = [r for r in registry.requests if r.path.endswith(CONFIG_DIGEST)]
    assert blob_requests[-1].headers.get("authorization") == BASIC
    assert blob_requests[-1].status == 307


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_redirect_within_the_registry_keeps_credentials(
    adapter: str,
    fake_registry: tuple[LoopbackServer, FakeRegistry],
    storage: LoopbackServer,
) -> None:
    registry, handler = fake_registry
    handler.same_origin = True

    info = call(adapter, "get_image_info", registry.url, "team/app", "v1", **LOGIN)

    assert info.config_digest == CONFIG_DIGEST
    stored = [r for r in registry.requests if r.path.startswith("/storage/")]
    assert [(r.status, r.headers.get("authorization")) for r in stored] == [(200, BASIC)]
    assert storage.requests == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_wrong_password_never_reaches_the_storage(
    adapter: str,
    fake_registry: tuple[LoopbackServer, FakeRegistry],
    storage: LoopbackServer,
) -> None:
    registry, _ = fake_registry
    wrong = {**LOGIN, "password": "not-the-password-61c"}
    with pytest.raises(Unauthorized) as caught:
        call(adapter, "get_image_info", registry.url, "team/app", "v1", **wrong)
    assert "not-the-password-61c" not in str(caught.value)
    assert len(registry.requests) <= 2
    assert storage.requests == []


# -- https to http ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(params=["http", "HTTP"])
def tls_fake_registry(
    request: pytest.FixtureRequest, ca: trustme.CA, storage: LoopbackServer, tmp_path: Path
) -> Iterator[tuple[LoopbackServer, Path]]:
    """The fake registry over https; its config blob redirects to the plain-http storage,
    its scheme spelt in lower or upper case (schemes are case-insensitive)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    handler = FakeRegistry()
    handler.storage_url = request.param + storage.url.removeprefix("http")
    with LoopbackServer(handler, ssl_context=context) as server:
        yield server, bundle
    assert server.errors == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_https_registry_cannot_redirect_to_http(
    adapter: str,
    tls_fake_registry: tuple[LoopbackServer, Path],
    storage: LoopbackServer,
) -> None:
    registry, bundle = tls_fake_registry
    assert registry.url.startswith("https://")
    assert storage.url.startswith("http://")

    with pytest.raises(RemoteProtocolError, match="https to http"):
        call(adapter, "get_image_info", registry.url, "team/app", "v1", verify=bundle, **LOGIN)

    assert storage.requests == []
    # It got as far as the redirect: the manifest and the blob request were answered.
    assert [r.status for r in registry.requests if r.path.endswith(CONFIG_DIGEST)][-1] == 307
