"""`regv2` logging in and out (docker's config file), credentials on the command line, and
TLS options, against real registries."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli.runner import Regv2
from tests.integration.images import verify_pushed_image
from tests.integration.registry_server import RegistryConfig, RegistryServer
from tests.integration.test_auth_basic import CREDS, PASSWORD, USER, WRONG_PASSWORD
from tests.integration.test_tls import Pki
from tests.integration.token_server import USERS, TokenServer


@pytest.fixture(scope="module")
def token_registry() -> Iterator[RegistryServer]:
    """A registry whose tokens come from a token server that knows `USERS`."""
    with (
        TokenServer() as token_server,
        RegistryServer(RegistryConfig(extra=token_server.registry_extra())) as registry,
    ):
        yield registry


def saved_auths(path: Path) -> dict[str, object]:
    auths = json.loads(path.read_text())["auths"]
    assert isinstance(auths, dict)
    return auths


# -- login and logout --------------------------------------------------------------------


def test_login_checks_then_saves_and_logout_removes(
    regv2: Regv2, basic_registry: RegistryServer, docker_archive: Path
) -> None:
    host = basic_registry.host
    anonymous = regv2("ls", host)
    assert anonymous.code == 4
    assert "HTTP 401" in anonymous.error_line
    assert anonymous.error_line.endswith(f"(log in with: regv2 login {host})")

    refused = regv2("login", host, "-u", USER, "--password-stdin", stdin=WRONG_PASSWORD + "\n")
    assert refused.code == 4
    assert refused.error_line == (
        f"regv2: error: {host} refused the login of {USER!r}: wrong username or password"
    )
    assert not regv2.config_file.exists()  # nothing saved

    accepted = regv2("login", host, "-u", USER, "--password-stdin", stdin=PASSWORD + "\n")
    assert accepted.code == 0, accepted.stderr
    assert accepted.stdout == "Login Succeeded\n"
    assert stat.S_IMODE(regv2.config_file.stat().st_mode) == 0o600
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert saved_auths(regv2.config_file) == {host: {"auth": token}}
    assert WRONG_PASSWORD not in refused.stdout + refused.stderr

    # The saved credentials serve every later command.
    pushed = regv2("push", "-q", docker_archive, f"{host}/cli/login:1")
    assert pushed.code == 0, pushed.stderr
    assert pushed.stdout.endswith(
        verify_pushed_image(host, "cli/login", "1", creds=CREDS).manifest_digest + "\n"
    )
    assert "cli/login" in regv2("ls", host).stdout.splitlines()

    logout = regv2("logout", host)
    assert logout.stdout == f"Removing login credentials for {host}\n"
    assert saved_auths(regv2.config_file) == {}
    assert regv2("ls", host).code == 4
    assert regv2("logout", host).stdout == f"Not logged in to {host}\n"


def test_login_writes_where_it_is_told(
    regv2: Regv2, basic_registry: RegistryServer, tmp_path: Path
) -> None:
    host = basic_registry.host
    authfile = tmp_path / "elsewhere" / "auth.json"
    run = regv2(
        "login", "--authfile", authfile, host, "-u", USER, "--password-stdin", stdin=PASSWORD
    )
    assert run.code == 0, run.stderr
    assert host in saved_auths(authfile)
    assert not regv2.config_file.exists()
    assert regv2("ls", host, "--docker-config", authfile).code == 0
    assert regv2("ls", host).code == 4

    # Without DOCKER_CONFIG, docker's place in the home directory.
    del regv2.env["DOCKER_CONFIG"]
    assert regv2("login", host, "-u", USER, "--password-stdin", stdin=PASSWORD).code == 0
    assert host in saved_auths(regv2.home / ".docker" / "config.json")


def test_login_with_a_token_server(regv2: Regv2, token_registry: RegistryServer) -> None:
    host = token_registry.host
    refused = regv2("login", host, "-u", "alice", "--password-stdin", stdin="not-her-password")
    assert refused.code == 4
    assert refused.error_line.startswith(f"regv2: error: {host} refused the login of 'alice': ")
    assert "token server" in refused.error_line
    accepted = regv2("login", host, "-u", "alice", "--password-stdin", stdin=USERS["alice"])
    assert accepted.code == 0, accepted.stderr
    assert host in saved_auths(regv2.config_file)


def test_credentials_on_the_command_line(
    regv2: Regv2, basic_registry: RegistryServer, docker_archive: Path
) -> None:
    host = basic_registry.host
    login = ("-u", USER, "--password-stdin")
    pushed = regv2("push", "-q", *login, docker_archive, f"{host}/cli/stdin:1", stdin=PASSWORD)
    assert pushed.code == 0, pushed.stderr
    assert regv2("tags", *login, f"{host}/cli/stdin", stdin=PASSWORD).stdout == "1\n"
    assert not regv2.config_file.exists()  # used, not saved
    wrong = regv2("tags", *login, f"{host}/cli/stdin", stdin=WRONG_PASSWORD)
    assert wrong.code == 4

    no_password = regv2("tags", "-u", USER, f"{host}/cli/stdin")  # and no terminal to ask on
    assert no_password.code == 2
    assert "--password-stdin" in no_password.error_line
    no_user = regv2("tags", "--password-stdin", f"{host}/cli/stdin", stdin=PASSWORD)
    assert no_user.code == 2
    assert "--username" in no_user.error_line


# -- TLS -------------------------------------------------------------------------------------


def test_tls_options(
    regv2: Regv2, pki: Pki, tls_registry: RegistryServer, docker_archive: Path
) -> None:
    registry = f"https://{tls_registry.host}"
    untrusted = regv2("ls", registry)
    assert untrusted.code == 5
    assert "certificate verify failed" in untrusted.error_line.lower()

    pushed = regv2("push", "-q", "--cacert", pki.ca, docker_archive, f"{registry}/cli/tls:1")
    assert pushed.code == 0, pushed.stderr
    assert pushed.stdout.startswith(f"{tls_registry.host}/cli/tls:1@sha256:")
    assert regv2("tags", "--tls-verify=false", f"{registry}/cli/tls").stdout == "1\n"
    assert regv2("ls", "--insecure", registry).stdout == "cli/tls\n"

    bad_bundle = regv2("ls", "--cacert", regv2.home / "missing.pem", registry)
    assert bad_bundle.code == 6
    assert "CA bundle" in bad_bundle.error_line


def test_client_certificates(regv2: Regv2, pki: Pki, mtls_registry: RegistryServer) -> None:
    registry = f"https://{mtls_registry.host}"
    refused = regv2("ls", "--cacert", pki.ca, registry)
    assert refused.code == 5
    assert "TLS" in refused.error_line
    pair = ("--cert", pki.client_cert, "--key", pki.client_key)
    assert regv2("ls", "--cacert", pki.ca, *pair, registry).code == 0
    assert regv2("ping", "--cacert", pki.ca, "--cert", pki.client_combined, registry).code == 0
