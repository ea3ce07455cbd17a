"""A token server for registries configured with distribution's ``auth: token``.

It implements distribution's token specification (``docs/spec/auth/token.md``): ``GET
/token?service=&scope=...`` with optional Basic credentials, and the OAuth2 form flow
(``oauth.md``): ``POST /token`` with ``grant_type=password`` or ``grant_type=refresh_token``.
Tokens are RS256 JWTs whose header carries the signing certificate (``x5c``); the registry
trusts that self-signed certificate through ``rootcertbundle``.

Access follows a small table of :class:`Grant` rules; what is asked for and not allowed is left
out of the token (a partial grant is still a 200, as the specification says).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import fnmatch
import json
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Self
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.integration.lifecycle import Started
from tests.integration.loopback import LoopbackServer, RecordedRequest, Reply

SERVICE = "test-registry"
ISSUER = "test-issuer"
TOKEN_PATH = "/token"
EXPIRES_IN = 300


@dataclass(frozen=True)
class Grant:
    """``user`` (None: everybody, anonymous included) may do ``actions`` on the resources of
    type ``resource_type`` whose names match the glob ``pattern``."""

    user: str | None
    resource_type: str
    pattern: str
    actions: frozenset[str]


USERS: Mapping[str, str] = {
    "alice": "alice-secret-pw",
    "bob": "bob-secret-pw",
    "publisher": "publisher-secret-pw",
}

GRANTS: tuple[Grant, ...] = (
    Grant("alice", "repository", "alice/*", frozenset({"pull", "push", "delete"})),
    Grant("alice", "registry", "catalog", frozenset({"*"})),
    Grant("bob", "repository", "alice/*", frozenset({"pull"})),
    Grant("publisher", "repository", "public/*", frozenset({"pull", "push"})),
    Grant(None, "repository", "public/*", frozenset({"pull"})),
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


class Signer:
    """An RSA key and a self-signed certificate for it; signs RS256 JWTs."""

    def __init__(self, common_name: str = ISSUER) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.datetime.now(datetime.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, claims: Mapping[str, object]) -> str:
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode("ascii")]}
        signing_input = f"{_b64url(_json(header))}.{_b64url(_json(dict(claims)))}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


def _parse_scope(scope: str) -> tuple[str, str, set[str]] | None:
    """``type:name:actions``; the name may hold ``:`` (a host and port)."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if not kind or not name:
        return None
    return kind, name, {action for action in actions.split(",") if action}


