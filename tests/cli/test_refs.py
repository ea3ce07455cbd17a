"""References and registries as typed on the command line."""

from __future__ import annotations

import pytest

from registry_async._cli._exit import UsageError
from registry_async._cli._refs import (
    ImageRef,
    Registry,
    parse_image,
    parse_registry,
    parse_repository,
)

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "127.0.0.1:5000/demo/app:1.0",
            ImageRef(Registry("127.0.0.1:5000"), "demo/app", "1.0"),
        ),
        ("localhost:5000/app", ImageRef(Registry("localhost:5000"), "app")),
        ("busybox", ImageRef(Registry("docker.io"), "library/busybox")),
        ("docker.io/busybox:1", ImageRef(Registry("docker.io"), "library/busybox", "1")),
        ("index.docker.io/team/app", ImageRef(Registry("docker.io"), "team/app")),
        (
            f"registry.example.com/team/app@{DIGEST}",
            ImageRef(Registry("registry.example.com"), "team/app", None, DIGEST),
        ),
        (
            f"host.example:5000/app:1@{DIGEST}",
            ImageRef(Registry("host.example:5000"), "app", "1", DIGEST),
        ),
        # An explicit scheme makes the first component the host, dots or not.
        ("http://myregistry/app:1", ImageRef(Registry("myregistry", "http"), "app", "1")),
        ("HTTPS://Registry.Example/app", ImageRef(Registry("registry.example", "https"), "app")),
        ("[::1]:5000/app", ImageRef(Registry("[::1]:5000"), "app")),
    ],
)
def test_image_references(text: str, expected: ImageRef) -> None:
    assert parse_image(text) == expected


def test_what_is_asked_for_and_shown() -> None:
    untagged = parse_image("localhost:5000/app")
    assert untagged.reference == "latest"
    assert str(untagged) == "localhost:5000/app:latest"
    assert untagged.pinned(DIGEST) == f"localhost:5000/app@{DIGEST}"
    both = parse_image(f"localhost:5000/app:1@{DIGEST}")
    assert both.reference == DIGEST  # the digest pins, as docker pull does
    assert str(both) == f"localhost:5000/app:1@{DIGEST}"
    by_digest = parse_image(f"localhost:5000/app@{DIGEST}")
    assert str(by_digest) == f"localhost:5000/app@{DIGEST}"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("127.3.4.5", True),
        ("[::1]:5000", True),
        ("10.0.0.1:5000", False),
        ("registry.example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_loopback_registries(host: str, loopback: bool) -> None:
    assert Registry(host).is_loopback is loopback


@pytest.mark.parametrize(
    "text",
    [
        "ftp://host/app",
        "http://host",
        "http:///app",
        "Host.example/UPPER",
        "host.example/app:bad tag",
        "host.example/app@sha256:short",
        "0123456789abcdef" * 4,
        "host.example:99999/app",
    ],
)
def test_bad_image_references_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_image(text)
    assert caught.value.code == 2
    assert "\n" not in str(caught.value)


def test_registries() -> None:
    assert parse_registry("127.0.0.1:5000") == Registry("127.0.0.1:5000")
    assert parse_registry("http://Host:1/") == Registry("host:1", "http")
    assert parse_registry("docker.io") == Registry("docker.io")
    for bad in ("host/path", "https://", "ftp://host", "host:port"):
        with pytest.raises(UsageError):
            parse_registry(bad)


def test_a_repository_has_no_tag() -> None:
    assert parse_repository("localhost:5000/app") == ImageRef(Registry("localhost:5000"), "app")
    with pytest.raises(UsageError, match="drop the tag"):
        parse_repository("localhost:5000/app:1")
