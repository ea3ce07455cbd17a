"""Client settings shared by the blocking and the async client: TLS, timeouts, credentials."""

from __future__ import annotations

import math
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from registry_proto import (
    Authenticator,
    Credentials,
    RegistryEndpoint,
    RetryPolicy,
    ValidationError,
    __version__,
)
from registry_proto import operations as ops
from registry_proto.operations import DEFAULT_MAX_CONCURRENCY, PushArgs

from ._credentials import default_config_path, docker_credentials

# httpx and ssl are imported when a client is made, not with the package (docs/performance.md).
if TYPE_CHECKING:
    import ssl

    import httpx

__all__ = [
    "USER_AGENT",
    "Authenticators",
    "ClientOptions",
    "PushCallOptions",
    "Settings",
    "default_timeout",
    "split_options",
]

USER_AGENT = f"registry-api-v2-client/{__version__}"
# A day: longer is surely a mistake (and beyond what the system's timers take, a crash).
_MAX_TIMEOUT = 86400.0


def default_timeout() -> httpx.Timeout:
    """Connecting should be quick. A registry that sends or takes nothing for a minute has
    stalled: the call fails then (a stall is not retried), not after twenty minutes of tries."""
    import httpx

    return httpx.Timeout(60.0, connect=15.0)


PathLike = str | os.PathLike[str]


class ClientOptions(TypedDict, total=False):
    """Keyword options of the clients (and of every module-level function).

    - `registry_credentials`: `{"host[:port]": (username, password)}`, credentials for one
      registry each (a copy between two registries needs two);
    - `username` / `password`, or `identity_token`: credentials for every registry this client
      talks to; without them, the user's docker config is read (`docker_config=False` turns
      that off, a path points at another config file);
    - `verify`: True (system CAs), False (no verification), a CA bundle path, or an
      `ssl.SSLContext`; `client_cert`: a PEM file holding certificate and key, or a
      `(certificate, key)` pair, for registries that want mutual TLS;
    - `timeout`: seconds, or an `httpx.Timeout`: how long to wait for a connection, and for
      any single read or write (default 15 s to connect, 60 s otherwise);
    - `deadline`: seconds that each call (a push, a pull, a listing, one page of an `iter_`
      listing) may take in all, or None (the default) for no limit;
    - `max_concurrency`: blobs pushed at once;
    - `retries`: how many times a transient failure (connection, 429, 502-504) of a request
      that can safely be repeated is retried, with backoff (default 3; 0 turns it off, and
      with it the wait of up to 30 s for a registry restarting in the middle of a call).
    """

    max_concurrency: int
    timeout: float | httpx.Timeout
    deadline: float | None
    verify: bool | PathLike | ssl.SSLContext
    client_cert: PathLike | tuple[PathLike, PathLike] | None
    username: str | None
    password: str | None
    identity_token: str | None
    docker_config: bool | PathLike
    retries: int
    registry_credentials: Mapping[str, tuple[str, str]]


class PushCallOptions(PushArgs, ClientOptions, total=False):
    """The options of a module-level push function: the push's and the client's."""


def split_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`(client options, the rest)` of a module-level function's keyword arguments."""
    client = {k: v for k, v in options.items() if k in ClientOptions.__annotations__}
    rest = {k: v for k, v in options.items() if k not in ClientOptions.__annotations__}
    return client, rest


def _client_cert(value: object) -> tuple[str, str | None] | None:
    """`(certificate, key)` files of `client_cert` (the key in the certificate's file: None)."""
    if value is None:
        return None
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValidationError("client_cert must be a path, or a (certificate, key) pair")
        return ops.validate_path(value[0], "client_cert"), ops.validate_path(
            value[1], "client_cert"
        )
    return ops.validate_path(value, "client_cert"), None


def _ssl_context(verify: object, client_cert: object) -> ssl.SSLContext | bool:
    import ssl

    cert = _client_cert(client_cert)
    if isinstance(verify, ssl.SSLContext):
        if cert is not None:
            raise ValidationError("pass client_cert inside the SSLContext given as verify")
        return verify
    if isinstance(verify, bool) and cert is None:
        return verify
    if isinstance(verify, bool):
        context = ssl.create_default_context()
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str | os.PathLike):
        try:
            context = ssl.create_default_context(cafile=ops.validate_path(verify, "verify"))
        except (OSError, ssl.SSLError) as exc:
            raise ValidationError(f"cannot load the CA bundle {verify}: {exc}") from None
    else:
        raise ValidationError("verify must be a bool, a CA bundle path or an ssl.SSLContext")
    if cert is not None:
        try:
            context.load_cert_chain(*cert)
        except (OSError, ssl.SSLError) as exc:
            raise ValidationError(f"cannot load the client certificate: {exc}") from None
    return context


