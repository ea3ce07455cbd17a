"""Basic authentication against a registry with an htpasswd file, and credentials found the way
docker finds them: ``config.json`` ``auths``, ``credHelpers`` and ``credsStore``."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_proto import ManifestUnknown, Unauthorized, ValidationError
from tests.integration.access_log import client_requests
from tests.integration.adapters import ADAPTERS, call
from tests.integration.images import verify_pushed_image
from tests.integration.registry_server import RegistryConfig, RegistryServer
from tests.integration.system_tools import require_binary

USER = "user"
PASSWORD = "pass"
WRONG_PASSWORD = "Wr0ng-Pa55word-7f3a"
CREDS = f"{USER}:{PASSWORD}"


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A registry asking for Basic credentials (``user`` / ``pass``, bcrypt in htpasswd)."""
    line = subprocess.run(
        [require_binary("htpasswd"), "-Bbn", USER, PASSWORD],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    htpasswd = tmp_path_factory.mktemp("htpasswd") / "htpasswd"
    htpasswd.write_text(line + "\n")
    with RegistryServer(RegistryConfig(htpasswd_path=htpasswd)) as server:
        yield server


def assert_secret_hidden(exc: BaseException, secret: str) -> None:
    """Neither the error nor anything it was raised from shows ``secret``."""
    seen: BaseException | None = exc
    while seen is not None:
        assert secret not in str(seen)
        assert secret not in repr(seen)
        seen = seen.__cause__ or seen.__context__


# -- htpasswd ----------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_push_list_inspect_delete_with_credentials(
    adapter: str, basic_registry: RegistryServer, docker_archive: Path
) -> None:
    url, repository = basic_registry.url, f"basic/{adapter}"
    login = {"username": USER, "password": PASSWORD, "docker_config": False}

    digest = call(adapter, "push_docker_tar", docker_archive, url, repository, "v1", **login)

    verified = verify_pushed_image(basic_registry.host, repository, "v1", creds=CREDS)
    assert verified.manifest_digest == digest
    assert call(adapter, "list_tags", url, repository, **login) == ["v1"]
    info = call(adapter, "get_image_info", url, repository, "v1", **login)
    assert info.digest == digest
    assert info.config_digest == verified.config_digest
    assert repository in call(adapter, "list_repositories", url, **login)

    assert call(adapter, "delete_image", url, repository, "v1", **login) is True
    with pytest.raises(ManifestUnknown):
        call(adapter, "get_image_info", url, repository, "v1", **login)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_wrong_password_is_unauthorized_after_one_retry(
    adapter: str, basic_registry: RegistryServer, docker_archive: Path
) -> None:
    url, repository = basic_registry.url, f"basic-wrong/{adapter}"
    login = {"username": USER, "password": WRONG_PASSWORD, "docker_config": False}
    calls: list[tuple[str, tuple[object, ...]]] = [
        ("push_docker_tar", (docker_archive, url, repository, "v1")),
        ("list_tags", (url, repository)),
        ("get_image_info", (url, repository, "v1")),
        ("delete_image", (url, repository, "v1")),
        ("list_repositories", (url,)),
    ]
    for name, args in calls:
        with client_requests(basic_registry) as sent:
            with pytest.raises(Unauthorized) as caught:
                call(adapter, name, *args, **login)
            assert caught.value.status == 401
            assert_secret_hidden(caught.value, WRONG_PASSWORD)
        # Once without credentials (to learn the scheme), once with them; then it gives up.
        refused = [access for access in sent if access.status == 401]
        assert 1 <= len(refused) <= 2, (name, sent)
        assert len(sent) == len(refused), (name, sent)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_no_credentials_is_unauthorized(
    adapter: str, basic_registry: RegistryServer, docker_archive: Path
) -> None:
    url, repository = basic_registry.url, f"basic-anonymous/{adapter}"
    missing = f"no credentials found for {basic_registry.host}: .* asks for a login"
    with pytest.raises(Unauthorized, match=missing) as caught:
        call(adapter, "list_tags", url, repository, docker_config=False)
    assert "refused" not in str(caught.value)
    with client_requests(basic_registry) as sent, pytest.raises(Unauthorized, match=missing):
        call(
            adapter,
            "push_docker_tar",
            docker_archive,
            url,
            repository,
            "v1",
            docker_config=False,
        )
    assert [access.status for access in sent] == [401]  # nothing to retry with


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_registry_asking_for_login_is_reachable(
    adapter: str, basic_registry: RegistryServer
) -> None:
    assert call(adapter, "check_registry_connectivity", basic_registry.url, docker_config=False)
    # Credentials, even refused ones, do not change the answer: the registry is there.
    for password in (PASSWORD, "not-the-password"):
        assert call(
            adapter,
            "check_registry_connectivity",
            basic_registry.url,
            username=USER,
            password=password,
        )
    version = call(adapter, "ping", basic_registry.url, docker_config=False)
    assert version.requires_auth
    assert version.auth_schemes == ("basic",)
    assert version.api_version == "registry/2.0"


