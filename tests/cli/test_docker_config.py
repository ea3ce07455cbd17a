"""Credentials saved in and removed from docker's config file, as docker login/logout do."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from registry_async._cli._exit import CliError, ExitCode
from registry_async._cli._login import DockerConfig, config_path, server_key
from registry_async._cli._refs import parse_registry

HOST = "registry.example:5000"


def auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_the_config_is_found_where_docker_looks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_path(None) == tmp_path / "home" / ".docker" / "config.json"
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    assert config_path(None) == tmp_path / "docker" / "config.json"
    assert config_path(str(tmp_path / "auth.json")) == tmp_path / "auth.json"
    assert config_path(str(tmp_path)) == tmp_path / "config.json"  # a directory


def test_docker_hub_is_filed_under_its_index_url() -> None:
    for name in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        assert server_key(parse_registry(name)) == "https://index.docker.io/v1/"
    assert server_key(parse_registry("http://Localhost:5000")) == "localhost:5000"


def test_store_writes_a_private_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.json"
    assert DockerConfig(path).store(HOST, "user", "s3cret") == str(path)

    assert json.loads(path.read_text()) == {"auths": {HOST: {"auth": auth("user", "s3cret")}}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert os.listdir(path.parent) == ["config.json"]  # no temporary file left behind


def test_store_keeps_everything_else_and_replaces_other_spellings(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "auths": {
                    f"https://{HOST}": {"auth": auth("old", "old")},
                    "other.example": {"auth": auth("a", "b")},
                },
                "proxies": {"default": {"httpProxy": "http://proxy"}},
            }
        )
    )
    path.chmod(0o644)
    DockerConfig(path).store(HOST, "user", "pw")

    document = json.loads(path.read_text())
    assert document["auths"] == {
        "other.example": {"auth": auth("a", "b")},
        HOST: {"auth": auth("user", "pw")},
    }
    assert document["proxies"] == {"default": {"httpProxy": "http://proxy"}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_symbolic_link_is_written_through(tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "config.json"
    target.parent.mkdir()
    target.write_text("{}")
    link = tmp_path / "config.json"
    link.symlink_to(target)
    DockerConfig(link).store(HOST, "user", "pw")
    assert link.is_symlink()
    assert HOST in json.loads(target.read_text())["auths"]


def test_erase_removes_every_spelling(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    entry = {"auth": auth("u", "p")}
    path.write_text(json.dumps({"auths": {HOST: entry, f"http://{HOST}": entry, "o": entry}}))
    assert DockerConfig(path).erase(HOST) is True
    assert json.loads(path.read_text()) == {"auths": {"o": entry}}
    assert DockerConfig(path).erase(HOST) is False


def test_a_broken_config_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(CliError) as caught:
        DockerConfig(path).store(HOST, "user", "pw")
    assert caught.value.code == ExitCode.INPUT
    assert path.read_text() == "{not json"


@pytest.fixture
def helper_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`docker-credential-fake` on PATH, writing each action and its input to a log."""
    log = tmp_path / "helper.log"
    program = tmp_path / "bin" / "docker-credential-fake"
    program.parent.mkdir()
    program.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"with open({str(log)!r}, 'a') as log:\n"
        "    log.write(sys.argv[1] + ' ' + sys.stdin.read() + '\\n')\n"
    )
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{program.parent}{os.pathsep}{os.environ['PATH']}")
    return log


@pytest.mark.parametrize("key", ["credHelpers", "credsStore"])
def test_a_credential_helper_keeps_the_secret(helper_log: Path, tmp_path: Path, key: str) -> None:
    path = tmp_path / "config.json"
    document = {"credHelpers": {HOST: "fake"}} if key == "credHelpers" else {"credsStore": "fake"}
    path.write_text(json.dumps(document))

    assert DockerConfig(path).store(HOST, "user", "pw") == "docker-credential-fake"
    assert "pw" not in path.read_text()
    # docker lists a registry whose secret is in the store, and nothing for a credHelper.
    expected_auths: dict[str, object] = {HOST: {}} if key == "credsStore" else {}
    assert json.loads(path.read_text())["auths"] == expected_auths

    assert DockerConfig(path).erase(HOST) is True
    stored, erased = helper_log.read_text().splitlines()
    assert json.loads(stored.removeprefix("store ")) == {
        "ServerURL": HOST,
        "Username": "user",
        "Secret": "pw",
    }
    assert erased == f"erase {HOST}"


def test_a_missing_helper_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"credsStore": "not-installed-anywhere"}))
    with pytest.raises(CliError, match="docker-credential-not-installed-anywhere"):
        DockerConfig(path).store(HOST, "user", "pw")
