"""Authentication as a wrapper flow: Basic, Bearer tokens, scopes, expiry, refusals, redirects."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_proto import (
    BytesBody,
    Flow,
    Headers,
    RegistryEndpoint,
    RegistryProtoError,
    RemoteProtocolError,
    Request,
    Response,
    ScopeDenied,
    TransportFailure,
    Unauthorized,
    http,
)
from registry_proto import operations as ops
from registry_proto._auth import Authenticator, Credentials, scopes_for, with_auth
from registry_proto._retry import with_retries
from registry_proto.testing import FakeRegistry, PureDriver
from tests.proto.pure_support import REGISTRY, make_image_archive
from tests.proto.test_fuzz import perturb, perturbations

T = TypeVar("T")
ENDPOINT = RegistryEndpoint.parse(REGISTRY)
REALM = "https://auth.test/token"
SERVICE = "fake-registry"
ARCHIVE = "image.tar"
LAYERS = [b"first layer " * 300, b"second layer " * 200]
FILES = {ARCHIVE: make_image_archive(LAYERS, repo_tags=["alice/app:1"])}


def _required(request: Request) -> set[str]:
    """What the gate demands, worked out independently of the library's `scopes_for`."""
    path = urlsplit(request.url).path
    if path in ("/v2/", "/v2"):
        return set()
    if path.startswith("/v2/_catalog"):
        return {"registry:catalog:*"}
    name = path[len("/v2/") :].split("/blobs/")[0].split("/manifests/")[0].split("/tags/")[0]
    if request.method in ("GET", "HEAD"):
        needed = {f"repository:{name}:pull"}
    elif request.method == "DELETE":
        needed = {f"repository:{name}:delete"}
    else:
        needed = {f"repository:{name}:pull", f"repository:{name}:push"}
    source = dict(parse_qsl(urlsplit(request.url).query)).get("from")
    if source:
        needed.add(f"repository:{source}:pull")
    return needed


def _single(scopes: set[str]) -> set[str]:
    """`repository:x:pull,push` -> `repository:x:pull`, `repository:x:push`."""
    single: set[str] = set()
    for scope in scopes:
        resource, _, actions = scope.rpartition(":")
        single.update(f"{resource}:{action}" for action in actions.split(","))
    return single


