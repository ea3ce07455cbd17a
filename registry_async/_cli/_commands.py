"""The commands, each on the public API of `registry_async`.

Results go to standard output (digests, names, summaries: what a script reads); progress and
status lines go to standard error, and `--quiet` silences them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from typing import Any

import registry_async
from registry_async import AsyncRegistryClient, ManifestPushed, TarReadError, Unauthorized
from registry_io.progress import Action, ProgressPrinter, human_size
from registry_proto.operations import ping as ping_flow

from ._connection import Connection, read_credentials
from ._exit import CliError, ExitCode, UsageError
from ._inspect import as_json, summary
from ._login import DockerConfig, config_path, server_key
from ._refs import ImageRef, Registry, parse_image, parse_registry, parse_repository

__all__ = ["COMMANDS"]

Command = Callable[[argparse.Namespace], Awaitable[None]]


def _out(text: str) -> None:
    print(text, flush=True)


def _status(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr, flush=True)


def _connect(args: argparse.Namespace) -> Connection:
    return Connection(args, read_credentials(args))


async def _reach(args: argparse.Namespace, registry: Registry) -> tuple[str, dict[str, Any]]:
    """The registry's base URL, and the client options of this command."""
    connection = _connect(args)
    return await connection.url(registry), connection.options


def _progress(args: argparse.Namespace, action: Action) -> ProgressPrinter | nullcontext[None]:
    return nullcontext() if args.quiet else ProgressPrinter(sys.stderr, action=action)


class _Pushed:
    """Records the tags a push stored (its `ManifestPushed` events), passing events on."""

    def __init__(self, printer: ProgressPrinter | None) -> None:
        self.printer = printer
        self.tags: list[ManifestPushed] = []

    def __call__(self, event: object) -> None:
        if isinstance(event, ManifestPushed) and event.reference != event.digest:
            self.tags.append(event)
        if self.printer is not None:
            self.printer(event)


def _image_target(text: str) -> ImageRef:
    image = parse_image(text)
    if image.digest is not None:
        raise UsageError(f"{text!r}: a destination takes a tag, not a digest")
    return image


async def push(args: argparse.Namespace) -> None:
    image: ImageRef | None = None
    if args.original_tags or args.all_tags:
        registry = parse_registry(args.reference)
    else:
        image = _image_target(args.reference)
        registry = image.registry
    connection = _connect(args)
    if image is not None:
        _status(args, f"The push refers to repository [{image.name}]")
    url = await connection.url(registry)
    with _progress(args, "push") as printer:
        pushed = _Pushed(printer)
        options = {
            **connection.options,
            "source": args.source,
            "platform": args.platform,
            "all_platforms": args.all_platforms,
            "compression": args.compression,
            "chunk_size": args.chunk_size,
            "progress": pushed,
        }
        try:
            tags = await _push_archive(args, url, image, options, pushed)
        except TarReadError as exc:
            if args.archive in str(exc):
                raise
            # Some messages say what is wrong but not with which file.
            raise CliError(f"{args.archive}: {exc}", ExitCode.INPUT) from exc
    for tag in tags:
        _out(f"{registry}/{tag.repository}:{tag.reference}@{tag.digest}")


async def _push_archive(
    args: argparse.Namespace,
    url: str,
    image: ImageRef | None,
    options: dict[str, Any],
    pushed: _Pushed,
) -> list[ManifestPushed]:
    """Push as the command line says; return the tags stored, in the archive's order."""
    if args.all_tags:
        results = await registry_async.push_docker_tar_with_all_original_tags(
            args.archive, url, **options
        )
        return [ManifestPushed(r.repository, r.tag, r.digest) for r in results]
    if image is None:
        await registry_async.push_docker_tar_with_original_tags(args.archive, url, **options)
    else:
        await registry_async.push_docker_tar(
            args.archive, url, image.repository, image.reference, **options
        )
    return pushed.tags


