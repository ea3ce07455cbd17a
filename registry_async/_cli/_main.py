"""`regv2`: parse the command line, run the command, turn failures into one line and an exit
code (docs/cli.md)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence

import anyio

from ._commands import COMMANDS
from ._exit import ExitCode, classify, one_line
from ._parser import PROG, build_parser

__all__ = ["main"]

# Every logger of the library; httpx's shows each request at INFO.
_LOGGERS = ("registry_proto", "registry_async", "registry_sync", "registry_api_v2_client")


def _configure_logging(args: argparse.Namespace) -> None:
    if not (args.debug or args.verbose):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s %(name)s: %(message)s"))
    for name in (*_LOGGERS, "httpx"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG if args.debug and name != "httpx" else logging.INFO)
        logger.addHandler(handler)


def _fail(args: argparse.Namespace, exc: BaseException, code: ExitCode) -> int:
    if args.debug:
        traceback.print_exception(exc)
    print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr, flush=True)
    return int(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `regv2` with `argv` (default: the process's arguments); return the exit code."""
    args = build_parser().parse_args(argv)
    _configure_logging(args)
    try:
        anyio.run(COMMANDS[args.command], args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr, flush=True)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader of our output went away (`regv2 ls host | head -1`): nothing to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)
    except Exception as exc:
        return _fail(args, exc, classify(exc))
    return int(ExitCode.OK)