class TokenGate:
    """A registry behind distribution-style token auth, with its token server.

    `grants` maps a user (None: anonymous) to the single-action scopes they may have; the token
    server grants the intersection of what is asked and allowed, as the spec says.
    """

    def __init__(
        self,
        grants: dict[str | None, set[str]],
        *,
        passwords: dict[str, str] | None = None,
        expires_in: int = 300,
        post: bool = True,
    ) -> None:
        self.registry = FakeRegistry(files=FILES)
        self.grants = grants
        self.passwords = passwords or {"alice": "wonderland", "bob": "builder"}
        self.expires_in = expires_in
        self.post = post
        self.token_requests: list[Request] = []
        self.registry_requests: list[Request] = []

    def handle(self, request: Request) -> Response:
        if request.url.startswith(REALM):
            self.token_requests.append(request)
            return self._token(request)
        self.registry_requests.append(request)
        needed = _single(_required(request))
        header = request.headers.get("Authorization", "") or ""
        held: set[str] = set()
        if header.startswith("Bearer "):
            held = set(json.loads(base64.b64decode(header[7:]))["access"])
        if needed <= held and header.startswith("Bearer "):
            return self.registry.handle(request)
        scope = " ".join(sorted(_required(request)))
        error = ',error="insufficient_scope"' if header else ""
        challenge = f'Bearer realm="{REALM}",service="{SERVICE}",scope="{scope}"{error}'
        body = json.dumps(
            {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
        )
        return Response(
            status=401, headers=Headers.of({"WWW-Authenticate": challenge}), body=body.encode()
        )

    def _user(self, request: Request) -> tuple[bool, str | None]:
        header = request.headers.get("Authorization")
        if header is None:
            return True, None
        user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        return self.passwords.get(user) == password, user

    def _token(self, request: Request) -> Response:
        if request.method == "POST":
            if not self.post:
                return Response(status=405)
            assert isinstance(request.body, BytesBody)
            form = dict(parse_qsl(request.body.data.decode()))
            user: str | None = form["refresh_token"].removeprefix("refresh-")
            asked = set(form.get("scope", "").split())
        else:
            good, user = self._user(request)
            if not good:
                return Response(status=401, body=b'{"details":"incorrect username or password"}')
            asked = set(parse_qs(urlsplit(request.url).query).get("scope", []))
        granted = _single(asked) & self.grants.get(user, set())
        token = base64.b64encode(json.dumps({"access": sorted(granted)}).encode()).decode()
        answer = {"token": token, "expires_in": self.expires_in}
        return Response(status=200, body=json.dumps(answer).encode())


ALICE = {"repository:alice/app:pull", "repository:alice/app:push", "repository:alice/app:delete"}


def run(
    gate: TokenGate,
    flow_factory: Callable[[], Flow[T]],
    credentials: Credentials | None = None,
    *,
    authenticator: Authenticator | None = None,
) -> T:
    auth = authenticator or Authenticator(ENDPOINT, credentials)
    driver = PureDriver(gate.handle, files=FILES)
    return driver.run(with_auth(flow_factory(), auth))


def push_flow() -> Flow[str]:
    return ops.push_docker_tar(ARCHIVE, REGISTRY, "alice/app", "1")


def test_scopes_follow_method_and_path() -> None:
    def scopes(method: str, path: str) -> set[str]:
        return set(scopes_for(ENDPOINT, Request(method=method, url=REGISTRY + path)))

    assert scopes("GET", "/v2/") == set()
    assert scopes("HEAD", "/v2/a/b/blobs/sha256:0") == {"repository:a/b:pull"}
    assert scopes("PUT", "/v2/a/manifests/1") == {"repository:a:pull,push"}
    assert scopes("PATCH", "/v2/a/blobs/uploads/x") == {"repository:a:pull,push"}
    assert scopes("DELETE", "/v2/a/manifests/sha256:0") == {"repository:a:delete"}
    assert scopes("GET", "/v2/_catalog?n=10") == {"registry:catalog:*"}
    assert scopes("POST", "/v2/a/blobs/uploads/?mount=sha256:0&from=b/c") == {
        "repository:a:pull,push",
        "repository:b/c:pull",
    }


def test_push_earns_and_reuses_tokens() -> None:
    gate = TokenGate({"alice": ALICE})
    digest = run(gate, push_flow, Credentials("alice", "wonderland"))
    assert digest.startswith("sha256:")
    assert gate.registry.manifest("alice/app", "1") is not None
    # The push announces its scopes before fanning out: one token covers every request.
    assert len(gate.token_requests) == 1
    assert all(
        (r.headers.get("Authorization") or "").startswith("Basic ") for r in gate.token_requests
    )
    # The token GET lists each scope as its own parameter, and names the account.
    query = parse_qs(urlsplit(gate.token_requests[-1].url).query)
    assert query["service"] == [SERVICE]
    assert query["account"] == ["alice"]
    assert "repository:alice/app:pull,push" in query["scope"]


@settings(max_examples=40)
@given(data=st.data())
def test_any_interleaving_of_authenticated_uploads(data: st.DataObject) -> None:
    gate = TokenGate({"alice": ALICE})
    auth = Authenticator(ENDPOINT, Credentials("alice", "wonderland"))
    driver = PureDriver(
        gate.handle, files=FILES, scheduler=lambda n: data.draw(st.integers(0, n - 1))
    )
    driver.run(with_auth(push_flow(), auth))
    assert gate.registry.manifest("alice/app", "1") is not None
    # The scopes are announced before the fan-out, so however the children interleave, the
    # token earned up front covers them all.
    assert len(gate.token_requests) == 1


def test_expired_tokens_are_renewed() -> None:
    gate = TokenGate({"alice": ALICE}, expires_in=60)
    auth = Authenticator(ENDPOINT, Credentials("alice", "wonderland"))
    # Each request moves the clock 30 s: a minute-long token lapses after a request or two.
    driver = PureDriver(gate.handle, files=FILES, tick=30.0)
    driver.run(with_auth(push_flow(), auth))
    first = len(gate.token_requests)
    assert first > 1
    driver.run(with_auth(push_flow(), auth))
    assert len(gate.token_requests) > first
    # With a long-lived token nothing is fetched again.
    patient = TokenGate({"alice": ALICE}, expires_in=3600)
    auth = Authenticator(ENDPOINT, Credentials("alice", "wonderland"))
    driver = PureDriver(patient.handle, files=FILES, tick=30.0)
    driver.run(with_auth(push_flow(), auth))
    driver.run(with_auth(push_flow(), auth))
    assert len(patient.token_requests) == 1


def test_insufficient_scope_asks_for_the_union() -> None:
    gate = TokenGate({"alice": ALICE | {"repository:other/app:pull"}})
    auth = Authenticator(ENDPOINT, Credentials("alice", "wonderland"))
    run(gate, push_flow, authenticator=auth)
    # Mounting from another repository needs pull there too: the token covers both.
    request = Request(
        method="POST",
        url=REGISTRY + "/v2/alice/app/blobs/uploads/?mount=sha256:" + "0" * 64 + "&from=other/app",
        headers=Headers.of({"Content-Length": "0"}),
    )
    driver = PureDriver(gate.handle, files=FILES)
    driver.run(with_auth(_one(request), auth))
    scopes = parse_qs(urlsplit(gate.token_requests[-1].url).query)["scope"]
    assert set(scopes) >= {"repository:alice/app:pull,push", "repository:other/app:pull"}


def _one(request: Request) -> Flow[Response]:
    return (yield from http(request))


def test_a_denied_scope_is_scope_denied() -> None:
    gate = TokenGate({"alice": ALICE, "bob": {"repository:alice/app:pull"}})
    with pytest.raises(ScopeDenied):
        run(gate, push_flow, Credentials("bob", "builder"))
    assert gate.registry.manifest("alice/app", "1") is None


def test_wrong_password_fails_fast_without_leaking_it() -> None:
    gate = TokenGate({"alice": ALICE})
    with pytest.raises(Unauthorized) as caught:
        run(gate, push_flow, Credentials("alice", "not-the-password"))
    assert len(gate.token_requests) == 1
    assert len(gate.registry_requests) == 1
    assert "refused the credentials" in str(caught.value)
    assert "not-the-password" not in str(caught.value)
    assert "not-the-password" not in repr(Credentials("alice", "not-the-password"))


def test_anonymous_pull_of_a_public_repository() -> None:
    gate = TokenGate({"alice": ALICE, None: {"repository:alice/app:pull"}})
    run(gate, push_flow, Credentials("alice", "wonderland"))
    tags = run(gate, lambda: ops.list_tags(REGISTRY, "alice/app"))
    assert tags == ["1"]
    assert gate.token_requests[-1].headers.get("Authorization") is None


def test_a_login_asked_for_without_credentials_says_none_were_found() -> None:
    gate = TokenGate({"alice": ALICE})

    def anonymous_refused(request: Request) -> Response:
        if request.url.startswith(REALM) and "Authorization" not in request.headers:
            return Response(status=401, body=b'{"details":"login required"}')
        return gate.handle(request)

    driver = PureDriver(anonymous_refused, files=FILES)
    with pytest.raises(Unauthorized) as caught:
        driver.run(with_auth(push_flow(), Authenticator(ENDPOINT)))
    assert str(caught.value) == (
        "no credentials found for registry.test:5000: the token server at "
        "https://auth.test/token asks for a login (HTTP 401)"
    )


def test_identity_token_uses_the_oauth_post_flow() -> None:
    gate = TokenGate({"alice": ALICE})
    run(gate, push_flow, Credentials(identity_token="refresh-alice"))
    assert gate.registry.manifest("alice/app", "1") is not None
    post = gate.token_requests[0]
    assert post.method == "POST"
    assert isinstance(post.body, BytesBody)
    form = dict(parse_qsl(post.body.data.decode()))
    assert form["grant_type"] == "refresh_token"
    assert form["service"] == SERVICE


def test_oauth_post_falls_back_to_get_on_405() -> None:
    gate = TokenGate({None: {"repository:alice/app:pull"}}, post=False)
    gate.registry.handle(Request(method="GET", url=REGISTRY + "/v2/"))
    with pytest.raises(Exception):  # noqa: B017, PT011 - nothing was pushed, so 404
        run(gate, lambda: ops.list_tags(REGISTRY, "alice/app"), Credentials(identity_token="x"))
    assert [r.method for r in gate.token_requests][:2] == ["POST", "GET"]


class BasicGate:
    """A registry asking for Basic credentials, like distribution's htpasswd."""

    def __init__(self) -> None:
        self.registry = FakeRegistry(files=FILES)
        self.seen: list[str | None] = []
        self.expected = "Basic " + base64.b64encode(b"user:pass").decode()

    def handle(self, request: Request) -> Response:
        header = request.headers.get("Authorization")
        self.seen.append(header)
        if header == self.expected:
            return self.registry.handle(request)
        return Response(
            status=401, headers=Headers.of({"WWW-Authenticate": 'Basic realm="basic-realm"'})
        )


def test_basic_auth_is_sent_once_asked_for() -> None:
    gate = BasicGate()
    driver = PureDriver(gate.handle, files=FILES)
    auth = Authenticator(ENDPOINT, Credentials("user", "pass"))
    driver.run(with_auth(push_flow(), auth))
    assert gate.seen[0] is None
    assert gate.seen.count(None) == 1  # after the first challenge, always up front
    assert gate.registry.manifest("alice/app", "1") is not None


def test_basic_auth_with_a_wrong_password() -> None:
    gate = BasicGate()
    driver = PureDriver(gate.handle, files=FILES)
    auth = Authenticator(ENDPOINT, Credentials("user", "wrong"))
    with pytest.raises(Unauthorized) as caught:
        driver.run(with_auth(push_flow(), auth))
    assert len(gate.seen) == 2
    assert "wrong" not in str(caught.value)


@pytest.mark.parametrize("flow", [push_flow, lambda: ops.list_tags(REGISTRY, "alice/app")])
def test_basic_auth_without_credentials_says_none_were_found(
    flow: Callable[[], Flow[object]],
) -> None:
    gate = BasicGate()
    driver = PureDriver(gate.handle, files=FILES)
    with pytest.raises(Unauthorized) as caught:
        driver.run(with_auth(flow(), Authenticator(ENDPOINT)))
    assert "no credentials found for registry.test:5000: " in str(caught.value)
    assert "asks for a login (HTTP 401)" in str(caught.value)
    assert "refused" not in str(caught.value)
    assert gate.seen == [None]  # nothing to try again with


def test_no_credentials_to_another_origin() -> None:
    """A blob redirected to object storage is fetched without the registry's credentials."""
    seen: dict[str, str | None] = {}
    config = b'{"os":"linux","architecture":"amd64","config":{}}'
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "x", "digest": config_digest, "size": len(config)},
            "layers": [],
        }
    ).encode()

    def handle(request: Request) -> Response:
        seen[request.url] = request.headers.get("Authorization")
        if request.url.startswith("https://storage.test/"):
            return Response(status=200, body=config)
        if request.headers.get("Authorization") is None:
            return Response(status=401, headers=Headers.of({"WWW-Authenticate": 'Basic realm="r"'}))
        if "/manifests/" in request.url:
            return Response(
                status=200,
                headers=Headers.of({"Content-Type": "application/vnd.oci.image.manifest.v1+json"}),
                body=manifest,
            )
        return Response(status=307, headers=Headers.of({"Location": "https://storage.test/obj"}))

    auth = Authenticator(ENDPOINT, Credentials("user", "pass"))
    info = PureDriver(handle).run(with_auth(ops.get_image_info(REGISTRY, "a/b", "1"), auth))
    assert info.config_digest == config_digest
    assert seen["https://storage.test/obj"] is None
    assert seen[f"{REGISTRY}/v2/a/b/blobs/{config_digest}"] is not None