async def pull(args: argparse.Namespace) -> None:
    image = parse_image(args.reference)
    url, options = await _reach(args, image.registry)
    _status(args, f"Pulling {image}")
    with _progress(args, "pull") as printer:
        result = await registry_async.pull_image(
            url,
            image.repository,
            image.reference,
            args.file,
            platform=args.platform,
            progress=printer,
            **options,
        )
    platform = f"{result.platform}, " if result.platform else ""
    _status(args, f"Wrote {result.path} ({platform}{human_size(result.size)})")
    _out(image.pinned(result.digest))


async def copy(args: argparse.Namespace) -> None:
    source = parse_image(args.source)
    destination = _image_target(args.destination)
    connection = _connect(args)
    source_url = await connection.url(source.registry)
    destination_url = await connection.url(destination.registry)
    async with AsyncRegistryClient(**connection.options) as client:
        with _progress(args, "copy") as printer:
            digest = await client.copy_image(
                source_url,
                source.repository,
                source.reference,
                destination_url,
                destination.repository,
                destination.reference,
                platform=args.platform,
                all_platforms=args.all_platforms,
                progress=printer,
            )
    _out(destination.pinned(digest))


async def ls(args: argparse.Namespace) -> None:
    url, options = await _reach(args, parse_registry(args.registry))
    async for name in registry_async.iter_repositories(url, **options):
        _out(name)


async def tags(args: argparse.Namespace) -> None:
    repository = parse_repository(args.repository)
    url, options = await _reach(args, repository.registry)
    async for tag in registry_async.iter_tags(url, repository.repository, **options):
        _out(tag)


async def inspect(args: argparse.Namespace) -> None:
    image = parse_image(args.reference)
    url, options = await _reach(args, image.registry)
    info = await registry_async.get_image_info(
        url, image.repository, image.reference, platform=args.platform, **options
    )
    _out(as_json(info, str(image)) if args.json else summary(info, str(image)))


async def rm(args: argparse.Namespace) -> None:
    image = parse_image(args.reference)
    url, options = await _reach(args, image.registry)
    deleted = await registry_async.delete_image(url, image.repository, image.reference, **options)
    if deleted:
        _out(f"Deleted {image}")
    else:
        _status(args, f"{image} was deleted by someone else meanwhile")


async def ping(args: argparse.Namespace) -> None:
    url, options = await _reach(args, parse_registry(args.registry))
    answer = await registry_async.ping(url, **options)
    login = (
        f"login required ({', '.join(answer.auth_schemes)})"
        if answer.requires_auth
        else "no login required"
    )
    _out(f"{url}: {answer.api_version or 'no API version header'}, {login}")


async def login(args: argparse.Namespace) -> None:
    registry = parse_registry(args.registry)
    credentials = read_credentials(args, prompt=True)
    assert credentials is not None
    connection = Connection(args, credentials)
    url = await connection.url(registry)
    # Checked with these credentials alone: `GET /v2/` answered with them (or with the token
    # they earn), the way docker checks a login before saving it.
    options = {**connection.options, "docker_config": False}
    refused = f"{registry} refused the login of {credentials[0]!r}"
    try:
        async with AsyncRegistryClient(**options) as client:
            answer = await client.run(ping_flow(url), registry_url=url)
    except Unauthorized as exc:  # a token server said no
        raise CliError(f"{refused}: {exc}", ExitCode.AUTH) from exc
    if answer.requires_auth:
        raise CliError(f"{refused}: wrong username or password", ExitCode.AUTH)
    where = DockerConfig(config_path(args.authfile)).store(server_key(registry), *credentials)
    _status(args, f"Credentials saved in {where}")
    _out("Login Succeeded")


async def logout(args: argparse.Namespace) -> None:
    registry = parse_registry(args.registry)
    if DockerConfig(config_path(args.authfile)).erase(server_key(registry)):
        _out(f"Removing login credentials for {registry}")
    else:
        _out(f"Not logged in to {registry}")


COMMANDS: dict[str, Command] = {
    "push": push,
    "pull": pull,
    "copy": copy,
    "ls": ls,
    "tags": tags,
    "inspect": inspect,
    "rm": rm,
    "ping": ping,
    "login": login,
    "logout": logout,
}
