"""Credentials from the user's Docker configuration, found the way docker finds them.

`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. For a registry host, in docker's
order: `credHelpers[host]`, then `credsStore`, then `auths[host]` (`auth` as base64
`user:password`, or `username`/`password`, or an `identitytoken`). Helpers are the
`docker-credential-<name>` programs, asked with `get` and the server address on standard input.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from registry_proto import Credentials, RegistryEndpoint, ValidationError

__all__ = ["default_config_path", "docker_credentials"]

_DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB_HOSTS = {"docker.io", "index.docker.io", "registry-1.docker.io"}
_HELPER_TIMEOUT = 60


def default_config_path() -> Path:
    """Where docker keeps its client configuration."""
    directory = os.environ.get("DOCKER_CONFIG")
    if directory:
        return Path(directory) / "config.json"
    return Path.home() / ".docker" / "config.json"


def _keys(host: str) -> list[str]:
    """The spellings a config may file `host` under, most specific first."""
    if host in _DOCKER_HUB_HOSTS:
        return [_DOCKER_HUB_KEY, "index.docker.io", "docker.io", "registry-1.docker.io"]
    return [host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"http://{host}/v1/"]


def docker_credentials(endpoint: RegistryEndpoint, config_path: Path | None = None) -> Credentials:
    """The credentials docker would use for `endpoint`; empty ones when there are none."""
    path = config_path or default_config_path()
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Credentials()
    except (OSError, ValueError) as exc:
        raise ValidationError(f"cannot read the docker config {path}: {exc}") from None
    if not isinstance(config, dict):
        raise ValidationError(f"the docker config {path} is not a JSON object")
    host = endpoint.host
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        for key in _keys(host):
            helper = helpers.get(key)
            if isinstance(helper, str) and helper:
                return _from_helper(helper, key)
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        found = _from_helper(store, _keys(host)[0])
        if found:
            return found
    auths = config.get("auths")
    if isinstance(auths, dict):
        for key in _keys(host):
            entry = auths.get(key)
            if isinstance(entry, dict):
                return _from_entry(entry, path, key)
    return Credentials()


def _from_entry(entry: dict[str, Any], path: Path, key: str) -> Credentials:
    username, password = entry.get("username"), entry.get("password")
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ValidationError(
                f"the docker config {path} has a malformed auth for {key}"
            ) from None
        username, _, password = decoded.partition(":")
    token = entry.get("identitytoken")
    return Credentials(
        username=username if isinstance(username, str) and username else None,
        password=password if isinstance(password, str) and password else None,
        identity_token=token if isinstance(token, str) and token else None,
    )


def _from_helper(name: str, server: str) -> Credentials:
    """Ask `docker-credential-<name>` for `server`'s credentials (docker-credential-helpers)."""
    program = f"docker-credential-{name}"
    try:
        result = subprocess.run(
            [program, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=_HELPER_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise ValidationError(
            f"the docker config names {program}, which is not installed"
        ) from None
    except (OSError, ValueError) as exc:  # not executable; a NUL in the name
        raise ValidationError(f"cannot run {program!r}: {exc}") from None
    except subprocess.TimeoutExpired:
        raise ValidationError(f"{program} did not answer in {_HELPER_TIMEOUT} s") from None
    if result.returncode != 0:
        message = result.stdout.decode("utf-8", "replace").strip()
        if "credentials not found" in message.lower():
            return Credentials()
        # The helper's output is not shown: it could echo a secret.
        raise ValidationError(f"{program} failed (exit status {result.returncode})")
    try:
        answer = json.loads(result.stdout)
    except (ValueError, RecursionError):
        raise ValidationError(f"{program} answered with something other than JSON") from None
    if not isinstance(answer, dict):
        raise ValidationError(f"{program} answered with something other than a JSON object")
    username, secret = answer.get("Username"), answer.get("Secret")
    if not isinstance(secret, str) or not secret:
        return Credentials()
    if username == "<token>":  # docker's marker for an identity token
        return Credentials(identity_token=secret)
    return Credentials(username=username if isinstance(username, str) else None, password=secret)
