"""Bearer token authentication: a registry delegating to a token server (distribution's
``auth: token``), with per-user grants, anonymous pulls, refresh (identity) tokens and the
OAuth2 ``POST`` flow."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import anyio
import pytest

import registry_async
import registry_sync
from registry_proto import (
    BlobMounted,
    BlobUploaded,
    Denied,
    ManifestPushed,
    ScopeDenied,
    Unauthorized,
)
from tests.integration.access_log import client_requests
from tests.integration.adapters import ADAPTERS, call
from tests.integration.images import verify_pushed_image
from tests.integration.loopback import RecordedRequest
from tests.integration.registry_server import RegistryConfig, RegistryServer
from tests.integration.token_server import SERVICE, USERS, TokenServer


def login(user: str) -> dict[str, Any]:
    """Client options logging in as ``user`` (and ignoring any docker config)."""
    return {"username": user, "password": USERS[user], "docker_config": False}


ALICE, BOB, PUBLISHER = login("alice"), login("bob"), login("publisher")
ANONYMOUS: dict[str, Any] = {"docker_config": False}
ALICE_CREDS = f"alice:{USERS['alice']}"

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

Step = tuple[str, tuple[Any, ...], dict[str, Any]]


@pytest.fixture(scope="module")
def token_server() -> Iterator[TokenServer]:
    with TokenServer() as server:
        yield server


@pytest.fixture(scope="module")
def token_registry(token_server: TokenServer) -> Iterator[RegistryServer]:
    with RegistryServer(RegistryConfig(extra=token_server.registry_extra())) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_token_server(token_server: TokenServer) -> Iterator[None]:
    """Each test starts with an empty request record and the OAuth2 flow available."""
    token_server.clear()
    token_server.post_status = None
    yield
    assert token_server.errors == []


def scopes(request: RecordedRequest) -> set[str]:
    """The scopes a token request asked for (repeated on GET, space-separated on POST)."""
    if request.method == "GET":
        return set(request.query.get("scope", []))
    form = parse_qs(request.body.decode())
    return set(" ".join(form.get("scope", [])).split())


def form(request: RecordedRequest) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(request.body.decode()).items()}


def on_one_client(adapter: str, options: dict[str, Any], steps: Sequence[Step]) -> list[Any]:
    """Run ``steps`` (method name, arguments, keyword arguments) on one client of ``adapter``."""
    if adapter == "sync":
        with registry_sync.RegistryClient(**options) as client:
            return [getattr(client, name)(*args, **kwargs) for name, args, kwargs in steps]

    async def main() -> list[Any]:
        async with registry_async.AsyncRegistryClient(**options) as client:
            return [await getattr(client, name)(*args, **kwargs) for name, args, kwargs in steps]

    return anyio.run(main, backend=adapter)


def refresh_token_by_login(server: TokenServer, user: str, *, flow: str = "get") -> str:
    """A refresh (identity) token for ``user``, as a login obtains one: ``GET`` with
    ``offline_token=true`` (what docker does), or the OAuth2 password grant with
    ``access_type=offline``."""
    if flow == "get":
        query = urlencode({"service": SERVICE, "offline_token": "true", "client_id": "test-login"})
        credentials = base64.b64encode(f"{user}:{USERS[user]}".encode()).decode()
        request = urllib.request.Request(
            f"{server.realm}?{query}", headers={"Authorization": f"Basic {credentials}"}
        )
    else:
        fields = {
            "grant_type": "password",
            "username": user,
            "password": USERS[user],
            "service": SERVICE,
            "client_id": "test-login",
            "access_type": "offline",
        }
        request = urllib.request.Request(
            server.realm,
            data=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
    with _OPENER.open(request, timeout=10) as response:
        document = json.loads(response.read())
    token = document["refresh_token"]
    assert isinstance(token, str)
    server.clear()
    return token


# -- users and their grants ------------------------------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_alice_pushes_pulls_and_lists(
    adapter: str, token_server: TokenServer, token_registry: RegistryServer, docker_archive: Path
) -> None:
    url, repository = token_registry.url, f"alice/app-{adapter}"

    digest = call(adapter, "push_docker_tar", docker_archive, url, repository, "v1", **ALICE)

    assert call(adapter, "list_tags", url, repository, **ALICE) == ["v1"]
    info = call(adapter, "get_image_info", url, repository, "v1", **ALICE)
    assert repository in call(adapter, "list_repositories", url, **ALICE)
    requests = token_server.requests  # before skopeo asks for tokens of its own
    verified = verify_pushed_image(token_registry.host, repository, "v1", creds=ALICE_CREDS)
    assert verified.manifest_digest == digest
    assert (info.digest, info.config_digest) == (digest, verified.config_digest)

    assert requests, "the registry never sent the client to the token server"
    for request in requests:
        assert (request.method, request.status) == ("GET", 200)
        assert request.authorized
        assert request.param("service") == SERVICE
        assert request.param("account") == "alice"
    asked = set().union(*(scopes(request) for request in requests))
    assert f"repository:{repository}:pull,push" in asked
    assert "registry:catalog:*" in asked


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_second_repository_mounts_every_blob(
    adapter: str, token_server: TokenServer, token_registry: RegistryServer, docker_archive: Path
) -> None:
    url = token_registry.url
    first, second = f"alice/mount-{adapter}-a", f"alice/mount-{adapter}-b"
    first_events: list[object] = []
    second_events: list[object] = []

    digests = on_one_client(
        adapter,
        ALICE,
        [
            (
                "push_docker_tar",
                (docker_archive, url, first, "v1"),
                {"progress": first_events.append},
            ),
            (
                "push_docker_tar",
                (docker_archive, url, second, "v1"),
                {"progress": second_events.append},
            ),
        ],
    )

    uploaded = {event.digest for event in first_events if isinstance(event, BlobUploaded)}
    assert len(uploaded) == 3  # config and two layers
    mounted = [event for event in second_events if isinstance(event, BlobMounted)]
    assert {event.digest for event in mounted} == uploaded
    assert {event.from_repository for event in mounted} == {first}
    assert not [event for event in second_events if isinstance(event, BlobUploaded)]
    assert [e for e in second_events if isinstance(e, ManifestPushed)] == [
        ManifestPushed(second, "v1", digests[1])
    ]
    assert digests[0] == digests[1]
    verify_pushed_image(token_registry.host, second, "v1", creds=ALICE_CREDS)
    # A mount needs push on the target and pull on the source, in one token.
    assert any(
        {f"repository:{first}:pull", f"repository:{second}:pull,push"} <= scopes(request)
        for request in token_server.requests
    )


@pytest.fixture(scope="module")
def public_image(token_registry: RegistryServer, docker_archive: Path) -> tuple[str, str]:
    """``public/tool:1.0``, pushed by ``publisher``; returns (repository, digest)."""
    repository = "public/tool"
    digest = registry_sync.push_docker_tar(
        docker_archive, token_registry.url, repository, "1.0", **PUBLISHER
    )
    return repository, digest


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_anonymous_pull_of_a_public_repository(
    adapter: str,
    token_server: TokenServer,
    token_registry: RegistryServer,
    public_image: tuple[str, str],
) -> None:
    repository, digest = public_image
    url = token_registry.url

    assert call(adapter, "check_registry_connectivity", url, **ANONYMOUS) is True
    assert call(adapter, "ping", url, **ANONYMOUS).auth_schemes == ("bearer",)
    assert call(adapter, "list_tags", url, repository, **ANONYMOUS) == ["1.0"]
    assert call(adapter, "get_image_info", url, repository, "1.0", **ANONYMOUS).digest == digest

    requests = token_server.requests
    assert requests
    assert all(request.status == 200 and not request.authorized for request in requests)
    assert all(request.param("account") is None for request in requests)
    assert set().union(*(scopes(request) for request in requests)) == {
        f"repository:{repository}:pull"
    }


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_anonymous_cannot_read_or_write_private_repositories(
    adapter: str,
    token_registry: RegistryServer,
    public_image: tuple[str, str],
    docker_archive: Path,
) -> None:
    url = token_registry.url
    with pytest.raises(Denied):
        call(adapter, "list_tags", url, "alice/private", **ANONYMOUS)
    with pytest.raises(Denied):
        call(adapter, "push_docker_tar", docker_archive, url, public_image[0], "x", **ANONYMOUS)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_bob_may_pull_but_not_push_alices_repository(
    adapter: str, token_server: TokenServer, token_registry: RegistryServer, docker_archive: Path
) -> None:
    url, repository = token_registry.url, f"alice/shared-{adapter}"
    digest = registry_sync.push_docker_tar(docker_archive, url, repository, "v1", **ALICE)

    assert call(adapter, "get_image_info", url, repository, "v1", **BOB).digest == digest
    token_server.clear()
    for target in (repository, f"alice/bob-{adapter}"):  # an existing one, and a new one
        with pytest.raises(ScopeDenied) as caught:
            call(adapter, "push_docker_tar", docker_archive, url, target, "bob", **BOB)
        assert caught.value.status == 401
        assert str(BOB["password"]) not in str(caught.value)
    # Each refused request asks for a fresh token at most twice; nothing loops.
    assert 2 <= len(token_server.requests) <= 16
    assert call(adapter, "list_tags", url, repository, **ALICE) == ["v1"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_wrong_password_fails_at_the_token_server(
    adapter: str, token_server: TokenServer, token_registry: RegistryServer, docker_archive: Path
) -> None:
    url, wrong = token_registry.url, "alice-wrong-pw-93b1"
    login = {"username": "alice", "password": wrong, "docker_config": False}
    for name, args in [
        ("push_docker_tar", (docker_archive, url, f"alice/wrong-{adapter}", "v1")),
        ("list_tags", (url, f"alice/app-{adapter}")),
        ("list_repositories", (url,)),
    ]:
        token_server.clear()
        with pytest.raises(Unauthorized) as caught:
            call(adapter, name, *args, **login)
        assert wrong not in str(caught.value)
        assert wrong not in repr(caught.value)
        assert [request.status for request in token_server.requests] == [401], name


# -- identity (refresh) tokens -------------------------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_identity_token_uses_the_oauth2_post_flow(
    adapter: str, token_server: TokenServer, token_registry: RegistryServer, docker_archive: Path
) -> None:
    identity = refresh_token_by_login(token_server, "alice")
    url, repository = token_registry.url, f"alice/identity-{adapter}"
    options = {"identity_token": identity, "docker_config": False}

    digest = call(adapter, "push_docker_tar", docker_archive, url, repository, "v1", **options)

    assert call(adapter, "get_image_info", url, repository, "v1", **options).digest == digest
    requests = token_server.requests
    assert requests
    for request in requests:
        assert (request.method, request.status) == ("POST", 200)
        assert not request.authorized  # the refresh token is the only secret sent
        fields = form(request)
        assert fields["grant_type"] == "refresh_token"
        assert fields["refresh_token"] == identity
        assert fields["service"] == SERVICE
        assert fields["client_id"]
        assert identity not in request.path
        assert not request.query


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_identity_token_from_docker_config(
    adapter: str,
    token_server: TokenServer,
    token_registry: RegistryServer,
    docker_archive: Path,
    tmp_path: Path,
) -> None:
    identity = refresh_token_by_login(token_server, "alice")
    # What `docker login` writes for a token server that hands out refresh tokens.
    entry = {"auth": base64.b64encode(b"alice:").decode(), "identitytoken": identity}
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {token_registry.host: entry}}))
    url, repository = token_registry.url, f"alice/from-config-{adapter}"

    digest = call(
        adapter, "push_docker_tar", docker_archive, url, repository, "v1", docker_config=config
    )

    requests = token_server.requests  # before skopeo asks for tokens of its own
    assert requests
    assert all(form(request).get("refresh_token") == identity for request in requests)
    verified = verify_pushed_image(token_registry.host, repository, "v1", creds=ALICE_CREDS)
    assert verified.manifest_digest == digest


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_unknown_identity_token_is_unauthorized(
    adapter: str, token_server: TokenServer, token_registry: RegistryServer
) -> None:
    bogus = "not-a-refresh-token-5e21"
    with pytest.raises(Unauthorized) as caught:
        call(
            adapter,
            "list_tags",
            token_registry.url,
            "alice/app",
            identity_token=bogus,
            docker_config=False,
        )
    assert bogus not in str(caught.value)
    assert [(r.method, r.status) for r in token_server.requests] == [("POST", 401)]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("refusal", [404, 405])
def test_identity_token_falls_back_to_get_without_the_post_flow(
    adapter: str,
    refusal: int,
    token_server: TokenServer,
    token_registry: RegistryServer,
    public_image: tuple[str, str],
) -> None:
    identity = refresh_token_by_login(token_server, "alice", flow="post")
    token_server.post_status = refusal
    repository, digest = public_image
    options = {"identity_token": identity, "docker_config": False}

    info = call(adapter, "get_image_info", token_registry.url, repository, "1.0", **options)

    assert info.digest == digest
    requests = token_server.requests
    assert [(r.method, r.status) for r in requests[:2]] == [("POST", refusal), ("GET", 200)]
    gets = [request for request in requests if request.method == "GET"]
    # A GET cannot carry a refresh token: the fallback is an anonymous token request.
    assert all(not request.authorized and identity not in str(request.query) for request in gets)


# -- token reuse ---------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_one_token_serves_a_whole_push(
    adapter: str, token_server: TokenServer, token_registry: RegistryServer, docker_archive: Path
) -> None:
    url, repository = token_registry.url, f"alice/reuse-{adapter}"
    steps: list[Step] = [
        ("push_docker_tar", (docker_archive, url, repository, "v1"), {}),
        ("push_docker_tar", (docker_archive, url, repository, "v2"), {}),
        ("list_tags", (url, repository), {}),
        ("get_image_info", (url, repository, "v1"), {}),
    ]
    with client_requests(token_registry) as sent:
        results = on_one_client(adapter, ALICE, steps)
    token_requests = token_server.requests

    assert results[0] == results[1] == results[3].digest
    assert sorted(results[2]) == ["v1", "v2"]
    # A dozen registry requests (blob checks, uploads, manifests, listing, config); the push
    # asks for its scopes before it fans out to the blobs, so even its parallel requests
    # share the one token, and only the requests that fetched a token saw a 401.
    assert len(sent) >= 10
    assert len([access for access in sent if access.status == 401]) == len(token_requests)
    assert 1 <= len(token_requests) <= 2, token_requests
