"""Authentication: Basic and Bearer tokens, as a wrapper around any flow.

`with_auth(flow, authenticator)` forwards every effect of `flow`, and sends each request to the
registry through `Authenticator.send`, which answers challenges (RFC 9110 §11; distribution's
token specification, `docs/spec/auth/token.md`, `oauth.md`, `scope.md`; docs/protocol.md §2):

- the scope of each request follows from its method and path (pull for reads, pull and push
  for writes, delete, the source repository's pull for a mount, `registry:catalog:*`);
- a 401 with a Bearer challenge fetches a token for the union of the challenge's scopes and
  the request's, cached per realm, service and scope set until shortly before it expires
  (`expires_in`, counted from when the token response arrived); a 401 with a Basic challenge
  sends the credentials. Each request is retried at most twice, so bad credentials fail fast
  instead of tripping lockouts;
- with an identity (refresh) token the OAuth2 `POST` flow is used, falling back to `GET` when
  the token server does not implement it (404, 405);
- credentials go only to the registry's own origin and its token realm: never to a host that
  a redirect or an upload location points at, never to a plain-http realm of an https registry.

Children of `Parallel` are wrapped too, so no request escapes. The token cache is plain shared
state; two concurrent requests may fetch the same token twice, which is harmless.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from ._effects import Flow, emit, http
from ._errors import RemoteProtocolError, TransportFailure, Unauthorized
from ._events import notice
from ._headers import Challenge, add_query, parse_www_authenticate, resolve_url
from ._intercept import intercept
from ._models import BytesBody, Headers, Request, Response, _redact_url
from ._reference import RegistryEndpoint

__all__ = ["Authenticator", "Credentials", "ScopeHint", "declare_scopes", "scopes_for", "with_auth"]

T = TypeVar("T")

# Renew a token this long before it expires, so it does not lapse in flight.
_EXPIRY_MARGIN = 10.0
_DEFAULT_EXPIRES_IN = 60
_CLIENT_ID = "registry-api-v2-client"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What proves who the caller is: a username and password, or an identity token.

    An identity token (docker's `identitytoken`, an OAuth2 refresh token) is exchanged at the
    token server. The repr never shows secrets.
    """

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)

    @property
    def basic(self) -> str | None:
        """The `Authorization: Basic` value, when there is a username and password."""
        if self.username is None or self.password is None:
            return None
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def __bool__(self) -> bool:
        return self.basic is not None or self.identity_token is not None


@dataclass(frozen=True, slots=True)
class ScopeHint:
    """What a flow is about to need from a registry, announced before it fans out (see
    `declare_scopes`)."""

    registry: str
    scopes: frozenset[str]


def declare_scopes(endpoint: RegistryEndpoint, scopes: frozenset[str]) -> Flow[None]:
    """Tell the enclosing `with_auth` for `endpoint` which scopes the next requests need.

    It earns one token for all of them now, instead of every parallel child meeting its own
    challenge and fetching its own token. Without `with_auth` this is an ignored event.
    """
    yield from emit(ScopeHint(endpoint.base_url, scopes))