@pytest.mark.parametrize(
    ("realm", "message", "credentials"),
    [
        ("http://auth.test/token", "https to http", Credentials("user", "pass")),
        ("HTTP://auth.test/token", "https to http", Credentials("user", "pass")),
        ("HTTP://auth.test/token", "https to http", Credentials()),
        ("ftp://auth.test/token", "unusable", Credentials("user", "pass")),
        ("https://", "unusable", Credentials("user", "pass")),
    ],
)
def test_unsafe_realms_are_refused(realm: str, message: str, credentials: Credentials) -> None:
    endpoint = RegistryEndpoint.parse("https://registry.test")

    def handle(request: Request) -> Response:
        assert request.url.startswith("https://registry.test/")
        challenge = f'Bearer realm="{realm}",service="s"'
        return Response(status=401, headers=Headers.of({"WWW-Authenticate": challenge}))

    auth = Authenticator(endpoint, credentials)
    with pytest.raises(RemoteProtocolError, match=message):
        PureDriver(handle).run(with_auth(ops.list_tags("https://registry.test", "a"), auth))


def test_bearer_is_preferred_among_several_challenges() -> None:
    gate = TokenGate({"alice": ALICE})

    def handle(request: Request) -> Response:
        response = gate.handle(request)
        if response.status == 401 and not request.url.startswith(REALM):
            both = 'Basic realm="basic", ' + (response.headers.get("WWW-Authenticate") or "")
            return Response(status=401, headers=Headers.of({"WWW-Authenticate": both}))
        return response

    auth = Authenticator(ENDPOINT, Credentials("alice", "wonderland"))
    PureDriver(handle, files=FILES).run(with_auth(push_flow(), auth))
    assert gate.registry.manifest("alice/app", "1") is not None
    assert gate.token_requests


