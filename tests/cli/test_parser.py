"""The command line's grammar, and the client options and URLs it turns into."""

from __future__ import annotations

import argparse

import anyio
import pytest

from registry_async._cli._connection import Connection
from registry_async._cli._exit import UsageError
from registry_async._cli._parser import build_parser
from registry_async._cli._refs import Registry


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def test_common_options_go_before_or_after_the_command() -> None:
    before = parse("--insecure", "--timeout", "5", "ls", "host.example")
    after = parse("ls", "host.example", "--insecure", "--timeout", "5")
    assert vars(before) == vars(after)
    assert before.tls_verify is False
    assert before.timeout == 5.0
    # An option given before the command is not reset by the command's own defaults.
    assert parse("--retries", "0", "ping", "host.example").retries == 0
    assert parse("ping", "host.example").retries == 3


@pytest.mark.parametrize(
    ("argv", "verify"),
    [
        ((), True),
        (("--tls-verify",), True),
        (("--tls-verify=false",), False),
        (("--tls-verify=0",), False),
        (("--insecure",), False),
    ],
)
def test_tls_verify(argv: tuple[str, ...], verify: bool) -> None:
    assert parse("ls", "host.example", *argv).tls_verify is verify


@pytest.mark.parametrize(
    ("text", "size"),
    [("1048576", 1048576), ("512KiB", 512 * 1024), ("5M", 5 * 1024**2), ("1g", 1024**3)],
)
def test_chunk_sizes(text: str, size: int) -> None:
    assert parse("push", "a.tar", "host.example/app", "--chunk-size", text).chunk_size == size


@pytest.mark.parametrize(
    "argv",
    [
        ("push", "a.tar", "h.example", "--original-tags", "--all-tags"),
        ("push", "a.tar", "h.example/app", "--chunk-size", "0"),
        ("push", "a.tar", "h.example/app", "--compression", "lz4"),
        ("copy", "h.example/a", "h.example/b", "--platform", "linux/amd64", "--all-platforms"),
        ("ls", "h.example", "--tls-verify=maybe"),
        ("ls", "h.example", "--retries", "21"),
        ("ls", "h.example", "--timeout", "0"),
        ("frobnicate",),
        (),
    ],
)
def test_usage_errors_exit_with_2(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        parse(*argv)
    assert caught.value.code == 2
    assert "regv2" in capsys.readouterr().err


def url(registry: Registry, *argv: str) -> str:
    connection = Connection(parse("ls", "unused.example", *argv), None)
    return anyio.run(connection.url, registry)


def test_schemes_as_docker_picks_them() -> None:
    assert url(Registry("127.0.0.1:5000")) == "http://127.0.0.1:5000"
    assert url(Registry("localhost")) == "http://localhost"
    assert url(Registry("registry.example")) == "https://registry.example"
    assert url(Registry("127.0.0.1:5000", "https")) == "https://127.0.0.1:5000"
    assert url(Registry("registry.example", "http")) == "http://registry.example"


def test_client_options() -> None:
    argv = ("--cacert", "ca.pem", "--cert", "c.pem", "--key", "k.pem", "--retries", "1")
    options = Connection(parse("ls", "h.example", *argv), ("user", "pw")).options
    assert options["verify"] == "ca.pem"
    assert options["client_cert"] == ("c.pem", "k.pem")
    assert options["retries"] == 1
    assert (options["username"], options["password"]) == ("user", "pw")
    # The library's default timeouts (30 s to connect) stay unless one is given.
    assert "timeout" not in options
    assert Connection(parse("ls", "h.example", "--timeout", "5"), None).options["timeout"] == 5.0
    with pytest.raises(UsageError, match="--cacert"):
        Connection(parse("ls", "h.example", "--insecure", "--cacert", "ca.pem"), None)
    with pytest.raises(UsageError, match="--key needs --cert"):
        Connection(parse("ls", "h.example", "--key", "k.pem"), None)
