"""Image references and registries as they are typed on the command line.

`[http://|https://]host[:port]/repository[:tag][@digest]`, parsed with the library's docker
reference grammar (`registry_proto.parse_reference`, after distribution/reference): the first
path component is a registry host only if it holds a `.` or a `:` or is `localhost`, otherwise
the image is on Docker Hub (`busybox` is `docker.io/library/busybox`). A `http://` or
`https://` prefix makes the first component the host whatever it looks like, and fixes the
scheme.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from registry_proto import RegistryEndpoint, ValidationError, parse_reference

from ._exit import UsageError

__all__ = [
    "ImageRef",
    "Registry",
    "parse_image",
    "parse_registry",
    "parse_repository",
]

_SCHEMES = ("http://", "https://")
_DEFAULT_TAG = "latest"


@dataclass(frozen=True, slots=True)
class Registry:
    """A registry as written: `host[:port]`, and the scheme only when the user wrote one."""

    host: str
    scheme: str | None = None

    @property
    def is_loopback(self) -> bool:
        """`localhost`, 127.0.0.0/8 or ::1: docker talks plain http to these unasked."""
        name = urlsplit(f"//{self.host}").hostname or ""
        if name == "localhost":
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    def url(self, scheme: str) -> str:
        return f"{scheme}://{self.host}"

    def __str__(self) -> str:
        return self.host


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image in a registry: a repository and a tag or digest (both may be given)."""

    registry: Registry
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest when given (it pins), else the tag."""
        return self.digest or self.tag or _DEFAULT_TAG

    @property
    def name(self) -> str:
        """`host/repository`, the repository's full name."""
        return f"{self.registry.host}/{self.repository}"

    def pinned(self, digest: str) -> str:
        """`host/repository[:tag]@digest`: this image, pinned to what the registry holds."""
        tag = f":{self.tag}" if self.tag else ""
        return f"{self.name}{tag}@{digest}"

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None or self.digest is None:
            text += f":{self.tag or _DEFAULT_TAG}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def _split_scheme(text: str) -> tuple[str | None, str]:
    for prefix in _SCHEMES:
        if text.lower().startswith(prefix):
            return prefix[: -len("://")], text[len(prefix) :]
    if "://" in text:
        raise UsageError(f"{text!r}: only http:// and https:// registries are supported")
    return None, text


def _checked_registry(host: str, scheme: str | None, text: str) -> Registry:
    if not host:
        raise UsageError(f"{text!r} names no registry host")
    try:
        RegistryEndpoint.parse(f"{scheme or 'https'}://{host}")
    except ValidationError as exc:
        raise UsageError(f"{text!r}: {exc}") from None
    return Registry(host.lower(), scheme)


def parse_registry(text: str) -> Registry:
    """`host[:port]`, `http://host[:port]` or `https://host[:port]` (a trailing `/` is fine)."""
    scheme, rest = _split_scheme(text.strip())
    host = rest.rstrip("/")
    if "/" in host:
        raise UsageError(f"{text!r} is not a registry: expected host[:port], without a path")
    return _checked_registry(host, scheme, text)


def parse_image(text: str, *, what: str = "image reference") -> ImageRef:
    """A docker-style image reference, with an optional `http://` / `https://` prefix."""
    scheme, rest = _split_scheme(text.strip())
    try:
        if scheme is None:
            parsed = parse_reference(rest)
            host = parsed.domain
        else:
            host, slash, path = rest.partition("/")
            if not slash or not path:
                raise UsageError(f"{text!r} names no repository")
            # The host is explicit, so only the path is parsed, under a stand-in host that
            # keeps Docker Hub's `library/` rule out of it.
            parsed = parse_reference(f"localhost/{path}")
    except ValidationError as exc:
        raise UsageError(f"invalid {what} {text!r}: {_reason(exc)}") from None
    registry = _checked_registry(host, scheme, text)
    return ImageRef(registry, parsed.repository, parsed.tag, parsed.digest)


def parse_repository(text: str) -> ImageRef:
    """A repository without tag or digest (`host/name`), for listing its tags."""
    image = parse_image(text, what="repository")
    if image.tag is not None or image.digest is not None:
        raise UsageError(f"{text!r} is an image, not a repository: drop the tag or digest")
    return image


def _reason(exc: ValidationError) -> str:
    """The library's message without the reference it repeats."""
    message = str(exc)
    _, marker, rest = message.partition("': ")
    return rest if marker and message.startswith("invalid image reference") else message