@dataclass(frozen=True, slots=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, f"{(parts.hostname or '').lower()}:{port}"


def scopes_for(endpoint: RegistryEndpoint, request: Request) -> frozenset[str]:
    """The token scopes `request` needs (distribution `docs/spec/auth/scope.md`)."""
    path = urlsplit(request.url).path
    prefix = endpoint.path + "/v2/"
    if not path.startswith(prefix):
        return frozenset()
    rest = path[len(prefix) :]
    if rest in ("", "/"):
        return frozenset()
    if rest.startswith("_catalog"):
        return frozenset({"registry:catalog:*"})
    for marker in ("/blobs/", "/manifests/", "/tags/"):
        name, found, _ = rest.partition(marker)
        if found:
            break
    else:
        return frozenset()
    method = request.method.upper()
    if method in ("GET", "HEAD"):
        actions = "pull"
    elif method == "DELETE":
        actions = "delete"
    else:
        actions = "pull,push"
    scopes = {f"repository:{name}:{actions}"}
    source = dict(parse_qsl(urlsplit(request.url).query)).get("from")
    if source:  # a cross-repository mount also reads the source repository
        scopes.add(f"repository:{source}:pull")
    return frozenset(scopes)


def _merge(scopes: frozenset[str]) -> frozenset[str]:
    """One scope per resource, with the union of its actions (`pull` + `push` -> `pull,push`)."""
    actions: dict[str, set[str]] = {}
    for scope in scopes:
        # The name may contain `:` (a host and port), so split on the first and last ones.
        kind, _, rest = scope.partition(":")
        name, _, wanted = rest.rpartition(":")
        actions.setdefault(f"{kind}:{name}", set()).update(a for a in wanted.split(",") if a)
    return frozenset(f"{resource}:{','.join(sorted(acts))}" for resource, acts in actions.items())


def _covers(held: frozenset[str], needed: frozenset[str]) -> bool:
    merged = {scope.rpartition(":")[0]: set(scope.rpartition(":")[2].split(",")) for scope in held}
    for scope in needed:
        resource, _, wanted = scope.rpartition(":")
        if not set(wanted.split(",")) <= merged.get(resource, set()):
            return False
    return True


class Authenticator:
    """Credentials and the tokens they earned, for one registry.

    Share one authenticator between all flows to that registry so they share tokens.
    """

    def __init__(self, endpoint: RegistryEndpoint, credentials: Credentials | None = None) -> None:
        self.endpoint = endpoint
        self.credentials = credentials or Credentials()
        self._origin = _origin(endpoint.base_url)
        self._tokens: dict[tuple[str, str], dict[frozenset[str], _Token]] = {}
        self._realm: tuple[str, str] | None = None  # (realm, service) of the last challenge
        self._challenge: Challenge | None = None  # the last Bearer challenge
        self._basic = False  # the registry asked for Basic: send it up front from now on
        self._probed = False  # `GET /v2/` was asked once already
        self._now = 0.0

    def __repr__(self) -> str:
        return f"Authenticator({self.endpoint.base_url!r}, {self.credentials!r})"

    # -- the wrapper's entry point ----------------------------------------------------------

    def send(self, request: Request, *, extra: frozenset[str] = frozenset()) -> Flow[Response]:
        """Send `request`, answering authentication challenges on the way.

        `extra` scopes are asked for along with the request's own.
        """
        if _origin(request.url) != self._origin:
            # Another host (a redirect target, an upload location elsewhere, or the registry
            # of another `with_auth` around this one): nothing of ours is added.
            return (yield from http(request))
        needed = _merge(scopes_for(self.endpoint, request) | extra)
        retried: set[str] = set()
        while True:
            response = yield from http(self._authorize(request, needed))
            self._now = max(self._now, response.received_at)
            if response.status != 401:
                return response
            challenge = _pick(response)
            if challenge is None:
                return response
            if challenge.scheme == "basic":
                if not self.credentials:
                    # Nothing could ever answer this challenge: say what is missing.
                    raise Unauthorized(
                        f"{request.method} {request.display_url}: "
                        f"{self._refusal(f'the registry at {self.endpoint.base_url}')} (HTTP 401)",
                        status=401,
                        method=request.method,
                        url=request.display_url,
                    )
                if self._basic or self.credentials.basic is None or "basic" in retried:
                    return response  # wrong credentials: let the caller report it
                self._basic = True
                retried.add("basic")
                yield from notice(
                    "auth",
                    f"{self.endpoint.host} asks for Basic authentication: sending the "
                    f"credentials of {self.credentials.username}",
                    registry=self.endpoint.host,
                )
                continue
            if challenge.scheme != "bearer":
                return response
            wanted = _merge(needed | _challenge_scopes(challenge))
            key = challenge.params.get("error", "") + "|" + ",".join(sorted(wanted))
            if key in retried or len(retried) >= 2:
                return response  # a fresh token did not help: denied
            retried.add(key)
            self._challenge = Challenge(
                "bearer", {k: v for k, v in challenge.params.items() if k in ("realm", "service")}
            )
            yield from self._fetch_token(challenge, wanted)
            needed = wanted

    def prepare(self, scopes: frozenset[str]) -> Flow[None]:
        """Earn a token for `scopes` now, unless one is cached (or the registry wants Basic)."""
        scopes = _merge(scopes)
        if self._basic or self._cached(scopes) is not None:
            return
        if self._challenge is not None:  # the realm is known: no need to be challenged again
            yield from self._fetch_token(self._challenge, scopes)
            return
        if self._probed:
            return  # `GET /v2/` asked for nothing: requests will meet any challenge themselves
        request = Request(method="GET", url=self.endpoint.url("/v2/"), response_body="discard")
        response = yield from self.send(request, extra=scopes)
        self._probed = True
        if response.status == 401:
            # Refused before anything was sent: say so once, rather than once per blob.
            raise Unauthorized(
                f"{self._refusal(f'the registry at {self.endpoint.base_url}')} (HTTP 401)",
                status=401,
                method="GET",
                url=request.url,
            )

    # -- headers ----------------------------------------------------------------------------

    def _authorize(self, request: Request, needed: frozenset[str]) -> Request:
        token = self._cached(needed)
        if token is not None:
            return request.with_headers(request.headers.with_("Authorization", f"Bearer {token}"))
        if self._basic and self.credentials.basic is not None:
            return request.with_headers(
                request.headers.with_("Authorization", self.credentials.basic)
            )
        return request

    def _cached(self, needed: frozenset[str]) -> str | None:
        if self._realm is None:
            return None
        for scopes, token in self._tokens.get(self._realm, {}).items():
            if token.expires_at > self._now + _EXPIRY_MARGIN and _covers(scopes, needed):
                return token.value
        return None

    # -- tokens -----------------------------------------------------------------------------

    def _fetch_token(self, challenge: Challenge, scopes: frozenset[str]) -> Flow[None]:
        realm = challenge.params.get("realm", "")
        service = challenge.params.get("service", "")
        self._check_realm(realm)
        realm_host = urlsplit(realm).hostname or ""
        yield from notice(
            "auth",
            f"fetching a token from {realm_host} for {' '.join(sorted(scopes)) or 'no scope'}"
            f" ({self._who()})",
            realm=realm_host,
            scopes=" ".join(sorted(scopes)),
        )
        if self.credentials.identity_token is not None:
            response = yield from self._oauth_post(realm, service, scopes)
            if response.status in (404, 405):  # the POST flow is optional: GET it is
                yield from notice(
                    "auth",
                    f"the token server at {realm_host} has no OAuth2 POST endpoint "
                    f"(HTTP {response.status}): asking with GET",
                    realm=realm_host,
                )
                response = yield from self._token_get(realm, service, scopes)
        else:
            response = yield from self._token_get(realm, service, scopes)
        self._now = max(self._now, response.received_at)
        if response.status in (401, 403):
            raise Unauthorized(
                f"{self._refusal(f'the token server at {_redact_url(realm)}')} "
                f"(HTTP {response.status})",
                status=response.status,
                method="GET",
                url=_redact_url(realm),
            )
        if response.status != 200:
            raise RemoteProtocolError(
                f"the token server at {_redact_url(realm)} answered HTTP {response.status}"
            )
        token, expires_in = _parse_token(response.body)
        self._realm = (realm, service)
        self._tokens.setdefault(self._realm, {})[scopes] = _Token(
            token, response.received_at + expires_in
        )

    def _refusal(self, who: str) -> str:
        """What a 401 means: credentials refused, or none to send (then a login is needed)."""
        if self.credentials:
            return f"{who} refused the credentials"
        return f"no credentials found for {self.endpoint.host}: {who} asks for a login"

    def _who(self) -> str:
        """Who asks, as a log line may say it: never a secret."""
        if self.credentials.identity_token is not None:
            return "with an identity token"
        if self.credentials.username is not None:
            return f"as {self.credentials.username}"
        return "anonymously"

    def _check_realm(self, realm: str) -> None:
        try:
            parts = urlsplit(realm)
        except ValueError:  # an unbalanced IPv6 bracket
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise RemoteProtocolError(f"the registry named an unusable token realm {realm!r}")
        # Never from an https registry to a plain-http token server, credentials or not.
        resolve_url(self.endpoint.base_url, realm, "token realm")

    def _token_get(self, realm: str, service: str, scopes: frozenset[str]) -> Flow[Response]:
        """`GET <realm>?service=&scope=...` (token.md): one `scope` parameter per scope."""
        params = [("service", service)] if service else []
        params += [("scope", scope) for scope in sorted(scopes)]
        headers = Headers()
        if self.credentials.basic is not None:
            headers = headers.with_("Authorization", self.credentials.basic)
            if self.credentials.username:
                params.append(("account", self.credentials.username))
        url = add_query(realm, params) if params else realm
        return (yield from _send_to_realm(Request(method="GET", url=url, headers=headers)))

    def _oauth_post(self, realm: str, service: str, scopes: frozenset[str]) -> Flow[Response]:
        """`POST <realm>` with a refresh-token grant (oauth.md): scopes space-separated."""
        assert self.credentials.identity_token is not None
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.credentials.identity_token,
            "service": service,
            "client_id": _CLIENT_ID,
            "access_type": "offline",
        }
        if scopes:
            form["scope"] = " ".join(sorted(scopes))
        body = urlencode(form).encode()
        headers = Headers.of(
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Content-Length": str(len(body)),
            }
        )
        request = Request(method="POST", url=realm, headers=headers, body=BytesBody(body))
        return (yield from _send_to_realm(request))


