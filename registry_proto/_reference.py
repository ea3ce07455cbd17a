"""Names, tags, digests and image references, validated per the distribution grammar.

Grammar: OCI distribution-spec §2 ("Pulling manifests", name and tag rules), OCI image-spec
descriptor.md ("Digests"), and distribution/reference for docker-style references.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ._errors import ValidationError

__all__ = [
    "DEFAULT_DOMAIN",
    "MAX_URL_LENGTH",
    "ImageReference",
    "RegistryEndpoint",
    "parse_reference",
    "split_recorded_tag",
    "usable_host",
    "validate_digest",
    "validate_reference",
    "validate_repository",
    "validate_tag",
]

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPOSITORY_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_KNOWN_DIGEST_HEX = {"sha256": 64, "sha512": 128}
# distribution/reference: host + "/" + path is at most 255 characters.
_NAME_TOTAL_LENGTH_MAX = 255

# A host name: labels of letters, digits and inner hyphens (RFC 1123 §2.1), as distribution's
# reference grammar has them, at most 253 characters in all (RFC 1035 §2.3.4).
_HOST_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MAX_HOST_LENGTH = 253
# Far more than any registry URL needs, far less than what HTTP stacks refuse.
MAX_URL_LENGTH = 8192

DEFAULT_DOMAIN = "docker.io"
_DOCKER_HUB_API = "registry-1.docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io"})


def usable_host(host: str) -> bool:
    """Whether `host` (from `urlsplit(...).hostname`) is a host name or an IP address."""
    if ":" in host:  # only an IPv6 literal has a colon here
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return False
        return True
    labels = host.rstrip(".").split(".")
    return len(host) <= _MAX_HOST_LENGTH and all(_HOST_LABEL_RE.fullmatch(x) for x in labels)


def validate_repository(name: object) -> str:
    """Return `name` if it is a valid repository path (`library/busybox`), else raise."""
    if not isinstance(name, str):
        raise ValidationError(f"repository must be a string, not {type(name).__name__}")
    if not name:
        raise ValidationError("repository must not be empty")
    if len(name) > _NAME_TOTAL_LENGTH_MAX:
        raise ValidationError(f"repository name is longer than {_NAME_TOTAL_LENGTH_MAX} characters")
    if not _REPOSITORY_RE.fullmatch(name):
        hint = " (it must be lower case)" if name.lower() != name else ""
        raise ValidationError(
            f"invalid repository name {name!r}{hint}: path components of [a-z0-9] separated by "
            "'.', '_', '__' or '-', joined by '/'"
        )
    return name


def validate_tag(tag: object) -> str:
    """Return `tag` if it matches `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`, else raise."""
    if not isinstance(tag, str):
        raise ValidationError(f"tag must be a string, not {type(tag).__name__}")
    if not _TAG_RE.fullmatch(tag):
        raise ValidationError(
            f"invalid tag {tag!r}: 1 to 128 characters of [A-Za-z0-9._-], "
            "not starting with '.' or '-'"
        )
    return tag


def validate_digest(digest: object, *, any_algorithm: bool = False) -> str:
    """Return `digest` if it is `algorithm:hex` with a well-formed encoding, else raise.

    The algorithm must be one the image-spec registers (descriptor.md, "Registered
    algorithms"): sha256 or sha512, of exactly 64 or 128 lower-case hex digits. Content named by
    any other digest could not be verified, so it is refused; `any_algorithm` accepts others as
    opaque (as a registry's router does).
    """
    if not isinstance(digest, str):
        raise ValidationError(f"digest must be a string, not {type(digest).__name__}")
    if not _DIGEST_RE.fullmatch(digest):
        raise ValidationError(f"invalid digest {digest!r}: expected 'algorithm:encoded'")
    algorithm, _, encoded = digest.partition(":")
    size = _KNOWN_DIGEST_HEX.get(algorithm)
    if size is None and not any_algorithm:
        raise ValidationError(
            f"unsupported digest {digest!r}: its algorithm {algorithm!r} is not sha256 or sha512, "
            "the ones content can be verified with"
        )
    if size is not None and not (len(encoded) == size and re.fullmatch(r"[a-f0-9]+", encoded)):
        raise ValidationError(
            f"invalid {algorithm} digest {digest!r}: expected {size} lower-case hex digits"
        )
    return digest


def validate_reference(reference: object) -> str:
    """A manifest reference: a tag or a digest."""
    if isinstance(reference, str) and ":" in reference:
        return validate_digest(reference)
    return validate_tag(reference)


@dataclass(frozen=True, slots=True)
class ImageReference:
    """A parsed docker-style reference: `[host[:port]/]repository[:tag][@digest]`."""

    domain: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        text = f"{self.domain}/{self.repository}"
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str) -> ImageReference:
    """Parse a docker-style image reference the way distribution/reference does.

    The first path component is a registry host only if it contains `.` or `:`, or is
    `localhost`; otherwise the image is on Docker Hub, where one-component names get the
    `library/` prefix (`busybox` -> `docker.io/library/busybox`).
    """
    if not isinstance(text, str) or not text:
        raise ValidationError("image reference must be a non-empty string")
    if re.fullmatch(r"[a-f0-9]{64}", text):
        # An image ID, not a name (distribution/reference refuses it the same way).
        raise ValidationError(
            f"invalid image reference {text!r}: cannot specify 64-byte hexadecimal strings"
        )
    remainder, _, digest = text.partition("@")
    if digest:
        validate_digest(digest)
    domain = DEFAULT_DOMAIN
    first, slash, rest = remainder.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain, remainder = first, rest
    name, colon, tag = remainder.rpartition(":")
    if not colon:
        name, tag = remainder, ""
    if domain == "index.docker.io":
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in name:
        name = f"library/{name}"
    try:
        validate_repository(name)
        if tag:
            validate_tag(tag)
    except ValidationError as exc:
        raise ValidationError(f"invalid image reference {text!r}: {exc}") from None
    if len(domain) + 1 + len(name) > _NAME_TOTAL_LENGTH_MAX:
        raise ValidationError(f"invalid image reference {text!r}: name longer than 255 characters")
    return ImageReference(domain=domain, repository=name, tag=tag or None, digest=digest or None)


@dataclass(frozen=True, slots=True)
class RegistryEndpoint:
    """Where a registry lives: scheme, authority and an optional path prefix.

    `http://` is used only when the URL says so; a bare `host:port` means HTTPS.
    """

    scheme: str
    netloc: str
    path: str = ""

    @classmethod
    def parse(cls, url: object) -> RegistryEndpoint:
        if not isinstance(url, str) or not url.strip():
            raise ValidationError("registry URL must be a non-empty string")
        text = url.strip()
        if "@" in text:
            # Checked first and on the raw text, so that no message below ever shows a password
            # (one holding `/`, `?` or `#` would not even parse as one).
            raise ValidationError("registry URL must not carry credentials; pass them separately")
        if len(text) > MAX_URL_LENGTH:
            raise ValidationError(f"registry URL is longer than {MAX_URL_LENGTH} characters")
        if not (text.isascii() and text.isprintable()) or " " in text:
            raise ValidationError(
                f"registry URL {text!r} holds a space, a control character or non-ASCII text"
            )
        if "://" not in text:
            text = "https://" + text
        try:
            parts = urlsplit(text)
        except ValueError as exc:  # an unbalanced IPv6 bracket
            raise ValidationError(f"registry URL is malformed: {exc}") from None
        if parts.scheme not in ("http", "https"):
            raise ValidationError(f"registry URL must use http or https, not {parts.scheme!r}")
        if not parts.hostname:
            raise ValidationError(f"registry URL {url!r} has no host")
        if not usable_host(parts.hostname):
            raise ValidationError(f"registry URL {url!r} has an invalid host {parts.hostname!r}")
        if parts.query or parts.fragment:
            raise ValidationError(f"registry URL {url!r} must not have a query or fragment")
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise ValidationError(f"registry URL {url!r} has an invalid port") from None
        path = parts.path.rstrip("/")
        if path.endswith("/v2"):
            path = path[: -len("/v2")]
        netloc = parts.netloc.lower()
        if netloc in _DOCKER_HUB_ALIASES:
            # Docker Hub's name, and its v1 index, are served by this host (docs/protocol.md §9.2).
            netloc, path = _DOCKER_HUB_API, ""
        return cls(scheme=parts.scheme, netloc=netloc, path=path)

    @property
    def is_docker_hub(self) -> bool:
        return self.netloc == _DOCKER_HUB_API

    def repository(self, name: object) -> str:
        """`name`, validated; on Docker Hub a one-component name gets docker's `library/`
        (`busybox` -> `library/busybox`), as `docker pull busybox` does."""
        validate_repository(name)
        assert isinstance(name, str)
        if self.is_docker_hub and "/" not in name:
            return f"library/{name}"
        return name

    @property
    def base_url(self) -> str:
        return urlunsplit((self.scheme, self.netloc, self.path, "", ""))

    def url(self, path: str) -> str:
        """The absolute URL of an API path such as `/v2/<name>/blobs/<digest>`."""
        return self.base_url + path

    @property
    def host(self) -> str:
        """`host[:port]` as it appears in image references."""
        return self.netloc


def split_recorded_tag(recorded: str) -> tuple[str, str] | None:
    """`(repository, tag)` for a tag recorded in an image archive, without its registry host.

    `example.com/app:1` -> `("app", "1")`. Docker Hub's implicit `library/` namespace is
    dropped as docker itself displays it (`docker.io/library/busybox:1` -> `("busybox", "1")`,
    the same as docker's own record `busybox:1`); other namespaces stay (`docker.io/foo/bar`).
    Returns None for what names no repository: a bare tag (`latest`, as an OCI layout's
    `ref.name` may hold), or text that is no reference at all.
    """
    if "/" not in recorded and ":" not in recorded and "@" not in recorded:
        return None
    try:
        reference = parse_reference(recorded)
    except ValidationError:
        return None
    if reference.tag is None and reference.digest is not None:
        return None
    repository = reference.repository
    if reference.domain == DEFAULT_DOMAIN and repository.count("/") == 1:
        namespace, _, rest = repository.partition("/")
        if namespace == "library":
            repository = rest
    return repository, reference.tag or "latest"