# -- docker's config.json ----------------------------------------------------------------


def write_config(directory: Path, document: dict[str, object]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps(document))
    return path


def auths_entry(user: str = USER, password: str = PASSWORD) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_docker_config_path_supplies_credentials(
    adapter: str, basic_registry: RegistryServer, docker_archive: Path, tmp_path: Path
) -> None:
    config = write_config(tmp_path, {"auths": {basic_registry.host: auths_entry()}})
    url, repository = basic_registry.url, f"config-path/{adapter}"

    digest = call(
        adapter, "push_docker_tar", docker_archive, url, repository, "v1", docker_config=config
    )

    assert verify_pushed_image(
        basic_registry.host, repository, "v1", creds=CREDS
    ).manifest_digest == (digest)
    assert call(adapter, "list_tags", url, repository, docker_config=str(config)) == ["v1"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_docker_config_env_supplies_credentials(
    adapter: str,
    basic_registry: RegistryServer,
    docker_archive: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Filed under a URL spelling, as older docker versions wrote it.
    write_config(tmp_path / "docker", {"auths": {f"http://{basic_registry.host}": auths_entry()}})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    url, repository = basic_registry.url, f"config-env/{adapter}"

    digest = call(adapter, "push_docker_tar", docker_archive, url, repository, "v1")

    assert call(adapter, "get_image_info", url, repository, "v1").digest == digest


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_explicit_credentials_win_over_docker_config(
    adapter: str, basic_registry: RegistryServer, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path, {"auths": {basic_registry.host: auths_entry(password=WRONG_PASSWORD)}}
    )
    url = basic_registry.url
    with pytest.raises(Unauthorized) as caught:
        call(adapter, "list_repositories", url, docker_config=config)
    assert_secret_hidden(caught.value, WRONG_PASSWORD)
    names = call(
        adapter, "list_repositories", url, username=USER, password=PASSWORD, docker_config=config
    )
    assert isinstance(names, list)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_docker_config_for_another_host_is_not_used(
    adapter: str, basic_registry: RegistryServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, {"auths": {"registry.example.com": auths_entry()}})
    with pytest.raises(Unauthorized):
        call(adapter, "list_repositories", basic_registry.url, docker_config=config)


@pytest.fixture
def credential_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``docker-credential-testhelper`` on PATH; it writes each question to the returned file.

    It knows ``user`` / ``pass`` for the server address in ``$TESTHELPER_SERVER`` only.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    questions = tmp_path / "helper-questions.txt"
    script = bin_dir / "docker-credential-testhelper"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "action = sys.argv[1] if len(sys.argv) > 1 else ''\n"
        "server = sys.stdin.read().strip()\n"
        f"with open({str(questions)!r}, 'a') as log:\n"
        "    log.write(f'{action} {server}\\n')\n"
        "if action != 'get' or server != os.environ.get('TESTHELPER_SERVER'):\n"
        "    print('credentials not found in native keychain')\n"
        "    sys.exit(1)\n"
        f"answer = {{'ServerURL': server, 'Username': {USER!r}, 'Secret': {PASSWORD!r}}}\n"
        "print(json.dumps(answer))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return questions


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("key", ["credHelpers", "credsStore"])
def test_credential_helper_supplies_credentials(
    adapter: str,
    key: str,
    basic_registry: RegistryServer,
    docker_archive: Path,
    credential_helper: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TESTHELPER_SERVER", basic_registry.host)
    document: dict[str, object] = (
        {"credHelpers": {basic_registry.host: "testhelper"}}
        if key == "credHelpers"
        else {"credsStore": "testhelper", "auths": {basic_registry.host: {}}}
    )
    config = write_config(tmp_path / "docker", document)
    url, repository = basic_registry.url, f"helper-{key.lower()}/{adapter}"

    digest = call(
        adapter, "push_docker_tar", docker_archive, url, repository, "v1", docker_config=config
    )

    assert verify_pushed_image(
        basic_registry.host, repository, "v1", creds=CREDS
    ).manifest_digest == (digest)
    # One client, one question, asked with the registry's host:port.
    assert credential_helper.read_text().splitlines() == [f"get {basic_registry.host}"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_credential_helper_without_credentials_means_anonymous(
    adapter: str,
    basic_registry: RegistryServer,
    credential_helper: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TESTHELPER_SERVER", "somewhere.else.example")
    config = write_config(tmp_path / "docker", {"credsStore": "testhelper"})
    with pytest.raises(Unauthorized):
        call(adapter, "list_repositories", basic_registry.url, docker_config=config)
    assert credential_helper.read_text().splitlines() == [f"get {basic_registry.host}"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_missing_credential_helper_is_reported(
    adapter: str, basic_registry: RegistryServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, {"credHelpers": {basic_registry.host: "absent-helper-0d9c"}})
    with pytest.raises(ValidationError, match="docker-credential-absent-helper-0d9c"):
        call(adapter, "list_repositories", basic_registry.url, docker_config=config)