def _authenticated_push_traffic() -> int:
    gate = TokenGate({"alice": ALICE})
    run(gate, push_flow, Credentials("alice", "wonderland"))
    return len(gate.registry_requests) + len(gate.token_requests)


AUTH_TRAFFIC = _authenticated_push_traffic()


@settings(max_examples=200)
@given(data=st.data())
def test_authenticated_retried_push_only_raises_registry_proto_errors(
    data: st.DataObject,
) -> None:
    """The error contract holds through both wrappers, token server answers included."""
    change = data.draw(perturbations(AUTH_TRAFFIC), label="perturbation")
    gate = TokenGate({"alice": ALICE})
    count = 0

    def handle(request: Request) -> Response:
        nonlocal count
        count += 1
        assert count <= 2_000, "the flow does not stop"
        if count - 1 == change.index and change.kind == "transport":
            raise TransportFailure("connection reset by peer")
        response = gate.handle(request)
        return perturb(response, change) if count - 1 == change.index else response

    auth = Authenticator(ENDPOINT, Credentials("alice", "wonderland"))
    driver = PureDriver(handle, files=FILES)
    try:
        digest = driver.run(with_retries(with_auth(push_flow(), auth)))
    except RegistryProtoError:
        return
    assert digest.startswith("sha256:")
    assert gate.registry.manifest("alice/app", "1") is not None
