"""Exit codes, and the one-line message for each failure (docs/cli.md, "Exit codes")."""

from __future__ import annotations

from enum import IntEnum
from urllib.parse import urlsplit

from registry_proto import (
    ArchiveWriteError,
    Denied,
    NotFound,
    TarReadError,
    TransportFailure,
    Unauthorized,
    ValidationError,
)

__all__ = ["CliError", "ExitCode", "UsageError", "classify", "one_line"]


class ExitCode(IntEnum):
    """What `regv2` exits with; scripts may rely on these."""

    OK = 0
    ERROR = 1  # the registry refused or failed in another way, or broke the protocol
    USAGE = 2  # the command line is wrong (argparse uses 2 as well)
    NOT_FOUND = 3  # no such repository, tag or digest
    AUTH = 4  # credentials missing, wrong, or not allowed to do this
    UNREACHABLE = 5  # no connection: refused, unresolvable, timed out, TLS failure
    INPUT = 6  # the archive or another input file is unreadable, broken or wrong
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


class CliError(Exception):
    """A failure the command line itself detects, with the code to exit with."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.code = code


class UsageError(CliError):
    """The command line names something that cannot be what it should be."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.USAGE)


def classify(exc: BaseException) -> ExitCode:
    """The exit code for a failure (the library's error tree, or the command line's own)."""
    if isinstance(exc, CliError):
        return exc.code
    if isinstance(exc, NotFound):
        return ExitCode.NOT_FOUND
    if isinstance(exc, Unauthorized | Denied):
        return ExitCode.AUTH
    if isinstance(exc, TransportFailure):
        return ExitCode.UNREACHABLE
    if isinstance(exc, TarReadError | ValidationError | ArchiveWriteError | OSError):
        return ExitCode.INPUT
    return ExitCode.ERROR


def one_line(exc: BaseException) -> str:
    """The message of `exc` on one line (some carry a registry's multi-line answer)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, TransportFailure):
        return f"cannot reach the registry: {text}"
    if isinstance(exc, Unauthorized):
        url = urlsplit(exc.url)
        if url.path.startswith("/v2/"):  # the registry's own refusal, not a token server's
            return f"{text} (log in with: regv2 login {url.netloc})"
    return text
