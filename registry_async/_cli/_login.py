"""Saving and removing credentials in docker's client configuration, as `docker login` and
`docker logout` do.

The file is `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, unless one is named.
Credentials go where docker puts them: to the credential helper the file names for the
registry (`credHelpers[host]`, else `credsStore`), else into `auths[host]` as base64
`user:password`. Docker Hub is filed under `https://index.docker.io/v1/`. The file is
rewritten atomically (a temporary file in the same directory, renamed over it) and is
readable by its owner only; everything else in it is kept.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from registry_proto import RegistryEndpoint

from ._exit import CliError, ExitCode
from ._refs import Registry

__all__ = ["DockerConfig", "config_path", "server_key"]

_DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HELPER_TIMEOUT = 60


def config_path(given: str | None) -> Path:
    """The config file: `given` (a file, or a directory holding `config.json`), else docker's."""
    if given:
        path = Path(given).expanduser()
        return path / "config.json" if path.is_dir() else path
    directory = os.environ.get("DOCKER_CONFIG")
    if directory:
        return Path(directory) / "config.json"
    return Path.home() / ".docker" / "config.json"


def server_key(registry: Registry) -> str:
    """The name docker files a registry's credentials under."""
    if RegistryEndpoint.parse(registry.url("https")).is_docker_hub:
        return _DOCKER_HUB_KEY
    return registry.host


def _spellings(key: str) -> list[str]:
    """Every key an entry for `key` may have been written under (what readers accept)."""
    if key == _DOCKER_HUB_KEY:
        return [key, "index.docker.io", "docker.io", "registry-1.docker.io"]
    return [key, f"https://{key}", f"http://{key}", f"https://{key}/v1/", f"http://{key}/v1/"]


class DockerConfig:
    """One docker client configuration file, read once and written back whole."""

    def __init__(self, path: Path) -> None:
        # docker writes through a symbolic link to its target; so does this.
        self.path = path.resolve() if path.is_symlink() else path
        self._document = self._read()

    def _read(self) -> dict[str, Any]:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read {self.path}: {exc}", ExitCode.INPUT) from None
        if not isinstance(document, dict):
            raise CliError(f"{self.path} is not a JSON object", ExitCode.INPUT)
        return document

    def helper_for(self, key: str) -> str | None:
        """The credential helper that keeps `key`'s credentials, if the file names one."""
        helpers = self._document.get("credHelpers")
        if isinstance(helpers, dict):
            for spelling in _spellings(key):
                if isinstance(helpers.get(spelling), str) and helpers[spelling]:
                    return str(helpers[spelling])
        store = self._document.get("credsStore")
        return store if isinstance(store, str) and store else None

    def _auths(self) -> dict[str, Any]:
        auths = self._document.setdefault("auths", {})
        if not isinstance(auths, dict):
            raise CliError(f"{self.path}: 'auths' is not a JSON object", ExitCode.INPUT)
        return auths

    def store(self, key: str, username: str, password: str) -> str:
        """Save credentials for `key`; return where they went (the file, or a helper)."""
        helper = self.helper_for(key)
        auths = self._auths()
        for spelling in _spellings(key):
            auths.pop(spelling, None)
        if helper is not None:
            payload = {"ServerURL": key, "Username": username, "Secret": password}
            _run_helper(helper, "store", json.dumps(payload))
            if self._document.get("credsStore") == helper:
                auths[key] = {}  # docker lists the registry, its secret in the store
            where = f"docker-credential-{helper}"
        else:
            token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
            auths[key] = {"auth": token}
            where = _shown(self.path)
        self._write()
        return where

    def erase(self, key: str) -> bool:
        """Remove `key`'s credentials; False when there were none to remove."""
        helper = self.helper_for(key)
        auths = self._auths()
        found = [spelling for spelling in _spellings(key) if spelling in auths]
        for spelling in found:
            del auths[spelling]
        erased = helper is not None and _run_helper(helper, "erase", key, missing_ok=True)
        if found:
            self._write()
        return bool(found) or erased

    def _write(self) -> None:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp creates the file readable and writable by its owner only (0600).
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".config.json.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(self._document, file, indent="\t")
                file.write("\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise CliError(f"cannot write {self.path}: {exc}", ExitCode.INPUT) from None


def _shown(path: Path) -> str:
    """`path`, with the home directory written `~` as docker's users know it."""
    try:
        return str(Path("~") / path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def _run_helper(name: str, action: str, answer: str, *, missing_ok: bool = False) -> bool:
    """Run `docker-credential-<name> <action>` with `answer` on its standard input
    (docker-credential-helpers protocol); True when it did what was asked."""
    program = f"docker-credential-{name}"
    try:
        result = subprocess.run(
            [program, action],
            input=answer.encode(),
            capture_output=True,
            timeout=_HELPER_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise CliError(f"the docker config names {program}, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise CliError(f"{program} did not answer in {_HELPER_TIMEOUT} s") from None
    if result.returncode == 0:
        return True
    if missing_ok and b"credentials not found" in result.stdout.lower():
        return False
    # What the helper printed is not shown: it might echo the secret.
    raise CliError(f"{program} {action} failed (exit status {result.returncode})")
