"""The command line's grammar: commands, their arguments, and the options every command takes.

The common options may come before the command or after it (`regv2 --insecure ls host` and
`regv2 ls host --insecure`): each subcommand repeats them with suppressed defaults, so a value
given after the command wins and one given before it is not reset.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from registry_proto import __version__

__all__ = ["build_parser"]

PROG = "regv2"

_SIZE_RE = re.compile(r"(\d+)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib)", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def _size(text: str) -> int:
    """A byte count: `1048576`, `512KiB`, `5M`, `1g` (binary units)."""
    match = _SIZE_RE.fullmatch(text.strip())
    if match is None or int(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: expected e.g. 5MiB or 1048576")
    return int(match.group(1)) * _SIZE_FACTORS[match.group(2)[:1].lower()]


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"invalid timeout {text!r}: expected seconds > 0")
    return value


def _count(low: int, high: int) -> Any:
    def parse(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}")
        return int(text)

    return parse


def _add_common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The options every command takes; with `suppress`, unset ones leave no default."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    output = parser.add_argument_group("output")
    output.add_argument(
        "-q", "--quiet", action="store_true", default=default(False), help="no progress"
    )
    output.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default(False),
        help="log what the client does (INFO) to stderr",
    )
    output.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="log everything (DEBUG) and show tracebacks",
    )

    auth = parser.add_argument_group("authentication")
    auth.add_argument(
        "-u", "--username", default=default(None), help="log in as this user (else docker's config)"
    )
    auth.add_argument(
        "--password-stdin",
        action="store_true",
        default=default(False),
        help="read the password from standard input",
    )
    auth.add_argument(
        "--authfile",
        "--docker-config",
        dest="authfile",
        metavar="PATH",
        default=default(None),
        help="docker config file (or a directory holding config.json) to read and write "
        "credentials in; default $DOCKER_CONFIG/config.json, else ~/.docker/config.json",
    )

    tls = parser.add_argument_group("TLS and network")
    tls.add_argument(
        "--tls-verify",
        type=_boolean,
        nargs="?",
        const=True,
        metavar="BOOL",
        default=default(True),
        help="check registry certificates (default true); false also allows plain http",
    )
    tls.add_argument(
        "--insecure",
        dest="tls_verify",
        action="store_false",
        default=default(True),
        help="the same as --tls-verify=false",
    )
    tls.add_argument(
        "--cacert", metavar="PATH", default=default(None), help="trust the CAs in this PEM file"
    )
    tls.add_argument(
        "--cert", metavar="PATH", default=default(None), help="client certificate (PEM) for mTLS"
    )
    tls.add_argument(
        "--key", metavar="PATH", default=default(None), help="its private key, if not in --cert"
    )
    tls.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        default=default(None),
        help="how long connecting, or one network read or write, may wait "
        "(default 15 to connect, 60 for the rest)",
    )
    tls.add_argument(
        "--retries",
        type=_count(0, 20),
        metavar="N",
        default=default(3),
        help="retries of a failed request that can be repeated (default 3)",
    )
    tls.add_argument(
        "--max-concurrency",
        type=_count(1, 256),
        metavar="N",
        default=default(None),
        help="blobs transferred at once (default 6)",
    )


def _platform_options(parser: argparse.ArgumentParser, *, what: str) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--platform", metavar="OS/ARCH[/VARIANT]", help=f"which image of a multi-platform {what}"
    )
    group.add_argument(
        "--all-platforms", action="store_true", help=f"the whole multi-platform {what}"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Push, pull, copy, list, inspect and delete images in Docker / OCI "
        "registries, without a Docker daemon.",
        epilog="References look like docker's: host[:port]/repository[:tag][@digest]; "
        "a http:// or https:// prefix picks the scheme. See docs/cli.md.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_common(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _add_common(sub, suppress=True)
        return sub

    push = command("push", "push an image archive (docker save, OCI archive) to a registry")
    push.add_argument("archive", metavar="ARCHIVE", help="the image archive")
    push.add_argument(
        "reference",
        metavar="REF",
        help="host/repository[:tag]; only the registry (host[:port]) with --original-tags "
        "or --all-tags",
    )
    tags = push.add_mutually_exclusive_group()
    tags.add_argument(
        "--original-tags",
        action="store_true",
        help="push under the first tag recorded in the archive (its host dropped)",
    )
    tags.add_argument(
        "--all-tags",
        action="store_true",
        help="push every tag recorded in the archive, of every image in it",
    )
    push.add_argument(
        "--source", metavar="TAG", help="which image of a multi-image archive, by a recorded tag"
    )
    _platform_options(push, what="archive")
    push.add_argument(
        "--compression",
        choices=("gzip", "zstd"),
        help="compress uncompressed layers while sending them",
    )
    push.add_argument(
        "--chunk-size",
        type=_size,
        metavar="SIZE",
        help="send blobs in chunks of SIZE (e.g. 16MiB) instead of one request each",
    )

    pull = command("pull", "pull an image into an archive file (docker load reads it)")
    pull.add_argument("reference", metavar="REF", help="host/repository[:tag][@digest]")
    pull.add_argument("file", metavar="FILE", help="the archive to write")
    pull.add_argument("--platform", metavar="OS/ARCH[/VARIANT]", help="which image of an index")

    copy = command("copy", "copy an image between repositories or registries, byte for byte")
    copy.add_argument("source", metavar="SRC", help="host/repository[:tag][@digest]")
    copy.add_argument("destination", metavar="DST", help="host/repository[:tag]")
    _platform_options(copy, what="image")

    ls = command("ls", "list the repositories of a registry, one per line")
    ls.add_argument("registry", metavar="REGISTRY", help="host[:port]")

    tags_command = command("tags", "list the tags of a repository, one per line")
    tags_command.add_argument("repository", metavar="REPO", help="host/repository")

    inspect = command("inspect", "describe an image or an index")
    inspect.add_argument("reference", metavar="REF", help="host/repository[:tag][@digest]")
    inspect.add_argument("--platform", metavar="OS/ARCH[/VARIANT]", help="which image of an index")
    inspect.add_argument("--json", action="store_true", help="print a JSON object")

    rm = command("rm", "delete an image (the manifest a tag or digest names, and its tags)")
    rm.add_argument("reference", metavar="REF", help="host/repository[:tag][@digest]")

    ping = command("ping", "check that a registry answers, and whether it wants a login")
    ping.add_argument("registry", metavar="REGISTRY", help="host[:port]")

    login = command("login", "check credentials with a registry and save them")
    login.add_argument(
        "registry", metavar="REGISTRY", nargs="?", default="docker.io", help="default: docker.io"
    )

    logout = command("logout", "remove a registry's saved credentials")
    logout.add_argument(
        "registry", metavar="REGISTRY", nargs="?", default="docker.io", help="default: docker.io"
    )
    return parser