class TokenServer(Started):
    """The token server, on a free 127.0.0.1 port (see the module docstring).

    ``post_status`` set to a status (405, 404) makes every ``POST`` answer it, as a server
    without the OAuth2 flow would. ``requests`` lists everything the server was asked.
    """

    def __init__(
        self,
        *,
        users: Mapping[str, str] = USERS,
        grants: Iterable[Grant] = GRANTS,
        service: str = SERVICE,
        issuer: str = ISSUER,
        expires_in: int = EXPIRES_IN,
    ) -> None:
        self.users = dict(users)
        self.grants = tuple(grants)
        self.service = service
        self.issuer = issuer
        self.expires_in = expires_in
        self.post_status: int | None = None
        self.signer = Signer(issuer)
        self._refresh_tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._handle)
        self._workdir: Path | None = None

    # -- where it is ---------------------------------------------------------------------

    @property
    def realm(self) -> str:
        return f"{self._server.url}{TOKEN_PATH}"

    @property
    def certificate_path(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("token server is not running")
        return self._workdir / "token-signer.pem"

    def registry_extra(self) -> dict[str, object]:
        """The ``extra`` registry configuration that delegates auth to this server."""
        return {
            "auth": {
                "token": {
                    "realm": self.realm,
                    "service": self.service,
                    "issuer": self.issuer,
                    "rootcertbundle": str(self.certificate_path),
                }
            }
        }

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._server.requests

    @property
    def errors(self) -> list[BaseException]:
        return self._server.errors

    def clear(self) -> None:
        self._server.clear()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        self._workdir = Path(tempfile.mkdtemp(prefix="test-token-server-"))
        self.certificate_path.write_bytes(self.signer.certificate_pem)
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    # -- answering -----------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> Reply:
        if request.path != TOKEN_PATH:
            return _error(404, "not found")
        if request.method == "GET":
            return self._handle_get(request)
        if request.method == "POST":
            if self.post_status is not None:
                return _error(self.post_status, "the OAuth2 flow is not available")
            return self._handle_post(request)
        return _error(405, "method not allowed")

    def _handle_get(self, request: RecordedRequest) -> Reply:
        if request.param("service") != self.service:
            return _error(400, "unknown service")
        user: str | None = None
        header = request.headers.get("authorization")
        if header is not None:
            user = self._basic_user(header)
            if user is None:
                return _error(401, "invalid credentials", basic=True)
        refresh = None
        if request.param("offline_token") == "true" and user is not None:
            refresh = self._new_refresh_token(user)
        return self._token_reply(user, request.query.get("scope", []), refresh)

    def _handle_post(self, request: RecordedRequest) -> Reply:
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)

        def field(name: str) -> str | None:
            values = form.get(name)
            return values[0] if values else None

        if field("service") != self.service or not field("client_id"):
            return _error(400, "service and client_id are required")
        grant_type = field("grant_type")
        refresh: str | None = None
        if grant_type == "password":
            username, password = field("username"), field("password")
            if username is None or self.users.get(username) != password:
                return _error(401, "invalid credentials")
            user: str | None = username
            if field("access_type") == "offline":
                refresh = self._new_refresh_token(username)
        elif grant_type == "refresh_token":
            refresh = field("refresh_token") or ""
            with self._lock:
                user = self._refresh_tokens.get(refresh)
            if user is None:
                return _error(401, "unknown refresh token")
        else:
            return _error(400, "unsupported grant_type")
        scopes = (field("scope") or "").split()
        return self._token_reply(user, scopes, refresh)

    def _basic_user(self, header: str) -> str | None:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _, password = decoded.partition(":")
        return username if self.users.get(username) == password else None

    def _new_refresh_token(self, user: str) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._refresh_tokens[token] = user
        return token

    def allowed(self, user: str | None, kind: str, name: str) -> set[str]:
        """The actions ``user`` may take on the resource."""
        actions: set[str] = set()
        for grant in self.grants:
            if grant.user not in (None, user) or grant.resource_type != kind:
                continue
            if fnmatch.fnmatchcase(name, grant.pattern):
                actions |= grant.actions
        return actions

    def _access(self, user: str | None, scopes: Iterable[str]) -> list[dict[str, object]]:
        granted: dict[tuple[str, str], set[str]] = {}
        for scope in scopes:
            parsed = _parse_scope(scope)
            if parsed is None:
                continue
            kind, name, wanted = parsed
            actions = wanted & self.allowed(user, kind, name)
            if actions:
                granted.setdefault((kind, name), set()).update(actions)
        return [
            {"type": kind, "name": name, "actions": sorted(actions)}
            for (kind, name), actions in sorted(granted.items())
        ]

    def _token_reply(self, user: str | None, scopes: Iterable[str], refresh: str | None) -> Reply:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": self.service,
            "exp": now + self.expires_in,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(12),
            "access": self._access(user, scopes),
        }
        token = self.signer.sign(claims)
        issued_at = datetime.datetime.fromtimestamp(now, datetime.UTC)
        document: dict[str, object] = {
            "token": token,
            "access_token": token,
            "expires_in": self.expires_in,
            "issued_at": issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if refresh is not None:
            document["refresh_token"] = refresh
        return Reply(200, _json(document), {"Content-Type": "application/json"})


def _error(status: int, message: str, *, basic: bool = False) -> Reply:
    headers = {"Content-Type": "application/json"}
    if basic:
        headers["WWW-Authenticate"] = 'Basic realm="token"'
    return Reply(status, _json({"details": message}), headers)