@dataclass(frozen=True)
class Settings:
    """Validated client options."""

    max_concurrency: int
    timeout: httpx.Timeout
    deadline: float | None
    tls: ssl.SSLContext | bool
    credentials: Credentials | None
    per_registry: Mapping[str, Credentials]
    docker_config: Path | None
    retry: RetryPolicy

    @classmethod
    def from_options(
        cls,
        *,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
        verify: bool | PathLike | ssl.SSLContext = True,
        client_cert: PathLike | tuple[PathLike, PathLike] | None = None,
        username: str | None = None,
        password: str | None = None,
        identity_token: str | None = None,
        docker_config: bool | PathLike = True,
        retries: int = 3,
        registry_credentials: Mapping[str, tuple[str, str]] | None = None,
    ) -> Settings:
        for name, value in (("username", username), ("password", password)):
            if value is not None and not isinstance(value, str):
                raise ValidationError(f"{name} must be a string")
        if identity_token is not None and not isinstance(identity_token, str):
            raise ValidationError("identity_token must be a string")
        if password is not None and username is None:
            raise ValidationError("a password needs a username")
        if username is not None and password is None and identity_token is None:
            raise ValidationError("a username needs a password or an identity_token")
        explicit = None
        if username is not None or identity_token is not None:
            explicit = Credentials(username, password, identity_token)
        if docker_config is True:
            config: Path | None = default_config_path()
        elif docker_config is False:
            config = None
        elif isinstance(docker_config, str | os.PathLike):
            config = Path(ops.validate_path(docker_config, "docker_config"))
        else:
            raise ValidationError("docker_config must be True, False or a path")
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 20:
            raise ValidationError("retries must be an int from 0 to 20")
        per_registry = _per_registry(registry_credentials or {})
        return cls(
            per_registry=per_registry,
            retry=RetryPolicy(attempts=retries + 1, jitter=random.random),
            max_concurrency=ops.validate_concurrency(max_concurrency),
            timeout=default_timeout() if timeout is None else _timeout(timeout),
            deadline=None if deadline is None else _seconds(deadline, "deadline"),
            tls=_ssl_context(verify, client_cert),
            credentials=explicit,
            docker_config=config,
        )

    def http_options(self) -> dict[str, Any]:
        """Keyword arguments for `httpx.Client` / `httpx.AsyncClient`."""
        import httpx

        return {
            "timeout": self.timeout,
            "verify": self.tls,
            # Redirects are followed by the flows, which drop credentials across hosts.
            "follow_redirects": False,
            "headers": {"User-Agent": USER_AGENT},
            "limits": httpx.Limits(max_connections=max(16, 2 * self.max_concurrency)),
            "trust_env": True,
        }

    def credentials_for(self, endpoint: RegistryEndpoint) -> Credentials:
        """This registry's own credentials, else the explicit ones, else docker's for it
        (which reads files and may run a credential helper: call it off the event loop)."""
        own = self.per_registry.get(endpoint.host)
        if own is not None:
            return own
        if self.credentials is not None:
            return self.credentials
        if self.docker_config is None:
            return Credentials()
        return docker_credentials(endpoint, self.docker_config)


def _seconds(value: object, name: str) -> float:
    """A positive, finite number of seconds, at most a day."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{name} must be a number of seconds")
    if not (math.isfinite(value) and 0 < value <= _MAX_TIMEOUT):
        raise ValidationError(
            f"{name} must be a positive number of seconds, at most {_MAX_TIMEOUT}"
        )
    return float(value)


def _timeout(value: object) -> httpx.Timeout:
    """The `timeout` option: seconds for everything, or an `httpx.Timeout` whose parts are
    each None (no limit) or a positive number of seconds."""
    import httpx

    if not isinstance(value, httpx.Timeout):
        return httpx.Timeout(_seconds(value, "timeout"))
    for part in (value.connect, value.read, value.write, value.pool):
        if part is not None:
            _seconds(part, "each part of timeout")
    return value


def _per_registry(given: Mapping[str, tuple[str, str]]) -> dict[str, Credentials]:
    if not isinstance(given, Mapping):
        raise ValidationError("registry_credentials must map hosts to (username, password)")
    found = {}
    for host, pair in given.items():
        valid = isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        if not isinstance(host, str) or not valid:
            raise ValidationError("registry_credentials must map hosts to (username, password)")
        # Keyed the way endpoints name hosts: `docker.io` means Docker Hub's API host.
        found[RegistryEndpoint.parse(host).host] = Credentials(pair[0], pair[1])
    return found


class Authenticators:
    """One `Authenticator` per registry, so every call to a registry shares its tokens."""

    def __init__(self) -> None:
        self._by_registry: dict[str, Authenticator] = {}

    def get(self, endpoint: RegistryEndpoint) -> Authenticator | None:
        return self._by_registry.get(endpoint.base_url)

    def add(self, endpoint: RegistryEndpoint, credentials: Credentials) -> Authenticator:
        return self._by_registry.setdefault(endpoint.base_url, Authenticator(endpoint, credentials))
