"""Start and stop a real CNCF distribution registry (``docker-registry serve``) for tests.

The registry is the Debian ``docker-registry`` package (distribution 2.8). Each
:class:`RegistryServer` gets its own temporary storage directory, a free port on
127.0.0.1 and a generated YAML config.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Self

import yaml

from tests.integration.lifecycle import Started
from tests.integration.system_tools import require_binary

BASIC_REALM = "basic-realm"

_READY_TRIES = 200
_READY_INTERVAL = 0.05
_START_ATTEMPTS = 3
_STOP_TIMEOUT = 10.0
_PROBE_TIMEOUT = 1.0


class RegistryStartError(RuntimeError):
    """The registry process could not be started or never became ready."""


def free_port() -> int:
    """Ask the kernel for a currently unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def deep_merge(base: Mapping[str, object], extra: Mapping[str, object]) -> dict[str, object]:
    """Return ``base`` updated recursively with ``extra`` (mappings merge, the rest replaces)."""
    merged: dict[str, object] = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class RegistryConfig:
    """What to configure on a test registry."""

    delete_enabled: bool = True
    htpasswd_path: Path | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    relative_urls: bool = False
    # (certificate, key) the readiness probe presents to a registry requiring client
    # certificates (``http.tls.clientcas``); not part of the registry's own config.
    probe_client_cert: tuple[Path, Path] | None = None

    def render(self, *, port: int, storage_dir: Path) -> dict[str, object]:
        """Build the registry YAML document as a dict."""
        document: dict[str, object] = {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {
                "filesystem": {"rootdirectory": str(storage_dir)},
                "delete": {"enabled": self.delete_enabled},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {
                "addr": f"127.0.0.1:{port}",
                "relativeurls": self.relative_urls,
                "secret": secrets.token_hex(16),
            },
            "health": {"storagedriver": {"enabled": False}},
        }
        if self.htpasswd_path is not None:
            document["auth"] = {
                "htpasswd": {"realm": BASIC_REALM, "path": str(self.htpasswd_path)},
            }
        return deep_merge(document, self.extra)

    @property
    def auth_configured(self) -> bool:
        """Whether ``/v2/`` is expected to answer 401 without credentials."""
        return self.htpasswd_path is not None or "auth" in self.extra

    @property
    def tls_configured(self) -> bool:
        """Whether the extra config turns on TLS."""
        http = self.extra.get("http")
        return isinstance(http, Mapping) and "tls" in http


def _registry_environment() -> dict[str, str]:
    """The current environment without ``REGISTRY_*`` (docker-registry reads them as config)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("REGISTRY_")}


class RegistryServer(Started):
    """A ``docker-registry serve`` process on a free 127.0.0.1 port with temporary storage."""

    def __init__(self, config: RegistryConfig | None = None) -> None:
        self.config = config if config is not None else RegistryConfig()
        self._workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._port: int | None = None

    # -- public attributes -------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the registry listens on."""
        if self._port is None:
            raise RuntimeError("registry server is not running")
        return self._port

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, as used in image references."""
        return f"127.0.0.1:{self.port}"

    @property
    def scheme(self) -> str:
        """``https`` when TLS is configured, else ``http``."""
        return "https" if self.config.tls_configured else "http"

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"{self.scheme}://{self.host}"

    @property
    def workdir(self) -> Path:
        """Temporary directory holding the config, the log and the storage."""
        if self._workdir is None:
            raise RuntimeError("registry server is not running")
        return self._workdir

    @property
    def storage_dir(self) -> Path:
        """Filesystem storage root of the registry."""
        return self.workdir / "storage"

    @property
    def config_path(self) -> Path:
        """Path of the generated YAML config."""
        return self.workdir / "config.yml"

    @property
    def log_path(self) -> Path:
        """File receiving the registry's stdout and stderr."""
        return self.workdir / "registry.log"

    @property
    def running(self) -> bool:
        """Whether the registry process is alive."""
        return self._process is not None and self._process.poll() is None

    def read_log(self) -> str:
        """Return the registry log so far (empty if there is none)."""
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, RuntimeError):
            return ""

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> Self:
        """Start the registry and wait until ``GET /v2/`` answers."""
        if self._process is not None:
            raise RuntimeError("registry server already started")
        binary = require_binary("docker-registry")
        self._workdir = Path(tempfile.mkdtemp(prefix="test-registry-"))
        self.storage_dir.mkdir()
        last_error: RegistryStartError | None = None
        try:
            for _ in range(_START_ATTEMPTS):
                try:
                    self._launch(binary, free_port())
                    self._wait_ready()
                except RegistryStartError as exc:
                    last_error = exc
                    self._terminate()
                    if "address already in use" not in str(exc):
                        raise
                else:
                    return self
            assert last_error is not None
            raise last_error
        except BaseException:
            self.stop()
            raise

    def pause(self) -> None:
        """Stop the process as a restart would, keeping its port, its configuration (and with
        it the secret that signs upload sessions) and its storage for `resume`."""
        self._terminate()

    def resume(self) -> None:
        """Start the registry again after `pause`, on the same port, configuration and storage,
        and wait until it answers."""
        if self._process is not None or self._port is None:
            raise RuntimeError("resume() needs a paused registry")
        self._spawn(require_binary("docker-registry"))
        try:
            self._wait_ready()
        except BaseException:
            self._terminate()
            raise

    def stop(self) -> None:
        """Stop the process (terminate, then kill) and delete the temporary directory."""
        self._terminate()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self._port = None

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "stopped"
        return f"RegistryServer({where})"

    # -- internals -------------------------------------------------------------

    def _launch(self, binary: str, port: int) -> None:
        self._port = port
        document = self.config.render(port=port, storage_dir=self.storage_dir)
        self.config_path.write_text(yaml.safe_dump(document, sort_keys=False))
        self._spawn(binary)

    def _spawn(self, binary: str) -> None:
        self._log_file = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [binary, "serve", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            env=_registry_environment(),
        )

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=_STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            else:
                process.wait()
        log_file, self._log_file = self._log_file, None
        if log_file is not None:
            log_file.close()

    def _probe(self) -> int | None:
        """Return the HTTP status of ``GET /v2/``, or None if nothing answers."""
        context: ssl.SSLContext | None = None
        if self.scheme == "https":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            if self.config.probe_client_cert is not None:
                context.load_cert_chain(*self.config.probe_client_cert)
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )
        try:
            with opener.open(f"{self.url}/v2/", timeout=_PROBE_TIMEOUT) as response:
                status: int = response.status
                return status
        except urllib.error.HTTPError as err:
            with contextlib.closing(err):
                return err.code
        except (urllib.error.URLError, OSError):
            return None

    def _wait_ready(self) -> None:
        ready = {200, 401} if self.config.auth_configured else {200}
        status: int | None = None
        deadline = time.monotonic() + _READY_TRIES * _READY_INTERVAL * 2
        for _ in range(_READY_TRIES):
            if time.monotonic() > deadline:
                break
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise RegistryStartError(
                    f"docker-registry exited with status {code} before it was ready; "
                    f"log:\n{self.read_log()}"
                )
            status = self._probe()
            if status in ready:
                return
            time.sleep(_READY_INTERVAL)
        raise RegistryStartError(
            f"docker-registry on {self.url} did not answer GET /v2/ in time "
            f"(last status {status}); log:\n{self.read_log()}"
        )


RegistryFactory = Callable[[RegistryConfig], RegistryServer]
"""Type of the ``registry_factory`` fixture: start a server for a config."""