def _send_to_realm(request: Request) -> Flow[Response]:
    try:
        return (yield from http(request))
    except TransportFailure as exc:
        raise TransportFailure(f"the token server could not be reached: {exc}") from exc


def _pick(response: Response) -> Challenge | None:
    """Bearer if offered (it is the stronger scheme), else Basic, else whatever came first."""
    try:
        challenges = parse_www_authenticate(response.headers.get_all("WWW-Authenticate"))
    except RemoteProtocolError:
        return None
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return challenges[0] if challenges else None


def _challenge_scopes(challenge: Challenge) -> frozenset[str]:
    return frozenset(challenge.params.get("scope", "").split())


def _parse_token(body: bytes) -> tuple[str, int]:
    """The token and its lifetime from a token response (`token` or `access_token`)."""
    try:
        document: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise RemoteProtocolError("the token server's answer is not JSON") from None
    if not isinstance(document, dict):
        raise RemoteProtocolError("the token server's answer is not a JSON object")
    token = document.get("access_token") or document.get("token")
    if not isinstance(token, str) or not token:
        raise RemoteProtocolError("the token server's answer holds no token")
    expires_in = document.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        expires_in = _DEFAULT_EXPIRES_IN
    # Servers should not issue tokens shorter than a minute; docker raises them to one.
    return token, max(expires_in, _DEFAULT_EXPIRES_IN)


def with_auth(flow: Flow[T], authenticator: Authenticator) -> Flow[T]:
    """`flow`, with every request it makes (its parallel children's too) authenticated."""

    def on_event(event: object) -> Flow[bool]:
        if isinstance(event, ScopeHint) and event.registry == authenticator.endpoint.base_url:
            yield from authenticator.prepare(event.scopes)
            return True
        return False  # another registry's hint is for another wrapper

    return intercept(flow, authenticator.send, on_event=on_event)
