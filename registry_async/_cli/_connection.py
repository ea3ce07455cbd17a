"""From the command line's TLS, auth and network options to the clients' options, and the
scheme each registry is spoken to with.

Schemes, as docker decides them: a `http://` or `https://` the user wrote wins; a loopback
registry (`localhost`, 127.0.0.0/8, ::1) is plain http; any other is https. With
`--tls-verify=false` (`--insecure`), https is tried without checking the certificate and,
when nothing answers it, plain http, the way docker treats an insecure registry and skopeo
`--tls-verify=false`.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from typing import Any

from registry_async import check_registry_connectivity

from ._exit import UsageError
from ._login import config_path
from ._refs import Registry

__all__ = ["Connection", "read_credentials"]

logger = logging.getLogger("registry_async.cli")


def read_credentials(args: argparse.Namespace, *, prompt: bool = False) -> tuple[str, str] | None:
    """`(username, password)` from `-u` and `--password-stdin` (or a prompt on a terminal).

    `prompt` asks for the username too when none was given (as `docker login` does).
    """
    username: str | None = args.username
    if args.password_stdin and not username:
        raise UsageError("--password-stdin needs --username")
    if not username and not prompt:
        return None
    interactive = sys.stdin.isatty()
    if not username:
        if not interactive:
            raise UsageError("give --username (and --password-stdin) when not on a terminal")
        username = input("Username: ").strip()
        if not username:
            raise UsageError("a username is needed")
    if args.password_stdin:
        # docker strips the line end a `echo` or a here-string leaves, and nothing else.
        password = sys.stdin.read().removesuffix("\n").removesuffix("\r")
    elif interactive:
        password = getpass.getpass("Password: ")
    else:
        raise UsageError("--username needs --password-stdin when not on a terminal")
    if not password:
        raise UsageError("the password is empty")
    return username, password


class Connection:
    """The client options of one command, and the base URL of each registry it names."""

    def __init__(self, args: argparse.Namespace, credentials: tuple[str, str] | None) -> None:
        self.insecure = args.tls_verify is False
        if self.insecure and args.cacert:
            raise UsageError("--cacert cannot be used with --tls-verify=false / --insecure")
        if args.key and not args.cert:
            raise UsageError("--key needs --cert")
        verify: bool | str = args.cacert or not self.insecure
        options: dict[str, Any] = {
            "verify": verify,
            "retries": args.retries,
            "docker_config": config_path(args.authfile),
        }
        if args.cert:
            options["client_cert"] = (args.cert, args.key) if args.key else args.cert
        if args.timeout is not None:
            options["timeout"] = args.timeout
        if args.max_concurrency is not None:
            options["max_concurrency"] = args.max_concurrency
        if credentials is not None:
            options["username"], options["password"] = credentials
        self.options = options
        self._urls: dict[Registry, str] = {}

    async def url(self, registry: Registry) -> str:
        """The registry's base URL, `scheme://host[:port]`."""
        found = self._urls.get(registry)
        if found is None:
            found = self._urls[registry] = await self._resolve(registry)
        return found

    async def _resolve(self, registry: Registry) -> str:
        if registry.scheme is not None:
            return registry.url(registry.scheme)
        if registry.is_loopback:
            logger.info("%s is a loopback registry: plain http", registry)
            return registry.url("http")
        if not self.insecure:
            return registry.url("https")
        https = registry.url("https")
        if await check_registry_connectivity(https, **self.options):
            return https
        logger.info("%s does not answer https: trying plain http (--tls-verify=false)", registry)
        return registry.url("http")
